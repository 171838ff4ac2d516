// SPDX-License-Identifier: MIT
/*
 * trampoline/jitdebug.c: the in-memory ELF objects handed to gdb (read
 * back with libelf, their CFI evaluated by libdw, an independent reader),
 * the CFI of real emitted images (from the emitter's unwind rows) at
 * every row, the GDB JIT descriptor list
 * under register/unregister churn from threads, and the perf map.
 *
 * Built a second time with -DJITDEBUG_GDB_TARGET (-g -O1, frame
 * pointers) as the program selftests/gdb_bt.sh runs under gdb: see
 * gdb_target_main() at the end.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ftramp/ftramp.h>

#include "arch/arm64/insn.h"
#include "arch/arm64/text_alloc.h"
#include "trampoline/jitdebug.h"
#include "trampoline/trampoline.h"

/* The GDB JIT interface (gdb/jit.h), declared here independently. */
struct gdb_jit_code_entry {
	struct gdb_jit_code_entry *next_entry;
	struct gdb_jit_code_entry *prev_entry;
	const char *symfile_addr;
	uint64_t symfile_size;
};

struct gdb_jit_descriptor {
	uint32_t version;
	uint32_t action_flag;
	struct gdb_jit_code_entry *relevant_entry;
	struct gdb_jit_code_entry *first_entry;
};

extern struct gdb_jit_descriptor __jit_debug_descriptor;

#define TRACEE __attribute__((noipa, aligned(8), \
			      patchable_function_entry(4, 2)))

#define U64(p)	((uint64_t)(uintptr_t)(p))

#ifndef JITDEBUG_GDB_TARGET
#include "selftests/harness.h"
#include "selftests/read_file.h"

static uint32_t fake_code[64];	/* never run: only its address is named */

static uint64_t prog_nop(const uint64_t *ctx) { return 0; }

#define NR(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * The rows of a frame built as the emitter does: stp x29, x9, [sp,
 * #-48]!; mov x29, sp; ... ldp x29, x30, [sp], #48 at 36; ret at 40;
 * code after the return (a slow path) with the frame up again.
 */
static const struct a64_uw_row rows_a[] = {
	{ .off = 0, .cfa_reg = 31, .ra_reg = 9 },
	{ .off = 4, .cfa_reg = 31, .cfa_off = 48, .fp_at = -48, .ra_at = -40 },
	{ .off = 8, .cfa_reg = 29, .cfa_off = 48, .fp_at = -48, .ra_at = -40 },
	{ .off = 40, .cfa_reg = 31, .ra_reg = 30 },
	{ .off = 44, .cfa_reg = 29, .cfa_off = 48, .fp_at = -48, .ra_at = -40 },
};

/* Open the object of handle h with libelf. */
static Elf *open_obj(int h, struct ftramp_jit_entry_info *info)
{
	if (ftramp_jitdebug__info(h, info))
		return NULL;
	elf_version(EV_CURRENT);
	return elf_memory((char *)info->symfile, info->symfile_size);
}

static Elf_Scn *find_scn(Elf *e, const char *name, GElf_Shdr *sh)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(e, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(e, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, sh))
			return NULL;
		n = elf_strptr(e, shstrndx, sh->sh_name);
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

