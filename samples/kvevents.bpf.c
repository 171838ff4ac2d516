// SPDX-License-Identifier: MIT
/*
 * A ring buffer event stream: one record per kv_put() with the thread,
 * the key (read with bpf_probe_read_user_str) and the result, and a
 * trace_printk line for each failed put.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

struct event {
	__u32 tid;
	int ret;
	char key[16];
};

SEC("fexit/kv_put")
/* BPF has no floating point: the double argument is read as its bits */
int BPF_PROG(put_exit, void *kv, const char *key, __u64 value_bits, int ret)
{
	struct event *e;

	if (ret)
		bpf_printk("kv_put(%s) failed: %d", key, ret);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->tid = (__u32)bpf_get_current_pid_tgid();
	e->ret = ret;
	bpf_probe_read_user_str(e->key, sizeof(e->key), key);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
