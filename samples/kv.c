// SPDX-License-Identifier: MIT
/*
 * The store: open addressing with linear probing under one mutex.  Kept
 * small and boring on purpose; it exists to be traced.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvstore.h"

struct kv_store *kv_open(size_t capacity)
{
	struct kv_store *kv;

	kv = calloc(1, sizeof(*kv));
	if (!kv)
		return NULL;
	kv->slots = calloc(capacity, sizeof(*kv->slots));
	if (!kv->slots) {
		free(kv);
		return NULL;
	}
	kv->capacity = capacity;
	pthread_mutex_init(&kv->lock, NULL);
	return kv;
}

void kv_close(struct kv_store *kv)
{
	if (!kv)
		return;
	pthread_mutex_destroy(&kv->lock);
	free(kv->slots);
	free(kv);
}

/* FNV-1a, 32 bits. */
uint32_t kv_hash(const char *key)
{
	uint32_t h = 2166136261u;

	while (*key) {
		h ^= (unsigned char)*key++;
		h *= 16777619u;
	}
	return h;
}

/*
 * The slot holding @key, or the first free slot of its probe sequence
 * (key[0] == 0), or NULL when the table is full.  Called with the lock held.
 */
static struct kv_entry *kv_slot(struct kv_store *kv, const char *key)
{
	size_t i, idx = kv_hash(key) % kv->capacity;

	for (i = 0; i < kv->capacity; i++) {
		struct kv_entry *e = &kv->slots[(idx + i) % kv->capacity];

		if (!e->used || !strcmp(e->key, key))
			return e;
	}
	return NULL;
}

/* 0, -EINVAL for a key that does not fit, -ENOSPC when the store is full. */
int kv_put(struct kv_store *kv, const char *key, double value)
{
	struct kv_entry *e;
	int ret = 0;

	if (strlen(key) >= KV_KEY_MAX)
		return -EINVAL;
	pthread_mutex_lock(&kv->lock);
	e = kv_slot(kv, key);
	if (!e) {
		ret = -ENOSPC;
	} else {
		if (!e->used) {
			strcpy(e->key, key);
			e->used = 1;
			kv->count++;
		}
		e->value = value;
	}
	pthread_mutex_unlock(&kv->lock);
	return ret;
}

/* 0 and *value, or -ENOENT. */
int kv_get(struct kv_store *kv, const char *key, double *value)
{
	struct kv_entry *e;
	int ret = -ENOENT;

	pthread_mutex_lock(&kv->lock);
	e = kv_slot(kv, key);
	if (e && e->used) {
		*value = e->value;
		ret = 0;
	}
	pthread_mutex_unlock(&kv->lock);
	return ret;
}

/* How many values lie in [range.lo, range.hi]. */
size_t kv_count_range(struct kv_store *kv, struct kv_range range)
{
	size_t i, n = 0;

	pthread_mutex_lock(&kv->lock);
	for (i = 0; i < kv->capacity; i++) {
		const struct kv_entry *e = &kv->slots[i];

		if (e->used && e->value >= range.lo && e->value <= range.hi)
			n++;
	}
	pthread_mutex_unlock(&kv->lock);
	return n;
}
