// SPDX-License-Identifier: MIT
/*
 * The BPF ring buffer protocol with lock-free producers (ringbuf.h).
 *
 * Why it is correct.  Positions only grow; a record at position p lives
 * at data[p & mask].  Three kinds of access to a record's bytes:
 *
 *  1. A producer owns [p, p + n) once its CAS moved producer_pos from p to
 *     p + n.  It chose p + n with p + n - c <= size for a consumer_pos c it
 *     loaded with acquire; consumer_pos only grows, so every byte of the
 *     range last held a record below c: consumed, cleared (3), and the
 *     clearing happened before c was released.  The producer's writes
 *     therefore follow the clearing.
 *  2. The producer writes the sample, then the header with a release
 *     store (the kernel's smp_store_release() in bpf_ringbuf_commit()).
 *     Until that store the header is 0 (cleared) or BUSY (written at
 *     reserve time, relaxed: it is only a hint, the consumer stops at
 *     either).
 *  3. The consumer loads producer_pos with acquire, then each header with
 *     acquire (libbpf's ringbuf_process_ring()): a header without BUSY and
 *     with a non-zero pg_off was released by (2), so the sample bytes are
 *     visible.  After handing the sample on, it clears the record's bytes
 *     and releases consumer_pos past them.
 *
 * Full: a reserve that would pass consumer_pos + size fails and counts a
 * drop; nothing waits.  A producer that dies between reserve and commit
 * leaves a header the consumer never passes: what follows is lost, which
 * the consumer can tell (ringbuf_avail() stays non-zero).  A header
 * whose length runs past producer_pos (a producer scribbled on the ring)
 * stops the consumer with -EBADMSG.
 *
 * A signal handler that interrupts a producer on its own thread reserves
 * after it and commits before it; the consumer stops at the interrupted
 * record until the handler returns and the record is committed.
 */
#include <errno.h>
#include <string.h>

#include "lib/ringbuf.h"

static bool is_pow2(size_t v)
{
	return v && !(v & (v - 1));
}

int ringbuf_init(struct ringbuf *rb, void *base, size_t size, size_t page)
{
	if (!is_pow2(page) || !is_pow2(size) || size < page ||
	    ((uintptr_t)base & (page - 1)))
		return -EINVAL;
	rb->base = base;
	rb->consumer_pos = (uint64_t *)base;
	rb->prod = (struct ringbuf_prod_page *)((char *)base + page);
	rb->data = (char *)base + 2 * page;
	rb->mask = size - 1;
	rb->page_shift = __builtin_ctzl(page);
	return 0;
}

/*
 * The header as one 64-bit word (len in the low half on little-endian
 * arm64 and x86): the consumer must see len and pg_off from the same
 * store, or a committed empty sample and a cleared header look alike.
 */
static uint64_t *hdr_word(struct ringbuf_hdr *hdr)
{
	return (uint64_t *)hdr;
}

static uint32_t round_len(uint32_t len)
{
	return (len + RINGBUF_HDR_SZ + 7) & ~7u;
}

void *ringbuf_reserve(struct ringbuf *rb, uint32_t len)
{
	uint64_t cons, prod, next;
	struct ringbuf_hdr *hdr;

	if (len > RINGBUF_MAX_SAMPLE || round_len(len) > rb->mask + 1)
		goto drop;
	prod = __atomic_load_n(&rb->prod->producer_pos, __ATOMIC_RELAXED);
	do {
		cons = __atomic_load_n(rb->consumer_pos, __ATOMIC_ACQUIRE);
		next = prod + round_len(len);
		if (next - cons > rb->mask + 1)
			goto drop;
	} while (!__atomic_compare_exchange_n(&rb->prod->producer_pos, &prod,
					      next, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	hdr = (struct ringbuf_hdr *)(rb->data + (prod & rb->mask));
	/* a hint only: 0 means the same to the consumer */
	__atomic_store_n(hdr_word(hdr), len | RINGBUF_BUSY, __ATOMIC_RELAXED);
	return hdr + 1;
drop:
	__atomic_fetch_add(&rb->prod->dropped, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void submit(struct ringbuf *rb, void *sample, uint32_t flag)
{
	struct ringbuf_hdr *hdr = (struct ringbuf_hdr *)sample - 1;
	uint64_t len = (uint32_t)__atomic_load_n(hdr_word(hdr),
						 __ATOMIC_RELAXED) &
		       ~RINGBUF_BUSY;
	uint64_t pg_off = ((char *)hdr - rb->base) >> rb->page_shift;

	/* pg_off is never 0 (two pages precede the data): "written" */
	__atomic_store_n(hdr_word(hdr), pg_off << 32 | len | flag,
			 __ATOMIC_RELEASE);
}

void ringbuf_commit(struct ringbuf *rb, void *sample)
{
	submit(rb, sample, 0);
}

void ringbuf_discard(struct ringbuf *rb, void *sample)
{
	submit(rb, sample, RINGBUF_DISCARD);
}

int ringbuf_output(struct ringbuf *rb, const void *data, uint32_t len)
{
	void *p = ringbuf_reserve(rb, len);

	if (!p)
		return -ENOSPC;
	memcpy(p, data, len);
	ringbuf_commit(rb, p);
	return 0;
}

long ringbuf_consume(struct ringbuf *rb, ringbuf_sample_fn fn, void *ctx)
{
	uint64_t cons = __atomic_load_n(rb->consumer_pos, __ATOMIC_RELAXED);
	uint64_t prod = __atomic_load_n(&rb->prod->producer_pos,
					__ATOMIC_ACQUIRE);
	long n = 0;
	int ret = 0;

	while (cons < prod && !ret) {
		struct ringbuf_hdr *hdr =
			(struct ringbuf_hdr *)(rb->data + (cons & rb->mask));
		uint64_t word = __atomic_load_n(hdr_word(hdr),
						__ATOMIC_ACQUIRE);
		uint32_t len = (uint32_t)word, size;

		if ((len & RINGBUF_BUSY) || !(word >> 32))
			break;
		size = round_len(len & ~RINGBUF_DISCARD);
		/* the producers are other processes: trust nothing */
		if (size > prod - cons) {
			ret = -EBADMSG;
			break;
		}
		if (!(len & RINGBUF_DISCARD)) {
			ret = fn(ctx, hdr + 1, len & ~RINGBUF_DISCARD);
			n++;
		}
		/* (3): clear, then release the space */
		memset(hdr, 0, size);
		cons += size;
		__atomic_store_n(rb->consumer_pos, cons, __ATOMIC_RELEASE);
	}
	return ret < 0 ? ret : n;
}

uint64_t ringbuf_avail(const struct ringbuf *rb)
{
	return __atomic_load_n(&rb->prod->producer_pos, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(rb->consumer_pos, __ATOMIC_RELAXED);
}

uint64_t ringbuf_dropped(const struct ringbuf *rb)
{
	return __atomic_load_n(&rb->prod->dropped, __ATOMIC_RELAXED);
}
