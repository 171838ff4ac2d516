// SPDX-License-Identifier: MIT
/*
 * Generated code, described to debuggers (GDB's JIT interface) and
 * profilers (perf's /tmp/perf-<pid>.map).  See jitdebug.h.
 *
 * GDB JIT interface (GDB manual, "JIT Compilation Interface"): the
 * process holds a descriptor, __jit_debug_descriptor, heading a doubly
 * linked list of in-memory object files, and an empty function,
 * __jit_debug_register_code(), on which gdb sets a breakpoint.  To
 * register, link the entry, point relevant_entry at it, set action_flag
 * to JIT_REGISTER and call the function; unregister alike with
 * JIT_UNREGISTER before unlinking the memory.  gdb reads the object with
 * BFD, takes every allocated section's address as absolute, and gets its
 * minimal symbols and DWARF CFI from it.  A gdb that attaches later walks
 * the whole list, so registration costs nothing without a debugger but
 * the object's memory.
 *
 * Both symbols keep this library's hidden visibility: gdb (>= 10) looks
 * them up in every objfile's symbol table, local symbols included, and
 * handles one descriptor per objfile, so they never interpose with
 * another JIT's in the same process.  A stripped libftramp.so hides them.
 */
#include <dwarf.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/arm64/eh_frame.h"
#include "arch/arm64/insn.h"
#include "trampoline/jitdebug.h"

/* The GDB JIT interface, version 1, as gdb/jit.h declares it. */
enum jit_actions {
	JIT_NOACTION = 0,
	JIT_REGISTER_FN,
	JIT_UNREGISTER_FN,
};

struct jit_code_entry {
	struct jit_code_entry *next_entry;
	struct jit_code_entry *prev_entry;
	const char *symfile_addr;
	uint64_t symfile_size;
};

struct jit_descriptor {
	uint32_t version;
	uint32_t action_flag;		/* enum jit_actions */
	struct jit_code_entry *relevant_entry;
	struct jit_code_entry *first_entry;
};

void __jit_debug_register_code(void);
extern struct jit_descriptor __jit_debug_descriptor;

/*
 * gdb's breakpoint.  Never inlined, never folded, never dropped: the
 * call is the event; the empty asm keeps the stores before it.
 */
__attribute__((noinline, noipa, used)) void __jit_debug_register_code(void)
{
	__asm__ volatile("" ::: "memory");
}

__attribute__((used)) struct jit_descriptor __jit_debug_descriptor = {
	.version = 1,
};

struct jit_entry {
	struct jit_code_entry ce;	/* first: gdb sees only this */
	uint64_t addr;
	size_t size;
	char *obj;			/* the ELF object */
	size_t obj_size;
};

static pthread_mutex_t jit_lock = PTHREAD_MUTEX_INITIALIZER;
/* Handles index this array; NULL slots are free. */
static struct jit_entry **slots;
static int nr_slots, free_hint;

/* perf map: -1 not read yet, 0 off, 1 on. */
static int perf_on = -1;
static int perf_fd = -1;
static pid_t perf_pid;

/* ------------------------------------------------------------------
 * The frame, read from the code
 * ------------------------------------------------------------------ */

/* Load one instruction word at byte offset off (the image is 4-aligned). */
static uint32_t word_at(const void *code, size_t off)
{
	uint32_t w;

	memcpy(&w, (const char *)code + off, sizeof(w));
	return w;
}

/*
 * Field extraction for the few forms a trampoline prologue takes; every
 * candidate is re-encoded with insn.h and compared whole, so a word
 * matches only if it is exactly that instruction.
 *
 * STP/LDP (64-bit): imm7 at [21:15], scaled by 8, signed; Rt2 at [14:10].
 * ADD/SUB (immediate, no shift): imm12 at [21:10].
 */
static int64_t ldstp_imm(uint32_t insn)
{
	int64_t imm = (insn >> 15) & 0x7f;

	if (imm & 0x40)
		imm -= 0x80;
	return imm * 8;
}

