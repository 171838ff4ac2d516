// SPDX-License-Identifier: MIT
/*
 * Differential test of the whole AAPCS64 path on random signatures.
 *
 * scripts/gen-signatures.py (selftests/model.mk) generates ABI_SIGS
 * functions whose bodies hash every bit of every argument into their
 * result, a caller for each with fixed random arguments, and the expected
 * results and ctx contents, computed in Python from the C semantics alone.
 * Then:
 *
 *  1. Each prototype string goes through ftramp_model__parse(): the model
 *     must match the generator's classification, ctx slots and stack
 *     size, and the builder's own placement (arch/arm64/abi.c) must agree
 *     with the reference walk in trampoline/model.c.
 *  2. Untraced calls return exactly the expected bytes: this validates
 *     the generator, with gcc and clang callers and callees mixed (an
 *     ABI cross-check of the two compilers on the first chunk).
 *  3. Traced calls: a trampoline with fentry + fmod_ret (returning 0) +
 *     fexit programs is built from the parsed model and installed at the
 *     function's patchable entry (func+0 `mov x9, x30`, func+4 `bl
 *     tramp`); the call must return bit-exactly the same bytes, and the
 *     programs must see exactly the expected ctx: integers widened by
 *     their signedness, floats' bits zero-extended, HFAs and small
 *     composites as their memory image, large composites as a pointer to
 *     the caller's copy, the result at ctx[n] (x8's buffer for a large
 *     one).
 *  4. The same functions with no model (the unknown model, as for a
 *     function without debug info, variadic, or with more than 24
 *     arguments), built with an image state as ftramp_attach() builds
 *     it (guard, return hook): fentry only, fexit, fmod_ret (0) and
 *     fentry + fexit each return bit-exactly the same bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <ftramp/ftramp.h>
#include "arch/arm64/abi.h"
#include "arch/arm64/insn.h"
#include "arch/arm64/text_alloc.h"
#include "trampoline/model.h"
#include "trampoline/trampoline.h"
#include "abi_table.h"
/*
 * Thousands of generated signatures per test, each run traced and
 * untraced: about 80 s for unknown_model_gcc under QEMU on a loaded
 * 2-core machine, so the harness's 120 s default is too tight.
 */
#define TEST_TIMEOUT_DEFAULT 600
#include "harness.h"

#define MAX_LOGGED	8		/* failures printed per test */
#define REF_MAX		1024		/* largest by-reference value */

static bool masked_eq(const void *got, uint32_t img, uint32_t len)
{
	const uint8_t *g = got;

	for (uint32_t i = 0; i < len; i++)
		if ((g[i] ^ abi_img[img + i]) & abi_mask[img + i])
			return false;
	return true;
}

static void dump(const char *what, const void *got, uint32_t img,
		 uint32_t len)
{
	char a[200], b[200];
	const uint8_t *g = got;
	uint32_t i;

	for (i = 0; i < len && i < 64; i++) {
		snprintf(a + 3 * i, 4, "%02x ", g[i]);
		if (abi_mask[img + i])
			snprintf(b + 3 * i, 4, "%02x ", abi_img[img + i]);
		else
			snprintf(b + 3 * i, 4, "-- ");
	}
	a[3 * i] = b[3 * i] = '\0';
	fprintf(stderr, "#   %s: got      %s\n#   %s: expected %s\n", what, a,
		what, b);
}

/* ------------------------------------------------------------------ */
/* 1. Models                                                            */

struct walk_rec {
	struct ftramp_arg_loc loc[FTRAMP_MAX_ARGS];
};

static void walk_fn(void *data, unsigned int arg,
		    const struct ftramp_arg_loc *loc)
{
	((struct walk_rec *)data)->loc[arg] = *loc;
}

