// SPDX-License-Identifier: MIT
/*
 * The reclaimer's ordering (ftrace/reclaim.c: scan, read, scan), with a
 * stand-in for an image: a small piece of code ("the window") that a
 * helper thread spins in, and a counter the test moves by hand.  The
 * test hook stops reclaim_poll() between its steps so that the helper
 * can be put exactly where a real thread might be.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <ftramp/ftramp.h>

#include "arch/arm64/patching.h"
#include "arch/arm64/sync_signal.h"
#include "ftrace/ftrace.h"
#include "ftrace/reclaim.h"
#include "lib/thread.h"
#include "selftests/harness.h"
#include "selftests/site_bytes.h"

/*
 * win_spin(flag, ack, val): *ack = val (release), then spin while *flag.
 * The ack is stored from inside the window, so whoever sees it knows
 * the thread's PC is in [win_lo, win_hi) until *flag is cleared.
 */
__asm__(".text\n"
	".balign 16\n"
	".globl win_lo\n.hidden win_lo\n"
	".globl win_hi\n.hidden win_hi\n"
	".globl win_spin\n.hidden win_spin\n"
	".type win_spin, %function\n"
	"win_lo:\n"
	"win_spin:\n"
	"	stlr	w2, [x1]\n"
	"1:	ldar	w3, [x0]\n"
	"	cbnz	w3, 1b\n"
	"	ret\n"
	"win_hi:\n"
	".size win_spin, . - win_spin\n");

void win_spin(volatile int *flag, volatile int *ack, int val);
extern const char win_lo[], win_hi[];

enum {
	ACK_ENTRY = 1,		/* in the window, before the increment */
	ACK_PROG,		/* counted, outside the window */
	ACK_TAIL,		/* decremented, in the window again */
	ACK_DONE,
};

static uint64_t counter;
static volatile int stay_entry, stay_tail, ack;
static volatile int freed, freed_in_tail;
/* The walker's program: a read of prog_pipe (released by a byte). */
static int prog_pipe[2] = { -1, -1 };
static pid_t walker_tid;

static void wait_ack(int val)
{
	while (__atomic_load_n(&ack, __ATOMIC_ACQUIRE) != val)
		;
}

/*
 * A thread through one traced call: entry window, program, exit window.
 * Its program sleeps in a system call (a read, outside every window), so
 * a scan places it from /proc, whatever the load: no signal to answer
 * in time.
 */
