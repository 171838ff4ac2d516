/* SPDX-License-Identifier: MIT */
/*
 * The trampoline builder: internal API between the arch emitter
 * (arch/arm64/trampoline.c), the runtime state of an image
 * (trampoline/image.c), the program helpers (trampoline/helpers.c), the
 * struct_ops thunks (trampoline/thunk.c) and the ftrace layer above.
 *
 * A trampoline converts one native AAPCS64 call into the BPF-style ctx
 * (Documentation/trampoline.rst):
 *
 *	ctx[-1]			pointer to the running program's run context
 *				(struct ftramp_run_ctx: IP, cookie, counts)
 *	ctx[0 .. nr_args-1]	the arguments, widened, as u64 slots
 *	ctx[nr_args ..]		the return value (fmod_ret, fexit)
 *
 * and runs, in this order:
 *
 *	fentry programs -> fmod_ret programs (the first non-zero return skips
 *	the original and becomes its result) -> the original with every
 *	argument register, x8 and the stack arguments restored -> fexit
 *	programs -> return to the caller.
 */
#ifndef FTRAMP_TRAMPOLINE_TRAMPOLINE_H
#define FTRAMP_TRAMPOLINE_TRAMPOLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ftramp/ftramp.h>

/* Program lists, in the order they run. */
enum ftramp_tramp_kind {
	FTRAMP_TRAMP_FENTRY,
	FTRAMP_TRAMP_MODIFY_RETURN,	/* fmod_ret */
	FTRAMP_TRAMP_FEXIT,
	FTRAMP_TRAMP_NR_KINDS,
};

/* At most this many programs per list (the kernel's BPF_MAX_TRAMP_LINKS). */
#define FTRAMP_TRAMP_MAX_PROGS	38

struct ftramp_tramp_link {
	ftramp_prog_t prog;
	uint64_t cookie;	/* ftramp_get_attach_cookie() */
};

struct ftramp_tramp_links {
	const struct ftramp_tramp_link *links;
	unsigned int nr;
};

enum ftramp_tramp_flags {
	/*
	 * Call the original (the function body at orig_addr) between the
	 * fmod_ret and the fexit programs, then return to the traced
	 * function's caller.  Required by fexit and fmod_ret programs.
	 */
	FTRAMP_TRAMP_F_CALL_ORIG	= 1u << 0,
	/*
	 * Return to the traced function's caller instead of into its body
	 * (implied by CALL_ORIG).  Alone, the trampoline replaces the
	 * function: the result is the last fmod_ret value, or 0.
	 */
	FTRAMP_TRAMP_F_SKIP_FRAME	= 1u << 1,
	/*
	 * Entered by an ordinary call (x30 = return address, no x9), not
	 * from a patched site: one frame record, return with ret.  With
	 * CALL_ORIG it calls func_addr itself, so it can wrap any function
	 * pointer (a vtable slot).  Implies SKIP_FRAME.  Used by thunks.
	 */
	FTRAMP_TRAMP_F_AS_FUNC		= 1u << 2,
	/* Start with `bti c`: the image sits in a PROT_BTI (guarded) page. */
	FTRAMP_TRAMP_F_BTI		= 1u << 3,
	/* The CPU has ARMv8.1 LSE atomics (HWCAP_ATOMICS): use STADD. */
	FTRAMP_TRAMP_F_LSE		= 1u << 4,
};

#define FTRAMP_TRAMP_F_ALL	0x1fu

/*
 * Runtime state of one image, owned by the layer that installs it
 * (trampoline/image.c: ftramp_tramp_state_init()).  The image holds the
 * address of this struct: it must outlive the image.
 */
struct ftramp_tramp_state {
	/*
	 * Threads between the in-flight increment and the decrement
	 * (Documentation/trampoline.rst, "In-flight counter"): every
	 * instruction from the one after the increment, which follows the
	 * argument saves, to the decrement, which precedes the epilogue,
	 * including the original function and every program.  Not covered:
	 * the prologue and argument saves before it, and the last 3-5
	 * instructions (epilogue and return) after it.
	 */
	uint64_t inflight;
	/* Entries whose programs were skipped by the recursion guard. */
	uint64_t misses;
	/*
	 * Recursion guard: byte guard_slot of a per-thread table reached as
	 * *(uint8_t **)(TPIDR_EL0 + guard_tls_off).  guard_slow() is called
	 * (AAPCS64) while the pointer is still NULL on this thread; it
	 * returns the table, or NULL to count a miss.  guard_slot < 0: no
	 * guard.
	 */
	int32_t guard_slot;
	int64_t guard_tls_off;
	uint8_t *(*guard_slow)(void);
};

