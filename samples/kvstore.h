/* SPDX-License-Identifier: MIT */
/*
 * kvstore: the demo program of `make demo`.  A small in-memory store of
 * sensor readings (key -> double) shared by a few threads, with enough
 * kinds of arguments to show what `ftramp run` prints: strings, pointers,
 * ints, floats and doubles, a two-float struct passed in FP registers (an
 * HFA) and error returns.
 */
#ifndef SAMPLES_KVSTORE_H
#define SAMPLES_KVSTORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KV_KEY_MAX	32

struct kv_entry {
	char key[KV_KEY_MAX];
	double value;
	int used;
};

struct kv_store {
	pthread_mutex_t lock;
	size_t capacity;
	size_t count;
	struct kv_entry *slots;
};

/* A closed interval of values; an HFA, so it travels in s0 and s1. */
struct kv_range {
	float lo;
	float hi;
};

struct kv_store *kv_open(size_t capacity);
void kv_close(struct kv_store *kv);
uint32_t kv_hash(const char *key);
int kv_put(struct kv_store *kv, const char *key, double value);
int kv_get(struct kv_store *kv, const char *key, double *value);
size_t kv_count_range(struct kv_store *kv, struct kv_range range);

float sensor_sample(int sensor, float t);
double sensor_calibrate(double raw, float gain, int offset);
void sensor_tick(int sig);
int sensor_ticks(void);

#endif /* SAMPLES_KVSTORE_H */
