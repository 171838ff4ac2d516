// SPDX-License-Identifier: MIT
/*
 * The threads of this process: listing, where each one is, signalling,
 * and the one rule that says when a thread may be left alone.
 *
 * The rule.  The layers above must know, for each other thread, whether
 * it may be executing some piece of user code right now: stale
 * instructions after a patch (sync_signal.c), the words a stop writes
 * (stop_machine.c), an uncounted window of a trampoline or of
 * ftrace_caller (reclaim.c).  thread_where() classifies a thread from
 * /proc/self/task/<tid>/{stat,status,syscall}; what each user does with
 * the answer:
 *
 *   thread_where()    where it is            sync      reclaim scan  stop
 *   ----------------  ---------------------  --------  ------------  ----
 *   THREAD_GONE       nowhere (Z, X, gone)   done      done          done
 *   THREAD_NOT_GUEST  never runs our code    done      done          done
 *   THREAD_SYSCALL    blocked in a syscall   done      outside       park
 *   THREAD_KERNEL     in the kernel          done      ask           park
 *   THREAD_USER       anywhere (state R)     ask       ask           park
 *
 * ("ask": signal it, and let its handler answer from inside the thread.)
 *
 *  - In the kernel (any state but R): the thread runs user code again
 *    only through an exception return, itself a context synchronisation
 *    event (Arm ARM, "Context synchronization event"), so a sync needs
 *    nothing from it; the kernel's own membarrier SYNC_CORE relies on
 *    the same ERET on arm64.
 *  - Blocked in a system call: <tid>/syscall is generated while the
 *    thread is inactive (the kernel checks it stayed so while reading)
 *    and gives the call and the user PC of its svc.  No uncounted window
 *    holds a system call (Documentation/design.rst, "Reclamation"), so
 *    at that instant the thread is outside every window: the
 *    observation a scan needs, made without disturbing it.  A signal
 *    would make its poll, nanosleep, epoll_wait or read on a pipe fail
 *    with EINTR, SA_RESTART or not (signal(7)).  Natively the scan also
 *    checks the PC against the windows.  A thread in the kernel for
 *    another reason (a page fault taken inside a window) is asked.
 *    Ordering: a thread that incremented an in-flight counter and then
 *    slept did so before it was switched out (a full barrier in the
 *    scheduler); a scan that judged any thread this way calls
 *    thread_barrier() (membarrier) before it reads the counters, which
 *    orders every other thread's earlier stores before the reads.
 *    Without membarrier every thread is asked.
 *  - A stop parks sleepers too: one may return to user space in the
 *    middle of the write.
 *  - Never ours: io_uring workers (PF_IO_WORKER: kernel threads in the
 *    process that never return to user space, with every signal
 *    blocked), and under QEMU its own helper thread (below).
 *
 * QEMU user mode.  /proc shows the host's threads.  A guest thread
 * blocked in a guest system call is a host thread blocked in the host's
 * (QEMU's safe_syscall), but not conversely: QEMU's own locks (the mmap
 * lock, exclusive sections, translation) are host futex waits, taken
 * while the guest PC may be anywhere -- in a window being translated
 * for the first time, say.  So under emulation a thread is
 * THREAD_SYSCALL only in state S, in a host system call other than
 * futex (the host's number is learned once, from a thread of ours
 * waiting on one; if that fails, never), and no PC is reported: the
 * file shows the host's.  A guest blocked in a futex is asked; glibc's
 * futex waiters retry after a signal, the program sees nothing.
 *
 * QEMU also lists its RCU thread, created before the guest starts (two
 * entries for a single-threaded guest).  It never executes guest code,
 * and never runs our handlers: QEMU creates its threads with every host
 * signal blocked except SIGSEGV, SIGFPE and SIGILL.  A guest thread's
 * host mask is never like that: QEMU emulates the guest's mask and
 * keeps the host's open, or briefly closed with SIGILL and SIGFPE among
 * the blocked (block_signals(), thread creation).  So under an emulator
 * (detected once: /proc/self/exe, which QEMU fakes to name the guest
 * program, differs from /proc/self/task/<tid>/exe, which it does not) a
 * thread whose host mask blocks the asynchronous signals but leaves
 * SIGILL, SIGFPE and SIGSEGV open is QEMU's.  Natively no thread is
 * excluded that way.
 *
 * Listing.  A thread that is not yet on the process's thread list when a
 * listing starts was created after it; the callers reason about that.
 * A thread already on the list is listed -- unless the walk is cut
 * short: the kernel's proc_task_readdir() stops when the thread it
 * stands on exits between two steps.  So the listing is one getdents64
 * call (the buffer grows until it holds everything), and callers redo
 * it while its last entry is gone (tgkill(.., 0) gives ESRCH).  A tid
 * reused by a new thread within that window could hide a cut; tids are
 * recycled only after the pid space wraps.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/thread.h"

/* The kernel's task flag of io_uring workers (include/linux/sched.h). */
#define PF_IO_WORKER	0x00000010

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