TEST(elf_object_symbol)
{
	struct ftramp_jit_entry_info info;
	GElf_Shdr text, symtab;
	Elf_Data *data;
	GElf_Ehdr eh;
	GElf_Sym sym;
	Elf_Scn *scn;
	Elf *e;
	int h;

	h = ftramp_jitdebug__register("my_func", U64(fake_code),
				      sizeof(fake_code), rows_a, NR(rows_a));
	ASSERT_GE(h, 0);
	e = open_obj(h, &info);
	ASSERT_TRUE(e != NULL);
	EXPECT_EQ(U64(fake_code), info.addr);
	ASSERT_TRUE(gelf_getehdr(e, &eh) != NULL);
	EXPECT_EQ(ELFCLASS64, eh.e_ident[EI_CLASS]);
	EXPECT_EQ(EM_AARCH64, eh.e_machine);
	EXPECT_EQ(ET_REL, eh.e_type);

	ASSERT_TRUE(find_scn(e, ".text", &text) != NULL);
	EXPECT_EQ(SHT_NOBITS, text.sh_type);
	EXPECT_EQ(U64(fake_code), text.sh_addr);
	EXPECT_EQ(sizeof(fake_code), text.sh_size);
	EXPECT_TRUE(text.sh_flags & SHF_ALLOC);
	EXPECT_TRUE(text.sh_flags & SHF_EXECINSTR);

	scn = find_scn(e, ".symtab", &symtab);
	ASSERT_TRUE(scn != NULL);
	data = elf_getdata(scn, NULL);
	ASSERT_TRUE(data != NULL);
	ASSERT_EQ(2, symtab.sh_size / symtab.sh_entsize);
	ASSERT_TRUE(gelf_getsym(data, 1, &sym) != NULL);
	EXPECT_STREQ("ftramp_tramp:my_func",
		     elf_strptr(e, symtab.sh_link, sym.st_name));
	EXPECT_EQ(STT_FUNC, GELF_ST_TYPE(sym.st_info));
	EXPECT_EQ(STB_GLOBAL, GELF_ST_BIND(sym.st_info));
	EXPECT_EQ(sizeof(fake_code), sym.st_size);
	/* Relocatable: the value is an offset into .text. */
	EXPECT_EQ(0, sym.st_value);
	EXPECT_EQ(elf_ndxscn(find_scn(e, ".text", &text)), sym.st_shndx);

	ASSERT_TRUE(find_scn(e, ".debug_frame", &symtab) != NULL);
	EXPECT_GT(symtab.sh_size, 0);
	elf_end(e);
	EXPECT_EQ(0, ftramp_jitdebug__unregister(h));
}

/* The CFA rule at pc: register and offset (DW_OP_bregx reg, off). */
static int cfa_at(Dwarf_CFI *cfi, uint64_t pc, unsigned int *reg, int64_t *off)
{
	Dwarf_Frame *fr;
	Dwarf_Op *ops;
	size_t nops;
	int ret = -1;

	if (dwarf_cfi_addrframe(cfi, pc, &fr))
		return -1;
	if (!dwarf_frame_cfa(fr, &ops, &nops) && nops == 1 &&
	    ops[0].atom == DW_OP_bregx) {
		*reg = (unsigned int)ops[0].number;
		*off = (int64_t)ops[0].number2;
		ret = 0;
	}
	free(fr);
	return ret;
}

/*
 * The rule for reg at pc (libdw.h, dwarf_frame_register()): 0 and
 * *in_reg = N for "in register N" (reg itself: same value), or *in_reg
 * = -1 and *cfa_off for "saved at CFA + off"; -3 undefined, -2 a form
 * this test does not expect, -1 no CFI there.
 */
static int ra_at(Dwarf_CFI *cfi, uint64_t pc, unsigned int reg,
		 int *in_reg, int64_t *cfa_off)
{
	Dwarf_Op mem[3], *ops;
	Dwarf_Frame *fr;
	size_t nops;
	int ret = -1;

	if (dwarf_cfi_addrframe(cfi, pc, &fr))
		return -1;
	*in_reg = -1;
	*cfa_off = 0;
	if (!dwarf_frame_register(fr, reg, mem, &ops, &nops)) {
		ret = 0;
		if (nops == 0 && !ops)
			*in_reg = (int)reg;		/* same value */
		else if (nops == 0)
			ret = -3;			/* undefined */
		else if (nops == 1 && ops[0].atom == DW_OP_regx)
			*in_reg = (int)ops[0].number;
		else if (nops == 1 && ops[0].atom == DW_OP_call_frame_cfa)
			*cfa_off = 0;
		else if (nops == 2 && ops[0].atom == DW_OP_call_frame_cfa &&
			 ops[1].atom == DW_OP_plus_uconst)
			*cfa_off = (int64_t)ops[1].number;
		else if (nops == 3 && ops[0].atom == DW_OP_call_frame_cfa &&
			 ops[1].atom == DW_OP_consts &&
			 ops[2].atom == DW_OP_plus)
			*cfa_off = (int64_t)ops[1].number;
		else
			ret = -2;
	}
	free(fr);
	return ret;
}

