// SPDX-License-Identifier: MIT
/*
 * ftramp dump: build a trampoline with the real emitter (host build of
 * arch/arm64/trampoline.c) for a function model and a set of programs,
 * then disassemble it with capstone and say what each part of the frame
 * does.
 *
 * Everything said about the code is the emitter's own record of what it
 * wrote, so it cannot drift from the code: the parts of the image
 * (frame, entry, each program, the guard around the original, exit, the
 * out-of-line paths, the literal pool: struct ftramp_tramp_note) are
 * printed as headings, and each instruction's note (struct
 * ftramp_tramp_insn) as its comment.  The dump adds only what it alone
 * knows: the cookies it gave the programs, and the argument in each ctx
 * slot, from the model's AAPCS64 layout (arch/arm64/abi.c).  The
 * literal pool is named from the addresses the dump chose.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/abi.h"
#include "cli.h"
#include "trampoline/trampoline.h"

/* Where the dumped function and its programs pretend to live. */
#define DUMP_FUNC	0xaaaaaaaa1000ull	/* a PIE's text */
#define DUMP_PROGS	0xaaaaaaab0000ull	/* programs in that object */
#define DUMP_SLOW	0xaaaaaaabf000ull	/* guard_slow() */
#define DUMP_NONE	0xaaaaaaac0000ull	/* guard_none[] */
#define DUMP_PRUNE	0xaaaaaaabf100ull	/* shadow_prune() */
#define DUMP_FIND	0xaaaaaaabf200ull	/* shadow_find() */
#define DUMP_DROP	0xaaaaaaabf300ull	/* shadow_drop() */
#define DUMP_NEAR	0xaaaaab000000ull	/* a near trampoline: 16 MiB */
#define DUMP_FAR	0xffffb7e00000ull	/* an mmap far from the text */
#define DUMP_TLS_OFF	0x10

void usage_dump(FILE *f)
{
	fprintf(f,
"Usage: ftramp dump [OPTIONS]\n"
"\n"
"Build a trampoline with ftramp's emitter and print its disassembly, each\n"
"instruction commented with its part in the frame.  Nothing is executed:\n"
"the function and program addresses are placeholders.\n"
"\n"
"  -m, --model PROTO   the traced function's C prototype, e.g.\n"
"                      'double (int, const char *, struct { float x, y; })'\n"
"                      (default: the unknown model, every argument register)\n"
"      --fentry N      N fentry programs (default 1 when no count is given)\n"
"      --fexit N       N fexit programs (default 1 when no count is given)\n"
"      --fmod-ret N    N fmod_ret programs\n"
"      --far           trampoline out of BL range of the function and the\n"
"                      programs: calls go through literals\n"
"      --bti           start with `bti c` (for a PROT_BTI page)\n"
"      --lse           ARMv8.1 atomics for the counters\n"
"      --no-guard      no recursion guard and counters\n"
"      --binary FILE   also write the raw image to FILE\n"
"  -h, --help          this text\n");
}

struct dump_opts {
	const char *model_text;
	int nr[FTRAMP_TRAMP_NR_KINDS];
	bool counts_given;
	bool far;
	bool bti;
	bool lse;
	bool no_guard;
	const char *binary;
};

/* What we know about the image, for annotations. */
struct dump_ctx {
	const struct dump_opts *o;
	struct ftramp_func_model model;
	bool have_model;
	struct a64_abi_layout lay;
	struct ftramp_tramp_state state;
	struct ftramp_tramp_link *links[FTRAMP_TRAMP_NR_KINDS];
	struct ftramp_tramp_note notes[4 * FTRAMP_TRAMP_MAX_PROGS + 32];
	struct ftramp_tramp_notes nv;
	struct ftramp_tramp_insn *insns;	/* one per instruction at most */
	struct ftramp_tramp_insns iv;
	unsigned int next_insn;		/* the first note not printed yet */
	uint64_t rx, orig;
	size_t size;
	uint64_t data_start;	/* literal pool and run contexts */
};

static const char *const kind_names[FTRAMP_TRAMP_NR_KINDS] = {
	[FTRAMP_TRAMP_FENTRY]		= "fentry",
	[FTRAMP_TRAMP_MODIFY_RETURN]	= "fmod_ret",
	[FTRAMP_TRAMP_FEXIT]		= "fexit",
};

