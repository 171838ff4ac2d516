// SPDX-License-Identifier: MIT
/*
 * Function models from DWARF (libdw): the kernel gets them from BTF, we
 * read the object's debug info (or its separate debug file, found the way
 * debuggers do: build-id, .gnu_debuglink) so that users rarely write a
 * model by hand.
 *
 * Types map to the AAPCS64 classes of struct ftramp_type: integers,
 * enums, bools and pointers are INT (plain char pointers flagged STRING);
 * floats FLOAT; a struct, union or complex type whose flattened members
 * are 1-4 floating-point values of one type is an HFA (AAPCS64 5.9.5);
 * other composites STRUCT with their size and alignment.  Bit-fields,
 * vectors and empty composites have no model: -EOPNOTSUPP, and the
 * caller falls back to the unknown model.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/abi.h"
#include "ftrace/elf_sites.h"
#include "ftrace/ftrace.h"
#include "ftrace/sites.h"
#include "lib/opts.h"

#define TYPE_DEPTH_MAX	16

/* Follow typedefs and qualifiers to the type that has a layout. */
static int strip_type(Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Attribute a;
	Dwarf_Die cur = *die;

	for (int i = 0; i < TYPE_DEPTH_MAX; i++) {
		switch (dwarf_tag(&cur)) {
		case DW_TAG_typedef:
		case DW_TAG_const_type:
		case DW_TAG_volatile_type:
		case DW_TAG_restrict_type:
		case DW_TAG_atomic_type:
			if (!dwarf_attr_integrate(&cur, DW_AT_type, &a) ||
			    !dwarf_formref_die(&a, &cur))
				return -EOPNOTSUPP;	/* const void */
			break;
		default:
			*out = cur;
			return 0;
		}
	}
	return -EOPNOTSUPP;
}

static int type_of(Dwarf_Die *die, Dwarf_Die *type)
{
	Dwarf_Attribute a;

	if (!dwarf_attr_integrate(die, DW_AT_type, &a) ||
	    !dwarf_formref_die(&a, type))
		return -ENOENT;		/* void */
	return strip_type(type, type);
}

static int die_size(Dwarf_Die *die)
{
	Dwarf_Word sz;
	Dwarf_Attribute a;

	if (dwarf_attr_integrate(die, DW_AT_byte_size, &a) &&
	    !dwarf_formudata(&a, &sz))
		return (int)sz;
	return dwarf_bytesize(die);
}

/*
 * Flatten a composite for HFA detection: every leaf must be a float of
 * one size.  *elem: that size (0 so far), *n: leaves so far, *align:
 * the largest alignment seen.  Returns 0, -EDOM if not all floats of one
 * kind (still a valid STRUCT), -EOPNOTSUPP if it has no layout we take.
 */
