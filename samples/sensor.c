// SPDX-License-Identifier: MIT
/*
 * Simulated sensors: float in, float out, with a short sleep standing in for
 * the bus transfer so that `ftramp run --hist` has latencies to show.
 */
#include <math.h>
#include <signal.h>
#include <time.h>

#include "kvstore.h"

float sensor_sample(int sensor, float t)
{
	/* 10, 20 or 30 us on the "bus", by sensor */
	struct timespec ts = { 0, 10000L * (1 + sensor % 3) };

	nanosleep(&ts, NULL);
	return sinf(t + (float)sensor) * (1.0f + 0.25f * (float)sensor);
}

double sensor_calibrate(double raw, float gain, int offset)
{
	return raw * gain + offset * 0.5;
}

static volatile sig_atomic_t ticks;

/* Called from a SIGALRM handler (kvstore -s). */
void sensor_tick(int sig)
{
	ticks = ticks + 1;
}

int sensor_ticks(void)
{
	return ticks;
}