static int check_model(const struct abi_sig *s, char *why, size_t n)
{
	struct ftramp_parse_error e;
	struct ftramp_func_model m;
	struct a64_abi_layout lay;
	struct walk_rec w;
	int err;

	err = ftramp_model__parse(s->proto, &m, &e);
	if (err) {
		snprintf(why, n, "parse: %d %s", err, e.msg);
		return -1;
	}
	if (m.nr_args != s->nr_args) {
		snprintf(why, n, "nr_args %u", m.nr_args);
		return -1;
	}
	for (unsigned int i = 0; i <= m.nr_args; i++) {
		const struct ftramp_type *t = i < m.nr_args ? &m.args[i] :
					      &m.ret;
		const struct abi_val *v = i < m.nr_args ? &s->args[i] :
					  &s->ret;

		if (t->cls != v->cls || t->size != v->size ||
		    t->nmemb != v->nmemb || t->elem_size != v->elem ||
		    t->flags != v->flags ||
		    (v->cls && ftramp_type_align(t) != v->align)) {
			snprintf(why, n, "%s %u: cls %u/%u size %u/%u nmemb "
				 "%u/%u flags %x/%x align %u/%u",
				 i < m.nr_args ? "arg" : "ret", i, t->cls,
				 v->cls, t->size, v->size, t->nmemb, v->nmemb,
				 t->flags, v->flags, ftramp_type_align(t),
				 v->align);
			return -1;
		}
		if (i < m.nr_args &&
		    (ftramp_model__arg_ctx_off(&m, i) != v->slot ||
		     ftramp_type__ctx_slots(t) != v->nslots ||
		     ftramp_type__by_ref(t) != v->by_ref)) {
			snprintf(why, n, "arg %u: ctx slot %d+%d, by_ref %d",
				 i, ftramp_model__arg_ctx_off(&m, i),
				 ftramp_type__ctx_slots(t),
				 ftramp_type__by_ref(t));
			return -1;
		}
	}
	if (ftramp_model__nr_ctx_args(&m) != s->nr_slots ||
	    ftramp_model__nr_ctx_ret(&m) != s->ret.nslots ||
	    ftramp_model__ret_indirect(&m) != s->ret.by_ref) {
		snprintf(why, n, "ctx %d ret %d", ftramp_model__nr_ctx_args(&m),
			 ftramp_model__nr_ctx_ret(&m));
		return -1;
	}
	if (ftramp_model__stack_size(&m) != (int)s->nsaa) {
		snprintf(why, n, "stack %d, generator %u",
			 ftramp_model__stack_size(&m), s->nsaa);
		return -1;
	}

	/* the builder's placement against the reference walk */
	err = a64_abi_layout(&m, &lay);
	if (err) {
		snprintf(why, n, "a64_abi_layout: %d", err);
		return -1;
	}
	ftramp_model_walk(&m, walk_fn, &w, NULL);
	if (lay.nr_arg_slots != s->nr_slots) {
		snprintf(why, n, "layout: %u arg slots", lay.nr_arg_slots);
		return -1;
	}
	for (unsigned int i = 0; i < m.nr_args; i++) {
		const struct a64_arg_loc *a = &lay.args[i];
		const struct ftramp_arg_loc *r = &w.loc[i];
		bool same;

		switch (r->kind) {
		case FTRAMP_LOC_GP:
			same = a->kind == A64_LOC_GP && a->reg == r->reg &&
			       a->nregs == r->nregs;
			break;
		case FTRAMP_LOC_FP:
			same = a->kind == A64_LOC_FP && a->reg == r->reg &&
			       a->nregs == r->nregs;
			break;
		default:
			same = a->kind == A64_LOC_STACK &&
			       a->stack_off == r->stack_off;
			break;
		}
		if (!same || a->byref != r->by_ref ||
		    a->slot != s->args[i].slot ||
		    a->nslots != s->args[i].nslots) {
			snprintf(why, n, "layout of arg %u: builder kind %u "
				 "reg %u n %u off %u slot %u; reference kind "
				 "%u reg %u n %u off %u slot %u", i, a->kind,
				 a->reg, a->nregs, a->stack_off, a->slot,
				 r->kind, r->reg, r->nregs, r->stack_off,
				 s->args[i].slot);
			return -1;
		}
	}
	return 0;
}

TEST(models_match_the_generator)
{
	unsigned int bad = 0;
	char why[256];

	TH_LOG("%u signatures, seed %u", abi_nr_sigs, abi_seed);
	for (unsigned int i = 0; i < abi_nr_sigs; i++) {
		if (!check_model(&abi_sigs[i], why, sizeof(why)))
			continue;
		if (bad++ < MAX_LOGGED)
			TH_LOG("f%u: %s\n#   %s", i, why, abi_sigs[i].proto);
	}
	EXPECT_EQ(0, bad);
}

/* ------------------------------------------------------------------ */
/* 2. Untraced calls, gcc and clang mixed                               */

