// SPDX-License-Identifier: MIT
/*
 * The agent's programs: what runs at the entry and exit of each traced
 * function, and the lines they write.
 *
 * Constraints, because a traced function may run anywhere, including in a
 * signal handler that interrupted another traced call on the same thread:
 *
 *  - no locks and no malloc: per-thread state lives in initial-exec TLS
 *    (reached without calling into ld.so), statistics are relaxed
 *    atomics, text is formatted by fmt.c into stack buffers;
 *  - one write() per line, so lines of different threads never
 *    interleave (write(2) on a pipe is atomic up to PIPE_BUF bytes; lines
 *    are shorter; on files and terminals one write is one line);
 *  - the per-thread frame stack is only ever extended or shrunk at its
 *    top, with compiler barriers ordering each step against a signal
 *    handler on the same thread.  A frame is `valid` only between its
 *    publication and the start of its pop, so a handler that nests above
 *    a half-written frame never reads it: the worst it can do is print a
 *    parent's entry line a little late.
 *
 * Text output, one line per event (like uftrace's replay):
 *
 *	  0.001234  12346             worker_main(arg=0xffff9b7fe9d8) {
 *	  0.001300  12346   12.500 us   kv_put(kv=0x..., key="s0.0", value=1.5) = 0;
 *	  0.002001  12346  767.000 us } = 0; // worker_main
 *
 * A call with no traced callee is printed once, at its exit, on one line;
 * one with traced callees gets an entry line when its first callee starts
 * and a closing line at its exit.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "fmt.h"

#define MAX_DEPTH	64
#define ARGS_TEXT	224
#define LINE_MAX_LEN	1024

struct aframe {
	uint64_t ts;
	uint32_t func;
	uint8_t valid;		/* published, not being popped */
	uint8_t printed;	/* the entry line is out */
	uint8_t traced;		/* AF_TRACE */
	uint8_t indent;		/* traced frames below this one */
	uint16_t args_len;
	char args[ARGS_TEXT];	/* "(a=1, b=\"x\")", formatted at entry */
};

struct athread {
	uint32_t tid;
	uint32_t depth;		/* frames pushed; above MAX_DEPTH not stored */
	struct aframe frames[MAX_DEPTH];
};

static __thread struct athread thr __attribute__((tls_model("initial-exec")));

static uint64_t t0;
static uint64_t lost;
static int pid;
static bool chrome_closed;

#define barrier()	__atomic_signal_fence(__ATOMIC_SEQ_CST)

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * The raw system call, not write(): that is a cancellation point (POSIX
 * 2.9.5.2), and a program run inside a traced function of a thread with
 * a cancel pending would act on it there, half-way through a line and
 * before the function itself reached its own cancellation point.
 */
void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = syscall(SYS_write, fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= n;
	}
}

static uint32_t my_tid(void)
{
	if (!thr.tid)
		thr.tid = syscall(SYS_gettid);
	return thr.tid;
}

/* Called in the child after fork(): it is a new thread. */
static void event_atfork_child(void)
{
	thr.tid = 0;
	pid = getpid();
	/* The parent owns the Chrome file: it writes the closing bracket. */
	chrome_closed = true;
}

void event_init(void)
{
	t0 = now_ns();
	pid = getpid();
	hist_init();
	pthread_atfork(NULL, NULL, event_atfork_child);
}