static int flatten(Dwarf_Die *t, int depth, int *elem, int *n, int *align)
{
	Dwarf_Die child, mt;
	Dwarf_Attribute a;
	int err, hfa = 0;

	if (depth > TYPE_DEPTH_MAX)
		return -EOPNOTSUPP;
	switch (dwarf_tag(t)) {
	case DW_TAG_base_type: {
		Dwarf_Word enc = 0;
		int sz = die_size(t);

		if (dwarf_attr(t, DW_AT_encoding, &a))
			dwarf_formudata(&a, &enc);
		if (sz <= 0)
			return -EOPNOTSUPP;
		if (enc == DW_ATE_complex_float) {
			sz /= 2;
			if (*align < sz)
				*align = sz;
			if (*elem && *elem != sz)
				return -EDOM;
			*elem = sz;
			*n += 2;
			return 0;
		}
		if (*align < sz)
			*align = sz;
		if (enc != DW_ATE_float)
			return -EDOM;
		if (*elem && *elem != sz)
			return -EDOM;
		*elem = sz;
		*n += 1;
		return 0;
	}
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
	case DW_TAG_enumeration_type: {
		int sz = dwarf_tag(t) == DW_TAG_enumeration_type ?
			 die_size(t) : 8;

		if (*align < sz)
			*align = sz;
		return -EDOM;
	}
	case DW_TAG_array_type: {
		int esz, total = die_size(t), before = *n;

		if (type_of(t, &mt))
			return -EOPNOTSUPP;
		esz = die_size(&mt);
		err = flatten(&mt, depth + 1, elem, n, align);
		if (err)
			return err;
		if (esz <= 0 || total < 0)
			return -EOPNOTSUPP;
		/* Each element adds the same leaves again. */
		*n = before + (*n - before) * (total / esz);
		return 0;
	}
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
	case DW_TAG_class_type: {
		bool any = false, is_union = dwarf_tag(t) == DW_TAG_union_type;
		int un = 0, union_n = -1;

		if (dwarf_attr(t, DW_AT_GNU_vector, &a))
			return -EOPNOTSUPP;
		if (dwarf_child(t, &child) != 0)
			return -EOPNOTSUPP;	/* empty or incomplete */
		do {
			if (dwarf_tag(&child) != DW_TAG_member)
				continue;
			if (dwarf_hasattr(&child, DW_AT_bit_size) ||
			    dwarf_hasattr(&child, DW_AT_data_bit_offset))
				return -EOPNOTSUPP;
			if (type_of(&child, &mt))
				return -EOPNOTSUPP;
			any = true;
			un = 0;
			err = flatten(&mt, depth + 1, elem, is_union ? &un : n,
				      align);
			if (err == -EDOM)
				hfa = -EDOM;
			else if (err)
				return err;
			if (is_union) {
				/* Every member must be the same HFA shape. */
				if (union_n >= 0 && union_n != un)
					hfa = -EDOM;
				union_n = un;
			}
		} while (dwarf_siblingof(&child, &child) == 0);
		if (!any)
			return -EOPNOTSUPP;
		if (is_union && union_n > 0)
			*n += union_n;
		return hfa;
	}
	default:
		return -EOPNOTSUPP;
	}
}

/*
 * Plain char only: a char * is text, while unsigned char *, uint8_t *,
 * signed char * and int8_t * are bytes (buffers, digests), printed as
 * pointers (Documentation/cli.rst).  The base type's name tells them
 * apart: GCC and clang name plain char "char" whatever its signedness.
 */
static bool is_char(Dwarf_Die *t)
{
	const char *name;

	if (dwarf_tag(t) != DW_TAG_base_type || die_size(t) != 1)
		return false;
	name = dwarf_diename(t);
	return name && !strcmp(name, "char");
}

