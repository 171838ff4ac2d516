// SPDX-License-Identifier: MIT
/*
 * The CFI encoder (arch/arm64/eh_frame.c) and the emitter's unwind rows
 * (arch/arm64/trampoline.c), pure: on the host under ASan+UBSan, and on
 * arm64.
 *
 *  - the encoder refuses rows it cannot describe and never writes past
 *    the buffer;
 *  - every image the emitter writes has rows that are exact at each call
 *    an unwinder can return to: the frame is up (CFA from x29, x29 and the
 *    return address in the record), the caller's x19 is where the entry
 *    saved it, and `held` says what the frame owns there (guard byte and
 *    in-flight unit around programs, the unit alone around the original,
 *    nothing in the first-entry call); at entry the return address is in
 *    x9 (a site) or x30, and after the frame is down it is in x30;
 *  - the host build writes the encoded .eh_frame and .debug_frame into
 *    ELF files and has readelf decode them (`readelf -wF`): its table
 *    must equal the rows at every location.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/arm64/eh_frame.h"
#include "arch/arm64/insn.h"
#include "selftests/harness.h"
#include "trampoline/model.h"
#include "trampoline/trampoline.h"

#define MAX_ROWS	64
#define MAX_NOTES	128
#define IMG_WORDS	2048
#define RX		0x10000000ull	/* far from any program: BLR calls */

static uint64_t nop_prog(const uint64_t *ctx)
{
	return 0;
}

static const struct a64_uw_row base_row = {
	.cfa_reg = A64_DW_SP, .ra_reg = 9,
};

TEST(encoder_refuses_bad_rows)
{
	struct a64_uw_row rows[3] = { base_row, base_row, base_row };
	struct a64_cfi_fde f = {
		.pc_begin = 0x1000, .pc_range = 64, .rows = rows, .nr_rows = 3,
	};

	rows[1].off = 8;
	rows[2].off = 16;
	EXPECT_LT(0, a64_cfi_encode(NULL, 0, &f, A64_CFI_EH_FRAME));
	EXPECT_LT(0, a64_cfi_encode(NULL, 0, &f, A64_CFI_DEBUG_FRAME));
	EXPECT_EQ(-EINVAL, a64_cfi_encode(NULL, 0, NULL, A64_CFI_EH_FRAME));
	EXPECT_EQ(-EINVAL, a64_cfi_encode(NULL, 0, &f, 7));
	rows[2].off = 4;		/* descending */
	EXPECT_EQ(-EINVAL, a64_cfi_encode(NULL, 0, &f, A64_CFI_EH_FRAME));
	rows[2].off = 18;		/* not an instruction */
	EXPECT_EQ(-EINVAL, a64_cfi_encode(NULL, 0, &f, A64_CFI_EH_FRAME));
	rows[2].off = 64;		/* past the range */
	EXPECT_EQ(-EINVAL, a64_cfi_encode(NULL, 0, &f, A64_CFI_EH_FRAME));
	rows[2].off = 16;
	rows[2].fp_at = -12;		/* not a slot */
	EXPECT_EQ(-EINVAL, a64_cfi_encode(NULL, 0, &f, A64_CFI_EH_FRAME));
	rows[2].fp_at = 8;		/* above the CFA: never a save */
	EXPECT_EQ(-EINVAL, a64_cfi_encode(NULL, 0, &f, A64_CFI_EH_FRAME));
	rows[2].fp_at = 0;
	rows[2].cfa_reg = 3;
	EXPECT_EQ(-EINVAL, a64_cfi_encode(NULL, 0, &f, A64_CFI_EH_FRAME));
	rows[2].cfa_reg = A64_DW_SP;
	rows[0].off = 4;		/* does not start at 0 */
	EXPECT_EQ(-EINVAL, a64_cfi_encode(NULL, 0, &f, A64_CFI_EH_FRAME));
}

TEST(encoder_never_writes_past_cap)
{
	struct a64_uw_row rows[2] = { base_row, base_row };
	struct a64_cfi_fde f = {
		.pc_begin = 0x1000, .pc_range = 4096, .rows = rows, .nr_rows = 2,
		.personality = 0x1234, .lsda = 0x5678,
	};
	long need, n;
	uint8_t *b;

	rows[1].off = 4000;		/* an advance_loc2 */
	rows[1].cfa_off = 4096;
	rows[1].fp_at = -4096;
	rows[1].ra_at = -4088;
	need = a64_cfi_encode(NULL, 0, &f, A64_CFI_EH_FRAME);
	ASSERT_LT(0, need);
	EXPECT_EQ(0, need % 8);
	for (long cap = 0; cap <= need; cap++) {
		/* An exact heap block: ASan sees any byte past it. */
		b = malloc(cap ? (size_t)cap : 1);
		ASSERT_TRUE(b != NULL);
		n = a64_cfi_encode(b, (size_t)cap, &f, A64_CFI_EH_FRAME);
		EXPECT_EQ(need, n);
		free(b);
	}
}

