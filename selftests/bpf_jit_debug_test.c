// SPDX-License-Identifier: MIT
/*
 * bpf/jit_debug.c: a JIT'd program described to gdb, perf and the
 * unwinder.  selftests/progs/jited.bpf.c loaded with the JIT engine:
 * every native function of each image is a GDB JIT entry named
 * bpf_prog_<program>[.<function>] with CFI, a perf map line, and an FDE
 * of the process's unwinder; backtrace() from inside the program (its
 * bpf_printk sink) walks through the program's two frames and the
 * trampoline to the traced function's callers; all of it goes away when
 * the object is closed.
 *
 * Built a second time with -DBPF_JIT_GDB_TARGET (-g -O1) as the program
 * selftests/gdb_bpf_bt.sh runs under gdb: see the end of the file.
 */
#include <errno.h>
#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <unwind.h>

#include <ftramp/ftramp.h>

#include "arch/arm64/bpf_jit.h"
#include "arch/arm64/insn.h"
#include "bpf/bpf.h"
#include "trampoline/jitdebug.h"

#define TRACEE __attribute__((noipa, aligned(8), \
			      patchable_function_entry(4, 2)))
#define U64(p)	((uint64_t)(uintptr_t)(p))

long jt_traced(long a);
long jt_target(long a, long b);
long jt_middle(long a);
long jt_outer(long a);

TRACEE long jt_traced(long a) { return a; }
TRACEE long jt_target(long a, long b) { return a + b; }

__attribute__((noipa)) long jt_middle(long a)
{
	return jt_traced(a) + 1;
}

__attribute__((noipa)) long jt_outer(long a)
{
	return jt_middle(a) + 1;
}

static struct ftramp_bpf_object *open_jit(void)
{
	FTRAMP_OPTS(ftramp_bpf_open_opts, o, .engine = FTRAMP_BPF_ENGINE_JIT);
	struct ftramp_bpf_object *obj;

	obj = ftramp_bpf_object__open_file(BPF_OBJ_DIR "/jited.bpf.o", &o);
	if (obj && ftramp_bpf_object__load(obj)) {
		ftramp_bpf_object__close(obj);
		return NULL;
	}
	return obj;
}

#ifndef BPF_JIT_GDB_TARGET
#include "selftests/harness.h"
#include "selftests/read_file.h"

/* The execute address of function k of program p's image. */
static uint64_t func_addr(const struct ftramp_bpf_program *p, size_t k)
{
	return U64(p->jit->text.rx) + p->jit->funcs[k].start * A64_INSN_SIZE;
}

/* Its symbol in the GDB JIT object registered for it, or NULL. */
static const char *jit_sym_at(uint64_t addr, char *buf, size_t size)
{
	struct ftramp_jit_entry_info info;
	const char *s, *end;
	int h = ftramp_jitdebug__find(addr);

	if (h < 0 || ftramp_jitdebug__info(h, &info))
		return NULL;
	/* .strtab's one name: the object's last string before .shstrtab */
	s = memmem(info.symfile, info.symfile_size, "\0bpf_prog_", 10);
	if (!s)
		s = memmem(info.symfile, info.symfile_size,
			   "\0ftramp_tramp:", 14);
	if (!s)
		return NULL;
	s++;
	end = memchr(s, 0, (const char *)info.symfile + info.symfile_size - s);
	if (!end)
		return NULL;
	snprintf(buf, size, "%.*s", (int)(end - s), s);
	return buf;
}

TEST(registered_per_function)
{
	size_t before = ftramp_jitdebug__count();
	struct ftramp_bpf_object *obj = open_jit();
	const struct ftramp_bpf_program *p;
	const char *want[] = {
		"bpf_prog_jt_print", "bpf_prog_jt_print.jt_say",
		"bpf_prog_jt_print.jt_twice",
	};
	uint64_t addr[3];
	char sym[128];

	ASSERT_NE(NULL, obj);
	p = ftramp_bpf_object__find_program_by_name(obj, "jt_print");
	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, p->jit);
	ASSERT_EQ(3, p->jit->nr_funcs);
	/* two programs of three functions each */
	EXPECT_EQ(before + 6, ftramp_jitdebug__count());
	for (size_t k = 0; k < 3; k++) {
		addr[k] = func_addr(p, k);
		ASSERT_NE(NULL, jit_sym_at(addr[k], sym, sizeof(sym)));
		EXPECT_STREQ(want[k], sym);
		/* the whole function, its last word included */
		EXPECT_EQ(ftramp_jitdebug__find(addr[k]),
			  ftramp_jitdebug__find(U64(p->jit->text.rx) +
						p->jit->funcs[k].end * 4 - 4));
		/* the unwinder's FDE covers it */
		EXPECT_EQ(addr[k], U64(_Unwind_FindEnclosingFunction(
					(void *)(uintptr_t)(addr[k] + 8))));
	}
	EXPECT_EQ(addr[0], U64(ftramp_bpf_program__handler(p)));
	ftramp_bpf_object__close(obj);
	/* unregistered with the image */
	EXPECT_EQ(before, ftramp_jitdebug__count());
	for (size_t k = 0; k < 3; k++) {
		EXPECT_GT(0, ftramp_jitdebug__find(addr[k]));
		EXPECT_EQ(NULL, _Unwind_FindEnclosingFunction(
					(void *)(uintptr_t)(addr[k] + 8)));
	}
}

