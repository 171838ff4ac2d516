// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the site-and-model table's parser: any bytes are
 * either refused (-EBADMSG, -EPROTONOSUPPORT) or accepted, and then every
 * module, site, string and model the agent would read can be read (ASan
 * catches a read the parser did not check), and the table written back
 * from what was read parses to the same sites and models.
 *
 * Random bytes rarely pass the magic, so an input whose first byte is odd
 * edits a valid table instead: each following (offset, value) byte
 * triple writes one byte of it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ftrace/site_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const struct stab *t)
{
	for (uint32_t i = 0; i < t->hdr->nr_modules; i++) {
		const struct stab_module *m = &t->mods[i];
		struct elf_sites *es;
		char names[FTRAMP_MAX_ARGS][FTRAMP_PARAM_NAME_MAX];
		struct ftramp_func_model model;
		struct stab_model_in *in;
		struct stab_module_in min;
		struct stab t2;
		void *buf;
		size_t sz;

		if (stab_find(t, m->build_id, m->build_id_len,
			      stab_str(t, m->path)) == NULL)
			abort();
		if (stab_elf_sites(t, m, &es))
			continue;	/* out of memory */
		in = calloc(es->nr_sites + 1, sizeof(*in));
		if (!in)
			abort();
		for (size_t j = 0; j < es->nr_sites; j++) {
			int err = stab_model(t, m, es->sites[j].func, &model,
					     names);

			if (err > 0)
				abort();
			in[j].err = err;
			if (!err) {
				in[j].model = model;
				memcpy(in[j].names, names, sizeof(names));
			}
		}
		min = (struct stab_module_in){
			.build_id = m->build_id,
			.build_id_len = m->build_id_len,
			.path = stab_str(t, m->path), .es = es, .models = in,
		};
		/* what was read writes back and parses again */
		if (stab_write(&min, 1, &buf, &sz) == 0) {
			if (stab_parse(buf, sz, &t2) ||
			    t2.hdr->nr_sites != es->nr_sites)
				abort();
			free(buf);
		}
		free(in);
		elf_sites__free(es);
	}
}

/* Two modules, three sites, a model with named parameters. */
static void *valid_table(size_t *size)
{
	static struct elf_site sites[] = {
		{ .name = "f", .symbol = "f", .func = 0x1000, .size = 16,
		  .status = FTRAMP_SITE_OK },
		{ .name = "g.isra.0", .symbol = "g.isra.0", .file = "g.c",
		  .func = 0x1010, .status = FTRAMP_SITE_OK },
		{ .name = "h", .symbol = "", .func = 0x1010,
		  .status = FTRAMP_SITE_DUPLICATE },
	};
	static struct elf_segment segs[] = {
		{ .vaddr = 0, .memsz = 0x2000, .filesz = 0x2000, .flags = 5 },
	};
	static const struct elf_sites es = {
		.sites = sites, .nr_sites = 3, .segs = segs, .nr_segs = 1,
		.type = 3,
	};
	static struct stab_model_in in[3] = {
		{ .model = { .ret = { .cls = FTRAMP_TYPE_INT, .size = 4 },
			     .nr_args = 2,
			     .args = { { .cls = FTRAMP_TYPE_FLOAT, .size = 8 },
				       { .cls = FTRAMP_TYPE_HFA, .size = 8,
					 .nmemb = 2, .elem_size = 4 } } },
		  .names = { "x", "pt" } },
		{ .err = -EPROTO },
		{ .err = -ENODATA },
	};
	static const uint8_t id[4] = { 1, 2, 3, 4 };
	const struct stab_module_in mods[2] = {
		{ .build_id = id, .build_id_len = 4, .path = "/a", .es = &es,
		  .models = in },
		{ .path = "/b", .es = &es },
	};
	void *buf;

	return stab_write(mods, 2, &buf, size) ? NULL : buf;
}

/* Refused with a documented error, or accepted and readable throughout. */
static void parse_walk(const void *buf, size_t size)
{
	struct stab t;
	int err = stab_parse(buf, size, &t);

	if (err && err != -EBADMSG && err != -EPROTONOSUPPORT)
		abort();
	if (!err)
		walk(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t *copy;

	if (size && (data[0] & 1)) {
		size_t tsize;
		uint8_t *tb = valid_table(&tsize);

		if (!tb)
			abort();
		for (size_t i = 1; i + 2 < size; i += 3) {
			size_t off = (data[i] | data[i + 1] << 8) % tsize;

			tb[off] = data[i + 2];
		}
		parse_walk(tb, tsize);
		free(tb);
		return 0;
	}
	copy = malloc(size + 8);	/* 8-byte aligned */
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	parse_walk(copy, size);
	free(copy);
	return 0;
}
