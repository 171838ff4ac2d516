/* SPDX-License-Identifier: MIT */
/*
 * Sets of sites: sorted arrays of site pointers, no duplicates once
 * normalised (an ops' filters and the sites it is on).
 */
#ifndef FTRAMP_FTRACE_SITE_SET_H
#define FTRAMP_FTRACE_SITE_SET_H

#include <stdbool.h>
#include <stddef.h>

struct ftramp_site;

struct site_set {
	struct ftramp_site **v;
	size_t nr, cap;
};

bool site_set_has(const struct site_set *s, const struct ftramp_site *site);
/* Append (unsorted until site_set_normalise()); 0 or -ENOMEM. */
int site_set_add(struct site_set *s, struct ftramp_site *site);
/* Sort and drop duplicates. */
void site_set_normalise(struct site_set *s);
/* Remove one site from a normalised set (none: nothing). */
void site_set_remove(struct site_set *s, const struct ftramp_site *site);
/* *dst = a copy of src (dst's old contents are not freed). */
int site_set_copy(struct site_set *dst, const struct site_set *src);
void site_set_free(struct site_set *s);

#endif /* FTRAMP_FTRACE_SITE_SET_H */
