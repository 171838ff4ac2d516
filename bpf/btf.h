/* SPDX-License-Identifier: MIT */
/*
 * A reader for the BTF that clang writes into a BPF object (.BTF): just
 * what map definitions and typed map dumps need.  Pure; every offset and
 * id is checked against the section, so a damaged .BTF is refused at
 * parse time and lookups after that cannot go out of bounds.
 */
#ifndef FTRAMP_BPF_BTF_H
#define FTRAMP_BPF_BTF_H

#include <linux/btf.h>
#include <stddef.h>
#include <stdint.h>

struct bpf_btf {
	const struct btf_type **types;	/* [0] is void (NULL) */
	uint32_t nr_types;		/* ids 1 .. nr_types-1 */
	const char *strs;
	uint32_t strs_len;
};

/* 0, or -EINVAL with *why set to a static message. */
int bpf_btf_parse(struct bpf_btf *btf, const void *data, size_t size,
		  const char **why);
void bpf_btf_free(struct bpf_btf *btf);

/* NULL for id 0 or out of range. */
const struct btf_type *bpf_btf_type(const struct bpf_btf *btf, uint32_t id);
/* "" when out of range. */
const char *bpf_btf_name(const struct bpf_btf *btf, uint32_t name_off);
/* Skip typedef, const, volatile, restrict, type tags; 0 on a loop. */
uint32_t bpf_btf_skip_mods(const struct bpf_btf *btf, uint32_t id);
/* Size in bytes of a type, or -EINVAL (void, func, unsized, a loop). */
long bpf_btf_size(const struct bpf_btf *btf, uint32_t id);
/* The DATASEC named @sec, 0 if none. */
uint32_t bpf_btf_datasec(const struct bpf_btf *btf, const char *sec);
/* The VAR named @name in DATASEC @sec: its type id, 0 if none. */
uint32_t bpf_btf_datasec_var(const struct bpf_btf *btf, const char *sec,
			     const char *name);

/*
 * @size bytes at @data as type @id says ({a=1, s="x"}, enum names, ...;
 * hex where it cannot tell, or with no BTF or id 0), snprintf-style into
 * @buf: returns the length the whole text takes.
 */
int bpf_btf_format(const struct bpf_btf *btf, uint32_t id, const void *data,
		   size_t size, char *buf, size_t bufsize);

static inline unsigned int bpf_btf_kind(const struct btf_type *t)
{
	return BTF_INFO_KIND(t->info);
}

static inline unsigned int bpf_btf_vlen(const struct btf_type *t)
{
	return BTF_INFO_VLEN(t->info);
}

#endif /* FTRAMP_BPF_BTF_H */