static uint32_t addsub_imm(uint32_t insn)
{
	return (insn >> 10) & 0xfff;
}

static enum a64_reg ldstp_rt2(uint32_t insn)
{
	return A64_R((insn >> 10) & 0x1f);
}

/* Find the pop and its ret after the prologue.  false: none. */
static bool find_epilogue(const void *code, size_t size,
			  struct ftramp_jit_frame *f)
{
	uint32_t pop_post = a64_ldp_post(A64_LS_X, A64_FP, A64_LR, A64_SP,
					 f->frame_size);
	uint32_t pop_off = a64_ldp(A64_LS_X, A64_FP, A64_LR, A64_SP,
				   f->rec_off);
	uint32_t sp_up = a64_add_imm(A64_64, A64_SP, A64_SP, f->frame_size);
	size_t off, end;

	/* Code precedes the literal pool: the first match is code. */
	for (off = f->fp_set; off + 4 <= size; off += 4) {
		uint32_t w = word_at(code, off);

		if (w == pop_post && pop_post != A64_INSN_BAD) {
			f->epi_regs = f->epi_sp = off + 4;
			break;
		}
		if (w == pop_off && pop_off != A64_INSN_BAD &&
		    off + 8 <= size && word_at(code, off + 4) == sp_up) {
			f->epi_regs = off + 4;
			f->epi_sp = off + 8;
			break;
		}
	}
	if (off + 4 > size)
		return false;
	/* The return: `ret` or `ret xN`, within a few instructions. */
	for (off = f->epi_sp, end = off + 16; off + 4 <= size && off < end;
	     off += 4) {
		if ((word_at(code, off) & 0xfffffc1fu) == (A64_RET & 0xfffffc1fu)) {
			f->epi_end = off + 4;
			return true;
		}
	}
	f->epi_regs = f->epi_sp = 0;
	return false;
}

int ftramp_jitdebug__frame_from_code(const void *code, size_t size,
				     struct ftramp_jit_frame *frame)
{
	struct ftramp_jit_frame f = { 0 };
	size_t off = 0;
	uint32_t w;

	if (!code || !frame)
		return -EINVAL;
	if (size >= 4 && word_at(code, 0) == A64_BTI_C)
		off = 4;
	if (off + 8 > size)
		return -ENOEXEC;
	w = word_at(code, off);

	/* stp x29, xR, [sp, #-F]!; mov x29, sp */
	f.ra_reg = ldstp_rt2(w);
	f.frame_size = (uint32_t)-ldstp_imm(w);
	if ((f.ra_reg == A64_R9 || f.ra_reg == A64_LR) &&
	    ldstp_imm(w) < 0 &&
	    w == a64_stp_pre(A64_LS_X, A64_FP, A64_R(f.ra_reg), A64_SP,
			     ldstp_imm(w)) &&
	    word_at(code, off + 4) == a64_mov_reg(A64_64, A64_FP, A64_SP)) {
		f.sp_alloc = f.rec_saved = off + 4;
		f.fp_set = off + 8;
		f.rec_off = 0;
		goto found;
	}

	/* sub sp, sp, #F; stp x29, xR, [sp, #rec]; add x29, sp, #rec */
	if (off + 12 > size)
		return -ENOEXEC;
	f.frame_size = addsub_imm(w);
	if (w != a64_sub_imm(A64_64, A64_SP, A64_SP, f.frame_size))
		return -ENOEXEC;
	w = word_at(code, off + 4);
	f.ra_reg = ldstp_rt2(w);
	if (ldstp_imm(w) < 0 ||
	    (f.ra_reg != A64_R9 && f.ra_reg != A64_LR) ||
	    w != a64_stp(A64_LS_X, A64_FP, A64_R(f.ra_reg), A64_SP,
			 ldstp_imm(w)))
		return -ENOEXEC;
	f.rec_off = (uint32_t)ldstp_imm(w);
	if (word_at(code, off + 8) !=
	    a64_add_imm(A64_64, A64_FP, A64_SP, f.rec_off))
		return -ENOEXEC;
	f.sp_alloc = off + 4;
	f.rec_saved = off + 8;
	f.fp_set = off + 12;
found:
	if (f.frame_size % 16 || f.rec_off + 16 > f.frame_size)
		return -ENOEXEC;
	find_epilogue(code, size, &f);
	*frame = f;
	return 0;
}

