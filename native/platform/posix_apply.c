/* Applying metadata to restored entries (platform/apply.h) for Linux and other POSIX systems. */
#define _GNU_SOURCE
#include "platform/apply.h"
#include "platform/posix_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static uid_t owner_uid(const ob_owner *o)
{
	char name[256], buf[1024];
	struct passwd pw, *res = NULL;

	if (o->user_len && o->user_len < sizeof(name)) {
		memcpy(name, o->user, o->user_len);
		name[o->user_len] = '\0';
		if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) == 0 && res)
			return res->pw_uid;
	}
	return (uid_t)o->uid;
}

static gid_t owner_gid(const ob_owner *o)
{
	char name[256], buf[4096];
	struct group gr, *res = NULL;

	if (o->group_len && o->group_len < sizeof(name)) {
		memcpy(name, o->group, o->group_len);
		name[o->group_len] = '\0';
		if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) == 0 && res)
			return res->gr_gid;
	}
	return (gid_t)o->gid;
}

/*
 * The object an entry handle (ob_file_open_made_at: O_PATH) names, as a path: chmod and setxattr
 * have no form that takes such a descriptor, and the kernel resolves /proc/self/fd/N straight to
 * the object the descriptor holds (a link there is not followed further), whatever its name
 * holds now.
 */
static void entry_path(char buf[32], const ob_file *f)
{
	snprintf(buf, 32, "/proc/self/fd/%d", f->fd);
}

int ob_apply_owner(ob_file *f, const ob_owner *o)
{
	uid_t uid = owner_uid(o);
	gid_t gid = owner_gid(o);

	/* (uid_t)-1 would make chown succeed and change nothing. */
	if (uid == (uid_t)-1 || gid == (gid_t)-1)
		return 0;
	/* AT_EMPTY_PATH: the descriptor's own object (a link itself, never what it points to). */
	if ((f->entry ? fchownat(f->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) : fchown(f->fd, uid, gid)) != 0) {
		ob_posix_failed(errno);
		return 0;
	}
	return 1;
}

int ob_apply_mode(ob_file *f, unsigned int mode)
{
	char path[32];

	if (f->entry) {
		entry_path(path, f);
		/* A link has no mode of its own on Linux: chmod of one fails (EOPNOTSUPP), touching nothing. */
		if (chmod(path, (mode_t)mode) != 0)
			return ob_posix_failed(errno);
		return 0;
	}
	if (fchmod(f->fd, (mode_t)mode) != 0)
		return ob_posix_failed(errno);
	return 0;
}

int ob_apply_xattr(ob_file *f, const char *name, size_t name_len, const void *value, size_t value_len)
{
	char n[65537], path[32];
	int rc;

	if (name_len >= sizeof(n))
		return ob_posix_failed(ERANGE);
	memcpy(n, name, name_len);
	n[name_len] = '\0';
	if (f->entry) {
		entry_path(path, f);
		rc = setxattr(path, n, value, value_len, 0);
	} else {
		rc = fsetxattr(f->fd, n, value, value_len, 0);
	}
	if (rc != 0)
		return ob_posix_failed(errno);
	return 0;
}

int ob_apply_mtime(ob_file *f, int64_t mtime_ns)
{
	struct timespec ts[2];
	char path[32];

	ts[0].tv_sec = (time_t)(mtime_ns / 1000000000);
	ts[0].tv_nsec = (long)(mtime_ns % 1000000000);
	ts[1] = ts[0];
	if (!f->entry)
		return futimens(f->fd, ts) == 0 ? 0 : ob_posix_failed(errno);
	/* AT_EMPTY_PATH where the kernel takes it for utimensat, else the descriptor's /proc path. */
	if (utimensat(f->fd, "", ts, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOENT)
		return ob_posix_failed(errno);
	entry_path(path, f);
	return utimensat(AT_FDCWD, path, ts, 0) == 0 ? 0 : ob_posix_failed(errno);
}
