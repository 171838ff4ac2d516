// SPDX-License-Identifier: MIT
/*
 * The attach API over both reach paths (fixture variants: near, where the
 * site is `bl image`, and far, where the image is out of range and the
 * site goes through ftrace_caller and its literal): fentry / fexit /
 * fmod_ret, several links and tracers on one function, every error with
 * the site bytes checked unchanged, DWARF models, reclamation, fork().
 */
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ftramp/ftramp.h>

#include "arch/arm64/insn.h"
#include "arch/arm64/patching.h"
#include "lib/thread.h"
#include "selftests/harness.h"
#include "selftests/progs/sample.h"
#include "selftests/site_bytes.h"

int at_add(int a, int b);
long at_sum3(long a, long b, long c);
void at_void(void);
int at_vararg(int n, ...);

TRACEE int at_add(int a, int b) { return a + b; }
TRACEE long at_sum3(long a, long b, long c) { return a + b + c; }
volatile int at_void_calls;
TRACEE void at_void(void) { at_void_calls++; }
TRACEE int at_vararg(int n, ...) { return n; }

static uint64_t hits_entry, hits_exit, last_ret, last_arg0, last_cookie;
static uint64_t hits_a, hits_b;

static uint64_t prog_entry(const uint64_t *ctx)
{
	hits_entry++;
	last_arg0 = ctx[0];
	last_cookie = ftramp_get_attach_cookie(ctx);
	return 0;
}

static uint64_t prog_exit(const uint64_t *ctx)
{
	uint64_t v = 0;

	hits_exit++;
	ftramp_get_func_ret(ctx, &v);
	last_ret = v;
	return 0;
}

static uint64_t prog_modret(const uint64_t *ctx)
{
	return ctx[0] == 7 ? 777 : 0;
}

static uint64_t prog_a(const uint64_t *ctx) { hits_a++; return 0; }
static uint64_t prog_b(const uint64_t *ctx) { hits_b++; return 0; }

static void reset_hits(void)
{
	hits_entry = hits_exit = last_ret = last_arg0 = last_cookie = 0;
	hits_a = hits_b = 0;
}

FIXTURE(attach)
{
	struct ftramp_attach_opts opts;
	struct ftramp_func_model add_model;
};

FIXTURE_VARIANT(attach)
{
	bool far;
};

FIXTURE_VARIANT_ADD(attach, near) { .far = false };
FIXTURE_VARIANT_ADD(attach, far) { .far = true };

FIXTURE_SETUP(attach)
{
	reset_hits();
	memset(&self->opts, 0, sizeof(self->opts));
	self->opts.sz = sizeof(self->opts);
	self->opts.force_far = variant->far;
	ASSERT_EQ(0, ftramp_model__parse("int (int, int)", &self->add_model,
					 NULL));
	self->opts.model = &self->add_model;
}

FIXTURE_TEARDOWN(attach)
{
}

/*
 * Which path the site takes.  The literal holds the direct ops' record,
 * whose first word is the image.  Near: `bl image`.  Far: `bl
 * ftrace_caller`, which reads the record.
 */
static void check_path(struct __test_metadata *_metadata, const char *name,
		       bool far)
{
	struct ftramp_site_info info = { .sz = sizeof(info) };
	struct site_bytes sb = bytes_of(name);
	uint64_t target = 0, rec_direct;

	ASSERT_EQ(0, ftramp_site__info(ftramp_sites__find_name(
			ftramp_sites__get(), name), &info));
	EXPECT_EQ(A64_MOV_X9_X30, sb.a);
	ASSERT_TRUE(a64_is_bl(sb.b));
	a64_branch_target(sb.b, info.patch + 4, &target);
	rec_direct = *(volatile uint64_t *)(uintptr_t)sb.lit;
	EXPECT_NE(0, rec_direct);
	if (far)
		EXPECT_NE(target, rec_direct);
	else
		EXPECT_EQ(target, rec_direct);
}

