// SPDX-License-Identifier: MIT
/*
 * ftramp run: start a program with the preload agent, read what it
 * records, report.
 *
 * The ftramp process is the program's parent.  It creates the session
 * file (agent/session.h) and names it to the agent; the agent
 * (libftramp-agent.so, arm64) reads its configuration from FTRAMP_*
 * environment variables (agent_env.h) in a constructor, attaches before
 * main(), and from then on writes events and counts into the session
 * file only.  We drain the rings while the program runs (a signalfd for
 * the child's exit and for SIGINT/SIGTERM, which we forward, and a poll
 * timeout as the timer), format every output (report.c), and see how the
 * program ended, so that a crash or a kill still leaves every output
 * complete.  The exit status is the program's (its signal, re-raised).
 *
 * On an arm64 host the child execs the program with LD_PRELOAD; elsewhere
 * it execs qemu-aarch64 and lets it start the program:
 *
 *	qemu-aarch64 -L SYSROOT -E LD_LIBRARY_PATH=SYSROOT/lib
 *		     -E LD_PRELOAD=AGENT -0 PROG PATH ARGS...
 *
 * The sysroot's lib comes first in the guest's library path because
 * Debian's arm64 multiarch libc (pulled in by libelf:arm64) is newer than
 * the cross sysroot's ld.so, and mixing the two hangs fork() in the child.
 *
 * qemu's -E splits its argument at commas, so the FTRAMP_* variables (comma
 * separated lists) travel in qemu's own environment, which it hands to the
 * guest unchanged; only the LD_* variables must not reach qemu itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/ringbuf.h"
#include "agent_env.h"
#include "cli.h"
#include "report.h"

#ifndef FTRAMP_AGENT_DIR
#define FTRAMP_AGENT_DIR "/usr/local/lib/ftramp"
#endif
#define DEFAULT_QEMU	"qemu-aarch64"
#define DEFAULT_SYSROOT	"/usr/aarch64-linux-gnu"

struct run_opts {
	char *trace;		/* comma separated lists, or NULL */
	char *hist;
	char *count;
	char *override;
	char *notrace;		/* -N */
	char *bpf;		/* -e: the objects' absolute paths */
	bool maps;		/* --maps */
	const char *engine;	/* --engine: auto (NULL), jit, interp */
	const char *output;
	const char *format;
	const char *agent;
	const char *qemu;
	const char *sysroot;
	const char *strlen_cap;
	const char *hexdump;
	bool far;
	bool verbose;
	bool follow;		/* -f: trace the programs it execs too */
	uint32_t ring_size;	/* --buffer-size, bytes per process */
	bool lib_names;		/* some name is FUNC@LIB */
};

void usage_run(FILE *f)
{
	fprintf(f,
"Usage: ftramp run [OPTIONS] -- PROG [ARGS...]\n"
"\n"
"Run PROG with the ftramp agent preloaded; it attaches before main().\n"
"PROG (and any library to trace) must be built with\n"
"  " FTRAMP_BUILD_FLAGS "\n"
"\n"
"What to do (at least one; every GLOB may be repeated and must match):\n"
"  -t, --trace GLOB        print entry and return of matching functions\n"
"                          with arguments, return value and duration\n"
"      --hist GLOB         log2 latency histogram per function at exit\n"
"      --count GLOB        call counts per function at exit\n"
"      --override FUNC=VALUE\n"
"                          make FUNC return VALUE without running it\n"
"                          (fmod_ret; VALUE non-zero, integer or float)\n"
"  -N, --notrace GLOB      leave the functions GLOB matches out of every\n"
"                          selection above (it need not match)\n"
"  -e, --bpf OBJ           attach the fentry/fexit/fmod_ret programs of the\n"
"                          BPF object OBJ (clang -O2 -g -target bpf); its\n"
"                          bpf_printk() lines and ring buffer records are\n"
"                          printed as they come (see 'ftramp prog OBJ')\n"
"      --maps              with -e: print every map of the objects at exit\n"
"      --engine ENGINE     with -e: how the programs run: auto (default:\n"
"                          the JIT, the interpreter for a program it does\n"
"                          not take), jit (all JIT'd, or fail), interp\n"
"\n"
"Output:\n"
"  -o, --output FILE       write the report to FILE instead of stderr;\n"
"                          %%p in FILE: one file per process, its PID\n"
"      --format FMT        text (default) or chrome: Chrome/Perfetto JSON\n"
"                          trace events (FILE defaults to ftramp.json)\n"
"      --strlen N          print at most N bytes of string arguments (32)\n"
"      --hexdump N         print the first N bytes (0-64) behind other\n"
"                          pointer arguments, in hex (default 0: none)\n"
"      --buffer-size SIZE  events buffered per process (K or M suffix; a\n"
"                          power of two, 64K to 1G; default 8M); when the\n"
"                          program outruns ftramp, events are dropped and\n"
"                          counted, never waited for\n"
"  -v, --verbose           say what was attached, and how\n"
"\n"
"Processes:\n"
"  -f, --follow            trace the programs it execs as well (under\n"
"                          qemu, an arm64 program exec'd is run by the\n"
"                          same qemu); without -f they run untraced,\n"
"                          LD_PRELOAD removed.  Forked children are always traced,\n"
"                          each reported under its PID.\n"
"\n"
"Trampolines:\n"
"      --far               reach every trampoline through the per-callsite\n"
"                          ops literal, as if no near memory existed\n"
"\n"
"Running arm64 code elsewhere (ignored on arm64 hosts):\n"
"      --qemu CMD          qemu user-mode command (env FTRAMP_QEMU,\n"
"                          default " DEFAULT_QEMU ")\n"
"      --sysroot DIR       arm64 sysroot (env FTRAMP_SYSROOT,\n"
"                          default " DEFAULT_SYSROOT ")\n"
"      --agent PATH        the agent library (env FTRAMP_AGENT)\n"
"\n"
"GLOBs are fnmatch(3) patterns on function names; name a shared library's\n"
"function as FUNC@LIB, LIB any of the library's names: its soname\n"
"('inflate*@libz.so.1'), the name reports use (libz.so), its file name or\n"
"path ('inflate*@*/libz.so.1.2.13'); a library PROG loads later with\n"
"dlopen() is traced as it loads.  The exit status is PROG's.\n");
}

