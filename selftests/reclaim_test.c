// SPDX-License-Identifier: MIT
/*
 * The reclaimer's ordering (ftrace/reclaim.c: scan, read, scan), with a
 * stand-in for an image: a small piece of code ("the window") that a
 * helper thread spins in, and a counter the test moves by hand.  The
 * test hook stops reclaim_poll() between its steps so that the helper
 * can be put exactly where a real thread might be.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "ftrace/ftrace.h"
#include "ftrace/reclaim.h"
#include "selftests/harness.h"

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
static volatile int stay_entry, stay_prog, stay_tail, ack;
static volatile int freed, freed_in_tail;

static void wait_ack(int val)
{
	while (__atomic_load_n(&ack, __ATOMIC_ACQUIRE) != val)
		;
}

/* A thread through one traced call: entry window, program, exit window. */
static void *walker(void *arg)
{
	(void)arg;
	win_spin(&stay_entry, &ack, ACK_ENTRY);
	__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&ack, ACK_PROG, __ATOMIC_RELEASE);
	while (__atomic_load_n(&stay_prog, __ATOMIC_ACQUIRE))
		;
	__atomic_sub_fetch(&counter, 1, __ATOMIC_RELEASE);
	win_spin(&stay_tail, &ack, ACK_TAIL);
	__atomic_store_n(&ack, ACK_DONE, __ATOMIC_RELEASE);
	return NULL;
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
		break;
	case RECLAIM_PHASE_SCANNED:
		if (__atomic_load_n(&ack, __ATOMIC_ACQUIRE) != ACK_PROG)
			break;
		__atomic_store_n(&stay_prog, 0, __ATOMIC_RELEASE);
		wait_ack(ACK_TAIL);
		break;
	default:
		break;
	}
}

static void reset(void)
{
	counter = 0;
	stay_entry = stay_prog = stay_tail = 1;
	ack = 0;
	freed = freed_in_tail = 0;
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

	__atomic_store_n(&stay_prog, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&stay_tail, 0, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	EXPECT_EQ(0, reclaim_poll());
	EXPECT_EQ(1, freed);
}

TEST_HARNESS_MAIN
