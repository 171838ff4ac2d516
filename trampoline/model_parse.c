// SPDX-License-Identifier: MIT
/*
 * C prototypes to function models, and back.
 *
 * A small recursive-descent parser for one C declaration of a function:
 * declaration specifiers, then a declarator whose outermost derivation is
 * "function".  It knows the C types of LP64 arm64 Linux (plain char is
 * unsigned, long double is IEEE binary128), lays out struct and union
 * bodies as GCC does (no bit-fields, no attributes), and classifies each
 * parameter and the result per AAPCS64 (IHI 0055): HFA detection (5.9.5),
 * composites by value or by reference (6.8.2 stage B).
 *
 * Declarators use the usual inside-out rule: in "int (*f(void))(long)"
 * the nested declarator is skipped, the suffix after it applied, then the
 * nested one re-parsed on the result, so the last derivation applied is
 * the outermost one: the one that must be a function.
 *
 * Pure (PURE_SRCS): no allocation, bounded recursion (MAX_DEPTH), and every
 * error carries the column of the token that caused it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <ftramp/ftramp.h>
#include "lib/opts.h"
#include "lib/strbuf.h"
#include "lib/util.h"
#include "trampoline/model.h"

#define MAX_DEPTH	16		/* nested declarators and bodies */
#define MAX_TAGS	32		/* struct/union/enum tags per prototype */
#define MAX_TYPE_SIZE	(1u << 30)	/* larger types are refused */

enum tok_kind {
	TK_EOF,
	TK_IDENT,
	TK_NUM,
	TK_PUNCT,	/* one character in .c */
	TK_ELLIPSIS,
};

struct tok {
	enum tok_kind kind;
	char c;			/* TK_PUNCT */
	const char *s;		/* start in the source */
	size_t len;
	uint64_t num;		/* TK_NUM */
	int col;		/* 1-based */
};

/* Floating-point shape of a type, for HFA detection (AAPCS64 5.9.5). */
enum fp_shape {
	FP_NONE = 0,		/* no members yet */
	FP_F32,
	FP_F64,
	FP_F128,
	FP_MIXED,		/* anything else: not homogeneous */
};

enum ct_kind {
	CT_VOID,
	CT_INT,
	CT_FLOAT,
	CT_PTR,
	CT_ARRAY,
	CT_FUNC,
	CT_AGG,			/* struct, union, _Complex */
};

struct ctype {
	uint8_t kind;		/* enum ct_kind */
	bool is_signed;
	bool is_bool;
	bool is_char;		/* plain char: a pointer to it is a string */
	bool string;		/* CT_PTR, CT_ARRAY of plain char */
	bool complete;		/* CT_AGG: body seen */
	uint8_t fp;		/* enum fp_shape */
	uint8_t fp_n;		/* number of FP members, capped at 5 */
	uint32_t size;
	uint32_t align;
	int col;		/* where the type started, for errors */
};

struct tag {
	const char *name;
	size_t len;
	char kw;		/* 's'truct, 'u'nion, 'e'num */
	struct ctype ty;
};

struct parser {
	const char *src;
	size_t pos;		/* start of the next token */
	struct tok tok;		/* current token */
	int depth;
	int err;
	struct ftramp_parse_error *perr;

	/* The outermost derivation so far and the last function's params. */
	bool top_is_func;
	struct ftramp_func_model func;
	int variadic_col;

	const char *name;	/* the declared identifier */
	size_t name_len;
	int scope;		/* > 0 inside parameters or a body */

	struct tag tags[MAX_TAGS];
	int nr_tags;
	bool last_tagged;	/* the last struct/union had a tag */
};

