// SPDX-License-Identifier: MIT
/*
 * stop_machine() for one process: park every other thread in a signal
 * handler while words that are not concurrently modifiable are written.
 *
 * Why.  The one-time nop -> mov x9, x30 at a function's entry
 * (site state pristine -> prepared, ftrace/commit.c) changes a word between two
 * instructions of which only NOP is in the Arm ARM's list of
 * instructions that may be modified while another PE executes them
 * (B2.2.5, "Concurrent modification and execution of instructions": B,
 * BL, NOP, BRK, SVC, HVC, SMC, ISB).  For any other pair, a PE fetching
 * the word while it changes may execute "any behavior that can be
 * achieved by executing any sequence of instructions that can be
 * executed from the same Exception level" (CONSTRAINED UNPREDICTABLE).
 * The kernel writes it only when nothing runs the code (ftrace_init_nop()
 * at boot and module load) or under stop_machine().  In a single-threaded
 * process (thread_guest_count() == 1) nothing else runs it either; in
 * a multi-threaded one, this file makes it so.
 *
 * How (the kernel's aarch64_insn_patch_text() -> stop_machine() ->
 * aarch64_insn_patch_text_cb(), with signals for IPIs):
 *
 *  1. Everything is allocated first (ftramp_stop_prepare()): the
 *     listing buffers, the peer table, the park slots.  While threads
 *     are parked the committer calls nothing that takes a lock or
 *     allocates: a parked thread may hold malloc's lock, stdio's, the
 *     fault-injection lock, anything.  (It cannot hold text_mutex or
 *     ftrace_lock: the committer does.)
 *  2. List /proc/self/task (one getdents64 call; redone when cut short:
 *     see lib/thread.c) and send every other thread the sync signal
 *     with a park cookie (generation, slot) -- sleeping threads too,
 *     unlike the plain sync: a sleeper may return to user space at any
 *     moment, including mid-write.  The signal is delivered before the
 *     thread runs another user instruction (on its next return to user
 *     space, or at once through an IPI if it is running).
 *  3. The handler (all signals blocked while it runs, sync_signal.c)
 *     stores the generation in its slot (release) and waits on a futex
 *     until the stop's generation is released.  It only runs its own
 *     code meanwhile, never the words being written.
 *  4. When every listed thread has acknowledged, or exited (gone from
 *     /proc, or a zombie), list again: a thread created during the stop
 *     by a thread that had not parked yet was not in the earlier
 *     listing.  Repeat until a complete listing shows no new thread.
 *     Then no thread can appear: a new thread is created only by a
 *     running one (clone), and every thread is parked, gone, or the
 *     committer.  A fork()ed child is another address space: the writes
 *     do not reach it.
 *  5. The committer writes, cleans and invalidates (dc cvau, dsb ish,
 *     ic ivau, dsb ish: complete for every PE), then releases the
 *     generation (store-release, futex wake).  Each parked thread loads
 *     it (acquire) and executes ISB before leaving the handler, and the
 *     sigreturn's exception return is itself a context synchronisation
 *     event: a thread interrupted exactly at func+0 refetches the new
 *     word.  So the stop is also the phase's cross-thread sync.
 *  6. A thread that does not park but is seen off the CPU, in the kernel
 *     (it blocks the signal while it sleeps in a system call: a raw
 *     rt_sigprocmask(), sigsuspend(), ppoll(), natively an io_uring
 *     submitter...; or it is stopped), is not a reason to fail.  The
 *     stop needs no more of a thread than not to execute the words
 *     while they change, and then to synchronise its context before it
 *     runs them.  thread_inactive() shows it off the CPU with some
 *     context-switch count; the last such look is taken after every
 *     other thread parked, just before the first write, and another one
 *     after the cache maintenance.  The same count both times: it never
 *     ran in between, and its way back to user space is an exception
 *     return, a context synchronisation event.  Nothing about windows
 *     matters here: a stop frees nothing.
 *
 *     What a thread that wakes in between would execute: the
 *     instructions after its svc, then whatever the program does.  It
 *     meets a word being written only by calling one of the functions
 *     of the batch, whose entry goes nop -> mov x9, x30 while the word
 *     after it stays nop (pristine -> prepared, ftrace/commit.c): either word
 *     runs the function unchanged, but fetching it during the change is
 *     what B2.2.5 makes CONSTRAINED UNPREDICTABLE.  Such a thread is
 *     counted (stop_woke) and a membarrier SYNC_CORE follows the stop
 *     before any later phase (patching.c), so no later bl is fetched
 *     before the mov.  The word is never taken back (R is a correct
 *     state); the window is the writes and one cache maintenance.
 *
 *  7. A thread that neither parks nor can be shown off the CPU within
 *     the timeout (it runs with the signal blocked, or it is being
 *     traced) fails the stop: every parked thread is released and the
 *     stop returns -ETIMEDOUT before anything was written, with the
 *     thread named in ftramp_error_detail().  The signal stays queued
 *     on the silent thread; when it runs, the handler sees a released
 *     generation and returns at once.
 *
 * Stale cookies.  A park signal of an earlier, failed stop may arrive
 * during a later one: its generation is not the current one and the
 * handler returns (after ISB) without touching a slot.  A handler that
 * passed that check just before the stop was abandoned stores an older
 * generation; slots only ever grow (compare-and-swap), so it cannot
 * erase the acknowledgement of a newer stop.  Slot tables are replaced
 * by larger ones and never freed (gen_slots.h), as in sync_signal.c.
 *
 * Interrupted system calls.  A parked thread that slept in the kernel
 * returns from the handler into its system call: SA_RESTART restarts
 * read/write/wait/futex (pthread_mutex_lock, pthread_cond_wait, sem_wait
 * included)... but signal(7) lists those that fail with EINTR whatever
 * the flag: poll, ppoll, select, pselect, epoll_wait, nanosleep,
 * clock_nanosleep (usleep, sleep returns early), sigtimedwait,
 * sigsuspend, pause, io_getevents, semop, msgrcv, msgsnd, and socket
 * calls with a SO_RCVTIMEO/SO_SNDTIMEO timeout.  A stop happens once per
 * batch that prepares new sites, and well-behaved programs retry on
 * EINTR anyway; the ftrace layer avoids stops entirely when sites are
 * prepared while the process is single-threaded (ftramp_sites__prepare()).
 *
 * Threads that never run the program's code (io_uring workers; under
 * QEMU, its helper thread) are neither signalled nor waited for: which
 * they are is decided by lib/thread.c, with the rest of the rule.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "arch/arm64/cacheflush.h"
#include "arch/arm64/gen_slots.h"
#include "arch/arm64/stop_machine.h"
#include "arch/arm64/sync_signal.h"

#define SLOT_BITS	FTRAMP_SYNC_SLOT_BITS
#define SLOT_MAX	(1u << SLOT_BITS)
/* Waits between reading the silent threads' status again. */
#define QUIET_NS	2000000ull

