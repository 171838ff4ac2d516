/* SPDX-License-Identifier: MIT */
/*
 * ftramp selftest harness.
 *
 * The interface is that of the kernel's kselftest_harness.h, so tests read
 * the way kernel selftests do:
 *
 *	TEST(name) { ... }
 *	TEST_SIGNAL(name, SIGSEGV) { ... }      the test must die of that signal
 *	TEST_EXIT_CODE(name, 3) { ... }         the test must exit(3)
 *	FIXTURE(f) { fields };
 *	FIXTURE_VARIANT(f) { const fields };    optional
 *	FIXTURE_VARIANT_ADD(f, v) { .field = value };
 *	FIXTURE_SETUP(f) { self->..., variant->... }
 *	FIXTURE_TEARDOWN(f) { ... }
 *	TEST_F(f, name) { ... }                 runs once per variant
 *	EXPECT_EQ(expected, seen) ...           record a failure, continue
 *	ASSERT_EQ(expected, seen) ...           record a failure, stop the test
 *	SKIP(statement, fmt, ...)               mark skipped, then `statement`
 *	TH_LOG(fmt, ...)                        a diagnostic line
 *	TEST_HARNESS_MAIN
 *
 * Every test runs in a forked child with a timeout, so a crash or a hang
 * fails one test and the run goes on.  The child arms its own alarm(); the
 * parent also keeps a deadline a little later and, past it, kills the
 * child's whole process group with SIGKILL.  The child's alarm cannot end
 * every hang: one before the test body starts (in fork() itself), a test
 * that re-arms alarm(), or a child whose signals can no longer be
 * delivered (under qemu-user, a guest spinning with SIGALRM blocked).
 * Output is KTAP/TAP 13:
 *
 *	TAP version 13
 *	1..N
 *	# RUN  fixture.variant.name ...
 *	ok 1 fixture.variant.name
 *	not ok 2 other
 *	ok 3 skipped_one # SKIP reason
 *	# Totals: pass:1 fail:1 xfail:0 xpass:0 skip:1 error:0
 *
 * Arguments: `-t SUBSTR` (repeatable) runs only tests whose full name
 * contains SUBSTR; `-l` lists the tests.  FTRAMP_TEST_TIMEOUT (seconds)
 * overrides the default per-test timeout.
 */
#ifndef FTRAMP_SELFTEST_HARNESS_H
#define FTRAMP_SELFTEST_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define KSFT_PASS	0
#define KSFT_FAIL	1
#define KSFT_SKIP	4

#ifndef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 120
#endif

struct __fixture_metadata;
struct __fixture_variant_metadata;

struct __test_metadata {
	const char *name;
	const char *file;
	void (*fn)(struct __test_metadata *,
		   const struct __fixture_variant_metadata *);
	struct __fixture_metadata *fixture;
	int termsig;		/* expected signal, 0 for none */
	int exit_code;		/* expected exit status */
	int timeout;
	bool meta;		/* runs only inside the harness's own test */
	/* state of the running child */
	bool passed;
	bool skip;
	char skip_reason[256];
	jmp_buf env;
	bool env_set;
	void *self;		/* fixture data, for teardown on ASSERT */
	void (*teardown)(struct __test_metadata *, void *, const void *);
	const void *variant_data;
	struct __test_metadata *next;
};

struct __fixture_variant_metadata {
	const char *name;
	const void *data;
	struct __fixture_variant_metadata *next;
};

struct __fixture_metadata {
	const char *name;
	struct __fixture_variant_metadata *variants, **variants_tail;
	struct __fixture_metadata *next;
};

static struct __test_metadata *__th_tests, **__th_tests_tail = &__th_tests;
static struct __fixture_metadata __th_global_fixture = { .name = "global" };

static inline void __register_test(struct __test_metadata *t)
{
	*__th_tests_tail = t;
	__th_tests_tail = &t->next;
}

static inline void __register_fixture_variant(struct __fixture_metadata *f,
					      struct __fixture_variant_metadata *v)
{
	if (!f->variants_tail)
		f->variants_tail = &f->variants;
	*f->variants_tail = v;
	f->variants_tail = &v->next;
}