TEST(row_lookup)
{
	struct a64_uw_row rows[3] = { base_row, base_row, base_row };

	rows[1].off = 8;
	rows[2].off = 20;
	EXPECT_TRUE(a64_uw_row_at(rows, 3, 0) == &rows[0]);
	EXPECT_TRUE(a64_uw_row_at(rows, 3, 7) == &rows[0]);
	EXPECT_TRUE(a64_uw_row_at(rows, 3, 8) == &rows[1]);
	EXPECT_TRUE(a64_uw_row_at(rows, 3, 19) == &rows[1]);
	EXPECT_TRUE(a64_uw_row_at(rows, 3, 1000) == &rows[2]);
	EXPECT_TRUE(a64_uw_row_at(rows, 0, 0) == NULL);
	EXPECT_TRUE(a64_uw_row_at(NULL, 3, 0) == NULL);
}

/* ------------------------------------------------------------------
 * The emitter's rows
 * ------------------------------------------------------------------ */

struct image {
	uint32_t code[IMG_WORDS];
	int size;
	struct a64_uw_row rows[MAX_ROWS];
	struct a64_uw_rows uw;
	struct ftramp_tramp_note notes[MAX_NOTES];
	struct ftramp_tramp_notes n;
	uint32_t code_end;	/* the literal pool starts here */
};

struct config {
	const char *name;
	const char *proto;	/* NULL: the unknown model */
	unsigned int flags;
	bool fentry, fexit, fmod_ret;
	bool state;
};

static const struct config configs[] = {
	{ "fentry", "long (long, long)", 0, .fentry = true, .state = true },
	{ "fexit", "int (int, int)", FTRAMP_TRAMP_F_CALL_ORIG, .fexit = true,
	  .state = true },
	{ "fentry_fexit_lse", "long (long, long)",
	  FTRAMP_TRAMP_F_CALL_ORIG | FTRAMP_TRAMP_F_LSE, .fentry = true,
	  .fexit = true, .state = true },
	{ "fmod_ret", "long (long)", FTRAMP_TRAMP_F_CALL_ORIG, .fmod_ret = true,
	  .fexit = true, .state = true },
	{ "unknown_model", NULL, FTRAMP_TRAMP_F_CALL_ORIG | FTRAMP_TRAMP_F_BTI,
	  .fentry = true, .fexit = true, .state = true },
	{ "stack_args", "long (long, long, long, long, long, long, long, long,"
	  " long, long)", FTRAMP_TRAMP_F_CALL_ORIG, .fexit = true,
	  .state = true },
	{ "no_state", "long (long)", FTRAMP_TRAMP_F_CALL_ORIG, .fexit = true },
	{ "thunk", "int (int, long)", FTRAMP_TRAMP_F_AS_FUNC |
	  FTRAMP_TRAMP_F_SKIP_FRAME | FTRAMP_TRAMP_F_BTI, .fmod_ret = true },
};

static uint8_t fake_none[FTRAMP_GUARD_SLOTS];

static int build_image(const struct config *c, struct image *img,
		       struct ftramp_tramp_state *st)
{
	static const struct ftramp_tramp_link l = { nop_prog, 7 };
	struct ftramp_func_model m;
	struct ftramp_parse_error pe;
	struct ftramp_tramp_args a;

	memset(&a, 0, sizeof(a));
	if (c->proto) {
		if (ftramp_model__parse(c->proto, &m, &pe))
			return -EINVAL;
		a.model = &m;
	}
	a.flags = c->flags;
	a.func_addr = 0x400000;
	if (c->fentry)
		a.progs[FTRAMP_TRAMP_FENTRY] = (struct ftramp_tramp_links){ &l, 1 };
	if (c->fexit)
		a.progs[FTRAMP_TRAMP_FEXIT] = (struct ftramp_tramp_links){ &l, 1 };
	if (c->fmod_ret)
		a.progs[FTRAMP_TRAMP_MODIFY_RETURN] =
			(struct ftramp_tramp_links){ &l, 1 };
	memset(st, 0, sizeof(*st));
	st->guard_slot = 5;
	st->guard_tls_off = 16;
	st->guard_slow = (uint8_t *(*)(void))(uintptr_t)0x123450;
	st->guard_none = fake_none;
	if (c->state)
		a.state = st;
	img->uw = (struct a64_uw_rows){ .v = img->rows, .cap = MAX_ROWS };
	img->n = (struct ftramp_tramp_notes){ img->notes, MAX_NOTES, 0 };
	a.unwind = &img->uw;
	a.notes = &img->n;
	img->size = ftramp_arch_prepare_trampoline(&a, img->code, RX,
						   sizeof(img->code));
	if (img->size < 0)
		return img->size;
	img->code_end = (uint32_t)img->size;
	for (unsigned int i = 0; i < img->n.nr && i < MAX_NOTES; i++)
		if (img->notes[i].part == FTRAMP_PART_POOL ||
		    img->notes[i].part == FTRAMP_PART_RUN_CTX) {
			img->code_end = img->notes[i].off;
			break;
		}
	return 0;
}

