/* SPDX-License-Identifier: MIT */
/*
 * The threads of this process, as the layers above need them: listing,
 * reading where each one is, signalling it.  One place for the rule that
 * says when a thread may be left alone (thread_where() and the table at
 * the top of thread.c); arch/arm64/sync_signal.c (context
 * synchronisation), arch/arm64/stop_machine.c (parking) and
 * ftrace/reclaim.c (the scans) all go through it.
 *
 * Nothing here takes a lock, and with may_alloc false nothing allocates:
 * stop_machine.c lists and reads threads while others are parked, maybe
 * holding malloc's lock.
 */
#ifndef FTRAMP_LIB_THREAD_H
#define FTRAMP_LIB_THREAD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

/* ------------------------------------------------------------------
 * Listing
 * ------------------------------------------------------------------ */

struct thread_list {
	char *buf;		/* getdents64 buffer */
	size_t cap;
	pid_t *tid;		/* the listing */
	size_t nr, tid_cap;
};

/* open("/proc/self/task"): the dfd the functions below take. */
int thread_dir_open(void);

/*
 * List /proc/self/task (dfd) in one getdents64 call: one walk of the
 * kernel's thread list.  1 if the walk may have been cut short by an
 * exiting thread (list again), 0 if complete, -ENOSPC if !may_alloc and
 * the buffers are too small, another -errno on failure.
 */
int thread_list(int dfd, struct thread_list *l, bool may_alloc);
void thread_list_free(struct thread_list *l);

/* ------------------------------------------------------------------
 * State
 * ------------------------------------------------------------------ */

struct thread_stat {
	char state;		/* R, S, D, T, t, Z, X... */
	unsigned int flags;	/* the kernel's PF_* flags (stat field 9) */
	unsigned long switches;	/* voluntary + involuntary */
	uint64_t sigblk;	/* blocked signals (bit n-1: signal n) */
	uint64_t sigpnd;	/* pending for this thread alone */
};

/*
 * <tid>/stat and <tid>/status under dfd.  -ESRCH once the thread is
 * gone (or reads as an exited task).
 */
int thread_stat(int dfd, pid_t tid, struct thread_stat *ts);

/* Zombie or dead: the thread cannot run user code again. */
bool thread_state_gone(char state);

/* Is signal sig (1..64) in a sigblk / sigpnd mask? */
static inline bool thread_sig_in(uint64_t mask, int sig)
{
	return sig > 0 && sig <= 64 && (mask >> (sig - 1)) & 1;
}

/* Running under a user-mode emulator (QEMU linux-user)?  Probed once. */
bool thread_emulated(void);

/*
 * Threads of this process that can execute its code: every thread listed
 * in /proc/self/task except those that never run user code (io_uring
 * workers; under QEMU, the emulator's own helper).  >= 1, or -errno.  A
 * result of 1 is a proof that no other thread runs: only the caller
 * could create one.
 */
int thread_guest_count(void);

/*
 * Under an emulator, wait (up to a second) until its helper thread has
 * been seen in l (listed from dfd), so that later calls of
 * thread_where() do not have to catch it wearing its mask.
 */
void thread_find_helpers(int dfd, struct thread_list *l);

/* ------------------------------------------------------------------
 * The quiescence rule (argued at the top of thread.c)
 * ------------------------------------------------------------------ */

enum thread_where {
	THREAD_GONE,		/* exited or a zombie */
	THREAD_NOT_GUEST,	/* never runs the program's code */
	THREAD_SYSCALL,		/* blocked in a system call: its user PC
				 * is the call's (outside generated code) */
	THREAD_KERNEL,		/* in the kernel, maybe not in a syscall
				 * (a page fault, stopped, or unknown) */
	THREAD_USER,		/* running or runnable: may be executing
				 * user code anywhere */
};

/*
 * Where is tid now?  ts is filled when the thread could be read.  With
 * want_syscall, a thread in the kernel is told THREAD_SYSCALL only when
 * <tid>/syscall proves it is blocked in a system call (*pc: the user PC,
 * natively; 0 under an emulator, where the file shows the host's);
 * otherwise every thread in the kernel is THREAD_KERNEL.
 */
enum thread_where thread_where(int dfd, pid_t tid, struct thread_stat *ts,
			       bool want_syscall, uint64_t *pc);

/*
 * Is tid off every CPU, in the kernel, at some instant during the call?
 * 1 with *switches, its context-switch count at that instant; 0 if that
 * could not be shown (running, gone, unreadable).  <tid>/syscall is
 * generated only while the thread stays inactive (the kernel's
 * wait_task_inactive()), and the count read before and after it is the
 * same.  Two such answers with the same count prove that the thread did
 * not run in between: switched in, it is counted when it leaves the CPU.
 * Under an emulator this holds of the host thread, which is the only
 * one that runs the guest's code.  No allocation, no lock.
 */
