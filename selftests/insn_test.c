// SPDX-License-Identifier: MIT
/*
 * A64 encoder/decoder tests.
 *
 * The main test is differential: every encoder is driven over edge and
 * random operands, the same instructions are written as assembly text,
 * GNU as (and ld, for ADRP's page relocations) turns the text into bytes,
 * and the two are compared word by word.  Refusals are checked both ways:
 * each out-of-range operand gives A64_INSN_BAD, and GNU as rejects (or
 * warns about) the same text.  Decoders are checked by round trips
 * through the encoders, logical immediates exhaustively, and on arm64 the
 * generated code is also executed.
 *
 * $AS names the assembler (default aarch64-linux-gnu-as); the linker is
 * found next to it.  INSN_TEST_SEED fixes the random seed.
 */
#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"
#include "arch/arm64/insn.h"

/* ---------------------------------------------------------------------
 * Random operands
 * --------------------------------------------------------------------- */

static uint64_t rng_state;

static void rng_seed(void)
{
	const char *s = getenv("INSN_TEST_SEED");

	rng_state = s ? strtoull(s, NULL, 0) : 0x5eed0f1a7e5ull;
}

/* splitmix64 */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned int rnd_below(unsigned int n)
{
	return (unsigned int)(rnd() % n);
}

/* A general register where 31 is ZR. */
static enum a64_reg rnd_zr(void)
{
	return A64_R(rnd_below(32));
}

/* A general register where 31 is SP. */
static enum a64_reg rnd_sp(void)
{
	unsigned int r = rnd_below(32);

	return r == 31 ? A64_SP : A64_R(r);
}

static int64_t rnd_range(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

/* Register names: the same number reads differently by position. */
static const char *gpr(enum a64_reg r, bool x)
{
	static char buf[8][8];
	static unsigned int slot;
	char *b = buf[slot++ % 8];

	if (r == A64_SP)
		return x ? "sp" : "wsp";
	if (r == A64_ZR)
		return x ? "xzr" : "wzr";
	snprintf(b, 8, "%c%u", x ? 'x' : 'w', (unsigned int)r);
	return b;
}

static const char *fpr(char kind, unsigned int v)
{
	static char buf[8][8];
	static unsigned int slot;
	char *b = buf[slot++ % 8];

	snprintf(b, 8, "%c%u", kind, v);
	return b;
}

/* `.+off` / `.-off`: a PC-relative operand for GNU as. */
static const char *dot(int64_t off)
{
	static char buf[8][32];
	static unsigned int slot;
	char *b = buf[slot++ % 8];

	if (off < 0)
		snprintf(b, 32, ".-%" PRIu64, (uint64_t)0 - (uint64_t)off);
	else
		snprintf(b, 32, ".+%" PRId64, off);
	return b;
}

static const char *const cond_names[] = {
	"eq", "ne", "hs", "lo", "mi", "pl", "vs", "vc",
	"hi", "ls", "ge", "lt", "gt", "le", "al", "nv",
};

static const char *const shift_names[] = { "lsl", "lsr", "asr", "ror" };

static const char *const ext_names[] = {
	"uxtb", "uxth", "uxtw", "uxtx", "sxtb", "sxth", "sxtw", "sxtx",
};

/* ---------------------------------------------------------------------
 * A corpus: instruction words with their assembly text.  Instruction i
 * runs at TEXT_BASE + 4 * i once linked.
 * --------------------------------------------------------------------- */

#define TEXT_BASE	0x200000000ull	/* ADRP reaches +-4 GiB from here */
#define TEXT_MAX	96

struct kase {
	uint32_t insn;
	char text[TEXT_MAX];
};

struct corpus {
	struct kase *v;
	size_t n, cap;
	bool oom;
};

static uint64_t corpus_pc(const struct corpus *c)
{
	return TEXT_BASE + 4 * (uint64_t)c->n;
}

/* Append insn with its text (growing the corpus; c->oom if it cannot). */
static void corpus_vadd(struct corpus *c, uint32_t insn, const char *fmt,
			va_list ap)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4096;
		struct kase *v = realloc(c->v, cap * sizeof(*v));

		if (!v) {
			c->oom = true;
			return;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n].insn = insn;
	vsnprintf(c->v[c->n].text, TEXT_MAX, fmt, ap);
	c->n++;
}

static void __attribute__((format(printf, 3, 4)))
add(struct corpus *c, uint32_t insn, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	corpus_vadd(c, insn, fmt, ap);
	va_end(ap);
}

static void corpus_free(struct corpus *c)
{
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* ---------------------------------------------------------------------
 * Running GNU as and ld
 * --------------------------------------------------------------------- */

struct toolchain {
	char as[256], ld[256];
	char dir[64];
};

static bool toolchain_init(struct toolchain *tc)
{
	const char *as = getenv("AS");
	size_t len;

	if (!as || !*as)
		as = "aarch64-linux-gnu-as";
	snprintf(tc->as, sizeof(tc->as), "%s", as);
	len = strlen(tc->as);
	/* The linker of the same toolchain: replace the trailing "as". */
	if (len >= 2 && !strcmp(tc->as + len - 2, "as"))
		snprintf(tc->ld, sizeof(tc->ld), "%.*sld", (int)(len - 2),
			 tc->as);
	else
		snprintf(tc->ld, sizeof(tc->ld), "aarch64-linux-gnu-ld");
	snprintf(tc->dir, sizeof(tc->dir), "/tmp/insn_test.XXXXXX");
	return mkdtemp(tc->dir) != NULL;
}

static void toolchain_fini(struct toolchain *tc)
{
	static const char *const files[] = {
		"t.s", "t.o", "t.elf", "t.err", "r.s", "r.o", "r.err",
	};
	char path[128];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tc->dir, files[i]);
		unlink(path);
	}
	rmdir(tc->dir);
}

/* Run argv with stdout+stderr to errfile; the exit status, or -1. */
static int run(char *const argv[], const char *errfile)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (!pid) {
		int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static bool tool_works(const char *tool)
{
	char *argv[] = { (char *)tool, "--version", NULL };

	return run(argv, "/dev/null") == 0;
}

static bool write_asm(const char *path, const struct corpus *c)
{
	FILE *f = fopen(path, "w");
	bool ok;

	if (!f)
		return false;
	fputs("\t.text\n", f);
	for (size_t i = 0; i < c->n; i++)
		fprintf(f, "\t%s\n", c->v[i].text);
	ok = !ferror(f);
	return fclose(f) == 0 && ok;
}

static void *read_file(const char *path, size_t *size)
{
	struct stat st;
	void *buf = NULL;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		buf = malloc(st.st_size);
		if (buf && read(fd, buf, st.st_size) != st.st_size) {
			free(buf);
			buf = NULL;
		}
		*size = st.st_size;
	}
	close(fd);
	return buf;
}

/* The bytes and address of .text in a little-endian ELF64 file. */
static const uint8_t *elf_text(const uint8_t *img, size_t size,
			       uint64_t *addr, size_t *len)
{
	const Elf64_Ehdr *eh = (const void *)img;
	const Elf64_Shdr *sh, *strtab;

	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shoff > size ||
	    (size - eh->e_shoff) / sizeof(Elf64_Shdr) < eh->e_shnum ||
	    eh->e_shstrndx >= eh->e_shnum)
		return NULL;
	sh = (const void *)(img + eh->e_shoff);
	strtab = &sh[eh->e_shstrndx];
	if (strtab->sh_offset > size ||
	    strtab->sh_size > size - strtab->sh_offset)
		return NULL;
	for (unsigned int i = 0; i < eh->e_shnum; i++) {
		const char *name = (const char *)img + strtab->sh_offset +
				   sh[i].sh_name;

		if (sh[i].sh_name >= strtab->sh_size ||
		    strnlen(name, strtab->sh_size - sh[i].sh_name) ==
		    strtab->sh_size - sh[i].sh_name)
			continue;
		if (strcmp(name, ".text") || sh[i].sh_type != SHT_PROGBITS)
			continue;
		if (sh[i].sh_offset > size ||
		    sh[i].sh_size > size - sh[i].sh_offset)
			return NULL;
		*addr = sh[i].sh_addr;
		*len = sh[i].sh_size;
		return img + sh[i].sh_offset;
	}
	return NULL;
}

static void print_tool_output(struct __test_metadata *_metadata,
			      const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");
	int n = 0;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && n++ < 10)
		TH_LOG("  %s", strtok(line, "\n") ? line : "");
	fclose(f);
}

/*
 * Assemble and link the corpus, compare word by word.  Returns the number
 * of mismatches (logging the first ones), or -1 if the tools failed.
 */
static long differential(struct __test_metadata *_metadata,
			 struct toolchain *tc, const struct corpus *c)
{
	char s[128], o[128], elf[128], err[128], ttext[64];
	const uint8_t *text;
	uint8_t *img;
	uint64_t addr;
	size_t size, len;
	long bad = 0;

	snprintf(s, sizeof(s), "%s/t.s", tc->dir);
	snprintf(o, sizeof(o), "%s/t.o", tc->dir);
	snprintf(elf, sizeof(elf), "%s/t.elf", tc->dir);
	snprintf(err, sizeof(err), "%s/t.err", tc->dir);
	snprintf(ttext, sizeof(ttext), "-Ttext=%#llx",
		 (unsigned long long)TEXT_BASE);
	if (!write_asm(s, c))
		return -1;

	char *as_argv[] = { tc->as, "-march=armv8.5-a+lse", "-o", o, s, NULL };
	char *ld_argv[] = { tc->ld, "--no-warn-rwx-segments", "-e", "0",
			    ttext, "-o", elf, o, NULL };

	if (run(as_argv, err)) {
		TH_LOG("%s failed:", tc->as);
		print_tool_output(_metadata, err);
		return -1;
	}
	if (run(ld_argv, err)) {
		/* Older ld lacks --no-warn-rwx-segments. */
		ld_argv[1] = "-N";
		if (run(ld_argv, err)) {
			TH_LOG("%s failed:", tc->ld);
			print_tool_output(_metadata, err);
			return -1;
		}
	}
	img = read_file(elf, &size);
	if (!img)
		return -1;
	text = elf_text(img, size, &addr, &len);
	if (!text || addr != TEXT_BASE || len != c->n * 4) {
		TH_LOG(".text of %s: %s, address %#" PRIx64 ", %zu bytes for "
		       "%zu instructions", elf, text ? "found" : "missing",
		       text ? addr : 0, text ? len : 0, c->n);
		free(img);
		return -1;
	}
	for (size_t i = 0; i < c->n; i++) {
		uint32_t want;

		memcpy(&want, text + 4 * i, 4);	/* both little-endian */
		if (want == c->v[i].insn)
			continue;
		if (bad++ < 12)
			TH_LOG("line %zu `%s`: encoder %08x, as %08x", i + 2,
			       c->v[i].text, c->v[i].insn, want);
	}
	free(img);
	return bad;
}

/*
 * Assemble text that must all be rejected: every line must draw an error
 * or a warning from GNU as.  Returns the number of lines accepted
 * silently (logging the first ones), or -1 if as could not run.
 */
static long rejected_by_as(struct __test_metadata *_metadata,
			   struct toolchain *tc, const struct corpus *c)
{
	char s[128], o[128], err[128], line[1024];
	char *argv[] = { tc->as, "-march=armv8.5-a+lse", "-o", o, s, NULL };
	unsigned char *flagged;
	size_t prefix;
	long silent = 0;
	FILE *f;

	snprintf(s, sizeof(s), "%s/r.s", tc->dir);
	snprintf(o, sizeof(o), "%s/r.o", tc->dir);
	snprintf(err, sizeof(err), "%s/r.err", tc->dir);
	if (!write_asm(s, c))
		return -1;
	if (run(argv, err) < 0)
		return -1;
	flagged = calloc(c->n + 2, 1);
	f = fopen(err, "r");
	if (!flagged || !f) {
		free(flagged);
		if (f)
			fclose(f);
		return -1;
	}
	/* "<file>:<line>: Error|Warning: ..." */
	prefix = strlen(s);
	while (fgets(line, sizeof(line), f)) {
		unsigned long ln;
		char *end;

		if (strncmp(line, s, prefix) || line[prefix] != ':')
			continue;
		ln = strtoul(line + prefix + 1, &end, 10);
		if (*end != ':' || ln < 2 || ln - 2 >= c->n)
			continue;
		if (strstr(end, "Error") || strstr(end, "Warning"))
			flagged[ln - 2] = 1;
	}
	fclose(f);
	for (size_t i = 0; i < c->n; i++) {
		if (flagged[i])
			continue;
		if (silent++ < 12)
			TH_LOG("as accepts `%s`, the encoder refused it",
			       c->v[i].text);
	}
	free(flagged);
	return silent;
}

/* ---------------------------------------------------------------------
 * Generators: valid instructions, with their text
 * --------------------------------------------------------------------- */

