/* SPDX-License-Identifier: MIT */
/*
 * Functions to trace and the bytes of their patch sites, for tests that
 * check a site after an operation (or unchanged after a failed one).
 */
#ifndef FTRAMP_SELFTESTS_SITE_BYTES_H
#define FTRAMP_SELFTESTS_SITE_BYTES_H

#include <stdint.h>

#include <ftramp/ftramp.h>

#include "arch/arm64/insn.h"

/* Functions to trace: the call-site shape of DESIGN.md section 1. */
#define TRACEE __attribute__((noipa, aligned(8), \
			      patchable_function_entry(4, 2)))

#define U64(p)	((uint64_t)(uintptr_t)(p))

/* The literal at func - 8 and the two words at the patch address. */
struct site_bytes {
	uint64_t lit;
	uint32_t a, b;
	uint64_t patch;
};

/* Zeroes if name is not a site of the process. */
static inline struct site_bytes bytes_of(const char *name)
{
	struct ftramp_site_info info = { .sz = sizeof(info) };
	struct site_bytes sb = { 0 };
	const struct ftramp_site *s;

	s = ftramp_sites__find_name(ftramp_sites__get(), name);
	if (!s || ftramp_site__info(s, &info))
		return sb;
	sb.lit = *(volatile uint64_t *)(uintptr_t)info.literal;
	sb.a = *(volatile uint32_t *)(uintptr_t)info.patch;
	sb.b = *(volatile uint32_t *)(uintptr_t)(info.patch + 4);
	sb.patch = info.patch;
	return sb;
}

/* Where the site's second word branches to (BL), or 0. */
static inline uint64_t bl_target(const struct site_bytes *sb)
{
	uint64_t t = 0;

	if (!a64_is_bl(sb->b))
		return 0;
	a64_branch_target(sb->b, sb->patch + 4, &t);
	return t;
}

#endif /* FTRAMP_SELFTESTS_SITE_BYTES_H */
