// SPDX-License-Identifier: MIT
/*
 * The site-and-model table (ftrace/site_table.[ch]): what the writer puts
 * in, the reader gets back (sites, segments, models, parameter names, the
 * reason a site has none), found by build-id or path; and every damaged
 * table is refused, never read out of bounds (the fuzzer goes further).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ftrace/site_table.h"
#include "harness.h"

static char strings[] = "main\0main\0helper.isra.0\0helper.isra.0\0x.c";

static struct elf_site sites[] = {
	{ .name = strings, .symbol = strings + 5, .file = NULL,
	  .func = 0x1000, .size = 0x40, .flags = FTRAMP_SITE_F_BTI,
	  .status = FTRAMP_SITE_OK },
	{ .name = strings + 10, .symbol = strings + 24, .file = strings + 38,
	  .func = 0x1040, .size = 0x10, .flags = FTRAMP_SITE_F_LOCAL,
	  .status = FTRAMP_SITE_TOO_SMALL },
};

static struct elf_segment segs[] = {
	{ .vaddr = 0, .memsz = 0x2000, .offset = 0, .filesz = 0x2000,
	  .flags = 5 },
	{ .vaddr = 0x12000, .memsz = 0x300, .offset = 0x2000,
	  .filesz = 0x100, .flags = 6 },
};

static struct elf_sites es = {
	.sites = sites, .nr_sites = 2, .segs = segs, .nr_segs = 2,
	.type = 3, .executable = true, .symtab = true, .nr_records = 3,
	.nr_null = 1,
};

static const uint8_t bid[20] = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4 };

/* main: double (int32_t a, const char *s); helper.isra.0: no model */
static void models(struct stab_model_in in[2])
{
	memset(in, 0, 2 * sizeof(*in));
	in[0].model.ret = (struct ftramp_type){ .cls = FTRAMP_TYPE_FLOAT,
						 .size = 8 };
	in[0].model.nr_args = 2;
	in[0].model.args[0] = (struct ftramp_type){
		.cls = FTRAMP_TYPE_INT, .size = 4, .flags = FTRAMP_TYPE_SIGNED };
	in[0].model.args[1] = (struct ftramp_type){
		.cls = FTRAMP_TYPE_INT, .size = 8,
		.flags = FTRAMP_TYPE_POINTER | FTRAMP_TYPE_STRING };
	strcpy(in[0].names[0], "a");
	strcpy(in[0].names[1], "s");
	in[1].err = -EPROTO;	/* the clone rule */
}

static void *table(size_t *size, const char *path2)
{
	struct stab_model_in in[2];
	struct stab_module_in mods[2] = {
		{ .build_id = bid, .build_id_len = sizeof(bid),
		  .path = "/bin/prog", .es = &es, .models = in },
		{ .path = path2, .es = &es },
	};
	void *buf;

	models(in);
	if (stab_write(mods, path2 ? 2 : 1, &buf, size))
		return NULL;
	return buf;
}

