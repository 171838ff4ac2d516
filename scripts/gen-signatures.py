#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Random C function signatures for the AAPCS64 differential test.

  gen-signatures.py --seed S --count N --out DIR [--chunk K] [--xcheck C]

Writes, deterministically for a seed:

  abi_common.h     helpers shared by the generated code (bit casts, mix)
  abi_types_I.h    the struct types of chunk I, with _Static_asserts of
                   the layout computed here (size, alignment, offsets)
  callee_I.c       K functions f<n>(...) built like a traced program; each
                   body mixes every bit of every argument into a hash and
                   returns a value made from it (CALLEE_PFX names them)
  caller_I.c       c<n>(void *out): calls f<n> with fixed random arguments
                   and stores the result (CALLER_PFX, CALLEE_PFX)
  abi_table.h/.c   per function: its prototype as a string for the model
                   parser, the classification and ctx layout expected per
                   AAPCS64 and Documentation/models.rst, and the expected
                   result and ctx bytes with a mask of the defined ones
  abi_utypes.h, ucallee.c, ucaller.c
                   --unknown U more functions u<n> that no model describes,
                   for the unknown model only (abi_usigs[]): variadic ones
                   (va_arg of every type a variadic argument can have),
                   float32x4_t arguments and results, and up to 30
                   arguments with up to 256 bytes on the stack

