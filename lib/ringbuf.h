/* SPDX-License-Identifier: MIT */
/*
 * A ring buffer with the layout and record protocol of the kernel's BPF
 * ring buffer (kernel/bpf/ringbuf.c, consumed by libbpf's ringbuf.c), in
 * memory shared between processes: one consumer, any number of producers
 * in any threads and signal handlers of other processes.
 *
 *	offset 0		consumer page: consumer_pos (u64)
 *	offset page		producer page: producer_pos (u64), dropped
 *	offset 2 * page		data, size bytes (a power of two, a multiple
 *				of the page size), mapped twice back to back
 *				so that a record that wraps is contiguous
 *
 * A record is an 8-byte header then the sample, rounded up to 8 bytes:
 *
 *	u32 len		sample length | RINGBUF_BUSY (reserved, not yet
 *			committed) | RINGBUF_DISCARD (committed, skip it)
 *	u32 pg_off	pages from the start of the ring (consumer page) to
 *			the header: never 0 for a written header
 *
 * The kernel's producers serialise on a spinlock and write the BUSY header
 * before they publish producer_pos.  Ours may not block (a producer may be
 * a signal handler that interrupted another on its own thread), so they
 * reserve with a compare-and-swap on producer_pos and write the header
 * after: a consumer can see a record's space before its header.  The
 * consumer therefore clears every byte it consumes before it releases the
 * space, and a zero header (pg_off 0) reads as BUSY: "not written yet".
 * The argument is at the top of ringbuf.c.
 *
 * Pure: no system calls (the caller maps the memory); host-testable.
 */
#ifndef FTRAMP_LIB_RINGBUF_H
#define FTRAMP_LIB_RINGBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RINGBUF_BUSY		(1u << 31)	/* BPF_RINGBUF_BUSY_BIT */
#define RINGBUF_DISCARD		(1u << 30)	/* BPF_RINGBUF_DISCARD_BIT */
#define RINGBUF_HDR_SZ		8		/* BPF_RINGBUF_HDR_SZ */
/* The largest sample: the length must leave the two flag bits clear. */
#define RINGBUF_MAX_SAMPLE	(RINGBUF_DISCARD - 1 - RINGBUF_HDR_SZ)

struct ringbuf_hdr {
	uint32_t len;
	uint32_t pg_off;
};

/* The producer page: producer_pos first, as in the kernel. */
struct ringbuf_prod_page {
	uint64_t producer_pos;
	uint64_t pad[7];
	uint64_t dropped;	/* reserves refused: no room, or too large */
};

/* One process's view of a ring: pointers into its mapping. */
struct ringbuf {
	uint64_t *consumer_pos;
	struct ringbuf_prod_page *prod;
	char *base;		/* the consumer page: pg_off counts from here */
	char *data;		/* size bytes, mapped twice */
	uint64_t mask;		/* size - 1 */
	unsigned int page_shift;
};

/* Bytes to map for a ring of @size data bytes: 2 pages + 2 * size. */
static inline size_t ringbuf_map_size(size_t size, size_t page)
{
	return 2 * page + 2 * size;
}

/* Bytes the ring occupies in a file (the data once): 2 pages + size. */
static inline size_t ringbuf_file_size(size_t size, size_t page)
{
	return 2 * page + size;
}

/*
 * Point @rb at a mapping of ringbuf_map_size() bytes at @base whose data
 * is mapped twice.  -EINVAL when @page or @size is not a power of two,
 * @size is smaller than a page or @base is not page-aligned.
 */
int ringbuf_init(struct ringbuf *rb, void *base, size_t size, size_t page);

/*
 * Reserve room for a sample of @len bytes; NULL (and dropped counted)
 * when the ring has no room.  Lock-free and async-signal-safe.
 */
void *ringbuf_reserve(struct ringbuf *rb, uint32_t len);
/* Publish a reserved sample to the consumer, or tell it to skip it. */
void ringbuf_commit(struct ringbuf *rb, void *sample);
void ringbuf_discard(struct ringbuf *rb, void *sample);
/* Reserve, copy and commit; 0 or -ENOSPC (dropped). */
int ringbuf_output(struct ringbuf *rb, const void *data, uint32_t len);

/*
 * The consumer: call @fn for each committed sample in order, stopping at
 * the first one not yet committed, or when @fn returns non-zero (that
 * sample is consumed).  Returns the number of samples handed to @fn,
 * @fn's negative return, or -EBADMSG for a header that cannot be right
 * (its length runs past producer_pos).  One consumer at a time.
 */
typedef int (*ringbuf_sample_fn)(void *ctx, void *sample, uint32_t len);
long ringbuf_consume(struct ringbuf *rb, ringbuf_sample_fn fn, void *ctx);

/* Bytes published and not yet consumed (committed or not). */
uint64_t ringbuf_avail(const struct ringbuf *rb);
/* Reserves refused so far. */
uint64_t ringbuf_dropped(const struct ringbuf *rb);

/*
 * lib/ringbuf_map.c (not pure: mmap): map the ring that starts at @off in
 * file @fd, its data twice, at @addr (MAP_FIXED, replacing what is there:
 * a forked child moves to its own ring at the same address) or anywhere
 * when @addr is NULL.  The mapping of ringbuf_map_size() bytes, or
 * MAP_FAILED with errno set.
 */
void *ringbuf_mmap(int fd, uint64_t off, size_t size, size_t page,
		   void *addr);
int ringbuf_munmap(void *base, size_t size, size_t page);

#endif /* FTRAMP_LIB_RINGBUF_H */
