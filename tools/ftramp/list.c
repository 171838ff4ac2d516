// SPDX-License-Identifier: MIT
/*
 * ftramp list: the patchable sites of a program or library, read from the
 * file (ftrace/elf_sites.c): file addresses, sizes, and whether ftramp can
 * use each site or why not.  Names are those `ftramp run` reports: "sym"
 * in a program, "sym@libname.so" in a shared library (its soname, else its
 * file name, without the version), and GLOBs select as run's do
 * (agent/libsel.h).  A library named without a '/' is found as the loader
 * would find it.  --models reads each
 * listed function's model from the DWARF (ftrace/dwarf.c, the rule attach
 * applies: a compiler clone gets the unknown model unless its DWARF
 * proves its own convention).
 */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/libsel.h"
#include "cli.h"
#include "ftrace/elf_sites.h"
#include "ftrace/ftrace.h"

void usage_list(FILE *f)
{
	fprintf(f,
"Usage: ftramp list [OPTIONS] PROG|LIB [GLOB]\n"
"\n"
"List the functions of PROG or LIB that have patchable entries, with their\n"
"file address, size and status: usable, or why ftramp will not touch them.\n"
"A LIB without a '/' (libz.so.1) is found as the loader would find it:\n"
"LD_LIBRARY_PATH, then the default directories (under the sysroot,\n"
"FTRAMP_SYSROOT, off arm64).  GLOB (fnmatch(3)) selects by name, as\n"
"`ftramp run -t` would; a library's functions are named FUNC@LIB, with LIB\n"
"its soname without the version (libz.so), and FUNC@LIB selects with LIB\n"
"any of its names (libz.so, libz.so.1, its file name or path).\n"
"\n"
"  -N, --notrace GLOB leave out the functions GLOB matches (repeatable)\n"
"  -u, --usable       only the usable sites\n"
"  -m, --models       the model each function gets from its DWARF: a\n"
"                     prototype, or \"unknown (why)\" where ftramp saves every\n"
"                     argument register instead (clones, no debug info...)\n"
"  -h, --help         this text\n");
}

struct list_row {
	char *name;
	const struct elf_site *site;
};

static const struct option list_options[] = {
	{ "usable",	no_argument, NULL, 'u' },
	{ "notrace",	required_argument, NULL, 'N' },
	{ "models",	no_argument, NULL, 'm' },
	{ "help",	no_argument, NULL, 'h' },
	{ }
};

static const char *site_flags(const struct elf_site *s)
{
	if ((s->flags & FTRAMP_SITE_F_BTI) && (s->flags & FTRAMP_SITE_F_LOCAL))
		return "bti,static";
	if (s->flags & FTRAMP_SITE_F_CLONE)
		return (s->flags & FTRAMP_SITE_F_BTI) ? "bti,clone" : "clone";
	if (s->flags & FTRAMP_SITE_F_BTI)
		return "bti";
	if (s->flags & FTRAMP_SITE_F_LOCAL)
		return "static";
	if (s->flags & FTRAMP_SITE_F_WEAK)
		return "weak";
	return "-";
}

/* Whether @glob selects @name, a function of the object known by @n. */
static bool selects(const char *glob, const char *name,
		    const struct libsel_names *n)
{
	char func[512];
	const char *lib, *at;

	if (libsel_split(glob, func, sizeof(func), &lib))
		return false;
	if (!lib)
		return !fnmatch(glob, name, 0);
	at = *n->report ? strrchr(name, '@') : NULL;
	if (!at || (size_t)(at - name) >= sizeof(func))
		return false;
	return !fnmatch(func, strndupa(name, at - name), 0) &&
	       libsel_match(lib, n);
}

/*
 * "  model: int (int32_t, int32_t)" or "  model: unknown (clone)": from
 * @dw, the object's DWARF opened once for every row, or @dw_err.
 */
static void print_model(struct ftrace_dwarf *dw, int dw_err,
			const struct elf_site *s)
{
	struct ftramp_func_model m;
	const char *why;
	char buf[512];
	int err;

	err = dw ? ftrace_dwarf_lookup(dw, s->func, s->symbol, &m, NULL) :
		   dw_err;
	if (!err && (m.flags & FTRAMP_MODEL_VARIADIC))
		err = -EOPNOTSUPP;
	if (!err && ftramp_model__format(&m, buf, sizeof(buf)) > 0) {
		printf("  model: %s", buf);
		return;
	}
	switch (err) {
	case -EPROTO:
		why = (s->flags & FTRAMP_SITE_F_CLONE) ? "clone" :
			"DWARF disagrees with AAPCS64";
		break;
	case -ENODATA:
		why = "no DWARF";
		break;
	case -E2BIG:
		why = "too many arguments";
		break;
	case -EOPNOTSUPP:
		why = (!err || (m.flags & FTRAMP_MODEL_VARIADIC)) ?
			"variadic" : "a type no model describes";
		break;
	default:
		why = strerror(-err);
		break;
	}
	printf("  model: unknown (%s)", why);
}