TEST(perf_map_line_per_function)
{
	struct ftramp_bpf_object *obj;
	const struct ftramp_bpf_program *p;
	const char *names[] = { "", ".jt_say", ".jt_twice" };
	char path[64], line[256];
	char *s;

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
	unlink(path);
	setenv("FTRAMP_PERF_MAP", "1", 1);
	ftramp_jitdebug__perf_map_reset();
	obj = open_jit();
	ASSERT_NE(NULL, obj);
	p = ftramp_bpf_object__find_program_by_name(obj, "jt_count");
	ASSERT_NE(NULL, p);
	s = read_file(path);
	ASSERT_NE(NULL, s);
	for (size_t k = 0; k < 3; k++) {
		const struct bpf_jit_func *f = &p->jit->funcs[k];

		snprintf(line, sizeof(line), "%llx %x bpf_prog_jt_count%s\n",
			 (unsigned long long)func_addr(p, k),
			 (f->end - f->start) * A64_INSN_SIZE, names[k]);
		EXPECT_NE(NULL, strstr(s, line));
		if (!strstr(s, line))
			TH_LOG("no line %s in:\n%s", line, s);
	}
	/* 6 functions: 6 lines (the object's trampolines come at attach) */
	{
		int n = 0;

		for (char *c = s; *c; c++)
			n += *c == '\n';
		EXPECT_EQ(6, n);
	}
	ftramp_bpf_object__close(obj);
	unsetenv("FTRAMP_PERF_MAP");
	ftramp_jitdebug__perf_map_reset();
	unlink(path);
}

/* ---------------------------------------------------------------------
 * backtrace() from inside the program: its bpf_printk sink
 * --------------------------------------------------------------------- */

static void *frames[64];
static int nr_frames;

static void bt_sink(void *ctx, const char *line, size_t len)
{
	(void)ctx;
	(void)line;
	(void)len;
	nr_frames = backtrace(frames, 64);
}

/* Where frame i's return address lies: its function's start. */
static uint64_t func_of(int i)
{
	return U64(_Unwind_FindEnclosingFunction(frames[i]));
}

TEST(backtrace_through_program)
{
	struct ftramp_bpf_object *obj = open_jit();
	const struct ftramp_bpf_program *p;
	uint64_t want[5];
	const char *what[5] = {
		"jt_say (JIT)", "jt_print (JIT)", "the trampoline of jt_traced",
		"jt_middle", "jt_outer",
	};
	int at = 0;
	char sym[128];

	ASSERT_NE(NULL, obj);
	p = ftramp_bpf_object__find_program_by_name(obj, "jt_print");
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ftramp_bpf_object__attach(obj));
	ftramp_bpf_set_print(bt_sink, NULL);
	nr_frames = 0;
	EXPECT_EQ(12, jt_outer(10));	/* 10 + 1 + 1: fentry changes nothing */
	ftramp_bpf_set_print(NULL, NULL);
	ASSERT_LT(0, nr_frames);

	want[0] = func_addr(p, 1);		/* jt_say */
	want[1] = func_addr(p, 0);		/* jt_print */
	want[2] = 0;				/* ftramp_tramp:jt_traced */
	want[3] = U64(jt_middle);
	want[4] = U64(jt_outer);
	/* in this order, other frames (the helper's) around them */
	for (int i = 0; i < nr_frames && at < 5; i++) {
		uint64_t f = func_of(i);

		if (at == 2) {
			if (jit_sym_at(U64(frames[i]), sym, sizeof(sym)) &&
			    !strcmp(sym, "ftramp_tramp:jt_traced"))
				at++;
		} else if (f == want[at]) {
			at++;
		}
	}
	if (at < 5) {
		TH_LOG("backtrace() did not see %s after %d frames:", what[at],
		       nr_frames);
		for (int i = 0; i < nr_frames; i++)
			TH_LOG("  %p in %#llx %s", frames[i],
			       (unsigned long long)func_of(i),
			       jit_sym_at(U64(frames[i]), sym, sizeof(sym)) ?
			       sym : "");
	}
	EXPECT_EQ(5, at);
	ftramp_bpf_object__close(obj);
}

TEST_HARNESS_MAIN

#else /* BPF_JIT_GDB_TARGET */

/*
 * The program gdb_bpf_bt.sh debugs: jt_print (JIT) on jt_traced; its
 * bpf_printk sink calls jbd_marker(), where gdb stops and prints the
 * backtrace.  It should read
 *
 *   jbd_marker <- ... <- bpf_prog_jt_print.jt_say <- bpf_prog_jt_print
 *   <- ftramp_tramp:jt_traced <- jt_middle <- jt_outer <- main
 */
void jbd_marker(void);

__attribute__((noipa)) void jbd_marker(void)
{
	__asm__ volatile("" ::: "memory");
}

static void marker_sink(void *ctx, const char *line, size_t len)
{
	(void)ctx;
	(void)line;
	(void)len;
	jbd_marker();
}

int main(void)
{
	struct ftramp_bpf_object *obj = open_jit();
	long r;

	if (!obj || ftramp_bpf_object__attach(obj)) {
		fprintf(stderr, "jited.bpf.o: %s\n", ftramp_error_detail());
		return 1;
	}
	ftramp_bpf_set_print(marker_sink, NULL);
	r = jt_outer(10);
	ftramp_bpf_set_print(NULL, NULL);
	ftramp_bpf_object__close(obj);
	printf("result %ld\n", r);
	return r == 12 ? 0 : 1;
}

#endif
