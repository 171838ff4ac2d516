/* SPDX-License-Identifier: MIT */
/*
 * Fault injection: named failure points for tests.
 *
 * Code that can fail on a path a test cannot otherwise reach (mmap,
 * mprotect, membarrier, malloc of a batch entry...) asks the fault point
 * first:
 *
 *	err = ftramp_fault("mprotect");
 *	if (!err)
 *		err = mprotect(...) ? -errno : 0;
 *
 * A test arms a point with ftramp_fault_set("mprotect", 3, 1, -EACCES):
 * the third call from now fails with -EACCES, once.  Points are plain
 * strings, so a layer adds one by naming it: nothing to register.
 *
 * Cost when nothing is armed: one relaxed load of a global and a branch
 * predicted not taken.  Builds with FTRAMP_NO_FAULT_INJECT compile the
 * points out entirely.
 *
 * The environment variable FTRAMP_FAULT="point:nth[:count[:errno]]"
 * (several separated by ',') arms points when the library is loaded, so
 * script tests can fail a point inside the CLI.
 */
#ifndef FTRAMP_LIB_FAULT_INJECT_H
#define FTRAMP_LIB_FAULT_INJECT_H

#include <stdbool.h>

/* How many points may be armed at once. */
#define FTRAMP_FAULT_MAX_POINTS	16
#define FTRAMP_FAULT_NAME_MAX	48
/* count value: fail every call from the nth on. */
#define FTRAMP_FAULT_FOREVER	(~0ul)

/* Non-zero while any point is armed (read by the inline fast path). */
extern int ftramp_fault_armed;

int ftramp_fault_hit(const char *name);

/*
 * 0, or the negative errno the caller must fail with as if the operation
 * behind the point had failed.
 */
static inline int ftramp_fault(const char *name)
{
#ifdef FTRAMP_NO_FAULT_INJECT
	(void)name;
	return 0;
#else
	if (__builtin_expect(__atomic_load_n(&ftramp_fault_armed,
					     __ATOMIC_RELAXED), 0))
		return ftramp_fault_hit(name);
	return 0;
#endif
}

/*
 * Arm point `name`: calls number nth .. nth + count - 1 (1-based, counted
 * from now) fail with err (a negative errno; 0 means -EIO).  nth == 0 arms
 * the point for counting only.  Re-arming a point resets its counters.
 * Returns 0, -EINVAL (bad name or err) or -ENOSPC (table full).
 */
int ftramp_fault_set(const char *name, unsigned long nth, unsigned long count,
		     int err);

/* Disarm one point (-ENOENT if it was not armed). */
int ftramp_fault_clear(const char *name);

/* Disarm every point. */
void ftramp_fault_clear_all(void);

/* Calls seen by an armed point since it was armed (0 if not armed). */
unsigned long ftramp_fault_calls(const char *name);

/* Failures injected by an armed point since it was armed. */
unsigned long ftramp_fault_injected(const char *name);

/*
 * Arm points from a spec "point:nth[:count[:errno]][,...]", errno as a
 * positive number (e.g. 12 for ENOMEM).  All or nothing: on error no
 * point of the spec is armed.  Returns 0 or -EINVAL / -ENOSPC.
 */
int ftramp_fault_parse(const char *spec);

/* fork(): the fault table's lock (the order is in ftrace/fork.c). */
void ftramp_fault_atfork(int stage);

#endif /* FTRAMP_LIB_FAULT_INJECT_H */