static int type_model(Dwarf_Die *die, struct ftramp_type *ft)
{
	Dwarf_Attribute a;
	Dwarf_Die t, pt;
	Dwarf_Word enc = 0;
	int err, sz;

	memset(ft, 0, sizeof(*ft));
	err = type_of(die, &t);
	if (err == -ENOENT) {
		ft->cls = FTRAMP_TYPE_VOID;
		return 0;
	}
	if (err)
		return err;
	sz = die_size(&t);
	switch (dwarf_tag(&t)) {
	case DW_TAG_base_type:
		if (dwarf_attr(&t, DW_AT_encoding, &a))
			dwarf_formudata(&a, &enc);
		if (sz <= 0)
			return -EOPNOTSUPP;
		switch (enc) {
		case DW_ATE_float:
			ft->cls = FTRAMP_TYPE_FLOAT;
			break;
		case DW_ATE_complex_float:
			/* AAPCS64: a complex is an HFA of its two parts. */
			ft->cls = FTRAMP_TYPE_HFA;
			ft->nmemb = 2;
			ft->elem_size = (uint8_t)(sz / 2);
			break;
		case DW_ATE_boolean:
			ft->cls = FTRAMP_TYPE_INT;
			ft->flags = FTRAMP_TYPE_BOOL;
			break;
		case DW_ATE_signed:
		case DW_ATE_signed_char:
			ft->cls = FTRAMP_TYPE_INT;
			ft->flags = FTRAMP_TYPE_SIGNED;
			break;
		case DW_ATE_unsigned:
		case DW_ATE_unsigned_char:
		case DW_ATE_UTF:
			ft->cls = FTRAMP_TYPE_INT;
			break;
		default:
			return -EOPNOTSUPP;
		}
		ft->size = (uint32_t)sz;
		return 0;
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
		ft->cls = FTRAMP_TYPE_INT;
		ft->size = 8;
		ft->flags = FTRAMP_TYPE_POINTER;
		if (!type_of(&t, &pt) && is_char(&pt))
			ft->flags |= FTRAMP_TYPE_STRING;
		return 0;
	case DW_TAG_enumeration_type:
		ft->cls = FTRAMP_TYPE_INT;
		ft->size = sz > 0 ? (uint32_t)sz : 4;
		if (!type_of(&t, &pt) && dwarf_tag(&pt) == DW_TAG_base_type &&
		    dwarf_attr(&pt, DW_AT_encoding, &a) &&
		    !dwarf_formudata(&a, &enc) &&
		    (enc == DW_ATE_signed || enc == DW_ATE_signed_char))
			ft->flags = FTRAMP_TYPE_SIGNED;
		return 0;
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
	case DW_TAG_class_type: {
		int elem = 0, n = 0, align = 1;
		Dwarf_Word al;

		if (sz <= 0)
			return -EOPNOTSUPP;
		err = flatten(&t, 0, &elem, &n, &align);
		if (err && err != -EDOM)
			return err;
		if (!err && n >= 1 && n <= 4 && elem * n == sz) {
			ft->cls = FTRAMP_TYPE_HFA;
			ft->nmemb = (uint8_t)n;
			ft->elem_size = (uint8_t)elem;
			ft->size = (uint32_t)sz;
			return 0;
		}
		if (dwarf_attr(&t, DW_AT_alignment, &a) &&
		    !dwarf_formudata(&a, &al))
			align = (int)al;
		ft->cls = FTRAMP_TYPE_STRUCT;
		ft->size = (uint32_t)sz;
		ft->align = (uint16_t)(align > 16 ? 16 : align);
		return 0;
	}
	default:
		return -EOPNOTSUPP;
	}
}

/*
 * Where a parameter's DWARF location says its value is when the function
 * is entered, compared with where AAPCS64 puts it.
 */
enum loc_verdict {
	LOC_UNCHECKED,	/* no location at entry, or not one register */
	LOC_MATCH,	/* the register AAPCS64 assigns */
	LOC_MISMATCH,	/* another register: the model is not the code's */
};

/* DWARF register numbers for AArch64 (DWARF for the Arm 64-bit arch, 4.1). */
#define DWARF_REG_X0	0
#define DWARF_REG_V0	64

static int op_reg(const Dwarf_Op *op, bool *deref)
{
	*deref = false;
	if (op->atom >= DW_OP_reg0 && op->atom <= DW_OP_reg31)
		return op->atom - DW_OP_reg0;
	if (op->atom == DW_OP_regx)
		return (int)op->number;
	/* [reg + 0]: a value passed by reference, seen through its pointer */
	if (op->atom >= DW_OP_breg0 && op->atom <= DW_OP_breg31 &&
	    op->number == 0) {
		*deref = true;
		return op->atom - DW_OP_breg0;
	}
	return -1;
}

/*
 * The location at the entry: GCC starts the subprogram (and its location
 * lists) after the patchable entry, clang at the symbol with the lists
 * after the NOPs.  Every pc from @entry to @func + 12 (the end of the
 * entry NOPs after a `bti c`) is before the body's first instruction,
 * so the arguments are where the caller put them: take the first one a
 * location covers.
 */
