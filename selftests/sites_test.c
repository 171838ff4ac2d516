// SPDX-License-Identifier: MIT
/*
 * The site table against the toolchains: every function gcc and clang
 * built with patchable entries is listed, exactly as `nm` sees it, with
 * the load bias applied; objects without the flags have none; malformed
 * records are listed unusable with their own reason; lookups by name,
 * address and glob; dlopen()/dlclose() seen through the hook and through
 * the loader counters; a 100k-site library for lookup speed.
 *
 * This binary is itself built with patchable entries (sites.mk), linked to
 * libsample-gcc.so; the other samples are dlopen()ed.
 */
#ifdef FTRAMP_FUZZ
/* libFuzzer entry (sites.mk builds it for the host): the ELF reader. */
#include <stddef.h>
#include <stdint.h>

#include "ftrace/elf_sites.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_sites *es;

	if (!elf_sites__read_mem(data, size, &es)) {
		for (size_t i = 0; i < es->nr_sites; i++)
			if (!es->sites[i].name || !es->sites[i].symbol)
				__builtin_trap();
		elf_sites__free(es);
	}
	return 0;
}
#else /* !FTRAMP_FUZZ */

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include <ftramp/ftramp.h>

#include "ftrace/elf_sites.h"
#include "ftrace/sites.h"
#include "harness.h"
#include "progs/sample.h"

#define LIB(x)		SAMPLE_DIR "/libsample-" x ".so"

/* ---------------------------------------------------------------------
 * `nm` as the reference
 */

struct nm_sym {
	char name[128];
	char type;
	uint64_t value, size;
};

/* Defined text symbols (T, t, W) of @path; returns how many, or -1. */
static int nm_text(const char *path, struct nm_sym *out, int max)
{
	char cmd[1024], line[512];
	FILE *p;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "%s -P --defined-only '%s'", SITES_NM, path);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		struct nm_sym s = { 0 };
		unsigned long long v = 0, sz = 0;

		if (sscanf(line, "%127s %c %llx %llx", s.name, &s.type, &v,
			   &sz) < 3)
			continue;
		if (s.type != 'T' && s.type != 't' && s.type != 'W')
			continue;
		s.value = v;
		s.size = sz;
		if (n < max)
			out[n] = s;
		n++;
	}
	if (pclose(p) != 0)
		return -1;
	return n;
}

static bool in_list(const struct nm_sym *v, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return true;
	return false;
}

#ifndef FTRAMP_HOST_TEST

/* A function of the executable: its site is named without "@object". */
__attribute__((noinline)) int sites_test_target(int x);
__attribute__((noinline)) int sites_test_target(int x)
{
	return x * 3;
}

static struct ftramp_site_info info_of(const struct ftramp_site *s)
{
	struct ftramp_site_info info = { .sz = sizeof(info) };

	if (ftramp_site__info(s, &info))
		memset(&info, 0, sizeof(info));
	return info;
}

struct collect {
	struct ftramp_site_info v[256];
	int n;
};

static int collect_cb(const struct ftramp_site *s, void *ctx)
{
	struct collect *c = ctx;

	if (c->n < 256)
		c->v[c->n] = info_of(s);
	c->n++;
	return 0;
}

FIXTURE(toolchain) {
	void *handle;
	const char *soname;
};

FIXTURE_VARIANT(toolchain) {
	const char *kind;	/* gcc, clang, bti */
	bool bti;
};

FIXTURE_VARIANT_ADD(toolchain, gcc) { .kind = "gcc" };
FIXTURE_VARIANT_ADD(toolchain, clang) { .kind = "clang" };
FIXTURE_VARIANT_ADD(toolchain, gcc_bti) { .kind = "bti", .bti = true };

FIXTURE_SETUP(toolchain)
{
	static char path[256];

	snprintf(path, sizeof(path), SAMPLE_DIR "/libsample-%s.so",
		 variant->kind);
	self->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!self->handle)
		TH_LOG("%s", dlerror());
	ASSERT_NE(NULL, self->handle);
	self->soname = strrchr(path, '/') + 1;
}

FIXTURE_TEARDOWN(toolchain)
{
	if (self->handle)
		dlclose(self->handle);
}

/*
 * The table for the object equals `nm`'s defined text symbols of the
 * objects the compiler built with patchable entries (crt code linked into
 * the library has none), at nm's address plus the load bias.
 */
