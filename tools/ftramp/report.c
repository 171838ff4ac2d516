// SPDX-License-Identifier: MIT
/*
 * ftramp run's output, made in the ftramp process from the session file
 * (agent/session.h): the agents only record.
 *
 * Each process slot has a ring of events (entry with the arguments as
 * text, exit with the result as text).  Per thread we keep the stack of
 * calls entered and not returned, which is what the text trace needs to
 * indent and to print a call with no traced callee on one line (its entry
 * line waits until a callee starts or it returns), and what is left when
 * a process dies inside traced calls: those frames are closed in every
 * output (a Chrome "E" event, a text closing line saying why) and listed
 * on standard error per thread.
 *
 * Text output, one line per event (like uftrace's replay):
 *
 *	  0.001234  12346             worker_main(arg=0xffff9b7fe9d8) {
 *	  0.001300  12346   12.500 us   kv_put(kv=0x..., key="s0.0", value=1.5) = 0;
 *	  0.002001  12346  767.000 us } = 0; // worker_main
 *
 * Chrome trace event format: one JSON object per line, each ending in a
 * comma; the file ends with one process_name metadata event per process
 * and "]}".
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "lib/ringbuf.h"
#include "agent/fmt.h"
#include "cli.h"
#include "report.h"

#define LINE_MAX_LEN	1024
#define MAX_DEPTH	4096	/* per thread; deeper calls are not shown */
#define MAX_INDENT	100	/* levels drawn; deeper lines say theirs */

struct rframe {
	uint64_t ts;
	uint64_t key;		/* its ctx address (struct ses_event) */
	uint32_t func;
	bool printed;		/* the entry line is out */
	uint16_t args_len;
	char *args;
};

struct rthread {
	uint32_t tid;
	uint32_t depth, cap;
	uint32_t over;		/* entries past MAX_DEPTH, not stored */
	struct rframe *frames;
};

struct rout {
	FILE *f;
	char *path;		/* NULL: stderr */
	bool chrome;
	bool failed;
	pid_t *pids;		/* processes with events here (Chrome) */
	size_t nr_pids;
};

struct rproc {
	const struct ses_geom *g;
	uint32_t idx;
	pid_t pid;
	char prog[sizeof(((struct ses_slot *)0)->prog)];
	struct ses_map m;
	struct ringbuf rb;
	uint32_t nr_funcs;
	char **names;
	uint32_t *what;
	struct rthread *thr;
	size_t nr_thr;
	struct rout *out;
	uint64_t lost;		/* unmatched exits, too deep */
	bool bad;		/* the ring could not be read */
};

static struct report_opts opts;
static const struct ses_header *hdr;
static uint64_t t0;
static struct rproc **procs;
static size_t nr_procs;
static struct rout shared_out;	/* the output when it names no %p */
static struct rout **outs;
static size_t nr_outs;

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		pr_err("out of memory");
		exit(1);
	}
	return p;
}

/* ---------------------------------------------------------------------
 * Outputs
 * --------------------------------------------------------------------- */

static void out_put(struct rout *o, const char *buf, size_t len)
{
	if (fwrite(buf, 1, len, o->f) != len)
		o->failed = true;
}

static int out_open(struct rout *o, const char *path)
{
	static const char chrome_hdr[] =
		"{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
	static const char text_hdr[] =
		"#   TIME(s)     TID     DURATION  FUNCTION\n";

	o->chrome = opts.chrome;
	if (path) {
		o->path = strdup(path);
		o->f = fopen(path, "w");
		if (!o->f) {
			int err = -errno;

			pr_err("%s: %s", path, strerror(errno));
			return err;
		}
	} else {
		o->f = stderr;
	}
	if (o->chrome)
		out_put(o, chrome_hdr, sizeof(chrome_hdr) - 1);
	else if (opts.trace)
		out_put(o, text_hdr, sizeof(text_hdr) - 1);
	outs = xrealloc(outs, (nr_outs + 1) * sizeof(*outs));
	outs[nr_outs++] = o;
	return 0;
}

/* -o with %p: FILE with each %p the pid (and %% a %). */
static char *expand_pid(const char *pattern, pid_t pid)
{
	size_t len = strlen(pattern) + 1, n = 0;
	char *s = NULL;
	const char *p;

	for (p = pattern; *p; p++) {
		s = xrealloc(s, n + len + 16);
		if (p[0] == '%' && p[1] == 'p') {
			n += sprintf(s + n, "%d", (int)pid);
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			s[n++] = '%';
			p++;
		} else {
			s[n++] = *p;
		}
	}
	s = xrealloc(s, n + 1);
	s[n] = 0;
	return s;
}

