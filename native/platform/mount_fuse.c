/* A read-only file system served through FUSE 3 (platform/mount.h), for Linux. */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 31
#include "platform/mount.h"
#include "platform/file.h"
#include "platform/platform.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct ob_platform_mount {
	struct fuse *fuse;
	const ob_mount_ops *ops;
	void *payload;
	char *path;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int ended;
};

/* The OS's error for an engine code. */
static int to_errno(int64_t code)
{
	switch (code) {
	case OB_ENOTFOUND: return -ENOENT;
	case OB_EINVALID: return -EINVAL;
	case OB_ENOMEM: return -ENOMEM;
	case OB_EEXISTS: return -ENODATA;
	case OB_ENOSPC: return -ERANGE;
	case OB_EACCESS: return -EACCES;
	default: return -EIO;
	}
}

static ob_platform_mount *self(void)
{
	return fuse_get_context()->private_data;
}

static void to_stat(struct stat *st, const ob_mount_attr *a)
{
	mode_t type;

	switch (a->kind) {
	case OB_FILE_DIR: type = S_IFDIR; break;
	case OB_FILE_SYMLINK: type = S_IFLNK; break;
	case OB_FILE_FIFO: type = S_IFIFO; break;
	case OB_FILE_CHARDEV: type = S_IFCHR; break;
	case OB_FILE_BLOCKDEV: type = S_IFBLK; break;
	case OB_FILE_SOCKET: type = S_IFSOCK; break;
	default: type = S_IFREG; break;
	}
	memset(st, 0, sizeof(*st));
	st->st_mode = type | (a->perm & 07777);
	st->st_ino = (ino_t)a->ino;
	st->st_nlink = a->nlink ? a->nlink : 1;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_size = (off_t)a->size;
	st->st_rdev = (dev_t)a->rdev;
	st->st_blksize = 65536;
	st->st_blocks = (blkcnt_t)((a->size + 511) / 512);
	st->st_mtim.tv_sec = (time_t)(a->mtime_ns / 1000000000);
	st->st_mtim.tv_nsec = (long)(a->mtime_ns % 1000000000);
	st->st_ctim.tv_sec = (time_t)(a->ctime_ns / 1000000000);
	st->st_ctim.tv_nsec = (long)(a->ctime_ns % 1000000000);
	st->st_atim = st->st_mtim;
	if (st->st_mtim.tv_nsec < 0) {
		st->st_mtim.tv_sec--;
		st->st_mtim.tv_nsec += 1000000000;
		st->st_atim = st->st_mtim;
	}
	if (st->st_ctim.tv_nsec < 0) {
		st->st_ctim.tv_sec--;
		st->st_ctim.tv_nsec += 1000000000;
	}
}

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	/* The file system never changes: the kernel may keep what it learnt for as long as it likes. */
	cfg->use_ino = 1;
	cfg->readdir_ino = 1;
	cfg->kernel_cache = 1;
	cfg->entry_timeout = 3600;
	cfg->attr_timeout = 3600;
	cfg->negative_timeout = 3600;
	return fuse_get_context()->private_data;
}

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	ob_platform_mount *m = self();
	ob_mount_attr a;
	int rc;

	(void)fi;
	if ((rc = m->ops->getattr(m->payload, path, &a)) < 0)
		return to_errno(rc);
	to_stat(st, &a);
	return 0;
}

static int fs_readlink(const char *path, char *buf, size_t size)
{
	ob_platform_mount *m = self();
	int rc = m->ops->readlink(m->payload, path, buf, size);

	return rc < 0 ? to_errno(rc) : 0;
}

typedef struct fill_ctx {
	void *buf;
	fuse_fill_dir_t filler;
} fill_ctx;

static int fill_one(void *payload, const char *name, const ob_mount_attr *attr)
{
	fill_ctx *c = payload;
	struct stat st;

	to_stat(&st, attr);
	return c->filler(c->buf, name, &st, 0, 0);
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t offset, struct fuse_file_info *fi,
	enum fuse_readdir_flags flags)
{
	ob_platform_mount *m = self();
	fill_ctx c = { buf, filler };
	int rc;

	(void)offset;
	(void)fi;
	(void)flags;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	rc = m->ops->readdir(m->payload, path, fill_one, &c);
	return rc < 0 ? to_errno(rc) : 0;
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
	ob_platform_mount *m = self();
	void *h = NULL;
	int rc;

	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))
		return -EROFS;
	if ((rc = m->ops->open(m->payload, path, &h)) < 0)
		return to_errno(rc);
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->keep_cache = 1;
	return 0;
}

