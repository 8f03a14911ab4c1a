/*
 * Internal: a read-only file system served by this process (docs/MOUNT.md). The OS side of a
 * mounted recovery point: on Linux FUSE 3 (mount_fuse.c), elsewhere not built yet
 * (mount_none.c: OB_EIO saying so). The caller (restore/mount.c) answers path-based questions
 * through ob_mount_ops; every answer is 0 or a count, or a negative OB_E* code, which the
 * platform turns into the OS's error: OB_ENOTFOUND no such entry, OB_ECORRUPT and OB_EIO an
 * I/O error, OB_EINVALID not a link / not a file, OB_ENOMEM, OB_EEXISTS (used for "no such
 * attribute"), OB_ENOSPC (used for "the buffer is too small").
 */
#ifndef OB_NATIVE_PLATFORM_MOUNT_H
#define OB_NATIVE_PLATFORM_MOUNT_H

#include <stddef.h>
#include <stdint.h>

/* An entry's attributes, as stat gives them. */
typedef struct ob_mount_attr {
	int kind;                /* OB_FILE_* (platform/file.h) */
	unsigned int perm;       /* 07777 */
	uint64_t ino, size, rdev;
	uint32_t nlink, uid, gid;
	int64_t mtime_ns, ctime_ns;
} ob_mount_attr;

/* Called for each entry of a folder by ops->readdir: nonzero stops. */
typedef int (*ob_mount_fill)(void *fill_payload, const char *name, const ob_mount_attr *attr);

typedef struct ob_mount_ops {
	int (*getattr)(void *payload, const char *path, ob_mount_attr *out);
	int (*readdir)(void *payload, const char *path, ob_mount_fill fill, void *fill_payload);
	/* The target into buf (NUL-terminated, cut to size). */
	int (*readlink)(void *payload, const char *path, char *buf, size_t size);
	int (*open)(void *payload, const char *path, void **out_handle);
	/* Bytes read into buf from offset (fewer only at the end of the file). */
	int64_t (*read)(void *payload, void *handle, char *buf, size_t size, uint64_t offset);
	void (*release)(void *payload, void *handle);
	/* size 0: the value's length. */
	int64_t (*getxattr)(void *payload, const char *path, const char *name, void *buf, size_t size);
	/* NUL-separated names; size 0: their length. */
	int64_t (*listxattr)(void *payload, const char *path, char *buf, size_t size);
} ob_mount_ops;

typedef struct ob_platform_mount ob_platform_mount;

/*
 * Mount a read-only file system at path (an existing empty folder), served by a thread of this
 * process until ob_platform_mount_end or until it is unmounted from outside. fsname names it in
 * the mount table. OB_EIO with a message saying what to install when the OS cannot.
 */
int ob_platform_mount_start(ob_platform_mount **out, const char *path, const char *fsname, const ob_mount_ops *ops,
	void *payload);

/* 1 once the file system was unmounted (from outside, or it failed), 0 after timeout_ms while still mounted. */
int ob_platform_mount_wait(ob_platform_mount *m, unsigned int timeout_ms);

/* Unmount (when still mounted), wait for the serving thread, free. */
void ob_platform_mount_end(ob_platform_mount *m);

/*
 * Unmount what is mounted at path, this process's or another's, including a stale mount whose
 * process is gone ("Transport endpoint is not connected"). lazy: detach it even when busy.
 * 0 when done or nothing was mounted there; OB_ELOCKED when busy (not lazy); OB_EIO otherwise.
 */
int ob_platform_unmount(const char *path, int lazy);

/* 1 when something is mounted at path (the mount table says so), 0 when not. */
int ob_platform_is_mounted(const char *path);

#endif
