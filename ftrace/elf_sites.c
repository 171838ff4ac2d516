// SPDX-License-Identifier: MIT
/*
 * The sites of one ELF file, from the file alone (see elf_sites.h).
 *
 * Calibration.  gcc 12.2 (aarch64-linux-gnu-gcc) and clang 14.0.6
 * (--target=aarch64-linux-gnu), -O0..-O2, -fpatchable-function-entry=4,2
 * -falign-functions=8, give every function emitted:
 *
 *	func-8:	nop		the record in __patchable_function_entries
 *	func-4:	nop		holds func-8, which -falign-functions=8 makes
 *	func+0:	nop		8-byte aligned (the ops literal slot)
 *	func+4:	nop
 *
 * With -mbranch-protection=standard both compilers put the landing pad
 * first and the return-address signing after the NOPs:
 *
 *	func-8:	nop		record: still func-8
 *	func-4:	nop
 *	func+0:	bti c
 *	func+4:	nop		-> mov x9, x30
 *	func+8:	nop		-> bl <target>; x30 = func+12 on entry
 *	func+12: paciasp
 *
 * so the patch area moves by 4 (FTRAMP_SITE_F_BTI) while the literal stays
 * at func-8: an entry that finds the literal as (x30 & ~7) - 16 works for
 * both shapes, as arm64's ftrace_caller does.  paciasp running after the
 * trampoline signs the trampoline's return address, which the function's
 * autiasp then checks against the same SP: PAC needs nothing from us.
 *
 * The section itself: gcc emits one __patchable_function_entries section
 * per object (clang one per function, SHF_LINK_ORDER), the linkers merge
 * them.  In a PIE or shared object each slot needs an R_AARCH64_RELATIVE
 * relocation: ld.bfd also writes the value into the section, ld.lld leaves
 * zero there and only the addend in .rela.dyn holds it (SHT_RELR keeps
 * it in the section).  So a slot's value is its relocation's addend when
 * one exists, else the section contents.  Functions the compiler did not
 * emit (inlined statics) have no record; functions the linker dropped
 * leave no record (SHF_LINK_ORDER) or a zero one, which is skipped.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/arm64/insn.h"
#include "ftrace/elf_sites.h"

#ifndef R_AARCH64_ABS64
#define R_AARCH64_ABS64		257
#endif
#ifndef STO_AARCH64_VARIANT_PCS
#define STO_AARCH64_VARIANT_PCS	0x80	/* AAELF64 5.2: st_other bit */
#endif
#ifndef R_AARCH64_RELATIVE
#define R_AARCH64_RELATIVE	1027
#endif


#define PFE_NAME		"__patchable_function_entries"

/* A growing string pool addressed by offsets until it stops moving. */
struct pool {
	char *buf;
	size_t len, cap;
	bool oom;
};

#define POOL_NONE	SIZE_MAX

static size_t pool_printf(struct pool *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || p->oom)
		goto oom;
	if (p->len + n + 1 > p->cap) {
		size_t cap = p->cap ? p->cap : 4096;
		char *nb;

		while (cap < p->len + n + 1)
			cap *= 2;
		nb = realloc(p->buf, cap);
		if (!nb)
			goto oom;
		p->buf = nb;
		p->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(p->buf + p->len, n + 1, fmt, ap);
	va_end(ap);
	p->len += n + 1;
	return p->len - n - 1;
oom:
	p->oom = true;
	return POOL_NONE;
}

/* ----------------------------------------------------------------------
 * The raw file, read without libelf: the preload agent links this reader
 * and must not bring an ELF library into the traced process (issue 19).
 * Every header and section is copied out after a bounds check (memcpy:
 * a damaged file may misalign anything); a section's bytes are used in
 * place only once they are known to lie in the image.
 */

struct efile {
	const unsigned char *raw;
	size_t size;
	Elf64_Ehdr eh;
	size_t shnum, shstrndx;
};

static bool efile_shdr(const struct efile *f, size_t i, Elf64_Shdr *sh)
{
	if (i >= f->shnum)
		return false;
	memcpy(sh, f->raw + f->eh.e_shoff + i * f->eh.e_shentsize, sizeof(*sh));
	return true;
}

