// SPDX-License-Identifier: MIT
/*
 * Async-signal-safe formatting (see fmt.h).  Every function appends to a
 * fixed buffer and never fails: text that does not fit is dropped and
 * b->trunc set, so one check per line suffices.
 */
#include <math.h>
#include <string.h>

#include "fmt.h"

void fb_init(struct fbuf *b, char *buf, size_t size)
{
	b->buf = buf;
	b->size = size;
	b->len = 0;
	b->trunc = false;
	if (size)
		buf[0] = 0;
}

void fb_putc(struct fbuf *b, char c)
{
	if (b->len + 1 < b->size)
		b->buf[b->len++] = c;
	else
		b->trunc = true;
}

void fb_putn(struct fbuf *b, const char *s, size_t n)
{
	size_t room = b->size ? b->size - 1 - b->len : 0;

	if (n > room) {
		n = room;
		b->trunc = true;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
}

void fb_puts(struct fbuf *b, const char *s)
{
	fb_putn(b, s, strlen(s));
}

void fb_pad(struct fbuf *b, char c, int n)
{
	while (n-- > 0)
		fb_putc(b, c);
}

/* Digits of @v into the end of @tmp (24 bytes); returns the first. */
static char *utoa(char *tmp, uint64_t v)
{
	char *p = tmp + 24;

	do {
		*--p = '0' + v % 10;
		v /= 10;
	} while (v);
	return p;
}

void fb_u64_w(struct fbuf *b, uint64_t v, int width)
{
	char tmp[24], *p = utoa(tmp, v);
	int n = tmp + sizeof(tmp) - p;

	fb_pad(b, ' ', width - n);
	fb_putn(b, p, n);
}

void fb_u64(struct fbuf *b, uint64_t v)
{
	fb_u64_w(b, v, 0);
}

void fb_s64(struct fbuf *b, int64_t v)
{
	if (v < 0) {
		fb_putc(b, '-');
		fb_u64(b, -(uint64_t)v);
	} else {
		fb_u64(b, v);
	}
}

void fb_hex(struct fbuf *b, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16], *p = tmp + sizeof(tmp);

	do {
		*--p = digits[v & 15];
		v >>= 4;
	} while (v);
	fb_puts(b, "0x");
	fb_putn(b, p, tmp + sizeof(tmp) - p);
}

static const uint64_t pow10_u64[] = {
	1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull,
	10000000ull, 100000000ull, 1000000000ull, 10000000000ull,
	100000000000ull, 1000000000000ull, 10000000000000ull,
	100000000000000ull, 1000000000000000ull, 10000000000000000ull,
};

/* 10^k as a double, exact for k <= 22, a product of exact ones above. */
static double pow10_d(int k)
{
	static const double exact[] = {
		1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
		1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
		1e21, 1e22,
	};
	double r = 1.0;

	while (k > 22) {
		r *= 1e22;
		k -= 22;
	}
	return r * exact[k];
}

/* nan, inf, -inf and the sign; true when nothing is left to print. */
static bool special(struct fbuf *b, double *v)
{
	if (*v != *v) {
		fb_puts(b, "nan");
		return true;
	}
	if (*v < 0 || (*v == 0 && 1 / *v < 0)) {
		fb_putc(b, '-');
		*v = -*v;
	}
	if (*v > 1.7976931348623157e308) {
		fb_puts(b, "inf");
		return true;
	}
	return false;
}

/*
 * v * 10^k (v >= 0, |k| <= 22, result below 2^52) rounded to nearest,
 * ties to even, as printf rounds: on the exact value of v, not on the
 * rounded product.  fma() gives the product's rounding error exactly, which
 * decides the cases where the product lands on a half.
 */
static uint64_t round_scaled(double v, int k)
{
	double p = pow10_d(k < 0 ? -k : k), y, err, fl;
	uint64_t m;

	if (k >= 0) {
		y = v * p;
		err = fma(v, p, -y);		/* exact: v * p - y */
	} else {
		y = v / p;
		err = fma(-y, p, v);		/* exact: v - y * p */
	}
	m = (uint64_t)y;
	fl = y - (double)m;
	if (fl > 0.5 || (fl == 0.5 && (err > 0 || (err == 0 && (m & 1)))))
		m++;
	return m;
}