/* Placeholder program i of a kind: distinct, 4-byte aligned addresses. */
static uint64_t prog_addr(unsigned int kind, unsigned int i)
{
	return DUMP_PROGS + kind * 0x1000 + i * 0x40;
}

/* Describe a value that the code loads or calls. */
static bool name_value(const struct dump_ctx *d, uint64_t v, char *buf,
		       size_t size)
{
	unsigned int k, i;

	for (k = 0; k < FTRAMP_TRAMP_NR_KINDS; k++)
		for (i = 0; i < (unsigned int)d->o->nr[k]; i++)
			if (v == prog_addr(k, i)) {
				snprintf(buf, size, "%s program #%u (cookie %u)",
					 kind_names[k], i, 100 * k + i + 1);
				return true;
			}
	if (v == d->orig) {
		snprintf(buf, size, "the original: the function body, func+8");
		return true;
	}
	if (v == (uint64_t)(uintptr_t)&d->state.inflight) {
		snprintf(buf, size, "&state.inflight");
		return true;
	}
	if (v == (uint64_t)(uintptr_t)&d->state.misses) {
		snprintf(buf, size, "&state.misses");
		return true;
	}
	if (v == DUMP_SLOW) {
		snprintf(buf, size, "guard_slow(): this thread's guard table");
		return true;
	}
	if (v == DUMP_NONE) {
		snprintf(buf, size, "guard_none: the table of a thread without one");
		return true;
	}
	if (v == DUMP_PRUNE) {
		snprintf(buf, size, "shadow_prune(): release dead shadow records");
		return true;
	}
	if (v == DUMP_FIND) {
		snprintf(buf, size, "shadow_find(): the stub's shadow record");
		return true;
	}
	if (v == DUMP_DROP) {
		snprintf(buf, size, "shadow_drop(): release records above ours");
		return true;
	}
	return false;
}

static const char *type_desc(const struct ftramp_type *t, char *buf,
			     size_t size)
{
	switch (t->cls) {
	case FTRAMP_TYPE_INT:
		if (t->flags & FTRAMP_TYPE_STRING)
			snprintf(buf, size, "char *");
		else if (t->flags & FTRAMP_TYPE_POINTER)
			snprintf(buf, size, "pointer");
		else
			snprintf(buf, size, "%s%u", t->flags & FTRAMP_TYPE_SIGNED ?
				 "int" : "uint", t->size * 8);
		break;
	case FTRAMP_TYPE_FLOAT:
		snprintf(buf, size, "%s", t->size == 4 ? "float" :
			 t->size == 8 ? "double" : "long double");
		break;
	case FTRAMP_TYPE_HFA:
		snprintf(buf, size, "HFA %u x %s", t->nmemb,
			 t->elem_size == 4 ? "float" :
			 t->elem_size == 8 ? "double" : "long double");
		break;
	case FTRAMP_TYPE_STRUCT:
		snprintf(buf, size, "struct, %u bytes", t->size);
		break;
	default:
		snprintf(buf, size, "void");
	}
	return buf;
}

/* What ctx slot @slot (may be -1) holds. */
static void slot_desc(const struct dump_ctx *d, long slot, char *buf,
		      size_t size)
{
	const struct a64_abi_layout *lay = &d->lay;
	char ty[48];
	unsigned int i;

	static const char *const below[] = {
		"ctx[-3]: the session cookie",
		"ctx[-2]: the caller's x19",
		"ctx[-1]: the run context pointer",
	};

	if (slot < 0) {
		snprintf(buf, size, "%s", slot >= -3 ? below[slot + 3] : "ctx[?]");
		return;
	}
	if (slot >= lay->nr_arg_slots) {
		long r = slot - lay->nr_arg_slots;

		if (r >= lay->nr_ret_slots) {
			snprintf(buf, size, "ctx[%ld]", slot);
			return;
		}
		if (lay->unknown)
			snprintf(buf, size, "ctx[%ld]: result (%s)", slot,
				 r ? "d0" : "x0");
		else
			snprintf(buf, size, "ctx[%ld]: result%s (%s)", slot,
				 r ? ", part 2" : "",
				 type_desc(&d->model.ret, ty, sizeof(ty)));
		return;
	}
	if (lay->unknown) {
		snprintf(buf, size, "ctx[%ld]: x%ld", slot, slot);
		return;
	}
	for (i = 0; i < lay->nr_args; i++) {
		const struct a64_arg_loc *l = &lay->args[i];

		if (slot < l->slot || slot >= l->slot + l->nslots)
			continue;
		snprintf(buf, size, "ctx[%ld]: arg %u (%s%s%s)", slot, i,
			 type_desc(&d->model.args[i], ty, sizeof(ty)),
			 l->byref ? ", by reference" : "",
			 l->nslots > 1 && slot > l->slot ? ", part 2+" : "");
		return;
	}
	snprintf(buf, size, "ctx[%ld]", slot);
}

