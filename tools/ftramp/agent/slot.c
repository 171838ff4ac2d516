// SPDX-License-Identifier: MIT
/*
 * The agent's place in the session file (session.h): one slot per
 * process, claimed at start-up and again in a child after fork().
 *
 * Everything the traced code writes (the ring, the counters the count
 * trampolines add to, the histograms) is reached through addresses fixed
 * at attach time, inside this process's slot mapping.  A forked child
 * claims a slot of its own and maps it over the same addresses
 * (MAP_FIXED): the trampolines it inherited then count into the child's
 * slot, and the child's report holds its own calls only.  That happens
 * in a pthread_atfork() child handler, while the child has one thread.
 *
 * The session file is opened by name for each mapping and closed at once:
 * the program never sees a descriptor of ours, whatever it closes or
 * reuses.  When no slot is left (or the file is gone), the slot's
 * addresses get private anonymous memory: the program runs, its events go
 * nowhere, and the header counts it as refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/fault_inject.h"
#include "lib/ringbuf.h"
#include "agent.h"
#include "session.h"

_Static_assert(SES_TICK_BUCKETS == FTRAMP_HIST_BUCKETS,
	       "session.h's tick buckets are a FTRAMP_HIST link's");

static char ses_path[PATH_MAX];
static struct ses_header *hdr;
static struct ses_geom geom;
static struct ses_map map;
static uint32_t slot_idx;
static bool slot_real;		/* map.slot is in the session file */
static char prog[sizeof(((struct ses_slot *)0)->prog)];

static int open_session(void)
{
	int fd = open(ses_path, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Private memory where a slot would be: events go nowhere. */
static void slot_blackhole(void *at)
{
	size_t size = at ? ses_slot_map_size(&geom) : 0;
	void *p;

	if (!at)
		return;
	p = mmap(at, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p == MAP_FAILED)
		return;
	memset(&map, 0, sizeof(map));
	map.base = p;
	map.slot = p;
	map.ring_base = (char *)p + geom.page;
	map.funcs = (struct ses_func *)((char *)p + geom.page +
			ringbuf_map_size(geom.ring_size, geom.page));
	map.names = (char *)map.funcs + (geom.names_off - geom.funcs_off);
}

/* Claim the next slot and map it (over @at when not NULL). */
static int claim(void *at)
{
	uint32_t idx = __atomic_fetch_add(&hdr->next_slot, 1,
					  __ATOMIC_RELAXED);
	int fd, err;

	slot_real = false;
	if (idx >= geom.nr_slots) {
		__atomic_fetch_add(&hdr->refused, 1, __ATOMIC_RELAXED);
		slot_blackhole(at);
		return -ENOSPC;
	}
	fd = open_session();
	if (fd < 0) {
		slot_blackhole(at);
		return fd;
	}
	err = ses_slot_map(&map, &geom, fd, idx, at);
	close(fd);
	if (err) {
		slot_blackhole(at);
		return err;
	}
	slot_idx = idx;
	slot_real = true;
	map.slot->pid = getpid();
	map.slot->ppid = getppid();
	map.slot->tick_freq = ftramp_hist_freq();
	memcpy(map.slot->prog, prog, sizeof(prog));
	__atomic_store_n(&map.slot->state, SES_CLAIMED, __ATOMIC_RELEASE);
	agent_sfuncs = map.funcs;
	return ringbuf_init(&agent_ring, map.ring_base, geom.ring_size,
			    geom.page);
}

/* Bounded: the ftramp process answers within its poll period. */
#define TABLE_WAIT_MS	3000

int slot_table_request(const char *path, uint64_t *off, uint64_t *size)
{
	struct ses_slot *s = map.slot;
	struct timespec ms = { .tv_nsec = 1000000 };
	size_t len = strlen(path);
	uint32_t seq;

	int err;

	if (!slot_real || !s || len >= sizeof(s->req_path))
		return -ENOENT;
	err = ftramp_fault("table_request");
	if (err)
		return err;
	seq = s->req_seq + 1;
	memcpy(s->req_path, path, len + 1);
	__atomic_store_n(&s->req_seq, seq, __ATOMIC_RELEASE);
	for (int i = 0; i < TABLE_WAIT_MS; i++) {
		if (__atomic_load_n(&s->ans_seq, __ATOMIC_ACQUIRE) == seq) {
			*off = s->ans_off;
			*size = s->ans_size;
			return *size ? open_session() : -ENOENT;
		}
		nanosleep(&ms, NULL);
	}
	return -ETIMEDOUT;
}

const struct ses_header *slot_header(void)
{
	return hdr;
}

int slot_session_fd(void)
{
	return open_session();
}

void slot_set_flags(uint32_t flags)
{
	if (slot_real && map.slot)
		__atomic_fetch_or(&map.slot->flags, flags, __ATOMIC_RELEASE);
}

bool slot_follower(void)
{
	return slot_idx != 0;
}

static void atfork_child(void)
{
	void *at = map.base;

	event_atfork_child();
	if (!at)
		return;
	/* the parent's slot stays the parent's: move to ours */
	if (!claim(at))
		slot_publish(0);
}

int slot_open(const char *path)
{
	struct stat st;
	ssize_t n;
	void *p;
	int fd, err;

	if (strlen(path) >= sizeof(ses_path))
		return -ENAMETOOLONG;
	strcpy(ses_path, path);
	fd = open_session();
	if (fd < 0)
		return fd;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	p = mmap(NULL, sizeof(*hdr), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 0);
	if (p == MAP_FAILED) {
		err = -errno;
		close(fd);
		return err;
	}
	hdr = p;
	err = ses_geom_from_header(&geom, hdr, st.st_size);
	if (!err)
		err = table_map(fd, hdr->table_off, hdr->table_size);
	close(fd);
	if (err)
		return err;
	n = readlink("/proc/self/exe", prog, sizeof(prog) - 1);
	prog[n > 0 ? n : 0] = 0;
	err = claim(NULL);
	if (err)
		return err;
	/* time 0 of the report: the first program's start, not qemu's */
	if (!slot_idx)
		__atomic_store_n(&hdr->t0, now_ns(), __ATOMIC_RELAXED);
	pthread_atfork(NULL, NULL, atfork_child);
	return 0;
}

int slot_publish(unsigned int first)
{
	struct ses_slot *s = map.slot;
	unsigned int i, nr = agent_nr_funcs;
	uint32_t off = first ? s->names_len : 0;

	if (!s || nr > geom.max_funcs)
		return -E2BIG;
	for (i = first; i < nr; i++) {
		const struct afunc *f = agent_func(i);
		size_t len = strlen(f->name) + 1;

		if (off + len > geom.names_size)
			return -E2BIG;
		memcpy(map.names + off, f->name, len);
		map.funcs[i].name_off = off;
		map.funcs[i].what = f->what;
		off += len;
	}
	s->names_len = off;
	/* the command reads nr_funcs with acquire, then the table */
	__atomic_store_n(&s->nr_funcs, nr, __ATOMIC_RELEASE);
	__atomic_store_n(&s->state, SES_LIVE, __ATOMIC_RELEASE);
	return 0;
}

