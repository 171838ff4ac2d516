// SPDX-License-Identifier: MIT
/*
 * The object loader's parse step: an ELF relocatable object from
 * `clang -target bpf` becomes programs, map definitions (with the prog
 * array slots they declare) and applied relocations, the way libbpf's
 * bpf_object__open() reads one.  Pure: it reads a buffer and allocates,
 * creates no map and runs nothing, so it builds on the host and is
 * fuzzed (selftests/fuzz_bpf_object.c).
 *
 * The file is untrusted.  Every header, table and offset is checked
 * before use and read with memcpy (the buffer has no alignment
 * guarantee); every refusal is one bpf_errf() with its own
 * FTRAMP_BPF_E_* code and a message naming the section, the
 * instruction and the symbol.  Programs are built only after every check
 * of the whole object passed: a refused object leaves nothing behind.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/bpf.h"
#include "bpf/btf.h"
#include "lib/util.h"

#ifndef EM_BPF
#define EM_BPF		247
#endif
#define R_BPF_64_64	1	/* ld_imm64 of a map, data or function */
#define R_BPF_64_ABS64	2	/* a 64-bit address in data (.maps' values[]) */
#define R_BPF_64_32	10	/* call of a subprogram */

#define INSN_SZ		sizeof(struct ftramp_bpf_insn)

