// SPDX-License-Identifier: MIT
/*
 * Host test of the ftramp process's library search (table.c) where it
 * follows the loader's cache and DF_1_NODEFLIB (ldcache.c): the cache
 * parser against caches written here in glibc's layout and against
 * `ldconfig -p` on the host's own cache, then tables built for
 * selftests/progs/zprog under a sysroot whose /etc/ld.so.cache names a
 * directory nothing else searches (and zprog_nodeflib, the same
 * program linked with -z nodefaultlib).  Run by selftests/cli_table.sh with
 * FTRAMP_TEST_PROGS set to the arm64 programs' directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "selftests/harness.h"
#include "ftrace/site_table.h"
#include "tools/ftramp/cli.h"

/* glibc's cache (ldcache.c draws it): a header, entries, strings. */
struct centry {
	uint32_t flags;
	uint64_t hwcap;
	const char *key, *value;
};

#define HWCAP_EXTENSION	(1ull << 62)	/* glibc: DL_CACHE_HWCAP_EXTENSION */

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

/*
 * The cache of @n entries in *size bytes, after an old-format part of
 * @nold entries when @nold >= 0 (the compatible layout).
 */
static uint8_t *make_cache(const struct centry *e, size_t n, int nold,
			   uint8_t endian, size_t *size)
{
	size_t strs = 0, at = 0, off;
	uint8_t *buf, *hdr;

	for (size_t i = 0; i < n; i++)
		strs += strlen(e[i].key) + strlen(e[i].value) + 2;
	if (nold >= 0)
		at = (16 + 12 * (size_t)nold + 7) & ~(size_t)7;
	*size = at + 48 + 24 * n + strs;
	buf = calloc(1, *size);
	if (!buf)
		return NULL;
	if (nold >= 0) {
		memcpy(buf, "ld.so-1.7.0", 11);
		put32(buf + 12, (uint32_t)nold);
	}
	hdr = buf + at;
	memcpy(hdr, "glibc-ld.so.cache1.1", 20);
	put32(hdr + 20, (uint32_t)n);
	put32(hdr + 24, (uint32_t)strs);
	hdr[28] = endian;
	off = 48 + 24 * n;
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = hdr + 48 + 24 * i;

		put32(p, e[i].flags);
		put32(p + 4, (uint32_t)off);
		strcpy((char *)hdr + off, e[i].key);
		off += strlen(e[i].key) + 1;
		put32(p + 8, (uint32_t)off);
		strcpy((char *)hdr + off, e[i].value);
		off += strlen(e[i].value) + 1;
		put64(p + 16, e[i].hwcap);
	}
	return buf;
}

static const struct centry foo_entries[] = {
	{ LDCACHE_X86_64, 0, "libfoo.so.1", "/x86/libfoo.so.1" },
	{ LDCACHE_AARCH64, HWCAP_EXTENSION, "libfoo.so.1", "/hw/libfoo.so.1" },
	{ LDCACHE_AARCH64 | 0x100, 0, "libfoo.so.1", "/other/libfoo.so.1" },
	{ LDCACHE_AARCH64, 0, "libbar.so", "/arm/libbar.so" },
	{ LDCACHE_AARCH64, 0, "libfoo.so.1", "/arm/libfoo.so.1" },
	{ LDCACHE_AARCH64, 0, "libfoo.so.1", "/later/libfoo.so.1" },
};
#define NR_FOO	(sizeof(foo_entries) / sizeof(foo_entries[0]))

static void expect_lookup(struct __test_metadata *_metadata,
			  const void *buf, size_t size, uint32_t abi,
			  const char *name, const char *want)
{
	char *got = ldcache_lookup(buf, size, abi, name);

	if (want)
		EXPECT_STREQ(want, got ? got : "(none)");
	else
		EXPECT_STREQ("(none)", got ? got : "(none)");
	free(got);
}

/* The first entry of the ABI, with no hwcap, of that exact name. */
TEST(cache_entry_rules)
{
	for (int nold = -1; nold <= 3; nold += 2) {
		size_t size;
		uint8_t *c = make_cache(foo_entries, NR_FOO, nold, 2, &size);

		ASSERT_NE(NULL, c);
		expect_lookup(_metadata, c, size, LDCACHE_AARCH64,
			      "libfoo.so.1", "/arm/libfoo.so.1");
		expect_lookup(_metadata, c, size, LDCACHE_X86_64,
			      "libfoo.so.1", "/x86/libfoo.so.1");
		expect_lookup(_metadata, c, size, LDCACHE_AARCH64,
			      "libbar.so", "/arm/libbar.so");
		expect_lookup(_metadata, c, size, LDCACHE_AARCH64,
			      "libfoo.so", NULL);
		expect_lookup(_metadata, c, size, LDCACHE_X86_64,
			      "libbar.so", NULL);
		free(c);
	}
}

