// SPDX-License-Identifier: MIT
/*
 * Static subprograms in .text that not every program calls, and two
 * programs in one section: the loader appends all of .text to each
 * program, as it is, and the verifier walks only the functions a
 * program reaches (bpf_test subprograms_not_called).  Built by clang as
 * users build theirs: each program's image has a .text function it
 * never calls, which was once refused as unreachable.
 */
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

static __attribute__((noinline)) __u64 times3(__u64 x)
{
	return x * 3;
}

static __attribute__((noinline)) __u64 plus7(__u64 x)
{
	return x + 7;
}

static __attribute__((noinline)) __u64 both(__u64 x)
{
	return times3(plus7(x));
}

SEC("fentry/bt_add")
__u64 sub_times3(__u64 *ctx)
{
	return times3(ctx[0]);
}

SEC("fentry/bt_add")
__u64 sub_plus7(__u64 *ctx)
{
	return plus7(ctx[0]);
}

SEC("fentry/bt_check")
__u64 sub_both(__u64 *ctx)
{
	return both(ctx[0]);
}