enum peer_state {
	PEER_PENDING,		/* signalled, not parked yet */
	PEER_PARKED,		/* acknowledged: in the handler */
	PEER_EXITED,		/* gone or a zombie: runs nothing */
	PEER_HELPER,		/* never runs our code (lib/thread.c) */
	PEER_ASLEEP,		/* off the CPU with `switches' (point 6) */
};

struct ftramp_stop_peer {
	pid_t tid;
	uint32_t slot;
	enum peer_state state;
	unsigned long switches;	/* PEER_ASLEEP */
};

static struct gen_slots parks;		/* highest generation parked for */
static uint64_t stop_gen;		/* atomic: the stop in progress */
static uint32_t stop_released;		/* futex: low bits of the last
					 * released generation */
static unsigned int park_events;	/* futex: handlers that parked */
static unsigned int parked_now;		/* atomic: handlers in the loop */
static int stop_waiting;		/* atomic: a committer may sleep */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static bool released(uint64_t gen)
{
	uint32_t v = __atomic_load_n(&stop_released, __ATOMIC_ACQUIRE);

	return (int32_t)(v - (uint32_t)gen) >= 0;
}

/* ------------------------------------------------------------------
 * The handler side (async-signal-safe: atomics and futex only)
 * ------------------------------------------------------------------ */

