// SPDX-License-Identifier: MIT
/*
 * Runtime unwinder registration of generated code (unwind.h).
 *
 * Why the personality is needed, not only CFI: an unwind that leaves an
 * image's frame skips its epilogue, which is what releases this thread's
 * guard byte and its in-flight unit.  A leaked unit keeps the image from
 * ever being freed (every later ftramp_sync(-1) waits for ever); a leaked
 * guard byte makes every later entry on the thread a miss.  So the FDE
 * names ftramp_unwind_personality(), and its LSDA is the registration
 * itself: the state, the code's start and the rows, whose `held` says
 * what the frame holds at each call the unwinder can come from.
 *
 * Phase 1 (search) passes through: the frame has no handler.  Phase 2
 * (cleanup, also forced: pthread_cancel, pthread_exit) releases, in the
 * epilogue's order (guard byte, then the in-flight unit with release
 * semantics), and continues.  After the decrement the image and this
 * registration may be freed by reclamation, so nothing of either is read
 * after it; the unwinder itself has copied the frame's rules before it
 * calls a personality (libgcc: uw_frame_state_for() fills its
 * _Unwind_FrameState, then the personality runs, then
 * uw_update_context() reads only that copy and the stack).
 *
 * A frame whose shadow record is up (a modelled fexit image, from its
 * entry to its pop; a return hook's, through the stub's personality) is
 * released as a dead record (image.c): its fexit programs run once,
 * with ftramp_get_func_unwound() 1 and no result, as for a frame a
 * longjmp() left, so that a tracer closes the call and nests the next
 * one right.  They run from the cleanup phase, on the unwinding thread,
 * under the image's guard byte like any program run.  The exit is
 * counted as unwound either way.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unwind.h>

#include "lib/lockdep.h"
#include "trampoline/trampoline.h"
#include "trampoline/unwind.h"

struct ftramp_unwind {
	/* The LSDA: what the personality reads. */
	struct ftramp_tramp_state *state;
	uint64_t start;
	uint64_t stub;		/* a return hook's exit stub, or 0 */
	unsigned int nr_rows;
	struct a64_uw_row *rows;
	/* The registered .eh_frame, 8-byte aligned, in this allocation. */
	uint8_t *eh;
	size_t eh_size;
};

/*
 * The unwinder's entry points, all from one library: the personality is
 * called with that library's _Unwind_Context.
 */
static struct {
	void (*register_frame)(void *);
	void (*deregister_frame)(void *);
	void *(*get_lsda)(struct _Unwind_Context *);
	_Unwind_Ptr (*get_ip_info)(struct _Unwind_Context *, int *);
	_Unwind_Word (*get_cfa)(struct _Unwind_Context *);
} uw;
static pthread_once_t uw_once = PTHREAD_ONCE_INIT;
/*
 * Around libgcc's calls, which take its own object lock: taken by the
 * fork handler (ftrace/fork.c), so that a fork never copies that lock
 * held by one of our registrations.
 */
static pthread_mutex_t uw_lock = PTHREAD_MUTEX_INITIALIZER;
FTRAMP_LOCK_CLASS(uw_lock, FTRAMP_LOCK_UNWIND);
static bool uw_ok;

/* libgcc's FDE lookup (unwind-dw2-fde.h): what a finder fills in. */
struct dwarf_eh_bases {
	void *tbase;
	void *dbase;
	void *func;
};

typedef const void *(*find_fde_fn)(void *, struct dwarf_eh_bases *);

static find_fde_fn real_find_fde_fn;
static find_fde_fn real_find_fde(void);
static bool in_this_object(const void *f);

static bool uw_bind(void *h)
{
	uw.register_frame = (void (*)(void *))dlsym(h, "__register_frame");
	uw.deregister_frame = (void (*)(void *))dlsym(h, "__deregister_frame");
	uw.get_lsda = (void *(*)(struct _Unwind_Context *))
		dlsym(h, "_Unwind_GetLanguageSpecificData");
	uw.get_ip_info = (_Unwind_Ptr (*)(struct _Unwind_Context *, int *))
		dlsym(h, "_Unwind_GetIPInfo");
	uw.get_cfa = (_Unwind_Word (*)(struct _Unwind_Context *))
		dlsym(h, "_Unwind_GetCFA");
	return uw.register_frame && uw.deregister_frame && uw.get_lsda &&
	       uw.get_ip_info && uw.get_cfa;
}

