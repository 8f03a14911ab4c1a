/* Files and folders (platform/file.h) for Linux and other POSIX systems: descriptors and the *at calls. */
#define _GNU_SOURCE
#include "platform/file.h"
#include "platform/posix_internal.h"
#include "platform/common_internal.h"
#include "util/error.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

#define MOUNTINFO_PATH "/proc/self/mountinfo"

struct ob_dir {
	DIR *d;
};

/* ---- failures ---- */

int ob_posix_failed(int err)
{
	return ob_platform_failed_errno(err);
}

/* The failure of the call just made (errno). */
static int failed(void)
{
	return ob_posix_failed(errno);
}

/* ---- what a path is ---- */

static void fill_info(ob_file_info *out, const struct stat *st)
{
	mode_t m = st->st_mode;

	out->type = S_ISREG(m) ? OB_FILE_REGULAR : S_ISDIR(m) ? OB_FILE_DIR : S_ISLNK(m) ? OB_FILE_SYMLINK
		: S_ISFIFO(m) ? OB_FILE_FIFO : S_ISCHR(m) ? OB_FILE_CHARDEV : S_ISBLK(m) ? OB_FILE_BLOCKDEV
		: S_ISSOCK(m) ? OB_FILE_SOCKET : OB_FILE_OTHER;
	out->size = (uint64_t)st->st_size;
	out->mtime = (int64_t)st->st_mtime;
	out->ctime = (int64_t)st->st_ctime;
	out->dev = (uint64_t)st->st_dev;
	out->ino = (uint64_t)st->st_ino;
	out->block_size = (size_t)st->st_blksize;
}

int ob_file_stat_path(ob_file_info *out, const char *path, int follow)
{
	struct stat st;

	if ((follow ? stat(path, &st) : lstat(path, &st)) != 0)
		return failed();
	fill_info(out, &st);
	return 0;
}

