// SPDX-License-Identifier: MIT
/*
 * Batches of the attach API (fixture variants: near, where each site
 * becomes `bl image`, and far, through ftrace_caller and the literal):
 * many functions in one ftramp_attach_batch__commit(), every one traced
 * and its bytes checked; a batch with one bad entry changes no site;
 * what a batch costs, from the patching layer's statistics (one
 * protection change per page, syncs per batch); ftramp_links__destroy().
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <ftramp/ftramp.h>

#include "arch/arm64/insn.h"
#include "arch/arm64/patching.h"
#include "arch/arm64/text_alloc.h"
#include "selftests/harness.h"
#include "selftests/site_bytes.h"

#define NR_FUNCS	64

#define DECL(n)	long am_f##n(long x); TRACEE long am_f##n(long x) { return x + n; }
#define DECL8(n) DECL(n##0) DECL(n##1) DECL(n##2) DECL(n##3) \
		 DECL(n##4) DECL(n##5) DECL(n##6) DECL(n##7)
DECL8(1) DECL8(2) DECL8(3) DECL8(4) DECL8(5) DECL8(6) DECL8(7) DECL8(8)

void am_void(void);
TRACEE void am_void(void) { }

#define REF(n)	am_f##n
#define REF8(n)	REF(n##0), REF(n##1), REF(n##2), REF(n##3), \
		REF(n##4), REF(n##5), REF(n##6), REF(n##7)
static long (*const funcs[NR_FUNCS])(long) = {
	REF8(1), REF8(2), REF8(3), REF8(4), REF8(5), REF8(6), REF8(7), REF8(8)
};

static const struct ftramp_site *site_of(int i)
{
	return ftramp_sites__find_addr(ftramp_sites__get(),
				       (uint64_t)(uintptr_t)funcs[i]);
}

static uint64_t patch_of(int i)
{
	struct ftramp_site_info info = { .sz = sizeof(info) };

	if (ftramp_site__info(site_of(i), &info))
		return 0;
	return info.patch;
}

static void snapshot(struct site_bytes *sb)
{
	for (int i = 0; i < NR_FUNCS; i++) {
		uint64_t p = patch_of(i);

		sb[i].lit = *(volatile uint64_t *)(uintptr_t)(p - 8);
		sb[i].a = *(volatile uint32_t *)(uintptr_t)p;
		sb[i].b = *(volatile uint32_t *)(uintptr_t)(p + 4);
		sb[i].patch = p;
	}
}

static uint64_t hits_in[NR_FUNCS], hits_out[NR_FUNCS];

static uint64_t prog_in(const uint64_t *ctx)
{
	hits_in[ftramp_get_attach_cookie(ctx) % NR_FUNCS]++;
	return 0;
}

static uint64_t prog_out(const uint64_t *ctx)
{
	uint64_t c = ftramp_get_attach_cookie(ctx) % NR_FUNCS, v = 0;

	ftramp_get_func_ret(ctx, &v);
	/* am_fN(1) returns 1 + N: the result is seen */
	if (v == 1 + (uint64_t)((c / 8 + 1) * 10 + c % 8))
		hits_out[c]++;
	return 0;
}

/* The N of am_fN for index i: 10..17, 20..27, ... 80..87. */
static long fnum(int i)
{
	return (i / 8 + 1) * 10 + i % 8;
}

/* The distinct text pages of the sites. */
static long site_pages(void)
{
	uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE), pages[NR_FUNCS];
	long nr = 0;

	for (int i = 0; i < NR_FUNCS; i++) {
		uint64_t pg = (patch_of(i) - 8) & ~(ps - 1);
		bool seen = false;

		for (long j = 0; j < nr; j++)
			seen |= pages[j] == pg;
		if (!seen)
			pages[nr++] = pg;
	}
	return nr;
}

FIXTURE(batch)
{
	struct ftramp_attach_opts opts;
	struct ftramp_func_model model;
	struct ftramp_attach_batch *b;
	struct ftramp_link *links[2 * NR_FUNCS];
};

FIXTURE_VARIANT(batch)
{
	bool far;
};

FIXTURE_VARIANT_ADD(batch, near) { .far = false };
FIXTURE_VARIANT_ADD(batch, far) { .far = true };

FIXTURE_SETUP(batch)
{
	memset(hits_in, 0, sizeof(hits_in));
	memset(hits_out, 0, sizeof(hits_out));
	memset(&self->opts, 0, sizeof(self->opts));
	memset(self->links, 0, sizeof(self->links));
	self->opts.sz = sizeof(self->opts);
	self->opts.force_far = variant->far;
	self->opts.no_dwarf = true;
	ASSERT_EQ(0, ftramp_model__parse("long (long)", &self->model, NULL));
	self->opts.model = &self->model;
	self->b = ftramp_attach_batch__new();
	ASSERT_NE(NULL, self->b);
}