/* Append @item to the comma separated list *@list. */
static int list_add(struct run_opts *o, char **list, const char *opt,
		    const char *item)
{
	char *s;

	if (!*item) {
		pr_err("%s: empty argument", opt);
		return -EINVAL;
	}
	if (strchr(item, FTRAMP_ENV_SEP)) {
		pr_err("%s '%s': one name per option (repeat the option)",
		       opt, item);
		return -EINVAL;
	}
	if (asprintf(&s, "%s%s%s", *list ? *list : "", *list ? "," : "",
		     item) < 0)
		return -ENOMEM;
	free(*list);
	*list = s;
	if (strchr(item, '@'))
		o->lib_names = true;
	return 0;
}

/* FUNC=VALUE with VALUE a non-zero integer or a floating-point number. */
static int check_override(const char *arg)
{
	const char *eq = strchr(arg, '=');
	const char *val;
	uint64_t iv;
	double d;
	char *end;

	if (!eq || eq == arg || !eq[1]) {
		pr_err("--override '%s': expected FUNC=VALUE, e.g. kv_put=-28",
		       arg);
		return -EINVAL;
	}
	val = eq + 1;
	/* an integer first (0x10, -28), then a float (1.5, -2e3, inf) */
	errno = 0;
	if (*val == '-')
		iv = strtoll(val, &end, 0);
	else
		iv = strtoull(val, &end, 0);
	if (!*end && !errno) {
		if (!iv)
			goto zero;
		return 0;
	}
	errno = 0;
	d = strtod(val, &end);
	if (!*end && !errno && !isnan(d)) {
		if (d == 0.0)
			goto zero;
		return 0;
	}
	pr_err("--override '%s': '%s' is not a 64-bit integer or a float",
	       arg, val);
	return -EINVAL;
zero:
	pr_err("--override '%s': the value must be non-zero: an fmod_ret program returning 0 lets the function run",
	       arg);
	return -EINVAL;
}

static bool is_file(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode);
}

/* Where the agent is: option, environment, next to us, installed. */
static char *find_agent(const char *opt)
{
	char self[PATH_MAX], *dir, *p;
	ssize_t n;

	if (!opt)
		opt = getenv("FTRAMP_AGENT");
	if (opt) {
		if (!is_file(opt)) {
			pr_err("agent '%s' not found", opt);
			return NULL;
		}
		return realpath(opt, NULL);
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		dir = strrchr(self, '/');
		if (dir)
			*dir = 0;
		if (asprintf(&p, "%s/" FTRAMP_AGENT_NAME, self) >= 0) {
			if (is_file(p))
				return p;
			free(p);
		}
		if (asprintf(&p, "%s/../lib/ftramp/" FTRAMP_AGENT_NAME,
			     self) >= 0) {
			if (is_file(p)) {
				dir = realpath(p, NULL);
				free(p);
				return dir;
			}
			free(p);
		}
	}
	if (is_file(FTRAMP_AGENT_DIR "/" FTRAMP_AGENT_NAME))
		return strdup(FTRAMP_AGENT_DIR "/" FTRAMP_AGENT_NAME);
	pr_err("cannot find " FTRAMP_AGENT_NAME " next to the ftramp binary or in "
	       FTRAMP_AGENT_DIR "; use --agent PATH or FTRAMP_AGENT");
	return NULL;
}

static int set_env(const char *name, const char *value)
{
	if (!value)
		return unsetenv(name) ? -errno : 0;
	return setenv(name, value, 1) ? -errno : 0;
}

