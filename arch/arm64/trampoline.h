/* SPDX-License-Identifier: MIT */
/*
 * The trampoline emitter's interface (arch/arm64/trampoline.c): what it
 * is asked to build, the image's runtime state whose layout the emitted
 * code reads, and the notes it records.  trampoline/trampoline.h adds
 * the lifecycle of that state (trampoline/image.c) for the layers above.
 *
 * A trampoline converts one native AAPCS64 call into the BPF-style ctx
 * (Documentation/trampoline.rst):
 *
 *	ctx[-3]			the session cookie: one u64 per call, shared
 *				by its programs (ftramp_get_session_cookie())
 *	ctx[-2]			the caller's x19 (images with a guard)
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
#ifndef FTRAMP_ARCH_ARM64_TRAMPOLINE_H
#define FTRAMP_ARCH_ARM64_TRAMPOLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ftramp/ftramp.h>

#include "arch/arm64/eh_frame.h"

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
	/*
	 * The original's body (orig_addr) is known not to sit in a PROT_BTI
	 * page: out of BL range, call it with `ldr x16, =body; blr x16`.
	 * Without the flag it is reached with `adr x30; ret x16` (RET sets
	 * no BTYPE), one instruction more: a BLR into a guarded page must
	 * land on a pad, and the body is none.  Only a site's body is
	 * concerned (CALL_ORIG without AS_FUNC); set it only when certain,
	 * a wrong claim is a SIGILL on a BTI CPU.
	 */
	FTRAMP_TRAMP_F_ORIG_UNGUARDED	= 1u << 5,
	/*
	 * Zero the session cookie (ctx[-3], ftramp_get_session_cookie())
	 * at entry, before any program: some program uses it.  One store.
	 * Every image has the slot; without the flag it holds stack garbage.
	 */
	FTRAMP_TRAMP_F_SESSION		= 1u << 6,
};

#define FTRAMP_TRAMP_F_ALL	0x7fu

/* ctx index of the session cookie: ctx[-3] (ftramp_get_session_cookie()) */
#define FTRAMP_CTX_SESSION	(-3)

/*
 * The run context a program's ctx[-1] points to (PROG-API helpers read
 * it).  One lives in the image state (struct ftramp_tramp_state.rctx:
 * its first word is the in-flight counter, so one register holds the
 * address the trampoline counts at and stores as ctx[-1]); the image
 * holds more, read-only, for programs whose cookie differs from it.
 */
struct ftramp_run_ctx {
	uint64_t inflight;	/* the state's counter; 0 in an image */
	uint64_t func_ip;
	uint64_t cookie;
	uint16_t nr_args;	/* ctx argument slots */
	uint8_t nr_ret;		/* ctx result slots, 0 for void */
	uint8_t kind;		/* enum ftramp_tramp_kind, or ..._ANY */
	uint8_t ret_cls;	/* enum ftramp_type_class; 0xff: unknown */
	uint8_t ret_size;	/* bytes of the result (FLOAT: 4/8/16) */
	uint8_t ret_indirect;	/* ctx[nr_args] is the x8 pointer */
	uint8_t pad;
};

#define FTRAMP_RET_UNKNOWN	0xff
/*
 * The state's run context serves every program with its cookie, of any
 * kind: the result slot is readable when the image calls the original
 * or has fmod_ret programs (before the original ran, it holds 0 with
 * fmod_ret programs, else whatever the stack held: the kernel's verifier
 * refuses bpf_get_func_ret() in fentry programs; here it is the
 * program's business).
 */
#define FTRAMP_RUN_CTX_ANY	0xfe
/* An fexit program run for an abandoned frame (no result). */
#define FTRAMP_RUN_CTX_UNWOUND	0xfd

/*
 * The in-flight counter moves by this much per thread (not by 1): the
 * emitted code adds the guard byte it just loaded, which is
 * FTRAMP_GUARD_FREE, and on the way out stores and adds one register
 * holding -FTRAMP_INFLIGHT_UNIT, whose low byte is FTRAMP_GUARD_FREE
 * again (0x80 is the one byte value b with (-b) & 0xff == b).  Only
 * zero / non-zero matters to the reclaimer;
 * ftramp_tramp_state_inflight() divides.
 */
#define FTRAMP_INFLIGHT_UNIT	0x80u
/* Guard byte values: FREE (not inside on this thread), BUSY (inside). */
#define FTRAMP_GUARD_FREE	0x80u
#define FTRAMP_GUARD_BUSY	0x00u