void ftramp_stop_machine_park(uint64_t cookie)
{
	uint64_t gen = cookie >> SLOT_BITS;
	uint32_t slot = cookie & (SLOT_MAX - 1);

	if (gen != __atomic_load_n(&stop_gen, __ATOMIC_ACQUIRE) ||
	    released(gen)) {
		arm64_isb();	/* a stale cookie: just a sync */
		return;
	}
	__atomic_add_fetch(&parked_now, 1, __ATOMIC_SEQ_CST);
	gen_slots_store(&parks, slot, gen);
	__atomic_add_fetch(&park_events, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&stop_waiting, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &park_events, FUTEX_WAKE_PRIVATE, 1,
			NULL, NULL, 0);
	for (;;) {
		uint32_t v = __atomic_load_n(&stop_released, __ATOMIC_ACQUIRE);

		if ((int32_t)(v - (uint32_t)gen) >= 0)
			break;
		/* EINTR, EAGAIN: look again */
		syscall(SYS_futex, &stop_released, FUTEX_WAIT_PRIVATE, v,
			NULL, NULL, 0);
	}
	__atomic_sub_fetch(&parked_now, 1, __ATOMIC_SEQ_CST);
	/* The writes were released before the generation: refetch. */
	arm64_isb();
}

unsigned int ftramp_stop_parked_now(void)
{
	return __atomic_load_n(&parked_now, __ATOMIC_SEQ_CST);
}

/* ------------------------------------------------------------------
 * The committer side
 * ------------------------------------------------------------------ */

/* Only for a struct that went through ftramp_stop_prepare(). */
void ftramp_stop_free(struct ftramp_stop *s)
{
	if (s->dfd >= 0)
		close(s->dfd);
	thread_list_free(&s->l);
	free(s->peer);
	memset(s, 0, sizeof(*s));
	s->dfd = -1;
}

int ftramp_stop_prepare(struct ftramp_stop *s, unsigned int timeout_ms)
{
	size_t want;
	pid_t *tid;
	char *buf;
	int err, cut;

	memset(s, 0, sizeof(*s));
	s->dfd = -1;
	err = ftramp_sync_signal_init();
	if (!err)
		err = ftramp_sync_signal_check();
	if (err)
		return err;
	thread_emulated();		/* probe now, not while stopped */
	s->timeout_ms = timeout_ms ? timeout_ms
				   : FTRAMP_SYNC_TIMEOUT_DEFAULT_MS;
	s->pid = getpid();
	s->self = (pid_t)syscall(SYS_gettid);
	s->dfd = thread_dir_open();
	if (s->dfd < 0) {
		err = s->dfd;
		goto fail;
	}
	do
		cut = thread_list(s->dfd, &s->l, true);
	while (cut == 1);
	if (cut < 0) {
		err = cut;
		goto fail;
	}
	/* Know QEMU's helper before stopping: it is never signalled. */
	thread_find_helpers(s->dfd, &s->l);
	/* Room for the threads there are, twice over, and some. */
	want = 2 * s->l.nr + 64;
	if (s->l.tid_cap < want) {
		tid = realloc(s->l.tid, want * sizeof(*tid));
		if (!tid) {
			err = -ENOMEM;
			goto fail;
		}
		s->l.tid = tid;
		s->l.tid_cap = want;
	}
	/* A dirent of a tid is at most 32 bytes. */
	if (s->l.cap < want * 32) {
		buf = malloc(want * 32);
		if (!buf) {
			err = -ENOMEM;
			goto fail;
		}
		free(s->l.buf);
		s->l.buf = buf;
		s->l.cap = want * 32;
	}
	s->peer = calloc(want, sizeof(*s->peer));
	if (!s->peer) {
		err = -ENOMEM;
		goto fail;
	}
	s->cap = want;
	err = gen_slots_reserve(&parks, want);
	if (err)
		goto fail;
	return 0;
fail:
	ftramp_stop_free(s);
	return err;
}

