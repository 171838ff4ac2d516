// SPDX-License-Identifier: MIT
/*
 * The application's signal handlers, seen by reclamation.
 *
 * A thread interrupted inside an uncounted window (a trampoline's first
 * or last instructions, ftrace_caller) by a signal of its own runs its
 * handler with the window's PC saved in the kernel's signal frame.  A
 * scan that observes it then sees the handler's PC, outside every
 * window; if the handler blocks (a SIGTERM handler that waits for
 * workers), both scans see it "outside" and the image is freed under the
 * PC it will return to.
 *
 * So sigaction() and signal() are interposed (dlopen() is, the same way,
 * in ftrace/sites.c): an application handler is installed behind
 * wrap_handler(), which records the interrupted PC in this thread's
 * entry of a table before calling it, and drops it after.  The scans
 * read the entry of every thread they observe (thread_sig_pcs()), at the
 * moment they observe it:
 *
 *  - asked by a signal: ftrace/reclaim.c's handler runs on that thread,
 *    nested in the application's handlers if any, and reports their
 *    recorded PCs along with its own;
 *  - placed from /proc, blocked in a system call: the entry is read
 *    after the placement and the thread is checked not to have run in
 *    between (same state, same context-switch count).  The recording
 *    thread's stores precede its switch-out, and reading
 *    <tid>/syscall took its runqueue lock after that (wait_task_inactive),
 *    so they are visible.
 *
 * What the application sees does not change: sigaction() reports its own
 * handler (flags, mask) back, SA_SIGINFO or not, SA_RESETHAND,
 * SA_NODEFER, SA_ONSTACK keep their meaning (the kernel applies them to
 * the wrapper).  Only ftramp's own handlers are installed unwrapped
 * (thread_real_sigaction()).
 *
 * Signal masks.  A thread that blocks ftramp's signals (the scan signal,
 * the sync and stop signal) cannot be asked where it is nor parked, so
 * sigprocmask() and pthread_sigmask() are interposed too, as sanitizer
 * runtimes do: the mask installed is the program's without
 * ours (thread_signals_taken()); the bits of ours the program asked for
 * are kept per thread (`hidden`) and shown in every old mask returned,
 * so the program reads back exactly the mask it set.  A handler of the
 * program's whose sa_mask names ours runs with them unblocked (the
 * wrapper), and sees them in its ucontext's mask as it would have.
 * glibc's own internal signals are left out of every set, as glibc's
 * pthread_sigmask() does.  The masks a thread holds only while it sleeps
 * in the kernel (sigsuspend(), ppoll(), pselect(), epoll_pwait()) are
 * left as they are: a sleeping thread is observed without a signal, and
 * a stop checks that it did not run while words were written
 * (arch/arm64/stop_machine.c); our handler would instead end the
 * program's sigsuspend() with EINTR.
 *
 * Limits (Documentation/design.rst, "Limits"): a handler left by
 * siglongjmp() keeps its PC recorded while the thread lives: a later
 * handler nests above it, and nothing tells a frame left that way from
 * one still running (a pinned image, never a fault);
 * a thread of a full table (THREAD_SIG_MAX) or nested deeper than
 * SIGREC_DEPTH is recorded as "unknown", which scans treat as busy.  A
 * mask set by raw system call, by glibc internally (pthread_create()
 * blocks everything for a moment), by siglongjmp() or by
 * pthread_attr_setsigmask_np(), or set before ftramp took the signal,
 * is not seen: such a thread may block ours, and the scans and stops
 * bound their waits for it (Documentation/design.rst).  A new thread
 * starts with an empty `hidden`: it reads ours as unblocked even where
 * its creator had asked for them blocked.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "lib/thread.h"

/* glibc's public aliases (GLIBC_2.17 on arm64). */
extern int __sigaction(int sig, const struct sigaction *act,
		       struct sigaction *old);

#define SIGREC_DEPTH	6

struct sigrec {
	pid_t tid;			/* 0: free */
	unsigned int depth;		/* handlers running; > DEPTH: unknown */
	uint64_t pc[SIGREC_DEPTH];
};

