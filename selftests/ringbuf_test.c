// SPDX-License-Identifier: MIT
/*
 * lib/ringbuf: the kernel's BPF ring buffer layout (positions on their own
 * pages, 8-byte headers with BUSY and DISCARD, pg_off), records that wrap
 * through the double mapping, discard, a full ring that drops and counts,
 * a header that lies, and producers in threads and signal handlers
 * against a consumer that checks every record.  Built for the host
 * (ASan+UBSan) and for arm64.
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/ringbuf.h"
#include "selftests/harness.h"

struct ring {
	struct ringbuf rb;
	void *base;
	int fd;
	size_t size, page;
};

static int ring_open(struct ring *r, size_t size)
{
	r->page = sysconf(_SC_PAGESIZE);
	r->size = size < r->page ? r->page : size;
	r->fd = memfd_create("ringbuf_test", MFD_CLOEXEC);
	if (r->fd < 0 ||
	    ftruncate(r->fd, ringbuf_file_size(r->size, r->page)))
		return -1;
	r->base = ringbuf_mmap(r->fd, 0, r->size, r->page, NULL);
	if (r->base == MAP_FAILED)
		return -1;
	return ringbuf_init(&r->rb, r->base, r->size, r->page);
}

static void ring_close(struct ring *r)
{
	ringbuf_munmap(r->base, r->size, r->page);
	close(r->fd);
}

/* Collects what the consumer is given. */
struct got {
	unsigned int n;
	uint32_t len[64];
	char data[64][64];
	int stop_after;		/* return 1 after this many (0: never) */
};

static int collect(void *ctx, void *sample, uint32_t len)
{
	struct got *g = ctx;

	if (g->n < 64) {
		g->len[g->n] = len;
		memcpy(g->data[g->n], sample, len < 64 ? len : 64);
	}
	g->n++;
	return g->stop_after && g->n == (unsigned int)g->stop_after;
}

TEST(init_refuses_bad_geometry)
{
	struct ringbuf rb;
	size_t page = sysconf(_SC_PAGESIZE);
	void *base = aligned_alloc(page, page);

	ASSERT_NE(NULL, base);
	EXPECT_EQ(-EINVAL, ringbuf_init(&rb, base, 3 * page, page));
	EXPECT_EQ(-EINVAL, ringbuf_init(&rb, base, page / 2, page));
	EXPECT_EQ(-EINVAL, ringbuf_init(&rb, base, page, 3000));
	EXPECT_EQ(-EINVAL, ringbuf_init(&rb, (char *)base + 8, page, page));
	EXPECT_EQ(0, ringbuf_init(&rb, base, page, page));
	free(base);
}

/* The kernel's layout, byte for byte, as libbpf would read it. */
TEST(layout_is_the_kernels)
{
	struct ring r;
	uint32_t *hdr;
	char *p;

	ASSERT_EQ(0, ring_open(&r, 0));
	p = ringbuf_reserve(&r.rb, 5);
	ASSERT_NE(NULL, p);
	hdr = (uint32_t *)((char *)r.base + 2 * r.page);
	EXPECT_EQ((char *)(hdr + 2), p);
	EXPECT_EQ(5u | RINGBUF_BUSY, hdr[0]);
	/* producer_pos at offset 0 of page 1, rounded to 8 with the header */
	EXPECT_EQ(16u, *(uint64_t *)((char *)r.base + r.page));
	memcpy(p, "hello", 5);
	ringbuf_commit(&r.rb, p);
	EXPECT_EQ(5u, hdr[0]);
	EXPECT_EQ(2u, hdr[1]);		/* pages from the consumer page */
	EXPECT_EQ(16u, ringbuf_avail(&r.rb));
	EXPECT_EQ(0u, *(uint64_t *)r.base);
	ring_close(&r);
}

