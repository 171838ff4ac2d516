/* SPDX-License-Identifier: MIT */
/*
 * The bpf/ layer's shared definitions: objects, programs, maps as the
 * loader (object.c), the maps (map.c), the interpreter (interp.c), the
 * helpers (helpers.c) and the program API (prog.c) see them.
 *
 * One representation of a program's instructions from open to run:
 * <linux/bpf.h>'s, with map references as the kernel takes them from
 * libbpf (ld_imm64 with src_reg BPF_PSEUDO_MAP_FD: imm = map index;
 * BPF_PSEUDO_MAP_VALUE: imm = map index, next imm = offset), calls to
 * subprograms as BPF_PSEUDO_CALL with a relative imm, callback addresses
 * as BPF_PSEUDO_FUNC.  The loader writes that form from relocations, a
 * raw program arrives in it; load (prog.c, fixup.c) turns it into the
 * run form, where each such ld_imm64 holds an address (src_reg 0) and
 * the helpers that are loads are inlined.
 */
#ifndef FTRAMP_BPF_BPF_H
#define FTRAMP_BPF_BPF_H

#include <linux/bpf.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ftramp/ftramp.h>

/* cpu v4 (RFC 9669) encodings that <linux/bpf.h> of Debian 12 lacks. */
#ifndef BPF_MEMSX
#define BPF_MEMSX	0x80	/* ldsx: sign-extending load */
#endif
/*
 * Static branches (ftramp.h, "Static branches"; sbranch.c): may_goto's
 * encoding (Linux 6.9) and the src_reg flags of the kernel's
 * static-branch proposal for BPF_JA.  BPF_MAY_GOTO and the map type are
 * enumerators in newer headers: macros after the include are harmless.
 */
#ifndef BPF_JCOND
#define BPF_JCOND	FTRAMP_BPF_JCOND
#endif
#define BPF_MAY_GOTO		0
#define BPF_STATIC_BRANCH_JA	FTRAMP_BPF_STATIC_BRANCH_JA
#define BPF_STATIC_BRANCH_NOP	FTRAMP_BPF_STATIC_BRANCH_NOP
#define BPF_MAP_TYPE_INSN_ARRAY	FTRAMP_BPF_MAP_TYPE_INSN_ARRAY

/* A static branch: ja with the static flag, or jcond (may_goto). */
static inline bool bpf_is_static_branch(const struct ftramp_bpf_insn *in)
{
	return ((in->code == (BPF_JMP | BPF_JA) ||
		 in->code == (BPF_JMP32 | BPF_JA)) &&
		(in->src_reg & BPF_STATIC_BRANCH_JA)) ||
	       in->code == (BPF_JMP | BPF_JCOND);
}

/* Its state as loaded: a plain static ja jumps, the others are nops. */
static inline bool bpf_static_branch_initially_on(const struct ftramp_bpf_insn *in)
{
	return BPF_OP(in->code) == BPF_JA &&
	       !(in->src_reg & BPF_STATIC_BRANCH_NOP);
}

#define BPF_MAX_STACK		512	/* bytes per frame (MAX_BPF_STACK) */
#define BPF_MAX_CALL_DEPTH	8	/* frames (MAX_CALL_FRAMES) */
#define BPF_MAX_TAIL_CALLS	33	/* MAX_TAIL_CALL_CNT */
#define BPF_MAX_LOOPS		(1u << 23)	/* bpf_loop()'s nr_loops */
#define BPF_NAME_MAX		64

/* Where a map comes from. */
enum bpf_map_origin {
	BPF_MAP_USER,		/* a BTF definition in .maps, or __create() */
	BPF_MAP_DATA,		/* .data* */
	BPF_MAP_BSS,		/* .bss* */
	BPF_MAP_RODATA,		/* .rodata* */
};

struct bpf_map_impl;
struct bpf_btf;
struct bpf_jit_tail_array;
struct bpf_tail_state;
struct bpf_tail_poke;

struct ftramp_bpf_map {
	char name[BPF_NAME_MAX];
	uint32_t type, key_size, value_size, max_entries, map_flags;
	int origin;		/* enum bpf_map_origin */
	/* BTF type ids of key and value (0: none), for typed dumps */
	const struct bpf_btf *btf;
	uint32_t btf_key, btf_value;
	/* global data: the section's bytes (NULL for .bss) */
	const void *init;
	size_t init_size;
	int shndx;		/* the section (data) or .maps */
	uint64_t sym_off;	/* offset of the definition in .maps */
	struct bpf_map_impl *impl;	/* NULL until created (map.c) */
	/* PROG_ARRAY (tail.c): what the JIT's indirect tail call reads */
	struct bpf_jit_tail_array *tail;
	struct bpf_tail_state *ts;
};