The expected values are computed here, independently of the C compilers:
gcc and clang must both agree with them, and so must a trampoline.
"""
import argparse
import os
import random
import struct

MASK64 = (1 << 64) - 1
FNV = 0x100000001b3


def mix(h, v):
    h = ((h ^ (v & MASK64)) * FNV) & MASK64
    return h ^ (h >> 29)


# --------------------------------------------------------------------------
# Types


class Scalar:
    """kind: int (size, signed), bool, ptr, str, f32, f64, f128, i128,
    v4f (float32x4_t: a short vector, one V register like f128)."""

    def __init__(self, kind, size, signed=False):
        self.kind, self.size, self.signed = kind, size, signed
        self.align = size

    # C spelling in generated code
    def ctype(self):
        if self.kind == 'int':
            return '%sint%d_t' % ('' if self.signed else 'u', self.size * 8)
        return {'bool': '_Bool', 'ptr': 'void *', 'str': 'const char *',
                'f32': 'float', 'f64': 'double', 'f128': 'long double',
                'v4f': 'float32x4_t',
                'i128': '__int128' if self.signed else
                'unsigned __int128'}[self.kind]

    # a spelling for the prototype string: exercises the parser
    def proto(self, rnd):
        if self.kind == 'int':
            names = {
                (1, True): ['int8_t', 'signed char', 's8'],
                (1, False): ['uint8_t', 'unsigned char', 'char', 'u8'],
                (2, True): ['int16_t', 'short', 'short int', 'signed short'],
                (2, False): ['uint16_t', 'unsigned short', '__u16'],
                (4, True): ['int32_t', 'int', 'signed', 'signed int'],
                (4, False): ['uint32_t', 'unsigned', 'unsigned int'],
                (8, True): ['int64_t', 'long', 'long long', 'ssize_t',
                            'long int'],
                (8, False): ['uint64_t', 'unsigned long', 'size_t',
                             'uintptr_t', 'unsigned long long'],
            }[(self.size, self.signed)]
            return rnd.choice(names)
        if self.kind == 'bool':
            return rnd.choice(['_Bool', 'bool'])
        if self.kind == 'ptr':
            return rnd.choice(['void *', 'const void *', 'int *',
                               'struct opaque *', 'void (*)(int)'])
        if self.kind == 'str':
            return rnd.choice(['const char *', 'char *'])
        if self.kind == 'i128':
            return '__int128' if self.signed else 'unsigned __int128'
        return self.ctype()

    def leaves(self, path, off):
        yield path, off, self


class Array:
    def __init__(self, elem, n):
        self.elem, self.n = elem, n
        self.size, self.align = elem.size * n, elem.align

    def leaves(self, path, off):
        for i in range(self.n):
            yield from self.elem.leaves('%s[%d]' % (path, i),
                                        off + i * self.elem.size)


class Struct:
    def __init__(self, name, members):
        self.name, self.members = name, members     # [(mname, type)]
        off, align = 0, 1
        self.offsets = []
        for _, t in members:
            off = (off + t.align - 1) // t.align * t.align
            self.offsets.append(off)
            off += t.size
            align = max(align, t.align)
        self.align = align
        self.size = (off + align - 1) // align * align

    def ctype(self):
        return self.name

    def leaves(self, path, off):
        for (m, t), o in zip(self.members, self.offsets):
            yield from t.leaves('%s.%s' % (path, m), off + o)

    def proto(self, rnd):
        parts = []
        for m, t in self.members:
            if isinstance(t, Array):
                parts.append('%s %s[%d];' % (elem_proto(t.elem, rnd), m, t.n))
            else:
                parts.append('%s %s;' % (elem_proto(t, rnd), m))
        return 'struct { %s }' % ' '.join(parts)


def elem_proto(t, rnd):
    if isinstance(t, Struct):
        return t.proto(rnd)
    p = t.proto(rnd)
    # an abstract function pointer cannot take a member name after it
    return 'void *' if '(*)' in p else p


def decl(t, name):
    if isinstance(t, Array):
        return '%s %s[%d]' % (t.elem.ctype(), name, t.n)
    return '%s %s' % (t.ctype(), name)


FP_SIZE = {'f32': 4, 'f64': 8, 'f128': 16, 'v4f': 16}


def classify(t):
    """(cls, nmemb, elem) per AAPCS64 5.9.5, as ftramp_type classes."""
    if isinstance(t, Scalar):
        if t.kind in FP_SIZE:
            return 'FLOAT', 0, 0
        return 'INT', 0, 0
    kinds = [leaf.kind for _, _, leaf in t.leaves('', 0)]
    if kinds and all(k == kinds[0] for k in kinds) and kinds[0] in FP_SIZE \
            and len(kinds) <= 4:
        return 'HFA', len(kinds), FP_SIZE[kinds[0]]
    return 'STRUCT', 0, 0


def ctx_slots(t):
    cls, _, _ = classify(t)
    if cls == 'STRUCT' and t.size > 16:
        return 1
    return (t.size + 7) // 8


def stack_bytes(args):
    """AAPCS64 6.8.2 stage C: bytes of stack arguments (NSAA)."""
    ngrn = nsrn = nsaa = 0

    def up(v, a):
        return (v + a - 1) // a * a
    for t in args:
        cls, n, elem = classify(t)
        size, align = t.size, t.align
        if cls == 'STRUCT' and size > 16:
            size = align = 8                        # B.3
        if cls == 'FLOAT':
            if nsrn < 8:
                nsrn += 1
            else:
                nsaa = up(nsaa, 16 if size == 16 else 8) + max(size, 8)
        elif cls == 'HFA':
            if nsrn + n <= 8:
                nsrn += n
            else:
                nsrn = 8
                nsaa = up(nsaa, 16 if elem == 16 else 8) + up(size, 8)
        else:
            dw = (size + 7) // 8
            if dw == 1 and ngrn < 8:
                ngrn += 1
                continue
            if align == 16:
                ngrn = up(ngrn, 2)                  # C.8
            if dw > 1 and dw <= 8 - ngrn:
                ngrn += dw
            else:
                ngrn = 8
                nsaa = up(nsaa, max(8, align)) + dw * 8
    return nsaa


# --------------------------------------------------------------------------
# Values: leaf -> (C expression, bytes in memory, u64 words mixed)


def rand_value(rnd, leaf):
    k = leaf.kind
    if k == 'int':
        return rnd.getrandbits(leaf.size * 8)
    if k == 'bool':
        return rnd.getrandbits(1)
    if k in ('ptr', 'str'):
        return rnd.getrandbits(47) & ~7 | 0x1000
    if k == 'i128':
        return rnd.getrandbits(128)
    if k == 'f32':      # finite, normal
        return (rnd.getrandbits(1) << 31 | rnd.randint(1, 254) << 23 |
                rnd.getrandbits(23))
    if k == 'f64':
        return (rnd.getrandbits(1) << 63 | rnd.randint(1, 2046) << 52 |
                rnd.getrandbits(52))
    if k == 'f128':
        return (rnd.getrandbits(1) << 127 | rnd.randint(1, 0x7ffe) << 112 |
                rnd.getrandbits(112))
    if k == 'v4f':      # four finite, normal floats
        v = 0
        for i in range(4):
            v |= (rnd.getrandbits(1) << 31 | rnd.randint(1, 254) << 23 |
                  rnd.getrandbits(23)) << (32 * i)
        return v
    raise ValueError(k)


def c_literal(leaf, v):
    k = leaf.kind
    if k == 'int':
        return '(%s)0x%xULL' % (leaf.ctype(), v)
    if k == 'bool':
        return str(v)
    if k in ('ptr', 'str'):
        return '(%s)0x%xULL' % (leaf.ctype(), v)
    if k == 'i128':
        return '(%s)abi_u128(0x%xULL, 0x%xULL)' % (leaf.ctype(), v & MASK64,
                                                   v >> 64)
    if k == 'f32':
        return 'abi_f32(0x%xU)' % v
    if k == 'f64':
        return 'abi_f64(0x%xULL)' % v
    if k == 'f128':
        return 'abi_f128(0x%xULL, 0x%xULL)' % (v & MASK64, v >> 64)
    if k == 'v4f':
        return 'abi_v4f(0x%xULL, 0x%xULL)' % (v & MASK64, v >> 64)
    raise ValueError(k)


def mix_words(leaf, v):
    """The u64 words the callee mixes for one leaf, in order."""
    if leaf.kind == 'int' and leaf.signed and v >> (leaf.size * 8 - 1):
        return [(v - (1 << leaf.size * 8)) & MASK64]
    if leaf.kind in ('i128', 'f128', 'v4f'):
        return [v & MASK64, v >> 64]
    return [v]


def c_mix(leaf, expr):
    k = leaf.kind
    if k in ('int', 'bool'):
        return ['(uint64_t)(%s)' % expr]
    if k in ('ptr', 'str'):
        return ['(uint64_t)(uintptr_t)(%s)' % expr]
    if k == 'f32':
        return ['abi_f32_bits(%s)' % expr]
    if k == 'f64':
        return ['abi_f64_bits(%s)' % expr]
    if k == 'f128':
        return ['abi_f128_lo(%s)' % expr, 'abi_f128_hi(%s)' % expr]
    if k == 'v4f':
        return ['abi_v4f_lo(%s)' % expr, 'abi_v4f_hi(%s)' % expr]
    if k == 'i128':
        return ['(uint64_t)(%s)' % expr,
                '(uint64_t)((unsigned __int128)(%s) >> 64)' % expr]
    raise ValueError(k)


def from_hash(leaf, h):
    """The value a callee returns for a leaf made from hash h."""
    k = leaf.kind
    if k == 'int':
        return h & ((1 << leaf.size * 8) - 1)
    if k == 'bool':
        return h & 1
    if k in ('ptr', 'str'):
        return h
    if k == 'i128':
        return mix(h, 1) << 64 | h
    if k == 'f32':
        return (h & 0x807fffff) | 0x3f800000
    if k == 'f64':
        return (h & 0x800fffffffffffff) | 0x3ff0000000000000
    if k == 'f128':
        return ((h & 0x8000ffffffffffff) | 0x3fff000000000000) << 64 | h
    if k == 'v4f':
        lo = (h & 0x807fffff807fffff) | 0x3f8000003f800000
        hi = (mix(h, 2) & 0x807fffff807fffff) | 0x3f8000003f800000
        return hi << 64 | lo
    raise ValueError(k)


def c_from_hash(leaf, h):
    k = leaf.kind
    if k == 'int':
        return '(%s)%s' % (leaf.ctype(), h)
    if k == 'bool':
        return '(_Bool)(%s & 1)' % h
    if k in ('ptr', 'str'):
        return '(%s)(uintptr_t)%s' % (leaf.ctype(), h)
    if k == 'i128':
        return '(%s)abi_u128(%s, abi_mix(%s, 1))' % (leaf.ctype(), h, h)
    if k == 'f32':
        return 'abi_f32(((uint32_t)%s & 0x807fffffU) | 0x3f800000U)' % h
    if k == 'f64':
        return ('abi_f64((%s & 0x800fffffffffffffULL) | '
                '0x3ff0000000000000ULL)' % h)
    if k == 'f128':
        return ('abi_f128(%s, (%s & 0x8000ffffffffffffULL) | '
                '0x3fff000000000000ULL)' % (h, h))
    if k == 'v4f':
        return ('abi_v4f((%s & 0x807fffff807fffffULL) | '
                '0x3f8000003f800000ULL, (abi_mix(%s, 2) & '
                '0x807fffff807fffffULL) | 0x3f8000003f800000ULL)' % (h, h))
    raise ValueError(k)


def image(t, values):
    """Memory image and mask (1 = defined byte) of a value of type t."""
    img, msk = bytearray(t.size), bytearray(t.size)
    for (_, off, leaf), v in zip(t.leaves('', 0), values):
        n = leaf.size
        img[off:off + n] = v.to_bytes(n, 'little')
        msk[off:off + n] = b'\xff' * n
    return bytes(img), bytes(msk)


def ctx_image(t, values):
    """The ctx slots of an argument or result held by value."""
    cls, _, _ = classify(t)
    nslots = ctx_slots(t)
    if isinstance(t, Scalar) and t.kind in ('int', 'bool', 'ptr', 'str'):
        v = values[0]
        if t.signed and v >> (t.size * 8 - 1):
            v = (v - (1 << t.size * 8)) & MASK64
        return v.to_bytes(8, 'little'), b'\xff' * 8
    img, msk = image(t, values)
    pad = nslots * 8 - t.size
    if cls in ('FLOAT', 'HFA', 'INT'):
        # floats are zero-extended, HFA tails zeroed (Documentation/
        # models.rst): the whole slot is defined
        return img + bytes(pad), b'\xff' * (nslots * 8)
    # a composite from x registers or the stack: the tail is unspecified
    return img + bytes(pad), msk + bytes(pad)


# --------------------------------------------------------------------------
# Random signatures


class Gen:
    def __init__(self, rnd, opts):
        self.rnd, self.opts = rnd, opts

    def scalar(self, fp_ok=True):
        r = self.rnd
        choices = ['int'] * 8 + ['bool', 'ptr', 'str']
        if fp_ok:
            choices += ['f32'] * 3 + ['f64'] * 3
            if self.opts.long_double:
                choices.append('f128')
        if self.opts.int128:
            choices.append('i128')
        k = r.choice(choices)
        if k == 'int':
            return Scalar('int', r.choice([1, 2, 4, 8]), r.random() < 0.5)
        if k == 'bool':
            return Scalar('bool', 1)
        if k in ('ptr', 'str'):
            return Scalar(k, 8)
        if k == 'i128':
            return Scalar('i128', 16, r.random() < 0.5)
        return Scalar(k, FP_SIZE[k])

    def hfa(self, name):
        r = self.rnd
        k = r.choice(['f32', 'f32', 'f64', 'f64'] +
                     (['f128'] if self.opts.long_double else []))
        n = r.randint(1, 4)
        el = Scalar(k, FP_SIZE[k])
        shape = r.randrange(3)
        if shape == 0 or n == 1:
            return Struct(name, [('m%d' % i, el) for i in range(n)])
        if shape == 1:
            return Struct(name, [('v', Array(el, n))])
        inner = Struct(name + '_in', [('a', el), ('b', el)])
        rest = [('m%d' % i, el) for i in range(n - 2)]
        return Struct(name, [('p', inner)] + rest)

    def struct(self, name, big):
        r = self.rnd
        for _ in range(100):
            members = []
            for i in range(r.randint(1, 8 if big else 4)):
                t = self.scalar()
                if t.kind == 'f128' and not big:
                    continue
                if r.random() < 0.2:
                    t = Array(t, r.randint(1, 4 if big else 2))
                members.append(('m%d' % i, t))
            if big and r.random() < 0.3:
                members.append(('n', Struct(name + '_in',
                                [('x', Scalar('int', 2, True)),
                                 ('y', Array(Scalar('f64', 8), 2))])))
            if not members:
                continue
            s = Struct(name, members)
            if classify(s)[0] != 'STRUCT':
                continue
            if (s.size > 16) == big:
                return s
        # fall back to a fixed shape
        if big:
            return Struct(name, [('a', Array(Scalar('int', 8, False), 3))])
        return Struct(name, [('a', Scalar('int', 4, True)),
                             ('b', Scalar('f32', 4))])

    def any_type(self, name, ret=False):
        r = self.rnd.random()
        if r < 0.55:
            return self.scalar()
        if r < 0.72:
            return self.hfa(name)
        if r < 0.88:
            return self.struct(name, big=False)
        return self.struct(name, big=True)

    def signature(self, n):
        r = self.rnd
        while True:
            nargs = r.choice([0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 14, 17, 20,
                              24])
            args = [self.any_type('s%d_%d' % (n, i)) for i in range(nargs)]
            if stack_bytes(args) > 128 or \
                    sum(ctx_slots(t) for t in args) > 48:
                continue
            if r.random() < 0.1:
                ret = None
            else:
                ret = self.any_type('s%d_r' % n, ret=True)
            return args, ret


def all_structs(t, out):
    if isinstance(t, Array):
        all_structs(t.elem, out)
    elif isinstance(t, Struct):
        for _, m in t.members:
            all_structs(m, out)
        if t.name not in [s.name for s in out]:
            out.append(t)


def c_init(t, values):
    """A brace initializer for t from its leaf values (in leaf order)."""
    it = iter(values)

    def go(t):
        if isinstance(t, Scalar):
            return c_literal(t, next(it))
        if isinstance(t, Array):
            return '{ %s }' % ', '.join(go(t.elem) for _ in range(t.n))
        return '{ %s }' % ', '.join(go(m) for _, m in t.members)
    return go(t)


# --------------------------------------------------------------------------
# Output

COMMON_H = r'''/* Generated by scripts/gen-signatures.py: do not edit. */
#ifndef ABI_COMMON_H
#define ABI_COMMON_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ABI_CAT_(a, b) a##b
#define ABI_CAT(a, b) ABI_CAT_(a, b)
#define CALLEE(n) ABI_CAT(CALLEE_PFX, n)
#define CALLER(n) ABI_CAT(CALLER_PFX, n)

/* the hash of a void function's arguments */
extern volatile uint64_t abi_void_hash;

static inline uint64_t abi_mix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

static inline float abi_f32(uint32_t u)
{ float f; memcpy(&f, &u, 4); return f; }
static inline double abi_f64(uint64_t u)
{ double d; memcpy(&d, &u, 8); return d; }
static inline long double abi_f128(uint64_t lo, uint64_t hi)
{ uint64_t w[2] = { lo, hi }; long double d; memcpy(&d, w, 16); return d; }
static inline uint64_t abi_f32_bits(float f)
{ uint32_t u; memcpy(&u, &f, 4); return u; }
static inline uint64_t abi_f64_bits(double d)
{ uint64_t u; memcpy(&u, &d, 8); return u; }
static inline uint64_t abi_f128_lo(long double d)
{ uint64_t w[2]; memcpy(w, &d, 16); return w[0]; }
static inline uint64_t abi_f128_hi(long double d)
{ uint64_t w[2]; memcpy(w, &d, 16); return w[1]; }
static inline unsigned __int128 abi_u128(uint64_t lo, uint64_t hi)
{ return (unsigned __int128)hi << 64 | lo; }
#ifdef ABI_VECTORS
#include <arm_neon.h>
static inline float32x4_t abi_v4f(uint64_t lo, uint64_t hi)
{ uint64_t w[2] = { lo, hi }; float32x4_t v; memcpy(&v, w, 16); return v; }
static inline uint64_t abi_v4f_lo(float32x4_t v)
{ uint64_t w[2]; memcpy(w, &v, 16); return w[0]; }
static inline uint64_t abi_v4f_hi(float32x4_t v)
{ uint64_t w[2]; memcpy(w, &v, 16); return w[1]; }
#endif
#endif
'''

TABLE_H = r'''/* Generated by scripts/gen-signatures.py: do not edit. */
#ifndef ABI_TABLE_H
#define ABI_TABLE_H
#include <stdint.h>

/* One argument or result as the generator classified it. */
struct abi_val {
	uint8_t cls;		/* enum ftramp_type_class */
	uint8_t nmemb, elem;	/* HFA */
	uint8_t by_ref;		/* argument by reference / result via x8 */
	uint16_t flags;		/* enum ftramp_type_flags (INT) */
	uint16_t slot, nslots;	/* ctx slots */
	uint32_t size, align;
	/*
	 * Expected bytes (abi_img) and which are defined (abi_mask): the ctx
	 * slots, or for by_ref the pointed-to value; for a result, mem_* is
	 * the value as the caller receives it.
	 */
	uint32_t img, len;
	uint32_t mem_img, mem_len;
};

struct abi_sig {
	const char *proto;
	void *fn_gcc, *fn_clang;
	void (*call_gg)(void *out);	/* gcc caller, gcc callee */
	void (*call_cg)(void *out);	/* clang caller, gcc callee */
	void (*call_gc)(void *out);	/* gcc caller, clang callee */
	void (*call_cc)(void *out);	/* clang caller, clang callee */
	uint16_t nr_args, nr_slots;
	uint32_t nsaa;
	struct abi_val ret;
	const struct abi_val *args;
};

extern const struct abi_sig abi_sigs[];
extern const unsigned int abi_nr_sigs, abi_nr_xcheck;
/* For the unknown model only (no model describes them): gcc, no args[]. */
extern const struct abi_sig abi_usigs[];
extern const unsigned int abi_nr_usigs;
extern const unsigned char abi_img[], abi_mask[];
extern const unsigned int abi_seed;
#endif
'''

CLS_NUM = {'VOID': 0, 'INT': 1, 'FLOAT': 2, 'HFA': 3, 'STRUCT': 4}


def type_flags(t):
    if not isinstance(t, Scalar):
        return 0
    f = 0
    if t.kind in ('int', 'i128') and t.signed:
        f |= 1
    if t.kind in ('ptr', 'str'):
        f |= 2
    if t.kind == 'str':
        f |= 4
    if t.kind == 'bool':
        f |= 8
    return f


class Pool:
    def __init__(self):
        self.img, self.msk = bytearray(), bytearray()

    def add(self, img, msk):
        off = len(self.img)
        self.img += img
        self.msk += msk
        return off

    def c_array(self, name, data):
        lines = ['const unsigned char %s[] = {' % name]
        for i in range(0, len(data), 24):
            lines.append('\t' + ','.join('%d' % b for b in data[i:i + 24]) +
                         ',')
        lines.append('\t0 };')
        return '\n'.join(lines) + '\n'


# --------------------------------------------------------------------------
# Functions for the unknown model only


def var_type(gen, name):
    """A type a variadic argument keeps (no default argument promotion)."""
    r = gen.rnd
    while True:
        t = gen.any_type(name)
        if isinstance(t, Scalar) and (t.kind in ('bool', 'f32') or
                                      (t.kind == 'int' and t.size < 4)):
            continue
        if r.random() < 0.1:
            return Scalar('v4f', 16)
        return t


def usignature(gen, n):
    """(fixed args, variadic args, ret): variadic, vectors, or many."""
    r = gen.rnd
    kind = n % 3
    while True:
        if kind == 0:
            fixed = [gen.any_type('u%d_%d' % (n, i))
                     for i in range(r.randint(1, 4))]
            var = [var_type(gen, 'u%d_v%d' % (n, i))
                   for i in range(r.randint(1, 14))]
        elif kind == 1:
            fixed = [Scalar('v4f', 16) if r.random() < 0.5 else
                     gen.any_type('u%d_%d' % (n, i))
                     for i in range(r.randint(1, 12))]
            var = []
        else:
            fixed = [gen.any_type('u%d_%d' % (n, i))
                     for i in range(r.randint(18, 30))]
            var = []
        if stack_bytes(fixed + var) > 256:
            continue
        x = r.random()
        if kind == 1 and x < 0.5:
            ret = Scalar('v4f', 16)
        elif x < 0.1:
            ret = None
        else:
            ret = gen.any_type('u%d_r' % n, ret=True)
        return fixed, var, ret


def emit_callee(rnd, proto_c, args, ret, nfixed=None):
    """A callee that mixes every leaf of every argument into a hash h and
    returns a value derived from it (a void one stores h in
    abi_void_hash).  nfixed: a variadic callee's named arguments (the
    others are read with va_arg).  Returns its C text, the values the
    caller passes (per argument, per leaf), the final h and the result's
    leaf values."""
    rtype = ret.ctype() if ret else 'void'
    seed = rnd.getrandbits(64)
    values = [[rand_value(rnd, leaf) for _, _, leaf in t.leaves('', 0)]
              for t in args]
    h = seed
    body = ['\tuint64_t h = 0x%xULL;' % seed]
    if nfixed is not None:
        body.append('\tva_list ap;')
        body.append('\tva_start(ap, a%d);' % (nfixed - 1))
    for i, t in enumerate(args):
        if nfixed is not None and i >= nfixed:
            body.append('\t%s a%d = va_arg(ap, %s);' % (
                t.ctype(), i, t.ctype()))
        for (path, _, leaf), v in zip(t.leaves('a%d' % i, 0), values[i]):
            for expr, w in zip(c_mix(leaf, path), mix_words(leaf, v)):
                body.append('\th = abi_mix(h, %s);' % expr)
                h = mix(h, w)
    if nfixed is not None:
        body.append('\tva_end(ap);')
    if ret is None:
        body.append('\tabi_void_hash = h;')
        ret_values = [h]
    elif isinstance(ret, Scalar):
        body.append('\treturn %s;' % c_from_hash(ret, 'h'))
        ret_values = [from_hash(ret, h)]
    else:
        body.append('\t%s r;' % rtype)
        body.append('\tmemset(&r, 0, sizeof(r));')
        ret_values = []
        for j, (path, _, leaf) in enumerate(ret.leaves('r', 0)):
            body.append('\t%s = %s;' % (path, c_from_hash(
                leaf, 'abi_mix(h, %d)' % (j + 1))))
            ret_values.append(from_hash(leaf, mix(h, j + 1)))
        body.append('\treturn r;')
    return proto_c + '\n{\n' + '\n'.join(body) + '\n}', values, h, ret_values


def emit_caller(name, callee, args, ret, values):
    """CALLER(name)(out): calls callee with values, the result (or
    abi_void_hash) copied to out."""
    cb = []
    for i, t in enumerate(args):
        init = c_literal(t, values[i][0]) if isinstance(t, Scalar) \
            else c_init(t, values[i])
        cb.append('\t%s a%d = %s;' % (t.ctype(), i, init))
    call = '%s(%s)' % (callee, ', '.join('a%d' % i for i in range(len(args))))
    if ret is None:
        cb.append('\t%s;' % call)
        cb.append('\tuint64_t r = abi_void_hash;')
    else:
        cb.append('\t%s r = %s;' % (ret.ctype(), call))
    cb.append('\tmemcpy(out, &r, sizeof(r));')
    return ('void CALLER(%s)(void *out);\n'
            'void CALLER(%s)(void *out)\n{\n%s\n}' %
            (name, name, '\n'.join(cb)))


def ugenerate(opts, pool, write):
    """abi_utypes.h, ucallee.c, ucaller.c; returns abi_table.c lines."""
    rnd = random.Random(opts.seed * 7919 + 17)
    gen = Gen(rnd, opts)
    types_h = ['/* Generated by scripts/gen-signatures.py. */',
               '#define ABI_VECTORS', '#include "abi_common.h"',
               '#include <stdarg.h>']
    callee = ['/* Generated by scripts/gen-signatures.py. */',
              '#include "abi_utypes.h"']
    caller = list(callee)
    table, decls = [], []
    for n in range(opts.unknown):
        fixed, var, ret = usignature(gen, n)
        args = fixed + var
        structs = []
        for t in args + ([ret] if ret else []):
            all_structs(t, structs)
        for s in structs:
            types_h.append('typedef struct { %s; } %s;' % (
                '; '.join(decl(t, m) for m, t in s.members), s.name))
        rtype = ret.ctype() if ret else 'void'
        params = ', '.join(decl(t, 'a%d' % i) for i, t in enumerate(fixed))
        if var:
            params += ', ...'
        proto_c = '%s CALLEE(u%d)(%s)' % (rtype, n, params)
        types_h.append(proto_c + ';')

        text, values, h, ret_values = emit_callee(
            rnd, proto_c, args, ret, len(fixed) if var else None)
        callee.append(text)
        caller.append(emit_caller('d%d' % n, 'CALLEE(u%d)' % n, args, ret,
                                  values))

        if ret is None:
            moff = pool.add(h.to_bytes(8, 'little'), b'\xff' * 8)
            mlen = 8
        else:
            mimg, mmsk = image(ret, ret_values)
            moff, mlen = pool.add(mimg, mmsk), len(mimg)
        what = ['variadic', 'vectors', 'many arguments'][n % 3]
        decls.append('void g_u%d(void); void gg_d%d(void *);' % (n, n))
        table.append('\t{ "%s: %d arguments, %d bytes on the stack", '
                     '(void *)g_u%d, NULL, gg_d%d, NULL, NULL, NULL, '
                     '%d, 0, %d, { .mem_img = %d, .mem_len = %d }, NULL },'
                     % (what, len(args), stack_bytes(args), n, n, len(args),
                        stack_bytes(args), moff, mlen))
    write('abi_utypes.h', '\n'.join(types_h) + '\n')
    write('ucallee.c', '\n'.join(callee) + '\n')
    write('ucaller.c', '\n'.join(caller) + '\n')
    out = decls + ['const struct abi_sig abi_usigs[] = {'] + table
    out += ['\t{ 0 }', '};',
            'const unsigned int abi_nr_usigs = %d;' % opts.unknown]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--count', type=int, default=2000)
    ap.add_argument('--chunk', type=int, default=250)
    ap.add_argument('--xcheck', type=int, default=1,
                    help='chunks also built with clang (cross-check)')
    ap.add_argument('--no-long-double', dest='long_double',
                    action='store_false')
    ap.add_argument('--no-int128', dest='int128', action='store_false')
    ap.add_argument('--unknown', type=int, default=200,
                    help='functions for the unknown model only')
    ap.add_argument('--out', required=True)
    opts = ap.parse_args()

    rnd = random.Random(opts.seed)
    gen = Gen(rnd, opts)
    os.makedirs(opts.out, exist_ok=True)

    def write(name, text):
        path = os.path.join(opts.out, name)
        # keep the timestamp when nothing changed (no needless rebuilds)
        if os.path.exists(path) and open(path).read() == text:
            return
        with open(path, 'w') as f:
            f.write(text)

    write('abi_common.h', COMMON_H)
    write('abi_table.h', TABLE_H)

    pool = Pool()
    table, decls, argtabs = [], [], []
    nchunks = (opts.count + opts.chunk - 1) // opts.chunk
    for c in range(nchunks):
        types_h = ['/* Generated by scripts/gen-signatures.py. */',
                   '#include "abi_common.h"']
        callee = ['/* Generated by scripts/gen-signatures.py. */',
                  '#include "abi_types_%d.h"' % c]
        caller = list(callee)
        for n in range(c * opts.chunk, min(opts.count, (c + 1) * opts.chunk)):
            args, ret = gen.signature(n)
            structs = []
            for t in args + ([ret] if ret else []):
                all_structs(t, structs)
            for s in structs:
                types_h.append('typedef struct { %s; } %s;' % (
                    '; '.join(decl(t, m) for m, t in s.members), s.name))
                asserts = ['sizeof(%s) == %d' % (s.name, s.size),
                           '_Alignof(%s) == %d' % (s.name, s.align)]
                asserts += ['offsetof(%s, %s) == %d' % (s.name, m, o)
                            for (m, _), o in zip(s.members, s.offsets)]
                types_h.append('_Static_assert(%s, "%s layout");' % (
                    ' && '.join(asserts), s.name))
            rtype = ret.ctype() if ret else 'void'
            params = ', '.join(decl(t, 'a%d' % i)
                               for i, t in enumerate(args)) or 'void'
            proto_c = '%s CALLEE(f%d)(%s)' % (rtype, n, params)
            types_h.append(proto_c + ';')

            text, values, h, ret_values = emit_callee(rnd, proto_c, args,
                                                      ret)
            callee.append(text)
            caller.append(emit_caller('c%d' % n, 'CALLEE(f%d)' % n, args,
                                      ret, values))

            # the expectations
            vals, slot = [], 0
            for i, t in enumerate(args):
                cls, nm, el = classify(t)
                ns = ctx_slots(t)
                byref = cls == 'STRUCT' and t.size > 16
                if byref:
                    img, msk = image(t, values[i])
                else:
                    img, msk = ctx_image(t, values[i])
                off = pool.add(img, msk)
                vals.append('{ %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, '
                            '0, 0 }' % (CLS_NUM[cls], nm, el, byref,
                                        type_flags(t), slot, ns, t.size,
                                        t.align, off, len(img)))
                slot += ns
            argtabs.append('static const struct abi_val args%d[] = { %s };'
                           % (n, ', '.join(vals) or '{ 0 }'))
            if ret is None:
                rv = '{ 0, 0, 0, 0, 0, %d, 0, 0, 0, 0, 0, %d, 8 }' % (
                    slot, pool.add(h.to_bytes(8, 'little'), b'\xff' * 8))
            else:
                cls, nm, el = classify(ret)
                ns = ctx_slots(ret)
                byref = cls == 'STRUCT' and ret.size > 16
                mimg, mmsk = image(ret, ret_values)
                moff = pool.add(mimg, mmsk)
                if byref:
                    off, ln = moff, len(mimg)
                else:
                    cimg, cmsk = ctx_image(ret, ret_values)
                    off, ln = pool.add(cimg, cmsk), len(cimg)
                rv = '{ %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d }' \
                    % (CLS_NUM[cls], nm, el, byref, type_flags(ret), slot,
                       ns, ret.size, ret.align, off, ln, moff, len(mimg))
            pr = []
            for i, t in enumerate(args):
                p = t.proto(rnd)
                # parameter names are optional: name some
                if rnd.random() < 0.3 and '(*)' not in p:
                    p += ' a%d' % i
                pr.append(p)
            pr = ', '.join(pr)
            rp = ret.proto(rnd) if ret else 'void'
            if '(*)' in rp:
                rp = 'void *'
            name = ' f%d' % n if rnd.random() < 0.5 else ' '
            proto = '%s%s(%s)' % (rp, name, pr or rnd.choice(['void', '']))
            xc = c < opts.xcheck
            decls.append('void g_f%d(void); void gg_c%d(void *);' % (n, n))
            if xc:
                decls.append('void c_f%d(void); void cg_c%d(void *); '
                             'void gc_c%d(void *); void cc_c%d(void *);'
                             % (n, n, n, n))
            table.append('\t{ "%s", (void *)g_f%d, %s, gg_c%d, %s, %s, %s, '
                         '%d, %d, %d, %s, args%d },' % (
                             proto, n, '(void *)c_f%d' % n if xc else 'NULL',
                             n, 'cg_c%d' % n if xc else 'NULL',
                             'gc_c%d' % n if xc else 'NULL',
                             'cc_c%d' % n if xc else 'NULL',
                             len(args), slot, stack_bytes(args), rv, n))
        write('abi_types_%d.h' % c, '\n'.join(types_h) + '\n')
        write('callee_%d.c' % c, '\n'.join(callee) + '\n')
        write('caller_%d.c' % c, '\n'.join(caller) + '\n')

    uout = ugenerate(opts, pool, write)
    out = ['/* Generated by scripts/gen-signatures.py: do not edit. */',
           '#include <stddef.h>', '#include "abi_table.h"',
           'volatile uint64_t abi_void_hash;'] + decls + argtabs + uout
    out.append('const struct abi_sig abi_sigs[] = {')
    out += table
    out.append('};')
    out.append('const unsigned int abi_nr_sigs = %d;' % opts.count)
    out.append('const unsigned int abi_nr_xcheck = %d;' %
               min(opts.count, opts.xcheck * opts.chunk))
    out.append('const unsigned int abi_seed = %d;' % opts.seed)
    write('abi_table.c', '\n'.join(out) + '\n' +
          pool.c_array('abi_img', pool.img) +
          pool.c_array('abi_mask', pool.msk))


if __name__ == '__main__':
    main()