static int __attribute__((format(printf, 4, 5)))
fail(struct parser *p, int err, int col, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->err)
		return p->err;
	p->err = err;
	if (p->perr) {
		p->perr->col = col;
		n = snprintf(p->perr->msg, sizeof(p->perr->msg), "col %d: ",
			     col);
		if (n < 0 || (size_t)n >= sizeof(p->perr->msg))
			n = 0;
		va_start(ap, fmt);
		vsnprintf(p->perr->msg + n, sizeof(p->perr->msg) - n, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* ------------------------------------------------------------------ */
/* Lexer                                                                */

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int digit_val(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

static int lex_number(struct parser *p, struct tok *t)
{
	const char *s = t->s;
	size_t i = 0, n = t->len;
	unsigned int base = 10;
	uint64_t v = 0;
	bool any = false;

	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	} else if (s[0] == '0') {
		base = 8;
	}
	for (; i < n; i++) {
		int d = digit_val(s[i]);

		if (d >= (int)base)
			break;
		if (v > (UINT64_MAX - d) / base)
			return fail(p, -EINVAL, t->col,
				    "integer constant '%.*s' is too large",
				    (int)n, s);
		v = v * base + d;
		any = true;
	}
	/* Integer suffixes only: u, l, ll in any case and order. */
	for (; i < n; i++)
		if (!strchr("uUlL", s[i]))
			return fail(p, -EINVAL, t->col,
				    "invalid integer constant '%.*s'",
				    (int)n, s);
	if (!any && base != 8)
		return fail(p, -EINVAL, t->col,
			    "invalid integer constant '%.*s'", (int)n, s);
	t->num = v;
	return 0;
}

/* Lex the token at p->pos into p->tok (without consuming it). */
static int lex(struct parser *p)
{
	const char *s = p->src;
	size_t i = p->pos;
	struct tok *t = &p->tok;

	while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' ||
	       s[i] == '\v' || s[i] == '\f')
		i++;
	memset(t, 0, sizeof(*t));
	t->s = s + i;
	t->col = (int)(i < INT32_MAX ? i + 1 : INT32_MAX);
	p->pos = i;

	if (!s[i]) {
		t->kind = TK_EOF;
		return 0;
	}
	if (is_ident_start(s[i]) || is_digit(s[i])) {
		size_t j = i;

		while (is_ident_start(s[j]) || is_digit(s[j]))
			j++;
		t->len = j - i;
		if (is_digit(s[i])) {
			t->kind = TK_NUM;
			return lex_number(p, t);
		}
		t->kind = TK_IDENT;
		return 0;
	}
	if (s[i] == '.' && s[i + 1] == '.' && s[i + 2] == '.') {
		t->kind = TK_ELLIPSIS;
		t->len = 3;
		return 0;
	}
	if (strchr("()[]{}*,;=-:", s[i])) {
		t->kind = TK_PUNCT;
		t->c = s[i];
		t->len = 1;
		return 0;
	}
	if ((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f)
		return fail(p, -EINVAL, t->col, "unexpected character '%c'",
			    s[i]);
	return fail(p, -EINVAL, t->col, "unexpected byte 0x%02x",
		    (unsigned char)s[i]);
}

static int next(struct parser *p)
{
	p->pos = (size_t)(p->tok.s - p->src) + p->tok.len;
	return lex(p);
}

/* Move the cursor back to a token seen before (declarator re-parse). */
static int rewind_to(struct parser *p, size_t pos)
{
	p->pos = pos;
	return lex(p);
}

static size_t tok_pos(const struct parser *p)
{
	return (size_t)(p->tok.s - p->src);
}

static bool is_punct(const struct parser *p, char c)
{
	return p->tok.kind == TK_PUNCT && p->tok.c == c;
}

static bool tok_is(const struct tok *t, const char *word)
{
	return t->kind == TK_IDENT && strlen(word) == t->len &&
	       !memcmp(t->s, word, t->len);
}

static int expect(struct parser *p, char c, const char *what)
{
	if (!is_punct(p, c)) {
		if (p->tok.kind == TK_EOF)
			return fail(p, -EINVAL, p->tok.col,
				    "expected %s, found end of input", what);
		return fail(p, -EINVAL, p->tok.col, "expected %s, found '%.*s'",
			    what, (int)p->tok.len, p->tok.s);
	}
	return next(p);
}

/* Peek at the token after the current one. */
static struct tok peek2(struct parser *p)
{
	struct parser q = *p;
	struct tok t = { .kind = TK_EOF };

	/* A lexing error in the look-ahead is reported when reached. */
	q.perr = NULL;
	q.err = 0;
	if (!next(&q))
		t = q.tok;
	return t;
}

/* ------------------------------------------------------------------ */
/* Types                                                                */

static const char *const qualifiers[] = {
	"const", "volatile", "restrict", "__restrict", "__restrict__",
	"__const", "__volatile__", "_Atomic", "register", "static", "extern",
	"inline", "__inline", "__inline__",
};

struct named_int {
	const char *name;
	uint8_t size;
	bool is_signed;
};

/* Typedef names of <stdint.h>, <stddef.h>, <sys/types.h>, linux/types.h. */
static const struct named_int named_ints[] = {
	{ "int8_t", 1, true }, { "uint8_t", 1, false },
	{ "int16_t", 2, true }, { "uint16_t", 2, false },
	{ "int32_t", 4, true }, { "uint32_t", 4, false },
	{ "int64_t", 8, true }, { "uint64_t", 8, false },
	{ "intptr_t", 8, true }, { "uintptr_t", 8, false },
	{ "intmax_t", 8, true }, { "uintmax_t", 8, false },
	{ "size_t", 8, false }, { "ssize_t", 8, true },
	{ "ptrdiff_t", 8, true }, { "off_t", 8, true },
	{ "pid_t", 4, true }, { "uid_t", 4, false }, { "gid_t", 4, false },
	{ "__int128_t", 16, true }, { "__uint128_t", 16, false },
	{ "s8", 1, true }, { "u8", 1, false }, { "s16", 2, true },
	{ "u16", 2, false }, { "s32", 4, true }, { "u32", 4, false },
	{ "s64", 8, true }, { "u64", 8, false },
	{ "__s8", 1, true }, { "__u8", 1, false }, { "__s16", 2, true },
	{ "__u16", 2, false }, { "__s32", 4, true }, { "__u32", 4, false },
	{ "__s64", 8, true }, { "__u64", 8, false },
};

static bool is_qualifier(const struct tok *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(qualifiers); i++)
		if (tok_is(t, qualifiers[i]))
			return true;
	return false;
}

static const struct named_int *find_named_int(const struct tok *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(named_ints); i++)
		if (tok_is(t, named_ints[i].name))
			return &named_ints[i];
	return NULL;
}

static const char *const type_words[] = {
	"void", "char", "short", "int", "long", "float", "double", "signed",
	"__signed", "__signed__", "unsigned", "_Bool", "bool", "__int128",
	"_Complex", "__complex__", "struct", "union", "enum",
};

/* Can this token begin a type name (declaration specifiers)? */
static bool starts_type(const struct tok *t)
{
	if (t->kind != TK_IDENT)
		return false;
	if (is_qualifier(t) || find_named_int(t))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(type_words); i++)
		if (tok_is(t, type_words[i]))
			return true;
	return false;
}