int thread_dir_open(void)
{
	int dfd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return dfd < 0 ? -errno : dfd;
}

/* ------------------------------------------------------------------
 * Listing
 * ------------------------------------------------------------------ */

void thread_list_free(struct thread_list *l)
{
	free(l->buf);
	free(l->tid);
	memset(l, 0, sizeof(*l));
}

int thread_list(int dfd, struct thread_list *l, bool may_alloc)
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

/* ------------------------------------------------------------------
 * State
 * ------------------------------------------------------------------ */

/* "<tid>/<name>" into buf (at least 32 bytes): no stdio, no locks. */
static void task_path(char *buf, pid_t tid, const char *name)
{
	char tmp[12];
	unsigned int v = (unsigned int)tid;
	int n = 0;

	do
		tmp[n++] = '0' + v % 10;
	while ((v /= 10));
	while (n)
		*buf++ = tmp[--n];
	*buf++ = '/';
	strcpy(buf, name);
}

/* Read <tid>/<name> into buf (NUL-terminated); -ESRCH when gone. */
static ssize_t task_read(int dfd, pid_t tid, const char *name, char *buf,
			 size_t size)
{
	char path[32];
	ssize_t n;
	int fd;

	task_path(path, tid, name);
	fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return errno == ESRCH ? -ESRCH : -errno;
	buf[n] = '\0';
	return n;
}