#define TH_LOG(fmt, ...)						\
	fprintf(stderr, "# %s:%d:%s: " fmt "\n", __FILE__, __LINE__,	\
		_metadata->name, ##__VA_ARGS__)

/* Plain tests. */
#define __TEST_IMPL(test_name, _signal, _exit)				\
	__TEST_IMPL_FULL(test_name, _signal, _exit, TEST_TIMEOUT_DEFAULT, false)
#define __TEST_IMPL_FULL(test_name, _signal, _exit, _timeout, _meta)	\
	static void test_name(struct __test_metadata *_metadata);	\
	static void _##test_name##_wrapper(struct __test_metadata *m,	\
		const struct __fixture_variant_metadata *v)		\
	{								\
		(void)v;						\
		test_name(m);						\
	}								\
	static struct __test_metadata _##test_name##_object = {	\
		.name = #test_name, .file = __FILE__,			\
		.fn = _##test_name##_wrapper,				\
		.fixture = &__th_global_fixture,			\
		.termsig = _signal, .exit_code = _exit,			\
		.timeout = _timeout, .meta = _meta,			\
	};								\
	static void __attribute__((constructor))			\
	_register_##test_name(void)					\
	{								\
		__register_test(&_##test_name##_object);		\
	}								\
	static void test_name(struct __test_metadata *_metadata)

#define TEST(test_name)			__TEST_IMPL(test_name, 0, 0)
#define TEST_SIGNAL(test_name, sig)	__TEST_IMPL(test_name, sig, 0)
#define TEST_EXIT_CODE(test_name, code)	__TEST_IMPL(test_name, 0, code)
#define TEST_TIMEOUT(test_name, secs)	\
	__TEST_IMPL_FULL(test_name, 0, 0, secs, false)
/*
 * A test of the harness itself, made to fail: it is listed and run only
 * when FTRAMP_HARNESS_NESTED is set, by harness_test's nested run.
 */
#define TEST_META(test_name, secs)	\
	__TEST_IMPL_FULL(test_name, 0, 0, secs, true)

/* Fixtures. */
#define FIXTURE_DATA(fixture_name) struct _test_data_##fixture_name
#define FIXTURE_VARIANT(fixture_name) struct _fixture_variant_##fixture_name

#define FIXTURE(fixture_name)						\
	FIXTURE_VARIANT(fixture_name);					\
	static struct __fixture_metadata _##fixture_name##_fixture_object = \
		{ .name = #fixture_name };				\
	FIXTURE_DATA(fixture_name)

#define FIXTURE_SETUP(fixture_name)					\
	static void fixture_name##_setup(				\
		struct __test_metadata *_metadata,			\
		FIXTURE_DATA(fixture_name) *self,			\
		const FIXTURE_VARIANT(fixture_name) *variant)

#define FIXTURE_TEARDOWN(fixture_name)					\
	static void fixture_name##_teardown(				\
		struct __test_metadata *_metadata,			\
		FIXTURE_DATA(fixture_name) *self,			\
		const FIXTURE_VARIANT(fixture_name) *variant)

