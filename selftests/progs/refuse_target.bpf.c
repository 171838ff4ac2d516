// SPDX-License-Identifier: MIT
/*
 * Opens and loads, but attaching fails on the second program (no such
 * function): the object attach is all or nothing (bpf_test.c).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 hits;

SEC("fentry/bt_add")
int first(void *ctx)
{
	hits++;
	return 0;
}

SEC("fentry/bt_no_such_function")
int second(void *ctx)
{
	hits++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