TEST_F(toolchain, matches_nm)
{
	static struct nm_sym objs[128], lib[256];
	static struct collect c;
	char glob[128], path[256];
	int no = 0, nl, nf, expect = 0;

	for (int f = 0; f < 2; f++) {
		int k;

		snprintf(path, sizeof(path), SAMPLE_DIR "/%s/sample%s.o",
			 variant->kind, f ? "2" : "");
		k = nm_text(path, objs + no, 128 - no);
		if (k <= 0)
			TH_LOG("nm %s failed", path);
		ASSERT_LT(0, k);
		no += k;
	}
	snprintf(path, sizeof(path), SAMPLE_DIR "/%s", self->soname);
	nl = nm_text(path, lib, 256);
	ASSERT_LT(0, nl);

	ASSERT_NE(NULL, ftramp_sites__get());
	snprintf(glob, sizeof(glob), "*@%s", self->soname);
	c.n = 0;
	nf = ftramp_sites__find(ftramp_sites__get(), glob, collect_cb, &c);
	ASSERT_EQ(c.n, nf);
	ASSERT_LE(c.n, 256);

	for (int i = 0; i < nl; i++) {
		bool found = false, first = true;

		if (!in_list(objs, no, lib[i].name))
			continue;	/* crt code: must not be listed */
		/*
		 * Aliases (gcc's "f.localalias" for a recursive f under
		 * -fPIC) share one site, named by the preferred symbol.
		 */
		for (int k = 0; k < i; k++)
			if (lib[k].value == lib[i].value &&
			    in_list(objs, no, lib[k].name))
				first = false;
		expect += first;
		for (int j = 0; j < c.n; j++) {
			struct ftramp_site_info *s = &c.v[j];

			if (s->func - s->load_bias != lib[i].value)
				continue;
			found = true;
			if (strcmp(s->symbol, lib[i].name)) {
				/* An alias: the site bears the global name. */
				EXPECT_EQ('t', lib[i].type);
				EXPECT_NE(NULL, strstr(lib[i].name, s->symbol));
				continue;
			}
			if (s->status)
				TH_LOG("%s: %s", s->name, s->reason);
			EXPECT_EQ(FTRAMP_SITE_OK, s->status);
			EXPECT_EQ(lib[i].size, s->size);
			EXPECT_EQ(s->func - 8, s->literal);
			EXPECT_STREQ(self->soname, s->object_name);
			EXPECT_LE(s->text_start, s->literal);
			EXPECT_LE(s->patch + 8, s->text_end);
			/* Static functions only called directly get no BTI. */
			if (variant->bti && lib[i].type == 'T') {
				EXPECT_TRUE(s->flags & FTRAMP_SITE_F_BTI);
				EXPECT_EQ(s->func + 4, s->patch);
			} else {
				EXPECT_FALSE(s->flags & FTRAMP_SITE_F_BTI);
				EXPECT_EQ(s->func, s->patch);
			}
			EXPECT_EQ(lib[i].type == 't',
				  !!(s->flags & FTRAMP_SITE_F_LOCAL));
		}
		if (!found)
			TH_LOG("%s missing", lib[i].name);
		EXPECT_TRUE(found);
	}
	EXPECT_EQ(13, expect);	/* sample.h: 11, and two static helper()s */
	EXPECT_EQ(expect, c.n);
}

/* Addresses agree with the loader's, names with the documented scheme. */
TEST_F(toolchain, names_and_addresses)
{
	struct ftramp_sites *t = ftramp_sites__get();
	const struct ftramp_site *s, *h1, *h2;
	struct ftramp_site_info i;
	char name[128];

	ASSERT_NE(NULL, t);
	snprintf(name, sizeof(name), "sample_fib@%s", self->soname);
	s = ftramp_sites__find_name(t, name);
	ASSERT_NE(NULL, s);
	i = info_of(s);
	EXPECT_EQ((uint64_t)(uintptr_t)dlsym(self->handle, "sample_fib"),
		  i.func);
	EXPECT_STREQ("sample_fib", i.symbol);
	EXPECT_STREQ(name, i.name);
	EXPECT_STREQ(self->soname, strrchr(i.object, '/') + 1);

	/* Two static helper()s: both listed, qualified by source file. */
	snprintf(name, sizeof(name), "helper:sample.c@%s", self->soname);
	h1 = ftramp_sites__find_name(t, name);
	snprintf(name, sizeof(name), "helper:sample2.c@%s", self->soname);
	h2 = ftramp_sites__find_name(t, name);
	ASSERT_NE(NULL, h1);
	ASSERT_NE(NULL, h2);
	EXPECT_NE(info_of(h1).func, info_of(h2).func);
	snprintf(name, sizeof(name), "helper@%s", self->soname);
	EXPECT_EQ(NULL, ftramp_sites__find_name(t, name));
	EXPECT_EQ(ENOENT, errno);
}

/* ---------------------------------------------------------------------
 * The executable, objects without the flags, malformed records
 */

TEST(executable_sites_are_bare_names)
{
	struct ftramp_sites *t = ftramp_sites__get();
	const struct ftramp_site *s;
	struct ftramp_site_info i;

	ASSERT_NE(NULL, t);
	s = ftramp_sites__find_name(t, "sites_test_target");
	ASSERT_NE(NULL, s);
	i = info_of(s);
	EXPECT_EQ((uint64_t)(uintptr_t)sites_test_target, i.func);
	EXPECT_STREQ("", i.object_name);
	EXPECT_EQ(FTRAMP_SITE_OK, i.status);
	EXPECT_STREQ("usable", i.reason);
	EXPECT_EQ(i.func, i.patch);
	EXPECT_EQ(i.func - 8, i.literal);
	EXPECT_EQ(0, i.literal % 8);
	EXPECT_LE(i.text_start, i.literal);
	EXPECT_LT(i.func, i.text_end);
	/* libftramp itself is built without the flags: never a site. */
	EXPECT_EQ(NULL, ftramp_sites__find_addr(t,
			(uint64_t)(uintptr_t)ftramp_sites__find_name));
}