/* Section @i's bytes in the image; *size its length.  NULL: none. */
static const unsigned char *efile_data(const struct efile *f, size_t i,
				       size_t *size)
{
	Elf64_Shdr sh;

	if (!efile_shdr(f, i, &sh) || sh.sh_type == SHT_NOBITS ||
	    sh.sh_offset > f->size || sh.sh_size > f->size - sh.sh_offset)
		return NULL;
	*size = sh.sh_size;
	return f->raw + sh.sh_offset;
}

/* The NUL-terminated string at @off of string section @i, or NULL. */
static const char *efile_str(const struct efile *f, size_t i, uint64_t off)
{
	size_t size;
	const unsigned char *d = efile_data(f, i, &size);

	Elf64_Shdr sh;

	if (!d || !efile_shdr(f, i, &sh) || sh.sh_type != SHT_STRTAB ||
	    off >= size || !memchr(d + off, 0, size - off))
		return NULL;
	return (const char *)d + off;
}

/* Entry @idx of a table section of @entsize-byte entries. */
static bool efile_entry(const struct efile *f, size_t i, size_t idx,
			void *out, size_t entsize)
{
	size_t size;
	const unsigned char *d = efile_data(f, i, &size);

	if (!d || idx >= size / entsize)
		return false;
	memcpy(out, d + idx * entsize, entsize);
	return true;
}

struct sym {
	uint64_t value, size;
	const char *name;	/* in the image */
	const char *file;	/* STT_FILE before a local symbol, or NULL */
	unsigned char bind;
	unsigned char other;	/* st_other: STO_AARCH64_VARIANT_PCS */
	size_t order;		/* index in the symbol table */
};

/* A site while it is built; strings are pool offsets. */
struct tsite {
	uint64_t func, size;
	const struct sym *sym;	/* NULL: no symbol at func */
	uint32_t flags;
	int status;
	size_t name;
};

struct pfe {			/* one __patchable_function_entries section */
	size_t scn;
	uint64_t addr, size;
	size_t first;		/* index of its first slot in rec[] */
};

struct reader {
	struct efile f;
	const unsigned char *raw;
	size_t rawsz;
	struct elf_sites *es;
	struct pfe *pfe;
	size_t nr_pfe;
	uint64_t *rec;		/* slot values */
	size_t nr_rec;
	struct sym *syms;
	size_t nr_syms;
	struct tsite *ts;
	size_t nr_ts;
	struct pool pool;
	size_t symtab, dynsym;	/* section indices, 0: none */
	size_t *rela;
	size_t nr_rela;
};

static int bind_rank(unsigned char bind)
{
	switch (bind) {
	case STB_GLOBAL:
		return 0;
	case STB_WEAK:
		return 1;
	default:
		return 2;
	}
}

/* By address; at one address the preferred name first. */
static int sym_cmp(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	if (bind_rank(x->bind) != bind_rank(y->bind))
		return bind_rank(x->bind) - bind_rank(y->bind);
	return x->order < y->order ? -1 : x->order > y->order;
}

static int tsite_cmp(const void *a, const void *b)
{
	const struct tsite *x = a, *y = b;

	return x->func < y->func ? -1 : x->func > y->func;
}

/* Words of the file at [vaddr, vaddr + 4 * n) in an executable segment. */
static bool read_text(const struct reader *r, uint64_t vaddr,
		      uint32_t *w, size_t n)
{
	const struct elf_segment *s = elf_sites__segment(r->es, vaddr, 4 * n);
	uint64_t off;

	if (!s || !(s->flags & PF_X))
		return false;
	off = vaddr - s->vaddr;
	if (off + 4 * n > s->filesz || s->offset > r->rawsz ||
	    off + 4 * n > r->rawsz - s->offset)
		return false;
	for (size_t i = 0; i < n; i++) {
		const unsigned char *p = r->raw + s->offset + off + 4 * i;

		w[i] = p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
	}
	return true;
}