static bool per_process(void)
{
	return opts.output && strstr(opts.output, "%p");
}

int report_init(const struct report_opts *o, const struct ses_header *h)
{
	opts = *o;
	hdr = h;
	if (per_process())
		return 0;
	return out_open(&shared_out, opts.output);
}

static struct rout *out_for(struct rproc *p)
{
	struct rout *o;
	char *path;

	if (!per_process())
		return &shared_out;
	o = calloc(1, sizeof(*o));
	if (!o)
		return &shared_out;
	path = expand_pid(opts.output, p->pid);
	if (out_open(o, path)) {
		free(o);
		o = &shared_out;
		/* the shared output may not be open: stderr then */
		if (!o->f && out_open(o, NULL))
			exit(1);
	}
	free(path);
	return o;
}

/* Where the histograms and counts go: the text output, or stderr. */
static FILE *report_file(struct rproc *p)
{
	return p->out->chrome ? stderr : p->out->f;
}

/* ---------------------------------------------------------------------
 * Processes and threads
 * --------------------------------------------------------------------- */

static const char *func_name(const struct rproc *p, uint32_t func)
{
	return func < p->nr_funcs ? p->names[func] : "?";
}

/*
 * The functions the slot has published since we last looked (a library
 * loaded later adds some).  The slot is the program's memory too: trust
 * no offset.
 */
static void proc_refresh(struct rproc *p)
{
	const struct ses_geom *g = p->g;
	uint32_t i, nr = __atomic_load_n(&p->m.slot->nr_funcs,
					 __ATOMIC_ACQUIRE);

	if (nr > g->max_funcs)
		nr = g->max_funcs;
	if (nr <= p->nr_funcs)
		return;
	p->names = xrealloc(p->names, nr * sizeof(*p->names));
	p->what = xrealloc(p->what, nr * sizeof(*p->what));
	for (i = p->nr_funcs; i < nr; i++) {
		uint32_t off = p->m.funcs[i].name_off;

		p->what[i] = p->m.funcs[i].what;
		if (off >= g->names_size)
			p->names[i] = strdup("?");
		else
			p->names[i] = strndup(p->m.names + off,
					      g->names_size - off);
		if (!p->names[i]) {
			pr_err("out of memory");
			exit(1);
		}
	}
	p->nr_funcs = nr;
}

struct rproc *report_proc_add(const struct ses_geom *g, uint32_t idx,
			      struct ses_map *m)
{
	struct rproc *p = calloc(1, sizeof(*p));
	const struct ses_slot *s = m->slot;

	if (!p)
		return NULL;
	/*
	 * Time 0: the first agent's start (slot.c), published with its
	 * slot, which we read with acquire before we came here.
	 */
	if (!nr_procs)
		t0 = __atomic_load_n(&hdr->t0, __ATOMIC_RELAXED);
	p->g = g;
	p->idx = idx;
	p->m = *m;
	p->pid = s->pid;
	memcpy(p->prog, s->prog, sizeof(p->prog));
	p->prog[sizeof(p->prog) - 1] = 0;
	proc_refresh(p);
	if (ringbuf_init(&p->rb, m->ring_base, g->ring_size, g->page))
		p->bad = true;
	p->out = out_for(p);
	procs = xrealloc(procs, (nr_procs + 1) * sizeof(*procs));
	procs[nr_procs++] = p;
	return p;
}

/*
 * A thread's open calls.  An entry with none is anybody's: a server that
 * starts a thread per request for hours keeps as many entries as it had
 * threads inside traced calls at once, not one per thread it ever ran.
 */
static struct rthread *thread_get(struct rproc *p, uint32_t tid)
{
	struct rthread *idle = NULL;
	size_t i;

	for (i = 0; i < p->nr_thr; i++) {
		if (p->thr[i].tid == tid)
			return &p->thr[i];
		if (!idle && !p->thr[i].depth && !p->thr[i].over)
			idle = &p->thr[i];
	}
	if (idle) {
		idle->tid = tid;
		return idle;
	}
	p->thr = xrealloc(p->thr, (p->nr_thr + 1) * sizeof(*p->thr));
	memset(&p->thr[p->nr_thr], 0, sizeof(p->thr[0]));
	p->thr[p->nr_thr].tid = tid;
	return &p->thr[p->nr_thr++];
}

/* ---------------------------------------------------------------------
 * Lines
 * --------------------------------------------------------------------- */

