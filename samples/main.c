// SPDX-License-Identifier: MIT
/*
 * kvstore [-j THREADS] [-n ITERATIONS] [-s]
 *
 * Every thread samples its sensor ITERATIONS times, stores each calibrated
 * reading under one of four keys and reads it back; every fifth read asks
 * for a key that was never written.  The summary at the end counts each
 * call, so a trace can be checked against it.
 *
 * -s also runs a 1 ms interval timer whose SIGALRM handler calls
 * sensor_tick(): a traced function called from a signal handler, which
 * may interrupt another traced call on the same thread.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "kvstore.h"

#define MAX_THREADS	16

struct worker {
	pthread_t thread;
	struct kv_store *kv;
	int id;
	int iterations;
	int put_failed;
	int get_missing;
	int first_err;
};

static void on_alarm(int sig)
{
	sensor_tick(sig);
}

static int start_ticks(void)
{
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	struct sigaction sa = { .sa_handler = on_alarm,
				.sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) || setitimer(ITIMER_REAL, &it, NULL))
		return -errno;
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char key[KV_KEY_MAX];
	double value;
	int i, err;

	for (i = 0; i < w->iterations; i++) {
		float raw = sensor_sample(w->id, (float)i * 0.1f);
		double cal = sensor_calibrate(raw, 1.5f, w->id);

		snprintf(key, sizeof(key), "sensor%d.%d", w->id, i % 4);
		err = kv_put(w->kv, key, cal);
		if (err) {
			w->put_failed++;
			if (!w->first_err)
				w->first_err = err;
		}
		if (i % 5 == 4)
			snprintf(key, sizeof(key), "sensor%d.missing", w->id);
		if (kv_get(w->kv, key, &value))
			w->get_missing++;
	}
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: kvstore [-j THREADS (1-%d)] [-n ITERATIONS] [-s]\n",
		MAX_THREADS);
	exit(2);
}

int main(int argc, char **argv)
{
	struct worker workers[MAX_THREADS] = { 0 };
	int nthreads = 4, iterations = 50;
	int i, opt, failed = 0, missing = 0, first_err = 0;
	bool ticks = false;
	struct kv_store *kv;
	size_t in_range;

	while ((opt = getopt(argc, argv, "j:n:s")) != -1) {
		switch (opt) {
		case 'j':
			nthreads = atoi(optarg);
			break;
		case 'n':
			iterations = atoi(optarg);
			break;
		case 's':
			ticks = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || nthreads < 1 || nthreads > MAX_THREADS ||
	    iterations < 0)
		usage();

	if (ticks && start_ticks()) {
		perror("kvstore: timer");
		return 1;
	}
	kv = kv_open(64);
	if (!kv) {
		perror("kvstore: kv_open");
		return 1;
	}
	for (i = 0; i < nthreads; i++) {
		workers[i].kv = kv;
		workers[i].id = i;
		workers[i].iterations = iterations;
		errno = pthread_create(&workers[i].thread, NULL, worker_main,
				       &workers[i]);
		if (errno) {
			perror("kvstore: pthread_create");
			return 1;
		}
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(workers[i].thread, NULL);
		failed += workers[i].put_failed;
		missing += workers[i].get_missing;
		if (!first_err)
			first_err = workers[i].first_err;
	}
	in_range = kv_count_range(kv, (struct kv_range){ -1.0f, 1.0f });
	if (ticks) {
		struct itimerval off = { 0 };

		setitimer(ITIMER_REAL, &off, NULL);
		printf("kvstore: %d timer ticks\n", sensor_ticks());
	}

	printf("kvstore: %d threads, %d puts (%d failed%s%s), %d gets (%d missing), %zu values in [-1, 1]\n",
	       nthreads, nthreads * iterations, failed,
	       first_err ? ": " : "", first_err ? strerror(-first_err) : "",
	       nthreads * iterations, missing, in_range);
	kv_close(kv);
	return 0;
}
