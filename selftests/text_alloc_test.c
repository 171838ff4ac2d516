// SPDX-License-Identifier: MIT
/*
 * Trampoline memory (arch/arm64/text_alloc.c): near placement, forced far
 * placement, packing and reuse, BTI-guarded pages, the writable-alias
 * scheme, injected failures and accounting.  Chunks get tiny functions
 * emitted with insn.h and are called, so "executable" is tested by
 * executing.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ftramp/ftramp.h>

#include "arch/arm64/cacheflush.h"
#include "arch/arm64/insn.h"
#include "arch/arm64/patching.h"
#include "arch/arm64/text_alloc.h"
#include "arch/arm64/text_map.h"
#include "lib/fault_inject.h"
#include "child_signal.h"
#include "harness.h"

#ifndef HWCAP2_BTI
#define HWCAP2_BTI	(1 << 17)
#endif

typedef long (*fn_t)(void);

/* Somewhere in this program's text. */
static __attribute__((noinline)) long text_anchor(void)
{
	return 1;
}

static uint64_t anchor(void)
{
	return (uintptr_t)text_anchor;
}

/* [bti c;] movz x0, #val; ret */
static int emit_ret(struct ftramp_text *t, uint16_t val, bool bti)
{
	struct a64_ctx ctx;

	a64_ctx_init(&ctx, t->rw, (uintptr_t)t->rx, t->size / 4);
	if (bti)
		a64_emit(&ctx, A64_BTI_C);
	a64_emit(&ctx, a64_movz(A64_64, A64_R0, val, 0));
	a64_emit(&ctx, a64_ret());
	return ctx.err;
}

static long call(const struct ftramp_text *t)
{
	return ((fn_t)t->rx)();
}

static void do_call(void *arg)
{
	call(arg);
}

static void do_write(void *arg)
{
	*(volatile uint32_t *)arg = A64_NOP;
}

static bool in_bl_range(uint64_t a, uint64_t b)
{
	return a64_bl(a, b) != A64_INSN_BAD && a64_bl(b, a) != A64_INSN_BAD;
}

TEST(near_chunk_runs_within_bl_range)
{
	struct ftramp_text t;

	ASSERT_EQ(0, ftramp_text_alloc(&t, 12, anchor(), 0));
	EXPECT_FALSE(t.far);
	EXPECT_EQ(t.rw, t.rx);			/* RWX window scheme */
	EXPECT_EQ(0, (uintptr_t)t.rx % FTRAMP_TEXT_GRANULE);
	EXPECT_EQ(FTRAMP_TEXT_GRANULE, t.size);
	EXPECT_TRUE(in_bl_range(anchor(), (uintptr_t)t.rx));
	EXPECT_TRUE(in_bl_range(anchor(), (uintptr_t)t.rx + t.size - 4));
	/* unwritten code traps */
	for (size_t i = 0; i < t.size / 4; i++)
		EXPECT_EQ(A64_INSN_BAD, ((uint32_t *)t.rw)[i]);
	ASSERT_EQ(0, emit_ret(&t, 42, false));
	ASSERT_EQ(0, ftramp_text_publish(&t));
	EXPECT_EQ(42, call(&t));
	/* published: the window is closed, writing faults */
	EXPECT_EQ(SIGSEGV, child_signal(do_write, t.rw));
	EXPECT_EQ(42, call(&t));
	ftramp_text_free(&t);
	EXPECT_EQ(NULL, t.rx);
}

/*
 * Ask for a window that mmap(NULL) would not pick: the middle of a big
 * hole within BL range of the text.  The chunk must land inside it.
 */
