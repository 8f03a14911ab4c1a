/*
 * Internal: files and folders. Paths and names are UTF-8. An open file or folder is an
 * ob_file handle; a folder's handle makes, opens and removes entries by name in it, never
 * following a link put in the way. posix_file.c implements it with descriptors and the *at
 * calls; a Windows port implements the same names with handles (CreateFileW, ...).
 *
 * Failures: a function returns an OB_E* code (mapped from the system's error) and records no
 * message, because each caller words its own: ob_platform_fail records "<what> '<path>':
 * <the system's reason>" as ob_err_os does, ob_platform_reason is the reason alone, and
 * ob_platform_failure tells the few cases a caller acts on apart.
 */
#ifndef OB_NATIVE_PLATFORM_FILE_H
#define OB_NATIVE_PLATFORM_FILE_H

#include <stddef.h>
#include <stdint.h>

/* ---- failures ---- */

/**
 * Record the last failure of a platform call on this thread as ob_err_os does
 * ("<what> '<path>': <reason> (errno N).<hint>"); returns its OB_E* code.
 */
int ob_platform_fail(const char *what, const char *path);
/** The system's reason for the last failure on this thread ("Permission denied"); never NULL. */
const char *ob_platform_reason(void);

#define OB_FAILURE_OTHER 0
/** Nothing has that name (a folder on the way that is a file is OB_FAILURE_IN_THE_WAY). */
#define OB_FAILURE_ABSENT 1
/** A file, or a link that is not followed, is where a folder was expected. */
#define OB_FAILURE_IN_THE_WAY 2
/** What was just made under a name is not what the name holds now (ob_file_open_made_at). */
#define OB_FAILURE_REPLACED 3
/** Which of OB_FAILURE_* the last failure on this thread was. */
int ob_platform_failure(void);

/* ---- what a path is ---- */

#define OB_FILE_OTHER 0
#define OB_FILE_REGULAR 1
#define OB_FILE_DIR 2
#define OB_FILE_SYMLINK 3
#define OB_FILE_FIFO 4
#define OB_FILE_CHARDEV 5
#define OB_FILE_BLOCKDEV 6
#define OB_FILE_SOCKET 7

typedef struct ob_file_info {
	int type;               /* OB_FILE_* */
	uint64_t size;
	int64_t mtime;          /* last written, seconds since 1970 UTC */
	int64_t ctime;          /* status last changed (made, linked, chmod'ed): no process sets it back */
	uint64_t dev, ino;      /* which file it is: the same pair is the same file */
	size_t block_size;      /* the file system's block for writing it (holes are made of them) */
} ob_file_info;

/** An open file or folder. */
typedef struct ob_file ob_file;

/** Look at a path; a link at its end is followed when follow, else described itself. */
int ob_file_stat_path(ob_file_info *out, const char *path, int follow);
/** Look at the entry name of folder dir, never following a link. */
int ob_file_stat_at(ob_file_info *out, ob_file *dir, const char *name);
/** Look at an open file or folder. */
int ob_file_stat(ob_file_info *out, ob_file *f);

/* ---- opening and closing ---- */

/** Open a file for reading. *out to ob_file_close. */
int ob_file_open(ob_file **out, const char *path);
/** Open a folder (a link to one is followed). */
int ob_file_open_dir(ob_file **out, const char *path);
/** Open the folder name of folder dir; a link or a file of that name fails (OB_FAILURE_IN_THE_WAY). */
int ob_file_open_dir_at(ob_file **out, ob_file *dir, const char *name);
/** Create the new file name in folder dir for writing: OB_EEXISTS when anything has that name. */
int ob_file_create_at(ob_file **out, ob_file *dir, const char *name, unsigned int mode);
/**
 * Open the entry name of folder dir that this process has just made (ob_file_make_node_at,
 * ob_file_symlink_at), never following a link: a handle on the entry itself, for giving it its
 * metadata (platform/apply.h) and nothing else (it reads and writes no content, and opening a
 * fifo or a device this way does not open what it leads to). It fails (OB_FAILURE_REPLACED) when
 * the name holds anything but an entry of type (OB_FILE_*) with that one name: another user who
 * swapped it for a link, a file or a further name of another's entry between the two calls is
 * not acted on.
 */
