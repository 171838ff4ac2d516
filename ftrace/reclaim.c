// SPDX-License-Identifier: MIT
/*
 * Reclamation: free a trampoline image or a call record only when no
 * thread can execute it or read it any more.  Documentation/design.rst,
 * "Reclamation", states the rule, why it holds and its limits for
 * users; below is the same argument once more, next to the code that
 * relies on it.  Nowhere else restates it.
 *
 * An object is retired after it was made unreachable and every thread was
 * synchronised (the patch batch's membarrier SYNC_CORE, or
 * ftrace_sync_cores() after a data store): no thread can newly reach it.
 * A thread that reached it earlier is, at any instant, either
 *
 *   (a) counted in the object's in-flight counter (the image's, from its
 *       increment to its decrement, including the original function and
 *       every program; a call record's, over ftrace_caller's handler
 *       path), or
 *   (b) inside a short uncounted window: code of ftrace_caller itself, or
 *       of the image before its increment / after its decrement, or
 *   (c) done with it.
 *
 * The counter never increases again once the object is unreachable
 * (every increment comes from a thread in an entry window).  So a poll
 * does scan, read, scan:
 *
 *   S1  every thread observed outside every window: each is counted, or
 *       done with the object for good (it cannot reach it again).  A
 *       thread seen outside had already incremented (program order
 *       before its signal handler, which publishes the sample with a
 *       release; we read samples with acquire before the counter).
 *   C   then the counter reads zero: every thread counted at S1 has
 *       decremented since, so each is done or in the *exit* window (the
 *       image's last instructions after its decrement, which still run
 *       from the image).
 *   S2  then every thread observed outside every window again: those in
 *       the exit window at C have left it, and there is no way back in.
 *       Only now is the object free.
 *
 * Each half alone is unsound: without S1, a thread in an entry window
 * at C increments after it and runs a program while we free; without
 * S2, a thread seen in a program at S1 may decrement and still be in
 * the exit window when the counter reads zero.  A thread seen *inside*
 * the object's own code at either scan keeps it.  (A read before S1
 * only skips the scans while the counter is busy.)
 *
 * Observing a thread: the userspace equivalent of RCU-tasks, with the
 * rule of lib/thread.c.  A thread blocked in a system call is observed
 * from /proc without being disturbed (no window holds a system call; a
 * signal would make its poll or nanosleep fail with EINTR).  Any other
 * thread is asked: a dedicated real-time signal, whose handler reports
 * the interrupted PC from its ucontext.  One that does not answer in
 * time is read again; if it still cannot be placed, the poll gives up
 * for now (and never queues a second signal behind one still pending).
 *
 * liburcu is not used: its readers must be registered threads that mark
 * their read-side sections, and the readers here are arbitrary threads of
 * the traced program running generated code; urcu's signal flavour would
 * also signal every thread, without telling us where they are.
 *
 * Deferred: retire never blocks; reclaim_poll() runs at the end of every
 * attach/detach and in ftramp_sync(), which waits.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "arch/arm64/patching.h"
#include "arch/arm64/sync_signal.h"
#include "arch/arm64/text_alloc.h"
#include "ftrace/ftrace.h"
#include "ftrace/reclaim.h"
#include "lib/fault_inject.h"
#include "lib/lockdep.h"
#include "lib/opts.h"
#include "lib/thread.h"

struct reclaim_entry {
	struct reclaim_entry *next;
	uint64_t seq;
	enum reclaim_kind kind;
	const uint64_t *counter;
	const uint64_t *held;		/* objects that still point at it */
	uint64_t lo, hi;
	uint64_t func, unit;		/* reclaim_describe() */
	void (*free_fn)(void *);
	void *arg;
};

struct window {
	uint64_t lo, hi;
};

static pthread_mutex_t reclaim_lock = PTHREAD_MUTEX_INITIALIZER;
FTRAMP_LOCK_CLASS(reclaim_lock, FTRAMP_LOCK_RECLAIM);
static struct reclaim_entry *pending_head, **pending_tail = &pending_head;
static uint64_t next_seq = 1;

static struct window *windows;
static size_t nr_windows, cap_windows;

