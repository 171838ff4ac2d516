// SPDX-License-Identifier: MIT
/*
 * One A64 word as text, for `ftramp dump` and `ftramp prog --jited`:
 * capstone, and the ARMv8.1 LSE atomics capstone 4 does not know (the
 * JIT's and the emitter's: LDADD/LDCLR/LDEOR/LDSET/SWP and CAS, Arm ARM
 * C4.1.94 "Atomic memory operations" and "Compare and swap"), decoded
 * here in the same syntax, and the BTI and PAC hints by name.
 */
#include <capstone/capstone.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct cli_disasm {
	csh h;
	cs_insn *insn;
};

struct cli_disasm *cli_disasm_open(void)
{
	struct cli_disasm *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	if (cs_open(CS_ARCH_ARM64, CS_MODE_ARM, &d->h) != CS_ERR_OK) {
		free(d);
		return NULL;
	}
	d->insn = cs_malloc(d->h);
	if (!d->insn) {
		cs_close(&d->h);
		free(d);
		return NULL;
	}
	return d;
}

void cli_disasm_close(struct cli_disasm *d)
{
	if (!d)
		return;
	cs_free(d->insn, 1);
	cs_close(&d->h);
	free(d);
}

static void reg_name(char *buf, size_t size, unsigned int r, bool x, bool sp)
{
	if (r == 31)
		snprintf(buf, size, "%s", sp ? "sp" : x ? "xzr" : "wzr");
	else
		snprintf(buf, size, "%c%u", x ? 'x' : 'w', r);
}

/* The ordering and size suffix: {,a,al,l}{b,h,}. */
static void lse_suffix(char *buf, size_t size, bool acq, bool rel,
		       unsigned int sz)
{
	snprintf(buf, size, "%s%s", acq ? (rel ? "al" : "a") : (rel ? "l" : ""),
		 sz == 0 ? "b" : sz == 1 ? "h" : "");
}

static bool decode_lse(uint32_t w, char *mn, size_t mn_size, char *ops,
		       size_t ops_size)
{
	static const char *const names[] = {
		"ldadd", "ldclr", "ldeor", "ldset",
	};
	unsigned int sz = w >> 30, rs = (w >> 16) & 31, rn = (w >> 5) & 31;
	unsigned int rt = w & 31, opc = (w >> 12) & 7;
	bool x = sz == 3, o3 = w & (1u << 15);
	char s[8], a[8], b[8], n[8];

	reg_name(a, sizeof(a), rs, x, false);
	reg_name(b, sizeof(b), rt, x, false);
	reg_name(n, sizeof(n), rn, true, true);
	if ((w & 0x3fa07c00) == 0x08a07c00) {
		/* CAS{A}{L}: acquire is L (bit 22), release o0 (bit 15) */
		lse_suffix(s, sizeof(s), w & (1u << 22), o3, sz);
		snprintf(mn, mn_size, "cas%s", s);
		snprintf(ops, ops_size, "%s, %s, [%s]", a, b, n);
		return true;
	}
	if ((w & 0x3f200c00) != 0x38200000 || (o3 && opc) || (!o3 && opc > 3))
		return false;
	lse_suffix(s, sizeof(s), w & (1u << 23), w & (1u << 22), sz);
	if (!o3 && rt == 31 && !(w & (1u << 23))) {
		/* ST<op>: the alias without a result register */
		snprintf(mn, mn_size, "st%s%s", names[opc] + 2, s);
		snprintf(ops, ops_size, "%s, [%s]", a, n);
		return true;
	}
	snprintf(mn, mn_size, "%s%s", o3 ? "swp" : names[opc], s);
	snprintf(ops, ops_size, "%s, %s, [%s]", a, b, n);
	return true;
}

/* HINT space words capstone 4 prints as "hint #n" (Arm ARM C6.2.106). */
static const char *hint_name(uint32_t w)
{
	switch (w) {
	case 0xd503233f:	return "paciasp";
	case 0xd50323bf:	return "autiasp";
	case 0xd503237f:	return "pacibsp";
	case 0xd50323ff:	return "autibsp";
	case 0xd50320ff:	return "xpaclri";
	case 0xd503241f:	return "bti";
	case 0xd503245f:	return "bti\tc";
	case 0xd503249f:	return "bti\tj";
	case 0xd50324df:	return "bti\tjc";
	}
	return NULL;
}

void cli_disasm_one(struct cli_disasm *d, uint32_t word, uint64_t pc,
		    char *mn, size_t mn_size, char *ops, size_t ops_size)
{
	const uint8_t *code = (const uint8_t *)&word;
	size_t left = sizeof(word);
	uint64_t addr = pc;

	const char *hint = hint_name(word);

	if (hint) {
		const char *tab = strchr(hint, '\t');

		snprintf(mn, mn_size, "%.*s", tab ? (int)(tab - hint) : 16,
			 hint);
		snprintf(ops, ops_size, "%s", tab ? tab + 1 : "");
		return;
	}
	if (decode_lse(word, mn, mn_size, ops, ops_size))
		return;
	if (cs_disasm_iter(d->h, &code, &left, &addr, d->insn)) {
		snprintf(mn, mn_size, "%s", d->insn->mnemonic);
		snprintf(ops, ops_size, "%s", d->insn->op_str);
		return;
	}
	snprintf(mn, mn_size, ".inst");
	snprintf(ops, ops_size, "%#010x", word);
}