static int export_config(const struct run_opts *o, const char *session)
{
	return set_env(FTRAMP_ENV_TRACE, o->trace) ?:
	       set_env(FTRAMP_ENV_HIST, o->hist) ?:
	       set_env(FTRAMP_ENV_COUNT, o->count) ?:
	       set_env(FTRAMP_ENV_OVERRIDE, o->override) ?:
	       set_env(FTRAMP_ENV_NOTRACE, o->notrace) ?:
	       set_env(FTRAMP_ENV_BPF, o->bpf) ?:
	       set_env(FTRAMP_ENV_BPF_ENGINE, o->engine) ?:
	       set_env(FTRAMP_ENV_SESSION, session) ?:
	       set_env(FTRAMP_ENV_FOLLOW, o->follow ? "1" : NULL) ?:
	       set_env(FTRAMP_ENV_FAR, o->far ? "1" : NULL) ?:
	       set_env(FTRAMP_ENV_STRLEN, o->strlen_cap) ?:
	       set_env(FTRAMP_ENV_HEXDUMP, o->hexdump) ?:
	       set_env(FTRAMP_ENV_VERBOSE, o->verbose ? "1" : NULL);
}

#ifdef __aarch64__
const char *cli_sysroot(void)
{
	return NULL;
}

static int exec_target(const struct run_opts *o, const char *agent,
		       const char *path, char **argv)
{
	const char *old = getenv("LD_PRELOAD");
	char *preload;

	if (asprintf(&preload, "%s%s%s", agent, old && *old ? ":" : "",
		     old ? old : "") < 0)
		return -ENOMEM;
	setenv("LD_PRELOAD", preload, 1);
	execv(path, argv);
	pr_err("cannot execute %s: %s", path, strerror(errno));
	return -errno;
}
#else
/* Split a command such as "qemu-aarch64 -cpu max" at blanks. */
static int split_words(char *s, char **words, int max)
{
	int n = 0;
	char *tok, *save;

	for (tok = strtok_r(s, " \t", &save); tok && n < max;
	     tok = strtok_r(NULL, " \t", &save))
		words[n++] = tok;
	return n;
}

/* An environment variable, NULL when unset or empty. */
static const char *env_opt(const char *name)
{
	const char *s = getenv(name);

	return s && *s ? s : NULL;
}

const char *cli_sysroot(void)
{
	return env_opt("FTRAMP_SYSROOT") ?: DEFAULT_SYSROOT;
}

static int exec_target(const struct run_opts *o, const char *agent,
		       const char *path, char **argv)
{
	const char *qemu = o->qemu ?: env_opt("FTRAMP_QEMU") ?: DEFAULT_QEMU;
	const char *sysroot = o->sysroot ?: env_opt("FTRAMP_SYSROOT") ?:
			      DEFAULT_SYSROOT;
	const char *user_lib_path = getenv("LD_LIBRARY_PATH");
	char *qemu_words, *qargv_path, *ld_lib, *ld_pre, *ldso, *qemu_cmd;
	char **qargv;
	int argc, n, i;

	for (argc = 0; argv[argc]; argc++)
		;
	qemu_words = strdup(qemu);
	qargv = calloc(argc + 32, sizeof(*qargv));
	if (!qemu_words || !qargv)
		return -ENOMEM;
	n = split_words(qemu_words, qargv, 16);
	if (!n) {
		pr_err("--qemu: empty command");
		return -EINVAL;
	}
	qargv_path = cli_find_program(qargv[0]);
	if (!qargv_path) {
		pr_err("%s not found: install qemu-user (Debian) or name it with --qemu or FTRAMP_QEMU",
		       qargv[0]);
		return -ENOENT;
	}
	if (asprintf(&ldso, "%s/lib/ld-linux-aarch64.so.1", sysroot) < 0)
		return -ENOMEM;
	if (access(ldso, F_OK)) {
		pr_err("no arm64 sysroot at %s (missing %s): install libc6-dev-arm64-cross or name one with --sysroot or FTRAMP_SYSROOT",
		       sysroot, ldso);
		return -ENOENT;
	}
	/* the agent gives exec'd programs back the user's (agent.c) */
	set_env(FTRAMP_ENV_LD_LIBRARY_PATH,
		user_lib_path ? user_lib_path : "");
	/* an arm64 program it execs goes through the same qemu (agent/exec.c) */
	if (asprintf(&qemu_cmd, "%s", qargv_path) < 0)
		return -ENOMEM;
	for (i = 1; i < n; i++)
		if (asprintf(&qemu_cmd, "%s %s", qemu_cmd, qargv[i]) < 0)
			return -ENOMEM;
	set_env(FTRAMP_ENV_EXEC_QEMU, qemu_cmd);
	set_env(FTRAMP_ENV_EXEC_SYSROOT, sysroot);
	if (asprintf(&ld_lib, "LD_LIBRARY_PATH=%s/lib%s%s", sysroot,
		     user_lib_path && *user_lib_path ? ":" : "",
		     user_lib_path ? user_lib_path : "") < 0 ||
	    asprintf(&ld_pre, "LD_PRELOAD=%s", agent) < 0)
		return -ENOMEM;
	/* qemu -E splits at commas (getsubopt style) */
	if (strchr(ld_lib, ',') || strchr(ld_pre, ',')) {
		pr_err("paths given to qemu -E must not contain commas: %s %s",
		       ld_lib, ld_pre);
		return -EINVAL;
	}
	qargv[n++] = "-L";
	qargv[n++] = (char *)sysroot;
	qargv[n++] = "-E";
	qargv[n++] = ld_lib;
	qargv[n++] = "-E";
	qargv[n++] = ld_pre;
	qargv[n++] = "-0";
	qargv[n++] = argv[0];
	qargv[n++] = (char *)path;
	for (i = 1; i < argc; i++)
		qargv[n++] = argv[i];
	qargv[n] = NULL;

	if (o->verbose) {
		fprintf(stderr, "%s: exec", prog_name);
		for (i = 0; i < n; i++)
			fprintf(stderr, " %s", qargv[i]);
		fputc('\n', stderr);
	}
	execv(qargv_path, qargv);
	pr_err("cannot execute %s: %s", qargv_path, strerror(errno));
	return -errno;
}
#endif