static struct ctype int_type(uint32_t size, bool is_signed)
{
	return (struct ctype){
		.kind = CT_INT, .size = size, .align = size,
		.is_signed = is_signed, .fp = FP_MIXED, .complete = true,
	};
}

static struct ctype float_type(uint32_t size)
{
	return (struct ctype){
		.kind = CT_FLOAT, .size = size, .align = size,
		.fp = size == 4 ? FP_F32 : size == 8 ? FP_F64 : FP_F128,
		.fp_n = 1, .complete = true,
	};
}

static struct ctype ptr_type(const struct ctype *to)
{
	return (struct ctype){
		.kind = CT_PTR, .size = 8, .align = 8, .fp = FP_MIXED,
		.string = to->kind == CT_INT && to->is_char, .complete = true,
	};
}

/* Combine the FP shapes of two members (AAPCS64 5.9.5). */
static uint8_t fp_merge(uint8_t a, uint8_t b)
{
	if (a == FP_NONE)
		return b;
	if (b == FP_NONE || a == b)
		return a;
	return FP_MIXED;
}

static uint32_t fp_elem_size(uint8_t fp)
{
	return fp == FP_F32 ? 4 : fp == FP_F64 ? 8 : fp == FP_F128 ? 16 : 0;
}

/* After a composite's layout is known: still a homogeneous aggregate? */
static void fp_finish(struct ctype *ty)
{
	uint32_t esz = fp_elem_size(ty->fp);

	if (!esz || ty->fp_n < 1 || ty->fp_n > 4 ||
	    ty->size != esz * ty->fp_n) {
		ty->fp = FP_MIXED;
		ty->fp_n = 0;
	}
}

static int parse_specifiers(struct parser *p, struct ctype *ty);
static int parse_declarator(struct parser *p, struct ctype *ty,
			    bool allow_name, bool allow_abstract);

static struct tag *find_tag(struct parser *p, const struct tok *t)
{
	for (int i = 0; i < p->nr_tags; i++)
		if (p->tags[i].len == t->len &&
		    !memcmp(p->tags[i].name, t->s, t->len))
			return &p->tags[i];
	return NULL;
}

static int add_tag(struct parser *p, const struct tok *t, char kw,
		   const struct ctype *ty)
{
	struct tag *tag = find_tag(p, t);

	if (tag && tag->ty.complete)
		return fail(p, -EINVAL, t->col, "redefinition of '%.*s'",
			    (int)t->len, t->s);
	if (!tag) {
		if (p->nr_tags == MAX_TAGS)
			return fail(p, -E2BIG, t->col, "more than %d tags",
				    MAX_TAGS);
		tag = &p->tags[p->nr_tags++];
	}
	tag->name = t->s;
	tag->len = t->len;
	tag->kw = kw;
	tag->ty = *ty;
	return 0;
}

/* A member of a struct or union body; @ty is the member's type. */
static int add_member(struct parser *p, struct ctype *agg, bool is_union,
		      const struct ctype *m, int col)
{
	uint64_t off;

	if (m->kind == CT_VOID)
		return fail(p, -EINVAL, col, "member has type void");
	if (m->kind == CT_FUNC)
		return fail(p, -EINVAL, col, "member has function type");
	if (!m->complete)
		return fail(p, -EINVAL, col, "member has incomplete type");
	if (!m->size)
		return fail(p, -EOPNOTSUPP, col,
			    "empty struct members are not supported");

	if (m->align > agg->align)
		agg->align = m->align;
	if (is_union) {
		if (m->size > agg->size)
			agg->size = m->size;
		agg->fp = fp_merge(agg->fp, m->fp);
		if (m->fp_n > agg->fp_n)
			agg->fp_n = m->fp_n;
		return 0;
	}
	off = ((uint64_t)agg->size + m->align - 1) & ~(uint64_t)(m->align - 1);
	off += m->size;
	if (off > MAX_TYPE_SIZE)
		return fail(p, -E2BIG, col, "type is too large");
	agg->size = (uint32_t)off;
	agg->fp = fp_merge(agg->fp, m->fp);
	agg->fp_n = agg->fp_n + m->fp_n > 5 ? 5 : agg->fp_n + m->fp_n;
	return 0;
}

/* "{ member-declarations }" of a struct or union; current token '{'. */
static int parse_body(struct parser *p, struct ctype *agg, bool is_union)
{
	int err = next(p);

	agg->align = 1;
	while (!err && !is_punct(p, '}')) {
		struct ctype base, m;
		int col = p->tok.col;

		if (p->tok.kind == TK_EOF)
			return fail(p, -EINVAL, col,
				    "expected '}', found end of input");
		err = parse_specifiers(p, &base);
		if (err)
			return err;
		if (is_punct(p, ';')) {
			/*
			 * C11 6.7.2.1p13: an untagged struct or union
			 * without a name embeds its members; a tagged one
			 * declares nothing (GCC warns and ignores it).
			 */
			if (base.kind != CT_AGG || p->last_tagged)
				return fail(p, -EINVAL, p->tok.col,
					    "expected member name");
			err = add_member(p, agg, is_union, &base, col);
			if (!err)
				err = next(p);
			continue;
		}
		for (;;) {
			m = base;
			err = parse_declarator(p, &m, true, false);
			if (err)
				return err;
			if (is_punct(p, ':'))
				return fail(p, -EOPNOTSUPP, p->tok.col,
					    "bit-fields are not supported");
			err = add_member(p, agg, is_union, &m, col);
			if (err)
				return err;
			if (!is_punct(p, ','))
				break;
			err = next(p);
			if (err)
				return err;
		}
		err = expect(p, ';', "';' after member");
	}
	if (err)
		return err;
	if (!agg->size)
		return fail(p, -EOPNOTSUPP, p->tok.col,
			    "empty structs are not supported");
	agg->size = (agg->size + agg->align - 1) & ~(agg->align - 1);
	agg->complete = true;
	fp_finish(agg);
	return next(p);
}

