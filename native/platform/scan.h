/*
 * Internal: reading a file system for a backup, the scanner's OS calls: the
 * walk (folders opened relative to their parent, their names listed), stat to
 * an entry's metadata, extended attributes (ACLs among them), opening a file
 * for reading, reading it, and where its data lies (sparse files).
 * posix_scan.c implements it; a windows_scan.c would implement the same names.
 *
 * Folders and files are open descriptors (int, -1 for none), closed with
 * ob_scan_close. Unless said otherwise a function returns 0, a positive OS
 * error number (errno on POSIX: strerror and ob_err_os describe it) that the
 * caller reports as it sees fit (the scanner lists the file as failed), or a
 * negative ob_error_code it has recorded (OB_ENOMEM).
 */
#ifndef OB_NATIVE_PLATFORM_SCAN_H
#define OB_NATIVE_PLATFORM_SCAN_H

#include <stddef.h>
#include <stdint.h>

/* What an entry is. */
enum {
	OB_SCAN_FILE = 1,
	OB_SCAN_DIR,
	OB_SCAN_SYMLINK,
	OB_SCAN_FIFO,
	OB_SCAN_CHARDEV,
	OB_SCAN_BLOCKDEV,
	OB_SCAN_SOCKET
};

/** An entry's metadata, as the file system gives it (links are not followed). */
typedef struct ob_scan_stat {
	int kind;                /* OB_SCAN_* */
	uint32_t mode;           /* the POSIX mode, type bits included */
	uint32_t uid, gid, nlink;
	uint64_t size;           /* as the file system says (for every kind) */
	int64_t mtime_ns, ctime_ns;
	uint64_t inode, dev, rdev;
	int sparse;              /* a regular file that takes fewer blocks than its size */
} ob_scan_stat;

/** Open a data source's top folder and stat it. */
int ob_scan_open_root(int *out, ob_scan_stat *st, const char *path);
/** Stat an entry of folder dir (a link itself, not what it names). */
int ob_scan_stat_at(ob_scan_stat *st, int dir, const char *name);
/** Open a subfolder of dir for the walk (no access time update where the OS allows it; a link is refused). */
int ob_scan_open_dir_at(int *out, int dir, const char *name);
/**
 * Open a file of dir for reading, as ob_scan_open_dir_at does; non-blocking, so
 * that a FIFO put in the file's place cannot hang the scan (ob_scan_fstat tells).
 */
int ob_scan_open_file_at(int *out, int dir, const char *name);
/** Stat an open file or folder. */
int ob_scan_fstat(ob_scan_stat *st, int fd);
/** Close (accepts -1). */
void ob_scan_close(int fd);
/**
 * Whether folder st (found in the walk of a data source whose top folder has device root_dev)
 * is on another volume: POSIX compares devices. On Windows a folder on another volume is a
 * mount-point reparse point, which the scan reports as a link and never walks, so a folder it
 * walks is always on its parent's volume: never 1 there (the volume serial number is not
 * compared: Wine, for one, can answer 0 for it while its mount manager starts).
 */
int ob_scan_other_volume(uint64_t root_dev, const ob_scan_stat *st);

/**
 * The names in an open folder, without "." and "..", in no particular order:
 * *out (free with ob_scan_names_free) holds *out_count malloc'd names. dir stays open.
 */
int ob_scan_list(char ***out, size_t *out_count, int dir);
void ob_scan_names_free(char **names, size_t count);

/** A link's target into buf (not NUL-terminated); *out_len == size when it is longer than buf. */
int ob_scan_readlink_at(char *buf, size_t size, size_t *out_len, int dir, const char *name);

/**
 * The extended attributes of an open file or folder (POSIX ACLs are among them,
 * as system.posix_acl_*): cb is called for each, in the file system's order.
 * None, or a file system without them, is no attribute. An attribute that cannot
 * be read is left out. 0, or OB_ENOMEM.
 */
typedef void (*ob_scan_xattr_cb)(void *payload, const char *name, size_t name_len, const uint8_t *value, size_t len);
int ob_scan_xattrs(int fd, ob_scan_xattr_cb cb, void *payload);

/** The file is read from start to end: read further ahead. */
void ob_scan_advise_sequential(int fd);
/** Read up to len bytes at the file's position (interrupted reads are retried); *got is 0 at its end. */
int ob_scan_read(size_t *got, int fd, void *buf, size_t len);
/** The same at offset off. */
int ob_scan_pread(size_t *got, int fd, void *buf, size_t len, uint64_t off);

/**
 * What the file holds at pos: data or a hole (*hole), up to *end (at most
 * limit, and past pos); *at_end when the file now ends at pos (it shrank).
 * Where the file system cannot tell, all of it is data.
 */
int ob_scan_extent(uint64_t *end, int *hole, int *at_end, int fd, uint64_t pos, uint64_t limit);

/**
 * The words for a scan call's failure err (an errno value) as a backup's failed item shows it
 * (static). POSIX: the system's reason. Windows: the same, except that a file another process
 * holds without sharing it (a sharing or lock violation) says so and why it cannot be read: obagent
 * reads the live volume, as Volume Shadow Copy is not available to it yet (docs/WINDOWS.md).
 */
const char *ob_scan_reason(int err);

/** The names of a user and of a group id (malloc'd; "" when unknown, NULL when out of memory). */
char *ob_scan_user_name(uint32_t uid);
char *ob_scan_group_name(uint32_t gid);

#endif
