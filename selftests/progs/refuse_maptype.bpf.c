// SPDX-License-Identifier: MIT
/* Refused at open: a map type ftramp does not have (bpf_test.c). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} st SEC(".maps");

SEC("fentry/bt_add")
int prog(void *ctx)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&st, &k) != 0;
}

char LICENSE[] SEC("license") = "GPL";
