// SPDX-License-Identifier: MIT
/*
 * jump_prog: traced functions left by longjmp() and by siglongjmp() out
 * of a signal handler, for ftramp run (selftests/cli_run.sh).
 *   jump_prog N	N longjmps out of jump_leave, N siglongjmps out of
 *			jump_raise's handler, then ordinary calls; prints
 *			what it counted, the same traced or not
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static jmp_buf jb;
static sigjmp_buf sjb;

long jump_inner(long x);
long jump_leave(long x);
long jump_raise(long x);
long jump_done(long x);

__attribute__((noinline)) long jump_inner(long x)
{
	return x * 2;
}

/* Calls a traced function, then never returns. */
__attribute__((noinline)) long jump_leave(long x)
{
	if (jump_inner(x) >= 0)
		longjmp(jb, 1);
	return x;
}

static void on_usr1(int sig)
{
	(void)sig;
	siglongjmp(sjb, 1);
}

__attribute__((noinline)) long jump_raise(long x)
{
	if (x >= 0)
		raise(SIGUSR1);
	return x;
}

__attribute__((noinline)) long jump_done(long x)
{
	return jump_inner(x) + 1;
}

int main(int argc, char **argv)
{
	volatile int n = argc > 1 ? atoi(argv[1]) : 10, left = 0, raised = 0;

	signal(SIGUSR1, on_usr1);
	for (volatile int i = 0; i < n; i++)
		if (!setjmp(jb))
			jump_leave(i);
		else
			left++;
	for (volatile int i = 0; i < n; i++)
		if (!sigsetjmp(sjb, 1))
			jump_raise(i);
		else
			raised++;
	printf("jump_prog: %d left, %d raised, done %ld\n", left, raised,
	       jump_done(20));
	return 0;
}