/* ------------------------------------------------------------------
 * .debug_frame (DWARF 5 section 6.4; version 1 CIEs, as GNU as emits)
 * ------------------------------------------------------------------ */

#define DWREG_SP	31	/* AArch64 DWARF: x0-x30 are 0-30, SP 31 */
#define CODE_ALIGN	4
#define DATA_ALIGN	(-8)

struct cfi_buf {
	uint8_t b[192];
	size_t n;
	uint32_t loc;		/* FDE: current byte offset in the range */
	bool overflow;
};

static void cfi_u8(struct cfi_buf *c, uint8_t v)
{
	if (c->n < sizeof(c->b))
		c->b[c->n++] = v;
	else
		c->overflow = true;
}

static void cfi_uleb(struct cfi_buf *c, uint64_t v)
{
	do {
		uint8_t byte = v & 0x7f;

		v >>= 7;
		cfi_u8(c, byte | (v ? 0x80 : 0));
	} while (v);
}

static void cfi_sleb(struct cfi_buf *c, int64_t v)
{
	for (;;) {
		uint8_t byte = v & 0x7f;

		v >>= 7;	/* arithmetic: gcc defines it so */
		if ((v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40))) {
			cfi_u8(c, byte);
			return;
		}
		cfi_u8(c, byte | 0x80);
	}
}

static void cfi_u32(struct cfi_buf *c, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		cfi_u8(c, (uint8_t)(v >> (8 * i)));
}

static void cfi_u64(struct cfi_buf *c, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		cfi_u8(c, (uint8_t)(v >> (8 * i)));
}

/* Move the row to byte offset to (a multiple of CODE_ALIGN, >= loc). */
static void cfi_advance(struct cfi_buf *c, uint32_t to)
{
	uint32_t delta = (to - c->loc) / CODE_ALIGN;

	if (!delta)
		return;
	if (delta < 0x40) {
		cfi_u8(c, DW_CFA_advance_loc | delta);
	} else if (delta <= 0xff) {
		cfi_u8(c, DW_CFA_advance_loc1);
		cfi_u8(c, (uint8_t)delta);
	} else if (delta <= 0xffff) {
		cfi_u8(c, DW_CFA_advance_loc2);
		cfi_u8(c, (uint8_t)delta);
		cfi_u8(c, (uint8_t)(delta >> 8));
	} else {
		cfi_u8(c, DW_CFA_advance_loc4);
		cfi_u32(c, delta);
	}
	c->loc = to;
}

static void cfi_def_cfa(struct cfi_buf *c, unsigned int reg, uint32_t off)
{
	cfi_u8(c, DW_CFA_def_cfa);
	cfi_uleb(c, reg);
	cfi_uleb(c, off);
}

/* reg saved at CFA - back (back: a positive multiple of 8). */
static void cfi_saved_at(struct cfi_buf *c, unsigned int reg, uint32_t back)
{
	cfi_u8(c, DW_CFA_offset | reg);
	cfi_uleb(c, back / -DATA_ALIGN);
}

/* Pad an entry with DW_CFA_nop so that the next starts 8-aligned. */
static void cfi_pad(struct cfi_buf *c, size_t start)
{
	while ((c->n - start) % 8)
		cfi_u8(c, DW_CFA_nop);
}

/* Patch the 4-byte length at start: the bytes after the length word. */
static void cfi_close(struct cfi_buf *c, size_t start)
{
	uint32_t len = (uint32_t)(c->n - start - 4);

	if (c->overflow)
		return;
	for (int i = 0; i < 4; i++)
		c->b[start + i] = (uint8_t)(len >> (8 * i));
}