static struct {
	uint64_t images_alloc, images_freed, ops_alloc, ops_freed;
	uint64_t pending, scans, scan_busy, leaked;
	uint64_t scan_signals, scan_quiet, scan_lost_signal;
} stats;

static void (*test_hook)(enum reclaim_phase phase);
static void (*ask_hook)(pid_t tid);

/* ------------------------------------------------------------------
 * Thread scans
 * ------------------------------------------------------------------ */

#define SCAN_SIGPCS	4

struct scan_slot {
	pid_t tid;
	int done;		/* 1: pc valid */
	uint64_t pc;
	/* PCs interrupted by the application's own running handlers
	 * (lib/signal.c): -1 unknown. */
	int nsig;
	uint64_t sigpc[SCAN_SIGPCS];
};

/*
 * The table the signal handler writes into.  Tables only grow and are
 * never freed: a handler delayed past its scan may still look at one.
 */
static struct scan_slot *scan_tab;
static size_t scan_cap;
static size_t scan_nr;
static int scan_sig;
/* 0: judge sleepers by their state (membarrier works); 1: ask all. */
static int scan_ask_all;
/* The last thread that did not answer a scan, and why (ftramp_sync). */
static pid_t unseen_tid;
static bool unseen_blocks;

#define SCAN_ANSWER_MS		40
#define SCAN_POLL_US		200

/*
 * Threads asked and not answered yet: one signal outstanding per thread
 * at most.  A running thread that blocks the signal would otherwise get
 * one more per poll, queued (real-time signals queue) up to
 * RLIMIT_SIGPENDING for the whole user.  Fixed size, so that a handler
 * never writes a table that was replaced; tid 0 is a free entry; only
 * the scanner (reclaim_lock) changes tids, the handler sets `answered`.
 */
#define NR_ASKS			1024

static struct ask {
	pid_t tid;
	int answered;
} asks[NR_ASKS];

static struct ask *ask_find(pid_t tid)
{
	for (size_t i = 0; i < NR_ASKS; i++)
		if (__atomic_load_n(&asks[i].tid, __ATOMIC_RELAXED) == tid)
			return &asks[i];
	return NULL;
}

/* May tid be sent a signal now?  Records it as outstanding if so. */
static bool ask_may_send(pid_t tid)
{
	struct ask *a = ask_find(tid);

	if (a) {
		if (!__atomic_load_n(&a->answered, __ATOMIC_ACQUIRE))
			return false;	/* ours is still on its way */
		__atomic_store_n(&a->answered, 0, __ATOMIC_RELAXED);
		return true;
	}
	a = ask_find(0);
	if (a) {
		__atomic_store_n(&a->answered, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&a->tid, tid, __ATOMIC_RELEASE);
	}
	return true;	/* table full: send anyway */
}

static void ask_forget(pid_t tid)
{
	struct ask *a = ask_find(tid);

	if (a)
		__atomic_store_n(&a->tid, 0, __ATOMIC_RELEASE);
}

/* Forget the threads that are not listed any more. */
static void ask_prune(const struct thread_list *l)
{
	for (size_t i = 0; i < NR_ASKS; i++) {
		pid_t tid = asks[i].tid;
		bool listed = false;

		for (size_t k = 0; tid && k < l->nr && !listed; k++)
			listed = l->tid[k] == tid;
		if (tid && !listed)
			__atomic_store_n(&asks[i].tid, 0, __ATOMIC_RELEASE);
	}
}

static void scan_handler(int sig, siginfo_t *si, void *uctx)
{
	int saved = errno;
	ucontext_t *uc = uctx;
	pid_t me = (pid_t)syscall(SYS_gettid);
	struct scan_slot *tab = __atomic_load_n(&scan_tab, __ATOMIC_ACQUIRE);
	size_t nr = __atomic_load_n(&scan_nr, __ATOMIC_ACQUIRE);

	(void)sig;
	(void)si;
	for (size_t i = 0; i < NR_ASKS; i++) {
		if (__atomic_load_n(&asks[i].tid, __ATOMIC_ACQUIRE) == me) {
			__atomic_store_n(&asks[i].answered, 1,
					 __ATOMIC_RELEASE);
			break;
		}
	}
	for (size_t i = 0; tab && i < nr; i++) {
		if (tab[i].tid != me)
			continue;
#ifdef __aarch64__
		tab[i].pc = uc->uc_mcontext.pc;
#else
		(void)uc;
		tab[i].pc = 0;
#endif
		/* Nested in handlers of the program's: where they came in. */
		tab[i].nsig = thread_sig_pcs(me, tab[i].sigpc, SCAN_SIGPCS);
		__atomic_store_n(&tab[i].done, 1, __ATOMIC_RELEASE);
		break;
	}
	errno = saved;
}

