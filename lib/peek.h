/* SPDX-License-Identifier: MIT */
/*
 * Fault-safe reads of this process's memory (lib/peek.c): what
 * bpf_probe_read_user() and the agent's argument dumps use.
 */
#ifndef FTRAMP_LIB_PEEK_H
#define FTRAMP_LIB_PEEK_H

#include <stddef.h>
#include <stdint.h>

/*
 * peek.c: copy up to @n bytes of the program's memory at @src into @dst
 * without ever faulting; returns how many were readable (a prefix, up to
 * the first unreadable page).  Async-signal-safe, errno preserved.
 */
size_t ftramp_peek(void *dst, uint64_t src, size_t n);
/*
 * Force the way ftramp_peek() reads ("vm", "write" or "futex"), for the
 * tests of each fallback (FTRAMP_PEEK); 0 or -EINVAL.
 */
int ftramp_peek_mode(const char *name);

#endif /* FTRAMP_LIB_PEEK_H */
