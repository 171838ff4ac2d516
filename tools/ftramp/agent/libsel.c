// SPDX-License-Identifier: MIT
/*
 * Selectors' FUNC@LIB split and the LIB match (libsel.h), shared by the
 * command (host) and the agent (arm64).
 */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "libsel.h"

int libsel_split(const char *glob, char *func, size_t size, const char **lib)
{
	const char *at = strrchr(glob, '@');
	size_t n = at ? (size_t)(at - glob) : strlen(glob);

	*lib = at ? at + 1 : NULL;
	if (!n || n >= size || (at && !at[1]))
		return -1;
	memcpy(func, glob, n);
	func[n] = 0;
	return 0;
}

static bool name_match(const char *lib, const char *name)
{
	const char *base;

	if (!name || !*name)
		return false;
	if (!fnmatch(lib, name, 0))
		return true;
	base = strrchr(name, '/');
	return base && !strchr(lib, '/') && !fnmatch(lib, base + 1, 0);
}

bool libsel_match(const char *lib, const struct libsel_names *n)
{
	return name_match(lib, n->report) || name_match(lib, n->soname) ||
	       name_match(lib, n->path) || name_match(lib, n->real);
}