uint64_t event_lost(void)
{
	return __atomic_load_n(&lost, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------------
 * Values
 * --------------------------------------------------------------------- */

#define PEEK_CHUNK	64

/*
 * A char * argument: at most --strlen bytes as a C string literal, "..."
 * when longer.  Every byte comes through agent_peek(): a pointer into
 * nothing prints as its value and "<unreadable>", a string that runs into
 * an unreadable page as what could be read and "<unreadable>".
 */
static void fmt_string(struct fbuf *b, uint64_t p)
{
	size_t cap = agent_cfg.strlen_cap, off = 0;
	char chunk[PEEK_CHUNK];

	if (!p) {
		fb_puts(b, "NULL");
		return;
	}
	/* cap + 1 bytes at most: the one past the cap tells "longer". */
	for (;;) {
		size_t want = cap + 1 - off, got, len;
		const char *nul;

		if (want > sizeof(chunk))
			want = sizeof(chunk);
		got = agent_peek(chunk, p + off, want);
		if (!off) {
			if (!got) {
				fb_hex(b, p);
				fb_puts(b, " <unreadable>");
				return;
			}
			fb_putc(b, '"');
		}
		nul = memchr(chunk, 0, got);
		len = nul ? (size_t)(nul - chunk) : got;
		if (len > cap - off) {
			fb_escape(b, chunk, cap - off);
			fb_puts(b, "\"...");
			return;
		}
		fb_escape(b, chunk, len);
		off += len;
		if (nul || b->trunc) {
			fb_putc(b, '"');
			return;
		}
		if (got < want) {
			fb_puts(b, "\"<unreadable>");
			return;
		}
	}
}

/*
 * Any other pointer: its value, and with --hexdump=N the first N bytes it
 * points to ("0x1234 [01 02 ff]"), read the same fault-safe way.
 */
static void fmt_pointer(struct fbuf *b, uint64_t p)
{
	unsigned char chunk[PEEK_CHUNK];
	size_t off = 0, n = agent_cfg.hexdump;

	if (!p) {
		fb_puts(b, "NULL");
		return;
	}
	fb_hex(b, p);
	if (!n)
		return;
	fb_puts(b, " [");
	while (off < n && !b->trunc) {
		size_t want = n - off < sizeof(chunk) ? n - off : sizeof(chunk);
		size_t got = agent_peek(chunk, p + off, want);

		if (off && got)
			fb_putc(b, ' ');
		fb_hexbytes(b, chunk, got);
		off += got;
		if (got < want) {
			fb_puts(b, off ? " <unreadable>" : "<unreadable>");
			break;
		}
	}
	fb_putc(b, ']');
}

static void fmt_float(struct fbuf *b, const void *p, unsigned int size)
{
	if (size == 4) {
		float f;

		memcpy(&f, p, sizeof(f));
		fb_double(b, f, 6);
	} else if (size == 8) {
		double d;

		memcpy(&d, p, sizeof(d));
		fb_double(b, d, 6);
	} else {
		uint64_t w[2];

		memcpy(w, p, sizeof(w));
		fb_double(b, fb_binary128_to_double(w[0], w[1]), 6);
	}
}

/* One value of type @t whose ctx slots start at @slots. */
static void fmt_value(struct fbuf *b, const struct ftramp_type *t,
		      const uint64_t *slots)
{
	unsigned int i;

	switch (t->cls) {
	case FTRAMP_TYPE_INT:
		if (t->size == 16) {
			fb_hex(b, slots[1]);
			fb_putc(b, ':');
			fb_hex(b, slots[0]);
		} else if (t->flags & FTRAMP_TYPE_BOOL) {
			fb_puts(b, slots[0] ? "true" : "false");
		} else if (t->flags & FTRAMP_TYPE_STRING) {
			fmt_string(b, slots[0]);
		} else if (t->flags & FTRAMP_TYPE_POINTER) {
			fmt_pointer(b, slots[0]);
		} else if (t->flags & FTRAMP_TYPE_SIGNED) {
			fb_s64(b, (int64_t)slots[0]);
		} else {
			fb_u64(b, slots[0]);
		}
		break;
	case FTRAMP_TYPE_FLOAT:
		fmt_float(b, slots, t->size);
		break;
	case FTRAMP_TYPE_HFA:
		fb_putc(b, '{');
		for (i = 0; i < t->nmemb; i++) {
			if (i)
				fb_puts(b, ", ");
			fmt_float(b, (const char *)slots + i * t->elem_size,
				  t->elem_size);
		}
		fb_putc(b, '}');
		break;
	case FTRAMP_TYPE_STRUCT:
		if (ftramp_type__by_ref(t)) {
			/* the caller's copy */
			fb_putc(b, '&');
			fb_hex(b, slots[0]);
			break;
		}
		fb_putc(b, '{');
		for (i = 0; i < (t->size + 7) / 8; i++) {
			if (i)
				fb_puts(b, ", ");
			fb_hex(b, slots[i]);
		}
		fb_putc(b, '}');
		break;
	default:
		fb_puts(b, "?");
	}
}

static void fmt_args(struct fbuf *b, const struct afunc *f,
		     const uint64_t *ctx)
{
	unsigned int i;

	fb_putc(b, '(');
	if (!f->has_model) {
		/* the unknown model: x0-x7 saved, nothing known of them */
		fb_puts(b, "...");
	} else {
		for (i = 0; i < f->model.nr_args; i++) {
			if (i)
				fb_puts(b, ", ");
			if (f->params[i][0]) {
				fb_puts(b, f->params[i]);
				fb_putc(b, '=');
			}
			fmt_value(b, &f->model.args[i], ctx + f->arg_off[i]);
		}
	}
	fb_putc(b, ')');
}

/* " = value" for a result, nothing for void. */
static void fmt_ret(struct fbuf *b, const struct afunc *f, const uint64_t *ctx)
{
	const uint64_t *ret;

	if (!ctx || ftramp_get_func_unwound(ctx)) {
		/* Its frame was abandoned (longjmp, unwinding): no result. */
		fb_puts(b, " unwound");
		return;
	}
	ret = ctx + f->nr_ctx_args;
	if (!f->has_model) {
		fb_puts(b, " = ");
		fb_hex(b, ret[0]);
		return;
	}
	if (f->model.ret.cls == FTRAMP_TYPE_VOID)
		return;
	fb_puts(b, " = ");
	if (ftramp_model__ret_indirect(&f->model)) {
		/* ctx holds the x8 pointer to the caller's buffer */
		fb_puts(b, "{...}@");
		fb_hex(b, ret[0]);
		return;
	}
	fmt_value(b, &f->model.ret, ret);
}

/* ---------------------------------------------------------------------
 * Lines
 * --------------------------------------------------------------------- */

/* Time, thread id and duration columns; @dur_ns 0: blank. */
static void line_start(struct fbuf *b, uint64_t ts, uint64_t dur_ns,
		       bool has_dur)
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
	fb_u64_w(b, my_tid(), 7);
	fb_putc(b, ' ');
	fb_init(&d, tmp, sizeof(tmp));
	if (has_dur)
		fb_duration(&d, dur_ns);
	fb_pad(b, ' ', 12 - (int)d.len);
	fb_putn(b, tmp, d.len);
	fb_puts(b, "  ");
}

static void line_end(struct fbuf *b)
{
	/* fb_init() was given 4 bytes less than the buffer: room for this */
	if (b->trunc) {
		memcpy(b->buf + b->len, "...", 3);
		b->len += 3;
	}
	b->buf[b->len++] = '\n';
	write_all(agent_cfg.out_fd, b->buf, b->len);
}

static void print_entry_line(const struct aframe *fr)
{
	const struct afunc *f = agent_func(fr->func);
	char line[LINE_MAX_LEN];
	struct fbuf b;

	fb_init(&b, line, sizeof(line) - 4);
	line_start(&b, fr->ts, 0, false);
	fb_pad(&b, ' ', 2 * fr->indent);
	fb_puts(&b, f->name);
	fb_putn(&b, fr->args, fr->args_len);
	fb_puts(&b, " {");
	line_end(&b);
}

/* @ctx NULL: the call is known to be over without its exit (unwound). */
static void print_exit_line(const struct aframe *fr, const uint64_t *ctx,
			    uint64_t now)
{
	const struct afunc *f = agent_func(fr->func);
	char line[LINE_MAX_LEN];
	struct fbuf b;

	fb_init(&b, line, sizeof(line) - 4);
	if (!fr->printed) {
		/* a leaf: the whole call on one line, at its start time */
		line_start(&b, fr->ts, now - fr->ts, true);
		fb_pad(&b, ' ', 2 * fr->indent);
		fb_puts(&b, f->name);
		fb_putn(&b, fr->args, fr->args_len);
		fmt_ret(&b, f, ctx);
		fb_putc(&b, ';');
	} else {
		line_start(&b, now, now - fr->ts, true);
		fb_pad(&b, ' ', 2 * fr->indent);
		fb_putc(&b, '}');
		fmt_ret(&b, f, ctx);
		fb_puts(&b, "; // ");
		fb_puts(&b, f->name);
	}
	line_end(&b);
}

/* Chrome trace event format: one JSON object per line, each ending in a
 * comma; event_chrome_end() closes the array with a metadata event. */
static void chrome_event(const struct afunc *f, char ph, uint64_t ts,
			 const char *key, const char *val, size_t val_len)
{
	char line[LINE_MAX_LEN], tmp[ARGS_TEXT + 1];
	struct fbuf b;

	if (__atomic_load_n(&chrome_closed, __ATOMIC_RELAXED))
		return;
	fb_init(&b, line, sizeof(line) - 4);
	fb_puts(&b, "{\"name\":\"");
	fb_json(&b, f->name);
	fb_puts(&b, "\",\"cat\":\"ftramp\",\"ph\":\"");
	fb_putc(&b, ph);
	fb_puts(&b, "\",\"ts\":");
	fb_fixed(&b, (double)(ts - t0) / 1000.0, 3);
	fb_puts(&b, ",\"pid\":");
	fb_u64(&b, pid);
	fb_puts(&b, ",\"tid\":");
	fb_u64(&b, my_tid());
	if (val_len) {
		if (val_len > ARGS_TEXT)
			val_len = ARGS_TEXT;
		memcpy(tmp, val, val_len);
		tmp[val_len] = 0;
		fb_puts(&b, ",\"args\":{\"");
		fb_puts(&b, key);
		fb_puts(&b, "\":\"");
		fb_json(&b, tmp);
		fb_puts(&b, "\"}");
	}
	fb_puts(&b, "},");
	if (b.trunc) {
		/* never write half an object: drop the arguments instead */
		chrome_event(f, ph, ts, NULL, NULL, 0);
		return;
	}
	b.buf[b.len++] = '\n';
	write_all(agent_cfg.out_fd, b.buf, b.len);
}

void event_text_header(void)
{
	static const char hdr[] =
		"#   TIME(s)     TID     DURATION  FUNCTION\n";

	write_all(agent_cfg.out_fd, hdr, sizeof(hdr) - 1);
}

void event_chrome_begin(void)
{
	static const char hdr[] = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";

	write_all(agent_cfg.out_fd, hdr, sizeof(hdr) - 1);
}

void event_chrome_end(void)
{
	char line[256];
	struct fbuf b;

	if (__atomic_exchange_n(&chrome_closed, true, __ATOMIC_SEQ_CST))
		return;
	fb_init(&b, line, sizeof(line));
	fb_puts(&b, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":");
	fb_u64(&b, pid);
	fb_puts(&b, ",\"args\":{\"name\":\"ftramp\"}}\n]}\n");
	write_all(agent_cfg.out_fd, b.buf, b.len);
}

/* ---------------------------------------------------------------------
 * Programs
 * --------------------------------------------------------------------- */

static struct afunc *cookie_func(const uint64_t *ctx, uint32_t *idx)
{
	uint64_t c = ftramp_get_attach_cookie(ctx);

	if (c >= agent_nr_funcs)
		return NULL;
	*idx = c;
	return agent_func(c);
}

/* The nearest traced frame below @d whose entry line is not out yet. */
static void flush_parent(uint32_t d)
{
	while (d-- > 0) {
		struct aframe *p;

		if (d >= MAX_DEPTH)
			continue;
		p = &thr.frames[d];
		if (!p->valid)
			return;
		if (!p->traced)
			continue;
		if (!p->printed) {
			p->printed = 1;
			barrier();
			print_entry_line(p);
		}
		return;
	}
}

uint64_t event_entry(const uint64_t *ctx)
{
	uint32_t idx, d;
	struct afunc *f = cookie_func(ctx, &idx);
	struct aframe *fr;
	struct fbuf b;

	if (!f)
		return 0;
	if (f->what & AF_HIST)
		*ftramp_get_session_cookie(ctx) = hist_ticks();
	if (!(f->what & AF_TRACE))
		return 0;

	d = thr.depth;
	if (d >= MAX_DEPTH) {
		thr.depth = d + 1;
		__atomic_fetch_add(&lost, 1, __ATOMIC_RELAXED);
		return 0;
	}
	fr = &thr.frames[d];
	fr->valid = 0;
	barrier();
	thr.depth = d + 1;
	barrier();

	fr->func = idx;
	fr->printed = 0;
	fr->traced = !!(f->what & AF_TRACE);
	fr->indent = 0;
	if (d) {
		const struct aframe *p = &thr.frames[d - 1];

		fr->indent = p->indent + p->traced;
	}
	fr->args_len = 0;
	if (fr->traced) {
		if (agent_cfg.format == AGENT_FMT_TEXT)
			flush_parent(d);
		fb_init(&b, fr->args, sizeof(fr->args) - 3);
		fmt_args(&b, f, ctx);
		if (b.trunc) {
			memcpy(b.buf + b.len, "...", 3);
			b.len += 3;
		}
		fr->args_len = b.len;
	}
	fr->ts = now_ns();
	barrier();
	fr->valid = 1;
	barrier();
	if (fr->traced && agent_cfg.format == AGENT_FMT_CHROME)
		chrome_event(f, 'B', fr->ts, "args", fr->args, fr->args_len);
	return 0;
}

/*
 * The line (or Chrome event) that ends a call: its exit seen with @ctx,
 * or with ctx NULL one that is known to be over without it.
 */
static void print_end(const struct aframe *frp, const uint64_t *ctx,
		      uint64_t now)
{
	const struct aframe fr = *frp;
	const struct afunc *f = agent_func(fr.func);

	if (!fr.traced)
		return;
	if (agent_cfg.format == AGENT_FMT_CHROME) {
		char ret[96];
		struct fbuf b;

		fb_init(&b, ret, sizeof(ret));
		fmt_ret(&b, f, ctx);
		if (!ctx || ftramp_get_func_unwound(ctx)) {
			chrome_event(f, 'E', now, "unwound", "1", 1);
			return;
		}
		/* " = value" -> "value" */
		chrome_event(f, 'E', now, "ret", b.len > 3 ? ret + 3 : "",
			     b.len > 3 ? b.len - 3 : 0);
		return;
	}
	print_exit_line(&fr, ctx, now);
}

uint64_t event_exit(const uint64_t *ctx)
{
	uint64_t now = now_ns();
	uint32_t idx, d, i;
	struct afunc *f = cookie_func(ctx, &idx);
	struct aframe fr;

	if (!f)
		return 0;
	if (f->what & AF_HIST)
		hist_exit(ctx);
	if (!(f->what & AF_TRACE))
		return 0;
	d = thr.depth;
	if (d > MAX_DEPTH) {
		/* its entry was not stored either */
		thr.depth = d - 1;
		return 0;
	}
	/*
	 * Our frame is the top one unless a traced callee's exit never
	 * came (the runtime reports every abandoned frame, but not one
	 * whose report its recursion guard skipped, nor one it could not
	 * record: shadow stack full).  Such a callee is over: close it as
	 * unwound, innermost first, so that no entry line is lost (a leaf
	 * prints its only line at its exit) and the nesting stays right.
	 */
	for (i = d; i > 0 && thr.frames[i - 1].func != idx; i--)
		;
	if (!i) {
		__atomic_fetch_add(&lost, 1, __ATOMIC_RELAXED);
		return 0;
	}
	while (thr.depth > i) {
		d = thr.depth - 1;
		thr.frames[d].valid = 0;
		barrier();
		fr = thr.frames[d];
		barrier();
		thr.depth = d;
		print_end(&fr, NULL, now);
	}
	thr.frames[i - 1].valid = 0;
	barrier();
	fr = thr.frames[i - 1];
	barrier();
	thr.depth = i - 1;
	print_end(&fr, ctx, now);
	return 0;
}

/*
 * --hist without -t: the session cookie (zeroed at entry, one per call,
 * in the trampoline's frame) carries the entry timestamp to the exit of
 * the same call: exact at any depth of recursion, no per-thread stack.
 */
uint64_t hist_entry(const uint64_t *ctx)
{
	*ftramp_get_session_cookie(ctx) = hist_ticks();
	return 0;
}

/*
 * A call reported unwound (longjmp, an exception, a cancellation) has
 * no duration: its frame, and the entry time in it, are gone.  It is
 * counted, not timed.
 */
uint64_t hist_exit(const uint64_t *ctx)
{
	uint64_t end = hist_ticks();
	uint64_t c = ftramp_get_attach_cookie(ctx);

	if (c >= agent_nr_funcs)
		return 0;
	if (ftramp_get_func_unwound(ctx))
		__atomic_fetch_add(&agent_func(c)->hs.unwound, 1,
				   __ATOMIC_RELAXED);
	else
		hist_record(&agent_func(c)->hs,
			    hist_ns(end - *ftramp_get_session_cookie(ctx)));
	return 0;
}

uint64_t event_override(const uint64_t *ctx)
{
	uint32_t idx;
	struct afunc *f = cookie_func(ctx, &idx);

	return f ? f->override : 0;
}