static int object_by_name(struct sites_object *o, void *ctx)
{
	const char **want = ctx;

	if (strcmp(o->name, want[0]))
		return 0;
	want[1] = (const char *)o;
	return 1;
}

TEST(object_without_flags_has_no_sites)
{
	struct ftramp_sites *t = ftramp_sites__get();
	void *h = dlopen(LIB("noflags"), RTLD_NOW | RTLD_LOCAL);
	const char *want[2] = { "libsample-noflags.so", NULL };
	struct sites_object *o;

	ASSERT_NE(NULL, t);
	ASSERT_NE(NULL, h);
	ASSERT_EQ(1, sites_for_each_object(t, object_by_name, want));
	o = (struct sites_object *)want[1];
	/* Read without error, and nothing in it. */
	EXPECT_EQ(0, o->err);
	EXPECT_EQ(0, o->nr_sites);
	EXPECT_EQ(0, ftramp_sites__find(t, "*@libsample-noflags.so",
					collect_cb, &(struct collect){ 0 }));
	EXPECT_NE(NULL, dlsym(h, "sample_add"));
	dlclose(h);
}

static const struct {
	const char *name;
	int status;
} bad_sites[] = {
	{ "bad_good_asm@libsample-bad.so",	  FTRAMP_SITE_OK },
	{ "bad_entry@libsample-bad.so",		  FTRAMP_SITE_BAD_ENTRY },
	{ "bad_pre@libsample-bad.so",		  FTRAMP_SITE_BAD_LITERAL },
	{ "bad_misaligned@libsample-bad.so",	  FTRAMP_SITE_BAD_ALIGN },
	{ "bad_nosym_host+0x10@libsample-bad.so", FTRAMP_SITE_NO_SYMBOL },
	{ "bad_small@libsample-bad.so",		  FTRAMP_SITE_TOO_SMALL },
	{ "bad_dup@libsample-bad.so",		  FTRAMP_SITE_DUPLICATE },
	{ "bad_data@libsample-bad.so",		  FTRAMP_SITE_NOT_TEXT },
	{ "bad_overlap_a@libsample-bad.so",	  FTRAMP_SITE_OVERLAP },
	{ "bad_overlap_b@libsample-bad.so",	  FTRAMP_SITE_OVERLAP },
};

TEST(malformed_sites_are_unusable_with_reason)
{
	void *h = dlopen(LIB("bad"), RTLD_NOW | RTLD_LOCAL);
	struct ftramp_sites *t = ftramp_sites__get();
	struct collect c = { 0 };

	ASSERT_NE(NULL, h);
	ASSERT_NE(NULL, t);
	for (size_t i = 0; i < sizeof(bad_sites) / sizeof(bad_sites[0]); i++) {
		const struct ftramp_site *s =
			ftramp_sites__find_name(t, bad_sites[i].name);
		struct ftramp_site_info info;

		if (!s)
			TH_LOG("%s missing", bad_sites[i].name);
		ASSERT_NE(NULL, s);
		info = info_of(s);
		if (bad_sites[i].status != info.status)
			TH_LOG("%s: %s", info.name, info.reason);
		EXPECT_EQ(bad_sites[i].status, info.status);
		EXPECT_STREQ(ftramp_site_status__str(bad_sites[i].status),
			     info.reason);
		EXPECT_EQ(bad_sites[i].status == FTRAMP_SITE_OK,
			  sites_usable((const struct ftramp_site *)s));
	}
	/* Eleven records, one of them a duplicate: ten sites. */
	EXPECT_EQ(10, ftramp_sites__find(t, "*@libsample-bad.so", collect_cb,
					&c));
}

/* Someone else patched a site before ftramp looked: never ours to patch. */
TEST(modified_live_bytes_are_unusable)
{
	uint64_t fn = (uint64_t)(uintptr_t)sample_void;
	uint64_t page = fn & ~(uint64_t)(getpagesize() - 1);
	const struct ftramp_site *s;

	/* The table does not exist yet in this test process. */
	ASSERT_EQ(0, mprotect((void *)(uintptr_t)page, 2 * getpagesize(),
			      PROT_READ | PROT_WRITE | PROT_EXEC));
	*(volatile uint32_t *)(uintptr_t)(fn + 4) = 0xd4200000; /* brk #0 */
	s = ftramp_sites__find_name(ftramp_sites__get(),
				    "sample_void@libsample-gcc.so");
	ASSERT_NE(NULL, s);
	EXPECT_EQ(FTRAMP_SITE_MODIFIED, info_of(s).status);
	s = ftramp_sites__find_name(ftramp_sites__get(),
				    "sample_add@libsample-gcc.so");
	ASSERT_NE(NULL, s);
	EXPECT_EQ(FTRAMP_SITE_OK, info_of(s).status);
}

