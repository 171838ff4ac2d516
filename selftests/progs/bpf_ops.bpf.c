// SPDX-License-Identifier: MIT
/* A struct_ops program, reached through a thunk (bpf_test.c). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("struct_ops/add3")
long BPF_PROG(add3, long a, long b, long c)
{
	return a + b * 10 + c * 100 + bpf_get_attach_cookie(ctx);
}

char LICENSE[] SEC("license") = "GPL";
