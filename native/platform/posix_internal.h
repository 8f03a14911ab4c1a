/* Internal to the POSIX platform files: what they share. */
#ifndef OB_NATIVE_PLATFORM_POSIX_INTERNAL_H
#define OB_NATIVE_PLATFORM_POSIX_INTERNAL_H

/* An open file or folder (platform/file.h): a descriptor. */
struct ob_file {
	int fd;
};

/**
 * Keep errno value err as this thread's last platform failure (ob_platform_fail,
 * ob_platform_reason, ob_platform_failure read it); returns its OB_E* code.
 */
int ob_posix_failed(int err);

#endif