int thread_stat(int dfd, pid_t tid, struct thread_stat *ts)
{
	char buf[2048];
	const char *p;
	ssize_t n;

	memset(ts, 0, sizeof(*ts));
	/* stat: "tid (comm) S ppid pgrp session tty tpgid flags ..." */
	n = task_read(dfd, tid, "stat", buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return -ESRCH;	/* an exited task reads as empty */
	ts->state = p[2];
	p += 3;
	for (int field = 4; field <= 9 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (p)
		ts->flags = (unsigned int)strtoul(p, NULL, 10);

	n = task_read(dfd, tid, "status", buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	p = strstr(buf, "\nSigPnd:");
	if (p)
		ts->sigpnd = strtoull(p + 8, NULL, 16);
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

bool thread_state_gone(char s)
{
	return s == 'Z' || s == 'X';
}

static pthread_once_t emu_once = PTHREAD_ONCE_INIT;
static bool emulated;

static void emu_probe(void)
{
	char a[PATH_MAX], b[PATH_MAX], path[64];
	ssize_t na, nb;

	snprintf(path, sizeof(path), "/proc/self/task/%d/exe",
		 (int)syscall(SYS_gettid));
	na = readlink("/proc/self/exe", a, sizeof(a));
	nb = readlink(path, b, sizeof(b));
	emulated = na > 0 && nb > 0 && (na != nb || memcmp(a, b, na));
}

bool thread_emulated(void)
{
	pthread_once(&emu_once, emu_probe);
	return emulated;
}

#define SIGBIT(s)	(1ull << ((s) - 1))

/*
 * The host mask of QEMU's own threads: the asynchronous signals blocked,
 * SIGILL, SIGFPE and SIGSEGV open.  Guest threads pass through other
 * masks for a moment (measured under QEMU 7.2 with threads being created
 * and joined: everything blocked, and everything but SIGBUS and SIGSEGV,
 * both with SIGILL and SIGFPE blocked), never this one: 3,000 samples
 * found only QEMU's thread.
 */
static bool helper_mask(const struct thread_stat *ts)
{
	const uint64_t async = SIGBIT(SIGHUP) | SIGBIT(SIGINT) |
			       SIGBIT(SIGUSR1) | SIGBIT(SIGUSR2) |
			       SIGBIT(SIGALRM) | SIGBIT(SIGTERM) |
			       SIGBIT(SIGCHLD);
	const uint64_t sync = SIGBIT(SIGILL) | SIGBIT(SIGFPE) |
			      SIGBIT(SIGSEGV);

	return (ts->sigblk & async) == async && !(ts->sigblk & sync);
}

/*
 * QEMU's helper is created by QEMU itself, before the guest's first
 * instruction and again in every fork()ed child, and lives as long as
 * the process.  While it starts, its mask is not yet the one above (a
 * freshly forked child under load showed it with everything blocked),
 * so one look can miss it.  Once seen it is remembered, per process: a
 * child has a helper of its own.
 */
static pid_t helper_tid, helper_pid;

static bool emulator_helper(pid_t tid, const struct thread_stat *ts)
{
	if (!thread_emulated())
		return false;
	if (__atomic_load_n(&helper_pid, __ATOMIC_ACQUIRE) == getpid())
		return tid == helper_tid;
	if (!ts || !helper_mask(ts))
		return false;
	helper_tid = tid;
	__atomic_store_n(&helper_pid, getpid(), __ATOMIC_RELEASE);
	return true;
}

static bool not_guest(pid_t tid, const struct thread_stat *ts)
{
	return (ts->flags & PF_IO_WORKER) || emulator_helper(tid, ts);
}

void thread_find_helpers(int dfd, struct thread_list *l)
{
	pid_t self = (pid_t)syscall(SYS_gettid);
	struct timespec ms = { 0, 1000000 };
	struct thread_stat ts;

	if (!thread_emulated())
		return;
	for (int tries = 0; tries < 1000; tries++) {
		if (__atomic_load_n(&helper_pid, __ATOMIC_ACQUIRE) == getpid())
			return;
		for (size_t i = 0; i < l->nr; i++)
			if (l->tid[i] != self &&
			    !thread_stat(dfd, l->tid[i], &ts) &&
			    emulator_helper(l->tid[i], &ts))
				return;
		nanosleep(&ms, NULL);
		if (thread_list(dfd, l, true) < 0)
			return;
	}
}

int thread_guest_count(void)
{
	struct thread_list l = { 0 };
	struct thread_stat ts;
	int dfd, cut, n = 0;

	dfd = thread_dir_open();
	if (dfd < 0)
		return dfd;
	do
		cut = thread_list(dfd, &l, true);
	while (cut == 1);
	if (cut < 0) {
		n = cut;
		goto out;
	}
	thread_find_helpers(dfd, &l);
	for (size_t i = 0; i < l.nr; i++) {
		/* Unreadable (gone meanwhile): count it, the safe side. */
		if (thread_stat(dfd, l.tid[i], &ts)) {
			n += !emulator_helper(l.tid[i], NULL);
			continue;
		}
		n += !not_guest(l.tid[i], &ts);
	}
	if (!n)
		n = 1;		/* we are here */
out:
	thread_list_free(&l);
	close(dfd);
	return n;
}

/* ------------------------------------------------------------------
 * The rule
 * ------------------------------------------------------------------ */

/*
 * Under emulation: the host's futex system call number, learned from a
 * thread of ours blocked in FUTEX_WAIT (QEMU passes a guest futex wait
 * to the host's).  -1: unknown, no thread counts as in a syscall.
 */
static pthread_once_t futex_once = PTHREAD_ONCE_INIT;
static long host_futex_nr = -1;

struct futex_probe {
	int word;
	pid_t tid;
};

static void *futex_waiter(void *arg)
{
	struct futex_probe *p = arg;

	__atomic_store_n(&p->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	while (!__atomic_load_n(&p->word, __ATOMIC_ACQUIRE))
		syscall(SYS_futex, &p->word, FUTEX_WAIT_PRIVATE, 0, NULL,
			NULL, 0);
	return NULL;
}

static void futex_calibrate(void)
{
	struct futex_probe p = { 0 };
	struct timespec ms = { 0, 1000000 };
	sigset_t all, old;
	pthread_t th;
	char buf[256];
	int dfd = thread_dir_open();

	if (dfd < 0)
		return;
	/* The probe runs no handler of ours or the application's. */
	sigfillset(&all);
	thread_real_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&th, NULL, futex_waiter, &p)) {
		thread_real_sigmask(SIG_SETMASK, &old, NULL);
		close(dfd);
		return;
	}
	thread_real_sigmask(SIG_SETMASK, &old, NULL);
	for (int tries = 0; tries < 2000; tries++) {
		pid_t tid = __atomic_load_n(&p.tid, __ATOMIC_ACQUIRE);

		if (tid && task_read(dfd, tid, "syscall", buf, sizeof(buf)) > 0 &&
		    buf[0] >= '0' && buf[0] <= '9') {
			host_futex_nr = strtol(buf, NULL, 10);
			break;
		}
		nanosleep(&ms, NULL);
	}
	__atomic_store_n(&p.word, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &p.word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	pthread_join(th, NULL);
	close(dfd);
}

/*
 * <tid>/syscall: "running", "-1 sp pc" (blocked, not in a system call),
 * or "nr a0 .. a5 sp pc" (blocked in system call nr).  1 with *nr and
 * *pc when blocked in one, 0 otherwise.
 */
static int in_syscall(int dfd, pid_t tid, long *nr, uint64_t *pc)
{
	char buf[256], *last;
	ssize_t n = task_read(dfd, tid, "syscall", buf, sizeof(buf));

	if (n <= 0 || buf[0] < '0' || buf[0] > '9')
		return 0;
	*nr = strtol(buf, NULL, 10);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	last = strrchr(buf, ' ');
	if (!last)
		return 0;
	*pc = strtoull(last + 1, NULL, 0);
	return 1;
}

enum thread_where thread_where(int dfd, pid_t tid, struct thread_stat *ts,
			       bool want_syscall, uint64_t *pc)
{
	long nr;
	int err;

	*pc = 0;
	err = thread_stat(dfd, tid, ts);
	if (err == -ESRCH || (!err && thread_state_gone(ts->state)))
		return THREAD_GONE;
	if (err) {
		ts->state = 'R';	/* unreadable: assume the worst */
		return THREAD_USER;
	}
	if (not_guest(tid, ts))
		return THREAD_NOT_GUEST;
	if (ts->state == 'R')
		return THREAD_USER;
	if (!want_syscall)
		return THREAD_KERNEL;
	if (thread_emulated()) {
		pthread_once(&futex_once, futex_calibrate);
		if (ts->state != 'S' || host_futex_nr < 0 ||
		    !in_syscall(dfd, tid, &nr, pc) || nr == host_futex_nr) {
			*pc = 0;
			return THREAD_KERNEL;
		}
		*pc = 0;
		return THREAD_SYSCALL;
	}
	if (!in_syscall(dfd, tid, &nr, pc) || nr < 0)
		return THREAD_KERNEL;
	return THREAD_SYSCALL;
}

int thread_inactive(int dfd, pid_t tid, unsigned long *switches)
{
	struct thread_stat a, b;
	char buf[256];
	ssize_t n;

	if (thread_stat(dfd, tid, &a) || a.state == 'R' ||
	    thread_state_gone(a.state))
		return 0;
	/* "running" unless it stayed off the CPU while the file was made */
	n = task_read(dfd, tid, "syscall", buf, sizeof(buf));
	if (n <= 0 || (buf[0] != '-' && (buf[0] < '0' || buf[0] > '9')))
		return 0;
	if (thread_stat(dfd, tid, &b) || b.switches != a.switches)
		return 0;
	*switches = a.switches;
	return 1;
}

void thread_describe(int dfd, pid_t tid, int sig, char *buf, size_t size)
{
	char comm[64] = "?";
	struct thread_stat ts;
	ssize_t n = task_read(dfd, tid, "comm", comm, sizeof(comm));
	int err;

	if (n > 0 && comm[n - 1] == '\n')
		comm[n - 1] = '\0';
	err = thread_stat(dfd, tid, &ts);
	if (err) {
		snprintf(buf, size, "thread %d (%s, gone)", (int)tid, comm);
		return;
	}
	if (sig <= 0)
		snprintf(buf, size, "thread %d (%s) state %c", (int)tid, comm,
			 ts.state);
	else
		snprintf(buf, size, "thread %d (%s) state %c, signal %d %s",
			 (int)tid, comm, ts.state, sig,
			 thread_emulated() ? "maybe blocked (emulated)" :
			 thread_sig_in(ts.sigblk, sig) ? "blocked" :
			 "not blocked");
}

static __thread char error_detail[256];

void thread_error_set(const char *fmt, ...)
{
	va_list ap;

	if (!fmt) {
		error_detail[0] = '\0';
		return;
	}
	va_start(ap, fmt);
	vsnprintf(error_detail, sizeof(error_detail), fmt, ap);
	va_end(ap);
}

const char *thread_error_get(void)
{
	return error_detail;
}

/* The probe's answer per command: 0 not asked yet, 1 registered, -1 no. */
static int membarrier_expedited, membarrier_sync_core;

int thread_membarrier_register(int cmd)
{
	int *known, reg, v;
	long mask;

	if (cmd == MEMBARRIER_CMD_PRIVATE_EXPEDITED) {
		known = &membarrier_expedited;
		reg = MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED;
	} else if (cmd == MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE) {
		known = &membarrier_sync_core;
		reg = MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE;
	} else {
		return -EINVAL;
	}
	v = __atomic_load_n(known, __ATOMIC_ACQUIRE);
	if (!v) {
		/* Registering twice (two threads at once) is harmless. */
		mask = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
		v = mask > 0 && (mask & cmd) &&
		    !syscall(SYS_membarrier, reg, 0, 0) ? 1 : -1;
		__atomic_store_n(known, v, __ATOMIC_RELEASE);
	}
	return v > 0 ? 0 : -EOPNOTSUPP;
}

int thread_membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0) ? -errno : 0;
}

int thread_barrier(void)
{
	if (thread_membarrier_register(MEMBARRIER_CMD_PRIVATE_EXPEDITED) ||
	    thread_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED))
		return -EOPNOTSUPP;
	return 0;
}

/* ------------------------------------------------------------------
 * Signals
 * ------------------------------------------------------------------ */

/* The handler thread_signal_install() put on each signal. */
static void (*installed[_NSIG])(int, siginfo_t *, void *);
/* The same as a mask (bit n-1: signal n), for lib/signal.c. */
static uint64_t ours_mask;

uint64_t thread_signals_taken(void)
{
	return __atomic_load_n(&ours_mask, __ATOMIC_ACQUIRE);
}

int thread_signal_install(int lo, int hi,
			  void (*handler)(int, siginfo_t *, void *),
			  bool block_all)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	/* SA_RESTART: a thread interrupted in a restartable system call
	 * resumes it. */
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	if (block_all)
		sigfillset(&sa.sa_mask);
	else
		sigemptyset(&sa.sa_mask);
	for (int s = hi; s >= lo; s--) {
		/* Look, swap, then check what was there: an application
		 * handler installed meanwhile is put back, never lost. */
		if (thread_real_sigaction(s, NULL, &old) ||
		    old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO))
			continue;
		__atomic_store_n(&installed[s], handler, __ATOMIC_RELEASE);
		/* Before the handler: no mask the program sets from now on
		 * blocks it (lib/signal.c). */
		__atomic_or_fetch(&ours_mask, SIGBIT(s), __ATOMIC_SEQ_CST);
		if (!thread_real_sigaction(s, &sa, &old)) {
			if (old.sa_handler == SIG_DFL &&
			    !(old.sa_flags & SA_SIGINFO))
				return s;
			thread_real_sigaction(s, &old, NULL);
		}
		__atomic_and_fetch(&ours_mask, ~SIGBIT(s), __ATOMIC_SEQ_CST);
	}
	return -EBUSY;
}

int thread_signal_check(int sig, void (*handler)(int, siginfo_t *, void *))
{
	struct sigaction cur;

	if (thread_real_sigaction(sig, NULL, &cur))
		return -errno;
	return (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == handler ?
		0 : -EBUSY;
}

int thread_signal_send(pid_t tid, int sig, uint64_t cookie)
{
	siginfo_t si;
	pid_t pid = getpid();
	void (*h)(int, siginfo_t *, void *);

	/* Checked before every send: never deliver a default action. */
	if (sig <= 0 || sig >= _NSIG)
		return -EINVAL;
	h = __atomic_load_n(&installed[sig], __ATOMIC_ACQUIRE);
	if (!h || thread_signal_check(sig, h))
		return -EBUSY;
	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = SI_QUEUE;
	si.si_pid = pid;
	si.si_uid = getuid();
	si.si_value.sival_ptr = (void *)(uintptr_t)cookie;
	if (syscall(SYS_rt_tgsigqueueinfo, pid, tid, sig, &si))
		return -errno;
	return 0;
}
