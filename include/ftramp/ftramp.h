/* SPDX-License-Identifier: MIT */
/*
 * ftramp: arm64 ftrace-direct trampolines for userspace processes.
 *
 * One header for the whole public API, in the manner of libbpf:
 * ftramp_<object>__<verb>() names, opaque objects, options structs whose
 * first member is their size (`sz`) so they can grow, and errors as
 * negative errno values.  Functions returning a pointer return NULL and set
 * errno on failure.  See Documentation/api.rst.
 */
#ifndef FTRAMP_FTRAMP_H
#define FTRAMP_FTRAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef FTRAMP_API
#define FTRAMP_API __attribute__((visibility("default")))
#endif

/* ======================================================================
 * Common
 * ====================================================================== */

/* Library version string, e.g. "0.1.0". */
FTRAMP_API const char *ftramp_version(void);

/*
 * Thread-safe message for a (negative or positive) errno value returned by
 * ftramp, including ftramp's own meanings of errno values where they are
 * more specific than strerror()'s.
 */
FTRAMP_API int ftramp_strerror(int err, char *buf, size_t size);

/*
 * What this thread's last failure that had more to say was about: the
 * thread a stop-machine could not park ("thread 1234 (worker) state R,
 * signal 60 blocked"), the thread or the pinned links ftramp_sync()
 * still waits for.  "" when there is none; cleared when such a call
 * succeeds.  Valid until this thread's next ftramp call.
 */
FTRAMP_API const char *ftramp_error_detail(void);

/*
 * Options structs start with `size_t sz`, set by the caller to
 * sizeof(struct).  A smaller sz (a caller built against an older header)
 * is accepted, the missing fields read as zero; a larger one is accepted
 * when every byte beyond what the library knows is zero, else refused
 * with -EINVAL.  Result structs (ftramp_site_info, ftramp_reclaim_stats,
 * ftramp_pinned) get as many bytes as their sz holds.
 * FTRAMP_OPTS(type, name, fields...) declares one the libbpf way.
 */
#define FTRAMP_OPTS(TYPE, NAME, ...)					\
	struct TYPE NAME = ({						\
		memset(&NAME, 0, sizeof(struct TYPE));			\
		(struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ }; \
	})

/* ======================================================================
 * Function models (trampoline/model.c, trampoline/model_parse.c)
 *
 * How a function passes its arguments and result under AAPCS64, which is
 * what a trampoline needs to save, restore and expose them.
 * ====================================================================== */

/*
 * Limits (Documentation/models.rst): up to FTRAMP_MAX_ARGS arguments, of
 * which those AAPCS64 places on the stack may use FTRAMP_MAX_STACK_ARGS
 * 8-byte stack slots; that is at least 8 GP + 8 FP/SIMD registers plus
 * 8 stack slots.  The arguments then take at most FTRAMP_MAX_CTX_ARGS u64
 * ctx slots and the result at most FTRAMP_MAX_CTX_RET.
 */
#define FTRAMP_MAX_ARGS		24
#define FTRAMP_MAX_STACK_ARGS	16
#define FTRAMP_MAX_CTX_ARGS	48
#define FTRAMP_MAX_CTX_RET	8

enum ftramp_type_class {
	FTRAMP_TYPE_VOID = 0,	/* return type only */
	FTRAMP_TYPE_INT,	/* integer, bool, enum or pointer: size 1/2/4/8,
				 * or 16 (__int128: an even x register pair) */
	FTRAMP_TYPE_FLOAT,	/* float (4), double (8), long double (16, a
				 * q register: IEEE binary128 on arm64) */
	FTRAMP_TYPE_HFA,	/* homogeneous floating-point aggregate
				 * (AAPCS64 5.9.5): 1-4 members, all float,
				 * all double or all long double */
	FTRAMP_TYPE_STRUCT,	/* other composite: <= 16 bytes in GP regs or
				 * on the stack, larger ones by reference
				 * (arguments) or through x8 (results) */
};

enum ftramp_type_flags {
	FTRAMP_TYPE_SIGNED	= 1u << 0,	/* INT: sign-extend to 64 bits */
	FTRAMP_TYPE_POINTER	= 1u << 1,	/* INT: a pointer (formatting) */
	FTRAMP_TYPE_STRING	= 1u << 2,	/* INT: a char pointer */
	FTRAMP_TYPE_BOOL	= 1u << 3,	/* INT: _Bool (formatting) */
};

struct ftramp_type {
	uint16_t cls;		/* enum ftramp_type_class */
	uint16_t flags;		/* enum ftramp_type_flags */
	uint32_t size;		/* size in bytes */
	uint8_t nmemb;		/* HFA: number of members (1-4) */
	uint8_t elem_size;	/* HFA: member size (4, 8 or 16) */
	uint16_t align;		/* alignment in bytes; 0: natural (INT,
				 * FLOAT: size; HFA: elem_size; STRUCT: 8) */
};

enum ftramp_model_flags {
	FTRAMP_MODEL_VARIADIC	= 1u << 0,	/* refused: -EOPNOTSUPP */
};

struct ftramp_func_model {
	struct ftramp_type ret;
	uint8_t nr_args;
	uint8_t flags;		/* enum ftramp_model_flags */
	struct ftramp_type args[FTRAMP_MAX_ARGS];
};

/*
 * Check a model built by hand or by a parser.  0, or -EINVAL (malformed:
 * unknown class or flag, impossible size, alignment or HFA shape, a void
 * argument), -E2BIG (more than FTRAMP_MAX_ARGS arguments, more than
 * FTRAMP_MAX_STACK_ARGS stack slots, or too many ctx slots), -EOPNOTSUPP
 * (variadic).
 */
FTRAMP_API int ftramp_model__validate(const struct ftramp_func_model *m);

/*
 * The BPF-style ctx layout (Documentation/models.rst, "ctx layout"): each
 * argument takes ftramp_type__ctx_slots() consecutive u64 slots (an
 * integer widened by its signedness, a float's bits in the low 32 bits, a
 * composite <= 16 bytes or an HFA as its memory image, a larger composite
 * as the pointer to the caller's copy); the result follows at
 * ctx[ftramp_model__nr_ctx_args()].
 */
FTRAMP_API int ftramp_type__ctx_slots(const struct ftramp_type *t);
FTRAMP_API int ftramp_model__nr_ctx_args(const struct ftramp_func_model *m);
FTRAMP_API int ftramp_model__arg_ctx_off(const struct ftramp_func_model *m,
					 unsigned int arg);
FTRAMP_API int ftramp_model__nr_ctx_ret(const struct ftramp_func_model *m);
/* Argument passed as a pointer to a copy (AAPCS64 stage B.3). */
FTRAMP_API bool ftramp_type__by_ref(const struct ftramp_type *t);
/* Result returned through memory at x8 (AAPCS64 6.9). */
FTRAMP_API bool ftramp_model__ret_indirect(const struct ftramp_func_model *m);
/* A register or stack value as its ctx slot holds it (INT, FLOAT). */
FTRAMP_API uint64_t ftramp_type__widen(const struct ftramp_type *t,
				       uint64_t raw);
/* Bytes of the incoming stack argument area (AAPCS64 stage C: NSAA). */
FTRAMP_API int ftramp_model__stack_size(const struct ftramp_func_model *m);

/* Where and why a prototype did not parse. */
struct ftramp_parse_error {
	int col;		/* 1-based column of the offending token */
	char msg[160];		/* "col 12: unknown type 'foo'" */
};

struct ftramp_parse_opts {
	size_t sz;			/* sizeof(struct ftramp_parse_opts) */
	struct ftramp_parse_error *err;	/* optional */
	char *name;			/* optional: the function's name */
	size_t name_sz;
};

/*
 * Parse a C prototype into a model: "double (int, const char *, struct {
 * float x, y; })", "int foo(long a, unsigned char b)", "void (void)".
 * Errors: -EINVAL syntax or unknown type (err->msg says which, err->col
 * where), -EOPNOTSUPP variadic or unsupported type (bit-fields, vectors,
 * empty structs), -E2BIG beyond the limits above.  On error *m is
 * unspecified.
 */
FTRAMP_API int ftramp_model__parse(const char *proto,
				   struct ftramp_func_model *m,
				   struct ftramp_parse_error *err);
FTRAMP_API int ftramp_model__parse_opts(const char *proto,
					struct ftramp_func_model *m,
					const struct ftramp_parse_opts *opts);

/*
 * Print a model as a prototype that ftramp_model__parse() reads back into
 * the same model, e.g. "double (int32_t, const char *, struct { float
 * m[2]; })".  Returns the length it needed (like snprintf) or -EINVAL.
 */
FTRAMP_API int ftramp_model__format(const struct ftramp_func_model *m,
				    char *buf, size_t size);

/* ======================================================================
 * Programs, helpers for programs (trampoline/)
 * ====================================================================== */

