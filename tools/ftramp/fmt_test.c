// SPDX-License-Identifier: MIT
/*
 * Host test of the agent's async-signal-safe formatter against libc's
 * printf, which it replaces on the event path.  Run by
 * selftests/cli_fmt.sh.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "selftests/harness.h"
#include "tools/ftramp/agent/fmt.h"

#define FB(name, size)	char name##_mem[size]; struct fbuf name; \
			fb_init(&name, name##_mem, sizeof(name##_mem))

static const double samples[] = {
	0.0, 1.0, -1.0, 0.5, 1.5, 2.25, 3.14159265358979, 1e-4, 1.5e-5,
	123456.0, 999999.5, 1234567.0, 1e15, 1e16, 6.02214076e23,
	1.602176634e-19, 9.9999999, 0.1, 0.3, 1.0 / 3.0, 2.0 / 3.0,
	-273.15, 42.0, 1e100, -1e-300, 5e-324, DBL_MAX, 0.000123456789,
	65536.0, 4294967296.0, 12.5, 100.0, 1e5, 99999.95,
};

TEST(double_matches_printf_g)
{
	char want[64];
	int i, sig;

	for (sig = 1; sig <= 12; sig++) {
		for (i = 0; i < (int)(sizeof(samples) / sizeof(samples[0])); i++) {
			FB(b, 64);

			fb_double(&b, samples[i], sig);
			snprintf(want, sizeof(want), "%.*g", sig, samples[i]);
			if (strcmp(want, fb_str(&b)))
				TH_LOG("%.17g with %d digits", samples[i], sig);
			EXPECT_STREQ(want, fb_str(&b));
		}
	}
}

/* xorshift64: the same sequence every run */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

TEST(random_vs_printf)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull, bits;
	char want[64];
	int i, fails = 0;

	for (i = 0; i < 200000 && fails < 10; i++) {
		double v;
		int sig = 1 + i % 12, dec = i % 10;
		FB(b, 64);
		FB(f, 64);

		/* half random bit patterns, half short decimals like 12.35 */
		if (i & 1) {
			bits = next_rand(&seed);
			memcpy(&v, &bits, sizeof(v));
			if (v != v)
				continue;
		} else {
			v = (double)(int64_t)(next_rand(&seed) % 2000001 - 1000000) /
			    (double)(1 + next_rand(&seed) % 1000);
		}
		fb_double(&b, v, sig);
		snprintf(want, sizeof(want), "%.*g", sig, v);
		/*
		 * Exact (printf's correct rounding) while 10^k is exact, i.e.
		 * for 1e-7 < |v| < 1e22 at any precision; beyond, the last
		 * digit may be one off.
		 */
		if (fabs(v) <= 1e-7 || fabs(v) >= 1e22) {
			double back = strtod(fb_str(&b), NULL);

			if (fabs(back - v) > fabs(v) * 1.01 * pow(10, 1 - sig)) {
				TH_LOG("%%.%dg of %.17g: '%s' too far", sig, v,
				       fb_str(&b));
				fails++;
			}
		} else if (strcmp(want, fb_str(&b))) {
			TH_LOG("%%.%dg of %.17g: '%s', printf '%s'", sig, v,
			       fb_str(&b), want);
			fails++;
		}
		if (fabs(v) < 1e15) {
			fb_fixed(&f, v, dec);
			snprintf(want, sizeof(want), "%.*f", dec, v);
			if (strcmp(want, fb_str(&f))) {
				TH_LOG("%%.%df of %.17g: '%s', printf '%s'", dec,
				       v, fb_str(&f), want);
				fails++;
			}
		}
	}
	EXPECT_EQ(0, fails);
}

TEST(double_specials)
{
	FB(b, 64);

	fb_double(&b, NAN, 6);
	fb_putc(&b, ' ');
	fb_double(&b, INFINITY, 6);
	fb_putc(&b, ' ');
	fb_double(&b, -INFINITY, 6);
	fb_putc(&b, ' ');
	fb_double(&b, -0.0, 6);
	EXPECT_STREQ("nan inf -inf -0", fb_str(&b));
}

TEST(fixed_matches_printf_f)
{
	char want[64];
	int i, dec;

	for (dec = 0; dec <= 9; dec++) {
		for (i = 0; i < (int)(sizeof(samples) / sizeof(samples[0])); i++) {
			FB(b, 64);

			if (fabs(samples[i]) >= 1e15)
				continue;
			fb_fixed(&b, samples[i], dec);
			snprintf(want, sizeof(want), "%.*f", dec, samples[i]);
			if (strcmp(want, fb_str(&b)))
				TH_LOG("%.17g with %d decimals", samples[i], dec);
			EXPECT_STREQ(want, fb_str(&b));
		}
	}
}

