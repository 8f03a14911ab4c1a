/* Internal to the POSIX platform files: what they share. */
#ifndef OB_NATIVE_PLATFORM_POSIX_INTERNAL_H
#define OB_NATIVE_PLATFORM_POSIX_INTERNAL_H

/*
 * An open file or folder (platform/file.h): a descriptor. entry: an O_PATH descriptor of an entry
 * itself (ob_file_open_made_at), which reads nothing: the apply calls reach its object through
 * AT_EMPTY_PATH or /proc/self/fd/N instead of the f* calls, which refuse such descriptors.
 */
struct ob_file {
	int fd;
	int entry;
};

/**
 * Keep errno value err as this thread's last platform failure (ob_platform_fail,
 * ob_platform_reason, ob_platform_failure read it); returns its OB_E* code.
 */
int ob_posix_failed(int err);

#endif
