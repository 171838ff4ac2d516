// SPDX-License-Identifier: MIT
/*
 * Opens, refused at load: slot 0 takes an fentry program like the
 * caller, slot 1 an fexit one, which the array (owned by the caller's
 * type) refuses; the load fails whole and slot 0 does not stay set
 * (tailcall_test.c).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int same_type(void *ctx);
int other_type(void *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} jmp_table SEC(".maps") = {
	.values = {
		[0] = (void *)&same_type,
		[1] = (void *)&other_type,
	},
};

SEC("fentry/bt_add")
int caller(void *ctx)
{
	bpf_tail_call(ctx, &jmp_table, 0);
	return 0;
}

SEC("fentry/bt_add")
int same_type(void *ctx)
{
	return 1;
}

SEC("fexit/bt_add")
int other_type(void *ctx)
{
	return 2;
}

char LICENSE[] SEC("license") = "GPL";