static int entry_location(Dwarf_Attribute *a, Dwarf_Addr entry,
			  Dwarf_Addr func, Dwarf_Op **expr, size_t *len)
{
	for (Dwarf_Addr pc = entry; pc <= func + 12 || pc == entry; pc += 4)
		if (dwarf_getlocation_addr(a, pc, expr, len, 1) == 1)
			return 0;
	return -ENOENT;
}

static enum loc_verdict check_loc(Dwarf_Die *param, Dwarf_Addr entry,
				  Dwarf_Addr func,
				  const struct a64_arg_loc *want)
{
	Dwarf_Attribute a;
	Dwarf_Op *expr;
	size_t len;
	bool deref;
	int reg;

	if (!dwarf_attr(param, DW_AT_location, &a) ||
	    entry_location(&a, entry, func, &expr, &len) || len != 1)
		return LOC_UNCHECKED;	/* optimised out, a piece list... */
	reg = op_reg(&expr[0], &deref);
	if (reg < 0)
		return LOC_UNCHECKED;	/* on the stack, a constant... */
	if (deref != want->byref)
		return deref ? LOC_UNCHECKED : LOC_MISMATCH;
	switch (want->kind) {
	case A64_LOC_GP:
		/* A one-register location of a two-register value cannot be. */
		if (want->nregs != 1 && !want->byref)
			return LOC_MISMATCH;
		return reg == DWARF_REG_X0 + want->reg ? LOC_MATCH :
							 LOC_MISMATCH;
	case A64_LOC_FP:
		if (want->nregs != 1)
			return LOC_MISMATCH;
		return reg == DWARF_REG_V0 + want->reg ? LOC_MATCH :
							 LOC_MISMATCH;
	default:
		/* On the stack by AAPCS64, in a register by DWARF. */
		return LOC_MISMATCH;
	}
}

/*
 * Read the model of the subprogram @fn, a concrete DIE whose code starts
 * at @entry, for the function symbol at @func.
 *
 * The parameter list and types come from its declaration: the abstract
 * origin when @fn is an out-of-line instance of an inline function or a
 * clone (its own children may leave out parameters it does not use), @fn
 * itself otherwise.  Then @fn's own parameters are checked at the entry
 * pc against the AAPCS64 placement of that model:
 *
 * - any parameter in another register than AAPCS64's: -EPROTO, the DWARF
 *   does not describe this code (never guess);
 * - a clone (@strict: a compiler-made variant, or DW_CC_nocall) keeps
 *   only the calling convention DWARF proves: every parameter of the
 *   declaration must be present and in its own register.  Some clones
 *   cannot be proven at all (@unprovable): IPA-SRA (.isra) may also drop
 *   a result nobody reads, and a split-off part (.part) may take values
 *   the inlined head computed as extra arguments; DWARF records neither.
 */
