// SPDX-License-Identifier: MIT
/*
 * The loader's cache, /etc/ld.so.cache, read as glibc's ld.so reads it
 * (elf/dl-cache.c, _dl_load_cache_lookup()), so that table.c finds a
 * DT_NEEDED library where the loader will: after LD_LIBRARY_PATH and
 * DT_RUNPATH, before the default directories, unless the requesting
 * object has DF_1_NODEFLIB.
 *
 * The format is glibc's "new" one (elf/dl-cache.h), written alone by
 * ldconfig since glibc 2.32, or after an "ld.so-1.7.0" part in the
 * older compatible layout:
 *
 *	+0	char magic[17]		"glibc-ld.so.cache"
 *	+17	char version[3]		"1.1"
 *	+20	u32 nlibs
 *	+24	u32 len_strings
 *	+28	u8 flags		bits 0-1: endianness (0 unset, 2 little)
 *	+29	u8 pad[3]
 *	+32	u32 extension_offset
 *	+36	u32 unused[3]
 *	+48	struct { i32 flags; u32 key, value; u32 osversion;
 *		         u64 hwcap; } libs[nlibs]	(24 bytes each)
 *
 * key and value are offsets of NUL-terminated strings from the start of
 * that header: the soname and the path.  One cache serves several ABIs;
 * an entry counts for the one its flags name exactly, as
 * _dl_cache_check_flags() requires (for arm64 LP64,
 * FLAG_AARCH64_LIB64 | FLAG_ELF_LIBC6).  Entries for hardware-capability
 * subdirectories (a non-zero hwcap) are left out: the loader prefers
 * them only on a CPU that has the capability, which the ftramp process
 * does not know; Debian's arm64 glibc has none.  Of equal names, the
 * first entry wins, as in the loader's scan.
 *
 * Everything read is bounds-checked: a truncated or foreign file gives
 * no answer, never a read out of bounds (tools/ftramp/table_test.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CACHE_MAGIC_OLD		"ld.so-1.7.0"
#define CACHE_MAGIC_NEW		"glibc-ld.so.cache1.1"
#define CACHE_NEW_HDR		48
#define CACHE_NEW_ENTRY		24
#define CACHE_OLD_HDR		16	/* magic[11], pad, u32 nlibs */
#define CACHE_OLD_ENTRY		12	/* i32 flags; u32 key, value */
#define CACHE_ENDIAN_MASK	3
#define CACHE_ENDIAN_BIG	3
#define CACHE_ENDIAN_INVALID	1

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The string at @off of the @size bytes at @base, if it ends inside. */
static const char *str_at(const uint8_t *base, size_t size, uint32_t off)
{
	if (off >= size || !memchr(base + off, 0, size - off))
		return NULL;
	return (const char *)base + off;
}

/* Where the new-format part starts (after an old-format part), or -1. */
static long new_part(const uint8_t *buf, size_t size)
{
	size_t off;

	if (size >= strlen(CACHE_MAGIC_NEW) &&
	    !memcmp(buf, CACHE_MAGIC_NEW, strlen(CACHE_MAGIC_NEW)))
		return 0;
	if (size < CACHE_OLD_HDR ||
	    memcmp(buf, CACHE_MAGIC_OLD, strlen(CACHE_MAGIC_OLD)))
		return -1;
	/* glibc: ALIGN_CACHE(), to the new header's alignment (8) */
	off = CACHE_OLD_HDR + (size_t)rd32(buf + 12) * CACHE_OLD_ENTRY;
	off = (off + 7) & ~(size_t)7;
	if (off > size || size - off < strlen(CACHE_MAGIC_NEW) ||
	    memcmp(buf + off, CACHE_MAGIC_NEW, strlen(CACHE_MAGIC_NEW)))
		return -1;
	return (long)off;
}

char *ldcache_lookup(const void *cache, size_t size, uint32_t abi,
		     const char *name)
{
	const uint8_t *buf = cache, *hdr;
	long at = cache ? new_part(buf, size) : -1;
	size_t avail, nlibs;

	if (at < 0)
		return NULL;
	hdr = buf + at;
	avail = size - (size_t)at;
	if (avail < CACHE_NEW_HDR)
		return NULL;
	switch (hdr[28] & CACHE_ENDIAN_MASK) {
	case CACHE_ENDIAN_BIG:		/* arm64 Linux is little-endian */
	case CACHE_ENDIAN_INVALID:
		return NULL;
	}
	nlibs = rd32(hdr + 20);
	if (nlibs > (avail - CACHE_NEW_HDR) / CACHE_NEW_ENTRY)
		return NULL;
	for (size_t i = 0; i < nlibs; i++) {
		const uint8_t *e = hdr + CACHE_NEW_HDR + i * CACHE_NEW_ENTRY;
		const char *key, *value;

		if (rd32(e) != abi || rd64(e + 16))
			continue;
		key = str_at(hdr, avail, rd32(e + 4));
		value = str_at(hdr, avail, rd32(e + 8));
		if (key && value && !strcmp(key, name))
			return strdup(value);
	}
	return NULL;
}
