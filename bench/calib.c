// SPDX-License-Identifier: MIT
/*
 * calib: proves the counting plugin before any number is trusted.
 *
 * Each window runs code whose instruction count is known by construction;
 * the program prints what it expects and bench/report.sh fails the run when
 * the plugin disagrees by even one instruction.  The same windows also
 * check the syscall counters.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mark.h"
#include "report.h"

/* n iterations of a 2-instruction loop after one MOV: 2n + 1 instructions. */
#define LOOP(n)								\
	__asm__ __volatile__("mov	x0, #" #n "\n"			\
			     "1:	subs	x0, x0, #1\n"		\
			     "	b.ne	1b"				\
			     ::: "x0", "cc", "memory")

int main(void)
{
	static char page[1 << 16] __attribute__((aligned(1 << 16)));

	bench_start();
	bench_stop();
	bench_expect("calib.empty", 1, 0);

	bench_start();
	LOOP(1000);
	bench_stop();
	bench_expect("calib.loop1000", 1000, 2001);

	bench_start();
	LOOP(1);
	LOOP(1);
	LOOP(1);
	bench_stop();
	bench_expect("calib.loop1x3", 3, 9);

	/* A raw SVC: the plugin must count exactly one system call. */
	bench_start();
	__asm__ __volatile__("mov	x8, %0\n"
			     "svc	#0"
			     :: "i"(SYS_getppid) : "x0", "x8", "memory");
	bench_stop();
	bench_expect_sys("calib.svc", 1, 2, 1, 0, 0);

	bench_start();
	mprotect(page, sizeof(page), PROT_READ);
	mprotect(page, sizeof(page), PROT_READ | PROT_WRITE);
	bench_stop();
	bench_expect_sys("calib.mprotect", 2, -1, 2, 2, 0);
	return 0;
}
