/* SPDX-License-Identifier: MIT */
/*
 * Async-signal-safe text formatting for the agent's event path.
 *
 * snprintf() may take locks or allocate (locale, wide output, large
 * precision), so events format with these instead: fixed-size buffers,
 * no libc beyond <string.h>, truncation recorded rather than reported.
 * The file is pure and is tested on the host (tools/ftramp/fmt_test.c).
 */
#ifndef FTRAMP_AGENT_FMT_H
#define FTRAMP_AGENT_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fbuf {
	char *buf;
	size_t size;		/* including room for the final NUL */
	size_t len;
	bool trunc;		/* something did not fit */
};

void fb_init(struct fbuf *b, char *buf, size_t size);
void fb_putc(struct fbuf *b, char c);
void fb_putn(struct fbuf *b, const char *s, size_t n);
void fb_puts(struct fbuf *b, const char *s);
void fb_pad(struct fbuf *b, char c, int n);

/* Decimal, optionally right-aligned in @width columns. */
void fb_u64(struct fbuf *b, uint64_t v);
void fb_s64(struct fbuf *b, int64_t v);
void fb_u64_w(struct fbuf *b, uint64_t v, int width);
/* 0x-prefixed lower-case hex. */
void fb_hex(struct fbuf *b, uint64_t v);

/* @v with exactly @decimals decimals (0-9), rounded; "nan", "inf". */
void fb_fixed(struct fbuf *b, double v, int decimals);
/* Like %g: @sig significant digits (1-15), trailing zeros dropped. */
void fb_double(struct fbuf *b, double v, int sig);
/* A duration in nanoseconds with a unit chosen to keep it short:
 * "812 ns", "12.345 us", "3.201 ms", "1.250 s". */
void fb_duration(struct fbuf *b, uint64_t ns);

/*
 * A C string literal of at most @max bytes of @s, with quotes and escapes,
 * followed by "..." when @s is longer.
 */
void fb_cstr(struct fbuf *b, const char *s, size_t max);
/* The inside of a C string literal for @n bytes of @s (NULs escaped). */
void fb_escape(struct fbuf *b, const char *s, size_t n);
/* @n bytes as two-digit hex separated by spaces: "01 ff 2a". */
void fb_hexbytes(struct fbuf *b, const void *p, size_t n);
/* The inside of a JSON string (no quotes). */
void fb_json(struct fbuf *b, const char *s);

/* IEEE binary128 (arm64 long double) bits, lo and hi words, to double. */
double fb_binary128_to_double(uint64_t lo, uint64_t hi);

/* Terminate and return the text (always NUL-terminated). */
const char *fb_str(struct fbuf *b);

#endif /* FTRAMP_AGENT_FMT_H */
