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
 * Options structs start with `size_t sz`, set by the caller to
 * sizeof(struct); fields beyond what the library knows must be zero.
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

/* At least 8 GP + 8 FP/SIMD registers plus 8 stack slots. */
#define FTRAMP_MAX_ARGS		24

enum ftramp_type_class {
	FTRAMP_TYPE_VOID = 0,	/* return type only */
	FTRAMP_TYPE_INT,	/* integer, bool, enum or pointer: size 1/2/4/8 */
	FTRAMP_TYPE_FLOAT,	/* float (4), double (8), long double (16) */
	FTRAMP_TYPE_HFA,	/* 2-4 floats or doubles: nmemb x elem_size */
	FTRAMP_TYPE_STRUCT,	/* other composite: <= 16 bytes in GP regs or
				 * on the stack, larger ones by reference
				 * (arguments) or through x8 (results) */
};

enum ftramp_type_flags {
	FTRAMP_TYPE_SIGNED	= 1u << 0,	/* INT: sign-extend to 64 bits */
	FTRAMP_TYPE_POINTER	= 1u << 1,	/* INT: a pointer (formatting) */
	FTRAMP_TYPE_STRING	= 1u << 2,	/* INT: a char pointer */
};

struct ftramp_type {
	uint16_t cls;		/* enum ftramp_type_class */
	uint16_t flags;		/* enum ftramp_type_flags */
	uint32_t size;		/* size in bytes */
	uint8_t nmemb;		/* HFA: number of members (2-4) */
	uint8_t elem_size;	/* HFA: member size (4 or 8) */
	uint16_t align;		/* alignment in bytes (0: natural) */
};

enum ftramp_model_flags {
	FTRAMP_MODEL_VARIADIC	= 1u << 0,	/* refused by the builder */
};

struct ftramp_func_model {
	struct ftramp_type ret;
	uint8_t nr_args;
	uint8_t flags;		/* enum ftramp_model_flags */
	struct ftramp_type args[FTRAMP_MAX_ARGS];
};

/* Model section: parser and helpers (owned by the trampoline layer). */
/* @@MODEL-API@@ */

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

/* @@PROG-API@@ */

/* @@THUNK-API@@ */

/* ======================================================================
 * Call sites and text patching (ftrace/sites.c, arch/arm64/patching.c)
 * ====================================================================== */

/* @@SITES-API@@ */

/* @@POKE-API@@ */

/* ======================================================================
 * ftrace ops, direct calls and the attach API (ftrace/)
 * ====================================================================== */

/* @@FTRACE-API@@ */

#ifdef __cplusplus
}
#endif

#endif /* FTRAMP_FTRAMP_H */