enum {
	OPT_HIST = 0x100,
	OPT_COUNT,
	OPT_OVERRIDE,
	OPT_FORMAT,
	OPT_FAR,
	OPT_QEMU,
	OPT_SYSROOT,
	OPT_AGENT,
	OPT_STRLEN,
	OPT_HEXDUMP,
	OPT_BUFFER,
	OPT_MAPS,
	OPT_ENGINE,
};

/* ---------------------------------------------------------------------
 * The session and the child
 * --------------------------------------------------------------------- */

/*
 * The geometry: 64 KiB pages suit every arm64 kernel's page size (and
 * the host's); a ring per process, drained every few milliseconds; room
 * for 65536 functions; 1024 processes (a test suite's wrappers).  The
 * file is sparse: untouched pages cost nothing, and the ring of a process
 * that is gone is given back (session_retire()).
 */
#define SES_PAGE	65536u
#define SES_RING	(8u << 20)
#define SES_FUNCS	65536u
#define SES_NAMES	(4u << 20)
#define SES_SLOTS	1024u

struct session {
	char *path;
	int fd;
	bool is_file;		/* removed at the end */
	struct ses_geom g;
	struct ses_header *hdr;
	bool *mapped;		/* per slot */
	bool *retired;		/* per slot: its ring's pages given back */
	/* the site-and-model tables (session_table(), session_serve()) */
	struct ses_slot **slot_page;	/* per slot: its page, for requests */
	uint64_t end;		/* the file's size: tables are appended */
	const char *sysroot;
	char *lib_path;
	bool models;
	bool verbose;		/* -v: the file's size at the end */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * A memfd, named to the agent as /proc/PID/fd/N: nothing to remove after a
 * crash of ours, and no tmpfs size limit to fault on (the file is sparse,
 * and a page the program touches past a full /dev/shm would be SIGBUS).
 * Without memfd_create(), a file in /dev/shm, else $TMPDIR or /tmp,
 * removed at the end.
 */
static int session_open(struct session *s)
{
	const char *dir = "/dev/shm";

	s->fd = memfd_create("ftramp-session", MFD_CLOEXEC);
	if (s->fd >= 0)
		return asprintf(&s->path, "/proc/%d/fd/%d", (int)getpid(),
				s->fd) < 0 ? -ENOMEM : 0;
	if (access(dir, W_OK | X_OK))
		dir = getenv("TMPDIR") && *getenv("TMPDIR") ?
		      getenv("TMPDIR") : "/tmp";
	if (asprintf(&s->path, "%s/ftramp-%d-XXXXXX", dir, (int)getpid()) < 0)
		return -ENOMEM;
	s->fd = mkostemp(s->path, O_CLOEXEC);
	if (s->fd < 0) {
		pr_err("cannot create the session file in %s: %s", dir,
		       strerror(errno));
		return -errno;
	}
	s->is_file = true;
	return 0;
}

static int session_create(struct session *s, uint32_t ring_size)
{
	if (session_open(s))
		return -1;
	ses_geom_init(&s->g, SES_PAGE, ring_size, SES_FUNCS, SES_NAMES,
		      SES_SLOTS);
	s->mapped = calloc(SES_SLOTS, sizeof(*s->mapped));
	s->retired = calloc(SES_SLOTS, sizeof(*s->retired));
	if (!s->mapped || !s->retired || ftruncate(s->fd, s->g.file_size)) {
		pr_err("%s: %s", s->path, strerror(errno ?: ENOMEM));
		return -1;
	}
	s->hdr = mmap(NULL, sizeof(*s->hdr), PROT_READ | PROT_WRITE,
		      MAP_SHARED, s->fd, 0);
	if (s->hdr == MAP_FAILED) {
		pr_err("%s: %s", s->path, strerror(errno));
		return -errno;
	}
	memcpy(s->hdr->magic, SES_MAGIC, sizeof(SES_MAGIC));
	s->hdr->version = SES_VERSION;
	s->hdr->page_size = s->g.page;
	s->hdr->slots_off = s->g.slots_off;
	s->hdr->slot_size = s->g.slot_size;
	s->hdr->nr_slots = s->g.nr_slots;
	s->hdr->ring_size = s->g.ring_size;
	s->hdr->max_funcs = s->g.max_funcs;
	s->hdr->names_size = s->g.names_size;
	s->hdr->funcs_off = s->g.funcs_off;
	s->hdr->names_off = s->g.names_off;
	s->hdr->t0 = mono_ns();
	return 0;
}

static void session_serve(struct session *s);

/* Map the slots that became live since the last look. */
static void session_scan(struct session *s, struct rproc **procs)
{
	uint32_t n = __atomic_load_n(&s->hdr->next_slot, __ATOMIC_RELAXED);
	uint32_t i;

	if (n > s->g.nr_slots)
		n = s->g.nr_slots;
	for (i = 0; i < n; i++) {
		struct ses_map m;
		uint32_t state;
		int err;

		if (s->mapped[i])
			continue;
		err = ses_slot_map(&m, &s->g, s->fd, i, NULL);
		if (err) {
			pr_warn("session slot %u: %s", i, strerror(-err));
			s->mapped[i] = true;
			continue;
		}
		state = __atomic_load_n(&m.slot->state, __ATOMIC_ACQUIRE);
		if (state != SES_LIVE) {
			ses_slot_unmap(&m, &s->g);
			continue;
		}
		s->mapped[i] = true;
		procs[i] = report_proc_add(&s->g, i, &m);
	}
}

static bool session_drain(struct session *s, struct rproc **procs)
{
	bool any = false;
	uint32_t i;

	for (i = 0; i < s->g.nr_slots; i++)
		if (procs[i])
			any |= report_drain(procs[i]);
	return any;
}

/*
 * A process that is gone (no such pid), or an image replaced by exec (a
 * later slot with its pid), writes no more events: once its ring is
 * drained, its pages go back to the system (the counts stay).  A pid
 * reused by another process only delays that.
 */
static void session_retire(struct session *s, struct rproc **procs)
{
	uint32_t i, j;

	for (i = 0; i < s->g.nr_slots; i++) {
		pid_t pid;
		bool gone;

		if (!procs[i] || s->retired[i])
			continue;
		pid = report_proc_pid(procs[i]);
		gone = pid > 0 && kill(pid, 0) && errno == ESRCH;
		for (j = i + 1; j < s->g.nr_slots && !gone; j++)
			gone = procs[j] && report_proc_pid(procs[j]) == pid;
		if (!gone || report_drain(procs[i]))
			continue;
		s->retired[i] = true;
		fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  s->g.slots_off + i * s->g.slot_size + s->g.page,
			  ringbuf_file_size(s->g.ring_size, s->g.page));
	}
}

