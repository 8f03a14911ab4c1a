/*
 * Applying metadata (platform/apply.h) for Windows, on the handle a restore holds.
 * Owners travel in the security descriptor ("win.security", platform/windows_scan.c),
 * so ob_apply_owner gives nothing back by number; the mode's write bits become the
 * read-only attribute; "win.security" and "win.attributes" are set as they were read.
 */
#include "platform/apply.h"
#include "platform/windows_internal.h"
#include "util/error.h"

#include <string.h>

static int basic_info(ob_file *f, FILE_BASIC_INFO *b)
{
	if (!GetFileInformationByHandleEx(f->h, FileBasicInfo, b, sizeof(*b)))
		return ob_win_failed(GetLastError());
	return 0;
}

static int set_basic(ob_file *f, FILE_BASIC_INFO *b)
{
	if (!b->FileAttributes)
		b->FileAttributes = FILE_ATTRIBUTE_NORMAL;
	return SetFileInformationByHandle(f->h, FileBasicInfo, b, sizeof(*b)) ? 0 : ob_win_failed(GetLastError());
}

int ob_apply_owner(ob_file *f, const ob_owner *o)
{
	(void)f;
	(void)o;
	return 0;   /* POSIX owners have no Windows meaning; a Windows owner comes with "win.security" */
}

int ob_apply_mode(ob_file *f, unsigned int mode)
{
	FILE_BASIC_INFO b;
	int error;

	if ((error = basic_info(f, &b)) < 0)
		return error;
	if (b.FileAttributes & FILE_ATTRIBUTE_DIRECTORY)
		return 0;   /* read-only on a folder means something else to Explorer: left alone */
	if (mode & 0222)
		b.FileAttributes &= ~(DWORD)FILE_ATTRIBUTE_READONLY;
	else
		b.FileAttributes |= FILE_ATTRIBUTE_READONLY;
	memset(&b.CreationTime, 0, sizeof(b.CreationTime) * 4);   /* 0: times unchanged */
	return set_basic(f, &b);
}

int ob_apply_xattr(ob_file *f, const char *name, size_t name_len, const void *value, size_t value_len)
{
	if (name_len == 12 && memcmp(name, "win.security", 12) == 0) {
		if (!IsValidSecurityDescriptor((PSECURITY_DESCRIPTOR)value) ||
		    GetSecurityDescriptorLength((PSECURITY_DESCRIPTOR)value) > value_len)
			return ob_win_failed(ERROR_INVALID_SECURITY_DESCR);
		/* The owner needs a privilege a restore may not hold: the DACL is set alone when that is refused. */
		if (SetKernelObjectSecurity(f->h, OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION |
			DACL_SECURITY_INFORMATION, (PSECURITY_DESCRIPTOR)value))
			return 0;
		return SetKernelObjectSecurity(f->h, DACL_SECURITY_INFORMATION, (PSECURITY_DESCRIPTOR)value) ? 0
			: ob_win_failed(GetLastError());
	}
	if (name_len == 14 && memcmp(name, "win.attributes", 14) == 0 && value_len == 4) {
		const uint8_t *v = value;
		DWORD keep = FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM | FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_NOT_CONTENT_INDEXED;
		DWORD a = ((DWORD)v[0] | (DWORD)v[1] << 8 | (DWORD)v[2] << 16 | (DWORD)v[3] << 24) & keep;
		FILE_BASIC_INFO b;
		int error;
		if ((error = basic_info(f, &b)) < 0)
			return error;
		b.FileAttributes = (b.FileAttributes & ~keep & ~(DWORD)FILE_ATTRIBUTE_NORMAL) | a;
		memset(&b.CreationTime, 0, sizeof(b.CreationTime) * 4);
		return set_basic(f, &b);
	}
	/* Extended attributes of a POSIX server (user.*, ACLs) have no place here: left out. */
	return ob_win_failed(ERROR_NOT_SUPPORTED);
}

int ob_apply_mtime(ob_file *f, int64_t mtime_ns)
{
	FILE_BASIC_INFO b;
	int error;

	if ((error = basic_info(f, &b)) < 0)
		return error;
	b.LastWriteTime.QuadPart = ob_win_ticks(mtime_ns);
	b.LastAccessTime.QuadPart = b.LastWriteTime.QuadPart;
	b.CreationTime.QuadPart = 0;
	b.ChangeTime.QuadPart = 0;
	return set_basic(f, &b);
}