/*
 * A site ftramp patched keeps its state across rescans: the pristine
 * check is for new objects only.
 */
TEST(rescan_keeps_owned_sites)
{
	struct ftramp_sites *t = ftramp_sites__get();
	struct ftramp_site *s;
	uint64_t fn;
	uint64_t page;
	int marker;
	void *h;

	ASSERT_NE(NULL, t);
	s = (struct ftramp_site *)ftramp_sites__find_name(t,
				"sample_sum@libsample-gcc.so");
	ASSERT_NE(NULL, s);
	fn = s->func;
	sites_set_owner(s, &marker);
	/* What the ftrace layer writes: literal, mov x9, x30; bl. */
	page = (fn - 8) & ~(uint64_t)(getpagesize() - 1);
	ASSERT_EQ(0, mprotect((void *)(uintptr_t)page, 2 * getpagesize(),
			      PROT_READ | PROT_WRITE | PROT_EXEC));
	*(volatile uint64_t *)(uintptr_t)(fn - 8) = (uintptr_t)&marker;
	*(volatile uint32_t *)(uintptr_t)fn = 0xaa1e03e9;	/* mov x9, x30 */
	*(volatile uint32_t *)(uintptr_t)(fn + 4) = 0x94000000;	/* bl . */

	h = dlopen(LIB("clang"), RTLD_NOW | RTLD_LOCAL);
	ASSERT_NE(NULL, h);
	ASSERT_EQ(0, ftramp_sites__rescan(t));
	EXPECT_EQ(s, ftramp_sites__find_name(t, "sample_sum@libsample-gcc.so"));
	EXPECT_EQ(&marker, s->owner);
	EXPECT_EQ(FTRAMP_SITE_OK, info_of(s).status);
	EXPECT_TRUE(info_of(s).flags & FTRAMP_SITE_F_OWNED);
	sites_set_owner(s, NULL);
	EXPECT_FALSE(info_of(s).flags & FTRAMP_SITE_F_OWNED);
	dlclose(h);
}

/* ---------------------------------------------------------------------
 * Lookups
 */

TEST(find_addr_covers_the_function)
{
	struct ftramp_sites *t = ftramp_sites__get();
	const struct ftramp_site *s, *next;
	struct ftramp_site_info i;

	ASSERT_NE(NULL, t);
	s = ftramp_sites__find_name(t, "sample_sum@libsample-gcc.so");
	ASSERT_NE(NULL, s);
	i = info_of(s);
	ASSERT_LT(8, i.size);
	EXPECT_EQ(s, ftramp_sites__find_addr(t, i.func));
	EXPECT_EQ(s, ftramp_sites__find_addr(t, i.literal));
	EXPECT_EQ(s, ftramp_sites__find_addr(t, i.func + i.size - 1));
	/* Past the end: the next function's site, or nothing. */
	next = ftramp_sites__find_addr(t, i.func + i.size);
	EXPECT_NE(s, next);
	/* Just before the literal slot is not this function. */
	EXPECT_NE(s, ftramp_sites__find_addr(t, i.literal - 4));
	/* Exact lookups for the ftrace layer: func and patch only. */
	EXPECT_EQ(s, sites_lookup_ip(t, i.func));
	EXPECT_EQ(NULL, sites_lookup_ip(t, i.func + 4));
	errno = 0;
	EXPECT_EQ(NULL, ftramp_sites__find_addr(t, (uint64_t)(uintptr_t)&errno));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(NULL, ftramp_sites__find_addr(t, 0));
}

static int count_cb(const struct ftramp_site *s, void *ctx)
{
	(*(int *)ctx)++;
	return 0;
}

static int stop_cb(const struct ftramp_site *s, void *ctx)
{
	return ++(*(int *)ctx) == 3 ? 1 : 0;
}

static int fail_cb(const struct ftramp_site *s, void *ctx)
{
	return -EIO;
}

