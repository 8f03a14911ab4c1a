/* Reading a file system for a backup, on POSIX (platform/scan.h). */
#define _GNU_SOURCE
#include "platform/scan.h"
#include "util/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static int kind_of(mode_t m)
{
	if (S_ISREG(m)) return OB_SCAN_FILE;
	if (S_ISDIR(m)) return OB_SCAN_DIR;
	if (S_ISLNK(m)) return OB_SCAN_SYMLINK;
	if (S_ISFIFO(m)) return OB_SCAN_FIFO;
	if (S_ISCHR(m)) return OB_SCAN_CHARDEV;
	if (S_ISBLK(m)) return OB_SCAN_BLOCKDEV;
	return OB_SCAN_SOCKET;
}

static void from_stat(ob_scan_stat *out, const struct stat *st)
{
	memset(out, 0, sizeof(*out));
	out->kind = kind_of(st->st_mode);
	out->mode = (uint32_t)st->st_mode;
	out->uid = (uint32_t)st->st_uid;
	out->gid = (uint32_t)st->st_gid;
	out->nlink = (uint32_t)st->st_nlink;
	out->size = (uint64_t)st->st_size;
	out->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	out->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
	out->inode = (uint64_t)st->st_ino;
	out->dev = (uint64_t)st->st_dev;
	out->rdev = (uint64_t)st->st_rdev;
	out->sparse = S_ISREG(st->st_mode) && (uint64_t)st->st_blocks * 512 < (uint64_t)st->st_size;
}

int ob_scan_open_root(int *out, ob_scan_stat *st, const char *path)
{
	struct stat s;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err;

	*out = -1;
	if (fd < 0)
		return errno;
	if (fstat(fd, &s) != 0) {
		err = errno;
		close(fd);
		return err;
	}
	from_stat(st, &s);
	*out = fd;
	return 0;
}

int ob_scan_stat_at(ob_scan_stat *st, int dir, const char *name)
{
	struct stat s;

	if (fstatat(dir, name, &s, AT_SYMLINK_NOFOLLOW) != 0)
		return errno;
	from_stat(st, &s);
	return 0;
}

/* The access time is left alone where the owner allows it (O_NOATIME needs the file's owner or a capability). */
static int open_noatime(int *out, int dir, const char *name, int flags)
{
	int fd = openat(dir, name, flags | O_NOATIME | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == EPERM)
		fd = openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC);
	*out = fd;
	return fd < 0 ? errno : 0;
}

int ob_scan_open_dir_at(int *out, int dir, const char *name)
{
	return open_noatime(out, dir, name, O_RDONLY | O_DIRECTORY);
}

int ob_scan_open_file_at(int *out, int dir, const char *name)
{
	return open_noatime(out, dir, name, O_RDONLY | O_NONBLOCK);
}

int ob_scan_fstat(ob_scan_stat *st, int fd)
{
	struct stat s;

	if (fstat(fd, &s) != 0)
		return errno;
	from_stat(st, &s);
	return 0;
}

int ob_scan_other_volume(uint64_t root_dev, const ob_scan_stat *st)
{
	return st->dev != root_dev;
}

void ob_scan_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

int ob_scan_list(char ***out, size_t *out_count, int dir)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int dfd, error = 0;

	*out = NULL;
	*out_count = 0;
	/* fdopendir takes the descriptor: give it a copy. */
	if ((dfd = dup(dir)) < 0 || !(d = fdopendir(dfd))) {
		error = errno;
		if (dfd >= 0)
			close(dfd);
		return error;
	}
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **v = realloc(names, ncap * sizeof(*v));
			if (!v) {
				error = ob_err_nomem();
				break;
			}
			names = v;
			cap = ncap;
		}
		if (!(names[n] = strdup(de->d_name))) {
			error = ob_err_nomem();
			break;
		}
		n++;
	}
	closedir(d);
	if (error < 0) {
		ob_scan_names_free(names, n);
		return error;
	}
	*out = names;
	*out_count = n;
	return 0;
}

int ob_scan_readlink_at(char *buf, size_t size, size_t *out_len, int dir, const char *name)
{
	ssize_t n = readlinkat(dir, name, buf, size);

	*out_len = 0;
	if (n < 0)
		return errno;
	*out_len = (size_t)n < size ? (size_t)n : size;
	return 0;
}

int ob_scan_xattrs(int fd, ob_scan_xattr_cb cb, void *payload)
{
	char *list = NULL, *p;
	ssize_t n = flistxattr(fd, NULL, 0);

	if (n <= 0)
		return 0;  /* none, or not supported here */
	if (!(list = malloc((size_t)n + 1)))
		return ob_err_nomem();
	n = flistxattr(fd, list, (size_t)n);
	for (p = list; n > 0 && p < list + n; p += strlen(p) + 1) {
		ssize_t vl = fgetxattr(fd, p, NULL, 0);
		uint8_t *v;
		size_t nl = strlen(p);
		if (vl < 0 || nl == 0 || nl > 0xffff)
			continue;
		if (!(v = malloc((size_t)vl + 1)))
			break;
		vl = fgetxattr(fd, p, v, (size_t)vl);
		if (vl >= 0)
			cb(payload, p, nl, v, (size_t)vl);
		free(v);
	}
	free(list);
	return 0;
}

void ob_scan_advise_sequential(int fd)
{
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
}

int ob_scan_read(size_t *got, int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	*got = n > 0 ? (size_t)n : 0;
	return n < 0 ? errno : 0;
}

int ob_scan_pread(size_t *got, int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	do
		n = pread(fd, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	*got = n > 0 ? (size_t)n : 0;
	return n < 0 ? errno : 0;
}

const char *ob_scan_reason(int err)
{
	return strerror(err);
}

int ob_scan_extent(uint64_t *end, int *hole, int *at_end, int fd, uint64_t pos, uint64_t limit)
{
	off_t d = lseek(fd, (off_t)pos, SEEK_DATA), h;
	struct stat st;

	*hole = 0;
	*at_end = 0;
	*end = limit;
	if (d < 0) {
		if (errno != ENXIO)
			return 0;   /* no SEEK_DATA here: all data */
		/* No data from pos on: a hole to the end of the file, or the end itself. */
		if (fstat(fd, &st) != 0)
			return errno;
		if ((uint64_t)st.st_size <= pos) {
			*at_end = 1;
			return 0;
		}
		*hole = 1;
		if ((uint64_t)st.st_size < limit)
			*end = (uint64_t)st.st_size;
		return 0;
	}
	if ((uint64_t)d > pos) {
		*hole = 1;
		if ((uint64_t)d < limit)
			*end = (uint64_t)d;
		return 0;
	}
	h = lseek(fd, (off_t)pos, SEEK_HOLE);
	if (h > (off_t)pos && (uint64_t)h < limit)
		*end = (uint64_t)h;
	return 0;
}

char *ob_scan_user_name(uint32_t uid)
{
	struct passwd pw, *res = NULL;
	char buf[1024];

	getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res);
	return strdup(res ? res->pw_name : "");
}

char *ob_scan_group_name(uint32_t gid)
{
	struct group gr, *res = NULL;
	char buf[4096];

	getgrgid_r((gid_t)gid, &gr, buf, sizeof(buf), &res);
	return strdup(res ? res->gr_name : "");
}