/* Edge and random word offsets for a signed field of `bits` words. */
static int64_t branch_off(unsigned int bits, unsigned int i)
{
	int64_t max = ((int64_t)1 << (bits - 1)) - 1, min = -max - 1;

	switch (i) {
	case 0: return max * 4;
	case 1: return min * 4;
	case 2: return 0;
	case 3: return 4;
	case 4: return -4;
	case 5: return (max - 1) * 4;
	case 6: return (min + 1) * 4;
	default: return rnd_range(min, max) * 4;
	}
}

static void gen_branches(struct corpus *c)
{
	for (unsigned int i = 0; i < 200; i++) {
		int64_t off = branch_off(26, i);
		uint64_t pc = corpus_pc(c);

		add(c, a64_b(pc, pc + off), "b %s", dot(off));
		pc = corpus_pc(c);
		add(c, a64_bl(pc, pc + off), "bl %s", dot(off));
	}
	for (unsigned int i = 0; i < 400; i++) {
		enum a64_cond cond = (enum a64_cond)(i % 16);
		enum a64_width w = (enum a64_width)(i & 1);
		enum a64_reg rt = i < 64 ? A64_R(i % 32) : rnd_zr();
		unsigned int bit = i < 128 ? i % 64 : rnd_below(64);
		int64_t off = branch_off(19, i);
		uint64_t pc = corpus_pc(c);

		add(c, a64_b_cond(pc, pc + off, cond), "b.%s %s",
		    cond_names[cond], dot(off));
		pc = corpus_pc(c);
		add(c, a64_cbz(pc, pc + off, w, rt), "cbz %s, %s",
		    gpr(rt, w), dot(off));
		pc = corpus_pc(c);
		add(c, a64_cbnz(pc, pc + off, w, rt), "cbnz %s, %s",
		    gpr(rt, w), dot(off));

		off = branch_off(14, i);
		pc = corpus_pc(c);
		add(c, a64_tbz(pc, pc + off, rt, bit), "tbz %s, #%u, %s",
		    gpr(rt, bit > 31), bit, dot(off));
		pc = corpus_pc(c);
		add(c, a64_tbnz(pc, pc + off, rt, bit), "tbnz %s, #%u, %s",
		    gpr(rt, bit > 31), bit, dot(off));
	}
	for (unsigned int r = 0; r < 32; r++) {
		add(c, a64_br(A64_R(r)), "br %s", gpr(A64_R(r), true));
		add(c, a64_blr(A64_R(r)), "blr %s", gpr(A64_R(r), true));
		add(c, a64_ret_reg(A64_R(r)), "ret %s", gpr(A64_R(r), true));
	}
	add(c, a64_ret(), "ret");
}

static void gen_pcrel(struct corpus *c)
{
	static const enum a64_ldst_size lit[] = {
		A64_LS_W, A64_LS_X, A64_LS_S, A64_LS_D, A64_LS_Q,
	};
	static const char lit_kind[] = { 'w', 'x', 's', 'd', 'q' };

	for (unsigned int i = 0; i < 300; i++) {
		int64_t max = (1 << 20) - 1, min = -max - 1, off;
		enum a64_reg rd = i < 32 ? A64_R(i) : rnd_zr();
		uint64_t pc = corpus_pc(c), page;

		off = i == 0 ? max : i == 1 ? min : i == 2 ? 0 :
		      rnd_range(min, max);
		add(c, a64_adr(pc, pc + off, rd), "adr %s, %s",
		    gpr(rd, true), dot(off));

		/* ADRP: whole pages around the pc's page. */
		pc = corpus_pc(c);
		page = (pc & ~0xfffull) + (uint64_t)(off * 4096);
		add(c, a64_adrp(pc, page, rd), "adrp %s, %s", gpr(rd, true),
		    dot((int64_t)(page - pc)));

		unsigned int k = i % 5;
		unsigned int t = rnd_below(32);

		off = branch_off(19, i);
		pc = corpus_pc(c);
		add(c, a64_ldr_lit(pc, pc + off, lit[k], A64_R(t)),
		    "ldr %s, %s",
		    k < 2 ? gpr(A64_R(t), k == 1) : fpr(lit_kind[k], t),
		    dot(off));
	}
}

static void gen_system(struct corpus *c)
{
	static const struct {
		uint32_t sysreg;
		const char *name;
		bool writable;
	} regs[] = {
		{ A64_SYSREG_TPIDR_EL0, "tpidr_el0", true },
		{ A64_SYSREG_TPIDRRO_EL0, "tpidrro_el0", true },
		{ A64_SYSREG_NZCV, "nzcv", true },
		{ A64_SYSREG_FPCR, "fpcr", true },
		{ A64_SYSREG_FPSR, "fpsr", true },
		{ A64_SYSREG_CNTVCT_EL0, "cntvct_el0", false },
	};
	static const char *const barriers[16] = {
		[1] = "oshld", [2] = "oshst", [3] = "osh", [5] = "nshld",
		[6] = "nshst", [7] = "nsh", [9] = "ishld", [10] = "ishst",
		[11] = "ish", [13] = "ld", [14] = "st", [15] = "sy",
	};
	static const uint32_t imm16s[] = { 0, 1, 0x7fff, 0x8000, 0xffff };

	for (unsigned int i = 0; i < 5 + 40; i++) {
		uint32_t imm = i < 5 ? imm16s[i] : rnd_below(0x10000);

		add(c, a64_brk(imm), "brk #%u", imm);
		add(c, a64_svc(imm), "svc #%u", imm);
		add(c, a64_hvc(imm), "hvc #%u", imm);
		add(c, a64_smc(imm), "smc #%u", imm);
	}
	for (unsigned int i = 0; i < 128; i++)
		add(c, a64_hint(i), "hint #%u", i);
	add(c, A64_NOP, "nop");
	add(c, a64_nop(), "nop");
	add(c, A64_XPACLRI, "xpaclri");
	add(c, A64_PACIASP, "paciasp");
	add(c, A64_PACIBSP, "pacibsp");
	add(c, A64_AUTIASP, "autiasp");
	add(c, A64_AUTIBSP, "autibsp");
	add(c, A64_BTI, "bti");
	add(c, A64_BTI_C, "bti c");
	add(c, A64_BTI_J, "bti j");
	add(c, A64_BTI_JC, "bti jc");
	add(c, A64_ISB, "isb");
	add(c, a64_isb(), "isb sy");
	add(c, A64_MOV_X9_X30, "mov x9, x30");
	for (unsigned int o = 0; o < 16; o++) {
		if (barriers[o]) {
			add(c, a64_dsb(o), "dsb %s", barriers[o]);
			add(c, a64_dmb(o), "dmb %s", barriers[o]);
		} else {
			add(c, a64_dmb(o), "dmb #%u", o);
		}
	}
	add(c, a64_dmb_ish(), "dmb ish");
	add(c, a64_dsb_ish(), "dsb ish");
	for (unsigned int r = 0; r < 32; r++) {
		for (unsigned int k = 0; k < sizeof(regs) / sizeof(regs[0]);
		     k++) {
			add(c, a64_mrs(A64_R(r), regs[k].sysreg), "mrs %s, %s",
			    gpr(A64_R(r), true), regs[k].name);
			if (regs[k].writable)
				add(c, a64_msr(regs[k].sysreg, A64_R(r)),
				    "msr %s, %s", regs[k].name,
				    gpr(A64_R(r), true));
		}
		add(c, a64_mrs_tpidr_el0(A64_R(r)), "mrs %s, tpidr_el0",
		    gpr(A64_R(r), true));
		add(c, a64_msr_tpidr_el0(A64_R(r)), "msr tpidr_el0, %s",
		    gpr(A64_R(r), true));
	}
	/* Generic S<op0>_<op1>_C<n>_C<m>_<op2> names, op0 = 2 or 3. */
	for (unsigned int i = 0; i < 200; i++) {
		unsigned int op0 = 2 + (i & 1), op1 = rnd_below(8);
		unsigned int crn = rnd_below(16), crm = rnd_below(16);
		unsigned int op2 = rnd_below(8);
		uint32_t sr = A64_SYSREG(op0, op1, crn, crm, op2);
		enum a64_reg rt = rnd_zr();

		add(c, a64_mrs(rt, sr), "mrs %s, s%u_%u_c%u_c%u_%u",
		    gpr(rt, true), op0, op1, crn, crm, op2);
		add(c, a64_msr(sr, rt), "msr s%u_%u_c%u_c%u_%u, %s",
		    op0, op1, crn, crm, op2, gpr(rt, true));
	}
}

static void gen_movw(struct corpus *c)
{
	static const char *const names[] = { "movn", "movz", "movk" };
	static const uint32_t imms[] = { 0, 1, 0x7fff, 0x8000, 0xfffe, 0xffff };

	for (unsigned int i = 0; i < 1200; i++) {
		enum a64_movw_op op = (enum a64_movw_op)(i % 3);
		enum a64_width w = (enum a64_width)((i / 3) & 1);
		unsigned int shift = 16 * rnd_below(w == A64_64 ? 4 : 2);
		uint32_t imm = i < 36 ? imms[i % 6] : rnd_below(0x10000);
		enum a64_reg rd = i < 64 ? A64_R(i % 32) : rnd_zr();

		add(c, a64_movw(op, w, rd, imm, shift), "%s %s, #%u, lsl #%u",
		    names[op], gpr(rd, w), imm, shift);
	}
	add(c, a64_movz(A64_64, A64_R0, 0xffff, 48),
	    "movz x0, #0xffff, lsl #48");
	add(c, a64_movk(A64_32, A64_R1, 0xffff, 16),
	    "movk w1, #0xffff, lsl #16");
	add(c, a64_movn(A64_32, A64_ZR, 0, 0), "movn wzr, #0");
}

static const char *const addsub_names[] = { "add", "adds", "sub", "subs" };

static void gen_addsub(struct corpus *c)
{
	static const uint64_t imms[] = {
		0, 1, 4095, 4096, 8192, 0xfff000, 0x123000, 0x800,
	};

	for (unsigned int i = 0; i < 1600; i++) {
		enum a64_addsub_op op = (enum a64_addsub_op)(i % 4);
		enum a64_width w = (enum a64_width)((i / 4) & 1);
		bool s = op == A64_ADDS || op == A64_SUBS;
		enum a64_reg rd = s ? rnd_zr() : rnd_sp(), rn = rnd_sp();
		uint64_t imm;

		if (i < 64)
			imm = imms[i % 8];
		else if (i & 8)
			imm = rnd_below(4096);
		else
			imm = (uint64_t)rnd_below(4096) << 12;
		if (imm >= 4096)
			add(c, a64_addsub_imm(op, w, rd, rn, imm),
			    "%s %s, %s, #%" PRIu64 ", lsl #12",
			    addsub_names[op], gpr(rd, w), gpr(rn, w),
			    imm >> 12);
		else
			add(c, a64_addsub_imm(op, w, rd, rn, imm),
			    "%s %s, %s, #%" PRIu64, addsub_names[op],
			    gpr(rd, w), gpr(rn, w), imm);
	}
	for (unsigned int i = 0; i < 1600; i++) {
		enum a64_addsub_op op = (enum a64_addsub_op)(i % 4);
		enum a64_width w = (enum a64_width)((i / 4) & 1);
		enum a64_shift sh = (enum a64_shift)(rnd_below(3));
		unsigned int width = w == A64_64 ? 64 : 32;
		unsigned int amt = i < 256 ? (i / 8) % width : rnd_below(width);
		enum a64_reg rd = rnd_zr(), rn = rnd_zr(), rm = rnd_zr();

		if (i % 17 == 0)
			amt = width - 1;
		add(c, a64_addsub_shifted(op, w, rd, rn, rm, sh, amt),
		    "%s %s, %s, %s, %s #%u", addsub_names[op], gpr(rd, w),
		    gpr(rn, w), gpr(rm, w), shift_names[sh], amt);
	}
	for (unsigned int i = 0; i < 1600; i++) {
		enum a64_addsub_op op = (enum a64_addsub_op)(i % 4);
		enum a64_width w = (enum a64_width)((i / 4) & 1);
		enum a64_extend ext = (enum a64_extend)((i / 8) % 8);
		bool s = op == A64_ADDS || op == A64_SUBS;
		enum a64_reg rd = s ? rnd_zr() : rnd_sp(), rn = rnd_sp();
		enum a64_reg rm = rnd_zr();
		unsigned int amt = rnd_below(5);
		bool xm = w == A64_64 && (ext & 3) == 3;

		if (amt)
			add(c, a64_addsub_ext(op, w, rd, rn, rm, ext, amt),
			    "%s %s, %s, %s, %s #%u", addsub_names[op],
			    gpr(rd, w), gpr(rn, w), gpr(rm, xm),
			    ext_names[ext], amt);
		else
			add(c, a64_addsub_ext(op, w, rd, rn, rm, ext, 0),
			    "%s %s, %s, %s, %s", addsub_names[op], gpr(rd, w),
			    gpr(rn, w), gpr(rm, xm), ext_names[ext]);
	}
	/* Mnemonic-level aliases. */
	for (unsigned int i = 0; i < 64; i++) {
		enum a64_reg a = rnd_sp(), b = rnd_sp();
		enum a64_reg x = rnd_zr(), y = rnd_zr(), z = rnd_zr();
		uint32_t imm = rnd_below(4096);

		add(c, a64_add_imm(A64_64, a, b, imm), "add %s, %s, #%u",
		    gpr(a, true), gpr(b, true), imm);
		add(c, a64_sub_imm(A64_32, a, b, imm), "sub %s, %s, #%u",
		    gpr(a, false), gpr(b, false), imm);
		add(c, a64_cmp_imm(A64_64, b, imm), "cmp %s, #%u",
		    gpr(b, true), imm);
		add(c, a64_cmn_imm(A64_32, b, imm), "cmn %s, #%u",
		    gpr(b, false), imm);
		add(c, a64_add(A64_64, x, y, z), "add %s, %s, %s",
		    gpr(x, true), gpr(y, true), gpr(z, true));
		add(c, a64_sub(A64_32, x, y, z), "sub %s, %s, %s",
		    gpr(x, false), gpr(y, false), gpr(z, false));
		add(c, a64_cmp(A64_64, y, z), "cmp %s, %s", gpr(y, true),
		    gpr(z, true));
	}
}

