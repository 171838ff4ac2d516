// SPDX-License-Identifier: MIT
/*
 * The helper numbers this runtime implements (the kernel's enum
 * bpf_func_id) and which of them read a trampoline's ctx: what the load
 * checks (check.c) consult.  Pure, apart from helpers.c which implements
 * them, so the checks build on the host for the fuzzer.
 */
#include "bpf/bpf.h"
#include "lib/util.h"

static const char *const names[] = {
	[BPF_FUNC_map_lookup_elem]	= "map_lookup_elem",
	[BPF_FUNC_map_update_elem]	= "map_update_elem",
	[BPF_FUNC_map_delete_elem]	= "map_delete_elem",
	[BPF_FUNC_probe_read]		= "probe_read",
	[BPF_FUNC_ktime_get_ns]		= "ktime_get_ns",
	[BPF_FUNC_trace_printk]		= "trace_printk",
	[BPF_FUNC_get_prandom_u32]	= "get_prandom_u32",
	[BPF_FUNC_get_smp_processor_id]	= "get_smp_processor_id",
	[BPF_FUNC_tail_call]		= "tail_call",
	[BPF_FUNC_get_current_pid_tgid]	= "get_current_pid_tgid",
	[BPF_FUNC_get_current_uid_gid]	= "get_current_uid_gid",
	[BPF_FUNC_get_current_comm]	= "get_current_comm",
	[BPF_FUNC_probe_read_str]	= "probe_read_str",
	[BPF_FUNC_probe_read_user]	= "probe_read_user",
	[BPF_FUNC_probe_read_kernel]	= "probe_read_kernel",
	[BPF_FUNC_probe_read_user_str]	= "probe_read_user_str",
	[BPF_FUNC_probe_read_kernel_str] = "probe_read_kernel_str",
	[BPF_FUNC_ktime_get_boot_ns]	= "ktime_get_boot_ns",
	[BPF_FUNC_ringbuf_output]	= "ringbuf_output",
	[BPF_FUNC_ringbuf_reserve]	= "ringbuf_reserve",
	[BPF_FUNC_ringbuf_submit]	= "ringbuf_submit",
	[BPF_FUNC_ringbuf_discard]	= "ringbuf_discard",
	[BPF_FUNC_ktime_get_coarse_ns]	= "ktime_get_coarse_ns",
	[BPF_FUNC_get_func_ip]		= "get_func_ip",
	[BPF_FUNC_get_attach_cookie]	= "get_attach_cookie",
	[BPF_FUNC_loop]			= "loop",
	[BPF_FUNC_strncmp]		= "strncmp",
	[BPF_FUNC_get_func_arg]		= "get_func_arg",
	[BPF_FUNC_get_func_ret]		= "get_func_ret",
	[BPF_FUNC_get_func_arg_cnt]	= "get_func_arg_cnt",
	[BPF_FUNC_ktime_get_tai_ns]	= "ktime_get_tai_ns",
};

bool bpf_helper_known(int32_t id)
{
	return id > 0 && (size_t)id < ARRAY_SIZE(names) &&
	       names[id];
}

const char *bpf_helper_name(int32_t id)
{
	return bpf_helper_known(id) ? names[id] : "?";
}

bool bpf_helper_needs_ctx(int32_t id)
{
	switch (id) {
	case BPF_FUNC_get_func_ip: case BPF_FUNC_get_attach_cookie:
	case BPF_FUNC_get_func_arg: case BPF_FUNC_get_func_ret:
	case BPF_FUNC_get_func_arg_cnt:
		return true;
	}
	return false;
}

/*
 * Helpers that take the program (the sixth argument): a map argument is
 * checked against its maps, strncmp's string bounded by one of them.
 */
bool bpf_helper_takes_prog(int32_t id)
{
	switch (id) {
	case BPF_FUNC_map_lookup_elem: case BPF_FUNC_map_update_elem:
	case BPF_FUNC_map_delete_elem: case BPF_FUNC_ringbuf_output:
	case BPF_FUNC_ringbuf_reserve:
	case BPF_FUNC_strncmp:	/* its string: in one of the program's maps */
		return true;
	}
	return false;
}

/*
 * Helpers the JIT takes (jit.c; bpf_tail_call() is its own code,
 * arch/arm64/bpf_jit.c): every one.  Pure, so that `ftramp prog` on the
 * host can say which engine a program would run in.
 */
bool bpf_helper_jit(int32_t id)
{
	return bpf_helper_known(id);
}

int bpf_prog_jit_refusal(const struct ftramp_bpf_program *prog)
{
	for (size_t i = 0; i < prog->n; i++) {
		const struct ftramp_bpf_insn *in = &prog->insns[i];

		if (in->code == (BPF_JMP | BPF_CALL) && !in->src_reg &&
		    !bpf_helper_jit(in->imm))
			return in->imm;
	}
	return 0;
}