/*
 * One CIE (at section offset 0), one FDE for [addr, addr + size): the
 * rows of struct ftramp_jit_frame.  The record holds x29 at its bottom
 * and the return address above it: with the CFA at the frame's top, x29
 * is at CFA - (frame_size - rec_off), the return address 8 above.
 */
static int build_cfi(struct cfi_buf *c, uint64_t addr, size_t size,
		     const struct ftramp_jit_frame *f)
{
	uint32_t above_rec = f->frame_size - f->rec_off;
	size_t start;

	memset(c, 0, sizeof(*c));
	/* CIE */
	cfi_u32(c, 0);
	cfi_u32(c, 0xffffffffu);	/* CIE_id in .debug_frame */
	cfi_u8(c, 1);			/* version */
	cfi_u8(c, 0);			/* augmentation "" */
	cfi_uleb(c, CODE_ALIGN);
	cfi_sleb(c, DATA_ALIGN);
	cfi_u8(c, A64_LR);		/* return address column: x30 */
	cfi_def_cfa(c, DWREG_SP, 0);	/* at entry: CFA = SP */
	cfi_u8(c, DW_CFA_same_value);	/* and a call's return address */
	cfi_uleb(c, A64_LR);
	cfi_pad(c, 0);
	cfi_close(c, 0);

	/* FDE */
	start = c->n;
	cfi_u32(c, 0);
	cfi_u32(c, 0);			/* CIE_pointer: offset of the CIE */
	cfi_u64(c, addr);
	cfi_u64(c, size);
	if (f->ra_reg != A64_LR) {
		/* From a patched site, the return address is in x9. */
		cfi_u8(c, DW_CFA_register);
		cfi_uleb(c, A64_LR);
		cfi_uleb(c, f->ra_reg);
	}
	cfi_advance(c, f->sp_alloc);
	cfi_u8(c, DW_CFA_def_cfa_offset);
	cfi_uleb(c, f->frame_size);
	cfi_advance(c, f->rec_saved);
	cfi_saved_at(c, A64_FP, above_rec);
	cfi_saved_at(c, A64_LR, above_rec - 8);
	cfi_advance(c, f->fp_set);
	/* Programs and the original run here: x29 holds still. */
	cfi_def_cfa(c, A64_FP, above_rec);
	if (f->epi_regs) {
		cfi_advance(c, f->epi_regs);
		cfi_u8(c, DW_CFA_remember_state);
		cfi_def_cfa(c, DWREG_SP,
			    f->epi_sp > f->epi_regs ? f->frame_size : 0);
		cfi_u8(c, DW_CFA_same_value);
		cfi_uleb(c, A64_FP);
		cfi_u8(c, DW_CFA_same_value);
		cfi_uleb(c, A64_LR);
		if (f->epi_sp > f->epi_regs) {
			cfi_advance(c, f->epi_sp);
			cfi_u8(c, DW_CFA_def_cfa_offset);
			cfi_uleb(c, 0);
		}
		if (f->epi_end < size) {
			/* Code after the return runs with the frame up. */
			cfi_advance(c, f->epi_end);
			cfi_u8(c, DW_CFA_restore_state);
		}
	}
	cfi_pad(c, start);
	cfi_close(c, start);
	return c->overflow ? -E2BIG : 0;
}

