// SPDX-License-Identifier: MIT
/*
 * The library's locks, their one order, and the fork handler that takes
 * them all.
 *
 * fork() copies only the calling thread.  A lock another thread held at
 * that moment stays held in the child for ever: the child deadlocks the
 * first time it needs it (its first call into a trampoline needs no lock,
 * but an attach, a detach, a guard slot, a JIT registration, a fault
 * point may).  So one pthread_atfork() handler takes every lock before
 * the fork, in the order below, and releases them in both processes
 * after.  The order is the nesting the code uses (a lock is only taken
 * while holding locks above it), so the handler cannot deadlock with a
 * thread that is taking them too:
 *
 *   lock                 owner                     taken under
 *   -------------------  ------------------------  ----------------------
 *   1 ftrace_lock        ftrace/ops.c              (outermost: API calls)
 *   2 g_sites_lock       ftrace/sites.c            1
 *   3 scan_lock          ftrace/sites.c (table)    1, 2
 *   4 lock (rwlock)      ftrace/sites.c (index)    1, 2, 3
 *   5 reclaim_lock       ftrace/reclaim.c          1
 *   6 text_mutex         arch/arm64/patching.c     1
 *   7 text_lock          arch/arm64/text_alloc.c   1, 6 (alias lookup)
 *   8 jit_lock           trampoline/jitdebug.c     1
 *   9 uw_lock            trampoline/unwind.c       1 (and libgcc's
 *                                                  object lock inside)
 *  10 thunks_lock        trampoline/thunk.c        (leaf)
 *  11 slot_lock          trampoline/image.c        1
 *  12 phdr_lock          lib/phdr.c                any (dl_iterate_phdr()
 *                                                  only: see lib/phdr.c)
 *  13 fault_lock         lib/fault_inject.c        any (every fault point)
 *
 * A new lock joins this table at the place its nesting says, and this
 * handler takes it there; enum ftramp_lock_class (lib/lockdep.h) numbers
 * the same order, and debug builds (DEBUG_LOCKS=1) abort on any
 * acquisition against it.  (A callback of ftramp_sites__find() runs with
 * 4 held for reading: it must not attach or detach, which takes 1.)
 *
 * libgcc's unwinder has a lock of its own, taken by every frame
 * registration: ours are made under uw_lock (9), so none is in progress
 * at a fork.  One-time initialisations that may block (lib/thread.c's
 * futex probe) run under reclaim_lock (5) for the same reason.
 *
 * The child also forgets the parent's other threads: reclaim_atfork()
 * clears what the scans knew of them.
 */
#include <pthread.h>

#include "arch/arm64/patching.h"
#include "arch/arm64/text_alloc.h"
#include "ftrace/ftrace.h"
#include "ftrace/reclaim.h"
#include "ftrace/sites.h"
#include "lib/fault_inject.h"
#include "lib/phdr.h"
#include "trampoline/jitdebug.h"
#include "trampoline/trampoline.h"
#include "trampoline/unwind.h"

static void locks_take(void)
{
	pthread_mutex_lock(&ftrace_lock);
	sites_atfork(0);
	reclaim_atfork(0);
	ftramp_patch_atfork(0);
	ftramp_text_atfork(0);
	ftramp_jitdebug_atfork(0);
	ftramp_unwind_atfork(0);
	ftramp_thunk_atfork(0);
	ftramp_tramp_atfork(0);
	ftramp_phdr_atfork(0);
	ftramp_fault_atfork(0);
}

/* In reverse; stage 1 in the parent, 2 in the child. */
static void locks_release(int stage)
{
	ftramp_fault_atfork(stage);
	ftramp_phdr_atfork(stage);
	ftramp_tramp_atfork(stage);
	ftramp_thunk_atfork(stage);
	ftramp_unwind_atfork(stage);
	ftramp_jitdebug_atfork(stage);
	ftramp_text_atfork(stage);
	ftramp_patch_atfork(stage);
	reclaim_atfork(stage);
	sites_atfork(stage);
	pthread_mutex_unlock(&ftrace_lock);
}

static void fork_prepare(void)
{
	locks_take();
}

static void fork_parent(void)
{
	locks_release(1);
}

static void fork_child(void)
{
	locks_release(2);
}

/* From ops.c's constructor: a static link pulls this file in with it. */
void ftrace_fork_init(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}
