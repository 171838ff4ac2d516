/* SPDX-License-Identifier: MIT */
/*
 * libsample-bad.so: hand-written __patchable_function_entries records, one
 * per way a site can be wrong.  The site table must list each one unusable
 * with its own reason (selftests/sites_test.c), and never patch it.
 *
 * A record holds the address of the literal slot, func - 8, exactly as the
 * compilers emit it (Documentation/sites.rst).
 */
#define NOP	nop

	.text
	.p2align 4

/* A correct hand-written site: proves the assembler path works. */
	.p2align 3
.Lgood_asm:
	NOP
	NOP
	.globl	bad_good_asm
	.type	bad_good_asm, %function
bad_good_asm:
	NOP
	NOP
	mov	w0, #7
	ret
	.size	bad_good_asm, . - bad_good_asm

/* The entry NOPs were replaced by real code. */
	.p2align 3
.Lentry:
	NOP
	NOP
	.globl	bad_entry
	.type	bad_entry, %function
bad_entry:
	mov	w0, #1
	NOP
	ret
	.size	bad_entry, . - bad_entry

/* The two instructions before the function (the literal slot) are code. */
	.p2align 3
.Lpre:
	brk	#0x1
	brk	#0x2
	.globl	bad_pre
	.type	bad_pre, %function
bad_pre:
	NOP
	NOP
	ret
	.size	bad_pre, . - bad_pre

/* The literal slot is only 4-byte aligned. */
	.p2align 3
	NOP
.Lmisaligned:
	NOP
	NOP
	.globl	bad_misaligned
	.type	bad_misaligned, %function
bad_misaligned:
	NOP
	NOP
	ret
	.size	bad_misaligned, . - bad_misaligned

/* A record pointing into the middle of a function: no symbol at +8. */
	.p2align 3
	.globl	bad_nosym_host
	.type	bad_nosym_host, %function
bad_nosym_host:
	NOP
	NOP
.Lnosym:
	NOP
	NOP
	NOP
	NOP
	ret
	.size	bad_nosym_host, . - bad_nosym_host

/* A function smaller than its patch area (its size says 4 bytes). */
	.p2align 3
.Lsmall:
	NOP
	NOP
	.globl	bad_small
	.type	bad_small, %function
bad_small:
	NOP
	.size	bad_small, 4
	NOP
	ret

/* Recorded twice. */
	.p2align 3
.Ldup:
	NOP
	NOP
	.globl	bad_dup
	.type	bad_dup, %function
bad_dup:
	NOP
	NOP
	ret
	.size	bad_dup, . - bad_dup

/* Two sites where the first one's entry NOPs are the second's literal. */
	.p2align 3
.Lova:
	NOP
	NOP
	.globl	bad_overlap_a
	.type	bad_overlap_a, %function
bad_overlap_a:
	NOP
	NOP
	.size	bad_overlap_a, 8
	.globl	bad_overlap_b
	.type	bad_overlap_b, %function
bad_overlap_b:
	NOP
	NOP
	ret
	.size	bad_overlap_b, . - bad_overlap_b

/* A "function" in a data segment. */
	.data
	.p2align 3
.Ldata:
	.8byte	0
	.globl	bad_data
	.type	bad_data, %function
bad_data:
	.8byte	0, 0
	.size	bad_data, 16

	.section __patchable_function_entries, "aw", @progbits
	.p2align 3
	.8byte	.Lgood_asm
	.8byte	.Lentry
	.8byte	.Lpre
	.8byte	.Lmisaligned
	.8byte	.Lnosym
	.8byte	.Lsmall
	.8byte	.Ldup
	.8byte	.Ldup
	.8byte	.Ldata
	.8byte	.Lova
	.8byte	bad_overlap_a

	.section .note.GNU-stack, "", @progbits