#define FIXTURE_VARIANT_ADD(fixture_name, variant_name)			\
	extern const FIXTURE_VARIANT(fixture_name)			\
		_##fixture_name##_##variant_name##_variant;		\
	static struct __fixture_variant_metadata			\
		_##fixture_name##_##variant_name##_object = {		\
		.name = #variant_name,					\
		.data = &_##fixture_name##_##variant_name##_variant,	\
	};								\
	static void __attribute__((constructor))			\
	_register_##fixture_name##_##variant_name(void)			\
	{								\
		__register_fixture_variant(&_##fixture_name##_fixture_object, \
			&_##fixture_name##_##variant_name##_object);	\
	}								\
	const FIXTURE_VARIANT(fixture_name)				\
		_##fixture_name##_##variant_name##_variant =

#define __TEST_F_IMPL(fixture_name, test_name, _signal, _timeout)	\
	static void fixture_name##_##test_name(				\
		struct __test_metadata *_metadata,			\
		FIXTURE_DATA(fixture_name) *self,			\
		const FIXTURE_VARIANT(fixture_name) *variant);		\
	static void _##fixture_name##_##test_name##_teardown(		\
		struct __test_metadata *m, void *s, const void *v)	\
	{								\
		fixture_name##_teardown(m, s, v);			\
	}								\
	static void _##fixture_name##_##test_name##_wrapper(		\
		struct __test_metadata *_metadata,			\
		const struct __fixture_variant_metadata *v)		\
	{								\
		FIXTURE_DATA(fixture_name) self;			\
		const void *vd = v ? v->data : NULL;			\
		memset(&self, 0, sizeof(self));				\
		_metadata->self = &self;				\
		_metadata->variant_data = vd;				\
		fixture_name##_setup(_metadata, &self, vd);		\
		if (_metadata->passed && !_metadata->skip) {		\
			_metadata->teardown =				\
			    _##fixture_name##_##test_name##_teardown;	\
			fixture_name##_##test_name(_metadata, &self, vd); \
		}							\
		_metadata->teardown = NULL;				\
		fixture_name##_teardown(_metadata, &self, vd);		\
	}								\
	static struct __test_metadata					\
		_##fixture_name##_##test_name##_object = {		\
		.name = #test_name, .file = __FILE__,			\
		.fn = _##fixture_name##_##test_name##_wrapper,		\
		.fixture = &_##fixture_name##_fixture_object,		\
		.termsig = _signal, .timeout = _timeout,		\
	};								\
	static void __attribute__((constructor))			\
	_register_##fixture_name##_##test_name(void)			\
	{								\
		__register_test(&_##fixture_name##_##test_name##_object); \
	}								\
	static void fixture_name##_##test_name(				\
		struct __test_metadata __attribute__((unused)) *_metadata, \
		FIXTURE_DATA(fixture_name) __attribute__((unused)) *self, \
		const FIXTURE_VARIANT(fixture_name)			\
			__attribute__((unused)) *variant)

#define TEST_F(f, t)			__TEST_F_IMPL(f, t, 0, TEST_TIMEOUT_DEFAULT)
#define TEST_F_SIGNAL(f, t, sig)	__TEST_F_IMPL(f, t, sig, TEST_TIMEOUT_DEFAULT)
#define TEST_F_TIMEOUT(f, t, secs)	__TEST_F_IMPL(f, t, 0, secs)

/*
 * Value printing for failed expectations: both sides are shown in the
 * form that fits their type.
 */
static inline void __th_fmt_s(char *b, size_t n, long long v)
{ snprintf(b, n, "%lld (0x%llx)", v, (unsigned long long)v); }
static inline void __th_fmt_u(char *b, size_t n, unsigned long long v)
{ snprintf(b, n, "%llu (0x%llx)", v, v); }
static inline void __th_fmt_d(char *b, size_t n, double v)
{ snprintf(b, n, "%.17g", v); }
static inline void __th_fmt_p(char *b, size_t n, const volatile void *v)
{ snprintf(b, n, "%p", (const void *)v); }

#define __th_fmt(buf, x) _Generic((x),					\
	_Bool: __th_fmt_u, char: __th_fmt_s,				\
	signed char: __th_fmt_s, short: __th_fmt_s, int: __th_fmt_s,	\
	long: __th_fmt_s, long long: __th_fmt_s,			\
	unsigned char: __th_fmt_u, unsigned short: __th_fmt_u,		\
	unsigned int: __th_fmt_u, unsigned long: __th_fmt_u,		\
	unsigned long long: __th_fmt_u,					\
	float: __th_fmt_d, double: __th_fmt_d,				\
	default: __th_fmt_p)(buf, sizeof(buf), x)

static inline void __th_fail(struct __test_metadata *m, bool stop)
{
	m->passed = false;
	if (stop && m->env_set)
		longjmp(m->env, 1);
}