#define TWO_POW_52	4503599627370496.0

void fb_fixed(struct fbuf *b, double v, int decimals)
{
	uint64_t ip, frac, p;
	char tmp[24], *s;

	if (decimals < 0)
		decimals = 0;
	if (decimals > 9)
		decimals = 9;
	if (special(b, &v))
		return;
	if (v >= 1e18) {
		fb_double(b, v, 15);
		return;
	}
	p = pow10_u64[decimals];
	if (v * (double)p < TWO_POW_52) {
		frac = round_scaled(v, decimals);
		ip = frac / p;
		frac %= p;
	} else {
		/* v - ip is exact; its scaled value is below 10^9 */
		ip = (uint64_t)v;
		frac = round_scaled(v - (double)ip, decimals);
		if (frac >= p) {
			ip++;
			frac -= p;
		}
	}
	fb_u64(b, ip);
	if (decimals) {
		s = utoa(tmp, frac);
		fb_putc(b, '.');
		fb_pad(b, '0', decimals - (int)(tmp + sizeof(tmp) - s));
		fb_putn(b, s, tmp + sizeof(tmp) - s);
	}
}

/* sig digits of v (> 0) as m with v ~ m * 10^(*e - sig + 1). */
static uint64_t sig_digits(double v, int sig, int *e)
{
	uint64_t m;
	double x;
	int k, tries;

	*e = 0;
	for (x = v; x >= 10.0; x /= 10.0)
		(*e)++;
	for (; x < 1.0; x *= 10.0)
		(*e)--;
	/* the loops above may be off by one near powers of ten: check */
	for (tries = 0; tries < 3; tries++) {
		k = sig - 1 - *e;
		if (k >= -22 && k <= 22) {
			m = round_scaled(v, k);
		} else {
			/* extreme magnitudes: two steps keep 10^k finite */
			x = k > 0 ? v * pow10_d(k / 2) * pow10_d(k - k / 2) :
				    v / pow10_d(-k / 2) / pow10_d(-k + k / 2);
			m = (uint64_t)(x + 0.5);
		}
		if (m >= pow10_u64[sig] && m != pow10_u64[sig]) {
			(*e)++;
		} else if (m < pow10_u64[sig - 1]) {
			(*e)--;
		} else {
			break;
		}
	}
	if (m >= pow10_u64[sig]) {	/* 9.99.. rounded up to 10.0 */
		m /= 10;
		(*e)++;
	}
	/* never fewer than sig digits, whatever the arithmetic did */
	if (m < pow10_u64[sig - 1])
		m = pow10_u64[sig - 1];
	if (m >= pow10_u64[sig])
		m = pow10_u64[sig] - 1;
	return m;
}

void fb_double(struct fbuf *b, double v, int sig)
{
	char digits[24], *d;
	uint64_t m;
	int e, n, i;

	if (sig < 1)
		sig = 1;
	if (sig > 15)
		sig = 15;
	if (special(b, &v))
		return;
	if (v == 0) {
		fb_putc(b, '0');
		return;
	}
	m = sig_digits(v, sig, &e);
	d = utoa(digits, m);
	n = sig;
	while (n > 1 && d[n - 1] == '0')
		n--;

	if (e >= -4 && e < sig) {
		/* fixed notation, as %g */
		if (e < 0) {
			fb_puts(b, "0.");
			fb_pad(b, '0', -e - 1);
			fb_putn(b, d, n);
			return;
		}
		for (i = 0; i <= e; i++)
			fb_putc(b, i < n ? d[i] : '0');
		if (n > e + 1) {
			fb_putc(b, '.');
			fb_putn(b, d + e + 1, n - e - 1);
		}
		return;
	}
	fb_putc(b, d[0]);
	if (n > 1) {
		fb_putc(b, '.');
		fb_putn(b, d + 1, n - 1);
	}
	fb_putc(b, 'e');
	fb_putc(b, e < 0 ? '-' : '+');
	if (e < 0)
		e = -e;
	if (e < 10)
		fb_putc(b, '0');
	fb_u64(b, e);
}