/* The part an instruction belongs to: the last note at or before it. */
static int part_at(const struct image *img, uint32_t off)
{
	int part = -1;

	for (unsigned int i = 0; i < img->n.nr && i < MAX_NOTES; i++)
		if (img->notes[i].off <= off)
			part = img->notes[i].part;
	return part;
}

/* A call: bl, blr, or `adr x30, 1f; ret x16` (a far body). */
static bool is_call(const struct image *img, uint32_t off)
{
	uint32_t w = img->code[off / 4];

	if (a64_is_bl(w) || (a64_is_br_blr_ret(w) && (w >> 21 & 3) == 1))
		return true;
	return off >= 4 && w == a64_ret_reg(A64_IP0) &&
	       a64_is_adr(img->code[off / 4 - 1]);
}

TEST(emitter_rows_exact_at_calls)
{
	static struct image img;
	struct ftramp_tramp_state st;

	for (unsigned int k = 0; k < sizeof(configs) / sizeof(configs[0]); k++) {
		const struct config *c = &configs[k];
		bool site = !(c->flags & FTRAMP_TRAMP_F_AS_FUNC);
		bool in_miss = false;
		unsigned int calls = 0;

		TH_LOG("%s", c->name);
		ASSERT_EQ(0, build_image(c, &img, &st));
		ASSERT_LE(img.uw.nr, MAX_ROWS);
		ASSERT_LT(2, img.uw.nr);
		/* Entry: nothing moved, the return address in x9 or x30. */
		EXPECT_EQ(0, img.rows[0].off);
		EXPECT_EQ(A64_DW_SP, img.rows[0].cfa_reg);
		EXPECT_EQ(0, img.rows[0].cfa_off);
		EXPECT_EQ(site ? 9 : 30, img.rows[0].ra_reg);
		EXPECT_EQ(0, img.rows[0].ra_at);
		for (unsigned int i = 1; i < img.uw.nr; i++)
			EXPECT_LT(img.rows[i - 1].off, img.rows[i].off);

		for (uint32_t off = 0; off < img.code_end; off += 4) {
			const struct a64_uw_row *r =
				a64_uw_row_at(img.rows, img.uw.nr, off);
			int part = part_at(&img, off);
			uint32_t w = img.code[off / 4];

			ASSERT_TRUE(r != NULL);
			if (part == FTRAMP_PART_MISS)
				in_miss = true;
			if (w == a64_ret_reg(A64_LR) ||
			    (w == a64_ret_reg(A64_R10) &&
			     part == FTRAMP_PART_EPILOGUE)) {
				/* The frame is down: all back in registers. */
				EXPECT_EQ(A64_DW_SP, r->cfa_reg);
				EXPECT_EQ(0, r->cfa_off);
				EXPECT_EQ(0, r->fp_at);
				EXPECT_EQ(0, r->ra_at);
				EXPECT_EQ(30, r->ra_reg);
				EXPECT_EQ(0, r->saved_at[A64_UW_SAVED(19)]);
				EXPECT_EQ(0, r->held);
				continue;
			}
			if (!is_call(&img, off))
				continue;
			calls++;
			/* The frame is up; the record holds x29 and the LR. */
			EXPECT_EQ(A64_DW_FP, r->cfa_reg);
			EXPECT_NE(0, r->fp_at);
			EXPECT_EQ(r->fp_at + 8, r->ra_at);
			EXPECT_EQ(-(int32_t)r->cfa_off, r->fp_at);
			if (!c->state) {
				EXPECT_EQ(0, r->held);
				EXPECT_EQ(0, r->saved_at[A64_UW_SAVED(19)]);
				continue;
			}
			switch (part) {
			case FTRAMP_PART_PROG:
				EXPECT_EQ(A64_UW_INFLIGHT | A64_UW_GUARD,
					  r->held);
				EXPECT_NE(0, r->saved_at[A64_UW_SAVED(19)]);
				break;
			case FTRAMP_PART_CALL_ORIG:
				EXPECT_EQ(A64_UW_INFLIGHT, r->held);
				/* The miss path gave x19 back first. */
				if (in_miss)
					EXPECT_EQ(0, r->saved_at[A64_UW_SAVED(19)]);
				else
					EXPECT_NE(0, r->saved_at[A64_UW_SAVED(19)]);
				break;
			case FTRAMP_PART_SLOW:
				/* counted in before guard_slow() (issue 13) */
				EXPECT_EQ(A64_UW_INFLIGHT, r->held);
				EXPECT_NE(0, r->saved_at[A64_UW_SAVED(19)]);
				break;
			default:
				TH_LOG("call at %#x in part %d", off, part);
				EXPECT_TRUE(0);
			}
			/* ctx[-2]: in the frame, above the record */
			if (r->saved_at[A64_UW_SAVED(19)]) {
				EXPECT_GE(r->saved_at[A64_UW_SAVED(19)], r->fp_at + 16);
				EXPECT_GT(0, r->saved_at[A64_UW_SAVED(19)]);
			}
		}
		EXPECT_LT(0, calls);
	}
}