TEST_F(attach, fentry_fexit_fmod_ret)
{
	struct ftramp_link *e, *x, *m;
	struct ftramp_reclaim_stats st = { .sz = sizeof(st) };

	self->opts.cookie = 0xc0ffee;
	e = ftramp_attach("at_add", FTRAMP_FENTRY, prog_entry, &self->opts);
	ASSERT_NE(NULL, e);
	check_path(_metadata, "at_add", variant->far);
	EXPECT_EQ(5, at_add(2, 3));
	EXPECT_EQ(1, hits_entry);
	EXPECT_EQ(2, last_arg0);
	EXPECT_EQ(0xc0ffee, last_cookie);
	EXPECT_EQ(U64(at_add), ftramp_link__func_addr(e));

	self->opts.cookie = 0;
	x = ftramp_attach("at_add", FTRAMP_FEXIT, prog_exit, &self->opts);
	ASSERT_NE(NULL, x);
	EXPECT_EQ(30, at_add(10, 20));
	EXPECT_EQ(2, hits_entry);
	EXPECT_EQ(1, hits_exit);
	EXPECT_EQ(30, last_ret);
	check_path(_metadata, "at_add", variant->far);

	m = ftramp_attach("at_add", FTRAMP_FMOD_RET, prog_modret, &self->opts);
	ASSERT_NE(NULL, m);
	EXPECT_EQ(777, at_add(7, 1));
	EXPECT_EQ(777, last_ret);
	EXPECT_EQ(9, at_add(8, 1));
	EXPECT_EQ(4, hits_entry);
	EXPECT_EQ(3, hits_exit);

	EXPECT_EQ(0, ftramp_link__destroy(m));
	EXPECT_EQ(8, at_add(7, 1));
	EXPECT_EQ(0, ftramp_link__destroy(e));
	EXPECT_EQ(3, at_add(1, 2));
	EXPECT_EQ(5, hits_entry);
	EXPECT_EQ(5, hits_exit);
	EXPECT_EQ(0, ftramp_link__destroy(x));
	EXPECT_EQ(3, at_add(1, 2));
	EXPECT_EQ(5, hits_exit);
	EXPECT_EQ(A64_NOP, bytes_of("at_add").b);

	/* Every image built is freed once no thread can be inside. */
	EXPECT_EQ(0, ftramp_sync(10000));
	ASSERT_EQ(0, ftramp_reclaim__stats(&st));
	EXPECT_EQ(st.images_alloc, st.images_freed);
	EXPECT_EQ(st.ops_alloc, st.ops_freed);
	EXPECT_EQ(0, st.pending);
	EXPECT_EQ(5, st.images_alloc);	/* 3 attaches, 2 rebuilds */
}

static struct {
	unsigned long hits;
} ops_count[2];

static void ops_handler(unsigned long ip, unsigned long parent_ip,
			struct ftramp_ftrace_ops *op,
			struct ftramp_ftrace_regs *fregs)
{
	(*(unsigned long *)op->private)++;
}

/*
 * Several tracers per function: two ftrace ops and the attach API's
 * direct trampoline (with two links) on one site; each sees every call,
 * removing any one leaves the others exact.
 */
TEST_F(attach, several_tracers)
{
	struct ftramp_ftrace_ops o1 = { .func = ops_handler,
					.private = &ops_count[0].hits };
	struct ftramp_ftrace_ops o2 = { .func = ops_handler,
					.private = &ops_count[1].hits };
	struct ftramp_link *la, *lb;
	unsigned long n = 0;

	memset(ops_count, 0, sizeof(ops_count));
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&o1, "at_add", 0));
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&o2, "at_add", 0));
	ASSERT_EQ(0, ftramp_ftrace_ops__register(&o1));
	la = ftramp_attach("at_add", FTRAMP_FENTRY, prog_a, &self->opts);
	ASSERT_NE(NULL, la);
	ASSERT_EQ(0, ftramp_ftrace_ops__register(&o2));
	lb = ftramp_attach("at_add", FTRAMP_FEXIT, prog_b, &self->opts);
	ASSERT_NE(NULL, lb);
	for (int i = 0; i < 20; i++, n++)
		EXPECT_EQ(i + 1, at_add(i, 1));
	EXPECT_EQ(n, ops_count[0].hits);
	EXPECT_EQ(n, ops_count[1].hits);
	EXPECT_EQ(n, hits_a);
	EXPECT_EQ(n, hits_b);

	ASSERT_EQ(0, ftramp_ftrace_ops__unregister(&o1));
	for (int i = 0; i < 5; i++, n++)
		at_add(i, 1);
	EXPECT_EQ(20, ops_count[0].hits);
	EXPECT_EQ(n, ops_count[1].hits);
	EXPECT_EQ(n, hits_a);
	EXPECT_EQ(n, hits_b);

	ASSERT_EQ(0, ftramp_link__destroy(la));
	for (int i = 0; i < 5; i++, n++)
		at_add(i, 1);
	EXPECT_EQ(n, ops_count[1].hits);
	EXPECT_EQ(25, hits_a);
	EXPECT_EQ(n, hits_b);

	ASSERT_EQ(0, ftramp_ftrace_ops__unregister(&o2));
	for (int i = 0; i < 5; i++, n++)
		at_add(i, 1);
	EXPECT_EQ(30, ops_count[1].hits);
	EXPECT_EQ(n, hits_b);
	EXPECT_TRUE(a64_is_bl(bytes_of("at_add").b));

	ASSERT_EQ(0, ftramp_link__destroy(lb));
	at_add(0, 0);
	EXPECT_EQ(n, hits_b);
	EXPECT_EQ(A64_NOP, bytes_of("at_add").b);
	ftramp_ftrace_ops__free_filter(&o1);
	ftramp_ftrace_ops__free_filter(&o2);
	EXPECT_EQ(0, ftramp_sync(10000));
}