/*
 * The unwinder linked into a static program (libgcc_eh.a): weak, so that
 * nothing pulls it in; when the program unwinds at all (pthread_cancel(),
 * exceptions), the link brought these along, and they are the only
 * unwinder that will ever see our frames.  A dynamic program has them
 * only through a loaded libgcc_s, which dlsym() finds first anyway.
 */
extern void __register_frame(void *) __attribute__((weak));
extern void __deregister_frame(void *) __attribute__((weak));
extern void *_Unwind_GetLanguageSpecificData(struct _Unwind_Context *)
	__attribute__((weak));
extern _Unwind_Ptr _Unwind_GetIPInfo(struct _Unwind_Context *, int *)
	__attribute__((weak));
extern _Unwind_Word _Unwind_GetCFA(struct _Unwind_Context *)
	__attribute__((weak));

static bool uw_bind_linked(void)
{
	if (!__register_frame || !__deregister_frame ||
	    !_Unwind_GetLanguageSpecificData || !_Unwind_GetIPInfo ||
	    !_Unwind_GetCFA)
		return false;
	uw.register_frame = __register_frame;
	uw.deregister_frame = __deregister_frame;
	uw.get_lsda = _Unwind_GetLanguageSpecificData;
	uw.get_ip_info = _Unwind_GetIPInfo;
	uw.get_cfa = _Unwind_GetCFA;
	return true;
}

/*
 * The unwinder already in the process (a C++ program's libgcc_s), else
 * the one linked into a static program, else libgcc_s.so.1 loaded now:
 * glibc's pthread_cancel() dlopens the same soname, so it then unwinds
 * with the copy our frames are in.  (A static program that links no
 * unwinder cannot unwind through anything: the loaded copy is unused.)
 */
static void uw_init(void)
{
	void *h;

	if (dlsym(RTLD_DEFAULT, "__register_frame") && uw_bind(RTLD_DEFAULT)) {
		uw_ok = true;
	} else if (uw_bind_linked()) {
		uw_ok = true;
	} else {
		h = dlopen("libgcc_s.so.1", RTLD_NOW);
		uw_ok = h && uw_bind(h);
	}
	/* The real FDE lookup, found while no unwinder is running. */
	if (uw_ok)
		real_find_fde();
}

/* Called by the unwinder for a frame whose FDE names it (unwind.h). */
static _Unwind_Reason_Code
ftramp_unwind_personality(int version, _Unwind_Action actions,
			  _Unwind_Exception_Class cls,
			  struct _Unwind_Exception *ex,
			  struct _Unwind_Context *ctx)
{
	const struct ftramp_unwind *u;
	const struct a64_uw_row *r;
	_Unwind_Ptr ip;
	int before = 0;

	(void)cls;
	(void)ex;
	if (version != 1)
		return _URC_FATAL_PHASE1_ERROR;
	if (!(actions & _UA_CLEANUP_PHASE))
		return _URC_CONTINUE_UNWIND;
	u = uw.get_lsda(ctx);
	if (!u || !u->state)
		return _URC_CONTINUE_UNWIND;
	/* A return address: the call is the instruction before it. */
	ip = uw.get_ip_info(ctx, &before);
	if (!before)
		ip--;
	r = a64_uw_row_at(u->rows, u->nr_rows, (uint32_t)(ip - u->start));
	if (r && r->held)
		ftramp_tramp_state_unwind(u->state, r->held,
					  (uint64_t)uw.get_cfa(ctx));
	return _URC_CONTINUE_UNWIND;
}