static int fs_read(const char *path, char *buf, size_t size, off_t offset, struct fuse_file_info *fi)
{
	ob_platform_mount *m = self();
	int64_t n;

	(void)path;
	if (offset < 0)
		return -EINVAL;
	n = m->ops->read(m->payload, (void *)(uintptr_t)fi->fh, buf, size, (uint64_t)offset);
	return n < 0 ? to_errno(n) : (int)n;
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
	ob_platform_mount *m = self();

	(void)path;
	m->ops->release(m->payload, (void *)(uintptr_t)fi->fh);
	return 0;
}

static int fs_getxattr(const char *path, const char *name, char *value, size_t size)
{
	ob_platform_mount *m = self();
	int64_t n = m->ops->getxattr(m->payload, path, name, value, size);

	return n < 0 ? to_errno(n) : (int)n;
}

static int fs_listxattr(const char *path, char *list, size_t size)
{
	ob_platform_mount *m = self();
	int64_t n = m->ops->listxattr(m->payload, path, list, size);

	return n < 0 ? to_errno(n) : (int)n;
}

/* Every change is refused: the file system is a recovery point. */
static int fs_rofs(void)
{
	return -EROFS;
}
static int fs_mknod(const char *p, mode_t m, dev_t d) { (void)p; (void)m; (void)d; return fs_rofs(); }
static int fs_mkdir(const char *p, mode_t m) { (void)p; (void)m; return fs_rofs(); }
static int fs_unlink(const char *p) { (void)p; return fs_rofs(); }
static int fs_symlink(const char *a, const char *b) { (void)a; (void)b; return fs_rofs(); }
static int fs_rename(const char *a, const char *b, unsigned int f) { (void)a; (void)b; (void)f; return fs_rofs(); }
static int fs_link(const char *a, const char *b) { (void)a; (void)b; return fs_rofs(); }
static int fs_chmod(const char *p, mode_t m, struct fuse_file_info *fi) { (void)p; (void)m; (void)fi; return fs_rofs(); }
static int fs_chown(const char *p, uid_t u, gid_t g, struct fuse_file_info *fi)
{
	(void)p; (void)u; (void)g; (void)fi;
	return fs_rofs();
}
static int fs_truncate(const char *p, off_t o, struct fuse_file_info *fi) { (void)p; (void)o; (void)fi; return fs_rofs(); }
static int fs_write(const char *p, const char *b, size_t s, off_t o, struct fuse_file_info *fi)
{
	(void)p; (void)b; (void)s; (void)o; (void)fi;
	return fs_rofs();
}
static int fs_create(const char *p, mode_t m, struct fuse_file_info *fi) { (void)p; (void)m; (void)fi; return fs_rofs(); }
static int fs_setxattr(const char *p, const char *n, const char *v, size_t s, int f)
{
	(void)p; (void)n; (void)v; (void)s; (void)f;
	return fs_rofs();
}
static int fs_removexattr(const char *p, const char *n) { (void)p; (void)n; return fs_rofs(); }
static int fs_utimens(const char *p, const struct timespec tv[2], struct fuse_file_info *fi)
{
	(void)p; (void)tv; (void)fi;
	return fs_rofs();
}

static const struct fuse_operations fs_ops = {
	.init = fs_init,
	.getattr = fs_getattr,
	.readlink = fs_readlink,
	.readdir = fs_readdir,
	.open = fs_open,
	.read = fs_read,
	.release = fs_release,
	.getxattr = fs_getxattr,
	.listxattr = fs_listxattr,
	.mknod = fs_mknod,
	.mkdir = fs_mkdir,
	.unlink = fs_unlink,
	.rmdir = fs_unlink,
	.symlink = fs_symlink,
	.rename = fs_rename,
	.link = fs_link,
	.chmod = fs_chmod,
	.chown = fs_chown,
	.truncate = fs_truncate,
	.write = fs_write,
	.create = fs_create,
	.setxattr = fs_setxattr,
	.removexattr = fs_removexattr,
	.utimens = fs_utimens,
};

