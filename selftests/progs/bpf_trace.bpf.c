// SPDX-License-Identifier: MIT
/*
 * fentry/fexit/fmod_ret programs on bpf_test.c's functions: global data
 * in .data/.bss/.rodata at offsets, a subprogram in .text, the func
 * helpers, a hash map and an array map.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

struct rec {
	__u64 ip, cnt, arg1, ret, cookie;
	long long sum;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct rec);
} recs SEC(".maps");

/* .data, .bss, .rodata: read and written at offsets past the first */
__u64 data_pad = 1;
__u64 data_total = 100;
__u64 bss_pad;
__u64 bss_exits;
const volatile __u64 ro_pad = 3;
const volatile __u64 ro_mult = 7;
int override = 0;

static __noinline long scale(long x)
{
	return x * ro_mult + 1;
}

static __noinline long twice(long x)
{
	return scale(x) + scale(x);
}

SEC("fentry/bt_add")
int BPF_PROG(on_add, int a, int b)
{
	__u32 k = a & 7;
	__u64 one = 1, *v;

	v = bpf_map_lookup_elem(&calls, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&calls, &k, &one, BPF_NOEXIST);
	data_total += twice(a + b);
	return 0;
}

SEC("fexit/bt_add")
int BPF_PROG(on_add_exit, int a, int b, int ret)
{
	__u32 k = 0;
	struct rec *r = bpf_map_lookup_elem(&recs, &k);
	__u64 v = 0;

	bss_exits++;
	if (!r)
		return 0;
	r->ip = bpf_get_func_ip(ctx);
	r->cnt = bpf_get_func_arg_cnt(ctx);
	if (!bpf_get_func_arg(ctx, 1, &v))
		r->arg1 = v;
	if (!bpf_get_func_ret(ctx, &v))
		r->ret = v;
	r->cookie = bpf_get_attach_cookie(ctx);
	r->sum = (long long)a + b + ret;
	return 0;
}

SEC("fmod_ret/bt_check")
int BPF_PROG(on_check, int x)
{
	return override ? x * 2 + override : 0;
}

char LICENSE[] SEC("license") = "GPL";
