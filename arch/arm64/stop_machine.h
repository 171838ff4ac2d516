/* SPDX-License-Identifier: MIT */
/*
 * Stop every other thread of the process while instructions that are not
 * concurrently modifiable are written: the userspace stop_machine() of
 * the kernel's aarch64_insn_patch_text().  The reasoning is at the top
 * of stop_machine.c.  Used by patching.c for batch phases with
 * FTRAMP_POKE_UNREACHABLE entries in a multi-threaded process; callers
 * serialise (text_mutex).
 */
#ifndef FTRAMP_ARCH_ARM64_STOP_MACHINE_H
#define FTRAMP_ARCH_ARM64_STOP_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "arch/arm64/patching.h"
#include "arch/arm64/sync_signal.h"

/* A stop, with everything it needs allocated before it stops anyone. */
struct ftramp_stop {
	int dfd;			/* /proc/self/task */
	pid_t pid, self;
	unsigned int timeout_ms;
	struct thread_list l;		/* preallocated listing */
	struct ftramp_stop_peer *peer;	/* preallocated */
	size_t nr, cap;
	size_t parked;			/* peers that acknowledged */
	uint64_t gen;			/* of the stop in progress */
	uint64_t t_parked;		/* when the last thread parked */
	bool stopped;			/* between begin and end */
};

/*
 * Allocate for a stop of the current threads with room for more (0 or
 * -errno).  timeout_ms 0: FTRAMP_SYNC_TIMEOUT_MS or 1000.  Installs the
 * sync signal's handler if needed (-EBUSY / -EOPNOTSUPP when the signal
 * is taken or switched off).
 */
int ftramp_stop_prepare(struct ftramp_stop *s, unsigned int timeout_ms);
void ftramp_stop_free(struct ftramp_stop *s);

/*
 * Park every other thread (those that never run our code excepted) in the signal
 * handler and return 0 once each has acknowledged, exited or is seen
 * asleep off the CPU (stop_machine.c, point 6), and a listing made after
 * that shows no new thread.  Allocates nothing and
 * takes no lock.  On error every thread is released: -ETIMEDOUT (some
 * thread did not park in time), -ENOSPC (more threads than prepared
 * for: prepare again and retry), or another -errno.  The stop_* counters
 * of st are updated.
 */
int ftramp_stop_begin(struct ftramp_stop *s, struct ftramp_patch_stats *st);

/*
 * Release the parked threads; each runs ISB before it returns.  Call it
 * after the cache maintenance.  Returns how many threads that were left
 * asleep instead of parked ran during the stop (counted in stop_woke):
 * then the caller synchronises every core before its next phase.
 */
unsigned long ftramp_stop_end(struct ftramp_stop *s,
			      struct ftramp_patch_stats *st);

/*
 * Tests: called at the end of a successful ftramp_stop_begin(), threads
 * parked and the sleepers' last look taken, before the first write.  It
 * must not allocate nor take a lock.
 */
void ftramp_stop_set_test_hook(void (*hook)(void));

/*
 * Tests of the timeout: while a stop waits, give_up(threads still
 * pending: neither parked, gone nor seen asleep; the first of them) is
 * asked after every wake; true ends the wait as the timeout would
 * (-ETIMEDOUT).  So a test fails a stop at a known point (only the
 * thread that cannot park is left), not after a time.  NULL removes it.
 */
void ftramp_stop_set_give_up_hook(bool (*give_up)(size_t pending,
						  pid_t first));

/* Threads inside the park loop right now, counted by the handlers. */
unsigned int ftramp_stop_parked_now(void);

/* Called by the sync signal's handler for a park cookie. */
void ftramp_stop_machine_park(uint64_t cookie);

#endif /* FTRAMP_ARCH_ARM64_STOP_MACHINE_H */