static struct sigrec recs[THREAD_SIG_MAX];
/*
 * Entries ever claimed: recs[recs_hi..] have never had a tid, so lookups
 * and prunes stop there (a reclaimer's scan prunes on every pass, and
 * went through all 4096 entries each time).  Raised with release after
 * the claim: a reader that misses the raise sees the thread as before
 * its claim, which it must handle anyway (a handler not yet recorded).
 */
static unsigned int recs_hi;

static size_t recs_used(void)
{
	return __atomic_load_n(&recs_hi, __ATOMIC_ACQUIRE);
}

static void recs_raise(size_t i)
{
	unsigned int hi = __atomic_load_n(&recs_hi, __ATOMIC_RELAXED);

	while (hi < i + 1 &&
	       !__atomic_compare_exchange_n(&recs_hi, &hi, (unsigned int)i + 1,
					    true, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED))
		;
}
static __thread struct sigrec *my_rec __attribute__((tls_model("initial-exec")));
/* The application's dispositions, one immutable copy each (leaked when
 * replaced: a handler may still be reading the old one). */
static struct sigaction *app_act[_NSIG];

int thread_real_sigaction(int sig, const struct sigaction *act,
			  struct sigaction *old)
{
	return __sigaction(sig, act, old);
}

static struct sigrec *rec_find(pid_t tid)
{
	size_t n = recs_used();

	for (size_t i = 0; i < n; i++)
		if (__atomic_load_n(&recs[i].tid, __ATOMIC_ACQUIRE) == tid)
			return &recs[i];
	return NULL;
}

/* This thread's entry, claimed on first use (async-signal-safe). */
static struct sigrec *rec_self(void)
{
	pid_t me;