/*
 * -v: how many slots the run used and what the file costs once every
 * ring of a process that is gone has been given back: the size is fixed
 * at the start (the slots) and grows only by the tables of libraries
 * loaded later; what is allocated is each slot's page, counters and names,
 * and the rings of processes still running.
 */
static void session_stats(struct session *s, struct rproc **procs)
{
	uint32_t used = __atomic_load_n(&s->hdr->next_slot, __ATOMIC_RELAXED);
	struct stat st;

	session_retire(s, procs);
	if (fstat(s->fd, &st))
		return;
	fprintf(stderr, "%s: session file: %u of %u slots used, %llu KiB, %llu KiB allocated\n",
		prog_name, (unsigned)(used < s->g.nr_slots ? used : s->g.nr_slots),
		(unsigned)s->g.nr_slots, (unsigned long long)st.st_size >> 10,
		(unsigned long long)st.st_blocks * 512 >> 10);
}

/*
 * Wait for the child, draining as it runs.  SIGINT, SIGTERM, SIGHUP and
 * SIGQUIT sent to us alone (kill(1)) are passed on; from the terminal
 * the child got its own (the same process group).
 */
static int supervise(struct session *s, pid_t child, int sfd)
{
	struct rproc **procs = calloc(s->g.nr_slots, sizeof(*procs));
	int status = 0, rounds = 0;
	bool busy = false;

	if (!procs)
		return -ENOMEM;
	for (;;) {
		struct pollfd pfd = { .fd = sfd, .events = POLLIN };
		struct signalfd_siginfo si;

		session_serve(s);
		session_scan(s, procs);
		busy = session_drain(s, procs);
		busy |= cli_bpf_drain(report_out());
		if (!(++rounds % 64))
			session_retire(s, procs);
		/* the timer: a busy ring is read again soon */
		if (poll(&pfd, 1, busy ? 1 : 10) <= 0)
			continue;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo != SIGCHLD) {
			if (si.ssi_code != SI_KERNEL)
				kill(child, si.ssi_signo);
			continue;
		}
		if (waitpid(child, &status, WNOHANG) == child)
			break;
	}
	/* what it wrote before it ended (and what its children write) */
	session_scan(s, procs);
	while (session_drain(s, procs) | cli_bpf_drain(report_out()))
		;
	if (s->verbose)
		session_stats(s, procs);
	free(procs);
	return status;
}