TEST(samples_in_order_and_cleared_after)
{
	struct ring r;
	struct got g = { 0 };
	char *first;

	ASSERT_EQ(0, ring_open(&r, 0));
	first = (char *)r.base + 2 * r.page;
	EXPECT_EQ(0, ringbuf_output(&r.rb, "a", 1));
	EXPECT_EQ(0, ringbuf_output(&r.rb, "", 0));	/* empty is a sample */
	EXPECT_EQ(0, ringbuf_output(&r.rb, "0123456789", 10));
	EXPECT_EQ(3, ringbuf_consume(&r.rb, collect, &g));
	ASSERT_EQ(3u, g.n);
	EXPECT_EQ(1u, g.len[0]);
	EXPECT_EQ(0u, g.len[1]);
	EXPECT_EQ(10u, g.len[2]);
	EXPECT_EQ(0, memcmp(g.data[2], "0123456789", 10));
	EXPECT_EQ(0u, ringbuf_avail(&r.rb));
	EXPECT_EQ(16u + 8 + 24, *(uint64_t *)r.base);
	for (int i = 0; i < 48; i++)
		EXPECT_EQ(0, first[i]);
	EXPECT_EQ(0, ringbuf_consume(&r.rb, collect, &g));
	ring_close(&r);
}

TEST(record_wraps_through_the_second_mapping)
{
	struct ring r;
	struct got g = { 0 };
	char msg[40], *p;
	uint32_t fill;

	ASSERT_EQ(0, ring_open(&r, 0));
	/* leave 16 bytes before the end: the next record wraps */
	fill = r.size - 16 - 16 - RINGBUF_HDR_SZ;
	p = ringbuf_reserve(&r.rb, fill);
	ASSERT_NE(NULL, p);
	memset(p, 'x', fill);
	ringbuf_commit(&r.rb, p);
	EXPECT_EQ(0, ringbuf_output(&r.rb, "12345678", 8));
	g.stop_after = 0;
	EXPECT_EQ(2, ringbuf_consume(&r.rb, collect, &g));
	for (int i = 0; i < (int)sizeof(msg); i++)
		msg[i] = 'A' + i % 26;
	p = ringbuf_reserve(&r.rb, sizeof(msg));
	ASSERT_NE(NULL, p);
	/* 16 bytes left at the end: header and 8 bytes, then the start */
	EXPECT_EQ((char *)r.base + 2 * r.page + r.size - 8, p);
	memcpy(p, msg, sizeof(msg));
	ringbuf_commit(&r.rb, p);
	/* the tail of the sample is at the start of the data */
	EXPECT_EQ(0, memcmp((char *)r.base + 2 * r.page, msg + 8,
			    sizeof(msg) - 8));
	g.n = 0;
	EXPECT_EQ(1, ringbuf_consume(&r.rb, collect, &g));
	EXPECT_EQ(sizeof(msg), g.len[0]);
	EXPECT_EQ(0, memcmp(g.data[0], msg, sizeof(msg)));
	EXPECT_EQ(0u, ringbuf_avail(&r.rb));
	ring_close(&r);
}

TEST(discarded_samples_are_skipped)
{
	struct ring r;
	struct got g = { 0 };
	char *a, *b, *c;

	ASSERT_EQ(0, ring_open(&r, 0));
	a = ringbuf_reserve(&r.rb, 4);
	b = ringbuf_reserve(&r.rb, 4);
	c = ringbuf_reserve(&r.rb, 4);
	ASSERT_TRUE(a && b && c);
	memcpy(a, "aaaa", 4);
	memcpy(c, "cccc", 4);
	ringbuf_commit(&r.rb, c);
	ringbuf_discard(&r.rb, b);
	/* a is still busy: nothing yet, whatever follows it */
	EXPECT_EQ(0, ringbuf_consume(&r.rb, collect, &g));
	EXPECT_EQ(48u, ringbuf_avail(&r.rb));
	ringbuf_commit(&r.rb, a);
	EXPECT_EQ(2, ringbuf_consume(&r.rb, collect, &g));
	EXPECT_EQ(0, memcmp(g.data[0], "aaaa", 4));
	EXPECT_EQ(0, memcmp(g.data[1], "cccc", 4));
	EXPECT_EQ(0u, ringbuf_avail(&r.rb));
	ring_close(&r);
}

