// SPDX-License-Identifier: MIT
/*
 * `ftramp run -e OBJ`: the agent loads each BPF object with the library's
 * loader and attaches its fentry/fexit/fmod_ret programs before main(),
 * in one transaction per object.
 *
 * Nothing a program produces leaves through a file descriptor: the maps'
 * memory (ring buffers included) is taken from the session file's BPF
 * area (session.h, struct ses_bpf), where the ftramp process drains the
 * rings as the program runs and reads every map at exit, after a crash
 * or SIGKILL too; bpf_trace_printk() lines become SES_EV_PRINTK events
 * in this process's ring.  The ftramp process checked each object with
 * the same loader before it started the program, so a refusal here is a
 * target that this process lacks, said and fatal, like a -t glob that
 * matches nothing.  An exec'd follower (-f) runs no BPF: the maps belong
 * to the first program and the children it forks.
 *
 * The programs run JIT'd unless --engine says otherwise
 * (FTRAMP_BPF_ENGINE): a program the JIT does not take, or a process
 * where it cannot place an image, runs in the interpreter; both are the
 * same verified program, so the default changes speed, not meaning.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../agent_env.h"
#include "bpf/bpf.h"
#include "lib/ringbuf.h"
#include "lib/util.h"
#include "agent.h"

static struct ses_bpf *sb;	/* the area, mapped whole */
static uint64_t area_off, area_size, area_page;
static int area_fd = -1;	/* while loading */
/* the rings made, and where their file pages are */
static struct { const void *base; uint64_t off; } rings[SES_BPF_MAX_MAPS];
static unsigned int nr_rings;

/* Bytes from the area's start: @size at @align, or UINT64_MAX. */
static uint64_t area_take(uint64_t size, uint64_t align)
{
	uint64_t at = round_up(sb->used, align);

	if (at > area_size || size > area_size - at)
		return UINT64_MAX;
	sb->used = at + size;	/* one loader, before main(): no race */
	return at;
}

static void *area_alloc(size_t size, void *ctx)
{
	uint64_t at = area_take(size ? size : 1, 64);

	(void)ctx;
	return at == UINT64_MAX ? NULL : (char *)sb + at;
}

/* A ring with its data mapped twice, from the area's file pages. */
static void *area_ring(size_t size, size_t page, void *ctx)
{
	uint64_t at = area_take(ringbuf_file_size(size, page), area_page);
	void *p;

	(void)ctx;
	if (at == UINT64_MAX || area_fd < 0 || nr_rings == SES_BPF_MAX_MAPS)
		return NULL;
	p = ringbuf_mmap(area_fd, area_off + at, size, page, NULL);
	if (p == MAP_FAILED)
		return NULL;
	rings[nr_rings].base = p;
	rings[nr_rings++].off = area_off + at;
	return p;
}

/* bpf_trace_printk(): one event, the ftramp process prints it. */
static void print_line(void *ctx, const char *line, size_t len)
{
	struct ses_event *ev;

	(void)ctx;
	if (len && line[len - 1] == '\n')
		len--;
	if (len > 480)
		len = 480;
	ev = ringbuf_reserve(&agent_ring, sizeof(*ev) + len);
	if (!ev)
		return;		/* dropped, and counted */
	memset(ev, 0, sizeof(*ev));
	ev->type = SES_EV_PRINTK;
	ev->text_len = len;
	ev->tid = syscall(SYS_gettid);
	ev->ts = now_ns();
	memcpy(ev->text, line, len);
	ringbuf_commit(&agent_ring, ev);
}

static uint64_t off_of(const void *p)
{
	return p ? area_off + ((const char *)p - (const char *)sb) : 0;
}

static uint64_t ring_off(const void *base)
{
	for (unsigned int i = 0; i < nr_rings; i++)
		if (rings[i].base == base)
			return rings[i].off;
	return 0;
}

/* Describe the object's maps in the area for the ftramp process. */
static int publish_maps(struct ftramp_bpf_object *obj, uint32_t obj_idx)
{
	struct ftramp_bpf_map *m = NULL;
	uint32_t idx = 0;

	while ((m = ftramp_bpf_object__next_map(obj, m))) {
		struct ses_bpf_map *d;
		struct bpf_map_layout l;

		if (sb->nr_maps == SES_BPF_MAX_MAPS)
			return -E2BIG;
		d = &sb->maps[sb->nr_maps];
		memset(d, 0, sizeof(*d));
		d->obj = obj_idx;
		d->idx = idx++;
		d->type = m->type;
		d->key_size = m->key_size;
		d->value_size = m->value_size;
		d->max_entries = m->max_entries;
		if (!bpf_map_layout(m, &l)) {
			d->data_off = off_of(l.data);
			d->stride = l.stride;
			d->nr = l.nr;
			d->live_off = l.live_off;
			d->key_off = l.key_off;
			d->val_off = l.val_off;
			d->nr_cpus = l.nr_cpus;
			d->ring_size = l.ring_size;
			d->ring_page = l.ring_page;
			d->ring_off = ring_off(l.ring_base);
		}
		__atomic_store_n(&sb->nr_maps, sb->nr_maps + 1,
				 __ATOMIC_RELEASE);
	}
	return 0;
}

/*
 * The -e objects, in FTRAMP_BPF's order, each opened (parsed, not loaded)
 * once: their targets decide how the CLI's own --hist is attached
 * (agent_bpf_targets(), before anything is attached), then
 * agent_bpf_init() loads and attaches them.  A failed open is said there.
 */