	if (my_rec)
		return my_rec;
	me = (pid_t)syscall(SYS_gettid);
	for (size_t i = 0; i < THREAD_SIG_MAX; i++) {
		pid_t want = 0;

		/* A dead thread's entry with our (reused) tid: ours now. */
		if (__atomic_load_n(&recs[i].tid, __ATOMIC_RELAXED) == me ||
		    __atomic_compare_exchange_n(&recs[i].tid, &want, me, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED)) {
			recs_raise(i);
			__atomic_store_n(&recs[i].depth, 0, __ATOMIC_RELEASE);
			my_rec = &recs[i];
			return my_rec;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------
 * Masks
 * ------------------------------------------------------------------ */

/* Ours the program asked this thread to block: set in its view only. */
static __thread uint64_t hidden __attribute__((tls_model("initial-exec")));

static uint64_t mask_bits(const sigset_t *set)
{
	uint64_t v;

	memcpy(&v, set, sizeof(v));
	return v;
}

static void mask_store(sigset_t *set, uint64_t v)
{
	memcpy(set, &v, sizeof(v));
}

/* glibc's internal signals (SIGCANCEL, SIGSETXID), below SIGRTMIN. */
static uint64_t glibc_internal(void)
{
	uint64_t m = 0;

	for (int s = 32; s < SIGRTMIN && s <= 64; s++)
		m |= 1ull << (s - 1);
	return m;
}

int thread_real_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	int saved = errno, err = 0;
	sigset_t k;

	if (set) {
		k = *set;
		mask_store(&k, mask_bits(set) & ~glibc_internal());
	}
	if (syscall(SYS_rt_sigprocmask, how, set ? &k : NULL, old,
		    (size_t)(_NSIG / 8)))
		err = errno;
	errno = saved;
	return err;
}

/* pthread_sigmask() as the program sees it: 0 or an errno value. */
static int mask_change(int how, const sigset_t *set, sigset_t *old)
{
	uint64_t ours = thread_signals_taken(), was = hidden, hid = was;
	sigset_t k, kold;
	int err;

	if (set) {
		uint64_t want = mask_bits(set);

		switch (how) {
		case SIG_BLOCK:
			hid |= want & ours;
			break;
		case SIG_UNBLOCK:
			hid &= ~want;
			break;
		case SIG_SETMASK:
			hid = want & ours;
			break;
		default:
			return EINVAL;
		}
		k = *set;
		mask_store(&k, how == SIG_UNBLOCK ? want : want & ~ours);
	}
	err = thread_real_sigmask(how, set ? &k : NULL, old ? &kold : NULL);
	if (err)
		return err;
	if (old) {
		*old = kold;
		mask_store(old, mask_bits(&kold) | was);
	}
	hidden = hid;
	return 0;
}

__attribute__((visibility("default")))
int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	return mask_change(how, set, old);
}

__attribute__((visibility("default")))
int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	int err = mask_change(how, set, old);

	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

static void wrap_handler(int sig, siginfo_t *si, void *uctx)
{
	const struct sigaction *a = __atomic_load_n(&app_act[sig],
						    __ATOMIC_ACQUIRE);
	struct sigrec *r = rec_self();
	uint64_t ours = thread_signals_taken(), was = hidden, in;
	ucontext_t *uc = uctx;
	unsigned int d = 0;

	/*
	 * The kernel blocked the program's sa_mask: keep ours open, and
	 * show the handler the masks it expects (its own view, hidden
	 * bits included, in the ucontext it may read or change).
	 */
	in = a ? mask_bits(&a->sa_mask) & ours : 0;
	if (in) {
		sigset_t k;

		sigemptyset(&k);
		mask_store(&k, in);
		thread_real_sigmask(SIG_UNBLOCK, &k, NULL);
	}
	hidden = was | in;
	if (was)
		mask_store(&uc->uc_sigmask, mask_bits(&uc->uc_sigmask) | was);
	if (r) {
		d = __atomic_load_n(&r->depth, __ATOMIC_RELAXED);
		if (d < SIGREC_DEPTH) {
#ifdef __aarch64__
			r->pc[d] = ((ucontext_t *)uctx)->uc_mcontext.pc;
#else
			r->pc[d] = 0;
#endif
		}
		/* Before the handler runs: a scan seeing it sees this. */
		__atomic_store_n(&r->depth, d + 1, __ATOMIC_SEQ_CST);
	}
	if (a && (a->sa_flags & SA_SIGINFO))
		a->sa_sigaction(sig, si, uctx);
	else if (a && a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN)
		a->sa_handler(sig);
	if (r)
		__atomic_store_n(&r->depth, d, __ATOMIC_RELEASE);
	/* sigreturn installs uc_sigmask: the program's view of it. */
	hidden = mask_bits(&uc->uc_sigmask) & ours;
	mask_store(&uc->uc_sigmask, mask_bits(&uc->uc_sigmask) & ~ours);
}

static bool is_wrapped(const struct sigaction *sa)
{
	return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == wrap_handler;
}

static bool wants_handler(const struct sigaction *act)
{
	if (act->sa_flags & SA_SIGINFO)
		return act->sa_sigaction != NULL;
	return act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN;
}

/*
 * Whether @sig is one of ours and ours is still installed: ftramp took it
 * at SIG_DFL (thread_signal_install()), so SIG_DFL is what the program
 * sees of it, and a reset to SIG_DFL leaves ours in place.
 */
static bool ours_in_place(int sig, const struct sigaction *cur)
{
	return sig <= 64 && (thread_signals_taken() & (1ull << (sig - 1))) &&
	       (cur->sa_flags & SA_SIGINFO) && !is_wrapped(cur);
}

__attribute__((visibility("default")))
int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction cur, w;
	const struct sigaction *prev;
	struct sigaction *copy;
	int ret;