/* libdw's rule for reg matches "saved at CFA + at", or "live" (at 0). */
static bool rule_is(Dwarf_CFI *cfi, uint64_t pc, unsigned int reg,
		    int32_t at, int live_in)
{
	int64_t off;
	int in_reg;

	if (ra_at(cfi, pc, reg, &in_reg, &off))
		return false;
	return at ? in_reg == -1 && off == at : in_reg == live_in;
}

/*
 * Evaluate the object's CFI with libdw at the first and the last
 * instruction of every row and check it says what the row says.
 */
static void check_cfi(struct __test_metadata *_metadata, int h,
		      const struct a64_uw_row *rows, unsigned int nr,
		      size_t size)
{
	struct ftramp_jit_entry_info info;
	unsigned int reg;
	Dwarf_CFI *cfi;
	int64_t off;
	Dwarf *dw;
	Elf *e;

	e = open_obj(h, &info);
	ASSERT_TRUE(e != NULL);
	dw = dwarf_begin_elf(e, DWARF_C_READ, NULL);
	ASSERT_TRUE(dw != NULL);
	cfi = dwarf_getcfi(dw);
	ASSERT_TRUE(cfi != NULL);

	for (unsigned int k = 0; k < nr; k++) {
		const struct a64_uw_row *r = &rows[k];
		uint32_t last = (k + 1 < nr ? rows[k + 1].off :
				 (uint32_t)size) - 4;

		for (uint32_t o = r->off; ; o = last) {
			uint64_t pc = info.addr + o;

			ASSERT_EQ(0, cfa_at(cfi, pc, &reg, &off));
			EXPECT_EQ(r->cfa_reg, reg);
			EXPECT_EQ(r->cfa_off, off);
			EXPECT_TRUE(rule_is(cfi, pc, 30, r->ra_at, r->ra_reg));
			EXPECT_TRUE(rule_is(cfi, pc, 29, r->fp_at, 29));
			EXPECT_TRUE(rule_is(cfi, pc, 19,
					    r->saved_at[A64_UW_SAVED(19)], 19));
			if (o == last)
				break;
		}
	}
	/* Outside the range: nothing. */
	EXPECT_NE(0, cfa_at(cfi, info.addr + size, &reg, &off));
	dwarf_end(dw);
	elf_end(e);
}

TEST(cfi_rows_form_a)
{
	int h = ftramp_jitdebug__register("a", U64(fake_code),
					  sizeof(fake_code), rows_a,
					  NR(rows_a));

	ASSERT_GE(h, 0);
	check_cfi(_metadata, h, rows_a, NR(rows_a), sizeof(fake_code));
	ftramp_jitdebug__unregister(h);
}