static uint8_t out_buf[REF_MAX] __attribute__((aligned(16)));

static unsigned int run_untraced(struct __test_metadata *_metadata,
				 size_t call_off, const struct abi_sig *sigs,
				 unsigned int nr, const char *who)
{
	unsigned int bad = 0;

	for (unsigned int i = 0; i < nr; i++) {
		const struct abi_sig *s = &sigs[i];
		void (*call)(void *);

		memcpy(&call, (const char *)s + call_off, sizeof(call));
		if (!call)
			continue;
		memset(out_buf, 0xa5, sizeof(out_buf));
		call(out_buf);
		if (masked_eq(out_buf, s->ret.mem_img, s->ret.mem_len))
			continue;
		if (bad++ < MAX_LOGGED) {
			TH_LOG("%s f%u: %s", who, i, s->proto);
			dump("result", out_buf, s->ret.mem_img,
			     s->ret.mem_len);
		}
	}
	return bad;
}

TEST(untraced_gcc)
{
	EXPECT_EQ(0, run_untraced(_metadata, offsetof(struct abi_sig, call_gg),
				  abi_sigs, abi_nr_sigs, "gcc->gcc"));
}

TEST(untraced_clang_gcc_cross)
{
	ASSERT_LT(0, abi_nr_xcheck);
	EXPECT_EQ(0, run_untraced(_metadata, offsetof(struct abi_sig, call_cg),
				  abi_sigs, abi_nr_xcheck, "clang->gcc"));
	EXPECT_EQ(0, run_untraced(_metadata, offsetof(struct abi_sig, call_gc),
				  abi_sigs, abi_nr_xcheck, "gcc->clang"));
	EXPECT_EQ(0, run_untraced(_metadata, offsetof(struct abi_sig, call_cc),
				  abi_sigs, abi_nr_xcheck, "clang->clang"));
}

/* ------------------------------------------------------------------ */
/* 3. Traced calls                                                      */

static struct {
	const struct abi_sig *sig;
	unsigned int entry, mod, exit;
	uint64_t entry_ip, exit_ip, entry_cnt;
	uint64_t ctx_entry[FTRAMP_MAX_CTX_ARGS];
	uint64_t ctx_mod[FTRAMP_MAX_CTX_ARGS];
	uint64_t ctx_exit[FTRAMP_MAX_CTX_ARGS + FTRAMP_MAX_CTX_RET];
	uint8_t ref_entry[FTRAMP_MAX_ARGS][REF_MAX];
	uint8_t ref_exit[FTRAMP_MAX_ARGS][REF_MAX];
	uint8_t ret_mem[REF_MAX];
	bool unknown;			/* no model: ctx is x0-x7, x0, d0 */
	uint64_t unk_e[8], unk_x[10];
} rec;

/* Copy what the by-reference arguments point to: the caller's copies. */
static void copy_refs(const uint64_t *ctx, uint8_t ref[][REF_MAX])
{
	const struct abi_sig *s = rec.sig;

	for (unsigned int i = 0; i < s->nr_args; i++)
		if (s->args[i].by_ref && s->args[i].size <= REF_MAX)
			memcpy(ref[i], (const void *)ctx[s->args[i].slot],
			       s->args[i].size);
}

static uint64_t prog_entry(const uint64_t *ctx)
{
	if (rec.unknown) {
		rec.entry++;
		memcpy(rec.unk_e, ctx, sizeof(rec.unk_e));
		return 0;
	}
	rec.entry++;
	rec.entry_ip = ftramp_get_func_ip(ctx);
	rec.entry_cnt = ftramp_get_func_arg_cnt(ctx);
	memcpy(rec.ctx_entry, ctx, rec.sig->nr_slots * 8);
	copy_refs(ctx, rec.ref_entry);
	return 0;
}

static uint64_t prog_mod(const uint64_t *ctx)
{
	rec.mod++;
	if (rec.unknown)
		return 0;
	memcpy(rec.ctx_mod, ctx, rec.sig->nr_slots * 8);
	return 0;	/* 0: call the original */
}