TEST(range_alloc_lands_in_the_requested_hole)
{
	struct ftramp_vmmap m;
	uint64_t lo = 0, hi = 0, a = anchor();
	struct ftramp_text t;

	ASSERT_EQ(0, ftramp_vmmap_read(&m, false));
	for (size_t i = 0; i + 1 < m.nr && !lo; i++) {
		uint64_t s = m.vma[i].end, e = m.vma[i + 1].start;

		if (e - s < (16u << 20) || !in_bl_range(a, s + (4u << 20)) ||
		    !in_bl_range(a, s + (12u << 20)))
			continue;
		lo = s + (4u << 20);
		hi = s + (12u << 20);
	}
	ftramp_vmmap_free(&m);
	if (!lo)
		SKIP(return, "no 16 MiB hole within BL range of the text");
	ASSERT_EQ(0, ftramp_text_alloc_range(&t, 100, lo, hi, 0));
	EXPECT_GE((uintptr_t)t.rx, lo);
	EXPECT_LE((uintptr_t)t.rx + t.size, hi);
	EXPECT_FALSE(t.far);
	ASSERT_EQ(0, emit_ret(&t, 7, false));
	ASSERT_EQ(0, ftramp_text_publish(&t));
	EXPECT_EQ(7, call(&t));
	ftramp_text_free(&t);

	EXPECT_EQ(-EINVAL, ftramp_text_alloc_range(&t, 100, hi, lo, 0));
}

TEST(forced_far_is_out_of_reach)
{
	struct ftramp_text near, far;

	ASSERT_EQ(0, ftramp_text_alloc(&near, 64, anchor(), 0));
	ASSERT_EQ(0, ftramp_text_alloc(&far, 64, anchor(), FTRAMP_TEXT_FAR));
	EXPECT_TRUE(far.far);
	EXPECT_FALSE(near.far);
	/* a far chunk never shares a near region */
	EXPECT_NE((uintptr_t)near.rx / 65536, (uintptr_t)far.rx / 65536);
	TH_LOG("text %#lx far chunk %p", (unsigned long)anchor(), far.rx);
	/* placed beyond BL range on purpose, so a wrong bl is refused */
	EXPECT_FALSE(in_bl_range(anchor(), (uintptr_t)far.rx));
	ASSERT_EQ(0, emit_ret(&far, 9, false));
	ASSERT_EQ(0, ftramp_text_publish(&far));
	EXPECT_EQ(9, call(&far));
	ftramp_text_free(&far);
	ftramp_text_free(&near);
}

static bool chunks_disjoint(const struct ftramp_text *a,
			    const struct ftramp_text *b)
{
	uintptr_t a0 = (uintptr_t)a->rx, b0 = (uintptr_t)b->rx;

	return a0 >= b0 + b->size || b0 >= a0 + a->size;
}

TEST(many_chunks_share_a_page_and_are_reused)
{
	enum { N = 100 };
	static struct ftramp_text t[N];
	struct ftramp_text_stats st0, st1, st2;
	uint64_t ps = sysconf(_SC_PAGESIZE), first_page;
	void *freed;
	int same_page = 0;

	ftramp_text_get_stats(&st0);
	for (int i = 0; i < N; i++) {
		ASSERT_EQ(0, ftramp_text_alloc(&t[i], 40, anchor(), 0));
		ASSERT_EQ(0, emit_ret(&t[i], 1000 + i, false));
		ASSERT_EQ(0, ftramp_text_publish(&t[i]));
	}
	first_page = (uintptr_t)t[0].rx / ps;
	for (int i = 0; i < N; i++) {
		EXPECT_EQ(1000 + i, call(&t[i]));
		same_page += (uintptr_t)t[i].rx / ps == first_page;
		for (int j = 0; j < i; j++)
			EXPECT_TRUE(chunks_disjoint(&t[i], &t[j]));
	}
	/* 64-byte granules: a 4 KiB page holds 64 of them */
	EXPECT_GE(same_page, (int)(ps / FTRAMP_TEXT_GRANULE) - 1);
	ftramp_text_get_stats(&st1);
	EXPECT_EQ(st0.regions + 1, st1.regions);
	EXPECT_EQ(st0.bytes_used + N * FTRAMP_TEXT_GRANULE, st1.bytes_used);
	EXPECT_EQ(st0.chunks + N, st1.chunks);
	TH_LOG("%d chunks: %zu bytes used, %zu mapped, %zu pages", N,
	       st1.bytes_used - st0.bytes_used,
	       st1.bytes_mapped - st0.bytes_mapped, st1.pages - st0.pages);

	/* a freed chunk is handed out again (first fit) */
	freed = t[10].rx;
	ftramp_text_free(&t[10]);
	ASSERT_EQ(0, ftramp_text_alloc(&t[10], 64, anchor(), 0));
	EXPECT_EQ(freed, t[10].rx);
	ASSERT_EQ(0, emit_ret(&t[10], 77, false));
	ASSERT_EQ(0, ftramp_text_publish(&t[10]));
	EXPECT_EQ(77, call(&t[10]));
	EXPECT_EQ(1011, call(&t[11]));

	/* the empty region is unmapped */
	for (int i = 0; i < N; i++)
		ftramp_text_free(&t[i]);
	ftramp_text_get_stats(&st2);
	EXPECT_EQ(st0.regions, st2.regions);
	EXPECT_EQ(st0.bytes_used, st2.bytes_used);
	EXPECT_EQ(st0.regions_unmapped + 1, st2.regions_unmapped);
}