TEST(cfi_rows_form_b)
{
	/*
	 * sub sp; stp x29, x30, [sp, #64]; add x29; ... str x19 ... ldp;
	 * add sp; ret
	 */
	static const struct a64_uw_row rows_b[] = {
		{ .off = 0, .cfa_reg = 31, .ra_reg = 30 },
		{ .off = 8, .cfa_reg = 31, .cfa_off = 1024, .ra_reg = 30 },
		{ .off = 12, .cfa_reg = 31, .cfa_off = 1024,
		  .fp_at = -960, .ra_at = -952 },
		{ .off = 16, .cfa_reg = 29, .cfa_off = 960,
		  .fp_at = -960, .ra_at = -952 },
		{ .off = 24, .cfa_reg = 29, .cfa_off = 960,
		  .fp_at = -960, .ra_at = -952,
		  .saved_at[A64_UW_SAVED(19)] = -944 },
		{ .off = 196, .cfa_reg = 29, .cfa_off = 960,
		  .fp_at = -960, .ra_at = -952 },
		{ .off = 200, .cfa_reg = 31, .cfa_off = 1024, .ra_reg = 30 },
		{ .off = 204, .cfa_reg = 31, .ra_reg = 30 },
		{ .off = 212, .cfa_reg = 29, .cfa_off = 960,
		  .fp_at = -960, .ra_at = -952 },
	};
	int h = ftramp_jitdebug__register("b", U64(fake_code),
					  sizeof(fake_code), rows_b,
					  NR(rows_b));

	ASSERT_GE(h, 0);
	check_cfi(_metadata, h, rows_b, NR(rows_b), sizeof(fake_code));
	ftramp_jitdebug__unregister(h);
}

/* Build an image like ftrace/attach.c does; returns its size. */
static int build_image(struct ftramp_text *text, const char *proto,
		       unsigned int flags, bool fexit, struct a64_uw_rows *uw)
{
	static struct ftramp_func_model m;
	static struct ftramp_tramp_link l = { .prog = prog_nop };
	struct ftramp_tramp_args args = { 0 };
	int size;

	if (proto && ftramp_model__parse(proto, &m, NULL))
		return -EINVAL;
	args.model = proto ? &m : NULL;
	args.flags = flags;
	args.progs[FTRAMP_TRAMP_FENTRY] = (struct ftramp_tramp_links){ &l, 1 };
	if (fexit)
		args.progs[FTRAMP_TRAMP_FEXIT] =
			(struct ftramp_tramp_links){ &l, 1 };
	args.func_addr = U64(fake_code);
	args.unwind = uw;
	size = ftramp_arch_prepare_trampoline(&args, NULL, 0, 0);
	if (size < 0)
		return size;
	if (ftramp_text_alloc(text, (size_t)size, 0, FTRAMP_TEXT_FAR))
		return -ENOMEM;
	return ftramp_arch_prepare_trampoline(&args, text->rw,
					      U64(text->rx), text->size);
}

/* Images as ftrace/attach.c builds and registers them. */
TEST(cfi_of_emitted_images)
{
	static const struct {
		const char *proto;
		unsigned int flags;
		bool fexit;
		uint8_t ra;
	} v[] = {
		{ "int (int, int)", FTRAMP_TRAMP_F_CALL_ORIG, true, 9 },
		{ "int (int, int)", 0, false, 9 },	/* into the body */
		{ "int (int, int)", FTRAMP_TRAMP_F_CALL_ORIG |
		  FTRAMP_TRAMP_F_BTI, true, 9 },
		{ "long (long)", FTRAMP_TRAMP_F_AS_FUNC |
		  FTRAMP_TRAMP_F_SKIP_FRAME, false, 30 },
		/* unknown model: 64 bytes of stack arguments under the record */
		{ NULL, FTRAMP_TRAMP_F_CALL_ORIG, true, 9 },
	};

	for (unsigned int i = 0; i < NR(v); i++) {
		struct a64_uw_row rows[64];
		struct a64_uw_rows uw = { .v = rows, .cap = NR(rows) };
		struct ftramp_text text;
		int size, h;

		size = build_image(&text, v[i].proto, v[i].flags, v[i].fexit,
				   &uw);
		ASSERT_GT(size, 0);
		ASSERT_LE(uw.nr, uw.cap);
		TH_LOG("image %u: %d bytes, %u rows", i, size, uw.nr);
		EXPECT_EQ(v[i].ra, rows[0].ra_reg);
		h = ftramp_jitdebug__register("img", U64(text.rx),
					      (size_t)size, rows, uw.nr);
		ASSERT_GE(h, 0);
		check_cfi(_metadata, h, rows, uw.nr, (size_t)size);
		EXPECT_EQ(0, ftramp_jitdebug__unregister(h));
		ftramp_text_free(&text);
	}
}