/*
 * Runtime state of one image, owned by the layer that installs it
 * (trampoline/image.c: ftramp_tramp_state_init()).  The image holds the
 * address of this struct: it must outlive the image, and it belongs to
 * one image (the builder fills rctx).
 */
struct ftramp_tramp_state {
	union {
		/*
		 * Threads between the in-flight increment and the
		 * decrement, FTRAMP_INFLIGHT_UNIT each
		 * (Documentation/trampoline.rst, "In-flight counter"):
		 * every instruction from the one after the increment, which
		 * follows the argument saves and the guard, to the
		 * decrement, which precedes the result reload, including the
		 * original function and every program (the guard is free
		 * while the original runs; the counter is not).  Not
		 * covered: the prologue and argument saves before it, and
		 * the last 3-5 instructions (result, epilogue and return)
		 * after it.
		 */
		uint64_t inflight;
		struct ftramp_run_ctx rctx;	/* rctx.inflight == inflight */
	};
	/* Entries whose programs were skipped by the recursion guard. */
	uint64_t misses;
	/*
	 * Recursion guard: byte guard_slot of a per-thread table reached as
	 * *(uint8_t **)(TPIDR_EL0 + guard_tls_off), FTRAMP_GUARD_FREE or
	 * _BUSY.  BUSY while this thread runs the image's programs, FREE
	 * otherwise, including while it runs the original.  A table
	 * pointer's low byte is FTRAMP_GUARD_FREE (the image frees its byte
	 * by storing the pointer).  A thread without a table yet points at
	 * guard_none (every
	 * byte BUSY): its first entry takes the miss path, which counts
	 * the thread in (inflight) and then calls guard_slow() (AAPCS64)
	 * when the table is guard_none; guard_slow()
	 * returns the thread's table, or NULL to count a miss.  guard_none
	 * NULL: the pointer starts NULL and is tested on every entry.
	 * guard_slot < 0: no guard.
	 */
	int32_t guard_slot;
	int64_t guard_tls_off;
	uint8_t *(*guard_slow)(void);
	const uint8_t *guard_none;
	/*
	 * The shadow return stack (below): entries found dead by their SP
	 * are released by these (AAPCS64 calls, made by the image while
	 * counted in flight).  NULL: no shadow records, no return hook.
	 */
	void (*shadow_prune)(uint8_t *tbl, uint64_t sp, uint64_t ra);
	uint64_t (*shadow_find)(uint8_t *tbl, uint64_t sp, uint64_t state);
	void (*shadow_drop)(uint8_t *tbl, uint64_t sp, uint64_t state);
	/*
	 * The image's code (set by the builder's write pass): a modelled
	 * record is live at an equal SP only for a tail call from its body,
	 * whose return address is in the image.
	 */
	uint64_t image_lo, image_hi;
	/*
	 * Exits that never came: an exception or a forced unwind
	 * (pthread_cancel, pthread_exit) took them through the frame
	 * instead of the epilogue (trampoline/unwind.c), or the frame was
	 * abandoned (longjmp) and its shadow record found dead.
	 */
	uint64_t unwound;
	/*
	 * Each unwound call is also added to these (FTRAMP_HIST links'
	 * ftramp_attach_opts.unwound), live: owned by the installer, alive
	 * as long as the image.
	 */
	uint64_t *const *unwound_to;
	unsigned int nr_unwound_to;
	/*
	 * The image's fexit programs, run (kind FTRAMP_RUN_CTX_UNWOUND)
	 * when one of its records is released: owned by the installer,
	 * alive as long as the image.
	 */
	const struct ftramp_tramp_link *fexit;
	unsigned int nr_fexit;
};

/*
 * The per-thread shadow return stack lives in the guard table's mapping,
 * its records after the slots (Documentation/trampoline.rst, "Shadow
 * stack"), its two header words in the table's bias, before it: at
 * tbl + FTRAMP_SHADOW_TOP the address of the topmost record's header, at
 * tbl + FTRAMP_SHADOW_LIMIT the highest top a push may start from.
 * Records are FTRAMP_SHADOW_SLOT bytes apart: 64 bytes of payload (a
 * return hook's x0-x7, for its fexit ctx), then the header, struct
 * ftramp_shadow_rec.  Headers never overlap payloads, so a header above
 * top always has state 0 (cleared when popped), which is how a record
 * being pushed is told apart.  The bottom record is a sentinel that is
 * never dead (sp = ~0, state = 0).
 */
