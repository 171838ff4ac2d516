/* SPDX-License-Identifier: MIT */
/*
 * The ftramp preload agent: shared declarations of agent.c (configuration,
 * attach), slot.c (the process's place in the session file) and event.c
 * (the programs that run at each traced call, and the events they write).
 */
#ifndef FTRAMP_AGENT_AGENT_H
#define FTRAMP_AGENT_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include <ftramp/ftramp.h>

#include "lib/peek.h"

#include "hist.h"
#include "session.h"


/* One traced function; the attach cookie is its index (agent_func()). */
struct afunc {
	char *name;
	unsigned int what;		/* enum afunc_what */
	bool has_model;
	struct ftramp_func_model model;
	char params[FTRAMP_MAX_ARGS][FTRAMP_PARAM_NAME_MAX];
	int arg_off[FTRAMP_MAX_ARGS];	/* first ctx slot of each argument */
	int nr_ctx_args;		/* the result is at ctx[nr_ctx_args] */
	uint64_t override;		/* AF_OVERRIDE: the forced result */
	struct ftramp_link *links[5];	/* per enum ftramp_attach_kind */
	/* counts and histograms: agent_sfuncs[] at the same index */
};

struct agent_config {
	unsigned int strlen_cap;
	unsigned int hexdump;		/* bytes shown behind data pointers */
	bool verbose;
	bool follow;			/* exec'd programs are traced too */
};

/*
 * The functions, in blocks that never move: handlers read them from any
 * thread while a library the program loads adds more (agent.c, "Later
 * loads").
 */
#define AGENT_BLOCK	64
#define AGENT_BLOCKS	1024
extern struct afunc *agent_blocks[AGENT_BLOCKS];

static inline struct afunc *agent_func(unsigned int i)
{
	return &agent_blocks[i / AGENT_BLOCK][i % AGENT_BLOCK];
}
extern unsigned int agent_nr_funcs;
extern struct agent_config agent_cfg;

/* slot.c: the session file (session.h), mapped before anything attaches */
struct ringbuf;
extern struct ses_func *agent_sfuncs;	/* this process's ses_func[] */
extern struct ringbuf agent_ring;
/* Map the session named by FTRAMP_SESSION and claim a slot; 0 or -errno. */
int slot_open(const char *path);
/* Whether another process of the session claimed a slot before us. */
bool slot_follower(void);
/*
 * Ask the ftramp process for the site-and-model table of the object at
 * @path (loaded after the start), waiting a bounded time: an open
 * descriptor of the session file (close it) and the table's place in it,
 * or -ENOENT (none, or no session slot) or -ETIMEDOUT.  Fault point
 * "table_request" (lib/fault_inject.h): the table does not arrive.
 */
int slot_table_request(const char *path, uint64_t *off, uint64_t *size);
/*
 * Publish functions @first on (names, what), then their number, and mark
 * the slot live; -E2BIG when the slot has no room for them.
 */
int slot_publish(unsigned int first);
/* Set SES_SLOT_* @flags in this process's slot, for the ftramp process. */
void slot_set_flags(uint32_t flags);

/*
 * table.c: the site-and-model table the ftramp process put in the
 * session file (ftrace/site_table.h): map it (0 when @size is 0), and a
 * site's model from it: 0, -ENOENT when the table does not cover the
 * site's object, or why it has no model.
 */
int table_map(int fd, uint64_t off, uint64_t size);
struct ftramp_site;
int table_model(const struct ftramp_site *site,
		struct ftramp_func_model *model,
		char (*names)[FTRAMP_PARAM_NAME_MAX]);

/*
 * select.c: what a GLOB selects (libsel.h).  @find is the glob for
 * ftramp_sites__find(), a superset when the GLOB names a library by
 * another of its names; select_match() then decides.
 */
struct asel {
	char *glob;		/* as given */
	char *find;		/* glob, or "FUNC@*" */
	char *func;		/* the FUNC part when there is a LIB part */
	const char *lib;	/* in glob, after its last '@'; NULL: none */
};
struct ftramp_site_info;
int select_init(struct asel *s, const char *glob);
bool select_match(const struct asel *s, const struct ftramp_site_info *info);
/* -N/--notrace: FTRAMP_NOTRACE's globs; whether they take @info out. */
int select_notrace_init(void);
bool select_excluded(const struct ftramp_site_info *info);
/* agent.c: say why (on stderr, "ftramp: " first), and end the program. */
void agent_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void agent_die(void) __attribute__((noreturn));

/* bpf.c: load and attach the -e objects (FTRAMP_BPF); fatal on failure. */
void agent_bpf_init(void);
/*
 * bpf.c: whether a program of an -e object targets function @name
 * (FUNC or FUNC@LIB, as the agent names it), and (*fmod_ret) whether one
 * of them is an fmod_ret program; the objects' sections are read once,
 * before anything is attached.
 */
bool agent_bpf_targets(const char *name, bool *fmod_ret);

/* slot.c: the session's header, and a new descriptor of its file. */
const struct ses_header *slot_header(void);
int slot_session_fd(void);

/* exec.c: read FTRAMP_EXEC_* before the environment is cleaned. */
void exec_init(void);

/* event.c */
void event_init(void);
void event_atfork_child(void);
uint64_t event_entry(const uint64_t *ctx);
uint64_t event_exit(const uint64_t *ctx);
uint64_t event_override(const uint64_t *ctx);
/*
 * --hist with --override and without -t (a FTRAMP_HIST link cannot share
 * a function with programs): timestamp into the session cookie, bucket
 * at exit.
 */
uint64_t hist_entry(const uint64_t *ctx);
uint64_t hist_exit(const uint64_t *ctx);
/* Write all of buf to fd, whatever write() returns in between. */
void write_all(int fd, const char *buf, size_t len);
/* "ftramp: ...\n" on stderr, as the agent says what it does. */
void agent_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t now_ns(void);

/* Fault-safe reads: lib/peek.h. */

#endif /* FTRAMP_AGENT_AGENT_H */