TEST(register_errors)
{
	struct a64_uw_row bad[NR(rows_a)];
	int h;

	EXPECT_EQ(-EINVAL, ftramp_jitdebug__register("x", 0x1000, 0, NULL, 0));
	EXPECT_EQ(-EINVAL, ftramp_jitdebug__register(NULL, 0x1000, 8, NULL, 0));
	EXPECT_EQ(-EINVAL,
		  ftramp_jitdebug__register("x", ~0ull - 4, 8, NULL, 0));
	/* A row past the range. */
	EXPECT_EQ(-EINVAL, ftramp_jitdebug__register("x", 0x1000, 40, rows_a,
						     NR(rows_a)));
	memcpy(bad, rows_a, sizeof(bad));
	bad[2].off = 2;			/* descending, not an instruction */
	EXPECT_EQ(-EINVAL, ftramp_jitdebug__register("x", 0x1000, 64, bad,
						     NR(bad)));
	memcpy(bad, rows_a, sizeof(bad));
	bad[1].fp_at = -44;		/* not a slot */
	EXPECT_EQ(-EINVAL, ftramp_jitdebug__register("x", 0x1000, 64, bad,
						     NR(bad)));
	EXPECT_EQ(-ENOENT, ftramp_jitdebug__unregister(-1));
	EXPECT_EQ(-ENOENT, ftramp_jitdebug__unregister(12345));
	/* No frame: a symbol only. */
	h = ftramp_jitdebug__register("x", 0x1000, 64, NULL, 0);
	ASSERT_GE(h, 0);
	EXPECT_EQ(h, ftramp_jitdebug__find(0x1000 + 63));
	EXPECT_EQ(-ENOENT, ftramp_jitdebug__find(0x1000 + 64));
	EXPECT_EQ(0, ftramp_jitdebug__unregister(h));
	EXPECT_EQ(-ENOENT, ftramp_jitdebug__unregister(h));
	EXPECT_EQ(0, ftramp_jitdebug__count());
}

/* Walk the list both ways; return its length or -1 if inconsistent. */
static int list_check(void)
{
	struct gdb_jit_code_entry *e, *prev = NULL;
	int n = 0;

	for (e = __jit_debug_descriptor.first_entry; e; e = e->next_entry) {
		if (e->prev_entry != prev)
			return -1;
		prev = e;
		n++;
	}
	return n;
}

TEST(descriptor_list)
{
	struct gdb_jit_descriptor *d = &__jit_debug_descriptor;
	struct ftramp_jit_entry_info info[3];
	int h[3];

	EXPECT_EQ(1, d->version);
	EXPECT_EQ(0, list_check());
	for (int i = 0; i < 3; i++) {
		h[i] = ftramp_jitdebug__register("f", 0x10000 + 0x100 * i,
						 0x40, NULL, 0);
		ASSERT_GE(h[i], 0);
		ASSERT_EQ(0, ftramp_jitdebug__info(h[i], &info[i]));
		/* The newest is first, and was the relevant one. */
		EXPECT_EQ(info[i].symfile, d->first_entry->symfile_addr);
		EXPECT_EQ(info[i].symfile_size, d->first_entry->symfile_size);
		EXPECT_EQ(d->first_entry, d->relevant_entry);
		EXPECT_EQ(0, d->action_flag);	/* JIT_NOACTION afterwards */
	}
	EXPECT_EQ(3, list_check());
	EXPECT_EQ(3, ftramp_jitdebug__count());

	/* Unlink the middle one: the others still link to each other. */
	EXPECT_EQ(0, ftramp_jitdebug__unregister(h[1]));
	EXPECT_EQ(2, list_check());
	EXPECT_EQ(info[2].symfile, d->first_entry->symfile_addr);
	EXPECT_EQ(info[0].symfile, d->first_entry->next_entry->symfile_addr);
	EXPECT_EQ(0, d->action_flag);
	/* The freed handle is reused. */
	EXPECT_EQ(h[1], ftramp_jitdebug__register("g", 0x20000, 8, NULL, 0));
	EXPECT_EQ(3, list_check());
	EXPECT_EQ(0, ftramp_jitdebug__unregister(h[2]));	/* the head */
	EXPECT_EQ(0, ftramp_jitdebug__unregister(h[0]));	/* the tail */
	EXPECT_EQ(0, ftramp_jitdebug__unregister(h[1]));
	EXPECT_EQ(0, list_check());
	EXPECT_NULL(d->first_entry);
}