#define __EXPECT(expected, seen, op, stop) do {				\
	__typeof__(expected) _e = (expected);				\
	__typeof__(seen) _s = (seen);					\
	if (!(_e op _s)) {						\
		char _eb[64], _sb[64];					\
		__th_fmt(_eb, _e);					\
		__th_fmt(_sb, _s);					\
		fprintf(stderr, "# %s:%d:%s: Expected %s (%s) %s %s (%s)\n", \
			__FILE__, __LINE__, _metadata->name,		\
			#expected, _eb, #op, #seen, _sb);		\
		__th_fail(_metadata, stop);				\
	}								\
} while (0)

#define __EXPECT_BOOL(cond, want, stop) do {				\
	if ((!!(cond)) != (want)) {					\
		fprintf(stderr, "# %s:%d:%s: Expected %s to be %s\n",	\
			__FILE__, __LINE__, _metadata->name, #cond,	\
			(want) ? "true" : "false");			\
		__th_fail(_metadata, stop);				\
	}								\
} while (0)

#define __EXPECT_STR(expected, seen, eq, stop) do {			\
	const char *_e = (expected), *_s = (seen);			\
	if ((!_e || !_s) ? (_e == _s) != (eq) :				\
	    (strcmp(_e, _s) == 0) != (eq)) {				\
		fprintf(stderr, "# %s:%d:%s: Expected '%s' %s '%s'\n",	\
			__FILE__, __LINE__, _metadata->name,		\
			_e ? _e : "(null)", (eq) ? "==" : "!=",		\
			_s ? _s : "(null)");				\
		__th_fail(_metadata, stop);				\
	}								\
} while (0)

#define EXPECT_EQ(e, s)		__EXPECT(e, s, ==, false)
#define EXPECT_NE(e, s)		__EXPECT(e, s, !=, false)
#define EXPECT_LT(e, s)		__EXPECT(e, s, <, false)
#define EXPECT_LE(e, s)		__EXPECT(e, s, <=, false)
#define EXPECT_GT(e, s)		__EXPECT(e, s, >, false)
#define EXPECT_GE(e, s)		__EXPECT(e, s, >=, false)
#define EXPECT_TRUE(c)		__EXPECT_BOOL(c, true, false)
#define EXPECT_FALSE(c)		__EXPECT_BOOL(c, false, false)
#define EXPECT_NULL(p)		__EXPECT_BOOL((p) == NULL, true, false)
#define EXPECT_STREQ(e, s)	__EXPECT_STR(e, s, true, false)
#define EXPECT_STRNE(e, s)	__EXPECT_STR(e, s, false, false)
#define ASSERT_EQ(e, s)		__EXPECT(e, s, ==, true)
#define ASSERT_NE(e, s)		__EXPECT(e, s, !=, true)
#define ASSERT_LT(e, s)		__EXPECT(e, s, <, true)
#define ASSERT_LE(e, s)		__EXPECT(e, s, <=, true)
#define ASSERT_GT(e, s)		__EXPECT(e, s, >, true)
#define ASSERT_GE(e, s)		__EXPECT(e, s, >=, true)
#define ASSERT_TRUE(c)		__EXPECT_BOOL(c, true, true)
#define ASSERT_FALSE(c)		__EXPECT_BOOL(c, false, true)
#define ASSERT_NULL(p)		__EXPECT_BOOL((p) == NULL, true, true)
#define ASSERT_STREQ(e, s)	__EXPECT_STR(e, s, true, true)
#define ASSERT_STRNE(e, s)	__EXPECT_STR(e, s, false, true)

#define SKIP(statement, fmt, ...) do {					\
	snprintf(_metadata->skip_reason, sizeof(_metadata->skip_reason), \
		 fmt, ##__VA_ARGS__);					\
	_metadata->skip = true;						\
	statement;							\
} while (0)

/* The per-test timeout in seconds: FTRAMP_TEST_TIMEOUT, else the test's. */
static int __th_timeout(const struct __test_metadata *t)
{
	const char *env = getenv("FTRAMP_TEST_TIMEOUT");
	int timeout = env ? atoi(env) : t->timeout;

	return timeout > 0 ? timeout : t->timeout;
}

/*
 * Seconds the parent waits past the child's own alarm before SIGKILL:
 * FTRAMP_TEST_KILL_GRACE, else 30.
 */