TEST(glob_lookups)
{
	void *h = dlopen(LIB("bad"), RTLD_NOW | RTLD_LOCAL);
	struct ftramp_sites *t = ftramp_sites__get();
	int n = 0;

	ASSERT_NE(NULL, h);
	ASSERT_NE(NULL, t);
	EXPECT_EQ(11, ftramp_sites__find(t, "sample_*@libsample-gcc.so",
					 count_cb, &n));
	EXPECT_EQ(11, n);
	EXPECT_EQ(2, ftramp_sites__find(t, "helper:*@libsample-gcc.so",
					count_cb, &n));
	EXPECT_EQ(1, ftramp_sites__find(t, "sample_?ib@libsample-gcc.so",
					count_cb, &n));
	EXPECT_EQ(2, ftramp_sites__find(t, "sample_pair_[ms]*@libsample-gcc.so",
					count_cb, &n));
	EXPECT_EQ(10, ftramp_sites__find(t, "sample_[!f]*@libsample-gcc.so",
					 count_cb, &n));
	/* Exact names take the hash path and count as one match. */
	EXPECT_EQ(1, ftramp_sites__find(t, "sites_test_target", count_cb, &n));
	EXPECT_EQ(0, ftramp_sites__find(t, "no_such_function", count_cb, &n));
	EXPECT_EQ(0, ftramp_sites__find(t, "no_such_*", count_cb, &n));
	/* A backslash escapes: "bad_nosym_host+0x10" has no glob chars. */
	EXPECT_EQ(1, ftramp_sites__find(t, "bad_nosym_host\\+0x1?@*", count_cb,
					&n));
	/* "*" is every site. */
	n = 0;
	EXPECT_EQ((int)ftramp_sites__count(t),
		  ftramp_sites__find(t, "*", count_cb, &n));
	/* Callbacks stop the walk, or fail it. */
	n = 0;
	EXPECT_EQ(3, ftramp_sites__find(t, "*", stop_cb, &n));
	EXPECT_EQ(-EIO, ftramp_sites__find(t, "*", fail_cb, NULL));
	EXPECT_EQ(-EINVAL, ftramp_sites__find(t, NULL, count_cb, &n));
	EXPECT_EQ(-EINVAL, ftramp_sites__find(t, "*", NULL, &n));
}

TEST(info_respects_sz)
{
	const struct ftramp_site *s = ftramp_sites__find_name(
		ftramp_sites__get(), "sample_add@libsample-gcc.so");
	struct {
		struct ftramp_site_info i;
		char canary[8];
	} b;
	size_t small = offsetof(struct ftramp_site_info, object);

	ASSERT_NE(NULL, s);
	memset(&b, 0x5a, sizeof(b));
	b.i.sz = small;
	ASSERT_EQ(0, ftramp_site__info(s, &b.i));
	EXPECT_STREQ("sample_add@libsample-gcc.so", b.i.name);
	/* Nothing written past what the caller said it has. */
	EXPECT_EQ(0x5a, ((unsigned char *)&b.i)[small]);
	b.i.sz = 0;
	EXPECT_EQ(-EINVAL, ftramp_site__info(s, &b.i));
	EXPECT_EQ(-EINVAL, ftramp_site__info(NULL, &b.i));
}

/* ---------------------------------------------------------------------
 * dlopen() / dlclose()
 */

struct events {
	int added, removed;
	char last[64];
};

static void ev_added(struct ftramp_sites *t, struct sites_object *o, void *c)
{
	struct events *e = c;

	if (!strcmp(o->name, "libsample-clang.so")) {
		e->added++;
		/* Lookups work from a listener; the new sites are in. */
		if (ftramp_sites__find_name(t, "sample_add@libsample-clang.so"))
			snprintf(e->last, sizeof(e->last), "found");
	}
}

static void ev_removed(struct ftramp_sites *t, struct sites_object *o,
		       void *c)
{
	struct events *e = c;

	if (!strcmp(o->name, "libsample-clang.so"))
		e->removed++;
}

TEST(dlopen_hook_adds_and_removes_sites)
{
	struct ftramp_sites *t = ftramp_sites__get();
	struct events ev = { 0 };
	struct sites_listener l = {
		.added = ev_added, .removed = ev_removed, .ctx = &ev,
	};
	size_t before;
	void *h;

	ASSERT_NE(NULL, t);
	sites_listen(t, &l);
	before = ftramp_sites__count(t);
	EXPECT_EQ(NULL, ftramp_sites__find_name(t,
			"sample_add@libsample-clang.so"));

	h = dlopen(LIB("clang"), RTLD_NOW | RTLD_LOCAL);
	ASSERT_NE(NULL, h);
	/* Told before dlopen() returned: no lookup has run since. */
	EXPECT_EQ(1, ev.added);
	EXPECT_STREQ("found", ev.last);
	EXPECT_EQ(before + 13, ftramp_sites__count(t));
	EXPECT_EQ((uint64_t)(uintptr_t)dlsym(h, "sample_add"),
		  info_of(ftramp_sites__find_name(t,
			"sample_add@libsample-clang.so")).func);

	ASSERT_EQ(0, dlclose(h));
	EXPECT_EQ(1, ev.removed);
	EXPECT_EQ(before, ftramp_sites__count(t));
	EXPECT_EQ(NULL, ftramp_sites__find_name(t,
			"sample_add@libsample-clang.so"));
	sites_unlisten(t, &l);
}