static uint64_t prog_exit(const uint64_t *ctx)
{
	const struct abi_sig *s = rec.sig;

	rec.exit++;
	rec.exit_ip = ftramp_get_func_ip(ctx);
	if (rec.unknown) {
		memcpy(rec.unk_x, ctx, sizeof(rec.unk_x));
		return 0;
	}
	memcpy(rec.ctx_exit, ctx, (s->nr_slots + s->ret.nslots) * 8);
	copy_refs(ctx, rec.ref_exit);
	if (s->ret.by_ref && s->ret.size <= REF_MAX)
		memcpy(rec.ret_mem, (const void *)ctx[s->nr_slots],
		       s->ret.size);
	return 0;
}

struct traced {
	struct ftramp_text text;
	struct ftramp_tramp_state state;	/* unknown model: the guard */
	bool has_state;
	void *fn;
};

/* Which programs: every kind, or the unknown model's modes. */
enum tmode { T_ALL, T_FENTRY, T_FEXIT, T_FMOD, T_BOTH, NR_TMODES };

static const char *const tmode_name[NR_TMODES] = {
	"fentry+fmod_ret+fexit", "fentry", "fexit", "fmod_ret", "fentry+fexit",
};

/*
 * Build the trampoline from the parsed model (NULL: the unknown model,
 * with an image state so that it gets the guard and the return hook, as
 * ftramp_attach() builds it) and patch fn's entry.
 */
static int attach(struct traced *t, const struct abi_sig *s, void *fn,
		  const struct ftramp_func_model *m, enum tmode mode)
{
	static const struct ftramp_tramp_link l_entry = { prog_entry, 1 };
	static const struct ftramp_tramp_link l_mod = { prog_mod, 2 };
	static const struct ftramp_tramp_link l_exit = { prog_exit, 3 };
	struct ftramp_tramp_args a = {
		.model = m,
		.flags = FTRAMP_TRAMP_F_CALL_ORIG,
		.func_addr = (uint64_t)fn,
	};
	struct ftramp_poke_batch *b;
	int size, err;

	if (mode == T_ALL || mode == T_FENTRY || mode == T_BOTH)
		a.progs[FTRAMP_TRAMP_FENTRY] =
			(struct ftramp_tramp_links){ &l_entry, 1 };
	/* fmod_ret on a void function is refused: nothing to return */
	if ((mode == T_ALL && s->ret.cls) || mode == T_FMOD)
		a.progs[FTRAMP_TRAMP_MODIFY_RETURN] =
			(struct ftramp_tramp_links){ &l_mod, 1 };
	if (mode == T_ALL || mode == T_FEXIT || mode == T_BOTH)
		a.progs[FTRAMP_TRAMP_FEXIT] =
			(struct ftramp_tramp_links){ &l_exit, 1 };
	if (mode == T_FENTRY)
		a.flags = 0;	/* returns into the body */

	memset(t, 0, sizeof(*t));
	t->fn = fn;
	if (!m) {
		err = ftramp_tramp_state_init(&t->state);
		if (err)
			return err;
		t->has_state = true;
		a.state = &t->state;
		if (ftramp_tramp_cpu_has_lse())
			a.flags |= FTRAMP_TRAMP_F_LSE;
	}
	size = ftramp_arch_prepare_trampoline(&a, NULL, 0, 0);
	if (size < 0)
		return size;
	err = ftramp_text_alloc(&t->text, size, (uint64_t)fn, 0);
	if (err)
		return err;
	if (t->text.far) {
		ftramp_text_free(&t->text);
		return -ERANGE;
	}
	size = ftramp_arch_prepare_trampoline(&a, t->text.rw,
					      (uint64_t)t->text.rx,
					      t->text.size);
	if (size < 0)
		goto fail;
	err = ftramp_text_publish(&t->text);
	if (err)
		goto fail_err;

	/* DESIGN.md section 1: func+0 mov x9, x30, then func+4 bl tramp */
	b = ftramp_poke_batch__new();
	if (!b) {
		err = -ENOMEM;
		goto fail_err;
	}
	ftramp_poke_batch__add_insn(b, fn, A64_NOP, A64_MOV_X9_X30,
				    FTRAMP_POKE_UNREACHABLE);
	ftramp_poke_batch__barrier(b);
	ftramp_poke_batch__add(b, (char *)fn + 4, FTRAMP_POKE_CALL, NULL,
			       t->text.rx);
	err = ftramp_poke_batch__commit(b);
	ftramp_poke_batch__free(b);
	if (err)
		goto fail_err;
	return 0;
fail:
	err = size;
fail_err:
	ftramp_text_free(&t->text);
	if (t->has_state)
		ftramp_tramp_state_fini(&t->state);
	return err;
}