static int __th_kill_grace(void)
{
	const char *env = getenv("FTRAMP_TEST_KILL_GRACE");

	return env && atoi(env) > 0 ? atoi(env) : 30;
}

static void __th_run_child(struct __test_metadata *t,
			   const struct __fixture_variant_metadata *v)
{
	/*
	 * A group of its own, so that the parent's SIGKILL at the deadline
	 * also reaches whatever the test forked.
	 */
	setpgid(0, 0);
	alarm(__th_timeout(t));
	t->passed = true;
	t->env_set = true;
	if (setjmp(t->env) == 0) {
		t->fn(t, v);
	} else if (t->teardown) {
		/* An ASSERT stopped the test: still tear the fixture down. */
		void (*td)(struct __test_metadata *, void *, const void *) =
			t->teardown;

		t->teardown = NULL;
		t->env_set = false;
		td(t, t->self, t->variant_data);
	}
	fflush(stdout);
	fflush(stderr);
	if (t->skip && t->passed) {
		/* The parent reads the reason from the pipe on fd 3. */
		ssize_t __attribute__((unused)) w =
			write(3, t->skip_reason, strlen(t->skip_reason));
		_exit(KSFT_SKIP);
	}
	_exit(t->passed ? t->exit_code : KSFT_FAIL);
}

static volatile sig_atomic_t __th_deadline_passed;

static void __th_on_deadline(int sig)
{
	(void)sig;
	__th_deadline_passed = 1;
	/* Again each second: one that lands just before waitpid() is lost. */
	alarm(1);
}

/*
 * Wait for the test's child until its deadline; past it, SIGKILL the
 * child's process group and reap it.  Returns true if it was killed.
 */
static bool __th_wait(pid_t pid, int timeout, int *status)
{
	struct sigaction sa = { .sa_handler = __th_on_deadline }, old;
	bool killed = false;

	/* No SA_RESTART: the alarm must interrupt waitpid(). */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	__th_deadline_passed = 0;
	alarm((unsigned int)(timeout + __th_kill_grace()));
	for (;;) {
		pid_t r = waitpid(pid, status, 0);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			*status = 0;
			break;
		}
		if (__th_deadline_passed && !killed) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			killed = true;
		}
	}
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
	/*
	 * What the test forked and left behind in its group goes too: the
	 * next test starts with nothing of this one running.
	 */
	kill(-pid, SIGKILL);
	return killed;
}

static bool __th_selected(const struct __test_metadata *t, const char *name,
			  char **filters, int nfilters)
{
	if (t->meta && !getenv("FTRAMP_HARNESS_NESTED"))
		return false;
	if (!nfilters)
		return true;
	for (int i = 0; i < nfilters; i++)
		if (strstr(name, filters[i]))
			return true;
	return false;
}

static void __th_full_name(char *buf, size_t n, struct __test_metadata *t,
			   const struct __fixture_variant_metadata *v)
{
	if (t->fixture == &__th_global_fixture)
		snprintf(buf, n, "%s", t->name);
	else if (v)
		snprintf(buf, n, "%s.%s.%s", t->fixture->name, v->name, t->name);
	else
		snprintf(buf, n, "%s.%s", t->fixture->name, t->name);
}

/* Visit every (test, variant) pair in registration order. */
#define __th_for_each_case(t, v, vnull)					\
	for (t = __th_tests; t; t = t->next)				\
		for (v = t->fixture->variants ? t->fixture->variants : vnull; \
		     v; v = (v == vnull) ? NULL : v->next)

