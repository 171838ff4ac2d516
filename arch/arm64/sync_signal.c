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
 *  1. List /proc/self/task.  For each other thread read its status:
 *     a thread not in state R is inside the kernel (sleeping, stopped,
 *     exiting) at a moment after our writes; it can only run user code
 *     again through an ERET, a context synchronisation event, so it is
 *     done without a signal, as membarrier leaves alone the CPUs not
 *     running the process.  The kernel relies on the same ERET for its
 *     own SYNC_CORE on arm64.
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
 * already on the list is listed -- unless the walk is cut short: the
 * kernel's proc_task_readdir() stops when the thread it stands on exits
 * between two steps.  So the listing is one getdents64 call (the buffer
 * grows until it holds everything), and is redone while its last entry
 * is gone (tgkill(.., 0) gives ESRCH).  A tid reused by a new thread
 * within that window could hide a cut; tids are recycled only after the
 * pid space wraps.
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
#include "trampoline/fault_inject.h"

/* cookie = [PARK] generation << SLOT_BITS | slot */
#define SLOT_BITS	FTRAMP_SYNC_SLOT_BITS
#define SLOT_MAX	(1u << SLOT_BITS)
/* Waits between reading the pending threads' status again. */
#define QUIET_NS	2000000ull

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

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
	struct sigaction sa, old;

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
	sig = SIGRTMIN + off;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sync_handler;
	/* SA_RESTART: a running thread interrupted in a restartable system
	 * call resumes it; the handler blocks nothing else. */
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	/*
	 * Nothing else runs on this thread while the handler does: a thread
	 * parked by stop_machine.c must not run an application's handler
	 * (which may call the functions being written) on top of the park.
	 * glibc keeps its two internal signals (cancellation, setxid)
	 * unblockable; their handlers run no traced code.
	 */
	sigfillset(&sa.sa_mask);
	/* Swap, then check what was there: no window where an application
	 * handler installed meanwhile is silently lost. */
	if (sigaction(sig, &sa, &old)) {
		sync_init_err = -errno;
		return;
	}
	if (old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO)) {
		sigaction(sig, &old, NULL);
		sync_init_err = -EBUSY;
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
	struct sigaction cur;

	if (!sync_sig)
		return -EOPNOTSUPP;
	if (sigaction(sync_sig, NULL, &cur))
		return -errno;
	return cur.sa_sigaction == sync_handler ? 0 : -EBUSY;
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

/* "<tid>/status" into buf (at least 24 bytes): no stdio, no locks. */
static void status_path(char *buf, pid_t tid)
{
	char tmp[12];
	unsigned int v = (unsigned int)tid;
	int n = 0;

	do
		tmp[n++] = '0' + v % 10;
	while ((v /= 10));
	while (n)
		*buf++ = tmp[--n];
	memcpy(buf, "/status", 8);
}

/*
 * /proc/self/task/<tid>/status: state letter, context switches, blocked
 * signals.  -ESRCH if the thread is gone.  Takes no lock and allocates
 * nothing: stop_machine.c calls it while other threads are parked.
 */
int ftramp_task_status(int dfd, pid_t tid, struct ftramp_task_stat *ts)
{
	char path[32], buf[2048];
	const char *p;
	ssize_t n;
	int fd;

	status_path(path, tid);
	fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return errno == ESRCH ? -ESRCH : -errno;
	buf[n] = '\0';
	p = strstr(buf, "\nState:");
	if (!p)
		return -ESRCH;	/* an exited task reads as empty */
	p += 7;
	while (*p == ' ' || *p == '\t')
		p++;
	ts->state = *p;
	ts->switches = 0;
	ts->sigblk = 0;
	p = strstr(buf, "\nSigBlk:");
	if (p)
		ts->sigblk = strtoull(p + 8, NULL, 16);
	p = strstr(buf, "\nvoluntary_ctxt_switches:");
	if (p)
		ts->switches += strtoul(p + 25, NULL, 10);
	p = strstr(buf, "\nnonvoluntary_ctxt_switches:");
	if (p)
		ts->switches += strtoul(p + 28, NULL, 10);
	return 0;
}

bool ftramp_task_state_gone(char s)
{
	return s == 'Z' || s == 'X';
}

void ftramp_task_list_free(struct ftramp_task_list *l)
{
	free(l->buf);
	free(l->tid);
	memset(l, 0, sizeof(*l));
}

/*
 * All tids of /proc/self/task in one getdents64 call: one walk of the
 * thread list.  Returns 1 if the walk may have been cut short (its last
 * thread is gone), 0 if complete.  With !may_alloc nothing is allocated
 * (stop_machine.c, while threads are parked): -ENOSPC when the buffers
 * are too small.
 */
int ftramp_task_list(int dfd, struct ftramp_task_list *l, bool may_alloc)
{
	char probe[512];
	long n, more;

	for (;;) {
		if (!l->buf) {
			if (!may_alloc)
				return -ENOSPC;
			l->cap = 64 * 1024;
			l->buf = malloc(l->cap);
			if (!l->buf)
				return -ENOMEM;
		}
		if (lseek(dfd, 0, SEEK_SET) < 0)
			return -errno;
		n = syscall(SYS_getdents64, dfd, l->buf, l->cap);
		if (n < 0)
			return -errno;
		more = syscall(SYS_getdents64, dfd, probe, sizeof(probe));
		if (more < 0)
			return -errno;
		if (!more)
			break;
		/* Did not fit: a second call would resume by position. */
		if (!may_alloc)
			return -ENOSPC;
		free(l->buf);
		l->buf = NULL;
		l->cap *= 2;
		if (!(l->buf = malloc(l->cap)))
			return -ENOMEM;
	}
	l->nr = 0;
	for (long off = 0; off < n;) {
		struct linux_dirent64 *d = (void *)(l->buf + off);

		off += d->d_reclen;
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		if (l->nr == l->tid_cap) {
			size_t cap = l->tid_cap ? 2 * l->tid_cap : 64;
			pid_t *t;

			if (!may_alloc)
				return -ENOSPC;
			t = realloc(l->tid, cap * sizeof(*t));
			if (!t)
				return -ENOMEM;
			l->tid = t;
			l->tid_cap = cap;
		}
		l->tid[l->nr++] = (pid_t)strtol(d->d_name, NULL, 10);
	}
	if (l->nr && syscall(SYS_tgkill, getpid(), l->tid[l->nr - 1], 0) &&
	    errno == ESRCH)
		return 1;
	return 0;
}

int ftramp_sync_signal_send(pid_t pid, pid_t tid, uint64_t cookie)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = sync_sig;
	si.si_code = SI_QUEUE;
	si.si_pid = pid;
	si.si_uid = getuid();
	si.si_value.sival_ptr = (void *)(uintptr_t)cookie;
	if (syscall(SYS_rt_tgsigqueueinfo, pid, tid, sync_sig, &si))
		return -errno;
	return 0;
}

