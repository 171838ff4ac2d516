// SPDX-License-Identifier: MIT
/*
 * Pointer arguments that must not crash a trace (selftests/cli_args.sh):
 * a small integer cast to char *, strings that end exactly at the end of a
 * page followed by a PROT_NONE page (terminated, and not), a binary
 * buffer at the very end of a mapping, a long string for --strlen, the
 * last bytes of an mmap'd file whose next page lies beyond its end (a
 * load there is SIGBUS, not SIGSEGV), and the pointer types that are not
 * strings (unsigned char *, void *) beside a plain char *.  Each function
 * only reads what it is allowed to; ftramp must do the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noipa))

int is_null(const char *p);
int first_byte(const char *p);
uint32_t crc8(const uint8_t *buf, size_t n);
size_t name_len(const char *name);
unsigned int kinds(unsigned char *u, void *v, char *s);

NOINLINE int is_null(const char *p)
{
	return p == NULL;
}

NOINLINE int first_byte(const char *p)
{
	return p[0];
}

/* CRC-8 (polynomial 0x07) of the last bytes of a mapping. */
NOINLINE uint32_t crc8(const uint8_t *buf, size_t n)
{
	uint32_t crc = 0;

	for (size_t i = 0; i < n; i++) {
		crc ^= buf[i];
		for (int k = 0; k < 8; k++)
			crc = (crc & 0x80) ? ((crc << 1) ^ 0x07) & 0xff :
					     (crc << 1) & 0xff;
	}
	return crc;
}

NOINLINE size_t name_len(const char *name)
{
	return strlen(name);
}

/* Three pointer kinds: only the plain char * is a string. */
NOINLINE unsigned int kinds(unsigned char *u, void *v, char *s)
{
	return u[0] + ((unsigned char *)v)[1] + (unsigned char)s[2];
}

/*
 * A file of exactly one page mapped over two: the second page has no
 * file behind it.  Its last 8 bytes are 1..8, then "xyz" unterminated
 * at the same edge.
 */
static int file_tail(long pg)
{
	char path[] = "/tmp/argread.XXXXXX";
	unsigned char *f, *end;
	int fd = mkstemp(path);

	if (fd < 0)
		return 2;
	unlink(path);
	if (ftruncate(fd, pg))
		return 2;
	f = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (f == MAP_FAILED)
		return 2;
	end = f + pg;
	for (int i = 0; i < 8; i++)
		end[i - 8] = (unsigned char)(i + 1);
	printf("file crc8 %u\n", crc8(end - 8, 8));
	memcpy(end - 3, "xyz", 3);
	printf("file first_byte %d\n", first_byte((const char *)end - 3));
	return 0;
}

int main(void)
{
	static unsigned char ub[] = { 0xde, 0xad, 0xbe, 0xef };
	static char plain[] = "plain";
	long pg = sysconf(_SC_PAGESIZE);
	static const char tail[] = "end of page";
	char *m, *end;

	m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect(m + pg, pg, PROT_NONE))
		return 2;
	end = m + pg;
	memset(m, 'x', pg);

	printf("is_null(16) %d\n", is_null((const char *)16));
	printf("is_null(0x1000) %d\n", is_null((const char *)0x1000));
	/* "end of page\0" ends exactly at the guard page. */
	memcpy(end - sizeof(tail), tail, sizeof(tail));
	printf("is_null(tail) %d\n", is_null(end - sizeof(tail)));
	/* "xyz" with no terminator before the guard page. */
	memcpy(end - 3, "xyz", 3);
	printf("first_byte %d\n", first_byte(end - 3));
	for (int i = 0; i < 8; i++)
		end[i - 8] = (char)(i + 1);
	printf("crc8 %u\n", crc8((const uint8_t *)end - 8, 8));
	printf("name_len %zu\n",
	       name_len("a rather long name that --strlen cuts short"));
	printf("kinds %u\n", kinds(ub, ub, plain));
	return file_tail(pg);
}