/*
 * A program receives the BPF-style context: ctx[0..n-1] the arguments,
 * ctx[n] the return value (fexit), and hidden slots below ctx read by the
 * ftramp_get_*() helpers.  fentry and fexit programs should return 0.  An
 * fmod_ret program returning non-zero skips the original function and its
 * value becomes the return value (for float/double results, the value's
 * bit pattern: see ftramp_ret_double()).
 */
typedef uint64_t (*ftramp_prog_t)(const uint64_t *ctx);

/*
 * Helpers for programs (trampoline/helpers.c), the kernel's
 * bpf_get_func_*() for ftramp.  ctx is the pointer a program received;
 * below it, ctx[-1] points to the run context the trampoline set for this
 * program (Documentation/trampoline.rst, "ctx layout").  Argument numbers
 * are ctx slots: an argument of 9-16 bytes (a small struct, __int128,
 * long double) takes two, an HFA up to four.
 */
/* Address of the traced function (its symbol), 0 for a thunk. */
FTRAMP_API uint64_t ftramp_get_func_ip(const uint64_t *ctx);
/* Number of argument slots: ctx[0 .. n-1]. */
FTRAMP_API uint64_t ftramp_get_func_arg_cnt(const uint64_t *ctx);
/* *v = ctx[n]; -EINVAL if n is past the argument slots. */
FTRAMP_API int ftramp_get_func_arg(const uint64_t *ctx, uint32_t n,
				   uint64_t *v);
/*
 * *v = the first result slot: in fexit the result (an integer widened, a
 * float's bits; with no model, x0), in fmod_ret the value so far.
 * -EOPNOTSUPP in fentry or for a void function.
 */
FTRAMP_API int ftramp_get_func_ret(const uint64_t *ctx, uint64_t *v);
/*
 * Where the result lives (fmod_ret, fexit, thunks): the result slots, or
 * for a result returned through x8 the caller's buffer.  A program that
 * returns a composite (fmod_ret, thunk) writes it here.  NULL in fentry
 * or for void.
 */
FTRAMP_API void *ftramp_get_func_ret_ptr(const uint64_t *ctx);
/* The cookie given when the program was attached. */
FTRAMP_API uint64_t ftramp_get_attach_cookie(const uint64_t *ctx);
/*
 * 1 in an fexit program run for a call that never returned: its frame
 * was abandoned (longjmp(), siglongjmp(), unwinding) and found later on
 * its thread (Documentation/trampoline.rst, "Shadow stack").  Such a
 * run sees the arguments when the image kept them (the unknown model's
 * x0-x7), else zeros, and no result: ftramp_get_func_ret() and its
 * variants answer -ENODATA, ftramp_get_func_ret_ptr() NULL.  0 otherwise.
 */
FTRAMP_API int ftramp_get_func_unwound(const uint64_t *ctx);
/*
 * Floating-point views.  An argument slot as a double / float (its bits);
 * the result as a double (float results converted; with no model, d0).
 * -EINVAL past the count or for a result that is not FLOAT.
 */
FTRAMP_API int ftramp_get_func_arg_double(const uint64_t *ctx, uint32_t n,
					  double *v);
FTRAMP_API int ftramp_get_func_arg_float(const uint64_t *ctx, uint32_t n,
					 float *v);
FTRAMP_API int ftramp_get_func_ret_double(const uint64_t *ctx, double *v);

/*
 * The session cookie: one u64 per invocation of the traced function,
 * in the trampoline's frame, shared by the fentry, fmod_ret and fexit
 * programs of that call, and by no other call (the kernel's
 * bpf_session_cookie()).  A fentry program stores something (a
 * timestamp, a pointer) that the fexit program of the same call reads:
 * exact at any depth of recursion and on any thread, with no stack of
 * one's own.  It is zeroed at entry, before the first program, when any
 * link of the function was attached with ftramp_attach_opts.session;
 * otherwise it starts with whatever the stack held.  Inline: one
 * address computation (it is ctx[-3] in every image, and in thunks).
 */
static inline uint64_t *ftramp_get_session_cookie(const uint64_t *ctx)
{
	return (uint64_t *)(uintptr_t)(ctx - 3);
}

/* A double / float as the u64 an fmod_ret program or thunk returns. */
static inline uint64_t ftramp_ret_double(double d)
{
	uint64_t v;

	memcpy(&v, &d, sizeof(v));
	return v;
}

static inline uint64_t ftramp_ret_float(float f)
{
	uint32_t v;

	memcpy(&v, &f, sizeof(v));
	return v;
}

/* ctx slot n as a double (no check: use in hot programs). */
static inline double ftramp_ctx_double(const uint64_t *ctx, unsigned int n)
{
	double d;

	memcpy(&d, &ctx[n], sizeof(d));
	return d;
}

static inline float ftramp_ctx_float(const uint64_t *ctx, unsigned int n)
{
	float f;

	memcpy(&f, &ctx[n], sizeof(f));
	return f;
}

/*
 * struct_ops thunks (trampoline/thunk.c): a native function with the
 * model's signature that packs its arguments into ctx and calls prog, so
 * ctx programs can fill a C vtable.  The program's u64 is the result for
 * an integer (truncated to its size) or a float/double (its bits: see
 * ftramp_ret_double()); for a composite result (struct, HFA, __int128,
 * long double) the program writes it through ftramp_get_func_ret_ptr(ctx)
 * and its return value is ignored; void ignores it too.  Returns the
 * function pointer (cast it to the model's type), or NULL with errno set:
 * EINVAL (NULL model or program, malformed model), E2BIG, EOPNOTSUPP
 * (variadic), ENOMEM.
 */
FTRAMP_API void *ftramp_thunk__create(const struct ftramp_func_model *m,
				      ftramp_prog_t prog, uint64_t cookie);
/* Free a thunk; no thread may still be running it.  NULL is a no-op. */
FTRAMP_API void ftramp_thunk__destroy(void *fn);

/* ======================================================================
 * Call sites and text patching (ftrace/sites.c, arch/arm64/patching.c)
 * ====================================================================== */

/*
 * The site table (ftrace/sites.c, Documentation/sites.rst): every function
 * of the process built with -fpatchable-function-entry=4,2
 * -falign-functions=8, in the main executable and in every shared object,
 * including those loaded later with dlopen().  A site is listed usable only
 * when its bytes have exactly the shape of DESIGN.md section 1; anything
 * else is listed with a status and a reason and is never patched.
 *
 * Names: "sym" in the executable, "sym@libname.so" in a shared object
 * (basename without the version suffix: libc.so.6 -> libc.so).  Static
 * functions sharing a name within one object are qualified with their
 * source file, "sym:file.c" (or "sym:N", N counting from 1 in address order,
 * when the file names do not tell them apart).  A site that matches no
 * function symbol is named "host+0xOFF" or "0xVADDR" (file address).
 *
 * Pointers to sites and the strings of their info stay valid until the
 * object they belong to is unloaded and the table has noticed it (at the
 * next rescan, which dlclose() through ftramp triggers).
 */
struct ftramp_sites;
struct ftramp_site;

enum ftramp_site_status {
	FTRAMP_SITE_OK = 0,		/* usable */
	FTRAMP_SITE_BAD_ALIGN,		/* literal slot not 8-byte aligned */
	FTRAMP_SITE_NO_SYMBOL,		/* no function symbol at record + 8 */
	FTRAMP_SITE_NOT_TEXT,		/* not inside an executable segment */
	FTRAMP_SITE_BAD_LITERAL,	/* func-8, func-4 are not two NOPs */
	FTRAMP_SITE_BAD_ENTRY,		/* the entry is not two NOPs */
	FTRAMP_SITE_TOO_SMALL,		/* function shorter than its entry */
	FTRAMP_SITE_DUPLICATE,		/* function recorded more than once */
	FTRAMP_SITE_OVERLAP,		/* patch area overlaps the next site */
	FTRAMP_SITE_NOT_READABLE,	/* text is execute-only in memory */
	FTRAMP_SITE_MODIFIED,		/* live bytes differ from the file */
	FTRAMP_SITE_VARIANT_PCS,	/* STO_AARCH64_VARIANT_PCS symbol: a
					 * trampoline would not preserve its
					 * callers' q8-q23 (attach: -EOPNOTSUPP) */
	FTRAMP_SITE_STATUS_MAX,
};

enum ftramp_site_flags {
	FTRAMP_SITE_F_BTI	= 1u << 0,	/* `bti c` at func: the entry
						 * NOPs are at func+4, func+8 */
	FTRAMP_SITE_F_LOCAL	= 1u << 1,	/* a static (STB_LOCAL) function */
	FTRAMP_SITE_F_WEAK	= 1u << 2,	/* a weak symbol */
	FTRAMP_SITE_F_OWNED	= 1u << 3,	/* ftramp has patched the site:
						 * its bytes are ftramp's, not
						 * checked against the file */
	FTRAMP_SITE_F_CLONE	= 1u << 4,	/* a compiler-made variant
						 * ("f.isra.0", "f.constprop.1",
						 * "f.part.0", "f.lto_priv.0"...):
						 * its DWARF is trusted only as
						 * far as it proves it */
};

