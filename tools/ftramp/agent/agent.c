// SPDX-License-Identifier: MIT
/*
 * libftramp-agent.so: the runtime side of `ftramp run`.
 *
 * Preloaded into the traced program, its constructor reads the FTRAMP_*
 * variables (../agent_env.h), maps its slot of the session file that
 * `ftramp run` created (slot.c), resolves each glob against the process's
 * site table, reads each function's model and parameter names from DWARF,
 * and attaches the programs of event.c before main() runs.  A library
 * the program loads later with dlopen() gets the same treatment before
 * dlopen() returns ("Later loads").  It writes no report: counts,
 * histograms and events are in the session file, and the `ftramp`
 * process formats them, whatever becomes of this one.
 *
 * When the agent cannot do what it was asked (a glob that matches nothing,
 * a site that cannot be patched, a bad override value), it says why and
 * ends the program with status AGENT_EXIT before main(): tracing half of
 * what was asked would mislead.  A program exec'd under --follow is the
 * exception: what it does not have is not traced, silently.  Without
 * --follow the variables, and the agent in LD_PRELOAD, are removed from
 * the environment once read, so programs this one executes run untraced
 * (and a host program run by qemu's guest sees no arm64 preload).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../agent_env.h"
#include "ftrace/reclaim.h"
#include "ftrace/sites.h"
#include "agent.h"
#include "fmt.h"
#include "lib/util.h"

/* Like timeout(1) and env(1): the tool, not the program, failed. */
#define AGENT_EXIT	125

struct afunc *agent_blocks[AGENT_BLOCKS];
unsigned int agent_nr_funcs;
struct agent_config agent_cfg = { .strlen_cap = 32 };

static bool far_mode;

static void vsay(const char *fmt, va_list ap)
{
	char buf[1024];
	int n;

	n = snprintf(buf, sizeof(buf), "ftramp: ");
	n += vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	write_all(2, buf, n);
}

static void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

void agent_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

static void __attribute__((noreturn)) die(void)
{
	_exit(AGENT_EXIT);
}

void agent_die(void)
{
	die();
}

static const char *err_str(int err)
{
	static char buf[128];

	ftramp_strerror(err, buf, sizeof(buf));
	return buf;
}

/* ---------------------------------------------------------------------
 * Configuration
 * --------------------------------------------------------------------- */

/*
 * Functions by name: open addressing, index + 1 (0: empty), at most
 * half full, so that `--count '*'` over thousands of functions does not
 * compare each one with every one before it (issue 14).
 */
static unsigned int *func_hash;
static unsigned int func_mask;

