// SPDX-License-Identifier: MIT
/*
 * For `ftramp run -e` (cli_bpf.sh) on sample_prog: counts prog_square()
 * calls in a global and per argument in a hash, prints each with
 * bpf_printk, sends {x, x * x} on a ring buffer at its exit, and makes
 * prog_step(2) return 4242 without running (fmod_ret), so prog_square(2)
 * is never called.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, int);
	__type(value, __u64);
} by_arg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} squares SEC(".maps");

struct square {
	int x;
	int ret;
};

__u64 square_calls;

SEC("fentry/prog_square")
int BPF_PROG(square_enter, int x)
{
	__u64 one = 1, *n;

	__sync_fetch_and_add(&square_calls, 1);
	n = bpf_map_lookup_elem(&by_arg, &x);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&by_arg, &x, &one, BPF_NOEXIST);
	bpf_printk("prog_square(%d)", x);
	return 0;
}

SEC("fexit/prog_square")
int BPF_PROG(square_exit, int x, int ret)
{
	struct square s = { .x = x, .ret = ret };

	bpf_ringbuf_output(&squares, &s, sizeof(s), 0);
	return 0;
}

SEC("fmod_ret/prog_step")
int BPF_PROG(step_override, int i)
{
	return i == 2 ? 4242 : 0;
}

char LICENSE[] SEC("license") = "GPL";
