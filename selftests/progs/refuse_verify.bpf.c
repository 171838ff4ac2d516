// SPDX-License-Identifier: MIT
/*
 * Refused by the verifier (bpf_test refusals, cli_bpf.sh): the map value
 * is used without the NULL check bpf_map_lookup_elem() requires.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("fentry/bt_add")
int BPF_PROG(no_null_check, int a)
{
	__u32 k = a;
	__u64 *v = bpf_map_lookup_elem(&counts, &k);

	*v += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
