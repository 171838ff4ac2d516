/* SPDX-License-Identifier: MIT */
/*
 * The session file: the only way events leave a traced process.
 *
 * `ftramp run` creates it (under /dev/shm), names it to the agent in
 * FTRAMP_SESSION, reads it while the program runs and reports from it
 * after: nothing the program does to its file descriptors can reach the
 * report, and nothing the agent counted is lost when the program is
 * killed.  Both sides include this file (the command on the host, the
 * agent on arm64): every field has a fixed size, little-endian.
 *
 *	0			struct ses_header (one page)
 *	slots_off + i * slot_size	process slot i:
 *	  +0			struct ses_slot (one page)
 *	  +page			ring (lib/ringbuf.h): consumer page,
 *				producer page, ring_size data bytes
 *	  +funcs_off		struct ses_func[max_funcs]: counts,
 *				histograms, what the function is traced for
 *	  +names_off		names_size bytes of NUL-terminated names
 *	bpf_off			the BPF area (ftramp run -e): struct ses_bpf,
 *				then the maps' memory (bpf_size bytes)
 *	table_off		the site-and-model table (table_size bytes)
 *
 * A process claims a slot (one atomic add on next_slot) when its agent
 * starts, and a forked child claims its own and maps it at the same
 * address as its parent's (MAP_FIXED), so that the counters the
 * trampolines add to and the ring the programs write need no update: the
 * child's report holds the child's calls only.  An exec'd program that is
 * followed claims a new slot with the same pid.  The file is sparse: a
 * slot costs the pages it touches.
 */
#ifndef FTRAMP_AGENT_SESSION_H
#define FTRAMP_AGENT_SESSION_H

#include <stdint.h>

#include "hist.h"

#define SES_MAGIC	"FTRAMPS"
#define SES_VERSION	4

struct ses_header {
	char magic[8];
	uint32_t version;
	uint32_t page_size;
	uint64_t slots_off;
	uint64_t slot_size;
	uint32_t nr_slots;
	uint32_t ring_size;	/* data bytes of each slot's ring */
	uint32_t max_funcs;
	uint32_t names_size;
	uint64_t funcs_off;	/* in a slot */
	uint64_t names_off;
	uint64_t t0;		/* CLOCK_MONOTONIC ns: time 0 of the report,
				 * the first agent's start (before: ftramp's) */
	uint32_t next_slot;	/* slots claimed; past nr_slots: none left */
	uint32_t refused;	/* processes that found no slot */
	/*
	 * The site-and-model table (ftrace/site_table.h), page-aligned
	 * after the slots, read-only to the agent; size 0: none (the
	 * agent reads the sites itself, without models).
	 */
	uint64_t table_off;
	uint64_t table_size;
	/* the BPF area, page-aligned after the slots; size 0: no -e */
	uint64_t bpf_off;
	uint64_t bpf_size;
};

/*
 * The BPF area.  The first agent (not an exec'd follower) loads the -e
 * objects with the maps' memory taken from here (bpf_map_set_mem()), so
 * the ftramp process reads their contents at exit, after a crash too,
 * and drains their ring buffers as the program runs.  Forked children
 * share the maps, as processes share a kernel's.  Allocations are
 * bump-allocated from `used` (bytes from the area's start, atomically),
 * each ses_bpf_map published by nr_maps (release).  Offsets are from the
 * start of the file.
 */
#define SES_BPF_MAX_MAPS	256

struct ses_bpf_map {
	uint32_t obj;		/* which -e object, in order */
	uint32_t idx;		/* which map of it, in the loader's order */
	uint32_t type, key_size, value_size, max_entries;
	/* struct bpf_map_layout, as offsets */
	uint64_t data_off;
	uint32_t stride, nr;
	uint32_t live_off, key_off, val_off, nr_cpus;
	uint64_t ring_off;	/* lib/ringbuf.h's layout, ring_size data */
	uint64_t ring_size, ring_page;
};

struct ses_bpf {
	uint64_t used;
	uint32_t nr_maps;
	uint32_t loaded;	/* every object loaded and attached */
	struct ses_bpf_map maps[SES_BPF_MAX_MAPS];
};

enum ses_slot_state {
	SES_FREE,
	SES_CLAIMED,		/* the agent is filling it in */
	SES_LIVE,		/* funcs and names published (release) */
};

/* ses_slot.flags */
/* a FUNC@LIB glob still matched no function at exit: an error (run.c) */
#define SES_SLOT_UNMATCHED	0x1u