/*
 * A freed chunk reads as BRK again (while its region lives on), so a
 * jump into freed trampoline memory traps instead of running old code.
 */
TEST(freed_chunk_reads_as_brk)
{
	struct ftramp_text a, b;
	struct ftramp_text_stats st0, st1;
	struct ftramp_text stale;
	const uint32_t *w;
	size_t words;

	ftramp_text_get_stats(&st0);
	ASSERT_EQ(0, ftramp_text_alloc(&a, 64, anchor(), 0));
	ASSERT_EQ(0, ftramp_text_alloc(&b, 64, anchor(), 0));
	ASSERT_EQ(0, emit_ret(&a, 42, false));
	ASSERT_EQ(0, ftramp_text_publish(&a));
	ASSERT_EQ(0, emit_ret(&b, 43, false));
	ASSERT_EQ(0, ftramp_text_publish(&b));
	EXPECT_EQ(42, call(&a));
	stale = a;
	w = (const uint32_t *)a.rx;
	words = a.size / 4;
	ftramp_text_free(&a);

	for (size_t i = 0; i < words; i++)
		EXPECT_EQ(A64_INSN_BAD, w[i]);
	EXPECT_EQ(SIGTRAP, child_signal(do_call, &stale));
	EXPECT_EQ(43, call(&b));
	ftramp_text_get_stats(&st1);
	EXPECT_EQ(st0.chunks_poisoned + 1, st1.chunks_poisoned);
	ftramp_text_free(&b);
}

TEST(big_chunk_gets_its_own_region)
{
	struct ftramp_text small, big;
	size_t size = 200 << 10;

	ASSERT_EQ(0, ftramp_text_alloc(&small, 64, anchor(), 0));
	ASSERT_EQ(0, ftramp_text_alloc(&big, size, anchor(), 0));
	EXPECT_GE(big.size, size);
	EXPECT_FALSE(big.far);
	EXPECT_TRUE(in_bl_range(anchor(), (uintptr_t)big.rx + big.size - 4));
	((uint32_t *)big.rw)[size / 4 - 2] = a64_movz(A64_64, A64_R0, 3, 0);
	((uint32_t *)big.rw)[size / 4 - 1] = a64_ret();
	ASSERT_EQ(0, ftramp_text_publish(&big));
	EXPECT_EQ(3, ((fn_t)((uint8_t *)big.rx + size - 8))());
	ftramp_text_free(&big);
	ftramp_text_free(&small);
	EXPECT_EQ(-EINVAL, ftramp_text_alloc(&big, 0, anchor(), 0));
	EXPECT_EQ(-EINVAL, ftramp_text_alloc(&big, 1ul << 30, anchor(), 0));
	EXPECT_EQ(-EINVAL, ftramp_text_alloc(&big, 64, anchor(), 0x100));
}