struct line {
	char buf[LINE_MAX_LEN + 8];
	struct fbuf b;
};

static void line_init(struct line *l)
{
	/* room for "...\n" after a truncated line */
	fb_init(&l->b, l->buf, LINE_MAX_LEN - 4);
}

static void line_out(struct rout *o, struct line *l)
{
	if (l->b.trunc) {
		memcpy(l->b.buf + l->b.len, "...", 3);
		l->b.len += 3;
	}
	l->b.buf[l->b.len++] = '\n';
	out_put(o, l->b.buf, l->b.len);
}

/* Time, thread id and duration columns. */
static void line_start(struct fbuf *b, uint64_t ts, uint32_t tid,
		       uint64_t dur_ns, bool has_dur)
{
	char tmp[32];
	struct fbuf d;

	fb_pad(b, ' ', 1);
	if (ts < t0)
		ts = t0;
	fb_u64_w(b, (ts - t0) / 1000000000ull, 3);
	fb_putc(b, '.');
	fb_init(&d, tmp, sizeof(tmp));
	fb_u64(&d, 1000000 + (ts - t0) % 1000000000ull / 1000);
	fb_putn(b, tmp + 1, 6);		/* microseconds, zero-padded */
	fb_putc(b, ' ');
	fb_u64_w(b, tid, 7);
	fb_putc(b, ' ');
	fb_init(&d, tmp, sizeof(tmp));
	if (has_dur)
		fb_duration(&d, dur_ns);
	fb_pad(b, ' ', 12 - (int)d.len);
	fb_putn(b, tmp, d.len);
	fb_puts(b, "  ");
}

/*
 * Two columns per level of nesting, up to MAX_INDENT levels; a line
 * deeper than that is drawn at MAX_INDENT and says its level, "[150] ",
 * so that a deep recursion does not push the function name past the
 * end of the line.
 */
static void indent(struct fbuf *b, uint32_t d)
{
	if (d <= MAX_INDENT) {
		fb_pad(b, ' ', 2 * d);
		return;
	}
	fb_pad(b, ' ', 2 * MAX_INDENT);
	fb_putc(b, '[');
	fb_u64(b, d);
	fb_puts(b, "] ");
}

static void text_entry(struct rproc *p, struct rthread *t, uint32_t d)
{
	struct rframe *fr = &t->frames[d];
	struct line l;

	line_init(&l);
	line_start(&l.b, fr->ts, t->tid, 0, false);
	indent(&l.b, d);
	fb_puts(&l.b, func_name(p, fr->func));
	fb_putn(&l.b, fr->args, fr->args_len);
	fb_puts(&l.b, " {");
	line_out(p->out, &l);
	fr->printed = true;
}

/* The exit of frame @d: one line for a leaf, a closing line otherwise. */
static void text_exit(struct rproc *p, struct rthread *t, uint32_t d,
		      uint64_t now, const char *ret, size_t ret_len)
{
	struct rframe *fr = &t->frames[d];
	struct line l;

	line_init(&l);
	if (!fr->printed) {
		line_start(&l.b, fr->ts, t->tid, now - fr->ts, true);
		indent(&l.b, d);
		fb_puts(&l.b, func_name(p, fr->func));
		fb_putn(&l.b, fr->args, fr->args_len);
		fb_putn(&l.b, ret, ret_len);
		fb_putc(&l.b, ';');
	} else {
		line_start(&l.b, now, t->tid, now - fr->ts, true);
		indent(&l.b, d);
		fb_putc(&l.b, '}');
		fb_putn(&l.b, ret, ret_len);
		fb_puts(&l.b, "; // ");
		fb_puts(&l.b, func_name(p, fr->func));
	}
	line_out(p->out, &l);
}

static void chrome_note_pid(struct rout *o, pid_t pid)
{
	size_t i;

	for (i = 0; i < o->nr_pids; i++)
		if (o->pids[i] == pid)
			return;
	o->pids = xrealloc(o->pids, (o->nr_pids + 1) * sizeof(*o->pids));
	o->pids[o->nr_pids++] = pid;
}