static int __th_main(int argc, char **argv)
{
	static struct __fixture_variant_metadata none;
	struct __fixture_variant_metadata *vnull = &none;
	struct __test_metadata *t;
	struct __fixture_variant_metadata *v;
	char *filters[64];
	int nfilters = 0, total = 0, n = 0, pass = 0, fail = 0, skip = 0;
	bool list = false;
	char name[512];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-t") && i + 1 < argc && nfilters < 64)
			filters[nfilters++] = argv[++i];
		else if (!strcmp(argv[i], "-l"))
			list = true;
	}

	__th_for_each_case(t, v, vnull) {
		__th_full_name(name, sizeof(name), t, v == vnull ? NULL : v);
		if (!__th_selected(t, name, filters, nfilters))
			continue;
		if (list)
			printf("%s\n", name);
		total++;
	}
	if (list)
		return 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..%d\n", total);
	__th_for_each_case(t, v, vnull) {
		const struct __fixture_variant_metadata *var =
			v == vnull ? NULL : v;
		char reason[256] = "";
		int status, pfd[2];
		bool killed;
		pid_t pid;

		__th_full_name(name, sizeof(name), t, var);
		if (!__th_selected(t, name, filters, nfilters))
			continue;
		n++;
		printf("# RUN  %s ...\n", name);
		fflush(stdout);
		fflush(stderr);
		if (pipe(pfd))
			pfd[0] = pfd[1] = -1;
		pid = fork();
		if (pid == 0) {
			/* fd 3 becomes the write end, whatever pipe() chose. */
			if (pfd[0] >= 0 && pfd[0] != 3)
				close(pfd[0]);
			if (pfd[1] >= 0 && pfd[1] != 3) {
				dup2(pfd[1], 3);
				close(pfd[1]);
			}
			__th_run_child(t, var);
		}
		if (pid > 0)
			setpgid(pid, pid);	/* whichever runs first */
		if (pfd[1] >= 0)
			close(pfd[1]);
		if (pid < 0) {
			printf("not ok %d %s # fork: %s\n", n, name,
			       strerror(errno));
			fail++;
			continue;
		}
		killed = __th_wait(pid, __th_timeout(t), &status);
		if (pfd[0] >= 0) {
			/*
			 * The child wrote its reason before it exited; a
			 * process it forked may still hold the write end.
			 */
			fcntl(pfd[0], F_SETFL, O_NONBLOCK);
			ssize_t r = killed ? 0 :
				read(pfd[0], reason, sizeof(reason) - 1);

			reason[r > 0 ? r : 0] = '\0';
			close(pfd[0]);
		}

		if (killed) {
			printf("# %s: still running %d s after its %d s timeout: killed\n",
			       name, __th_kill_grace(), __th_timeout(t));
			printf("not ok %d %s\n", n, name);
			fail++;
		} else if (WIFSIGNALED(status)) {
			int sig = WTERMSIG(status);

			if (sig == t->termsig) {
				printf("ok %d %s\n", n, name);
				pass++;
			} else {
				printf("# %s: killed by signal %d (%s)%s\n",
				       name, sig, strsignal(sig),
				       sig == SIGALRM ? ": timeout" : "");
				printf("not ok %d %s\n", n, name);
				fail++;
			}
		} else if (t->termsig) {
			printf("# %s: expected signal %d, exited %d\n", name,
			       t->termsig, WEXITSTATUS(status));
			printf("not ok %d %s\n", n, name);
			fail++;
		} else if (WEXITSTATUS(status) == KSFT_SKIP && t->exit_code != KSFT_SKIP) {
			printf("ok %d %s # SKIP %s\n", n, name, reason);
			skip++;
		} else if (WEXITSTATUS(status) == t->exit_code) {
			printf("ok %d %s\n", n, name);
			pass++;
		} else {
			if (t->exit_code)
				printf("# %s: expected exit %d, got %d\n", name,
				       t->exit_code, WEXITSTATUS(status));
			printf("not ok %d %s\n", n, name);
			fail++;
		}
	}
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n",
	       pass, fail, skip);
	return fail ? KSFT_FAIL : KSFT_PASS;
}

#ifdef __SANITIZE_ADDRESS__
/*
 * Tests that expect SIGSEGV/SIGBUS/SIGILL must see the real signal, not
 * ASan's report and exit(1).
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "handle_segv=0:handle_sigbus=0:handle_sigill=0:handle_sigfpe=0";
}
#endif

#define TEST_HARNESS_MAIN						\
	int main(int argc, char **argv)					\
	{								\
		return __th_main(argc, argv);				\
	}

#endif /* FTRAMP_SELFTEST_HARNESS_H */