static const char *const logic_names[] = {
	"and", "bic", "orr", "orn", "eor", "eon", "ands", "bics",
};

/*
 * Every bitmask immediate of each width, with random registers and
 * operations: the encoder must accept all of them.
 */
static void gen_logic_imm(struct corpus *c, unsigned int *n64,
			  unsigned int *n32)
{
	static const enum a64_logic_op ops[] = {
		A64_AND, A64_ORR, A64_EOR, A64_ANDS,
	};

	*n64 = *n32 = 0;
	for (unsigned int w = 0; w < 2; w++) {
		for (uint32_t f = 0; f < 1u << 13; f++) {
			enum a64_logic_op op = ops[rnd_below(4)];
			enum a64_reg rd = op == A64_ANDS ? rnd_zr() : rnd_sp();
			enum a64_reg rn = rnd_zr();
			uint64_t v;

			if (!a64_bitmask_decode(f, (enum a64_width)w, &v))
				continue;
			/* Skip non-canonical immr (upper bits ignored). */
			uint32_t canon;

			if (!a64_bitmask_encode(v, (enum a64_width)w, &canon) ||
			    canon != f)
				continue;
			add(c, a64_logic_imm(op, (enum a64_width)w, rd, rn, v),
			    "%s %s, %s, #%#" PRIx64, logic_names[op],
			    gpr(rd, w), gpr(rn, w), v);
			if (w)
				(*n64)++;
			else
				(*n32)++;
		}
	}
	for (unsigned int i = 0; i < 64; i++) {
		enum a64_reg rd = rnd_sp(), rn = rnd_zr();

		add(c, a64_and_imm(A64_64, rd, rn, 0xff), "and %s, %s, #0xff",
		    gpr(rd, true), gpr(rn, true));
		add(c, a64_orr_imm(A64_32, rd, rn, 0x80000001),
		    "orr %s, %s, #0x80000001", gpr(rd, false), gpr(rn, false));
		add(c, a64_eor_imm(A64_64, rd, rn, 0x5555555555555555ull),
		    "eor %s, %s, #0x5555555555555555", gpr(rd, true),
		    gpr(rn, true));
		add(c, a64_tst_imm(A64_64, rn, 0xfffffffffffffffeull),
		    "tst %s, #0xfffffffffffffffe", gpr(rn, true));
	}
}

static void gen_logic_reg(struct corpus *c)
{
	for (unsigned int i = 0; i < 2400; i++) {
		enum a64_logic_op op = (enum a64_logic_op)(i % 8);
		enum a64_width w = (enum a64_width)((i / 8) & 1);
		enum a64_shift sh = (enum a64_shift)((i / 16) % 4);
		unsigned int width = w == A64_64 ? 64 : 32;
		unsigned int amt = i % 23 == 0 ? width - 1 : rnd_below(width);
		enum a64_reg rd = rnd_zr(), rn = rnd_zr(), rm = rnd_zr();

		add(c, a64_logic_shifted(op, w, rd, rn, rm, sh, amt),
		    "%s %s, %s, %s, %s #%u", logic_names[op], gpr(rd, w),
		    gpr(rn, w), gpr(rm, w), shift_names[sh], amt);
	}
	for (unsigned int i = 0; i < 64; i++) {
		enum a64_reg rd = rnd_zr(), rn = rnd_zr(), rm = rnd_zr();

		add(c, a64_and(A64_64, rd, rn, rm), "and %s, %s, %s",
		    gpr(rd, true), gpr(rn, true), gpr(rm, true));
		add(c, a64_orr(A64_32, rd, rn, rm), "orr %s, %s, %s",
		    gpr(rd, false), gpr(rn, false), gpr(rm, false));
	}
}

static void gen_bitfield(struct corpus *c)
{
	static const char *const names[] = { "sbfm", "bfm", "ubfm" };

	for (unsigned int i = 0; i < 1200; i++) {
		enum a64_bitfield_op op = (enum a64_bitfield_op)(i % 3);
		enum a64_width w = (enum a64_width)((i / 3) & 1);
		unsigned int width = w == A64_64 ? 64 : 32;
		unsigned int immr = i < 24 ? (i & 4 ? width - 1 : 0) :
				    rnd_below(width);
		unsigned int imms = i < 24 ? (i & 8 ? width - 1 : 0) :
				    rnd_below(width);
		enum a64_reg rd = rnd_zr(), rn = rnd_zr();

		add(c, a64_bitfield(op, w, rd, rn, immr, imms),
		    "%s %s, %s, #%u, #%u", names[op], gpr(rd, w), gpr(rn, w),
		    immr, imms);
	}
	for (unsigned int i = 0; i < 64; i++) {
		enum a64_width w = (enum a64_width)(i & 1);
		unsigned int width = w == A64_64 ? 64 : 32;
		unsigned int sh = i < 2 ? 0 : i < 4 ? width - 1 :
				  rnd_below(width);
		enum a64_reg rd = rnd_zr(), rn = rnd_zr();

		add(c, a64_lsl_imm(w, rd, rn, sh), "lsl %s, %s, #%u",
		    gpr(rd, w), gpr(rn, w), sh);
		add(c, a64_lsr_imm(w, rd, rn, sh), "lsr %s, %s, #%u",
		    gpr(rd, w), gpr(rn, w), sh);
		add(c, a64_asr_imm(w, rd, rn, sh), "asr %s, %s, #%u",
		    gpr(rd, w), gpr(rn, w), sh);
		add(c, a64_sxtb(w, rd, rn), "sxtb %s, %s", gpr(rd, w),
		    gpr(rn, false));
		add(c, a64_sxth(w, rd, rn), "sxth %s, %s", gpr(rd, w),
		    gpr(rn, false));
		add(c, a64_sxtw(rd, rn), "sxtw %s, %s", gpr(rd, true),
		    gpr(rn, false));
		add(c, a64_uxtb(rd, rn), "uxtb %s, %s", gpr(rd, false),
		    gpr(rn, false));
		add(c, a64_uxth(rd, rn), "uxth %s, %s", gpr(rd, false),
		    gpr(rn, false));
		add(c, a64_uxtw(rd, rn), "mov %s, %s", gpr(rd, false),
		    gpr(rn, false));
	}
}

static void gen_csel(struct corpus *c)
{
	static const char *const names[] = {
		"csel", "csinc", "csinv", "csneg",
	};

	for (unsigned int i = 0; i < 1024; i++) {
		enum a64_csel_op op = (enum a64_csel_op)(i % 4);
		enum a64_width w = (enum a64_width)((i / 4) & 1);
		enum a64_cond cond = (enum a64_cond)((i / 8) % 16);
		enum a64_reg rd = rnd_zr(), rn = rnd_zr(), rm = rnd_zr();

		add(c, a64_csel_op(op, w, rd, rn, rm, cond),
		    "%s %s, %s, %s, %s", names[op], gpr(rd, w), gpr(rn, w),
		    gpr(rm, w), cond_names[cond]);
	}
	for (unsigned int i = 0; i < 28; i++) {
		enum a64_width w = (enum a64_width)(i & 1);
		enum a64_cond cond = (enum a64_cond)(i / 2);
		enum a64_reg rd = rnd_zr(), rn = rnd_zr(), rm = rnd_zr();

		add(c, a64_cset(w, rd, cond), "cset %s, %s", gpr(rd, w),
		    cond_names[cond]);
		add(c, a64_csel(w, rd, rn, rm, cond), "csel %s, %s, %s, %s",
		    gpr(rd, w), gpr(rn, w), gpr(rm, w), cond_names[cond]);
	}
	for (unsigned int i = 0; i < 512; i++) {
		enum a64_width w = (enum a64_width)(i & 1);
		enum a64_cond cond = (enum a64_cond)((i / 2) % 16);
		unsigned int nzcv = (i / 32) % 16;
		enum a64_reg rn = rnd_zr(), rm = rnd_zr();

		add(c, a64_ccmp(w, rn, rm, nzcv, cond), "ccmp %s, %s, #%u, %s",
		    gpr(rn, w), gpr(rm, w), nzcv, cond_names[cond]);
	}
	for (unsigned int i = 0; i < 64; i++) {
		enum a64_width w = (enum a64_width)(i & 1);
		enum a64_reg rd = rnd_zr(), rn = rnd_zr();

		add(c, a64_clz(w, rd, rn), "clz %s, %s", gpr(rd, w),
		    gpr(rn, w));
	}
}

/* Mnemonic stem, suffix and register of each load/store size. */
static const struct {
	const char *suffix;	/* ldr<suffix> */
	char reg;		/* w, x, s, d, q */
	unsigned int bytes;
} ls_info[] = {
	[A64_LS_B] = { "b", 'w', 1 },
	[A64_LS_H] = { "h", 'w', 2 },
	[A64_LS_W] = { "", 'w', 4 },
	[A64_LS_X] = { "", 'x', 8 },
	[A64_LS_S] = { "", 's', 4 },
	[A64_LS_D] = { "", 'd', 8 },
	[A64_LS_Q] = { "", 'q', 16 },
};

static const char *xfer_name(enum a64_ldst_size size, enum a64_reg rt)
{
	if (size >= A64_LS_S)
		return fpr(ls_info[size].reg, (unsigned int)rt);
	return gpr(rt, ls_info[size].reg == 'x');
}

/* A transfer register for size, distinct from rn when writing back. */
static enum a64_reg rnd_xfer(enum a64_ldst_size size, enum a64_reg rn,
			     bool wb)
{
	enum a64_reg rt;

	do {
		rt = A64_R(rnd_below(32));
	} while (wb && size < A64_LS_S && rt == rn && rn != A64_SP);
	return rt;
}

static void gen_ldst(struct corpus *c)
{
	for (unsigned int i = 0; i < 5600; i++) {
		enum a64_ldst_op op = (enum a64_ldst_op)(i & 1);
		enum a64_ldst_size size = (enum a64_ldst_size)((i / 2) % 7);
		enum a64_addr_mode mode = (enum a64_addr_mode)((i / 14) % 4);
		unsigned int bytes = ls_info[size].bytes;
		const char *mn = op == A64_LOAD ? "ldr" : "str";
		enum a64_reg rn = rnd_sp(), rt;
		int64_t off;
		unsigned int e = (i / 56) % 8;	/* edge cases first */

		rt = rnd_xfer(size, rn, mode == A64_PRE || mode == A64_POST);
		if (mode == A64_OFFSET)
			off = (e == 0 ? 0 : e == 1 ? 4095 : e == 2 ? 1 :
			       rnd_below(4096)) * (int64_t)bytes;
		else
			off = e == 0 ? -256 : e == 1 ? 255 : e == 2 ? 0 :
			      rnd_range(-256, 255);

		uint32_t insn = a64_ldst_imm(op, size, rt, rn, off, mode);

		switch (mode) {
		case A64_OFFSET:
			add(c, insn, "%s%s %s, [%s, #%" PRId64 "]", mn,
			    ls_info[size].suffix, xfer_name(size, rt),
			    gpr(rn, true), off);
			break;
		case A64_PRE:
			add(c, insn, "%s%s %s, [%s, #%" PRId64 "]!", mn,
			    ls_info[size].suffix, xfer_name(size, rt),
			    gpr(rn, true), off);
			break;
		case A64_POST:
			add(c, insn, "%s%s %s, [%s], #%" PRId64, mn,
			    ls_info[size].suffix, xfer_name(size, rt),
			    gpr(rn, true), off);
			break;
		case A64_UNSCALED:
			add(c, insn, "%s%s %s, [%s, #%" PRId64 "]",
			    op == A64_LOAD ? "ldur" : "stur",
			    ls_info[size].suffix, xfer_name(size, rt),
			    gpr(rn, true), off);
			break;
		}
	}
	/* The inlines. */
	for (unsigned int i = 0; i < 32; i++) {
		enum a64_reg rn = rnd_sp(), rt = rnd_xfer(A64_LS_X, rn, true);

		add(c, a64_ldr(A64_LS_X, rt, rn, 8 * i), "ldr %s, [%s, #%u]",
		    gpr(rt, true), gpr(rn, true), 8 * i);
		add(c, a64_str(A64_LS_W, rt, rn, 4 * i), "str %s, [%s, #%u]",
		    gpr(rt, false), gpr(rn, true), 4 * i);
		add(c, a64_ldr_pre(A64_LS_X, rt, rn, -8), "ldr %s, [%s, #-8]!",
		    gpr(rt, true), gpr(rn, true));
		add(c, a64_str_pre(A64_LS_X, rt, rn, -16),
		    "str %s, [%s, #-16]!", gpr(rt, true), gpr(rn, true));
		add(c, a64_ldr_post(A64_LS_Q, i, rn, 16), "ldr q%u, [%s], #16",
		    i, gpr(rn, true));
		add(c, a64_str_post(A64_LS_D, i, rn, 8), "str d%u, [%s], #8",
		    i, gpr(rn, true));
		add(c, a64_ldur(A64_LS_X, rt, rn, -(int)i),
		    "ldur %s, [%s, #-%u]", gpr(rt, true), gpr(rn, true), i);
		add(c, a64_stur(A64_LS_S, i, rn, (int)i), "stur s%u, [%s, #%u]",
		    i, gpr(rn, true), i);
	}
}