static int read_segments(struct reader *r)
{
	size_t phnum = r->f.eh.e_phnum;

	r->es->segs = calloc(phnum ? phnum : 1, sizeof(*r->es->segs));
	if (!r->es->segs)
		return -ENOMEM;
	for (size_t i = 0; i < phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, r->raw + r->f.eh.e_phoff + i * r->f.eh.e_phentsize,
		       sizeof(ph));
		if (ph.p_type == PT_INTERP)
			r->es->executable = true;
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_filesz > ph.p_memsz ||
		    ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
			return -EBADMSG;
		r->es->segs[r->es->nr_segs++] = (struct elf_segment){
			.vaddr = ph.p_vaddr, .memsz = ph.p_memsz,
			.offset = ph.p_offset, .filesz = ph.p_filesz,
			.flags = ph.p_flags,
		};
	}
	return 0;
}

/* Find the sections we need; read every slot's stored value. */
static int read_sections(struct reader *r)
{
	size_t nr = 0;

	for (size_t scn = 1; scn < r->f.shnum; scn++) {
		struct pfe *np;
		Elf64_Shdr sh;
		const char *name;

		if (!efile_shdr(&r->f, scn, &sh))
			return -EBADMSG;
		if (sh.sh_type == SHT_SYMTAB && !r->symtab)
			r->symtab = scn;
		else if (sh.sh_type == SHT_DYNSYM && !r->dynsym)
			r->dynsym = scn;
		else if (sh.sh_type == SHT_RELA && (sh.sh_flags & SHF_ALLOC)) {
			size_t *n = realloc(r->rela, (r->nr_rela + 1) *
					    sizeof(*n));
			if (!n)
				return -ENOMEM;
			r->rela = n;
			r->rela[r->nr_rela++] = scn;
		}
		if (sh.sh_type != SHT_PROGBITS)
			continue;
		name = efile_str(&r->f, r->f.shstrndx, sh.sh_name);
		if (!name || strcmp(name, PFE_NAME))
			continue;
		/* Slots must exist in the file before we size arrays by them. */
		if (sh.sh_size % 8 || sh.sh_addr % 8 ||
		    sh.sh_offset > r->rawsz || sh.sh_size > r->rawsz - sh.sh_offset)
			return -EBADMSG;
		np = realloc(r->pfe, (r->nr_pfe + 1) * sizeof(*np));
		if (!np)
			return -ENOMEM;
		r->pfe = np;
		r->pfe[r->nr_pfe++] = (struct pfe){
			.scn = scn, .addr = sh.sh_addr, .size = sh.sh_size,
			.first = nr,
		};
		nr += sh.sh_size / 8;
	}

	r->rec = calloc(nr ? nr : 1, sizeof(*r->rec));
	if (!r->rec)
		return -ENOMEM;
	r->nr_rec = nr;

	/* Stored values, little-endian; relocations may replace them. */
	for (size_t i = 0; i < r->nr_pfe; i++) {
		size_t size;
		const unsigned char *d = efile_data(&r->f, r->pfe[i].scn,
						    &size);

		if (!d || size != r->pfe[i].size)
			return -EBADMSG;
		for (size_t j = 0; j < size / 8; j++) {
			const unsigned char *p = d + 8 * j;
			uint64_t v = 0;

			for (int k = 7; k >= 0; k--)
				v = v << 8 | p[k];
			r->rec[r->pfe[i].first + j] = v;
		}
	}
	return 0;
}

static bool sym_at(const struct efile *f, size_t scn, size_t idx,
		   Elf64_Sym *out)
{
	return scn && efile_entry(f, scn, idx, out, sizeof(*out));
}