/* A load the hook does not see is caught by the loader's counters. */
TEST(unhooked_dlopen_is_seen_at_next_lookup)
{
	struct ftramp_sites *t = ftramp_sites__get();
	void *(*libc_dlopen)(const char *, int);
	int (*libc_dlclose)(void *);
	struct events ev = { 0 };
	struct sites_listener l = {
		.added = ev_added, .removed = ev_removed, .ctx = &ev,
	};
	void *h;

	ASSERT_NE(NULL, t);
	libc_dlopen = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
	libc_dlclose = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
	ASSERT_NE(NULL, libc_dlopen);
	ASSERT_NE((void *)dlopen, (void *)libc_dlopen);
	sites_listen(t, &l);
	h = libc_dlopen(LIB("clang"), RTLD_NOW | RTLD_LOCAL);
	ASSERT_NE(NULL, h);
	EXPECT_EQ(0, ev.added);		/* nobody told the table yet */
	EXPECT_NE(NULL, ftramp_sites__find_name(t,
			"sample_add@libsample-clang.so"));
	EXPECT_EQ(1, ev.added);
	libc_dlclose(h);
	EXPECT_EQ(NULL, ftramp_sites__find_name(t,
			"sample_add@libsample-clang.so"));
	EXPECT_EQ(1, ev.removed);
	sites_unlisten(t, &l);
}

static int pin_clang(struct sites_object *o, void *ctx)
{
	if (strcmp(o->name, "libsample-clang.so"))
		return 0;
	*(int *)ctx = sites_object_pin(o);
	return 1;
}

TEST(pinned_object_survives_dlclose)
{
	struct ftramp_sites *t = ftramp_sites__get();
	void *h = dlopen(LIB("clang"), RTLD_NOW | RTLD_LOCAL);
	int err = -1;

	ASSERT_NE(NULL, t);
	ASSERT_NE(NULL, h);
	ASSERT_EQ(1, sites_for_each_object(t, pin_clang, &err));
	ASSERT_EQ(0, err);
	dlclose(h);
	EXPECT_NE(NULL, ftramp_sites__find_name(t,
			"sample_add@libsample-clang.so"));
}

static void *churn(void *arg)
{
	for (int i = 0; i < 30; i++) {
		void *h = dlopen(LIB("clang"), RTLD_NOW | RTLD_LOCAL);

		if (h)
			dlclose(h);
	}
	return NULL;
}

/* Lookups racing loads and unloads see a consistent table. */
TEST(lookups_race_dlopen)
{
	struct ftramp_sites *t = ftramp_sites__get();
	pthread_t th;
	int bad = 0;

	ASSERT_NE(NULL, t);
	ASSERT_EQ(0, pthread_create(&th, NULL, churn, NULL));
	for (int i = 0; i < 300; i++) {
		const struct ftramp_site *s = ftramp_sites__find_name(t,
				"sample_add@libsample-gcc.so");
		int n = 0;

		bad += !s || info_of(s).func != (uintptr_t)sample_add;
		bad += ftramp_sites__find(t, "sample_add@*", count_cb, &n) < 1;
	}
	pthread_join(th, NULL);
	EXPECT_EQ(0, bad);
}

/* ---------------------------------------------------------------------
 * 100k sites: a measurement, not a timed test
 */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

TEST(bench_100k_sites)
{
	struct ftramp_sites *t = ftramp_sites__get();
	size_t before;
	double t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, tsn = 0;
	uint64_t *addrs = calloc(SITES_MANY, sizeof(*addrs));
	struct elf_sites *es;
	char name[64];
	int bad = 0, n = 0;
	void *h;

	ASSERT_NE(NULL, t);
	ASSERT_NE(NULL, addrs);
	t8 = now_ns();
	ASSERT_EQ(0, elf_sites__read_path(SAMPLE_DIR "/libsample-many.so",
					  &es));
	t9 = now_ns();
	EXPECT_EQ(SITES_MANY, es->nr_sites);
	elf_sites__free(es);
	before = ftramp_sites__count(t);
	t0 = now_ns();
	h = dlopen(SAMPLE_DIR "/libsample-many.so", RTLD_NOW | RTLD_LOCAL);
	t1 = now_ns();
	ASSERT_NE(NULL, h);
	ASSERT_EQ(before + SITES_MANY, ftramp_sites__count(t));

	for (int i = 0; i < SITES_MANY; i++) {
		snprintf(name, sizeof(name), "many_%d@libsample-many.so", i);
		bad += !ftramp_sites__find_name(t, name);
	}
	t2 = now_ns();
	for (int i = 0; i < SITES_MANY; i++) {
		snprintf(name, sizeof(name), "many_%d", i);
		addrs[i] = (uintptr_t)dlsym(h, name);
		bad += !addrs[i];
	}
	t3 = now_ns();
	for (int i = 0; i < SITES_MANY; i++)
		snprintf(name, sizeof(name), "many_%d@libsample-many.so", i);
	t5 = now_ns();
	tsn = t5 - t3;
	for (int i = 0; i < SITES_MANY; i++)
		bad += !sites_lookup_ip(t, addrs[i]);
	t6 = now_ns();
	for (int i = 0; i < SITES_MANY; i++)
		bad += !ftramp_sites__find_addr(t, addrs[i] + 4);
	t7 = now_ns();
	free(addrs);
	t3 = now_ns();
	EXPECT_EQ(11, ftramp_sites__find(t, "many_9999*@libsample-many.so",
					 count_cb, &n));
	t4 = now_ns();
	EXPECT_EQ(0, bad);
	TH_LOG("bench: %d sites: dlopen+scan %.1f ms (ELF read alone "
	       "%.1f ms)", SITES_MANY, (t1 - t0) / 1e6, (t9 - t8) / 1e6);
	TH_LOG("bench: per lookup: find_name %.0f ns (of which snprintf "
	       "%.0f ns), find_addr %.0f ns, exact ip without the loader "
	       "check %.0f ns", (t2 - t1) / SITES_MANY,
	       tsn / SITES_MANY, (t7 - t6) / SITES_MANY,
	       (t6 - t5) / SITES_MANY);
	TH_LOG("bench: glob over all sites %.1f ms", (t4 - t3) / 1e6);
	dlclose(h);
	EXPECT_EQ(before, ftramp_sites__count(t));
}