/* Sign-extending loads, register offsets (the BPF JIT's loads/stores). */
static void gen_ldst_jit(struct corpus *c)
{
	static const char *const sx[] = { "ldrsb", "ldrsh", "ldrsw" };

	for (unsigned int i = 0; i < 600; i++) {
		enum a64_ldst_size size = (enum a64_ldst_size)(i % 3);
		unsigned int bytes = ls_info[size].bytes;
		enum a64_reg rn = rnd_sp(), rt = rnd_zr(), rm = rnd_zr();
		unsigned int e = (i / 3) % 8;
		int64_t off = (e == 0 ? 0 : e == 1 ? 4095 :
			       rnd_below(4096)) * (int64_t)bytes;
		int64_t uoff = e == 0 ? -256 : e == 1 ? 255 :
			       rnd_range(-256, 255);

		add(c, a64_ldst_imm(A64_LOAD_SX, size, rt, rn, off, A64_OFFSET),
		    "%s %s, [%s, #%" PRId64 "]", sx[size], gpr(rt, true),
		    gpr(rn, true), off);
		add(c, a64_ldst_imm(A64_LOAD_SX, size, rt, rn, uoff,
				    A64_UNSCALED),
		    "ldur%s %s, [%s, #%" PRId64 "]", sx[size] + 3,
		    gpr(rt, true), gpr(rn, true), uoff);
		add(c, a64_ldst_reg(A64_LOAD_SX, size, rt, rn, rm),
		    "%s %s, [%s, %s]", sx[size], gpr(rt, true), gpr(rn, true),
		    gpr(rm, true));

		enum a64_ldst_size sz = (enum a64_ldst_size)(i % 7);

		rt = rnd_xfer(sz, rn, false);
		add(c, a64_ldst_reg((enum a64_ldst_op)(i / 7 % 2), sz, rt, rn,
				    rm),
		    "%s%s %s, [%s, %s]", i / 7 % 2 ? "ldr" : "str",
		    ls_info[sz].suffix, xfer_name(sz, rt), gpr(rn, true),
		    gpr(rm, true));
	}
}

/* Data processing (1, 2, 3 sources): rev, div, variable shifts, madd. */
static void gen_dp(struct corpus *c)
{
	static const struct { enum a64_dp2_op op; const char *mn; } dp2[] = {
		{ A64_UDIV, "udiv" }, { A64_SDIV, "sdiv" },
		{ A64_LSLV, "lsl" }, { A64_LSRV, "lsr" },
		{ A64_ASRV, "asr" }, { A64_RORV, "ror" },
	};

	for (unsigned int i = 0; i < 1200; i++) {
		enum a64_width w = (enum a64_width)(i & 1);
		enum a64_reg rd = rnd_zr(), rn = rnd_zr(), rm = rnd_zr();
		enum a64_reg ra = rnd_zr();
		unsigned int k = (i / 2) % 6;

		add(c, a64_dp2(dp2[k].op, w, rd, rn, rm), "%s %s, %s, %s",
		    dp2[k].mn, gpr(rd, w), gpr(rn, w), gpr(rm, w));
		add(c, a64_dp3(A64_MADD, w, rd, rn, rm, ra),
		    "madd %s, %s, %s, %s", gpr(rd, w), gpr(rn, w), gpr(rm, w),
		    gpr(ra, w));
		add(c, a64_msub(w, rd, rn, rm, ra), "msub %s, %s, %s, %s",
		    gpr(rd, w), gpr(rn, w), gpr(rm, w), gpr(ra, w));
		add(c, a64_mul(w, rd, rn, rm), "mul %s, %s, %s", gpr(rd, w),
		    gpr(rn, w), gpr(rm, w));
		add(c, a64_rev(A64_REV16, w, rd, rn), "rev16 %s, %s",
		    gpr(rd, w), gpr(rn, w));
		add(c, a64_rev(A64_REV, w, rd, rn), "rev %s, %s", gpr(rd, w),
		    gpr(rn, w));
		if (w == A64_64)
			add(c, a64_rev(A64_REV32, w, rd, rn), "rev32 %s, %s",
			    gpr(rd, true), gpr(rn, true));
		add(c, a64_mvn(w, rd, rm), "mvn %s, %s", gpr(rd, w),
		    gpr(rm, w));
		add(c, a64_neg(w, rd, rm), "neg %s, %s", gpr(rd, w),
		    gpr(rm, w));
	}
}

static void gen_ldstp(struct corpus *c)
{
	static const enum a64_ldst_size sizes[] = {
		A64_LS_W, A64_LS_X, A64_LS_S, A64_LS_D, A64_LS_Q,
	};
	static const enum a64_addr_mode modes[] = {
		A64_OFFSET, A64_PRE, A64_POST,
	};

	for (unsigned int i = 0; i < 3000; i++) {
		enum a64_ldst_op op = (enum a64_ldst_op)(i & 1);
		enum a64_ldst_size size = sizes[(i / 2) % 5];
		enum a64_addr_mode mode = modes[(i / 10) % 3];
		unsigned int bytes = ls_info[size].bytes;
		unsigned int e = (i / 30) % 6;
		bool wb = mode != A64_OFFSET;
		enum a64_reg rn = rnd_sp(), rt, rt2;
		int64_t off;

		rt = rnd_xfer(size, rn, wb);
		do {
			rt2 = rnd_xfer(size, rn, wb);
		} while (op == A64_LOAD && rt2 == rt);
		off = (e == 0 ? -64 : e == 1 ? 63 : e == 2 ? 0 :
		       rnd_range(-64, 63)) * (int64_t)bytes;

		uint32_t insn = a64_ldstp(op, size, rt, rt2, rn, off, mode);
		const char *mn = op == A64_LOAD ? "ldp" : "stp";

		if (mode == A64_OFFSET)
			add(c, insn, "%s %s, %s, [%s, #%" PRId64 "]", mn,
			    xfer_name(size, rt), xfer_name(size, rt2),
			    gpr(rn, true), off);
		else if (mode == A64_PRE)
			add(c, insn, "%s %s, %s, [%s, #%" PRId64 "]!", mn,
			    xfer_name(size, rt), xfer_name(size, rt2),
			    gpr(rn, true), off);
		else
			add(c, insn, "%s %s, %s, [%s], #%" PRId64, mn,
			    xfer_name(size, rt), xfer_name(size, rt2),
			    gpr(rn, true), off);
	}
	/* The frame-building idioms. */
	add(c, a64_stp_pre(A64_LS_X, A64_FP, A64_LR, A64_SP, -16),
	    "stp x29, x30, [sp, #-16]!");
	add(c, a64_ldp_post(A64_LS_X, A64_FP, A64_LR, A64_SP, 16),
	    "ldp x29, x30, [sp], #16");
	add(c, a64_stp(A64_LS_Q, 0, 1, A64_SP, 32), "stp q0, q1, [sp, #32]");
	add(c, a64_ldp(A64_LS_D, 6, 7, A64_R1, -512),
	    "ldp d6, d7, [x1, #-512]");
	add(c, a64_stp_post(A64_LS_W, A64_R1, A64_ZR, A64_R2, 252),
	    "stp w1, wzr, [x2], #252");
	add(c, a64_ldp_pre(A64_LS_Q, 30, 31, A64_R3, -1024),
	    "ldp q30, q31, [x3, #-1024]!");
}

static void gen_atomics(struct corpus *c)
{
	static const char *const sz_suffix[] = { "b", "h", "", "" };
	static const char *const lse_names[] = {
		"ldadd", "ldclr", "ldeor", "ldset", "swp",
	};
	static const char *const ord_suffix[] = { "", "a", "l", "al" };

	for (unsigned int i = 0; i < 1600; i++) {
		enum a64_ldst_size size = (enum a64_ldst_size)(i % 4);
		bool x = size == A64_LS_X;
		enum a64_reg rn = rnd_sp(), rt = rnd_zr(), rs;
		unsigned int ord = (i / 4) % 2;

		add(c, a64_ldxr(size, rt, rn, ord ? A64_ACQ : 0),
		    "ld%sxr%s %s, [%s]", ord ? "a" : "", sz_suffix[size],
		    gpr(rt, x), gpr(rn, true));
		do {
			rs = rnd_zr();
		} while (rs == rt || rs == rn);
		add(c, a64_stxr(size, rs, rt, rn, ord ? A64_REL : 0),
		    "st%sxr%s %s, %s, [%s]", ord ? "l" : "", sz_suffix[size],
		    gpr(rs, false), gpr(rt, x), gpr(rn, true));
		add(c, a64_ldar(size, rt, rn), "ldar%s %s, [%s]",
		    sz_suffix[size], gpr(rt, x), gpr(rn, true));
		add(c, a64_stlr(size, rt, rn), "stlr%s %s, [%s]",
		    sz_suffix[size], gpr(rt, x), gpr(rn, true));

		enum a64_lse_op op = (enum a64_lse_op)((i / 4) % 5);

		ord = (i / 20) % 4;
		rs = rnd_zr();
		add(c, a64_lse(op, size, rs, rt, rn, ord),
		    "%s%s%s %s, %s, [%s]", lse_names[op], ord_suffix[ord],
		    sz_suffix[size], gpr(rs, x), gpr(rt, x), gpr(rn, true));
		add(c, a64_cas(size, rs, rt, rn, ord), "cas%s%s %s, %s, [%s]",
		    ord_suffix[ord], sz_suffix[size], gpr(rs, x), gpr(rt, x),
		    gpr(rn, true));
	}
	for (unsigned int i = 0; i < 16; i++) {
		enum a64_reg rs = rnd_zr(), rt = rnd_zr(), rn = rnd_sp();

		add(c, a64_ldadd(A64_LS_X, rs, rt, rn, A64_ACQ | A64_REL),
		    "ldaddal %s, %s, [%s]", gpr(rs, true), gpr(rt, true),
		    gpr(rn, true));
		add(c, a64_stadd(A64_LS_W, rs, rn, A64_REL), "staddl %s, [%s]",
		    gpr(rs, false), gpr(rn, true));
	}
}

static void gen_fp_moves(struct corpus *c)
{
	for (unsigned int i = 0; i < 32; i++) {
		unsigned int v = rnd_below(32);
		enum a64_reg r = A64_R(i);

		add(c, a64_fmov_to_fp(A64_FP_S, v, r), "fmov s%u, %s", v,
		    gpr(r, false));
		add(c, a64_fmov_to_fp(A64_FP_D, v, r), "fmov d%u, %s", v,
		    gpr(r, true));
		add(c, a64_fmov_to_fp(A64_FP_D1, v, r), "fmov v%u.d[1], %s", v,
		    gpr(r, true));
		add(c, a64_fmov_from_fp(A64_FP_S, r, v), "fmov %s, s%u",
		    gpr(r, false), v);
		add(c, a64_fmov_from_fp(A64_FP_D, r, v), "fmov %s, d%u",
		    gpr(r, true), v);
		add(c, a64_fmov_from_fp(A64_FP_D1, r, v), "fmov %s, v%u.d[1]",
		    gpr(r, true), v);
		add(c, a64_fmov_fp(A64_FP_S, i, v), "fmov s%u, s%u", i, v);
		add(c, a64_fmov_fp(A64_FP_D, i, v), "fmov d%u, d%u", i, v);
		add(c, a64_mov_v(i, v), "mov v%u.16b, v%u.16b", i, v);
	}
}

static void gen_mov_reg(struct corpus *c)
{
	for (unsigned int w = 0; w < 2; w++) {
		for (unsigned int d = 0; d <= A64_SP; d++) {
			for (unsigned int m = 0; m <= A64_SP; m++) {
				enum a64_reg rd = A64_R(d), rm = A64_R(m);

				/* mov sp, zr / mov zr, sp: no encoding. */
				if ((rd == A64_SP && rm == A64_ZR) ||
				    (rd == A64_ZR && rm == A64_SP))
					continue;
				add(c, a64_mov((enum a64_width)w, rd, rm),
				    "mov %s, %s", gpr(rd, w), gpr(rm, w));
			}
		}
	}
}

