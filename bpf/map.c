// SPDX-License-Identifier: MIT
/*
 * BPF maps: ARRAY, PERCPU_ARRAY, HASH, LRU_HASH, RINGBUF, PROG_ARRAY,
 * laid out and behaving as the kernel's, so a program cannot tell.
 *
 * Concurrency.  Programs run on any thread, in signal handlers too.
 *  - Arrays: values in place, never moved or freed while the map lives;
 *    updates copy without a lock (as the kernel without BPF_F_LOCK).
 *  - Hashes: every element is preallocated (the kernel's default
 *    prealloc mode) and only ever recycled through a free list, never
 *    freed, so a lookup may run alongside updates with no lock: bucket
 *    lists end in a "nulls" marker naming their bucket (the kernel's
 *    hlist_nulls), and a lookup that ends on another bucket's marker
 *    (it followed an element that was deleted and reused meanwhile)
 *    starts again.  Writers take the map's lock.  An update inserts the
 *    new element before it unlinks the old one, so a concurrent lookup
 *    sees one or the other, never none.  As in the kernel, a value
 *    pointer a program still holds may be recycled under it.
 *  - A thread that re-enters a map's lock (a program in a signal handler
 *    interrupting an update on the same thread) gets -EBUSY, as the
 *    kernel's map_locked check answers.
 *  - Ring buffer: lib/ringbuf.c, lock-free and async-signal-safe
 *    producers (a compare-and-swap reserve), the kernel's layout.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bpf/bpf.h"
#include "bpf/btf.h"
#include "lib/opts.h"
#include "lib/ringbuf.h"
#include "lib/util.h"

#define NULLS(b)	(((uintptr_t)(b) << 1) | 1)

struct htab_elem {
	uintptr_t next;		/* element or NULLS(bucket) */
	uint32_t hash;
	uint8_t live;		/* in a bucket (under the lock) */
	uint8_t ref;		/* LRU: used since it was last rotated */
	uint16_t pad;
	/* LRU: the recency list, element indices (LRU_NIL: none) */
	uint32_t lru_prev, lru_next;
	uint8_t data[];		/* key (rounded up to 8), value */
};

#define LRU_NIL		UINT32_MAX

struct bpf_map_impl {
	int lock;		/* writers (spin) */
	uint32_t elem_size;	/* value, rounded up to 8 (arrays) */
	/* arrays */
	uint8_t *values;
	/* hashes */
	uintptr_t *buckets;
	uint32_t nr_buckets;
	uint8_t *elems;
	uint32_t nr_elems, htab_elem_size, key_off;
	struct htab_elem *free;	/* through ->next, under lock */
	uint32_t count;
	uint32_t lru_first, lru_last;	/* most, least recently added */
	/* ring buffer: lib/ringbuf.h's, in a memfd mapped twice */
	struct ringbuf rb;
	void *rb_base;
	size_t rb_size, rb_page;
	int rb_fd;		/* -1: the ring is mem_ops' */
	bool ext;		/* memory from mem_ops: never freed */
	struct bpf_map_impl *rb_next;	/* the list of rings */
};

static __thread int locks_held;

static bool map_lock(struct bpf_map_impl *im)
{
	if (locks_held)
		return false;
	locks_held++;
	while (__atomic_exchange_n(&im->lock, 1, __ATOMIC_ACQUIRE))
		sched_yield();
	return true;
}

static void map_unlock(struct bpf_map_impl *im)
{
	__atomic_store_n(&im->lock, 0, __ATOMIC_RELEASE);
	locks_held--;
}

FTRAMP_API int ftramp_bpf_num_cpus(void)
{
	static int n;
	int v = __atomic_load_n(&n, __ATOMIC_RELAXED);

	if (!v) {
		long c = sysconf(_SC_NPROCESSORS_CONF);

		v = c < 1 ? 1 : c > 1024 ? 1024 : c;
		__atomic_store_n(&n, v, __ATOMIC_RELAXED);
	}
	return v;
}

