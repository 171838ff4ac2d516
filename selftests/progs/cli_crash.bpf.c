// SPDX-License-Identifier: MIT
/*
 * For `ftramp run -e ... --maps` on `events_prog crash` (cli_bpf.sh): the
 * program dies of SIGSEGV inside ev_leaf_crash(); the counts written
 * before it did are still in the maps the ftramp process prints.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 outer_calls;
__u64 crash_calls;

SEC("fentry/ev_outer")
int BPF_PROG(outer_enter)
{
	__sync_fetch_and_add(&outer_calls, 1);
	return 0;
}

SEC("fentry/ev_leaf_crash")
int BPF_PROG(crash_enter)
{
	__sync_fetch_and_add(&crash_calls, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