int bpf_errf(struct ftramp_bpf_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e) {
		e->code = code;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* ------------------------------------------------------------------------
 * Map types and their rules (also what map.c creates)
 */

static const char *const map_type_names[] = {
	[BPF_MAP_TYPE_HASH]		= "hash",
	[BPF_MAP_TYPE_ARRAY]		= "array",
	[BPF_MAP_TYPE_PROG_ARRAY]	= "prog_array",
	[BPF_MAP_TYPE_PERCPU_ARRAY]	= "percpu_array",
	[BPF_MAP_TYPE_LRU_HASH]		= "lru_hash",
	[BPF_MAP_TYPE_RINGBUF]		= "ringbuf",
	[BPF_MAP_TYPE_INSN_ARRAY]	= "insn_array",
};

const char *bpf_map_type_str(uint32_t type)
{
	if (type >= ARRAY_SIZE(map_type_names))
		return NULL;
	return map_type_names[type];
}

#define MAP_MAX_KEY	512		/* a key lives on the BPF stack */
#define MAP_MAX_VALUE	(1u << 20)
#define MAP_MAX_BYTES	(1ull << 30)	/* entries * value, all slots */

int bpf_map_check(const struct ftramp_bpf_map *m, const char **why)
{
	uint64_t bytes;

	if (!bpf_map_type_str(m->type)) {
		*why = "unknown or unsupported map type";
		return FTRAMP_BPF_E_MAP_TYPE;
	}
	if (m->map_flags & ~(uint32_t)(BPF_F_NO_PREALLOC | BPF_F_RDONLY_PROG |
				       BPF_F_WRONLY_PROG | BPF_F_MMAPABLE |
				       BPF_F_NUMA_NODE | BPF_F_NO_COMMON_LRU)) {
		*why = "unknown map_flags";
		return FTRAMP_BPF_E_MAP_DEF;
	}
	if (!m->max_entries) {
		*why = "max_entries is 0";
		return FTRAMP_BPF_E_MAP_DEF;
	}
	switch (m->type) {
	case BPF_MAP_TYPE_RINGBUF:
		if (m->key_size || m->value_size) {
			*why = "a ring buffer has no key or value";
			return FTRAMP_BPF_E_MAP_DEF;
		}
		if (!is_pow2(m->max_entries) || m->max_entries % 4096 || m->max_entries > (1u << 30)) {
			*why = "ring buffer size not a power of 2 of pages";
			return FTRAMP_BPF_E_MAP_DEF;
		}
		return 0;
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_PROG_ARRAY:
	case BPF_MAP_TYPE_INSN_ARRAY:
		if (m->key_size != 4) {
			*why = "an array's key_size must be 4";
			return FTRAMP_BPF_E_MAP_DEF;
		}
		if (m->type == BPF_MAP_TYPE_INSN_ARRAY &&
		    m->value_size != sizeof(struct ftramp_bpf_insn_array_value)) {
			*why = "an insn_array's value_size must be 16";
			return FTRAMP_BPF_E_MAP_DEF;
		}
		if (m->type == BPF_MAP_TYPE_PROG_ARRAY && m->value_size != 4) {
			*why = "a prog_array's value_size must be 4";
			return FTRAMP_BPF_E_MAP_DEF;
		}
		break;
	default:
		if (!m->key_size || m->key_size > MAP_MAX_KEY) {
			*why = "key_size 0 or above 512";
			return FTRAMP_BPF_E_MAP_DEF;
		}
	}
	if (!m->value_size || m->value_size > MAP_MAX_VALUE) {
		*why = "value_size 0 or above 1 MiB";
		return FTRAMP_BPF_E_MAP_DEF;
	}
	bytes = (uint64_t)m->max_entries * round_up(m->value_size, 8);
	if (m->type == BPF_MAP_TYPE_PERCPU_ARRAY)
		bytes *= 1024;	/* a bound on ftramp_bpf_num_cpus() */
	if (bytes > MAP_MAX_BYTES) {
		*why = "entries times value_size above 1 GiB";
		return FTRAMP_BPF_E_MAP_DEF;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * ELF access, every read checked
 */

struct elf {
	struct ftramp_bpf_object *obj;
	const uint8_t *buf;
	size_t size;
	Elf64_Shdr *sh;		/* copies of the section headers */
	size_t shnum;
	const char *shstr;	/* section names */
	size_t shstr_size;
	size_t symtab;		/* section index, 0: none */
	size_t nsyms;
	const char *symstr;
	size_t symstr_size;
	size_t text;		/* .text, 0: none */
	size_t maps;		/* .maps, 0: none */
	size_t maps_rel;	/* .rel.maps, 0: none */
	int *map_of_sec;	/* [shndx]: data map index, -1 */
	/* the values[] initialisers in .maps: [lo, hi) of map map */
	struct map_values {
		size_t map;
		uint64_t lo, hi;
	} *vals;
	size_t nr_vals;
	struct ftramp_bpf_error *err;
};

static const char *sec_name(const struct elf *f, size_t i)
{
	uint32_t off = f->sh[i].sh_name;

	if (off >= f->shstr_size)
		return "?";
	return f->shstr + off;
}

/* strnlen-checked name: within the table and terminated, else "?". */
static const char *str_at(const char *tab, size_t size, size_t off)
{
	if (!tab || off >= size || !memchr(tab + off, '\0', size - off))
		return "?";
	return tab + off;
}

static void sym_get(const struct elf *f, size_t i, Elf64_Sym *s)
{
	memcpy(s, f->buf + f->sh[f->symtab].sh_offset + i * sizeof(*s),
	       sizeof(*s));
}

static const char *sym_name(const struct elf *f, const Elf64_Sym *s)
{
	if (ELF64_ST_TYPE(s->st_info) == STT_SECTION &&
	    s->st_shndx < f->shnum)
		return sec_name(f, s->st_shndx);
	return str_at(f->symstr, f->symstr_size, s->st_name);
}

static bool is_exec(const Elf64_Shdr *sh)
{
	return sh->sh_type == SHT_PROGBITS && (sh->sh_flags & SHF_EXECINSTR);
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static int data_origin(const char *name)
{
	if (!strcmp(name, ".data") || starts(name, ".data."))
		return BPF_MAP_DATA;
	if (!strcmp(name, ".bss") || starts(name, ".bss."))
		return BPF_MAP_BSS;
	if (!strcmp(name, ".rodata") || starts(name, ".rodata."))
		return BPF_MAP_RODATA;
	return -1;
}

static int read_headers(struct elf *f)
{
	Elf64_Ehdr eh;
	uint64_t end;

	if (f->size < sizeof(eh))
		return bpf_errf(f->err, FTRAMP_BPF_E_TRUNCATED,
				"%zu bytes: shorter than an ELF header",
				f->size);
	memcpy(&eh, f->buf, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_type != ET_REL)
		return bpf_errf(f->err, FTRAMP_BPF_E_NOT_ELF,
				"not a little-endian ELF64 relocatable object");
	if (eh.e_machine != EM_BPF)
		return bpf_errf(f->err, FTRAMP_BPF_E_MACHINE,
				"e_machine %u is not EM_BPF (%u)",
				eh.e_machine, EM_BPF);
	if (eh.e_shentsize != sizeof(Elf64_Shdr) || !eh.e_shnum ||
	    eh.e_shstrndx >= eh.e_shnum)
		return bpf_errf(f->err, FTRAMP_BPF_E_SECTION,
				"bad section header table (entsize %u, %u "
				"sections, names in %u)", eh.e_shentsize,
				eh.e_shnum, eh.e_shstrndx);
	end = eh.e_shoff + (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr);
	if (eh.e_shoff > f->size || end > f->size)
		return bpf_errf(f->err, FTRAMP_BPF_E_TRUNCATED,
				"section header table [%#llx, %#llx) beyond "
				"the file's %zu bytes",
				(unsigned long long)eh.e_shoff,
				(unsigned long long)end, f->size);
	f->shnum = eh.e_shnum;
	f->sh = malloc(f->shnum * sizeof(*f->sh));
	if (!f->sh)
		return -ENOMEM;
	memcpy(f->sh, f->buf + eh.e_shoff, f->shnum * sizeof(*f->sh));
	for (size_t i = 0; i < f->shnum; i++) {
		const Elf64_Shdr *sh = &f->sh[i];

		if (sh->sh_type == SHT_NOBITS)
			continue;
		if (sh->sh_offset > f->size ||
		    sh->sh_size > f->size - sh->sh_offset)
			return bpf_errf(f->err, FTRAMP_BPF_E_TRUNCATED,
					"section %zu: [%#llx, +%#llx) beyond "
					"the file's %zu bytes", i,
					(unsigned long long)sh->sh_offset,
					(unsigned long long)sh->sh_size,
					f->size);
	}
	{
		const Elf64_Shdr *ss = &f->sh[eh.e_shstrndx];

		if (ss->sh_type != SHT_STRTAB || !ss->sh_size ||
		    f->buf[ss->sh_offset + ss->sh_size - 1] != '\0')
			return bpf_errf(f->err, FTRAMP_BPF_E_SECTION,
					"section %u: names not a terminated "
					"string table", eh.e_shstrndx);
		f->shstr = (const char *)f->buf + ss->sh_offset;
		f->shstr_size = ss->sh_size;
	}
	return 0;
}

static int read_sections(struct elf *f)
{
	struct ftramp_bpf_object *obj = f->obj;
	bool license = false;

	for (size_t i = 1; i < f->shnum; i++) {
		const Elf64_Shdr *sh = &f->sh[i];
		const char *name = sec_name(f, i);

		if (sh->sh_type == SHT_SYMTAB) {
			const Elf64_Shdr *st;

			if (f->symtab)
				return bpf_errf(f->err, FTRAMP_BPF_E_SYMTAB,
						"two symbol tables (%zu, %zu)",
						f->symtab, i);
			if (sh->sh_entsize != sizeof(Elf64_Sym) ||
			    sh->sh_size % sizeof(Elf64_Sym) ||
			    sh->sh_link >= f->shnum ||
			    f->sh[sh->sh_link].sh_type != SHT_STRTAB)
				return bpf_errf(f->err, FTRAMP_BPF_E_SYMTAB,
						"section %s: damaged symbol "
						"table", name);
			st = &f->sh[sh->sh_link];
			f->symtab = i;
			f->nsyms = sh->sh_size / sizeof(Elf64_Sym);
			f->symstr = (const char *)f->buf + st->sh_offset;
			f->symstr_size = st->sh_size;
		} else if (!strcmp(name, "license")) {
			size_t n = sh->sh_type == SHT_NOBITS ? 0 : sh->sh_size;
			const char *s = (const char *)f->buf + sh->sh_offset;

			if (!n || !memchr(s, '\0', n) ||
			    strlen(s) >= sizeof(obj->license))
				return bpf_errf(f->err, FTRAMP_BPF_E_NO_LICENSE,
						"section license: not a "
						"terminated string");
			strcpy(obj->license, s);
			license = true;
		} else if (!strcmp(name, "version") &&
			   sh->sh_type == SHT_PROGBITS && sh->sh_size == 4) {
			memcpy(&obj->kversion, f->buf + sh->sh_offset, 4);
		} else if (is_exec(sh)) {
			if (sh->sh_size % INSN_SZ)
				return bpf_errf(f->err, FTRAMP_BPF_E_INSN_SIZE,
						"section %s: %llu bytes, not a "
						"multiple of 8", name,
						(unsigned long long)sh->sh_size);
			if (!strcmp(name, ".text"))
				f->text = i;
		} else if (!strcmp(name, ".maps")) {
			f->maps = i;
		} else if (!strcmp(name, ".BTF")) {
			const char *why = "";
			int err;

			if (sh->sh_type != SHT_PROGBITS || obj->btf_data)
				return bpf_errf(f->err, FTRAMP_BPF_E_BTF,
						"section .BTF: not PROGBITS, or "
						"a second one");
			obj->btf = calloc(1, sizeof(*obj->btf));
			obj->btf_data = malloc(sh->sh_size + 1);
			if (!obj->btf || !obj->btf_data)
				return -ENOMEM;
			memcpy(obj->btf_data, f->buf + sh->sh_offset,
			       sh->sh_size);
			err = bpf_btf_parse(obj->btf, obj->btf_data,
					    sh->sh_size, &why);
			if (err == -ENOMEM)
				return err;
			if (err) {
				free(obj->btf);
				obj->btf = NULL;
				return bpf_errf(f->err, FTRAMP_BPF_E_BTF,
						"section .BTF: %s", why);
			}
		}
	}
	if (!license)
		return bpf_errf(f->err, FTRAMP_BPF_E_NO_LICENSE,
				"no license section (char LICENSE[] "
				"SEC(\"license\"))");
	if (!f->symtab)
		return bpf_errf(f->err, FTRAMP_BPF_E_SYMTAB, "no symbol table");
	if (!f->symstr_size || f->symstr[f->symstr_size - 1] != '\0')
		return bpf_errf(f->err, FTRAMP_BPF_E_SYMTAB,
				"symbol names not a terminated string table");
	return 0;
}

/* A data symbol, for finding a DATASEC variable's offset by name. */
struct data_sym {
	size_t shndx;
	const char *name;
	uint64_t value;
};

static int data_sym_cmp(const void *a, const void *b)
{
	const struct data_sym *x = a, *y = b;

	if (x->shndx != y->shndx)
		return x->shndx < y->shndx ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The first of @n sorted symbols that is (@sec, @name), or NULL. */
static const struct data_sym *data_sym_find(const struct data_sym *syms,
					    size_t n, size_t sec,
					    const char *name)
{
	struct data_sym key = { .shndx = sec, .name = name };
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (data_sym_cmp(&syms[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && !data_sym_cmp(&syms[lo], &key) ? &syms[lo] : NULL;
}

/*
 * clang leaves the offsets of a DATASEC's variables (and its size) 0:
 * the ELF symbols have them.  Fill them in, as libbpf's
 * btf_fixup_datasec() does, so typed dumps of global data are right.
 * The data symbols are sorted once by (section, name), so an object of
 * V variables and S symbols costs O((V + S) log S), not O(V * S).  The
 * BTF is our own aligned copy.
 */
static int fixup_datasecs(struct elf *f)
{
	struct bpf_btf *btf = f->obj->btf;
	struct data_sym *syms;
	size_t nr = 0;

	if (!btf)
		return 0;
	syms = malloc((f->nsyms ? f->nsyms : 1) * sizeof(*syms));
	if (!syms)
		return -ENOMEM;
	for (size_t i = 1; i < f->nsyms; i++) {
		Elf64_Sym sym;

		sym_get(f, i, &sym);
		if (ELF64_ST_TYPE(sym.st_info) != STT_OBJECT ||
		    !sym.st_shndx || sym.st_shndx >= f->shnum)
			continue;
		syms[nr++] = (struct data_sym){ sym.st_shndx,
						sym_name(f, &sym),
						sym.st_value };
	}
	qsort(syms, nr, sizeof(*syms), data_sym_cmp);
	for (uint32_t id = 1; id < btf->nr_types; id++) {
		struct btf_type *t = (struct btf_type *)btf->types[id];
		struct btf_var_secinfo *vi = (struct btf_var_secinfo *)(t + 1);
		const char *name = bpf_btf_name(btf, t->name_off);
		size_t sec = 0;

		if (bpf_btf_kind(t) != BTF_KIND_DATASEC)
			continue;
		for (size_t i = 1; i < f->shnum && !sec; i++)
			if (!strcmp(sec_name(f, i), name))
				sec = i;
		if (!sec)
			continue;
		t->size = f->sh[sec].sh_size;
		for (unsigned int k = 0; k < bpf_btf_vlen(t); k++) {
			const struct btf_type *v = bpf_btf_type(btf, vi[k].type);
			const struct data_sym *ds;

			if (!v)
				continue;
			ds = data_sym_find(syms, nr, sec,
					   bpf_btf_name(btf, v->name_off));
			if (ds)
				vi[k].offset = ds->value;
		}
	}
	free(syms);
	return 0;
}

/* ------------------------------------------------------------------------
 * Maps: global data sections, then BTF definitions in .maps
 */

static struct ftramp_bpf_map *new_map(struct ftramp_bpf_object *obj)
{
	struct ftramp_bpf_map *m;

	m = realloc(obj->maps, (obj->nr_maps + 1) * sizeof(*m));
	if (!m)
		return NULL;
	obj->maps = m;
	m = &obj->maps[obj->nr_maps++];
	memset(m, 0, sizeof(*m));
	return m;
}

static int read_data_maps(struct elf *f)
{
	struct ftramp_bpf_object *obj = f->obj;

	f->map_of_sec = malloc(f->shnum * sizeof(int));
	if (!f->map_of_sec)
		return -ENOMEM;
	for (size_t i = 0; i < f->shnum; i++) {
		const Elf64_Shdr *sh = &f->sh[i];
		const char *name = sec_name(f, i);
		int origin = data_origin(name);
		struct ftramp_bpf_map *m;

		f->map_of_sec[i] = -1;
		if (origin < 0 || !(sh->sh_flags & SHF_ALLOC) || !sh->sh_size ||
		    (sh->sh_type != SHT_PROGBITS && sh->sh_type != SHT_NOBITS))
			continue;
		if (sh->sh_size > MAP_MAX_VALUE)
			return bpf_errf(f->err, FTRAMP_BPF_E_MAP_DEF,
					"section %s: %llu bytes of global "
					"data, above 1 MiB", name,
					(unsigned long long)sh->sh_size);
		m = new_map(obj);
		if (!m)
			return -ENOMEM;
		/* libbpf names them "<obj>.data"; the section name is enough */
		snprintf(m->name, sizeof(m->name), "%s", name);
		m->type = BPF_MAP_TYPE_ARRAY;
		m->key_size = 4;
		m->value_size = sh->sh_size;
		m->max_entries = 1;
		m->origin = sh->sh_type == SHT_NOBITS ? BPF_MAP_BSS : origin;
		if (m->origin == BPF_MAP_RODATA)
			m->map_flags = BPF_F_RDONLY_PROG;
		m->shndx = i;
		if (obj->btf) {
			m->btf = obj->btf;
			m->btf_value = bpf_btf_datasec(obj->btf, name);
		}
		if (sh->sh_type == SHT_PROGBITS) {
			m->init = f->buf + sh->sh_offset;
			m->init_size = sh->sh_size;
		}
		f->map_of_sec[i] = obj->nr_maps - 1;
	}
	return 0;
}

/* __uint(name, N) is `int (*name)[N]`: N is the array's length. */
static int btf_uint(const struct bpf_btf *btf, uint32_t type, uint32_t *v)
{
	const struct btf_type *t = bpf_btf_type(btf, bpf_btf_skip_mods(btf, type));
	const struct btf_array *a;

	if (!t || bpf_btf_kind(t) != BTF_KIND_PTR)
		return -1;
	t = bpf_btf_type(btf, bpf_btf_skip_mods(btf, t->type));
	if (!t || bpf_btf_kind(t) != BTF_KIND_ARRAY)
		return -1;
	a = (const void *)(t + 1);
	*v = a->nelems;
	return 0;
}

/* __type(name, T) is `T *name`: T's id and size. */
static int btf_pointee(const struct bpf_btf *btf, uint32_t type, uint32_t *id,
		       uint32_t *size)
{
	const struct btf_type *t = bpf_btf_type(btf, bpf_btf_skip_mods(btf, type));
	long sz;

	if (!t || bpf_btf_kind(t) != BTF_KIND_PTR)
		return -1;
	sz = bpf_btf_size(btf, t->type);
	if (sz <= 0 || sz > UINT32_MAX)
		return -1;
	*id = t->type;
	*size = sz;
	return 0;
}

/*
 * __array(values, T) is `T *values[]`: a zero-length array of pointers,
 * the last member, whose initialiser libbpf reads from .rel.maps (a
 * prog array: T a function type).  0 and *ptee the pointee, or -1.
 */
static int btf_values(const struct bpf_btf *btf, uint32_t type, uint32_t *ptee)
{
	const struct btf_type *t = bpf_btf_type(btf, bpf_btf_skip_mods(btf, type));
	const struct btf_array *a;

	if (!t || bpf_btf_kind(t) != BTF_KIND_ARRAY)
		return -1;
	a = (const void *)(t + 1);
	t = bpf_btf_type(btf, bpf_btf_skip_mods(btf, a->type));
	if (a->nelems || !t || bpf_btf_kind(t) != BTF_KIND_PTR)
		return -1;
	*ptee = bpf_btf_skip_mods(btf, t->type);
	return 0;
}

/*
 * The definition of map @m, BTF type @type.  *values_off: where its
 * values[] initialiser starts in the definition, UINT32_MAX for none.
 */
static int map_def(struct elf *f, struct ftramp_bpf_map *m, uint32_t type,
		   uint32_t *values_off)
{
	const struct bpf_btf *btf = f->obj->btf;
	const struct btf_type *t, *vt = NULL;
	const struct btf_member *mb;
	uint32_t key_size = 0, value_size = 0, v;
	const char *why;
	int code;

	*values_off = UINT32_MAX;

	t = bpf_btf_type(btf, bpf_btf_skip_mods(btf, type));
	if (!t || bpf_btf_kind(t) != BTF_KIND_STRUCT)
		return bpf_errf(f->err, FTRAMP_BPF_E_MAP_DEF,
				"section .maps, symbol %s: definition is not "
				"a struct", m->name);
	mb = (const void *)(t + 1);
	for (unsigned int i = 0; i < bpf_btf_vlen(t); i++) {
		const char *name = bpf_btf_name(btf, mb[i].name_off);
		uint32_t *dst = NULL;
		int bad;

		if (!strcmp(name, "type"))
			dst = &m->type;
		else if (!strcmp(name, "max_entries"))
			dst = &m->max_entries;
		else if (!strcmp(name, "map_flags"))
			dst = &m->map_flags;
		else if (!strcmp(name, "key_size"))
			dst = &m->key_size;
		else if (!strcmp(name, "value_size"))
			dst = &m->value_size;
		if (dst) {
			bad = btf_uint(btf, mb[i].type, dst);
		} else if (!strcmp(name, "key")) {
			bad = btf_pointee(btf, mb[i].type, &m->btf_key, &key_size);
		} else if (!strcmp(name, "value")) {
			bad = btf_pointee(btf, mb[i].type, &m->btf_value,
					  &value_size);
		} else if (!strcmp(name, "pinning") || !strcmp(name, "numa_node")) {
			/* no bpffs to pin in; NUMA placement: ignored */
			bad = btf_uint(btf, mb[i].type, &v);
		} else if (!strcmp(name, "values")) {
			if (i + 1 != bpf_btf_vlen(t) ||
			    btf_values(btf, mb[i].type, &v))
				return bpf_errf(f->err, FTRAMP_BPF_E_MAP_DEF,
						"section .maps, symbol %s: "
						"member 'values' is not a last "
						"__array()", m->name);
			vt = bpf_btf_type(btf, v);
			*values_off = (BTF_INFO_KFLAG(t->info) ?
				       BTF_MEMBER_BIT_OFFSET(mb[i].offset) :
				       mb[i].offset) / 8;
			continue;
		} else {
			return bpf_errf(f->err, FTRAMP_BPF_E_MAP_DEF,
					"section .maps, symbol %s: member "
					"'%s' not supported", m->name, name);
		}
		if (bad)
			return bpf_errf(f->err, FTRAMP_BPF_E_MAP_DEF,
					"section .maps, symbol %s: member '%s' "
					"is not __uint()/__type() shaped",
					m->name, name);
	}
	if (key_size) {
		if (m->key_size && m->key_size != key_size)
			return bpf_errf(f->err, FTRAMP_BPF_E_MAP_DEF,
					"section .maps, symbol %s: key_size %u "
					"but key type of %u bytes", m->name,
					m->key_size, key_size);
		m->key_size = key_size;
	}
	if (value_size) {
		if (m->value_size && m->value_size != value_size)
			return bpf_errf(f->err, FTRAMP_BPF_E_MAP_DEF,
					"section .maps, symbol %s: value_size "
					"%u but value type of %u bytes",
					m->name, m->value_size, value_size);
		m->value_size = value_size;
	}
	/*
	 * values[]: libbpf's initialised prog array slots (map-in-map
	 * outer maps use it too; ftramp has no such types).  The value is
	 * a program's id: 4 bytes unless the definition says otherwise.
	 */
	if (*values_off != UINT32_MAX) {
		if (m->type != BPF_MAP_TYPE_PROG_ARRAY)
			return bpf_errf(f->err, FTRAMP_BPF_E_MAP_DEF,
					"section .maps, symbol %s: member "
					"'values' initialises a prog_array's "
					"slots, not a map of type %u (ftramp "
					"has no map-in-map types)", m->name,
					m->type);
		if (!vt || bpf_btf_kind(vt) != BTF_KIND_FUNC_PROTO)
			return bpf_errf(f->err, FTRAMP_BPF_E_MAP_DEF,
					"section .maps, symbol %s: member "
					"'values' is not an array of function "
					"pointers", m->name);
		if (!m->value_size)
			m->value_size = 4;
	}
	code = bpf_map_check(m, &why);
	if (code == FTRAMP_BPF_E_MAP_TYPE)
		return bpf_errf(f->err, code, "section .maps, symbol %s: map "
				"type %u: %s", m->name, m->type, why);
	if (code)
		return bpf_errf(f->err, code, "section .maps, symbol %s: %s",
				m->name, why);
	return 0;
}

static int read_btf_maps(struct elf *f)
{
	struct ftramp_bpf_object *obj = f->obj;

	if (!f->maps)
		return 0;
	for (size_t i = 1; i < f->nsyms; i++) {
		struct ftramp_bpf_map *m;
		uint32_t type, values_off;
		const char *name;
		Elf64_Sym s;
		int err;

		sym_get(f, i, &s);
		if (s.st_shndx != f->maps || ELF64_ST_TYPE(s.st_info) != STT_OBJECT)
			continue;
		name = sym_name(f, &s);
		if (!obj->btf)
			return bpf_errf(f->err, FTRAMP_BPF_E_MAP_DEF,
					"section .maps, symbol %s: no .BTF to "
					"read the definition from", name);
		type = bpf_btf_datasec_var(obj->btf, ".maps", name);
		if (!type)
			return bpf_errf(f->err, FTRAMP_BPF_E_MAP_DEF,
					"section .maps, symbol %s: no BTF "
					"variable of that name", name);
		m = new_map(obj);
		if (!m)
			return -ENOMEM;
		snprintf(m->name, sizeof(m->name), "%s", name);
		m->origin = BPF_MAP_USER;
		m->btf = obj->btf;
		m->shndx = f->maps;
		m->sym_off = s.st_value;
		err = map_def(f, m, type, &values_off);
		if (err)
			return err;
		if (values_off != UINT32_MAX) {
			struct map_values *v;

			v = realloc(f->vals, (f->nr_vals + 1) * sizeof(*v));
			if (!v)
				return -ENOMEM;
			f->vals = v;
			v = &f->vals[f->nr_vals++];
			v->map = obj->nr_maps - 1;
			v->lo = s.st_value + values_off;
			v->hi = s.st_value + s.st_size;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Relocations, resolved once per section, applied to each program's image
 */

struct sec_relocs {
	size_t first, n;	/* in obj->relocs */
};

static int find_user_map(const struct elf *f, uint64_t off)
{
	for (size_t i = 0; i < f->obj->nr_maps; i++)
		if (f->obj->maps[i].origin == BPF_MAP_USER &&
		    f->obj->maps[i].sym_off == off)
			return i;
	return -1;
}

static int resolve(struct elf *f, size_t sec, const Elf64_Rel *r,
		   struct bpf_reloc *out)
{
	const Elf64_Shdr *sh = &f->sh[sec];
	const char *sname = sec_name(f, sec);
	size_t n = sh->sh_size / INSN_SZ, idx = r->r_offset / INSN_SZ;
	size_t symi = ELF64_R_SYM(r->r_info);
	uint32_t type = ELF64_R_TYPE(r->r_info);
	struct ftramp_bpf_insn insn;
	const char *name = "?";
	Elf64_Sym s;

	if (symi >= f->nsyms || !symi)
		return bpf_errf(f->err, FTRAMP_BPF_E_RELO_SYM,
				"section %s, insn %zu: relocation against "
				"symbol %zu of %zu", sname, idx, symi,
				f->nsyms);
	sym_get(f, symi, &s);
	name = sym_name(f, &s);
	if (r->r_offset % INSN_SZ || idx >= n)
		return bpf_errf(f->err, FTRAMP_BPF_E_RELO_RANGE,
				"section %s, offset %#llx, symbol %s: "
				"relocation beyond the section's %zu insns",
				sname, (unsigned long long)r->r_offset, name, n);
	memcpy(&insn, f->buf + sh->sh_offset + r->r_offset, sizeof(insn));
	memset(out, 0, sizeof(*out));
	snprintf(out->sec, sizeof(out->sec), "%s", sname);
	snprintf(out->sym, sizeof(out->sym), "%s", name);
	out->insn = idx;

	if (type == R_BPF_64_32) {
		uint64_t tgt;

		if (insn.code != (BPF_JMP | BPF_CALL) ||
		    insn.src_reg != BPF_PSEUDO_CALL)
			return bpf_errf(f->err, FTRAMP_BPF_E_RELO_INSN,
					"section %s, insn %zu, symbol %s: "
					"R_BPF_64_32 on a non-call (code "
					"%#x)", sname, idx, name, insn.code);
		if (s.st_shndx != f->text && s.st_shndx != sec)
			return bpf_errf(f->err, FTRAMP_BPF_E_CALL,
					"section %s, insn %zu, symbol %s: call "
					"into a section that is neither .text "
					"nor its own", sname, idx, name);
		tgt = s.st_value / INSN_SZ + (int64_t)insn.imm + 1;
		if (s.st_value % INSN_SZ ||
		    tgt >= f->sh[s.st_shndx].sh_size / INSN_SZ)
			return bpf_errf(f->err, FTRAMP_BPF_E_CALL,
					"section %s, insn %zu, symbol %s: call "
					"target outside section %s", sname,
					idx, name, sec_name(f, s.st_shndx));
		out->kind = BPF_RELOC_CALL;
		out->map = s.st_shndx;	/* the target's section */
		out->off = tgt;
		return 0;
	}
	if (type != R_BPF_64_64)
		return bpf_errf(f->err, FTRAMP_BPF_E_RELO_TYPE,
				"section %s, insn %zu, symbol %s: relocation "
				"type %u not handled", sname, idx, name, type);
	if (insn.code != (BPF_LD | BPF_IMM | BPF_DW) || idx + 1 >= n)
		return bpf_errf(f->err, FTRAMP_BPF_E_RELO_INSN,
				"section %s, insn %zu, symbol %s: R_BPF_64_64 "
				"on a non-ld_imm64 (code %#x)", sname, idx,
				name, insn.code);
	if (s.st_shndx == SHN_UNDEF || s.st_shndx >= f->shnum)
		return bpf_errf(f->err, FTRAMP_BPF_E_RELO_SYM,
				"section %s, insn %zu, symbol %s: undefined "
				"(extern) symbol", sname, idx, name);
	if (f->maps && s.st_shndx == f->maps) {
		int mi = find_user_map(f, s.st_value);

		if (mi < 0 || insn.imm)
			return bpf_errf(f->err, FTRAMP_BPF_E_RELO_SYM,
					"section %s, insn %zu, symbol %s: not "
					"the start of a map definition", sname,
					idx, name);
		out->kind = BPF_RELOC_MAP;
		out->map = mi;
		return 0;
	}
	if (f->map_of_sec[s.st_shndx] >= 0) {
		const struct ftramp_bpf_map *m = &f->obj->maps[f->map_of_sec[s.st_shndx]];
		uint64_t off = s.st_value + (int64_t)insn.imm;

		if (off >= m->value_size)
			return bpf_errf(f->err, FTRAMP_BPF_E_RELO_SYM,
					"section %s, insn %zu, symbol %s: offset "
					"%llu beyond %s's %u bytes", sname, idx,
					name, (unsigned long long)off, m->name,
					m->value_size);
		out->kind = BPF_RELOC_MAP_VALUE;
		out->map = f->map_of_sec[s.st_shndx];
		out->off = off;
		return 0;
	}
	if (s.st_shndx == f->text || s.st_shndx == sec) {
		uint64_t off = s.st_value + (int64_t)insn.imm;

		if (off % INSN_SZ || off / INSN_SZ >=
		    f->sh[s.st_shndx].sh_size / INSN_SZ)
			return bpf_errf(f->err, FTRAMP_BPF_E_RELO_SYM,
					"section %s, insn %zu, symbol %s: "
					"function address outside %s", sname,
					idx, name, sec_name(f, s.st_shndx));
		out->kind = BPF_RELOC_FUNC;
		out->map = s.st_shndx;
		out->off = off / INSN_SZ;
		return 0;
	}
	return bpf_errf(f->err, FTRAMP_BPF_E_RELO_SYM,
			"section %s, insn %zu, symbol %s: in section %s, "
			"neither a map, global data nor code", sname, idx,
			name, sec_name(f, s.st_shndx));
}

static int read_relocs(struct elf *f, struct sec_relocs *per_sec)
{
	struct ftramp_bpf_object *obj = f->obj;

	for (size_t i = 1; i < f->shnum; i++) {
		const Elf64_Shdr *sh = &f->sh[i];
		size_t tgt = sh->sh_info, n;

		if (sh->sh_type == SHT_RELA && tgt < f->shnum &&
		    is_exec(&f->sh[tgt]))
			return bpf_errf(f->err, FTRAMP_BPF_E_RELO_TYPE,
					"section %s: RELA relocations of code "
					"(clang writes REL)", sec_name(f, i));
		if (sh->sh_type != SHT_REL)
			continue;
		if (tgt >= f->shnum)
			return bpf_errf(f->err, FTRAMP_BPF_E_SECTION,
					"section %s: relocates section %zu of "
					"%zu", sec_name(f, i), tgt, f->shnum);
		if (!is_exec(&f->sh[tgt]) && (!f->maps || tgt != f->maps))
			continue;	/* .BTF, .BTF.ext, DWARF */
		if (sh->sh_entsize != sizeof(Elf64_Rel) ||
		    sh->sh_size % sizeof(Elf64_Rel) || sh->sh_link != f->symtab)
			return bpf_errf(f->err, FTRAMP_BPF_E_SECTION,
					"section %s: damaged relocation table",
					sec_name(f, i));
		if (tgt == f->maps) {
			if (f->maps_rel)
				return bpf_errf(f->err, FTRAMP_BPF_E_SECTION,
						"section %s: relocated twice",
						sec_name(f, tgt));
			f->maps_rel = i;	/* after the programs */
			continue;
		}
		n = sh->sh_size / sizeof(Elf64_Rel);
		if (per_sec[tgt].n)
			return bpf_errf(f->err, FTRAMP_BPF_E_SECTION,
					"section %s: relocated twice",
					sec_name(f, tgt));
		if (n > (1u << 24))
			return bpf_errf(f->err, FTRAMP_BPF_E_SECTION,
					"section %s: %zu relocations",
					sec_name(f, i), n);
		{
			struct bpf_reloc *nr = realloc(obj->relocs,
				(obj->nr_relocs + n) * sizeof(*nr));

			if (!nr && n)
				return -ENOMEM;
			obj->relocs = nr;
		}
		per_sec[tgt].first = obj->nr_relocs;
		per_sec[tgt].n = n;
		for (size_t k = 0; k < n; k++) {
			Elf64_Rel r;
			int err;

			memcpy(&r, f->buf + sh->sh_offset + k * sizeof(r),
			       sizeof(r));
			err = resolve(f, tgt, &r, &obj->relocs[obj->nr_relocs]);
			if (err)
				return err;
			obj->nr_relocs++;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Programs
 */

static const struct {
	const char *prefix;
	int type;
	bool target;
} sec_kinds[] = {
	{ "fentry/",	 FTRAMP_BPF_PROG_FENTRY,	true },
	{ "fexit/",	 FTRAMP_BPF_PROG_FEXIT,		true },
	{ "fmod_ret/",	 FTRAMP_BPF_PROG_FMOD_RET,	true },
	{ "struct_ops/", FTRAMP_BPF_PROG_STRUCT_OPS,	false },
	{ "struct_ops",	 FTRAMP_BPF_PROG_STRUCT_OPS,	false },
};

static int sec_kind(const char *name, const char **target)
{
	for (size_t i = 0; i < ARRAY_SIZE(sec_kinds); i++) {
		size_t l = strlen(sec_kinds[i].prefix);

		if (strncmp(name, sec_kinds[i].prefix, l))
			continue;
		if (sec_kinds[i].target && !name[l])
			return -1;	/* "fentry/" names no function */
		if (!sec_kinds[i].target && name[l] && name[l - 1] != '/')
			continue;	/* "struct_opsX" */
		*target = sec_kinds[i].target ? name + l : "";
		return sec_kinds[i].type;
	}
	return -1;
}

/* Image position of section @sec's insn @idx in a program of section @own. */
static int64_t image_pos(const struct elf *f, size_t own, size_t sec, size_t idx)
{
	if (sec == own)
		return idx;
	if (sec == f->text)
		return f->sh[own].sh_size / INSN_SZ + idx;
	return -1;
}

static int apply_relocs(struct elf *f, struct ftramp_bpf_program *p,
			size_t own, size_t sec, size_t base,
			const struct sec_relocs *rs)
{
	for (size_t k = rs->first; k < rs->first + rs->n; k++) {
		const struct bpf_reloc *r = &f->obj->relocs[k];
		struct ftramp_bpf_insn *insn = &p->insns[base + r->insn];
		int64_t tgt;

		switch (r->kind) {
		case BPF_RELOC_MAP:
			insn[0].src_reg = BPF_PSEUDO_MAP_FD;
			insn[0].imm = r->map;
			insn[1].imm = 0;
			break;
		case BPF_RELOC_MAP_VALUE:
			insn[0].src_reg = BPF_PSEUDO_MAP_VALUE;
			insn[0].imm = r->map;
			insn[1].imm = r->off;
			break;
		case BPF_RELOC_CALL:
		case BPF_RELOC_FUNC:
			tgt = image_pos(f, own, r->map, r->off);
			if (tgt < 0)
				return bpf_errf(f->err, FTRAMP_BPF_E_CALL,
						"section %s, insn %u, symbol %s: "
						"target not in the program's "
						"image", r->sec, r->insn, r->sym);
			insn[0].imm = tgt - (int64_t)(base + r->insn) - 1;
			if (r->kind == BPF_RELOC_FUNC) {
				insn[0].src_reg = BPF_PSEUDO_FUNC;
				insn[1].imm = 0;
			}
			break;
		}
	}
	(void)sec;
	return 0;
}

/*
 * The names of the functions in p's image (FUNC symbols of its section
 * and of .text, global or static), for the JIT's symbols: gdb, perf and
 * ftramp prog --jited name subprograms by them.
 */
static int func_syms(struct elf *f, struct ftramp_bpf_program *p, size_t sec,
		     size_t own)
{
	for (size_t i = 1; i < f->nsyms; i++) {
		struct bpf_func_sym *v;
		size_t at;
		Elf64_Sym s;

		sym_get(f, i, &s);
		if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || s.st_value % INSN_SZ ||
		    (s.st_shndx != sec && (!f->text || s.st_shndx != f->text ||
					   f->text == sec)))
			continue;
		at = s.st_value / INSN_SZ + (s.st_shndx == sec ? 0 : own);
		if (at >= p->n)
			continue;
		v = realloc(p->funcs, (p->nr_funcs + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		p->funcs = v;
		v[p->nr_funcs].insn = (uint32_t)at;
		snprintf(v[p->nr_funcs].name, sizeof(v->name), "%s",
			 sym_name(f, &s));
		p->nr_funcs++;
	}
	return 0;
}

static int build_prog(struct elf *f, struct ftramp_bpf_program *p, size_t sec,
		      const Elf64_Sym *s, int type, const char *target,
		      const struct sec_relocs *per_sec)
{
	const Elf64_Shdr *sh = &f->sh[sec];
	size_t own = sh->sh_size / INSN_SZ;
	size_t text = f->text && f->text != sec ?
		      f->sh[f->text].sh_size / INSN_SZ : 0;
	int err;

	snprintf(p->name, sizeof(p->name), "%s", sym_name(f, s));
	p->sec = strdup(sec_name(f, sec));
	p->target = strdup(target);
	p->type = type;
	p->n = own + text;
	p->sec_n = own;
	p->entry = s->st_value / INSN_SZ;
	p->obj = f->obj;
	p->insns = calloc(p->n ? p->n : 1, INSN_SZ);
	if (!p->sec || !p->target || !p->insns)
		return -ENOMEM;
	memcpy(p->insns, f->buf + sh->sh_offset, own * INSN_SZ);
	if (text)
		memcpy(p->insns + own, f->buf + f->sh[f->text].sh_offset,
		       text * INSN_SZ);
	err = apply_relocs(f, p, sec, sec, 0, &per_sec[sec]);
	if (!err && text)
		err = apply_relocs(f, p, sec, f->text, own, &per_sec[f->text]);
	if (!err)
		err = func_syms(f, p, sec, own);
	return err;
}

static int read_progs(struct elf *f, const struct sec_relocs *per_sec)
{
	struct ftramp_bpf_object *obj = f->obj;

	for (size_t i = 1; i < f->nsyms; i++) {
		struct ftramp_bpf_program *np;
		const char *sname, *target = "";
		int type, err;
		Elf64_Sym s;

		sym_get(f, i, &s);
		if (ELF64_ST_TYPE(s.st_info) != STT_FUNC ||
		    ELF64_ST_BIND(s.st_info) != STB_GLOBAL ||
		    s.st_shndx == SHN_UNDEF || s.st_shndx >= f->shnum ||
		    s.st_shndx == f->text || !is_exec(&f->sh[s.st_shndx]))
			continue;
		sname = sec_name(f, s.st_shndx);
		type = sec_kind(sname, &target);
		if (type < 0)
			return bpf_errf(f->err, FTRAMP_BPF_E_SEC_NAME,
					"section %s, symbol %s: not fentry/F, "
					"fexit/F, fmod_ret/F or struct_ops/N",
					sname, sym_name(f, &s));
		if (s.st_value % INSN_SZ ||
		    s.st_value >= f->sh[s.st_shndx].sh_size)
			return bpf_errf(f->err, FTRAMP_BPF_E_SYMTAB,
					"section %s, symbol %s: offset %#llx "
					"outside the section", sname,
					sym_name(f, &s),
					(unsigned long long)s.st_value);
		np = realloc(obj->progs, (obj->nr_progs + 1) * sizeof(*np));
		if (!np)
			return -ENOMEM;
		obj->progs = np;
		memset(&np[obj->nr_progs], 0, sizeof(*np));
		err = build_prog(f, &np[obj->nr_progs++], s.st_shndx, &s, type,
				 target, per_sec);
		if (err)
			return err;
	}
	if (!obj->nr_progs)
		return bpf_errf(f->err, FTRAMP_BPF_E_NO_PROG,
				"no program: no global function in a "
				"fentry/, fexit/, fmod_ret/ or struct_ops "
				"section");
	return 0;
}

/* ------------------------------------------------------------------------
 * Declared prog array slots: .rel.maps, read once the programs exist
 */

/* The program symbol @s starts, or -1: a global function of its section. */
static int prog_of_sym(const struct elf *f, const Elf64_Sym *s)
{
	if (ELF64_ST_TYPE(s->st_info) != STT_FUNC ||
	    ELF64_ST_BIND(s->st_info) != STB_GLOBAL ||
	    s->st_shndx == SHN_UNDEF || s->st_shndx >= f->shnum ||
	    s->st_value % INSN_SZ)
		return -1;
	for (size_t i = 0; i < f->obj->nr_progs; i++) {
		const struct ftramp_bpf_program *p = &f->obj->progs[i];

		if (p->entry == s->st_value / INSN_SZ &&
		    !strcmp(p->sec, sec_name(f, s->st_shndx)) &&
		    !strcmp(p->name, sym_name(f, s)))
			return i;
	}
	return -1;
}

/*
 * One relocation of .maps: slot K of a prog array's values[] (at its
 * start + K * 8, libbpf's pointer size for BPF) holds the address of a
 * program of this object, as libbpf's bpf_object__collect_map_relos()
 * takes them; the index must be below max_entries (the kernel's update
 * would refuse it at load: here at open).
 */
static int map_slot(struct elf *f, const Elf64_Rel *r, struct bpf_slot_init *out)
{
	const Elf64_Shdr *ms = &f->sh[f->maps];
	size_t symi = ELF64_R_SYM(r->r_info);
	const struct map_values *v = NULL;
	const struct ftramp_bpf_map *m;
	const char *name;
	uint64_t key, addend;
	Elf64_Sym s;
	int prog;

	if (!symi || symi >= f->nsyms)
		return bpf_errf(f->err, FTRAMP_BPF_E_RELO_SYM,
				"section .maps, offset %#llx: relocation "
				"against symbol %zu of %zu",
				(unsigned long long)r->r_offset, symi, f->nsyms);
	sym_get(f, symi, &s);
	name = sym_name(f, &s);
	for (size_t i = 0; i < f->nr_vals && !v; i++)
		if (r->r_offset >= f->vals[i].lo && r->r_offset < f->vals[i].hi)
			v = &f->vals[i];
	if (!v || ms->sh_type != SHT_PROGBITS || r->r_offset > ms->sh_size ||
	    ms->sh_size - r->r_offset < 8 || r->r_offset + 8 > v->hi)
		return bpf_errf(f->err, FTRAMP_BPF_E_RELO_RANGE,
				"section .maps, offset %#llx, symbol %s: not "
				"in a map's values[] initialiser",
				(unsigned long long)r->r_offset, name);
	m = &f->obj->maps[v->map];
	if ((r->r_offset - v->lo) % 8)
		return bpf_errf(f->err, FTRAMP_BPF_E_RELO_RANGE,
				"map %s, values[] + %llu, symbol %s: not at a "
				"slot (8-byte pointers)", m->name,
				(unsigned long long)(r->r_offset - v->lo), name);
	key = (r->r_offset - v->lo) / 8;
	if (ELF64_R_TYPE(r->r_info) != R_BPF_64_ABS64)
		return bpf_errf(f->err, FTRAMP_BPF_E_RELO_TYPE,
				"map %s, slot %llu, symbol %s: relocation type "
				"%u, not R_BPF_64_ABS64", m->name,
				(unsigned long long)key, name,
				(unsigned int)ELF64_R_TYPE(r->r_info));
	if (key >= m->max_entries)
		return bpf_errf(f->err, FTRAMP_BPF_E_MAP_DEF,
				"map %s, slot %llu, symbol %s: beyond "
				"max_entries %u", m->name,
				(unsigned long long)key, name, m->max_entries);
	prog = prog_of_sym(f, &s);
	if (prog < 0)
		return bpf_errf(f->err, FTRAMP_BPF_E_RELO_SYM,
				"map %s, slot %llu, symbol %s: not a program "
				"of this object", m->name,
				(unsigned long long)key, name);
	/* REL: the addend is the slot's bytes; a program is its start */
	memcpy(&addend, f->buf + ms->sh_offset + r->r_offset, 8);
	if (addend)
		return bpf_errf(f->err, FTRAMP_BPF_E_RELO_SYM,
				"map %s, slot %llu, symbol %s: %#llx bytes "
				"into the program", m->name,
				(unsigned long long)key, name,
				(unsigned long long)addend);
	out->map = v->map;
	out->key = key;
	out->prog = prog;
	return 0;
}

static int slot_cmp(const void *a, const void *b)
{
	const struct bpf_slot_init *x = a, *y = b;

	if (x->map != y->map)
		return x->map < y->map ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

static int read_map_slots(struct elf *f)
{
	struct ftramp_bpf_object *obj = f->obj;
	const Elf64_Shdr *sh;
	size_t n;

	if (!f->maps_rel)
		return 0;
	sh = &f->sh[f->maps_rel];
	n = sh->sh_size / sizeof(Elf64_Rel);
	if (n > (1u << 24))
		return bpf_errf(f->err, FTRAMP_BPF_E_SECTION,
				"section %s: %zu relocations",
				sec_name(f, f->maps_rel), n);
	obj->slots = calloc(n ? n : 1, sizeof(*obj->slots));
	if (!obj->slots)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++) {
		Elf64_Rel r;
		int err;

		memcpy(&r, f->buf + sh->sh_offset + k * sizeof(r), sizeof(r));
		err = map_slot(f, &r, &obj->slots[obj->nr_slots]);
		if (err)
			return err;
		obj->nr_slots++;
	}
	qsort(obj->slots, obj->nr_slots, sizeof(*obj->slots), slot_cmp);
	for (size_t k = 1; k < obj->nr_slots; k++)
		if (!slot_cmp(&obj->slots[k - 1], &obj->slots[k]))
			return bpf_errf(f->err, FTRAMP_BPF_E_SECTION,
					"map %s, slot %u: initialised twice",
					obj->maps[obj->slots[k].map].name,
					obj->slots[k].key);
	return 0;
}

static void free_progs(struct ftramp_bpf_object *obj)
{
	for (size_t i = 0; i < obj->nr_progs; i++) {
		free(obj->progs[i].sec);
		free(obj->progs[i].target);
		free(obj->progs[i].insns);
		free(obj->progs[i].run);
		free(obj->progs[i].funcs);
		free(obj->progs[i].orig_idx);
	}
	free(obj->progs);
	obj->progs = NULL;
	obj->nr_progs = 0;
}

void bpf_object_free(struct ftramp_bpf_object *obj)
{
	free_progs(obj);
	free(obj->maps);
	free(obj->map_ptrs);
	free(obj->relocs);
	free(obj->slots);
	if (obj->btf)
		bpf_btf_free(obj->btf);
	free(obj->btf);
	free(obj->btf_data);
	free(obj->buf);
	obj->maps = NULL;
	obj->map_ptrs = NULL;
	obj->relocs = NULL;
	obj->slots = NULL;
	obj->nr_slots = 0;
	obj->btf = NULL;
	obj->btf_data = NULL;
	obj->buf = NULL;
	obj->nr_maps = obj->nr_relocs = 0;
}

int bpf_object_parse(struct ftramp_bpf_object *obj, const void *buf,
		     size_t size)
{
	struct sec_relocs *per_sec = NULL;
	struct elf f = { .obj = obj, .size = size, .err = obj->err };
	int err;

	obj->buf = malloc(size ? size : 1);
	if (!obj->buf)
		return -ENOMEM;
	memcpy(obj->buf, buf, size);
	obj->size = size;
	f.buf = obj->buf;

	err = read_headers(&f);
	if (!err)
		err = read_sections(&f);
	if (!err)
		err = fixup_datasecs(&f);
	if (!err)
		err = read_data_maps(&f);
	if (!err)
		err = read_btf_maps(&f);
	if (!err) {
		per_sec = calloc(f.shnum, sizeof(*per_sec));
		err = per_sec ? read_relocs(&f, per_sec) : -ENOMEM;
	}
	if (!err)
		err = read_progs(&f, per_sec);
	if (!err)
		err = read_map_slots(&f);
	if (!err) {
		obj->map_ptrs = calloc(obj->nr_maps ? obj->nr_maps : 1,
				       sizeof(*obj->map_ptrs));
		if (!obj->map_ptrs)
			err = -ENOMEM;
	}
	if (!err) {
		for (size_t i = 0; i < obj->nr_maps; i++)
			obj->map_ptrs[i] = &obj->maps[i];
		for (size_t i = 0; i < obj->nr_progs; i++) {
			obj->progs[i].maps = obj->map_ptrs;
			obj->progs[i].nr_maps = obj->nr_maps;
		}
	}
	free(per_sec);
	free(f.sh);
	free(f.map_of_sec);
	free(f.vals);
	if (err)
		bpf_object_free(obj);
	return err;
}