int thread_inactive(int dfd, pid_t tid, unsigned long *switches);

/*
 * "tid (comm) state R" into buf: how an error names a thread.  With
 * sig > 0, also whether its mask (natively; under an emulator /proc
 * shows the host's) blocks sig.  No allocation.
 */
void thread_describe(int dfd, pid_t tid, int sig, char *buf, size_t size);

/*
 * The detail of this thread's last failure that had one (a thread that
 * would not park, the links ftramp_sync() still waits for): what
 * ftramp_error_detail() returns.  fmt NULL clears it.
 */
void thread_error_set(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
const char *thread_error_get(void);

/*
 * membarrier(2) for this process, probed once per command (the kernel's
 * QUERY mask, then the command's REGISTER): @cmd is
 * MEMBARRIER_CMD_PRIVATE_EXPEDITED or ..._PRIVATE_EXPEDITED_SYNC_CORE.
 * thread_membarrier_register(): 0, or -EOPNOTSUPP where the kernel
 * lacks it.  thread_membarrier(): issue it once registered; 0 or -errno.
 */
int thread_membarrier_register(int cmd);
int thread_membarrier(int cmd);

/*
 * Every other thread of the process passes a full memory barrier
 * (membarrier PRIVATE_EXPEDITED; a sleeping thread had one when it was
 * switched out).  0, or -EOPNOTSUPP where membarrier is missing: then a
 * thread judged by its state alone has not been ordered with us, and
 * must be signalled instead.
 */
int thread_barrier(void);

/* ------------------------------------------------------------------
 * Signals
 * ------------------------------------------------------------------ */

/*
 * Install handler for the highest free real-time signal in [lo, hi]
 * (absolute numbers): one whose disposition is SIG_DFL.  The swap and
 * the check are one sigaction() call each way, so an application
 * handler installed meanwhile is never lost.  Flags: SA_SIGINFO |
 * SA_RESTART | SA_ONSTACK (a thread on a small stack with an alternate
 * one runs the handler there).  block_all: every signal blocked while
 * the handler runs.  Returns the signal, or -EBUSY (all taken).
 */
int thread_signal_install(int lo, int hi,
			  void (*handler)(int, siginfo_t *, void *),
			  bool block_all);

/* Is handler still the disposition of sig?  0, or -EBUSY. */
int thread_signal_check(int sig, void (*handler)(int, siginfo_t *, void *));

/*
 * rt_tgsigqueueinfo(): sig to tid with si_value = cookie, si_code
 * SI_QUEUE, si_pid our pid (a handler checks both: nobody else's
 * sigqueue is taken for ours).  -ESRCH once the thread is gone, -EBUSY
 * (nothing sent) if sig's disposition is no longer the handler
 * thread_signal_install() put there: the application changed it, and
 * the default action of a real-time signal would kill the process.
 */
int thread_signal_send(pid_t tid, int sig, uint64_t cookie);

/*
 * The application's handlers (lib/signal.c interposes sigaction() and
 * signal()): each thread's PCs interrupted by a handler still running.
 */
#define THREAD_SIG_MAX	4096		/* threads recorded at once */

/* sigaction() without the interposition: for ftramp's own handlers. */
int thread_real_sigaction(int sig, const struct sigaction *act,
			  struct sigaction *old);

/*
 * The signals thread_signal_install() took (bit n-1: signal n).  The
 * interposed sigprocmask() and pthread_sigmask() never let the program
 * block them (lib/signal.c).
 */
uint64_t thread_signals_taken(void);

/*
 * pthread_sigmask() without the interposition (0 or an errno value):
 * for ftramp's own code, which may mean to block its own signals too.
 */
int thread_real_sigmask(int how, const sigset_t *set, sigset_t *old);

/*
 * The PCs at which tid's running application handlers interrupted it,
 * outermost first: how many (0: none), or -1 if unknown (nested too
 * deep): treat as busy.  Read from tid itself, or while tid is known
 * not to run.
 */
int thread_sig_pcs(pid_t tid, uint64_t *pcs, int max);

/* Free the entries of threads that are gone. */
void thread_sig_prune(void);

/* After fork(), in the child. */
void thread_sig_atfork_child(void);

/* Did si come from thread_signal_send() in this process? */
static inline bool thread_signal_ours(const siginfo_t *si)
{
	return si && si->si_code == SI_QUEUE && si->si_pid == getpid();
}

#endif /* FTRAMP_LIB_THREAD_H */
