/* SPDX-License-Identifier: MIT */
/*
 * Cross-thread synchronisation without membarrier: a real-time signal to
 * every other running thread, whose handler executes ISB.  Used by
 * patching.c when membarrier(PRIVATE_EXPEDITED[_SYNC_CORE]) is missing;
 * the reasoning is at the top of sync_signal.c.  Callers serialise
 * ftramp_sync_signal() (text_mutex).
 */
#ifndef FTRAMP_ARCH_ARM64_SYNC_SIGNAL_H
#define FTRAMP_ARCH_ARM64_SYNC_SIGNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "arch/arm64/patching.h"
#include "lib/thread.h"

/* SIGRTMIN + this, unless FTRAMP_SYNC_SIGNAL says otherwise. */
#define FTRAMP_SYNC_SIGNAL_DEFAULT_OFF	3
#define FTRAMP_SYNC_TIMEOUT_DEFAULT_MS	1000

/*
 * Pick the signal (FTRAMP_SYNC_SIGNAL) and install the handler, once.
 * Never replaces a handler the application installed: -EBUSY then.
 * "off" in FTRAMP_SYNC_SIGNAL gives -EOPNOTSUPP.
 */
int ftramp_sync_signal_init(void);

/* The signal in use, 0 before a successful init. */
int ftramp_sync_signal_number(void);

/* 0 while our handler is still installed, -EBUSY once replaced. */
int ftramp_sync_signal_check(void);

/*
 * Every other thread of the process executes a context synchronisation
 * event before this returns 0.  -ETIMEDOUT if some thread neither
 * acknowledged nor was seen to pass through the kernel in time.  The
 * sync_* counters of st are updated.
 */
int ftramp_sync_signal(const struct ftramp_sync_signal_opts *o,
		       struct ftramp_patch_stats *st);

/* Handler runs since load, all threads (tests). */
unsigned long ftramp_sync_signal_handler_runs(void);

/*
 * The signal's value (si_value) is a cookie: generation << SLOT_BITS |
 * slot, for an acknowledgement; with FTRAMP_SYNC_COOKIE_PARK set, the
 * handler parks the thread for stop_machine.c instead.
 */
#define FTRAMP_SYNC_SLOT_BITS		24
#define FTRAMP_SYNC_COOKIE_PARK		(1ull << 63)

/* Send the signal with @cookie to one thread (no fault point). */
int ftramp_sync_signal_send(pid_t tid, uint64_t cookie);

#endif /* FTRAMP_ARCH_ARM64_SYNC_SIGNAL_H */
