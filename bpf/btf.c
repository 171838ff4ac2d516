// SPDX-License-Identifier: MIT
/*
 * .BTF reader (the format: the kernel's Documentation/bpf/btf.rst).
 *
 * Parsed here rather than through libbpf's btf__parse(): the loader must
 * build and be fuzzed on the host with no libbpf, the arm64 runtime would
 * otherwise carry libbpf for a few hundred lines of use, and the part we
 * need (types by id, sizes, DATASEC variables) is small.
 * Documentation/design.rst records the choice.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/btf.h"
#include "lib/strbuf.h"

/* Bytes that follow struct btf_type for a kind, or -1 if unknown. */
static long extra_size(const struct btf_type *t)
{
	unsigned int vlen = bpf_btf_vlen(t);

	switch (bpf_btf_kind(t)) {
	case BTF_KIND_INT:		return sizeof(uint32_t);
	case BTF_KIND_ARRAY:		return sizeof(struct btf_array);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:		return (long)vlen * sizeof(struct btf_member);
	case BTF_KIND_ENUM:		return (long)vlen * sizeof(struct btf_enum);
	case BTF_KIND_ENUM64:		return (long)vlen * 3 * sizeof(uint32_t);
	case BTF_KIND_FUNC_PROTO:	return (long)vlen * sizeof(struct btf_param);
	case BTF_KIND_VAR:		return sizeof(struct btf_var);
	case BTF_KIND_DATASEC:		return (long)vlen * sizeof(struct btf_var_secinfo);
	case BTF_KIND_DECL_TAG:		return sizeof(uint32_t);
	case BTF_KIND_PTR: case BTF_KIND_FWD: case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC: case BTF_KIND_FLOAT: case BTF_KIND_TYPE_TAG:
		return 0;
	}
	return -1;
}

int bpf_btf_parse(struct bpf_btf *btf, const void *data, size_t size,
		  const char **why)
{
	struct btf_header h;
	const uint8_t *types, *p, *end;
	uint32_t n = 1, cap = 64;

	memset(btf, 0, sizeof(*btf));
	if (size < sizeof(h)) {
		*why = "shorter than its header";
		return -EINVAL;
	}
	memcpy(&h, data, sizeof(h));
	if (h.magic != BTF_MAGIC || h.version != BTF_VERSION) {
		*why = "bad magic or version";
		return -EINVAL;
	}
	if (h.hdr_len < sizeof(h) || h.hdr_len > size || (h.hdr_len & 3) ||
	    (uint64_t)h.type_off + h.type_len > size - h.hdr_len ||
	    (uint64_t)h.str_off + h.str_len > size - h.hdr_len ||
	    (h.type_off & 3) || (h.type_len & 3)) {
		*why = "header sections beyond the data";
		return -EINVAL;
	}
	btf->strs = (const char *)data + h.hdr_len + h.str_off;
	btf->strs_len = h.str_len;
	if (!h.str_len || btf->strs[h.str_len - 1] != '\0') {
		*why = "string section not NUL-terminated";
		return -EINVAL;
	}
	types = (const uint8_t *)data + h.hdr_len + h.type_off;
	btf->types = calloc(cap, sizeof(*btf->types));
	if (!btf->types)
		return -ENOMEM;
	for (p = types, end = types + h.type_len; p < end; n++) {
		const struct btf_type *t = (const void *)p;
		long extra;

		if ((size_t)(end - p) < sizeof(*t)) {
			*why = "truncated type";
			goto bad;
		}
		extra = extra_size(t);
		if (extra < 0) {
			*why = "unknown type kind";
			goto bad;
		}
		if ((size_t)(end - p) - sizeof(*t) < (size_t)extra) {
			*why = "truncated type data";
			goto bad;
		}
		if (t->name_off >= btf->strs_len) {
			*why = "type name beyond the strings";
			goto bad;
		}
		if (n == cap) {
			const struct btf_type **nt;

			if (cap >= (1u << 20)) {
				*why = "too many types";
				goto bad;
			}
			nt = realloc(btf->types, 2 * cap * sizeof(*nt));
			if (!nt) {
				bpf_btf_free(btf);
				return -ENOMEM;
			}
			btf->types = nt;
			cap *= 2;
		}
		btf->types[n] = t;
		p += sizeof(*t) + extra;
	}
	btf->nr_types = n;
	return 0;
bad:
	bpf_btf_free(btf);
	return -EINVAL;
}

void bpf_btf_free(struct bpf_btf *btf)
{
	free(btf->types);
	memset(btf, 0, sizeof(*btf));
}