/* ------------------------------------------------------------------
 * Unwinding through a return hook (trampoline.rst, "Unwinding through a
 * return hook")
 *
 * A hooked body's saved return address is its image's exit stub; the
 * real one is in this thread's shadow stack.  libgcc's unwinder looks
 * up the FDE of every frame with _Unwind_Find_FDE(), an exported
 * function it calls through its own PLT, so libftramp's definition
 * (unwind_find.c, in the version node libgcc_s gives it, ftramp.map)
 * takes its place and calls ftramp_unwind_find_fde() below, as
 * the kernel's unwinders ask ftrace_graph_ret_addr() at a
 * return_to_handler.  For the address before a stub (an unwinder
 * looks up a return address minus one) it hands out the calling
 * thread's stub FDE (image.c, ftramp_tramp_hook_fde()): the unwinder
 * unwinds the thread it runs on.  Everything else is the real lookup.
 *
 * So the search phase, the cleanup phase, forced unwinds and
 * _Unwind_Backtrace() (glibc's backtrace()) all see the real callers.
 * The stub frame's personality releases the frame's records in the
 * cleanup phase, as the modelled images' personality does theirs.
 * ------------------------------------------------------------------ */

static _Unwind_Reason_Code
ftramp_unwind_hook_personality(int version, _Unwind_Action actions,
			       _Unwind_Exception_Class cls,
			       struct _Unwind_Exception *ex,
			       struct _Unwind_Context *ctx)
{
	(void)cls;
	(void)ex;
	if (version != 1)
		return _URC_FATAL_PHASE1_ERROR;
	/*
	 * libgcc's _Unwind_GetCFA() here is the CFA of the frame below,
	 * the hooked body's: the SP it was entered with, its records' sp.
	 */
	if ((actions & _UA_CLEANUP_PHASE) && uw.get_cfa)
		ftramp_tramp_hook_unwind((uint64_t)uw.get_cfa(ctx));
	return _URC_CONTINUE_UNWIND;
}

/*
 * The unwinder's own lookup: the next definition after ours, else the
 * one in libgcc_s.so.1 (glibc dlopens it RTLD_LOCAL for cancellation
 * and backtrace(), out of RTLD_NEXT's reach; opened with RTLD_NOLOAD
 * through the C library's dlopen, not ftrace's interposer).
 */
static find_fde_fn real_find_fde(void)
{
	find_fde_fn f = __atomic_load_n(&real_find_fde_fn, __ATOMIC_ACQUIRE);
	void *(*open)(const char *, int);
	void *h;

	if (f)
		return f;
	f = (find_fde_fn)dlsym(RTLD_NEXT, "_Unwind_Find_FDE");
	if (!f || in_this_object((const void *)f)) {
		f = NULL;
		open = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
		h = open ? open("libgcc_s.so.1", RTLD_NOW | RTLD_NOLOAD) : NULL;
		if (h)
			f = (find_fde_fn)dlsym(h, "_Unwind_Find_FDE");
		if (in_this_object((const void *)f))
			f = NULL;
	}
	if (f)
		__atomic_store_n(&real_find_fde_fn, f, __ATOMIC_RELEASE);
	return f;
}

/*
 * Is fde one of ours (a64_cfi_encode() with ftramp_unwind_personality,
 * whose LSDA is the registration)?  Then the registration.  Reads only
 * within the CIE's length, so any FDE the real lookup returns is safe.
 */
static const struct ftramp_unwind *ours(const uint8_t *fde)
{
	static const uint8_t aug[] = {
		1, 'z', 'P', 'L', 'R', 0, 4, 0x78, A64_DW_LR, 11,
		0 /* DW_EH_PE_absptr */,
	};
	uint64_t pers = (uint64_t)(uintptr_t)ftramp_unwind_personality;
	const uint8_t *cie;
	uint32_t len, id;
	uint64_t lsda;

	memcpy(&id, fde + 4, 4);
	cie = fde + 4 - id;
	memcpy(&len, cie, 4);
	if (len < 8 + sizeof(aug) + 8 || len == 0xffffffffu)
		return NULL;
	if (memcmp(cie + 8, aug, sizeof(aug)) ||
	    memcmp(cie + 8 + sizeof(aug), &pers, 8))
		return NULL;
	/* FDE: length, CIE pointer, pc_begin, pc_range, 8, the LSDA. */
	memcpy(&lsda, fde + 4 + 4 + 8 + 8 + 1, 8);
	return (const struct ftramp_unwind *)(uintptr_t)lsda;
}