/* The emitter's note on the instruction at @off, in words (into @c). */
static void insn_comment(struct dump_ctx *d, uint32_t off, char *c,
			 size_t size)
{
	const struct ftramp_tramp_insn *n;
	const char *desc;
	char a[96], b[96];

	c[0] = 0;
	while (d->next_insn < d->iv.nr && d->insns[d->next_insn].off < off)
		d->next_insn++;
	if (d->next_insn >= d->iv.nr || d->insns[d->next_insn].off != off)
		return;
	n = &d->insns[d->next_insn++];
	desc = ftramp_tramp_insn_desc(n->what);
	if (n->what == FTRAMP_INSN_PROG && n->kind < FTRAMP_TRAMP_NR_KINDS)
		snprintf(a, sizeof(a), "%s program #%u (cookie %u)",
			 kind_names[n->kind], n->index,
			 100 * n->kind + n->index + 1);
	else if (n->what == FTRAMP_INSN_SLOT)
		slot_desc(d, n->slot, a, sizeof(a));
	else
		snprintf(a, sizeof(a), "%s", desc);

	switch (n->how) {
	case FTRAMP_INSN_CALL:
		snprintf(c, size, "call %s", a);
		break;
	case FTRAMP_INSN_LIT:
		snprintf(c, size, "= %s", a);
		break;
	case FTRAMP_INSN_JUMP:
		snprintf(c, size, "jump to %s (RET: no BTI check)", a);
		break;
	case FTRAMP_INSN_SAVE:
	case FTRAMP_INSN_LOAD:
		b[0] = 0;
		if (n->what == FTRAMP_INSN_SLOT && n->nslots == 2)
			slot_desc(d, n->slot + 1, b, sizeof(b));
		snprintf(c, size, "%s %s%s%s",
			 n->how == FTRAMP_INSN_SAVE ? "save" : "load", a,
			 b[0] ? "; " : "", b);
		break;
	default:
		if (n->what == FTRAMP_INSN_FRAME)
			snprintf(c, size, "%s, %u bytes", a, n->imm);
		else
			snprintf(c, size, "%s", a);
	}
}

/* Where the data starts: the emitter's note on the literal pool. */
static void find_data(struct dump_ctx *d)
{
	d->data_start = d->rx + d->size;
	for (unsigned int i = 0; i < d->nv.nr; i++)
		if (d->notes[i].part == FTRAMP_PART_POOL ||
		    d->notes[i].part == FTRAMP_PART_RUN_CTX) {
			d->data_start = d->rx + d->notes[i].off;
			break;
		}
}

/*
 * The emitter's notes that start at @at: a heading each (a blank line
 * before the out-of-line paths), and the part the next instructions
 * belong to.
 */
static void print_notes(struct dump_ctx *d, uint64_t at)
{
	for (unsigned int i = 0; i < d->nv.nr; i++) {
		const struct ftramp_tramp_note *n = &d->notes[i];

		if (d->rx + n->off != at)
			continue;
		if (n->part == FTRAMP_PART_MISS)
			putchar('\n');
		if (n->part == FTRAMP_PART_PROG && n->kind < FTRAMP_TRAMP_NR_KINDS)
			printf("  # %s program #%u (cookie %u): x0 = ctx, call it\n",
			       kind_names[n->kind], n->index,
			       100 * n->kind + n->index + 1);
		else
			printf("  # %s\n", ftramp_tramp_part_desc(n->part));
	}
}