/* 39 distinct programs for the link limit. */
#define P(n) static uint64_t lim_##n(const uint64_t *c) { return 0; }
#define P8(n) P(n##0) P(n##1) P(n##2) P(n##3) P(n##4) P(n##5) P(n##6) P(n##7)
P8(1) P8(2) P8(3) P8(4) P8(5)
#define L(n) lim_##n,
#define L8(n) L(n##0) L(n##1) L(n##2) L(n##3) L(n##4) L(n##5) L(n##6) L(n##7)
static ftramp_prog_t lim_progs[] = { L8(1) L8(2) L8(3) L8(4) L8(5) };

#define EXPECT_ERR(err, expr) do {					\
	errno = 0;							\
	EXPECT_NULL(expr);						\
	EXPECT_EQ(err, errno);						\
} while (0)

TEST_F(attach, errors)
{
	struct ftramp_link *links[FTRAMP_ATTACH_MAX_LINKS], *l;
	struct ftramp_func_model vm;
	struct site_bytes before, after;
	struct ftramp_attach_opts bad = self->opts;
	int i;

	before = bytes_of("at_add");
	EXPECT_ERR(ENOENT, ftramp_attach("no_such_function", FTRAMP_FENTRY,
					 prog_a, &self->opts));
	EXPECT_ERR(EINVAL, ftramp_attach("at_add", FTRAMP_FENTRY, NULL,
					 &self->opts));
	EXPECT_ERR(EINVAL, ftramp_attach("at_add", 9, prog_a, &self->opts));
	EXPECT_ERR(EINVAL, ftramp_attach(NULL, FTRAMP_FENTRY, prog_a,
					 &self->opts));
	bad.addr = U64(at_add);
	EXPECT_ERR(EINVAL, ftramp_attach("at_add", FTRAMP_FENTRY, prog_a,
					 &bad));
	/* A function without a usable patchable entry. */
	ASSERT_NE(NULL, dlopen(SAMPLE_DIR "/libsample-bad.so", RTLD_NOW));
	EXPECT_ERR(EOPNOTSUPP, ftramp_attach("bad_entry@libsample-bad.so",
					     FTRAMP_FENTRY, prog_a, NULL));
	EXPECT_ERR(EOPNOTSUPP, ftramp_attach("bad_pre@libsample-bad.so",
					     FTRAMP_FENTRY, prog_a, NULL));
	/* Variadic. */
	memset(&vm, 0, sizeof(vm));
	vm.ret.cls = FTRAMP_TYPE_INT;
	vm.ret.size = 4;
	vm.nr_args = 1;
	vm.args[0] = vm.ret;
	vm.flags = FTRAMP_MODEL_VARIADIC;
	bad = self->opts;
	bad.model = &vm;
	EXPECT_ERR(EOPNOTSUPP, ftramp_attach("at_vararg", FTRAMP_FENTRY,
					     prog_a, &bad));
	/* fmod_ret on a void function. */
	bad = self->opts;
	ASSERT_EQ(0, ftramp_model__parse("void (void)", &vm, NULL));
	bad.model = &vm;
	EXPECT_ERR(EINVAL, ftramp_attach("at_void", FTRAMP_FMOD_RET,
					 prog_modret, &bad));
	EXPECT_EQ(A64_NOP, bytes_of("at_void").b);
	after = bytes_of("at_add");
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));

	/* The same program twice on the same kind: -EBUSY. */
	l = ftramp_attach("at_add", FTRAMP_FENTRY, prog_a, &self->opts);
	ASSERT_NE(NULL, l);
	before = bytes_of("at_add");
	EXPECT_ERR(EBUSY, ftramp_attach("at_add", FTRAMP_FENTRY, prog_a,
					&self->opts));
	after = bytes_of("at_add");
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));
	/* ... but another kind is fine. */
	struct ftramp_link *l2 = ftramp_attach("at_add", FTRAMP_FEXIT, prog_a,
					       &self->opts);
	EXPECT_NE(NULL, l2);
	EXPECT_EQ(0, ftramp_link__destroy(l2));
	/* A different model for an already traced function: -EINVAL. */
	bad = self->opts;
	ASSERT_EQ(0, ftramp_model__parse("long (long, long)", &vm, NULL));
	bad.model = &vm;
	EXPECT_ERR(EINVAL, ftramp_attach("at_add", FTRAMP_FEXIT, prog_b,
					 &bad));
	EXPECT_EQ(0, ftramp_link__destroy(l));

	/* FTRAMP_ATTACH_MAX_LINKS per kind, then -E2BIG. */
	for (i = 0; i < FTRAMP_ATTACH_MAX_LINKS; i++) {
		links[i] = ftramp_attach("at_add", FTRAMP_FENTRY, lim_progs[i],
					 &self->opts);
		ASSERT_NE(NULL, links[i]);
	}
	before = bytes_of("at_add");
	EXPECT_ERR(E2BIG, ftramp_attach("at_add", FTRAMP_FENTRY,
					lim_progs[i], &self->opts));
	after = bytes_of("at_add");
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));
	reset_hits();
	EXPECT_EQ(3, at_add(1, 2));
	for (i = 0; i < FTRAMP_ATTACH_MAX_LINKS; i++)
		EXPECT_EQ(0, ftramp_link__destroy(links[i]));
	EXPECT_EQ(A64_NOP, bytes_of("at_add").b);
	EXPECT_EQ(0, ftramp_sync(10000));
}

