// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the verifier (bpf/verifier.c, after bpf/check.c):
 * any instruction sequence, as a raw, fentry or fexit program with four
 * maps (array, hash, ring buffer, prog array) to name, is accepted or
 * refused with -EINVAL and a coded, non-empty message, its log (level 2)
 * built on the way, without a fault, a leak or undefined behaviour.
 * Running what it accepts under ASan needs the runtime (interpreter,
 * maps, helpers): not here yet.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/bpf.h"
#include "bpf/verifier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ftramp_bpf_map maps[] = {
	{ .name = "arr", .type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
	  .value_size = 16, .max_entries = 2 },
	{ .name = "hash", .type = BPF_MAP_TYPE_HASH, .key_size = 4,
	  .value_size = 8, .max_entries = 8 },
	{ .name = "rb", .type = BPF_MAP_TYPE_RINGBUF, .max_entries = 4096 },
	{ .name = "progs", .type = BPF_MAP_TYPE_PROG_ARRAY, .key_size = 4,
	  .value_size = 4, .max_entries = 2 },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int types[] = { FTRAMP_BPF_PROG_RAW, FTRAMP_BPF_PROG_FENTRY,
				     FTRAMP_BPF_PROG_FEXIT };
	struct ftramp_bpf_map *mp[4] = { &maps[0], &maps[1], &maps[2], &maps[3] };
	struct ftramp_bpf_program p = { .name = "fuzz" };
	struct ftramp_bpf_error e = { 0 };
	struct bpf_vlog log = { .level = 2 };
	int err;

	if (size < 1 + sizeof(struct ftramp_bpf_insn) ||
	    size > 1 + 256 * sizeof(struct ftramp_bpf_insn))
		return 0;
	p.type = types[data[0] % 3];
	p.n = p.sec_n = (size - 1) / sizeof(struct ftramp_bpf_insn);
	p.insns = malloc(p.n * sizeof(*p.insns));
	if (!p.insns)
		return 0;
	memcpy(p.insns, data + 1, p.n * sizeof(*p.insns));
	p.maps = mp;
	p.nr_maps = 4;
	err = bpf_check(&p, &e);
	if (!err)
		err = bpf_verify(&p, data[0] & 0x80 ? 3 : BPF_CTX_UNKNOWN, &e, &log, NULL);
	if (err && err != -ENOMEM &&
	    (err != -EINVAL || e.code <= FTRAMP_BPF_OK ||
	     e.code >= FTRAMP_BPF_E__MAX || !e.msg[0]))
		abort();
	bpf_vlog_free(&log);
	free(p.insns);
	return 0;
}
