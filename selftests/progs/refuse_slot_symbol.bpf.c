// SPDX-License-Identifier: MIT
/* Refused at open: a declared prog array slot naming a variable. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 not_a_program;

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} jmp_table SEC(".maps") = {
	.values = { [1] = (void *)&not_a_program },
};

SEC("fentry/bt_add")
int caller(void *ctx)
{
	bpf_tail_call(ctx, &jmp_table, 1);
	return not_a_program;
}

char LICENSE[] SEC("license") = "GPL";
