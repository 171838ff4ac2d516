// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the prototype parser: any input either parses or
 * fails with one of the documented errors and a message; a model that
 * parses is valid, formats, and reads back to the same model.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ftramp/ftramp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ftramp_func_model m, m2;
	struct ftramp_parse_error e;
	char src[4096], buf[8192];
	int err, n;

	if (size >= sizeof(src))
		size = sizeof(src) - 1;
	memcpy(src, data, size);
	src[size] = '\0';

	memset(&e, 0x5a, sizeof(e));
	err = ftramp_model__parse(src, &m, &e);
	if (err) {
		if (err != -EINVAL && err != -E2BIG && err != -EOPNOTSUPP)
			abort();
		/* every error says where and why */
		if (!memchr(e.msg, '\0', sizeof(e.msg)) || !e.msg[0])
			abort();
		if (e.col < 0 || (size_t)e.col > size + 1)
			abort();
		return 0;
	}
	if (ftramp_model__validate(&m))
		abort();
	n = ftramp_model__format(&m, buf, sizeof(buf));
	if (n < 0 || (size_t)n >= sizeof(buf))
		abort();
	if (ftramp_model__parse(buf, &m2, &e)) {
		fprintf(stderr, "'%s' -> '%s': %s\n", src, buf, e.msg);
		abort();
	}
	if (memcmp(&m, &m2, sizeof(m))) {
		fprintf(stderr, "'%s' -> '%s': different model\n", src, buf);
		abort();
	}
	return 0;
}
