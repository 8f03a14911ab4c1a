/*
 * Mounting where obagent has no file system to serve one with (platform/mount.h): built
 * without FUSE 3, or on Windows, whose design (WinFsp behind this header) is in docs/MOUNT.md.
 */
#include "platform/mount.h"
#include "util/error.h"

#ifdef _WIN32
#define NOT_HERE "Mounting a recovery point is not available on this platform yet (docs/MOUNT.md); " \
	"restore the items instead (Start-OBRecovery)."
#else
#define NOT_HERE "This obagent was built without FUSE 3, which mounting a recovery point needs: FUSE 3 is not " \
	"installed (apt-get install fuse3 libfuse3-dev), then build obagent again."
#endif

int ob_platform_mount_start(ob_platform_mount **out, const char *path, const char *fsname, const ob_mount_ops *ops,
	void *payload)
{
	(void)path;
	(void)fsname;
	(void)ops;
	(void)payload;
	*out = 0;
	return ob_err(OB_EIO, OB_ERRCLASS_OS, NOT_HERE);
}

int ob_platform_mount_wait(ob_platform_mount *m, unsigned int timeout_ms)
{
	(void)m;
	(void)timeout_ms;
	return 1;
}

void ob_platform_mount_end(ob_platform_mount *m)
{
	(void)m;
}

int ob_platform_unmount(const char *path, int lazy)
{
	(void)path;
	(void)lazy;
	return 0;
}

int ob_platform_is_mounted(const char *path)
{
	(void)path;
	return 0;
}