static unsigned int name_hash(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static unsigned int *func_slot(const char *name)
{
	unsigned int h = name_hash(name) & func_mask;

	while (func_hash[h] && strcmp(agent_func(func_hash[h] - 1)->name, name))
		h = (h + 1) & func_mask;
	return &func_hash[h];
}

static int func_hash_grow(void)
{
	unsigned int n = func_mask ? 2 * (func_mask + 1) : 64, i;
	unsigned int *old = func_hash;

	func_hash = calloc(n, sizeof(*func_hash));
	if (!func_hash) {
		func_hash = old;
		return -ENOMEM;
	}
	func_mask = n - 1;
	for (i = 0; i < agent_nr_funcs; i++)
		*func_slot(agent_func(i)->name) = i + 1;
	free(old);
	return 0;
}

static struct afunc *func_get(const char *name)
{
	unsigned int n = agent_nr_funcs, *slot;
	struct afunc *f;

	if (2 * (n + 1) > func_mask + 1 && func_hash_grow())
		return NULL;
	slot = func_slot(name);
	if (*slot)
		return agent_func(*slot - 1);
	if (n == AGENT_BLOCK * AGENT_BLOCKS)
		return NULL;
	if (!agent_blocks[n / AGENT_BLOCK]) {
		agent_blocks[n / AGENT_BLOCK] = calloc(AGENT_BLOCK, sizeof(*f));
		if (!agent_blocks[n / AGENT_BLOCK])
			return NULL;
	}
	f = agent_func(n);
	f->name = strdup(name);
	if (!f->name)
		return NULL;
	*slot = n + 1;
	/* Complete before the handlers' bound check admits it. */
	__atomic_store_n(&agent_nr_funcs, n + 1, __ATOMIC_RELEASE);
	return f;
}

/* Each -t/--hist/--count/--override GLOB, matched again at each load. */
struct aglob {
	struct asel sel;
	const char *glob;	/* sel.glob */
	unsigned int what;
	const char *value;	/* --override: the text after '=' */
	unsigned int matched;	/* functions it found, over all loads */
};

static struct aglob *globs;
static unsigned int nr_globs;

#define MATCH_OBJS	8

struct match_ctx {
	const struct asel *sel;
	unsigned int what;
	const char *value;	/* --override: the text after '=' */
	unsigned int usable;
	unsigned int unusable;
	unsigned int excluded;	/* by -N */
	/* the objects of the usable matches, for the prepare (add_glob()) */
	const char *objs[MATCH_OBJS];
	unsigned int nr_objs;	/* past MATCH_OBJS: too many to list */
	char why[160];		/* the first unusable site and its reason */
	int err;
};

static int match_site(const struct ftramp_site *site, void *data)
{
	struct match_ctx *m = data;
	struct ftramp_site_info info = { .sz = sizeof(info) };
	struct afunc *f;

	if (ftramp_site__info(site, &info) || !select_match(m->sel, &info))
		return 0;
	if (select_excluded(&info)) {
		m->excluded++;
		return 0;
	}
	if (info.status != FTRAMP_SITE_OK) {
		if (!m->unusable++)
			snprintf(m->why, sizeof(m->why), "%s: %s", info.name,
				 info.reason);
		return 0;
	}
	f = func_get(info.name);
	if (!f) {
		m->err = -ENOMEM;
		return -ENOMEM;
	}
	f->what |= m->what;
	if (m->nr_objs <= MATCH_OBJS) {
		unsigned int i;

		for (i = 0; i < m->nr_objs && i < MATCH_OBJS; i++)
			if (!strcmp(m->objs[i], info.object_name))
				break;
		if (i == m->nr_objs) {
			if (i < MATCH_OBJS)
				m->objs[i] = info.object_name;
			m->nr_objs++;
		}
	}
	/* the value is parsed once the model is known */
	if (m->value && !f->override)
		f->override = (uint64_t)(uintptr_t)m->value;
	m->usable++;
	return 0;
}

static const char *what_opt(unsigned int what)
{
	switch (what) {
	case AF_TRACE:		return "-t";
	case AF_HIST:		return "--hist";
	case AF_COUNT:		return "--count";
	default:		return "--override";
	}
}

/* A library function named without its @LIBNAME: the first such name. */
static int first_name(const struct ftramp_site *site, void *data)
{
	struct ftramp_site_info info = { .sz = sizeof(info) };
	char *name = data;

	if (ftramp_site__info(site, &info))
		return 0;
	snprintf(name, 160, "%s", info.name);
	return 1;	/* stop */
}

/*
 * @name, a plain name that matched nothing: is it a library's function?
 * Then *out (160 bytes) is its full name, FUNC@LIBNAME.
 */
static bool lib_name(struct ftramp_sites *sites, const char *name, char *out)
{
	char glob[160];

	if (strpbrk(name, "*?[@") ||
	    snprintf(glob, sizeof(glob), "%s@*", name) >= (int)sizeof(glob))
		return false;
	*out = 0;
	ftramp_sites__find(sites, glob, first_name, out);
	return *out;
}

/*
 * Add every site matching @g; the agent's errors end the program.  A
 * FUNC@LIB glob that matches nothing waits for LIB ("Later loads").
 */
/*
 * The one-time entry write for @m's matches: by the glob, or, when it
 * names a library by another of its names, by each library's report name.
 */
static void prepare(const struct asel *sel, const struct match_ctx *m)
{
	struct ftramp_sites *sites = ftramp_sites__get();
	char *glob;

	if (!sel->lib || m->nr_objs > MATCH_OBJS) {
		ftramp_sites__prepare(sites, sel->find);
		return;
	}
	for (unsigned int i = 0; i < m->nr_objs; i++) {
		if (asprintf(&glob, "%s@%s", sel->func, m->objs[i]) < 0)
			return;
		ftramp_sites__prepare(sites, glob);
		free(glob);
	}
}

static void add_glob(struct ftramp_sites *sites, struct aglob *g)
{
	struct match_ctx m = { .sel = &g->sel, .what = g->what,
			       .value = g->value };
	int n;

	n = ftramp_sites__find(sites, g->sel.find, match_site, &m);
	if (n < 0 || m.err) {
		say("%s '%s': %s", what_opt(g->what), g->glob,
		    err_str(m.err ?: n));
		die();
	}
	g->matched += m.usable;
	/*
	 * The one-time entry write now, while the process has one thread:
	 * attaching later then never stops the program's threads.  A
	 * failure is not fatal: attaching does it too.
	 */
	if (m.usable)
		prepare(&g->sel, &m);
	if (m.usable)
		return;
	if (slot_follower()) {
		/* an exec'd program that has none of it: run it untraced */
		if (agent_cfg.verbose)
			say("%s '%s': nothing matches in this program",
			    what_opt(g->what), g->glob);
		return;
	}
	if (m.excluded && !m.unusable) {
		say("%s '%s': every function it matches (%u) is excluded by -N",
		    what_opt(g->what), g->glob, m.excluded);
		die();
	}
	if (m.unusable) {
		say("%s '%s': no usable function matches (%u cannot be patched; %s)",
		    what_opt(g->what), g->glob, m.unusable, m.why);
		die();
	}
	if (!strchr(g->glob, '@')) {
		if (lib_name(sites, g->glob, m.why))
			say("%s '%s': no such function in the program; a library's is named with its object: '%s'",
			    what_opt(g->what), g->glob, m.why);
		else
			say("%s '%s': no patchable function matches in this process (see 'ftramp list')",
			    what_opt(g->what), g->glob);
		die();
	}
	if (agent_cfg.verbose)
		say("%s '%s': no such library loaded yet: attached when the program loads it",
		    what_opt(g->what), g->glob);
}

static void add_list(struct ftramp_sites *sites, const char *env,
		     unsigned int what)
{
	char *list, *item, *save;
	const char *text = getenv(env);
	struct aglob *g;

	if (!text || !*text)
		return;
	list = strdup(text);
	if (!list) {
		say("out of memory");
		die();
	}
	for (item = strtok_r(list, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		char *value = NULL;

		if (what == AF_OVERRIDE) {
			value = strchr(item, '=');
			if (!value || value == item || !value[1]) {
				say("--override '%s': expected FUNC=VALUE",
				    item);
				die();
			}
			*value++ = 0;
			value = strdup(value);
		}
		g = realloc(globs, (nr_globs + 1) * sizeof(*g));
		if (!g) {
			say("out of memory");
			die();
		}
		globs = g;
		g = &globs[nr_globs++];
		*g = (struct aglob){ .what = what, .value = value };
		if (select_init(&g->sel, item)) {
			say("'%s': expected FUNC or FUNC@LIB", item);
			die();
		}
		g->glob = g->sel.glob;
		add_glob(sites, g);
	}
	free(list);
}

/*
 * Whether the integer @v (negative when @neg) is a value of the integer
 * result type @r; if not, *range says which values are.  The caller reads
 * only the type's width of x0 (AAPCS64 6.9: the bits above are
 * unspecified), so a wider value would silently become another one.
 */
static bool override_fits(const struct ftramp_type *r, uint64_t v, bool neg,
			  char *range, size_t size)
{
	unsigned int bits = r->size * 8;

	if (r->flags & FTRAMP_TYPE_BOOL) {
		snprintf(range, size, "_Bool: 1 (true)");
		return !neg && v == 1;
	}
	if (r->flags & FTRAMP_TYPE_POINTER) {
		snprintf(range, size, "a pointer: 0x1 to 0xffffffffffffffff");
		return !neg;
	}
	if (r->flags & FTRAMP_TYPE_SIGNED) {
		int64_t hi = bits >= 64 ? INT64_MAX : (int64_t)(1ull << (bits - 1)) - 1;
		int64_t lo = -hi - 1;

		snprintf(range, size, "int%u_t: %lld to %lld", bits,
			 (long long)lo, (long long)hi);
		return neg ? (int64_t)v >= lo : v <= (uint64_t)hi;
	}
	snprintf(range, size, "uint%u_t: 1 to %llu", bits,
		 bits >= 64 ? ~0ull : (1ull << bits) - 1);
	return !neg && (bits >= 64 || !(v >> bits));
}

/* The override text, read with the function's result type. */
static void parse_override(struct afunc *f)
{
	const char *text = (const char *)(uintptr_t)f->override;
	const struct ftramp_type *r = &f->model.ret;
	char *end;

	errno = 0;
	if (f->has_model && r->cls == FTRAMP_TYPE_VOID) {
		say("--override %s: the function returns void", f->name);
		die();
	}
	if (f->has_model && r->cls == FTRAMP_TYPE_FLOAT && r->size <= 8) {
		double d = strtod(text, &end);

		if (*end || errno || d == 0) {
			say("--override %s=%s: expected a non-zero number",
			    f->name, text);
			die();
		}
		if (r->size == 4 && isinf((float)d) && !isinf(d)) {
			say("--override %s=%s: out of range for the function's float result",
			    f->name, text);
			die();
		}
		f->override = r->size == 4 ? ftramp_ret_float(d) :
					     ftramp_ret_double(d);
		return;
	}
	if (f->has_model && r->cls != FTRAMP_TYPE_INT) {
		say("--override %s: only integer and float results can be forced",
		    f->name);
		die();
	}
	if (f->has_model && r->size > 8) {
		say("--override %s: a result wider than 64 bits cannot be forced",
		    f->name);
		die();
	}
	if (*text == '-')
		f->override = (uint64_t)strtoll(text, &end, 0);
	else
		f->override = strtoull(text, &end, 0);
	if (*end || errno || !f->override) {
		say("--override %s=%s: expected a non-zero integer (the function returns an integer)",
		    f->name, text);
		die();
	}
	if (f->has_model) {
		char range[96];

		if (!override_fits(r, f->override, *text == '-', range,
				   sizeof(range))) {
			say("--override %s=%s: out of range for the function's result (%s)",
			    f->name, text, range);
			die();
		}
	}
}

/*
 * A function's model: from the table the ftramp process read from the
 * DWARF (the clone rule applied there); for an object it did not cover
 * (a library found or loaded differently), none: the unknown model.
 */
static void read_model(struct afunc *f)
{
	const struct ftramp_site *site;
	struct ftramp_sites *sites = ftramp_sites__get();
	unsigned int i;
	int err = -ENOENT;

	site = sites ? ftramp_sites__find_name(sites, f->name) : NULL;
	if (site)
		err = table_model(site, &f->model, f->params);
	if (!err && !(f->model.flags & FTRAMP_MODEL_VARIADIC)) {
		f->has_model = true;
		for (i = 0; i < f->model.nr_args; i++)
			f->arg_off[i] = ftramp_model__arg_ctx_off(&f->model, i);
		f->nr_ctx_args = ftramp_model__nr_ctx_args(&f->model);
		return;
	}
	/* The unknown model: x0-x7 in ctx[0..7], the result at ctx[8]. */
	memset(&f->model, 0, sizeof(f->model));
	memset(f->params, 0, sizeof(f->params));
	f->nr_ctx_args = 8;
	/* --count and --hist read no arguments: the table has no models */
	if (agent_cfg.verbose && (f->what & (AF_TRACE | AF_OVERRIDE)))
		say("%s: no model (%s): arguments not shown", f->name,
		    err == -ENOENT ? "not in the table the ftramp process read before the start: loaded later, or found elsewhere" :
		    err ? err_str(err) : "variadic");
}

static const char *const kind_names[] = {
	"fentry", "fexit", "fmod_ret", "count", "hist",
};

#define NR_KINDS	(FTRAMP_HIST + 1)

/*
 * --hist through a FTRAMP_HIST link (the buckets in the session file,
 * the entry time in the call's shadow record: no program, no guard, no
 * model), unless func_setup() chose the program pair (AF_HIST_PAIR).
 */
static bool hist_link(const struct afunc *f)
{
	return (f->what & AF_HIST) && !(f->what & AF_HIST_PAIR);
}

/*
 * What function f attaches with kind k: the program, or for the call
 * count (FTRAMP_COUNT, no program: counted in the trampoline, exact
 * whatever the recursion guard skips) and the histogram (FTRAMP_HIST)
 * `*want` alone.  --hist with --override uses the session cookie (the
 * entry timestamp in the trampoline's frame, no per-thread stack: exact
 * at any depth); -t formats its lines and times the call.
 */
static ftramp_prog_t prog_for(const struct afunc *f, int k, bool *want)
{
	bool pair = (f->what & (AF_TRACE | AF_HIST)) && !hist_link(f);

	*want = false;
	switch (k) {
	case FTRAMP_FENTRY:
		*want = pair;
		return f->what & AF_TRACE ? event_entry : hist_entry;
	case FTRAMP_FEXIT:
		*want = pair;
		return f->what & AF_TRACE ? event_exit : hist_exit;
	case FTRAMP_FMOD_RET:
		*want = f->what & AF_OVERRIDE;
		return event_override;
	case FTRAMP_HIST:
		*want = hist_link(f);
		return NULL;
	default:
		*want = f->what & AF_COUNT;
		return NULL;
	}
}

/* Queue function idx's links (cookie: its index) into the batch. */
static int attach_add(struct ftramp_attach_batch *b, unsigned int idx)
{
	struct afunc *f = agent_func(idx);
	struct ses_func *sf = &agent_sfuncs[idx];
	struct ftramp_attach_opts o = {
		.sz = sizeof(o),
		.cookie = idx,
		.model = f->has_model ? &f->model : NULL,
		.force_far = far_mode,
		.no_dwarf = true,
		.session = f->what & AF_HIST,
		/*
		 * A miss counts once in each program link: one of them
		 * counts into the session file, live (nothing lost when
		 * the program is killed).
		 */
		.missed = &sf->missed,
	};
	/* in the session file: nothing lost when the program dies */
	struct ftramp_attach_opts co = {
		.sz = sizeof(co),
		.cookie = idx,
		.force_far = far_mode,
		.no_dwarf = true,
		.counter = &sf->calls,
	};
	struct ftramp_attach_opts ho = {
		.sz = sizeof(ho),
		.cookie = idx,
		.force_far = far_mode,
		.no_dwarf = true,
		.hist = sf->ticks,
		/* longjmp()'d calls, live: nothing lost when it is killed */
		.unwound = &sf->hs.unwound,
	};
	int k, ret;

	for (k = 0; k < NR_KINDS; k++) {
		bool want;
		ftramp_prog_t prog = prog_for(f, k, &want);

		if (!want)
			continue;
		ret = ftramp_attach_batch__add(b, f->name, k, prog,
					       k == FTRAMP_COUNT ? &co :
					       k == FTRAMP_HIST ? &ho : &o);
		if (ret < 0) {
			say("cannot attach %s to %s: %s", kind_names[k],
			    f->name, err_str(-ret));
			return ret;
		}
		if (prog)
			o.missed = NULL;
	}
	return 0;
}

/* Which function the batch's entry @bad belongs to (from @first). */
static const char *failed_func(long bad, unsigned int first)
{
	unsigned long n = 0;

	/* Entries were added in function order, kinds in order. */
	for (unsigned int i = first; bad >= 0 && i < agent_nr_funcs; i++) {
		struct afunc *f = agent_func(i);
		unsigned int nk = 0;

		for (int k = 0; k < NR_KINDS; k++) {
			bool want;

			prog_for(f, k, &want);
			nk += want;
		}
		if ((unsigned long)bad < n + nk)
			return f->name;
		n += nk;
	}
	return NULL;
}

/*
 * Every link of the -t/--hist/--count/--override functions from @first on
 * in one transaction: each text page made writable once, one
 * synchronisation of the program's threads.  False when it failed (and
 * said why): nothing of it is attached.
 */
static bool attach_from(unsigned int first)
{
	struct ftramp_attach_batch *b = ftramp_attach_batch__new();
	unsigned int i, nr = agent_nr_funcs;
	char model[256];
	size_t n = 0;
	int err = 0;

	if (!b) {
		say("out of memory");
		return false;
	}
	for (i = first; i < nr && !err; i++)
		err = attach_add(b, i);
	if (err) {
		ftramp_attach_batch__free(b);
		return false;
	}
	err = ftramp_attach_batch__commit(b);
	if (err) {
		const char *name = failed_func(ftramp_attach_batch__failed(b),
					       first);
		const char *detail = ftramp_error_detail();

		say("cannot attach%s%s: %s%s%s", name ? " to " : "",
		    name ? name : "", err_str(-err), *detail ? ": " : "",
		    detail);
		ftramp_attach_batch__free(b);
		return false;
	}
	for (i = first; i < nr; i++) {
		struct afunc *f = agent_func(i);
		int k;

		for (k = 0; k < NR_KINDS; k++) {
			bool want;

			prog_for(f, k, &want);
			if (want)
				f->links[k] = ftramp_attach_batch__link(b, n++);
		}
		if (!agent_cfg.verbose)
			continue;
		strcpy(model, f->what & (AF_TRACE | AF_OVERRIDE) ?
		       "unknown" : "none (no program)");
		if (f->has_model)
			ftramp_model__format(&f->model, model, sizeof(model));
		say("attached %s%s%s%s%s%s: model %s%s", f->name,
		    f->links[0] ? " fentry" : "", f->links[1] ? " fexit" : "",
		    f->links[2] ? " fmod_ret" : "", f->links[3] ? " count" : "",
		    f->links[4] ? " hist" : "", model,
		    far_mode ? ", far" : "");
	}
	ftramp_attach_batch__free(b);
	return true;
}

/* A function's model, its --override value, and how its --hist is timed. */
static void func_setup(struct afunc *f)
{
	bool bpf, fmod_ret;

	/*
	 * A model only for the programs that read arguments or the
	 * result: --count and --hist alone run none, and reading DWARF was
	 * most of what starting cost (issue 14).
	 */
	if (f->what & (AF_TRACE | AF_OVERRIDE))
		read_model(f);
	if (f->what & AF_OVERRIDE)
		parse_override(f);
	if (!(f->what & AF_HIST))
		return;
	bpf = agent_bpf_targets(f->name, &fmod_ret);
	/*
	 * The program pair does not time a call an -e object's fmod_ret
	 * program skips (its exit sees no entry time): refused, not a
	 * wrong histogram.  --override's own fmod_ret is timed.
	 */
	if (fmod_ret) {
		say("--hist '%s': an -e object's fmod_ret program overrides it; a histogram of it is not supported",
		    f->name);
		die();
	}
	/*
	 * A function that runs programs anyway (-t, --override, or an -e
	 * object's, attached after) is timed by the program pair: a
	 * FTRAMP_HIST link cannot share a function with them.  Published
	 * with the function, so the report reads the same data.
	 */
	if ((f->what & (AF_TRACE | AF_OVERRIDE)) || bpf)
		f->what |= AF_HIST_PAIR;
}

/* ---------------------------------------------------------------------
 * Later loads
 *
 * A library the program loads with dlopen() is matched against every
 * glob, and its new functions attached in one batch, before dlopen()
 * returns (the site table's settled() call, with no lock of the library
 * held): none of its functions can have run yet, except its constructors.
 * A FUNC@LIB glob may name a library not loaded at start.  A failure here
 * is said, not fatal: the program is already running.  Loads inside the
 * agent's own work (libdw's) are not followed; a fork child starts with
 * the lock free.
 * --------------------------------------------------------------------- */

static pthread_mutex_t later_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread bool in_later;

static void later_settled(struct ftramp_sites *sites, void *ctx)
{
	unsigned int first, i;

	(void)ctx;
	if (in_later)
		return;
	in_later = true;
	pthread_mutex_lock(&later_lock);
	first = agent_nr_funcs;
	for (i = 0; i < nr_globs; i++) {
		struct match_ctx m = { .sel = &globs[i].sel,
				       .what = globs[i].what,
				       .value = globs[i].value };

		if (ftramp_sites__find(sites, globs[i].sel.find, match_site,
				       &m) < 0 || m.err)
			break;
		globs[i].matched += m.usable;
	}
	for (i = first; i < agent_nr_funcs; i++)
		func_setup(agent_func(i));
	if (first < agent_nr_funcs &&
	    (slot_publish(first) || !attach_from(first)))
		say("functions of the library just loaded are not traced");
	pthread_mutex_unlock(&later_lock);
	in_later = false;
}

static void later_atfork_child(void)
{
	pthread_mutex_init(&later_lock, NULL);
	in_later = false;
}

static struct sites_listener later_listener = {
	.settled = later_settled,
};

/*
 * At exit: the FUNC@LIB globs no library ever matched, an error the
 * ftramp process turns into status 125 when the program's was 0.
 */
static void agent_exit(void)
{
	unsigned int i;

	for (i = 0; i < nr_globs; i++)
		if (!globs[i].matched && !slot_follower()) {
			say("%s '%s': the program loaded no library with a matching function",
			    what_opt(globs[i].what), globs[i].glob);
			slot_set_flags(SES_SLOT_UNMATCHED);
		}
}

/* ---------------------------------------------------------------------
 * Start-up
 * --------------------------------------------------------------------- */

static void read_config(void)
{
	const char *s;
	char *end;

	s = getenv(FTRAMP_ENV_STRLEN);
	if (s && *s) {
		long n = strtol(s, &end, 10);

		if (*end || n < 0 || n > 4096) {
			say("%s=%s: expected 0 to 4096", FTRAMP_ENV_STRLEN, s);
			die();
		}
		agent_cfg.strlen_cap = n;
	}
	s = getenv(FTRAMP_ENV_PEEK);
	if (s && *s && ftramp_peek_mode(s)) {
		say("%s=%s: expected vm, write or futex", FTRAMP_ENV_PEEK, s);
		die();
	}
	s = getenv(FTRAMP_ENV_HEXDUMP);
	if (s && *s) {
		long n = strtol(s, &end, 10);

		if (*end || n < 0 || n > 64) {
			say("%s=%s: expected 0 to 64", FTRAMP_ENV_HEXDUMP, s);
			die();
		}
		agent_cfg.hexdump = n;
	}
	s = getenv(FTRAMP_ENV_FAR);
	far_mode = s && *s && strcmp(s, "0");
	s = getenv(FTRAMP_ENV_VERBOSE);
	agent_cfg.verbose = s && *s && strcmp(s, "0");

	s = getenv(FTRAMP_ENV_FOLLOW);
	agent_cfg.follow = s && *s && strcmp(s, "0");
}

/*
 * Without --follow, what this process execs must not see us: drop the
 * variables, our entry in LD_PRELOAD, and the sysroot that `ftramp run`
 * put in front of LD_LIBRARY_PATH for qemu (FTRAMP_LD_LIBRARY_PATH holds
 * the user's, empty for none).
 */
static void clean_environment(void)
{
	static const char *const vars[] = {
		FTRAMP_ENV_TRACE, FTRAMP_ENV_HIST, FTRAMP_ENV_COUNT,
		FTRAMP_ENV_OVERRIDE, FTRAMP_ENV_NOTRACE, FTRAMP_ENV_SESSION,
		FTRAMP_ENV_FOLLOW,
		FTRAMP_ENV_FAR, FTRAMP_ENV_STRLEN, FTRAMP_ENV_VERBOSE,
		FTRAMP_ENV_HEXDUMP, FTRAMP_ENV_PEEK, FTRAMP_ENV_EXEC_QEMU,
		FTRAMP_ENV_EXEC_SYSROOT, FTRAMP_ENV_BPF,
	};
	const char *pre = getenv("LD_PRELOAD");
	const char *lib = getenv(FTRAMP_ENV_LD_LIBRARY_PATH);
	unsigned int i;

	if (lib) {
		if (*lib)
			setenv("LD_LIBRARY_PATH", lib, 1);
		else
			unsetenv("LD_LIBRARY_PATH");
		unsetenv(FTRAMP_ENV_LD_LIBRARY_PATH);
	}
	if (pre) {
		/* keep the entries (':' or ' ' separated) that are not us */
		char *out = calloc(1, strlen(pre) + 1);
		const char *p = pre;

		while (out && *p) {
			size_t n = strcspn(p, ": ");
			const char *slash = memrchr(p, '/', n);
			const char *base = slash ? slash + 1 : p;

			if (n && !(p + n - base == sizeof(FTRAMP_AGENT_NAME) - 1 &&
				   !memcmp(base, FTRAMP_AGENT_NAME, p + n - base))) {
				if (*out)
					strcat(out, ":");
				strncat(out, p, n);
			}
			p += n + !!p[n];
		}
		if (out && *out)
			setenv("LD_PRELOAD", out, 1);
		else
			unsetenv("LD_PRELOAD");
		free(out);
	}
	for (i = 0; i < ARRAY_SIZE(vars); i++)
		unsetenv(vars[i]);
}

__attribute__((constructor)) static void agent_init(void)
{
	const char *session = getenv(FTRAMP_ENV_SESSION);
	struct ftramp_sites *sites;
	unsigned int i;
	int err;

	if (!getenv(FTRAMP_ENV_TRACE) && !getenv(FTRAMP_ENV_HIST) &&
	    !getenv(FTRAMP_ENV_COUNT) && !getenv(FTRAMP_ENV_OVERRIDE) &&
	    !getenv(FTRAMP_ENV_BPF))
		return;		/* preloaded with nothing to do */

	read_config();
	exec_init();
	if (!session || !*session) {
		say("%s is not set: start the program with 'ftramp run', which reads and reports the events",
		    FTRAMP_ENV_SESSION);
		die();
	}
	err = slot_open(session);
	if (err) {
		say("session file %s: %s", session, err_str(-err));
		die();
	}
	event_init();
	/* before main(): whatever mask the program sets leaves them open */
	reclaim_take_signals();
	sites = ftramp_sites__get();
	if (!sites) {
		say("cannot read the patchable sites of this process: %s",
		    err_str(errno));
		die();
	}
	err = select_notrace_init();
	if (err) {
		say("-N: %s", err == -EINVAL ? "expected FUNC or FUNC@LIB" :
		    err_str(err));
		die();
	}
	add_list(sites, FTRAMP_ENV_TRACE, AF_TRACE);
	add_list(sites, FTRAMP_ENV_HIST, AF_HIST);
	add_list(sites, FTRAMP_ENV_COUNT, AF_COUNT);
	add_list(sites, FTRAMP_ENV_OVERRIDE, AF_OVERRIDE);

	for (i = 0; i < agent_nr_funcs; i++)
		func_setup(agent_func(i));
	err = slot_publish(0);
	if (err) {
		say("%u functions: more than the session file holds",
		    agent_nr_funcs);
		die();
	}
	atexit(agent_exit);
	if (agent_nr_funcs && !attach_from(0))
		die();
	agent_bpf_init();
	if (!agent_cfg.follow)
		clean_environment();
	pthread_atfork(NULL, NULL, later_atfork_child);
	sites_listen(sites, &later_listener);
}