TEST(round_trip)
{
	char names[FTRAMP_MAX_ARGS][FTRAMP_PARAM_NAME_MAX];
	struct ftramp_func_model m;
	const struct stab_module *mod;
	struct elf_sites *out;
	struct stab t;
	size_t size;
	void *buf = table(&size, "/lib/libx.so.1");

	ASSERT_NE(buf, NULL);
	ASSERT_EQ(size % 8, 0);
	ASSERT_EQ(stab_parse(buf, size, &t), 0);
	ASSERT_EQ(t.hdr->nr_modules, 2);

	mod = stab_find(&t, bid, sizeof(bid), NULL);
	ASSERT_EQ(mod, &t.mods[0]);
	EXPECT_STREQ(stab_str(&t, mod->path), "/bin/prog");
	ASSERT_EQ(stab_elf_sites(&t, mod, &out), 0);
	ASSERT_EQ(out->nr_sites, 2);
	EXPECT_STREQ(out->sites[0].name, "main");
	EXPECT_STREQ(out->sites[0].symbol, "main");
	EXPECT_NULL(out->sites[0].file);
	EXPECT_EQ(out->sites[0].func, 0x1000);
	EXPECT_EQ(out->sites[0].size, 0x40);
	EXPECT_EQ(out->sites[0].flags, FTRAMP_SITE_F_BTI);
	EXPECT_STREQ(out->sites[1].name, "helper.isra.0");
	EXPECT_STREQ(out->sites[1].file, "x.c");
	EXPECT_EQ(out->sites[1].status, FTRAMP_SITE_TOO_SMALL);
	ASSERT_EQ(out->nr_segs, 2);
	EXPECT_EQ(out->segs[1].vaddr, 0x12000);
	EXPECT_EQ(out->segs[1].filesz, 0x100);
	EXPECT_EQ(out->segs[1].flags, 6);
	EXPECT_EQ(out->type, 3);
	EXPECT_TRUE(out->executable);
	EXPECT_TRUE(out->symtab);
	EXPECT_EQ(out->nr_records, 3);
	EXPECT_EQ(out->nr_null, 1);
	elf_sites__free(out);

	ASSERT_EQ(stab_model(&t, mod, 0x1000, &m, names), 0);
	EXPECT_EQ(m.nr_args, 2);
	EXPECT_EQ(m.ret.cls, FTRAMP_TYPE_FLOAT);
	EXPECT_EQ(m.args[0].flags, FTRAMP_TYPE_SIGNED);
	EXPECT_EQ(m.args[1].flags, FTRAMP_TYPE_POINTER | FTRAMP_TYPE_STRING);
	EXPECT_STREQ(names[0], "a");
	EXPECT_STREQ(names[1], "s");
	EXPECT_STREQ(names[2], "");
	EXPECT_EQ(stab_model(&t, mod, 0x1040, &m, NULL), -EPROTO);
	EXPECT_EQ(stab_model(&t, mod, 0x1008, &m, NULL), -ENOENT);

	/* the second module: no build-id, found by path; no models */
	mod = stab_find(&t, NULL, 0, "/lib/libx.so.1");
	ASSERT_EQ(mod, &t.mods[1]);
	EXPECT_EQ(stab_model(&t, mod, 0x1000, &m, NULL), -ENODATA);
	/* a build-id the table lacks is another file, whatever its path */
	EXPECT_NULL(stab_find(&t, (const uint8_t *)"xyz", 3,
			      "/lib/libx.so.1"));
	EXPECT_NULL(stab_find(&t, NULL, 0, "/lib/liby.so"));
	free(buf);
}

TEST(empty)
{
	struct stab t;
	void *buf;
	size_t size;

	ASSERT_EQ(stab_write(NULL, 0, &buf, &size), 0);
	ASSERT_EQ(stab_parse(buf, size, &t), 0);
	EXPECT_EQ(t.hdr->nr_modules, 0);
	EXPECT_NULL(stab_find(&t, bid, sizeof(bid), "/bin/prog"));
	free(buf);
}

TEST(writer_refuses)
{
	struct stab_model_in in[2];
	struct stab_module_in mod = { .build_id = bid, .build_id_len = 41,
				      .path = "p", .es = &es };
	void *buf;
	size_t size;

	EXPECT_EQ(stab_write(&mod, 1, &buf, &size), -EINVAL);
	EXPECT_NULL(buf);
	mod.build_id_len = 4;
	models(in);
	in[0].model.args[0].cls = 77;	/* no such class */
	mod.models = in;
	EXPECT_EQ(stab_write(&mod, 1, &buf, &size), -EINVAL);
	mod.es = NULL;
	EXPECT_EQ(stab_write(&mod, 1, &buf, &size), -EINVAL);
}

/* Every truncation is refused. */
TEST(truncated)
{
	struct stab t;
	size_t size, n;
	void *buf = table(&size, "/lib/libx.so.1");

	ASSERT_NE(buf, NULL);
	for (n = 0; n < size; n++)
		ASSERT_EQ(stab_parse(buf, n, &t), -EBADMSG);
	free(buf);
}

/*
 * Each field of each record, set to values that point outside what it
 * refers to, is refused; other bytes (padding, build-ids, addresses)
 * may change what is read but never make it unsafe.
 */
