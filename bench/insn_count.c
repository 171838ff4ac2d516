// SPDX-License-Identifier: MIT
/*
 * insn_count: a QEMU TCG plugin that counts guest instructions and system
 * calls between the marks a benchmark program executes (bench/mark.h).
 *
 *   qemu-aarch64 -plugin $(O)/bench/insn_count.so,out=FILE prog
 *
 * Counting is exact and repeatable: every translated instruction except
 * the marks gets an inline "add 1" to one counter, executed by the TCG
 * code right before the instruction itself, so the count does not depend
 * on how QEMU cuts, chains or retranslates blocks (self-modifying code
 * such as a text poke only causes a retranslation).  A mark gets an
 * execution callback instead, which snapshots the counter.
 *
 * System calls are counted while a window is open through the plugin's
 * syscall hook (it runs before QEMU performs the call): the total, and
 * those that matter to text patching by name.
 *
 * Every thread (vCPU) adds to the same counters, and the inline add is
 * not atomic: measure single-threaded code, or accept that concurrent
 * threads may lose a few counts.
 *
 * Output, one line per window in the order the windows close:
 *
 *   window <n> insns <i> syscalls <s> mprotect <p> membarrier <b>
 *          mmap <m> munmap <u> tgkill <k>
 *
 * (on one line), and a final "total insns <i>" line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin.h"
#include "mark.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

/* Linux generic syscall numbers (asm-generic/unistd.h), as on arm64. */
enum {
	NR_TGKILL	= 131,
	NR_MUNMAP	= 215,
	NR_MMAP		= 222,
	NR_MPROTECT	= 226,
	NR_MEMBARRIER	= 283,
};

enum counter {
	C_SYSCALLS,
	C_MPROTECT,
	C_MEMBARRIER,
	C_MMAP,
	C_MUNMAP,
	C_TGKILL,
	NR_COUNTERS,
};

static const char *const counter_name[NR_COUNTERS] = {
	[C_SYSCALLS]	= "syscalls",
	[C_MPROTECT]	= "mprotect",
	[C_MEMBARRIER]	= "membarrier",
	[C_MMAP]	= "mmap",
	[C_MUNMAP]	= "munmap",
	[C_TGKILL]	= "tgkill",
};

/* Instructions executed so far, marks excluded (inline adds from TCG). */
static uint64_t insns;

static struct {
	int open;			/* a START was seen, no STOP yet */
	uint64_t start;			/* insns at START */
	uint64_t count[NR_COUNTERS];	/* events since START */
	unsigned long closed;		/* windows reported so far */
	unsigned long strays;		/* STOP without START, nested START */
} win;

static FILE *out;

static void report(const char *line)
{
	if (out) {
		fputs(line, out);
		fflush(out);
	} else {
		qemu_plugin_outs(line);
	}
}

static void mark_exec(unsigned int vcpu, void *udata)
{
	unsigned int cmd = (unsigned int)(uintptr_t)udata;
	char line[256];
	int len, i;

	switch (cmd) {
	case BENCH_MARK_START:
		if (__atomic_load_n(&win.open, __ATOMIC_RELAXED))
			win.strays++;
		for (i = 0; i < NR_COUNTERS; i++)
			__atomic_store_n(&win.count[i], 0, __ATOMIC_RELAXED);
		win.start = insns;
		__atomic_store_n(&win.open, 1, __ATOMIC_RELEASE);
		break;
	case BENCH_MARK_STOP:
		if (!__atomic_load_n(&win.open, __ATOMIC_ACQUIRE)) {
			win.strays++;
			break;
		}
		__atomic_store_n(&win.open, 0, __ATOMIC_RELAXED);
		len = snprintf(line, sizeof(line), "window %lu insns %" PRIu64,
			       win.closed++, insns - win.start);
		for (i = 0; i < NR_COUNTERS && len < (int)sizeof(line); i++)
			len += snprintf(line + len, sizeof(line) - len,
					" %s %" PRIu64, counter_name[i],
					__atomic_load_n(&win.count[i],
							__ATOMIC_RELAXED));
		if (len < (int)sizeof(line) - 1)
			strcpy(line + len, "\n");
		report(line);
		break;
	default:
		/* A future command this plugin does not know: ignore. */
		break;
	}
}

static void count(enum counter c)
{
	__atomic_fetch_add(&win.count[c], 1, __ATOMIC_RELAXED);
}

static void syscall_entry(qemu_plugin_id_t id, unsigned int vcpu, int64_t num,
			  uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			  uint64_t a5, uint64_t a6, uint64_t a7, uint64_t a8)
{
	if (!__atomic_load_n(&win.open, __ATOMIC_ACQUIRE))
		return;
	count(C_SYSCALLS);
	switch (num) {
	case NR_MPROTECT:
		count(C_MPROTECT);
		break;
	case NR_MEMBARRIER:
		count(C_MEMBARRIER);
		break;
	case NR_MMAP:
		count(C_MMAP);
		break;
	case NR_MUNMAP:
		count(C_MUNMAP);
		break;
	case NR_TGKILL:
		count(C_TGKILL);
		break;
	}
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);
	size_t i;

	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		uint32_t word = 0;
		int cmd = -1;

		if (qemu_plugin_insn_size(insn) == sizeof(word)) {
			memcpy(&word, qemu_plugin_insn_data(insn), sizeof(word));
			cmd = bench_mark_decode(word);
		}
		if (cmd >= 0)
			qemu_plugin_register_vcpu_insn_exec_cb(insn, mark_exec,
					QEMU_PLUGIN_CB_NO_REGS,
					(void *)(uintptr_t)cmd);
		else
			qemu_plugin_register_vcpu_insn_exec_inline(insn,
					QEMU_PLUGIN_INLINE_ADD_U64, &insns, 1);
	}
}

static void at_exit(qemu_plugin_id_t id, void *udata)
{
	char line[128];

	snprintf(line, sizeof(line), "total insns %" PRIu64 " windows %lu strays %lu\n",
		 insns, win.closed, win.strays);
	report(line);
	if (out)
		fclose(out);
	out = NULL;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info,
					   int argc, char **argv)
{
	int i;

	if (info->system_emulation || strcmp(info->target_name, "aarch64")) {
		fprintf(stderr, "insn_count: aarch64 user mode only (got %s)\n",
			info->target_name);
		return -1;
	}
	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4)) {
			out = fopen(argv[i] + 4, "w");
			if (!out) {
				fprintf(stderr, "insn_count: %s: %s\n",
					argv[i] + 4, strerror(errno));
				return -1;
			}
		} else {
			fprintf(stderr, "insn_count: unknown option %s\n",
				argv[i]);
			return -1;
		}
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	qemu_plugin_register_vcpu_syscall_cb(id, syscall_entry);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