static bool have_bti(void)
{
	return getauxval(AT_HWCAP2) & HWCAP2_BTI;
}

TEST(bti_pages_stay_guarded)
{
	struct ftramp_text plain, guarded, landing;
	uint32_t *slot;

	if (!have_bti())
		SKIP(return, "no BTI (run with qemu-aarch64 -cpu max)");
	ASSERT_EQ(0, ftramp_text_alloc(&plain, 64, anchor(), 0));
	ASSERT_EQ(0, ftramp_text_alloc(&guarded, 64, anchor(),
				       FTRAMP_TEXT_BTI));
	ASSERT_EQ(0, ftramp_text_alloc(&landing, 64, anchor(),
				       FTRAMP_TEXT_BTI));
	/* BTI and plain chunks never share a page */
	EXPECT_NE((uintptr_t)plain.rx / 4096, (uintptr_t)guarded.rx / 4096);
	ASSERT_EQ(0, emit_ret(&plain, 1, false));
	ASSERT_EQ(0, emit_ret(&guarded, 2, false));
	ASSERT_EQ(0, emit_ret(&landing, 3, true));
	ASSERT_EQ(0, ftramp_text_publish(&plain));
	ASSERT_EQ(0, ftramp_text_publish(&guarded));
	ASSERT_EQ(0, ftramp_text_publish(&landing));

	/* an indirect call into a guarded page needs a landing pad */
	EXPECT_EQ(0, child_signal(do_call, &plain));
	EXPECT_EQ(SIGILL, child_signal(do_call, &guarded));
	EXPECT_EQ(3, call(&landing));

	/*
	 * A poke into the guarded page opens and closes its RWX window:
	 * the page must come back guarded (PROT_BTI kept by mprotect).
	 */
	slot = (uint32_t *)landing.rx + 4;	/* unused: BRK filler */
	ASSERT_EQ(A64_INSN_BAD, *slot);
	{
		struct ftramp_poke_batch *b = ftramp_poke_batch__new();

		ASSERT_NE(NULL, b);
		ASSERT_EQ(0, ftramp_poke_batch__add_insn(b, slot,
					A64_INSN_BAD, A64_NOP, 0));
		ASSERT_EQ(0, ftramp_poke_batch__commit(b));
		ftramp_poke_batch__free(b);
	}
	EXPECT_EQ(A64_NOP, *slot);
	EXPECT_EQ(SIGILL, child_signal(do_call, &guarded));
	EXPECT_EQ(3, call(&landing));
	ftramp_text_free(&plain);
	ftramp_text_free(&guarded);
	ftramp_text_free(&landing);
}

/* Does code that already ran see a later write through its alias? */
static bool alias_writes_seen_by_executed_code(void)
{
	struct ftramp_text p;
	bool seen;

	if (ftramp_text_alloc(&p, 64, anchor(), FTRAMP_TEXT_ALIAS))
		return false;
	emit_ret(&p, 1, false);
	ftramp_text_publish(&p);
	call(&p);
	((uint32_t *)p.rw)[0] = a64_movz(A64_64, A64_R0, 2, 0);
	arm64_sync_icache_range((uintptr_t)p.rx, (uintptr_t)p.rx + 8);
	seen = call(&p) == 2;
	ftramp_text_free(&p);
	return seen;
}