static void chrome_event(struct rproc *p, uint32_t tid, uint32_t func,
			 char ph, uint64_t ts, const char *key,
			 const char *val, size_t val_len)
{
	char tmp[LINE_MAX_LEN];
	struct line l;

	if (ts < t0)
		ts = t0;
	chrome_note_pid(p->out, p->pid);
	line_init(&l);
	fb_puts(&l.b, "{\"name\":\"");
	fb_json(&l.b, func_name(p, func));
	fb_puts(&l.b, "\",\"cat\":\"ftramp\",\"ph\":\"");
	fb_putc(&l.b, ph);
	fb_puts(&l.b, "\",\"ts\":");
	fb_fixed(&l.b, (double)(ts - t0) / 1000.0, 3);
	fb_puts(&l.b, ",\"pid\":");
	fb_u64(&l.b, p->pid);
	fb_puts(&l.b, ",\"tid\":");
	fb_u64(&l.b, tid);
	if (val_len) {
		if (val_len >= sizeof(tmp))
			val_len = sizeof(tmp) - 1;
		memcpy(tmp, val, val_len);
		tmp[val_len] = 0;
		fb_puts(&l.b, ",\"args\":{\"");
		fb_puts(&l.b, key);
		fb_puts(&l.b, "\":\"");
		fb_json(&l.b, tmp);
		fb_puts(&l.b, "\"}");
	}
	fb_puts(&l.b, "},");
	if (l.b.trunc) {
		/* never write half an object: drop the arguments instead */
		chrome_event(p, tid, func, ph, ts, NULL, NULL, 0);
		return;
	}
	l.b.buf[l.b.len++] = '\n';
	out_put(p->out, l.b.buf, l.b.len);
}

/* ---------------------------------------------------------------------
 * Events
 * --------------------------------------------------------------------- */

static void frame_pop(struct rthread *t)
{
	free(t->frames[--t->depth].args);
}

/* Chrome: close frame @d (and what was above it) at @ts. */
static void chrome_close(struct rproc *p, struct rthread *t, uint64_t ts,
			 const char *key, const char *val)
{
	chrome_event(p, t->tid, t->frames[t->depth - 1].func, 'E', ts, key,
		     val, strlen(val));
}

/* Close the top frame, whose exit never came, as unwound at @ts. */
static void close_unwound(struct rproc *p, struct rthread *t, uint64_t ts)
{
	if (p->out->chrome)
		chrome_close(p, t, ts, "unwound", "1");
	else
		text_exit(p, t, t->depth - 1, ts, " unwound", 8);
	frame_pop(t);
}

/*
 * Which open calls are over.  The runtime reports the exit of every
 * call, abandoned ones too (longjmp, unwinding: unwound), except one
 * whose report its recursion guard skipped and one it could not record
 * (shadow stack full, about 10900 hooked calls deep: the return hook
 * runs the body untraced after the entry went out); and the ring may
 * drop events.  Left open, such a call would nest every later line of
 * its thread one level deeper, and enough of them would stop the trace.
 *
 * A call is known by its key, its ctx address: the trampoline builds its
 * frame at the caller's SP, at entry and again on the way out (a return
 * hook's stub builds the same frame at the same SP), and one function's
 * image has one frame size, so of two calls of one function the deeper
 * has the lower key (the stack grows down, AAPCS64 6.4.5.1: the rule the
 * runtime applies to its shadow records, Documentation/trampoline.rst,
 * "Shadow stack").  So:
 *
 *  - an exit ends the topmost open call of its function and key; every
 *    call above it, stored or past MAX_DEPTH, is over (on_exit_ev());
 *  - an entry ends the top call when it is of the same function at the
 *    same or a shallower stack position: that cannot be its caller
 *    (close_stale()).  Two exceptions, where the call is closed early as
 *    unwound and its real exit counted unmatched: a hooked function that
 *    tail-calls itself through a pointer (same key), and a signal
 *    handler on an alternate stack above the thread's that calls the
 *    function open at the top.
 *  - an unwound report (key 0) ends the innermost open call: the
 *    runtime reports abandoned frames innermost first.
 */
static void close_stale(struct rproc *p, struct rthread *t,
			const struct ses_event *ev)
{
	while (t->depth && t->frames[t->depth - 1].func == ev->func &&
	       t->frames[t->depth - 1].key <= ev->key)
		close_unwound(p, t, ev->ts);
}

static void on_entry(struct rproc *p, const struct ses_event *ev)
{
	struct rthread *t = thread_get(p, ev->tid);
	struct rframe *fr;

	if (!t->over)
		close_stale(p, t, ev);
	if (t->over || t->depth >= MAX_DEPTH) {
		t->over++;
		p->lost++;
		return;
	}
	if (t->depth == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->frames = xrealloc(t->frames, t->cap * sizeof(*t->frames));
	}
	/* the parent has a traced callee: its entry line goes out now */
	if (!p->out->chrome && t->depth && !t->frames[t->depth - 1].printed)
		text_entry(p, t, t->depth - 1);
	fr = &t->frames[t->depth++];
	fr->ts = ev->ts;
	fr->key = ev->key;
	fr->func = ev->func;
	fr->printed = false;
	fr->args_len = ev->text_len;
	fr->args = xrealloc(NULL, ev->text_len + 1);
	memcpy(fr->args, ev->text, ev->text_len);
	if (p->out->chrome)
		chrome_event(p, t->tid, ev->func, 'B', ev->ts, "args",
			     fr->args, fr->args_len);
}

