// SPDX-License-Identifier: MIT
/*
 * Runtime state of a trampoline image: the in-flight and miss counters and
 * the per-thread recursion guard the emitted code reaches inline.
 *
 * The guard is a per-thread table of FTRAMP_GUARD_SLOTS bytes, one per
 * image (slot), found through an initial-exec TLS pointer: the offset of
 * ftramp_guard_tbl from the thread pointer (TPIDR_EL0) is the same in
 * every thread, so a trampoline finds its byte with `mrs` and two loads,
 * no call (the kernel's per-CPU prog->active, per thread).  Until a
 * thread has a table, its pointer is guard_none, every byte BUSY, so the
 * emitted fast path needs no NULL test: the first entry takes the miss
 * path, which sees guard_none and calls guard_slow() to map the table
 * (every byte FREE).  A thread-exit destructor unmaps it and points the
 * thread back at guard_none for good.
 *
 * The table starts FTRAMP_GUARD_TBL_BIAS (0x80, FTRAMP_GUARD_FREE) bytes
 * into its mapping: an image frees its byte by storing the low byte of
 * the table pointer it holds in x19, with no constant to load.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include "arch/arm64/eh_frame.h"
#include "lib/lockdep.h"
#include "trampoline/trampoline.h"

#ifndef HWCAP_ATOMICS
#define HWCAP_ATOMICS	(1 << 8)	/* arm64 <asm/hwcap.h> */
#endif

/*
 * The table, then the shadow stack's header and records, then the
 * thread's exit-stub CFI (struct hook_cfi).
 */
#define HOOK_CFI_BYTES	512
#define GUARD_MAP_SIZE	(FTRAMP_GUARD_TBL_BIAS + FTRAMP_SHADOW_BASE + \
			 FTRAMP_SHADOW_BYTES + HOOK_CFI_BYTES)
_Static_assert(FTRAMP_GUARD_TBL_BIAS >= -FTRAMP_SHADOW_TOP,
	       "the shadow stack's header lives in the table's bias");

_Static_assert((FTRAMP_GUARD_TBL_BIAS & 0xff) == FTRAMP_GUARD_FREE,
	       "a guard table pointer's low byte must read FREE");

/*
 * Every slot BUSY (FTRAMP_GUARD_BUSY is 0): read, never written.  Its
 * shadow-stack header, in the bias before it as a real table's, says
 * "maybe dead and full": top is a record with sp 0, limit 0.  So a
 * histogram image's liveness and room check sends a thread without a
 * table to its slow path, with no test of its own.
 */
static struct {
	struct ftramp_shadow_rec none;
	const void *top;
	uint64_t limit;
	uint8_t slots[FTRAMP_GUARD_SLOTS];
} guard_none_tbl = { .top = &guard_none_tbl.none, .limit = 0 };
_Static_assert(offsetof(__typeof__(guard_none_tbl), slots) -
	       offsetof(__typeof__(guard_none_tbl), top) ==
	       -FTRAMP_SHADOW_TOP, "GUARD_NONE's header as a table's");
#define GUARD_NONE	(guard_none_tbl.slots)

static __thread uint8_t *ftramp_guard_tbl
	__attribute__((tls_model("initial-exec"))) = GUARD_NONE;
/* Set while guard_slow() runs: a traced function it calls is a miss. */
static __thread bool ftramp_guard_busy
	__attribute__((tls_model("initial-exec")));
/* The thread's table was torn down: entries count as misses. */
static __thread bool ftramp_guard_dead
	__attribute__((tls_model("initial-exec")));

/* Tests: runs inside guard_slow(), before and where it maps the table. */
static void (*guard_slow_hook)(int blocked);

static pthread_once_t guard_once = PTHREAD_ONCE_INIT;
static pthread_key_t guard_key;
static int guard_key_err;

static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
FTRAMP_LOCK_CLASS(slot_lock, FTRAMP_LOCK_SLOTS);
static uint8_t slot_used[FTRAMP_GUARD_SLOTS];	/* images per slot */
static unsigned int slot_next;
/*
 * Slots per sharing level, and the lowest level any slot has: a new
 * image takes the next slot at that level, found by a round-robin walk
 * that passes each slot once per level.  (A scan of every slot for the
 * least shared one, once all were taken, made attaching to 10,000
 * functions quadratic: issue 14.)
 */