static struct ftramp_stop_peer *peer_find(struct ftramp_stop *s, pid_t tid)
{
	for (size_t i = 0; i < s->nr; i++)
		if (s->peer[i].tid == tid)
			return &s->peer[i];
	return NULL;
}

static bool (*stop_give_up)(size_t pending, pid_t first);

/* Wait until no listed thread is PEER_PENDING. */
static int stop_wait(struct ftramp_stop *s, struct ftramp_patch_stats *st,
		     uint64_t deadline)
{
	bool quiet = false;

	for (;;) {
		unsigned int seen = __atomic_load_n(&park_events,
						    __ATOMIC_SEQ_CST);
		struct timespec ts = { 0 };
		size_t left = 0;
		pid_t first = 0;
		uint64_t now;

		for (size_t i = 0; i < s->nr; i++) {
			struct ftramp_stop_peer *p = &s->peer[i];
			struct thread_stat tst;
			int err;

			if (p->state != PEER_PENDING)
				continue;
			if (gen_slots_load(&parks, p->slot) >= s->gen) {
				p->state = PEER_PARKED;
				s->parked++;
				st->stop_parked++;
				continue;
			}
			if (quiet) {
				err = thread_stat(s->dfd, p->tid, &tst);
				if (err == -ESRCH ||
				    (!err && thread_state_gone(tst.state))) {
					p->state = PEER_EXITED;
					st->stop_exited++;
					continue;
				}
				if (thread_inactive(s->dfd, p->tid,
						    &p->switches)) {
					p->state = PEER_ASLEEP;
					continue;
				}
			}
			if (!left++)
				first = p->tid;
		}
		if (!left)
			return 0;
		now = now_ns();
		if (now >= deadline ||
		    (stop_give_up && stop_give_up(left, first)))
			return -ETIMEDOUT;
		ts.tv_nsec = deadline - now < QUIET_NS ? deadline - now
						       : QUIET_NS;
		__atomic_store_n(&stop_waiting, 1, __ATOMIC_SEQ_CST);
		quiet = syscall(SYS_futex, &park_events, FUTEX_WAIT_PRIVATE,
				seen, &ts, NULL, 0) && errno == ETIMEDOUT;
		__atomic_store_n(&stop_waiting, 0, __ATOMIC_SEQ_CST);
	}
}

/*
 * Each PEER_ASLEEP peer still parked, gone, or off the CPU with the same
 * switch count: it has not run since it was first seen so.  Those that
 * ran go back to PEER_PENDING (return: how many); with count, the ones
 * that ran are counted as woken instead (after the writes).
 */
static size_t asleep_check(struct ftramp_stop *s, struct ftramp_patch_stats *st,
			   bool after)
{
	size_t ran = 0;

	for (size_t i = 0; i < s->nr; i++) {
		struct ftramp_stop_peer *p = &s->peer[i];
		struct thread_stat tst;
		unsigned long sw;
		int err;

		if (p->state != PEER_ASLEEP)
			continue;
		if (gen_slots_load(&parks, p->slot) >= s->gen) {
			/* Woken, it ran only the park handler. */
			p->state = PEER_PARKED;
			s->parked++;
			st->stop_parked++;
			continue;
		}
		if (thread_inactive(s->dfd, p->tid, &sw) && sw == p->switches)
			continue;
		err = thread_stat(s->dfd, p->tid, &tst);
		if (err == -ESRCH || (!err && thread_state_gone(tst.state))) {
			p->state = PEER_EXITED;
			st->stop_exited++;
			continue;
		}
		ran++;
		if (!after)
			p->state = PEER_PENDING;
	}
	return ran;
}

static void stop_release(struct ftramp_stop *s)
{
	__atomic_store_n(&stop_released, (uint32_t)s->gen, __ATOMIC_RELEASE);
	syscall(SYS_futex, &stop_released, FUTEX_WAKE_PRIVATE, INT_MAX,
		NULL, NULL, 0);
	s->stopped = false;
}

static void (*stop_test_hook)(void);