static int detach(struct traced *t)
{
	struct ftramp_poke_batch *b = ftramp_poke_batch__new();
	int err;

	if (!b)
		return -ENOMEM;
	ftramp_poke_batch__add(b, (char *)t->fn + 4, FTRAMP_POKE_CALL,
			       t->text.rx, NULL);
	ftramp_poke_batch__barrier(b);
	ftramp_poke_batch__add_insn(b, t->fn, A64_MOV_X9_X30, A64_NOP,
				    FTRAMP_POKE_UNREACHABLE);
	err = ftramp_poke_batch__commit(b);
	ftramp_poke_batch__free(b);
	/* single-threaded: nothing can still run the image */
	if (!err) {
		ftramp_text_free(&t->text);
		if (t->has_state)
			ftramp_tramp_state_fini(&t->state);
	}
	return err;
}

/* Compare one traced call's records; returns a reason or NULL. */
static const char *check_traced(const struct abi_sig *s, void *fn)
{
	if (!masked_eq(out_buf, s->ret.mem_img, s->ret.mem_len)) {
		dump("result", out_buf, s->ret.mem_img, s->ret.mem_len);
		return "traced result differs";
	}
	if (rec.entry != 1 || rec.exit != 1 || rec.mod != !!s->ret.cls)
		return "programs did not run once each";
	if (rec.entry_ip != (uint64_t)fn || rec.exit_ip != (uint64_t)fn)
		return "ftramp_get_func_ip()";
	if (rec.entry_cnt != s->nr_slots)
		return "ftramp_get_func_arg_cnt()";
	for (unsigned int i = 0; i < s->nr_args; i++) {
		const struct abi_val *v = &s->args[i];
		const void *e = v->by_ref ? (void *)rec.ref_entry[i] :
					    (void *)&rec.ctx_entry[v->slot];
		const void *x = v->by_ref ? (void *)rec.ref_exit[i] :
					    (void *)&rec.ctx_exit[v->slot];

		if (!masked_eq(e, v->img, v->len)) {
			fprintf(stderr, "#   argument %u\n", i);
			dump("fentry", e, v->img, v->len);
			return "fentry ctx argument";
		}
		if (!masked_eq(x, v->img, v->len)) {
			fprintf(stderr, "#   argument %u\n", i);
			dump("fexit", x, v->img, v->len);
			return "fexit ctx argument";
		}
		if (s->ret.cls && !v->by_ref &&
		    !masked_eq(&rec.ctx_mod[v->slot], v->img, v->len))
			return "fmod_ret ctx argument";
	}
	if (s->ret.by_ref) {
		if (!masked_eq(rec.ret_mem, s->ret.img, s->ret.len)) {
			dump("x8 result", rec.ret_mem, s->ret.img,
			     s->ret.len);
			return "fexit result through x8";
		}
	} else if (s->ret.cls &&
		   !masked_eq(&rec.ctx_exit[s->nr_slots], s->ret.img,
			      s->ret.len)) {
		dump("ctx result", &rec.ctx_exit[s->nr_slots], s->ret.img,
		     s->ret.len);
		return "fexit ctx result";
	}
	return NULL;
}

static unsigned int run_traced(struct __test_metadata *_metadata,
			       bool clang, unsigned int nr)
{
	unsigned int bad = 0;

	for (unsigned int i = 0; i < nr; i++) {
		const struct abi_sig *s = &abi_sigs[i];
		void *fn = clang ? s->fn_clang : s->fn_gcc;
		void (*call)(void *) = clang ? s->call_cc : s->call_gg;
		struct ftramp_func_model m;
		const char *why = NULL;
		struct traced t;
		int err;

		if (ftramp_model__parse(s->proto, &m, NULL)) {
			why = "does not parse";
			goto out;
		}
		err = attach(&t, s, fn, &m, T_ALL);
		if (err) {
			TH_LOG("f%u: attach: %d", i, err);
			why = "attach";
			goto out;
		}
		memset(&rec, 0, sizeof(rec));
		rec.sig = s;
		memset(out_buf, 0xa5, sizeof(out_buf));
		call(out_buf);
		err = detach(&t);
		why = check_traced(s, fn);
		if (!why && err)
			why = "detach";
		/* the site is back: an untraced call runs no program */
		if (!why) {
			rec.entry = 0;
			call(out_buf);
			if (rec.entry)
				why = "program ran after detach";
		}
out:
		if (why && bad++ < MAX_LOGGED)
			TH_LOG("%s f%u: %s\n#   %s", clang ? "clang" : "gcc",
			       i, why, s->proto);
	}
	return bad;
}