static unsigned int slots_at[UINT8_MAX + 1] = { FTRAMP_GUARD_SLOTS };
static unsigned int slot_min;

static void shadow_release_all(uint8_t *tbl);

static void guard_destroy(void *tbl)
{
	/* Whatever runs after this on the thread runs as a miss. */
	ftramp_guard_dead = true;
	/* Frames still on the shadow stack will never return. */
	shadow_release_all(tbl);
	ftramp_guard_tbl = GUARD_NONE;
	munmap((uint8_t *)tbl - FTRAMP_GUARD_TBL_BIAS, GUARD_MAP_SIZE);
}

static void guard_key_init(void)
{
	guard_key_err = pthread_key_create(&guard_key, guard_destroy);
}

/* ------------------------------------------------------------------
 * The shadow return stack (Documentation/trampoline.rst, "Shadow stack")
 *
 * One per thread, in the guard table's mapping (so it is mapped by the
 * same guard_slow() call, with no other call or syscall on any path the
 * reclaimer cannot see).  Records grow upwards; the word at
 * tbl + FTRAMP_SHADOW_TOP points at the topmost record's header.  Every
 * image that has a record on it is counted in flight (its entry
 * incremented the count; the matching exit decrements it), so a record
 * whose frame was abandoned (longjmp, siglongjmp, unwinding) leaks that
 * count until it is found here and released.
 *
 * Liveness from the stack pointer alone (AAPCS64 6.4.5.1: SP is restored
 * by every return; the stack grows down): a record says the body was
 * entered with SP = rec->sp, and x30 = the exit stub (rec->link, return
 * hook) or a return point in the image (modelled).  While it is live,
 * every deeper call has SP < rec->sp, or SP == rec->sp when the body (or
 * what it tail-called) branched to the next function with x30 unchanged.
 * So at a new entry with the caller's SP `sp` and return address `ra`, a
 * record with rec->sp < sp, or rec->sp == sp and an `ra` that is not its
 * x30, is dead.  At an exit every record above its own is dead.
 *
 * The one exception is a signal handler on an alternate signal stack
 * that lies above the thread's stack: its SP is above every record of
 * the interrupted code.  A release is checked against sigaltstack(2):
 * while on it, records outside it are never released.
 *
 * Signals (a handler runs on the same thread, between two instructions,
 * and sees them in program order): a push first moves top to the new
 * header, then writes the record, its state last; a pop moves top down,
 * then clears the state.  So a handler never overwrites a record it can
 * see, and a header it sees with state 0 (being written) is never
 * released; every header above top has state 0 (slots are uniform,
 * headers never overlap payloads, and the mapping starts zeroed).
 * ------------------------------------------------------------------ */

static uint64_t *shadow_top(uint8_t *tbl)
{
	return (uint64_t *)(tbl + FTRAMP_SHADOW_TOP);
}

static void shadow_init(uint8_t *tbl)
{
	struct ftramp_shadow_rec *s = (struct ftramp_shadow_rec *)
		(tbl + FTRAMP_SHADOW_BASE + FTRAMP_SHADOW_PAYLOAD);
	uint8_t *end = tbl + FTRAMP_SHADOW_BASE + FTRAMP_SHADOW_BYTES;

	s->sp = UINT64_MAX;	/* the sentinel is never dead */
	s->state = 0;
	s->link = 0;
	s->ra = 0;
	*shadow_top(tbl) = (uint64_t)(uintptr_t)s;
	/* The highest top a push may start from: its slot must fit. */
	*(uint64_t *)(tbl + FTRAMP_SHADOW_LIMIT) = (uint64_t)(uintptr_t)
		(end - FTRAMP_SHADOW_SLOT - sizeof(*s));
}

/*
 * Report a dead record to its image's fexit programs: ctx as the image
 * builds it (x0-x7 from a return hook's record, else zeros; no result;
 * the hidden slots below it: ctx[-1] the run context, of kind
 * FTRAMP_RUN_CTX_UNWOUND, ctx[-2] unused, ctx[-3] a session cookie of
 * 0, the call's own being gone with its frame).  Under the image's
 * guard byte like any program run (busy: a miss).  The record's count is
 * still held, so the image, its state and its program list are alive.
 */