struct ftramp_shadow_rec {
	uint64_t sp;		/* SP the function's body was entered with */
	uint64_t state;		/* struct ftramp_tramp_state * counting it,
				 * | FTRAMP_SHADOW_HOOK for a return hook;
				 * 0: being pushed, popped, or the sentinel */
	uint64_t link;		/* return hook: the exit stub (x30 the body
				 * was entered with) */
	uint64_t ra;		/* return hook: the caller's return address */
};

/* A return hook's record (link, ra and the payload are valid). */
#define FTRAMP_SHADOW_HOOK	1u

#define FTRAMP_SHADOW_TOP	(-16)	/* in the table's bias: one LDP */
#define FTRAMP_SHADOW_LIMIT	(-8)
#define FTRAMP_SHADOW_BASE	FTRAMP_GUARD_SLOTS
#define FTRAMP_SHADOW_SLOT	96u	/* payload 64, header 32 */
#define FTRAMP_SHADOW_PAYLOAD	64u
#define FTRAMP_SHADOW_BYTES	(FTRAMP_SHADOW_SLOT * 10923u)	/* ~1 MiB */

/* Size of the per-thread guard table: slots 0 .. FTRAMP_GUARD_SLOTS-1. */
#define FTRAMP_GUARD_SLOTS	4096
/*
 * Every guard table starts FTRAMP_GUARD_FREE bytes into its (page
 * aligned) mapping, so the pointer's low byte is FTRAMP_GUARD_FREE.
 */
#define FTRAMP_GUARD_TBL_BIAS	FTRAMP_GUARD_FREE

/*
 * What each stretch of an image does, in the order the emitter writes
 * them.  With args->notes the write pass records where each one starts:
 * `ftramp dump` prints them, so its commentary is the emitter's own and
 * cannot drift from the code.
 */
enum ftramp_tramp_part {
	FTRAMP_PART_BTI,		/* bti c */
	FTRAMP_PART_FRAME,		/* frame record, x29 */
	FTRAMP_PART_COUNT,		/* FTRAMP_COUNT counters += 1 */
	FTRAMP_PART_SAVE_ARGS,		/* arguments -> ctx */
	FTRAMP_PART_ZERO_RET,		/* result slots = 0 */
	FTRAMP_PART_SESSION,		/* session cookie = 0 */
	FTRAMP_PART_ENTER,		/* x19, ctx[-1], guard, in-flight ++ */
	FTRAMP_PART_PROG,		/* one program: kind, index */
	FTRAMP_PART_FMOD_SKIP,		/* fmod_ret: non-zero skips */
	FTRAMP_PART_GUARD_FREE,		/* guard free for the original */
	FTRAMP_PART_CALL_ORIG,		/* arguments back, call the original */
	FTRAMP_PART_SAVE_RET,		/* result -> ctx */
	FTRAMP_PART_GUARD_TAKE,		/* guard busy again for fexit */
	FTRAMP_PART_EXIT,		/* guard free, x19 back, x14 = -0x80 */
	FTRAMP_PART_DEC,		/* in-flight -- (release) */
	FTRAMP_PART_RESTORE_RET,	/* ctx -> result registers */
	FTRAMP_PART_RESTORE_ARGS,	/* ctx -> argument registers (body) */
	FTRAMP_PART_EPILOGUE,		/* frame down, return */
	FTRAMP_PART_MISS,		/* guard busy: first entry, or a miss */
	FTRAMP_PART_MISS_COUNT,		/* count it, run the original bare */
	FTRAMP_PART_SLOW,		/* map this thread's guard table */
	FTRAMP_PART_SHADOW_CHECK,	/* shadow stack: top record dead? */
	FTRAMP_PART_HOOK_PUSH,		/* return hook: shadow record */
	FTRAMP_PART_HOOK_BODY,		/* into the body, x30 = the stub */
	FTRAMP_PART_HOOK_STUB,		/* the exit stub: find the record */
	FTRAMP_PART_HOOK_POP,		/* record -> ctx, pop it */
	FTRAMP_PART_HOOK_FULL,		/* shadow stack full: run untraced */
	FTRAMP_PART_SHADOW_PUSH,	/* modelled: check the top, push ours */
	FTRAMP_PART_SHADOW_POP,		/* modelled fexit: pop it */
	FTRAMP_PART_HIST_ENTRY,		/* histogram: time into a record */
	FTRAMP_PART_HIST_EXIT,		/* its exit stub: one bucket += 1 */
	FTRAMP_PART_HIST_SLOW,		/* first entry on a thread, full */
	FTRAMP_PART_POOL,		/* literal pool (data) */
	FTRAMP_PART_RUN_CTX,		/* run contexts (data) */
	FTRAMP_NR_PARTS,
};

