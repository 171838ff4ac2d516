/* SPDX-License-Identifier: MIT */
/*
 * The sized structs of the public API (<ftramp/ftramp.h>, "Options
 * structs"): each starts with `size_t sz`, the size of the struct the
 * caller was built with.  One rule for all of them, libbpf's OPTS_VALID:
 *
 *  - sz < sizeof(size_t): not such a struct at all: -EINVAL;
 *  - sz <= the size this library knows: an older caller; the fields it
 *    does not have read as zero (options) or are not written (results);
 *  - sz > the size this library knows: a newer caller.  In options, the
 *    bytes beyond are fields it set that this library cannot honour, so
 *    any non-zero one is -EINVAL; in results they are left alone.
 *
 * Every public function that takes such a struct goes through these;
 * none looks at sz itself.  Pure (the model parser runs on the host).
 */
#ifndef FTRAMP_LIB_OPTS_H
#define FTRAMP_LIB_OPTS_H

#include <errno.h>
#include <stddef.h>
#include <string.h>

static inline size_t ftramp_opts_sz(const void *s)
{
	size_t sz;

	memcpy(&sz, s, sizeof(sz));
	return sz;
}

/*
 * Options in: *dst (size bytes: the struct as this library knows it)
 * becomes a copy of *opts, zero where the caller's struct is shorter;
 * opts NULL: all zero.  0, or -EINVAL with *dst all zero.
 */
static inline int ftramp_opts_in(void *dst, size_t size, const void *opts)
{
	const unsigned char *p = opts;
	size_t sz;

	memset(dst, 0, size);
	if (!opts)
		return 0;
	sz = ftramp_opts_sz(opts);
	if (sz < sizeof(size_t))
		return -EINVAL;
	for (size_t i = size; i < sz; i++)
		if (p[i])
			return -EINVAL;
	memcpy(dst, opts, sz < size ? sz : size);
	return 0;
}

/* FTRAMP_OPTS_IN(struct_var, opts_ptr) */
#define FTRAMP_OPTS_IN(dst, opts)	ftramp_opts_in(&(dst), sizeof(dst), (opts))

/*
 * A result struct the caller sized: 0 when its sz holds at least min
 * bytes (and the sz field itself), else -EINVAL (out NULL too).
 */
static inline int ftramp_opts_out_check(const void *out, size_t min)
{
	size_t sz;

	if (!out)
		return -EINVAL;
	sz = ftramp_opts_sz(out);
	return sz < sizeof(size_t) || sz < min ? -EINVAL : 0;
}

/*
 * Results out, after ftramp_opts_out_check(): copy *src (size bytes, sz
 * field included) into *out, as much of it as out's sz holds; out's sz
 * stays what the caller set.
 */
static inline void ftramp_opts_out(void *out, const void *src, size_t size)
{
	size_t sz = ftramp_opts_sz(out);

	if (sz > size)
		sz = size;
	memcpy((char *)out + sizeof(size_t), (const char *)src + sizeof(size_t),
	       sz - sizeof(size_t));
}

/* FTRAMP_OPTS_OUT(out_ptr, struct_var) */
#define FTRAMP_OPTS_OUT(out, src)	ftramp_opts_out((out), &(src), sizeof(src))

#endif /* FTRAMP_LIB_OPTS_H */