static void on_exit_ev(struct rproc *p, const struct ses_event *ev)
{
	struct rthread *t = thread_get(p, ev->tid);
	bool unwound = ev->flags & SES_EV_UNWOUND;
	const char *ret = ev->text;
	size_t ret_len = ev->text_len;
	uint32_t i;

	if (unwound && t->over) {
		/* the innermost open call is one not stored */
		t->over--;
		return;
	}
	for (i = t->depth; i > 0; i--) {
		const struct rframe *fr = &t->frames[i - 1];

		if (fr->func == ev->func && (unwound || fr->key == ev->key))
			break;
	}
	if (!i) {
		/* a call past MAX_DEPTH, or one whose entry was not seen */
		if (t->over)
			t->over--;
		else
			p->lost++;
		return;
	}
	/* Every call above it is over (see close_stale()). */
	t->over = 0;
	while (t->depth > i)
		close_unwound(p, t, ev->ts);
	if (p->out->chrome) {
		if (unwound) {
			chrome_close(p, t, ev->ts, "unwound", "1");
		} else {
			/* " = value" -> "value" */
			chrome_event(p, t->tid, ev->func, 'E', ev->ts, "ret",
				     ret_len > 3 ? ret + 3 : "",
				     ret_len > 3 ? ret_len - 3 : 0);
		}
	} else {
		text_exit(p, t, i - 1, ev->ts, ret, ret_len);
	}
	frame_pop(t);
}

/* A BPF program's bpf_trace_printk() line (agent/bpf.c). */
static void on_printk(struct rproc *p, const struct ses_event *ev)
{
	struct line l;

	line_init(&l);
	line_start(&l.b, ev->ts, ev->tid, 0, false);
	fb_puts(&l.b, "bpf_trace_printk: ");
	fb_putn(&l.b, ev->text, ev->text_len);
	if (p->out->chrome) {
		/* not a trace event: beside the JSON, not in it */
		l.b.buf[l.b.len++] = '\n';
		fwrite(l.b.buf, 1, l.b.len, stderr);
		return;
	}
	line_out(p->out, &l);
}

static int on_sample(void *ctx, void *sample, uint32_t len)
{
	struct rproc *p = ctx;
	const struct ses_event *ev = sample;

	if (len >= sizeof(*ev) && ev->type == SES_EV_PRINTK &&
	    ev->text_len <= len - sizeof(*ev)) {
		on_printk(p, ev);
		return 0;
	}

	if (len >= sizeof(*ev) && ev->func >= p->nr_funcs)
		proc_refresh(p);
	if (len < sizeof(*ev) || ev->text_len > len - sizeof(*ev) ||
	    ev->func >= p->nr_funcs) {
		p->lost++;
		return 0;
	}
	if (ev->type == SES_EV_ENTRY)
		on_entry(p, ev);
	else if (ev->type == SES_EV_EXIT)
		on_exit_ev(p, ev);
	else
		p->lost++;
	return 0;
}

pid_t report_proc_pid(const struct rproc *p)
{
	return p->pid;
}

bool report_drain(struct rproc *p)
{
	long n;

	if (p->bad)
		return false;
	n = ringbuf_consume(&p->rb, on_sample, p);
	if (n < 0) {
		pr_warn("pid %d: the event ring is corrupt: events from here on are not shown",
			(int)p->pid);
		p->bad = true;
		return false;
	}
	if (n)
		fflush(p->out->f);
	return n > 0;
}

/* ---------------------------------------------------------------------
 * The end
 * --------------------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static const char *sig_name(int sig, char *buf, size_t size)
{
	const char *abbr = sigabbrev_np(sig);

	if (abbr)
		snprintf(buf, size, "SIG%s", abbr);
	else
		snprintf(buf, size, "signal %d", sig);
	return buf;
}

/*
 * Close every frame a process left open, in its output, with @why
 * ("killed by SIGSEGV", "exit(3)", "exec"); when it was killed (@say),
 * list them on stderr, per thread, outermost first.
 */