struct ftramp_tramp_note {
	uint32_t off;		/* byte offset of its first instruction */
	uint8_t part;		/* enum ftramp_tramp_part */
	uint8_t kind;		/* FTRAMP_PART_PROG: enum ftramp_tramp_kind */
	uint16_t index;		/* FTRAMP_PART_PROG: index in its list */
};

struct ftramp_tramp_notes {
	struct ftramp_tramp_note *v;	/* cap entries */
	unsigned int cap;
	unsigned int nr;	/* out: notes made; > cap: truncated */
};

/* One line on a part, e.g. "entry: take the guard, count in". */
const char *ftramp_tramp_part_desc(unsigned int part);

/*
 * What one instruction does, said by the emitter as it writes it
 * (args->insns, write pass): `ftramp dump` prints it beside the
 * disassembly, so no reader re-derives the frame or the registers.
 * Each `what` is a phrase (ftramp_tramp_insn_desc()); how says how the
 * instruction uses it:
 *
 *   FTRAMP_INSN_PLAIN  the phrase is the whole story;
 *   FTRAMP_INSN_CALL   calls what the phrase names (bl, blr x16);
 *   FTRAMP_INSN_LIT    loads its address or value from the pool;
 *   FTRAMP_INSN_JUMP   RETs into it (sets no BTYPE: no BTI check);
 *   FTRAMP_INSN_SAVE / _LOAD  stores / loads ctx slots slot .. slot +
 *                      nslots - 1 (slot -1: the run context pointer,
 *                      -2: the caller's x19, -3: the session cookie).
 *
 * FTRAMP_INSN_PROG names program `index` of `kind`.
 */
