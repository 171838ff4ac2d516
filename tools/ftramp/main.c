// SPDX-License-Identifier: MIT
/*
 * ftramp: trace and modify the functions of arm64 programs through
 * ftrace-direct trampolines.  This file dispatches the subcommands and
 * holds the helpers they share.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

const char *prog_name = "ftramp";

/* "ftramp: <what>message\n" on stderr, for pr_err() and pr_warn(). */
static void vpr(const char *what, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: %s", prog_name, what);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void pr_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpr("", fmt, ap);
	va_end(ap);
}

void pr_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpr("warning: ", fmt, ap);
	va_end(ap);
}

char *cli_find_program(const char *prog)
{
	const char *path, *p, *colon;
	char *buf;
	size_t len;

	if (!*prog)
		return NULL;
	if (strchr(prog, '/'))
		return access(prog, F_OK) ? NULL : strdup(prog);

	path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; ; p = colon + 1) {
		colon = strchrnul(p, ':');
		len = colon - p;
		/* an empty element means the current directory */
		if (asprintf(&buf, "%.*s%s%s", (int)len, p, len ? "/" : "",
			     prog) < 0)
			return NULL;
		if (!access(buf, X_OK))
			return buf;
		free(buf);
		if (!*colon)
			return NULL;
	}
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ftramp COMMAND [OPTIONS] ...\n"
"\n"
"Attach fentry/fexit/fmod_ret-style trampolines to the functions of an arm64\n"
"program built with " FTRAMP_BUILD_FLAGS ".\n"
"\n"
"Commands:\n"
"  run [OPTIONS] -- PROG [ARGS]   run PROG with tracing, histograms, counts\n"
"                                 or overridden return values\n"
"  list PROG|LIB [GLOB]           list the patchable functions and whether\n"
"                                 ftramp can use each of them\n"
"  dump [OPTIONS]                 build a trampoline and disassemble it\n"
"  prog OBJ                       list a BPF object's programs, maps and\n"
"                                 relocations\n"
"\n"
"  ftramp COMMAND --help          options of one command\n"
"  ftramp --version               print the version\n"
"\n"
"See Documentation/cli.rst.\n");
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") ||
	    !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf("ftramp %s\n", FTRAMP_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "list"))
		return cmd_list(argc - 1, argv + 1);
	if (!strcmp(cmd, "dump"))
		return cmd_dump(argc - 1, argv + 1);
	if (!strcmp(cmd, "prog"))
		return cmd_prog(argc - 1, argv + 1);

	pr_err("unknown command '%s' (try 'ftramp --help')", cmd);
	return EXIT_USAGE;
}
