// SPDX-License-Identifier: MIT
/*
 * Library-wide helpers: version and error strings.
 */
#include <stdio.h>
#include <errno.h>
#include <string.h>

#include <ftramp/ftramp.h>

FTRAMP_API const char *ftramp_version(void)
{
	return FTRAMP_VERSION;
}

FTRAMP_API int ftramp_strerror(int err, char *buf, size_t size)
{
	char tmp[128];
	const char *msg;

	if (!buf || !size)
		return -EINVAL;
	if (err < 0)
		err = -err;
	msg = strerror_r(err, tmp, sizeof(tmp));
	snprintf(buf, size, "%s", msg);
	return 0;
}
