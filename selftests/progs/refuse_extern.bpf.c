// SPDX-License-Identifier: MIT
/* Refused at open: ld_imm64 of an undefined (extern) symbol. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern __u64 not_defined_anywhere;

SEC("fentry/bt_add")
int prog(void *ctx)
{
	return not_defined_anywhere;
}

char LICENSE[] SEC("license") = "GPL";
