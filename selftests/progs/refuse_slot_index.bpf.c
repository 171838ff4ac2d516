// SPDX-License-Identifier: MIT
/* Refused at open: a declared prog array slot beyond max_entries. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int target(void *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} jmp_table SEC(".maps") = {
	.values = { [2] = (void *)&target },
};

SEC("fentry/bt_add")
int target(void *ctx)
{
	return 1;
}

SEC("fentry/bt_add")
int caller(void *ctx)
{
	bpf_tail_call(ctx, &jmp_table, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
