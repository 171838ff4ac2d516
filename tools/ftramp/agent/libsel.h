/* SPDX-License-Identifier: MIT */
/*
 * Selectors: what a GLOB of `ftramp run -t/--hist/--count/--override/-N`
 * and `ftramp list` names (Documentation/cli.rst, "Selecting functions").
 *
 * A GLOB is FUNC or FUNC@LIB, split at its last '@'.  FUNC is matched
 * against the function's name in its object; LIB against every name the
 * object is known by: the name in reports (the soname, else the file
 * name, without its version: libz.so), the soname (libz.so.1), the file's
 * name (libz.so.1.2.13) and its path, as the loader found it and with
 * links resolved.  Pure: the command (list) and the agent (run) share it,
 * each with the names it knows.
 */
#ifndef FTRAMP_AGENT_LIBSEL_H
#define FTRAMP_AGENT_LIBSEL_H

#include <stdbool.h>
#include <stddef.h>

/* The names of one object; NULL for those not known. */
struct libsel_names {
	const char *report;	/* "libz.so" */
	const char *soname;	/* "libz.so.1" */
	const char *path;	/* as loaded: "/usr/lib/libz.so.1" */
	const char *real;	/* links resolved: "/usr/lib/libz.so.1.2.13" */
};

/*
 * Split @glob at its last '@': the FUNC part into @func (@size bytes),
 * and the LIB part returned (NULL for a glob with no '@').  -1 when the
 * FUNC part does not fit or one of the parts is empty.
 */
int libsel_split(const char *glob, char *func, size_t size, const char **lib);

/*
 * Whether the LIB part @lib names the object: fnmatch(3) against each of
 * its names, and against the last component of each path (a LIB without
 * '/' names a file, not a directory).
 */
bool libsel_match(const char *lib, const struct libsel_names *n);

#endif /* FTRAMP_AGENT_LIBSEL_H */
