// SPDX-License-Identifier: MIT
/*
 * cancel_prog: threads that leave traced functions by pthread_cancel()
 * and pthread_exit(), for ftramp run (selftests/cli_cancel.sh).
 *
 *   cancel_prog cancel|exit N [v]
 *
 * N threads, one after the other.  Each pushes a cleanup handler, then
 * calls cx_hold(), which pushes one that unlocks a mutex, locks it and
 * calls cx_wait() (blocks in read() until main cancels the thread) or
 * cx_leave() (calls pthread_exit()).  With "v" the same through the
 * variadic cx_vhold(), cx_vwait() and cx_vleave(): the unknown model,
 * traced with a return hook.  Built twice (selftests/unwind.mk): with
 * DWARF, and without debug information (every function on the unknown
 * model).  Plain C: glibc runs C cleanup handlers by a forced unwind that
 * passes the traced frames, then longjmp()s into the frame that pushed
 * the handler.
 *
 * Prints per thread what ended it, the cleanups that ran and whether the
 * mutex is free afterwards; exit status 0 when all is as it should be,
 * else 1.  Traced or not, the output must be the same.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct job {
	pthread_mutex_t *m;
	int fd;			/* cx_wait() blocks reading it */
	int leave;		/* pthread_exit() instead */
	int variadic;
	int cleanups;		/* handlers run, each adds its bit */
};

long cx_wait(int fd);
long cx_leave(long x);
long cx_hold(struct job *j);
long cx_vwait(int fd, ...);
long cx_vleave(long x, ...);
long cx_vhold(struct job *j, ...);

__attribute__((noinline)) long cx_wait(int fd)
{
	char c;

	/* A cancellation point with nothing ever to read. */
	return read(fd, &c, 1);
}

__attribute__((noinline)) long cx_leave(long x)
{
	pthread_exit((void *)x);
}

__attribute__((noinline)) long cx_vwait(int fd, ...)
{
	char c;

	return read(fd, &c, 1);
}

__attribute__((noinline)) long cx_vleave(long x, ...)
{
	va_list ap;
	long y;

	va_start(ap, x);
	y = va_arg(ap, long);
	va_end(ap);
	pthread_exit((void *)(x + y));
}

static void unlock_cleanup(void *p)
{
	struct job *j = p;

	j->cleanups |= 1;
	pthread_mutex_unlock(j->m);
}

static void outer_cleanup(void *p)
{
	struct job *j = p;

	j->cleanups |= 2;
}

/* Holds the mutex across a call that never returns. */
__attribute__((noinline)) long cx_hold(struct job *j)
{
	long r;

	pthread_cleanup_push(unlock_cleanup, j);
	pthread_mutex_lock(j->m);
	r = j->leave ? cx_leave(1) : cx_wait(j->fd);
	pthread_cleanup_pop(1);
	return r;
}

__attribute__((noinline)) long cx_vhold(struct job *j, ...)
{
	long r;

	pthread_cleanup_push(unlock_cleanup, j);
	pthread_mutex_lock(j->m);
	r = j->leave ? cx_vleave(1, 0L) : cx_vwait(j->fd, 0L);
	pthread_cleanup_pop(1);
	return r;
}

static void *thread_main(void *p)
{
	struct job *j = p;

	pthread_cleanup_push(outer_cleanup, j);
	if (j->variadic)
		cx_vhold(j, 0L);
	else
		cx_hold(j);
	pthread_cleanup_pop(0);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	int n, i, bad = 0;
	int leave;

	if (argc < 3 || (strcmp(argv[1], "cancel") && strcmp(argv[1], "exit"))) {
		fprintf(stderr, "usage: cancel_prog cancel|exit N [v]\n");
		return 2;
	}
	leave = !strcmp(argv[1], "exit");
	n = atoi(argv[2]);
	for (i = 0; i < n; i++) {
		struct job j = { .m = &m, .leave = leave,
				 .variadic = argc > 3 && !strcmp(argv[3], "v") };
		int pfd[2], is_free;
		pthread_t th;
		void *ret;

		if (pipe(pfd))
			return 2;
		j.fd = pfd[0];
		if (pthread_create(&th, NULL, thread_main, &j))
			return 2;
		/* Acted on at read(), whenever the thread gets there. */
		if (!leave && pthread_cancel(th))
			return 2;
		if (pthread_join(th, &ret))
			return 2;
		is_free = !pthread_mutex_trylock(&m);
		if (is_free)
			pthread_mutex_unlock(&m);
		printf("thread %d: %s, cleanups %d, mutex %s\n", i,
		       ret == PTHREAD_CANCELED ? "cancelled" :
		       ret == (void *)1 ? "exited" : "returned",
		       j.cleanups, is_free ? "free" : "LOCKED");
		bad |= !is_free || j.cleanups != 3 ||
		       ret != (leave ? (void *)1 : PTHREAD_CANCELED);
		close(pfd[0]);
		close(pfd[1]);
	}
	printf("%d threads, %s\n", n, bad ? "WRONG" : "all as expected");
	return bad;
}
