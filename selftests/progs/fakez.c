// SPDX-License-Identifier: MIT
/*
 * A patchable stand-in for zlib (soname libz.so.1): the library under
 * test that a user puts in LD_LIBRARY_PATH (selftests/cli_freestanding.sh).
 * Its adler32() and crc32() compute what zlib's do.
 */
#include <stddef.h>

unsigned long adler32(unsigned long adler, const unsigned char *buf,
		      unsigned int len);
unsigned long crc32(unsigned long crc, const unsigned char *buf,
		    unsigned int len);
const char *zlibVersion(void);

unsigned long adler32(unsigned long adler, const unsigned char *buf,
		      unsigned int len)
{
	unsigned long a = adler & 0xffff, b = adler >> 16;

	if (!buf)
		return 1;
	for (unsigned int i = 0; i < len; i++) {
		a = (a + buf[i]) % 65521;
		b = (b + a) % 65521;
	}
	return b << 16 | a;
}

unsigned long crc32(unsigned long crc, const unsigned char *buf,
		    unsigned int len)
{
	unsigned long c = crc ^ 0xffffffff;

	if (!buf)
		return 0;
	for (unsigned int i = 0; i < len; i++) {
		c ^= buf[i];
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320 : c >> 1;
	}
	return c ^ 0xffffffff;
}

const char *zlibVersion(void)
{
	return "1.3.1-ftramp-test";
}