/* Dynamic relocations of the slots: the addend is the value (see top). */
static int apply_relocs(struct reader *r)
{
	for (size_t i = 0; i < r->nr_rela && r->nr_pfe; i++) {
		size_t scn = r->rela[i];
		size_t link, size;
		Elf64_Shdr sh;
		size_t n;

		if (!efile_shdr(&r->f, scn, &sh))
			return -EBADMSG;
		if (sh.sh_entsize != sizeof(Elf64_Rela))
			return -EBADMSG;
		if (!efile_data(&r->f, scn, &size))
			return -EBADMSG;
		n = size / sizeof(Elf64_Rela);
		link = sh.sh_link;
		for (size_t j = 0; j < n; j++) {
			Elf64_Rela rel;
			Elf64_Sym sym;
			uint64_t v;

			if (!efile_entry(&r->f, scn, j, &rel, sizeof(rel)))
				return -EBADMSG;
			switch (ELF64_R_TYPE(rel.r_info)) {
			case R_AARCH64_RELATIVE:
				v = rel.r_addend;
				break;
			case R_AARCH64_ABS64:
				if (!sym_at(&r->f, link, ELF64_R_SYM(rel.r_info),
					    &sym))
					return -EBADMSG;
				v = sym.st_shndx == SHN_UNDEF ? 0 :
				    sym.st_value + rel.r_addend;
				break;
			default:
				continue;
			}
			for (size_t k = 0; k < r->nr_pfe; k++) {
				const struct pfe *p = &r->pfe[k];
				uint64_t off = rel.r_offset - p->addr;

				if (rel.r_offset >= p->addr && off < p->size &&
				    !(off % 8))
					r->rec[p->first + off / 8] = v;
			}
		}
	}
	return 0;
}

static int read_symbols(struct reader *r)
{
	size_t scn = r->symtab ? r->symtab : r->dynsym;
	const char *file = NULL;
	Elf64_Shdr sh;
	size_t n, size;

	r->es->symtab = r->symtab != 0;
	if (!scn)
		return 0;
	if (!efile_shdr(&r->f, scn, &sh) || sh.sh_entsize != sizeof(Elf64_Sym))
		return -EBADMSG;
	if (!efile_data(&r->f, scn, &size))
		return -EBADMSG;
	n = size / sizeof(Elf64_Sym);
	r->syms = calloc(n ? n : 1, sizeof(*r->syms));
	if (!r->syms)
		return -ENOMEM;
	for (size_t i = 1; i < n; i++) {
		Elf64_Sym s;
		const char *name;
		int type;

		if (!efile_entry(&r->f, scn, i, &s, sizeof(s)))
			return -EBADMSG;
		type = ELF64_ST_TYPE(s.st_info);
		name = efile_str(&r->f, sh.sh_link, s.st_name);
		if (type == STT_FILE) {
			/* Locals that follow belong to this file. */
			const char *slash = name ? strrchr(name, '/') : NULL;

			file = slash ? slash + 1 : name;
			continue;
		}
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) ||
		    s.st_shndx == SHN_UNDEF || !name || !*name)
			continue;
		r->syms[r->nr_syms++] = (struct sym){
			.value = s.st_value, .size = s.st_size, .name = name,
			.bind = ELF64_ST_BIND(s.st_info), .order = i,
			.other = s.st_other,
			.file = ELF64_ST_BIND(s.st_info) == STB_LOCAL &&
				file && *file ? file : NULL,
		};
	}
	qsort(r->syms, r->nr_syms, sizeof(*r->syms), sym_cmp);
	return 0;
}

/* First (preferred) symbol at @value, or NULL. */
static const struct sym *sym_exact(const struct reader *r, uint64_t value)
{
	size_t lo = 0, hi = r->nr_syms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->syms[mid].value < value)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->nr_syms && r->syms[lo].value == value ?
	       &r->syms[lo] : NULL;
}

/* The sized function containing @addr, or NULL. */
static const struct sym *sym_containing(const struct reader *r, uint64_t addr)
{
	size_t lo = 0, hi = r->nr_syms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->syms[mid].value <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Walk back over symbols that start below @addr but end before it. */
	while (lo-- > 0) {
		const struct sym *s = &r->syms[lo];

		if (addr - s->value < s->size)
			return s;
		if (addr - s->value > (1u << 24))
			break;	/* no function is that large: stop early */
	}
	return NULL;
}