static bool frame_valid(const struct ftramp_jit_frame *f, size_t size)
{
	uint32_t offs[] = { f->sp_alloc, f->rec_saved, f->fp_set,
			    f->epi_regs, f->epi_sp, f->epi_end };
	unsigned int n = f->epi_regs ? 6 : 3;

	if (!f->sp_alloc || !f->frame_size || f->frame_size % 16 ||
	    f->rec_off % 8 || f->rec_off + 16 > f->frame_size ||
	    f->ra_reg > A64_LR)
		return false;
	for (unsigned int i = 0; i < n; i++) {
		if (offs[i] % CODE_ALIGN || offs[i] > size)
			return false;
		if (i && offs[i] < offs[i - 1])
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------
 * The ELF object
 * ------------------------------------------------------------------ */

enum {
	SEC_NULL, SEC_TEXT, SEC_FRAME, SEC_SYMTAB, SEC_STRTAB, SEC_SHSTRTAB,
	NR_SECS,
};

static const char shstrtab[] =
	"\0.text\0.debug_frame\0.symtab\0.strtab\0.shstrtab";
/* Offsets of each name in shstrtab. */
#define SHN_TEXT	1
#define SHN_FRAME	7
#define SHN_SYMTAB	20
#define SHN_STRTAB	28
#define SHN_SHSTRTAB	36

#define SYM_PREFIX	"ftramp_tramp:"

static size_t align8(size_t v)
{
	return (v + 7) & ~(size_t)7;
}

static void set_shdr(Elf64_Shdr *sh, uint32_t name, uint32_t type,
		     uint64_t flags, uint64_t addr, size_t off, size_t size)
{
	sh->sh_name = name;
	sh->sh_type = type;
	sh->sh_flags = flags;
	sh->sh_addr = addr;
	sh->sh_offset = off;
	sh->sh_size = size;
	sh->sh_addralign = type == SHT_NOBITS ? 4 : 8;
}

/*
 * A relocatable object (as LLVM's JITs hand gdb): .text is SHT_NOBITS at
 * the execute address (gdb reads the code from the process), the symbol's
 * value is its offset in .text.
 */
static char *build_object(const char *sym, uint64_t addr, size_t size,
			  const uint8_t *cfi, size_t cfi_n, size_t *objsize)
{
	size_t symlen = strlen(sym) + 1;
	size_t off_frame, off_sym, off_str, off_shstr, off_sh, total;
	Elf64_Ehdr *eh;
	Elf64_Shdr *sh;
	Elf64_Sym *st;
	char *obj;

	off_frame = sizeof(Elf64_Ehdr);
	off_sym = align8(off_frame + cfi_n);
	off_str = off_sym + 2 * sizeof(Elf64_Sym);
	off_shstr = off_str + 1 + symlen;
	off_sh = align8(off_shstr + sizeof(shstrtab));
	total = off_sh + NR_SECS * sizeof(Elf64_Shdr);

	obj = calloc(1, total);
	if (!obj)
		return NULL;
	eh = (Elf64_Ehdr *)obj;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh->e_type = ET_REL;
	eh->e_machine = EM_AARCH64;
	eh->e_version = EV_CURRENT;
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shnum = NR_SECS;
	eh->e_shstrndx = SEC_SHSTRTAB;
	eh->e_shoff = off_sh;

	if (cfi_n)
		memcpy(obj + off_frame, cfi, cfi_n);

	/* Symbol 0 is the null symbol; 1 the function, global. */
	st = (Elf64_Sym *)(obj + off_sym) + 1;
	st->st_name = 1;
	st->st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
	st->st_other = STV_DEFAULT;
	st->st_shndx = SEC_TEXT;
	st->st_value = 0;
	st->st_size = size;
	memcpy(obj + off_str + 1, sym, symlen);
	memcpy(obj + off_shstr, shstrtab, sizeof(shstrtab));

	sh = (Elf64_Shdr *)(obj + off_sh);
	set_shdr(&sh[SEC_TEXT], SHN_TEXT, SHT_NOBITS,
		 SHF_ALLOC | SHF_EXECINSTR, addr, off_frame, size);
	set_shdr(&sh[SEC_FRAME], SHN_FRAME, SHT_PROGBITS, 0, 0, off_frame,
		 cfi_n);
	set_shdr(&sh[SEC_SYMTAB], SHN_SYMTAB, SHT_SYMTAB, 0, 0, off_sym,
		 2 * sizeof(Elf64_Sym));
	sh[SEC_SYMTAB].sh_link = SEC_STRTAB;
	sh[SEC_SYMTAB].sh_info = 1;	/* first non-local symbol */
	sh[SEC_SYMTAB].sh_entsize = sizeof(Elf64_Sym);
	set_shdr(&sh[SEC_STRTAB], SHN_STRTAB, SHT_STRTAB, 0, 0, off_str,
		 1 + symlen);
	sh[SEC_STRTAB].sh_addralign = 1;
	set_shdr(&sh[SEC_SHSTRTAB], SHN_SHSTRTAB, SHT_STRTAB, 0, 0,
		 off_shstr, sizeof(shstrtab));
	sh[SEC_SHSTRTAB].sh_addralign = 1;
	*objsize = total;
	return obj;
}

/* ------------------------------------------------------------------
 * perf map
 * ------------------------------------------------------------------ */

/* Under jit_lock.  A child after fork() writes its own pid's file. */
static void perf_map_write(const char *sym, uint64_t addr, size_t size)
{
	char path[64], line[512];
	const char *env;
	int n;

	if (perf_on < 0) {
		env = getenv("FTRAMP_PERF_MAP");
		perf_on = env && !strcmp(env, "1");
	}
	if (!perf_on)
		return;
	if (perf_fd >= 0 && perf_pid != getpid()) {
		close(perf_fd);
		perf_fd = -1;
	}
	if (perf_fd < 0) {
		perf_pid = getpid();
		snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)perf_pid);
		perf_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			       0644);
		if (perf_fd < 0)
			return;
	}
	/* "START SIZE name", hex without 0x: one write, appended whole. */
	n = snprintf(line, sizeof(line), "%llx %zx %s\n",
		     (unsigned long long)addr, size, sym);
	if (n > 0 && (size_t)n < sizeof(line))
		(void)!write(perf_fd, line, (size_t)n);
}