/*
 * The optional tag after struct/union/enum (@kw 's', 'u', 'e'); the
 * current token follows the keyword.  *@name gets the tag (kind TK_EOF:
 * none).  0: a '{' body follows.  1: a reference to a tag, *@tag the one
 * declared under that name (NULL: not yet, incomplete).
 */
static int parse_tag_ref(struct parser *p, char kw, struct tok *name,
			 struct tag **tag)
{
	const char *what = kw == 'e' ? "enum" : kw == 'u' ? "union" : "struct";
	int err;

	if (p->tok.kind == TK_IDENT) {
		*name = p->tok;
		err = next(p);
		if (err)
			return err;
	}
	if (is_punct(p, '{'))
		return 0;
	if (name->kind == TK_EOF)
		return fail(p, -EINVAL, p->tok.col,
			    "expected '{' or a tag after '%s'", what);
	*tag = find_tag(p, name);
	if (*tag && (*tag)->kw != kw)
		return fail(p, -EINVAL, name->col, "'%.*s' is not %s %s tag",
			    (int)name->len, name->s, kw == 'e' ? "an" : "a",
			    what);
	return 1;
}

/* struct/union [tag] [{ ... }]; current token is the keyword. */
static int parse_agg(struct parser *p, struct ctype *ty, bool is_union)
{
	struct tok name = { .kind = TK_EOF };
	char kw = is_union ? 'u' : 's';
	struct tag *tag = NULL;
	int err = next(p);

	if (err)
		return err;
	memset(ty, 0, sizeof(*ty));
	ty->kind = CT_AGG;
	ty->col = p->tok.col;
	p->last_tagged = false;
	err = parse_tag_ref(p, kw, &name, &tag);
	if (err < 0)
		return err;
	if (err) {
		if (tag)
			*ty = tag->ty;
		/* else incomplete: fine behind a pointer */
		p->last_tagged = true;
		return 0;
	}
	if (++p->depth > MAX_DEPTH)
		return fail(p, -E2BIG, p->tok.col, "nesting too deep");
	if (name.kind != TK_EOF) {
		/* Declared (incomplete) inside its own body. */
		err = add_tag(p, &name, kw, ty);
		if (err)
			return err;
	}
	p->scope++;
	err = parse_body(p, ty, is_union);
	p->scope--;
	p->depth--;
	if (!err && name.kind != TK_EOF) {
		tag = find_tag(p, &name);
		tag->ty = *ty;
	}
	p->last_tagged = name.kind != TK_EOF;
	return err;
}

/* enum [tag] [{ A [= n], ... }]: the integer type GCC would choose. */
static int parse_enum(struct parser *p, struct ctype *ty)
{
	struct tok name = { .kind = TK_EOF };
	struct tag *tag = NULL;
	int64_t v = -1, lo = 0, hi = 0;
	bool any = false, big = false;
	int col = 0, err = next(p);

	if (err)
		return err;
	err = parse_tag_ref(p, 'e', &name, &tag);
	if (err < 0)
		return err;
	if (err) {
		/* An enum seen only by name: int (documented). */
		*ty = tag ? tag->ty : int_type(4, true);
		return 0;
	}
	err = next(p);
	while (!err && !is_punct(p, '}')) {
		if (p->tok.kind != TK_IDENT || starts_type(&p->tok))
			return fail(p, -EINVAL, p->tok.col,
				    "expected enumerator name");
		col = p->tok.col;
		err = next(p);
		if (err)
			return err;
		if (is_punct(p, '=')) {
			bool neg = false;

			err = next(p);
			if (!err && is_punct(p, '-')) {
				neg = true;
				err = next(p);
			}
			if (err)
				return err;
			if (p->tok.kind != TK_NUM)
				return fail(p, -EINVAL, p->tok.col,
					    "enumerator value: integer literal expected");
			if (p->tok.num > (neg ? (uint64_t)INT64_MAX + 1 :
					  (uint64_t)INT64_MAX))
				big = true;
			v = neg ? (int64_t)(0 - p->tok.num) :
				  (int64_t)p->tok.num;
			err = next(p);
			if (err)
				return err;
		} else {
			if (v == INT64_MAX)
				big = true;
			v++;
		}
		if (big)
			return fail(p, -EOPNOTSUPP, col,
				    "enumerator value out of range");
		if (!any || v < lo)
			lo = v;
		if (!any || v > hi)
			hi = v;
		any = true;
		if (is_punct(p, ','))
			err = next(p);
		else if (!is_punct(p, '}'))
			return fail(p, -EINVAL, p->tok.col,
				    "expected ',' or '}' in enum");
	}
	if (err)
		return err;
	if (!any)
		return fail(p, -EINVAL, p->tok.col, "empty enum");
	/*
	 * GCC: unsigned int if no enumerator is negative, else int; 64-bit
	 * types (an extension) when the values need them.
	 */
	if (lo >= 0)
		*ty = int_type(hi > UINT32_MAX ? 8 : 4, false);
	else
		*ty = int_type(lo < INT32_MIN || hi > INT32_MAX ? 8 : 4, true);
	if (name.kind != TK_EOF) {
		err = add_tag(p, &name, 'e', ty);
		if (err)
			return err;
	}
	return next(p);
}

