// SPDX-License-Identifier: MIT
/*
 * The program selftests/cli_events.sh traces: what a traced process does
 * to its file descriptors, how it ends, and the processes it makes.
 *
 *	events_prog fds FILE	close every descriptor, open FILE (it gets
 *				a low number), write to it around traced calls
 *	events_prog crash	SIGSEGV inside ev_outer > ev_leaf_crash
 *	events_prog exit N	exit(N) inside ev_outer > ev_exit_deep
 *	events_prog spin	call ev_work 1000 times, print "ready PID" on
 *				stdout, call it until a signal ends it
 *	events_prog idle N	call ev_jump (it longjmp()s out) 4 times,
 *				ev_work N times and ev_nap (2 ms asleep)
 *				3 times, print "ready PID", then sleep
 *				until a signal ends it (60 s at most)
 *	events_prog fork	2 ev_jump, 3 calls, fork: the child makes
 *				1 ev_jump and 2 calls, the parent 1 more
 *				call after it waited
 *	events_prog forks N [C]	N children one after the other, C calls
 *				each (1)
 *	events_prog exec PROG ARGS...	one call, then exec PROG
 *	events_prog spawn PROG ARGS...	one call, posix_spawn() PROG, wait for
 *				it, one more call; its exit status
 *	events_prog fexec PROG ARGS...	one call, then fexecve() PROG
 *	events_prog env		one call, print LD_PRELOAD and the names of
 *				the FTRAMP_* variables it sees
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#define noinline __attribute__((noinline))

static volatile int sink;

int ev_work(int i);
void ev_nap(void);
void ev_jump(int i);
void ev_leaf_crash(int *p);
void ev_exit_deep(int code);
int ev_outer(const char *what, int code);

noinline int ev_work(int i)
{
	sink += i;
	return sink;
}

static jmp_buf jump_back;

/* Never returns: its calls leave through longjmp(), unwound. */
noinline void ev_jump(int i)
{
	sink += i;
	longjmp(jump_back, 1);
}

/* ev_jump() @n times. */
static noinline void jumps(int n)
{
	volatile int i = 0;

	setjmp(jump_back);
	if (i < n)
		ev_jump(i++);
}

noinline void ev_nap(void)
{
	struct timespec ts = { 0, 2000000 };

	/* at least 2 ms asleep, whatever a signal does to it */
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

noinline void ev_leaf_crash(int *p)
{
	*(volatile int *)p = 1;
}

noinline void ev_exit_deep(int code)
{
	ev_work(code);
	exit(code);
}

noinline int ev_outer(const char *what, int code)
{
	ev_work(1);
	if (!strcmp(what, "crash"))
		ev_leaf_crash((int *)(long)(code - code));
	if (!strcmp(what, "exit"))
		ev_exit_deep(code);
	return 0;
}

static int do_fds(const char *path)
{
	char line[64];
	int fd, i;

	for (fd = 0; fd < 1024; fd++)
		close(fd);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return 1;
	for (i = 0; i < 20; i++) {
		int n = snprintf(line, sizeof(line), "data %d\n", ev_work(i));

		if (write(fd, line, n) != n)
			return 1;
	}
	return close(fd) ? 1 : 0;
}

static int do_fork(void)
{
	int i, status;
	pid_t pid;

	/* every abandoned record is found by a later call's push */
	jumps(2);
	for (i = 0; i < 3; i++)
		ev_work(i);
	pid = fork();
	if (pid < 0)
		return 1;
	if (!pid) {
		jumps(1);
		ev_work(10);
		ev_work(11);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return 1;
	ev_work(4);
	return 0;
}

static int do_forks(int n, int calls)
{
	int i, j, status;
	pid_t pid;

	for (i = 0; i < n; i++) {
		pid = fork();
		if (pid < 0)
			return 1;
		if (!pid) {
			for (j = 0; j < calls; j++)
				ev_work(i);
			_exit(0);
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			return 1;
	}
	return 0;
}

extern char **environ;

static int do_spawn(char **argv)
{
	int status;
	pid_t pid;

	ev_work(1);
	fflush(stdout);
	errno = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
	if (errno) {
		perror(argv[0]);
		return 127;
	}
	if (waitpid(pid, &status, 0) != pid)
		return 126;
	ev_work(2);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int do_fexec(char **argv)
{
	int fd;

	ev_work(1);
	fflush(stdout);
	/* not O_CLOEXEC: the exec'd program (or qemu) opens it by its /proc name */
	fd = open(argv[0], O_RDONLY);
	if (fd < 0) {
		perror(argv[0]);
		return 127;
	}
	fexecve(fd, argv, environ);
	perror(argv[0]);
	return 127;
}

static int do_env(void)
{
	const char *pre = getenv("LD_PRELOAD");
	char **e;

	ev_work(7);
	printf("LD_PRELOAD=%s\n", pre ? pre : "(unset)");
	for (e = environ; *e; e++)
		if (!strncmp(*e, "FTRAMP_", 7))
			printf("%.*s\n", (int)strcspn(*e, "="), *e);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (!strcmp(mode, "fds") && argc > 2)
		return do_fds(argv[2]);
	if (!strcmp(mode, "crash"))
		return ev_outer("crash", 0);
	if (!strcmp(mode, "exit") && argc > 2)
		return ev_outer("exit", atoi(argv[2]));
	if (!strcmp(mode, "spin")) {
		int i;

		/* counted before the test is told: at least 1000 */
		for (i = 0; i < 1000; i++)
			ev_work(i);
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		for (;; i++)
			ev_work(i);
	}
	if (!strcmp(mode, "idle") && argc > 2) {
		int i, n = atoi(argv[2]);

		jumps(4);
		for (i = 0; i < n; i++)
			ev_work(i);
		for (i = 0; i < 3; i++)
			ev_nap();
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		/* no traced call from here on: the counts are final */
		sleep(60);
		return 1;
	}
	if (!strcmp(mode, "fork"))
		return do_fork();
	if (!strcmp(mode, "forks") && argc > 2)
		return do_forks(atoi(argv[2]), argc > 3 ? atoi(argv[3]) : 1);
	if (!strcmp(mode, "exec") && argc > 2) {
		ev_work(1);
		fflush(stdout);
		execv(argv[2], argv + 2);
		perror(argv[2]);
		return 127;
	}
	if (!strcmp(mode, "spawn") && argc > 2)
		return do_spawn(argv + 2);
	if (!strcmp(mode, "fexec") && argc > 2)
		return do_fexec(argv + 2);
	if (!strcmp(mode, "env"))
		return do_env();
	fprintf(stderr, "usage: events_prog fds FILE|crash|exit N|spin|idle N|fork|forks N|exec PROG...|spawn PROG...|fexec PROG...|env\n");
	return 2;
}