/* A producer between its CAS and its first store: a cleared header. */
TEST(space_without_a_header_reads_busy)
{
	struct ring r;
	struct got g = { 0 };

	ASSERT_EQ(0, ring_open(&r, 0));
	__atomic_store_n(&r.rb.prod->producer_pos, 16, __ATOMIC_RELEASE);
	EXPECT_EQ(0, ringbuf_consume(&r.rb, collect, &g));
	EXPECT_EQ(0u, *(uint64_t *)r.base);
	EXPECT_EQ(16u, ringbuf_avail(&r.rb));
	ring_close(&r);
}

TEST(consumer_stops_where_the_callback_says)
{
	struct ring r;
	struct got g = { .stop_after = 1 };

	ASSERT_EQ(0, ring_open(&r, 0));
	EXPECT_EQ(0, ringbuf_output(&r.rb, "1", 1));
	EXPECT_EQ(0, ringbuf_output(&r.rb, "2", 1));
	EXPECT_EQ(1, ringbuf_consume(&r.rb, collect, &g));
	EXPECT_EQ(16u, ringbuf_avail(&r.rb));
	g.stop_after = 0;
	EXPECT_EQ(1, ringbuf_consume(&r.rb, collect, &g));
	EXPECT_EQ('2', g.data[1][0]);
	ring_close(&r);
}

TEST(full_ring_drops_and_counts)
{
	struct ring r;
	struct got g = { 0 };
	unsigned int n = 0;
	char rec[56] = { 0 };

	ASSERT_EQ(0, ring_open(&r, 0));
	/* 64 bytes a record: exactly size / 64 fit */
	while (!ringbuf_output(&r.rb, rec, sizeof(rec)))
		n++;
	EXPECT_EQ(r.size / 64, n);
	EXPECT_EQ(1u, ringbuf_dropped(&r.rb));
	EXPECT_EQ(-ENOSPC, ringbuf_output(&r.rb, "x", 1));
	EXPECT_EQ(2u, ringbuf_dropped(&r.rb));
	/* too large for any ring: refused, counted */
	EXPECT_EQ(NULL, ringbuf_reserve(&r.rb, r.size));
	EXPECT_EQ(NULL, ringbuf_reserve(&r.rb, UINT32_MAX));
	EXPECT_EQ(4u, ringbuf_dropped(&r.rb));
	g.stop_after = 1;
	EXPECT_EQ(1, ringbuf_consume(&r.rb, collect, &g));
	EXPECT_EQ(0, ringbuf_output(&r.rb, rec, sizeof(rec)));
	EXPECT_EQ(-ENOSPC, ringbuf_output(&r.rb, rec, sizeof(rec)));
	ring_close(&r);
}

TEST(lying_header_stops_the_consumer)
{
	struct ring r;
	struct got g = { 0 };
	uint32_t *hdr;

	ASSERT_EQ(0, ring_open(&r, 0));
	EXPECT_EQ(0, ringbuf_output(&r.rb, "abcd", 4));
	hdr = (uint32_t *)((char *)r.base + 2 * r.page);
	hdr[0] = 1u << 20;	/* runs past producer_pos */
	EXPECT_EQ(-EBADMSG, ringbuf_consume(&r.rb, collect, &g));
	EXPECT_EQ(0u, g.n);
	hdr[0] = RINGBUF_MAX_SAMPLE;
	EXPECT_EQ(-EBADMSG, ringbuf_consume(&r.rb, collect, &g));
	ring_close(&r);
}

/*
 * Producers in threads, and in a signal handler that interrupts one of
 * them, against one consumer that checks every sample: per stream, the
 * sequence numbers only grow and the payload is intact; received plus
 * dropped is what was sent.
 */
#define PRODUCERS	4
#define PER_PRODUCER	20000
#define STREAMS		(PRODUCERS + 1)		/* the handler's */