/* Our exit status is the program's: its exit code, or its signal. */
static int pass_status(int status)
{
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		struct rlimit no_core = { 0, 0 };
		sigset_t set;

		/* the program dumped its core already, if it could */
		setrlimit(RLIMIT_CORE, &no_core);
		signal(sig, SIG_DFL);
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		fflush(NULL);
		raise(sig);
		return 128 + sig;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/*
 * The sites and models of the program and the libraries it will load,
 * read here (natively) and put after the slots for the agent, which then
 * reads no ELF or DWARF of its own (table.c).  Models only when the run
 * reads arguments or results: --count and --hist need none.  A failure
 * is not fatal: the agent reads the sites itself, without models.
 */
/* Append the table of @path (and its libraries) to the file: 0 or errno. */
static int table_append(struct session *s, const char *path, uint64_t *off,
			uint64_t *size)
{
	void *buf;
	size_t len, done = 0;
	uint64_t at = (s->end + s->g.page - 1) & ~(s->g.page - 1);
	int err = -cli_table_build(path, s->sysroot, s->lib_path, s->models,
				   &buf, &len);

	if (err)
		return err;
	if (ftruncate(s->fd, at + len)) {
		err = errno;
		goto out;
	}
	while (done < len) {
		ssize_t n = pwrite(s->fd, (char *)buf + done, len - done,
				   at + done);

		if (n <= 0) {
			err = n < 0 ? errno : EIO;
			goto out;
		}
		done += n;
	}
	s->end = at + len;
	*off = at;
	*size = len;
out:
	free(buf);
	return err;
}

static int session_table(struct session *s, const struct run_opts *o,
			 const char *path)
{
	const char *user = getenv("LD_LIBRARY_PATH");
	uint64_t off, size;
	int err;

	s->end = s->hdr->bpf_size ? s->hdr->bpf_off + s->hdr->bpf_size :
				    s->g.file_size;
	s->models = o->trace || o->override || o->bpf;
	s->slot_page = calloc(s->g.nr_slots, sizeof(*s->slot_page));
	if (!s->slot_page)
		return -1;
#ifdef __aarch64__
	s->sysroot = NULL;
	s->lib_path = user ? strdup(user) : NULL;
#else
	s->sysroot = o->sysroot ?: env_opt("FTRAMP_SYSROOT") ?: DEFAULT_SYSROOT;
	/* the guest's path: the sysroot's lib first (exec_target()) */
	if (asprintf(&s->lib_path, "%s/lib%s%s", s->sysroot,
		     user && *user ? ":" : "", user ? user : "") < 0)
		s->lib_path = NULL;
#endif
	err = table_append(s, path, &off, &size);
	if (err == ENOMEM || err == ENOSPC || err == EIO) {
		pr_err("%s: %s", s->path, strerror(err));
		return -1;
	}
	if (err) {
		pr_warn("cannot read the program's sites and models ahead: %s (the agent reads the sites itself, without argument models)",
			strerror(err));
		return 0;
	}
	s->hdr->table_off = off;
	s->hdr->table_size = size;
	return 0;
}

/*
 * Answer the agents' requests for the table of a library loaded after
 * the start (session.h, struct ses_slot): read it here, append it, say
 * where.  Size 0 when it cannot be read: the agent reads the symbols.
 */
static void session_serve(struct session *s)
{
	uint32_t n = __atomic_load_n(&s->hdr->next_slot, __ATOMIC_RELAXED);

	if (!s->slot_page || !s->hdr->table_size)
		return;
	if (n > s->g.nr_slots)
		n = s->g.nr_slots;
	for (uint32_t i = 0; i < n; i++) {
		struct ses_slot *sl = s->slot_page[i];
		uint64_t off = 0, size = 0;
		char path[sizeof(sl->req_path)];
		uint32_t seq;

		if (!sl) {
			sl = mmap(NULL, sizeof(*sl), PROT_READ | PROT_WRITE,
				  MAP_SHARED, s->fd,
				  s->g.slots_off + (uint64_t)i * s->g.slot_size);
			if (sl == MAP_FAILED)
				continue;
			s->slot_page[i] = sl;
		}
		seq = __atomic_load_n(&sl->req_seq, __ATOMIC_ACQUIRE);
		if (seq == __atomic_load_n(&sl->ans_seq, __ATOMIC_RELAXED))
			continue;
		memcpy(path, sl->req_path, sizeof(path));
		path[sizeof(path) - 1] = 0;
		if (table_append(s, path, &off, &size))
			size = 0;
		sl->ans_off = off;
		sl->ans_size = size;
		__atomic_store_n(&sl->ans_seq, seq, __ATOMIC_RELEASE);
	}
}

/*
 * The BPF area (session.h, struct ses_bpf) right after the slots, sized
 * for the -e objects' maps; the tables come after it.
 */
static int session_bpf(struct session *s)
{
	uint64_t page = s->g.page;
	uint64_t size = (cli_bpf_area_size(page) + page - 1) & ~(page - 1);

	if (ftruncate(s->fd, s->g.file_size + size)) {
		pr_err("%s: %s", s->path, strerror(errno));
		return -1;
	}
	s->hdr->bpf_off = s->g.file_size;
	s->hdr->bpf_size = size;
	cli_bpf_session(s->fd, s->hdr->bpf_off, size);
	return 0;
}

static int run_session(const struct run_opts *o, const char *agent,
		       const char *path, char **argv)
{
	struct report_opts ro = {
		.output = o->output,
		.chrome = o->format && !strcmp(o->format, "chrome"),
		.trace = o->trace,
		.verbose = o->verbose,
	};
	struct session s = { .fd = -1, .verbose = o->verbose };
	sigset_t set, old;
	int sfd, status, err;
	bool unmatched;
	pid_t child, parent;

	if (session_create(&s, o->ring_size) ||
	    (o->bpf && session_bpf(&s)) || session_table(&s, o, path))
		goto fail;
	err = export_config(o, s.path);
	if (err) {
		pr_err("cannot set the environment: %s", strerror(-err));
		goto fail;
	}
	if (report_init(&ro, s.hdr))
		goto fail;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, &old);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0) {
		pr_err("signalfd: %s", strerror(errno));
		goto fail;
	}
	fflush(NULL);
	parent = getpid();
	child = fork();
	if (child < 0) {
		pr_err("fork: %s", strerror(errno));
		goto fail;
	}
	if (!child) {
		/* no one would read its events: ftramp killed, or `| head` */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		sigprocmask(SIG_SETMASK, &old, NULL);
		exec_target(o, agent, path, argv);
		_exit(1);
	}
	status = supervise(&s, child, sfd);
	if (o->maps)
		cli_bpf_dump_maps(report_out());
	/* the agent said which glob (agent_exit()) */
	unmatched = report_any_slot_flag(SES_SLOT_UNMATCHED);
	err = report_finish(child, status);
	if (s.is_file)
		unlink(s.path);
	if (err && WIFEXITED(status) && !WEXITSTATUS(status))
		return 1;
	if (unmatched && WIFEXITED(status) && !WEXITSTATUS(status))
		return 125;
	return pass_status(status);