const void *ftramp_unwind_find_fde(void *pc, void *b)
{
	struct dwarf_eh_bases *bases = b;
	find_fde_fn real = real_find_fde();
	const struct ftramp_unwind *u;
	const uint8_t *f;
	const void *hook;

	if (!real)
		return NULL;
	f = real(pc, bases);
	if (!f || !(u = ours(f)) || !u->stub ||
	    (uint64_t)(uintptr_t)pc + 1 != u->stub)
		return f;
	/* A return address into a stub, minus one: a hooked body's frame. */
	hook = ftramp_tramp_hook_fde((uint64_t)(uintptr_t)
				     ftramp_unwind_hook_personality);
	if (!hook)
		return f;
	bases->tbase = NULL;
	bases->dbase = NULL;
	bases->func = NULL;
	return hook;
}

/* Is f in the object that holds this file (libftramp's, or its host's)? */
static bool in_this_object(const void *f)
{
	Dl_info a, b;

	return f && dladdr(f, &a) &&
	       dladdr((const void *)ftramp_unwind_find_fde, &b) &&
	       a.dli_fbase == b.dli_fbase;
}

bool ftramp_unwind__hooks_ok(void)
{
	pthread_once(&uw_once, uw_init);
	return uw_ok && real_find_fde() &&
	       in_this_object(dlsym(RTLD_DEFAULT, "_Unwind_Find_FDE"));
}

void ftramp_unwind__set_stub(struct ftramp_unwind *u, const void *stub)
{
	if (u)
		u->stub = (uint64_t)(uintptr_t)stub;
}

int ftramp_unwind__register(const void *code, size_t size,
			    const struct a64_uw_row *rows, unsigned int nr,
			    struct ftramp_tramp_state *st,
			    struct ftramp_unwind **out)
{
	struct a64_cfi_fde fde = {
		.pc_begin = (uint64_t)(uintptr_t)code,
		.pc_range = size,
		.rows = rows,
		.nr_rows = nr,
	};
	struct ftramp_unwind *u;
	size_t rows_size = nr * sizeof(*rows), hdr;
	long need;

	*out = NULL;
	if (!code || !size || !rows || !nr)
		return -EINVAL;
	pthread_once(&uw_once, uw_init);
	if (!uw_ok)
		return -ENOSYS;
	/* Absolute pointers: the size does not depend on their values. */
	if (st)
		fde.personality = (uint64_t)(uintptr_t)ftramp_unwind_personality;
	need = a64_cfi_encode(NULL, 0, &fde, A64_CFI_EH_FRAME);
	if (need < 0)
		return (int)need;
	hdr = (sizeof(*u) + rows_size + 7) & ~(size_t)7;
	u = calloc(1, hdr + (size_t)need);
	if (!u)
		return -ENOMEM;
	/* The LSDA is the registration itself. */
	if (st)
		fde.lsda = (uint64_t)(uintptr_t)u;
	u->state = st;
	u->start = fde.pc_begin;
	u->nr_rows = nr;
	u->rows = (struct a64_uw_row *)(u + 1);
	memcpy(u->rows, rows, rows_size);
	u->eh = (uint8_t *)u + hdr;
	u->eh_size = (size_t)need;
	if (a64_cfi_encode(u->eh, u->eh_size, &fde, A64_CFI_EH_FRAME) != need) {
		free(u);
		return -EINVAL;
	}
	pthread_mutex_lock(&uw_lock);
	uw.register_frame(u->eh);
	pthread_mutex_unlock(&uw_lock);
	*out = u;
	return 0;
}

void ftramp_unwind__unregister(struct ftramp_unwind *u)
{
	if (!u)
		return;
	pthread_mutex_lock(&uw_lock);
	uw.deregister_frame(u->eh);
	pthread_mutex_unlock(&uw_lock);
	free(u);
}

const uint8_t *ftramp_unwind__eh_frame(const struct ftramp_unwind *u,
				       size_t *size)
{
	*size = u ? u->eh_size : 0;
	return u ? u->eh : NULL;
}

/* fork(): 0 takes uw_lock, 1 (parent) and 2 (child) release it. */
void ftramp_unwind_atfork(int stage)
{
	if (stage == 0)
		pthread_mutex_lock(&uw_lock);
	else
		pthread_mutex_unlock(&uw_lock);
}
