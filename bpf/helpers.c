// SPDX-License-Identifier: MIT
/*
 * BPF helpers, with the kernel's numbers (enum bpf_func_id) and
 * semantics (include/uapi/linux/bpf.h's descriptions), for programs run
 * by a trampoline in this process.
 *
 * Differences that a program can see are listed in Documentation/bpf.rst:
 * "CPU" is a slot of the per-CPU maps (sched_getcpu() folded into
 * ftramp_bpf_num_cpus()), the pid/tgid are the process's, trace_printk
 * lines go to ftramp_bpf_set_print()'s sink.  A map argument must be one
 * of the program's maps (the verifier proves it; still checked per call), so
 * a stray pointer in R1 is refused with -EINVAL rather than followed.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bpf/bpf.h"
#include "lib/peek.h"

/* ------------------------------------------------------------------------
 * trace_printk
 */

static ftramp_bpf_print_fn print_fn;
static void *print_ctx;
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

FTRAMP_API void ftramp_bpf_set_print(ftramp_bpf_print_fn cb, void *ctx)
{
	pthread_mutex_lock(&print_lock);
	print_fn = cb;
	print_ctx = ctx;
	pthread_mutex_unlock(&print_lock);
}

static void emit_line(const char *line, size_t len)
{
	pthread_mutex_lock(&print_lock);
	if (print_fn) {
		print_fn(print_ctx, line, len);
	} else {
		for (size_t off = 0; off < len;) {
			ssize_t w = write(STDERR_FILENO, line + off, len - off);

			if (w <= 0)
				break;
			off += w;
		}
	}
	pthread_mutex_unlock(&print_lock);
}

/*
 * The kernel's bpf_trace_printk() conversions: %d %i %u %x %X %c %s %p
 * and %%, with l or ll for the integers; at most 3 of them.  %s reads
 * the string fault-safely ("(fault)" when it cannot).  -EINVAL for
 * anything else, as the kernel refuses the format.
 */
int bpf_format(char *out, size_t size, const char *fmt, uint32_t fmt_size,
	       const uint64_t *args, int nr_args)
{
	size_t o = 0;
	int used = 0;

	if (!fmt_size || fmt[fmt_size - 1] != '\0' || !size)
		return -EINVAL;
#define PUT(...) do {							\
		int w_ = snprintf(out + o, size - o, __VA_ARGS__);	\
		if (w_ > 0)						\
			o += (size_t)w_ < size - o ? (size_t)w_ : size - o - 1;\
	} while (0)
	for (const char *p = fmt; *p; p++) {
		int lmod = 0;
		uint64_t v;

		if (*p != '%') {
			if (o + 1 < size)
				out[o++] = *p;
			continue;
		}
		p++;
		if (*p == '%') {
			if (o + 1 < size)
				out[o++] = '%';
			continue;
		}
		while (*p == 'l' && lmod < 2) {
			lmod++;
			p++;
		}
		if (!*p || !strchr("diuxXcsp", *p))
			return -EINVAL;
		if (used >= nr_args)
			return -EINVAL;
		v = args[used++];
		switch (*p) {
		case 'd': case 'i':
			PUT("%lld", lmod ? (long long)v : (long long)(int32_t)v);
			break;
		case 'u':
			PUT("%llu", lmod ? (unsigned long long)v :
			    (unsigned long long)(uint32_t)v);
			break;
		case 'x': case 'X':
			PUT(*p == 'x' ? "%llx" : "%llX", lmod ?
			    (unsigned long long)v : (unsigned long long)(uint32_t)v);
			break;
		case 'c':
			PUT("%c", (char)v);
			break;
		case 'p':
			PUT("0x%llx", (unsigned long long)v);
			break;
		case 's': {
			char s[64];
			size_t got = ftramp_peek(s, v, sizeof(s) - 1);

			s[got] = '\0';
			if (!got && v)
				PUT("(fault)");
			else
				PUT("%s", v ? s : "(null)");
			break;
		}
		}
	}
#undef PUT
	out[o] = '\0';
	return o;
}

static long trace_printk(const uint64_t *r)
{
	char fmt[256], line[512];
	uint32_t fsz = r[2];
	int n;

	if (!fsz || fsz > sizeof(fmt) || ftramp_peek(fmt, r[1], fsz) != fsz)
		return -EINVAL;
	n = bpf_format(line, sizeof(line) - 1, fmt, fsz, &r[3], 3);
	if (n < 0)
		return n;
	if (!n || line[n - 1] != '\n')
		line[n++] = '\n';
	emit_line(line, n);
	return n;
}

