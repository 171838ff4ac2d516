// SPDX-License-Identifier: MIT
/*
 * Fault injection: a small table of armed points, consulted only while
 * something is armed (see fault_inject.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fault_inject.h"
#include "lib/lockdep.h"

struct fault_point {
	char name[FTRAMP_FAULT_NAME_MAX];
	unsigned long nth;	/* first failing call, 1-based; 0: count only */
	unsigned long count;	/* failing calls from nth on */
	unsigned long calls;	/* calls seen since armed */
	unsigned long injected;	/* failures returned since armed */
	int err;
	bool used;
};

int ftramp_fault_armed;

static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
FTRAMP_LOCK_CLASS(fault_lock, FTRAMP_LOCK_FAULT);
static struct fault_point fault_table[FTRAMP_FAULT_MAX_POINTS];

/* Called with fault_lock held. */
static struct fault_point *fault_find(const char *name)
{
	for (int i = 0; i < FTRAMP_FAULT_MAX_POINTS; i++)
		if (fault_table[i].used && !strcmp(fault_table[i].name, name))
			return &fault_table[i];
	return NULL;
}

/* Called with fault_lock held. */
static void fault_update_armed(void)
{
	int n = 0;

	for (int i = 0; i < FTRAMP_FAULT_MAX_POINTS; i++)
		n += fault_table[i].used;
	__atomic_store_n(&ftramp_fault_armed, n, __ATOMIC_RELEASE);
}

int ftramp_fault_hit(const char *name)
{
	struct fault_point *p;
	int ret = 0;

	pthread_mutex_lock(&fault_lock);
	p = fault_find(name);
	if (p) {
		unsigned long n = ++p->calls;

		/* nth + count may wrap with FTRAMP_FAULT_FOREVER: compare
		 * the distance from nth instead of the end. */
		if (p->nth && n >= p->nth && n - p->nth < p->count) {
			p->injected++;
			ret = p->err;
		}
	}
	pthread_mutex_unlock(&fault_lock);
	return ret;
}

static bool fault_name_ok(const char *name)
{
	size_t len;

	if (!name)
		return false;
	len = strlen(name);
	return len > 0 && len < FTRAMP_FAULT_NAME_MAX &&
	       !strpbrk(name, ":,");
}

/* Called with fault_lock held; arguments already validated. */
static int fault_arm_locked(const char *name, unsigned long nth,
			    unsigned long count, int err)
{
	struct fault_point *p = fault_find(name);

	for (int i = 0; !p && i < FTRAMP_FAULT_MAX_POINTS; i++)
		if (!fault_table[i].used)
			p = &fault_table[i];
	if (!p)
		return -ENOSPC;
	memset(p, 0, sizeof(*p));
	strcpy(p->name, name);
	p->nth = nth;
	p->count = count;
	p->err = err ? err : -EIO;
	p->used = true;
	return 0;
}

int ftramp_fault_set(const char *name, unsigned long nth, unsigned long count,
		     int err)
{
	int ret;

	if (!fault_name_ok(name) || err > 0 || err < -4095)
		return -EINVAL;
	pthread_mutex_lock(&fault_lock);
	ret = fault_arm_locked(name, nth, count, err);
	fault_update_armed();
	pthread_mutex_unlock(&fault_lock);
	return ret;
}

int ftramp_fault_clear(const char *name)
{
	struct fault_point *p;
	int ret = -ENOENT;

	if (!name)
		return -EINVAL;
	pthread_mutex_lock(&fault_lock);
	p = fault_find(name);
	if (p) {
		p->used = false;
		ret = 0;
	}
	fault_update_armed();
	pthread_mutex_unlock(&fault_lock);
	return ret;
}

void ftramp_fault_clear_all(void)
{
	pthread_mutex_lock(&fault_lock);
	for (int i = 0; i < FTRAMP_FAULT_MAX_POINTS; i++)
		fault_table[i].used = false;
	fault_update_armed();
	pthread_mutex_unlock(&fault_lock);
}