TEST(integers)
{
	FB(b, 128);

	fb_u64(&b, 0);
	fb_putc(&b, ' ');
	fb_u64(&b, UINT64_MAX);
	fb_putc(&b, ' ');
	fb_s64(&b, INT64_MIN);
	fb_putc(&b, ' ');
	fb_s64(&b, -28);
	fb_putc(&b, ' ');
	fb_hex(&b, 0);
	fb_putc(&b, ' ');
	fb_hex(&b, 0xaaaad00df00dull);
	fb_putc(&b, '|');
	fb_u64_w(&b, 42, 6);
	EXPECT_STREQ("0 18446744073709551615 -9223372036854775808 -28 0x0 0xaaaad00df00d|    42",
		     fb_str(&b));
}

TEST(durations)
{
	static const struct {
		uint64_t ns;
		const char *text;
	} cases[] = {
		{ 0, "0 ns" }, { 999, "999 ns" }, { 1000, "1.000 us" },
		{ 12345, "12.345 us" }, { 999999, "999.999 us" },
		{ 1000000, "1.000 ms" }, { 3201000, "3.201 ms" },
		{ 1250000000, "1.250 s" }, { 3600000000000ull, "3600.000 s" },
	};
	int i;

	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		FB(b, 32);

		fb_duration(&b, cases[i].ns);
		EXPECT_STREQ(cases[i].text, fb_str(&b));
	}
}

TEST(c_strings)
{
	FB(b, 128);

	fb_cstr(&b, "sensor0.1", 32);
	fb_putc(&b, ' ');
	fb_cstr(&b, "a\"b\\c\n\x01\xff", 32);
	fb_putc(&b, ' ');
	fb_cstr(&b, "abcdefgh", 4);
	fb_putc(&b, ' ');
	fb_cstr(&b, "abcd", 4);
	EXPECT_STREQ("\"sensor0.1\" \"a\\\"b\\\\c\\n\\x01\\xff\" \"abcd\"... \"abcd\"",
		     fb_str(&b));
}

/* Bytes read from traced memory: NULs escaped, nothing read past n. */
TEST(escaped_bytes_and_hex)
{
	static const char bytes[4] = { 'a', 0, '"', (char)0x80 };
	FB(b, 128);

	fb_escape(&b, bytes, sizeof(bytes));
	fb_putc(&b, ' ');
	fb_hexbytes(&b, bytes, sizeof(bytes));
	fb_putc(&b, ' ');
	fb_hexbytes(&b, bytes, 0);
	fb_putc(&b, '|');
	EXPECT_STREQ("a\\x00\\\"\\x80 61 00 22 80 |", fb_str(&b));
}

TEST(json_strings)
{
	FB(b, 64);

	fb_json(&b, "k\"v\\\n");
	EXPECT_STREQ("k\\\"v\\\\\\u000a", fb_str(&b));
}

TEST(truncation_is_recorded)
{
	FB(b, 8);

	fb_puts(&b, "0123456789");
	EXPECT_TRUE(b.trunc);
	EXPECT_STREQ("0123456", fb_str(&b));
	fb_putc(&b, 'x');
	EXPECT_STREQ("0123456", fb_str(&b));
}

TEST(binary128)
{
	static const double cases[] = {
		0.0, -0.0, 1.0, -2.5, 3.141592653589793, 1e300, -1e-300,
		DBL_MIN, 4.9406564584124654e-324, 1e-310, DBL_MAX,
		INFINITY, -INFINITY,
	};
	int i;

	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		__float128 q = cases[i];
		uint64_t w[2];
		double d;

		memcpy(w, &q, sizeof(w));
		d = fb_binary128_to_double(w[0], w[1]);
		if (memcmp(&d, &cases[i], sizeof(d)))
			TH_LOG("%.17g came back as %.17g", cases[i], d);
		EXPECT_EQ(0, memcmp(&d, &cases[i], sizeof(d)));
	}
	{
		__float128 q = NAN;
		uint64_t w[2];

		memcpy(w, &q, sizeof(w));
		EXPECT_NE(0, isnan(fb_binary128_to_double(w[0], w[1])));
	}
}

TEST_HARNESS_MAIN