/* ------------------------------------------------------------------------
 * Memory, time, identity
 */

static long read_user(void *dst, uint32_t size, uint64_t src)
{
	if (ftramp_peek(dst, src, size) == size)
		return 0;
	memset(dst, 0, size);
	return -EFAULT;
}

/*
 * The kernel's bpf_probe_read_user_str(): up to and including the NUL
 * (or size - 1 bytes and a NUL), the bytes of @dst after it untouched,
 * so that no byte of the program's memory past the string is copied
 * out; on a fault before the NUL, @dst all zero and -EFAULT.  Read in
 * chunks through a buffer of ours for that reason.
 */
static long read_user_str(char *dst, uint32_t size, uint64_t src)
{
	char tmp[64];
	uint32_t done = 0;

	if (!size)
		return -EINVAL;
	while (done < size) {
		uint32_t n = size - done < sizeof(tmp) ? size - done :
							  sizeof(tmp);
		size_t got = ftramp_peek(tmp, src + done, n);
		char *nul = memchr(tmp, '\0', got);

		if (nul) {
			memcpy(dst + done, tmp, nul - tmp + 1);
			return done + (nul - tmp) + 1;
		}
		if (got < n)
			break;
		if (done + n == size) {
			memcpy(dst + done, tmp, n - 1);
			dst[size - 1] = '\0';
			return size;
		}
		memcpy(dst + done, tmp, n);
		done += n;
	}
	memset(dst, 0, size);
	return -EFAULT;
}

/*
 * The kernel's bpf_strncmp(): strncmp() of @s1 (@size bytes the verifier
 * proved readable) and @s2, a NUL-terminated string in a read-only map
 * value (ARG_PTR_TO_CONST_STR).  The verifier checked that NUL in the
 * section's bytes; user space may rewrite the map since (nothing freezes
 * it), so @s2 is read no further than the end of the value of the
 * program's .rodata map it points into (-EINVAL if none, as for a map
 * argument).  The result is the
 * generic kernel strncmp()'s: -1, 0 or 1, the bytes compared unsigned.
 */
