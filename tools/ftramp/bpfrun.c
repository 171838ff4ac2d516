// SPDX-License-Identifier: MIT
/*
 * `ftramp run -e OBJ [--maps]`: the ftramp process's side of BPF.
 *
 * Before the program starts, each object is checked with the library's
 * own loader (prog.c: the parse and load checks of
 * ftramp_bpf_object__open()/__load(), built for the host), so a bad
 * object is refused with the loader's message and nothing runs.  The
 * agent then loads the same files in the program (agent/bpf.c) with the
 * maps' memory in the session file's BPF area (agent/session.h, struct
 * ses_bpf).  From there this file drains the RINGBUF maps as the program
 * runs and, with --maps, prints every map at exit, typed from the BTF
 * that this side parsed: the memory outlives the program, so a crash or
 * SIGKILL loses nothing.  bpf_trace_printk() lines arrive as events in
 * each process's ring (report.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bpf/bpf.h"
#include "bpf/btf.h"
#include "lib/ringbuf.h"
#include "agent/session.h"
#include "cli.h"

struct bpf_ring {
	struct ringbuf rb;
	void *base;
	size_t size, page;
	const char *name;	/* OBJ/MAP */
	uint64_t records;
};

static struct ftramp_bpf_object *objs;
static char **obj_names;
static size_t nr_objs;
static int ses_fd = -1;
static uint64_t area_off, area_size;
static const struct ses_bpf *sb;	/* the area, read-only */
static struct bpf_ring rings[SES_BPF_MAX_MAPS];
static uint32_t nr_seen;		/* maps looked at so far */

int cli_bpf_add(const char *path)
{
	struct ftramp_bpf_error e = { 0 };
	struct ftramp_bpf_object *o;
	const char *base = strrchr(path, '/');

	o = realloc(objs, (nr_objs + 1) * sizeof(*objs));
	if (!o)
		return -ENOMEM;
	objs = o;
	obj_names = realloc(obj_names, (nr_objs + 1) * sizeof(*obj_names));
	if (!obj_names)
		return -ENOMEM;
	if (cli_bpf_parse(path, &objs[nr_objs], &e))
		return -EINVAL;
	obj_names[nr_objs++] = strdup(base ? base + 1 : path);
	return 0;
}

/*
 * The area: the struct, the maps' memory (a generous bound: the file is
 * sparse), each ring on its own pages.
 */
uint64_t cli_bpf_area_size(uint64_t page)
{
	uint64_t size = (sizeof(struct ses_bpf) + page - 1) & ~(page - 1);
	long cpus = sysconf(_SC_NPROCESSORS_CONF);

	if (cpus < 1 || cpus > 1024)
		cpus = 1024;	/* ftramp_bpf_num_cpus()'s bound */
	for (size_t i = 0; i < nr_objs; i++)
		for (size_t j = 0; j < objs[i].nr_maps; j++) {
			const struct ftramp_bpf_map *m = &objs[i].maps[j];
			uint64_t k = (m->key_size + 7) & ~7ull;
			uint64_t v = (m->value_size + 7) & ~7ull;
			uint64_t n = m->max_entries;

			size += 4096;	/* the map's own state, alignment */
			switch (m->type) {
			case BPF_MAP_TYPE_RINGBUF:
				/* page-aligned: ringbuf_file_size() */
				size += 3 * page + n;
				break;
			case BPF_MAP_TYPE_PERCPU_ARRAY:
				size += n * v * cpus;
				break;
			case BPF_MAP_TYPE_HASH:
			case BPF_MAP_TYPE_LRU_HASH:
				/* elements (a 32-byte header), buckets */
				size += (n + 1) * (32 + k + v) + 2 * n * 8 + 8;
				break;
			default:
				size += n * v;
			}
		}
	return size;
}

void cli_bpf_session(int fd, uint64_t off, uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, off);

	if (p == MAP_FAILED) {
		pr_warn("cannot map the BPF area: %s (no ring buffer or map output)",
			strerror(errno));
		return;
	}
	ses_fd = fd;
	area_off = off;
	area_size = size;
	sb = p;
}

/* A published map's object map, or NULL when it makes no sense. */
static const struct ftramp_bpf_map *map_of(const struct ses_bpf_map *d)
{
	if (d->obj >= nr_objs || d->idx >= objs[d->obj].nr_maps)
		return NULL;
	return &objs[d->obj].maps[d->idx];
}

/* The data of a published map, inside the area, or NULL. */
static const uint8_t *map_data(const struct ses_bpf_map *d, uint64_t bytes)
{
	if (d->data_off < area_off || d->data_off - area_off > area_size ||
	    bytes > area_size - (d->data_off - area_off))
		return NULL;
	return (const uint8_t *)sb + (d->data_off - area_off);
}

static void look_for_rings(void)
{
	uint32_t n;

	if (!sb)
		return;
	n = __atomic_load_n(&sb->nr_maps, __ATOMIC_ACQUIRE);
	for (; nr_seen < n && nr_seen < SES_BPF_MAX_MAPS; nr_seen++) {
		const struct ses_bpf_map *d = &sb->maps[nr_seen];
		const struct ftramp_bpf_map *m = map_of(d);
		struct bpf_ring *r = &rings[nr_seen];
		void *base;

		if (!m || d->type != BPF_MAP_TYPE_RINGBUF || !d->ring_off)
			continue;
		base = ringbuf_mmap(ses_fd, d->ring_off, d->ring_size,
				    d->ring_page, NULL);
		if (base == MAP_FAILED)
			continue;
		if (ringbuf_init(&r->rb, base, d->ring_size, d->ring_page)) {
			ringbuf_munmap(base, d->ring_size, d->ring_page);
			continue;
		}
		r->base = base;
		r->size = d->ring_size;
		r->page = d->ring_page;
		if (asprintf((char **)&r->name, "%s/%s", obj_names[d->obj],
			     m->name) < 0)
			r->name = m->name;
	}
}