int cmd_list(int argc, char **argv)
{
	struct list_row *rows;
	struct ftrace_dwarf *dw = NULL;
	const char *path, *glob = NULL, **notrace = NULL;
	size_t nr_notrace = 0;
	char object[256] = "", *soname = NULL, *real = NULL;
	struct libsel_names names = { .report = object };
	struct elf_sites *es;
	size_t i, n = 0, usable = 0, total_usable = 0;
	bool only_usable = false, models = false, has_sites;
	int c, err, dw_err = -ENODATA, addr_w = 7;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+uN:mh", list_options, NULL)) != -1) {
		switch (c) {
		case 'u':
			only_usable = true;
			break;
		case 'N': {
			const char **p = realloc(notrace, (nr_notrace + 1) *
						 sizeof(*p));

			if (!p)
				return 1;
			notrace = p;
			notrace[nr_notrace++] = optarg;
			break;
		}
		case 'm':
			models = true;
			break;
		case 'h':
			usage_list(stdout);
			return 0;
		default:
			usage_list(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc || argc - optind > 2) {
		usage_list(stderr);
		return EXIT_USAGE;
	}
	path = cli_find_program(argv[optind]);
	if (!path)
		path = cli_find_library(argv[optind], cli_sysroot());
	if (!path) {
		pr_err("%s: no such program or library%s", argv[optind],
		       strchr(argv[optind], '/') ? "" :
		       " (in PATH, or where the loader looks: LD_LIBRARY_PATH, the default directories)");
		return 1;
	}
	if (argc - optind == 2)
		glob = argv[optind + 1];

	if (cli_check_elf(path, &has_sites))
		return 1;
	err = elf_sites__read_path(path, &es);
	if (err) {
		pr_err("%s: cannot read its sites: %s", path, strerror(-err));
		return 1;
	}
	if (!es->nr_sites) {
		pr_err("%s: no patchable function entries: build it with %s",
		       path, FTRAMP_BUILD_FLAGS);
		elf_sites__free(es);
		return 1;
	}
	if (!es->executable) {
		soname = cli_elf_soname(path);
		real = realpath(path, NULL);
		elf_sites__object_name(soname ?: path, object, sizeof(object));
		names.soname = soname;
		names.path = path;
		names.real = real;
	}

	rows = calloc(es->nr_sites, sizeof(*rows));
	if (!rows) {
		elf_sites__free(es);
		return 1;
	}
	for (i = 0; i < es->nr_sites; i++) {
		const struct elf_site *s = &es->sites[i];
		char *name;

		if (s->status == FTRAMP_SITE_OK)
			total_usable++;
		if (asprintf(&name, "%s%s%s", s->name, *object ? "@" : "",
			     object) < 0) {
			err = -ENOMEM;
			break;
		}
		bool out = (glob && !selects(glob, name, &names)) ||
			   (only_usable && s->status != FTRAMP_SITE_OK);

		for (size_t j = 0; j < nr_notrace && !out; j++)
			out = selects(notrace[j], name, &names);
		if (out) {
			free(name);
			continue;
		}
		rows[n].name = name;
		rows[n].site = s;
		if (s->status == FTRAMP_SITE_OK)
			usable++;
		n++;
	}
	if (err) {
		pr_err("out of memory");
		goto out;
	}
	if (!n) {
		if (!glob)
			pr_err("%s: no usable site (%zu sites)", path,
			       es->nr_sites);
		else if (*object && !strchr(glob, '@'))
			pr_err("%s: no function matches '%s': a library's functions are named FUNC@%s",
			       path, glob, object);
		else
			pr_err("%s: no%s function matches '%s' (%zu sites, %zu usable; 'ftramp list %s' shows them)",
			       path, only_usable ? " usable" : "", glob,
			       es->nr_sites, total_usable, argv[optind]);
		err = -ENOENT;
		goto out;
	}

	for (i = 0; i < n; i++) {
		char tmp[32];
		int w = snprintf(tmp, sizeof(tmp), "%#llx",
				 (unsigned long long)rows[i].site->func);

		if (w > addr_w)
			addr_w = w;
	}
	if (models)
		dw_err = ftrace_dwarf_open(path, &dw);
	printf("%*s %7s %-10s %-8s %s\n", addr_w, "ADDRESS", "SIZE", "FLAGS",
	       "STATUS", "FUNCTION");
	for (i = 0; i < n; i++) {
		const struct elf_site *s = rows[i].site;
		char addr[32];

		snprintf(addr, sizeof(addr), "%#llx", (unsigned long long)s->func);
		printf("%*s %7llu %-10s %-8s %s", addr_w, addr,
		       (unsigned long long)s->size, site_flags(s),
		       s->status == FTRAMP_SITE_OK ? "usable" : "unusable",
		       rows[i].name);
		if (s->status != FTRAMP_SITE_OK)
			printf("  (%s)", ftramp_site_status__str(s->status));
		else if (models)
			print_model(dw, dw_err, s);
		putchar('\n');
	}
	printf("%zu sites, %zu usable%s%s\n", n, usable,
	       glob ? " matching " : "", glob ? glob : "");
out:
	ftrace_dwarf_close(dw);
	for (i = 0; i < n; i++)
		free(rows[i].name);
	free(rows);
	elf_sites__free(es);
	free(soname);
	free(real);
	free(notrace);
	return err ? 1 : 0;
}