static void shadow_report(uint8_t *tbl, struct ftramp_tramp_state *st,
			  const uint64_t *args)
{
	uint64_t buf[3 + FTRAMP_MAX_CTX_ARGS + FTRAMP_MAX_CTX_RET];
	uint64_t *ctx = buf + 3;
	struct ftramp_run_ctx rc;
	unsigned int i, n;
	uint8_t *g;

	if (!st->nr_fexit)
		return;
	g = st->guard_slot >= 0 ? &tbl[st->guard_slot] : NULL;
	if (g && *g != FTRAMP_GUARD_FREE) {
		__atomic_fetch_add(&st->misses, 1, __ATOMIC_RELAXED);
		return;
	}
	if (g)
		*g = FTRAMP_GUARD_BUSY;
	memcpy(&rc, &st->rctx, sizeof(rc));
	rc.inflight = 0;
	rc.kind = FTRAMP_RUN_CTX_UNWOUND;
	n = rc.nr_args + rc.nr_ret;
	if (n > FTRAMP_MAX_CTX_ARGS + FTRAMP_MAX_CTX_RET)
		n = FTRAMP_MAX_CTX_ARGS + FTRAMP_MAX_CTX_RET;
	for (i = 0; i < st->nr_fexit; i++) {
		const struct ftramp_run_ctx *rp = &rc;

		rc.cookie = st->fexit[i].cookie;
		memset(buf, 0, sizeof(buf[0]) * (3 + n));
		memcpy(&ctx[-1], &rp, sizeof(rp));
		if (args)
			memcpy(ctx, args, 8 * (rc.nr_args < 8 ? rc.nr_args : 8));
		st->fexit[i].prog(ctx);
	}
	if (g)
		*g = FTRAMP_GUARD_FREE;
}

/* One call that never came back through the image's exit: count it. */
static void count_unwound(struct ftramp_tramp_state *st)
{
	__atomic_fetch_add(&st->unwound, 1, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < st->nr_unwound_to; i++)
		__atomic_fetch_add(st->unwound_to[i], 1, __ATOMIC_RELAXED);
}

/*
 * Drop the top record (dead): pop it, report it, count it unwound and
 * release its in-flight count, in that order.
 */
static void shadow_release_top(uint8_t *tbl, struct ftramp_shadow_rec *r)
{
	struct ftramp_tramp_state *st = (struct ftramp_tramp_state *)
		(uintptr_t)(r->state & ~(uint64_t)FTRAMP_SHADOW_HOOK);
	bool hook = r->state & FTRAMP_SHADOW_HOOK;
	uint64_t args[8];

	if (hook)
		memcpy(args, (uint8_t *)r - FTRAMP_SHADOW_PAYLOAD, sizeof(args));
	__atomic_store_n(shadow_top(tbl),
			 (uint64_t)(uintptr_t)((uint8_t *)r - FTRAMP_SHADOW_SLOT),
			 __ATOMIC_RELAXED);
	r->state = 0;
	shadow_report(tbl, st, hook ? args : NULL);
	count_unwound(st);
	/*
	 * The last touch of the image state: once the count may read zero
	 * the reclaimer may free it (release, as the image's own exit).
	 */
	__atomic_fetch_sub(&st->inflight, FTRAMP_INFLIGHT_UNIT,
			   __ATOMIC_RELEASE);
}

/* Is sp on this thread's alternate signal stack (and are we on it)? */
static bool on_altstack(uint64_t sp, uint64_t *lo, uint64_t *hi)
{
	stack_t ss;

	if (sigaltstack(NULL, &ss) || !(ss.ss_flags & SS_ONSTACK))
		return false;
	*lo = (uint64_t)(uintptr_t)ss.ss_sp;
	*hi = *lo + ss.ss_size;
	return sp >= *lo && sp <= *hi;
}

/* Could a call with return address ra be a tail call from r's body? */
static bool tail_of(const struct ftramp_shadow_rec *r, uint64_t ra)
{
	const struct ftramp_tramp_state *st;

	if (r->state & FTRAMP_SHADOW_HOOK)
		return ra == r->link;
	st = (const struct ftramp_tramp_state *)(uintptr_t)r->state;
	return ra >= st->image_lo && ra < st->image_hi;
}