/* ---------------------------------------------------------------------
 * The differential test
 * --------------------------------------------------------------------- */

static bool setup_tools(struct __test_metadata *_metadata,
			struct toolchain *tc)
{
	if (!toolchain_init(tc))
		return false;
	if (!tool_works(tc->as) || !tool_works(tc->ld)) {
		toolchain_fini(tc);
		return false;
	}
	return true;
}

TEST(differential_against_gnu_as)
{
	struct corpus c = { 0 };
	struct toolchain tc;
	unsigned int n64, n32;
	long bad;

	rng_seed();
	if (!setup_tools(_metadata, &tc))
		SKIP(return, "no usable %s / linker",
		     getenv("AS") ? getenv("AS") : "aarch64-linux-gnu-as");

	gen_branches(&c);
	gen_pcrel(&c);
	gen_system(&c);
	gen_movw(&c);
	gen_addsub(&c);
	gen_logic_imm(&c, &n64, &n32);
	gen_logic_reg(&c);
	gen_bitfield(&c);
	gen_csel(&c);
	gen_ldst(&c);
	gen_ldstp(&c);
	gen_ldst_jit(&c);
	gen_dp(&c);
	gen_atomics(&c);
	gen_fp_moves(&c);
	gen_mov_reg(&c);
	ASSERT_FALSE(c.oom);

	/* Every bitmask immediate is in the corpus. */
	EXPECT_EQ(5334u, n64);
	EXPECT_EQ(1302u, n32);

	bad = differential(_metadata, &tc, &c);
	TH_LOG("%zu instructions compared with %s", c.n, tc.as);
	EXPECT_GE(c.n, (size_t)20000);
	EXPECT_EQ(0, bad);
	corpus_free(&c);
	toolchain_fini(&tc);
}

/* ---------------------------------------------------------------------
 * Refusals: boundary + 1 of every operand, cross-checked with GNU as
 * --------------------------------------------------------------------- */

/*
 * Each case is refused by the encoder; `text`, when set, is what GNU as
 * must reject (or warn about) too.  Those without text are refusals that
 * have no assembly spelling (SP where ZR is meant, bad enum values) or
 * are deliberately stricter than as.
 */
static void refuse(struct __test_metadata *_metadata, struct corpus *gas,
		   uint32_t insn, const char *what, const char *fmt, ...)
{
	va_list ap;

	if (insn != A64_INSN_BAD) {
		TH_LOG("encoder accepted %s: %08x", what, insn);
		_metadata->passed = false;
	}
	if (!fmt)
		return;
	va_start(ap, fmt);
	corpus_vadd(gas, insn, fmt, ap);
	va_end(ap);
}