/* Someone rewrites the site behind our back: -EFAULT, nothing written. */
TEST_F(attach, site_changed_behind_our_back)
{
	struct ftramp_site_info info = { .sz = sizeof(info) };
	struct site_bytes before, after;
	struct ftramp_link *l;
	uint64_t target = 0;
	struct ftramp_func_model m3;
	void *bl;

	ASSERT_EQ(0, ftramp_model__parse("long (long, long, long)", &m3, NULL));
	self->opts.model = &m3;
	l = ftramp_attach("at_sum3", FTRAMP_FENTRY, prog_a, &self->opts);
	ASSERT_NE(NULL, l);
	ASSERT_EQ(0, ftramp_site__info(ftramp_sites__find_name(
			ftramp_sites__get(), "at_sum3"), &info));
	bl = (void *)(uintptr_t)(info.patch + 4);
	before = bytes_of("at_sum3");
	ASSERT_TRUE(a64_is_bl(before.b));
	a64_branch_target(before.b, info.patch + 4, &target);
	ASSERT_EQ(0, ftramp_text_poke(bl, FTRAMP_POKE_CALL,
				      (void *)(uintptr_t)target, NULL));
	before = bytes_of("at_sum3");
	if (variant->far) {
		/* The literal path's modify is a data store: detach it. */
		EXPECT_EQ(-EFAULT, ftramp_link__destroy(l));
	} else {
		EXPECT_ERR(EFAULT, ftramp_attach("at_sum3", FTRAMP_FEXIT,
						 prog_b, &self->opts));
	}
	after = bytes_of("at_sum3");
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));
	ASSERT_EQ(0, ftramp_text_poke(bl, FTRAMP_POKE_CALL, NULL,
				      (void *)(uintptr_t)target));
	reset_hits();
	EXPECT_EQ(6, at_sum3(1, 2, 3));
	EXPECT_EQ(1, hits_a);
	EXPECT_EQ(0, ftramp_link__destroy(l));
	EXPECT_EQ(0, ftramp_sync(10000));
}

