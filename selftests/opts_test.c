// SPDX-License-Identifier: MIT
/*
 * The sized structs of the public API, one rule for all (lib/opts.h):
 * for options (parse, attach, DWARF), a newer caller's larger struct is
 * refused with -EINVAL when a byte beyond what the library knows is set
 * and accepted when they are all zero, and an older caller's smaller
 * struct is accepted with the fields it lacks read as zero (never read
 * from its memory).  For results (site info, reclamation stats, pinned
 * objects), only the caller's sz bytes are written.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ftramp/ftramp.h>

#include "selftests/harness.h"
#include "selftests/site_bytes.h"

int op_add(int a, int b);
TRACEE int op_add(int a, int b) { return a + b; }

static uint64_t last_cookie;

static uint64_t prog(const uint64_t *ctx)
{
	last_cookie = ftramp_get_attach_cookie(ctx);
	return 0;
}

/* A caller built against a header one u64 newer. */
#define NEWER(type)	struct { struct type o; uint64_t tail; }

TEST(parse_opts)
{
	struct ftramp_parse_error perr;
	struct ftramp_func_model m;
	NEWER(ftramp_parse_opts) big;
	struct ftramp_parse_opts old;
	char name[16];

	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.o.name = name;
	big.o.name_sz = sizeof(name);
	big.tail = 1;
	name[0] = 'X';
	EXPECT_EQ(-EINVAL, ftramp_model__parse_opts("int f(int)", &m, &big.o));
	EXPECT_EQ('X', name[0]);
	big.tail = 0;
	EXPECT_EQ(0, ftramp_model__parse_opts("int f(int)", &m, &big.o));
	EXPECT_STREQ("f", name);

	/* Older: sz and err only; name and name_sz hold garbage. */
	memset(&old, 0, sizeof(old));
	old.sz = offsetof(struct ftramp_parse_opts, name);
	old.err = &perr;
	old.name = name;
	old.name_sz = sizeof(name);
	name[0] = 'X';
	EXPECT_EQ(0, ftramp_model__parse_opts("int g(int)", &m, &old));
	EXPECT_EQ('X', name[0]);
	EXPECT_EQ(-EINVAL, ftramp_model__parse_opts("int (", &m, &old));
	EXPECT_NE(0, perr.col);

	old.sz = sizeof(size_t) - 1;
	EXPECT_EQ(-EINVAL, ftramp_model__parse_opts("int g(int)", &m, &old));
}

TEST(attach_opts)
{
	NEWER(ftramp_attach_opts) big;
	struct ftramp_attach_opts old;
	struct ftramp_link *l;

	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.o.no_dwarf = true;
	big.o.cookie = 1;
	big.tail = 0x100;
	errno = 0;
	EXPECT_EQ(NULL, ftramp_attach("op_add", FTRAMP_FENTRY, prog, &big.o));
	EXPECT_EQ(EINVAL, errno);

	big.tail = 0;
	l = ftramp_attach("op_add", FTRAMP_FENTRY, prog, &big.o);
	ASSERT_NE(NULL, l);
	last_cookie = 0;
	EXPECT_EQ(5, op_add(2, 3));
	EXPECT_EQ(1, last_cookie);
	EXPECT_EQ(0, ftramp_link__destroy(l));

	/*
	 * Older: sz and cookie only.  Behind them, an addr that would make
	 * the call ambiguous (func and addr) if it were read.
	 */
	memset(&old, 0, sizeof(old));
	old.sz = offsetof(struct ftramp_attach_opts, model);
	old.cookie = 2;
	old.addr = (uint64_t)(uintptr_t)op_add;
	l = ftramp_attach("op_add", FTRAMP_FENTRY, prog, &old);
	ASSERT_NE(NULL, l);
	last_cookie = 0;
	EXPECT_EQ(7, op_add(3, 4));
	EXPECT_EQ(2, last_cookie);
	EXPECT_EQ(0, ftramp_link__destroy(l));
}

TEST(dwarf_opts)
{
	char names[FTRAMP_MAX_ARGS][FTRAMP_PARAM_NAME_MAX];
	NEWER(ftramp_dwarf_opts) big;
	struct ftramp_dwarf_opts old;
	struct ftramp_func_model m;

	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.tail = 1ull << 63;
	EXPECT_EQ(-EINVAL, ftramp_model__from_dwarf("op_add", &m, &big.o));
	big.tail = 0;
	big.o.param_names = names;
	ASSERT_EQ(0, ftramp_model__from_dwarf("op_add", &m, &big.o));
	EXPECT_EQ(2, m.nr_args);
	EXPECT_STREQ("a", names[0]);

	/* Older: sz and addr; param_names behind them is not written. */
	memset(&old, 0, sizeof(old));
	old.sz = offsetof(struct ftramp_dwarf_opts, param_names);
	old.addr = (uint64_t)(uintptr_t)op_add;
	old.param_names = names;
	names[0][0] = 'X';
	ASSERT_EQ(0, ftramp_model__from_dwarf(NULL, &m, &old));
	EXPECT_EQ(2, m.nr_args);
	EXPECT_EQ('X', names[0][0]);
}

/* Results: the caller's sz bytes are written, not one more. */
TEST(result_structs)
{
	NEWER(ftramp_reclaim_stats) big;
	struct ftramp_reclaim_stats old;
	NEWER(ftramp_site_info) info;
	const struct ftramp_site *s;

	memset(&big, 0xa5, sizeof(big));
	big.o.sz = sizeof(big);
	EXPECT_EQ(0, ftramp_reclaim__stats(&big.o));
	EXPECT_EQ(sizeof(big), big.o.sz);
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ull, big.tail);
	EXPECT_NE(0xa5a5a5a5a5a5a5a5ull, big.o.images_alloc);

	memset(&old, 0xa5, sizeof(old));
	old.sz = offsetof(struct ftramp_reclaim_stats, images_freed);
	EXPECT_EQ(0, ftramp_reclaim__stats(&old));
	EXPECT_NE(0xa5a5a5a5a5a5a5a5ull, old.images_alloc);
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ull, old.images_freed);
	old.sz = 4;
	EXPECT_EQ(-EINVAL, ftramp_reclaim__stats(&old));

	s = ftramp_sites__find_name(ftramp_sites__get(), "op_add");
	ASSERT_NE(NULL, s);
	memset(&info, 0xa5, sizeof(info));
	info.o.sz = sizeof(info);
	EXPECT_EQ(0, ftramp_site__info(s, &info.o));
	EXPECT_EQ((uint64_t)(uintptr_t)op_add, info.o.func);
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ull, info.tail);
	/* Shorter than the name: not a site info this library made. */
	info.o.sz = offsetof(struct ftramp_site_info, name);
	EXPECT_EQ(-EINVAL, ftramp_site__info(s, &info.o));
}

TEST_HARNESS_MAIN