FIXTURE_TEARDOWN(batch)
{
	ftramp_attach_batch__free(self->b);
	ftramp_links__destroy(self->links, 2 * NR_FUNCS);
	ftramp_sync(10000);
}

/* fentry + fexit on every function, entries 2i and 2i + 1. */
static void add_all(struct __test_metadata *_metadata,
		    FIXTURE_DATA(batch) *self, bool by_name)
{
	char name[16];

	for (int i = 0; i < NR_FUNCS; i++) {
		self->opts.cookie = i;
		self->opts.addr = by_name ? 0 : (uint64_t)(uintptr_t)funcs[i];
		snprintf(name, sizeof(name), "am_f%ld", fnum(i));
		ASSERT_EQ(2 * i, ftramp_attach_batch__add(self->b,
				by_name ? name : NULL, FTRAMP_FENTRY, prog_in,
				&self->opts));
		ASSERT_EQ(2 * i + 1, ftramp_attach_batch__add(self->b,
				by_name ? name : NULL, FTRAMP_FEXIT, prog_out,
				&self->opts));
	}
}

static void take_links(struct __test_metadata *_metadata,
		       FIXTURE_DATA(batch) *self)
{
	for (size_t i = 0; i < 2 * NR_FUNCS; i++) {
		self->links[i] = ftramp_attach_batch__link(self->b, i);
		ASSERT_NE(NULL, self->links[i]);
	}
}

TEST_F(batch, every_function_traced)
{
	struct site_bytes sb[NR_FUNCS];

	add_all(_metadata, self, true);
	ASSERT_EQ(0, ftramp_attach_batch__commit(self->b));
	EXPECT_EQ(-1, ftramp_attach_batch__failed(self->b));
	EXPECT_EQ(-EALREADY, ftramp_attach_batch__commit(self->b));
	take_links(_metadata, self);
	snapshot(sb);
	for (int i = 0; i < NR_FUNCS; i++) {
		uint64_t target = 0, rec_direct;

		EXPECT_EQ(A64_MOV_X9_X30, sb[i].a);
		ASSERT_TRUE(a64_is_bl(sb[i].b));
		a64_branch_target(sb[i].b, patch_of(i) + 4, &target);
		/* the literal holds the function's record: its image */
		rec_direct = *(volatile uint64_t *)(uintptr_t)sb[i].lit;
		if (variant->far)
			EXPECT_NE(target, rec_direct);
		else
			EXPECT_EQ(target, rec_direct);
		EXPECT_EQ(1 + fnum(i), funcs[i](1));
		EXPECT_EQ(1, hits_in[i]);
		EXPECT_EQ(1, hits_out[i]);
	}
	ASSERT_EQ(0, ftramp_links__destroy(self->links, 2 * NR_FUNCS));
	EXPECT_EQ(NULL, self->links[0]);
	snapshot(sb);
	for (int i = 0; i < NR_FUNCS; i++) {
		EXPECT_EQ(A64_NOP, sb[i].b);
		EXPECT_EQ(1 + fnum(i), funcs[i](1));
		EXPECT_EQ(1, hits_in[i]);
	}
}

