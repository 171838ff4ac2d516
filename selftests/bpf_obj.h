/* SPDX-License-Identifier: MIT */
/*
 * The clang-built objects of selftests/progs/NAME.bpf.c (BPF_OBJ_DIR, from
 * selftests/bpf.mk): opened, or read as bytes for tests that patch one
 * and check how the loader refuses it (bpf_test, tailcall_test).
 */
#ifndef FTRAMP_SELFTESTS_BPF_OBJ_H
#define FTRAMP_SELFTESTS_BPF_OBJ_H

#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ftramp/ftramp.h>

/* Open BPF_OBJ_DIR/@name for @engine; @e: why not (may be NULL). */
static inline struct ftramp_bpf_object *
open_obj_engine(const char *name, struct ftramp_bpf_error *e, int engine)
{
	char path[512];
	FTRAMP_OPTS(ftramp_bpf_open_opts, o, .err = e, .engine = engine);

	snprintf(path, sizeof(path), "%s/%s", BPF_OBJ_DIR, name);
	return ftramp_bpf_object__open_file(path, &o);
}

/* BPF_OBJ_DIR/@name whole into *buf (malloc'd): 0 or -errno. */
static inline int read_obj(const char *name, uint8_t **buf, size_t *size)
{
	char path[512];
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", BPF_OBJ_DIR, name);
	f = fopen(path, "rb");
	if (!f)
		return -errno;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	*buf = malloc(n);
	*size = *buf ? fread(*buf, 1, n, f) : 0;
	fclose(f);
	return *size == (size_t)n ? 0 : -EIO;
}

/* Open @size bytes at @buf and close: 0, or -errno with *e filled. */
static inline int open_err(const void *buf, size_t size,
			   struct ftramp_bpf_error *e)
{
	FTRAMP_OPTS(ftramp_bpf_open_opts, o, .err = e);
	struct ftramp_bpf_object *obj;

	memset(e, 0, sizeof(*e));
	obj = ftramp_bpf_object__open_mem(buf, size, &o);
	if (obj) {
		ftramp_bpf_object__close(obj);
		return 0;
	}
	return -errno;
}

/* The header of the section named @name of the object at @buf, or NULL. */
static inline Elf64_Shdr *find_sec(uint8_t *buf, const char *name)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	Elf64_Shdr *sh = (Elf64_Shdr *)(buf + eh->e_shoff);
	const char *names = (const char *)buf + sh[eh->e_shstrndx].sh_offset;

	for (int i = 0; i < eh->e_shnum; i++)
		if (!strcmp(names + sh[i].sh_name, name))
			return &sh[i];
	return NULL;
}

#endif /* FTRAMP_SELFTESTS_BPF_OBJ_H */
