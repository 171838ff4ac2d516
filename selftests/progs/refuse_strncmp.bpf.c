// SPDX-License-Identifier: MIT
/*
 * Refused by the verifier (bpf_test refusals): bpf_strncmp()'s second
 * string has no NUL in its .rodata map's value (ARG_PTR_TO_CONST_STR).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

const char no_nul[4] = "abcd";
char buf[8];

SEC("fentry/bt_add")
int BPF_PROG(strncmp_no_nul, int a)
{
	return bpf_strncmp(buf, sizeof(buf), no_nul);
}

char LICENSE[] SEC("license") = "GPL";