/* One entry of a batch is bad: the commit fails on it, no site changes. */
TEST_F(batch, one_bad_entry_changes_nothing)
{
	struct site_bytes before[NR_FUNCS], after[NR_FUNCS];
	struct ftramp_func_model vm;
	struct ftramp_attach_batch *b2;
	uint64_t bl;

	ASSERT_EQ(0, ftramp_sites__prepare(ftramp_sites__get(), "am_f*") < 0);
	snapshot(before);

	/* An unknown name: refused by __add, and by the commit. */
	add_all(_metadata, self, false);
	self->opts.addr = 0;
	EXPECT_EQ(-ENOENT, ftramp_attach_batch__add(self->b, "am_nosuch",
			FTRAMP_FENTRY, prog_in, &self->opts));
	EXPECT_EQ(-ENOENT, ftramp_attach_batch__commit(self->b));
	EXPECT_EQ(2 * NR_FUNCS, ftramp_attach_batch__failed(self->b));
	EXPECT_EQ(NULL, ftramp_attach_batch__link(self->b, 0));
	snapshot(after);
	EXPECT_EQ(0, memcmp(before, after, sizeof(before)));

	/* fmod_ret on a void function: found at the commit. */
	b2 = ftramp_attach_batch__new();
	ASSERT_NE(NULL, b2);
	ASSERT_EQ(0, ftramp_model__parse("void (void)", &vm, NULL));
	for (int i = 0; i < NR_FUNCS; i++) {
		self->opts.addr = (uint64_t)(uintptr_t)funcs[i];
		ASSERT_EQ(i, ftramp_attach_batch__add(b2, NULL, FTRAMP_FENTRY,
						      prog_in, &self->opts));
		if (i == NR_FUNCS / 2) {
			struct ftramp_attach_opts o = self->opts;

			o.addr = 0;
			o.model = &vm;
			ASSERT_EQ(++i, ftramp_attach_batch__add(b2, "am_void",
					FTRAMP_FMOD_RET, prog_in, &o));
			break;
		}
	}
	EXPECT_EQ(-EINVAL, ftramp_attach_batch__commit(b2));
	EXPECT_EQ(NR_FUNCS / 2 + 1, ftramp_attach_batch__failed(b2));
	ftramp_attach_batch__free(b2);
	snapshot(after);
	EXPECT_EQ(0, memcmp(before, after, sizeof(before)));

	/*
	 * A site changed behind our back (its bl slot is not the nop we
	 * left): the patch transaction refuses it, the batch's other sites
	 * are left as they were.  Both paths write that word.
	 */
	bl = patch_of(40) + 4;
	ASSERT_EQ(0, ftramp_text_poke((void *)(uintptr_t)bl, FTRAMP_POKE_CALL,
				      NULL, (void *)(uintptr_t)(bl + 4)));
	snapshot(before);
	b2 = ftramp_attach_batch__new();
	ASSERT_NE(NULL, b2);
	for (int i = 0; i < NR_FUNCS; i++) {
		self->opts.addr = (uint64_t)(uintptr_t)funcs[i];
		ASSERT_EQ(i, ftramp_attach_batch__add(b2, NULL, FTRAMP_FENTRY,
						      prog_in, &self->opts));
	}
	EXPECT_EQ(-EFAULT, ftramp_attach_batch__commit(b2));
	EXPECT_EQ(40, ftramp_attach_batch__failed(b2));
	ftramp_attach_batch__free(b2);
	snapshot(after);
	EXPECT_EQ(0, memcmp(before, after, sizeof(before)));
	ASSERT_EQ(0, ftramp_text_poke((void *)(uintptr_t)bl, FTRAMP_POKE_CALL,
				      (void *)(uintptr_t)(bl + 4), NULL));
	for (int i = 0; i < NR_FUNCS; i++)
		EXPECT_EQ(1 + fnum(i), funcs[i](1));
	for (int i = 0; i < NR_FUNCS; i++)
		EXPECT_EQ(0, hits_in[i]);
}

/*
 * What a batch costs: each text page made writable once (site pages and
 * trampoline pages), one sync for prepared near sites (the bl words
 * only), two for far ones (literals, then bl ftrace_caller); the
 * detach likewise.  /proc/self/maps at most once per commit, and not at
 * all by a commit that follows one with no object loaded in between.
 */
TEST_F(batch, accounting)
{
	struct ftramp_patch_stats s0, s1, s2;
	struct ftramp_text_stats t1;
	long pages = site_pages();

	ASSERT_EQ(0, ftramp_sites__prepare(ftramp_sites__get(), "am_f*") < 0);
	add_all(_metadata, self, false);
	ftramp_patch_get_stats(&s0);
	ASSERT_EQ(0, ftramp_attach_batch__commit(self->b));
	ftramp_patch_get_stats(&s1);
	ftramp_text_get_stats(&t1);
	take_links(_metadata, self);
	TH_LOG("%s: %ld site pages, %zu trampoline pages: %lu mprotect, %lu syncs, %lu commits, %lu maps reads",
	       variant->far ? "far" : "near", pages, t1.pages,
	       s1.mprotect_calls - s0.mprotect_calls, s1.syncs - s0.syncs,
	       s1.commits - s0.commits, s1.maps_reads - s0.maps_reads);
	EXPECT_EQ(1, s1.commits - s0.commits);
	EXPECT_EQ(variant->far ? 2 : 1, s1.syncs - s0.syncs);
	/* Site pages opened once each; with the trampoline pages (built
	 * under one hold), two mprotect() per page at most. */
	EXPECT_EQ(pages, (long)(s1.pages - s0.pages));
	EXPECT_TRUE(s1.mprotect_calls - s0.mprotect_calls <=
		    2 * ((unsigned long)pages + t1.pages));
	EXPECT_TRUE(s1.maps_reads - s0.maps_reads <= 1);

	ASSERT_EQ(0, ftramp_links__destroy(self->links, 2 * NR_FUNCS));
	ftramp_patch_get_stats(&s2);
	EXPECT_EQ(1, s2.commits - s1.commits);
	EXPECT_EQ(variant->far ? 2 : 1, s2.syncs - s1.syncs);
	/* Site pages, and the trampoline pages once each when the freed
	 * images are filled with BRK (reclaimed under one hold). */
	EXPECT_TRUE(s2.mprotect_calls - s1.mprotect_calls >=
		    2 * (unsigned long)pages);
	EXPECT_TRUE(s2.mprotect_calls - s1.mprotect_calls <=
		    2 * ((unsigned long)pages + t1.pages));
	/* nothing loaded since: the cache answers */
	EXPECT_EQ(0, s2.maps_reads - s1.maps_reads);
}

