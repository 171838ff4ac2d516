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

#include "lib/lockdep.h"
#include "trampoline/image_life.h"
#include "trampoline/trampoline.h"

struct thunk {
	struct ftramp_image im;
	struct thunk *next;
};

static pthread_mutex_t thunks_lock = PTHREAD_MUTEX_INITIALIZER;
FTRAMP_LOCK_CLASS(thunks_lock, FTRAMP_LOCK_THUNKS);
static struct thunk *thunks;

FTRAMP_API void *ftramp_thunk__create(const struct ftramp_func_model *m,
				      ftramp_prog_t prog, uint64_t cookie)
{
	struct ftramp_tramp_link link = { .prog = prog, .cookie = cookie };
	struct ftramp_tramp_args args;
	struct thunk *th;
	int err;

	if (!m || !prog) {
		errno = EINVAL;
		return NULL;
	}
	memset(&args, 0, sizeof(args));
	args.model = m;
	args.flags = FTRAMP_TRAMP_F_AS_FUNC | FTRAMP_TRAMP_F_SKIP_FRAME |
		     FTRAMP_TRAMP_F_BTI;
	if (m->ret.cls == FTRAMP_TYPE_VOID)
		args.progs[FTRAMP_TRAMP_FENTRY] =
			(struct ftramp_tramp_links){ &link, 1 };
	else
		args.progs[FTRAMP_TRAMP_MODIFY_RETURN] =
			(struct ftramp_tramp_links){ &link, 1 };

	th = calloc(1, sizeof(*th));
	if (!th) {
		errno = ENOMEM;
		return NULL;
	}
	/*
	 * Anywhere, guarded where the kernel supports it.  No state: a C++
	 * program's exceptions pass through, nothing to release.
	 */
	err = ftramp_image__build(&th->im, &args,
				  &(struct ftramp_image_place){
					.name = "thunk",
					.text_flags = FTRAMP_TEXT_FAR |
						      FTRAMP_TEXT_BTI,
				  });
	if (err) {
		free(th);
		errno = -err;
		return NULL;
	}
	pthread_mutex_lock(&thunks_lock);
	th->next = thunks;
	thunks = th;
	pthread_mutex_unlock(&thunks_lock);
	return th->im.text.rx;
}

FTRAMP_API void ftramp_thunk__destroy(void *fn)
{
	struct thunk **p, *th = NULL;

	if (!fn)
		return;
	pthread_mutex_lock(&thunks_lock);
	for (p = &thunks; *p; p = &(*p)->next) {
		if ((*p)->im.text.rx == fn) {
			th = *p;
			*p = th->next;
			break;
		}
	}
	pthread_mutex_unlock(&thunks_lock);
	if (!th)
		return;
	ftramp_image__free(&th->im);
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