enum {
	S_VOID = 1 << 0, S_BOOL = 1 << 1, S_CHAR = 1 << 2, S_SHORT = 1 << 3,
	S_INT = 1 << 4, S_LONG = 1 << 5, S_LONG2 = 1 << 6, S_FLOAT = 1 << 7,
	S_DOUBLE = 1 << 8, S_SIGNED = 1 << 9, S_UNSIGNED = 1 << 10,
	S_INT128 = 1 << 11, S_COMPLEX = 1 << 12, S_OTHER = 1 << 13,
};

/* Map a set of type-specifier keywords to a type (C11 6.7.2). */
static int spec_type(struct parser *p, unsigned int s, int col,
		     struct ctype *ty)
{
	bool sgn = !(s & S_UNSIGNED);
	unsigned int size = 0;

	if ((s & S_SIGNED) && (s & S_UNSIGNED))
		goto bad;
	if (s & S_COMPLEX) {
		/* AAPCS64 5.9.5: a complex type is an HFA of two members */
		if (s == (S_COMPLEX | S_FLOAT))
			size = 4;
		else if (s == (S_COMPLEX | S_DOUBLE))
			size = 8;
		else if (s == (S_COMPLEX | S_LONG | S_DOUBLE))
			size = 16;
		else
			goto bad;
		*ty = float_type(size);
		ty->kind = CT_AGG;
		ty->size = 2 * size;
		ty->fp_n = 2;
		return 0;
	}
	switch (s & ~(S_SIGNED | S_UNSIGNED)) {
	case S_VOID:
		if (s != S_VOID)
			goto bad;
		*ty = (struct ctype){ .kind = CT_VOID, .fp = FP_MIXED };
		return 0;
	case S_BOOL:
		if (s != S_BOOL)
			goto bad;
		*ty = int_type(1, false);
		ty->is_bool = true;
		return 0;
	case S_CHAR:
		/* plain char is unsigned on arm64 (AAPCS64 10.1.1) */
		*ty = int_type(1, (s & S_SIGNED) != 0);
		ty->is_char = s == S_CHAR;
		return 0;
	case S_SHORT:
	case S_SHORT | S_INT:
		size = 2;
		break;
	case 0:
	case S_INT:
		if (!s)
			goto bad;
		size = 4;
		break;
	case S_LONG:
	case S_LONG | S_INT:
	case S_LONG | S_LONG2:
	case S_LONG | S_LONG2 | S_INT:
		size = 8;
		break;
	case S_INT128:
		size = 16;
		break;
	case S_FLOAT:
	case S_DOUBLE:
	case S_LONG | S_DOUBLE:
		if (s & (S_SIGNED | S_UNSIGNED))
			goto bad;
		*ty = float_type(s == S_FLOAT ? 4 : s == S_DOUBLE ? 8 : 16);
		return 0;
	default:
		goto bad;
	}
	*ty = int_type(size, sgn);
	return 0;
bad:
	return fail(p, -EINVAL, col, "invalid combination of type specifiers");
}

/* Qualifiers and type specifiers, up to the declarator. */
static int parse_specifiers(struct parser *p, struct ctype *ty)
{
	unsigned int s = 0;
	int col = p->tok.col, err = 0;
	bool seen = false;

	memset(ty, 0, sizeof(*ty));
	for (;;) {
		const struct tok *t = &p->tok;
		const struct named_int *ni;
		unsigned int bit = 0;

		if (t->kind != TK_IDENT)
			break;
		if (is_qualifier(t)) {
			err = next(p);
			if (err)
				return err;
			continue;
		}
		if (tok_is(t, "__attribute__") || tok_is(t, "__attribute") ||
		    tok_is(t, "_Alignas") || tok_is(t, "alignas"))
			return fail(p, -EOPNOTSUPP, t->col,
				    "'%.*s' is not supported", (int)t->len,
				    t->s);
		if (tok_is(t, "struct") || tok_is(t, "union") ||
		    tok_is(t, "enum")) {
			if (s)
				goto bad;
			if (tok_is(t, "enum"))
				err = parse_enum(p, ty);
			else
				err = parse_agg(p, ty, tok_is(t, "union"));
			if (err)
				return err;
			s = S_OTHER;
			continue;
		}
		ni = find_named_int(t);
		if (ni) {
			/* A typedef name is only a type if none came first. */
			if (s)
				break;
			*ty = int_type(ni->size, ni->is_signed);
			s = S_OTHER;
			err = next(p);
			if (err)
				return err;
			continue;
		}
		if (tok_is(t, "void"))
			bit = S_VOID;
		else if (tok_is(t, "_Bool") || tok_is(t, "bool"))
			bit = S_BOOL;
		else if (tok_is(t, "char"))
			bit = S_CHAR;
		else if (tok_is(t, "short"))
			bit = S_SHORT;
		else if (tok_is(t, "int"))
			bit = S_INT;
		else if (tok_is(t, "long"))
			bit = (s & S_LONG) ? S_LONG2 : S_LONG;
		else if (tok_is(t, "float"))
			bit = S_FLOAT;
		else if (tok_is(t, "double"))
			bit = S_DOUBLE;
		else if (tok_is(t, "signed") || tok_is(t, "__signed") ||
			 tok_is(t, "__signed__"))
			bit = S_SIGNED;
		else if (tok_is(t, "unsigned"))
			bit = S_UNSIGNED;
		else if (tok_is(t, "__int128"))
			bit = S_INT128;
		else if (tok_is(t, "_Complex") || tok_is(t, "__complex__"))
			bit = S_COMPLEX;
		else if (!s && !seen)
			return fail(p, -EINVAL, t->col, "unknown type '%.*s'",
				    (int)t->len, t->s);
		else
			break;	/* the declarator's name */
		if ((s & bit) || (s & S_OTHER))
			goto bad;
		s |= bit;
		seen = true;
		err = next(p);
		if (err)
			return err;
	}
	if (!s) {
		if (p->tok.kind == TK_EOF)
			return fail(p, -EINVAL, p->tok.col,
				    "expected a type, found end of input");
		return fail(p, -EINVAL, p->tok.col,
			    "expected a type, found '%.*s'", (int)p->tok.len,
			    p->tok.s);
	}
	if (s != S_OTHER)
		err = spec_type(p, s, col, ty);
	ty->col = col;
	return err;
bad:
	return fail(p, -EINVAL, p->tok.col,
		    "invalid combination of type specifiers");
}

