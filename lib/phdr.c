// SPDX-License-Identifier: MIT
/*
 * Why our walks of the loaded objects hold a lock across fork().
 *
 * dl_iterate_phdr() holds the loader's dl_load_write_lock while it calls
 * back.  glibc's fork() re-initialises dl_load_lock and the TLS lock in
 * the child, but not that one (glibc 2.36).  So a thread that forks while
 * another is inside dl_iterate_phdr() makes a child whose first
 * dl_iterate_phdr() (ours: the sites scan, the text-segment cache, the
 * BTI note lookup; libgcc's unwinder too) waits for ever on a lock no
 * thread of the child holds.  stress_test's forking thread hit it: the
 * child hung in futex_wait on _rtld_global + 0xab8 while the parent's
 * scan ran.
 *
 * Every walk of ours goes through here, under phdr_lock, and the fork
 * handler (ftrace/fork.c) takes phdr_lock before fork(): no walk of ours
 * is ever in flight when a fork copies the process.  Walks by other code
 * (the application's, libgcc's on a C++ throw) are outside our reach;
 * a fork during one of those is glibc's hazard, not ours.
 *
 * The lock is a leaf but for fault points: the callbacks allocate and
 * may hit a fault point (fault_lock, after it in lib/lockdep.h's order).
 */
#include <pthread.h>

#include "lib/lockdep.h"
#include "lib/phdr.h"

static pthread_mutex_t phdr_lock = PTHREAD_MUTEX_INITIALIZER;
FTRAMP_LOCK_CLASS(phdr_lock, FTRAMP_LOCK_PHDR);

int ftramp_dl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *),
			   void *data)
{
	int ret;

	pthread_mutex_lock(&phdr_lock);
	ret = dl_iterate_phdr(cb, data);
	pthread_mutex_unlock(&phdr_lock);
	return ret;
}

void ftramp_phdr_atfork(int stage)
{
	if (stage == 0)
		pthread_mutex_lock(&phdr_lock);
	else
		pthread_mutex_unlock(&phdr_lock);
}
