/* SPDX-License-Identifier: MIT */
/*
 * dl_iterate_phdr() for the library (lib/phdr.c): the same walk, under a
 * lock that the fork handler takes.
 */
#ifndef FTRAMP_LIB_PHDR_H
#define FTRAMP_LIB_PHDR_H

#include <link.h>

/*
 * dl_iterate_phdr(@cb, @data) with phdr_lock held.  @cb must take no lock
 * of ours but fault_lock (a fault point) and must not call this again.
 */
int ftramp_dl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *),
			   void *data);
/* fork(): 0 takes the lock, 1 (parent) and 2 (child) release it. */
void ftramp_phdr_atfork(int stage);

#endif /* FTRAMP_LIB_PHDR_H */