/* ------------------------------------------------------------------
 * readelf decodes what the encoder wrote
 * ------------------------------------------------------------------ */

#ifdef FTRAMP_HOST_TEST

/* An ET_REL object holding one section of CFI: what readelf reads. */
static int write_obj(const char *path, const char *secname,
		     const uint8_t *cfi, size_t n)
{
	char shstr[64];
	size_t shlen, off_cfi = sizeof(Elf64_Ehdr), off_str, off_sh;
	Elf64_Ehdr eh = { 0 };
	Elf64_Shdr sh[3] = { { 0 } };
	FILE *f;
	int ok;

	shlen = (size_t)snprintf(shstr, sizeof(shstr), "%c%s%c.shstrtab", 0,
				 secname, 0) + 1;
	off_str = off_cfi + n;
	off_sh = (off_str + shlen + 7) & ~(size_t)7;
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_REL;
	eh.e_machine = EM_AARCH64;
	eh.e_version = EV_CURRENT;
	eh.e_ehsize = sizeof(eh);
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 3;
	eh.e_shstrndx = 2;
	eh.e_shoff = off_sh;
	sh[1].sh_name = 1;
	sh[1].sh_type = SHT_PROGBITS;
	sh[1].sh_flags = SHF_ALLOC;
	sh[1].sh_offset = off_cfi;
	sh[1].sh_size = n;
	sh[1].sh_addralign = 8;
	sh[2].sh_name = (uint32_t)(2 + strlen(secname));
	sh[2].sh_type = SHT_STRTAB;
	sh[2].sh_offset = off_str;
	sh[2].sh_size = shlen;
	sh[2].sh_addralign = 1;

	f = fopen(path, "wb");
	if (!f)
		return -errno;
	ok = fwrite(&eh, sizeof(eh), 1, f) == 1 &&
	     fwrite(cfi, n, 1, f) == 1 &&
	     fwrite(shstr, shlen, 1, f) == 1 &&
	     fseek(f, (long)off_sh, SEEK_SET) == 0 &&
	     fwrite(sh, sizeof(sh), 1, f) == 1;
	return fclose(f) == 0 && ok ? 0 : -EIO;
}

static bool same_rules(const struct a64_uw_row *a, const struct a64_uw_row *b)
{
	return a->cfa_reg == b->cfa_reg && a->cfa_off == b->cfa_off &&
	       a->ra_reg == b->ra_reg && a->fp_at == b->fp_at &&
	       a->ra_at == b->ra_at && a->pac == b->pac &&
	       !memcmp(a->saved_at, b->saved_at, sizeof(a->saved_at));
}

/* What readelf -wF prints for a register rule. */
static bool rule_matches(const char *seen, int32_t at, bool in_reg,
			 unsigned int reg)
{
	char want[32];

	if (at) {
		snprintf(want, sizeof(want), "c%d", at);
		return !strcmp(seen, want);
	}
	if (in_reg) {
		snprintf(want, sizeof(want), "r%u", reg);
		return !strcmp(seen, want);
	}
	return !strcmp(seen, "u") || !strcmp(seen, "s");
}

/*
 * Decode with readelf -wF and compare each line of its table with the row
 * in effect there; then each row with the line in effect at its offset.
 * Returns the number of lines compared, or -1 on a mismatch (logged).
 */