static void shadow_prune(uint8_t *tbl, uint64_t sp, uint64_t ra)
{
	bool checked = false, alt = false;
	uint64_t lo = 0, hi = 0;

	for (;;) {
		struct ftramp_shadow_rec *r = (struct ftramp_shadow_rec *)
			(uintptr_t)*shadow_top(tbl);

		if (!r->state)
			return;
		if (!(r->sp < sp || (r->sp == sp && !tail_of(r, ra))))
			return;
		if (!checked) {
			alt = on_altstack(sp, &lo, &hi);
			checked = true;
		}
		if (alt && (r->sp < lo || r->sp > hi))
			return;
		shadow_release_top(tbl, r);
	}
}

/* Release every record above the one whose header is at p. */
static void release_above(uint8_t *tbl, uint8_t *p)
{
	while ((uint8_t *)(uintptr_t)*shadow_top(tbl) > p)
		shadow_release_top(tbl, (struct ftramp_shadow_rec *)(uintptr_t)
				   *shadow_top(tbl));
}

/*
 * A return hook's exit stub found its record not on top: release every
 * record above the topmost one with (sp, state), and return its header's
 * address.  None means the shadow stack lost a live record, and the
 * hooked function has nowhere to return to: say so and abort rather
 * than jump at random.
 */
static uint64_t shadow_find(uint8_t *tbl, uint64_t sp, uint64_t state)
{
	static const char msg[] =
		"ftramp: a hooked function's shadow return record is lost\n";
	struct ftramp_shadow_rec *r;
	uint8_t *p;

	p = (uint8_t *)(uintptr_t)*shadow_top(tbl);
	for (;;) {
		r = (struct ftramp_shadow_rec *)p;
		if (!r->state)
			break;
		if (r->sp == sp && r->state == state) {
			release_above(tbl, p);
			return (uint64_t)(uintptr_t)p;
		}
		p -= FTRAMP_SHADOW_SLOT;
	}
	if (write(2, msg, sizeof(msg) - 1) < 0)
		abort();
	abort();
}

/*
 * A modelled image's pop found the top record not its own (sp is the
 * SP its record holds, state its image state): release every record
 * above it (each has a lower sp: pushed by what the call ran, and dead
 * now), then pop its own if it is there (none when the stack was full
 * at entry).  The image's guard byte is free meanwhile whatever it was,
 * so that its own dead records are reported like any other.
 */
static void shadow_drop(uint8_t *tbl, uint64_t sp, uint64_t state)
{
	const struct ftramp_tramp_state *st = (const struct ftramp_tramp_state *)
		(uintptr_t)state;
	uint8_t *g = st->guard_slot >= 0 ? &tbl[st->guard_slot] : NULL;
	uint8_t saved = g ? *g : 0;
	struct ftramp_shadow_rec *r;

	if (g)
		*g = FTRAMP_GUARD_FREE;
	for (;;) {
		r = (struct ftramp_shadow_rec *)(uintptr_t)*shadow_top(tbl);
		if (!r->state || r->sp >= sp)
			break;
		shadow_release_top(tbl, r);
	}
	if (r->sp == sp && r->state == state) {
		r->sp = 0;
		r->state = 0;
		__atomic_store_n(shadow_top(tbl), (uint64_t)(uintptr_t)
				 ((uint8_t *)r - FTRAMP_SHADOW_SLOT),
				 __ATOMIC_RELAXED);
	}
	if (g)
		*g = saved;
}

static void shadow_release_all(uint8_t *tbl)
{
	for (;;) {
		struct ftramp_shadow_rec *r = (struct ftramp_shadow_rec *)
			(uintptr_t)*shadow_top(tbl);

		if (!r->state)
			return;
		shadow_release_top(tbl, r);
	}
}