#define CHURN_THREADS	4
#define CHURN_ROUNDS	300

static void *churn(void *arg)
{
	uintptr_t id = (uintptr_t)arg, bad = 0;
	int h[4];

	for (int r = 0; r < CHURN_ROUNDS; r++) {
		for (int k = 0; k < 4; k++) {
			uint64_t addr = 0x100000 * (id + 1) + 0x100 * k;

			h[k] = ftramp_jitdebug__register("churn", addr, 0x80,
							 rows_a, NR(rows_a));
			if (h[k] < 0 || ftramp_jitdebug__find(addr) != h[k])
				bad++;
		}
		for (int k = 0; k < 4; k++) {
			struct ftramp_jit_entry_info info;

			if (ftramp_jitdebug__info(h[k], &info) ||
			    info.addr != 0x100000 * (id + 1) + 0x100 * k ||
			    ftramp_jitdebug__unregister(h[k]))
				bad++;
		}
	}
	return (void *)bad;
}

TEST(threads_churn)
{
	pthread_t t[CHURN_THREADS];

	for (uintptr_t i = 0; i < CHURN_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, churn, (void *)i));
	for (int i = 0; i < CHURN_THREADS; i++) {
		void *bad;

		ASSERT_EQ(0, pthread_join(t[i], &bad));
		EXPECT_EQ(0, (uintptr_t)bad);
	}
	EXPECT_EQ(0, list_check());
	EXPECT_EQ(0, ftramp_jitdebug__count());
}

TEST(perf_map)
{
	char path[64], want[256];
	int h1, h2;
	char *s;

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
	unlink(path);
	unsetenv("FTRAMP_PERF_MAP");
	ftramp_jitdebug__perf_map_reset();
	h1 = ftramp_jitdebug__register("off", 0x4000, 0x10, NULL, 0);
	EXPECT_EQ(NULL, read_file(path));	/* not enabled: no file */

	setenv("FTRAMP_PERF_MAP", "1", 1);
	ftramp_jitdebug__perf_map_reset();
	h2 = ftramp_jitdebug__register("kv_get", 0xaaaa00001000ull, 0x1a8,
				       NULL, 0);
	ASSERT_GE(h2, 0);
	ftramp_jitdebug__unregister(h2);	/* lines stay */
	h2 = ftramp_jitdebug__register("kv put", 0xffff00000040ull, 0x40,
				       rows_a, NR(rows_a));
	s = read_file(path);
	ASSERT_TRUE(s != NULL);
	snprintf(want, sizeof(want),
		 "aaaa00001000 1a8 ftramp_tramp:kv_get\n"
		 "ffff00000040 40 ftramp_tramp:kv put\n");
	EXPECT_STREQ(want, s);
	ftramp_jitdebug__unregister(h1);
	ftramp_jitdebug__unregister(h2);
	unsetenv("FTRAMP_PERF_MAP");
	ftramp_jitdebug__perf_map_reset();
	unlink(path);
}

