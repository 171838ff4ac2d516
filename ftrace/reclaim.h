/* SPDX-License-Identifier: MIT */
/*
 * Test hooks of the reclaimer (ftrace/reclaim.c); the interface the
 * other layers use is in ftrace/ftrace.h.
 */
#ifndef FTRAMP_FTRACE_RECLAIM_H
#define FTRAMP_FTRACE_RECLAIM_H

/* The steps of one reclaim_poll() (the argument at the top of reclaim.c). */
enum reclaim_phase {
	RECLAIM_PHASE_READ,	/* some candidate's counter read zero */
	RECLAIM_PHASE_SCANNED,	/* S1: every thread seen outside */
	RECLAIM_PHASE_COUNTED,	/* C: the counters read zero after S1 */
};

/*
 * Call hook(phase) after each step, with the reclaimer's lock held (it
 * must not call back into the reclaimer).  NULL removes it.  For tests
 * that move a thread between the steps.
 */
void reclaim_set_test_hook(void (*hook)(enum reclaim_phase phase));

/* The scan signal, once a scan installed it (0 before). */
int reclaim_scan_signal(void);

#endif /* FTRAMP_FTRACE_RECLAIM_H */
