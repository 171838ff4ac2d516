// SPDX-License-Identifier: MIT
/*
 * vp_keep(in, res, pat, after): call vp_axpy(in[0], in[1], in[2]) (the
 * vector PCS: q8-q23 are the callee's to preserve, all 128 bits) with
 * q8-q23 loaded from pat[256], store its result at *res and q8-q23 as
 * they came back at after[256].  In assembly, so that nothing but the
 * call itself stands between the load and the store.
 *
 *	void vp_keep(const float64x2_t in[3], float64x2_t *res,
 *		     const uint8_t pat[256], uint8_t after[256]);
 */
	.variant_pcs	vp_axpy

	.text
	.p2align	3
	.global	vp_keep
	.type	vp_keep, %function
vp_keep:
	stp	x29, x30, [sp, #-96]!
	mov	x29, sp
	stp	x19, x20, [sp, #16]
	stp	d8, d9, [sp, #32]
	stp	d10, d11, [sp, #48]
	stp	d12, d13, [sp, #64]
	stp	d14, d15, [sp, #80]
	mov	x19, x1
	mov	x20, x3
	ld1	{v8.16b-v11.16b}, [x2], #64
	ld1	{v12.16b-v15.16b}, [x2], #64
	ld1	{v16.16b-v19.16b}, [x2], #64
	ld1	{v20.16b-v23.16b}, [x2]
	ldp	q0, q1, [x0]
	ldr	q2, [x0, #32]
	bl	vp_axpy
	str	q0, [x19]
	st1	{v8.16b-v11.16b}, [x20], #64
	st1	{v12.16b-v15.16b}, [x20], #64
	st1	{v16.16b-v19.16b}, [x20], #64
	st1	{v20.16b-v23.16b}, [x20]
	ldp	d14, d15, [sp, #80]
	ldp	d12, d13, [sp, #64]
	ldp	d10, d11, [sp, #48]
	ldp	d8, d9, [sp, #32]
	ldp	x19, x20, [sp, #16]
	ldp	x29, x30, [sp], #96
	ret
	.size	vp_keep, . - vp_keep

	.section	.note.GNU-stack, "", %progbits
