// SPDX-License-Identifier: MIT
/*
 * ftramp list: the patchable sites of a program or library.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

void usage_list(FILE *f)
{
	fprintf(f, "Usage: ftramp list PROG|LIB [GLOB]\n");
}

int cmd_list(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		usage_list(stdout);
		return 0;
	}
	pr_err("list: not available in this build");
	return 1;
}