TEST(alias_scheme_never_maps_wx)
{
	struct ftramp_text t, ret7;
	struct ftramp_patch_stats st0, st1;
	struct ftramp_vmmap m;
	const struct ftramp_vma *v;
	uint32_t *code;

	ASSERT_EQ(0, ftramp_text_alloc(&t, 64, anchor(), FTRAMP_TEXT_ALIAS));
	ASSERT_EQ(0, ftramp_text_alloc(&ret7, 64, anchor(),
				       FTRAMP_TEXT_ALIAS));
	EXPECT_NE(t.rw, t.rx);
	EXPECT_FALSE(t.far);
	/* nop; movz x0, #1; ret -- the nop is patched to "b ret7" below */
	code = t.rw;
	code[0] = A64_NOP;
	code[1] = a64_movz(A64_64, A64_R0, 1, 0);
	code[2] = a64_ret();
	ASSERT_EQ(0, emit_ret(&ret7, 7, false));
	ASSERT_EQ(0, ftramp_text_publish(&t));
	ASSERT_EQ(0, ftramp_text_publish(&ret7));

	/* no mapping is ever writable and executable */
	ASSERT_EQ(0, ftramp_vmmap_read(&m, false));
	v = ftramp_vmmap_find(&m, (uintptr_t)t.rx);
	ASSERT_NE(NULL, (void *)v);
	EXPECT_EQ(PROT_READ | PROT_EXEC, v->prot);
	v = ftramp_vmmap_find(&m, (uintptr_t)t.rw);
	ASSERT_NE(NULL, (void *)v);
	EXPECT_EQ(PROT_READ | PROT_WRITE, v->prot);
	ftramp_vmmap_free(&m);
	EXPECT_EQ(SIGSEGV, child_signal(do_write, t.rx));

	/*
	 * Pokes into alias memory go through the alias: no mprotect.  The
	 * code has not run yet, so even an emulator sees the change.
	 */
	ftramp_patch_get_stats(&st0);
	ASSERT_EQ(0, ftramp_text_poke(t.rx, FTRAMP_POKE_JUMP, NULL, ret7.rx));
	ftramp_patch_get_stats(&st1);
	EXPECT_EQ(st0.mprotect_calls, st1.mprotect_calls);
	EXPECT_EQ(a64_b((uintptr_t)t.rx, (uintptr_t)ret7.rx),
		  *(volatile uint32_t *)t.rx);
	EXPECT_EQ(7, call(&t));
	ASSERT_EQ(0, ftramp_text_poke(t.rx, FTRAMP_POKE_JUMP, ret7.rx, NULL));
	EXPECT_EQ(A64_NOP, *(volatile uint32_t *)t.rx);
	/*
	 * Running the changed code again needs a CPU that honours IC IVAU
	 * for writes made through another mapping; qemu-user only notices
	 * writes through the executing mapping.
	 */
	if (alias_writes_seen_by_executed_code())
		EXPECT_EQ(1, call(&t));
	else
		TH_LOG("emulator ignores IC IVAU on alias writes: not rerun");
	ftramp_text_free(&t);
	ftramp_text_free(&ret7);
}

