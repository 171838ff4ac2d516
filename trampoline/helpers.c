// SPDX-License-Identifier: MIT
/*
 * Helpers for programs (PROG-API): what the kernel's bpf_get_func_ip(),
 * bpf_get_func_arg(), bpf_get_func_ret(), bpf_get_func_arg_cnt() and
 * bpf_get_attach_cookie() do for tracing programs, here read from the run
 * context at ctx[-1] (struct ftramp_run_ctx): the image state's, stored
 * once at entry for every program with the first program's cookie, or
 * one kept in the image next to the code, stored before a program with
 * another cookie.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <ftramp/ftramp.h>

#include "trampoline/trampoline.h"

static const struct ftramp_run_ctx *run_ctx(const uint64_t *ctx)
{
	const struct ftramp_run_ctx *r;

	memcpy(&r, &ctx[-1], sizeof(r));
	return r;
}

/* The result slots are readable after fentry (fmod_ret, fexit). */
static bool ret_readable(const struct ftramp_run_ctx *r)
{
	return r->kind != FTRAMP_TRAMP_FENTRY &&
	       r->kind != FTRAMP_RUN_CTX_UNWOUND && r->nr_ret;
}

static int ret_err(const struct ftramp_run_ctx *r)
{
	return r->kind == FTRAMP_RUN_CTX_UNWOUND ? -ENODATA : -EOPNOTSUPP;
}

FTRAMP_API uint64_t ftramp_get_func_ip(const uint64_t *ctx)
{
	return run_ctx(ctx)->func_ip;
}

FTRAMP_API uint64_t ftramp_get_func_arg_cnt(const uint64_t *ctx)
{
	return run_ctx(ctx)->nr_args;
}

/* Argument slot n into *v (size bytes: little-endian, the low ones). */
static int get_arg(const uint64_t *ctx, uint32_t n, void *v, size_t size)
{
	if (n >= run_ctx(ctx)->nr_args)
		return -EINVAL;
	memcpy(v, &ctx[n], size);
	return 0;
}

FTRAMP_API int ftramp_get_func_arg(const uint64_t *ctx, uint32_t n,
				   uint64_t *v)
{
	return get_arg(ctx, n, v, sizeof(*v));
}

FTRAMP_API int ftramp_get_func_ret(const uint64_t *ctx, uint64_t *v)
{
	const struct ftramp_run_ctx *r = run_ctx(ctx);

	if (!ret_readable(r))
		return ret_err(r);
	*v = ctx[r->nr_args];
	return 0;
}

FTRAMP_API void *ftramp_get_func_ret_ptr(const uint64_t *ctx)
{
	const struct ftramp_run_ctx *r = run_ctx(ctx);
	uint64_t *slot = (uint64_t *)(uintptr_t)&ctx[r->nr_args];

	if (!ret_readable(r))
		return NULL;
	if (r->ret_indirect)
		return (void *)(uintptr_t)*slot;
	return slot;
}

FTRAMP_API uint64_t ftramp_get_attach_cookie(const uint64_t *ctx)
{
	return run_ctx(ctx)->cookie;
}

FTRAMP_API int ftramp_get_func_unwound(const uint64_t *ctx)
{
	return run_ctx(ctx)->kind == FTRAMP_RUN_CTX_UNWOUND;
}

FTRAMP_API int ftramp_get_func_arg_double(const uint64_t *ctx, uint32_t n,
					  double *v)
{
	return get_arg(ctx, n, v, sizeof(*v));
}

FTRAMP_API int ftramp_get_func_arg_float(const uint64_t *ctx, uint32_t n,
					 float *v)
{
	/* The float's bits are the low half of the slot. */
	return get_arg(ctx, n, v, sizeof(*v));
}

FTRAMP_API int ftramp_get_func_ret_double(const uint64_t *ctx, double *v)
{
	const struct ftramp_run_ctx *r = run_ctx(ctx);
	const uint64_t *slot = &ctx[r->nr_args];
	float f;

	if (!ret_readable(r))
		return ret_err(r);
	if (r->ret_cls == FTRAMP_RET_UNKNOWN) {
		/* No model: ctx[n] = x0, ctx[n + 1] = d0. */
		memcpy(v, &slot[1], sizeof(*v));
		return 0;
	}
	if (r->ret_cls != FTRAMP_TYPE_FLOAT || r->ret_size > 8)
		return -EINVAL;
	if (r->ret_size == 4) {
		memcpy(&f, slot, sizeof(f));
		*v = f;
		return 0;
	}
	memcpy(v, slot, sizeof(*v));
	return 0;
}