/* fork() with active traces: the child runs them and can detach. */
TEST_F(attach, fork_child_detaches)
{
	struct ftramp_link *l;
	int status;
	pid_t pid;

	l = ftramp_attach("at_add", FTRAMP_FENTRY, prog_entry, &self->opts);
	ASSERT_NE(NULL, l);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int bad = 0;

		reset_hits();
		bad |= at_add(1, 2) != 3;
		bad |= hits_entry != 1;
		bad |= ftramp_link__destroy(l) != 0;
		bad |= at_add(1, 2) != 3;
		bad |= hits_entry != 1;
		bad |= ftramp_sync(5000) != 0;
		_exit(bad ? 1 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The parent's link is untouched. */
	reset_hits();
	EXPECT_EQ(5, at_add(2, 3));
	EXPECT_EQ(1, hits_entry);
	EXPECT_EQ(0, ftramp_link__destroy(l));
}

/* Models from DWARF: the sample library is built with -g. */
TEST(dwarf_models)
{
	char names[FTRAMP_MAX_ARGS][FTRAMP_PARAM_NAME_MAX];
	struct ftramp_dwarf_opts o = { .sz = sizeof(o), .param_names = names };
	struct ftramp_func_model m;
	struct ftramp_link *l;

	ASSERT_EQ(0, ftramp_model__from_dwarf("sample_scale@libsample-gcc.so",
					      &m, &o));
	EXPECT_EQ(FTRAMP_TYPE_FLOAT, m.ret.cls);
	EXPECT_EQ(8, m.ret.size);
	ASSERT_EQ(2, m.nr_args);
	EXPECT_EQ(FTRAMP_TYPE_FLOAT, m.args[0].cls);
	EXPECT_EQ(8, m.args[0].size);
	EXPECT_EQ(4, m.args[1].size);
	EXPECT_STREQ("x", names[0]);
	EXPECT_STREQ("y", names[1]);

	ASSERT_EQ(0, ftramp_model__from_dwarf("sample_sum@libsample-gcc.so",
					      &m, NULL));
	EXPECT_EQ(FTRAMP_TYPE_INT, m.args[0].cls);
	EXPECT_TRUE(m.args[0].flags & FTRAMP_TYPE_POINTER);
	EXPECT_TRUE(m.args[1].flags & FTRAMP_TYPE_SIGNED);

	ASSERT_EQ(0, ftramp_model__from_dwarf("sample_pair_sum@libsample-gcc.so",
					      &m, NULL));
	EXPECT_EQ(FTRAMP_TYPE_STRUCT, m.args[0].cls);
	EXPECT_EQ(16, m.args[0].size);

	ASSERT_EQ(0, ftramp_model__from_dwarf("sample_void@libsample-gcc.so",
					      &m, NULL));
	EXPECT_EQ(FTRAMP_TYPE_VOID, m.ret.cls);
	EXPECT_EQ(0, m.nr_args);
	EXPECT_EQ(-ENOENT, ftramp_model__from_dwarf("no_such", &m, NULL));

	/* attach without a model reads it: fmod_ret on void is refused. */
	EXPECT_ERR(EINVAL, ftramp_attach("sample_void@libsample-gcc.so",
					 FTRAMP_FMOD_RET, prog_modret, NULL));
	l = ftramp_attach("sample_scale@libsample-gcc.so", FTRAMP_FEXIT,
			  prog_exit, NULL);
	ASSERT_NE(NULL, l);
	ASSERT_NE(NULL, ftramp_link__model(l));
	EXPECT_EQ(2, ftramp_link__model(l)->nr_args);
	reset_hits();
	EXPECT_EQ(7.5, sample_scale(2.5, 3.0f));
	EXPECT_EQ(1, hits_exit);
	EXPECT_EQ(0, ftramp_link__destroy(l));
}

/*
 * A far image calls the original's body with `ldr; blr` only when the
 * body's page cannot be BTI-guarded, else with `ldr; adr x30; ret`
 * (DESIGN.md section 4): a `blr` into a guarded page that is not a
 * landing pad raises SIGILL.  selftests/libpatch_bti.so is BTI-marked, so
 * ld.so maps it PROT_BTI (under qemu -cpu max): fentry+fexit on its
 * function through the forced-far path must run, in a child so that a
 * wrong choice shows as a signal, not a crash of the run.
 */
static uint64_t bti_entries, bti_exits;

static uint64_t bti_fentry(const uint64_t *ctx)
{
	bti_entries++;
	return 0;
}

static uint64_t bti_fexit(const uint64_t *ctx)
{
	uint64_t ret;

	/* No debug info: the unknown model, the result read by the helper. */
	bti_exits += !ftramp_get_func_ret(ctx, &ret) && ret == ctx[0] + 5;
	return 0;
}

static int far_on_guarded_text(void)
{
	FTRAMP_OPTS(ftramp_attach_opts, opts, .force_far = true);
	struct ftramp_link *in, *out;
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	long (*fn)(long);
	void *h;

	if (n <= 0)
		return 10;
	path[n] = '\0';
	strcat(dirname(path), "/libpatch_bti.so");
	h = dlopen(path, RTLD_NOW);
	if (!h)
		return 11;
	fn = (long (*)(long))dlsym(h, "pb_fn");
	if (!fn)
		return 12;
	in = ftramp_attach("pb_fn@libpatch_bti.so", FTRAMP_FENTRY, bti_fentry,
			   &opts);
	out = ftramp_attach("pb_fn@libpatch_bti.so", FTRAMP_FEXIT, bti_fexit,
			    &opts);
	if (!in || !out)
		return 13;
	for (long i = 0; i < 10; i++)
		if (fn(i) != i + 5)
			return 14;
	ftramp_link__destroy(in);
	ftramp_link__destroy(out);
	return bti_entries == 10 && bti_exits == 10 ? 0 : 15;
}

TEST(far_image_on_bti_guarded_library)
{
	int status;
	pid_t pid;

	if (!(getauxval(AT_HWCAP2) & (1 << 17)))	/* HWCAP2_BTI */
		SKIP(return, "no BTI (run with qemu-aarch64 -cpu max)");
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(far_on_guarded_text());
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (WIFSIGNALED(status))
		TH_LOG("child killed by signal %d", WTERMSIG(status));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* Is a file named @name mapped in this process? */
static bool mapped(const char *name)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[PATH_MAX + 128];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, name) != NULL;
	if (f)
		fclose(f);
	return found;
}