/* ------------------------------------------------------------------ */
/* Declarators                                                          */

static int to_model_type(struct parser *p, const struct ctype *ty, int col,
			 bool is_ret, struct ftramp_type *out);

/* "(params)" of a function declarator; current token is '('. */
static int parse_params(struct parser *p, struct ftramp_func_model *fm)
{
	int err = next(p);

	memset(fm, 0, sizeof(*fm));
	p->variadic_col = 0;
	if (err)
		return err;
	/* "()" is "(void)", as in C23 */
	if (is_punct(p, ')'))
		return next(p);
	if (tok_is(&p->tok, "void")) {
		struct tok t2 = peek2(p);

		if (t2.kind == TK_PUNCT && t2.c == ')') {
			err = next(p);
			return err ? err : next(p);
		}
	}
	for (;;) {
		struct ctype ty;
		int col = p->tok.col;

		if (p->tok.kind == TK_ELLIPSIS) {
			fm->flags |= FTRAMP_MODEL_VARIADIC;
			p->variadic_col = col;
			err = next(p);
			if (err)
				return err;
			break;
		}
		err = parse_specifiers(p, &ty);
		if (!err)
			err = parse_declarator(p, &ty, true, true);
		if (err)
			return err;
		/* C11 6.7.6.3: arrays and functions decay to pointers */
		if (ty.kind == CT_ARRAY || ty.kind == CT_FUNC) {
			bool str = ty.string;

			ty = ptr_type(&ty);
			ty.string = str;
		}
		if (ty.kind == CT_VOID)
			return fail(p, -EINVAL, col, "parameter has type void");
		if (fm->nr_args == FTRAMP_MAX_ARGS)
			return fail(p, -E2BIG, col,
				    "more than %d parameters",
				    FTRAMP_MAX_ARGS);
		err = to_model_type(p, &ty, col, false,
				    &fm->args[fm->nr_args]);
		if (err)
			return err;
		fm->nr_args++;
		if (!is_punct(p, ','))
			break;
		err = next(p);
		if (err)
			return err;
	}
	return expect(p, ')', "')' after parameters");
}

/* Array and function suffixes after a (possibly nested) declarator. */
static int parse_suffix(struct parser *p, struct ctype *ty, bool param)
{
	int err;

	if (is_punct(p, '(')) {
		struct ftramp_func_model fm;
		struct ftramp_type ret;
		int col = p->tok.col;

		if (ty->kind == CT_FUNC || ty->kind == CT_ARRAY)
			return fail(p, -EINVAL, col, "function returning %s",
				    ty->kind == CT_FUNC ? "a function" :
				    "an array");
		if (++p->depth > MAX_DEPTH)
			return fail(p, -E2BIG, col, "nesting too deep");
		err = to_model_type(p, ty, ty->col, true, &ret);
		p->scope++;
		if (!err)
			err = parse_params(p, &fm);
		p->scope--;
		p->depth--;
		if (err)
			return err;
		if (is_punct(p, '(') || is_punct(p, '['))
			return fail(p, -EINVAL, p->tok.col,
				    "function returning %s",
				    is_punct(p, '(') ? "a function" :
				    "an array");
		fm.ret = ret;
		p->func = fm;
		p->top_is_func = true;
		*ty = (struct ctype){ .kind = CT_FUNC, .fp = FP_MIXED,
				      .complete = true, .col = ty->col };
		return 0;
	}
	if (is_punct(p, '[')) {
		uint64_t n = 0, size;
		int col = p->tok.col;
		bool unsized;

		err = next(p);
		if (err)
			return err;
		unsized = is_punct(p, ']');
		if (!unsized) {
			if (p->tok.kind != TK_NUM)
				return fail(p, -EINVAL, p->tok.col,
					    "array size: integer literal expected");
			n = p->tok.num;
			err = next(p);
			if (err)
				return err;
		}
		err = expect(p, ']', "']'");
		if (err)
			return err;
		/* the element type: later suffixes apply first */
		if (++p->depth > MAX_DEPTH)
			return fail(p, -E2BIG, col, "nesting too deep");
		err = parse_suffix(p, ty, param);
		p->depth--;
		if (err)
			return err;
		if (ty->kind == CT_FUNC)
			return fail(p, -EINVAL, col, "array of functions");
		if (ty->kind == CT_VOID)
			return fail(p, -EINVAL, col, "array of void");
		if (!ty->complete)
			return fail(p, -EINVAL, col,
				    "array of incomplete type");
		if (!n && !param)
			return fail(p, -EOPNOTSUPP, col,
				    "flexible or zero-length arrays are not supported");
		size = n * ty->size;
		if (n > MAX_TYPE_SIZE || size > MAX_TYPE_SIZE)
			return fail(p, -E2BIG, col, "type is too large");
		ty->string = ty->kind == CT_INT && ty->is_char;
		ty->kind = CT_ARRAY;
		ty->size = (uint32_t)size;
		ty->is_bool = ty->is_char = false;
		ty->fp_n = n * ty->fp_n > 5 ? 5 : (uint8_t)(n * ty->fp_n);
		if (!n)
			ty->fp = FP_MIXED;
		p->top_is_func = false;
		return 0;
	}
	return 0;
}

