// SPDX-License-Identifier: MIT
/*
 * ftramp dump: build a trampoline and disassemble it.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

void usage_dump(FILE *f)
{
	fprintf(f, "Usage: ftramp dump [--model PROTO] [--fentry N] [--fexit N] [--fmod-ret N] [--far]\n");
}

int cmd_dump(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		usage_dump(stdout);
		return 0;
	}
	pr_err("dump: not available in this build");
	return 1;
}