#endif /* !FTRAMP_HOST_TEST */

/* ---------------------------------------------------------------------
 * The file view alone: these also run on the host, under ASan and UBSan
 */

TEST(status_strings_are_distinct)
{
	for (int a = 0; a < FTRAMP_SITE_STATUS_MAX; a++) {
		EXPECT_STRNE("unknown site status", ftramp_site_status__str(a));
		for (int b = 0; b < a; b++)
			EXPECT_STRNE(ftramp_site_status__str(a),
				     ftramp_site_status__str(b));
	}
	EXPECT_STREQ("unknown site status", ftramp_site_status__str(-1));
	EXPECT_STREQ("unknown site status",
		     ftramp_site_status__str(FTRAMP_SITE_STATUS_MAX));
}

TEST(object_names)
{
	static const char *const cases[][2] = {
		{ "/lib/aarch64-linux-gnu/libc.so.6", "libc.so" },
		{ "libfoo-1.2.so.3.4", "libfoo-1.2.so" },
		{ "/x/libsample-gcc.so", "libsample-gcc.so" },
		{ "plugin.mod", "plugin.mod" },
		{ "libx.so.6a", "libx.so.6a" },
		{ "libx.sox.so.1", "libx.sox.so" },
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EXPECT_EQ(strlen(cases[i][1]),
			  elf_sites__object_name(cases[i][0], buf, sizeof(buf)));
		EXPECT_STREQ(cases[i][1], buf);
	}
}


/* ---------------------------------------------------------------------
 * The ELF reader on bad input
 */

TEST(elf_reader_errors)
{
	struct elf_sites *es = (void *)1;
	char tmp[] = "/tmp/sites_test.XXXXXX";
	int fd;

	EXPECT_EQ(-ENOENT, elf_sites__read_path(SAMPLE_DIR "/nonexistent",
						&es));
	EXPECT_EQ(NULL, es);
	EXPECT_EQ(-ENOTSUP, elf_sites__read_path(SAMPLE_DIR "/gcc/sample.o",
						 &es));
	EXPECT_EQ(-ENOEXEC, elf_sites__read_path(SAMPLE_DIR "/many.S", &es));
	fd = mkstemp(tmp);
	ASSERT_LE(0, fd);
	unlink(tmp);
	EXPECT_EQ(-ENOEXEC, elf_sites__read_fd(fd, &es));
	close(fd);
}

/* Every truncation and many corruptions of a real library: an error or a
 * result, never a crash (ASan-free, but the harness catches signals). */
TEST(elf_reader_survives_damage)
{
	int fd = open(LIB("gcc"), O_RDONLY);
	struct stat st;
	unsigned char *img, *copy;
	int ok = 0, failed = 0;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	img = malloc(st.st_size);
	copy = malloc(st.st_size);
	ASSERT_NE(NULL, img);
	ASSERT_NE(NULL, copy);
	ASSERT_EQ(st.st_size, read(fd, img, st.st_size));
	close(fd);

	/*
	 * The section headers sit at the end of the file (as every linker
	 * writes them), so every truncation loses them: each must be refused
	 * as malformed (or, shorter than a header, as not an ELF object),
	 * never read as an object without sites.
	 */
	for (off_t len = 0; len < st.st_size; len += 97) {
		struct elf_sites *es;
		int err = elf_sites__read_mem(img, len, &es);

		if (err != (len < 64 ? -ENOEXEC : -EBADMSG))
			TH_LOG("truncated to %lld of %lld bytes: %d", (long long)len,
			       (long long)st.st_size, err);
		EXPECT_EQ(len < 64 ? -ENOEXEC : -EBADMSG, err);
		err ? failed++ : ok++;
		elf_sites__free(es);
	}
	srand(1);
	for (int i = 0; i < 300; i++) {
		struct elf_sites *es;
		int err;

		memcpy(copy, img, st.st_size);
		for (int k = 0; k < 8; k++)
			copy[rand() % st.st_size] = rand();
		err = elf_sites__read_mem(copy, st.st_size, &es);
		/* A damaged object is refused as such, nothing else. */
		if (err && err != -ENOEXEC && err != -EBADMSG && err != -ENOTSUP)
			TH_LOG("damaged copy %d: %d", i, err);
		EXPECT_TRUE(!err || err == -ENOEXEC || err == -EBADMSG ||
			    err == -ENOTSUP);
		if (!err)
			for (size_t j = 0; j < es->nr_sites; j++)
				EXPECT_NE(NULL, es->sites[j].name);
		err ? failed++ : ok++;
		elf_sites__free(es);
	}
	TH_LOG("damaged images: %d read, %d refused", ok, failed);
	EXPECT_LT(0, failed);
	free(img);
	free(copy);
}