/*
 * 4. The unknown model (no model: every argument register, the return
 *    hook for fexit and fmod_ret): bit-exact results in every mode, the
 *    programs run once each, fexit sees x0-x7 as the caller set them
 *    (for the arguments that are in general registers) and x0.
 */
static unsigned int run_unknown(struct __test_metadata *_metadata,
				const struct abi_sig *sigs, bool clang,
				unsigned int nr)
{
	unsigned int bad = 0;

	for (unsigned int i = 0; i < nr; i++) {
		const struct abi_sig *s = &sigs[i];
		void *fn = clang ? s->fn_clang : s->fn_gcc;
		void (*call)(void *) = clang ? s->call_cc : s->call_gg;

		for (int mode = T_FENTRY; mode < NR_TMODES; mode++) {
			const char *why = NULL;
			struct traced t;
			int err;

			err = attach(&t, s, fn, NULL, mode);
			if (err) {
				TH_LOG("f%u: attach: %d", i, err);
				why = "attach";
				goto out;
			}
			memset(&rec, 0, sizeof(rec));
			rec.sig = s;
			rec.unknown = true;
			memset(out_buf, 0xa5, sizeof(out_buf));
			call(out_buf);
			err = detach(&t);
			if (!masked_eq(out_buf, s->ret.mem_img,
				       s->ret.mem_len)) {
				dump("result", out_buf, s->ret.mem_img,
				     s->ret.mem_len);
				why = "traced result differs";
			} else if (rec.entry != (mode == T_FENTRY ||
						 mode == T_BOTH) ||
				   rec.exit != (mode == T_FEXIT ||
						mode == T_BOTH) ||
				   rec.mod != (mode == T_FMOD)) {
				why = "programs did not run once each";
			} else if (rec.exit && rec.exit_ip != (uint64_t)fn) {
				why = "ftramp_get_func_ip()";
			} else if (mode == T_BOTH &&
				   memcmp(rec.unk_e, rec.unk_x, 64)) {
				why = "fexit ctx x0-x7 differ from fentry's";
			} else if (err) {
				why = "detach";
			}
out:
			if (why && bad++ < MAX_LOGGED)
				TH_LOG("unknown %s %s f%u: %s\n#   %s",
				       clang ? "clang" : "gcc",
				       tmode_name[mode], i, why, s->proto);
		}
	}
	return bad;
}

TEST(unknown_model_gcc)
{
	EXPECT_EQ(0, run_unknown(_metadata, abi_sigs, false, abi_nr_sigs));
}

TEST(unknown_model_clang)
{
	ASSERT_LT(0, abi_nr_xcheck);
	EXPECT_EQ(0, run_unknown(_metadata, abi_sigs, true, abi_nr_xcheck));
}

/*
 * 5. Functions no model describes (scripts/gen-signatures.py --unknown):
 *    variadic ones called with every kind of variadic argument,
 *    float32x4_t arguments and results, 18-30 arguments with up to 256
 *    bytes of stack: untraced exact first, then bit-exact with the
 *    unknown model in every mode.
 */
TEST(unknown_only_untraced)
{
	EXPECT_EQ(0, run_untraced(_metadata, offsetof(struct abi_sig, call_gg),
				  abi_usigs, abi_nr_usigs, "gcc->gcc"));
}

TEST(unknown_only_traced)
{
	ASSERT_LT(0, abi_nr_usigs);
	EXPECT_EQ(0, run_unknown(_metadata, abi_usigs, false, abi_nr_usigs));
}

TEST(traced_gcc)
{
	EXPECT_EQ(0, run_traced(_metadata, false, abi_nr_sigs));
}

TEST(traced_clang)
{
	ASSERT_LT(0, abi_nr_xcheck);
	EXPECT_EQ(0, run_traced(_metadata, true, abi_nr_xcheck));
}

TEST_HARNESS_MAIN