/* Size of the per-thread guard table: slots 0 .. FTRAMP_GUARD_SLOTS-1. */
#define FTRAMP_GUARD_SLOTS	4096

/*
 * What the builder needs.  model NULL: unknown model (every argument
 * register x0-x7, q0-q7, x8 is saved and restored; ctx exposes x0-x7 as 8
 * slots; fexit sees ctx[8] = x0, ctx[9] = d0; FTRAMP_UNKNOWN_STACK_BYTES of
 * the caller's stack are copied for the original).
 */
struct ftramp_tramp_args {
	const struct ftramp_func_model *model;
	struct ftramp_tramp_links progs[FTRAMP_TRAMP_NR_KINDS];
	unsigned int flags;		/* enum ftramp_tramp_flags */
	/* The traced function (its symbol): ftramp_get_func_ip(). */
	uint64_t func_addr;
	/*
	 * Where the original continues when CALL_ORIG: the site's return
	 * address (x30 on entry).  0: func_addr + 8 for a site (two NOPs
	 * before the body, DESIGN.md section 1), func_addr with AS_FUNC.
	 */
	uint64_t orig_addr;
	/* NULL: no recursion guard, no counters (thunks, tests). */
	struct ftramp_tramp_state *state;
};

#define FTRAMP_UNKNOWN_STACK_BYTES	64

/*
 * The run context a program's ctx[-1] points to.  It lives in the image
 * (read-only, next to the code): one per distinct (cookie, kind) of the
 * image's programs.
 */
struct ftramp_run_ctx {
	uint64_t func_ip;
	uint64_t cookie;
	uint16_t nr_args;	/* ctx argument slots */
	uint8_t nr_ret;		/* ctx result slots, 0 for void */
	uint8_t kind;		/* enum ftramp_tramp_kind */
	uint8_t ret_cls;	/* enum ftramp_type_class; 0xff: unknown */
	uint8_t ret_size;	/* bytes of the result (FLOAT: 4/8/16) */
	uint8_t ret_indirect;	/* ctx[nr_args] is the x8 pointer */
	uint8_t pad;
	uint64_t reserved;
};

#define FTRAMP_RET_UNKNOWN	0xff

/*
 * Build a trampoline.
 *
 * Pass 1, sizing: rw == NULL.  Returns an upper bound of the image size in
 * bytes (code, literal pool, run contexts), independent of where it will
 * live.  Pass 2: rw is a writable buffer of `size` bytes (at least the
 * bound) whose code executes at rx (8-byte aligned; the rw and rx views
 * may differ).  The emitter lays the image out for rx first (branches
 * that reach become BL, others go through a literal), checks that the
 * result fits the bound, then writes it; returns the exact size used.
 * Nothing outside rw is touched; the caller does cache maintenance.
 *
 * Errors: -EINVAL (bad flags, NULL or missing program, fmod_ret on a void
 * function, fexit without CALL_ORIG (it needs the original's result),
 * fmod_ret with neither CALL_ORIG nor SKIP_FRAME, a malformed model,
 * rx not 8-byte aligned), -E2BIG (too many arguments or stack slots, too
 * many programs, a frame beyond the encodable size, rw smaller than
 * needed), -EOPNOTSUPP (variadic model), -EFAULT (internal: pass 2
 * outgrew pass 1).
 */
int ftramp_arch_prepare_trampoline(const struct ftramp_tramp_args *args,
				   void *rw, uint64_t rx, size_t size);

/* trampoline/image.c: the runtime state of one image. */

/*
 * Fill *st: counters zeroed, a guard slot allocated (slots are shared
 * round-robin once FTRAMP_GUARD_SLOTS images exist: a shared slot makes
 * the guard coarser, never wrong).  0 or negative errno.
 */
int ftramp_tramp_state_init(struct ftramp_tramp_state *st);
/* Release the guard slot; no thread may still run the image. */
void ftramp_tramp_state_fini(struct ftramp_tramp_state *st);
/* Atomic reads of the counters. */
uint64_t ftramp_tramp_state_inflight(const struct ftramp_tramp_state *st);
uint64_t ftramp_tramp_state_misses(const struct ftramp_tramp_state *st);
/* True when this CPU has LSE atomics (sets FTRAMP_TRAMP_F_LSE). */
bool ftramp_tramp_cpu_has_lse(void);

#endif /* FTRAMP_TRAMPOLINE_TRAMPOLINE_H */
