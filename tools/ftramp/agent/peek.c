// SPDX-License-Identifier: MIT
/*
 * Fault-safe reads of the traced program's memory: the agent's
 * bpf_probe_read_user().  An argument the model calls a pointer may point
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
 *    (a seccomp policy: EPERM), each page is probed before it is copied:
 *    FUTEX_WAIT with a zero timeout reads the aligned word at the chunk
 *    and returns EFAULT when it cannot, with no other effect (EAGAIN or
 *    ETIMEDOUT otherwise); under qemu-user write(-1, p, 1) also checks
 *    the guest's own page protections (qemu validates the buffer before
 *    the host call; a kernel answers EBADF without looking).  Probe and
 *    copy are two steps here: a page another thread unmaps in between
 *    still faults.  The first ENOSYS or EPERM switches to this mode for
 *    good.
 *
 * Chunks never cross a 4 KiB boundary, the smallest arm64 page, so the
 * rule holds for 16 and 64 KiB pages too.  errno is preserved: the
 * traced function may be reading it.  Async-signal-safe.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#define PEEK_PAGE	4096u

enum { PEEK_VM, PEEK_PROBE };
static int peek_mode;		/* relaxed atomic: PEEK_VM until refused */

static bool probe_page(uint64_t addr)
{
	static const struct timespec zero = { 0, 0 };
	long r;

	r = syscall(SYS_futex, (void *)(uintptr_t)(addr & ~3ull),
		    FUTEX_WAIT_PRIVATE, 0, &zero, NULL, 0);
	if (r < 0 && errno == EFAULT)
		return false;
	r = syscall(SYS_write, -1, (void *)(uintptr_t)addr, 1);
	return !(r < 0 && errno == EFAULT);
}

/* One chunk inside one 4 KiB page: all of it, or false. */
static bool peek_chunk(void *dst, uint64_t src, size_t n)
{
	if (__atomic_load_n(&peek_mode, __ATOMIC_RELAXED) == PEEK_VM) {
		struct iovec local = { dst, n };
		struct iovec remote = { (void *)(uintptr_t)src, n };
		ssize_t r;

		r = syscall(SYS_process_vm_readv, (pid_t)syscall(SYS_getpid),
			    &local, 1UL, &remote, 1UL, 0UL);
		if (r == (ssize_t)n)
			return true;
		if (r >= 0 || (errno != ENOSYS && errno != EPERM))
			return false;
		__atomic_store_n(&peek_mode, PEEK_PROBE, __ATOMIC_RELAXED);
	}
	if (!probe_page(src))
		return false;
	memcpy(dst, (const void *)(uintptr_t)src, n);
	return true;
}

size_t agent_peek(void *dst, uint64_t src, size_t n)
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
