// SPDX-License-Identifier: MIT
/*
 * Cross-thread synchronisation without membarrier.
 *
 * After a batch phase is written and cache-maintained (dc cvau, dsb ish,
 * ic ivau, dsb ish: the invalidation is complete for every PE), another
 * thread may still run instructions it fetched before.  Each thread must
 * execute a context synchronisation event (Arm ARM, "Context
 * synchronization event": ISB, exception entry, exception return) after
 * that point; membarrier(PRIVATE_EXPEDITED_SYNC_CORE) gets one by
 * interrupting the CPUs running the process.  Without it, this file
 * makes every other thread of the process do one itself:
 *
 *  1. List /proc/self/task and ask lib/thread.c where each other thread
 *     is (the rule is at the top of that file).  A thread in the kernel
 *     (any state but R: sleeping, stopped, exiting) at a moment after our
 *     writes can only run user code again through an ERET, a context
 *     synchronisation event, so it is done without a signal, as
 *     membarrier leaves alone the CPUs not running the process.
 *  2. Send each running thread the sync signal with rt_tgsigqueueinfo(),
 *     carrying (generation, slot).  The handler loads the generation
 *     (acquire), executes ISB -- the kernel's aarch64_insn_patch_text_cb()
 *     pattern: observe the flag, then isb -- and stores the generation
 *     into its slot (release).  The interrupted code resumes after the
 *     ISB (and the ERET of sigreturn) in program order, so it refetches.
 *  3. Wait until every slot holds the generation.  A thread that does not
 *     answer (signal blocked, slow to be scheduled) is read again after a
 *     quiet interval: gone, not running, or context-switched since the
 *     write (its voluntary + involuntary switch count moved: schedule()
 *     runs only in the kernel, and it went back to user space through an
 *     ERET after our write) completes it too.  Past the timeout the sync
 *     fails with -ETIMEDOUT; patching.c rolls the batch back.
 *
 * Threads created meanwhile.  A thread that is not yet on the process's
 * thread list when the listing starts is created after our writes and
 * cache maintenance; its first user instruction follows the ERET of
 * ret_from_fork, so it fetches the new code and needs nothing.  A thread
 * already on the list is listed: a listing cut short by an exiting
 * thread is redone (lib/thread.c).
 *
 * Queueing.  A running thread that blocks the signal keeps it pending;
 * real-time signals queue, so one per sync would pile up to
 * RLIMIT_SIGPENDING.  A thread whose SigPnd already holds ours gets no
 * second one: it is waited for (and times out) like any silent thread.
 *
 * Stale signals.  A timed-out sync leaves its signal pending on the
 * thread that blocked it; real-time signals queue, so it runs later,
 * maybe during another sync whose slot numbers mean other threads.  The
 * slot keeps the highest generation acknowledged and the handler writes
 * the generation the signal carried (never above the current one, so a
 * forged sigqueue cannot acknowledge the future): an old signal cannot
 * acknowledge a newer sync.  Slot tables are only ever replaced by larger
 * ones, never freed, so a late handler never writes freed memory; the
 * waiter reads a slot in every table (gen_slots.h).
 *
 * The handler takes no lock and calls nothing but getpid() and futex(),
 * both async-signal-safe, and keeps errno: it cannot deadlock with the
 * interrupted code, whatever that holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
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
#include "lib/thread.h"
#include "lib/fault_inject.h"

/* cookie = [PARK] generation << SLOT_BITS | slot */
#define SLOT_BITS	FTRAMP_SYNC_SLOT_BITS
#define SLOT_MAX	(1u << SLOT_BITS)
#define NO_SLOT		UINT32_MAX	/* a peer not signalled by this sync */
/* Waits between reading the pending threads' status again. */
#define QUIET_NS	2000000ull

/* A thread met by one sync. */
struct peer {
	pid_t tid;
	uint32_t slot;
	unsigned long switches;	/* context switches when signalled */
	bool pending;
};

static int sync_sig;			/* 0: not installed */
static int sync_init_err;
static pthread_once_t sync_once = PTHREAD_ONCE_INIT;
static struct gen_slots acks;		/* per-peer acknowledgements */
static uint64_t sync_gen;		/* atomic: generation of the sync */
static unsigned int handler_runs;	/* atomic; futex word */
static int waiting;			/* atomic: a waiter may sleep */