/* The file verdict for the slot at @rec (DESIGN.md section 1). */
static void check_site(const struct reader *r, struct tsite *t, uint64_t rec)
{
	uint32_t w[5];
	size_t entry = 2;	/* index in w[] of the first entry NOP */

	t->func = rec + 8;
	t->sym = sym_exact(r, t->func);
	if (t->sym) {
		t->size = t->sym->size;
		if (t->sym->bind == STB_LOCAL)
			t->flags |= FTRAMP_SITE_F_LOCAL;
		else if (t->sym->bind == STB_WEAK)
			t->flags |= FTRAMP_SITE_F_WEAK;
		if (elf_sym_is_clone(t->sym->name))
			t->flags |= FTRAMP_SITE_F_CLONE;
	}

	if (rec % 8) {
		t->status = FTRAMP_SITE_BAD_ALIGN;
		return;
	}
	if (!t->sym) {
		t->status = FTRAMP_SITE_NO_SYMBOL;
		return;
	}
	if (!read_text(r, rec, w, 4)) {
		t->status = FTRAMP_SITE_NOT_TEXT;
		return;
	}
	if (w[0] != A64_NOP || w[1] != A64_NOP) {
		t->status = FTRAMP_SITE_BAD_LITERAL;
		return;
	}
	if (w[2] == A64_BTI_C || w[2] == A64_BTI_JC) {
		t->flags |= FTRAMP_SITE_F_BTI;
		entry = 3;
		if (!read_text(r, rec, w, 5)) {
			t->status = FTRAMP_SITE_NOT_TEXT;
			return;
		}
	}
	if (w[entry] != A64_NOP || w[entry + 1] != A64_NOP) {
		t->status = FTRAMP_SITE_BAD_ENTRY;
		return;
	}
	if (t->size && t->size < 4 * entry) {
		t->status = FTRAMP_SITE_TOO_SMALL;
		return;
	}
	/* Any name of the function may carry the mark (aliases). */
	for (const struct sym *s = t->sym;
	     s < r->syms + r->nr_syms && s->value == t->func; s++) {
		if (s->other & STO_AARCH64_VARIANT_PCS) {
			t->status = FTRAMP_SITE_VARIANT_PCS;
			return;
		}
	}
}

/* End of the patch area: the entry NOPs, after `bti c` if any. */
static uint64_t span_end(const struct tsite *t)
{
	return t->func + ((t->flags & FTRAMP_SITE_F_BTI) ? 12 : 8);
}

/* Merge duplicate records and flag overlapping patch areas. */
static void check_neighbours(struct reader *r)
{
	size_t out = 0;

	qsort(r->ts, r->nr_ts, sizeof(*r->ts), tsite_cmp);
	for (size_t i = 0; i < r->nr_ts; i++) {
		if (out && r->ts[out - 1].func == r->ts[i].func) {
			if (!r->ts[out - 1].status)
				r->ts[out - 1].status = FTRAMP_SITE_DUPLICATE;
			continue;
		}
		r->ts[out++] = r->ts[i];
	}
	r->nr_ts = out;
	for (size_t i = 0; i + 1 < r->nr_ts; i++) {
		struct tsite *a = &r->ts[i], *b = &r->ts[i + 1];

		if (span_end(a) > b->func - 8) {
			if (!a->status)
				a->status = FTRAMP_SITE_OVERLAP;
			if (!b->status)
				b->status = FTRAMP_SITE_OVERLAP;
		}
	}
}

/* By symbol name, then address: groups of equal names are adjacent. */
static int tsite_name_cmp(const void *a, const void *b)
{
	const struct tsite *x = *(const struct tsite *const *)a;
	const struct tsite *y = *(const struct tsite *const *)b;
	int c = strcmp(x->sym->name, y->sym->name);

	return c ? c : x->func < y->func ? -1 : x->func > y->func;
}

static bool group_files_distinct(struct tsite **g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!(g[i]->flags & FTRAMP_SITE_F_LOCAL))
			continue;
		if (!g[i]->sym->file)
			return false;
		for (size_t j = 0; j < i; j++)
			if ((g[j]->flags & FTRAMP_SITE_F_LOCAL) &&
			    !strcmp(g[i]->sym->file, g[j]->sym->file))
				return false;
	}
	return true;
}

/*
 * Names unique within the file.  A symbol name used by several sites
 * (static functions of different files) stays bare for the one global
 * definition; the static ones become "sym:file.c", or "sym:N" in address
 * order when file names do not separate them.  Several globals of one name
 * (hand-written assembly only) are all numbered.
 */