/*
 * The signal: FTRAMP_RECLAIM_SIGNAL, else the highest free real-time
 * signal from SIGRTMAX - 4 down to SIGRTMIN + 4 (QEMU user mode keeps
 * the top few host signals for itself; sync_signal.c's is below).
 */
static int scan_init_signal(void)
{
	const char *env = getenv("FTRAMP_RECLAIM_SIGNAL");
	int lo = SIGRTMIN + 4, hi = SIGRTMAX - 4;

	if (scan_sig)
		return scan_sig > 0 ? 0 : scan_sig;
	if (env && *env) {
		lo = hi = atoi(env);
		if (lo < SIGRTMIN || lo > SIGRTMAX) {
			scan_sig = -EINVAL;
			return scan_sig;
		}
	}
	scan_sig = thread_signal_install(lo, hi, scan_handler, false);
	return scan_sig > 0 ? 0 : scan_sig;
}

int reclaim_take_signals(void)
{
	int err = ftramp_sync_signal_init(), e;

	pthread_mutex_lock(&reclaim_lock);
	e = scan_init_signal();
	pthread_mutex_unlock(&reclaim_lock);
	return err ? err : e;
}

int reclaim_scan_signal(void)
{
	return scan_sig > 0 ? scan_sig : 0;
}

static bool in_windows(uint64_t pc)
{
	for (size_t i = 0; i < nr_windows; i++)
		if (pc >= windows[i].lo && pc < windows[i].hi)
			return true;
	return false;
}

