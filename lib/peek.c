// SPDX-License-Identifier: MIT
/*
 * Fault-safe reads of the traced program's memory: bpf_probe_read_user()
 * for BPF programs (bpf/helpers.c) and the CLI agent's argument dumps.  An argument the model calls a pointer may point
 * anywhere (a small integer cast to char *, the end of a mapping, freed
 * memory), and the read happens inside the traced call: a fault there
 * would kill the program that is being observed.
 *
 * The read is done by the kernel, never by a load of ours:
 *
 *  - process_vm_readv() on our own pid copies with the kernel's fault
 *    handling, like copy_from_user(): a bad page ends the copy with
 *    EFAULT (or a short count), atomically with respect to other threads
 *    unmapping it.  One call per page-bounded chunk, so a short read
 *    stops exactly at the first unreadable page.
 *  - Where it does not exist (qemu-user answers ENOSYS) or is refused
 *    (a seccomp policy: EPERM), each page is probed with one system call
 *    that reports EFAULT instead of faulting, then copied.  FUTEX_WAIT
 *    with a zero timeout reads the aligned word through the kernel and
 *    returns EFAULT when it cannot, with no other effect (EAGAIN or
 *    ETIMEDOUT otherwise); a page of a file mapping that lies past the
 *    end of its file (where a load raises SIGBUS, not SIGSEGV) is
 *    EFAULT too.  Under qemu-user, write(-1, p, 1) first: qemu checks
 *    the guest's own page protections before it looks at the fd (a
 *    kernel answers EBADF without looking at the buffer, so this is
 *    calibrated once on address 16).  That check sees protections
 *    only, not whether a file is behind the page, so the futex probe
 *    follows it.  Probe and copy are two steps: a page another thread
 *    unmaps (or a file truncated) in between still faults.  The first
 *    ENOSYS or EPERM switches modes for good.
 *
 * Chunks never cross a 4 KiB boundary, the smallest arm64 page, so the
 * rule holds for 16 and 64 KiB pages too.  errno is preserved: the
 * traced function may be reading it.  Async-signal-safe.
 */
#include <errno.h>
#include <linux/futex.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "lib/peek.h"

#define PEEK_PAGE	4096u

enum { PEEK_VM, PEEK_WRITE, PEEK_FUTEX };
static int peek_mode;		/* relaxed atomic: PEEK_VM until refused */

/* -EFAULT from write(-1, @addr, 1): only a validating qemu-user says so. */
static bool write_faults(uint64_t addr)
{
	return syscall(SYS_write, -1, (void *)(uintptr_t)addr, 1) < 0 &&
	       errno == EFAULT;
}

static bool probe_page(int mode, uint64_t addr)
{
	static const struct timespec zero = { 0, 0 };

	if (mode == PEEK_WRITE && write_faults(addr))
		return false;
	return !(syscall(SYS_futex, (void *)(uintptr_t)(addr & ~3ull),
			 FUTEX_WAIT_PRIVATE, 0, &zero, NULL, 0) < 0 &&
		 errno == EFAULT);
}

/* One chunk inside one 4 KiB page: all of it, or false. */
static bool peek_chunk(void *dst, uint64_t src, size_t n)
{
	int mode = __atomic_load_n(&peek_mode, __ATOMIC_RELAXED);

	if (mode == PEEK_VM) {
		struct iovec local = { dst, n };
		struct iovec remote = { (void *)(uintptr_t)src, n };
		ssize_t r;

		r = syscall(SYS_process_vm_readv, (pid_t)syscall(SYS_getpid),
			    &local, 1UL, &remote, 1UL, 0UL);
		if (r == (ssize_t)n)
			return true;
		if (r >= 0 || (errno != ENOSYS && errno != EPERM))
			return false;
		mode = write_faults(16) ? PEEK_WRITE : PEEK_FUTEX;
		__atomic_store_n(&peek_mode, mode, __ATOMIC_RELAXED);
	}
	if (!probe_page(mode, src))
		return false;
	memcpy(dst, (const void *)(uintptr_t)src, n);
	return true;
}

int ftramp_peek_mode(const char *name)
{
	static const char *const names[] = { "vm", "write", "futex" };

	for (int i = 0; i < 3; i++) {
		if (!strcmp(name, names[i])) {
			__atomic_store_n(&peek_mode, i, __ATOMIC_RELAXED);
			return 0;
		}
	}
	return -EINVAL;
}

size_t ftramp_peek(void *dst, uint64_t src, size_t n)
{
	int saved = errno;
	size_t done = 0;

	while (done < n) {
		uint64_t a = src + done;
		size_t chunk = PEEK_PAGE - (a & (PEEK_PAGE - 1));

		/* Page zero is never mapped; no wrap past the top. */
		if (a < PEEK_PAGE || a < src)
			break;
		if (chunk > n - done)
			chunk = n - done;
		if (!peek_chunk((char *)dst + done, a, chunk))
			break;
		done += chunk;
	}
	errno = saved;
	return done;
}