const struct btf_type *bpf_btf_type(const struct bpf_btf *btf, uint32_t id)
{
	if (!id || id >= btf->nr_types)
		return NULL;
	return btf->types[id];
}

const char *bpf_btf_name(const struct bpf_btf *btf, uint32_t name_off)
{
	return name_off < btf->strs_len ? btf->strs + name_off : "";
}

uint32_t bpf_btf_skip_mods(const struct bpf_btf *btf, uint32_t id)
{
	for (int hops = 0; hops < 64; hops++) {
		const struct btf_type *t = bpf_btf_type(btf, id);

		if (!t)
			return id;
		switch (bpf_btf_kind(t)) {
		case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE:
		case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			id = t->type;
			break;
		default:
			return id;
		}
	}
	return 0;
}

static long size_of(const struct bpf_btf *btf, uint32_t id, int depth)
{
	const struct btf_type *t;
	const struct btf_array *a;
	long elem;

	if (depth > 32)
		return -EINVAL;
	id = bpf_btf_skip_mods(btf, id);
	t = bpf_btf_type(btf, id);
	if (!t)
		return -EINVAL;
	switch (bpf_btf_kind(t)) {
	case BTF_KIND_INT: case BTF_KIND_STRUCT: case BTF_KIND_UNION:
	case BTF_KIND_ENUM: case BTF_KIND_ENUM64: case BTF_KIND_FLOAT:
	case BTF_KIND_DATASEC:
		return t->size;
	case BTF_KIND_PTR:
		return 8;
	case BTF_KIND_VAR:
		return size_of(btf, t->type, depth + 1);
	case BTF_KIND_ARRAY:
		a = (const void *)(t + 1);
		elem = size_of(btf, a->type, depth + 1);
		if (elem < 0 || (a->nelems && (uint64_t)elem > (1ull << 32) / a->nelems))
			return -EINVAL;
		return elem * (long)a->nelems;
	}
	return -EINVAL;
}

long bpf_btf_size(const struct bpf_btf *btf, uint32_t id)
{
	return size_of(btf, id, 0);
}

uint32_t bpf_btf_datasec(const struct bpf_btf *btf, const char *sec)
{
	for (uint32_t id = 1; id < btf->nr_types; id++)
		if (bpf_btf_kind(btf->types[id]) == BTF_KIND_DATASEC &&
		    !strcmp(bpf_btf_name(btf, btf->types[id]->name_off), sec))
			return id;
	return 0;
}

