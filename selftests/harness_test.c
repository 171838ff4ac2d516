// SPDX-License-Identifier: MIT
/*
 * The harness checks itself: expectations, fixtures with variants, signals
 * and exit codes.  Failures here are reported by running a nested copy of
 * the harness (see "meta" tests) and inspecting its output.
 */
#include "harness.h"

TEST(expect_eq_passes)
{
	EXPECT_EQ(4, 2 + 2);
	EXPECT_STREQ("abc", "abc");
	EXPECT_NE((void *)0, (void *)&_metadata);
}

TEST_SIGNAL(null_deref_is_sigsegv, SIGSEGV)
{
	/* Through a volatile pointer: GCC warns (-Warray-bounds) on a constant. */
	int *volatile p = (int *)8;

	*p = 1;
}

TEST_SIGNAL(abort_is_sigabrt, SIGABRT)
{
	abort();
}

TEST_EXIT_CODE(exit_code_is_checked, 3)
{
	exit(3);
}

FIXTURE(counter) {
	int value;
};

FIXTURE_VARIANT(counter) {
	int start;
};

FIXTURE_VARIANT_ADD(counter, from_zero) { .start = 0 };
FIXTURE_VARIANT_ADD(counter, from_ten) { .start = 10 };

FIXTURE_SETUP(counter)
{
	self->value = variant->start;
}

FIXTURE_TEARDOWN(counter)
{
}

TEST_F(counter, increments)
{
	self->value++;
	EXPECT_EQ(variant->start + 1, self->value);
}

/*
 * The harness's failure paths, seen from outside: a forked copy of this
 * process runs the harness again on the meta tests (which only a nested
 * run lists), its output read through a pipe.  No exec: the same code in
 * the host build and under qemu-user.
 */
static int run_nested(const char *filter, char *out, size_t n)
{
	char *argv[] = { "harness_test", "-t", (char *)filter, NULL };
	size_t got = 0;
	int pfd[2], status;
	pid_t pid;

	if (pipe(pfd))
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		close(pfd[0]);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[1]);
		setenv("FTRAMP_HARNESS_NESTED", "1", 1);
		setenv("FTRAMP_TEST_KILL_GRACE", "1", 1);
		unsetenv("FTRAMP_TEST_TIMEOUT");
		_exit(__th_main(3, argv));
	}
	close(pfd[1]);
	for (;;) {
		ssize_t r = read(pfd[0], out + got, n - 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || (got += (size_t)r) == n - 1)
			break;
	}
	out[got] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

TEST(nested_failures_are_reported)
{
	char out[16384];
	int status = run_nested("meta_", out, sizeof(out));

	ASSERT_NE(-1, status);
	/* The nested TAP, as diagnostics: never a result of this run. */
	for (char *l = out, *e; *l; l = e + !!*e) {
		e = strchrnul(l, '\n');
		fprintf(stderr, "#   %.*s\n", (int)(e - l), l);
	}
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == KSFT_FAIL);
	EXPECT_TRUE(strstr(out, "not ok 1 meta_expect_fails") != NULL);
	EXPECT_TRUE(strstr(out, "Expected 1 (1 (0x1)) == 2 (2 (0x2))") != NULL);
	EXPECT_TRUE(strstr(out, "not ok 2 meta_assert_stops") != NULL);
	EXPECT_TRUE(strstr(out, "after-assert") == NULL);
	EXPECT_TRUE(strstr(out, "ok 3 meta_skip # SKIP because") != NULL);
	EXPECT_TRUE(strstr(out, "meta_alarm_blocked: still running 1 s after "
			   "its 1 s timeout: killed") != NULL);
	EXPECT_TRUE(strstr(out, "not ok 4 meta_alarm_blocked") != NULL);
	EXPECT_TRUE(strstr(out, "ok 5 meta_leftover_child_holds_pipe\n") != NULL);
	EXPECT_TRUE(strstr(out, "meta_timeout_signal: killed by signal 14") != NULL);
	EXPECT_TRUE(strstr(out, "not ok 6 meta_timeout_signal") != NULL);
	EXPECT_TRUE(strstr(out, "pass:1 fail:4 xfail:0 xpass:0 skip:1") != NULL);
}

/* Only the nested run lists the tests below (TEST_META). */
TEST_META(meta_expect_fails, 10)
{
	EXPECT_EQ(1, 2);
}

TEST_META(meta_assert_stops, 10)
{
	ASSERT_EQ(1, 0);
	fprintf(stderr, "after-assert\n");
}

TEST_META(meta_skip, 10)
{
	SKIP(return, "because");
}

/*
 * A child whose own alarm cannot fire: the parent's deadline kills it
 * (and the grandchild it forked, asleep in the same group).
 */
TEST_META(meta_alarm_blocked, 1)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (!fork())
		pause();
	for (;;)
		pause();
}

/* A test passes while what it forked still holds the skip-reason pipe. */
TEST_META(meta_leftover_child_holds_pipe, 10)
{
	if (!fork())
		pause();	/* killed with the group when the test ends */
	EXPECT_EQ(1, 1);
}

/* The ordinary timeout: the child's own alarm. */
TEST_META(meta_timeout_signal, 1)
{
	for (;;)
		pause();
}

TEST_HARNESS_MAIN
