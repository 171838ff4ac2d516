/* SPDX-License-Identifier: MIT */
/*
 * Run a function that is expected to die in a forked child (several per
 * test, unlike TEST_SIGNAL), without leaving a core file behind.
 */
#ifndef FTRAMP_SELFTESTS_CHILD_SIGNAL_H
#define FTRAMP_SELFTESTS_CHILD_SIGNAL_H

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* Run fn(arg) in a child; its terminating signal, 0 if it exited, -1. */
static inline int child_signal(void (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid) {
		struct rlimit no_core = { 0, 0 };

		setrlimit(RLIMIT_CORE, &no_core);
		fn(arg);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

#endif /* FTRAMP_SELFTESTS_CHILD_SIGNAL_H */