enum ftramp_insn_what {
	FTRAMP_INSN_NONE,
	FTRAMP_INSN_BTI,
	FTRAMP_INSN_RECORD_X9,
	FTRAMP_INSN_RECORD_LR,
	FTRAMP_INSN_FRAME,		/* imm: bytes */
	FTRAMP_INSN_FP,
	FTRAMP_INSN_SLOT,		/* SAVE/LOAD: slot, nslots */
	FTRAMP_INSN_WIDEN_ARG,
	FTRAMP_INSN_WIDEN_RET,
	FTRAMP_INSN_FLOAT_BITS,
	FTRAMP_INSN_STACK_ARG,
	FTRAMP_INSN_X8,
	FTRAMP_INSN_VREGS,
	FTRAMP_INSN_RET_REGS,
	FTRAMP_INSN_COPY_BASE,
	FTRAMP_INSN_COPY_STACK,
	FTRAMP_INSN_CALLER_RA,
	FTRAMP_INSN_STATE,
	FTRAMP_INSN_HOOK_STATE,
	FTRAMP_INSN_TLS,
	FTRAMP_INSN_TLS_OFF,
	FTRAMP_INSN_TABLE,
	FTRAMP_INSN_NO_TABLE,
	FTRAMP_INSN_GUARD_LOAD,
	FTRAMP_INSN_GUARD_BUSY,
	FTRAMP_INSN_GUARD_TAKE,
	FTRAMP_INSN_GUARD_FREE,
	FTRAMP_INSN_UNIT_INC,
	FTRAMP_INSN_UNIT_DEC,
	FTRAMP_INSN_INFLIGHT_INC,
	FTRAMP_INSN_INFLIGHT_DEC,
	FTRAMP_INSN_ONE,
	FTRAMP_INSN_COUNTER,
	FTRAMP_INSN_COUNT,
	FTRAMP_INSN_MISSES,
	FTRAMP_INSN_MISS,
	FTRAMP_INSN_LINK_MISSED,
	FTRAMP_INSN_LINK_MISS,
	FTRAMP_INSN_X19_BACK,
	FTRAMP_INSN_X19_STATE_BACK,
	FTRAMP_INSN_STATE_BACK,
	FTRAMP_INSN_ENTER_SAVE,
	FTRAMP_INSN_GUARD_NONE,
	FTRAMP_INSN_IS_NONE,
	FTRAMP_INSN_TO_SLOW,
	FTRAMP_INSN_GUARD_SLOW,
	FTRAMP_INSN_SLOW_NONE,
	FTRAMP_INSN_NEW_TABLE,
	FTRAMP_INSN_TO_OUT,
	FTRAMP_INSN_TO_TAKEN,
	FTRAMP_INSN_CTX_ARG,
	FTRAMP_INSN_RCTX,
	FTRAMP_INSN_PROG,		/* kind, index */
	FTRAMP_INSN_FMOD_SKIP,
	FTRAMP_INSN_SKIP_Q0,
	FTRAMP_INSN_ORIG,
	FTRAMP_INSN_ORIG_RA,
	FTRAMP_INSN_BODY,
	FTRAMP_INSN_BODY_RA,
	FTRAMP_INSN_CALLER_LR,
	FTRAMP_INSN_POP_RECORD,
	FTRAMP_INSN_POP_FRAME,
	FTRAMP_INSN_RET_CALLER,
	FTRAMP_INSN_TOP_LOAD,
	FTRAMP_INSN_TOP_SP,
	FTRAMP_INSN_CALLER_SP,
	FTRAMP_INSN_TOP_DEAD,
	FTRAMP_INSN_DEAD_OR_FULL,
	FTRAMP_INSN_ROOM,
	FTRAMP_INSN_PUSH_TOP,
	FTRAMP_INSN_TOP_STORE,
	FTRAMP_INSN_TOP_POPPED,
	FTRAMP_INSN_STXR,
	FTRAMP_INSN_RETRY,
	FTRAMP_INSN_PUSH_REC,
	FTRAMP_INSN_POP_TOP,
	FTRAMP_INSN_OUR_REC,
	FTRAMP_INSN_POP_REC,
	FTRAMP_INSN_ARGS_TO_REC,
	FTRAMP_INSN_STUB_ADDR,
	FTRAMP_INSN_REC_LINK_RA,
	FTRAMP_INSN_STUB_LR,
	FTRAMP_INSN_REC_HEADER,
	FTRAMP_INSN_REC_OURS,
	FTRAMP_INSN_REC_RA,
	FTRAMP_INSN_REC_ARGS,
	FTRAMP_INSN_REC_FREE,
	FTRAMP_INSN_TABLE_ARG,
	FTRAMP_INSN_OUR_SP,
	FTRAMP_INSN_TOP_ALIVE,
	FTRAMP_INSN_TO_PUSH,
	FTRAMP_INSN_NOT_OURS,
	FTRAMP_INSN_PAD,
	FTRAMP_INSN_SHADOW_PRUNE,
	FTRAMP_INSN_SHADOW_FIND,
	FTRAMP_INSN_SHADOW_DROP,
	FTRAMP_INSN_NEVER_RUN,
	FTRAMP_INSN_BACK,
	FTRAMP_INSN_HIST_REGS,
	FTRAMP_INSN_HIST_SLOW,
	FTRAMP_INSN_HIST_HAS_TABLE,
	FTRAMP_INSN_HIST_NEW_TABLE,
	FTRAMP_INSN_HIST_FULL,
	FTRAMP_INSN_HIST_TIME,
	FTRAMP_INSN_HIST_TIME_REC,
	FTRAMP_INSN_HIST_REC_TIME,
	FTRAMP_INSN_HIST_FOUND,
	FTRAMP_INSN_HIST_TICKS,
	FTRAMP_INSN_HIST_CLZ,
	FTRAMP_INSN_HIST_ARRAY,
	FTRAMP_INSN_HIST_BUCKET,
	FTRAMP_INSN_HIST_ADD,
	FTRAMP_NR_INSN_WHAT,
};

enum ftramp_insn_how {
	FTRAMP_INSN_PLAIN,
	FTRAMP_INSN_CALL,
	FTRAMP_INSN_LIT,
	FTRAMP_INSN_JUMP,
	FTRAMP_INSN_SAVE,
	FTRAMP_INSN_LOAD,
};