static void close_frames(struct rproc *p, const char *why, uint64_t end,
			 bool say)
{
	size_t i;

	for (i = 0; i < p->nr_thr; i++) {
		struct rthread *t = &p->thr[i];
		uint32_t d;

		if (!t->depth)
			continue;
		if (say) {
			fprintf(stderr, "%s:   thread %u, entered and not returned:",
				prog_name, t->tid);
			for (d = 0; d < t->depth; d++)
				fprintf(stderr, "%s %s", d ? " >" : "",
					func_name(p, t->frames[d].func));
			fputc('\n', stderr);
		}
		while (t->depth) {
			d = t->depth - 1;
			if (p->out->chrome) {
				chrome_close(p, t, end, "ended", why);
			} else {
				char ret[96];

				snprintf(ret, sizeof(ret), " %s", why);
				text_exit(p, t, d, end, ret, strlen(ret));
			}
			frame_pop(t);
		}
	}
}

static void dur_text(uint64_t ns, char *buf, size_t size)
{
	struct fbuf b;

	fb_init(&b, buf, size);
	fb_duration(&b, ns);
	fb_str(&b);
}

/* What a table of log2 buckets shows: first and last non-empty (-1: none). */
struct hist_span {
	uint64_t n, max;
	int first, last;
};

/* Copy @nr buckets from shared memory into @hist and measure them. */
static struct hist_span hist_load(uint64_t *hist, const uint64_t *src, int nr)
{
	struct hist_span sp = { .first = -1, .last = -1 };