/* dlopen @path, attach pb_fn, call it, detach: 0 or a step number. */
static int attach_round(const char *path, void **h)
{
	FTRAMP_OPTS(ftramp_attach_opts, opts, .force_far = true);
	struct ftramp_link *in;
	uint64_t before = bti_entries;
	long (*fn)(long);

	*h = dlopen(path, RTLD_NOW);
	fn = *h ? (long (*)(long))dlsym(*h, "pb_fn") : NULL;
	if (!fn)
		return 1;
	in = ftramp_attach("pb_fn@libpatch_bti.so", FTRAMP_FENTRY, bti_fentry,
			   &opts);
	if (!in || fn(1) != 6 || bti_entries != before + 1)
		return 2;
	if (ftramp_link__destroy(in) || fn(1) != 6 ||
	    bti_entries != before + 1)
		return 3;
	return 0;
}

/*
 * Once a library's links are gone and its images reclaimed, the
 * program's dlclose() unloads it (ftrace/ops.c, "Unloading"): gone from
 * /proc/self/maps; loaded again, it is traced again, and unloads again.
 */
static int unloaded_after_detach(void)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	void *h;
	int err;

	if (n <= 0)
		return 10;
	path[n] = '\0';
	strcat(dirname(path), "/libpatch_bti.so");
	if (mapped("libpatch_bti.so"))
		return 11;
	for (int round = 0; round < 2; round++) {
		err = attach_round(path, &h);
		if (err)
			return 20 + 10 * round + err;
		if (ftramp_sync(10000) || dlclose(h))
			return 24 + 10 * round;
		if (dlopen(path, RTLD_NOW | RTLD_NOLOAD))
			return 25 + 10 * round;
		if (mapped("libpatch_bti.so"))
			return 26 + 10 * round;
	}
	return 0;
}