struct ftramp_site_info {
	size_t sz;		/* in: sizeof(struct ftramp_site_info) */
	const char *name;	/* unique in the process, see above */
	const char *symbol;	/* the ELF symbol ("" without one) */
	const char *object;	/* path of the ELF file */
	const char *object_name;/* "" (executable) or "libname.so" */
	uint64_t func;		/* run-time address of the function symbol */
	uint64_t size;		/* symbol size, 0 when unknown */
	uint64_t literal;	/* func - 8: the 8-byte ops literal slot */
	uint64_t patch;		/* first entry NOP (mov x9, x30); the second
				 * (bl) is at patch + 4; the trampoline is
				 * entered with x30 = patch + 8.  func, or
				 * func + 4 after a `bti c` */
	uint64_t load_bias;	/* run-time minus file addresses */
	uint64_t text_start;	/* the executable segment holding the site, */
	uint64_t text_end;	/* [start, end): near allocation goes here */
	uint32_t flags;		/* enum ftramp_site_flags */
	int status;		/* enum ftramp_site_status */
	const char *reason;	/* ftramp_site_status__str(status) */
};

/*
 * The process-wide table, built on first use (thread-safe).  NULL with
 * errno on failure.  Every lookup first checks, cheaply, whether objects
 * were loaded or unloaded since the last scan and rescans if so.
 */
FTRAMP_API struct ftramp_sites *ftramp_sites__get(void);

/*
 * Bring the table up to date with the loaded objects: sites of new objects
 * appear (their bytes checked), those of unloaded objects disappear, sites
 * of unchanged objects keep their identity and state.  0 or -errno.
 */
FTRAMP_API int ftramp_sites__rescan(struct ftramp_sites *sites);

/* Number of sites listed, usable or not. */
FTRAMP_API size_t ftramp_sites__count(struct ftramp_sites *sites);

/* Exact name lookup.  NULL with errno ENOENT when absent. */
FTRAMP_API const struct ftramp_site *
ftramp_sites__find_name(struct ftramp_sites *sites, const char *name);

/*
 * The site whose function contains @addr: from its literal slot
 * (func - 8) to the end of the function (func + size, at least the end of
 * the entry NOPs when the size is unknown).  NULL with errno ENOENT.
 */
FTRAMP_API const struct ftramp_site *
ftramp_sites__find_addr(struct ftramp_sites *sites, uint64_t addr);

/*
 * Call @cb for every site whose name matches the shell glob @glob (`*`,
 * `?`, `[...]`, `[!...]`, backslash escapes; see fnmatch(3)), in address
 * order.  @cb returns 0 to go on, > 0 to stop, < 0 to stop with that
 * error.  Returns the number of sites @cb was called for, or a negative
 * errno.  @cb must not call ftramp_sites__rescan() or dlopen()/dlclose()
 * (they are deferred to the next lookup if it does).
 */
typedef int (*ftramp_site_cb)(const struct ftramp_site *site, void *ctx);
FTRAMP_API int ftramp_sites__find(struct ftramp_sites *sites, const char *glob,
				  ftramp_site_cb cb, void *ctx);

/* Fill @info (info->sz set by the caller).  0 or -EINVAL. */
FTRAMP_API int ftramp_site__info(const struct ftramp_site *site,
				 struct ftramp_site_info *info);

/* Static text for a status: "usable", "literal slot not 8-byte aligned"... */
FTRAMP_API const char *ftramp_site_status__str(int status);

/*
 * Prepare every usable site of @sites (ftramp_sites__get()'s table; any
 * other pointer is -EINVAL) matching @glob (NULL: all) for tracing: the
 * one-time `nop -> mov x9, x30` at its entry, in one batch.  That word
 * may not be rewritten while another thread could execute it (Arm ARM
 * B2.2.5), so when the process has more than one thread the batch parks
 * every other thread in a signal handler while it writes; call this
 * while the process is still single-threaded (a constructor, before
 * main) and no thread is ever stopped, now or when the sites are later
 * traced.  A prepared, untraced site runs as many instructions as
 * before.  Returns the number of sites newly prepared (already prepared
 * ones are skipped), or -ENOENT (no match), -EOPNOTSUPP (none usable),
 * -ETIMEDOUT (some thread could not be stopped; nothing written) or the
 * errors of ftramp_poke_batch__commit().
 */
FTRAMP_API int ftramp_sites__prepare(struct ftramp_sites *sites,
				     const char *glob);

/*
 * Text patching, the userspace bpf_arch_text_poke() (arch/arm64/patching.c,
 * Documentation/patching.rst).  Every change is compare-then-write: the
 * caller says what it believes is there, and nothing is written unless
 * every word matches.
 *
 * Errors (negative errno), the same for a single poke and a batch:
 *   -EINVAL   misaligned address (4 bytes; 8 for a u64), bad type or flags
 *   -ERANGE   a branch target out of B/BL reach (+-128 MiB) or misaligned
 *   -ENXIO    the address is not mapped
 *   -ENOEXEC  the address is mapped but not executable (not text)
 *   -EILSEQ   not a patch slot: the word there (or an old/new word given)
 *             is not one that may change while other threads run it
 *             (Arm ARM: only NOP, B, BL, BRK, SVC, HVC, SMC, ISB)
 *   -EFAULT   the word there is not what old_addr / old implies
 *   -EACCES, -ENOMEM...  a protection change or allocation failed
 *             (nothing was changed)
 *   -EOPNOTSUPP  a multi-phase batch in a multi-threaded process on a
 *             kernel without membarrier
 */
enum ftramp_poke_type {
	FTRAMP_POKE_CALL = 0,		/* bl target */
	FTRAMP_POKE_JUMP = 1,		/* b target */
};

enum ftramp_poke_flags {
	/*
	 * __add_insn() only: the caller guarantees no thread can execute
	 * the word while it changes (e.g. the one-time nop -> mov x9, x30 at
	 * func+0, done before any thread can run it), so it may be any
	 * instruction, not just a concurrently modifiable one.
	 */
	FTRAMP_POKE_UNREACHABLE = 1u << 0,
};

/*
 * Replace the instruction at @ip: what @old_addr implies (bl/b @old_addr,
 * or nop if NULL) becomes what @new_addr implies (bl/b @new_addr, or nop
 * if NULL).  One aligned 32-bit store, cache maintenance, and a
 * synchronisation of every thread before returning.  Thread-safe.
 */
FTRAMP_API int ftramp_text_poke(void *ip, enum ftramp_poke_type type,
				void *old_addr, void *new_addr);

/*
 * A transaction of pokes: applied in insertion order, all or nothing.
 * __barrier() separates phases: everything before it is written, cache-
 * maintained and visible to every thread before anything after it is
 * written (the literal before `nop -> bl`).  One protection change per
 * page and one synchronisation per phase, not per poke.
 *
 * An __add*() that fails returns the error and makes the batch fail: a
 * later __commit() returns that error and writes nothing.  __commit()
 * validates every entry against memory before writing anything.  A
 * committed batch keeps its entries; committing it again fails with
 * -EFAULT (the old words are gone), so free it or start a new one.
 */
struct ftramp_poke_batch;

FTRAMP_API struct ftramp_poke_batch *ftramp_poke_batch__new(void);
FTRAMP_API void ftramp_poke_batch__free(struct ftramp_poke_batch *b);

/* A bl/b/nop slot, as ftramp_text_poke(). */
FTRAMP_API int ftramp_poke_batch__add(struct ftramp_poke_batch *b, void *ip,
				      enum ftramp_poke_type type,
				      void *old_addr, void *new_addr);

/* A raw instruction word; @flags: enum ftramp_poke_flags. */
FTRAMP_API int ftramp_poke_batch__add_insn(struct ftramp_poke_batch *b,
					   void *ip, uint32_t old_insn,
					   uint32_t new_insn,
					   unsigned int flags);

/*
 * An 8-byte aligned 64-bit word (the per-callsite ops literal at
 * func - 8), written with one single-copy atomic 64-bit store.
 */
FTRAMP_API int ftramp_poke_batch__add_u64(struct ftramp_poke_batch *b,
					  void *addr, uint64_t old_val,
					  uint64_t new_val);

FTRAMP_API int ftramp_poke_batch__barrier(struct ftramp_poke_batch *b);

/* Number of entries added so far. */
FTRAMP_API size_t ftramp_poke_batch__size(const struct ftramp_poke_batch *b);

FTRAMP_API int ftramp_poke_batch__commit(struct ftramp_poke_batch *b);

/* ======================================================================
 * ftrace ops, direct calls and the attach API (ftrace/)
 * ====================================================================== */