/* ------------------------------------------------------------------
 * Unwinding out of a hooked body (Documentation/trampoline.rst,
 * "Unwinding through a return hook"; trampoline/unwind.c finds these)
 *
 * Each thread's mapping ends with the CIE and FDE of "the frame of an
 * exit stub" on this thread: CFA = SP, the return address read from
 * this thread's shadow stack by a DWARF expression that knows where its
 * top is (arch/arm64/eh_frame.h, struct a64_cfi_hook).  An expression
 * cannot read TPIDR_EL0, so the address is a constant of a per-thread
 * FDE; the unwinder runs on the thread it unwinds, and its FDE lookup
 * (interposed in unwind.c) hands out the calling thread's.
 * ------------------------------------------------------------------ */

struct hook_cfi {
	/* The record the personality has just popped: CFA, return address. */
	uint64_t pending[2];
	uint64_t personality;	/* what eh[] was built with; 0: not built */
	uint64_t fde_off;	/* the FDE within eh[] */
	uint8_t eh[HOOK_CFI_BYTES - 32];
};

static struct hook_cfi *hook_cfi(uint8_t *tbl)
{
	return (struct hook_cfi *)(tbl + FTRAMP_SHADOW_BASE +
				   FTRAMP_SHADOW_BYTES);
}

const void *ftramp_tramp_hook_fde(uint64_t personality)
{
	uint8_t *tbl = ftramp_guard_tbl;
	struct hook_cfi *c;
	struct a64_cfi_hook h = {
		.personality = personality,
		.slot = FTRAMP_SHADOW_SLOT,
		.sp_off = offsetof(struct ftramp_shadow_rec, sp),
		.state_off = offsetof(struct ftramp_shadow_rec, state),
		.ra_off = offsetof(struct ftramp_shadow_rec, ra),
		.hook_bit = FTRAMP_SHADOW_HOOK,
	};
	long n;

	if (tbl == GUARD_NONE)
		return NULL;
	c = hook_cfi(tbl);
	if (c->personality != personality || !c->fde_off) {
		h.top_addr = (uint64_t)(uintptr_t)shadow_top(tbl);
		h.pending_addr = (uint64_t)(uintptr_t)c->pending;
		n = a64_cfi_hook_encode(c->eh, sizeof(c->eh), &h);
		if (n < 0 || (size_t)n > sizeof(c->eh))
			return NULL;
		/* The CIE's length word, then the FDE. */
		c->fde_off = 4 + (c->eh[0] | c->eh[1] << 8 | c->eh[2] << 16 |
				  (uint32_t)c->eh[3] << 24);
		c->personality = personality;
	}
	return c->eh + c->fde_off;
}

/*
 * An unwind leaves the frame of a hooked body whose SP at entry was cfa
 * (the personality of the stub's frame, cleanup phase): every record
 * above that frame's is an inner frame the unwind has passed (or one
 * abandoned before); the frame's own are the hook records at cfa (more
 * than one when its body tail-called another hooked function).  Note
 * the return address for the unwinder's next step (it evaluates the
 * FDE's expression after this returns, with the records gone), then
 * release them all as dead: reported unwound, in-flight given back.
 */
void ftramp_tramp_hook_unwind(uint64_t cfa)
{
	uint8_t *tbl = ftramp_guard_tbl;
	struct ftramp_shadow_rec *r, *last = NULL;
	uint8_t *p;

	if (tbl == GUARD_NONE)
		return;
	for (p = (uint8_t *)(uintptr_t)*shadow_top(tbl);; p -= FTRAMP_SHADOW_SLOT) {
		r = (struct ftramp_shadow_rec *)p;
		if (r->sp == UINT64_MAX)
			break;
		if (!(r->state & FTRAMP_SHADOW_HOOK) || r->sp != cfa) {
			if (last)
				break;
			continue;
		}
		last = r;
	}
	if (!last)
		return;
	hook_cfi(tbl)->pending[0] = cfa;
	hook_cfi(tbl)->pending[1] = last->ra;
	while ((uint8_t *)(uintptr_t)*shadow_top(tbl) >= (uint8_t *)last)
		shadow_release_top(tbl, (struct ftramp_shadow_rec *)(uintptr_t)
				   *shadow_top(tbl));
}

/*
 * Called by an image (AAPCS64, arguments already saved, the thread
 * counted in the image's in-flight counter) when this thread's table
 * pointer is guard_none.  Returns the table, or NULL to make the entry a
 * counted miss (no memory, a torn-down thread, or re-entered from a
 * traced function called below).  The table comes from mmap rather than
 * malloc so that tracing malloc cannot recurse into here.  Signals are
 * blocked meanwhile: a handler that called a traced function here would
 * find no table yet and miss (a process timer's SIGALRM landing on a new
 * thread's first traced call); it runs when the table is there.
 */