TEST(injected_failures_leave_nothing_behind)
{
	struct ftramp_text_stats st0, st1;
	struct ftramp_text t, keep;

	ftramp_text_get_stats(&st0);
	/* the region's mmap fails */
	ASSERT_EQ(0, ftramp_fault_set("mmap", 1, FTRAMP_FAULT_FOREVER,
				      -ENOMEM));
	EXPECT_EQ(-ENOMEM, ftramp_text_alloc(&t, 64, anchor(), 0));
	EXPECT_EQ(-ENOMEM, ftramp_text_alloc(&t, 64, anchor(),
					     FTRAMP_TEXT_FAR));
	ftramp_fault_clear_all();
	/* the memfd of an alias region */
	ASSERT_EQ(0, ftramp_fault_set("memfd", 1, 1, -EMFILE));
	EXPECT_EQ(-EMFILE, ftramp_text_alloc(&t, 64, anchor(),
					     FTRAMP_TEXT_ALIAS));
	ftramp_fault_clear_all();
	/* the second mmap of an alias region (the writable view) */
	ASSERT_EQ(0, ftramp_fault_set("mmap", 2, 1, -ENOMEM));
	EXPECT_EQ(-ENOMEM, ftramp_text_alloc(&t, 64, anchor(),
					     FTRAMP_TEXT_ALIAS));
	ftramp_fault_clear_all();
	/* opening the RWX window of a fresh region */
	ASSERT_EQ(0, ftramp_fault_set("mprotect", 1, 1, -EACCES));
	EXPECT_EQ(-EACCES, ftramp_text_alloc(&t, 64, anchor(), 0));
	ftramp_fault_clear_all();
	ftramp_text_get_stats(&st1);
	EXPECT_EQ(st0.regions, st1.regions);
	EXPECT_EQ(st0.bytes_mapped, st1.bytes_mapped);
	EXPECT_EQ(st0.chunks, st1.chunks);
	EXPECT_EQ(st0.failed_allocs + 5, st1.failed_allocs);

	/* ... and of an existing region: the region stays, the chunk not */
	ASSERT_EQ(0, ftramp_text_alloc(&keep, 64, anchor(), 0));
	ASSERT_EQ(0, ftramp_text_publish(&keep));
	ftramp_text_get_stats(&st0);
	ASSERT_EQ(0, ftramp_fault_set("mprotect", 1, 1, -EACCES));
	EXPECT_EQ(-EACCES, ftramp_text_alloc(&t, 64, anchor(), 0));
	ftramp_fault_clear_all();
	ftramp_text_get_stats(&st1);
	EXPECT_EQ(st0.regions, st1.regions);
	EXPECT_EQ(st0.bytes_used, st1.bytes_used);
	/* the failed chunk's granules are free again */
	ASSERT_EQ(0, ftramp_text_alloc(&t, 64, anchor(), 0));
	EXPECT_EQ((uint8_t *)keep.rx + 64, (uint8_t *)t.rx);
	ftramp_text_free(&t);
	ftramp_text_free(&keep);
}

TEST(fault_points_count_and_parse)
{
	EXPECT_EQ(0, ftramp_fault_parse("a.b:2:3:5,other:0"));
	EXPECT_EQ(0, ftramp_fault("a.b"));
	EXPECT_EQ(-5, ftramp_fault("a.b"));
	EXPECT_EQ(-5, ftramp_fault("a.b"));
	EXPECT_EQ(-5, ftramp_fault("a.b"));
	EXPECT_EQ(0, ftramp_fault("a.b"));
	EXPECT_EQ(5, ftramp_fault_calls("a.b"));
	EXPECT_EQ(3, ftramp_fault_injected("a.b"));
	EXPECT_EQ(0, ftramp_fault("other"));	/* counting only */
	EXPECT_EQ(1, ftramp_fault_calls("other"));
	EXPECT_EQ(0, ftramp_fault("unarmed"));
	EXPECT_EQ(0, ftramp_fault_calls("unarmed"));
	EXPECT_EQ(-EINVAL, ftramp_fault_parse("x:1,bad"));
	EXPECT_EQ(-EINVAL, ftramp_fault_parse("x:1:1:0"));
	EXPECT_EQ(-EINVAL, ftramp_fault_parse("x:1:2:3:4"));
	EXPECT_EQ(-EINVAL, ftramp_fault_parse(":1"));
	EXPECT_EQ(0, ftramp_fault_calls("x"));	/* all or nothing */
	EXPECT_EQ(0, ftramp_fault_clear("a.b"));
	EXPECT_EQ(-ENOENT, ftramp_fault_clear("a.b"));
	EXPECT_EQ(0, ftramp_fault("a.b"));
	ftramp_fault_clear_all();
	EXPECT_EQ(0, ftramp_fault_armed);
	EXPECT_EQ(-EINVAL, ftramp_fault_set("x:y", 1, 1, -1));
	EXPECT_EQ(-EINVAL, ftramp_fault_set("x", 1, 1, 5));
}

TEST_HARNESS_MAIN