static void *walker(void *arg)
{
	char c;

	(void)arg;
	__atomic_store_n(&walker_tid, (pid_t)gettid(), __ATOMIC_RELEASE);
	win_spin(&stay_entry, &ack, ACK_ENTRY);
	__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&ack, ACK_PROG, __ATOMIC_RELEASE);
	while (read(prog_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	__atomic_sub_fetch(&counter, 1, __ATOMIC_RELEASE);
	win_spin(&stay_tail, &ack, ACK_TAIL);
	__atomic_store_n(&ack, ACK_DONE, __ATOMIC_RELEASE);
	return NULL;
}

static void prog_release(void)
{
	if (write(prog_pipe[1], "x", 1) != 1)
		abort();
}

/* Until a scan would place tid from /proc: asleep in a system call. */
static void wait_asleep(pid_t tid)
{
	int dfd = thread_dir_open();
	struct thread_stat ts;
	uint64_t pc;

	while (thread_where(dfd, tid, &ts, true, &pc) != THREAD_SYSCALL)
		sched_yield();
	close(dfd);
}

static void free_image(void *arg)
{
	(void)arg;
	freed = 1;
	freed_in_tail = __atomic_load_n(&ack, __ATOMIC_ACQUIRE) == ACK_TAIL;
}

/*
 * Between the steps: after the first read, the walker increments and
 * leaves the window (it is in a program at S1); after S1 it decrements
 * and enters the exit window, where it still is when the counter reads
 * zero.
 */
static void move_walker(enum reclaim_phase phase)
{
	switch (phase) {
	case RECLAIM_PHASE_READ:
		if (__atomic_load_n(&ack, __ATOMIC_ACQUIRE) != ACK_ENTRY)
			break;
		__atomic_store_n(&stay_entry, 0, __ATOMIC_RELEASE);
		wait_ack(ACK_PROG);
		wait_asleep(walker_tid);
		break;
	case RECLAIM_PHASE_SCANNED:
		if (__atomic_load_n(&ack, __ATOMIC_ACQUIRE) != ACK_PROG)
			break;
		prog_release();
		wait_ack(ACK_TAIL);
		break;
	default:
		break;
	}
}

static void reset(void)
{
	counter = 0;
	stay_entry = stay_tail = 1;
	ack = 0;
	freed = freed_in_tail = 0;
	if (prog_pipe[0] < 0 && pipe(prog_pipe))
		abort();
}

/*
 * The exit window: a thread seen in a program at S1 that decrements and
 * is still in the image's last instructions when the counter reads zero
 * must keep the image (the second scan sees it there).
 */
TEST(exit_window_after_zero)
{
	pthread_t th;

	reset();
	ASSERT_EQ(0, pthread_create(&th, NULL, walker, NULL));
	wait_ack(ACK_ENTRY);
	reclaim_retire(RECLAIM_IMAGE, &counter, (uint64_t)(uintptr_t)win_lo,
		       (uint64_t)(uintptr_t)win_hi, free_image, NULL);
	reclaim_set_test_hook(move_walker);
	EXPECT_EQ(1, reclaim_poll());
	reclaim_set_test_hook(NULL);
	EXPECT_EQ(ACK_TAIL, ack);
	EXPECT_EQ(0, freed);
	EXPECT_EQ(0, freed_in_tail);

	/* Out of the window and gone: now it goes. */
	__atomic_store_n(&stay_tail, 0, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	EXPECT_EQ(0, reclaim_poll());
	EXPECT_EQ(1, freed);
	EXPECT_EQ(0, freed_in_tail);
}

/*
 * A thread inside the image's code while the counter stays zero (its
 * entry window, before the increment) keeps it, whatever the counter
 * says afterwards.
 */
TEST(inside_code_with_zero_counter)
{
	pthread_t th;

	reset();
	ASSERT_EQ(0, pthread_create(&th, NULL, walker, NULL));
	wait_ack(ACK_ENTRY);
	reclaim_retire(RECLAIM_IMAGE, &counter, (uint64_t)(uintptr_t)win_lo,
		       (uint64_t)(uintptr_t)win_hi, free_image, NULL);
	EXPECT_EQ(1, reclaim_poll());
	EXPECT_EQ(0, freed);

	/* In a program (counted): still not. */
	__atomic_store_n(&stay_entry, 0, __ATOMIC_RELEASE);
	wait_ack(ACK_PROG);
	EXPECT_EQ(1, reclaim_poll());
	EXPECT_EQ(0, freed);

	__atomic_store_n(&stay_tail, 0, __ATOMIC_RELEASE);
	prog_release();
	pthread_join(th, NULL);
	EXPECT_EQ(0, reclaim_poll());
	EXPECT_EQ(1, freed);
}

/* ------------------------------------------------------------------
 * Each waiter waits for its own entries only
 * ------------------------------------------------------------------ */

static int frees[4];

static void count_free(void *arg)
{
	frees[(intptr_t)arg]++;
}

/*
 * A leaked frame (a counter that never drops) pins its own entry and
 * nothing else: a newer entry of any kind is freed and waited for.
 */
TEST(stuck_entry_holds_back_nothing_else)
{
	struct ftramp_pinned pin[4];
	uint64_t stuck = 1, stuck_rec = 1, zero = 0, held = 1;
	uint64_t a, b, c, d, e;

	memset(frees, 0, sizeof(frees));
	for (int i = 0; i < 4; i++)
		pin[i].sz = sizeof(pin[i]);
	ASSERT_EQ(0, ftramp_sync(10000));
	a = reclaim_retire(RECLAIM_IMAGE, &stuck, 0x1000, 0x1100, count_free,
			   (void *)0);
	reclaim_describe(a, 0x1234, 1);
	b = reclaim_retire(RECLAIM_COPS, &stuck_rec, 0, 0, count_free,
			   (void *)1);
	c = reclaim_retire(RECLAIM_COPS, &zero, 0, 0, count_free, (void *)2);
	d = reclaim_retire(RECLAIM_MARK, NULL, 0x2000, 0x2004, NULL, NULL);
	e = reclaim_retire_held(RECLAIM_COPS, &zero, &held, 0, 0, count_free,
				(void *)3);

	/* Newer than both stuck ones, call records included. */
	EXPECT_EQ(0, reclaim_wait_seq(c, 10000));
	EXPECT_EQ(0, reclaim_wait_seq(d, 10000));
	EXPECT_EQ(1, frees[2]);
	EXPECT_EQ(0, frees[0]);
	EXPECT_EQ(0, frees[1]);
	/* Held by another object: waits for it, whatever its counter. */
	EXPECT_EQ(-ETIMEDOUT, reclaim_wait_seq(e, 50));
	EXPECT_EQ(0, frees[3]);

	/* What is pinned, and by how many frames. */
	EXPECT_EQ(3, ftramp_reclaim__pinned(pin, 4));
	EXPECT_EQ(FTRAMP_PINNED_IMAGE, pin[0].kind);
	EXPECT_EQ(0x1234, pin[0].func);
	EXPECT_EQ(1, pin[0].frames);
	EXPECT_EQ(FTRAMP_PINNED_RECORD, pin[1].kind);
	EXPECT_EQ(1, pin[1].frames);
	EXPECT_EQ(FTRAMP_PINNED_RECORD, pin[2].kind);
	EXPECT_EQ(1, pin[2].held);
	EXPECT_EQ(-ETIMEDOUT, ftramp_sync(50));

	__atomic_store_n(&held, 0, __ATOMIC_RELEASE);
	EXPECT_EQ(0, reclaim_wait_seq(e, 10000));
	__atomic_store_n(&stuck, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&stuck_rec, 0, __ATOMIC_RELEASE);
	EXPECT_EQ(0, ftramp_sync(10000));
	EXPECT_EQ(0, ftramp_reclaim__pinned(NULL, 0));
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(1, frees[i]);
	(void)a;
	(void)b;
}

/*
 * Through the API: a thread asleep inside a detached fexit function pins
 * that function's old image; unregistering an unrelated ftrace ops does
 * not wait for it.
 */
static int sleepy_pipe[2];
static pid_t sleepy_tid;

long rc_sleepy(long x);
TRACEE long rc_sleepy(long x)
{
	char c;

	__atomic_store_n(&sleepy_tid, (pid_t)gettid(), __ATOMIC_RELEASE);
	if (read(sleepy_pipe[0], &c, 1) != 1)
		return -1;
	return x + c;
}

long rc_other(long x);
TRACEE long rc_other(long x) { return x * 2; }

static uint64_t exit_runs;

static uint64_t sleepy_exit(const uint64_t *ctx)
{
	(void)ctx;
	__atomic_add_fetch(&exit_runs, 1, __ATOMIC_RELAXED);
	return 0;
}

static void other_handler(unsigned long ip, unsigned long parent_ip,
			  struct ftramp_ftrace_ops *op,
			  struct ftramp_ftrace_regs *fregs)
{
	(void)ip;
	(void)parent_ip;
	(void)fregs;
	__atomic_add_fetch((uint64_t *)op->private, 1, __ATOMIC_RELAXED);
}

static void *sleeper(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)rc_sleepy(1);
}

static struct ftramp_ftrace_ops other_ops;
static volatile int unregistered;

static void *unregisterer(void *arg)
{
	(void)arg;
	__atomic_store_n(&unregistered,
			 ftramp_ftrace_ops__unregister(&other_ops) ? -1 : 1,
			 __ATOMIC_RELEASE);
	return NULL;
}

TEST(unregister_ignores_unrelated_sleeper)
{
	struct ftramp_func_model model;
	struct ftramp_pinned pin[8];
	struct ftramp_link *l;
	struct thread_stat ts;
	uint64_t handler_runs = 0, pc;
	pthread_t th, un;
	void *ret;
	int dfd = thread_dir_open(), n, found = 0;

	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, ftramp_sync(10000));
	ASSERT_EQ(0, ftramp_model__parse("long (long)", &model, NULL));
	ASSERT_LE(2, ftramp_sites__prepare(ftramp_sites__get(), "rc_*"));
	ASSERT_EQ(0, pipe(sleepy_pipe));
	{
		FTRAMP_OPTS(ftramp_attach_opts, o, .model = &model);

		l = ftramp_attach("rc_sleepy", FTRAMP_FEXIT, sleepy_exit, &o);
		ASSERT_NE(NULL, l);
	}
	ASSERT_EQ(0, pthread_create(&th, NULL, sleeper, NULL));
	while (!__atomic_load_n(&sleepy_tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	for (int i = 0; i < 10000; i++) {
		if (thread_where(dfd, sleepy_tid, &ts, true, &pc) ==
		    THREAD_SYSCALL)
			break;
		usleep(1000);
	}
	/* Detached while a frame of it sleeps: its image stays pinned. */
	ASSERT_EQ(0, ftramp_link__destroy(l));
	EXPECT_EQ(-ETIMEDOUT, ftramp_sync(100));
	for (int i = 0; i < 8; i++)
		pin[i].sz = sizeof(pin[i]);
	n = ftramp_reclaim__pinned(pin, 8);
	for (int i = 0; i < n && i < 8; i++)
		if (pin[i].func == (uint64_t)(uintptr_t)rc_sleepy &&
		    pin[i].frames == 1)
			found++;
	EXPECT_EQ(1, found);

	other_ops.func = other_handler;
	other_ops.private = &handler_runs;
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&other_ops, "rc_other", 0));
	ASSERT_EQ(0, ftramp_ftrace_ops__register(&other_ops));
	EXPECT_EQ(6, rc_other(3));
	EXPECT_EQ(1, handler_runs);
	ASSERT_EQ(0, pthread_create(&un, NULL, unregisterer, NULL));
	/* A bound, not a measurement: it returns at once when right. */
	for (int i = 0; i < 10000 && !__atomic_load_n(&unregistered,
						      __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	EXPECT_EQ(1, unregistered);

	ASSERT_EQ(1, write(sleepy_pipe[1], "\x02", 1));
	pthread_join(th, &ret);
	pthread_join(un, NULL);
	EXPECT_EQ(1, unregistered);
	EXPECT_EQ(3, (int)(intptr_t)ret);
	EXPECT_EQ(1, exit_runs);
	EXPECT_EQ(0, ftramp_sync(10000));
	EXPECT_EQ(0, ftramp_reclaim__pinned(NULL, 0));
	close(sleepy_pipe[0]);
	close(sleepy_pipe[1]);
	close(dfd);
}

/* ------------------------------------------------------------------
 * A running thread that blocks the scan signal
 * ------------------------------------------------------------------ */

static volatile int deaf_go;
static pid_t deaf_tid;

static void *deaf_spinner(void *arg)
{
	sigset_t all;

	(void)arg;
	sigfillset(&all);
	/* Raw: the interposed pthread_sigmask() keeps ours open. */
	thread_real_sigmask(SIG_BLOCK, &all, NULL);
	__atomic_store_n(&deaf_tid, (pid_t)gettid(), __ATOMIC_RELEASE);
	while (!__atomic_load_n(&deaf_go, __ATOMIC_ACQUIRE))
		;
	thread_real_sigmask(SIG_UNBLOCK, &all, NULL);	/* answers now */
	return NULL;
}

/*
 * It cannot be placed, so nothing is freed; but it is asked once, not
 * once per poll (real-time signals queue: up to RLIMIT_SIGPENDING for
 * the whole user), and the stats name it.
 */
TEST(blocked_signal_is_sent_once)
{
	struct ftramp_reclaim_stats a = { .sz = sizeof(a) }, b = { .sz = sizeof(b) };
	struct ftramp_pinned pin = { .sz = sizeof(pin) };
	pthread_t th;
	uint64_t seq;

	ASSERT_EQ(0, ftramp_sync(10000));
	deaf_go = 0;
	ASSERT_EQ(0, pthread_create(&th, NULL, deaf_spinner, NULL));
	ASSERT_EQ(0, pthread_setname_np(th, "deaf"));
	while (!__atomic_load_n(&deaf_tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	ASSERT_EQ(0, ftramp_reclaim__stats(&a));
	seq = reclaim_retire(RECLAIM_MARK, NULL, 0x3000, 0x3004, NULL, NULL);
	for (int i = 0; i < 5; i++)
		EXPECT_EQ(1, reclaim_poll());
	ASSERT_EQ(0, ftramp_reclaim__stats(&b));
	EXPECT_EQ(1, b.scan_signals - a.scan_signals);
	EXPECT_EQ((uint64_t)deaf_tid, b.unseen_tid);
	/* Under QEMU the host mask is open (QEMU emulates the guest's). */
	if (!thread_emulated())
		EXPECT_EQ(1, b.unseen_blocks);
	EXPECT_EQ(1, ftramp_reclaim__pinned(&pin, 1));
	EXPECT_EQ(FTRAMP_PINNED_MARK, pin.kind);
	EXPECT_EQ(0, pin.frames);
	/* A bounded wait, and the error names the thread. */
	EXPECT_EQ(-ETIMEDOUT, ftramp_sync(100));
	EXPECT_NE(NULL, strstr(ftramp_error_detail(),
			       "could not be observed"));
	EXPECT_NE(NULL, strstr(ftramp_error_detail(), "(deaf) state R"));

	__atomic_store_n(&deaf_go, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	EXPECT_EQ(0, reclaim_wait_seq(seq, 10000));
	ASSERT_EQ(0, ftramp_reclaim__stats(&b));
	EXPECT_EQ(0, b.unseen_tid);
}

/* ------------------------------------------------------------------
 * The program's own signal handlers
 * ------------------------------------------------------------------ */

static volatile int spin_more;

static void *plain_spinner(void *arg)
{
	(void)arg;
	while (__atomic_load_n(&spin_more, __ATOMIC_ACQUIRE))
		;
	return NULL;
}

/*
 * The program resets the scan signal to SIG_DFL (every signal, say, as a
 * daemon does): ours stays, the program reads SIG_DFL back, scans still
 * ask the running thread.  Then it takes the signal over (SIG_IGN): the
 * next scan must not send it (had that been SIG_DFL, a real-time
 * signal's default action kills the process).  The running thread cannot
 * be asked any more; nothing is freed meanwhile.
 */
TEST(scan_signal_taken_over_does_not_kill)
{
	struct ftramp_reclaim_stats st = { .sz = sizeof(st) };
	struct sigaction cur;
	pthread_t th;
	uint64_t seq, asked;
	int sig;

	spin_more = 1;
	ASSERT_EQ(0, pthread_create(&th, NULL, plain_spinner, NULL));
	seq = reclaim_retire(RECLAIM_MARK, NULL, 0x4000, 0x4004, NULL, NULL);
	ASSERT_EQ(0, reclaim_wait_seq(seq, 10000));
	sig = reclaim_scan_signal();
	ASSERT_LT(0, sig);

	ASSERT_EQ(SIG_DFL, signal(sig, SIG_DFL));
	ASSERT_EQ(0, sigaction(sig, NULL, &cur));
	EXPECT_TRUE(cur.sa_handler == SIG_DFL);
	ASSERT_EQ(0, ftramp_reclaim__stats(&st));
	asked = st.scan_signals;
	seq = reclaim_retire(RECLAIM_MARK, NULL, 0x4000, 0x4004, NULL, NULL);
	ASSERT_EQ(0, reclaim_wait_seq(seq, 10000));
	ASSERT_EQ(0, ftramp_reclaim__stats(&st));
	EXPECT_LT(asked, st.scan_signals);
	EXPECT_EQ(0, st.scan_lost_signal);

	ASSERT_NE(SIG_ERR, signal(sig, SIG_IGN));
	seq = reclaim_retire(RECLAIM_MARK, NULL, 0x4000, 0x4004, NULL, NULL);
	EXPECT_EQ(1, reclaim_poll());
	EXPECT_EQ(1, reclaim_poll());
	ASSERT_EQ(0, ftramp_reclaim__stats(&st));
	EXPECT_LT(0, st.scan_lost_signal);

	__atomic_store_n(&spin_more, 0, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	/* Alone again: nobody to ask. */
	EXPECT_EQ(0, reclaim_wait_seq(seq, 10000));
}

static int handler_pipe[2];
static volatile int in_handler;

static void blocking_handler(int sig)
{
	char c;

	(void)sig;
	__atomic_store_n(&in_handler, 1, __ATOMIC_RELEASE);
	/* A SIGTERM handler that waits for something, say. */
	while (read(handler_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	__atomic_store_n(&in_handler, 2, __ATOMIC_RELEASE);
}

static pid_t sitter_tid;

static void *window_sitter(void *arg)
{
	(void)arg;
	__atomic_store_n(&sitter_tid, (pid_t)gettid(), __ATOMIC_RELEASE);
	win_spin(&stay_entry, &ack, ACK_ENTRY);
	return NULL;
}

/*
 * A thread interrupted inside the image's code by its own handler,
 * which then blocks: the scans see the handler (or the system call it
 * sleeps in), but the image must stay, for the handler returns into it.
 */
TEST(own_handler_in_window_keeps_image)
{
	struct sigaction sa, old;
	struct thread_stat ts;
	pthread_t th;
	uint64_t pc;
	int dfd = thread_dir_open();

	ASSERT_LE(0, dfd);
	reset();
	ASSERT_EQ(0, pipe(handler_pipe));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = blocking_handler;
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	/* The program reads back what it installed. */
	ASSERT_EQ(0, sigaction(SIGUSR1, NULL, &old));
	EXPECT_TRUE(old.sa_handler == blocking_handler);
	EXPECT_EQ(0, old.sa_flags & SA_SIGINFO);

	ASSERT_EQ(0, pthread_create(&th, NULL, window_sitter, NULL));
	wait_ack(ACK_ENTRY);
	ASSERT_EQ(0, pthread_kill(th, SIGUSR1));
	while (!__atomic_load_n(&in_handler, __ATOMIC_ACQUIRE))
		usleep(1000);
	for (int i = 0; i < 10000; i++) {
		if (thread_where(dfd, sitter_tid, &ts, true, &pc) ==
		    THREAD_SYSCALL)
			break;
		usleep(1000);
	}

	reclaim_retire(RECLAIM_IMAGE, &counter, (uint64_t)(uintptr_t)win_lo,
		       (uint64_t)(uintptr_t)win_hi, free_image, NULL);
	EXPECT_EQ(1, reclaim_poll());
	EXPECT_EQ(1, reclaim_poll());
	EXPECT_EQ(0, freed);

	/* The handler returns into the window; then the thread leaves. */
	ASSERT_EQ(1, write(handler_pipe[1], "x", 1));
	while (__atomic_load_n(&in_handler, __ATOMIC_ACQUIRE) != 2)
		usleep(1000);
	__atomic_store_n(&stay_entry, 0, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	EXPECT_EQ(0, reclaim_poll());
	EXPECT_EQ(1, freed);
	close(handler_pipe[0]);
	close(handler_pipe[1]);
	close(dfd);
}

/*
 * ftramp_sync() waits for every entry retired before it, not only the
 * newest one, and says what it still waits for.
 */
TEST(sync_waits_for_every_entry_and_names_them)
{
	uint64_t stuck = 2;

	memset(frees, 0, sizeof(frees));
	ASSERT_EQ(0, ftramp_sync(10000));
	EXPECT_STREQ("", ftramp_error_detail());
	reclaim_describe(reclaim_retire(RECLAIM_IMAGE, &stuck, 0x1000, 0x1100,
					count_free, (void *)0), 0x1234, 1);
	reclaim_retire(RECLAIM_MARK, NULL, 0x2000, 0x2004, NULL, NULL);
	EXPECT_EQ(-ETIMEDOUT, ftramp_sync(50));
	EXPECT_EQ(0, frees[0]);
	EXPECT_STREQ("reclaim: 1 pinned (image of 0x1234: 2 frames)",
		     ftramp_error_detail());
	__atomic_store_n(&stuck, 0, __ATOMIC_RELEASE);
	EXPECT_EQ(0, ftramp_sync(10000));
	EXPECT_EQ(1, frees[0]);
	EXPECT_STREQ("", ftramp_error_detail());
}

/* ------------------------------------------------------------------
 * A limit: a handler left by siglongjmp()
 * ------------------------------------------------------------------ */

static sigjmp_buf jump_env;
static volatile int jumped, stay_out, second_seen;

static void jumping_handler(int sig)
{
	(void)sig;
	siglongjmp(jump_env, 1);
}

static void plain_handler(int sig)
{
	(void)sig;
	second_seen = 1;
}

/* Interrupted in the window by a handler that never returns there. */
static void *jumper(void *arg)
{
	(void)arg;
	if (!sigsetjmp(jump_env, 1))
		win_spin(&stay_entry, &ack, ACK_ENTRY);
	__atomic_store_n(&jumped, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&stay_out, __ATOMIC_ACQUIRE))
		;
	return NULL;
}

/*
 * The wrapper recorded the window's PC when the handler started, and
 * the handler never returned: the record stays, so the image stays
 * pinned while the thread lives, though the thread is outside (a leak,
 * never a fault: Documentation/design.rst, "Limits").  A later handler
 * of the same thread does not clear it; the thread's exit does.
 */
TEST(siglongjmp_out_of_handler_pins_until_exit)
{
	struct sigaction sa;
	pthread_t th;

	reset();
	jumped = second_seen = 0;
	stay_out = 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = jumping_handler;
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	sa.sa_handler = plain_handler;
	ASSERT_EQ(0, sigaction(SIGUSR2, &sa, NULL));
	ASSERT_EQ(0, pthread_create(&th, NULL, jumper, NULL));
	wait_ack(ACK_ENTRY);
	ASSERT_EQ(0, pthread_kill(th, SIGUSR1));
	while (!__atomic_load_n(&jumped, __ATOMIC_ACQUIRE))
		usleep(1000);

	reclaim_retire(RECLAIM_IMAGE, &counter, (uint64_t)(uintptr_t)win_lo,
		       (uint64_t)(uintptr_t)win_hi, free_image, NULL);
	EXPECT_EQ(1, reclaim_poll());
	ASSERT_EQ(0, pthread_kill(th, SIGUSR2));
	while (!second_seen)
		usleep(1000);
	EXPECT_EQ(1, reclaim_poll());
	EXPECT_EQ(0, freed);

	__atomic_store_n(&stay_out, 0, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	EXPECT_EQ(0, reclaim_poll());
	EXPECT_EQ(1, freed);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
}

/*
 * A limit: after fork() a count held by a thread of the parent stays
 * held in the child, whose copy of that thread never runs: the entry is
 * never freed there (a leak, never a fault).
 */
TEST(fork_keeps_a_count_held_by_a_parent_thread)
{
	uint64_t held = 1;
	int status;
	pid_t pid;

	ASSERT_EQ(0, ftramp_sync(10000));
	reclaim_retire(RECLAIM_COPS, &held, 0, 0, NULL, NULL);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct ftramp_pinned pin = { .sz = sizeof(pin) };

		_exit(ftramp_sync(100) == -ETIMEDOUT &&
		      ftramp_reclaim__pinned(&pin, 1) == 1 &&
		      pin.frames == 1 ? 0 : 1);
	}
	/* The parent's thread leaves: freed here, not there. */
	__atomic_store_n(&held, 0, __ATOMIC_RELEASE);
	EXPECT_EQ(0, ftramp_sync(10000));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* ------------------------------------------------------------------
 * The program's signal masks (lib/signal.c)
 * ------------------------------------------------------------------ */

static volatile int masked_go;
static pid_t masked_tid;
static int masked_view;		/* bit per check of its own mask that held */

static bool blocked_now(int sig)
{
	sigset_t cur;

	return !pthread_sigmask(SIG_BLOCK, NULL, &cur) &&
	       sigismember(&cur, sig) == 1;
}

static bool really_blocked(int sig)
{
	sigset_t cur;

	return !thread_real_sigmask(SIG_BLOCK, NULL, &cur) &&
	       sigismember(&cur, sig) == 1;
}

/* Blocks everything the way programs do, and checks what it reads. */
static void *masked_spinner(void *arg)
{
	int sig = reclaim_scan_signal(), view = 0;
	sigset_t all, one, old;

	(void)arg;
	sigfillset(&all);
	sigemptyset(&one);
	sigaddset(&one, sig);
	view |= !pthread_sigmask(SIG_BLOCK, &all, NULL) << 0;
	view |= blocked_now(sig) << 1;
	view |= blocked_now(SIGUSR2) << 2;
	view |= !really_blocked(sig) << 3;
	view |= really_blocked(SIGUSR2) << 4;
	/* sigprocmask() and the old mask of a change say the same. */
	view |= (!sigprocmask(SIG_UNBLOCK, &one, &old) &&
		 sigismember(&old, sig) == 1) << 5;
	view |= !blocked_now(sig) << 6;
	view |= (!sigprocmask(SIG_SETMASK, &all, NULL) &&
		 blocked_now(sig)) << 7;
	__atomic_store_n(&masked_view, view, __ATOMIC_RELEASE);
	__atomic_store_n(&masked_tid, (pid_t)gettid(), __ATOMIC_RELEASE);
	while (!__atomic_load_n(&masked_go, __ATOMIC_ACQUIRE))
		;
	return NULL;
}

/* Make sure the scan signal is taken before a test reads it. */
static void scan_signal_ready(struct __test_metadata *_metadata)
{
	uint64_t seq = reclaim_retire(RECLAIM_MARK, NULL, 0x5000, 0x5004,
				      NULL, NULL);

	ASSERT_EQ(0, reclaim_wait_seq(seq, 10000));
	ASSERT_LT(0, reclaim_scan_signal());
}

/*
 * A running thread that blocks every signal through pthread_sigmask()
 * is still asked where it is (the scan signal stays open underneath),
 * and reads back exactly the mask it set.
 */
TEST(masked_thread_is_still_asked)
{
	struct ftramp_reclaim_stats a = { .sz = sizeof(a) }, b = { .sz = sizeof(b) };
	pthread_t th;
	uint64_t seq;

	scan_signal_ready(_metadata);
	masked_go = 0;
	masked_tid = 0;
	ASSERT_EQ(0, pthread_create(&th, NULL, masked_spinner, NULL));
	while (!__atomic_load_n(&masked_tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	EXPECT_EQ(0xff, masked_view);
	ASSERT_EQ(0, ftramp_reclaim__stats(&a));
	seq = reclaim_retire(RECLAIM_MARK, NULL, 0x5000, 0x5004, NULL, NULL);
	EXPECT_EQ(0, reclaim_wait_seq(seq, 10000));
	ASSERT_EQ(0, ftramp_reclaim__stats(&b));
	EXPECT_LT(0, b.scan_signals - a.scan_signals);
	EXPECT_EQ(0, b.unseen_tid);
	__atomic_store_n(&masked_go, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
}

static volatile int masked_handler_state;
static int masked_handler_view;

static void full_mask_handler(int sig, siginfo_t *si, void *uctx)
{
	ucontext_t *uc = uctx;
	int view = 0;

	(void)sig;
	(void)si;
	/* Its view: sa_mask (everything) blocked, ours included. */
	view |= blocked_now(reclaim_scan_signal()) << 0;
	view |= blocked_now(SIGUSR2) << 1;
	view |= !really_blocked(reclaim_scan_signal()) << 2;
	/* The interrupted mask, as the program set it. */
	view |= (sigismember(&uc->uc_sigmask, reclaim_scan_signal()) == 1)
		<< 3;
	masked_handler_view = view;
	__atomic_store_n(&masked_handler_state, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&masked_handler_state, __ATOMIC_ACQUIRE) == 1)
		;
}

static void *handler_host(void *arg)
{
	sigset_t one;

	(void)arg;
	sigemptyset(&one);
	sigaddset(&one, reclaim_scan_signal());
	pthread_sigmask(SIG_BLOCK, &one, NULL);
	__atomic_store_n(&masked_tid, (pid_t)gettid(), __ATOMIC_RELEASE);
	while (!__atomic_load_n(&masked_go, __ATOMIC_ACQUIRE))
		;
	/* Back from the handler: its view of the mask is as before. */
	masked_view = blocked_now(reclaim_scan_signal()) &&
		      !really_blocked(reclaim_scan_signal());
	return NULL;
}

/*
 * A handler of the program's installed with a full sa_mask that spins:
 * its thread still answers the scans.
 */
TEST(full_sa_mask_handler_is_still_asked)
{
	struct sigaction sa, old;
	pthread_t th;
	uint64_t seq;

	scan_signal_ready(_metadata);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = full_mask_handler;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR2, &sa, NULL));
	ASSERT_EQ(0, sigaction(SIGUSR2, NULL, &old));
	EXPECT_EQ(1, sigismember(&old.sa_mask, reclaim_scan_signal()));

	masked_go = 0;
	masked_tid = 0;
	masked_view = 0;
	masked_handler_state = 0;
	ASSERT_EQ(0, pthread_create(&th, NULL, handler_host, NULL));
	while (!__atomic_load_n(&masked_tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	ASSERT_EQ(0, pthread_kill(th, SIGUSR2));
	while (!__atomic_load_n(&masked_handler_state, __ATOMIC_ACQUIRE))
		usleep(1000);
	EXPECT_EQ(0xf, masked_handler_view);
	seq = reclaim_retire(RECLAIM_MARK, NULL, 0x5000, 0x5004, NULL, NULL);
	EXPECT_EQ(0, reclaim_wait_seq(seq, 10000));
	__atomic_store_n(&masked_handler_state, 2, __ATOMIC_RELEASE);
	__atomic_store_n(&masked_go, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	EXPECT_EQ(1, masked_view);
	signal(SIGUSR2, SIG_DFL);
}

/*
 * ftramp's handlers run on the thread's alternate signal stack when it
 * has one (SA_ONSTACK): a thread that overflowed its stack, or runs on a
 * small one, is still asked and parked.  Read from the kernel, behind
 * the program's view (which shows SIG_DFL).
 */
TEST(our_handlers_take_the_alternate_stack)
{
	struct sigaction cur;
	int sigs[2];

	ASSERT_EQ(0, reclaim_take_signals());
	sigs[0] = reclaim_scan_signal();
	sigs[1] = ftramp_sync_signal_number();
	for (int i = 0; i < 2; i++) {
		ASSERT_LT(0, sigs[i]);
		ASSERT_EQ(0, thread_real_sigaction(sigs[i], NULL, &cur));
		EXPECT_TRUE(cur.sa_flags & SA_SIGINFO);
		EXPECT_TRUE(cur.sa_flags & SA_ONSTACK);
		ASSERT_EQ(0, sigaction(sigs[i], NULL, &cur));
		EXPECT_TRUE(cur.sa_handler == SIG_DFL);
	}
}

/* ------------------------------------------------------------------
 * The remaining limit: a sleep entered between the look and the signal
 * ------------------------------------------------------------------ */

static int late_pipe[2];
static pid_t late_tid;
static volatile int late_step;	/* 0: spin; 1: poll; 2: poll again */
static int late_eintr, late_other, late_fired;

static int late_poll(void)
{
	struct pollfd p = { .fd = late_pipe[0], .events = POLLIN };
	int r = poll(&p, 1, -1);

	if (r < 0 && errno == EINTR)
		__atomic_add_fetch(&late_eintr, 1, __ATOMIC_RELAXED);
	else if (r < 0)
		__atomic_add_fetch(&late_other, 1, __ATOMIC_RELAXED);
	return r;
}

/*
 * Runs (a scan reads it R) until step 1, then polls the pipe with no
 * timeout.  Interrupted, it polls again only at step 2, when the test
 * knows no scan is under way: the second sleep is the control.
 */
static void *late_sleeper(void *arg)
{
	char c = 0;
	int r;

	(void)arg;
	__atomic_store_n(&late_tid, (pid_t)gettid(), __ATOMIC_RELEASE);
	while (__atomic_load_n(&late_step, __ATOMIC_ACQUIRE) < 1)
		;
	r = late_poll();
	if (r < 0) {
		while (__atomic_load_n(&late_step, __ATOMIC_ACQUIRE) < 2)
			;
		r = late_poll();
	}
	if (r != 1 || read(late_pipe[0], &c, 1) != 1)
		return (void *)(intptr_t)-1;
	return (void *)(intptr_t)c;
}

/* The scan has read it running and is about to signal it: it sleeps. */
static void late_enter_poll(pid_t tid)
{
	if (tid != __atomic_load_n(&late_tid, __ATOMIC_ACQUIRE) ||
	    late_fired)
		return;		/* later asks find it spinning */
	late_fired = 1;
	__atomic_store_n(&late_step, 1, __ATOMIC_RELEASE);
	wait_asleep(late_tid);
}

static void late_reset(void)
{
	late_tid = 0;
	late_step = 0;
	late_eintr = late_other = late_fired = 0;
	if (pipe(late_pipe))
		abort();
}

/* Scans until the mark is reclaimed (an unanswered ask defers it). */
static int late_reclaim(void)
{
	reclaim_retire(RECLAIM_MARK, NULL, 0x4000, 0x4004, NULL, NULL);
	for (int i = 0; i < 1000; i++)
		if (!reclaim_poll())
			return 0;
	return -1;
}

/*
 * design.rst, "Limits": a thread read as running (R) when a scan looks
 * at it is asked; if it enters poll() between the look and the signal,
 * that poll() returns EINTR, once.  The hook puts it there exactly; the
 * program is otherwise unaffected (its next poll() sleeps through later
 * scans and returns the pipe's byte).  The control: the same thread
 * asleep in poll() before the scan looks is not signalled.
 */
TEST(sleep_entered_after_the_look_sees_one_eintr)
{
	struct ftramp_reclaim_stats a = { .sz = sizeof(a) }, b = { .sz = sizeof(b) };
	pthread_t th;
	void *ret;

	late_reset();
	ASSERT_EQ(0, pthread_create(&th, NULL, late_sleeper, NULL));
	while (!__atomic_load_n(&late_tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	ASSERT_EQ(0, ftramp_reclaim__stats(&a));
	reclaim_set_ask_hook(late_enter_poll);
	EXPECT_EQ(0, late_reclaim());
	reclaim_set_ask_hook(NULL);
	ASSERT_EQ(0, ftramp_reclaim__stats(&b));
	EXPECT_EQ(1, late_fired);
	EXPECT_EQ(1, __atomic_load_n(&late_eintr, __ATOMIC_ACQUIRE));
	EXPECT_LT(a.scan_signals, b.scan_signals);

	/* Asleep again, through another reclamation: no second EINTR. */
	__atomic_store_n(&late_step, 2, __ATOMIC_RELEASE);
	wait_asleep(late_tid);
	ASSERT_EQ(0, ftramp_reclaim__stats(&a));
	EXPECT_EQ(0, late_reclaim());
	ASSERT_EQ(0, ftramp_reclaim__stats(&b));
	EXPECT_LT(a.scan_quiet, b.scan_quiet);
	ASSERT_EQ(1, write(late_pipe[1], "x", 1));
	pthread_join(th, &ret);
	EXPECT_EQ('x', (int)(intptr_t)ret);
	EXPECT_EQ(1, late_eintr);
	EXPECT_EQ(0, late_other);
	close(late_pipe[0]);
	close(late_pipe[1]);

	/* Control: no hook, asleep before the look: no EINTR at all. */
	late_reset();
	late_step = 1;
	ASSERT_EQ(0, pthread_create(&th, NULL, late_sleeper, NULL));
	while (!__atomic_load_n(&late_tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	wait_asleep(late_tid);
	ASSERT_EQ(0, ftramp_reclaim__stats(&a));
	EXPECT_EQ(0, late_reclaim());
	ASSERT_EQ(0, ftramp_reclaim__stats(&b));
	EXPECT_LT(a.scan_quiet, b.scan_quiet);
	ASSERT_EQ(1, write(late_pipe[1], "y", 1));
	pthread_join(th, &ret);
	EXPECT_EQ('y', (int)(intptr_t)ret);
	EXPECT_EQ(0, late_eintr);
	EXPECT_EQ(0, late_other);
	EXPECT_EQ(0, late_fired);
	close(late_pipe[0]);
	close(late_pipe[1]);
}

/*
 * ftrace_sync_cores() uses the method the patching layer chose: a
 * membarrier while that is the method, a signal round (a scan) once a
 * test or the probe chose the signal fallback.  One choice for both.
 */
TEST(sync_cores_follows_the_patching_method)
{
	struct ftramp_reclaim_stats a = { .sz = sizeof(a) };
	struct ftramp_reclaim_stats b = { .sz = sizeof(b) };
	enum ftramp_sync_method m = ftramp_patch_sync_method();

	if (m != FTRAMP_SYNC_MEMBARRIER_SYNC_CORE &&
	    m != FTRAMP_SYNC_MEMBARRIER_EXPEDITED)
		SKIP(return, "no membarrier here (method %d)", m);
	ASSERT_EQ(0, ftramp_reclaim__stats(&a));
	ASSERT_EQ(0, ftrace_sync_cores());
	ASSERT_EQ(0, ftramp_reclaim__stats(&b));
	EXPECT_EQ(a.scans, b.scans);		/* the membarrier did it */
	if (ftramp_patch_set_sync_method(FTRAMP_SYNC_SIGNAL))
		SKIP(return, "the signal fallback cannot be installed");
	ASSERT_EQ(0, ftrace_sync_cores());
	ASSERT_EQ(0, ftramp_reclaim__stats(&a));
	EXPECT_EQ(b.scans + 1, a.scans);	/* a signal round */
	ASSERT_EQ(0, ftramp_patch_set_sync_method(m));
	ASSERT_EQ(0, ftrace_sync_cores());
	ASSERT_EQ(0, ftramp_reclaim__stats(&b));
	EXPECT_EQ(a.scans, b.scans);
}

TEST_HARNESS_MAIN