static int func_model(Dwarf_Die *fn, Dwarf_Addr entry, Dwarf_Addr func,
		      bool strict,
		      bool unprovable, struct ftramp_func_model *m,
		      char (*names)[FTRAMP_PARAM_NAME_MAX])
{
	Dwarf_Off origin_off[FTRAMP_MAX_ARGS];
	uint8_t verdict[FTRAMP_MAX_ARGS] = { 0 };
	struct a64_abi_layout lay;
	Dwarf_Die decl = *fn, child;
	Dwarf_Attribute a;
	Dwarf_Word cc;
	unsigned int i, next = 0;
	int err;

	memset(m, 0, sizeof(*m));
	if (dwarf_attr_integrate(fn, DW_AT_calling_convention, &a) &&
	    !dwarf_formudata(&a, &cc) && cc == DW_CC_nocall)
		strict = true;
	if (strict && unprovable)
		return -EPROTO;
	for (int depth = 0; depth < TYPE_DEPTH_MAX &&
	     dwarf_attr(&decl, DW_AT_abstract_origin, &a); depth++)
		if (!dwarf_formref_die(&a, &decl))
			return -EOPNOTSUPP;

	err = type_model(fn, &m->ret);
	if (err)
		return err;
	if (dwarf_child(&decl, &child) == 0) {
		do {
			int tag = dwarf_tag(&child);
			const char *name;

			if (tag == DW_TAG_unspecified_parameters) {
				m->flags |= FTRAMP_MODEL_VARIADIC;
				continue;
			}
			if (tag != DW_TAG_formal_parameter)
				continue;
			if (m->nr_args >= FTRAMP_MAX_ARGS)
				return -E2BIG;
			err = type_model(&child, &m->args[m->nr_args]);
			if (err)
				return err;
			if (m->args[m->nr_args].cls == FTRAMP_TYPE_VOID)
				return -EOPNOTSUPP;
			origin_off[m->nr_args] = dwarf_dieoffset(&child);
			if (names) {
				name = dwarf_formstring(dwarf_attr_integrate(
						&child, DW_AT_name, &a));
				snprintf(names[m->nr_args],
					 FTRAMP_PARAM_NAME_MAX, "%s",
					 name ? name : "");
			}
			m->nr_args++;
		} while (dwarf_siblingof(&child, &child) == 0);
	}
	if (m->flags & FTRAMP_MODEL_VARIADIC)
		return strict ? -EPROTO : 0;
	err = a64_abi_layout(m, &lay);
	if (err)
		return err;

	/* The concrete parameters, matched to the declaration's. */
	if (dwarf_child(fn, &child) == 0) {
		do {
			Dwarf_Die o;

			if (dwarf_tag(&child) != DW_TAG_formal_parameter)
				continue;
			if (dwarf_attr(&child, DW_AT_abstract_origin, &a)) {
				if (!dwarf_formref_die(&a, &o))
					return -EPROTO;
				for (i = 0; i < m->nr_args; i++)
					if (origin_off[i] == dwarf_dieoffset(&o))
						break;
			} else {
				i = next;
			}
			if (i >= m->nr_args)
				return -EPROTO;	/* a parameter the decl lacks */
			next = i + 1;
			verdict[i] = check_loc(&child, entry, func,
					       &lay.args[i]);
			if (verdict[i] == LOC_MISMATCH)
				return -EPROTO;
		} while (dwarf_siblingof(&child, &child) == 0);
	}
	if (strict)
		for (i = 0; i < m->nr_args; i++)
			if (verdict[i] != LOC_MATCH)
				return -EPROTO;
	return 0;
}

struct find_ctx {
	Dwarf_Addr addr;
	Dwarf_Addr entry;	/* where the subprogram's code starts */
	Dwarf_Die die;
	bool found;
};

static int find_cb(Dwarf_Die *die, void *arg)
{
	struct find_ctx *f = arg;
	Dwarf_Addr lo, base, start, end;
	ptrdiff_t off = 0;

	/*
	 * GCC starts the subprogram's range after the patchable entry
	 * (func + 8, or + 12 after a `bti c`), not at the symbol.  A function
	 * split into hot and cold parts has DW_AT_ranges, its entry in one.
	 */
	if (dwarf_lowpc(die, &lo) == 0) {
		if (lo >= f->addr && lo <= f->addr + 12)
			goto found;
		return DWARF_CB_OK;
	}
	while ((off = dwarf_ranges(die, off, &base, &start, &end)) > 0) {
		if (start >= f->addr && start <= f->addr + 12) {
			lo = start;
			goto found;
		}
	}
	return DWARF_CB_OK;
found:
	f->die = *die;
	f->entry = lo;
	f->found = true;
	return DWARF_CB_ABORT;
}

