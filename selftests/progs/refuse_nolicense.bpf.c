// SPDX-License-Identifier: MIT
/* Refused at open: no license section (bpf_test.c). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("fentry/bt_add")
int prog(void *ctx)
{
	return 0;
}