/*
 * The ftrace layer (ftrace/, Documentation/design.rst): the kernel's
 * struct ftrace_ops, direct calls and the BPF-style attach API, for the
 * functions of this process.
 *
 * A traced site reaches its tracers one of two ways: `bl <trampoline>`
 * when exactly one direct trampoline is attached and it lies within BL
 * range, else `bl ftrace_caller` (one per text region, near it), which
 * loads the per-site ops pointer from the literal at func - 8 and either
 * branches to a direct trampoline or saves a struct ftramp_ftrace_regs and
 * calls the handlers.
 */

/*
 * What ftrace_caller saved at the traced function's entry; a handler may
 * read and change it (the kernel's ftrace_regs with
 * DYNAMIC_FTRACE_WITH_ARGS).  Changed argument registers are what the
 * function, or the next handler, sees; a changed pc is where execution
 * resumes, with x30 = lr and the stack as at the call (so pc = lr returns
 * to the caller at once, and pc = another function's address tail-calls
 * it with the same arguments).
 */
struct ftramp_ftrace_regs {
	uint64_t regs[9];	/* x0-x7 arguments, x8 indirect result */
	uint64_t direct;	/* internal: direct trampoline to run after
				 * the handlers (zero in handlers) */
	uint64_t fp;		/* x29 at the call */
	uint64_t lr;		/* the caller's return address */
	uint64_t sp;		/* sp at the call: stack arguments at sp */
	uint64_t pc;		/* where execution resumes: the body */
	uint64_t vregs[8][2];	/* q0-q7, low half first */
};

static inline uint64_t
ftramp_ftrace_regs__arg(const struct ftramp_ftrace_regs *fregs,
			unsigned int n)
{
	return n < 8 ? fregs->regs[n] : 0;
}

static inline void ftramp_ftrace_regs__set_arg(struct ftramp_ftrace_regs *fregs,
					       unsigned int n, uint64_t val)
{
	if (n < 8)
		fregs->regs[n] = val;
}

/* Skip the function: return val to the caller (error injection). */
static inline void
ftramp_ftrace_regs__override_return(struct ftramp_ftrace_regs *fregs,
				    uint64_t val)
{
	fregs->regs[0] = val;
	fregs->pc = fregs->lr;
}

struct ftramp_ftrace_ops;

/*
 * A handler: ip is the traced function's address (its symbol), parent_ip
 * the caller's return address, op the registered ops.  It runs on the
 * calling thread, before the function's body.  It must return: a C++
 * exception or longjmp() out of it leaves the call record counted, and
 * unregistering then waits for ever.
 */
typedef void (*ftramp_ftrace_func_t)(unsigned long ip, unsigned long parent_ip,
				     struct ftramp_ftrace_ops *op,
				     struct ftramp_ftrace_regs *fregs);

enum ftramp_ftrace_ops_flags {
	/*
	 * The handler copes with recursion itself.  Without this flag
	 * ftramp runs the handler under a per-thread guard: a traced call
	 * made from inside any guarded handler skips the guarded handlers
	 * (counted in ftramp_ftrace_ops__misses()).
	 */
	FTRAMP_FTRACE_OPS_FL_RECURSION	= 1u << 0,
	/*
	 * Direct ops: always reach the trampoline through ftrace_caller and
	 * the per-site literal, never with a `bl` to it (tests of that path;
	 * also what happens anyway when the trampoline is out of range).
	 */
	FTRAMP_FTRACE_OPS_FL_NO_DIRECT_BL = 1u << 1,
};
#define FTRAMP_FTRACE_OPS_FL_ALL	0x3u

/*
 * Filled in by the user and registered; zero-initialise it (a static or
 * `= { .func = f }`).  Between ftramp_ftrace_ops__set_*() and
 * ftramp_ftrace_ops__free_filter() it owns internal memory.  The struct
 * must stay valid while registered; after
 * ftramp_ftrace_ops__unregister() returns no thread runs its handler.
 */
struct ftramp_ftrace_ops {
	ftramp_ftrace_func_t func;	/* the handler (NULL for direct ops) */
	unsigned long flags;		/* enum ftramp_ftrace_ops_flags */
#ifdef __cplusplus
	void *private_;			/* C++: `private` is a keyword */
#else
	void *private;			/* for the user */
#endif
	struct ftramp_ftrace_ops_priv *priv;	/* ftramp's, keep NULL */
};

/*
 * Filters, in the manner of the kernel's set_ftrace_filter and
 * set_ftrace_notrace: the ops traces every usable site of its filter set
 * (all usable sites of the process when the filter set is empty) that is
 * not in its notrace set.  @glob is a site name or a shell glob over site
 * names ("kv_*", "sample_add@libsample-gcc.so"); @reset empties the set
 * first.  On a registered ops the change is applied to the live sites in
 * one transaction (all of it, or none).
 * Errors: -EINVAL (NULL ops or glob), -ENOENT (nothing matches),
 * -EOPNOTSUPP (only sites that cannot be patched match; their status says
 * why), -ENOMEM, and for a registered ops the errors of
 * ftramp_ftrace_ops__register().  On error the sets are unchanged.
 */
FTRAMP_API int ftramp_ftrace_ops__set_filter(struct ftramp_ftrace_ops *ops,
					     const char *glob, int reset);
FTRAMP_API int ftramp_ftrace_ops__set_notrace(struct ftramp_ftrace_ops *ops,
					      const char *glob, int reset);
/* ftramp_ftrace_ops__set_filter_ip() / __set_notrace_ip() flags. */
enum ftramp_filter_flags {
	FTRAMP_FILTER_REMOVE	= 1u << 0,	/* remove the site, not add it */
	FTRAMP_FILTER_RESET	= 1u << 1,	/* empty the set first */
};

/*
 * The same by address: the site of the function containing @addr is
 * added (removed with FTRAMP_FILTER_REMOVE; FTRAMP_FILTER_RESET empties
 * the set first).  -ENOENT: no site there; -EINVAL: addr 0 or unknown
 * flags.
 */
FTRAMP_API int ftramp_ftrace_ops__set_filter_ip(struct ftramp_ftrace_ops *ops,
						uint64_t addr,
						unsigned int flags);
FTRAMP_API int ftramp_ftrace_ops__set_notrace_ip(struct ftramp_ftrace_ops *ops,
						 uint64_t addr,
						 unsigned int flags);
/* Free the filter sets of an unregistered ops (0, -EBUSY if registered). */
FTRAMP_API int ftramp_ftrace_ops__free_filter(struct ftramp_ftrace_ops *ops);

/*
 * Start calling ops->func at the entry of every function of its sets.
 * When it returns, every such call from then on runs the handler.
 * Errors: -EINVAL (NULL ops or func, unknown flags), -EBUSY (already
 * registered), -ENOENT (the sets select no site), -ERANGE (no memory
 * within BL range of a site for its ftrace_caller), -EFAULT (a site's
 * bytes are not what ftramp left there: someone else rewrote them),
 * -ENOMEM and the errors of text patching.  On error no site changed.
 * A failure after other threads may have run the handler waits for them
 * as unregistering does (60 s at most; then ftramp_error_detail() names
 * what pins the ops: keep it valid until ftramp_sync() returns 0).
 */
FTRAMP_API int ftramp_ftrace_ops__register(struct ftramp_ftrace_ops *ops);
/*
 * Stop; waits until no thread runs ops->func any more, for 60 s at most:
 * a handler that never returns (blocked, or left by longjmp()) or a
 * thread reclamation cannot observe does not hang this for ever.  0, or
 * -EINVAL (not registered), or -ETIMEDOUT: unregistered (no new call
 * runs the handler), but some thread may still be inside it:
 * ftramp_error_detail() says what pins it; keep the ops valid until
 * ftramp_sync() returns 0.
 */
FTRAMP_API int ftramp_ftrace_ops__unregister(struct ftramp_ftrace_ops *ops);
/* Calls the recursion guard skipped (see FTRAMP_FTRACE_OPS_FL_RECURSION). */
FTRAMP_API unsigned long
ftramp_ftrace_ops__misses(const struct ftramp_ftrace_ops *ops);

/*
 * Direct calls (the kernel's register_ftrace_direct()): every site of the
 * ops' sets branches to the trampoline at @addr, entered with x30 = the
 * body (func + 8, or + 12 after a `bti c`), x9 = the caller's return
 * address, x0-x8, q0-q7 and the stack as at the call, x16/x17 clobbered.
 * ops->func must be NULL.  A site takes at most one direct ops; it may
 * also have ordinary ops, whose handlers then run first.
 * Errors: as ftramp_ftrace_ops__register(), plus -EINVAL (@addr 0 or
 * misaligned, ops->func set) and -EBUSY (a site already has a direct ops).
 */
FTRAMP_API int ftramp_direct__register(struct ftramp_ftrace_ops *ops,
				       uint64_t addr);
