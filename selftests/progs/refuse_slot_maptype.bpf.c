// SPDX-License-Identifier: MIT
/*
 * Refused at open: a values[] initialiser on a map that is not a prog
 * array (libbpf takes it on map-in-map types, which ftramp has not).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int target(void *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} not_progs SEC(".maps") = {
	.values = { [0] = (void *)&target },
};

SEC("fentry/bt_add")
int target(void *ctx)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&not_progs, &k) != 0;
}

char LICENSE[] SEC("license") = "GPL";