static int readelf_check(struct __test_metadata *_metadata,
			 const struct image *img, const uint8_t *cfi, size_t n,
			 const char *secname, const char *aug)
{
	char path[] = "/tmp/ftramp-eh-XXXXXX", cmd[256], line[512];
	char cols[8][16], val[8][24];
	uint64_t locs[MAX_ROWS * 2];
	int ncols = 0, lines = 0, fd;
	bool in_fde = false, saw_aug = false;
	FILE *p;

	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	if (write_obj(path, secname, cfi, n)) {
		unlink(path);
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "readelf -wF %s 2>&1", path);
	p = popen(cmd, "r");
	if (!p) {
		unlink(path);
		return -1;
	}
	while (fgets(line, sizeof(line), p)) {
		char *tok, *save;
		unsigned long long loc;
		const struct a64_uw_row *r;
		char cfa[24];
		int i = 0;

		if (strstr(line, aug))
			saw_aug = true;
		if (strstr(line, " FDE ")) {
			in_fde = true;
			ncols = 0;
			continue;
		}
		if (!in_fde)
			continue;
		if (strstr(line, "LOC")) {
			/* LOC CFA x19 x29 ra: remember the column names */
			strtok_r(line, " \n", &save);
			strtok_r(NULL, " \n", &save);
			while ((tok = strtok_r(NULL, " \n", &save)) && ncols < 8)
				snprintf(cols[ncols++], sizeof(cols[0]), "%s",
					 tok);
			continue;
		}
		/* A table line starts with a 16-digit location. */
		if (strspn(line, "0123456789abcdef") != 16 ||
		    sscanf(line, "%llx %23s", &loc, cfa) != 2)
			continue;
		/* "r9 (x9)": keep "r9", drop the name in parentheses. */
		strtok_r(line, " \n", &save);
		strtok_r(NULL, " \n", &save);
		while ((tok = strtok_r(NULL, " \n", &save)) && i < ncols) {
			if (tok[0] == '(')
				continue;
			snprintf(val[i++], sizeof(val[0]), "%s", tok);
		}
		r = a64_uw_row_at(img->rows, img->uw.nr,
				  (uint32_t)(loc - RX));
		if (!r || i != ncols) {
			TH_LOG("%s: no row for %s", secname, line);
			lines = -1;
			break;
		}
		{
			char want[24];

			snprintf(want, sizeof(want), "%s+%u",
				 r->cfa_reg == A64_DW_SP ? "sp" : "x29",
				 r->cfa_off);
			if (strcmp(want, cfa)) {
				TH_LOG("%s: %#llx: CFA %s, row says %s",
				       secname, loc, cfa, want);
				lines = -1;
			}
		}
		for (i = 0; i < ncols; i++) {
			bool ok;

			if (!strcmp(cols[i], "ra"))
				ok = rule_matches(val[i], r->ra_at,
						  r->ra_reg != 30, r->ra_reg);
			else if (!strcmp(cols[i], "x29"))
				ok = rule_matches(val[i], r->fp_at, false, 0);
			else if (cols[i][0] == 'x' &&
				 atoi(cols[i] + 1) >= A64_UW_SAVED_FIRST &&
				 atoi(cols[i] + 1) < A64_UW_SAVED_FIRST +
						     A64_UW_NR_SAVED)
				ok = rule_matches(val[i], r->saved_at[
						  atoi(cols[i] + 1) -
						  A64_UW_SAVED_FIRST], false, 0);
			else
				ok = false;
			if (!ok) {
				TH_LOG("%s: %#llx: %s is %s", secname, loc,
				       cols[i], val[i]);
				lines = -1;
			}
		}
		if (lines < 0)
			break;
		if (lines < (int)(sizeof(locs) / sizeof(locs[0])))
			locs[lines] = loc - RX;
		lines++;
	}
	pclose(p);
	unlink(path);
	if (lines < 0)
		return -1;
	if (!saw_aug) {
		TH_LOG("%s: no CIE with augmentation \"%s\"", secname, aug);
		return -1;
	}
	/* Every row's change shows as a line of its own. */
	for (unsigned int k = 0; k < img->uw.nr; k++) {
		const struct a64_uw_row *r = &img->rows[k];
		bool found = false;

		for (int j = 0; j < lines; j++)
			if (locs[j] == r->off)
				found = true;
		if (k && same_rules(r, r - 1))
			continue;	/* only `held` changed: no CFI */
		if (!found) {
			TH_LOG("%s: row at %#x has no line", secname, r->off);
			return -1;
		}
	}
	return lines;
}

TEST(readelf_decodes_the_rows)
{
	static struct image img;
	struct ftramp_tramp_state st;

	if (system("readelf --version >/dev/null 2>&1"))
		SKIP(return, "no readelf");
	for (unsigned int k = 0; k < sizeof(configs) / sizeof(configs[0]); k++) {
		const struct config *c = &configs[k];
		struct a64_cfi_fde f;
		uint8_t *cfi;
		long n;

		TH_LOG("%s", c->name);
		ASSERT_EQ(0, build_image(c, &img, &st));
		f = (struct a64_cfi_fde){
			.pc_begin = RX, .pc_range = (uint64_t)img.size,
			.rows = img.rows, .nr_rows = img.uw.nr,
			.personality = c->state ? 0x4567000 : 0,
			.lsda = c->state ? 0x89ab000 : 0,
		};
		for (int fl = 0; fl < 2; fl++) {
			n = a64_cfi_encode(NULL, 0, &f, fl);
			ASSERT_LT(0, n);
			cfi = malloc((size_t)n);
			ASSERT_TRUE(cfi != NULL);
			ASSERT_EQ(n, a64_cfi_encode(cfi, (size_t)n, &f, fl));
			EXPECT_LT(2, readelf_check(_metadata, &img, cfi,
				(size_t)n, fl ? ".debug_frame" : ".eh_frame",
				fl ? "CIE \"\"" : c->state ? "\"zPLR\"" :
							     "\"zR\""));
			free(cfi);
		}
	}
}