/*
 * Switch every site of the ops to @addr with no window in which a call
 * reaches neither trampoline: `bl old` -> `bl new` is one concurrently
 * modifiable write, and through the literal the ops' target is one
 * 64-bit store.  The old trampoline may still be running on other
 * threads when this returns: ftramp_sync() waits until no thread is
 * between a site and its first instruction; a trampoline of your own must
 * count the threads inside it, as ftramp's images do.
 * -EINVAL (not a registered direct ops, bad @addr).
 */
FTRAMP_API int ftramp_direct__modify(struct ftramp_ftrace_ops *ops,
				     uint64_t addr);
/*
 * Detach (@addr must be the current target: -EINVAL otherwise).  Waits
 * as ftramp_ftrace_ops__unregister() does, -ETIMEDOUT included.
 */
FTRAMP_API int ftramp_direct__unregister(struct ftramp_ftrace_ops *ops,
					 uint64_t addr);

/* ----------------------------------------------------------------------
 * Attach API (the kernel's BPF trampolines: fentry, fexit, fmod_ret)
 * ---------------------------------------------------------------------- */

enum ftramp_attach_kind {
	FTRAMP_FENTRY,		/* before the function */
	FTRAMP_FEXIT,		/* after it, with its result at ctx[nr_args] */
	FTRAMP_FMOD_RET,	/* before it: non-zero skips it and is the
				 * result */
	/*
	 * No program (prog NULL): the trampoline adds 1 to a counter at
	 * every call (ftramp_link__count(), or opts->counter), before the
	 * recursion guard, so the count is exact: calls from a signal
	 * handler that interrupted a program on the same thread are
	 * counted too.  A function with counters only gets a trampoline
	 * of a few instructions, no ctx, no program call.
	 */
	FTRAMP_COUNT,
	/*
	 * No program (prog NULL): a latency histogram of the calls, in
	 * ticks of the generic timer (CNTVCT_EL0, ftramp_hist_freq() per
	 * second).  The time is read at entry and at return, and
	 * bucket[ftramp_hist_bucket(ticks)] += 1 (relaxed) in the link's
	 * FTRAMP_HIST_BUCKETS buckets (ftramp_link__hist(), or
	 * opts->hist).  A function with histograms and counters only gets
	 * a lean return hook: the entry time rides in the call's shadow
	 * record, no frame, no ctx, no program call
	 * (Documentation/trampoline.rst, "Histogram images").  Calls left
	 * by longjmp() or an exception are not counted.  A function's
	 * histograms cannot be combined with programs (EBUSY either way):
	 * time those with a program pair (ftramp_get_session_cookie()).
	 */
	FTRAMP_HIST,
};

/*
 * FTRAMP_HIST's buckets: bucket 0 counts calls shorter than one tick,
 * bucket b (1..64) those of 2^(b-1) to 2^b - 1 ticks.
 */
#define FTRAMP_HIST_BUCKETS	65

static inline unsigned int ftramp_hist_bucket(uint64_t ticks)
{
	return ticks ? 64 - (unsigned int)__builtin_clzll(ticks) : 0;
}

/*
 * Links per function and per kind.  The kernel allows 38
 * (BPF_MAX_TRAMP_LINKS) in all kinds together; ftramp allows 38 of each.
 */
#define FTRAMP_ATTACH_MAX_LINKS		38

struct ftramp_attach_opts {
	size_t sz;		/* sizeof(struct ftramp_attach_opts) */
	uint64_t cookie;	/* ftramp_get_attach_cookie() */
	/*
	 * How the function passes arguments and its result.  NULL: from the
	 * object's DWARF when it has it, else the conservative unknown model
	 * (x0-x7 as 8 ctx slots; fexit sees x0 at ctx[8]).
	 */
	const struct ftramp_func_model *model;
	/* Attach by address (the function containing it); func is NULL. */
	uint64_t addr;
	/*
	 * Place the trampoline out of BL range, so the site goes through
	 * ftrace_caller and its literal (tests of the far path).
	 */
	bool force_far;
	/* Do not read DWARF: model NULL means the unknown model. */
	bool no_dwarf;
	/*
	 * FTRAMP_COUNT only: add to this u64 (8-byte aligned) instead of
	 * the link's own counter, e.g. in memory shared with another
	 * process.  It must stay valid until ftramp_sync() has returned 0
	 * after the link is destroyed (older trampolines may still run).
	 */
	uint64_t *counter;
	/*
	 * The program uses ftramp_get_session_cookie(): the trampoline
	 * zeroes the cookie at every entry, before the first program (one
	 * store, for every link of the function).
	 */
	bool session;
	/*
	 * FTRAMP_HIST only: add to these FTRAMP_HIST_BUCKETS u64 (8-byte
	 * aligned) instead of the link's own, e.g. in memory shared with
	 * another process.  Valid as long as opts->counter must be, and
	 * as long as a call that entered the old image may still return.
	 */
	uint64_t *hist;
	/*
	 * Program kinds only: add this link's misses (ftramp_link__missed())
	 * to this u64 (8-byte aligned) instead of the link's own, e.g. in
	 * memory shared with another process.  Valid as long as
	 * opts->counter must be.
	 */
	uint64_t *missed;
	/*
	 * FTRAMP_HIST only: also add each call that left without its exit
	 * (longjmp, an exception, a cancellation: ftramp_link__unwound())
	 * to this u64 (8-byte aligned), live, e.g. in memory shared with
	 * another process.  Valid as long as opts->hist must be.
	 */
	uint64_t *unwound;
};

struct ftramp_link;

/*
 * Run @prog at every call of @func (a site name, see SITES-API); with
 * FTRAMP_COUNT, @prog is NULL and the call is counted instead.  All
 * links of one function share one trampoline, rebuilt on every attach and
 * detach and switched in with ftramp_direct__modify(): the other links
 * never miss a call.  Errors (NULL, errno):
 *   EINVAL	bad arguments (NULL prog, or a prog with FTRAMP_COUNT,
 *		opts->counter misaligned or with another kind,
 *		opts->missed misaligned or without a program,
 *		opts->hist or opts->unwound misaligned or with another
 *		kind, unknown kind or opts field, func and opts->addr
 *		both or neither given, a malformed model),
 *		or FMOD_RET on a function returning void
 *   ENOENT	no such function
 *   EOPNOTSUPP	the function has no usable patchable entry (the site's
 *		status says why), or its model is variadic
 *   E2BIG	already FTRAMP_ATTACH_MAX_LINKS links of this kind, or a
 *		model the trampoline cannot carry
 *   EBUSY	the same program is already attached to it with this kind,
 *		or the site has a direct ops that is not ftramp_attach()'s
 *   EFAULT	the site's bytes are not what ftramp left there
 *   ERANGE	no memory within BL range for the site's ftrace_caller
 *   ENOMEM, and the errors of text patching
 * On error nothing changed: the site and every other link are as before.
 */
FTRAMP_API struct ftramp_link *
ftramp_attach(const char *func, enum ftramp_attach_kind kind,
	      ftramp_prog_t prog, const struct ftramp_attach_opts *opts);

/*
 * Detach and free the link.  The trampoline is rebuilt without it (or
 * the site disabled); when this returns, no new call runs @prog.  The
 * old image is freed later, once no thread can be inside it (deferred:
 * a thread sleeping in the traced function does not block this).
 * 0, or a negative errno with the link still attached.  NULL is a no-op.
 */
FTRAMP_API int ftramp_link__destroy(struct ftramp_link *link);

/*
 * Many links in one transaction (libbpf-style batch).  __add() queues
 * one ftramp_attach(): func or opts->addr, kind, prog, opts (copied,
 * with the model it points to).  It checks what it can at once and
 * returns the entry's index (>= 0) or -errno; an entry in error makes
 * the commit fail with that error.  __commit() is all or nothing: when
 * it returns 0, every entry's calls run its program; on error nothing
 * changed (every site and every link is as before) and __failed() gives
 * the index of the entry in error (-1: none).  Errors as for
 * ftramp_attach().  A batch commits once (-EALREADY after a success);
 * after a failure, free it.  Prepared sites
 * (ftramp_sites__prepare()) make the commit cheapest: what it costs is
 * in Documentation/api.rst.
 * __link(i) after a successful commit: entry i's link, the caller's to
 * destroy (ftramp_link__destroy() or ftramp_links__destroy());
 * __free() frees the batch, never the links.
 */
struct ftramp_attach_batch;

FTRAMP_API struct ftramp_attach_batch *ftramp_attach_batch__new(void);
FTRAMP_API int ftramp_attach_batch__add(struct ftramp_attach_batch *b,
					const char *func,
					enum ftramp_attach_kind kind,
					ftramp_prog_t prog,
					const struct ftramp_attach_opts *opts);
FTRAMP_API int ftramp_attach_batch__commit(struct ftramp_attach_batch *b);
FTRAMP_API long ftramp_attach_batch__failed(const struct ftramp_attach_batch *b);
FTRAMP_API size_t ftramp_attach_batch__size(const struct ftramp_attach_batch *b);
FTRAMP_API struct ftramp_link *
ftramp_attach_batch__link(const struct ftramp_attach_batch *b, size_t i);
FTRAMP_API void ftramp_attach_batch__free(struct ftramp_attach_batch *b);

