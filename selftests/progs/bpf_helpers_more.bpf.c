// SPDX-License-Identifier: MIT
/*
 * The helpers tracing tools of the libbpf-tools kind call beyond
 * bpf_helpers.bpf.c's: ids, coarse and TAI clocks, the _kernel reads
 * (a process's own memory), bpf_probe_read_str and bpf_strncmp against
 * .rodata strings.  Each result is stored for bpf_test.c, which works
 * out what it should be by itself.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* bpf_strncmp()'s second string: NUL-terminated, in .rodata */
const char s_hello[] = "hello";
const char s_hellp[] = "hellp";
const char s_hell[] = "hell";
const char s_hellx[] = "hellx";
const char s_a[] = "a";

struct more_out {
	__u64 uid_gid, coarse, tai;
	long rd, rd_bad, kstr_len, kstr_trunc, kstr_bad, str_len;
	char buf[8], bad[8], kstr[8], trunc[4], kbad[8], str[8];
	long cmp_eq, cmp_lt, cmp_gt, cmp_prefix, cmp_unsigned;
};

struct more_out more;

/* ctx: a string of 8 bytes or more, a short one, an unmapped address */
SEC("fentry/bh_more")
int BPF_PROG(helpers_more, const char *s, const char *t, const char *bad)
{
	char hi[2] = { (char)0xff, 0 };

	more.uid_gid = bpf_get_current_uid_gid();
	more.coarse = bpf_ktime_get_coarse_ns();
	more.tai = bpf_ktime_get_tai_ns();

	/* what the test expects overwritten (zeroed) or kept */
	__builtin_memset(more.bad, 'x', sizeof(more.bad));
	__builtin_memset(more.kbad, 'x', sizeof(more.kbad));
	more.kstr[6] = 'x';
	more.kstr[7] = 'y';

	more.rd = bpf_probe_read_kernel(more.buf, sizeof(more.buf), s);
	more.rd_bad = bpf_probe_read_kernel(more.bad, sizeof(more.bad), bad);
	more.kstr_len = bpf_probe_read_kernel_str(more.kstr, sizeof(more.kstr), t);
	more.kstr_trunc = bpf_probe_read_kernel_str(more.trunc,
						    sizeof(more.trunc), s);
	more.kstr_bad = bpf_probe_read_kernel_str(more.kbad, sizeof(more.kbad),
						  bad);
	more.str_len = bpf_probe_read_str(more.str, sizeof(more.str), t);

	more.cmp_eq = bpf_strncmp(more.kstr, sizeof(more.kstr), s_hello);
	more.cmp_lt = bpf_strncmp(more.kstr, sizeof(more.kstr), s_hellp);
	more.cmp_gt = bpf_strncmp(more.kstr, sizeof(more.kstr), s_hell);
	more.cmp_prefix = bpf_strncmp(more.kstr, 4, s_hellx);
	more.cmp_unsigned = bpf_strncmp(hi, sizeof(hi), s_a);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