static void sync_handler(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	uint64_t cur = __atomic_load_n(&sync_gen, __ATOMIC_ACQUIRE);

	(void)sig;
	(void)uc;
	/* Context synchronisation after observing the generation. */
	arm64_isb();
	if (si && si->si_code == SI_QUEUE && si->si_pid == getpid()) {
		uint64_t cookie = (uintptr_t)si->si_value.sival_ptr;
		uint64_t gen = cookie >> SLOT_BITS;

		if (cookie & FTRAMP_SYNC_COOKIE_PARK) {
			/* stop_machine.c: wait here for the writes */
			ftramp_stop_machine_park(cookie &
						 ~FTRAMP_SYNC_COOKIE_PARK);
			goto out;
		}
		uint32_t slot = cookie & (SLOT_MAX - 1);

		if (gen > cur)
			gen = cur;
		gen_slots_store(&acks, slot, gen);
	}
out:
	__atomic_add_fetch(&handler_runs, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&waiting, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &handler_runs, FUTEX_WAKE_PRIVATE, INT_MAX,
			NULL, NULL, 0);
	errno = saved;
}

/*
 * FTRAMP_SYNC_SIGNAL: "off", or N for SIGRTMIN + N.  The default keeps
 * below the range ftrace/reclaim.c picks from (SIGRTMIN + 4 and up) and
 * away from the top few that QEMU user mode keeps for itself.
 */
static void sync_init_once(void)
{
	const char *env = getenv("FTRAMP_SYNC_SIGNAL");
	int off = FTRAMP_SYNC_SIGNAL_DEFAULT_OFF, sig;

	if (env && *env) {
		char *end;
		long v;

		if (!strcmp(env, "off")) {
			sync_init_err = -EOPNOTSUPP;
			return;
		}
		v = strtol(env, &end, 10);
		if (*end || v < 0 || v > SIGRTMAX - SIGRTMIN) {
			sync_init_err = -EINVAL;
			return;
		}
		off = (int)v;
	}
	/*
	 * block_all: nothing else runs on this thread while the handler
	 * does: a thread parked by stop_machine.c must not run an
	 * application's handler (which may call the functions being
	 * written) on top of the park.  glibc keeps its two internal
	 * signals (cancellation, setxid) unblockable; their handlers run no
	 * traced code.
	 */
	sig = thread_signal_install(SIGRTMIN + off, SIGRTMIN + off,
				    sync_handler, true);
	if (sig < 0) {
		sync_init_err = sig;
		return;
	}
	sync_sig = sig;
}

int ftramp_sync_signal_init(void)
{
	pthread_once(&sync_once, sync_init_once);
	return sync_init_err;
}

int ftramp_sync_signal_number(void)
{
	return sync_sig;
}

int ftramp_sync_signal_check(void)
{
	if (!sync_sig)
		return -EOPNOTSUPP;
	return thread_signal_check(sync_sig, sync_handler);
}