/*
 * Detach and free @n links (NULL entries skipped) in one transaction, as
 * ftramp_link__destroy() does one: 0 and every links[i] set to NULL, or
 * a negative errno with every link still attached.
 */
FTRAMP_API int ftramp_links__destroy(struct ftramp_link **links, size_t n);

/* The traced function's address (its symbol). */
FTRAMP_API uint64_t ftramp_link__func_addr(const struct ftramp_link *link);
/*
 * Calls of the link's function whose exit never came: frames abandoned
 * by longjmp(), siglongjmp() or unwinding, found on a later entry or
 * exit on their thread (or at its exit) and released
 * (Documentation/trampoline.rst, "Shadow stack").  Counted by every
 * image of the function while it was installed: one found after its
 * image was replaced is not counted.
 */
FTRAMP_API uint64_t ftramp_link__unwound(const struct ftramp_link *link);
/*
 * FTRAMP_COUNT: the calls counted so far (relaxed read of the counter,
 * opts->counter's if given).  0 for other kinds and NULL.
 */
FTRAMP_API uint64_t ftramp_link__count(const struct ftramp_link *link);
/*
 * FTRAMP_HIST: copy the FTRAMP_HIST_BUCKETS buckets into @out (relaxed
 * reads, opts->hist's if given): 0, or -EINVAL for other kinds and NULL.
 */
FTRAMP_API int ftramp_link__hist(const struct ftramp_link *link,
				 uint64_t *out);
/*
 * Ticks per second of the clock FTRAMP_HIST measures with (CNTFRQ_EL0);
 * 0 where it cannot be read.
 */
FTRAMP_API uint64_t ftramp_hist_freq(void);
/*
 * Calls that did not run this link's program: the recursion guard
 * skipped the function's programs because a program of the same
 * function was already running on that thread (a signal handler that
 * interrupted it, or the program itself calling the function), as the
 * kernel's recursion_misses counts.  The function itself ran.  0 for
 * FTRAMP_COUNT and FTRAMP_HIST links (they never miss) and NULL;
 * opts->missed's count if given (relaxed read).
 */
FTRAMP_API uint64_t ftramp_link__missed(const struct ftramp_link *link);
/* The model in use, NULL for the unknown model. */
FTRAMP_API const struct ftramp_func_model *
ftramp_link__model(const struct ftramp_link *link);

/*
 * Wait until every image and ops that ftramp retired has been freed, i.e.
 * no thread can be running it any more (Documentation/design.rst,
 * "Reclamation").  0, or -ETIMEDOUT after @timeout_ms (< 0: no limit; a
 * thread sleeping inside a traced function or a program then blocks it:
 * ftramp_reclaim__pinned() says which, and by how many frames).
 */
FTRAMP_API int ftramp_sync(int timeout_ms);

enum ftramp_pinned_kind {
	FTRAMP_PINNED_IMAGE,	/* a trampoline image (a function's links) */
	FTRAMP_PINNED_RECORD,	/* a call record of ftrace_caller */
	FTRAMP_PINNED_MARK,	/* a direct trampoline's first instruction */
};

/* One retired object that is not freed yet. */
struct ftramp_pinned {
	size_t sz;		/* sizeof(struct ftramp_pinned) */
	enum ftramp_pinned_kind kind;
	uint64_t func;		/* the traced function its links were on
				 * (0 when not known) */
	uint64_t lo, hi;	/* its code (an image, a mark) */
	uint64_t frames;	/* threads counted inside it now: each
				 * frame of the function still running
				 * (or abandoned) keeps it */
	uint64_t held;		/* a record: list records still holding it */
};

/*
 * Describe what is still retired and not freed: fills up to n entries
 * (each with its sz set by the caller) in retirement order and returns
 * how many there are (may be more than n), or -EINVAL.  For a pending
 * entry with frames == 0, reclamation is waiting for a thread it cannot
 * observe: ftramp_reclaim_stats.unseen_tid names it.
 */
FTRAMP_API int ftramp_reclaim__pinned(struct ftramp_pinned *out, size_t n);

struct ftramp_reclaim_stats {
	size_t sz;		/* sizeof(struct ftramp_reclaim_stats) */
	uint64_t images_alloc;	/* trampoline images built */
	uint64_t images_freed;	/* ... and reclaimed */
	uint64_t ops_alloc;	/* per-site and per-ops call records */
	uint64_t ops_freed;
	uint64_t pending;	/* retired, not yet freed */
	uint64_t scans;		/* thread scans */
	uint64_t scan_busy;	/* threads found inside a window */
	uint64_t scan_signals;	/* threads asked by a signal (running ones) */
	uint64_t scan_quiet;	/* threads seen blocked in a system call:
				 * not signalled, not disturbed */
	uint64_t unseen_tid;	/* the last thread a scan could not place
				 * (running, not answering), 0 if none */
	uint64_t unseen_blocks;	/* 1: it blocks the scan signal */
	uint64_t scan_lost_signal; /* sends refused: the program changed
				    * the scan signal's disposition */
};

/* 0 or -EINVAL. */
FTRAMP_API int ftramp_reclaim__stats(struct ftramp_reclaim_stats *st);

/* ----------------------------------------------------------------------
 * Function models from DWARF (ftrace/dwarf.c)
 * ---------------------------------------------------------------------- */

#define FTRAMP_PARAM_NAME_MAX	32

struct ftramp_dwarf_opts {
	size_t sz;		/* sizeof(struct ftramp_dwarf_opts) */
	uint64_t addr;		/* by address; func is then NULL */
	/* optional: parameter names ("" when the DWARF has none) */
	char (*param_names)[FTRAMP_PARAM_NAME_MAX];	/* [FTRAMP_MAX_ARGS] */
};

/*
 * The model of a function of this process from its object's debug info
 * (the object's own .debug_info, or its separate debug file).
 * Errors: -ENOENT (no such function), -ENODATA (no DWARF for it),
 * -EOPNOTSUPP (a type no model can describe: bit-fields, vectors...),
 * -EPROTO (the DWARF does not prove the code's calling convention: a
 * compiler clone such as "f.isra.0", or a parameter that DWARF puts
 * elsewhere than AAPCS64 does), -E2BIG (too many arguments), -EINVAL.  A variadic function gives its
 * fixed arguments and FTRAMP_MODEL_VARIADIC.
 */
FTRAMP_API int ftramp_model__from_dwarf(const char *func,
					struct ftramp_func_model *m,
					const struct ftramp_dwarf_opts *opts);


/* ======================================================================
 * BPF programs as handlers (bpf/; Documentation/bpf.rst)
 * ====================================================================== */

/*
 * Objects built with `clang -O2 -g -target bpf` and libbpf's headers:
 * SEC("fentry/FUNC"), SEC("fexit/FUNC"), SEC("fmod_ret/FUNC") (FUNC may be
 * "sym@lib"), SEC("struct_ops/NAME"); BTF-defined maps in ".maps"; global
 * data in .data, .bss and .rodata; a license.  Programs run in an
 * interpreter (the reference engine) or the arm64 JIT (the open options'
 * engine); a program is called by a trampoline like a C ftramp_prog_t,
 * with the same ctx.
 */
struct ftramp_bpf_object;
struct ftramp_bpf_program;
struct ftramp_bpf_map;
struct ftramp_bpf_link;

/* One instruction, laid out as <linux/bpf.h>'s struct bpf_insn. */
struct ftramp_bpf_insn {
	uint8_t code;
	uint8_t dst_reg:4;
	uint8_t src_reg:4;
	int16_t off;
	int32_t imm;
};

/* Why an object or a program was refused (ftramp_bpf_error.code). */
enum ftramp_bpf_errc {
	FTRAMP_BPF_OK = 0,
	FTRAMP_BPF_E_TRUNCATED,		/* ELF header/table beyond the file */
	FTRAMP_BPF_E_NOT_ELF,		/* bad magic, class, data or type */
	FTRAMP_BPF_E_MACHINE,		/* e_machine is not EM_BPF */
	FTRAMP_BPF_E_SECTION,		/* a section header that lies */
	FTRAMP_BPF_E_INSN_SIZE,		/* code size not a multiple of 8 */
	FTRAMP_BPF_E_SYMTAB,		/* missing or damaged symbol table */
	FTRAMP_BPF_E_RELO_RANGE,	/* relocation beyond its section */
	FTRAMP_BPF_E_RELO_TYPE,		/* relocation type not handled */
	FTRAMP_BPF_E_RELO_INSN,		/* relocated insn is not ld_imm64/call */
	FTRAMP_BPF_E_RELO_SYM,		/* symbol neither map, data nor code */
	FTRAMP_BPF_E_BTF,		/* .BTF damaged */
	FTRAMP_BPF_E_MAP_DEF,		/* a .maps definition not understood */
	FTRAMP_BPF_E_MAP_TYPE,		/* unknown or unsupported map type */
	FTRAMP_BPF_E_NO_LICENSE,	/* no "license" section */
	FTRAMP_BPF_E_SEC_NAME,		/* program section of unknown kind */
	FTRAMP_BPF_E_NO_PROG,		/* no program in the object */
	FTRAMP_BPF_E_INSN,		/* bad opcode, register or jump */
	FTRAMP_BPF_E_HELPER,		/* unknown helper number */
	FTRAMP_BPF_E_CALL,		/* bad bpf-to-bpf call target */
	FTRAMP_BPF_E_MAP_CREATE,	/* a map not created, or a slot it
					   declares not filled */
	FTRAMP_BPF_E_ATTACH,		/* attaching a program failed */
	FTRAMP_BPF_E_VERIFY,		/* the verifier refused the program */
	FTRAMP_BPF_E__MAX,
};