/* Big-endian, invalid or foreign caches give no answer. */
TEST(cache_refused)
{
	size_t size;
	uint8_t *c = make_cache(foo_entries, NR_FOO, -1, 3, &size);

	ASSERT_NE(NULL, c);
	expect_lookup(_metadata, c, size, LDCACHE_AARCH64, "libfoo.so.1",
		      NULL);
	c[28] = 1;
	expect_lookup(_metadata, c, size, LDCACHE_AARCH64, "libfoo.so.1",
		      NULL);
	c[28] = 0;	/* unset: taken as the host's */
	expect_lookup(_metadata, c, size, LDCACHE_AARCH64, "libfoo.so.1",
		      "/arm/libfoo.so.1");
	c[17] = '2';	/* version 2.1 */
	expect_lookup(_metadata, c, size, LDCACHE_AARCH64, "libfoo.so.1",
		      NULL);
	put32(c + 20, UINT32_MAX);
	expect_lookup(_metadata, c, size, LDCACHE_AARCH64, "libfoo.so.1",
		      NULL);
	expect_lookup(_metadata, NULL, 0, LDCACHE_AARCH64, "libfoo.so.1",
		      NULL);
	free(c);
}

/*
 * Every prefix of a valid cache, in a buffer of exactly that size (the
 * sanitizers see any read beyond): an answer only when the entry and
 * its strings are inside.
 */
TEST(cache_truncated)
{
	size_t size;
	uint8_t *c = make_cache(foo_entries, NR_FOO, 1, 2, &size);

	ASSERT_NE(NULL, c);
	for (size_t n = 0; n <= size; n++) {
		uint8_t *p = malloc(n ? n : 1);
		char *got;

		ASSERT_NE(NULL, p);
		memcpy(p, c, n);
		got = ldcache_lookup(p, n, LDCACHE_AARCH64, "libfoo.so.1");
		if (got)
			EXPECT_STREQ("/arm/libfoo.so.1", got);
		if (n == size)
			EXPECT_NE(NULL, got);
		free(got);
		free(p);
	}
	free(c);
}

/* The host's own cache against the host's ldconfig: the same answers. */
TEST(cache_matches_ldconfig)
{
#if defined(__x86_64__)
	const char *want_abi = "(libc6,x86-64) => ";
	uint32_t abi = LDCACHE_X86_64;
#elif defined(__aarch64__)
	const char *want_abi = "(libc6,AArch64) => ";
	uint32_t abi = LDCACHE_AARCH64;
#else
	const char *want_abi = NULL;
	uint32_t abi = 0;
#endif
	char line[PATH_MAX + 256], seen[64][128];
	unsigned int nseen = 0, compared = 0;
	struct stat st;
	uint8_t *buf;
	FILE *f;
	int fd;

	if (!want_abi)
		SKIP(return, "no ldconfig flags known for this host");
	fd = open("/etc/ld.so.cache", O_RDONLY);
	if (fd < 0)
		SKIP(return, "no /etc/ld.so.cache");
	ASSERT_EQ(0, fstat(fd, &st));
	buf = malloc(st.st_size);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(st.st_size, read(fd, buf, st.st_size));
	close(fd);
	f = popen("PATH=/sbin:/usr/sbin:$PATH ldconfig -p 2>/dev/null", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		char *name = line + strspn(line, " \t"), *sp, *path, *got;
		bool dup = false;

		sp = strchr(name, ' ');
		path = sp ? strstr(sp, want_abi) : NULL;
		if (!path || path != sp + 1)
			continue;	/* another ABI, or a hwcap entry */
		*sp = 0;
		path += strlen(want_abi);
		path[strcspn(path, "\n")] = 0;
		for (unsigned int i = 0; i < nseen; i++)
			dup |= !strcmp(seen[i], name);
		if (dup || strlen(name) >= sizeof(seen[0]))
			continue;	/* the first of a name is the answer */
		if (nseen < 64)
			strcpy(seen[nseen++], name);
		else
			break;
		got = ldcache_lookup(buf, st.st_size, abi, name);
		EXPECT_STREQ(path, got ? got : "(none)");
		free(got);
		compared++;
	}
	pclose(f);
	free(buf);
	if (!compared)
		SKIP(return, "ldconfig -p listed no entry for this host's ABI");
	TH_LOG("%u names compared with ldconfig -p", compared);
}

/* ------------------------------------------------------------------
 * Tables: zprog needs libz.so.1 (no rpath) and libc.
 */

struct root {
	char dir[PATH_MAX];	/* the sysroot, real path */
	char cached[PATH_MAX + 32];	/* $dir/cached/libz.so.1 */
	char progs[PATH_MAX];
	char zdir[PATH_MAX + 8];	/* $progs/zlib: LD_LIBRARY_PATH */
	char zlib[PATH_MAX + 32];	/* $zdir/libz.so.1 */
};

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in = open(from, O_RDONLY), out, err = 0;

	if (in < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0) {
		err = -errno;
		close(in);
		return err;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n) {
			err = -EIO;
			break;
		}
	if (n < 0)
		err = -errno;
	close(in);
	close(out);
	return err;
}