int ob_file_open_made_at(ob_file **out, ob_file *dir, const char *name, int type);
/**
 * Open the entry name of folder dir itself, never following a link: a handle as
 * ob_file_open_made_at's (no content), without its checks, to look at (ob_file_stat) and link
 * (ob_file_link) what the name holds now.
 */
int ob_file_open_entry_at(ob_file **out, ob_file *dir, const char *name);
/** A second handle on the same open file or folder, closed on its own. */
int ob_file_dup(ob_file **out, ob_file *f);
/** Close a handle (accepts NULL). */
void ob_file_close(ob_file *f);

/* ---- reading and writing ---- */

/** Read up to len bytes at offset: *out_got bytes, 0 at the end of the file. */
int ob_file_read_at(size_t *out_got, ob_file *f, void *buf, size_t len, uint64_t offset);
/** Write all of len bytes at offset. */
int ob_file_write_at(ob_file *f, const void *data, size_t len, uint64_t offset);
/** Make the file size bytes long (what it gains reads as zeros, a hole where the file system can). */
int ob_file_truncate(ob_file *f, uint64_t size);
/**
 * Let the file keep holes: ranges never written (and a tail made by ob_file_truncate) take no
 * space. POSIX files do already (0); Windows marks the file sparse (FSCTL_SET_SPARSE), and where
 * the file system cannot, the ranges read as zeros all the same (0 too: only space differs).
 */
int ob_file_allow_holes(ob_file *f);

/* ---- entries of a folder ---- */

/** Make the folder name in folder dir: OB_EEXISTS when anything has that name. */
int ob_file_mkdir_at(ob_file *dir, const char *name, unsigned int mode);
/** Rename the entry from of folder dir to to, replacing what had that name. */
int ob_file_rename_at(ob_file *dir, const char *from, const char *to);
/** Remove the entry name of folder dir: an empty folder when is_dir, else anything but a folder. */
int ob_file_remove_at(ob_file *dir, const char *name, int is_dir);
/** Remove a file (OB_ENOTFOUND when absent: OB_FAILURE_ABSENT). */
int ob_file_remove(const char *path);
/** Make the link name in folder dir pointing to target (as stored: the target is not looked at). */
int ob_file_symlink_at(ob_file *dir, const char *name, const char *target);
/**
 * Give the file f holds (an open file, or an entry handle of ob_file_open_entry_at) a further
 * name in folder dir (a hard link): the file itself, whatever its names hold now. When replace,
 * something of that name is replaced; a failure is then the first attempt's.
 */
int ob_file_link(ob_file *f, ob_file *dir, const char *name, int replace);
/**
 * Make the special file name (OB_FILE_FIFO, _CHARDEV, _BLOCKDEV or _SOCKET) in folder dir:
 * OB_EEXISTS when anything has that name.
 */
int ob_file_make_node_at(ob_file *dir, const char *name, int type, unsigned int mode, uint64_t rdev);
/** The major and minor numbers of a device number as the scanner records it (ob_scan_entry's rdev). */
unsigned int ob_file_rdev_major(uint64_t rdev);
unsigned int ob_file_rdev_minor(uint64_t rdev);
/** Set the permission bits (07777) of a path (a link at its end is followed). */
int ob_file_chmod(const char *path, unsigned int mode);

/* ---- listing a folder ---- */

/** A folder being listed. */
typedef struct ob_dir ob_dir;

/** List the folder at path. *out to ob_dir_close. */
int ob_dir_open(ob_dir **out, const char *path);
/** List an open folder (through a handle of its own: f stays open, and its own). */
int ob_dir_open_file(ob_dir **out, ob_file *f);
/**
 * The next entry's name, never "." or "..": 1 with *out_name (valid until the next call), 0 at
 * the end (or when the folder cannot be read further). Entries removed or added while listing
 * may or may not be seen.
 */
int ob_dir_next(ob_dir *d, const char **out_name);
/** Stop listing (accepts NULL). */
void ob_dir_close(ob_dir *d);

/* ---- volumes ---- */

/**
 * Call cb with the absolute path of each mount point of the system (of each volume's root),
 * stopping at the first negative return, which is returned. Nothing is listed when the system's
 * table cannot be read.
 */
int ob_file_mount_points(int (*cb)(const char *mount_point, void *payload), void *payload);

#endif