static int ensure_scan_cap(size_t nr)
{
	struct scan_slot *t;
	size_t cap;

	if (nr <= scan_cap)
		return 0;
	cap = scan_cap ? scan_cap : 64;
	while (cap < nr)
		cap *= 2;
	t = calloc(cap, sizeof(*t));
	if (!t)
		return -ENOMEM;
	/* The old table is leaked on purpose: see scan_tab. */
	__atomic_store_n(&scan_nr, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&scan_tab, t, __ATOMIC_RELEASE);
	scan_cap = cap;
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * A thread placed in a system call: also where its running application
 * handlers interrupted it (lib/signal.c).  Valid only if it did not run
 * between the placement and that read: same state, same switch count.
 */
static bool place_quiet(int dfd, struct scan_slot *slot,
			const struct thread_stat *ts, uint64_t pc)
{
	struct thread_stat again;

	slot->nsig = thread_sig_pcs(slot->tid, slot->sigpc, SCAN_SIGPCS);
	if (thread_stat(dfd, slot->tid, &again) || again.state == 'R' ||
	    again.switches != ts->switches)
		return false;
	slot->pc = pc;
	return true;
}

/* Append a placed thread's PCs; false if they are unknown. */
static bool add_pcs(uint64_t *pcs, size_t *npcs, const struct scan_slot *slot)
{
	pcs[(*npcs)++] = slot->pc;
	if (slot->nsig < 0)
		return false;
	for (int k = 0; k < slot->nsig; k++)
		pcs[(*npcs)++] = slot->sigpc[k];
	return true;
}

/*
 * Observe every other thread once (lib/thread.c's rule, "reclaim scan"
 * column): a thread blocked in a system call is observed at its call's
 * PC without a signal; a thread that may be running is asked.  Fills
 * pcs[] (caller frees) with one PC per observed thread; returns the
 * number, or -EAGAIN when some thread could not be observed (retry
 * later), or another negative errno.  Called with reclaim_lock held.
 */
static int scan_threads(uint64_t **pcs_out)
{
	pid_t self = (pid_t)syscall(SYS_gettid);
	struct thread_list l = { 0 };
	struct scan_slot *tab;
	uint64_t *pcs = NULL, deadline;
	size_t nr, npcs = 0;
	bool unseen = false, by_state = false;
	bool want_syscall = !__atomic_load_n(&scan_ask_all, __ATOMIC_RELAXED);
	int err, dfd, cut;

	*pcs_out = NULL;
	err = scan_init_signal();
	if (err)
		return err;
	err = ftramp_fault("reclaim_scan");
	if (err)
		return err;
	dfd = thread_dir_open();
	if (dfd < 0)
		return dfd;
	/*
	 * Under an emulator, know its helper thread before judging anyone:
	 * in a fork()ed child under load it may not wear its mask yet, and
	 * would be asked as a running thread (lib/thread.c).
	 */
	if (thread_emulated() && thread_list(dfd, &l, true) >= 0)
		thread_find_helpers(dfd, &l);
	/* A walk cut short may miss a live thread: list again. */
	for (int tries = 0; (cut = thread_list(dfd, &l, true)) == 1; tries++) {
		if (tries == 100) {
			cut = -EAGAIN;
			break;
		}
	}
	if (cut < 0) {
		err = cut;
		goto out;
	}
	nr = l.nr;
	ask_prune(&l);
	thread_sig_prune();
	err = ensure_scan_cap(nr);
	pcs = calloc(nr ? nr * (1 + SCAN_SIGPCS) : 1, sizeof(*pcs));
	if (err || !pcs) {
		err = -ENOMEM;
		goto out;
	}
	tab = scan_tab;
	__atomic_store_n(&scan_nr, 0, __ATOMIC_RELEASE);
	for (size_t i = 0; i < nr; i++) {
		tab[i].tid = l.tid[i];
		tab[i].pc = 0;
		tab[i].nsig = 0;
		tab[i].done = 0;
	}
	__atomic_store_n(&scan_nr, nr, __ATOMIC_RELEASE);
	stats.scans++;

	for (size_t i = 0; i < nr; i++) {
		struct thread_stat ts;
		uint64_t pc;

		if (l.tid[i] == self) {
			tab[i].done = 3;
			continue;
		}
		switch (thread_where(dfd, l.tid[i], &ts, want_syscall, &pc)) {
		case THREAD_GONE:
			ask_forget(l.tid[i]);
			tab[i].done = 3;	/* holds nothing */
			continue;
		case THREAD_NOT_GUEST:
			tab[i].done = 3;	/* holds nothing */
			continue;
		case THREAD_SYSCALL:
			if (!place_quiet(dfd, &tab[i], &ts, pc))
				break;		/* it ran: ask it */
			tab[i].done = 2;
			by_state = true;
			stats.scan_quiet++;
			continue;
		default:
			break;
		}
		/* Ours is still on its way: it answers this scan too. */
		if (!ask_may_send(l.tid[i]))
			continue;
		if (ask_hook)
			ask_hook(l.tid[i]);
		switch (thread_signal_send(l.tid[i], scan_sig, 0)) {
		case 0:
			stats.scan_signals++;
			break;
		case -ESRCH:
			ask_forget(l.tid[i]);
			tab[i].done = 3;
			break;
		default:
			/* Not sent (the program took the signal over): this
			 * thread cannot be asked; it answers nothing. */
			ask_forget(l.tid[i]);
			stats.scan_lost_signal++;
			break;
		}
	}

	deadline = now_ms() + SCAN_ANSWER_MS;
	for (;;) {
		size_t missing = 0;

		for (size_t i = 0; i < nr; i++)
			if (!__atomic_load_n(&tab[i].done, __ATOMIC_ACQUIRE))
				missing++;
		if (!missing || now_ms() >= deadline)
			break;
		usleep(SCAN_POLL_US);
	}

	for (size_t i = 0; i < nr; i++) {
		int done = __atomic_load_n(&tab[i].done, __ATOMIC_ACQUIRE);
		struct thread_stat ts;
		uint64_t pc;

		if (done == 3)
			continue;
		if (done) {
			if (!add_pcs(pcs, &npcs, &tab[i]))
				unseen = true;
			continue;
		}
		/* Silent: gone meanwhile, or asleep in a call since? */
		switch (thread_where(dfd, l.tid[i], &ts, want_syscall, &pc)) {
		case THREAD_GONE:
			ask_forget(l.tid[i]);
			continue;
		case THREAD_NOT_GUEST:
			continue;
		case THREAD_SYSCALL:
			if (place_quiet(dfd, &tab[i], &ts, pc)) {
				if (!add_pcs(pcs, &npcs, &tab[i]))
					unseen = true;
				by_state = true;
				stats.scan_quiet++;
				continue;
			}
			/* fall through */
		default:
			unseen = true;
			unseen_tid = l.tid[i];
			unseen_blocks = thread_sig_in(ts.sigblk, scan_sig);
			break;
		}
	}
	__atomic_store_n(&scan_nr, 0, __ATOMIC_RELEASE);
	/*
	 * Threads judged by their state did their stores before they went
	 * to sleep; membarrier orders those before our reads of the
	 * counters (lib/thread.c).  Without it, ask everyone from now on.
	 */
	if (by_state && thread_barrier()) {
		__atomic_store_n(&scan_ask_all, 1, __ATOMIC_RELAXED);
		unseen = true;
	}
	if (unseen) {
		err = -EAGAIN;
		goto out;
	}
	unseen_tid = 0;
	unseen_blocks = false;
	*pcs_out = pcs;
	pcs = NULL;
	err = (int)npcs;
out:
	free(pcs);
	thread_list_free(&l);
	close(dfd);
	return err;
}

/* ------------------------------------------------------------------
 * Pending list
 * ------------------------------------------------------------------ */

void reclaim_atfork(int stage)
{
	if (stage == 0) {
		pthread_mutex_lock(&reclaim_lock);
		return;
	}
	if (stage == 2) {	/* the parent's threads are not ours */
		memset(asks, 0, sizeof(asks));
		thread_sig_atfork_child();
	}
	pthread_mutex_unlock(&reclaim_lock);
}

void reclaim_count_alloc(enum reclaim_kind kind)
{
	pthread_mutex_lock(&reclaim_lock);
	if (kind == RECLAIM_IMAGE)
		stats.images_alloc++;
	else if (kind == RECLAIM_COPS)
		stats.ops_alloc++;
	pthread_mutex_unlock(&reclaim_lock);
}

uint64_t reclaim_retire(enum reclaim_kind kind, const uint64_t *counter,
			uint64_t lo, uint64_t hi,
			void (*free_fn)(void *), void *arg)
{
	return reclaim_retire_held(kind, counter, NULL, lo, hi, free_fn, arg);
}

uint64_t reclaim_retire_held(enum reclaim_kind kind, const uint64_t *counter,
			     const uint64_t *held, uint64_t lo, uint64_t hi,
			     void (*free_fn)(void *), void *arg)
{
	struct reclaim_entry *e = calloc(1, sizeof(*e));
	uint64_t seq;

	pthread_mutex_lock(&reclaim_lock);
	seq = next_seq++;
	if (!e) {
		/* Cannot track it: never free it (safe, counted). */
		stats.leaked++;
		pthread_mutex_unlock(&reclaim_lock);
		return seq;
	}
	e->seq = seq;
	e->kind = kind;
	e->counter = counter;
	e->held = held;
	e->unit = 1;
	e->lo = lo;
	e->hi = hi;
	e->free_fn = free_fn;
	e->arg = arg;
	*pending_tail = e;
	pending_tail = &e->next;
	stats.pending++;
	pthread_mutex_unlock(&reclaim_lock);
	return seq;
}

int reclaim_add_window(uint64_t lo, uint64_t hi)
{
	struct window *w;

	pthread_mutex_lock(&reclaim_lock);
	if (nr_windows == cap_windows) {
		size_t cap = cap_windows ? 2 * cap_windows : 8;

		w = realloc(windows, cap * sizeof(*w));
		if (!w) {
			pthread_mutex_unlock(&reclaim_lock);
			return -ENOMEM;
		}
		windows = w;
		cap_windows = cap;
	}
	windows[nr_windows].lo = lo;
	windows[nr_windows].hi = hi;
	nr_windows++;
	pthread_mutex_unlock(&reclaim_lock);
	return 0;
}

void reclaim_describe(uint64_t seq, uint64_t func, uint64_t unit)
{
	pthread_mutex_lock(&reclaim_lock);
	for (struct reclaim_entry *e = pending_head; e; e = e->next) {
		if (e->seq == seq) {
			e->func = func;
			e->unit = unit ? unit : 1;
			break;
		}
	}
	pthread_mutex_unlock(&reclaim_lock);
}

/*
 * Zero in-flight count, and nothing that points at it left: the holders
 * were freed (each after its own scans) before this read.
 */
static bool counter_zero(const struct reclaim_entry *e)
{
	if (e->held && __atomic_load_n(e->held, __ATOMIC_ACQUIRE))
		return false;
	return !e->counter || !__atomic_load_n(e->counter, __ATOMIC_ACQUIRE);
}

/* Keep the candidates whose counters read zero now: each on its own. */
static bool recheck_candidates(bool *cand, size_t n)
{
	struct reclaim_entry *e;
	bool any = false;
	size_t i = 0;

	for (e = pending_head; e && i < n; e = e->next, i++) {
		cand[i] = cand[i] && counter_zero(e);
		any |= cand[i];
	}
	return any;
}

/*
 * One scan: every thread observed once.  False when no candidate can go
 * (a thread in some ftrace_caller holds some record, or the scan
 * failed); else drop the candidates whose code a thread was seen in.
 */
static bool scan_candidates(bool *cand, size_t n)
{
	struct reclaim_entry *e;
	uint64_t *pcs;
	bool ok = true;
	size_t i;
	int npcs;

	npcs = scan_threads(&pcs);
	if (npcs < 0)
		return false;
	for (int k = 0; k < npcs && ok; k++) {
		if (in_windows(pcs[k])) {
			stats.scan_busy++;
			ok = false;
		}
	}
	for (e = pending_head, i = 0; ok && e && i < n; e = e->next, i++) {
		if (!cand[i] || e->lo == e->hi)
			continue;
		for (int k = 0; k < npcs; k++) {
			if (pcs[k] >= e->lo && pcs[k] < e->hi) {
				cand[i] = false;
				stats.scan_busy++;
				break;
			}
		}
	}
	free(pcs);
	return ok;
}

static void phase_done(enum reclaim_phase phase)
{
	if (test_hook)
		test_hook(phase);
}

void reclaim_set_test_hook(void (*hook)(enum reclaim_phase phase))
{
	pthread_mutex_lock(&reclaim_lock);
	test_hook = hook;
	pthread_mutex_unlock(&reclaim_lock);
}

void reclaim_set_ask_hook(void (*hook)(pid_t tid))
{
	pthread_mutex_lock(&reclaim_lock);
	ask_hook = hook;
	pthread_mutex_unlock(&reclaim_lock);
}

/* Scan, read, scan: the argument is at the top of the file. */
size_t reclaim_poll(void)
{
	struct reclaim_entry *e, **pp, *freed = NULL;
	size_t n = 0, i, left;
	bool *cand;

	pthread_mutex_lock(&reclaim_lock);
	for (e = pending_head; e; e = e->next)
		n++;
	if (!n) {
		pthread_mutex_unlock(&reclaim_lock);
		return 0;
	}
	cand = malloc(n * sizeof(*cand));
	if (!cand) {
		pthread_mutex_unlock(&reclaim_lock);
		return n;
	}
	memset(cand, true, n * sizeof(*cand));
	/* A busy counter: no scan at all. */
	if (!recheck_candidates(cand, n))
		goto out;
	phase_done(RECLAIM_PHASE_READ);
	/* S1 */
	if (!scan_candidates(cand, n))
		goto out;
	phase_done(RECLAIM_PHASE_SCANNED);
	/* C: after S1, every increment of a thread seen there is visible. */
	if (!recheck_candidates(cand, n))
		goto out;
	phase_done(RECLAIM_PHASE_COUNTED);
	/* S2: nobody left in an exit window. */
	if (!scan_candidates(cand, n))
		goto out;

	for (pp = &pending_head, i = 0; (e = *pp); i++) {
		if (!cand[i]) {
			pp = &e->next;
			continue;
		}
		*pp = e->next;
		e->next = freed;
		freed = e;
		stats.pending--;
		if (e->kind == RECLAIM_IMAGE)
			stats.images_freed++;
		else if (e->kind == RECLAIM_COPS)
			stats.ops_freed++;
	}
	pending_tail = &pending_head;
	while (*pending_tail)
		pending_tail = &(*pending_tail)->next;
out:
	left = stats.pending;
	pthread_mutex_unlock(&reclaim_lock);
	free(cand);
	/*
	 * Freed chunks are filled with BRK (text_alloc.c): under one hold,
	 * each trampoline page is opened and closed once, not per chunk.
	 */
	if (!freed)
		return left;
	ftramp_text_hold();
	while (freed) {
		e = freed;
		freed = e->next;
		if (e->free_fn)
			e->free_fn(e->arg);
		free(e);
	}
	(void)ftramp_text_release();
	return left;
}

/*
 * Is the entry seq freed (exact), or every entry up to seq (!exact)?
 * Entries are not freed in order: look at all of them.
 */
static bool seq_done(uint64_t seq, bool exact)
{
	bool done = true;

	pthread_mutex_lock(&reclaim_lock);
	for (struct reclaim_entry *e = pending_head; e; e = e->next) {
		if (exact ? e->seq == seq : e->seq <= seq) {
			done = false;
			break;
		}
	}
	pthread_mutex_unlock(&reclaim_lock);
	return done;
}

static int wait_seq(uint64_t seq, bool exact, int timeout_ms)
{
	uint64_t deadline = timeout_ms < 0 ? UINT64_MAX :
			    now_ms() + (uint64_t)timeout_ms;
	unsigned int delay_us = 100;

	for (;;) {
		reclaim_poll();
		if (seq_done(seq, exact))
			return 0;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		usleep(delay_us);
		if (delay_us < 20000)
			delay_us *= 2;
	}
}

int reclaim_wait_seq(uint64_t seq, int timeout_ms)
{
	return wait_seq(seq, true, timeout_ms);
}

/*
 * A wait timed out: say what it still waits for (ftramp_error_detail()):
 * the thread no scan could observe, else the first pinned entries (entry
 * @only, when not 0) with the frames that pin them.
 */
static void sync_blame(uint64_t only)
{
	char buf[200], who[160];
	size_t len = 0;
	int dfd, n = 0;

	pthread_mutex_lock(&reclaim_lock);
	if (unseen_tid) {
		dfd = thread_dir_open();
		if (dfd >= 0) {
			thread_describe(dfd, unseen_tid, scan_sig, who,
					sizeof(who));
			close(dfd);
		} else {
			snprintf(who, sizeof(who), "thread %d",
				 (int)unseen_tid);
		}
		pthread_mutex_unlock(&reclaim_lock);
		thread_error_set("reclaim: %s could not be observed", who);
		return;
	}
	buf[0] = '\0';
	for (struct reclaim_entry *e = pending_head; e; e = e->next) {
		uint64_t frames;

		if (only && e->seq != only)
			continue;
		n++;
		frames = e->counter ?
			__atomic_load_n(e->counter, __ATOMIC_RELAXED) /
			e->unit : 0;

		if (n <= 3 && len < sizeof(buf))
			len += snprintf(buf + len, sizeof(buf) - len,
					"%s%s of %#llx: %llu frame%s",
					n > 1 ? "; " : "",
					e->kind == RECLAIM_IMAGE ? "image" :
					e->kind == RECLAIM_COPS ? "record" :
								  "mark",
					(unsigned long long)e->func,
					(unsigned long long)frames,
					frames == 1 ? "" : "s");
	}
	pthread_mutex_unlock(&reclaim_lock);
	thread_error_set("reclaim: %d pinned (%s%s)", n, buf,
			 n > 3 ? "; ..." : "");
}

static int own_wait_ms = RECLAIM_OWN_WAIT_MS;

void reclaim_set_own_wait(int timeout_ms)
{
	__atomic_store_n(&own_wait_ms, timeout_ms ?: RECLAIM_OWN_WAIT_MS,
			 __ATOMIC_RELAXED);
}

int reclaim_wait_own(uint64_t seq)
{
	int err = wait_seq(seq, true,
			   __atomic_load_n(&own_wait_ms, __ATOMIC_RELAXED));

	if (err == -ETIMEDOUT)
		sync_blame(seq);
	return err;
}

FTRAMP_API int ftramp_sync(int timeout_ms)
{
	uint64_t seq;
	int err;

	pthread_mutex_lock(&reclaim_lock);
	seq = next_seq - 1;
	pthread_mutex_unlock(&reclaim_lock);
	/* Every entry retired so far, not only the newest. */
	err = wait_seq(seq, false, timeout_ms);
	if (err == -ETIMEDOUT)
		sync_blame(0);
	else if (!err)
		thread_error_set(NULL);
	return err;
}

bool reclaim_pending_in(uint64_t lo, uint64_t hi)
{
	bool found = false;

	pthread_mutex_lock(&reclaim_lock);
	for (struct reclaim_entry *e = pending_head; e && !found; e = e->next)
		found = e->func >= lo && e->func < hi;
	pthread_mutex_unlock(&reclaim_lock);
	return found;
}

FTRAMP_API int ftramp_reclaim__pinned(struct ftramp_pinned *out, size_t n)
{
	size_t i = 0;
	int nr = 0;

	if (n && !out)
		return -EINVAL;
	for (size_t k = 0; k < n; k++)
		if (ftramp_opts_out_check(&out[k], 0))
			return -EINVAL;
	pthread_mutex_lock(&reclaim_lock);
	for (struct reclaim_entry *e = pending_head; e; e = e->next, nr++) {
		struct ftramp_pinned p;

		if (i >= n)
			continue;
		memset(&p, 0, sizeof(p));
		p.kind = e->kind == RECLAIM_IMAGE ? FTRAMP_PINNED_IMAGE :
			 e->kind == RECLAIM_COPS ? FTRAMP_PINNED_RECORD :
						   FTRAMP_PINNED_MARK;
		p.func = e->func;
		p.lo = e->lo;
		p.hi = e->hi;
		p.frames = e->counter ? __atomic_load_n(e->counter,
							__ATOMIC_RELAXED) /
					e->unit : 0;
		p.held = e->held ? __atomic_load_n(e->held, __ATOMIC_RELAXED)
				 : 0;
		FTRAMP_OPTS_OUT(&out[i], p);
		i++;
	}
	pthread_mutex_unlock(&reclaim_lock);
	return nr;
}

FTRAMP_API int ftramp_reclaim__stats(struct ftramp_reclaim_stats *st)
{
	struct ftramp_reclaim_stats s;

	if (ftramp_opts_out_check(st, 0))
		return -EINVAL;
	memset(&s, 0, sizeof(s));
	pthread_mutex_lock(&reclaim_lock);
	s.images_alloc = stats.images_alloc;
	s.images_freed = stats.images_freed;
	s.ops_alloc = stats.ops_alloc;
	s.ops_freed = stats.ops_freed;
	s.pending = stats.pending;
	s.scans = stats.scans;
	s.scan_busy = stats.scan_busy;
	s.scan_signals = stats.scan_signals;
	s.scan_quiet = stats.scan_quiet;
	s.scan_lost_signal = stats.scan_lost_signal;
	s.unseen_tid = (uint64_t)unseen_tid;
	s.unseen_blocks = unseen_blocks;
	pthread_mutex_unlock(&reclaim_lock);
	FTRAMP_OPTS_OUT(st, s);
	return 0;
}

/* ------------------------------------------------------------------
 * Core synchronisation
 * ------------------------------------------------------------------ */

int ftrace_sync_cores(void)
{
	int err = ftramp_fault("sync_cores");

	if (err)
		return err;
	/* The patching layer's method (arch/arm64/patching.h). */
	if (!ftramp_patch_sync_membarrier())
		return 0;
	/*
	 * No membarrier: a signal to every thread is an exception entry
	 * and return on each, also context synchronising.  A scan is
	 * exactly that.
	 */
	uint64_t *pcs;
	int r;

	pthread_mutex_lock(&reclaim_lock);
	r = scan_threads(&pcs);
	pthread_mutex_unlock(&reclaim_lock);
	if (r >= 0)
		free(pcs);
	return r < 0 ? r : 0;
}