struct ftramp_tramp_insn {
	uint32_t off;		/* byte offset of the instruction */
	uint8_t what;		/* enum ftramp_insn_what */
	uint8_t how;		/* enum ftramp_insn_how */
	uint8_t kind;		/* FTRAMP_INSN_PROG: enum ftramp_tramp_kind */
	uint8_t nslots;		/* SAVE/LOAD: 1 or 2 */
	uint16_t index;		/* FTRAMP_INSN_PROG: index in its list */
	int16_t slot;		/* SAVE/LOAD: the first ctx slot */
	uint32_t imm;		/* FTRAMP_INSN_FRAME: bytes */
};

struct ftramp_tramp_insns {
	struct ftramp_tramp_insn *v;	/* cap entries */
	unsigned int cap;
	unsigned int nr;	/* out: notes made; > cap: truncated */
};

/* The phrase of an instruction note, e.g. "guard BUSY: programs run". */
const char *ftramp_tramp_insn_desc(unsigned int what);

/*
 * What the builder needs.  model NULL: unknown model (every argument
 * register x0-x7, q0-q7, x8 is saved and restored in full; ctx exposes
 * x0-x7 as 8 slots; fexit sees ctx[8] = x0, ctx[9] = d0).  With a guard
 * and the shadow stack (state->shadow_find), a site's original is never
 * called from a copied frame: it runs on its caller's stack and returns
 * into an exit stub of the image (the return hook).  Otherwise
 * (thunks, tests without a state) FTRAMP_UNKNOWN_STACK_BYTES of the
 * caller's stack are copied for the original.
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
	/* NULL, or where the write pass records what each part does. */
	struct ftramp_tramp_notes *notes;
	/* NULL, or where it records what each instruction does. */
	struct ftramp_tramp_insns *insns;
	/*
	 * NULL, or where the write pass records the unwind rows
	 * (arch/arm64/eh_frame.h): the CFI that trampoline/unwind.c
	 * registers with the runtime unwinder and the GDB JIT object carry.
	 */
	struct a64_uw_rows *unwind;
	/*
	 * Call counters (FTRAMP_COUNT links): each one += 1 (relaxed) at
	 * every entry, first thing after the frame, before the recursion
	 * guard: exact, whatever the guard decides.  Without any program
	 * the image is only that: the counters, then into the body (no
	 * frame, no ctx, no in-flight count: it calls nothing, so all of
	 * it is a window the reclaimer's scans see).
	 */
	uint64_t *const *counts;
	unsigned int nr_counts;
	/*
	 * Per-link miss counters: each one += 1 on every entry whose
	 * programs the recursion guard skipped (state->misses counts them
	 * for the image).  Used only with a guard.
	 */
	uint64_t *const *missed;
	unsigned int nr_missed;
	/*
	 * Latency histograms (FTRAMP_HIST links), FTRAMP_HIST_BUCKETS u64
	 * each.  With counters at most and no program, entered from a site
	 * and with a state that has the shadow stack, the image is a lean
	 * return hook (Documentation/trampoline.rst, "Histogram images"):
	 * the entry time (CNTVCT_EL0) goes into the call's shadow record,
	 * the body returns into the image's exit stub, which adds 1 to
	 * bucket[64 - clz(ticks)] of each histogram and returns.  No
	 * frame, no ctx, no recursion guard (no program runs).
	 */
	uint64_t *const *hists;
	unsigned int nr_hists;
};

/* At most this many counters of each kind (counts, missed). */
#define FTRAMP_TRAMP_MAX_COUNTERS	(3 * FTRAMP_TRAMP_MAX_PROGS)

#define FTRAMP_UNKNOWN_STACK_BYTES	64

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
 * Nothing outside rw is touched but args->state->rctx (the run context
 * programs with the first program's cookie see) and image_lo/hi; the
 * caller does cache maintenance.
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

/*
 * Passes 1 and 2 without the write: the size of the image laid out at rx
 * (8-byte aligned, not 0), the bound in *bound (if not NULL).  What a
 * prepare at rx would return, at two thirds of the cost: an allocator
 * sizes its request with it before it knows where the image goes.  The
 * errors of ftramp_arch_prepare_trampoline(); rx 0 returns the bound.
 */
int ftramp_arch_trampoline_size(const struct ftramp_tramp_args *args,
				uint64_t rx, size_t *bound);

#endif /* FTRAMP_ARCH_ARM64_TRAMPOLINE_H */