/*
 * A signed return address and saved x19-x26, as the BPF JIT's frames
 * have them: .eh_frame toggles the RA sign state around the rows that
 * have pac (libgcc strips the PAC), .debug_frame also gives gdb the
 * stripped value itself; each saved register its DW_CFA_offset.
 */
TEST(pac_and_saved_registers_decode)
{
	struct a64_uw_row rows[6] = { base_row };
	struct a64_cfi_fde f = {
		.pc_begin = 0x1000, .pc_range = 64, .rows = rows, .nr_rows = 6,
	};
	char path[] = "/tmp/ftramp-eh-XXXXXX", cmd[256], out[8192];
	const char *sec[2] = { ".eh_frame", ".debug_frame" };
	uint8_t cfi[512];

	if (system("readelf --version >/dev/null 2>&1"))
		SKIP(return, "no readelf");
	rows[0].ra_reg = A64_DW_LR;
	rows[1] = rows[0];
	rows[1].off = 8;		/* after paciasp */
	rows[1].pac = 1;
	rows[2] = rows[1];
	rows[2].off = 12;		/* after stp x29, x30, [sp, #-16]! */
	rows[2].cfa_off = 16;
	rows[2].fp_at = -16;
	rows[2].ra_at = -8;
	rows[3] = rows[2];
	rows[3].off = 16;		/* after the callee-saved pairs */
	rows[3].cfa_reg = A64_DW_FP;
	rows[3].saved_at[A64_UW_SAVED(21)] = -48;
	rows[3].saved_at[A64_UW_SAVED(26)] = -56;
	rows[4] = rows[0];
	rows[4].off = 40;		/* after ldp x29, x30: still signed */
	rows[4].pac = 1;
	rows[5] = rows[0];
	rows[5].off = 48;		/* after autiasp */
	for (int k = 0; k < 2; k++) {
		long n = a64_cfi_encode(cfi, sizeof(cfi), &f,
					k ? A64_CFI_DEBUG_FRAME :
					A64_CFI_EH_FRAME);
		size_t len;
		int fd;
		FILE *p;

		ASSERT_LT(0, n);
		ASSERT_GE(sizeof(cfi), (size_t)n);
		memcpy(path + sizeof(path) - 7, "XXXXXX", 6);
		fd = mkstemp(path);
		ASSERT_LE(0, fd);
		close(fd);
		ASSERT_EQ(0, write_obj(path, sec[k], cfi, (size_t)n));
		snprintf(cmd, sizeof(cmd), "readelf -wf %s 2>&1", path);
		p = popen(cmd, "r");
		ASSERT_NE(NULL, p);
		len = fread(out, 1, sizeof(out) - 1, p);
		out[len] = 0;
		pclose(p);
		unlink(path);
		{
			int toggles = 0;

			for (const char *c = out;
			     (c = strstr(c, "DW_CFA_AARCH64_negate_ra_state"));
			     c++)
				toggles++;
			EXPECT_EQ(2, toggles);
		}
		EXPECT_NE(NULL, strstr(out, "DW_CFA_offset: r21 (x21) at cfa-48"));
		EXPECT_NE(NULL, strstr(out, "DW_CFA_offset: r26 (x26) at cfa-56"));
		EXPECT_NE(NULL, strstr(out, "DW_CFA_same_value: r21"));
		if (k) {
			/* *(CFA - 8), then x30, each & (2^48 - 1) */
			EXPECT_NE(NULL, strstr(out, "DW_CFA_val_expression: r30 (x30) "
					       "(DW_OP_constu: 8; DW_OP_minus; DW_OP_deref; "
					       "DW_OP_const8u: 281474976710655; DW_OP_and)"));
			EXPECT_NE(NULL, strstr(out, "DW_CFA_val_expression: r30 (x30) "
					       "(DW_OP_drop; DW_OP_breg30 (x30): 0; "
					       "DW_OP_const8u: 281474976710655; DW_OP_and)"));
		} else {
			EXPECT_EQ(NULL, strstr(out, "DW_CFA_val_expression"));
		}
		if (!_metadata->passed)
			TH_LOG("%s:\n%s", sec[k], out);
	}
}

#endif /* FTRAMP_HOST_TEST */

/* ------------------------------------------------------------------
 * The exit stub's FDE (a64_cfi_hook_encode()): its x30 expression,
 * evaluated here on a fake shadow stack by a small DWARF stack machine
 * with libgcc's limits (64 elements; DW_OP_pick n needs n + 2 elements).
 * ------------------------------------------------------------------ */

#define HOOK_SLOT	96