#define REFUSE(insn, ...)	\
	refuse(_metadata, &gas, insn, #insn, __VA_ARGS__)
#define ACCEPT(insn)		EXPECT_NE(A64_INSN_BAD, insn)

TEST(refusals_at_every_boundary)
{
	struct corpus gas = { 0 };
	struct toolchain tc;
	const uint64_t pc = TEXT_BASE;
	const int64_t b26 = (int64_t)1 << 27, b19 = 1 << 20, b14 = 1 << 15;

	/* B/BL: +-128 MiB, word aligned. */
	ACCEPT(a64_b(pc, pc + b26 - 4));
	ACCEPT(a64_b(pc, pc - b26));
	REFUSE(a64_b(pc, pc + b26), "b .+%" PRId64, b26);
	REFUSE(a64_b(pc, pc - b26 - 4), "b .-%" PRId64, b26 + 4);
	REFUSE(a64_b(pc, pc + 2), "b .+2");
	ACCEPT(a64_bl(pc, pc + b26 - 4));
	REFUSE(a64_bl(pc, pc + b26), "bl .+%" PRId64, b26);
	REFUSE(a64_bl(pc, pc - b26 - 4), "bl .-%" PRId64, b26 + 4);
	REFUSE(a64_bl(0, 0x8000000000ull), NULL);
	/* B.cond/CBZ/LDR literal: +-1 MiB. */
	ACCEPT(a64_b_cond(pc, pc + b19 - 4, A64_COND_EQ));
	REFUSE(a64_b_cond(pc, pc + b19, A64_COND_EQ), "b.eq .+%" PRId64, b19);
	REFUSE(a64_b_cond(pc, pc - b19 - 4, A64_COND_NE),
	       "b.ne .-%" PRId64, b19 + 4);
	REFUSE(a64_b_cond(pc, pc + 4, (enum a64_cond)16), NULL);
	ACCEPT(a64_cbz(pc, pc - b19, A64_64, A64_R0));
	REFUSE(a64_cbz(pc, pc + b19, A64_64, A64_R0),
	       "cbz x0, .+%" PRId64, b19);
	REFUSE(a64_cbnz(pc, pc - b19 - 4, A64_32, A64_R1),
	       "cbnz w1, .-%" PRId64, b19 + 4);
	REFUSE(a64_cbz(pc, pc + 6, A64_64, A64_R0), "cbz x0, .+6");
	REFUSE(a64_cbz(pc, pc + 4, A64_64, A64_SP), "cbz sp, .+4");
	REFUSE(a64_cbz(pc, pc + 4, (enum a64_width)2, A64_R0), NULL);
	ACCEPT(a64_ldr_lit(pc, pc + b19 - 4, A64_LS_Q, 0));
	REFUSE(a64_ldr_lit(pc, pc + b19, A64_LS_X, A64_R0),
	       "ldr x0, .+%" PRId64, b19);
	REFUSE(a64_ldr_lit(pc, pc - b19 - 4, A64_LS_D, 0),
	       "ldr d0, .-%" PRId64, b19 + 4);
	REFUSE(a64_ldr_lit(pc, pc + 4, A64_LS_B, A64_R0), NULL);
	REFUSE(a64_ldr_lit(pc, pc + 4, A64_LS_Q, A64_R(32)), NULL);
	REFUSE(a64_ldr_lit(pc, pc + 4, A64_LS_X, A64_SP), "ldr sp, .+4");
	/* TBZ: +-32 KiB, bit 0..63. */
	ACCEPT(a64_tbz(pc, pc + b14 - 4, A64_R0, 63));
	REFUSE(a64_tbz(pc, pc + b14, A64_R0, 0), "tbz w0, #0, .+%" PRId64, b14);
	REFUSE(a64_tbnz(pc, pc - b14 - 4, A64_R0, 0),
	       "tbnz w0, #0, .-%" PRId64, b14 + 4);
	REFUSE(a64_tbz(pc, pc + 4, A64_R0, 64), "tbz x0, #64, .+4");
	/* ADR: +-1 MiB bytes; ADRP: +-4 GiB in pages, page-aligned target. */
	ACCEPT(a64_adr(pc, pc + b19 - 1, A64_R0));
	ACCEPT(a64_adr(pc, pc - b19, A64_R0));
	REFUSE(a64_adr(pc, pc + b19, A64_R0), "adr x0, .+%" PRId64, b19);
	REFUSE(a64_adr(pc, pc - b19 - 1, A64_R0),
	       "adr x0, .-%" PRId64, b19 + 1);
	REFUSE(a64_adr(pc, pc, A64_SP), "adr sp, .");
	ACCEPT(a64_adrp(pc, pc + ((uint64_t)b19 - 1) * 4096, A64_R0));
	ACCEPT(a64_adrp(pc, pc - (uint64_t)b19 * 4096, A64_R0));
	REFUSE(a64_adrp(pc, pc + (uint64_t)b19 * 4096, A64_R0), NULL);
	REFUSE(a64_adrp(pc, pc - ((uint64_t)b19 + 1) * 4096, A64_R0), NULL);
	REFUSE(a64_adrp(pc, pc + 8, A64_R0), NULL);
	/* Register branches: any X register or XZR, never SP. */
	REFUSE(a64_br(A64_SP), "br sp");
	REFUSE(a64_blr(A64_SP), "blr sp");
	REFUSE(a64_ret_reg(A64_SP), "ret sp");
	REFUSE(a64_br(A64_R(33)), NULL);
	REFUSE(a64_br((enum a64_reg)-1), NULL);

	/* Exceptions and system. */
	ACCEPT(a64_brk(0xffff));
	REFUSE(a64_brk(0x10000), "brk #0x10000");
	REFUSE(a64_svc(0x10000), "svc #0x10000");
	REFUSE(a64_hvc(0x10000), "hvc #0x10000");
	REFUSE(a64_smc(0x10000), "smc #0x10000");
	REFUSE(a64_hint(128), "hint #128");
	REFUSE(a64_dmb((enum a64_barrier)16), "dmb #16");
	REFUSE(a64_dsb((enum a64_barrier)16), "dsb #16");
	REFUSE(a64_dsb((enum a64_barrier)0), NULL);	/* ssbb */
	REFUSE(a64_dsb((enum a64_barrier)4), NULL);	/* pssbb */
	REFUSE(a64_mrs(A64_SP, A64_SYSREG_TPIDR_EL0), "mrs sp, tpidr_el0");
	REFUSE(a64_msr(A64_SYSREG_TPIDR_EL0, A64_SP), "msr tpidr_el0, sp");
	REFUSE(a64_mrs(A64_R0, 0x8000), NULL);

	/* Move wide. */
	ACCEPT(a64_movz(A64_32, A64_R0, 0xffff, 16));
	REFUSE(a64_movz(A64_32, A64_R0, 0x10000, 0), "movz w0, #0x10000");
	REFUSE(a64_movz(A64_32, A64_R0, 1, 32), "movz w0, #1, lsl #32");
	REFUSE(a64_movk(A64_64, A64_R0, 1, 64), "movk x0, #1, lsl #64");
	REFUSE(a64_movn(A64_64, A64_R0, 1, 8), "movn x0, #1, lsl #8");
	REFUSE(a64_movz(A64_64, A64_SP, 1, 0), "movz sp, #1");
	REFUSE(a64_movw((enum a64_movw_op)3, A64_64, A64_R0, 1, 0), NULL);

	/* Add/sub immediate: 12 bits, optionally shifted by 12. */
	ACCEPT(a64_add_imm(A64_64, A64_R0, A64_R1, 0xfff000));
	REFUSE(a64_add_imm(A64_64, A64_R0, A64_R1, 0x1000000),
	       "add x0, x1, #0x1000, lsl #12");
	REFUSE(a64_add_imm(A64_64, A64_R0, A64_R1, 0x1001),
	       "add x0, x1, #0x1001");
	/* GNU as truncates this one to #0; the encoder does not. */
	REFUSE(a64_sub_imm(A64_32, A64_R0, A64_R1, (uint64_t)1 << 63), NULL);
	REFUSE(a64_add_imm(A64_64, A64_ZR, A64_R1, 1), "add xzr, x1, #1");
	REFUSE(a64_add_imm(A64_64, A64_R0, A64_ZR, 1), "add x0, xzr, #1");
	REFUSE(a64_addsub_imm(A64_SUBS, A64_64, A64_SP, A64_R1, 1),
	       "subs sp, x1, #1");
	REFUSE(a64_addsub_imm((enum a64_addsub_op)4, A64_64, A64_R0, A64_R1, 1),
	       NULL);
	/* Shifted register. */
	ACCEPT(a64_addsub_shifted(A64_ADD, A64_32, A64_R0, A64_R1, A64_R2,
				  A64_ASR, 31));
	REFUSE(a64_addsub_shifted(A64_ADD, A64_32, A64_R0, A64_R1, A64_R2,
				  A64_LSL, 32), "add w0, w1, w2, lsl #32");
	REFUSE(a64_addsub_shifted(A64_SUB, A64_64, A64_R0, A64_R1, A64_R2,
				  A64_LSR, 64), "sub x0, x1, x2, lsr #64");
	REFUSE(a64_addsub_shifted(A64_ADD, A64_64, A64_R0, A64_R1, A64_R2,
				  A64_ROR, 1), "add x0, x1, x2, ror #1");
	REFUSE(a64_addsub_shifted(A64_ADD, A64_64, A64_R0, A64_R1, A64_SP,
				  A64_LSL, 0), "add x0, x1, sp");
	/* Extended register. */
	ACCEPT(a64_addsub_ext(A64_ADD, A64_64, A64_SP, A64_SP, A64_R1,
			      A64_UXTX, 4));
	REFUSE(a64_addsub_ext(A64_ADD, A64_64, A64_SP, A64_SP, A64_R1,
			      A64_UXTX, 5), "add sp, sp, x1, uxtx #5");
	REFUSE(a64_addsub_ext(A64_ADD, A64_64, A64_R0, A64_R2, A64_SP,
			      A64_UXTX, 0), "add x0, x2, sp, uxtx");
	REFUSE(a64_addsub_ext(A64_ADDS, A64_64, A64_SP, A64_R2, A64_R1,
			      A64_UXTX, 0), "adds sp, x2, x1, uxtx");
	REFUSE(a64_addsub_ext(A64_ADD, A64_64, A64_R0, A64_R2, A64_R1,
			      (enum a64_extend)8, 0), NULL);

	/* Logical. */
	REFUSE(a64_and_imm(A64_64, A64_R0, A64_R1, 0), "and x0, x1, #0");
	REFUSE(a64_and_imm(A64_64, A64_R0, A64_R1, ~0ull), "and x0, x1, #-1");
	REFUSE(a64_and_imm(A64_32, A64_R0, A64_R1, 0xffffffff),
	       "and w0, w1, #0xffffffff");
	REFUSE(a64_orr_imm(A64_32, A64_R0, A64_R1, 0x100000000ull),
	       "orr w0, w1, #0x100000000");
	REFUSE(a64_eor_imm(A64_64, A64_R0, A64_R1, 0x1234),
	       "eor x0, x1, #0x1234");
	REFUSE(a64_logic_imm(A64_BIC, A64_64, A64_R0, A64_R1, 1), NULL);
	REFUSE(a64_and_imm(A64_64, A64_R0, A64_SP, 1), "and x0, sp, #1");
	REFUSE(a64_logic_imm(A64_ANDS, A64_64, A64_SP, A64_R1, 1),
	       "ands sp, x1, #1");
	ACCEPT(a64_logic_shifted(A64_EON, A64_64, A64_R0, A64_R1, A64_R2,
				 A64_ROR, 63));
	REFUSE(a64_logic_shifted(A64_EON, A64_64, A64_R0, A64_R1, A64_R2,
				 A64_ROR, 64), "eon x0, x1, x2, ror #64");
	REFUSE(a64_orr(A64_64, A64_SP, A64_R1, A64_R2), "orr sp, x1, x2");
	REFUSE(a64_logic_shifted((enum a64_logic_op)8, A64_64, A64_R0, A64_R1,
				 A64_R2, A64_LSL, 0), NULL);
	/* Bitfield. */
	ACCEPT(a64_bitfield(A64_UBFM, A64_32, A64_R0, A64_R1, 31, 31));
	REFUSE(a64_bitfield(A64_UBFM, A64_32, A64_R0, A64_R1, 32, 0),
	       "ubfm w0, w1, #32, #0");
	REFUSE(a64_bitfield(A64_SBFM, A64_64, A64_R0, A64_R1, 0, 64),
	       "sbfm x0, x1, #0, #64");
	REFUSE(a64_lsl_imm(A64_64, A64_R0, A64_R1, 64), "lsl x0, x1, #64");
	REFUSE(a64_lsr_imm(A64_32, A64_R0, A64_R1, 32), "lsr w0, w1, #32");
	REFUSE(a64_sxtw(A64_SP, A64_R1), "sxtw sp, w1");
	/* Conditional select. */
	REFUSE(a64_csel(A64_64, A64_R0, A64_R1, A64_SP, A64_COND_EQ),
	       "csel x0, x1, sp, eq");
	REFUSE(a64_cset(A64_64, A64_R0, A64_COND_AL), "cset x0, al");
	REFUSE(a64_csel(A64_64, A64_R0, A64_R1, A64_R2, (enum a64_cond)16),
	       NULL);
	REFUSE(a64_ccmp(A64_64, A64_R0, A64_R1, 16, A64_COND_EQ), NULL);
	REFUSE(a64_ccmp(A64_64, A64_SP, A64_R1, 0, A64_COND_EQ),
	       "ccmp sp, x1, #0, eq");
	REFUSE(a64_ccmp(A64_64, A64_R0, A64_R1, 0, (enum a64_cond)16), NULL);
	REFUSE(a64_clz(A64_64, A64_SP, A64_R1), "clz sp, x1");
	REFUSE(a64_clz(A64_64, A64_R0, A64_SP), "clz x0, sp");

	/* Loads and stores. */
	ACCEPT(a64_ldr(A64_LS_X, A64_R0, A64_SP, 4095 * 8));
	REFUSE(a64_ldr(A64_LS_X, A64_R0, A64_SP, 4096 * 8),
	       "ldr x0, [sp, #32768]");
	REFUSE(a64_ldr(A64_LS_Q, 0, A64_SP, 4096 * 16), "ldr q0, [sp, #65536]");
	REFUSE(a64_str(A64_LS_H, A64_R0, A64_R1, 4096 * 2),
	       "strh w0, [x1, #8192]");
	REFUSE(a64_ldr(A64_LS_X, A64_R0, A64_R1, -8), NULL);	/* ldur's */
	REFUSE(a64_ldr(A64_LS_X, A64_R0, A64_R1, 4), NULL);	/* ldur's */
	ACCEPT(a64_ldr_pre(A64_LS_X, A64_R0, A64_R1, -256));
	ACCEPT(a64_ldr_post(A64_LS_X, A64_R0, A64_R1, 255));
	REFUSE(a64_ldr_pre(A64_LS_X, A64_R0, A64_R1, -257),
	       "ldr x0, [x1, #-257]!");
	REFUSE(a64_str_post(A64_LS_B, A64_R0, A64_R1, 256),
	       "strb w0, [x1], #256");
	REFUSE(a64_stur(A64_LS_Q, 0, A64_R1, 256), "stur q0, [x1, #256]");
	REFUSE(a64_ldur(A64_LS_W, A64_R0, A64_R1, -257),
	       "ldur w0, [x1, #-257]");
	REFUSE(a64_ldr_pre(A64_LS_X, A64_R1, A64_R1, 8), "ldr x1, [x1, #8]!");
	REFUSE(a64_str_post(A64_LS_W, A64_R3, A64_R3, 8), "str w3, [x3], #8");
	ACCEPT(a64_ldr_pre(A64_LS_D, 1, A64_R1, 8));	/* d1 is not x1 */
	REFUSE(a64_ldr(A64_LS_X, A64_SP, A64_R1, 0), "ldr sp, [x1]");
	REFUSE(a64_ldr(A64_LS_X, A64_R0, A64_ZR, 0), "ldr x0, [xzr]");
	REFUSE(a64_ldr(A64_LS_Q, A64_R(32), A64_R1, 0), NULL);
	REFUSE(a64_ldst_imm(A64_LOAD, (enum a64_ldst_size)7, A64_R0, A64_R1, 0,
			    A64_OFFSET), NULL);
	REFUSE(a64_ldst_imm(A64_LOAD, A64_LS_X, A64_R0, A64_R1, 0,
			    (enum a64_addr_mode)4), NULL);
	/* Pairs: imm7 scaled. */
	ACCEPT(a64_stp(A64_LS_X, A64_R0, A64_R1, A64_SP, 63 * 8));
	ACCEPT(a64_stp(A64_LS_X, A64_R0, A64_R1, A64_SP, -64 * 8));
	REFUSE(a64_stp(A64_LS_X, A64_R0, A64_R1, A64_SP, 64 * 8),
	       "stp x0, x1, [sp, #512]");
	REFUSE(a64_stp_pre(A64_LS_X, A64_R0, A64_R1, A64_SP, -65 * 8),
	       "stp x0, x1, [sp, #-520]!");
	REFUSE(a64_ldp_post(A64_LS_Q, 0, 1, A64_SP, 64 * 16),
	       "ldp q0, q1, [sp], #1024");
	REFUSE(a64_ldp(A64_LS_W, A64_R0, A64_R1, A64_SP, 6),
	       "ldp w0, w1, [sp, #6]");
	REFUSE(a64_ldp(A64_LS_X, A64_R2, A64_R2, A64_SP, 0),
	       "ldp x2, x2, [sp]");
	ACCEPT(a64_stp(A64_LS_X, A64_R2, A64_R2, A64_SP, 0));
	REFUSE(a64_stp_pre(A64_LS_X, A64_R1, A64_R2, A64_R2, -16),
	       "stp x1, x2, [x2, #-16]!");
	REFUSE(a64_ldp(A64_LS_X, A64_SP, A64_R1, A64_R2, 0),
	       "ldp sp, x1, [x2]");
	REFUSE(a64_ldstp(A64_LOAD, A64_LS_B, A64_R0, A64_R1, A64_R2, 0,
			 A64_OFFSET), NULL);
	REFUSE(a64_ldstp(A64_LOAD, A64_LS_X, A64_R0, A64_R1, A64_R2, 0,
			 A64_UNSCALED), NULL);
	/* Exclusives and atomics. */
	REFUSE(a64_stxr(A64_LS_X, A64_R0, A64_R0, A64_R1, 0),
	       "stxr w0, x0, [x1]");
	REFUSE(a64_stxr(A64_LS_X, A64_R1, A64_R0, A64_R1, 0),
	       "stxr w1, x0, [x1]");
	REFUSE(a64_ldxr(A64_LS_X, A64_R0, A64_R1, A64_REL), NULL);
	REFUSE(a64_stxr(A64_LS_X, A64_R2, A64_R0, A64_R1, A64_ACQ), NULL);
	REFUSE(a64_ldxr(A64_LS_S, A64_R0, A64_R1, 0), NULL);
	REFUSE(a64_ldxr(A64_LS_X, A64_R0, A64_ZR, 0), "ldxr x0, [xzr]");
	REFUSE(a64_lse(A64_LDADD, A64_LS_X, A64_R0, A64_R1, A64_R2, 4), NULL);
	REFUSE(a64_lse((enum a64_lse_op)5, A64_LS_X, A64_R0, A64_R1, A64_R2, 0),
	       NULL);
	REFUSE(a64_ldadd(A64_LS_X, A64_SP, A64_R1, A64_R2, 0),
	       "ldadd sp, x1, [x2]");
	REFUSE(a64_stadd(A64_LS_X, A64_R1, A64_R2, A64_ACQ), NULL);
	REFUSE(a64_cas(A64_LS_Q, A64_R0, A64_R1, A64_R2, 0), NULL);
	REFUSE(a64_cas(A64_LS_X, A64_R0, A64_SP, A64_R2, 0),
	       "cas x0, sp, [x2]");
	/* FP moves. */
	REFUSE(a64_fmov_to_fp(A64_FP_D, 32, A64_R0), "fmov d32, x0");
	REFUSE(a64_fmov_from_fp(A64_FP_D, A64_SP, 0), "fmov sp, d0");
	REFUSE(a64_fmov_fp(A64_FP_D1, 0, 1), NULL);
	REFUSE(a64_fmov_to_fp((enum a64_fp_type)3, 0, A64_R0), NULL);
	REFUSE(a64_mov_v(0, 32), "mov v0.16b, v32.16b");
	/* Register moves. */
	REFUSE(a64_mov(A64_64, A64_SP, A64_ZR), "mov sp, xzr");
	REFUSE(a64_mov(A64_64, A64_ZR, A64_SP), "mov xzr, sp");
	REFUSE(a64_mov(A64_64, A64_R(40), A64_R0), NULL);
	ASSERT_FALSE(gas.oom);

	rng_seed();
	if (!setup_tools(_metadata, &tc)) {
		corpus_free(&gas);
		SKIP(return, "no usable assembler for the cross-check");
	}
	EXPECT_EQ(0, rejected_by_as(_metadata, &tc, &gas));
	TH_LOG("%zu refusals confirmed by %s", gas.n, tc.as);
	corpus_free(&gas);
	toolchain_fini(&tc);
}

/*
 * The bitmask immediate encoder accepts exactly what GNU as accepts: the
 * valid ones are all in the differential corpus; here, a sample of
 * invalid neighbours (valid +-1, single bit flips, random values) must be
 * refused by the encoder and by as alike.
 */
TEST(logical_immediates_match_gnu_as)
{
	struct corpus gas = { 0 };
	struct toolchain tc;
	unsigned int refused = 0;

	rng_seed();
	for (unsigned int i = 0; i < 6000; i++) {
		enum a64_width w = (enum a64_width)(i & 1);
		uint64_t mask = w == A64_64 ? ~0ull : 0xffffffffull;
		uint32_t f = rnd_below(1u << 13), bits;
		uint64_t v;

		if (i % 3 == 0 || !a64_bitmask_decode(f, w, &v))
			v = rnd() & mask;
		else if (i % 3 == 1)
			v = (v + (rnd() & 1 ? 1 : -1)) & mask;
		else
			v = (v ^ (1ull << rnd_below(w == A64_64 ? 64 : 32)));
		if (a64_bitmask_encode(v, w, &bits))
			continue;
		refused++;
		EXPECT_EQ(A64_INSN_BAD,
			  a64_logic_imm(A64_AND, w, A64_R0, A64_R1, v));
		add(&gas, A64_INSN_BAD, "and %s, %s, #%#" PRIx64,
		    gpr(A64_R0, w), gpr(A64_R1, w), v);
	}
	ASSERT_FALSE(gas.oom);
	EXPECT_GT(refused, 3000u);
	if (!setup_tools(_metadata, &tc)) {
		corpus_free(&gas);
		SKIP(return, "no usable assembler");
	}
	EXPECT_EQ(0, rejected_by_as(_metadata, &tc, &gas));
	TH_LOG("%zu non-encodable immediates refused by both", gas.n);
	corpus_free(&gas);
	toolchain_fini(&tc);
}

/* ---------------------------------------------------------------------
 * Pure tests: decoders, bitmasks, immediates, the context
 * --------------------------------------------------------------------- */

/* Exhaustive: every N:immr:imms decodes, re-encodes canonically. */
TEST(bitmask_round_trip_exhaustive)
{
	unsigned int valid[2] = { 0, 0 };

	for (unsigned int w = 0; w < 2; w++) {
		for (uint32_t f = 0; f < 1u << 13; f++) {
			uint64_t v, v2;
			uint32_t g;

			if (!a64_bitmask_decode(f, (enum a64_width)w, &v))
				continue;
			ASSERT_TRUE(a64_bitmask_encode(v, (enum a64_width)w,
						       &g));
			ASSERT_TRUE(a64_bitmask_decode(g, (enum a64_width)w,
						       &v2));
			ASSERT_EQ(v, v2);
			/*
			 * Encodings whose immr has bits above the element
			 * size decode to the same value; only the canonical
			 * one comes back, so count each value once.
			 */
			if (g == f)
				valid[w]++;
		}
	}
	/* 5334 distinct 64-bit and 1302 32-bit logical immediates. */
	EXPECT_EQ(1302u, valid[0]);
	EXPECT_EQ(5334u, valid[1]);
	/* No encoding of 0 or all ones, for either width. */
	uint32_t f;

	EXPECT_FALSE(a64_bitmask_encode(0, A64_64, &f));
	EXPECT_FALSE(a64_bitmask_encode(~0ull, A64_64, &f));
	EXPECT_FALSE(a64_bitmask_encode(0xffffffff, A64_32, &f));
	EXPECT_FALSE(a64_bitmask_decode(1u << 13, A64_64, (uint64_t *)&f));
}

TEST(branch_decoders_round_trip)
{
	rng_seed();
	for (unsigned int i = 0; i < 20000; i++) {
		uint64_t pc = rnd() & ~3ull, t, got;
		int64_t off;
		uint32_t insn;
		enum a64_reg r = A64_R(rnd_below(32));

		switch (i % 9) {
		case 0:
			off = rnd_range(-(1 << 25), (1 << 25) - 1) * 4;
			insn = a64_b(pc, t = pc + off);
			ASSERT_TRUE(a64_is_b(insn));
			ASSERT_FALSE(a64_is_bl(insn));
			break;
		case 1:
			off = rnd_range(-(1 << 25), (1 << 25) - 1) * 4;
			insn = a64_bl(pc, t = pc + off);
			ASSERT_TRUE(a64_is_bl(insn));
			ASSERT_FALSE(a64_is_b(insn));
			EXPECT_EQ(insn, a64_bl(pc, t));
			break;
		case 2:
			off = rnd_range(-(1 << 18), (1 << 18) - 1) * 4;
			insn = a64_b_cond(pc, t = pc + off,
					  (enum a64_cond)rnd_below(16));
			ASSERT_TRUE(a64_is_b_cond(insn));
			break;
		case 3:
			off = rnd_range(-(1 << 18), (1 << 18) - 1) * 4;
			insn = a64_cbz(pc, t = pc + off, A64_64, r);
			ASSERT_TRUE(a64_is_cbz(insn));
			ASSERT_EQ((unsigned int)r, a64_insn_rd(insn));
			break;
		case 4:
			off = rnd_range(-(1 << 18), (1 << 18) - 1) * 4;
			insn = a64_cbnz(pc, t = pc + off, A64_32, r);
			ASSERT_TRUE(a64_is_cbz(insn));
			break;
		case 5:
			off = rnd_range(-(1 << 13), (1 << 13) - 1) * 4;
			insn = a64_tbnz(pc, t = pc + off, r, rnd_below(64));
			ASSERT_TRUE(a64_is_tbz(insn));
			break;
		case 6:
			off = rnd_range(-(1 << 20), (1 << 20) - 1);
			insn = a64_adr(pc, t = pc + off, r);
			ASSERT_TRUE(a64_is_adr(insn));
			ASSERT_FALSE(a64_is_adrp(insn));
			break;
		case 7:
			off = rnd_range(-(1 << 20), (1 << 20) - 1);
			t = (pc & ~0xfffull) + (uint64_t)off * 4096;
			insn = a64_adrp(pc, t, r);
			ASSERT_TRUE(a64_is_adrp(insn));
			break;
		default:
			off = rnd_range(-(1 << 18), (1 << 18) - 1) * 4;
			insn = a64_ldr_lit(pc, t = pc + off, A64_LS_X, r);
			ASSERT_TRUE(a64_is_ldr_lit(insn));
			ASSERT_FALSE(a64_branch_target(insn, pc, &got));
			ASSERT_TRUE(a64_literal_target(insn, pc, &got));
			ASSERT_EQ(t, got);
			continue;
		}
		ASSERT_NE(A64_INSN_BAD, insn);
		ASSERT_TRUE(a64_branch_target(insn, pc, &got));
		ASSERT_EQ(t, got);
		ASSERT_FALSE(a64_literal_target(insn, pc, &got));
	}
}

TEST(predicates)
{
	enum a64_width w;
	enum a64_reg rd, rm;
	uint64_t t;

	EXPECT_TRUE(a64_is_nop(A64_NOP));
	EXPECT_FALSE(a64_is_nop(A64_BTI_C));
	EXPECT_TRUE(a64_is_bti(A64_BTI));
	EXPECT_TRUE(a64_is_bti(A64_BTI_C));
	EXPECT_TRUE(a64_is_bti(A64_BTI_J));
	EXPECT_TRUE(a64_is_bti(A64_BTI_JC));
	EXPECT_FALSE(a64_is_bti(A64_PACIASP));
	EXPECT_FALSE(a64_is_bti(a64_hint(40)));
	EXPECT_FALSE(a64_is_bti(A64_NOP));
	EXPECT_TRUE(a64_is_call_landing_pad(A64_PACIASP));
	EXPECT_FALSE(a64_is_call_landing_pad(A64_BTI_J));
	EXPECT_FALSE(a64_branch_target(A64_NOP, 0, &t));
	EXPECT_FALSE(a64_branch_target(A64_RET, 0, &t));
	EXPECT_TRUE(a64_is_br_blr_ret(A64_RET));
	EXPECT_TRUE(a64_is_br_blr_ret(a64_blr(A64_R17)));
	EXPECT_TRUE(a64_is_br_blr_ret(a64_br(A64_ZR)));
	EXPECT_FALSE(a64_is_br_blr_ret(a64_bl(0, 8)));
	EXPECT_FALSE(a64_is_br_blr_ret(0xd67f0000u));	/* unallocated opc */
	EXPECT_FALSE(a64_is_br_blr_ret(0xd69f03e0u));	/* eret */

	ASSERT_TRUE(a64_is_mov_reg(A64_MOV_X9_X30, &w, &rd, &rm));
	EXPECT_EQ(A64_64, w);
	EXPECT_EQ(A64_R9, rd);
	EXPECT_EQ(A64_R30, rm);
	EXPECT_EQ(A64_MOV_X9_X30, a64_mov(A64_64, A64_R9, A64_LR));
	ASSERT_TRUE(a64_is_mov_reg(a64_mov(A64_32, A64_R1, A64_R2), &w, &rd,
				   &rm));
	EXPECT_EQ(A64_32, w);
	/* mov x0, sp is an ADD, and orr with a shift is not a mov. */
	EXPECT_FALSE(a64_is_mov_reg(a64_mov(A64_64, A64_R0, A64_SP), &w, &rd,
				    &rm));
	EXPECT_FALSE(a64_is_mov_reg(a64_logic_shifted(A64_ORR, A64_64, A64_R0,
			A64_ZR, A64_R1, A64_LSL, 1), &w, &rd, &rm));
	EXPECT_FALSE(a64_is_mov_reg(a64_orr(A64_64, A64_R0, A64_R2, A64_R1),
				    &w, &rd, &rm));
}

/* Arm ARM B2.2.5: exactly B, BL, BRK, HVC, ISB, NOP, SMC, SVC. */
TEST(concurrent_modification_set)
{
	rng_seed();
	for (unsigned int i = 0; i < 1000; i++) {
		uint64_t pc = rnd() & ~3ull;
		int64_t off = rnd_range(-(1 << 25), (1 << 25) - 1) * 4;
		uint32_t imm = rnd_below(0x10000);

		EXPECT_TRUE(a64_is_concurrent_safe(a64_b(pc, pc + off)));
		EXPECT_TRUE(a64_is_concurrent_safe(a64_bl(pc, pc + off)));
		EXPECT_TRUE(a64_is_concurrent_safe(a64_brk(imm)));
		EXPECT_TRUE(a64_is_concurrent_safe(a64_svc(imm)));
		EXPECT_TRUE(a64_is_concurrent_safe(a64_hvc(imm)));
		EXPECT_TRUE(a64_is_concurrent_safe(a64_smc(imm)));
		EXPECT_FALSE(a64_is_concurrent_safe(
			a64_b_cond(pc, pc + off / 512 * 4, A64_COND_EQ)));
		EXPECT_FALSE(a64_is_concurrent_safe(
			a64_movz(A64_64, A64_R0, imm, 0)));
	}
	EXPECT_TRUE(a64_is_concurrent_safe(A64_NOP));
	EXPECT_TRUE(a64_is_concurrent_safe(A64_ISB));
	/* isb with a reserved option: conservatively not in the set. */
	EXPECT_FALSE(a64_is_concurrent_safe(0xd50330dfu));
	EXPECT_TRUE(a64_is_concurrent_safe(A64_INSN_BAD));
	EXPECT_FALSE(a64_is_concurrent_safe(A64_BTI_C));
	EXPECT_FALSE(a64_is_concurrent_safe(A64_PACIASP));
	EXPECT_FALSE(a64_is_concurrent_safe(A64_MOV_X9_X30));
	EXPECT_FALSE(a64_is_concurrent_safe(A64_RET));
	EXPECT_FALSE(a64_is_concurrent_safe(a64_dmb(A64_ISH)));
	EXPECT_FALSE(a64_is_concurrent_safe(a64_hint(1)));	/* yield */
	EXPECT_FALSE(a64_is_concurrent_safe(0xd4400000u));	/* hlt #0 */
	EXPECT_FALSE(a64_is_concurrent_safe(0xd4a00001u));	/* dcps1 */
	EXPECT_FALSE(a64_is_concurrent_safe(0));		/* udf #0 */
}

/* A tiny interpreter for what a64_mov_imm emits. */
static bool run_mov_seq(const uint32_t *insns, unsigned int n,
			unsigned int rd, uint64_t *val)
{
	uint64_t x = 0xdeadbeefdeadbeefull;

	for (unsigned int i = 0; i < n; i++) {
		uint32_t in = insns[i];
		bool sf = in >> 31;
		unsigned int hw = (in >> 21) & 3;
		uint64_t imm = (uint64_t)((in >> 5) & 0xffff) << (16 * hw);
		uint64_t v;

		if (a64_insn_rd(in) != rd)
			return false;
		switch (in & 0x7f800000u) {
		case 0x12800000u:	/* movn */
			x = ~imm;
			break;
		case 0x52800000u:	/* movz */
			x = imm;
			break;
		case 0x72800000u:	/* movk */
			x = (x & ~((uint64_t)0xffff << (16 * hw))) | imm;
			break;
		case 0x32000000u:	/* orr (immediate) */
		case 0x32800000u:
			if (a64_insn_rn(in) != 31 ||
			    !a64_bitmask_decode((in >> 10) & 0x1fff,
						(enum a64_width)sf, &v))
				return false;
			x = v;
			break;
		default:
			return false;
		}
		if (!sf)
			x &= 0xffffffffu;
	}
	*val = x;
	return true;
}

static unsigned int halfwords_equal(uint64_t v, unsigned int n, uint32_t hw)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n; i++)
		k += ((v >> (16 * i)) & 0xffff) == hw;
	return k;
}