TEST(damaged)
{
	static const uint32_t bad[] = { 0xffffffff, 0x7fffffff, 0x10000, 3 };
	struct stab t, good;
	size_t size;
	uint8_t *buf = table(&size, "/lib/libx.so.1");
	uint8_t *copy = malloc(size);
	unsigned int refused = 0;

	ASSERT_NE(buf, NULL);
	ASSERT_EQ(stab_parse(buf, size, &good), 0);
	for (size_t off = 0; off + 4 <= size; off += 4) {
		for (size_t v = 0; v < sizeof(bad) / sizeof(bad[0]); v++) {
			memcpy(copy, buf, size);
			memcpy(copy + off, &bad[v], 4);
			if (stab_parse(copy, size, &t)) {
				refused++;
				continue;
			}
			/* accepted: everything it describes is readable */
			for (uint32_t i = 0; i < t.hdr->nr_modules; i++) {
				struct elf_sites *es2;

				ASSERT_EQ(stab_elf_sites(&t, &t.mods[i],
							 &es2), 0);
				elf_sites__free(es2);
			}
		}
	}
	EXPECT_GT(refused, 40);
	/* a bad magic, another version */
	memcpy(copy, buf, size);
	copy[0] ^= 1;
	EXPECT_EQ(stab_parse(copy, size, &t), -EBADMSG);
	memcpy(copy, buf, size);
	((struct stab_header *)copy)->version = 2;
	EXPECT_EQ(stab_parse(copy, size, &t), -EPROTONOSUPPORT);
	/* sites out of order */
	memcpy(copy, buf, size);
	((struct stab_site *)(copy + good.hdr->sites_off))[1].func = 0;
	EXPECT_EQ(stab_parse(copy, size, &t), -EBADMSG);
	/* a string not ending in the pool */
	memcpy(copy, buf, size);
	copy[good.hdr->strings_off + good.hdr->strings_size - 1] = 'x';
	EXPECT_EQ(stab_parse(copy, size, &t), -EBADMSG);
	/* a model that does not validate */
	memcpy(copy, buf, size);
	((struct stab_model *)(copy + good.hdr->models_off))->args[0].size = 3;
	EXPECT_EQ(stab_parse(copy, size, &t), -EBADMSG);
	/* a site without a model must say why */
	memcpy(copy, buf, size);
	((struct stab_site *)(copy + good.hdr->sites_off))[1].model_err = 0;
	EXPECT_EQ(stab_parse(copy, size, &t), -EBADMSG);
	/* misaligned */
	EXPECT_EQ(stab_parse(copy + 4, size - 4, &t), -EBADMSG);
	free(copy);
	free(buf);
}

/* Notes as a PT_NOTE maps them: another note first, then the build-id. */
TEST(note_build_id)
{
	static const uint8_t notes[] = {
		4, 0, 0, 0,  4, 0, 0, 0,  1, 0, 0, 0,  'G', 'N', 'U', 0,
		0xaa, 0xbb, 0xcc, 0xdd,				/* ABI tag */
		4, 0, 0, 0,  6, 0, 0, 0,  3, 0, 0, 0,  'G', 'N', 'U', 0,
		1, 2, 3, 4, 5, 6, 0, 0,				/* build-id */
	};
	const uint8_t *id = NULL;

	ASSERT_EQ(stab_note_build_id(notes, sizeof(notes), 4, &id), 6);
	EXPECT_EQ(id, notes + sizeof(notes) - 8);
	EXPECT_EQ(id[5], 6);
	/* a truncated run: no build-id, nothing read past the end */
	for (size_t n = 0; n < sizeof(notes) - 2; n++) {
		const uint8_t *id2 = NULL;
		size_t len = stab_note_build_id(notes, n, 4, &id2);

		EXPECT_TRUE(len == 0 || id2 + len <= notes + n);
	}
	/* with 8-byte alignment the second note is not where it was */
	EXPECT_EQ(stab_note_build_id(notes, sizeof(notes), 8, &id), 0);
}

TEST_HARNESS_MAIN