static int name_sites(struct reader *r)
{
	struct tsite **by = calloc(r->nr_ts ? r->nr_ts : 1, sizeof(*by));
	size_t n = 0;

	if (!by)
		return -ENOMEM;
	for (size_t i = 0; i < r->nr_ts; i++) {
		struct tsite *t = &r->ts[i];
		const struct sym *host;

		t->name = POOL_NONE;
		if (t->sym) {
			by[n++] = t;
			continue;
		}
		host = sym_containing(r, t->func);
		if (host)
			t->name = pool_printf(&r->pool, "%s+0x%llx", host->name,
					      (unsigned long long)(t->func -
								   host->value));
		else
			t->name = pool_printf(&r->pool, "0x%llx",
					      (unsigned long long)t->func);
	}
	qsort(by, n, sizeof(*by), tsite_name_cmp);
	for (size_t i = 0, j; i < n; i = j) {
		size_t globals = 0, idx = 0;
		bool files;

		for (j = i; j < n && !strcmp(by[i]->sym->name, by[j]->sym->name);
		     j++)
			globals += !(by[j]->flags & FTRAMP_SITE_F_LOCAL);
		if (j - i == 1) {
			by[i]->name = pool_printf(&r->pool, "%s", by[i]->sym->name);
			continue;
		}
		files = group_files_distinct(by + i, j - i);
		for (size_t k = i; k < j; k++) {
			struct tsite *t = by[k];
			bool local = t->flags & FTRAMP_SITE_F_LOCAL;

			if (!local && globals == 1)
				t->name = pool_printf(&r->pool, "%s",
						      t->sym->name);
			else if (local && files)
				t->name = pool_printf(&r->pool, "%s:%s",
						      t->sym->name,
						      t->sym->file);
			else
				t->name = pool_printf(&r->pool, "%s:%zu",
						      t->sym->name, ++idx);
		}
	}
	free(by);
	return r->pool.oom ? -ENOMEM : 0;
}

/* Copy the result out of the image into es. */
static int finish(struct reader *r)
{
	struct elf_sites *es = r->es;
	size_t *sym_off, *file_off;

	sym_off = calloc(r->nr_ts ? r->nr_ts : 1, sizeof(*sym_off));
	file_off = calloc(r->nr_ts ? r->nr_ts : 1, sizeof(*file_off));
	es->sites = calloc(r->nr_ts ? r->nr_ts : 1, sizeof(*es->sites));
	if (!sym_off || !file_off || !es->sites)
		goto oom;
	for (size_t i = 0; i < r->nr_ts; i++) {
		const struct sym *s = r->ts[i].sym;

		sym_off[i] = pool_printf(&r->pool, "%s", s ? s->name : "");
		file_off[i] = s && s->file ?
			      pool_printf(&r->pool, "%s", s->file) : POOL_NONE;
	}
	if (r->pool.oom)
		goto oom;
	/* The pool no longer moves: offsets become pointers. */
	es->strings = r->pool.buf;
	r->pool.buf = NULL;
	for (size_t i = 0; i < r->nr_ts; i++) {
		const struct tsite *t = &r->ts[i];

		es->sites[i] = (struct elf_site){
			.name = es->strings + t->name,
			.symbol = es->strings + sym_off[i],
			.file = file_off[i] == POOL_NONE ? NULL :
				es->strings + file_off[i],
			.func = t->func, .size = t->size,
			.flags = t->flags, .status = t->status,
		};
	}
	es->nr_sites = r->nr_ts;
	free(sym_off);
	free(file_off);
	return 0;
oom:
	free(sym_off);
	free(file_off);
	return -ENOMEM;
}

/* A header table of nr entries of entsize bytes at off lies in the image. */
static bool table_fits(uint64_t off, uint64_t nr, uint64_t entsize,
		       size_t size)
{
	if (!nr)
		return true;
	return off <= size && entsize && nr <= (size - off) / entsize;
}

