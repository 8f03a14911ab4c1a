/* Internal to the platform files: what the POSIX and the Windows halves share (platform/common.c). */
#ifndef OB_NATIVE_PLATFORM_COMMON_INTERNAL_H
#define OB_NATIVE_PLATFORM_COMMON_INTERNAL_H

#include <stddef.h>

#include "platform/platform.h"

/**
 * Keep errno value err as this thread's last platform failure (ob_platform_fail,
 * ob_platform_reason, ob_platform_failure read it); returns its OB_E* code.
 */
int ob_platform_failed_errno(int err);
/** The OB_E* code of this thread's last platform failure. */
int ob_platform_last_code(void);

/** How many of want bytes may be written now: all of them without a pacer. */
size_t ob_platform_paced(ob_platform_pace_cb pace, void *payload, size_t want);

/**
 * Each platform's whole-file writer (posix.c, windows.c): a temporary file beside
 * the target, written in the pieces pace grants, synced when durable, renamed over
 * the target (replace) or put there create-only (OB_EEXISTS when it exists).
 */
int ob_platform_write_file_impl(const char *path, const void *data, size_t len, unsigned int mode, int replace,
	int durable, ob_platform_pace_cb pace, void *payload);

#endif