static void *serve(void *arg)
{
	ob_platform_mount *m = arg;

	/* One thread answers (the engine's caches are not shared between threads); it returns once unmounted. */
	fuse_loop(m->fuse);
	pthread_mutex_lock(&m->lock);
	m->ended = 1;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

int ob_platform_mount_start(ob_platform_mount **out, const char *path, const char *fsname, const ob_mount_ops *ops,
	void *payload)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	ob_platform_mount *m;
	char opts[512];
	const char *p;
	size_t n = 0;

	*out = NULL;
	if (access("/dev/fuse", R_OK | W_OK) != 0)
		return ob_err(OB_EIO, OB_ERRCLASS_OS, "Cannot mount the recovery point: /dev/fuse is not available here "
			"(load the fuse module: modprobe fuse; in a container, give it the device: --device /dev/fuse).");
	/* The name in the mount table: no ',' or '\\', which the option list would take apart. */
	for (p = fsname; *p && n < 200; p++)
		opts[n++] = (*p == ',' || *p == '\\' || *p == ' ') ? '_' : *p;
	opts[n] = '\0';
	if (!(m = calloc(1, sizeof(*m))) || !(m->path = strdup(path))) {
		free(m);
		return ob_err_nomem();
	}
	m->ops = ops;
	m->payload = payload;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	{
		char all[600];
		snprintf(all, sizeof(all), "ro,fsname=%s,subtype=obagent", opts);
		if (fuse_opt_add_arg(&args, "obagent") < 0 || fuse_opt_add_arg(&args, "-o") < 0 ||
		    fuse_opt_add_arg(&args, all) < 0)
			goto nomem;
	}
	if (!(m->fuse = fuse_new(&args, &fs_ops, sizeof(fs_ops), m))) {
		fuse_opt_free_args(&args);
		free(m->path);
		free(m);
		return ob_err(OB_EIO, OB_ERRCLASS_OS, "Cannot set up the FUSE file system (libfuse refused its options).");
	}
	fuse_opt_free_args(&args);
	if (fuse_mount(m->fuse, path) != 0) {
		fuse_destroy(m->fuse);
		free(m->path);
		free(m);
		return ob_err(OB_EIO, OB_ERRCLASS_OS, "Cannot mount the recovery point at '%s' (FUSE refused: is the folder "
			"empty and yours, and fusermount3 installed? apt-get install fuse3).", path);
	}
	if (pthread_create(&m->thread, NULL, serve, m) != 0) {
		fuse_unmount(m->fuse);
		fuse_destroy(m->fuse);
		free(m->path);
		free(m);
		return ob_err(OB_ERROR, OB_ERRCLASS_OS, "Cannot start the thread that serves the mount.");
	}
	*out = m;
	return 0;
nomem:
	fuse_opt_free_args(&args);
	free(m->path);
	free(m);
	return ob_err_nomem();
}

int ob_platform_mount_wait(ob_platform_mount *m, unsigned int timeout_ms)
{
	struct timespec ts;
	int ended;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&m->lock);
	while (!m->ended && pthread_cond_timedwait(&m->cond, &m->lock, &ts) == 0)
		;
	ended = m->ended;
	pthread_mutex_unlock(&m->lock);
	return ended;
}

void ob_platform_mount_end(ob_platform_mount *m)
{
	if (!m)
		return;
	/* Unmounting ends the serving thread's loop (the kernel closes the connection). */
	if (!ob_platform_mount_wait(m, 0))
		ob_platform_unmount(m->path, 1);
	fuse_exit(m->fuse);
	pthread_join(m->thread, NULL);
	fuse_unmount(m->fuse);
	fuse_destroy(m->fuse);
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->cond);
	free(m->path);
	free(m);
}

/* A mount table path with its octal escapes (\040 for a space) decoded, in place. */
static void unescape(char *s)
{
	char *o = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
}

int ob_platform_is_mounted(const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192];
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		/* id parent major:minor root mount-point ... */
		char *save = NULL, *tok = strtok_r(line, " ", &save);
		int i;
		for (i = 0; tok && i < 4; i++)
			tok = strtok_r(NULL, " ", &save);
		if (tok) {
			unescape(tok);
			found = strcmp(tok, path) == 0;
		}
	}
	fclose(f);
	return found;
}

int ob_platform_unmount(const char *path, int lazy)
{
	if (!ob_platform_is_mounted(path))
		return 0;
	if (geteuid() == 0) {
		if (umount2(path, lazy ? MNT_DETACH : 0) == 0 || errno == EINVAL || errno == ENOENT)
			return 0;
		if (errno == EBUSY)
			return ob_err(OB_ELOCKED, OB_ERRCLASS_OS, "The recovery volume at '%s' is in use (a shell or a program "
				"has a file or folder of it open); close it and unmount again.", path);
	} else {
		/* Another user's FUSE mount goes through the setuid helper. */
		pid_t pid = fork();
		int status = 0;
		if (pid == 0) {
			int nul = open("/dev/null", O_RDWR);
			if (nul >= 0) {
				dup2(nul, 1);
				dup2(nul, 2);
			}
			if (lazy)
				execlp("fusermount3", "fusermount3", "-u", "-q", "-z", "--", path, (char *)NULL);
			else
				execlp("fusermount3", "fusermount3", "-u", "-q", "--", path, (char *)NULL);
			_exit(127);
		}
		if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0)
			return 0;
		if (!ob_platform_is_mounted(path))
			return 0;
		if (!lazy)
			return ob_err(OB_ELOCKED, OB_ERRCLASS_OS, "The recovery volume at '%s' is in use (a shell or a program "
				"has a file or folder of it open); close it and unmount again.", path);
	}
	if (!ob_platform_is_mounted(path))
		return 0;
	return ob_err(OB_EIO, OB_ERRCLASS_OS, "Cannot unmount '%s': %s", path, strerror(errno));
}