/* A batch adding to functions already traced: a modify per function. */
TEST_F(batch, add_to_traced_and_destroy_some)
{
	struct ftramp_attach_batch *b2;
	struct ftramp_link *more[NR_FUNCS];
	struct site_bytes sb[NR_FUNCS];

	for (int i = 0; i < NR_FUNCS; i++) {
		self->opts.cookie = i;
		self->opts.addr = (uint64_t)(uintptr_t)funcs[i];
		ASSERT_EQ(i, ftramp_attach_batch__add(self->b, NULL,
				FTRAMP_FENTRY, prog_in, &self->opts));
	}
	ASSERT_EQ(0, ftramp_attach_batch__commit(self->b));
	for (int i = 0; i < NR_FUNCS; i++)
		self->links[i] = ftramp_attach_batch__link(self->b, i);
	/* The same program twice on one function: -EBUSY, nothing new. */
	b2 = ftramp_attach_batch__new();
	ASSERT_NE(NULL, b2);
	for (int i = 0; i < NR_FUNCS; i++) {
		self->opts.cookie = i;
		self->opts.addr = (uint64_t)(uintptr_t)funcs[i];
		ASSERT_EQ(i, ftramp_attach_batch__add(b2, NULL, FTRAMP_FEXIT,
						      prog_out, &self->opts));
	}
	self->opts.addr = (uint64_t)(uintptr_t)funcs[3];
	ASSERT_EQ(NR_FUNCS, ftramp_attach_batch__add(b2, NULL, FTRAMP_FENTRY,
						     prog_in, &self->opts));
	EXPECT_EQ(-EBUSY, ftramp_attach_batch__commit(b2));
	EXPECT_EQ(NR_FUNCS, ftramp_attach_batch__failed(b2));
	ftramp_attach_batch__free(b2);
	for (int i = 0; i < NR_FUNCS; i++) {
		EXPECT_EQ(1 + fnum(i), funcs[i](1));
		EXPECT_EQ(1, hits_in[i]);
		EXPECT_EQ(0, hits_out[i]);
	}

	b2 = ftramp_attach_batch__new();
	ASSERT_NE(NULL, b2);
	for (int i = 0; i < NR_FUNCS; i++) {
		self->opts.cookie = i;
		self->opts.addr = (uint64_t)(uintptr_t)funcs[i];
		ASSERT_EQ(i, ftramp_attach_batch__add(b2, NULL, FTRAMP_FEXIT,
						      prog_out, &self->opts));
	}
	ASSERT_EQ(0, ftramp_attach_batch__commit(b2));
	for (int i = 0; i < NR_FUNCS; i++)
		more[i] = ftramp_attach_batch__link(b2, i);
	ftramp_attach_batch__free(b2);
	for (int i = 0; i < NR_FUNCS; i++) {
		EXPECT_EQ(1 + fnum(i), funcs[i](1));
		EXPECT_EQ(2, hits_in[i]);
		EXPECT_EQ(1, hits_out[i]);
	}
	/* Drop the fentry links only: every site keeps its fexit. */
	ASSERT_EQ(0, ftramp_links__destroy(self->links, NR_FUNCS));
	snapshot(sb);
	for (int i = 0; i < NR_FUNCS; i++) {
		EXPECT_TRUE(a64_is_bl(sb[i].b));
		EXPECT_EQ(1 + fnum(i), funcs[i](1));
		EXPECT_EQ(2, hits_in[i]);
		EXPECT_EQ(2, hits_out[i]);
	}
	ASSERT_EQ(0, ftramp_links__destroy(more, NR_FUNCS));
	snapshot(sb);
	for (int i = 0; i < NR_FUNCS; i++)
		EXPECT_EQ(A64_NOP, sb[i].b);
}

TEST_HARNESS_MAIN