/* Filled on failure: the code and a message naming section, insn, symbol. */
struct ftramp_bpf_error {
	int code;		/* enum ftramp_bpf_errc */
	char msg[256];
};

struct ftramp_bpf_open_opts {
	size_t sz;			/* sizeof(struct ftramp_bpf_open_opts) */
	struct ftramp_bpf_error *err;	/* optional: why open/load failed */
	const char *name;		/* object name (default: file name) */
	/* how __load() runs the programs: enum ftramp_bpf_engine (0: the
	 * interpreter) */
	int engine;
};

/*
 * Parse an object: programs, maps, relocations.  Nothing runs, nothing is
 * allocated for maps yet.  NULL and errno: EINVAL (malformed, with
 * opts->err saying which and where), ENOENT/EACCES... for a file, ENOMEM.
 */
FTRAMP_API struct ftramp_bpf_object *
ftramp_bpf_object__open_mem(const void *buf, size_t size,
			    const struct ftramp_bpf_open_opts *opts);
FTRAMP_API struct ftramp_bpf_object *
ftramp_bpf_object__open_file(const char *path,
			     const struct ftramp_bpf_open_opts *opts);
/*
 * Create the maps (global data initialised from its sections), resolve
 * map references to addresses, check and verify every program
 * (Documentation/bpf.rst, "The verifier").  0 or -errno; on error nothing stays created and the
 * open options' err says why.
 */
FTRAMP_API int ftramp_bpf_object__load(struct ftramp_bpf_object *obj);
/*
 * Attach every fentry/fexit/fmod_ret program (struct_ops programs are
 * not attached: see ftramp_bpf_program__thunk()) in one transaction: all
 * or none.  0 or -errno (ftramp_attach()'s errors).
 */
FTRAMP_API int ftramp_bpf_object__attach(struct ftramp_bpf_object *obj);
/* Detach what __attach() attached.  0 or -errno (then still attached). */
FTRAMP_API int ftramp_bpf_object__detach(struct ftramp_bpf_object *obj);
/* Detach, free maps and programs.  NULL is a no-op. */
FTRAMP_API void ftramp_bpf_object__close(struct ftramp_bpf_object *obj);
FTRAMP_API const char *
ftramp_bpf_object__name(const struct ftramp_bpf_object *obj);
FTRAMP_API const char *
ftramp_bpf_object__license(const struct ftramp_bpf_object *obj);

/* Iteration (prev NULL: the first) and lookup by name; NULL at the end. */
FTRAMP_API struct ftramp_bpf_program *
ftramp_bpf_object__next_program(const struct ftramp_bpf_object *obj,
				const struct ftramp_bpf_program *prev);
FTRAMP_API struct ftramp_bpf_program *
ftramp_bpf_object__find_program_by_name(const struct ftramp_bpf_object *obj,
					const char *name);
FTRAMP_API struct ftramp_bpf_map *
ftramp_bpf_object__next_map(const struct ftramp_bpf_object *obj,
			    const struct ftramp_bpf_map *prev);
FTRAMP_API struct ftramp_bpf_map *
ftramp_bpf_object__find_map_by_name(const struct ftramp_bpf_object *obj,
				    const char *name);

enum ftramp_bpf_prog_type {
	FTRAMP_BPF_PROG_RAW,		/* R1 = data, R2 = its size (ISA tests) */
	FTRAMP_BPF_PROG_FENTRY,
	FTRAMP_BPF_PROG_FEXIT,
	FTRAMP_BPF_PROG_FMOD_RET,
	FTRAMP_BPF_PROG_STRUCT_OPS,
};

enum ftramp_bpf_engine {
	FTRAMP_BPF_ENGINE_INTERP,	/* the interpreter (default) */
	FTRAMP_BPF_ENGINE_JIT,		/* the arm64 JIT (EOPNOTSUPP: */
					/* tail calls) */
	FTRAMP_BPF_ENGINE_AUTO,		/* the JIT, or the interpreter for a */
					/* program the JIT cannot take */
};

FTRAMP_API const char *
ftramp_bpf_program__name(const struct ftramp_bpf_program *prog);
/* The section, e.g. "fentry/prog_step". */
FTRAMP_API const char *
ftramp_bpf_program__section_name(const struct ftramp_bpf_program *prog);
/* The function the section names ("" for raw and struct_ops). */
FTRAMP_API const char *
ftramp_bpf_program__attach_target(const struct ftramp_bpf_program *prog);
FTRAMP_API enum ftramp_bpf_prog_type
ftramp_bpf_program__type(const struct ftramp_bpf_program *prog);
/* Instructions (after load: map references resolved to addresses). */
FTRAMP_API size_t
ftramp_bpf_program__insn_cnt(const struct ftramp_bpf_program *prog);
FTRAMP_API const struct ftramp_bpf_insn *
ftramp_bpf_program__insns(const struct ftramp_bpf_program *prog);
/*
 * The loaded program as a C handler (ftramp_prog_t), for ftramp_attach(),
 * ftramp_thunk__create() or a direct call.  NULL before load.
 */
FTRAMP_API ftramp_prog_t
ftramp_bpf_program__handler(const struct ftramp_bpf_program *prog);
/*
 * The engine a loaded program runs in: FTRAMP_BPF_ENGINE_INTERP or
 * FTRAMP_BPF_ENGINE_JIT (never _AUTO); -EINVAL before load.
 */
FTRAMP_API int ftramp_bpf_program__engine(const struct ftramp_bpf_program *prog);

struct ftramp_bpf_attach_opts {
	size_t sz;		/* sizeof(struct ftramp_bpf_attach_opts) */
	uint64_t cookie;	/* bpf_get_attach_cookie() */
	const char *func;	/* instead of the section's target */
	const struct ftramp_func_model *model;	/* as ftramp_attach_opts */
	bool force_far;
};

/*
 * Attach one loaded fentry/fexit/fmod_ret program.  NULL and errno as
 * ftramp_attach() (EINVAL for a raw or struct_ops program or one not
 * loaded).
 */
FTRAMP_API struct ftramp_bpf_link *
ftramp_bpf_program__attach(struct ftramp_bpf_program *prog,
			   const struct ftramp_bpf_attach_opts *opts);
FTRAMP_API int ftramp_bpf_link__destroy(struct ftramp_bpf_link *link);
FTRAMP_API struct ftramp_link *
ftramp_bpf_link__link(const struct ftramp_bpf_link *link);

/*
 * A struct_ops program as a native function of model @m (a C vtable
 * slot): ftramp_thunk__create() over the program's handler.  Free with
 * ftramp_thunk__destroy().  NULL and errno.
 */
FTRAMP_API void *ftramp_bpf_program__thunk(struct ftramp_bpf_program *prog,
					   const struct ftramp_func_model *m,
					   uint64_t cookie);

struct ftramp_bpf_prog_load_opts {
	size_t sz;		/* sizeof(struct ftramp_bpf_prog_load_opts) */
	int type;		/* enum ftramp_bpf_prog_type */
	int engine;		/* enum ftramp_bpf_engine */
	/* BPF_PSEUDO_MAP_FD/VALUE imm: an index into this array */
	struct ftramp_bpf_map *const *maps;
	size_t nr_maps;
	const char *name;
	struct ftramp_bpf_error *err;	/* optional: why it was refused */
	/* optional: the attach target's model, bounding ctx at load */
	const struct ftramp_func_model *model;
};

/*
 * Load raw instructions.  NULL and errno EINVAL (opts->err says which
 * instruction and why), ENOMEM, EOPNOTSUPP (the JIT engine: a program
 * with tail calls; _AUTO runs it in the interpreter instead).
 */
FTRAMP_API struct ftramp_bpf_program *
ftramp_bpf_prog__load(const struct ftramp_bpf_insn *insns, size_t n,
		      const struct ftramp_bpf_prog_load_opts *opts);
/* Free a program from ftramp_bpf_prog__load().  NULL is a no-op. */
FTRAMP_API void ftramp_bpf_prog__free(struct ftramp_bpf_program *prog);

