// SPDX-License-Identifier: MIT
/*
 * The session file's geometry and the mapping of one process slot
 * (session.h), shared by the command (host) and the agent (arm64).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/ringbuf.h"
#include "session.h"

static uint64_t page_up(uint64_t v, uint64_t page)
{
	return (v + page - 1) & ~(page - 1);
}

void ses_geom_init(struct ses_geom *g, uint64_t page, uint64_t ring_size,
		   uint64_t max_funcs, uint64_t names_size,
		   uint64_t nr_slots)
{
	g->page = page;
	g->ring_size = ring_size;
	g->max_funcs = max_funcs;
	g->names_size = names_size;
	g->nr_slots = nr_slots;
	g->funcs_off = page + ringbuf_file_size(ring_size, page);
	g->names_off = g->funcs_off +
		       page_up(max_funcs * sizeof(struct ses_func), page);
	g->slot_size = g->names_off + page_up(names_size, page);
	g->slots_off = page;
	g->file_size = g->slots_off + nr_slots * g->slot_size;
}

int ses_geom_from_header(struct ses_geom *g, const struct ses_header *h,
			 uint64_t file_size)
{
	uint64_t page = h->page_size;

	if (memcmp(h->magic, SES_MAGIC, sizeof(SES_MAGIC)) ||
	    h->version != SES_VERSION || page < 4096 || (page & (page - 1)) ||
	    !h->ring_size || (h->ring_size & (h->ring_size - 1)) ||
	    h->ring_size < page || h->max_funcs > (1u << 20) ||
	    h->names_size > (1u << 28) || !h->nr_slots ||
	    h->nr_slots > 4096)
		return -EINVAL;
	ses_geom_init(g, page, h->ring_size, h->max_funcs, h->names_size,
		      h->nr_slots);
	if (g->slots_off != h->slots_off || g->slot_size != h->slot_size ||
	    g->funcs_off != h->funcs_off || g->names_off != h->names_off ||
	    g->file_size > file_size)
		return -EINVAL;
	if (h->bpf_size && (h->bpf_off % page || h->bpf_off < g->file_size ||
			    h->bpf_off > file_size ||
			    h->bpf_size > file_size - h->bpf_off ||
			    h->bpf_size < sizeof(struct ses_bpf)))
		return -EINVAL;
	if (h->table_size && (h->table_off % page ||
			      h->table_off < g->file_size ||
			      h->table_off > file_size ||
			      h->table_size > file_size - h->table_off))
		return -EINVAL;
	return 0;
}

/* The ring's data is mapped twice: the map is one ring_size longer. */
uint64_t ses_slot_map_size(const struct ses_geom *g)
{
	return g->slot_size + g->ring_size;
}

int ses_slot_map(struct ses_map *m, const struct ses_geom *g, int fd,
		 uint32_t idx, void *fixed)
{
	uint64_t off = g->slots_off + (uint64_t)idx * g->slot_size;
	uint64_t ring_map = ringbuf_map_size(g->ring_size, g->page);
	char *base, *p;

	if (idx >= g->nr_slots)
		return -EINVAL;
	if (!fixed) {
		/* aligned to the session's page, which may be larger */
		uint64_t size = ses_slot_map_size(g) + g->page;
		uintptr_t at;

		base = mmap(NULL, size, PROT_NONE, MAP_PRIVATE |
			    MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (base == MAP_FAILED)
			return -errno;
		at = ((uintptr_t)base + g->page - 1) & ~(uintptr_t)(g->page - 1);
		if (at > (uintptr_t)base)
			munmap(base, at - (uintptr_t)base);
		munmap((char *)at + ses_slot_map_size(g),
		       (uintptr_t)base + size - at - ses_slot_map_size(g));
		fixed = (void *)at;
	}
	base = mmap(fixed, ses_slot_map_size(g), PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
		    -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	p = mmap(base, g->page, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, fd, off);
	if (p != MAP_FAILED)
		p = ringbuf_mmap(fd, off + g->page, g->ring_size, g->page,
				 base + g->page);
	if (p != MAP_FAILED)
		p = mmap(base + g->page + ring_map,
			 g->slot_size - g->funcs_off, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, fd, off + g->funcs_off);
	if (p == MAP_FAILED) {
		int err = errno;

		munmap(base, ses_slot_map_size(g));
		return -err;
	}
	m->base = base;
	m->slot = (struct ses_slot *)base;
	m->ring_base = base + g->page;
	m->funcs = (struct ses_func *)(base + g->page + ring_map);
	m->names = (char *)m->funcs + (g->names_off - g->funcs_off);
	return 0;
}

void ses_slot_unmap(struct ses_map *m, const struct ses_geom *g)
{
	if (m->base)
		munmap(m->base, ses_slot_map_size(g));
	m->base = NULL;
}
