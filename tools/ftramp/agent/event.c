// SPDX-License-Identifier: MIT
/*
 * The agent's programs: what runs at the entry and exit of each traced
 * function.  They write events into the process's ring in the session
 * file (session.h, lib/ringbuf.h) and nowhere else: `ftramp run` reads
 * them, keeps the nesting, and formats every line.  Here is only what
 * must be read inside the program: the arguments and the result, from
 * its registers and memory.
 *
 * Constraints, because a traced function may run anywhere, including in a
 * signal handler that interrupted another traced call on the same thread:
 * no locks and no malloc (initial-exec TLS, stack buffers, fmt.c instead
 * of snprintf), and one ring reserve per event, lock-free: a full ring
 * drops the event and counts it, it never waits.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/ringbuf.h"
#include "agent.h"
#include "fmt.h"
#include "session.h"

#define ARGS_TEXT	224
#define RET_TEXT	512

struct ringbuf agent_ring;
struct ses_func *agent_sfuncs;

static __thread uint32_t thr_tid __attribute__((tls_model("initial-exec")));

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
	if (!thr_tid)
		thr_tid = syscall(SYS_gettid);
	return thr_tid;
}

/* In the child after fork(): it is a new thread (slot.c moves the rest). */
void event_atfork_child(void)
{
	thr_tid = 0;
}

void event_init(void)
{
	hist_init();
}

/* ---------------------------------------------------------------------
 * Values
 * --------------------------------------------------------------------- */

#define PEEK_CHUNK	64

/*
 * A char * argument: at most --strlen bytes as a C string literal, "..."
 * when longer.  Every byte comes through ftramp_peek(): a pointer into
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
		got = ftramp_peek(chunk, p + off, want);
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
		size_t got = ftramp_peek(chunk, p + off, want);

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

/* One event: the header, @text (truncated with "..."), into the ring. */
static void emit(uint16_t type, uint32_t idx, uint32_t flags, uint64_t ts,
		 uint64_t key, struct fbuf *text)
{
	struct ses_event *ev;

	if (text->trunc) {
		/* fb_init() was given 3 bytes less than the buffer */
		memcpy(text->buf + text->len, "...", 3);
		text->len += 3;
	}
	ev = ringbuf_reserve(&agent_ring, sizeof(*ev) + text->len);
	if (!ev)
		return;		/* the ring counted the drop */
	ev->type = type;
	ev->text_len = text->len;
	ev->func = idx;
	ev->tid = my_tid();
	ev->flags = flags;
	ev->ts = ts;
	ev->key = key;
	memcpy(ev->text, text->buf, text->len);
	ringbuf_commit(&agent_ring, ev);
}

uint64_t event_entry(const uint64_t *ctx)
{
	char args[ARGS_TEXT];
	uint32_t idx;
	struct afunc *f = cookie_func(ctx, &idx);
	struct fbuf b;

	if (!f)
		return 0;
	if (f->what & AF_HIST)
		*ftramp_get_session_cookie(ctx) = hist_ticks();
	if (!(f->what & AF_TRACE))
		return 0;
	fb_init(&b, args, sizeof(args) - 3);
	fmt_args(&b, f, ctx);
	/* the time after the arguments: reading them is not the call's */
	emit(SES_EV_ENTRY, idx, 0, now_ns(), (uint64_t)(uintptr_t)ctx, &b);
	return 0;
}

uint64_t event_exit(const uint64_t *ctx)
{
	uint64_t now = now_ns();
	char ret[RET_TEXT];
	uint32_t idx;
	struct afunc *f = cookie_func(ctx, &idx);
	struct fbuf b;

	if (!f)
		return 0;
	if (f->what & AF_HIST)
		hist_exit(ctx);
	if (!(f->what & AF_TRACE))
		return 0;
	fb_init(&b, ret, sizeof(ret) - 3);
	fmt_ret(&b, f, ctx);
	/* an unwound report's ctx is the runtime's, not the frame's */
	if (ftramp_get_func_unwound(ctx))
		emit(SES_EV_EXIT, idx, SES_EV_UNWOUND, now, 0, &b);
	else
		emit(SES_EV_EXIT, idx, 0, now, (uint64_t)(uintptr_t)ctx, &b);
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
		__atomic_fetch_add(&agent_sfuncs[c].hs.unwound, 1,
				   __ATOMIC_RELAXED);
	else
		hist_record(&agent_sfuncs[c].hs,
			    hist_ns(end - *ftramp_get_session_cookie(ctx)));
	return 0;
}

uint64_t event_override(const uint64_t *ctx)
{
	uint32_t idx;
	struct afunc *f = cookie_func(ctx, &idx);

	return f ? f->override : 0;
}