void fb_duration(struct fbuf *b, uint64_t ns)
{
	static const struct {
		uint64_t div;
		const char *unit;
	} units[] = {
		{ 1000ull, " us" }, { 1000000ull, " ms" },
		{ 1000000000ull, " s" },
	};
	char tmp[24], *p;
	int i;

	if (ns < 1000) {
		fb_u64(b, ns);
		fb_puts(b, " ns");
		return;
	}
	for (i = 0; i < 2 && ns >= units[i].div * 1000; i++)
		;
	fb_u64(b, ns / units[i].div);
	fb_putc(b, '.');
	p = utoa(tmp, ns % units[i].div / (units[i].div / 1000));
	fb_pad(b, '0', 3 - (int)(tmp + sizeof(tmp) - p));
	fb_putn(b, p, tmp + sizeof(tmp) - p);
	fb_puts(b, units[i].unit);
}

static void put_hex_byte(struct fbuf *b, const char *prefix, unsigned char c,
			 int width)
{
	static const char digits[] = "0123456789abcdef";
	int i;

	fb_puts(b, prefix);
	for (i = width - 1; i >= 0; i--)
		fb_putc(b, digits[(c >> (4 * i)) & 15]);
}

void fb_escape(struct fbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		switch (c) {
		case '"':	fb_puts(b, "\\\""); break;
		case '\\':	fb_puts(b, "\\\\"); break;
		case '\n':	fb_puts(b, "\\n"); break;
		case '\t':	fb_puts(b, "\\t"); break;
		case '\r':	fb_puts(b, "\\r"); break;
		default:
			if (c < 0x20 || c >= 0x7f)
				put_hex_byte(b, "\\x", c, 2);
			else
				fb_putc(b, c);
		}
	}
}

void fb_hexbytes(struct fbuf *b, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_hex_byte(b, i ? " " : "", ((const unsigned char *)p)[i], 2);
}

void fb_cstr(struct fbuf *b, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	fb_putc(b, '"');
	fb_escape(b, s, n);
	fb_putc(b, '"');
	if (n == max && s[n])
		fb_puts(b, "...");
}

void fb_json(struct fbuf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\') {
			fb_putc(b, '\\');
			fb_putc(b, c);
		} else if (c < 0x20) {
			put_hex_byte(b, "\\u00", c, 2);
		} else {
			fb_putc(b, c);
		}
	}
}

double fb_binary128_to_double(uint64_t lo, uint64_t hi)
{
	int exp = (hi >> 48) & 0x7fff, e;
	uint64_t bits, frac;
	double d;

	/* the top 52 of the 112 fraction bits, rounded to nearest */
	frac = (hi & 0xffffffffffffull) << 4 | lo >> 60;
	if (lo & (1ull << 59))
		frac++;
	if (exp == 0x7fff) {
		bits = 0x7ffull << 52 | ((hi & 0xffffffffffffull) || lo ?
					 1ull << 51 : 0);
	} else if (exp == 0) {
		bits = 0;		/* zero, or far below double's range */
	} else {
		e = exp - 16383;
		if (frac >> 52) {	/* the rounding carried */
			frac = 0;
			e++;
		}
		if (e > 1023) {
			bits = 0x7ffull << 52;
		} else if (e >= -1022) {
			bits = (uint64_t)(e + 1023) << 52 | frac;
		} else if (e >= -1074) {
			/* a double subnormal: 1.frac * 2^e, truncated */
			bits = ((1ull << 52) | frac) >> (-1022 - e);
		} else {
			bits = 0;
		}
	}
	bits |= hi & (1ull << 63);
	memcpy(&d, &bits, sizeof(d));
	return d;
}

const char *fb_str(struct fbuf *b)
{
	if (b->size)
		b->buf[b->len] = 0;
	return b->buf;
}