static const Dwfl_Callbacks dwfl_cbs = {
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

/* The object's debug info (or its separate debug file): NULL if none. */
static Dwarf *open_dwarf(const char *object, Dwfl **dwfl)
{
	Dwfl_Module *mod;
	Dwarf_Addr bias = 0;

	*dwfl = dwfl_begin(&dwfl_cbs);
	if (!*dwfl)
		return NULL;
	mod = dwfl_report_offline(*dwfl, "", object, -1);
	dwfl_report_end(*dwfl, NULL, NULL);
	return mod ? dwfl_module_getdwarf(mod, &bias) : NULL;
}

/* The model of the subprogram found for the symbol @symbol at @file_addr. */
static int model_of(Dwarf_Die *die, Dwarf_Addr entry, uint64_t file_addr,
		    const char *symbol, struct ftramp_func_model *m,
		    char (*names)[FTRAMP_PARAM_NAME_MAX])
{
	bool clone = symbol && elf_sym_is_clone(symbol);
	int err;

	err = func_model(die, entry, file_addr, clone,
			 clone && (strstr(symbol, ".isra") ||
				   strstr(symbol, ".part")), m, names);
	if (!err && !(m->flags & FTRAMP_MODEL_VARIADIC))
		err = ftramp_model__validate(m);
	return err;
}

/*
 * One function: only the compile units that hold it are walked, which
 * suits a single question; for many functions of one object, open it
 * once (ftrace_dwarf_open() below).
 */
int ftrace_dwarf_model(const char *object, uint64_t file_addr,
		       const char *symbol, struct ftramp_func_model *m,
		       char (*names)[FTRAMP_PARAM_NAME_MAX])
{
	struct find_ctx f = { .addr = file_addr };
	Dwarf_Die cudie;
	size_t hsize;
	Dwarf *dw;
	Dwfl *dwfl;
	int err = -ENODATA;

	if (!object || !*object)
		return -ENODATA;
	dw = open_dwarf(object, &dwfl);
	if (!dwfl)
		return -ENOMEM;
	if (!dw)
		goto out;
	/* DIE addresses are file addresses: no bias in this comparison. */
	if (dwarf_addrdie(dw, file_addr + 12, &cudie))
		dwarf_getfuncs(&cudie, find_cb, &f, 0);
	for (Dwarf_Off off = 0, next; !f.found &&
	     !dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL);
	     off = next) {
		if (dwarf_offdie(dw, off + hsize, &cudie) &&
		    (dwarf_haspc(&cudie, file_addr) > 0 ||
		     dwarf_haspc(&cudie, file_addr + 12) > 0))
			dwarf_getfuncs(&cudie, find_cb, &f, 0);
	}
	if (f.found)
		err = model_of(&f.die, f.entry, file_addr, symbol, m, names);
out:
	dwfl_end(dwfl);
	return err;
}

/* ------------------------------------------------------------------
 * One object, many functions (the ftramp process's table): the debug
 * info is opened once and its subprograms indexed by entry address in
 * one walk, so that each model costs a binary search and its own DIEs,
 * not a re-read of the object (opening it per function made the table
 * of a 1,000-function program cost a re-read per function).  The
 * caller holds the handle as long as it asks, and closes it: nothing
 * is kept behind its back (a library's file stays mapped no longer).
 * ------------------------------------------------------------------ */

struct dw_fn {
	Dwarf_Addr lo;		/* where the subprogram's code starts */
	Dwarf_Off off;		/* its DIE */
};

struct ftrace_dwarf {
	Dwfl *dwfl;
	Dwarf *dw;
	struct dw_fn *fn;	/* sorted by lo */
	size_t nr, cap;
	int err;		/* sticky: the index is incomplete */
};

static void fn_add(struct ftrace_dwarf *d, Dwarf_Addr lo, Dwarf_Off off)
{
	if (d->nr == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 256;
		struct dw_fn *v = realloc(d->fn, cap * sizeof(*v));

		if (!v) {
			d->err = -ENOMEM;
			return;
		}
		d->fn = v;
		d->cap = cap;
	}
	d->fn[d->nr++] = (struct dw_fn){ lo, off };
}