static FILE *ring_out;

/* One record: its bytes in hex, as the kernel's ring gives no type. */
static int on_record(void *ctx, void *sample, uint32_t len)
{
	struct bpf_ring *r = ctx;
	const uint8_t *b = sample;

	r->records++;
	fprintf(ring_out, "ringbuf %s: %u bytes:", r->name, len);
	for (uint32_t i = 0; i < len && i < 256; i++)
		fprintf(ring_out, " %02x", b[i]);
	fprintf(ring_out, "%s\n", len > 256 ? " ..." : "");
	return 0;
}

bool cli_bpf_drain(FILE *out)
{
	bool any = false;

	look_for_rings();
	ring_out = out;
	for (uint32_t i = 0; i < nr_seen; i++) {
		long n;

		if (!rings[i].base)
			continue;
		n = ringbuf_consume(&rings[i].rb, on_record, &rings[i]);
		if (n < 0) {
			pr_warn("ring buffer %s is corrupt: not read further",
				rings[i].name);
			ringbuf_munmap(rings[i].base, rings[i].size,
				       rings[i].page);
			rings[i].base = NULL;
		}
		any |= n > 0;
	}
	if (any)
		fflush(out);
	return any;
}

static void format(const struct ftramp_bpf_map *m, uint32_t id,
		   const void *data, size_t size, char *buf, size_t bufsize)
{
	bpf_btf_format(m->btf, id, data, size, buf, bufsize);
}

/* `bpftool map dump` in text: one `key: value` line per element. */
static void dump_map(FILE *f, const struct ses_bpf_map *d,
		     const struct ftramp_bpf_map *m)
{
	static char kbuf[4096], vbuf[16384];
	const uint8_t *data;
	uint32_t shown = 0;

	fprintf(f, "map %s/%s (%s, key %u, value %u, max_entries %u):\n",
		obj_names[d->obj], m->name, bpf_map_type_str(d->type) ?: "?",
		d->key_size, d->value_size, d->max_entries);
	switch (d->type) {
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		data = map_data(d, (uint64_t)d->stride * d->nr);
		if (!data || !d->nr_cpus || d->stride < d->value_size)
			break;
		for (uint32_t k = 0; k < d->max_entries; k++) {
			format(m, m->btf_key, &k, sizeof(k), kbuf, sizeof(kbuf));
			if (m->origin != BPF_MAP_USER)
				fprintf(f, "  ");
			else
				fprintf(f, "  %s:", kbuf);
			for (uint32_t c = 0; c < d->nr_cpus; c++) {
				const uint8_t *v = data + ((uint64_t)c *
						d->max_entries + k) * d->stride;

				format(m, m->btf_value, v, d->value_size, vbuf,
				       sizeof(vbuf));
				if (d->nr_cpus > 1)
					fprintf(f, " cpu%u=%s", c, vbuf);
				else
					fprintf(f, "%s%s", m->origin ==
						BPF_MAP_USER ? " " : "", vbuf);
			}
			fputc('\n', f);
			shown++;
		}
		break;
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
		data = map_data(d, (uint64_t)d->stride * d->nr);
		if (!data || d->val_off + d->value_size > d->stride ||
		    d->key_off + d->key_size > d->stride ||
		    d->live_off >= d->stride)
			break;
		for (uint32_t i = 0; i < d->nr; i++) {
			const uint8_t *e = data + (uint64_t)i * d->stride;

			if (e[d->live_off] != 1)
				continue;
			format(m, m->btf_key, e + d->key_off, d->key_size,
			       kbuf, sizeof(kbuf));
			format(m, m->btf_value, e + d->val_off, d->value_size,
			       vbuf, sizeof(vbuf));
			fprintf(f, "  %s: %s\n", kbuf, vbuf);
			shown++;
		}
		fprintf(f, "  (%u elements)\n", shown);
		break;
	case BPF_MAP_TYPE_RINGBUF:
		for (uint32_t i = 0; i < nr_seen; i++)
			if (&sb->maps[i] == d && rings[i].base)
				fprintf(f, "  (%llu records read, %llu dropped)\n",
					(unsigned long long)rings[i].records,
					(unsigned long long)ringbuf_dropped(&rings[i].rb));
		break;
	default:
		fprintf(f, "  (not shown)\n");
	}
}

void cli_bpf_dump_maps(FILE *f)
{
	uint32_t n;

	if (!sb) {
		fprintf(f, "maps: none (the BPF area could not be read)\n");
		return;
	}
	n = __atomic_load_n(&sb->nr_maps, __ATOMIC_ACQUIRE);
	if (n > SES_BPF_MAX_MAPS)
		n = SES_BPF_MAX_MAPS;
	if (!n)
		fprintf(f, "maps: none (the program ended before the objects were loaded)\n");
	for (uint32_t i = 0; i < n; i++) {
		const struct ftramp_bpf_map *m = map_of(&sb->maps[i]);

		if (m && m->type != BPF_MAP_TYPE_PROG_ARRAY)
			dump_map(f, &sb->maps[i], m);
	}
	fflush(f);
}