struct eobj {
	const char *path;
	struct ftramp_bpf_object *obj;	/* NULL: the open failed */
	int open_err;
	struct ftramp_bpf_error err;	/* the object points here */
};
static struct eobj *eobjs;
static unsigned int nr_eobjs;
static bool eobjs_opened;

/* --engine, as the ftramp process checked it (default: auto). */
static int engine_of_env(void)
{
	const char *e = getenv(FTRAMP_ENV_BPF_ENGINE);

	if (e && !strcmp(e, "interp"))
		return FTRAMP_BPF_ENGINE_INTERP;
	if (e && !strcmp(e, "jit"))
		return FTRAMP_BPF_ENGINE_JIT;
	return FTRAMP_BPF_ENGINE_AUTO;
}

static void eobjs_open(void)
{
	const char *list = getenv(FTRAMP_ENV_BPF);
	int engine = engine_of_env();
	char *paths, *item, *save;
	unsigned int n = 1;

	eobjs_opened = true;
	if (!list || !*list || slot_follower() || !(paths = strdup(list)))
		return;
	for (const char *c = list; *c; c++)
		n += *c == ',';
	/* one allocation: each object keeps a pointer to its err */
	eobjs = calloc(n, sizeof(*eobjs));
	if (!eobjs) {
		agent_say("-e: out of memory");
		agent_die();
	}
	for (item = strtok_r(paths, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		struct eobj *eo = &eobjs[nr_eobjs++];
		FTRAMP_OPTS(ftramp_bpf_open_opts, o, .err = &eo->err,
			    .engine = engine);

		eo->path = item;	/* paths is never freed */
		eo->obj = ftramp_bpf_object__open_file(item, &o);
		eo->open_err = eo->obj ? 0 : -errno;
	}
}

static void load_one(struct eobj *eo, uint32_t idx)
{
	struct ftramp_bpf_object *obj = eo->obj;
	const struct ftramp_bpf_error *e = &eo->err;
	int err = eo->open_err;

	if (!err)
		err = ftramp_bpf_object__load(obj);
	if (!err)
		err = publish_maps(obj, idx);
	if (err) {
		agent_say("-e %s: %s", eo->path,
			  e->code ? e->msg : strerror(-err));
		agent_die();
	}
	err = ftramp_bpf_object__attach(obj);
	if (err) {
		const char *detail = ftramp_error_detail();

		agent_say("-e %s: cannot attach: %s%s", eo->path,
			  e->code ? e->msg : *detail ? detail : strerror(-err),
			  err == -ENOENT ? " (no patchable function of that name in this process: see 'ftramp list')" : "");
		agent_die();
	}
	if (agent_cfg.verbose) {
		struct ftramp_bpf_program *p = NULL;

		while ((p = ftramp_bpf_object__next_program(obj, p)))
			if (*ftramp_bpf_program__attach_target(p))
				agent_say("-e %s: %s attached to %s (%s)",
					  eo->path, ftramp_bpf_program__name(p),
					  ftramp_bpf_program__attach_target(p),
					  ftramp_bpf_program__engine(p) ==
					  FTRAMP_BPF_ENGINE_JIT ? "JIT" :
					  "interpreter");
	}
	/* never closed: its programs run until the process ends */
}

bool agent_bpf_targets(const char *name, bool *fmod_ret)
{
	size_t n = strcspn(name, "@");
	bool any = false;

	if (!eobjs_opened)
		eobjs_open();
	*fmod_ret = false;
	for (unsigned int i = 0; i < nr_eobjs; i++) {
		struct ftramp_bpf_program *p = NULL;

		while (eobjs[i].obj &&
		       (p = ftramp_bpf_object__next_program(eobjs[i].obj, p))) {
			const char *t = ftramp_bpf_program__attach_target(p);

			/* FUNC@LIB exactly, or FUNC for the program's own */
			if (!*t || (strcmp(t, name) &&
				    (name[n] || strncmp(t, name, n) ||
				     t[n] != '@')))
				continue;
			any = true;
			*fmod_ret |= ftramp_bpf_program__type(p) ==
				     FTRAMP_BPF_PROG_FMOD_RET;
		}
	}
	return any;
}

void agent_bpf_init(void)
{
	const struct ses_header *h = slot_header();
	struct bpf_map_mem_ops ops = { area_alloc, area_ring, NULL };
	void *p;

	if (!eobjs_opened)
		eobjs_open();
	if (!nr_eobjs)
		return;
	if (!h || !h->bpf_size) {
		agent_say("-e: the session file has no BPF area");
		agent_die();
	}
	area_fd = slot_session_fd();
	if (area_fd < 0) {
		agent_say("-e: session file: %s", strerror(-area_fd));
		agent_die();
	}
	area_off = h->bpf_off;
	area_size = h->bpf_size;
	area_page = h->page_size;
	p = mmap(NULL, area_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 area_fd, area_off);
	if (p == MAP_FAILED) {
		agent_say("-e: cannot map the BPF area: %s", strerror(errno));
		agent_die();
	}
	sb = p;
	if (sb->used < sizeof(*sb))
		sb->used = sizeof(*sb);
	bpf_map_set_mem(&ops);
	ftramp_bpf_set_print(print_line, NULL);
	for (uint32_t i = 0; i < nr_eobjs; i++)
		load_one(&eobjs[i], i);
	close(area_fd);
	area_fd = -1;
	__atomic_store_n(&sb->loaded, 1, __ATOMIC_RELEASE);
}
