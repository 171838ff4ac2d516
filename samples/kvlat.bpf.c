// SPDX-License-Identifier: MIT
/*
 * A latency histogram of kv_get() in a map: fentry stamps the entry time
 * per thread, fexit adds the log2 of the duration to an array of
 * buckets.  `ftramp run -e kvlat.bpf.o --maps -- kvstore` dumps it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);		/* thread id */
	__type(value, __u64);		/* entry time, ns */
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32);
	__type(key, __u32);		/* log2(ns) */
	__type(value, __u64);		/* calls */
} hist SEC(".maps");

SEC("fentry/kv_get")
int BPF_PROG(get_enter)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 ts = bpf_ktime_get_ns();

	bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
	return 0;
}

static __always_inline __u32 log2(__u64 v)
{
	__u32 r = 0;

	while (v > 1 && r < 31) {
		v >>= 1;
		r++;
	}
	return r;
}

SEC("fexit/kv_get")
int BPF_PROG(get_exit)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), slot;
	__u64 *ts = bpf_map_lookup_elem(&start, &tid), *cnt;

	if (!ts)
		return 0;
	slot = log2(bpf_ktime_get_ns() - *ts);
	bpf_map_delete_elem(&start, &tid);
	cnt = bpf_map_lookup_elem(&hist, &slot);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
