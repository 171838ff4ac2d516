// SPDX-License-Identifier: MIT
/*
 * Mapping a ring (ringbuf.h) from a file: the two position pages, then
 * the data twice, back to back, so that a record that wraps is read and
 * written as one run of bytes.  The address range is reserved first
 * (PROT_NONE) so that the two data mappings land next to each other.
 */
#include <errno.h>
#include <sys/mman.h>

#include "lib/ringbuf.h"

void *ringbuf_mmap(int fd, uint64_t off, size_t size, size_t page,
		   void *addr)
{
	size_t head = ringbuf_file_size(size, page);
	int fixed = addr ? MAP_FIXED : 0;
	char *base, *p;

	base = mmap(addr, ringbuf_map_size(size, page), PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | fixed, -1, 0);
	if (base == MAP_FAILED)
		return MAP_FAILED;
	p = mmap(base, head, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, off);
	if (p != MAP_FAILED)
		p = mmap(base + head, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, fd, off + 2 * page);
	if (p == MAP_FAILED) {
		int err = errno;

		munmap(base, ringbuf_map_size(size, page));
		errno = err;
		return MAP_FAILED;
	}
	return base;
}

int ringbuf_munmap(void *base, size_t size, size_t page)
{
	return munmap(base, ringbuf_map_size(size, page)) ? -errno : 0;
}
