/* SPDX-License-Identifier: MIT */
/*
 * The small helpers every layer uses, defined once (pure: nothing
 * beyond <stdint.h> and <stdbool.h>, so pure files may include it).
 */
#ifndef FTRAMP_LIB_UTIL_H
#define FTRAMP_LIB_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static inline bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* @a must be a power of two (the kernel's round_up()/round_down()). */
static inline uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static inline uint64_t round_down(uint64_t v, uint64_t a)
{
	return v & ~(a - 1);
}

#endif /* FTRAMP_LIB_UTIL_H */