static uint64_t interesting_value(unsigned int i)
{
	uint32_t f;
	uint64_t v;

	switch (i % 8) {
	case 0:
		return rnd();
	case 1:		/* one non-zero halfword */
		return (rnd() & 0xffff) << (16 * rnd_below(4));
	case 2:		/* one non-ones halfword */
		return ~((rnd() & 0xffff) << (16 * rnd_below(4)));
	case 3:		/* a bitmask immediate */
		f = rnd_below(1u << 13);
		return a64_bitmask_decode(f, A64_64, &v) ? v : 0;
	case 4:		/* two halfwords set */
		return (rnd() & 0xffff0000ffffull);
	case 5:		/* addresses */
		return 0xffff000000000000ull | (rnd() & 0xffffffffffffull);
	case 6:
		return 0x0000aaaa00000000ull | (rnd() & 0xffffffffull);
	default:
		return rnd() >> rnd_below(64);
	}
}

TEST(mov_imm_minimal_and_value_only)
{
	static const uint64_t fixed[] = {
		0, ~0ull, 1, 0xffff, 0x10000, 0xffffffff, 0x100000000ull,
		0x8000000000000000ull, 0x7fffffffffffffffull,
		0x5555555555555555ull, 0xffff0000ffff0000ull,
		0x0000ffffffff0000ull, 0x1234ffff5678ffffull,
	};

	rng_seed();
	for (unsigned int i = 0; i < 20000; i++) {
		enum a64_width w = (enum a64_width)(i & 1);
		unsigned int nhw = w == A64_64 ? 4 : 2, n, bound;
		uint64_t mask = w == A64_64 ? ~0ull : 0xffffffffull, got = 0;
		uint64_t v = i < 26 ? fixed[i / 2] : interesting_value(i / 2);
		uint32_t refused[4];

		/* 32-bit: bits above 31 are refused, the rest loaded. */
		if (v & ~mask) {
			ASSERT_EQ(0u, a64_mov_imm(refused, w, A64_R0, v));
			v &= mask;
		}
		uint32_t insns[4], f;
		enum a64_reg rd = A64_R(rnd_below(31));

		n = a64_mov_imm(insns, w, rd, v);
		ASSERT_GE(n, 1u);
		ASSERT_LE(n, nhw);
		for (unsigned int k = 0; k < n; k++)
			ASSERT_NE(A64_INSN_BAD, insns[k]);
		ASSERT_TRUE(run_mov_seq(insns, n, rd, &got));
		ASSERT_EQ(v & mask, got);
		/* The count is a function of the value alone. */
		ASSERT_EQ(n, a64_mov_imm_count(w, v));
		/* Fewest: MOVZ+MOVKs, MOVN+MOVKs, or one ORR. */
		bound = nhw - halfwords_equal(v & mask, nhw, 0);
		if (nhw - halfwords_equal(v & mask, nhw, 0xffff) < bound)
			bound = nhw - halfwords_equal(v & mask, nhw, 0xffff);
		if (bound < 1)
			bound = 1;
		if (a64_bitmask_encode(v & mask, w, &f))
			bound = 1;
		ASSERT_EQ(bound, n);
	}
	uint32_t insns[4];

	EXPECT_EQ(0u, a64_mov_imm(insns, A64_64, A64_SP, 1));
	EXPECT_EQ(0u, a64_mov_imm(insns, A64_64, A64_ZR, 1));
	EXPECT_EQ(0u, a64_mov_imm(insns, A64_32, A64_R1, 0x100000000ull));
	EXPECT_EQ(1u, a64_mov_imm(insns, A64_32, A64_R1, 0xffffffffull));
}

