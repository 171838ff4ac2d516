// SPDX-License-Identifier: MIT
/*
 * Small programs of known code for the JIT's tools: cli_jited.sh lists
 * jt_count with ftramp prog --jited; bpf_jit_test runs jt_print on
 * jt_traced, whose bpf_printk sink walks the stack (the unwinder through
 * the image) and whose functions gdb and perf see by name.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __noinline long jt_twice(long x)
{
	return x * 2;
}

static __noinline long jt_say(long a)
{
	bpf_printk("jt_say %ld", a);
	return a;
}

/*
 * Every program reaches every .text function: the loader appends all of
 * .text to each program and the verifier refuses code it cannot reach.
 */
SEC("fentry/jt_target")
int BPF_PROG(jt_count, long a, long b)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&hits, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
	if (a < 0)
		jt_say(a);
	return jt_twice(a + b) > 10;
}

SEC("fentry/jt_traced")
int BPF_PROG(jt_print, long a)
{
	return jt_say(jt_twice(a)) + 1;
}

char LICENSE[] SEC("license") = "GPL";
