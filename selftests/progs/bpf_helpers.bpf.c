// SPDX-License-Identifier: MIT
/*
 * Helpers and maps from a clang-built object: each program is run with
 * ftramp_bpf_prog__test_run() (or attached) by bpf_test.c.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} pcpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, 4);
	__uint(value_size, 4);
} jmp SEC(".maps");

struct event {
	__u32 pid, tid;
	__u64 ts;
	char comm[16];
	char str[16];
	long read_ok, read_bad;
	__u32 cpu, rnd1, rnd2;
};

struct out {
	__u64 ktime, boot;
	long str_len, str_bad;
	char str[8];
	__u64 loops, sum;
};

struct out result;

static long loop_cb(__u32 i, void *ctx)
{
	__u64 *sum = ctx;

	*sum += i;
	return i == 9;	/* stop after the tenth */
}

/* ctx[0] is a pointer to a string in the test */
SEC("fentry/bh_str")
int BPF_PROG(helpers, const char *s)
{
	struct event *e;
	__u32 k = 1;
	__u64 *pc, sum = 0;
	__u32 v = 5;
	char buf[4];

	result.ktime = bpf_ktime_get_ns();
	result.boot = bpf_ktime_get_boot_ns();
	/* past the NUL of "hello": left as they were, as the kernel does */
	result.str[6] = 'x';
	result.str[7] = 'y';
	result.str_len = bpf_probe_read_user_str(result.str, sizeof(result.str), s);
	result.str_bad = bpf_probe_read_user_str(buf, sizeof(buf), (void *)16);
	result.loops = bpf_loop(100, loop_cb, &sum, 0);
	result.sum = sum;

	pc = bpf_map_lookup_elem(&pcpu, &k);
	if (pc)
		*pc += 1;
	bpf_map_update_elem(&lru, &v, &v, BPF_ANY);

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 1;
	__u64 pt = bpf_get_current_pid_tgid();
	e->pid = pt >> 32;
	e->tid = (__u32)pt;
	e->ts = bpf_ktime_get_ns();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->read_ok = bpf_probe_read_user(e->str, 8, s);
	e->read_bad = bpf_probe_read_user(buf, sizeof(buf), (void *)16);
	e->cpu = bpf_get_smp_processor_id();
	e->rnd1 = bpf_get_prandom_u32();
	e->rnd2 = bpf_get_prandom_u32();
	bpf_ringbuf_submit(e, 0);

	/* one discarded, one by output */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e)
		bpf_ringbuf_discard(e, 0);
	bpf_ringbuf_output(&events, &sum, sizeof(sum), 0);

	bpf_printk("helpers %d %s", 42, s);
	bpf_tail_call(ctx, &jmp, 0);	/* empty slot: falls through */
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
