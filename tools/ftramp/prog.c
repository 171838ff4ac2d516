// SPDX-License-Identifier: MIT
/*
 * `ftramp prog OBJ`: what the loader makes of a BPF object (programs,
 * maps, relocations).  It uses the library's own parse and load checks
 * (bpf/object.c, bpf/check.c) and the verifier (bpf/verifier.c), built
 * for the host: the object is read exactly as ftramp_bpf_object__open()
 * and __load() read it, only nothing is created or run.  -v prints the
 * verifier's log of each program (-vv: every instruction's state),
 * --jited the JIT's code (jited.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/bpf.h"
#include "bpf/verifier.h"
#include "cli.h"

static const char *const prog_types[] = {
	[FTRAMP_BPF_PROG_RAW]		= "raw",
	[FTRAMP_BPF_PROG_FENTRY]	= "fentry",
	[FTRAMP_BPF_PROG_FEXIT]		= "fexit",
	[FTRAMP_BPF_PROG_FMOD_RET]	= "fmod_ret",
	[FTRAMP_BPF_PROG_STRUCT_OPS]	= "struct_ops",
};

static const char *const reloc_kinds[] = {
	[BPF_RELOC_MAP]		= "map",
	[BPF_RELOC_MAP_VALUE]	= "map value",
	[BPF_RELOC_CALL]	= "call",
	[BPF_RELOC_FUNC]	= "func address",
};

static int read_all(const char *path, uint8_t **buf, size_t *size)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, n = 0;
	uint8_t *b = NULL, *nb;

	if (!f)
		return -errno;
	for (;;) {
		nb = realloc(b, cap);
		if (!nb) {
			free(b);
			fclose(f);
			return -ENOMEM;
		}
		b = nb;
		n += fread(b + n, 1, cap - n, f);
		if (n < cap)
			break;
		cap *= 2;
	}
	fclose(f);
	*buf = b;
	*size = n;
	return 0;
}

/*
 * Parse @path and check every program; 0, or 1 with the loader's
 * message printed.
 */
static int parse(const char *path, struct ftramp_bpf_object *obj,
		 struct ftramp_bpf_error *e, int verbose)
{
	uint8_t *buf = NULL;
	size_t size = 0;
	int err;

	memset(obj, 0, sizeof(*obj));
	obj->err = e;
	err = read_all(path, &buf, &size);
	if (err) {
		pr_err("%s: %s", path, strerror(-err));
		return 1;
	}
	err = bpf_object_parse(obj, buf, size);
	free(buf);
	for (size_t i = 0; !err && i < obj->nr_progs; i++) {
		struct bpf_vlog log = { .level = verbose };

		err = bpf_check(&obj->progs[i], e);
		if (!err)
			err = bpf_verify(&obj->progs[i], BPF_CTX_UNKNOWN, e, &log,
					 NULL);
		if (verbose) {
			printf("verifier log of %s (section %s):\n%s",
			       obj->progs[i].name, obj->progs[i].sec,
			       log.buf ? log.buf : (err ? "" : "\n"));
			fflush(stdout);
		}
		bpf_vlog_free(&log);
	}
	if (err) {
		pr_err("%s: %s", path, e->code ? e->msg : strerror(-err));
		if (obj->buf)
			bpf_object_free(obj);
		return 1;
	}
	return 0;
}

int cli_bpf_parse(const char *path, struct ftramp_bpf_object *obj,
		  struct ftramp_bpf_error *e)
{
	return parse(path, obj, e, 0);
}

static void usage_prog(FILE *f)
{
	fprintf(f,
"Usage: ftramp prog [-v|-vv] OBJ\n"
"       ftramp prog --jited OBJ [PROG]\n"
"\n"
"List the programs, maps and relocations of a BPF object built with\n"
"clang -O2 -g -target bpf, as ftramp_bpf_object__open() and __load() see\n"
"them, and the engine each program runs in under 'ftramp run -e'\n"
"(JIT, or the interpreter for what the JIT does not take).  Exit status\n"
"1 and the loader's or the verifier's message when the object would be\n"
"refused.\n"
"\n"
"  -v       print the verifier's log of each program (branches, verdict)\n"
"  -vv      the log with every instruction's register and stack state\n"
"  --jited  the arm64 JIT's code of each program (or of PROG): every BPF\n"
"           instruction, then its A64 lines at offsets in the image, as\n"
"           bpftool prog dump jited prints them; map addresses are\n"
"           placeholders\n");
}

int cmd_prog(int argc, char **argv)
{
	struct ftramp_bpf_error e = { 0 };
	struct ftramp_bpf_object obj;
	bool jited = false;
	int verbose = 0, ret;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage_prog(stdout);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "--jited")) {
		jited = true;
		argv++;
		argc--;
	} else if (argc == 3 && (!strcmp(argv[1], "-v") ||
				 !strcmp(argv[1], "-vv"))) {
		verbose = argv[1][2] ? 2 : 1;
		argv++;
		argc--;
	}
	if (argc != 2 && !(jited && argc == 3)) {
		usage_prog(stderr);
		return EXIT_USAGE;
	}
	if (parse(argv[1], &obj, &e, verbose))
		return 1;
	if (jited) {
		ret = cli_prog_jited(&obj, argc == 3 ? argv[2] : NULL);
		bpf_object_free(&obj);
		return ret;
	}
	printf("license: %s\n", obj.license);
	printf("programs:\n");
	for (size_t i = 0; i < obj.nr_progs; i++) {
		const struct ftramp_bpf_program *p = &obj.progs[i];

		int no_jit = bpf_prog_jit_refusal(p);

		printf("  %-20s %-10s %-24s %zu insns at %zu of %s, ", p->name,
		       prog_types[p->type], p->target[0] ? p->target : "-",
		       p->n, p->entry, p->sec);
		if (no_jit)
			printf("interpreter (the JIT takes no %s)\n",
			       bpf_helper_name(no_jit));
		else
			printf("JIT\n");
	}
	printf("maps:\n");
	for (size_t i = 0; i < obj.nr_maps; i++) {
		const struct ftramp_bpf_map *m = &obj.maps[i];
		const char *t = bpf_map_type_str(m->type);

		printf("  %-20s %-12s key %u value %u max_entries %u\n",
		       m->name, t ? t : "?", m->key_size, m->value_size,
		       m->max_entries);
		for (size_t k = 0; k < obj.nr_slots; k++)
			if (obj.slots[k].map == i)
				printf("    slot %u: %s\n", obj.slots[k].key,
				       obj.progs[obj.slots[k].prog].name);
	}
	printf("relocations:\n");
	for (size_t i = 0; i < obj.nr_relocs; i++) {
		const struct bpf_reloc *r = &obj.relocs[i];

		printf("  %s insn %u: %s %s", r->sec, r->insn,
		       reloc_kinds[r->kind], r->sym);
		if (r->kind == BPF_RELOC_MAP || r->kind == BPF_RELOC_MAP_VALUE)
			printf(" -> %s", obj.maps[r->map].name);
		if (r->kind == BPF_RELOC_MAP_VALUE)
			printf(" + %u", r->off);
		if (r->kind == BPF_RELOC_CALL || r->kind == BPF_RELOC_FUNC)
			printf(" -> insn %u", r->off);
		printf("\n");
	}
	bpf_object_free(&obj);
	return 0;
}