TEST(library_unloads_after_detach)
{
	int status;
	pid_t pid;

	if (!(getauxval(AT_HWCAP2) & (1 << 17)))	/* HWCAP2_BTI */
		SKIP(return, "no BTI (run with qemu-aarch64 -cpu max)");
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(unloaded_after_detach());
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* ------------------------------------------------------------------
 * A commit that fails after its branch was written
 * ------------------------------------------------------------------ */

long at_fail_fn(long x);
TRACEE long at_fail_fn(long x) { return x + 5; }

static volatile int fail_release, fail_stop, blocker_ready;
static uint64_t fail_entered, fail_bad;

/* Hold every thread that got into the new image until told. */
static uint64_t prog_hold(const uint64_t *ctx)
{
	(void)ctx;
	__atomic_add_fetch(&fail_entered, 1, __ATOMIC_RELAXED);
	while (!__atomic_load_n(&fail_release, __ATOMIC_ACQUIRE))
		;
	return 0;
}

static void *fail_caller(void *arg)
{
	(void)arg;
	for (long i = 0; !__atomic_load_n(&fail_stop, __ATOMIC_ACQUIRE); i++)
		if (at_fail_fn(i) != i + 5)
			__atomic_add_fetch(&fail_bad, 1, __ATOMIC_RELAXED);
	return NULL;
}

/* A running thread that never answers the sync signal. */
static void *sync_blocker(void *arg)
{
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, ftramp_patch_sync_signal());
	/* Raw: the interposed pthread_sigmask() keeps ours open. */
	thread_real_sigmask(SIG_BLOCK, &set, NULL);
	__atomic_store_n(&blocker_ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&fail_stop, __ATOMIC_ACQUIRE))
		;
	return NULL;
}

/*
 * With the signal fallback, a thread that blocks the sync signal makes
 * the attach fail with -ETIMEDOUT after its bl was written: the other
 * threads ran the new trampoline for the whole timeout and are inside
 * it.  The image is retired through reclamation, not freed: they return
 * through it safely, and it is reclaimed once they have left.
 */
TEST(commit_failing_after_write_retires_the_image)
{
	struct ftramp_sync_signal_opts so = {
		.timeout_ms = 200, .no_switch_inference = true,
	};
	struct ftramp_reclaim_stats st = { .sz = sizeof(st) };
	struct ftramp_func_model model;
	struct ftramp_link *l;
	pthread_t th[3];

	ASSERT_EQ(0, ftramp_model__parse("long (long)", &model, NULL));
	/* Prepared while single-threaded: the attach is one bl phase. */
	ASSERT_LE(1, ftramp_sites__prepare(ftramp_sites__get(), "at_fail_fn"));
	ASSERT_EQ(0, ftramp_patch_set_sync_method(FTRAMP_SYNC_SIGNAL));
	ftramp_patch_set_sync_signal_opts(&so);
	ASSERT_EQ(0, pthread_create(&th[0], NULL, sync_blocker, NULL));
	while (!__atomic_load_n(&blocker_ready, __ATOMIC_ACQUIRE))
		usleep(1000);
	for (int i = 1; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, fail_caller, NULL));

	{
		FTRAMP_OPTS(ftramp_attach_opts, o, .model = &model);

		l = ftramp_attach("at_fail_fn", FTRAMP_FENTRY, prog_hold, &o);
	}
	EXPECT_EQ(NULL, l);
	EXPECT_EQ(ETIMEDOUT, errno);
	/* The callers did run the new branch while the sync waited. */
	EXPECT_LT(0, __atomic_load_n(&fail_entered, __ATOMIC_RELAXED));
	ASSERT_EQ(0, ftramp_reclaim__stats(&st));
	EXPECT_LT(st.images_freed, st.images_alloc);

	/* They return through the image they are in. */
	__atomic_store_n(&fail_release, 1, __ATOMIC_RELEASE);
	usleep(20000);
	__atomic_store_n(&fail_stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(0, fail_bad);
	EXPECT_EQ(8, at_fail_fn(3));
	EXPECT_EQ(0, ftramp_sync(10000));
	ASSERT_EQ(0, ftramp_reclaim__stats(&st));
	EXPECT_EQ(st.images_alloc, st.images_freed);
}

TEST_HARNESS_MAIN