/* One relocation the loader applied, for `ftramp prog` and messages. */
enum bpf_reloc_kind {
	BPF_RELOC_MAP,		/* ld_imm64 -> BPF_PSEUDO_MAP_FD */
	BPF_RELOC_MAP_VALUE,	/* ld_imm64 -> BPF_PSEUDO_MAP_VALUE + off */
	BPF_RELOC_CALL,		/* call -> BPF_PSEUDO_CALL */
	BPF_RELOC_FUNC,		/* ld_imm64 -> BPF_PSEUDO_FUNC (callback) */
};

struct bpf_reloc {
	char sec[BPF_NAME_MAX];	/* the section the relocated insn is in */
	char sym[BPF_NAME_MAX];
	uint32_t insn;		/* index in that section */
	uint8_t kind;		/* enum bpf_reloc_kind */
	uint32_t map;		/* map index (MAP, MAP_VALUE) */
	uint32_t off;		/* MAP_VALUE: offset; CALL/FUNC: target */
};

/*
 * A PROG_ARRAY slot the object declares (libbpf's `.values = { [K] =
 * (void *)&prog }`): from .rel.maps at open, filled at load (tail.c).
 */
struct bpf_slot_init {
	uint32_t map;		/* in obj->maps */
	uint32_t key;
	uint32_t prog;		/* in obj->progs */
};

struct bpf_stub;
struct bpf_jit_image;
struct bpf_jit_debug;

/* A function's symbol in a program's image (object programs only). */
struct bpf_func_sym {
	uint32_t insn;
	char name[BPF_NAME_MAX];
};

/* One static branch site of a loaded program (sbranch.c). */
struct bpf_sbranch {
	uint32_t insn;		/* in the run form (patch.c remaps these) */
	uint32_t orig;		/* as written: the key that names it */
	uint32_t target;	/* run index of the jump target */
	uint32_t group;		/* orig of its group's first site: the key */
	bool on;		/* jumps (under the update lock) */
};

struct ftramp_bpf_program {
	char name[BPF_NAME_MAX];
	char *sec;		/* section name */
	char *target;		/* attach target ("" none) */
	int type;		/* enum ftramp_bpf_prog_type */
	/*
	 * The image: the program's whole section, then (when the object has
	 * one) .text with the subprograms, so that calls inside a section
	 * keep their offsets.  insn indices are these (orig_idx): a
	 * message's "insn N" is the section's N.
	 */
	struct ftramp_bpf_insn *insns;
	size_t n;
	size_t entry;		/* first instruction of the program */
	size_t sec_n;		/* instructions of its own section */
	struct bpf_func_sym *funcs;	/* FUNC symbols in the image */
	size_t nr_funcs;
	struct ftramp_bpf_object *obj;	/* NULL for a raw program */
	/* maps that BPF_PSEUDO_MAP_* imm index (the object's, or opts') */
	struct ftramp_bpf_map **maps;
	size_t nr_maps;
	/* after load */
	uint32_t ctx_slots;		/* verifier: ctx[0..ctx_slots-1] read */
	uint32_t data_need;		/* verifier: raw data bytes touched */
	/*
	 * The run form both engines execute (bpf/fixup.c): helpers
	 * inlined, map references as addresses; run_n instructions, the
	 * program's entry at run_entry, and orig_idx[k] the index in insns
	 * of the instruction run[k] came from (what messages, `ftramp prog`
	 * and the JIT's address map name).
	 */
	struct ftramp_bpf_insn *run;
	size_t run_n, run_entry;
	uint32_t *orig_idx;
	bool loaded;
	int engine;			/* enum ftramp_bpf_engine, asked */
	struct bpf_jit_image *jit;	/* JIT'd: the engine it runs in */
	struct bpf_jit_debug *jit_debug;	/* its registrations */
	/* static branches, by insn; the interpreter's flag per run insn */
	struct bpf_sbranch *sb;
	size_t nr_sb;
	uint8_t *sb_on;
	struct bpf_stub *stub;		/* the native ftramp_prog_t */
	ftramp_prog_t handler;
	struct ftramp_bpf_link *link;	/* object attach */
	/* tail calls (tail.c, under its lock) */
	struct bpf_tail_poke *pokes;	/* direct slots of the JIT image */
	size_t nr_pokes;
	uint32_t tail_refs;	/* array slots holding it, reclaims pending */
	bool orphan;		/* its owner freed it: gone at tail_refs 0 */
	/* JIT, tail frame: threads in a helper it called, for reclaim */
	uint64_t helper_inflight;
};