static uint8_t *guard_slow(void)
{
	sigset_t all, old;
	uint8_t *map, *tbl;

	if (ftramp_guard_busy || ftramp_guard_dead)
		return NULL;
	if (ftramp_guard_tbl != GUARD_NONE)
		return ftramp_guard_tbl;
	if (__atomic_load_n(&guard_slow_hook, __ATOMIC_ACQUIRE))
		guard_slow_hook(0);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	/* A handler that ran before the block may have made it. */
	tbl = ftramp_guard_tbl;
	if (tbl != GUARD_NONE)
		goto out;
	ftramp_guard_busy = true;
	if (__atomic_load_n(&guard_slow_hook, __ATOMIC_ACQUIRE))
		guard_slow_hook(1);
	pthread_once(&guard_once, guard_key_init);
	tbl = NULL;
	if (!guard_key_err) {
		map = mmap(NULL, GUARD_MAP_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			   -1, 0);
		tbl = map == MAP_FAILED ? NULL : map + FTRAMP_GUARD_TBL_BIAS;
		if (tbl && pthread_setspecific(guard_key, tbl)) {
			munmap(map, GUARD_MAP_SIZE);
			tbl = NULL;
		} else if (tbl) {
			memset(tbl, FTRAMP_GUARD_FREE, FTRAMP_GUARD_SLOTS);
			shadow_init(tbl);
		}
	}
	if (tbl)
		ftramp_guard_tbl = tbl;
	ftramp_guard_busy = false;
out:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return tbl;
}

void ftramp_tramp_set_guard_slow_hook(void (*hook)(int blocked))
{
	__atomic_store_n(&guard_slow_hook, hook, __ATOMIC_RELEASE);
}