int bpf_cpu(void)
{
	int c = sched_getcpu();

	return c < 0 ? 0 : c % ftramp_bpf_num_cpus();
}

static bool is_hash(const struct ftramp_bpf_map *m)
{
	return m->type == BPF_MAP_TYPE_HASH || m->type == BPF_MAP_TYPE_LRU_HASH;
}

/* FNV-1a over the key: keys are small, and this is only a bucket index. */
static uint32_t hash_key(const void *key, uint32_t size)
{
	const uint8_t *p = key;
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < size; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static struct htab_elem *elem_at(const struct bpf_map_impl *im, uint32_t i)
{
	return (struct htab_elem *)(im->elems + (size_t)i * im->htab_elem_size);
}

static uint32_t elem_idx(const struct bpf_map_impl *im,
			 const struct htab_elem *e)
{
	return ((const uint8_t *)e - im->elems) / im->htab_elem_size;
}

static void *elem_value(const struct bpf_map_impl *im, struct htab_elem *e)
{
	return e->data + im->key_off;
}

/* ------------------------------------------------------------------------
 * Create and free
 */

/*
 * Every ring buffer map, so that bpf_ringbuf_submit(), which gets only
 * the sample, finds its ring (the reserved header holds no pg_off yet).
 * Added under the lock, read without it: a ring leaves the list only
 * when its map is freed, when no program can run any more.
 */
static struct bpf_map_impl *rings;
static pthread_mutex_t rings_lock = PTHREAD_MUTEX_INITIALIZER;

static struct bpf_map_mem_ops mem_ops;

void bpf_map_set_mem(const struct bpf_map_mem_ops *ops)
{
	mem_ops = *ops;
}

static void *mem_calloc(size_t n, size_t size)
{
	if (!mem_ops.alloc)
		return calloc(n, size);
	if (size && n > SIZE_MAX / size)
		return NULL;
	return mem_ops.alloc(n * size, mem_ops.ctx);
}

static void mem_free(struct bpf_map_impl *im, void *p)
{
	if (!im->ext)
		free(p);
}

static void rb_publish(struct bpf_map_impl *im)
{
	pthread_mutex_lock(&rings_lock);
	im->rb_next = rings;
	__atomic_store_n(&rings, im, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&rings_lock);
}

static int rb_create(struct ftramp_bpf_map *m, struct bpf_map_impl *im)
{
	size_t page = sysconf(_SC_PAGESIZE), size = m->max_entries;
	int err;

	if (size % page || !is_pow2(page))
		return -EINVAL;
	if (mem_ops.ring) {
		im->rb_fd = -1;
		im->rb_base = mem_ops.ring(size, page, mem_ops.ctx);
		if (!im->rb_base)
			return -ENOMEM;
		err = ringbuf_init(&im->rb, im->rb_base, size, page);
		if (err)
			return err;
		im->rb_size = size;
		im->rb_page = page;
		rb_publish(im);
		return 0;
	}
	im->rb_fd = memfd_create("ftramp-ringbuf", MFD_CLOEXEC);
	if (im->rb_fd < 0)
		return -errno;
	if (ftruncate(im->rb_fd, ringbuf_file_size(size, page))) {
		err = -errno;
		goto out;
	}
	im->rb_base = ringbuf_mmap(im->rb_fd, 0, size, page, NULL);
	if (im->rb_base == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	err = ringbuf_init(&im->rb, im->rb_base, size, page);
	if (err) {
		ringbuf_munmap(im->rb_base, size, page);
		goto out;
	}
	im->rb_size = size;
	im->rb_page = page;
	rb_publish(im);
	return 0;
out:
	close(im->rb_fd);
	im->rb_base = NULL;
	return err;
}

static void rb_destroy(struct bpf_map_impl *im)
{
	struct bpf_map_impl **pp;

	pthread_mutex_lock(&rings_lock);
	for (pp = &rings; *pp; pp = &(*pp)->rb_next)
		if (*pp == im) {
			*pp = im->rb_next;
			break;
		}
	pthread_mutex_unlock(&rings_lock);
	if (im->rb_fd < 0)
		return;		/* mem_ops' */
	ringbuf_munmap(im->rb_base, im->rb_size, im->rb_page);
	close(im->rb_fd);
}

/* The ring a reserved sample lies in (its data is mapped twice). */
static struct ringbuf *ring_of(const void *sample)
{
	for (struct bpf_map_impl *im = __atomic_load_n(&rings, __ATOMIC_ACQUIRE);
	     im; im = im->rb_next)
		if ((const char *)sample >= im->rb.data &&
		    (const char *)sample < im->rb.data + 2 * im->rb_size)
			return &im->rb;
	return NULL;
}

int bpf_map_init(struct ftramp_bpf_map *m)
{
	struct bpf_map_impl *im;
	const char *why;
	int err = 0;

	if (bpf_map_check(m, &why))
		return -EINVAL;
	im = mem_calloc(1, sizeof(*im));
	if (!im)
		return -ENOMEM;
	im->ext = mem_ops.alloc != NULL;
	im->elem_size = bpf_map_value_stride(m);
	switch (m->type) {
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_INSN_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY: {
		size_t slots = m->type != BPF_MAP_TYPE_PERCPU_ARRAY ? 1 :
			       ftramp_bpf_num_cpus();

		im->values = mem_calloc(slots * m->max_entries, im->elem_size);
		if (!im->values)
			err = -ENOMEM;
		else if (m->init)
			memcpy(im->values, m->init, m->init_size);
		break;
	}
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
		im->nr_buckets = 1;
		while (im->nr_buckets < m->max_entries && im->nr_buckets < (1u << 20))
			im->nr_buckets <<= 1;
		im->key_off = round_up(m->key_size, 8);
		im->htab_elem_size = sizeof(struct htab_elem) + im->key_off +
				     im->elem_size;
		im->nr_elems = m->max_entries + 1;	/* one spare: replace */
		im->buckets = mem_calloc(im->nr_buckets, sizeof(*im->buckets));
		im->elems = mem_calloc(im->nr_elems, im->htab_elem_size);
		if (!im->buckets || !im->elems) {
			err = -ENOMEM;
			break;
		}
		for (uint32_t b = 0; b < im->nr_buckets; b++)
			im->buckets[b] = NULLS(b);
		im->lru_first = im->lru_last = LRU_NIL;
		for (uint32_t i = im->nr_elems; i-- > 0;) {
			elem_at(im, i)->next = (uintptr_t)im->free;
			im->free = elem_at(im, i);
		}
		break;
	case BPF_MAP_TYPE_RINGBUF:
		err = rb_create(m, im);
		break;
	case BPF_MAP_TYPE_PROG_ARRAY:
		err = bpf_tail_map_init(m);
		break;
	}
	if (err) {
		mem_free(im, im->values);
		mem_free(im, im->buckets);
		mem_free(im, im->elems);
		mem_free(im, im);
		return err;
	}
	m->impl = im;
	return 0;
}

void bpf_map_fini(struct ftramp_bpf_map *m)
{
	struct bpf_map_impl *im = m->impl;

	if (!im)
		return;
	mem_free(im, im->values);
	mem_free(im, im->buckets);
	mem_free(im, im->elems);
	bpf_tail_map_fini(m);
	if (im->rb_base)
		rb_destroy(im);
	mem_free(im, im);
	m->impl = NULL;
}

int bpf_map_layout(const struct ftramp_bpf_map *m, struct bpf_map_layout *l)
{
	const struct bpf_map_impl *im = m->impl;

	memset(l, 0, sizeof(*l));
	if (!im)
		return -EINVAL;
	switch (m->type) {
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		l->nr_cpus = m->type == BPF_MAP_TYPE_ARRAY ? 1 :
			     ftramp_bpf_num_cpus();
		l->data = im->values;
		l->stride = im->elem_size;
		l->nr = l->nr_cpus * m->max_entries;
		return 0;
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
		l->data = im->elems;
		l->stride = im->htab_elem_size;
		l->nr = im->nr_elems;
		l->live_off = offsetof(struct htab_elem, live);
		l->key_off = offsetof(struct htab_elem, data);
		l->val_off = l->key_off + im->key_off;
		return 0;
	case BPF_MAP_TYPE_RINGBUF:
		l->ring_base = im->rb_base;
		l->ring_size = im->rb_size;
		l->ring_page = im->rb_page;
		return 0;
	}
	return -EINVAL;
}

/* ------------------------------------------------------------------------
 * Hash tables
 */

static struct htab_elem *htab_find(const struct ftramp_bpf_map *m,
				   const void *key, uint32_t h)
{
	struct bpf_map_impl *im = m->impl;
	uint32_t b = h & (im->nr_buckets - 1);
	uintptr_t p;

again:
	for (p = __atomic_load_n(&im->buckets[b], __ATOMIC_ACQUIRE); !(p & 1);
	     p = __atomic_load_n(&((struct htab_elem *)p)->next, __ATOMIC_ACQUIRE)) {
		struct htab_elem *e = (struct htab_elem *)p;

		if (e->hash == h && !memcmp(e->data, key, m->key_size))
			return e;
	}
	if (p != NULLS(b))
		goto again;	/* walked into a recycled element's new list */
	return NULL;
}

/* Under the lock: unlink e from bucket b. */
static void htab_unlink(struct bpf_map_impl *im, uint32_t b,
			struct htab_elem *e)
{
	uintptr_t *link = &im->buckets[b];

	while (*link != (uintptr_t)e)
		link = &((struct htab_elem *)*link)->next;
	__atomic_store_n(link, e->next, __ATOMIC_RELEASE);
}

/*
 * LRU_HASH: the kernel's approximation of least-recently-used
 * (kernel/bpf/bpf_lru_list.c), O(1) amortised.  Elements sit on one
 * list in the order they were added; a program's lookup only sets the
 * element's ref bit (lock-free, as lookups are).  Eviction takes the
 * oldest element: if its ref bit is set it gets a second chance (bit
 * cleared, moved to the newest end), else it goes.  Each rotation uses
 * up a bit that a lookup set, so n evictions cost O(n + lookups), and an
 * element used since it was added outlives every one that was not.
 * The list is under the map's lock.
 */
static void lru_push(struct bpf_map_impl *im, struct htab_elem *e)
{
	uint32_t i = elem_idx(im, e);

	e->lru_prev = LRU_NIL;
	e->lru_next = im->lru_first;
	if (im->lru_first != LRU_NIL)
		elem_at(im, im->lru_first)->lru_prev = i;
	else
		im->lru_last = i;
	im->lru_first = i;
}

static void lru_del(struct bpf_map_impl *im, struct htab_elem *e)
{
	if (e->lru_prev != LRU_NIL)
		elem_at(im, e->lru_prev)->lru_next = e->lru_next;
	else
		im->lru_first = e->lru_next;
	if (e->lru_next != LRU_NIL)
		elem_at(im, e->lru_next)->lru_prev = e->lru_prev;
	else
		im->lru_last = e->lru_prev;
}

/* Under the lock: unlink e from its bucket and give it back. */
static void htab_release(const struct ftramp_bpf_map *m,
			 struct htab_elem *e)
{
	struct bpf_map_impl *im = m->impl;

	htab_unlink(im, e->hash & (im->nr_buckets - 1), e);
	if (m->type == BPF_MAP_TYPE_LRU_HASH)
		lru_del(im, e);
	e->live = 0;
	e->next = (uintptr_t)im->free;
	im->free = e;
}

/*
 * Under the lock: make room in a full LRU_HASH.  At most count
 * rotations: were programs to set ref bits as fast as we clear them,
 * the oldest goes anyway after one full turn.
 */
static void lru_evict(const struct ftramp_bpf_map *m)
{
	struct bpf_map_impl *im = m->impl;
	struct htab_elem *e;

	for (uint32_t turns = 0; im->lru_last != LRU_NIL; turns++) {
		e = elem_at(im, im->lru_last);
		if (!__atomic_load_n(&e->ref, __ATOMIC_RELAXED) ||
		    turns >= im->count) {
			htab_release(m, e);
			im->count--;
			return;
		}
		__atomic_store_n(&e->ref, 0, __ATOMIC_RELAXED);
		lru_del(im, e);
		lru_push(im, e);
	}
}

static long htab_update(struct ftramp_bpf_map *m, const void *key,
			const void *value, uint64_t flags, uint32_t vsize)
{
	struct bpf_map_impl *im = m->impl;
	uint32_t h = hash_key(key, m->key_size);
	uint32_t b = h & (im->nr_buckets - 1);
	struct htab_elem *old, *e;

	if (!map_lock(im))
		return -EBUSY;
	old = htab_find(m, key, h);
	if ((flags == BPF_NOEXIST && old) || (flags == BPF_EXIST && !old)) {
		map_unlock(im);
		return old ? -EEXIST : -ENOENT;
	}
	if (!old && im->count >= m->max_entries) {
		if (m->type != BPF_MAP_TYPE_LRU_HASH) {
			map_unlock(im);
			return -E2BIG;
		}
		lru_evict(m);
	}
	e = im->free;		/* max_entries + 1 elements: never NULL here */
	im->free = (struct htab_elem *)e->next;
	e->hash = h;
	e->ref = 0;
	memcpy(e->data, key, m->key_size);
	memcpy(elem_value(im, e), value, vsize);
	e->next = im->buckets[b];
	e->live = 1;
	__atomic_store_n(&im->buckets[b], (uintptr_t)e, __ATOMIC_RELEASE);
	if (m->type == BPF_MAP_TYPE_LRU_HASH)
		lru_push(im, e);
	if (old) {
		htab_release(m, old);
	} else {
		im->count++;
	}
	map_unlock(im);
	return 0;
}

static long htab_delete(struct ftramp_bpf_map *m, const void *key)
{
	struct bpf_map_impl *im = m->impl;
	uint32_t h = hash_key(key, m->key_size);
	struct htab_elem *e;

	if (!map_lock(im))
		return -EBUSY;
	e = htab_find(m, key, h);
	if (e) {
		htab_release(m, e);
		im->count--;
	}
	map_unlock(im);
	return e ? 0 : -ENOENT;
}

/* ------------------------------------------------------------------------
 * The program side
 */

static void *array_slot(const struct ftramp_bpf_map *m, uint32_t idx, int cpu)
{
	struct bpf_map_impl *im = m->impl;

	return im->values + ((size_t)cpu * m->max_entries + idx) * im->elem_size;
}

void *bpf_map_lookup(struct ftramp_bpf_map *m, const void *key)
{
	struct htab_elem *e;
	uint32_t idx;

	switch (m->type) {
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		memcpy(&idx, key, 4);
		if (idx >= m->max_entries)
			return NULL;
		return array_slot(m, idx, m->type == BPF_MAP_TYPE_ARRAY ? 0 :
				  bpf_cpu());
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
		e = htab_find(m, key, hash_key(key, m->key_size));
		if (!e)
			return NULL;
		/* LRU: a second chance at eviction (lru_evict()) */
		if (m->type == BPF_MAP_TYPE_LRU_HASH &&
		    !__atomic_load_n(&e->ref, __ATOMIC_RELAXED))
			__atomic_store_n(&e->ref, 1, __ATOMIC_RELAXED);
		return elem_value(m->impl, e);
	}
	return NULL;	/* ring buffers, prog arrays: not from programs */
}

long bpf_map_update(struct ftramp_bpf_map *m, const void *key,
		    const void *value, uint64_t flags)
{
	uint32_t idx;

	if (flags > BPF_EXIST)
		return -EINVAL;
	switch (m->type) {
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		memcpy(&idx, key, 4);
		if (idx >= m->max_entries)
			return -E2BIG;
		if (flags == BPF_NOEXIST)
			return -EEXIST;	/* every array element exists */
		memcpy(array_slot(m, idx, m->type == BPF_MAP_TYPE_ARRAY ? 0 :
				  bpf_cpu()), value, m->value_size);
		return 0;
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
		return htab_update(m, key, value, flags, m->value_size);
	}
	return -EINVAL;
}

long bpf_map_delete(struct ftramp_bpf_map *m, const void *key)
{
	if (is_hash(m))
		return htab_delete(m, key);
	return -EINVAL;		/* array elements cannot be deleted */
}

static uint64_t live_map(const struct ftramp_bpf_map *m, void *cookie)
{
	(void)cookie;
	return (uintptr_t)m;
}

static uint64_t live_values(const struct ftramp_bpf_map *m, void *cookie)
{
	(void)cookie;
	return m->type == BPF_MAP_TYPE_ARRAY && m->impl ?
	       (uintptr_t)m->impl->values : 0;
}

const struct bpf_map_addrs bpf_map_addrs_live = {
	.map = live_map,
	.values = live_values,
};

/* ------------------------------------------------------------------------
 * Ring buffer: lib/ringbuf.c (the kernel's layout, lock-free producers)
 */

void *bpf_ringbuf_reserve(struct ftramp_bpf_map *m, uint64_t size,
			  uint64_t flags)
{
	if (m->type != BPF_MAP_TYPE_RINGBUF || flags || size > UINT32_MAX)
		return NULL;
	return ringbuf_reserve(&m->impl->rb, size);
}

void bpf_ringbuf_commit(void *sample, uint64_t flags, bool discard)
{
	struct ringbuf *rb = ring_of(sample);

	(void)flags;	/* wake-up flags: the consumer polls */
	if (!rb)
		return;	/* not a sample of ours: nothing to publish */
	if (discard)
		ringbuf_discard(rb, sample);
	else
		ringbuf_commit(rb, sample);
}

long bpf_ringbuf_output(struct ftramp_bpf_map *m, const void *data,
			uint64_t size, uint64_t flags)
{
	if (m->type != BPF_MAP_TYPE_RINGBUF || size > UINT32_MAX ||
	    flags & ~(uint64_t)(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP))
		return -EINVAL;
	return ringbuf_output(&m->impl->rb, data, size) ? -EAGAIN : 0;
}

struct consume_ctx {
	ftramp_bpf_ringbuf_cb cb;
	void *ctx;
};

static int consume_one(void *ctx, void *sample, uint32_t len)
{
	struct consume_ctx *c = ctx;

	return c->cb(c->ctx, sample, len) ? 1 : 0;
}

FTRAMP_API int ftramp_bpf_map__ringbuf_consume(struct ftramp_bpf_map *m,
					       ftramp_bpf_ringbuf_cb cb,
					       void *ctx)
{
	struct consume_ctx c = { cb, ctx };
	long n;

	if (!m || !cb || m->type != BPF_MAP_TYPE_RINGBUF || !m->impl)
		return -EINVAL;
	n = ringbuf_consume(&m->impl->rb, consume_one, &c);
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

/* ------------------------------------------------------------------------
 * The user side (libbpf's bpf_map__*_elem())
 */

static int user_sizes(const struct ftramp_bpf_map *m, size_t key_sz,
		      size_t value_sz)
{
	size_t want = m->value_size;

	if (!m->impl || key_sz != m->key_size)
		return -EINVAL;
	if (m->type == BPF_MAP_TYPE_PERCPU_ARRAY)
		want = (size_t)bpf_map_value_stride(m) * ftramp_bpf_num_cpus();
	return value_sz == want ? 0 : -EINVAL;
}

FTRAMP_API int ftramp_bpf_map__lookup_elem(const struct ftramp_bpf_map *map,
					   const void *key, size_t key_sz,
					   void *value, size_t value_sz,
					   uint64_t flags)
{
	struct ftramp_bpf_map *m = (struct ftramp_bpf_map *)map;
	struct htab_elem *e;
	uint32_t idx;

	if (!m || !key || !value || flags || user_sizes(m, key_sz, value_sz))
		return -EINVAL;
	switch (m->type) {
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_INSN_ARRAY:
		memcpy(&idx, key, 4);
		if (idx >= m->max_entries)
			return -ENOENT;
		memcpy(value, array_slot(m, idx, 0), m->value_size);
		return 0;
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		memcpy(&idx, key, 4);
		if (idx >= m->max_entries)
			return -ENOENT;
		for (int c = 0; c < ftramp_bpf_num_cpus(); c++)
			memcpy((uint8_t *)value + (size_t)c * m->impl->elem_size,
			       array_slot(m, idx, c), m->impl->elem_size);
		return 0;
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
		e = htab_find(m, key, hash_key(key, m->key_size));
		if (!e)
			return -ENOENT;
		memcpy(value, elem_value(m->impl, e), m->value_size);
		return 0;
	}
	return -EOPNOTSUPP;
}

FTRAMP_API int ftramp_bpf_map__update_elem(struct ftramp_bpf_map *m,
					   const void *key, size_t key_sz,
					   const void *value, size_t value_sz,
					   uint64_t flags)
{
	uint32_t idx;

	if (!m || !key || !value || flags > BPF_EXIST ||
	    user_sizes(m, key_sz, value_sz))
		return -EINVAL;
	if (m->type == BPF_MAP_TYPE_PERCPU_ARRAY) {
		memcpy(&idx, key, 4);
		if (idx >= m->max_entries)
			return -E2BIG;
		if (flags == BPF_NOEXIST)
			return -EEXIST;
		for (int c = 0; c < ftramp_bpf_num_cpus(); c++)
			memcpy(array_slot(m, idx, c), (const uint8_t *)value +
			       (size_t)c * m->impl->elem_size, m->value_size);
		return 0;
	}
	if (m->type == BPF_MAP_TYPE_RINGBUF || m->type == BPF_MAP_TYPE_PROG_ARRAY)
		return -EOPNOTSUPP;
	if (m->type == BPF_MAP_TYPE_INSN_ARRAY) {
		/* user space only: the sites a load reads (sbranch.c) */
		memcpy(&idx, key, 4);
		if (idx >= m->max_entries)
			return -E2BIG;
		if (flags == BPF_NOEXIST)
			return -EEXIST;
		memcpy(array_slot(m, idx, 0), value, m->value_size);
		return 0;
	}
	return bpf_map_update(m, key, value, flags);
}

FTRAMP_API int ftramp_bpf_map__delete_elem(struct ftramp_bpf_map *m,
					   const void *key, size_t key_sz,
					   uint64_t flags)
{
	uint32_t idx;

	if (!m || !key || flags || !m->impl || key_sz != m->key_size)
		return -EINVAL;
	if (m->type == BPF_MAP_TYPE_PROG_ARRAY) {
		memcpy(&idx, key, 4);
		return bpf_prog_array_delete(m, idx);
	}
	return bpf_map_delete(m, key);
}

FTRAMP_API int ftramp_bpf_map__get_next_key(const struct ftramp_bpf_map *map,
					    const void *key, void *next_key,
					    size_t key_sz)
{
	struct ftramp_bpf_map *m = (struct ftramp_bpf_map *)map;
	struct bpf_map_impl *im;
	uint32_t idx, b = 0;
	bool found = false;
	int err = -ENOENT;

	if (!m || !next_key || !m->impl || key_sz != m->key_size || !key_sz)
		return -EINVAL;
	im = m->impl;
	switch (m->type) {
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_PROG_ARRAY:
		idx = 0;
		if (key) {
			memcpy(&idx, key, 4);
			idx = idx >= m->max_entries ? 0 : idx + 1;
		}
		if (idx >= m->max_entries)
			return -ENOENT;
		memcpy(next_key, &idx, 4);
		return 0;
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
		break;
	default:
		return -EINVAL;
	}
	/* Under the lock: a stable walk.  A key not found: the first key. */
	if (!map_lock(im))
		return -EBUSY;
	if (key) {
		struct htab_elem *e = htab_find(m, key, hash_key(key, m->key_size));

		if (e) {
			b = e->hash & (im->nr_buckets - 1);
			if (!(e->next & 1)) {
				memcpy(next_key, ((struct htab_elem *)e->next)->data,
				       m->key_size);
				err = 0;
				goto out;
			}
			b++;
			found = true;
		}
	}
	(void)found;
	for (; b < im->nr_buckets; b++) {
		if (!(im->buckets[b] & 1)) {
			memcpy(next_key, ((struct htab_elem *)im->buckets[b])->data,
			       m->key_size);
			err = 0;
			break;
		}
	}
out:
	map_unlock(im);
	return err;
}

/* ------------------------------------------------------------------------
 * Maps of their own, and accessors
 */

FTRAMP_API struct ftramp_bpf_map *
ftramp_bpf_map__create(uint32_t type, const char *name, uint32_t key_size,
		       uint32_t value_size, uint32_t max_entries,
		       const struct ftramp_bpf_map_create_opts *opts)
{
	struct ftramp_bpf_map_create_opts o;
	struct ftramp_bpf_map *m;
	int err;

	if (FTRAMP_OPTS_IN(o, opts)) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	snprintf(m->name, sizeof(m->name), "%s", name ? name : "");
	m->type = type;
	m->key_size = key_size;
	m->value_size = value_size;
	m->max_entries = max_entries;
	m->map_flags = o.map_flags;
	err = bpf_map_init(m);
	if (err) {
		free(m);
		errno = -err;
		return NULL;
	}
	return m;
}

FTRAMP_API void ftramp_bpf_map__free(struct ftramp_bpf_map *m)
{
	if (!m)
		return;
	bpf_map_fini(m);
	free(m);
}

FTRAMP_API int ftramp_bpf_map__format(const struct ftramp_bpf_map *m,
				      bool value, const void *data,
				      size_t size, char *buf, size_t bufsize)
{
	if (!m || !data || (!buf && bufsize))
		return -EINVAL;
	return bpf_btf_format(m->btf, value ? m->btf_value : m->btf_key, data,
			      size, buf, bufsize);
}

FTRAMP_API const char *ftramp_bpf_map__name(const struct ftramp_bpf_map *m)
{
	return m ? m->name : NULL;
}

FTRAMP_API uint32_t ftramp_bpf_map__type(const struct ftramp_bpf_map *m)
{
	return m ? m->type : 0;
}

FTRAMP_API uint32_t ftramp_bpf_map__key_size(const struct ftramp_bpf_map *m)
{
	return m ? m->key_size : 0;
}

FTRAMP_API uint32_t ftramp_bpf_map__value_size(const struct ftramp_bpf_map *m)
{
	return m ? m->value_size : 0;
}

FTRAMP_API uint32_t ftramp_bpf_map__max_entries(const struct ftramp_bpf_map *m)
{
	return m ? m->max_entries : 0;
}