/*
 * The library registers the images it builds: an attached function's
 * trampoline is named ftramp_tramp:<function> (found from inside a
 * program, whose return address is in the image) and goes away once the
 * image is reclaimed.
 */
TRACEE int jd_attached(int x);
TRACEE int jd_attached(int x)
{
	return x + 1;
}

static uint64_t seen_ra;

static uint64_t prog_ra(const uint64_t *ctx)
{
	seen_ra = U64(__builtin_return_address(0));
	return 0;
}

TEST(attached_images_are_registered)
{
	struct ftramp_jit_entry_info info;
	struct ftramp_link *link;
	size_t before = ftramp_jitdebug__count();
	GElf_Shdr symtab;
	Elf_Data *data;
	GElf_Sym sym;
	Elf_Scn *scn;
	Elf *e;
	int h;

	link = ftramp_attach("jd_attached", FTRAMP_FENTRY, prog_ra, NULL);
	ASSERT_TRUE(link != NULL);
	EXPECT_EQ(before + 1, ftramp_jitdebug__count());
	EXPECT_EQ(8, jd_attached(7));
	ASSERT_NE(0, seen_ra);
	h = ftramp_jitdebug__find(seen_ra);
	ASSERT_GE(h, 0);
	e = open_obj(h, &info);
	ASSERT_TRUE(e != NULL);
	scn = find_scn(e, ".symtab", &symtab);
	ASSERT_TRUE(scn != NULL);
	data = elf_getdata(scn, NULL);
	ASSERT_TRUE(data != NULL && gelf_getsym(data, 1, &sym) != NULL);
	EXPECT_STREQ("ftramp_tramp:jd_attached",
		     elf_strptr(e, symtab.sh_link, sym.st_name));
	/* The frame was read from the emitted code: CFI is there. */
	EXPECT_TRUE(find_scn(e, ".debug_frame", &symtab) != NULL);
	elf_end(e);

	ftramp_link__destroy(link);
	ASSERT_EQ(0, ftramp_sync(10000));
	EXPECT_EQ(before, ftramp_jitdebug__count());
	EXPECT_EQ(-ENOENT, ftramp_jitdebug__find(seen_ra));
}

TEST_HARNESS_MAIN

#else /* JITDEBUG_GDB_TARGET */

/*
 * The program selftests/gdb_bt.sh debugs.  main -> jd_outer -> jd_middle
 * -> jd_traced, traced by an fentry and an fexit program built and
 * installed as ftrace/attach.c does (ftramp_direct__register()), its CFI
 * from the emitter's unwind rows (ftramp_jitdebug__register()).  Each
 * program calls jd_marker(), where gdb stops and prints a backtrace, with
 * jd_phase saying what to expect:
 *
 *   1  fentry, image not registered with gdb (today's view)
 *   2  fentry, registered
 *   3  fexit, registered
 *   4  in the original (jd_traced itself), under the fexit image
 *
 * If the library registers its images itself, the program does not
 * register again (ftramp_jitdebug__find()), and phase 1 is registered
 * too; it says so on stdout.
 */
volatile int jd_phase;

__attribute__((noinline)) void jd_marker(void);
__attribute__((noinline)) void jd_marker(void)
{
	__asm__ volatile("" ::: "memory");
}

int jd_traced(int x);
int jd_middle(int x);
int jd_outer(int x);

TRACEE int jd_traced(int x)
{
	if (jd_phase == 4)
		jd_marker();
	return x + 1;
}

__attribute__((noinline)) int jd_middle(int x)
{
	return jd_traced(x) * 2;
}

__attribute__((noinline)) int jd_outer(int x)
{
	return jd_middle(x) + 1;
}

static uint64_t jd_fentry(const uint64_t *ctx)
{
	if (jd_phase == 1 || jd_phase == 2)
		jd_marker();
	return 0;
}