/*
 * Every subprogram with code: its low PC, or each range start of one
 * split into hot and cold parts (the entry is in one of them), as
 * find_cb() takes them.
 */
static int index_cb(Dwarf_Die *die, void *arg)
{
	struct ftrace_dwarf *d = arg;
	Dwarf_Addr lo, base, start, end;
	Dwarf_Off off = dwarf_dieoffset(die);
	ptrdiff_t r = 0;

	if (dwarf_lowpc(die, &lo) == 0)
		fn_add(d, lo, off);
	else
		while ((r = dwarf_ranges(die, r, &base, &start, &end)) > 0)
			fn_add(d, start, off);
	return d->err ? DWARF_CB_ABORT : DWARF_CB_OK;
}

static int fn_cmp(const void *a, const void *b)
{
	const struct dw_fn *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

void ftrace_dwarf_close(struct ftrace_dwarf *d)
{
	if (!d)
		return;
	if (d->dwfl)
		dwfl_end(d->dwfl);
	free(d->fn);
	free(d);
}

int ftrace_dwarf_open(const char *object, struct ftrace_dwarf **out)
{
	struct ftrace_dwarf *d;
	Dwarf_Die cudie;
	size_t hsize;

	*out = NULL;
	if (!object || !*object)
		return -ENODATA;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->dw = open_dwarf(object, &d->dwfl);
	if (!d->dwfl) {
		free(d);
		return -ENOMEM;
	}
	if (!d->dw) {
		ftrace_dwarf_close(d);
		return -ENODATA;
	}
	for (Dwarf_Off off = 0, next; !d->err &&
	     !dwarf_nextcu(d->dw, off, &next, &hsize, NULL, NULL, NULL);
	     off = next)
		if (dwarf_offdie(d->dw, off + hsize, &cudie))
			dwarf_getfuncs(&cudie, index_cb, d, 0);
	if (d->err) {
		int err = d->err;

		ftrace_dwarf_close(d);
		return err;
	}
	qsort(d->fn, d->nr, sizeof(d->fn[0]), fn_cmp);
	*out = d;
	return 0;
}

/*
 * The subprogram whose code starts at @file_addr or up to 12 bytes
 * after (find_cb()'s rule), the first in DIE order among equals.
 */
int ftrace_dwarf_lookup(struct ftrace_dwarf *d, uint64_t file_addr,
			const char *symbol, struct ftramp_func_model *m,
			char (*names)[FTRAMP_PARAM_NAME_MAX])
{
	size_t lo = 0, hi = d->nr;
	Dwarf_Die die;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->fn[mid].lo < file_addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == d->nr || d->fn[lo].lo > file_addr + 12 ||
	    !dwarf_offdie(d->dw, d->fn[lo].off, &die))
		return -ENODATA;
	return model_of(&die, d->fn[lo].lo, file_addr, symbol, m, names);
}

#ifndef FTRAMP_CLI_HOST	/* `ftramp list --models` reads files only */
FTRAMP_API int ftramp_model__from_dwarf(const char *func,
					struct ftramp_func_model *m,
					const struct ftramp_dwarf_opts *opts)
{
	struct ftramp_dwarf_opts o;
	const struct ftramp_site *s;
	struct ftramp_sites *t;

	if (FTRAMP_OPTS_IN(o, opts) || !m || (!func == !o.addr))
		return -EINVAL;
	t = ftramp_sites__get();
	if (!t)
		return errno ? -errno : -ENOMEM;
	s = func ? ftramp_sites__find_name(t, func) :
		   ftramp_sites__find_addr(t, o.addr);
	if (!s)
		return -ENOENT;
	return ftrace_dwarf_model(s->obj->path, s->func - s->obj->bias,
				  s->elf ? s->elf->symbol : NULL, m,
				  o.param_names);
}
#endif /* FTRAMP_CLI_HOST */
