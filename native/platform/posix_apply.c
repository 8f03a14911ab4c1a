/* Applying metadata to restored entries (platform/apply.h) for Linux and other POSIX systems. */
#define _GNU_SOURCE
#include "platform/apply.h"
#include "platform/posix_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
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

int ob_apply_owner(ob_file *f, const char *name, const ob_owner *o)
{
	uid_t uid = owner_uid(o);
	gid_t gid = owner_gid(o);

	/* (uid_t)-1 would make chown succeed and change nothing. */
	if (uid == (uid_t)-1 || gid == (gid_t)-1)
		return 0;
	if ((name ? fchownat(f->fd, name, uid, gid, AT_SYMLINK_NOFOLLOW) : fchown(f->fd, uid, gid)) != 0) {
		ob_posix_failed(errno);
		return 0;
	}
	return 1;
}

int ob_apply_mode(ob_file *f, const char *name, unsigned int mode)
{
	if ((name ? fchmodat(f->fd, name, (mode_t)mode, 0) : fchmod(f->fd, (mode_t)mode)) != 0)
		return ob_posix_failed(errno);
	return 0;
}

int ob_apply_xattr(ob_file *f, const char *name, size_t name_len, const void *value, size_t value_len)
{
	char n[65537];

	if (name_len >= sizeof(n))
		return ob_posix_failed(ERANGE);
	memcpy(n, name, name_len);
	n[name_len] = '\0';
	if (fsetxattr(f->fd, n, value, value_len, 0) != 0)
		return ob_posix_failed(errno);
	return 0;
}

int ob_apply_mtime(ob_file *f, const char *name, int64_t mtime_ns)
{
	struct timespec ts[2];

	ts[0].tv_sec = (time_t)(mtime_ns / 1000000000);
	ts[0].tv_nsec = (long)(mtime_ns % 1000000000);
	ts[1] = ts[0];
	if ((name ? utimensat(f->fd, name, ts, AT_SYMLINK_NOFOLLOW) : futimens(f->fd, ts)) != 0)
		return ob_posix_failed(errno);
	return 0;
}