uint32_t bpf_btf_datasec_var(const struct bpf_btf *btf, const char *sec,
			     const char *name)
{
	for (uint32_t id = 1; id < btf->nr_types; id++) {
		const struct btf_type *t = btf->types[id];
		const struct btf_var_secinfo *vi = (const void *)(t + 1);

		if (bpf_btf_kind(t) != BTF_KIND_DATASEC ||
		    strcmp(bpf_btf_name(btf, t->name_off), sec))
			continue;
		for (unsigned int i = 0; i < bpf_btf_vlen(t); i++) {
			const struct btf_type *v = bpf_btf_type(btf, vi[i].type);

			if (v && bpf_btf_kind(v) == BTF_KIND_VAR &&
			    !strcmp(bpf_btf_name(btf, v->name_off), name))
				return v->type;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Values printed as their BTF types say (map dumps)
 */

static void hex(struct strbuf *o, const uint8_t *p, size_t n)
{
	strbuf_printf(o, "0x");
	for (size_t i = n; i-- > 0;)
		strbuf_printf(o, "%02x", p[i]);	/* little-endian: most significant first */
}

static uint64_t read_uint(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	memcpy(&v, p, n < 8 ? n : 8);
	return v;
}

static int64_t sext(uint64_t v, size_t n)
{
	unsigned int shift = 64 - 8 * (n < 8 ? n : 8);

	return (int64_t)(v << shift) >> shift;
}

static bool is_char(const struct bpf_btf *btf, uint32_t id)
{
	const struct btf_type *t = bpf_btf_type(btf, bpf_btf_skip_mods(btf, id));

	return t && bpf_btf_kind(t) == BTF_KIND_INT && t->size == 1 &&
	       ((*(const uint32_t *)(t + 1) >> 24) & BTF_INT_CHAR ||
		!strcmp(bpf_btf_name(btf, t->name_off), "char"));
}

static void fmt_type(const struct bpf_btf *btf, uint32_t id, const uint8_t *p,
		     size_t n, struct strbuf *o, int depth)
{
	const struct btf_type *t;
	long sz;

	id = bpf_btf_skip_mods(btf, id);
	t = bpf_btf_type(btf, id);
	if (t && bpf_btf_kind(t) == BTF_KIND_DATASEC && !depth) {
		/* global data: its variables, at the offsets clang gave them */
		const struct btf_var_secinfo *vi = (const void *)(t + 1);

		strbuf_printf(o, "{");
		for (unsigned int i = 0; i < bpf_btf_vlen(t); i++) {
			const struct btf_type *v = bpf_btf_type(btf, vi[i].type);

			strbuf_printf(o, "%s%s=", i ? ", " : "",
			     v ? bpf_btf_name(btf, v->name_off) : "?");
			if (!v || vi[i].offset > n || vi[i].size > n - vi[i].offset)
				strbuf_printf(o, "?");
			else
				fmt_type(btf, v->type, p + vi[i].offset,
					 vi[i].size, o, depth + 1);
		}
		strbuf_printf(o, "}");
		return;
	}
	sz = bpf_btf_size(btf, id);
	if (!t || sz <= 0 || (size_t)sz > n || depth > 8) {
		hex(o, p, n);
		return;
	}
	switch (bpf_btf_kind(t)) {
	case BTF_KIND_INT: {
		uint32_t enc = *(const uint32_t *)(t + 1);
		uint64_t v = read_uint(p, sz);

		if (BTF_INT_OFFSET(enc) || sz > 8)
			hex(o, p, sz);
		else if (BTF_INT_ENCODING(enc) & BTF_INT_BOOL)
			strbuf_printf(o, "%s", v ? "true" : "false");
		else if (BTF_INT_ENCODING(enc) & BTF_INT_SIGNED)
			strbuf_printf(o, "%lld", (long long)sext(v, sz));
		else
			strbuf_printf(o, "%llu", (unsigned long long)v);
		return;
	}
	case BTF_KIND_PTR:
		strbuf_printf(o, "0x%llx", (unsigned long long)read_uint(p, 8));
		return;
	case BTF_KIND_ENUM: {
		const struct btf_enum *e = (const void *)(t + 1);
		int64_t v = sext(read_uint(p, sz), sz);

		for (unsigned int i = 0; i < bpf_btf_vlen(t); i++)
			if (e[i].val == v) {
				strbuf_printf(o, "%s", bpf_btf_name(btf, e[i].name_off));
				return;
			}
		strbuf_printf(o, "%lld", (long long)v);
		return;
	}
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = (const void *)(t + 1);
		long esz = bpf_btf_size(btf, a->type);

		if (esz <= 0)
			break;
		if (is_char(btf, a->type)) {
			strbuf_printf(o, "\"");
			for (uint32_t i = 0; i < a->nelems && p[i]; i++)
				strbuf_printf(o, p[i] >= 0x20 && p[i] < 0x7f &&
				     p[i] != '"' && p[i] != '\\' ? "%c" : "\\x%02x",
				     p[i]);
			strbuf_printf(o, "\"");
			return;
		}
		strbuf_printf(o, "[");
		for (uint32_t i = 0; i < a->nelems; i++) {
			if (i == 16) {
				strbuf_printf(o, ", ...");
				break;
			}
			strbuf_printf(o, i ? ", " : "");
			fmt_type(btf, a->type, p + i * esz, n - i * esz, o,
				 depth + 1);
		}
		strbuf_printf(o, "]");
		return;
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION: {
		const struct btf_member *m = (const void *)(t + 1);
		bool kflag = BTF_INFO_KFLAG(t->info);

		strbuf_printf(o, "{");
		for (unsigned int i = 0; i < bpf_btf_vlen(t); i++) {
			uint32_t bit = kflag ? BTF_MEMBER_BIT_OFFSET(m[i].offset) :
					       m[i].offset;
			uint32_t bits = kflag ? BTF_MEMBER_BITFIELD_SIZE(m[i].offset) : 0;
			const char *name = bpf_btf_name(btf, m[i].name_off);

			strbuf_printf(o, "%s%s%s", i ? ", " : "", name, *name ? "=" : "");
			if (bits || bit % 8 || bit / 8 >= (uint64_t)sz)
				strbuf_printf(o, "?");
			else
				fmt_type(btf, m[i].type, p + bit / 8,
					 sz - bit / 8, o, depth + 1);
		}
		strbuf_printf(o, "}");
		return;
	}
	}
	hex(o, p, sz);
}

int bpf_btf_format(const struct bpf_btf *btf, uint32_t id, const void *data,
		   size_t size, char *buf, size_t bufsize)
{
	struct strbuf o = { buf, bufsize, 0 };

	if (bufsize)
		buf[0] = '\0';
	if (btf && id)
		fmt_type(btf, id, data, size, &o, 0);
	else
		hex(&o, data, size);
	return o.len > INT32_MAX ? INT32_MAX : (int)o.len;
}