static void dump_data(const struct dump_ctx *d, const uint8_t *img)
{
	uint64_t addr = d->data_start, rctx = d->rx + d->size;
	char what[96];

	for (unsigned int i = 0; i < d->nv.nr; i++)
		if (d->notes[i].part == FTRAMP_PART_RUN_CTX)
			rctx = d->rx + d->notes[i].off;

	printf("\n# literal pool and run contexts (struct ftramp_run_ctx, %zu bytes each)\n",
	       sizeof(struct ftramp_run_ctx));
	while (addr + 8 <= d->rx + d->size) {
		uint64_t v;

		memcpy(&v, img + (addr - d->rx), sizeof(v));
		/* the run contexts follow the literals (emitter's note) */
		if (addr >= rctx &&
		    addr + sizeof(struct ftramp_run_ctx) <= d->rx + d->size) {
			struct ftramp_run_ctx r;

			memcpy(&r, img + (addr - d->rx), sizeof(r));
			printf("  %#llx:  run context: func_ip %#llx, cookie %llu, %s, %u arg slots, %u result slots\n",
			       (unsigned long long)addr,
			       (unsigned long long)r.func_ip,
			       (unsigned long long)r.cookie,
			       r.kind < FTRAMP_TRAMP_NR_KINDS ?
			       kind_names[r.kind] : "?", r.nr_args, r.nr_ret);
			addr += sizeof(r);
			continue;
		}
		printf("  %#llx:  .quad %#-18llx", (unsigned long long)addr,
		       (unsigned long long)v);
		if (name_value(d, v, what, sizeof(what)))
			printf("  // %s", what);
		putchar('\n');
		addr += 8;
	}
}

/* --fentry/--fexit/--fmod-ret N: how many programs of that kind. */
static int parse_count(struct dump_opts *o, const char *opt, const char *arg,
		       enum ftramp_tramp_kind kind)
{
	char *end;
	long n = strtol(arg, &end, 10);

	if (*end || n < 0 || n > FTRAMP_TRAMP_MAX_PROGS) {
		pr_err("%s '%s': expected 0 to %d", opt, arg,
		       FTRAMP_TRAMP_MAX_PROGS);
		return -EINVAL;
	}
	o->nr[kind] = n;
	o->counts_given = true;
	return 0;
}

enum {
	OPT_FENTRY = 0x100,
	OPT_FEXIT,
	OPT_FMOD_RET,
	OPT_FAR,
	OPT_BTI,
	OPT_LSE,
	OPT_NO_GUARD,
	OPT_BINARY,
};

static const struct option dump_options[] = {
	{ "model",	required_argument, NULL, 'm' },
	{ "fentry",	required_argument, NULL, OPT_FENTRY },
	{ "fexit",	required_argument, NULL, OPT_FEXIT },
	{ "fmod-ret",	required_argument, NULL, OPT_FMOD_RET },
	{ "far",	no_argument,	   NULL, OPT_FAR },
	{ "bti",	no_argument,	   NULL, OPT_BTI },
	{ "lse",	no_argument,	   NULL, OPT_LSE },
	{ "no-guard",	no_argument,	   NULL, OPT_NO_GUARD },
	{ "binary",	required_argument, NULL, OPT_BINARY },
	{ "help",	no_argument,	   NULL, 'h' },
	{ }
};

static int parse_args(int argc, char **argv, struct dump_opts *o)
{
	int c, err = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "m:h", dump_options,
				NULL)) != -1) {
		switch (c) {
		case 'm':
			o->model_text = optarg;
			break;
		case OPT_FENTRY:
			err = parse_count(o, "--fentry", optarg,
					  FTRAMP_TRAMP_FENTRY);
			break;
		case OPT_FEXIT:
			err = parse_count(o, "--fexit", optarg,
					  FTRAMP_TRAMP_FEXIT);
			break;
		case OPT_FMOD_RET:
			err = parse_count(o, "--fmod-ret", optarg,
					  FTRAMP_TRAMP_MODIFY_RETURN);
			break;
		case OPT_FAR:
			o->far = true;
			break;
		case OPT_BTI:
			o->bti = true;
			break;
		case OPT_LSE:
			o->lse = true;
			break;
		case OPT_NO_GUARD:
			o->no_guard = true;
			break;
		case OPT_BINARY:
			o->binary = optarg;
			break;
		case 'h':
			usage_dump(stdout);
			return 1;
		default:
			usage_dump(stderr);
			return -EINVAL;
		}
		if (err)
			return err;
	}
	if (optind < argc) {
		pr_err("dump: unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (!o->counts_given) {
		o->nr[FTRAMP_TRAMP_FENTRY] = 1;
		o->nr[FTRAMP_TRAMP_FEXIT] = 1;
	}
	return 0;
}