/* After a timeout (every thread released): name the first silent one. */
static void stop_blame(struct ftramp_stop *s)
{
	char who[160];

	for (size_t i = 0; i < s->nr; i++) {
		if (s->peer[i].state != PEER_PENDING)
			continue;
		thread_describe(s->dfd, s->peer[i].tid,
				ftramp_sync_signal_number(), who, sizeof(who));
		thread_error_set("stop-machine: %s did not park within %u ms"
				 " and was not seen asleep", who,
				 s->timeout_ms);
		return;
	}
}

int ftramp_stop_begin(struct ftramp_stop *s, struct ftramp_patch_stats *st)
{
	uint64_t t0 = now_ns();
	uint64_t deadline = t0 + s->timeout_ms * 1000000ull;
	bool first = true;
	int err = 0;

	s->nr = 0;
	s->parked = 0;
	s->gen = __atomic_add_fetch(&stop_gen, 1, __ATOMIC_SEQ_CST);
	s->stopped = true;
	s->t_parked = t0;
	for (;;) {
		size_t added = 0;
		int cut = thread_list(s->dfd, &s->l, false);

		if (cut < 0) {
			err = cut;
			goto fail;
		}
		if (!first)
			st->stop_rescans++;
		first = false;
		for (size_t i = 0; i < s->l.nr; i++) {
			pid_t tid = s->l.tid[i];
			struct ftramp_stop_peer *p;
			struct thread_stat tst;
			uint64_t pc;

			if (tid == s->self || peer_find(s, tid))
				continue;
			if (s->nr == s->cap) {
				err = -ENOSPC;
				goto fail;
			}
			p = &s->peer[s->nr];
			*p = (struct ftramp_stop_peer){
				.tid = tid, .slot = (uint32_t)s->nr,
			};
			s->nr++;
			switch (thread_where(s->dfd, tid, &tst, false, &pc)) {
			case THREAD_GONE:
				p->state = PEER_EXITED;
				st->stop_exited++;
				continue;
			case THREAD_NOT_GUEST:
				p->state = PEER_HELPER;
				st->stop_helpers++;
				continue;
			default:
				break;	/* sleepers too: see the top */
			}
			err = ftramp_sync_signal_send(tid,
						      FTRAMP_SYNC_COOKIE_PARK |
						      s->gen << SLOT_BITS |
						      p->slot);
			if (err == -ESRCH) {
				p->state = PEER_EXITED;
				st->stop_exited++;
				continue;
			}
			if (err)
				goto fail;
			p->state = PEER_PENDING;
			st->stop_signals++;
			added++;
		}
		/*
		 * Everyone met so far is parked, gone or asleep (waited
		 * below).  The sleepers' last look before the writes: one
		 * that ran since is waited for again.
		 */
		if (!added && !cut && !asleep_check(s, st, false))
			break;
		err = stop_wait(s, st, deadline);
		if (err)
			goto fail;
		if (cut && now_ns() >= deadline) {
			err = -ETIMEDOUT;
			goto fail;
		}
	}
	for (size_t i = 0; i < s->nr; i++)
		st->stop_asleep += s->peer[i].state == PEER_ASLEEP;
	if (stop_test_hook)
		stop_test_hook();
	st->stops++;
	thread_error_set(NULL);
	return 0;
fail:
	if (err == -ETIMEDOUT)
		st->stop_timeouts++;
	for (size_t i = 0; i < s->nr; i++)
		st->stop_asleep += s->peer[i].state == PEER_ASLEEP;
	stop_release(s);
	st->stop_ns += now_ns() - t0;
	if (err == -ETIMEDOUT)
		stop_blame(s);
	return err;
}

unsigned long ftramp_stop_end(struct ftramp_stop *s,
			      struct ftramp_patch_stats *st)
{
	unsigned long woke;

	if (!s->stopped)
		return 0;
	stop_release(s);
	st->stop_ns += now_ns() - s->t_parked;
	/* After the cache maintenance: did a sleeper run meanwhile? */
	woke = asleep_check(s, st, true);
	st->stop_woke += woke;
	return woke;
}

void ftramp_stop_set_test_hook(void (*hook)(void))
{
	stop_test_hook = hook;
}

void ftramp_stop_set_give_up_hook(bool (*give_up)(size_t pending,
						  pid_t first))
{
	stop_give_up = give_up;
}
