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

/* An ASSERT failure must stop the test and still run teardown. */
static int run_nested(const char *filter, char *out, size_t n)
{
	char cmd[1024], self[512];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	FILE *p;
	size_t got;

	if (len < 0)
		return -1;
	self[len] = '\0';
	snprintf(cmd, sizeof(cmd), "FTRAMP_HARNESS_NESTED=1 %s -t %s 2>&1",
		 self, filter);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	got = fread(out, 1, n - 1, p);
	out[got] = '\0';
	return pclose(p);
}

TEST(nested_failures_are_reported)
{
	char out[8192];

	if (getenv("FTRAMP_HARNESS_NESTED"))
		SKIP(return, "nested run");
#ifndef FTRAMP_HOST_TEST
	/* A guest cannot exec another arm64 binary (DESIGN.md section 6). */
	SKIP(return, "re-exec runs in the host build only");
#endif
	ASSERT_NE(-1, run_nested("meta_", out, sizeof(out)));
	EXPECT_TRUE(strstr(out, "not ok 1 meta_expect_fails") != NULL);
	EXPECT_TRUE(strstr(out, "Expected 1 (1 (0x1)) == 2 (2 (0x2))") != NULL);
	EXPECT_TRUE(strstr(out, "not ok 2 meta_assert_stops") != NULL);
	EXPECT_TRUE(strstr(out, "after-assert") == NULL);
	EXPECT_TRUE(strstr(out, "ok 3 meta_skip # SKIP because") != NULL);
	EXPECT_TRUE(strstr(out, "pass:0 fail:2") != NULL);
}

TEST(meta_expect_fails)
{
	if (!getenv("FTRAMP_HARNESS_NESTED"))
		SKIP(return, "runs only inside nested_failures_are_reported");
	EXPECT_EQ(1, 2);
}

TEST(meta_assert_stops)
{
	if (!getenv("FTRAMP_HARNESS_NESTED"))
		SKIP(return, "runs only inside nested_failures_are_reported");
	ASSERT_EQ(1, 0);
	fprintf(stderr, "after-assert\n");
}

TEST(meta_skip)
{
	if (!getenv("FTRAMP_HARNESS_NESTED"))
		SKIP(return, "runs only inside nested_failures_are_reported");
	SKIP(return, "because");
}

TEST_HARNESS_MAIN