int ob_file_stat_at(ob_file_info *out, ob_file *dir, const char *name)
{
	struct stat st;

	if (fstatat(dir->fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return failed();
	fill_info(out, &st);
	return 0;
}

int ob_file_stat(ob_file_info *out, ob_file *f)
{
	struct stat st;

	if (fstat(f->fd, &st) != 0)
		return failed();
	fill_info(out, &st);
	return 0;
}

/* ---- opening and closing ---- */

/* Wrap a descriptor just opened (fd < 0: the call failed). */
static int wrap(ob_file **out, int fd)
{
	*out = NULL;
	if (fd < 0)
		return failed();
	if (!(*out = malloc(sizeof(**out)))) {
		close(fd);
		return ob_posix_failed(ENOMEM);
	}
	(*out)->fd = fd;
	(*out)->entry = 0;
	return 0;
}

int ob_file_open(ob_file **out, const char *path)
{
	return wrap(out, open(path, O_RDONLY | O_CLOEXEC));
}

int ob_file_open_dir(ob_file **out, const char *path)
{
	return wrap(out, open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

int ob_file_open_dir_at(ob_file **out, ob_file *dir, const char *name)
{
	return wrap(out, openat(dir->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

int ob_file_create_at(ob_file **out, ob_file *dir, const char *name, unsigned int mode)
{
	return wrap(out, openat(dir->fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode));
}

int ob_file_dup(ob_file **out, ob_file *f)
{
	int error = wrap(out, fcntl(f->fd, F_DUPFD_CLOEXEC, 0));

	if (error == 0)
		(*out)->entry = f->entry;
	return error;
}

int ob_file_open_entry_at(ob_file **out, ob_file *dir, const char *name)
{
	int error = wrap(out, openat(dir->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC));

	if (error == 0)
		(*out)->entry = 1;
	return error;
}

int ob_file_open_made_at(ob_file **out, ob_file *dir, const char *name, int type)
{
	struct stat st;
	ob_file_info info;
	int error;

	/* O_PATH|O_NOFOLLOW opens a link, a fifo or a device itself, without reading or following it. */
	if ((error = wrap(out, openat(dir->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC))) < 0)
		return error;
	(*out)->entry = 1;
	if (fstat((*out)->fd, &st) != 0) {
		error = failed();
		ob_file_close(*out);
		*out = NULL;
		return error;
	}
	fill_info(&info, &st);
	/*
	 * What this process has just made is of that type and has one name: another user who put
	 * something else under the name (a link, a file, a further name of someone else's fifo)
	 * fails this, and what they put there is never touched. Their own entry of that kind would
	 * pass, and is theirs (a device node cannot be made without CAP_MKNOD). The owner is not
	 * checked: where root's new entries are not root's (NFS with root_squash), every one would fail.
	 */
	if (info.type != type || st.st_nlink != 1) {
		ob_file_close(*out);
		*out = NULL;
		return ob_posix_failed(ESTALE);
	}
	return 0;
}

void ob_file_close(ob_file *f)
{
	if (!f)
		return;
	close(f->fd);
	free(f);
}

/* ---- reading and writing ---- */

int ob_file_read_at(size_t *out_got, ob_file *f, void *buf, size_t len, uint64_t offset)
{
	ssize_t n;

	*out_got = 0;
	do {
		n = pread(f->fd, buf, len, (off_t)offset);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return failed();
	*out_got = (size_t)n;
	return 0;
}

int ob_file_write_at(ob_file *f, const void *data, size_t len, uint64_t offset)
{
	const uint8_t *p = data;
	size_t off = 0;

	while (off < len) {
		ssize_t n = pwrite(f->fd, p + off, len - off, (off_t)(offset + off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return failed();
		off += (size_t)n;
	}
	return 0;
}

int ob_file_allow_holes(ob_file *f)
{
	(void)f;
	return 0;
}

int ob_file_truncate(ob_file *f, uint64_t size)
{
	return ftruncate(f->fd, (off_t)size) == 0 ? 0 : failed();
}

/* ---- entries of a folder ---- */

int ob_file_mkdir_at(ob_file *dir, const char *name, unsigned int mode)
{
	return mkdirat(dir->fd, name, (mode_t)mode) == 0 ? 0 : failed();
}

int ob_file_rename_at(ob_file *dir, const char *from, const char *to)
{
	return renameat(dir->fd, from, dir->fd, to) == 0 ? 0 : failed();
}

int ob_file_remove_at(ob_file *dir, const char *name, int is_dir)
{
	return unlinkat(dir->fd, name, is_dir ? AT_REMOVEDIR : 0) == 0 ? 0 : failed();
}

int ob_file_remove(const char *path)
{
	return unlink(path) == 0 ? 0 : failed();
}

int ob_file_symlink_at(ob_file *dir, const char *name, const char *target)
{
	return symlinkat(target, dir->fd, name) == 0 ? 0 : failed();
}

/* Link the file of descriptor fd as name in dir: AT_EMPTY_PATH (needs CAP_DAC_READ_SEARCH), else /proc. */
static int link_fd(int fd, int dirfd, const char *name)
{
	char path[32];

	if (linkat(fd, "", dirfd, name, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != ENOENT && errno != EPERM && errno != EINVAL)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, path, dirfd, name, AT_SYMLINK_FOLLOW);
}

int ob_file_link(ob_file *f, ob_file *dir, const char *name, int replace)
{
	int err;

	if (link_fd(f->fd, dir->fd, name) == 0)
		return 0;
	err = errno;
	if (err == EEXIST && replace && unlinkat(dir->fd, name, 0) == 0 && link_fd(f->fd, dir->fd, name) == 0)
		return 0;
	return ob_posix_failed(err);
}

int ob_file_make_node_at(ob_file *dir, const char *name, int type, unsigned int mode, uint64_t rdev)
{
	mode_t kind = type == OB_FILE_FIFO ? S_IFIFO : type == OB_FILE_CHARDEV ? S_IFCHR
		: type == OB_FILE_BLOCKDEV ? S_IFBLK : S_IFSOCK;

	return mknodat(dir->fd, name, kind | (mode_t)mode, (dev_t)rdev) == 0 ? 0 : failed();
}

unsigned int ob_file_rdev_major(uint64_t rdev)
{
	return (unsigned int)major((dev_t)rdev);
}

unsigned int ob_file_rdev_minor(uint64_t rdev)
{
	return (unsigned int)minor((dev_t)rdev);
}

int ob_file_chmod(const char *path, unsigned int mode)
{
	return chmod(path, (mode_t)mode) == 0 ? 0 : failed();
}

/* ---- listing a folder ---- */

/* Wrap a listing just opened (d NULL: the call failed; fd, when not -1, is closed then). */
static int wrap_dir(ob_dir **out, DIR *d, int fd)
{
	*out = NULL;
	if (!d) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return ob_posix_failed(err);
	}
	if (!(*out = malloc(sizeof(**out)))) {
		closedir(d);
		return ob_posix_failed(ENOMEM);
	}
	(*out)->d = d;
	return 0;
}

int ob_dir_open(ob_dir **out, const char *path)
{
	return wrap_dir(out, opendir(path), -1);
}

int ob_dir_open_file(ob_dir **out, ob_file *f)
{
	/* fdopendir owns the descriptor it lists: it lists a copy, and f stays the caller's. */
	int fd = dup(f->fd);

	if (fd < 0) {
		*out = NULL;
		return failed();
	}
	return wrap_dir(out, fdopendir(fd), fd);
}

int ob_dir_next(ob_dir *d, const char **out_name)
{
	struct dirent *e;

	while ((e = readdir(d->d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		*out_name = e->d_name;
		return 1;
	}
	return 0;
}

void ob_dir_close(ob_dir *d)
{
	if (!d)
		return;
	closedir(d->d);
	free(d);
}

/* ---- volumes ---- */

/* Undo the octal escapes (\040 for a space...) of a mount table field, in place. */
static void unescape_mount_field(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

int ob_file_mount_points(int (*cb)(const char *mount_point, void *payload), void *payload)
{
	FILE *f = fopen(MOUNTINFO_PATH, "r");
	char *line = NULL;
	size_t cap = 0;
	int error = 0;

	if (!f)
		return 0;
	while (error == 0 && getline(&line, &cap, f) > 0) {
		char *field = line, *end;
		int i;

		/* mountinfo: id parent major:minor root mount-point ... */
		for (i = 0; i < 4 && field; i++) {
			field = strchr(field, ' ');
			if (field)
				field++;
		}
		if (!field || !(end = strchr(field, ' ')))
			continue;
		*end = '\0';
		unescape_mount_field(field);
		if (field[0] == '/')
			error = cb(field, payload);
	}
	fclose(f);
	free(line);
	return error;
}