unsigned long ftramp_sync_signal_handler_runs(void)
{
	return __atomic_load_n(&handler_runs, __ATOMIC_RELAXED);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int ftramp_sync_signal_send(pid_t tid, uint64_t cookie)
{
	return thread_signal_send(tid, sync_sig, cookie);
}

static int send_sync(pid_t tid, uint64_t cookie)
{
	int err = ftramp_fault("sync_signal");

	if (err)
		return err;
	return ftramp_sync_signal_send(tid, cookie);
}

static int cmp_peer(const void *a, const void *b)
{
	pid_t x = ((const struct peer *)a)->tid;
	pid_t y = ((const struct peer *)b)->tid;

	return x < y ? -1 : x > y;
}

struct sync_run {
	const struct ftramp_sync_signal_opts *o;
	struct ftramp_patch_stats *st;
	uint64_t gen;
	pid_t self;
	int dfd;
	struct peer *peer;	/* sorted by tid up to nr_sorted */
	size_t nr, cap, nr_sorted;
	uint32_t slots;
};

/* Met by an earlier listing of this sync?  (A listing has no repeats.) */
static bool peer_known(const struct sync_run *r, pid_t tid)
{
	struct peer key = { .tid = tid };

	return bsearch(&key, r->peer, r->nr_sorted, sizeof(key), cmp_peer);
}

/* Meet a thread for the first time: done already, or signal it. */
static int peer_add(struct sync_run *r, pid_t tid)
{
	struct thread_stat ts;
	struct peer *p;
	uint64_t pc;
	int err;

	if (r->nr == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		struct peer *n = realloc(r->peer, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		r->peer = n;
		r->cap = cap;
	}
	p = &r->peer[r->nr++];
	*p = (struct peer){ .tid = tid };
	switch (thread_where(r->dfd, tid, &ts, false, &pc)) {
	case THREAD_GONE:
		r->st->sync_exited++;
		return 0;
	case THREAD_NOT_GUEST:
		r->st->sync_kernel++;
		return 0;
	case THREAD_SYSCALL:
	case THREAD_KERNEL:
		if (!r->o->signal_sleepers) {
			r->st->sync_kernel++;
			return 0;
		}
		break;
	case THREAD_USER:
		break;
	}
	p->switches = ts.switches;
	p->pending = true;
	p->slot = NO_SLOT;
	/* Ours is still queued there (it blocks it): no second one. */
	if (thread_sig_in(ts.sigpnd, sync_sig))
		return 0;
	err = gen_slots_reserve(&acks, r->slots + 1);
	if (err)
		return err;
	p->slot = r->slots++;
	err = send_sync(tid, r->gen << SLOT_BITS | p->slot);
	if (err == -ESRCH) {
		r->st->sync_exited++;
		p->pending = false;
		return 0;
	}
	if (err)
		return err;
	r->st->sync_signals++;
	return 0;
}

/* Read a silent thread again: is it done without acknowledging? */
static void peer_recheck(struct sync_run *r, struct peer *p)
{
	struct thread_stat ts;
	uint64_t pc;

	switch (thread_where(r->dfd, p->tid, &ts, false, &pc)) {
	case THREAD_GONE:
		r->st->sync_exited++;
		p->pending = false;
		break;
	case THREAD_USER:
		if (ts.switches == p->switches || r->o->no_switch_inference)
			break;
		/* It went through the kernel since: done. */
		__attribute__((fallthrough));
	default:
		r->st->sync_kernel++;
		p->pending = false;
		break;
	}
}

static int sync_scan(struct sync_run *r, uint64_t deadline)
{
	struct thread_list l = { 0 };
	int ret, cut;

	for (;;) {
		ret = cut = thread_list(r->dfd, &l, true);
		if (cut < 0)
			break;
		for (size_t i = 0; i < l.nr; i++) {
			if (l.tid[i] == r->self || peer_known(r, l.tid[i]))
				continue;
			ret = peer_add(r, l.tid[i]);
			if (ret < 0)
				goto out;
		}
		qsort(r->peer, r->nr, sizeof(*r->peer), cmp_peer);
		r->nr_sorted = r->nr;
		if (!cut)
			break;
		/* The walk may have stopped at an exiting thread: again. */
		r->st->sync_rescans++;
		if (now_ns() > deadline) {
			ret = -ETIMEDOUT;
			break;
		}
	}
out:
	thread_list_free(&l);
	return ret;
}

static int sync_wait(struct sync_run *r, uint64_t deadline)
{
	bool quiet = false;

	for (;;) {
		unsigned int seen = __atomic_load_n(&handler_runs,
						    __ATOMIC_SEQ_CST);
		struct timespec ts;
		size_t left = 0;
		uint64_t now;

		for (size_t i = 0; i < r->nr; i++) {
			struct peer *p = &r->peer[i];

			if (!p->pending)
				continue;
			if (p->slot != NO_SLOT &&
			    gen_slots_load(&acks, p->slot) >= r->gen) {
				p->pending = false;
				r->st->sync_acks++;
				continue;
			}
			if (quiet)
				peer_recheck(r, p);
			left += p->pending;
		}
		if (!left)
			return 0;
		now = now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		if (deadline - now < QUIET_NS) {
			ts.tv_sec = 0;
			ts.tv_nsec = deadline - now;
		} else {
			ts.tv_sec = 0;
			ts.tv_nsec = QUIET_NS;
		}
		__atomic_store_n(&waiting, 1, __ATOMIC_SEQ_CST);
		quiet = syscall(SYS_futex, &handler_runs, FUTEX_WAIT_PRIVATE,
				seen, &ts, NULL, 0) && errno == ETIMEDOUT;
		__atomic_store_n(&waiting, 0, __ATOMIC_SEQ_CST);
	}
}

int ftramp_sync_signal(const struct ftramp_sync_signal_opts *o,
		       struct ftramp_patch_stats *st)
{
	struct sync_run r = { .o = o, .st = st };
	unsigned int ms = o->timeout_ms ? o->timeout_ms
					: FTRAMP_SYNC_TIMEOUT_DEFAULT_MS;
	uint64_t deadline = now_ns() + ms * 1000000ull;
	int err;

	if (!sync_sig)
		return -EOPNOTSUPP;
	r.dfd = thread_dir_open();
	if (r.dfd < 0)
		return r.dfd;
	r.self = (pid_t)syscall(SYS_gettid);
	/* Published before any signal of this sync is sent (syscalls). */
	r.gen = __atomic_add_fetch(&sync_gen, 1, __ATOMIC_RELEASE);
	err = sync_scan(&r, deadline);
	if (!err)
		err = sync_wait(&r, deadline);
	if (err == -ETIMEDOUT)
		st->sync_timeouts++;
	close(r.dfd);
	free(r.peer);
	return err;
}
