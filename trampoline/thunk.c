// SPDX-License-Identifier: MIT
/*
 * struct_ops thunks: native functions that call ctx programs.
 *
 * The reverse of a trampoline: a C caller calls the thunk with the
 * model's AAPCS64 signature; the thunk packs the arguments into ctx,
 * calls the program, and returns its value in the register class the
 * model's result needs.  It is a trampoline built with AS_FUNC (plain
 * call and return, one frame record) and SKIP_FRAME (no original): the
 * program runs as the single fmod_ret program, so its u64 lands in the
 * result slot and is returned from there; for a void function it runs as
 * fentry.  `bti c` starts every thunk since it is only ever called
 * through a pointer, and the memory is PROT_BTI where the kernel has it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <ftramp/ftramp.h>

#include "arch/arm64/text_alloc.h"
#include "lib/lockdep.h"
#include "trampoline/jitdebug.h"
#include "trampoline/trampoline.h"
#include "trampoline/unwind.h"

struct thunk {
	struct ftramp_text text;
	int jit;		/* debugger/profiler registration, or < 0 */
	struct ftramp_unwind *uw;	/* runtime unwinder registration */
	struct thunk *next;
};

static pthread_mutex_t thunks_lock = PTHREAD_MUTEX_INITIALIZER;
FTRAMP_LOCK_CLASS(thunks_lock, FTRAMP_LOCK_THUNKS);
static struct thunk *thunks;

FTRAMP_API void *ftramp_thunk__create(const struct ftramp_func_model *m,
				      ftramp_prog_t prog, uint64_t cookie)
{
	struct ftramp_tramp_link link = { .prog = prog, .cookie = cookie };
	struct a64_uw_row uw_rows[16];
	struct a64_uw_rows uw = { .v = uw_rows, .cap = 16 };
	struct ftramp_tramp_args args;
	struct thunk *th;
	int size, err;

	if (!m || !prog) {
		errno = EINVAL;
		return NULL;
	}
	memset(&args, 0, sizeof(args));
	args.model = m;
	args.flags = FTRAMP_TRAMP_F_AS_FUNC | FTRAMP_TRAMP_F_SKIP_FRAME |
		     FTRAMP_TRAMP_F_BTI;
	args.unwind = &uw;
	if (m->ret.cls == FTRAMP_TYPE_VOID)
		args.progs[FTRAMP_TRAMP_FENTRY] =
			(struct ftramp_tramp_links){ &link, 1 };
	else
		args.progs[FTRAMP_TRAMP_MODIFY_RETURN] =
			(struct ftramp_tramp_links){ &link, 1 };

	size = ftramp_arch_prepare_trampoline(&args, NULL, 0, 0);
	if (size < 0) {
		errno = -size;
		return NULL;
	}
	th = calloc(1, sizeof(*th));
	if (!th) {
		errno = ENOMEM;
		return NULL;
	}
	/* Guarded memory where the kernel supports it, else plain. */
	err = ftramp_text_alloc(&th->text, size, 0,
				FTRAMP_TEXT_FAR | FTRAMP_TEXT_BTI);
	if (err)
		err = ftramp_text_alloc(&th->text, size, 0, FTRAMP_TEXT_FAR);
	if (err)
		goto out_free;
	err = ftramp_arch_prepare_trampoline(&args, th->text.rw,
					     (uint64_t)(uintptr_t)th->text.rx,
					     th->text.size);
	if (err < 0)
		goto out_text;
	size = err;
	err = ftramp_text_publish(&th->text);
	if (err)
		goto out_text;
	/* Let gdb unwind through it and perf name it. */
	if (uw.nr > uw.cap)
		uw.nr = 0;
	th->jit = ftramp_jitdebug__register("thunk",
					    (uint64_t)(uintptr_t)th->text.rx,
					    (size_t)size, uw.nr ? uw.v : NULL,
					    uw.nr);
	/* A C++ program's exceptions pass through (no state to release). */
	if (uw.nr)
		ftramp_unwind__register(th->text.rx, (size_t)size, uw.v, uw.nr,
					NULL, &th->uw);

	pthread_mutex_lock(&thunks_lock);
	th->next = thunks;
	thunks = th;
	pthread_mutex_unlock(&thunks_lock);
	return th->text.rx;

out_text:
	ftramp_text_free(&th->text);
out_free:
	free(th);
	errno = err < 0 ? -err : err;
	return NULL;
}

FTRAMP_API void ftramp_thunk__destroy(void *fn)
{
	struct thunk **p, *th = NULL;

	if (!fn)
		return;
	pthread_mutex_lock(&thunks_lock);
	for (p = &thunks; *p; p = &(*p)->next) {
		if ((*p)->text.rx == fn) {
			th = *p;
			*p = th->next;
			break;
		}
	}
	pthread_mutex_unlock(&thunks_lock);
	if (!th)
		return;
	if (th->jit >= 0)
		ftramp_jitdebug__unregister(th->jit);
	ftramp_unwind__unregister(th->uw);
	ftramp_text_free(&th->text);
	free(th);
}

/* fork(): 0 takes the lock, 1 (parent) and 2 (child) release it (ftrace/fork.c) */
void ftramp_thunk_atfork(int stage)
{
	if (stage == 0)
		pthread_mutex_lock(&thunks_lock);
	else
		pthread_mutex_unlock(&thunks_lock);
}
