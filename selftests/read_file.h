/* SPDX-License-Identifier: MIT */
/*
 * A small text file (a perf map) read whole for strstr() checks.
 */
#ifndef FTRAMP_SELFTESTS_READ_FILE_H
#define FTRAMP_SELFTESTS_READ_FILE_H

#include <stdio.h>

/*
 * The first 8 KiB of path, NUL-terminated, in a static buffer the next
 * call overwrites; NULL if it cannot be opened.
 */
static inline char *read_file(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

#endif /* FTRAMP_SELFTESTS_READ_FILE_H */