static uint64_t jd_fexit(const uint64_t *ctx)
{
	if (jd_phase == 3)
		jd_marker();
	return 0;
}

static int die(const char *what, int err)
{
	fprintf(stderr, "gdb target: %s: %s\n", what, strerror(-err));
	return 1;
}

int main(void)
{
	struct ftramp_tramp_link fl = { .prog = jd_fentry };
	struct ftramp_tramp_link xl = { .prog = jd_fexit };
	struct ftramp_site_info si = { .sz = sizeof(si) };
	static struct ftramp_tramp_state state;
	struct ftramp_ftrace_ops ops = { 0 };
	struct ftramp_tramp_args args = { 0 };
	struct ftramp_func_model m;
	struct a64_uw_row rows[64];
	struct a64_uw_rows uw = { .v = rows, .cap = 64 };
	struct ftramp_text text;
	const struct ftramp_site *s;
	int size, err, h = -1, sum = 0;

	s = ftramp_sites__find_name(ftramp_sites__get(), "jd_traced");
	if (!s || ftramp_site__info(s, &si))
		return die("no site for jd_traced", -ENOENT);
	err = ftramp_model__parse("int (int)", &m, NULL);
	if (err)
		return die("model", err);
	err = ftramp_tramp_state_init(&state);
	if (err)
		return die("state", err);
	args.model = &m;
	args.progs[FTRAMP_TRAMP_FENTRY] = (struct ftramp_tramp_links){ &fl, 1 };
	args.progs[FTRAMP_TRAMP_FEXIT] = (struct ftramp_tramp_links){ &xl, 1 };
	args.flags = FTRAMP_TRAMP_F_CALL_ORIG;
	if (ftramp_tramp_cpu_has_lse())
		args.flags |= FTRAMP_TRAMP_F_LSE;
	args.func_addr = si.func;
	args.orig_addr = si.patch + 8;
	args.state = &state;
	args.unwind = &uw;
	size = ftramp_arch_prepare_trampoline(&args, NULL, 0, 0);
	if (size < 0)
		return die("size", size);
	err = ftramp_text_alloc(&text, (size_t)size, si.patch + 4, 0);
	if (err)
		return die("alloc", err);
	size = ftramp_arch_prepare_trampoline(&args, text.rw, U64(text.rx),
					      text.size);
	if (size < 0)
		return die("build", size);
	err = ftramp_text_publish(&text);
	if (!err)
		err = ftramp_ftrace_ops__set_filter(&ops, "jd_traced", 1);
	if (!err)
		err = ftramp_direct__register(&ops, U64(text.rx));
	if (err)
		return die("install", err);
	printf("image %#llx size %d%s\n", (unsigned long long)U64(text.rx),
	       size, text.far ? " (far)" : "");

	if (ftramp_jitdebug__find(U64(text.rx)) >= 0)
		printf("registered by the library\n");
	jd_phase = 1;
	sum += jd_outer(1);
	if (ftramp_jitdebug__find(U64(text.rx)) < 0) {
		/* The emitter's unwind rows, as ftrace/attach.c registers. */
		if (uw.nr > uw.cap)
			return die("rows", -E2BIG);
		h = ftramp_jitdebug__register("jd_traced", U64(text.rx),
						   (size_t)size, uw.v, uw.nr);
		if (h < 0)
			return die("register", h);
	}
	for (jd_phase = 2; jd_phase <= 4; jd_phase++)
		sum += jd_outer(jd_phase);
	printf("sum %d\n", sum);	/* 2 * (x + 1) + 1 for x = 1..4: 32 */

	err = ftramp_direct__unregister(&ops, U64(text.rx));
	if (err)
		return die("unregister", err);
	if (h >= 0)
		ftramp_jitdebug__unregister(h);
	ftramp_text_free(&text);
	return sum == 32 ? 0 : 1;
}

#endif /* JITDEBUG_GDB_TARGET */