int ftramp_tramp_state_init(struct ftramp_tramp_state *st)
{
	unsigned int i, best;

	if (!st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->guard_tls_off = (int64_t)((uintptr_t)&ftramp_guard_tbl -
				      (uintptr_t)__builtin_thread_pointer());
	st->guard_slow = guard_slow;
	st->guard_none = GUARD_NONE;
	st->shadow_prune = shadow_prune;
	st->shadow_find = shadow_find;
	st->shadow_drop = shadow_drop;

	/* A free slot if any, else one of the least shared. */
	pthread_mutex_lock(&slot_lock);
	if (slot_min == UINT8_MAX) {
		pthread_mutex_unlock(&slot_lock);
		return -ENOSPC;
	}
	best = slot_next;
	for (i = 0; i < FTRAMP_GUARD_SLOTS; i++) {
		best = (slot_next + i) % FTRAMP_GUARD_SLOTS;
		if (slot_used[best] == slot_min)
			break;
	}
	slots_at[slot_used[best]]--;
	slots_at[++slot_used[best]]++;
	while (!slots_at[slot_min])
		slot_min++;
	slot_next = (best + 1) % FTRAMP_GUARD_SLOTS;
	pthread_mutex_unlock(&slot_lock);
	st->guard_slot = (int32_t)best;
	return 0;
}

void ftramp_tramp_state_fini(struct ftramp_tramp_state *st)
{
	if (!st || st->guard_slot < 0 || st->guard_slot >= FTRAMP_GUARD_SLOTS)
		return;
	pthread_mutex_lock(&slot_lock);
	if (slot_used[st->guard_slot]) {
		slots_at[slot_used[st->guard_slot]]--;
		slots_at[--slot_used[st->guard_slot]]++;
		if (slot_used[st->guard_slot] < slot_min)
			slot_min = slot_used[st->guard_slot];
	}
	pthread_mutex_unlock(&slot_lock);
	st->guard_slot = -1;
}

uint64_t ftramp_tramp_state_inflight(const struct ftramp_tramp_state *st)
{
	return __atomic_load_n(&st->inflight, __ATOMIC_ACQUIRE) /
	       FTRAMP_INFLIGHT_UNIT;
}

uint64_t ftramp_tramp_state_misses(const struct ftramp_tramp_state *st)
{
	return __atomic_load_n(&st->misses, __ATOMIC_RELAXED);
}

uint64_t ftramp_tramp_state_unwound(const struct ftramp_tramp_state *st)
{
	return __atomic_load_n(&st->unwound, __ATOMIC_RELAXED);
}

/*
 * The epilogue's releases, for a frame an unwind leaves (unwind.c).  The
 * table is this thread's, the one the entry loaded into x19: the thread
 * is still running (its TLS destructors run after a forced unwind ends).
 */
/*
 * The record of a modelled frame that an unwind is leaving, whose call
 * into the body had SP = cfa (libgcc's _Unwind_GetCFA() in a
 * personality: the CFA of the frame below).  Its record holds that SP
 * (x29, or SP+0 above copied stack arguments: emit_shadow_enter()).
 * Every record above it was pushed by what the call ran: a lower sp, or
 * the same one for a return hook the body tail-called.  NULL when it has
 * none: the stack was full at its entry, or the unwind began in its
 * fexit programs, after the pop.
 */
static struct ftramp_shadow_rec *shadow_own(uint8_t *tbl, uint64_t state,
					    uint64_t cfa)
{
	struct ftramp_shadow_rec *r;
	uint8_t *p;

	for (p = (uint8_t *)(uintptr_t)*shadow_top(tbl);; p -= FTRAMP_SHADOW_SLOT) {
		r = (struct ftramp_shadow_rec *)p;
		if (!r->state || r->sp > cfa)
			return NULL;
		if (r->sp == cfa && r->state == state)
			return r;
	}
}

/*
 * The epilogue's releases, for a frame an unwind leaves (unwind.c).  The
 * table is this thread's, the one the entry loaded into x19: the thread
 * is still running (its TLS destructors run after a forced unwind ends).
 *
 * A modelled fexit frame left while its record was up (from the entry to
 * the pop: the fentry and fmod_ret programs and the body) is a dead
 * record like one longjmp() leaves: released the same way, so reported
 * to the fexit programs as unwound (ftramp_get_func_unwound()), as a
 * return hook's frame is by its stub's personality and as the next entry
 * would report it after a longjmp().  Records above it are its callees'
 * not yet found (left by a longjmp() into the body before it threw):
 * released first, innermost first.  The guard byte goes back before, so
 * that the programs run.
 */
void ftramp_tramp_state_unwind(struct ftramp_tramp_state *st,
			       unsigned int held, uint64_t cfa)
{
	uint8_t *tbl = ftramp_guard_tbl;
	struct ftramp_shadow_rec *own = NULL;

	if ((held & A64_UW_GUARD) && tbl != GUARD_NONE &&
	    st->guard_slot >= 0 && st->guard_slot < FTRAMP_GUARD_SLOTS)
		__atomic_store_n(&tbl[st->guard_slot], FTRAMP_GUARD_FREE,
				 __ATOMIC_RELAXED);
	if ((held & A64_UW_INFLIGHT) && tbl != GUARD_NONE && st->shadow_drop)
		own = shadow_own(tbl, (uint64_t)(uintptr_t)st, cfa);
	if (own) {
		release_above(tbl, (uint8_t *)own);
		/* Counts it unwound and gives its unit back, last. */
		shadow_release_top(tbl, own);
		return;
	}
	if (held & A64_UW_INFLIGHT) {
		count_unwound(st);
		/* Last: the state may be freed once the count drops. */
		__atomic_fetch_sub(&st->inflight, FTRAMP_INFLIGHT_UNIT,
				   __ATOMIC_RELEASE);
	}
}

bool ftramp_tramp_cpu_has_lse(void)
{
	return getauxval(AT_HWCAP) & HWCAP_ATOMICS;
}

uint64_t ftramp_hist_freq(void)
{
#ifdef __aarch64__
	uint64_t f;

	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(f));
	return f;
#else
	return 0;
#endif
}

/* fork(): 0 takes the lock, 1 (parent) and 2 (child) release it (ftrace/fork.c) */
void ftramp_tramp_atfork(int stage)
{
	if (stage == 0)
		pthread_mutex_lock(&slot_lock);
	else
		pthread_mutex_unlock(&slot_lock);
}