TEST(ctx_two_passes_and_sticky_errors)
{
	uint32_t image[16], guard;
	struct a64_ctx ctx;
	uint32_t n1;

	/* Pass 1 counts, pass 2 writes the same number of words. */
	a64_ctx_init(&ctx, NULL, 0, 0);
	a64_emit(&ctx, A64_BTI_C);
	a64_emit_mov_imm(&ctx, A64_64, A64_R0, 0x1234567890ull);
	a64_emit_b(&ctx, 0x7000000000ull);	/* unknown pc: no error yet */
	a64_emit_mov_imm_fixed(&ctx, A64_R1, 0);
	a64_emit(&ctx, A64_RET);
	EXPECT_EQ(0, ctx.err);
	n1 = ctx.idx;
	EXPECT_EQ(1u + 3 + 1 + 4 + 1, n1);

	memset(image, 0, sizeof(image));
	a64_ctx_init(&ctx, image, 0x7000000000ull - 0x100, n1);
	a64_emit(&ctx, A64_BTI_C);
	EXPECT_EQ(0x7000000000ull - 0xfc, a64_ctx_pc(&ctx));
	a64_emit_mov_imm(&ctx, A64_64, A64_R0, 0x1234567890ull);
	a64_emit_b(&ctx, 0x7000000000ull);
	a64_emit_mov_imm_fixed(&ctx, A64_R1, 0);
	a64_emit(&ctx, A64_RET);
	EXPECT_EQ(0, ctx.err);
	EXPECT_EQ(n1, ctx.idx);
	EXPECT_EQ(A64_BTI_C, image[0]);
	EXPECT_EQ(a64_b(0x7000000000ull - 0x100 + 16, 0x7000000000ull),
		  image[4]);
	EXPECT_EQ(A64_RET, image[n1 - 1]);

	/* The first error sticks, and counting goes on. */
	a64_ctx_init(&ctx, NULL, 0, 0);
	a64_emit(&ctx, a64_add_imm(A64_64, A64_ZR, A64_R0, 1));
	a64_ctx_error(&ctx, -ENOSPC);
	a64_emit(&ctx, A64_NOP);
	EXPECT_EQ(-EINVAL, ctx.err);
	EXPECT_EQ(2u, ctx.idx);
	a64_ctx_init(&ctx, NULL, 0, 0);
	a64_emit_mov_imm(&ctx, A64_64, A64_SP, 5);
	EXPECT_EQ(-EINVAL, ctx.err);

	/* Out of range in pass 2 is an error. */
	a64_ctx_init(&ctx, image, 0, 16);
	a64_emit_bl(&ctx, 1ull << 40);
	EXPECT_EQ(-EINVAL, ctx.err);

	/* Capacity: no write past max_insns, -E2BIG instead. */
	guard = 0x5a5a5a5a;
	image[4] = guard;
	a64_ctx_init(&ctx, image, 0, 4);
	for (int i = 0; i < 5; i++)
		a64_emit(&ctx, A64_NOP);
	EXPECT_EQ(-E2BIG, ctx.err);
	EXPECT_EQ(guard, image[4]);
	EXPECT_EQ(5u, ctx.idx);

	/* Forward branch placeholder patched once the target is known. */
	a64_ctx_init(&ctx, image, 0x1000, 16);
	uint32_t fwd = ctx.idx;

	a64_emit(&ctx, A64_NOP);
	a64_emit(&ctx, A64_NOP);
	a64_ctx_patch(&ctx, fwd, a64_b(a64_ctx_pc_at(&ctx, fwd),
				       a64_ctx_pc(&ctx)));
	EXPECT_EQ(0, ctx.err);
	EXPECT_EQ(0x14000002u, image[fwd]);
	a64_ctx_patch(&ctx, 9, A64_NOP);	/* not emitted yet */
	EXPECT_EQ(-E2BIG, ctx.err);

	/* Every PC-relative emit: a placeholder while sizing, then exact. */
	for (int pass = 0; pass < 2; pass++) {
		uint64_t base = 0x40000000, t = base + 0x100;

		memset(image, 0, sizeof(image));
		a64_ctx_init(&ctx, pass ? image : NULL, base, 16);
		a64_emit_b(&ctx, t);
		a64_emit_bl(&ctx, t);
		a64_emit_b_cond(&ctx, A64_COND_NE, t);
		a64_emit_cbz(&ctx, A64_64, A64_R3, t);
		a64_emit_cbnz(&ctx, A64_32, A64_R4, t);
		a64_emit_tbz(&ctx, A64_R5, 40, t);
		a64_emit_tbnz(&ctx, A64_R6, 2, t);
		a64_emit_adr(&ctx, A64_R7, t);
		a64_emit_adrp(&ctx, A64_R8, base + 0x3000);
		a64_emit_ldr_lit(&ctx, A64_LS_Q, 9, t);
		EXPECT_EQ(0, ctx.err);
		EXPECT_EQ(10u, ctx.idx);
		if (!pass)
			continue;
		EXPECT_EQ(a64_b(base, t), image[0]);
		EXPECT_EQ(a64_bl(base + 4, t), image[1]);
		EXPECT_EQ(a64_b_cond(base + 8, t, A64_COND_NE), image[2]);
		EXPECT_EQ(a64_cbz(base + 12, t, A64_64, A64_R3), image[3]);
		EXPECT_EQ(a64_cbnz(base + 16, t, A64_32, A64_R4), image[4]);
		EXPECT_EQ(a64_tbz(base + 20, t, A64_R5, 40), image[5]);
		EXPECT_EQ(a64_tbnz(base + 24, t, A64_R6, 2), image[6]);
		EXPECT_EQ(a64_adr(base + 28, t, A64_R7), image[7]);
		EXPECT_EQ(a64_adrp(base + 32, base + 0x3000, A64_R8), image[8]);
		EXPECT_EQ(a64_ldr_lit(base + 36, t, A64_LS_Q, 9), image[9]);
		for (int i = 0; i < 10; i++) {
			uint64_t got;

			if (i == 9)
				continue;
			ASSERT_TRUE(a64_branch_target(image[i], base + 4 * i,
						      &got));
			EXPECT_EQ(i == 8 ? base + 0x3000 : t, got);
		}
	}
}

/* ---------------------------------------------------------------------
 * On arm64: run what the encoders produce
 * --------------------------------------------------------------------- */

#ifdef __aarch64__
static uint32_t *exec_page(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void *publish(uint32_t *code, uint32_t n)
{
	__builtin___clear_cache((char *)code, (char *)(code + n));
	return code;
}

TEST(executes_mov_imm)
{
	uint32_t *code = exec_page();
	struct a64_ctx ctx;

	ASSERT_NE(NULL, code);
	rng_seed();
	for (unsigned int i = 0; i < 2000; i++) {
		uint64_t v = interesting_value(i), (*fn)(void);
		enum a64_width w = (enum a64_width)(i & 1);

		a64_ctx_init(&ctx, code, (uint64_t)code, 1024);
		a64_emit_mov_imm(&ctx, w, A64_R0,
				 w == A64_64 ? v : (uint32_t)v);
		a64_emit(&ctx, A64_RET);
		ASSERT_EQ(0, ctx.err);
		fn = publish(code, ctx.idx);
		ASSERT_EQ(w == A64_64 ? v : (uint32_t)v, fn());
	}
	munmap(code, 4096);
}

/* A frame, loads/stores in each form, LSE and a BL, run for real. */
TEST(executes_frame_and_memory_forms)
{
	uint32_t *code = exec_page();
	uint64_t mem[4] = { 10, 20, 30, 40 };
	uint64_t (*fn)(uint64_t *);
	struct a64_ctx ctx;
	uint32_t callee;

	ASSERT_NE(NULL, code);
	a64_ctx_init(&ctx, code, (uint64_t)code, 1024);
	/* callee: x0 += 1; ret */
	callee = ctx.idx;
	a64_emit(&ctx, a64_add_imm(A64_64, A64_R0, A64_R0, 1));
	a64_emit(&ctx, A64_RET);
	/* fn(mem): */
	uint32_t entry = ctx.idx;

	a64_emit(&ctx, A64_BTI_C);
	a64_emit(&ctx, a64_stp_pre(A64_LS_X, A64_FP, A64_LR, A64_SP, -32));
	a64_emit(&ctx, a64_mov(A64_64, A64_FP, A64_SP));
	a64_emit(&ctx, a64_str(A64_LS_X, A64_R19, A64_SP, 16));
	a64_emit(&ctx, a64_mov(A64_64, A64_R19, A64_R0));
	/* x1 = mem[1] + mem[2] (post-index walk) */
	a64_emit(&ctx, a64_add_imm(A64_64, A64_R2, A64_R19, 8));
	a64_emit(&ctx, a64_ldr_post(A64_LS_X, A64_R1, A64_R2, 8));
	a64_emit(&ctx, a64_ldr(A64_LS_X, A64_R3, A64_R2, 0));
	a64_emit(&ctx, a64_add(A64_64, A64_R1, A64_R1, A64_R3));
	/* mem[3] += x1, atomically (LSE) */
	a64_emit(&ctx, a64_add_imm(A64_64, A64_R4, A64_R19, 24));
	a64_emit(&ctx, a64_ldadd(A64_LS_X, A64_R1, A64_R5, A64_R4,
				 A64_ACQ | A64_REL));
	/* x0 = callee(old mem[3]) */
	a64_emit(&ctx, a64_mov(A64_64, A64_R0, A64_R5));
	a64_emit_bl(&ctx, a64_ctx_pc_at(&ctx, callee));
	/* mem[0] = x0 via ldur/stur of a negative offset */
	a64_emit(&ctx, a64_add_imm(A64_64, A64_R6, A64_R19, 8));
	a64_emit(&ctx, a64_stur(A64_LS_X, A64_R0, A64_R6, -8));
	a64_emit(&ctx, a64_ldr(A64_LS_X, A64_R19, A64_SP, 16));
	a64_emit(&ctx, a64_ldp_post(A64_LS_X, A64_FP, A64_LR, A64_SP, 32));
	a64_emit(&ctx, A64_RET);
	ASSERT_EQ(0, ctx.err);

	fn = (void *)(code + entry);
	publish(code, ctx.idx);
	EXPECT_EQ(41u, fn(mem));
	EXPECT_EQ(41u, mem[0]);
	EXPECT_EQ(90u, mem[3]);
	munmap(code, 4096);
}
#endif

TEST_HARNESS_MAIN