static int send_sync(pid_t pid, pid_t tid, uint64_t cookie)
{
	int err = ftramp_fault("sync_signal");

	if (err)
		return err;
	return ftramp_sync_signal_send(pid, tid, cookie);
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
	pid_t pid, self;
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
	struct ftramp_task_stat ts = { .state = 'R' };
	struct peer *p;
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
	err = ftramp_task_status(r->dfd, tid, &ts);
	if (err == -ESRCH || (!err && ftramp_task_state_gone(ts.state))) {
		r->st->sync_exited++;
		return 0;
	}
	if (err)
		return err;
	if (ts.state != 'R' && !r->o->signal_sleepers) {
		r->st->sync_kernel++;
		return 0;
	}
	err = gen_slots_reserve(&acks, r->slots + 1);
	if (err)
		return err;
	p->slot = r->slots++;
	p->switches = ts.switches;
	err = send_sync(r->pid, tid, r->gen << SLOT_BITS | p->slot);
	if (err == -ESRCH) {
		r->st->sync_exited++;
		return 0;
	}
	if (err)
		return err;
	r->st->sync_signals++;
	p->pending = true;
	return 0;
}

/* Read a silent thread again: is it done without acknowledging? */
static void peer_recheck(struct sync_run *r, struct peer *p)
{
	struct ftramp_task_stat ts;
	int err = ftramp_task_status(r->dfd, p->tid, &ts);

	if (err == -ESRCH || (!err && ftramp_task_state_gone(ts.state))) {
		r->st->sync_exited++;
		p->pending = false;
	} else if (!err && (ts.state != 'R' ||
			    (ts.switches != p->switches &&
			     !r->o->no_switch_inference))) {
		r->st->sync_kernel++;
		p->pending = false;
	}
}

static int sync_scan(struct sync_run *r, uint64_t deadline)
{
	struct ftramp_task_list l = { 0 };
	int ret, cut;

	for (;;) {
		ret = cut = ftramp_task_list(r->dfd, &l, true);
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
	ftramp_task_list_free(&l);
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
			if (gen_slots_load(&acks, p->slot) >= r->gen) {
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
	r.dfd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r.dfd < 0)
		return -errno;
	r.pid = getpid();
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