void ftramp_jitdebug__perf_map_reset(void)
{
	pthread_mutex_lock(&jit_lock);
	perf_on = -1;
	if (perf_fd >= 0)
		close(perf_fd);
	perf_fd = -1;
	pthread_mutex_unlock(&jit_lock);
}

/* ------------------------------------------------------------------
 * Registration
 * ------------------------------------------------------------------ */

/* Under jit_lock: a free slot index, growing the array. */
static int slot_get(void)
{
	struct jit_entry **v;
	int n;

	for (int i = free_hint; i < nr_slots; i++)
		if (!slots[i])
			return i;
	n = nr_slots ? 2 * nr_slots : 16;
	v = realloc(slots, (size_t)n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	memset(v + nr_slots, 0, (size_t)(n - nr_slots) * sizeof(*v));
	slots = v;
	free_hint = nr_slots;
	nr_slots = n;
	return free_hint;
}

static void entry_free(struct jit_entry *e)
{
	free(e->obj);
	free(e);
}

/* Register [addr, addr + size) with cfi_n bytes of .debug_frame. */
static int do_register(const char *name, uint64_t addr, size_t size,
		       const uint8_t *cfi, size_t cfi_n)
{
	struct jit_descriptor *d = &__jit_debug_descriptor;
	struct jit_entry *e;
	char *sym;
	int h;

	if (asprintf(&sym, SYM_PREFIX "%s", name) < 0)
		return -ENOMEM;
	e = calloc(1, sizeof(*e));
	if (e)
		e->obj = build_object(sym, addr, size, cfi, cfi_n,
				      &e->obj_size);
	if (!e || !e->obj) {
		free(e);
		free(sym);
		return -ENOMEM;
	}
	e->addr = addr;
	e->size = size;
	e->ce.symfile_addr = e->obj;
	e->ce.symfile_size = e->obj_size;

	pthread_mutex_lock(&jit_lock);
	h = slot_get();
	if (h < 0) {
		pthread_mutex_unlock(&jit_lock);
		entry_free(e);
		free(sym);
		return h;
	}
	slots[h] = e;
	free_hint = h + 1;
	e->ce.next_entry = d->first_entry;
	if (d->first_entry)
		d->first_entry->prev_entry = &e->ce;
	d->first_entry = &e->ce;
	d->relevant_entry = &e->ce;
	d->action_flag = JIT_REGISTER_FN;
	__jit_debug_register_code();
	d->action_flag = JIT_NOACTION;
	perf_map_write(sym, addr, size);
	pthread_mutex_unlock(&jit_lock);
	free(sym);
	return h;
}

int ftramp_jitdebug__register(const char *name, uint64_t addr, size_t size,
			      const struct ftramp_jit_frame *frame)
{
	struct cfi_buf cfi = { .n = 0 };

	if (!name || !size || addr + size < addr ||
	    (frame && !frame_valid(frame, size)))
		return -EINVAL;
	if (frame && build_cfi(&cfi, addr, size, frame))
		return -ENOMEM;
	return do_register(name, addr, size, cfi.b, cfi.n);
}

int ftramp_jitdebug__register_rows(const char *name, uint64_t addr,
				   size_t size, const struct a64_uw_row *rows,
				   unsigned int nr)
{
	struct a64_cfi_fde fde = {
		.pc_begin = addr, .pc_range = size, .rows = rows, .nr_rows = nr,
	};
	uint8_t *cfi;
	long n;
	int h;

	if (!name || !size || addr + size < addr)
		return -EINVAL;
	if (!rows || !nr)
		return do_register(name, addr, size, NULL, 0);
	n = a64_cfi_encode(NULL, 0, &fde, A64_CFI_DEBUG_FRAME);
	if (n < 0)
		return (int)n;
	cfi = malloc((size_t)n);
	if (!cfi)
		return -ENOMEM;
	if (a64_cfi_encode(cfi, (size_t)n, &fde, A64_CFI_DEBUG_FRAME) != n) {
		free(cfi);
		return -EINVAL;
	}
	h = do_register(name, addr, size, cfi, (size_t)n);
	free(cfi);
	return h;
}

int ftramp_jitdebug__unregister(int handle)
{
	struct jit_descriptor *d = &__jit_debug_descriptor;
	struct jit_entry *e;

	pthread_mutex_lock(&jit_lock);
	if (handle < 0 || handle >= nr_slots || !slots[handle]) {
		pthread_mutex_unlock(&jit_lock);
		return -ENOENT;
	}
	e = slots[handle];
	slots[handle] = NULL;
	if (handle < free_hint)
		free_hint = handle;
	/* gdb reads the entry when told: unlink, then tell, then free. */
	if (e->ce.prev_entry)
		e->ce.prev_entry->next_entry = e->ce.next_entry;
	else
		d->first_entry = e->ce.next_entry;
	if (e->ce.next_entry)
		e->ce.next_entry->prev_entry = e->ce.prev_entry;
	d->relevant_entry = &e->ce;
	d->action_flag = JIT_UNREGISTER_FN;
	__jit_debug_register_code();
	d->action_flag = JIT_NOACTION;
	d->relevant_entry = NULL;
	pthread_mutex_unlock(&jit_lock);
	entry_free(e);
	return 0;
}

size_t ftramp_jitdebug__count(void)
{
	size_t n = 0;

	pthread_mutex_lock(&jit_lock);
	for (struct jit_code_entry *ce = __jit_debug_descriptor.first_entry;
	     ce; ce = ce->next_entry)
		n++;
	pthread_mutex_unlock(&jit_lock);
	return n;
}

int ftramp_jitdebug__info(int handle, struct ftramp_jit_entry_info *info)
{
	int err = -ENOENT;

	pthread_mutex_lock(&jit_lock);
	if (handle >= 0 && handle < nr_slots && slots[handle]) {
		struct jit_entry *e = slots[handle];

		info->addr = e->addr;
		info->size = e->size;
		info->symfile = e->obj;
		info->symfile_size = e->obj_size;
		err = 0;
	}
	pthread_mutex_unlock(&jit_lock);
	return err;
}

int ftramp_jitdebug__find(uint64_t addr)
{
	int h = -ENOENT;

	pthread_mutex_lock(&jit_lock);
	for (int i = 0; i < nr_slots; i++) {
		struct jit_entry *e = slots[i];

		if (e && addr >= e->addr && addr - e->addr < e->size) {
			h = i;
			break;
		}
	}
	pthread_mutex_unlock(&jit_lock);
	return h;
}
