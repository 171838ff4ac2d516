// SPDX-License-Identifier: MIT
/*
 * Library-wide helpers: the version string and ftramp_strerror().
 */
#include <ftramp/ftramp.h>

#include "harness.h"

TEST(version_is_the_build_version)
{
	EXPECT_STREQ(FTRAMP_VERSION, ftramp_version());
}

TEST(strerror_gives_ftramp_meanings)
{
	char buf[128];

	ASSERT_EQ(0, ftramp_strerror(-EFAULT, buf, sizeof(buf)));
	EXPECT_TRUE(strstr(buf, "changed behind its back") != NULL);
	/* Positive and negative values mean the same. */
	ASSERT_EQ(0, ftramp_strerror(ERANGE, buf, sizeof(buf)));
	EXPECT_STREQ("branch target out of range", buf);
}

TEST(strerror_falls_back_to_libc)
{
	char buf[128];

	ASSERT_EQ(0, ftramp_strerror(-ENOMEM, buf, sizeof(buf)));
	EXPECT_STREQ(strerror(ENOMEM), buf);
}

TEST(strerror_truncates_and_refuses_no_buffer)
{
	char buf[8];

	EXPECT_EQ(-EINVAL, ftramp_strerror(-EFAULT, NULL, 16));
	EXPECT_EQ(-EINVAL, ftramp_strerror(-EFAULT, buf, 0));
	ASSERT_EQ(0, ftramp_strerror(-EFAULT, buf, sizeof(buf)));
	EXPECT_EQ(sizeof(buf) - 1, strlen(buf));
}

TEST_HARNESS_MAIN