/*
 * pointer* ( name | "(" declarator ")" | nothing ) suffix*
 * @allow_name: a name may be declared; @allow_abstract: it may be left out.
 */
static int parse_declarator(struct parser *p, struct ctype *ty,
			    bool allow_name, bool allow_abstract)
{
	int err = 0;

	if (++p->depth > MAX_DEPTH)
		return fail(p, -E2BIG, p->tok.col, "nesting too deep");

	while (!err && (is_punct(p, '*') || is_qualifier(&p->tok))) {
		if (is_punct(p, '*')) {
			int col = ty->col;

			*ty = ptr_type(ty);
			ty->col = col;
			p->top_is_func = false;
		}
		err = next(p);
	}
	if (err)
		return err;

	if (is_punct(p, '(')) {
		struct tok t2 = peek2(p);

		if (t2.kind == TK_PUNCT && (t2.c == '*' || t2.c == '(')) {
			/* Nested declarator: skip it, apply the suffix,
			 * then parse it again on the result. */
			size_t start;
			int level = 0;

			err = next(p);
			if (err)
				return err;
			start = tok_pos(p);
			while (!err && (level || !is_punct(p, ')'))) {
				if (p->tok.kind == TK_EOF)
					return fail(p, -EINVAL, p->tok.col,
						    "expected ')', found end of input");
				if (is_punct(p, '('))
					level++;
				else if (is_punct(p, ')'))
					level--;
				err = next(p);
			}
			if (!err)
				err = next(p);
			if (!err)
				err = parse_suffix(p, ty, false);
			if (err)
				return err;
			{
				size_t end = tok_pos(p);

				err = rewind_to(p, start);
				if (!err)
					err = parse_declarator(p, ty,
							       allow_name,
							       allow_abstract);
				if (!err && !is_punct(p, ')'))
					err = fail(p, -EINVAL, p->tok.col,
						   "unexpected '%.*s' in declarator",
						   (int)p->tok.len, p->tok.s);
				if (!err)
					err = rewind_to(p, end);
			}
			p->depth--;
			return err;
		}
	}

	if (p->tok.kind == TK_IDENT && !starts_type(&p->tok)) {
		if (!allow_name)
			return fail(p, -EINVAL, p->tok.col,
				    "unexpected name '%.*s'", (int)p->tok.len,
				    p->tok.s);
		if (!p->scope) {
			p->name = p->tok.s;
			p->name_len = p->tok.len;
		}
		err = next(p);
	} else if (!allow_abstract) {
		if (p->tok.kind == TK_EOF)
			return fail(p, -EINVAL, p->tok.col,
				    "expected a name, found end of input");
		return fail(p, -EINVAL, p->tok.col,
			    "expected a name, found '%.*s'", (int)p->tok.len,
			    p->tok.s);
	}
	if (!err)
		err = parse_suffix(p, ty, allow_abstract);
	p->depth--;
	return err;
}

/* Classify a parameter or result type per AAPCS64. */
static int to_model_type(struct parser *p, const struct ctype *ty, int col,
			 bool is_ret, struct ftramp_type *out)
{
	memset(out, 0, sizeof(*out));
	switch (ty->kind) {
	case CT_VOID:
		if (!is_ret)
			return fail(p, -EINVAL, col, "parameter has type void");
		return 0;
	case CT_INT:
		out->cls = FTRAMP_TYPE_INT;
		out->size = ty->size;
		out->align = ty->align;
		if (ty->is_signed)
			out->flags |= FTRAMP_TYPE_SIGNED;
		if (ty->is_bool)
			out->flags |= FTRAMP_TYPE_BOOL;
		return 0;
	case CT_FLOAT:
		out->cls = FTRAMP_TYPE_FLOAT;
		out->size = ty->size;
		out->align = ty->align;
		return 0;
	case CT_PTR:
		out->cls = FTRAMP_TYPE_INT;
		out->size = 8;
		out->align = 8;
		out->flags = FTRAMP_TYPE_POINTER;
		if (ty->string)
			out->flags |= FTRAMP_TYPE_STRING;
		return 0;
	case CT_ARRAY:
		return fail(p, -EINVAL, col, "function returning an array");
	case CT_FUNC:
		return fail(p, -EINVAL, col, "function returning a function");
	case CT_AGG:
		if (!ty->complete)
			return fail(p, -EINVAL, col,
				    "incomplete type used by value");
		if (ty->fp != FP_MIXED && ty->fp_n) {
			out->cls = FTRAMP_TYPE_HFA;
			out->nmemb = ty->fp_n;
			out->elem_size = fp_elem_size(ty->fp);
		} else {
			out->cls = FTRAMP_TYPE_STRUCT;
		}
		out->size = ty->size;
		out->align = ty->align;
		return 0;
	}
	return fail(p, -EINVAL, col, "unsupported type");
}