static unsigned long fault_read(const char *name, bool injected)
{
	struct fault_point *p;
	unsigned long v = 0;

	if (!name)
		return 0;
	pthread_mutex_lock(&fault_lock);
	p = fault_find(name);
	if (p)
		v = injected ? p->injected : p->calls;
	pthread_mutex_unlock(&fault_lock);
	return v;
}

unsigned long ftramp_fault_calls(const char *name)
{
	return fault_read(name, false);
}

unsigned long ftramp_fault_injected(const char *name)
{
	return fault_read(name, true);
}

struct fault_spec {
	char name[FTRAMP_FAULT_NAME_MAX];
	unsigned long nth, count;
	int err;
};

static int parse_ulong(const char *s, const char *end, unsigned long *v)
{
	char *e;

	if (s == end || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoul(s, &e, 10);
	if (errno || e != end)
		return -EINVAL;
	return 0;
}

/* One "point:nth[:count[:errno]]" item in [s, end). */
static int parse_one(const char *s, const char *end, struct fault_spec *f)
{
	const char *fields[4], *ends[4], *start = s;
	unsigned long v;
	int n = 0;

	for (const char *c = s;; c++) {
		if (c != end && *c != ':')
			continue;
		if (n == 4)
			return -EINVAL;
		fields[n] = start;
		ends[n++] = c;
		if (c == end)
			break;
		start = c + 1;
	}
	if (n < 2 || ends[0] - fields[0] >= FTRAMP_FAULT_NAME_MAX)
		return -EINVAL;
	memcpy(f->name, fields[0], ends[0] - fields[0]);
	f->name[ends[0] - fields[0]] = '\0';
	if (!fault_name_ok(f->name) || parse_ulong(fields[1], ends[1], &f->nth))
		return -EINVAL;
	f->count = 1;
	if (n > 2 && parse_ulong(fields[2], ends[2], &f->count))
		return -EINVAL;
	f->err = -EIO;
	if (n > 3) {
		if (parse_ulong(fields[3], ends[3], &v) || !v || v > 4095)
			return -EINVAL;
		f->err = -(int)v;
	}
	return 0;
}

int ftramp_fault_parse(const char *spec)
{
	struct fault_spec specs[FTRAMP_FAULT_MAX_POINTS];
	int n = 0, ret = 0, free_slots = 0;
	const char *s, *end;

	if (!spec)
		return -EINVAL;
	for (s = spec; *s; s = *end ? end + 1 : end) {
		end = strchr(s, ',');
		if (!end)
			end = s + strlen(s);
		if (n == FTRAMP_FAULT_MAX_POINTS)
			return -ENOSPC;
		ret = parse_one(s, end, &specs[n++]);
		if (ret)
			return ret;
	}

	pthread_mutex_lock(&fault_lock);
	/* Check room first so that the spec arms all of its points or none. */
	for (int i = 0; i < FTRAMP_FAULT_MAX_POINTS; i++)
		free_slots += !fault_table[i].used;
	for (int i = 0; i < n; i++)
		if (!fault_find(specs[i].name))
			free_slots--;
	if (free_slots < 0)
		ret = -ENOSPC;
	for (int i = 0; !ret && i < n; i++)
		ret = fault_arm_locked(specs[i].name, specs[i].nth,
				       specs[i].count, specs[i].err);
	fault_update_armed();
	pthread_mutex_unlock(&fault_lock);
	return ret;
}

__attribute__((constructor))
static void fault_from_env(void)
{
	const char *spec = getenv("FTRAMP_FAULT");

	/* A bad spec arms nothing; the test using it then sees no fault. */
	if (spec && *spec)
		(void)ftramp_fault_parse(spec);
}

/* fork(): 0 takes the lock, 1 (parent) and 2 (child) release it (ftrace/fork.c) */
void ftramp_fault_atfork(int stage)
{
	if (stage == 0)
		pthread_mutex_lock(&fault_lock);
	else
		pthread_mutex_unlock(&fault_lock);
}
