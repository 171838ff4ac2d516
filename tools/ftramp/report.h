/* SPDX-License-Identifier: MIT */
/*
 * ftramp run's output: the events of every traced process, read from the
 * session file, formatted into the trace (text or Chrome JSON), then the
 * histograms, counts and what was lost, per process.
 */
#ifndef FTRAMP_TOOLS_REPORT_H
#define FTRAMP_TOOLS_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/session.h"

struct report_opts {
	const char *output;	/* NULL: stderr; %p: one file per process */
	bool chrome;
	bool trace;		/* -t given: the text trace has a header */
	bool verbose;
};

/* Open the output (when it names no %p); -errno, said. */
int report_init(const struct report_opts *o, const struct ses_header *h);

/*
 * A live process slot to read from: its events go to the output as they
 * come (report_drain()), its counts when it ends.
 */
struct rproc;
struct rproc *report_proc_add(const struct ses_geom *g, uint32_t idx,
			      struct ses_map *m);
/* Read and format what its ring holds; true when anything was read. */
bool report_drain(struct rproc *p);
pid_t report_proc_pid(const struct rproc *p);

/* Whether some process's slot has SES_SLOT_* @flag set. */
bool report_any_slot_flag(uint32_t flag);

/* Where output that belongs to no one process goes (BPF maps, rings). */
FILE *report_out(void);

/*
 * How the run ended, for every process: the command's own child @pid
 * with wait() @status; the others exited or exec'd.  Closes every frame
 * left open, writes the reports, closes the outputs; 0 or 1 when some
 * output could not be written.
 */
int report_finish(pid_t pid, int status);

#endif /* FTRAMP_TOOLS_REPORT_H */