/* BPF_PROG_TEST_RUN */
struct ftramp_bpf_test_run_opts {
	size_t sz;		/* sizeof(struct ftramp_bpf_test_run_opts) */
	const void *data_in;	/* RAW: R1, copied to a buffer the program */
	void *data_out;		/*   may write; copied back to data_out */
	uint32_t data_size_in;	/*   R2 */
	uint32_t data_size_out;	/* in: data_out's size; out: bytes written */
	const void *ctx_in;	/* tracing: the u64 ctx[] (arguments, result) */
	uint32_t ctx_size_in;	/*   a multiple of 8, at most 13 slots */
	int repeat;		/* runs (0: 1) */
	uint64_t retval;	/* out: R0, all 64 bits */
	uint32_t duration;	/* out: average ns per run */
};

/* 0 or -errno (EINVAL: bad opts; the program's own faults kill it). */
FTRAMP_API int ftramp_bpf_prog__test_run(struct ftramp_bpf_program *prog,
					 struct ftramp_bpf_test_run_opts *opts);

/* Maps.  Semantics and flags as the kernel's (BPF_ANY, BPF_NOEXIST...). */
FTRAMP_API const char *ftramp_bpf_map__name(const struct ftramp_bpf_map *map);
FTRAMP_API uint32_t ftramp_bpf_map__type(const struct ftramp_bpf_map *map);
FTRAMP_API uint32_t
ftramp_bpf_map__key_size(const struct ftramp_bpf_map *map);
FTRAMP_API uint32_t
ftramp_bpf_map__value_size(const struct ftramp_bpf_map *map);
FTRAMP_API uint32_t
ftramp_bpf_map__max_entries(const struct ftramp_bpf_map *map);

struct ftramp_bpf_map_create_opts {
	size_t sz;		/* sizeof(struct ftramp_bpf_map_create_opts) */
	uint32_t map_flags;
};

/* A map of its own (BPF_MAP_TYPE_*).  NULL and errno EINVAL, E2BIG... */
FTRAMP_API struct ftramp_bpf_map *
ftramp_bpf_map__create(uint32_t type, const char *name, uint32_t key_size,
		       uint32_t value_size, uint32_t max_entries,
		       const struct ftramp_bpf_map_create_opts *opts);
/* Free a map from __create().  NULL is a no-op. */
FTRAMP_API void ftramp_bpf_map__free(struct ftramp_bpf_map *map);

/*
 * The libbpf 1.x element calls: sizes are checked (-EINVAL); per-CPU
 * maps take value_size rounded up to 8 times ftramp_bpf_num_cpus().
 * -ENOENT no such key (or no next key), -EEXIST/-ENOENT for
 * BPF_NOEXIST/BPF_EXIST, -E2BIG full.
 */
FTRAMP_API int ftramp_bpf_map__lookup_elem(const struct ftramp_bpf_map *map,
					   const void *key, size_t key_sz,
					   void *value, size_t value_sz,
					   uint64_t flags);
FTRAMP_API int ftramp_bpf_map__update_elem(struct ftramp_bpf_map *map,
					   const void *key, size_t key_sz,
					   const void *value, size_t value_sz,
					   uint64_t flags);
FTRAMP_API int ftramp_bpf_map__delete_elem(struct ftramp_bpf_map *map,
					   const void *key, size_t key_sz,
					   uint64_t flags);
/*
 * A PROG_ARRAY slot (the kernel's update with a program fd): @key gets
 * @prog, a loaded program, or with NULL is emptied (as delete_elem,
 * which also works on a prog array).  The array takes programs of one
 * type and engine, those of the first program that named it or was
 * stored in it (-EINVAL for another); a JIT'd program only when it was
 * JIT'd with the tail frame, i.e. loaded with a prog array among its maps
 * or calling bpf_tail_call (-EOPNOTSUPP).  A program that leaves the
 * slot is kept until no thread can be running it, and
 * ftramp_bpf_prog__free() on a program a slot holds frees it when the
 * last slot lets go (Documentation/bpf.rst, "Tail calls").  The slots
 * an object declares (`.values = { [K] = (void *)&prog }`) are filled
 * the same way by ftramp_bpf_object__load().  0, -E2BIG (key out of
 * range), -EINVAL, -EOPNOTSUPP.
 */
FTRAMP_API int ftramp_bpf_map__set_prog(struct ftramp_bpf_map *map,
					uint32_t key,
					struct ftramp_bpf_program *prog);
/* key NULL: the first key. */
FTRAMP_API int ftramp_bpf_map__get_next_key(const struct ftramp_bpf_map *map,
					    const void *key, void *next_key,
					    size_t key_sz);
/* Slots of the per-CPU maps (and bpf_get_smp_processor_id()'s range). */
FTRAMP_API int ftramp_bpf_num_cpus(void);

/*
 * A key (@value false) or value of @map, @size bytes at @data, as text
 * typed from the object's BTF when it has the type ({a=1, s="x"}, enum
 * names; global data maps as their variables), else hex; snprintf-style
 * into @buf: the length the whole text takes, or -EINVAL.
 */
FTRAMP_API int ftramp_bpf_map__format(const struct ftramp_bpf_map *map,
				      bool value, const void *data,
				      size_t size, char *buf, size_t bufsize);

/*
 * A RINGBUF map: call @cb for each committed record (discarded ones are
 * skipped), in order, until none is left or @cb returns non-zero.  The
 * number of records handed to @cb, or -errno (EINVAL: not a ring buffer).
 */
typedef int (*ftramp_bpf_ringbuf_cb)(void *ctx, void *data, size_t size);
FTRAMP_API int ftramp_bpf_map__ringbuf_consume(struct ftramp_bpf_map *map,
					       ftramp_bpf_ringbuf_cb cb,
					       void *ctx);

/*
 * Static branches (Documentation/bpf.rst, "Static branches"): an
 * instruction the JIT emits as one word, `nop` or `b target`, and the
 * interpreter as a flag, flipped at run time.  Two encodings, which
 * <linux/bpf.h> of older kernels lacks:
 *
 *  - BPF_JA (BPF_JMP, off; or BPF_JMP32, imm) with src_reg
 *    FTRAMP_BPF_STATIC_BRANCH_JA: "goto or nop", as in the kernel's
 *    static-branch proposal (LLVM's gotol_or_nop); with
 *    FTRAMP_BPF_STATIC_BRANCH_NOP too it starts as a nop (nop_or_gotol),
 *    else as the jump;
 *  - BPF_JMP | FTRAMP_BPF_JCOND with src_reg 0 (BPF_MAY_GOTO), off the
 *    target: may_goto's encoding, here a static branch that starts as a
 *    nop (no iteration budget: ftramp never takes it by itself).
 *
 * A key is the instruction index (as written) of a site; every site of
 * a program is its own key, unless an instruction-array map passed at
 * load (FTRAMP_BPF_MAP_TYPE_INSN_ARRAY, values struct
 * ftramp_bpf_insn_array_value with orig_off set) names several: then
 * any of them is the key of all of them.
 */
#define FTRAMP_BPF_JCOND		0xe0
#define FTRAMP_BPF_STATIC_BRANCH_JA	0x1
#define FTRAMP_BPF_STATIC_BRANCH_NOP	0x2
#define FTRAMP_BPF_MAP_TYPE_INSN_ARRAY	34

/*
 * An instruction-array value, the kernel's struct bpf_insn_array_value:
 * the user sets orig_off (an instruction index); the load fills
 * xlated_off (its index in the run form) and jitted_off (its byte offset
 * in the JIT image; 0 for the interpreter).
 */
struct ftramp_bpf_insn_array_value {
	uint32_t orig_off;
	uint32_t xlated_off;
	uint32_t jitted_off;
	uint32_t pad;
};

/*
 * Turn every site of @key on (each jumps to its target) or off (each is a
 * nop), in both engines: in the JIT image in one poke batch (one
 * synchronisation of every thread, all sites or none), then the
 * interpreter's flags.  A run that began before the call may see some
 * sites old and some new; every run that begins after it returns sees
 * the new state.  Serialised with other updates.  0 (also when already
 * so), -EINVAL (NULL program, @on not 0 or 1), -ENOEXEC (not loaded),
 * -ERANGE (@key beyond the program's instructions), -ENOENT (@key is no
 * static branch site), or the poke's errors (nothing changed).
 */
FTRAMP_API int ftramp_bpf_static_branch__update(struct ftramp_bpf_program *prog,
						uint32_t key, int on);

/*
 * Where bpf_trace_printk() lines go (a whole line, '\n' included): @cb,
 * or with NULL the default, standard error.  Process-wide.
 */
typedef void (*ftramp_bpf_print_fn)(void *ctx, const char *line, size_t len);
FTRAMP_API void ftramp_bpf_set_print(ftramp_bpf_print_fn cb, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* FTRAMP_FTRAMP_H */