struct ftramp_bpf_object {
	char name[BPF_NAME_MAX];
	char license[128];
	uint32_t kversion;
	struct ftramp_bpf_program *progs;
	size_t nr_progs;
	struct ftramp_bpf_map *maps;
	struct ftramp_bpf_map **map_ptrs;	/* progs' maps[] */
	size_t nr_maps;
	struct bpf_reloc *relocs;
	size_t nr_relocs;
	struct bpf_slot_init *slots;	/* by map, then key */
	size_t nr_slots;
	/* a copy of the file: map inits and BTF point into it */
	uint8_t *buf;
	size_t size;
	struct bpf_btf *btf;	/* NULL when the object has no .BTF */
	void *btf_data;		/* its aligned copy */
	struct ftramp_bpf_error *err;	/* the open opts' (may be NULL) */
	int engine;		/* the open opts': each program's at load */
	bool loaded, attached;
};

/* Set e (if any) and return -EINVAL: every refusal goes through here. */
int bpf_errf(struct ftramp_bpf_error *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* object.c: parse (pure: no map is created, nothing runs). */
int bpf_object_parse(struct ftramp_bpf_object *obj, const void *buf,
		     size_t size);
void bpf_object_free(struct ftramp_bpf_object *obj);
/* Map type names ("hash"), NULL for an unknown type. */
const char *bpf_map_type_str(uint32_t type);
/*
 * The kernel's rules for a map's sizes and flags, per type: 0, or
 * FTRAMP_BPF_E_MAP_TYPE (unknown or unsupported type) or
 * FTRAMP_BPF_E_MAP_DEF with *why saying what is wrong.
 */
int bpf_map_check(const struct ftramp_bpf_map *map, const char **why);

/*
 * check.c: structural checks of a program before it may run (pure);
 * then verifier.c (verifier.h) proves it safe.
 */
int bpf_check(const struct ftramp_bpf_program *prog,
	      struct ftramp_bpf_error *e);
/* helpers.c: the helper numbers this runtime implements. */
bool bpf_helper_known(int32_t id);
const char *bpf_helper_name(int32_t id);
/*
 * disasm.c: instruction @in as the kernel's verifier log prints it
 * ("(79) r1 = *(u64 *)(r1 +8)"); @left instructions from @in on (an
 * ld_imm64 reads two).  Returns snprintf()'s count.
 */
int bpf_insn_str(const struct bpf_insn *in, size_t left, char *buf,
		 size_t size);
/*
 * The symbol of the function of @p's JIT image that starts at run
 * instruction @insn, named by orig_idx (the kernel's
 * bpf_prog_<tag>_<name>, the program for the tag): "bpf_prog_<prog>" at
 * the entry, else
 * "bpf_prog_<prog>.<f>", f its FUNC symbol (another program of the
 * section, a .text subprogram) or its index.
 */
void bpf_jit_sym_name(const struct ftramp_bpf_program *p, size_t insn,
		      char *buf, size_t size);

/* map.c */
/*
 * Where maps get their memory, when not from malloc() and memfd: the
 * ftramp agent puts them in the session file so that the ftramp
 * process reads them, whatever becomes of the program.  alloc returns
 * zeroed memory that is never freed (NULL: none left); ring maps @size
 * data bytes with lib/ringbuf's layout (data mapped twice) and returns
 * its base, or NULL.  Set before any map is created.
 */
struct bpf_map_mem_ops {
	void *(*alloc)(size_t size, void *ctx);
	void *(*ring)(size_t size, size_t page, void *ctx);
	void *ctx;
};
void bpf_map_set_mem(const struct bpf_map_mem_ops *ops);
/*
 * A map's memory as a reader in another process sees it (ftramp run
 * --maps): arrays are nr values of stride bytes (PERCPU_ARRAY: cpu
 * major, max_entries per cpu); hashes are nr elements of stride bytes,
 * each live when its byte at live_off is 1, with the key at key_off and
 * the value at val_off; a ring buffer is ring_base, ring_size data
 * bytes, ring_page.  0, or -EINVAL for a map without one.
 */
struct bpf_map_layout {
	void *data;
	uint32_t stride, nr;
	uint32_t live_off, key_off, val_off;
	uint32_t nr_cpus;
	void *ring_base;
	size_t ring_size, ring_page;
};
int bpf_map_layout(const struct ftramp_bpf_map *map,
		   struct bpf_map_layout *l);
int bpf_map_init(struct ftramp_bpf_map *map);
void bpf_map_fini(struct ftramp_bpf_map *map);
/* The program-side calls (helpers): pointers into the map. */
void *bpf_map_lookup(struct ftramp_bpf_map *map, const void *key);
long bpf_map_update(struct ftramp_bpf_map *map, const void *key,
		    const void *value, uint64_t flags);
long bpf_map_delete(struct ftramp_bpf_map *map, const void *key);
/*
 * Where a run form's map references point (bpf/fixup.c): the map itself,
 * as the helpers take it, and an ARRAY's value area (max_entries values
 * of bpf_map_value_stride() bytes; 0 when it has none).  The process's
 * own maps are bpf_map_addrs_live (map.c); `ftramp prog --jited` lists
 * against placeholder addresses on the host.
 */
struct bpf_map_addrs {
	uint64_t (*map)(const struct ftramp_bpf_map *m, void *cookie);
	uint64_t (*values)(const struct ftramp_bpf_map *m, void *cookie);
	void *cookie;
};
extern const struct bpf_map_addrs bpf_map_addrs_live;

/* The distance between two values of an array, two elements' values. */
static inline uint32_t bpf_map_value_stride(const struct ftramp_bpf_map *m)
{
	return (m->value_size + 7u) & ~7u;
}
void *bpf_ringbuf_reserve(struct ftramp_bpf_map *map, uint64_t size,
			  uint64_t flags);
void bpf_ringbuf_commit(void *sample, uint64_t flags, bool discard);
long bpf_ringbuf_output(struct ftramp_bpf_map *map, const void *data,
			uint64_t size, uint64_t flags);
/*
 * tail.c: PROG_ARRAY maps and tail calls (the rules are there).
 * bpf_prog_array_get() is the interpreter's read of a slot.
 */
struct bpf_tail_key {			/* the verifier's, per call insn */
	const struct ftramp_bpf_map *map;	/* NULL: maps differ */
	int64_t key;			/* BPF_TAIL_KEY_* or the constant */
};
#define BPF_TAIL_KEY_UNSEEN	(-1)	/* not a tail call, or not reached */
#define BPF_TAIL_KEY_VAR	(-2)	/* not one known constant */

struct bpf_tail_poke {
	struct ftramp_bpf_map *map;	/* NULL once the map is gone */
	uint32_t key;
	uint32_t word;			/* the slot, in the program's image */
};

int bpf_tail_map_init(struct ftramp_bpf_map *map);
void bpf_tail_map_fini(struct ftramp_bpf_map *map);
struct ftramp_bpf_program *bpf_prog_array_get(struct ftramp_bpf_map *map,
					      uint32_t index);
/* Load: the prog arrays @p names must take programs like it (owner). */
int bpf_tail_check_owner(struct ftramp_bpf_program *p,
			 struct ftramp_bpf_error *e);
/* After the JIT: follow the map entries @p's direct slots name. */
int bpf_tail_track(struct ftramp_bpf_program *p);
/* Before @p's image goes: its direct slots stop following their maps. */
void bpf_tail_untrack(struct ftramp_bpf_program *p);
/*
 * A program's owner lets go of it: true, free it now; false, a slot or a
 * reclamation still holds it, and bpf_prog_destroy() frees it later.
 */
bool bpf_tail_release(struct ftramp_bpf_program *p);
void bpf_prog_destroy(struct ftramp_bpf_program *p);	/* prog.c */
/*
 * Object load, once every program is loaded: fill the slots the object
 * declares, as ftramp_bpf_map__set_prog() does.  0, or the first
 * refusal with e naming the map, the slot and the program.
 */
int bpf_tail_init_slots(struct ftramp_bpf_object *obj,
			struct ftramp_bpf_error *e);
/* delete_elem on a PROG_ARRAY. */
int bpf_prog_array_delete(struct ftramp_bpf_map *map, uint32_t key);
/* The interpreter counts its runs between a slot read and the end. */
extern uint64_t bpf_interp_tail_inflight;
int bpf_cpu(void);

/* interp.c: run from the program's entry, R1 and R2 as given. */
#ifdef BPF_INTERP_CHECKED
/* The fuzzers' interpreter: the stack ranges live at an access. */
struct bpf_interp_stacks {
	uintptr_t lo[BPF_MAX_CALL_DEPTH + 1], hi[BPF_MAX_CALL_DEPTH + 1];
	int n;
};
/* Called before each access of @size (BPF_B..BPF_DW) bytes at @a. */
void bpf_interp_checked(uintptr_t a, int size, bool write,
			const struct bpf_interp_stacks *s);
#endif
uint64_t bpf_interp_run(const struct ftramp_bpf_program *prog, uint64_t r1,
			uint64_t r2);

/*
 * helpers.c: call helper @id (known: checked at load) with r[1..5] for
 * @prog (whose maps are the only ones a map argument may name).  bpf_loop
 * and bpf_tail_call are the interpreter's own (interp.c).
 */
uint64_t bpf_helper_call(const struct ftramp_bpf_program *prog, int32_t id,
			 const uint64_t *r);
/*
 * The helper's native entry, in the BPF calling convention (R1-R5 the
 * first five arguments; the program the sixth, used where *takes_prog),
 * which the JIT calls directly; NULL for bpf_loop and bpf_tail_call,
 * which are each engine's own.
 */
typedef uint64_t (*bpf_helper_native_fn)(uint64_t r1, uint64_t r2,
					 uint64_t r3, uint64_t r4, uint64_t r5,
					 const struct ftramp_bpf_program *prog);
bpf_helper_native_fn bpf_helper_native(int32_t id, bool *takes_prog);
/* Helpers that read a trampoline's ctx: not for raw programs. */
bool bpf_helper_needs_ctx(int32_t id);
/* Helpers that take the program, to check a map argument against it. */
bool bpf_helper_takes_prog(int32_t id);
/* Helpers the JIT calls; a program's first helper it does not (0: none). */
bool bpf_helper_jit(int32_t id);
int bpf_prog_jit_refusal(const struct ftramp_bpf_program *prog);
/* trace_printk's formatting, exposed for tests (returns bytes, <0 bad). */
int bpf_format(char *out, size_t size, const char *fmt, uint32_t fmt_size,
	       const uint64_t *args, int nr_args);

/*
 * sbranch.c: the static branch sites of a prepared program (p->run, and
 * the JIT image if any), grouped by the instruction-array maps among its
 * maps, whose values it fills (xlated_off, jitted_off).  0, -ENOMEM, or
 * -EINVAL with e set (a map naming no site, a site in two maps).
 */
int bpf_sbranch_init(struct ftramp_bpf_program *p, struct ftramp_bpf_error *e);
void bpf_sbranch_free(struct ftramp_bpf_program *p);
/* The interpreter's view of site @pc (run index). */
static inline bool bpf_sbranch_on(const struct ftramp_bpf_program *p,
				  size_t pc)
{
	return __atomic_load_n(&p->sb_on[pc], __ATOMIC_ACQUIRE);
}

/* stub.c: the native ftramp_prog_t that runs a program. */
int bpf_stub_create(struct ftramp_bpf_program *prog);
void bpf_stub_free(struct ftramp_bpf_program *prog);

/*
 * jit.c: compile a prepared program (p->run) with the arm64 JIT; its entry
 * becomes the handler.  -EOPNOTSUPP for what the JIT does not take yet
 * (bpf_loop callbacks, tail calls).  bpf_jit_test_flags: enum
 * bpf_jit_flags for every compile (tests only).
 */
extern unsigned int bpf_jit_test_flags;
/*
 * jit_debug.c: register every function of p->jit with gdb's JIT
 * interface, the perf map and the unwinder (failures leave the program
 * working, undescribed); unregister before the image is freed.
 */
void bpf_jit_debug_register(struct ftramp_bpf_program *p);
void bpf_jit_debug_unregister(struct ftramp_bpf_program *p);
/*
 * JIT p->run into p->jit.  @keys: the verifier's per call insn (NULL: no
 * direct tail calls).  @flags BPF_JIT_PROG_LISTED: the image is only
 * listed (ftramp prog --jited), its maps not live: a direct slot for
 * every key the verifier knew.
 */
enum { BPF_JIT_PROG_LISTED = 1u << 0 };
int bpf_jit_prog(struct ftramp_bpf_program *p, const struct bpf_tail_key *keys,
		 unsigned int flags);
/* The span of every JIT image so far (a reclaim window). */
void bpf_jit_span(uint64_t *lo, uint64_t *hi);
void bpf_jit_prog_free(struct ftramp_bpf_program *p);
uint64_t bpf_jit_run(const struct ftramp_bpf_program *p, uint64_t r1,
		     uint64_t r2);

#endif /* FTRAMP_BPF_BPF_H */
