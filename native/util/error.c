/* The thread-local last error and the names of the pinned codes. */
#include "util/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define OB_ERROR_MAX 1024

static _Thread_local struct {
	int code;
	int klass;
	char message[OB_ERROR_MAX];
} last_error;

int ob_err(int code, ob_error_class klass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error.message, sizeof(last_error.message), fmt, ap);
	va_end(ap);
	last_error.code = code;
	last_error.klass = (int)klass;
	return code;
}

int ob_code_from_errno(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
		return OB_ENOTFOUND;
	case EEXIST:
		return OB_EEXISTS;
	case EACCES:
	case EPERM:
	case EROFS:
		return OB_EACCESS;
	case ENOSPC:
#ifdef EDQUOT
	case EDQUOT:
#endif
		return OB_ENOSPC;
	case ENOMEM:
		return OB_ENOMEM;
	case EINVAL:
	case ENAMETOOLONG:
		return OB_EINVALID;
	case EBUSY:
	case EWOULDBLOCK:
		return OB_ELOCKED;
	default:
		return OB_EIO;
	}
}

int ob_err_os(int err, const char *what, const char *path)
{
	int code = ob_code_from_errno(err);
	const char *hint = "";

	if (code == OB_ENOSPC)
		hint = " Free some space on that disk, then run the operation again.";
	else if (code == OB_EACCESS)
		hint = " Check the permissions, or run as a user who may access it.";
	return ob_err(code, OB_ERRCLASS_OS, "%s '%s': %s (errno %d).%s",
		what, path ? path : "", strerror(err), err, hint);
}

int ob_err_nomem(void)
{
	return ob_err(OB_ENOMEM, OB_ERRCLASS_NOMEMORY, "Out of memory.");
}

const char *ob_error_last(void)
{
	return last_error.message;
}

int ob_error_last_class(void)
{
	return last_error.klass;
}

int ob_error_last_code(void)
{
	return last_error.code;
}

void ob_error_clear(void)
{
	last_error.code = OB_OK;
	last_error.klass = OB_ERRCLASS_NONE;
	last_error.message[0] = '\0';
}

const char *ob_error_name(int code)
{
	switch (code) {
	case OB_OK: return "OB_OK";
	case OB_ERROR: return "OB_ERROR";
	case OB_EINVALID: return "OB_EINVALID";
	case OB_ENOTFOUND: return "OB_ENOTFOUND";
	case OB_EEXISTS: return "OB_EEXISTS";
	case OB_EAUTH: return "OB_EAUTH";
	case OB_EPASSPHRASE: return "OB_EPASSPHRASE";
	case OB_ECORRUPT: return "OB_ECORRUPT";
	case OB_ELOCKED: return "OB_ELOCKED";
	case OB_ECANCELLED: return "OB_ECANCELLED";
	case OB_EIO: return "OB_EIO";
	case OB_ENOSPC: return "OB_ENOSPC";
	case OB_EEXPIRED: return "OB_EEXPIRED";
	case OB_EACCESS: return "OB_EACCESS";
	case OB_ENOTREG: return "OB_ENOTREG";
	case OB_ENOMEM: return "OB_ENOMEM";
	case OB_ESUPERSEDED: return "OB_ESUPERSEDED";
	case OB_EFOREIGN: return "OB_EFOREIGN";
	case OB_ENOKEY: return "OB_ENOKEY";
	default: return "OB_UNKNOWN";
	}
}
