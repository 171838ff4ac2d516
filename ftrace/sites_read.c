// SPDX-License-Identifier: MIT
/*
 * The library's source of an object's sites: its file, read with
 * elf_sites.c (see sites_read_elf() in sites.h; the preload agent links
 * its own instead).
 */
#include "ftrace/sites.h"

int sites_read_elf(struct sites_source *src, struct elf_sites **out)
{
	return elf_sites__read_path(src->path, out);
}