FTRAMP_API int ftramp_model__parse_opts(const char *proto,
					struct ftramp_func_model *m,
					const struct ftramp_parse_opts *opts)
{
	struct ftramp_parse_error *perr;
	struct ftramp_parse_opts o;
	struct parser *p, pbuf;
	struct ctype ty;
	int err;

	if (FTRAMP_OPTS_IN(o, opts))
		return -EINVAL;
	perr = o.err;
	if (perr) {
		perr->col = 0;
		perr->msg[0] = '\0';
	}
	if (!proto || !m) {
		if (perr)
			snprintf(perr->msg, sizeof(perr->msg),
				 "no prototype or model");
		return -EINVAL;
	}

	p = &pbuf;
	memset(p, 0, sizeof(*p));
	p->src = proto;
	p->perr = perr;
	memset(m, 0, sizeof(*m));

	err = lex(p);
	if (!err)
		err = parse_specifiers(p, &ty);
	if (!err)
		err = parse_declarator(p, &ty, true, true);
	if (!err && p->tok.kind != TK_EOF)
		err = fail(p, -EINVAL, p->tok.col,
			   "unexpected '%.*s' after the prototype",
			   (int)p->tok.len, p->tok.s);
	if (!err && !p->top_is_func)
		err = fail(p, -EINVAL, ty.col > 0 ? ty.col : 1,
			   "not a function prototype");
	if (err)
		return err;

	*m = p->func;
	if (o.name && o.name_sz) {
		size_t n = p->name_len < o.name_sz - 1 ?
			   p->name_len : o.name_sz - 1;

		memcpy(o.name, p->name ? p->name : "", n);
		o.name[n] = '\0';
	}
	if (m->flags & FTRAMP_MODEL_VARIADIC)
		return fail(p, -EOPNOTSUPP, p->variadic_col,
			    "variadic functions are not supported");
	err = ftramp_model__validate(m);
	if (err == -E2BIG)
		return fail(p, err, 1,
			    "arguments exceed the limits (%d stack slots, %d ctx slots)",
			    FTRAMP_MAX_STACK_ARGS, FTRAMP_MAX_CTX_ARGS);
	if (err)
		return fail(p, err, 1, "invalid model");
	return 0;
}

FTRAMP_API int ftramp_model__parse(const char *proto,
				   struct ftramp_func_model *m,
				   struct ftramp_parse_error *err)
{
	struct ftramp_parse_opts opts = { .sz = sizeof(opts), .err = err };

	return ftramp_model__parse_opts(proto, m, &opts);
}

/* ------------------------------------------------------------------ */
/* Formatting                                                           */


static void format_type(struct strbuf *o, const struct ftramp_type *t)
{
	static const char *const fp_names[] = {
		[4] = "float", [8] = "double", [16] = "long double",
	};
	bool sgn = t->flags & FTRAMP_TYPE_SIGNED;
	uint32_t a;

	switch (t->cls) {
	case FTRAMP_TYPE_VOID:
		strbuf_printf(o, "void");
		return;
	case FTRAMP_TYPE_INT:
		if (t->flags & FTRAMP_TYPE_STRING)
			strbuf_printf(o, "const char *");
		else if (t->flags & FTRAMP_TYPE_POINTER)
			strbuf_printf(o, "void *");
		else if (t->flags & FTRAMP_TYPE_BOOL)
			strbuf_printf(o, "_Bool");
		else if (t->size == 16)
			strbuf_printf(o, "%s__int128", sgn ? "" : "unsigned ");
		else
			strbuf_printf(o, "%sint%u_t", sgn ? "" : "u", t->size * 8);
		return;
	case FTRAMP_TYPE_FLOAT:
		strbuf_printf(o, "%s", fp_names[t->size]);
		return;
	case FTRAMP_TYPE_HFA:
		strbuf_printf(o, "struct { %s m[%u]; }", fp_names[t->elem_size],
		    t->nmemb);
		return;
	case FTRAMP_TYPE_STRUCT:
		/* members of the struct's alignment keep size and align */
		a = t->align;
		if (!a)
			for (a = 8; t->size % a; a /= 2)
				;
		if (a == 16)
			strbuf_printf(o, "struct { unsigned __int128 m[%u]; }",
			    t->size / 16);
		else
			strbuf_printf(o, "struct { uint%u_t m[%u]; }", a * 8,
			    t->size / a);
		return;
	}
}

FTRAMP_API int ftramp_model__format(const struct ftramp_func_model *m,
				    char *buf, size_t size)
{
	struct strbuf o = { .buf = buf, .size = buf ? size : 0 };
	int err = ftramp_model__validate(m);

	if (err && err != -EOPNOTSUPP && err != -E2BIG)
		return err;
	if (m->nr_args > FTRAMP_MAX_ARGS)
		return -E2BIG;
	if (o.size)
		buf[0] = '\0';

	format_type(&o, &m->ret);
	strbuf_printf(&o, " (");
	for (unsigned int i = 0; i < m->nr_args; i++) {
		if (i)
			strbuf_printf(&o, ", ");
		format_type(&o, &m->args[i]);
	}
	if (m->flags & FTRAMP_MODEL_VARIADIC)
		strbuf_printf(&o, m->nr_args ? ", ..." : "...");
	else if (!m->nr_args)
		strbuf_printf(&o, "void");
	strbuf_printf(&o, ")");
	return o.len > INT32_MAX ? -E2BIG : (int)o.len;
}