struct ses_slot {
	uint32_t state;		/* enum ses_slot_state */
	int32_t pid;
	int32_t ppid;
	uint32_t nr_funcs;	/* grows as libraries load (release) */
	uint32_t names_len;
	uint32_t flags;		/* SES_SLOT_* below (atomic or) */
	/*
	 * Ticks per second of the clock ses_func.ticks counts in
	 * (ftramp_hist_freq()), written before the slot is live.
	 */
	uint64_t tick_freq;
	char prog[256];		/* /proc/self/exe as the agent read it */
	/*
	 * The table of an object loaded later (agent/table.c): the agent
	 * writes req_path, then req_seq + 1 (release), and waits a bounded
	 * time for ans_seq to reach it; the ftramp process reads the file,
	 * appends its site-and-model table to the session file, and answers
	 * with ans_off/ans_size (size 0: none) and ans_seq (release).
	 */
	uint32_t req_seq, ans_seq;
	uint64_t ans_off, ans_size;
	char req_path[4096];
};

/* What a function is traced for (ses_func.what). */
enum afunc_what {
	AF_TRACE	= 1u << 0,	/* -t: a line per call */
	AF_HIST		= 1u << 1,	/* --hist: latency histogram */
	AF_COUNT	= 1u << 2,	/* --count: call count */
	AF_OVERRIDE	= 1u << 3,	/* --override: fmod_ret */
	/* --hist timed by the program pair (ses_func.hs), not by a
	 * FTRAMP_HIST link (ses_func.ticks): the agent's choice, which the
	 * report follows (agent.c, func_setup()) */
	AF_HIST_PAIR	= 1u << 4,
};

/* FTRAMP_HIST_BUCKETS of <ftramp/ftramp.h>, which the host does not see */
#define SES_TICK_BUCKETS	65

struct ses_func {
	uint64_t calls;		/* --count: the trampoline adds here */
	uint64_t missed;	/* recursion-guard misses: the trampoline
				 * adds here (one link's, opts.missed) */
	uint32_t what;		/* enum afunc_what */
	uint32_t name_off;	/* in the slot's names */
	/*
	 * --hist with -t or --override: the program pair's, in ns (hs);
	 * --hist alone: a FTRAMP_HIST link's buckets, in ticks of
	 * ses_slot.tick_freq (ticks), its unwound calls in hs.unwound,
	 * added there by the runtime as they are found
	 * (ftramp_attach_opts.unwound): exact after SIGKILL, and a
	 * forked child's own.
	 */
	struct hist_stat hs;
	uint64_t ticks[SES_TICK_BUCKETS];
};

/*
 * Events, one ring sample each.  The agent formats what only it can read
 * (arguments and results, from the program's memory); the command does
 * the rest (time, nesting, leaves on one line, Chrome JSON).
 */
enum ses_ev_type {
	SES_EV_ENTRY = 1,
	SES_EV_EXIT,
	SES_EV_PRINTK,		/* a BPF program's bpf_trace_printk() line */
};

struct ses_event {
	uint16_t type;		/* enum ses_ev_type */
	uint16_t text_len;	/* bytes of text[] */
	uint32_t func;		/* index in the slot's ses_func[] */
	uint32_t tid;
	uint32_t flags;		/* SES_EV_* below */
	uint64_t ts;		/* CLOCK_MONOTONIC ns */
	uint64_t key;		/* the call's ctx address, the same at its
				 * entry and exit; 0 in an unwound report */
	char text[];		/* entry: "(a=1, b=2)"; exit: " = 0" */
};

#define SES_EV_UNWOUND	(1u << 0)	/* exit of an abandoned frame */

/* Geometry, the same on both sides. */
struct ses_geom {
	uint64_t page, ring_size, max_funcs, names_size, nr_slots;
	uint64_t funcs_off, names_off, slot_size, slots_off, file_size;
};

void ses_geom_init(struct ses_geom *g, uint64_t page, uint64_t ring_size,
		   uint64_t max_funcs, uint64_t names_size,
		   uint64_t nr_slots);
/* The geometry a header describes; -EINVAL when it cannot be right. */
int ses_geom_from_header(struct ses_geom *g, const struct ses_header *h,
			 uint64_t file_size);

/*
 * One slot as mapped by either side: the slot page, the ring (its data
 * twice) and the function table, contiguous at @base, ses_slot_map_size()
 * bytes.  @fixed: map over what is at @fixed (a forked child).
 */
struct ses_map {
	char *base;
	struct ses_slot *slot;
	void *ring_base;	/* for ringbuf_init() */
	struct ses_func *funcs;
	char *names;
};

uint64_t ses_slot_map_size(const struct ses_geom *g);
int ses_slot_map(struct ses_map *m, const struct ses_geom *g, int fd,
		 uint32_t idx, void *fixed);
void ses_slot_unmap(struct ses_map *m, const struct ses_geom *g);

#endif /* FTRAMP_AGENT_SESSION_H */