	for (int i = 0; i < nr; i++) {
		hist[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
		sp.n += hist[i];
		if (hist[i] > sp.max)
			sp.max = hist[i];
		if (hist[i] && sp.first < 0)
			sp.first = i;
		if (hist[i])
			sp.last = i;
	}
	return sp;
}

/*
 * "NAME: N calls[, U unwound ...]": false (the line ended) when no call
 * was timed, so there is no table.
 */
static bool hist_head(FILE *f, const char *name, const struct hist_span *sp,
		      uint64_t unwound)
{
	fprintf(f, "\n%s: %llu calls", name,
		(unsigned long long)(sp->n + unwound));
	/* no duration: its entry time went with its frame */
	if (unwound)
		fprintf(f, ", %llu unwound (not timed, not below)",
			(unsigned long long)unwound);
	if (!sp->n)
		fputc('\n', f);
	return sp->n;
}

static void hist_table_head(FILE *f, const char *unit)
{
	fprintf(f, "%24s : %-9s %s\n", unit, "count", "distribution");
}

/* One bucket's line, its bar scaled to the largest bucket @max. */
static void hist_row(FILE *f, uint64_t from, uint64_t to, uint64_t count,
		     uint64_t max)
{
	int w = (int)(count * 40 / max);
	char bar[41];

	memset(bar, '*', w);
	memset(bar + w, ' ', 40 - w);
	bar[40] = 0;
	fprintf(f, "%11llu -> %-10llu : %-9llu |%s|\n",
		(unsigned long long)from, (unsigned long long)to,
		(unsigned long long)count, bar);
}

/* funclatency-style log2 histogram in nanoseconds. */
static void report_hist(FILE *f, const char *name, const struct hist_stat *hs)
{
	uint64_t hist[HIST_BUCKETS];
	struct hist_span sp = hist_load(hist, hs->hist, HIST_BUCKETS);
	char avg[32], lo[32], hi[32];

	if (!hist_head(f, name, &sp,
		       __atomic_load_n(&hs->unwound, __ATOMIC_RELAXED)))
		return;
	dur_text(hs->total_ns / sp.n, avg, sizeof(avg));
	dur_text(hs->min_ns, lo, sizeof(lo));
	dur_text(hs->max_ns, hi, sizeof(hi));
	fprintf(f, ", avg %s, min %s, max %s\n", avg, lo, hi);
	hist_table_head(f, "nsecs");
	for (int i = sp.first; i <= sp.last; i++)
		hist_row(f, i ? 1ull << i : 0, (1ull << (i + 1)) - 1, hist[i],
			 sp.max);
}

/* @ticks of a clock of @freq per second in ns, saturated. */
static uint64_t ticks_ns(unsigned __int128 ticks, uint64_t freq)
{
	unsigned __int128 ns = ticks * 1000000000u / freq;

	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

/*
 * A FTRAMP_HIST link's histogram (ses_func.ticks): bucket 0 for calls
 * shorter than one tick, bucket b for 2^(b-1) to 2^b - 1 ticks, each
 * shown as the nanoseconds it spans, in the same table as
 * report_hist()'s.  The buckets are all the trampoline keeps: no total,
 * so no average, and min and max are known to their bucket.  Without the
 * clock's frequency (0: unreadable), the table is in ticks.
 */
static void report_ticks(FILE *f, const char *name,
			 const struct ses_func *sf, uint64_t freq)
{
	uint64_t hist[SES_TICK_BUCKETS];
	struct hist_span sp = hist_load(hist, sf->ticks, SES_TICK_BUCKETS);
	char lo[32], hi[32];

	if (!hist_head(f, name, &sp,
		       __atomic_load_n(&sf->hs.unwound, __ATOMIC_RELAXED)))
		return;
	if (freq) {
		/* the first bucket's lower bound, the last one's upper */
		dur_text(sp.first ? ticks_ns((unsigned __int128)1 <<
					     (sp.first - 1), freq) : 0,
			 lo, sizeof(lo));
		dur_text(ticks_ns((unsigned __int128)1 << sp.last, freq), hi,
			 sizeof(hi));
		fprintf(f, ", min >= %s, max < %s", lo, hi);
	}
	fputc('\n', f);
	hist_table_head(f, freq ? "nsecs" : "ticks");
	for (int i = sp.first; i <= sp.last; i++) {
		/* ticks [2^(i-1), 2^i), as 128-bit: 2^64 included */
		unsigned __int128 lo_t = i ? (unsigned __int128)1 << (i - 1) : 0;
		unsigned __int128 hi_t = (unsigned __int128)1 << i;
		uint64_t from = (uint64_t)lo_t, to = (uint64_t)(hi_t - 1);

		if (freq) {
			from = ticks_ns(lo_t, freq);
			to = ticks_ns(hi_t, freq);
			to = to > from ? to - 1 : from;
		}
		hist_row(f, from, to, hist[i], sp.max);
	}
}

struct count_row {
	uint64_t calls;
	const char *name;
};

static int count_cmp(const void *a, const void *b)
{
	const struct count_row *x = a, *y = b;

	if (x->calls != y->calls)
		return x->calls < y->calls ? 1 : -1;
	return strcmp(x->name, y->name);
}

static void report_counts(FILE *f, struct rproc *p)
{
	struct count_row *v = xrealloc(NULL, (p->nr_funcs + 1) * sizeof(*v));
	uint32_t i, n = 0;

	for (i = 0; i < p->nr_funcs; i++) {
		if (!(p->what[i] & AF_COUNT))
			continue;
		v[n].calls = __atomic_load_n(&p->m.funcs[i].calls,
					     __ATOMIC_RELAXED);
		v[n++].name = p->names[i];
	}
	if (n) {
		uint32_t shown = n;

		qsort(v, n, sizeof(*v), count_cmp);
		/*
		 * Most called first, so the functions never called are
		 * last: with a glob they are most of the list, shown with
		 * -v only.
		 */
		while (!opts.verbose && shown && !v[shown - 1].calls)
			shown--;
		fprintf(f, "\n%12s  %s\n", "CALLS", "FUNCTION");
		for (i = 0; i < shown; i++)
			fprintf(f, "%12llu  %s\n",
				(unsigned long long)v[i].calls, v[i].name);
		if (shown < n)
			fprintf(f, "%12s  (%u more never called: -v lists them)\n",
				"", n - shown);
	}
	free(v);
}

/*
 * Calls whose programs the recursion guard skipped: made while a program
 * of the same function ran on that thread (a signal handler that
 * interrupted it).  The call ran; its line, its histogram entry or its
 * override are what is missing.  Counts and histograms without -t never
 * miss (FTRAMP_COUNT, FTRAMP_HIST).  The trampolines count the misses
 * into the session file: a killed process has them too.
 */
static void report_missed(FILE *f, struct rproc *p)
{
	uint64_t total = 0;
	uint32_t i;

	for (i = 0; i < p->nr_funcs; i++) {
		uint64_t n = p->m.funcs[i].missed;

		if (!n)
			continue;
		if (!total)
			fprintf(f, "\n%12s  %s\n", "MISSED",
				"FUNCTION (calls made while its program ran on the same thread, e.g. from a signal handler: not traced; --count counts them)");
		fprintf(f, "%12llu  %s\n", (unsigned long long)n, p->names[i]);
		total += n;
	}
	if (total && f != stderr)
		fprintf(stderr, "%s: %llu calls missed (see MISSED in the report)\n",
			prog_name, (unsigned long long)total);
}

static void report_proc(struct rproc *p)
{
	FILE *f = report_file(p);
	uint64_t lost = p->lost + ringbuf_dropped(&p->rb);
	uint32_t i;

	proc_refresh(p);
	if (nr_procs > 1 && !per_process()) {
		bool any = false;

		for (i = 0; i < p->nr_funcs; i++)
			any |= p->what[i] & (AF_HIST | AF_COUNT);
		if (any)
			fprintf(f, "\n# pid %d: %s\n", (int)p->pid, p->prog);
	}
	for (i = 0; i < p->nr_funcs; i++) {
		if (!(p->what[i] & AF_HIST))
			continue;
		/* the agent's choice (agent.c, func_setup()) */
		if (p->what[i] & AF_HIST_PAIR)
			report_hist(f, p->names[i], &p->m.funcs[i].hs);
		else
			report_ticks(f, p->names[i], &p->m.funcs[i],
				     p->m.slot->tick_freq);
	}
	report_counts(f, p);
	report_missed(f, p);
	if (p->bad || ringbuf_avail(&p->rb))
		lost++;		/* at least: what follows is unreadable */
	if (lost) {
		static const char msg[] =
			"events not shown (the ring was full, calls nested deeper than 4096, or unmatched returns)";

		fprintf(stderr, "%s: pid %d: %llu %s\n", prog_name,
			(int)p->pid, (unsigned long long)lost, msg);
		if (f != stderr)
			fprintf(f, "\n# %llu %s\n", (unsigned long long)lost,
				msg);
	}
}

static int out_close(struct rout *o)
{
	size_t i;
	int err = 0;

	if (o->chrome) {
		/* the metadata events carry no comma: the last one ends it */
		for (i = 0; i < o->nr_pids; i++)
			fprintf(o->f, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"args\":{\"name\":\"ftramp\"}}%s\n",
				(int)o->pids[i], i + 1 < o->nr_pids ? "," : "");
		if (!o->nr_pids)
			fprintf(o->f, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":0,\"args\":{\"name\":\"ftramp\"}}\n");
		fputs("]}\n", o->f);
		fprintf(stderr, "%s: Chrome trace written to %s (open it in ui.perfetto.dev or chrome://tracing)\n",
			prog_name, o->path ? o->path : "stderr");
	}
	if (fflush(o->f) || o->failed) {
		pr_err("%s: %s", o->path ? o->path : "stderr",
		       strerror(errno ?: EIO));
		err = 1;
	}
	if (o->path)
		fclose(o->f);
	return err;
}

FILE *report_out(void)
{
	return shared_out.f && !shared_out.chrome && !per_process() ?
	       shared_out.f : stderr;
}

bool report_any_slot_flag(uint32_t flag)
{
	for (unsigned int i = 0; i < nr_procs; i++)
		if (__atomic_load_n(&procs[i]->m.slot->flags,
				    __ATOMIC_ACQUIRE) & flag)
			return true;
	return false;
}

int report_finish(pid_t pid, int status)
{
	uint64_t end = now_ns();
	char why[64], sig[32];
	size_t i, j;
	int err = 0;

	if (WIFSIGNALED(status)) {
		const char *prog = "the program";

		for (i = 0; i < nr_procs; i++)
			if (procs[i]->pid == pid)
				prog = procs[i]->prog;
		fprintf(stderr, "%s: %s (pid %d) killed by %s\n", prog_name,
			prog, (int)pid,
			sig_name(WTERMSIG(status), sig, sizeof(sig)));
	}
	for (i = 0; i < nr_procs; i++) {
		struct rproc *p = procs[i];
		bool exec = false;

		for (j = i + 1; j < nr_procs; j++)
			exec |= procs[j]->pid == p->pid;
		if (exec)
			snprintf(why, sizeof(why), "exec");
		else if (p->pid != pid)
			snprintf(why, sizeof(why), "exited");
		else if (WIFSIGNALED(status))
			snprintf(why, sizeof(why), "killed by %s",
				 sig_name(WTERMSIG(status), sig, sizeof(sig)));
		else
			snprintf(why, sizeof(why), "exit(%d)",
				 WEXITSTATUS(status));
		close_frames(p, why, end,
			     p->pid == pid && WIFSIGNALED(status) && !exec);
	}
	for (i = 0; i < nr_procs; i++)
		report_proc(procs[i]);
	if (hdr && hdr->refused)
		fprintf(stderr, "%s: %u processes not traced: the session file has no slot left\n",
			prog_name, hdr->refused);
	for (i = 0; i < nr_outs; i++)
		err |= out_close(outs[i]);
	return err;
}
