/*
 * What the POSIX and the Windows platform files share (platform/common_internal.h):
 * the thread's last failure, the whole-file writers' entry points, the scanner's
 * name lists. No OS call here.
 */
#include "platform/common_internal.h"
#include "platform/file.h"
#include "platform/scan.h"
#include "util/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- the last failure ---- */

static _Thread_local int last_errno;

int ob_platform_failed_errno(int err)
{
	last_errno = err;
	return ob_code_from_errno(err);
}

int ob_platform_last_code(void)
{
	return ob_code_from_errno(last_errno);
}

int ob_platform_fail(const char *what, const char *path)
{
	return ob_err_os(last_errno, what, path);
}

const char *ob_platform_reason(void)
{
	return strerror(last_errno);
}

int ob_platform_failure(void)
{
	switch (last_errno) {
	case ENOENT:
		return OB_FAILURE_ABSENT;
	case ENOTDIR:
	case ELOOP:
		return OB_FAILURE_IN_THE_WAY;
	case ESTALE:
		return OB_FAILURE_REPLACED;
	default:
		return OB_FAILURE_OTHER;
	}
}

/* ---- whole files ---- */

size_t ob_platform_paced(ob_platform_pace_cb pace, void *payload, size_t want)
{
	size_t n;

	if (!pace || !want)
		return want;
	n = pace(payload, want);
	return n && n <= want ? n : want;
}

int ob_platform_write_file(const char *path, const void *data, size_t len, unsigned int mode, int replace)
{
	return ob_platform_write_file_impl(path, data, len, mode, replace, 1, NULL, NULL);
}

int ob_platform_write_file_nosync(const char *path, const void *data, size_t len, unsigned int mode)
{
	return ob_platform_write_file_impl(path, data, len, mode, 0, 0, NULL, NULL);
}

int ob_platform_write_file_paced(const char *path, const void *data, size_t len, unsigned int mode, int durable,
	ob_platform_pace_cb pace, void *payload)
{
	return ob_platform_write_file_impl(path, data, len, mode, 0, durable, pace, payload);
}

/* ---- the scanner's name lists ---- */

void ob_scan_names_free(char **names, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		free(names[i]);
	free(names);
}
