// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the BPF object loader (bpf/object.c, bpf/btf.c),
 * the load checks (bpf/check.c) and the verifier (bpf/verifier.c, with
 * its log): any input either parses or fails
 * with -EINVAL (or -ENOMEM) and a coded, non-empty message; an object
 * that parses has programs whose relocated map references and calls the
 * checks accept or refuse the same way.  Seeded with the selftests'
 * clang-built objects (selftests/bpf.mk).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/bpf.h"
#include "bpf/btf.h"
#include "bpf/verifier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_err(int err, const struct ftramp_bpf_error *e)
{
	if (err == -ENOMEM)
		return;
	if (err != -EINVAL || e->code <= FTRAMP_BPF_OK ||
	    e->code >= FTRAMP_BPF_E__MAX || !e->msg[0] ||
	    !memchr(e->msg, '\0', sizeof(e->msg)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ftramp_bpf_object obj;
	struct ftramp_bpf_error e = { 0 };
	int err;

	memset(&obj, 0, sizeof(obj));
	obj.err = &e;
	err = bpf_object_parse(&obj, data, size);
	if (err) {
		check_err(err, &e);
		return 0;
	}
	if (!obj.nr_progs)
		abort();
	for (size_t i = 0; i < obj.nr_progs; i++) {
		const struct ftramp_bpf_program *p = &obj.progs[i];

		if (p->entry >= p->n || p->nr_maps != obj.nr_maps)
			abort();
		memset(&e, 0, sizeof(e));
		err = bpf_check(p, &e);
		if (!err) {
			struct bpf_vlog log = { .level = 2 };

			err = bpf_verify(p, BPF_CTX_UNKNOWN, &e, &log, NULL);
			bpf_vlog_free(&log);
		}
		if (err)
			check_err(err, &e);
	}
	/* declared slots: a prog array's, in range, a program, once each */
	for (size_t i = 0; i < obj.nr_slots; i++) {
		const struct bpf_slot_init *s = &obj.slots[i];

		if (s->map >= obj.nr_maps || s->prog >= obj.nr_progs ||
		    obj.maps[s->map].type != BPF_MAP_TYPE_PROG_ARRAY ||
		    s->key >= obj.maps[s->map].max_entries ||
		    (i && s[-1].map == s->map && s[-1].key >= s->key))
			abort();
	}
	for (size_t i = 0; i < obj.nr_maps; i++) {
		const struct ftramp_bpf_map *m = &obj.maps[i];
		const char *why;
		char text[128];
		uint8_t *zero;

		if (bpf_map_check(m, &why))
			abort();	/* parse let a bad definition through */
		/* the typed dump of a value never reads beyond it */
		zero = calloc(1, m->value_size + 1);
		if (zero && m->value_size <= 4096)
			bpf_btf_format(m->btf, m->btf_value, zero, m->value_size,
				       text, sizeof(text));
		free(zero);
	}
	bpf_object_free(&obj);
	return 0;
}