fail:
	if (s.is_file)
		unlink(s.path);
	return 1;
}

static const struct option run_options[] = {
	{ "trace",	required_argument, NULL, 't' },
	{ "hist",	required_argument, NULL, OPT_HIST },
	{ "count",	required_argument, NULL, OPT_COUNT },
	{ "override",	required_argument, NULL, OPT_OVERRIDE },
	{ "notrace",	required_argument, NULL, 'N' },
	{ "bpf",	required_argument, NULL, 'e' },
	{ "maps",	no_argument,	   NULL, OPT_MAPS },
	{ "engine",	required_argument, NULL, OPT_ENGINE },
	{ "output",	required_argument, NULL, 'o' },
	{ "format",	required_argument, NULL, OPT_FORMAT },
	{ "far",	no_argument,	   NULL, OPT_FAR },
	{ "qemu",	required_argument, NULL, OPT_QEMU },
	{ "sysroot",	required_argument, NULL, OPT_SYSROOT },
	{ "agent",	required_argument, NULL, OPT_AGENT },
	{ "strlen",	required_argument, NULL, OPT_STRLEN },
	{ "hexdump",	required_argument, NULL, OPT_HEXDUMP },
	{ "buffer-size", required_argument, NULL, OPT_BUFFER },
	{ "verbose",	no_argument,	   NULL, 'v' },
	{ "follow",	no_argument,	   NULL, 'f' },
	{ "help",	no_argument,	   NULL, 'h' },
	{ }
};