static int write_file(const char *path, const void *buf, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, buf, size) != (ssize_t)size)
		err = -EIO;
	close(fd);
	return err;
}

/* A sysroot whose cache alone says where libz.so.1 is. */
static int root_make(struct root *r)
{
	const char *progs = getenv("FTRAMP_TEST_PROGS");
	char tmpl[] = "/tmp/ftramp-table.XXXXXX", path[PATH_MAX + 32];
	struct centry e = { LDCACHE_AARCH64, 0, "libz.so.1",
			    "/cached/libz.so.1" };
	uint8_t *cache;
	size_t size;
	int err;

	if (!progs || !realpath(progs, r->progs))
		return -ENOENT;
	snprintf(r->zdir, sizeof(r->zdir), "%s/zlib", r->progs);
	snprintf(r->zlib, sizeof(r->zlib), "%s/libz.so.1", r->zdir);
	snprintf(path, sizeof(path), "%s/zprog_nodeflib", r->progs);
	if (access(path, R_OK))
		return -ENOENT;
	if (!mkdtemp(tmpl) || !realpath(tmpl, r->dir))
		return -errno;
	snprintf(path, sizeof(path), "%s/etc", r->dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/cached", r->dir);
	mkdir(path, 0755);
	snprintf(r->cached, sizeof(r->cached), "%s/cached/libz.so.1", r->dir);
	err = copy_file(r->zlib, r->cached);
	if (err)
		return err;
	cache = make_cache(&e, 1, -1, 2, &size);
	if (!cache)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/etc/ld.so.cache", r->dir);
	err = write_file(path, cache, size);
	free(cache);
	return err;
}

static void root_remove(struct root *r)
{
	char path[PATH_MAX + 32];

	unlink(r->cached);
	snprintf(path, sizeof(path), "%s/cached", r->dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/etc/ld.so.cache", r->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/etc", r->dir);
	rmdir(path);
	rmdir(r->dir);
}

/* The table's module read from a file named @base: its path, or NULL. */
static const char *table_lib(const void *buf, size_t size, struct stab *t,
			     const char *base)
{
	if (stab_parse(buf, size, t))
		return NULL;
	for (uint32_t i = 0; i < t->hdr->nr_modules; i++) {
		const char *p = stab_str(t, t->mods[i].path);
		const char *slash = strrchr(p, '/');

		if (!strcmp(slash ? slash + 1 : p, base))
			return p;
	}
	return NULL;
}

FIXTURE(table) {
	struct root r;
	bool made;
};

FIXTURE_SETUP(table)
{
	int err = root_make(&self->r);

	if (err == -ENOENT)
		SKIP(return, "FTRAMP_TEST_PROGS names no zprog_nodeflib");
	ASSERT_EQ(0, err);
	self->made = true;
}

FIXTURE_TEARDOWN(table)
{
	if (self->made)
		root_remove(&self->r);
}

static const char *build(struct __test_metadata *_metadata,
			 struct root *r, const char *prog,
			 const char *lib_path, void **buf, struct stab *t)
{
	char exe[PATH_MAX + 32];
	size_t size;

	snprintf(exe, sizeof(exe), "%s/%s", r->progs, prog);
	EXPECT_EQ(0, cli_table_build(exe, r->dir, lib_path, false, buf,
				     &size));
	return *buf ? table_lib(*buf, size, t, "libz.so.1") : NULL;
}

/* No LD_LIBRARY_PATH, no RUNPATH: the cache's libz, before any default. */
TEST_F(table, follows_the_cache)
{
	struct stab t = { 0 };
	void *buf = NULL;
	const char *lib = build(_metadata, &self->r, "zprog", NULL, &buf, &t);

	EXPECT_STREQ(self->r.cached, lib ? lib : "(none)");
	free(buf);
}

/* LD_LIBRARY_PATH comes before the cache. */
TEST_F(table, library_path_first)
{
	struct stab t = { 0 };
	void *buf = NULL;
	const char *lib = build(_metadata, &self->r, "zprog", self->r.zdir,
				&buf, &t);

	EXPECT_STREQ(self->r.zlib, lib ? lib : "(none)");
	free(buf);
}

/*
 * DF_1_NODEFLIB (-z nodefaultlib): neither the cache nor the default
 * directories, as the loader; LD_LIBRARY_PATH still counts.
 */
TEST_F(table, nodeflib)
{
	struct stab t = { 0 };
	void *buf = NULL;
	const char *lib;

	lib = build(_metadata, &self->r, "zprog_nodeflib", NULL, &buf, &t);
	EXPECT_STREQ("(none)", lib ? lib : "(none)");
	EXPECT_EQ(NULL, buf ? table_lib(buf, t.size, &t, "libc.so.6") : NULL);
	free(buf);
	buf = NULL;
	lib = build(_metadata, &self->r, "zprog_nodeflib", self->r.zdir,
		    &buf, &t);
	EXPECT_STREQ(self->r.zlib, lib ? lib : "(none)");
	free(buf);
}

TEST_HARNESS_MAIN
