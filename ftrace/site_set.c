// SPDX-License-Identifier: MIT
/*
 * Sets of sites (ftrace/site_set.h): sorted by pointer, searched by
 * bisection.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ftrace/site_set.h"

static int ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

bool site_set_has(const struct site_set *s, const struct ftramp_site *site)
{
	return s->nr && bsearch(&site, s->v, s->nr, sizeof(s->v[0]), ptr_cmp);
}

int site_set_add(struct site_set *s, struct ftramp_site *site)
{
	if (s->nr == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct ftramp_site **v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->nr++] = site;
	return 0;
}

void site_set_normalise(struct site_set *s)
{
	size_t j = 0;

	if (!s->nr)
		return;
	qsort(s->v, s->nr, sizeof(s->v[0]), ptr_cmp);
	for (size_t i = 1; i < s->nr; i++)
		if (s->v[i] != s->v[j])
			s->v[++j] = s->v[i];
	s->nr = j + 1;
}

void site_set_remove(struct site_set *s, const struct ftramp_site *site)
{
	struct ftramp_site **p;

	if (!s->nr)
		return;
	p = bsearch(&site, s->v, s->nr, sizeof(s->v[0]), ptr_cmp);
	if (!p)
		return;
	memmove(p, p + 1, (s->v + s->nr - (p + 1)) * sizeof(*p));
	s->nr--;
}

int site_set_copy(struct site_set *dst, const struct site_set *src)
{
	memset(dst, 0, sizeof(*dst));
	if (!src->nr)
		return 0;
	dst->v = malloc(src->nr * sizeof(dst->v[0]));
	if (!dst->v)
		return -ENOMEM;
	memcpy(dst->v, src->v, src->nr * sizeof(dst->v[0]));
	dst->nr = dst->cap = src->nr;
	return 0;
}

void site_set_free(struct site_set *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}