static long str_ncmp(const struct ftramp_bpf_program *prog, const char *s1,
		     uint32_t size, uint64_t s2)
{
	const unsigned char *a = (const unsigned char *)s1;
	const unsigned char *b = (const unsigned char *)(uintptr_t)s2;
	uint64_t end = 0;	/* of the value @s2 points into */

	for (size_t i = 0; i < prog->nr_maps && !end; i++) {
		const struct ftramp_bpf_map *m = prog->maps[i];
		struct bpf_map_layout l;

		uint64_t base, idx;

		if (m->origin != BPF_MAP_RODATA || bpf_map_layout(m, &l) ||
		    !l.data)
			continue;
		base = (uintptr_t)l.data;
		idx = (s2 - base) / l.stride;
		if (s2 >= base && idx < l.nr)
			end = base + idx * l.stride + m->value_size;
	}
	if (!end)
		return -EINVAL;
	for (uint32_t i = 0; i < size; i++) {
		unsigned char c2 = s2 + i < end ? b[i] : 0;

		if (a[i] != c2)
			return a[i] < c2 ? -1 : 1;
		if (!a[i])
			break;
	}
	return 0;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint32_t prandom(void)
{
	static __thread uint64_t state;
	uint64_t x = state;

	if (!x)
		x = clock_ns(CLOCK_MONOTONIC) ^
		    ((uint64_t)syscall(SYS_gettid) << 32) ^ 0x9e3779b97f4a7c15ull;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	state = x;
	return x >> 32;
}

static long current_comm(char *buf, uint32_t size)
{
	char comm[17] = "";

	if (!size)
		return -EINVAL;
	prctl(PR_GET_NAME, comm, 0, 0, 0);
	memset(buf, 0, size);
	memcpy(buf, comm, strnlen(comm, size - 1));
	return 0;
}

/* A map argument: one of the program's maps, else NULL. */
static struct ftramp_bpf_map *map_arg(const struct ftramp_bpf_program *prog,
				      uint64_t v)
{
	for (size_t i = 0; i < prog->nr_maps; i++)
		if ((uintptr_t)prog->maps[i] == v)
			return prog->maps[i];
	return NULL;
}

/*
 * The native entries, one per helper, in the BPF calling convention: R1-R5
 * are the first five arguments (x0-x4 on arm64), so that the JIT calls
 * them directly; the program, for the helpers that check a map argument
 * against its maps, is the sixth.  The interpreter calls the same ones.
 */
#define HELPER(name)							\
	static uint64_t name(uint64_t r1, uint64_t r2, uint64_t r3,	\
			     uint64_t r4, uint64_t r5,			\
			     const struct ftramp_bpf_program *prog)
#define UNUSED_ARGS	(void)r1; (void)r2; (void)r3; (void)r4; (void)r5; \
			(void)prog

HELPER(h_map_lookup_elem)
{
	struct ftramp_bpf_map *m = map_arg(prog, r1);

	UNUSED_ARGS;
	return m ? (uintptr_t)bpf_map_lookup(m, (void *)(uintptr_t)r2) : 0;
}

HELPER(h_map_update_elem)
{
	struct ftramp_bpf_map *m = map_arg(prog, r1);

	UNUSED_ARGS;
	return m ? bpf_map_update(m, (void *)(uintptr_t)r2,
				  (void *)(uintptr_t)r3, r4) :
		   (uint64_t)-EINVAL;
}

HELPER(h_map_delete_elem)
{
	struct ftramp_bpf_map *m = map_arg(prog, r1);

	UNUSED_ARGS;
	return m ? bpf_map_delete(m, (void *)(uintptr_t)r2) :
		   (uint64_t)-EINVAL;
}

HELPER(h_probe_read_user)
{
	UNUSED_ARGS;
	return read_user((void *)(uintptr_t)r1, r2, r3);
}

HELPER(h_probe_read_user_str)
{
	UNUSED_ARGS;
	return read_user_str((char *)(uintptr_t)r1, r2, r3);
}

HELPER(h_strncmp)
{
	UNUSED_ARGS;
	return str_ncmp(prog, (const char *)(uintptr_t)r1, r2, r3);
}

HELPER(h_ktime_get_ns)
{
	UNUSED_ARGS;
	return clock_ns(CLOCK_MONOTONIC);
}

HELPER(h_ktime_get_boot_ns)
{
	UNUSED_ARGS;
	return clock_ns(CLOCK_BOOTTIME);
}

HELPER(h_ktime_get_coarse_ns)
{
	UNUSED_ARGS;
	return clock_ns(CLOCK_MONOTONIC_COARSE);
}

HELPER(h_ktime_get_tai_ns)
{
	UNUSED_ARGS;
	return clock_ns(CLOCK_TAI);
}

HELPER(h_trace_printk)
{
	const uint64_t r[6] = { 0, r1, r2, r3, r4, r5 };

	(void)prog;
	return trace_printk(r);
}

HELPER(h_get_prandom_u32)
{
	UNUSED_ARGS;
	return prandom();
}

HELPER(h_get_smp_processor_id)
{
	UNUSED_ARGS;
	return bpf_cpu();
}

HELPER(h_get_current_pid_tgid)
{
	UNUSED_ARGS;
	return (uint64_t)getpid() << 32 | (uint32_t)syscall(SYS_gettid);
}

/*
 * The kernel's current_uid_gid(): the calling thread's real ids, as the
 * process's user namespace sees them (the kernel maps them into the
 * initial one, which a process cannot).
 */
HELPER(h_get_current_uid_gid)
{
	UNUSED_ARGS;
	return (uint64_t)(uint32_t)syscall(SYS_getgid) << 32 |
	       (uint32_t)syscall(SYS_getuid);
}

HELPER(h_get_current_comm)
{
	UNUSED_ARGS;
	return current_comm((char *)(uintptr_t)r1, r2);
}

HELPER(h_ringbuf_output)
{
	struct ftramp_bpf_map *m = map_arg(prog, r1);

	UNUSED_ARGS;
	return m ? bpf_ringbuf_output(m, (void *)(uintptr_t)r2, r3, r4) :
		   (uint64_t)-EINVAL;
}

HELPER(h_ringbuf_reserve)
{
	struct ftramp_bpf_map *m = map_arg(prog, r1);

	UNUSED_ARGS;
	return m ? (uintptr_t)bpf_ringbuf_reserve(m, r2, r3) : 0;
}

HELPER(h_ringbuf_submit)
{
	UNUSED_ARGS;
	bpf_ringbuf_commit((void *)(uintptr_t)r1, r2, false);
	return 0;
}

HELPER(h_ringbuf_discard)
{
	UNUSED_ARGS;
	bpf_ringbuf_commit((void *)(uintptr_t)r1, r2, true);
	return 0;
}

HELPER(h_get_func_ip)
{
	UNUSED_ARGS;
	return ftramp_get_func_ip((const uint64_t *)(uintptr_t)r1);
}

HELPER(h_get_attach_cookie)
{
	UNUSED_ARGS;
	return ftramp_get_attach_cookie((const uint64_t *)(uintptr_t)r1);
}

HELPER(h_get_func_arg_cnt)
{
	UNUSED_ARGS;
	return ftramp_get_func_arg_cnt((const uint64_t *)(uintptr_t)r1);
}

HELPER(h_get_func_arg)
{
	UNUSED_ARGS;
	return ftramp_get_func_arg((const uint64_t *)(uintptr_t)r1, r2,
				   (uint64_t *)(uintptr_t)r3);
}

HELPER(h_get_func_ret)
{
	UNUSED_ARGS;
	return ftramp_get_func_ret((const uint64_t *)(uintptr_t)r1,
				   (uint64_t *)(uintptr_t)r2);
}

static const bpf_helper_native_fn natives[] = {
	[BPF_FUNC_map_lookup_elem]	= h_map_lookup_elem,
	[BPF_FUNC_map_update_elem]	= h_map_update_elem,
	[BPF_FUNC_map_delete_elem]	= h_map_delete_elem,
	[BPF_FUNC_probe_read]		= h_probe_read_user,
	[BPF_FUNC_probe_read_user]	= h_probe_read_user,
	/* a process has no kernel memory: _kernel reads its own, as _user */
	[BPF_FUNC_probe_read_kernel]	= h_probe_read_user,
	[BPF_FUNC_probe_read_user_str]	= h_probe_read_user_str,
	[BPF_FUNC_probe_read_str]	= h_probe_read_user_str,
	[BPF_FUNC_probe_read_kernel_str] = h_probe_read_user_str,
	[BPF_FUNC_strncmp]		= h_strncmp,
	[BPF_FUNC_ktime_get_ns]		= h_ktime_get_ns,
	[BPF_FUNC_ktime_get_boot_ns]	= h_ktime_get_boot_ns,
	[BPF_FUNC_ktime_get_coarse_ns]	= h_ktime_get_coarse_ns,
	[BPF_FUNC_ktime_get_tai_ns]	= h_ktime_get_tai_ns,
	[BPF_FUNC_trace_printk]		= h_trace_printk,
	[BPF_FUNC_get_prandom_u32]	= h_get_prandom_u32,
	[BPF_FUNC_get_smp_processor_id]	= h_get_smp_processor_id,
	[BPF_FUNC_get_current_pid_tgid]	= h_get_current_pid_tgid,
	[BPF_FUNC_get_current_uid_gid]	= h_get_current_uid_gid,
	[BPF_FUNC_get_current_comm]	= h_get_current_comm,
	[BPF_FUNC_ringbuf_output]	= h_ringbuf_output,
	[BPF_FUNC_ringbuf_reserve]	= h_ringbuf_reserve,
	[BPF_FUNC_ringbuf_submit]	= h_ringbuf_submit,
	[BPF_FUNC_ringbuf_discard]	= h_ringbuf_discard,
	[BPF_FUNC_get_func_ip]		= h_get_func_ip,
	[BPF_FUNC_get_attach_cookie]	= h_get_attach_cookie,
	[BPF_FUNC_get_func_arg_cnt]	= h_get_func_arg_cnt,
	[BPF_FUNC_get_func_arg]		= h_get_func_arg,
	[BPF_FUNC_get_func_ret]		= h_get_func_ret,
};

bpf_helper_native_fn bpf_helper_native(int32_t id, bool *takes_prog)
{
	if (id <= 0 || (size_t)id >= sizeof(natives) / sizeof(natives[0]) ||
	    !natives[id])
		return NULL;
	if (takes_prog)
		*takes_prog = bpf_helper_takes_prog(id);
	return natives[id];
}

uint64_t bpf_helper_call(const struct ftramp_bpf_program *prog, int32_t id,
			 const uint64_t *r)
{
	bpf_helper_native_fn fn = bpf_helper_native(id, NULL);

	/* bpf_check() let no other id through */
	return fn ? fn(r[1], r[2], r[3], r[4], r[5], prog) : (uint64_t)-ENOSYS;
}