/* A record header as the runtime's: sp, state, link, ra. */
struct fake_rec { uint64_t sp, state, link, ra; };

struct fake_shadow {
	uint64_t top;				/* &recs[i] of the top one */
	uint64_t pending[2];
	uint8_t mem[HOOK_SLOT * 8];
	unsigned int nr;
};

static struct fake_rec *fake_at(struct fake_shadow *f, unsigned int i)
{
	return (struct fake_rec *)(f->mem + HOOK_SLOT * i);
}

/* Push a record (i = 0 is the sentinel). */
static void fake_push(struct fake_shadow *f, uint64_t sp, uint64_t state,
		      uint64_t ra)
{
	struct fake_rec *r = fake_at(f, f->nr);

	r->sp = sp;
	r->state = state;
	r->link = 0x1000;
	r->ra = ra;
	f->top = (uint64_t)(uintptr_t)r;
	f->nr++;
}

static void fake_init(struct fake_shadow *f)
{
	memset(f, 0, sizeof(*f));
	fake_push(f, UINT64_MAX, 0, 0);
}

static uint64_t uleb(const uint8_t **p)
{
	uint64_t v = 0;
	unsigned int shift = 0;
	uint8_t b;

	do {
		b = *(*p)++;
		v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	return v;
}

/* Evaluate with the CFA pushed first; -1 on a fault of the machine. */
static int eval(const uint8_t *op, const uint8_t *end, uint64_t cfa,
		uint64_t *out)
{
	uint64_t st[64], a, b;
	int n = 0, steps = 0;

	st[n++] = cfa;
	while (op < end) {
		uint8_t o = *op++;
		int16_t d;

		if (++steps > 100000)
			return -1;
		switch (o) {
		case 0x06: if (n < 1) return -1;	/* deref */
			memcpy(&st[n - 1], (void *)(uintptr_t)st[n - 1], 8);
			break;
		case 0x08: if (n >= 64) return -1; st[n++] = *op++; break;
		case 0x09: if (n >= 64) return -1;
			st[n++] = (uint64_t)(int64_t)(int8_t)*op++; break;
		case 0x0e: if (n >= 64) return -1;
			memcpy(&st[n++], op, 8); op += 8; break;
		case 0x12: if (n < 1 || n >= 64) return -1;
			st[n] = st[n - 1]; n++; break;
		case 0x13: if (n < 1) return -1; n--; break;
		case 0x14: if (n < 2 || n >= 64) return -1;
			st[n] = st[n - 2]; n++; break;
		case 0x15: a = *op++;		/* pick, libgcc's bound */
			if (a >= (uint64_t)n - 1 || n >= 64) return -1;
			st[n] = st[n - 1 - a]; n++; break;
		case 0x16: if (n < 2) return -1;
			a = st[n - 1]; st[n - 1] = st[n - 2]; st[n - 2] = a;
			break;
		case 0x1a: case 0x1c: case 0x29: case 0x2e:
			if (n < 2) return -1;
			b = st[--n]; a = st[n - 1];
			st[n - 1] = o == 0x1a ? (a & b) : o == 0x1c ? a - b :
				    o == 0x29 ? a == b : a != b;
			break;
		case 0x23: if (n < 1) return -1; st[n - 1] += uleb(&op); break;
		case 0x28: case 0x2f:
			memcpy(&d, op, 2);
			op += 2;
			if (o == 0x28) {
				if (n < 1) return -1;
				if (!st[--n])
					break;
			}
			op += d;
			break;
		case 0x30: case 0x31: if (n >= 64) return -1;
			st[n++] = o - 0x30; break;
		default:
			return -1;
		}
	}
	if (n < 1)
		return -1;
	*out = st[n - 1];
	return 0;
}

/* The FDE's x30 rule; the CIE says CFA = sp + 1, the FDE sp = CFA - 1. */
static const uint8_t *hook_expr_of(const uint8_t *eh, size_t *len)
{
	static const uint8_t cfa[] = { 0x0c, 31, 1 };
	static const uint8_t sp[] = { 0x16, 31, 2, 0x31, 0x1c };
	uint32_t cie_len;
	const uint8_t *fde, *p;

	memcpy(&cie_len, eh, 4);
	if (!memmem(eh, 4 + cie_len, cfa, sizeof(cfa)))
		return NULL;
	fde = eh + 4 + cie_len;
	p = fde + 4 + 4 + 8 + 8 + 1;		/* augmentation length 0 */
	if (memcmp(p, sp, sizeof(sp)))
		return NULL;
	p += sizeof(sp);
	if (p[0] != 0x16 || p[1] != 30)
		return NULL;
	p += 2;
	*len = uleb(&p);
	return p;
}

static int hook_eval(struct fake_shadow *f, uint64_t body_sp, uint64_t *ra)
{
	struct a64_cfi_hook h = {
		.top_addr = (uint64_t)(uintptr_t)&f->top,
		.pending_addr = (uint64_t)(uintptr_t)f->pending,
		.personality = 0x1234,
		.slot = HOOK_SLOT,
		.sp_off = 0, .state_off = 8, .ra_off = 24, .hook_bit = 1,
	};
	uint8_t eh[512];
	const uint8_t *e;
	size_t len;
	long n = a64_cfi_hook_encode(eh, sizeof(eh), &h);

	if (n <= 0 || (size_t)n > sizeof(eh))
		return -1;
	e = hook_expr_of(eh, &len);
	if (!e)
		return -1;
	/* The CFA the unwinder pushes: SP + 1. */
	return eval(e, e + len, body_sp + 1, ra);
}

TEST(hook_fde_finds_the_real_return_address)
{
	struct fake_shadow f;
	uint64_t ra;
	const uint64_t hook = 0x5000 | 1, model = 0x6000;

	fake_init(&f);
	/* Outer hooked frame at 0x8000, a modelled one, a hooked at 0x7000. */
	fake_push(&f, 0x8000, hook, 0xaaa0);
	fake_push(&f, 0x7800, model, 0xdead);
	fake_push(&f, 0x7000, hook, 0xbbb0);
	/* A dead record above (lower SP, abandoned): skipped. */
	fake_push(&f, 0x6000, hook, 0xdead);
	ASSERT_EQ(0, hook_eval(&f, 0x7000, &ra));
	EXPECT_EQ(0xbbb0, ra);
	ASSERT_EQ(0, hook_eval(&f, 0x8000, &ra));
	EXPECT_EQ(0xaaa0, ra);
	/* A modelled record's SP names no stub frame. */
	ASSERT_EQ(0, hook_eval(&f, 0x7800, &ra));
	EXPECT_EQ(0, ra);
	ASSERT_EQ(0, hook_eval(&f, 0x9000, &ra));
	EXPECT_EQ(0, ra);
}

TEST(hook_fde_tail_call_chain_is_one_frame)
{
	struct fake_shadow f;
	uint64_t ra;

	fake_init(&f);
	fake_push(&f, 0x9000, 0x5000 | 1, 0xccc0);
	/* f at 0x8000 tail-called g, which tail-called f again. */
	fake_push(&f, 0x8000, 0x5000 | 1, 0xaaa0);	/* the real one */
	fake_push(&f, 0x8000, 0x7000 | 1, 0x5100);	/* f's stub */
	fake_push(&f, 0x8000, 0x5000 | 1, 0x7100);	/* g's stub */
	ASSERT_EQ(0, hook_eval(&f, 0x8000, &ra));
	EXPECT_EQ(0xaaa0, ra);
	ASSERT_EQ(0, hook_eval(&f, 0x9000, &ra));
	EXPECT_EQ(0xccc0, ra);
}

TEST(hook_fde_pending_after_the_pop)
{
	struct fake_shadow f;
	uint64_t ra;

	fake_init(&f);
	fake_push(&f, 0x9000, 0x5000 | 1, 0xccc0);
	/* The personality popped the frame at 0x8000 and noted it. */
	f.pending[0] = 0x8000;
	f.pending[1] = 0xaaa0;
	ASSERT_EQ(0, hook_eval(&f, 0x8000, &ra));
	EXPECT_EQ(0xaaa0, ra);
	/* A live record wins over a stale pending pair. */
	f.pending[0] = 0x9000;
	f.pending[1] = 0xdead;
	ASSERT_EQ(0, hook_eval(&f, 0x9000, &ra));
	EXPECT_EQ(0xccc0, ra);
}

TEST(hook_fde_refuses_bad_input)
{
	struct a64_cfi_hook h = {
		.top_addr = 8, .pending_addr = 16, .slot = HOOK_SLOT,
		.state_off = 8, .ra_off = 24, .hook_bit = 1,
	};
	uint8_t buf[8];

	EXPECT_TRUE(a64_cfi_hook_encode(NULL, 0, &h) > 0);
	/* Never past cap. */
	memset(buf, 0xee, sizeof(buf));
	EXPECT_TRUE(a64_cfi_hook_encode(buf, 4, &h) > 8);
	EXPECT_EQ(0xee, buf[4]);
	h.slot = 0;
	EXPECT_EQ(-EINVAL, a64_cfi_hook_encode(NULL, 0, &h));
	h.slot = 256;
	EXPECT_EQ(-EINVAL, a64_cfi_hook_encode(NULL, 0, &h));
	h.slot = HOOK_SLOT;
	h.top_addr = 0;
	EXPECT_EQ(-EINVAL, a64_cfi_hook_encode(NULL, 0, &h));
	EXPECT_EQ(-EINVAL, a64_cfi_hook_encode(NULL, 0, NULL));
}

TEST_HARNESS_MAIN