static int build_image(struct dump_ctx *d, uint8_t **img)
{
	const struct dump_opts *o = d->o;
	struct ftramp_tramp_args args = { 0 };
	unsigned int k, i;
	int bound, len;

	for (k = 0; k < FTRAMP_TRAMP_NR_KINDS; k++) {
		d->links[k] = calloc(o->nr[k] ?: 1, sizeof(*d->links[k]));
		if (!d->links[k])
			return -ENOMEM;
		for (i = 0; i < (unsigned int)o->nr[k]; i++) {
			d->links[k][i].prog =
				(ftramp_prog_t)(uintptr_t)prog_addr(k, i);
			d->links[k][i].cookie = 100 * k + i + 1;
		}
		args.progs[k].links = d->links[k];
		args.progs[k].nr = o->nr[k];
	}
	args.model = d->have_model ? &d->model : NULL;
	args.func_addr = DUMP_FUNC;
	if (o->nr[FTRAMP_TRAMP_FEXIT] || o->nr[FTRAMP_TRAMP_MODIFY_RETURN])
		args.flags |= FTRAMP_TRAMP_F_CALL_ORIG;
	if (o->bti)
		args.flags |= FTRAMP_TRAMP_F_BTI;
	if (o->lse)
		args.flags |= FTRAMP_TRAMP_F_LSE;
	if (!o->no_guard) {
		d->state.guard_slot = 7;
		d->state.guard_tls_off = DUMP_TLS_OFF;
		d->state.guard_slow = (uint8_t *(*)(void))(uintptr_t)DUMP_SLOW;
		/* as trampoline/image.c sets it: no NULL test on entry */
		d->state.guard_none = (const uint8_t *)(uintptr_t)DUMP_NONE;
		/*
		 * As image.c sets them, with a model: the shadow record of
		 * a modelled fexit image.  (Without one the dump keeps the
		 * copied frame, not the library's return hook.)
		 */
		if (d->have_model) {
			d->state.shadow_prune = (void (*)(uint8_t *, uint64_t,
				uint64_t))(uintptr_t)DUMP_PRUNE;
			d->state.shadow_find = (uint64_t (*)(uint8_t *,
				uint64_t, uint64_t))(uintptr_t)DUMP_FIND;
			d->state.shadow_drop = (void (*)(uint8_t *, uint64_t,
				uint64_t))(uintptr_t)DUMP_DROP;
		}
		args.state = &d->state;
	}
	d->nv.v = d->notes;
	d->nv.cap = sizeof(d->notes) / sizeof(d->notes[0]);
	args.notes = &d->nv;
	d->orig = DUMP_FUNC + 8;
	d->rx = o->far ? DUMP_FAR : DUMP_NEAR;

	bound = ftramp_arch_prepare_trampoline(&args, NULL, 0, 0);
	if (bound < 0)
		return bound;
	*img = calloc(1, bound);
	d->insns = calloc(bound / 4, sizeof(*d->insns));
	if (!*img || !d->insns)
		return -ENOMEM;
	d->iv.v = d->insns;
	d->iv.cap = bound / 4;
	args.insns = &d->iv;
	len = ftramp_arch_prepare_trampoline(&args, *img, d->rx, bound);
	if (len < 0)
		return len;
	d->size = len;
	if (d->nv.nr > d->nv.cap)
		d->nv.nr = d->nv.cap;
	if (d->iv.nr > d->iv.cap)
		d->iv.nr = d->iv.cap;
	return bound;
}