struct sample {
	uint32_t stream;
	uint32_t seq;
	uint8_t fill;		/* payload bytes, each stream + seq */
	uint8_t payload[];
};

struct mt {
	struct ring r;
	uint32_t sent[STREAMS];		/* reserves tried */
	uint32_t discarded[STREAMS];
	uint32_t last[STREAMS];
	uint64_t received;
	int bad;
	int producers_done;
};

static struct mt *mt;
static __thread uint32_t handler_seq;

static void produce(uint32_t stream, uint32_t seq)
{
	uint8_t fill = (stream * 7 + seq) % 48;
	struct sample *s = ringbuf_reserve(&mt->r.rb, sizeof(*s) + fill);

	/* one writer per stream: the thread, or the handler */
	mt->sent[stream]++;
	if (!s)
		return;
	s->stream = stream;
	s->seq = seq;
	s->fill = fill;
	memset(s->payload, (uint8_t)(stream + seq), fill);
	if (seq % 97 == 3) {
		ringbuf_discard(&mt->r.rb, s);
		mt->discarded[stream]++;
		return;
	}
	ringbuf_commit(&mt->r.rb, s);
}

static void on_signal(int sig)
{
	/* one handler stream: only producer 0 is signalled */
	produce(PRODUCERS, ++handler_seq);
}

static void *producer(void *arg)
{
	uint32_t stream = (uintptr_t)arg;

	for (uint32_t seq = 1; seq <= PER_PRODUCER; seq++)
		produce(stream, seq);
	return NULL;
}

static int check_sample(void *ctx, void *p, uint32_t len)
{
	struct sample *s = p;

	if (len < sizeof(*s) || s->stream >= STREAMS ||
	    len != sizeof(*s) + s->fill || s->seq <= mt->last[s->stream] ||
	    s->seq % 97 == 3) {
		mt->bad++;
		return 0;
	}
	for (unsigned int i = 0; i < s->fill; i++)
		if (s->payload[i] != (uint8_t)(s->stream + s->seq))
			mt->bad++;
	mt->last[s->stream] = s->seq;
	mt->received++;
	return 0;
}

TEST(threads_and_a_signal_handler_produce_one_consumer_checks)
{
	pthread_t th[PRODUCERS];
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t sent = 0, discarded = 0;
	int kicks = 0;

	mt = calloc(1, sizeof(*mt));
	ASSERT_NE(NULL, mt);
	/* small: it wraps thousands of times and fills up */
	ASSERT_EQ(0, ring_open(&mt->r, 0));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	for (uintptr_t i = 0; i < PRODUCERS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, producer, (void *)i));
	/* consume while they run; signal producer 0 now and then */
	while (__atomic_load_n(&mt->producers_done, __ATOMIC_RELAXED) <
	       PRODUCERS) {
		long n = ringbuf_consume(&mt->r.rb, check_sample, NULL);

		ASSERT_LE(0, n);
		/* th[0] is joined first: valid until producers_done moves */
		if (!(++kicks % 8) && !mt->producers_done)
			pthread_kill(th[0], SIGUSR1);
		if (!n)
			sched_yield();
		if (!pthread_tryjoin_np(th[mt->producers_done], NULL))
			mt->producers_done++;
	}
	/* every producer has returned: every reserve was committed */
	ASSERT_LE(0, ringbuf_consume(&mt->r.rb, check_sample, NULL));
	EXPECT_EQ(0u, ringbuf_avail(&mt->r.rb));
	EXPECT_EQ(0, mt->bad);
	for (int i = 0; i < STREAMS; i++) {
		sent += mt->sent[i];
		discarded += mt->discarded[i];
	}
	EXPECT_EQ(sent, mt->received + discarded + ringbuf_dropped(&mt->r.rb));
	EXPECT_LT(0u, mt->received);
	signal(SIGUSR1, SIG_DFL);
	ring_close(&mt->r);
	free(mt);
}

TEST_HARNESS_MAIN