static int read_elf(const void *image, size_t size, struct elf_sites **out)
{
	struct reader r = { .raw = image, .rawsz = size };
	Elf64_Ehdr eh;
	Elf64_Shdr sh0;
	int err;

	*out = NULL;
	if (!image || size < EI_NIDENT || memcmp(image, ELFMAG, SELFMAG))
		return -ENOEXEC;
	if (r.raw[EI_CLASS] != ELFCLASS64 || r.raw[EI_DATA] != ELFDATA2LSB)
		return -ENOEXEC;
	if (size < sizeof(eh))
		return -EBADMSG;
	memcpy(&eh, image, sizeof(eh));
	if (eh.e_machine != EM_AARCH64)
		return -ENOEXEC;
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return -ENOTSUP;
	/* A header table beyond the image: a truncated file.  Refuse it. */
	if ((eh.e_phnum && eh.e_phentsize < sizeof(Elf64_Phdr)) ||
	    (eh.e_shnum && eh.e_shentsize < sizeof(Elf64_Shdr)) ||
	    !table_fits(eh.e_phoff, eh.e_phnum, eh.e_phentsize, size) ||
	    !table_fits(eh.e_shoff, eh.e_shnum, eh.e_shentsize, size))
		return -EBADMSG;
	r.f = (struct efile){ .raw = image, .size = size, .eh = eh,
			      .shnum = eh.e_shnum, .shstrndx = eh.e_shstrndx };
	/* gABI extended numbering: the real counts in section 0 */
	if (eh.e_shoff && eh.e_shentsize >= sizeof(Elf64_Shdr) &&
	    table_fits(eh.e_shoff, 1, eh.e_shentsize, size) &&
	    (!eh.e_shnum || eh.e_shstrndx == SHN_XINDEX)) {
		memcpy(&sh0, r.raw + eh.e_shoff, sizeof(sh0));
		if (!eh.e_shnum)
			r.f.shnum = sh0.sh_size;
		if (eh.e_shstrndx == SHN_XINDEX)
			r.f.shstrndx = sh0.sh_link;
		if (!table_fits(eh.e_shoff, r.f.shnum, eh.e_shentsize, size))
			return -EBADMSG;
	}

	r.es = calloc(1, sizeof(*r.es));
	if (!r.es)
		return -ENOMEM;
	r.es->type = eh.e_type;
	if (eh.e_type == ET_EXEC)
		r.es->executable = true;

	err = read_segments(&r);
	if (err)
		goto out;
	if (r.f.shnum == 0 && eh.e_shoff == 0)
		goto named;	/* no section headers: nothing to list */
	err = read_sections(&r);
	if (!err)
		err = apply_relocs(&r);
	if (!err)
		err = read_symbols(&r);
	if (err)
		goto out;

	r.ts = calloc(r.nr_rec ? r.nr_rec : 1, sizeof(*r.ts));
	if (!r.ts) {
		err = -ENOMEM;
		goto out;
	}
	r.es->nr_records = r.nr_rec;
	for (size_t i = 0; i < r.nr_rec; i++) {
		if (!r.rec[i]) {
			r.es->nr_null++;
			continue;
		}
		check_site(&r, &r.ts[r.nr_ts++], r.rec[i]);
	}
	check_neighbours(&r);
named:
	err = name_sites(&r);
	if (!err)
		err = finish(&r);
out:
	free(r.pool.buf);
	free(r.pfe);
	free(r.rec);
	free(r.syms);
	free(r.ts);
	free(r.rela);
	if (err)
		elf_sites__free(r.es);
	else
		*out = r.es;
	return err;
}

int elf_sites__read_fd(int fd, struct elf_sites **out)
{
	struct stat st;
	void *image;
	int err;

	*out = NULL;
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOEXEC;
	if (!st.st_size)
		return -ENOEXEC;
	image = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (image == MAP_FAILED)
		return -errno;
	err = read_elf(image, st.st_size, out);
	munmap(image, st.st_size);
	return err;
}

int elf_sites__read_mem(const void *image, size_t size,
			struct elf_sites **out)
{
	return read_elf(image, size, out);
}

int elf_sites__read_path(const char *path, struct elf_sites **out)
{
	int fd, err;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = elf_sites__read_fd(fd, out);
	close(fd);
	return err;
}