static const char *build_error(int err, const struct dump_opts *o,
			       const struct dump_ctx *d)
{
	switch (err) {
	case -EINVAL:
		if (o->nr[FTRAMP_TRAMP_MODIFY_RETURN] && d->have_model &&
		    d->model.ret.cls == FTRAMP_TYPE_VOID)
			return "fmod_ret needs a function that returns a value";
		return "the emitter refused the combination (see Documentation/trampoline.rst)";
	case -E2BIG:
		return "too many arguments, stack slots or programs for one trampoline";
	case -EOPNOTSUPP:
		return "variadic functions cannot be traced with a model";
	default:
		return strerror(-err);
	}
}

int cmd_dump(int argc, char **argv)
{
	struct dump_opts o = { 0 };
	struct dump_ctx d = { 0 };
	struct ftramp_parse_error perr = { 0 };
	char proto[512] = "unknown (every argument register saved)";
	uint8_t *img = NULL;
	struct cli_disasm *dis;
	uint64_t addr;
	unsigned int k;
	int bound, err, ret = 1;

	err = parse_args(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : EXIT_USAGE;
	d.o = &o;

	if (o.model_text) {
		err = ftramp_model__parse(o.model_text, &d.model, &perr);
		if (err) {
			pr_err("--model: %s", perr.msg[0] ? perr.msg :
			       strerror(-err));
			if (perr.col > 0)
				fprintf(stderr, "  %s\n  %*s^\n", o.model_text,
					perr.col - 1, "");
			return EXIT_USAGE;
		}
		d.have_model = true;
		ftramp_model__format(&d.model, proto, sizeof(proto));
	}
	err = a64_abi_layout(d.have_model ? &d.model : NULL, &d.lay);
	if (err) {
		pr_err("--model: %s", build_error(err, &o, &d));
		return EXIT_USAGE;
	}
	bound = build_image(&d, &img);
	if (bound < 0) {
		pr_err("cannot build the trampoline: %s", build_error(bound, &o, &d));
		goto out;
	}
	if (o.binary) {
		FILE *f = fopen(o.binary, "wb");

		if (!f || fwrite(img, 1, d.size, f) != d.size || fclose(f)) {
			pr_err("%s: %s", o.binary, strerror(errno));
			goto out;
		}
	}
	dis = cli_disasm_open();
	if (!dis) {
		pr_err("capstone: cannot open an arm64 disassembler");
		goto out;
	}

	printf("# model:    %s\n", proto);
	printf("# programs:");
	for (k = 0; k < FTRAMP_TRAMP_NR_KINDS; k++)
		printf(" %s %d%s", kind_names[k], o.nr[k],
		       k + 1 < FTRAMP_TRAMP_NR_KINDS ? "," : "");
	printf("\n# image:    %zu bytes (sizing pass bound %d) at %#llx, %s\n",
	       d.size, bound, (unsigned long long)d.rx,
	       o.far ? "far: calls through literals" :
	       "near: direct BL calls");
	printf("# func:     %#llx (placeholder); the site enters with x30 = func+8, x9 = caller's lr\n",
	       (unsigned long long)DUMP_FUNC);
	printf("# ctx:      %u argument slots, %u result slots%s\n\n",
	       d.lay.nr_arg_slots, d.lay.nr_ret_slots,
	       o.no_guard ? "; no recursion guard, no counters" : "");

	find_data(&d);
	for (addr = d.rx; addr < d.data_start && addr + 4 <= d.rx + d.size;
	     addr += 4) {
		char comment[256], mn[32], ops[160], text[200];
		uint32_t word;

		print_notes(&d, addr);
		memcpy(&word, img + (addr - d.rx), sizeof(word));
		insn_comment(&d, (uint32_t)(addr - d.rx), comment,
			     sizeof(comment));
		cli_disasm_one(dis, word, addr, mn, sizeof(mn), ops,
			       sizeof(ops));
		snprintf(text, sizeof(text), "%-7s %s", mn, ops);
		printf("  %#llx:  %08x  %-36s%s%s\n", (unsigned long long)addr,
		       word, text, comment[0] ? "// " : "", comment);
	}
	cli_disasm_close(dis);
	dump_data(&d, img);
	ret = 0;
out:
	for (k = 0; k < FTRAMP_TRAMP_NR_KINDS; k++)
		free(d.links[k]);
	free(d.insns);
	free(img);
	return ret;
}
