// SPDX-License-Identifier: MIT
/*
 * Library-wide helpers: version and error strings.
 */
#include <stdio.h>
#include <errno.h>
#include <string.h>

#include <ftramp/ftramp.h>

#include "lib/thread.h"
#include "lib/util.h"

FTRAMP_API const char *ftramp_version(void)
{
	return FTRAMP_VERSION;
}

/*
 * What ftramp means by the errno values whose strerror() text would
 * mislead ("Bad address" for a site that someone else rewrote).  The
 * errors each layer returns are listed in Documentation/api.rst.
 */
static const struct {
	int err;
	const char *msg;
} ftramp_errors[] = {
	{ EFAULT,	"code at the site is not what ftramp expected (changed behind its back)" },
	{ EILSEQ,	"not a patchable instruction slot" },
	{ ENOEXEC,	"address is not in executable text" },
	{ ENXIO,	"address is not mapped" },
	{ ERANGE,	"branch target out of range" },
	{ EACCES,	"the kernel refused to change the page protection" },
	{ ENOENT,	"no such function or patchable site" },
	{ EOPNOTSUPP,	"not supported (no usable patchable entry, variadic or unsupported type)" },
	{ E2BIG,	"too many arguments or attachments" },
	{ EBUSY,	"already attached" },
};

FTRAMP_API int ftramp_strerror(int err, char *buf, size_t size)
{
	char tmp[128];
	const char *msg;
	size_t i;

	if (!buf || !size)
		return -EINVAL;
	if (err < 0)
		err = -err;
	for (i = 0; i < ARRAY_SIZE(ftramp_errors); i++) {
		if (ftramp_errors[i].err == err) {
			snprintf(buf, size, "%s", ftramp_errors[i].msg);
			return 0;
		}
	}
	msg = strerror_r(err, tmp, sizeof(tmp));
	snprintf(buf, size, "%s", msg);
	return 0;
}

FTRAMP_API const char *ftramp_error_detail(void)
{
	return thread_error_get();
}