/* The file view of each toolchain's library against nm, without a bias. */
TEST(elf_file_matches_nm)
{
	static const char *const kinds[] = { "gcc", "clang", "bti" };
	static struct nm_sym objs[128], lib[256];

	for (size_t k = 0; k < 3; k++) {
		struct elf_sites *es;
		char path[256];
		int no = 0, nl, expect = 0;

		for (int f = 0; f < 2; f++) {
			int n;

			snprintf(path, sizeof(path), SAMPLE_DIR "/%s/sample%s.o",
				 kinds[k], f ? "2" : "");
			n = nm_text(path, objs + no, 128 - no);
			ASSERT_LT(0, n);
			no += n;
		}
		snprintf(path, sizeof(path), SAMPLE_DIR "/libsample-%s.so",
			 kinds[k]);
		nl = nm_text(path, lib, 256);
		ASSERT_LT(0, nl);
		ASSERT_EQ(0, elf_sites__read_path(path, &es));
		for (int i = 0; i < nl; i++) {
			bool first = true, found = false;

			if (!in_list(objs, no, lib[i].name))
				continue;
			for (int j = 0; j < i; j++)
				if (lib[j].value == lib[i].value &&
				    in_list(objs, no, lib[j].name))
					first = false;
			expect += first;
			for (size_t j = 0; j < es->nr_sites; j++) {
				const struct elf_site *e = &es->sites[j];

				if (e->func != lib[i].value)
					continue;
				found = true;
				EXPECT_EQ(FTRAMP_SITE_OK, e->status);
				if (!strcmp(e->symbol, lib[i].name))
					EXPECT_EQ(lib[i].size, e->size);
			}
			if (!found)
				TH_LOG("%s: %s missing", kinds[k], lib[i].name);
			EXPECT_TRUE(found);
		}
		EXPECT_EQ(13, expect);
		EXPECT_EQ(expect, es->nr_sites);
		EXPECT_FALSE(es->executable);
		EXPECT_TRUE(es->symtab);
		elf_sites__free(es);
	}
}

TEST(elf_file_statuses)
{
	static const struct {
		const char *name;
		int status;
	} want[] = {
		{ "bad_good_asm", FTRAMP_SITE_OK },
		{ "bad_entry", FTRAMP_SITE_BAD_ENTRY },
		{ "bad_pre", FTRAMP_SITE_BAD_LITERAL },
		{ "bad_misaligned", FTRAMP_SITE_BAD_ALIGN },
		{ "bad_nosym_host+0x10", FTRAMP_SITE_NO_SYMBOL },
		{ "bad_small", FTRAMP_SITE_TOO_SMALL },
		{ "bad_dup", FTRAMP_SITE_DUPLICATE },
		{ "bad_data", FTRAMP_SITE_NOT_TEXT },
		{ "bad_overlap_a", FTRAMP_SITE_OVERLAP },
		{ "bad_overlap_b", FTRAMP_SITE_OVERLAP },
	};
	struct elf_sites *es;

	ASSERT_EQ(0, elf_sites__read_path(SAMPLE_DIR "/libsample-bad.so", &es));
	EXPECT_EQ(11, es->nr_records);
	ASSERT_EQ(10, es->nr_sites);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool found = false;

		for (size_t j = 0; j < es->nr_sites; j++) {
			if (strcmp(es->sites[j].name, want[i].name))
				continue;
			found = true;
			EXPECT_EQ(want[i].status, es->sites[j].status);
		}
		EXPECT_TRUE(found);
	}
	elf_sites__free(es);

	/* An executable: PT_INTERP, its static function unqualified. */
	ASSERT_EQ(0, elf_sites__read_path(SAMPLE_DIR "/sample_prog", &es));
	EXPECT_TRUE(es->executable);
	EXPECT_EQ(3, es->nr_sites);
	for (size_t j = 0; j < es->nr_sites; j++)
		EXPECT_EQ(FTRAMP_SITE_OK, es->sites[j].status);
	elf_sites__free(es);
}

TEST_HARNESS_MAIN

#endif /* !FTRAMP_FUZZ */