	/*
	 * A program that resets every signal to SIG_DFL (a daemon's
	 * start-up) would cut ftramp off: the reset is already the
	 * program's view of ours, so ours stays.  SIG_IGN or a handler
	 * takes the signal over, and ftramp does without it
	 * (thread_signal_send() checks before every send).
	 */
	if (sig > 0 && sig < _NSIG && (!act || !wants_handler(act)) &&
	    !__sigaction(sig, NULL, &cur) && ours_in_place(sig, &cur) &&
	    (!act || (!(act->sa_flags & SA_SIGINFO) &&
		      act->sa_handler == SIG_DFL))) {
		if (old) {
			memset(old, 0, sizeof(*old));
			old->sa_handler = SIG_DFL;
		}
		return 0;
	}
	if (sig <= 0 || sig >= _NSIG || !act || !wants_handler(act)) {
		prev = sig > 0 && sig < _NSIG ?
		       __atomic_load_n(&app_act[sig], __ATOMIC_ACQUIRE) : NULL;
		ret = __sigaction(sig, act, old ? &cur : NULL);
		if (!ret && old) {
			if (is_wrapped(&cur) && prev)
				cur = *prev;
			*old = cur;
		}
		return ret;
	}
	copy = malloc(sizeof(*copy));
	if (!copy)		/* unrecorded, but installed */
		return __sigaction(sig, act, old);
	*copy = *act;
	w = *act;
	w.sa_flags |= SA_SIGINFO;
	w.sa_sigaction = wrap_handler;
	/* Never blocked while the handler runs (see "Signal masks"). */
	mask_store(&w.sa_mask, mask_bits(&w.sa_mask) & ~thread_signals_taken());
	prev = __atomic_exchange_n(&app_act[sig], copy, __ATOMIC_ACQ_REL);
	ret = __sigaction(sig, &w, &cur);
	if (ret) {
		__atomic_store_n(&app_act[sig], (struct sigaction *)prev,
				 __ATOMIC_RELEASE);
		return ret;
	}
	if (old) {
		if (is_wrapped(&cur) && prev)
			cur = *prev;
		*old = cur;
	}
	return 0;
}

/* glibc's signal(): BSD semantics (the handler stays, SA_RESTART). */
__attribute__((visibility("default")))
sighandler_t signal(int sig, sighandler_t handler)
{
	struct sigaction sa, old;

	if (handler == SIG_ERR || sig <= 0 || sig >= _NSIG) {
		errno = EINVAL;
		return SIG_ERR;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, sig);
	sa.sa_flags = SA_RESTART;
	if (sigaction(sig, &sa, &old))
		return SIG_ERR;
	return old.sa_handler;
}

int thread_sig_pcs(pid_t tid, uint64_t *pcs, int max)
{
	struct sigrec *r = rec_find(tid);
	unsigned int d;

	if (!r)
		return 0;
	d = __atomic_load_n(&r->depth, __ATOMIC_ACQUIRE);
	if (d > SIGREC_DEPTH || (int)d > max)
		return -1;
	for (unsigned int i = 0; i < d; i++)
		pcs[i] = __atomic_load_n(&r->pc[i], __ATOMIC_RELAXED);
	return (int)d;
}

void thread_sig_prune(void)
{
	pid_t pid = getpid();
	size_t n = recs_used();

	/*
	 * Only entries of threads that are gone: a live thread keeps its
	 * entry for good (its my_rec points there).  A gone tid reused by
	 * a new thread is claimed again by that thread (rec_self()).
	 */
	for (size_t i = 0; i < n; i++) {
		pid_t tid = __atomic_load_n(&recs[i].tid, __ATOMIC_RELAXED);

		if (tid && syscall(SYS_tgkill, pid, tid, 0) && errno == ESRCH)
			__atomic_compare_exchange_n(&recs[i].tid, &tid, 0,
						    false, __ATOMIC_RELEASE,
						    __ATOMIC_RELAXED);
	}
}

void thread_sig_atfork_child(void)
{
	pid_t me = (pid_t)syscall(SYS_gettid);
	struct sigrec *mine = NULL;

	/* Only this thread exists now: keep its entry, under its new tid. */
	if (my_rec && my_rec->tid)
		mine = my_rec;
	for (size_t i = 0; i < THREAD_SIG_MAX; i++)
		if (&recs[i] != mine)
			recs[i].tid = 0;
	if (mine)
		mine->tid = me;
}
