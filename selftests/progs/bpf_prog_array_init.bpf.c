// SPDX-License-Identifier: MIT
/*
 * A prog array filled by its declaration, as libbpf fills one (the
 * kernel selftests' progs/test_prog_array_init.c): slots 0 and 2 set at
 * load, slot 1 left empty (tailcall_test.c, the prog_array_init tests).
 *
 * caller tail-calls through constant indices (ctx[0]'s bits 0, 1, 2 pick
 * slots 0, 1, 2: each its own call, so the JIT makes direct slots), then
 * through a variable one (ctx[1]), and returns 7 when every call fell
 * through.  A target returns its tag plus ctx[0]: the ctx is the
 * caller's.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int target_a(__u64 *ctx);
int target_b(__u64 *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 3);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} jmp_table SEC(".maps") = {
	.values = {
		[0] = (void *)&target_a,
		[2] = (void *)&target_b,
	},
};

__u64 caller_runs;

SEC("fentry/bt_add")
int caller(__u64 *ctx)
{
	__u64 sel = ctx[0];

	caller_runs++;
	if (sel & 1)
		bpf_tail_call(ctx, &jmp_table, 0);
	if (sel & 2)
		bpf_tail_call(ctx, &jmp_table, 1);
	if (sel & 4)
		bpf_tail_call(ctx, &jmp_table, 2);
	bpf_tail_call(ctx, &jmp_table, ctx[1]);
	return 7;
}

SEC("fentry/bt_add")
int target_a(__u64 *ctx)
{
	return 1000 + ctx[0];
}

SEC("fentry/bt_add")
int target_b(__u64 *ctx)
{
	return 2000 + ctx[0];
}

char LICENSE[] SEC("license") = "GPL";
