// SPDX-License-Identifier: MIT
/*
 * A program linked against the zlib of LD_LIBRARY_PATH (progs/fakez.c):
 * three adler32() calls and two crc32() calls, their results, then the
 * libraries of its own address space that an ELF or DWARF reader would
 * bring (selftests/cli_freestanding.sh): "maps: PATH" per mapping of a
 * libelf, libdw or libz.  With "dl": also dlopen() libzdl.so (the same
 * code under another name, which the ftramp process did not read ahead)
 * and call its crc32() twice.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

unsigned long adler32(unsigned long adler, const unsigned char *buf,
		      unsigned int len);
unsigned long crc32(unsigned long crc, const unsigned char *buf,
		    unsigned int len);

int main(int argc, char **argv)
{
	static const char *const words[] = { "ftramp", "zlib", "agent" };
	char line[512], last[512] = "";
	FILE *f;

	for (int i = 0; i < 3; i++)
		printf("adler32(%s) = %lu\n", words[i],
		       adler32(1, (const unsigned char *)words[i],
			       strlen(words[i])));
	for (int i = 0; i < 2; i++)
		printf("crc32(%s) = %lu\n", words[i],
		       crc32(0, (const unsigned char *)words[i],
			     strlen(words[i])));
	if (argc > 1 && !strcmp(argv[1], "dl")) {
		void *h = dlopen("libzdl.so", RTLD_NOW);
		unsigned long (*c)(unsigned long, const unsigned char *,
				   unsigned int) = h ? dlsym(h, "crc32") : NULL;

		if (!c) {
			printf("dlopen: %s\n", dlerror());
			return 1;
		}
		for (int i = 0; i < 2; i++)
			printf("dl crc32(%s) = %lu\n", words[i],
			       c(0, (const unsigned char *)words[i],
				 strlen(words[i])));
	}
	f = fopen("/proc/self/maps", "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '/');

		if (!path || !(strstr(path, "libelf") || strstr(path, "libdw") ||
			       strstr(path, "/libz.")))
			continue;
		if (strcmp(path, last))	/* one line per object */
			printf("maps: %s", path);
		snprintf(last, sizeof(last), "%s", path);
	}
	if (f)
		fclose(f);
	return 0;
}