int cmd_run(int argc, char **argv)
{
	struct run_opts o = { .ring_size = SES_RING };
	char *path, *agent, *end;
	bool has_sites;
	int c, err = 0;
	long n;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+t:N:e:o:fvh", run_options,
				NULL)) != -1) {
		switch (c) {
		case 't':
			err = list_add(&o, &o.trace, "-t", optarg);
			break;
		case OPT_HIST:
			err = list_add(&o, &o.hist, "--hist", optarg);
			break;
		case OPT_COUNT:
			err = list_add(&o, &o.count, "--count", optarg);
			break;
		case OPT_OVERRIDE:
			err = check_override(optarg) ?:
			      list_add(&o, &o.override, "--override", optarg);
			break;
		case 'N': {
			bool lib_names = o.lib_names;

			/* an exclusion is no reason to look at libraries */
			err = list_add(&o, &o.notrace, "-N", optarg);
			o.lib_names = lib_names;
			break;
		}
		case 'e': {
			char *abs = realpath(optarg, NULL);

			if (!abs) {
				pr_err("-e %s: %s", optarg, strerror(errno));
				return 1;
			}
			if (strchr(abs, FTRAMP_ENV_SEP)) {
				pr_err("-e %s: the path must not contain a comma",
				       abs);
				return EXIT_USAGE;
			}
			/* checked now, by the library's loader: before anything runs */
			if (cli_bpf_add(abs))
				return 1;
			err = list_add(&o, &o.bpf, "-e", abs);
			free(abs);
			break;
		}
		case OPT_MAPS:
			o.maps = true;
			break;
		case OPT_ENGINE:
			if (strcmp(optarg, "auto") && strcmp(optarg, "jit") &&
			    strcmp(optarg, "interp")) {
				pr_err("--engine '%s': expected auto, jit or interp",
				       optarg);
				err = -EINVAL;
			}
			o.engine = optarg;
			break;
		case 'o':
			o.output = optarg;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "text") && strcmp(optarg, "chrome")) {
				pr_err("--format '%s': expected text or chrome",
				       optarg);
				err = -EINVAL;
			}
			o.format = optarg;
			break;
		case OPT_FAR:
			o.far = true;
			break;
		case OPT_QEMU:
			o.qemu = optarg;
			break;
		case OPT_SYSROOT:
			o.sysroot = optarg;
			break;
		case OPT_AGENT:
			o.agent = optarg;
			break;
		case OPT_STRLEN:
			n = strtol(optarg, &end, 10);
			if (*end || n < 0 || n > 4096) {
				pr_err("--strlen '%s': expected 0 to 4096", optarg);
				err = -EINVAL;
			}
			o.strlen_cap = optarg;
			break;
		case OPT_HEXDUMP:
			n = strtol(optarg, &end, 10);
			if (!*optarg || *end || n < 0 || n > 64) {
				pr_err("--hexdump '%s': expected 0 to 64", optarg);
				err = -EINVAL;
			}
			o.hexdump = optarg;
			break;
		case OPT_BUFFER:
			n = strtol(optarg, &end, 10);
			if (n < 0 || n > (1l << 30))
				n = 0;		/* refused below */
			if (*end == 'K' || *end == 'k')
				n <<= 10, end++;
			else if (*end == 'M' || *end == 'm')
				n <<= 20, end++;
			if (end == optarg || *end || n < (long)SES_PAGE ||
			    n > (1l << 30) || (n & (n - 1))) {
				pr_err("--buffer-size '%s': expected a power of two from 64K to 1G",
				       optarg);
				err = -EINVAL;
			}
			o.ring_size = n;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'f':
			o.follow = true;
			break;
		case 'h':
			usage_run(stdout);
			return 0;
		default:
			usage_run(stderr);
			return EXIT_USAGE;
		}
		if (err)
			return EXIT_USAGE;
	}
	if (optind >= argc) {
		pr_err("run: no program given (ftramp run [OPTIONS] -- PROG [ARGS])");
		return EXIT_USAGE;
	}
	if (!o.trace && !o.hist && !o.count && !o.override && !o.bpf) {
		pr_err("run: nothing to do: give -t, --hist, --count, --override or -e");
		return EXIT_USAGE;
	}
	if (o.maps && !o.bpf) {
		pr_err("run: --maps dumps the maps of -e objects: give -e OBJ");
		return EXIT_USAGE;
	}
	if (o.engine && !o.bpf) {
		pr_err("run: --engine says how -e programs run: give -e OBJ");
		return EXIT_USAGE;
	}
	if (o.format && !strcmp(o.format, "chrome") && !o.output)
		o.output = "ftramp.json";

	path = cli_find_program(argv[optind]);
	if (!path) {
		pr_err("%s: program not found%s", argv[optind],
		       strchr(argv[optind], '/') ? "" : " in PATH");
		return 1;
	}
	if (cli_check_elf(path, &has_sites))
		return 1;
	/*
	 * The agent is a preload: without a dynamic loader (PT_INTERP) no one
	 * reads LD_PRELOAD, and the program would run untraced and say
	 * nothing.
	 */
	if (cli_has_interp(path) == 0) {
		pr_err("%s: statically linked: the preloaded agent cannot reach it (no dynamic loader reads LD_PRELOAD). Link it dynamically, or link libftramp.a into it and attach from the program with the API (see Documentation/building-your-program.rst, \"Static programs\")",
		       argv[optind]);
		return EXIT_AGENT;
	}
	/* A program without sites may still load libraries with some. */
	if (!has_sites && !o.lib_names) {
		pr_err("%s: no patchable function entries: build it with %s",
		       argv[optind], FTRAMP_BUILD_FLAGS);
		return 1;
	}
	agent = find_agent(o.agent);
	if (!agent)
		return 1;
	/* a relative path must not look like an option to qemu */
	if (path[0] == '-') {
		char *p;

		if (asprintf(&p, "./%s", path) < 0)
			return 1;
		path = p;
	}
	return run_session(&o, agent, path, argv + optind);
}
