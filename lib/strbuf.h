/* SPDX-License-Identifier: MIT */
/*
 * snprintf() into a fixed buffer, piece by piece: the text is cut where
 * the buffer ends (always terminated), and len counts the whole text as
 * if the buffer were unbounded, so the caller returns what snprintf()
 * would.  Pure (the prototype formatter and the BTF value printer use it
 * on the host too).
 */
#ifndef FTRAMP_LIB_STRBUF_H
#define FTRAMP_LIB_STRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

struct strbuf {
	char *buf;
	size_t size;
	size_t len;		/* as if the buffer were unbounded */
};

static inline void __attribute__((format(printf, 2, 3)))
strbuf_printf(struct strbuf *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->len < o->size ? o->buf + o->len : NULL,
		      o->len < o->size ? o->size - o->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += n;
}

#endif /* FTRAMP_LIB_STRBUF_H */
