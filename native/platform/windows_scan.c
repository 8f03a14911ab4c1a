/*
 * The scanner's reads (platform/scan.h) for Windows. A descriptor is a handle's
 * value (handles fit in 32 bits on 64-bit Windows, by design for interop). The
 * POSIX mode is made from the attributes: a folder 0755, a file 0644, 0444 when
 * read-only; a symbolic link or junction is a link. The NTFS security
 * descriptor (owner, group, DACL) is recorded as the extended attribute
 * "win.security" (self-relative bytes), and the attributes Windows keeps beside
 * read-only (hidden, system, archive...) as "win.attributes" (4 bytes, little
 * endian), so a restore gives them back and -SkipRestoreSecurity leaves them
 * (docs/WINDOWS.md).
 */
#include "platform/scan.h"
#include "platform/windows_internal.h"

#include <winioctl.h>
#include "util/error.h"
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#ifndef IO_REPARSE_TAG_SYMLINK
#define IO_REPARSE_TAG_SYMLINK 0xA000000CL
#endif
#ifndef IO_REPARSE_TAG_MOUNT_POINT
#define IO_REPARSE_TAG_MOUNT_POINT 0xA0000003L
#endif
#ifndef FSCTL_GET_REPARSE_POINT
#define FSCTL_GET_REPARSE_POINT 0x000900A8
#endif

#define SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)

#define FD(h) ((int)(intptr_t)(h))
#define HND(fd) ((HANDLE)(intptr_t)(fd))

/* The attributes kept as "win.attributes": what a restore can set and read-only (which the mode carries) is not. */
#define KEPT_ATTRIBUTES (FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM | FILE_ATTRIBUTE_ARCHIVE | \
	FILE_ATTRIBUTE_NOT_CONTENT_INDEXED)

static int err_of(DWORD e)
{
	ob_win_failed(e);
	return ob_win_errno(e);
}

static int err_nt(NTSTATUS st)
{
	return err_of(RtlNtStatusToDosError(st));
}

static int stat_handle(ob_scan_stat *out, HANDLE h)
{
	BY_HANDLE_FILE_INFORMATION bi;
	FILE_BASIC_INFO basic;
	FILE_ATTRIBUTE_TAG_INFO tag;
	FILE_STANDARD_INFO std;

	if (!GetFileInformationByHandle(h, &bi))
		return err_of(GetLastError());
	memset(out, 0, sizeof(*out));
	if ((bi.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) &&
	    GetFileInformationByHandleEx(h, FileAttributeTagInfo, &tag, sizeof(tag)) &&
	    (tag.ReparseTag == IO_REPARSE_TAG_SYMLINK || tag.ReparseTag == IO_REPARSE_TAG_MOUNT_POINT)) {
		out->kind = OB_SCAN_SYMLINK;
		out->mode = 0120777;
	} else if (bi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
		out->kind = OB_SCAN_DIR;
		out->mode = 040755;
	} else {
		out->kind = OB_SCAN_FILE;
		out->mode = (bi.dwFileAttributes & FILE_ATTRIBUTE_READONLY) ? 0100444 : 0100644;
	}
	out->nlink = bi.nNumberOfLinks;
	out->size = ((uint64_t)bi.nFileSizeHigh << 32) | bi.nFileSizeLow;
	out->mtime_ns = ob_win_time_ns(((LONGLONG)bi.ftLastWriteTime.dwHighDateTime << 32) | bi.ftLastWriteTime.dwLowDateTime);
	out->ctime_ns = out->mtime_ns;
	if (GetFileInformationByHandleEx(h, FileBasicInfo, &basic, sizeof(basic)) && basic.ChangeTime.QuadPart)
		out->ctime_ns = ob_win_time_ns(basic.ChangeTime.QuadPart);
	out->inode = ((uint64_t)bi.nFileIndexHigh << 32) | bi.nFileIndexLow;
	out->dev = bi.dwVolumeSerialNumber;
	out->sparse = out->kind == OB_SCAN_FILE && (bi.dwFileAttributes & FILE_ATTRIBUTE_SPARSE_FILE) &&
		GetFileInformationByHandleEx(h, FileStandardInfo, &std, sizeof(std)) &&
		(uint64_t)std.AllocationSize.QuadPart < out->size;
	return 0;
}

int ob_scan_open_root(int *out, ob_scan_stat *st, const char *path)
{
	wchar_t *w = ob_win_path(path);
	HANDLE h;
	int err;

	*out = -1;
	if (!w)
		return errno ? errno : EINVAL;
	h = CreateFileW(w, FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | FILE_TRAVERSE | READ_CONTROL, SHARE_ALL, NULL,
		OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
	free(w);
	if (h == INVALID_HANDLE_VALUE)
		return err_of(GetLastError());
	if ((err = stat_handle(st, h)) != 0) {
		CloseHandle(h);
		return err;
	}
	if (st->kind != OB_SCAN_DIR) {
		CloseHandle(h);
		return ENOTDIR;
	}
	*out = FD(h);
	return 0;
}

int ob_scan_stat_at(ob_scan_stat *st, int dir, const char *name)
{
	HANDLE h;
	NTSTATUS s = ob_win_open_at(&h, HND(dir), name, FILE_READ_ATTRIBUTES, SHARE_ALL, FILE_OPEN, FILE_OPEN_REPARSE_POINT);
	int err;

	if (s < 0)
		return err_nt(s);
	err = stat_handle(st, h);
	CloseHandle(h);
	return err;
}

/* Open name in dir, never following a link; the access time is left as it was. */
static int open_at(int *out, int dir, const char *name, ACCESS_MASK access, ULONG options)
{
	HANDLE h;
	NTSTATUS s = ob_win_open_at(&h, HND(dir), name, access, SHARE_ALL, FILE_OPEN, options | FILE_OPEN_REPARSE_POINT);
	*out = -1;
	if (s < 0 && (access & READ_CONTROL))
		s = ob_win_open_at(&h, HND(dir), name, access & ~(ACCESS_MASK)READ_CONTROL, SHARE_ALL, FILE_OPEN,
			options | FILE_OPEN_REPARSE_POINT);
	if (s < 0)
		return err_nt(s);
	/* -1 as the last-access time: this handle's reads do not change it (SetFileTime's rule; needs the right, else no-op). */
	{
		FILETIME none = { 0xFFFFFFFF, 0xFFFFFFFF };
		SetFileTime(h, NULL, &none, NULL);
	}
	*out = FD(h);
	return 0;
}

int ob_scan_open_dir_at(int *out, int dir, const char *name)
{
	int err = open_at(out, dir, name, FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | FILE_TRAVERSE | READ_CONTROL,
		FILE_DIRECTORY_FILE);
	ob_scan_stat st;

	if (err)
		return err;
	/* A link where a folder was: refused, as O_NOFOLLOW refuses it. */
	if (stat_handle(&st, HND(*out)) == 0 && st.kind != OB_SCAN_DIR) {
		CloseHandle(HND(*out));
		*out = -1;
		return ELOOP;
	}
	return 0;
}

int ob_scan_open_file_at(int *out, int dir, const char *name)
{
	return open_at(out, dir, name, GENERIC_READ | READ_CONTROL, FILE_NON_DIRECTORY_FILE | FILE_SEQUENTIAL_ONLY);
}

int ob_scan_other_volume(uint64_t root_dev, const ob_scan_stat *st)
{
	(void)root_dev;
	(void)st;
	return 0;   /* another volume's folder is a mount point, reported as a link (stat_handle) */
}

int ob_scan_fstat(ob_scan_stat *st, int fd)
{
	return stat_handle(st, HND(fd));
}

void ob_scan_close(int fd)
{
	if (fd != -1)
		CloseHandle(HND(fd));
}

int ob_scan_list(char ***out, size_t *out_count, int dir)
{
	uint8_t *buf = malloc(65536);
	char **names = NULL;
	size_t n = 0, cap = 0;
	int restart = 1, error = 0;

	*out = NULL;
	*out_count = 0;
	if (!buf)
		return ob_err_nomem();
	for (;;) {
		size_t pos = 0;
		if (!GetFileInformationByHandleEx(HND(dir), restart ? FileFullDirectoryRestartInfo : FileFullDirectoryInfo, buf,
			65536)) {
			DWORD e = GetLastError();
			if (e != ERROR_NO_MORE_FILES)
				error = err_of(e);
			break;
		}
		restart = 0;
		for (;;) {
			FILE_FULL_DIR_INFO *e = (FILE_FULL_DIR_INFO *)(buf + pos);
			int len = (int)(e->FileNameLength / sizeof(wchar_t));
			if (!((len == 1 && e->FileName[0] == L'.') || (len == 2 && e->FileName[0] == L'.' && e->FileName[1] == L'.'))) {
				char *name = ob_win_utf8(e->FileName, len);
				if (name) {
					if (n == cap) {
						size_t ncap = cap ? cap * 2 : 64;
						char **v = realloc(names, ncap * sizeof(*v));
						if (!v) {
							free(name);
							error = ob_err_nomem();
							goto done;
						}
						names = v;
						cap = ncap;
					}
					names[n++] = name;
				}
			}
			if (!e->NextEntryOffset)
				break;
			pos += e->NextEntryOffset;
		}
	}
done:
	free(buf);
	if (error != 0) {
		ob_scan_names_free(names, n);
		return error;
	}
	*out = names;
	*out_count = n;
	return 0;
}

/* The reparse data of a symbolic link or junction, as Windows lays it out (ntifs.h's REPARSE_DATA_BUFFER). */
typedef struct reparse_data {
	ULONG tag;
	USHORT data_length, reserved;
	USHORT subst_offset, subst_length, print_offset, print_length;
	/* symbolic links only: ULONG flags; then the path buffer */
} reparse_data;

int ob_scan_readlink_at(char *buf, size_t size, size_t *out_len, int dir, const char *name)
{
	HANDLE h;
	NTSTATUS s = ob_win_open_at(&h, HND(dir), name, FILE_READ_ATTRIBUTES, SHARE_ALL, FILE_OPEN, FILE_OPEN_REPARSE_POINT);
	uint8_t data[16384 + 64];
	DWORD got = 0;
	const reparse_data *r = (const reparse_data *)data;
	const wchar_t *path;
	USHORT off, len;
	char *text;
	size_t tl;

	*out_len = 0;
	if (s < 0)
		return err_nt(s);
	if (!DeviceIoControl(h, FSCTL_GET_REPARSE_POINT, NULL, 0, data, sizeof(data), &got, NULL)) {
		int err = err_of(GetLastError());
		CloseHandle(h);
		return err;
	}
	CloseHandle(h);
	if (got < sizeof(*r) || (r->tag != IO_REPARSE_TAG_SYMLINK && r->tag != IO_REPARSE_TAG_MOUNT_POINT))
		return EINVAL;
	/* The print name is what the link says; a junction's substitute name is \??\C:\... */
	path = (const wchar_t *)(data + sizeof(*r) + (r->tag == IO_REPARSE_TAG_SYMLINK ? sizeof(ULONG) : 0));
	off = r->print_length ? r->print_offset : r->subst_offset;
	len = r->print_length ? r->print_length : r->subst_length;
	if ((const uint8_t *)path + off + len > data + got)
		return EINVAL;
	if (!(text = ob_win_utf8((const wchar_t *)((const uint8_t *)path + off), len / (int)sizeof(wchar_t))))
		return EINVAL;
	tl = strlen(text);
	memcpy(buf, text, tl < size ? tl : size);
	*out_len = tl < size ? tl : size;
	free(text);
	return 0;
}

int ob_scan_xattrs(int fd, ob_scan_xattr_cb cb, void *payload)
{
	BY_HANDLE_FILE_INFORMATION bi;
	DWORD need = 0;
	uint8_t *sd;

	if (GetFileInformationByHandle(HND(fd), &bi) && (bi.dwFileAttributes & KEPT_ATTRIBUTES)) {
		uint32_t a = bi.dwFileAttributes & KEPT_ATTRIBUTES;
		uint8_t le[4] = { (uint8_t)a, (uint8_t)(a >> 8), (uint8_t)(a >> 16), (uint8_t)(a >> 24) };
		cb(payload, "win.attributes", 14, le, sizeof(le));
	}
	/* Owner, group and DACL (the SACL needs a privilege backups do not take). Where they cannot be read, none. */
	GetKernelObjectSecurity(HND(fd), OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
		NULL, 0, &need);
	if (need == 0 || need > 65536 || !(sd = malloc(need)))
		return 0;
	if (GetKernelObjectSecurity(HND(fd), OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION |
		DACL_SECURITY_INFORMATION, sd, need, &need) && IsValidSecurityDescriptor(sd))
		cb(payload, "win.security", 12, sd, GetSecurityDescriptorLength(sd));
	free(sd);
	return 0;
}

void ob_scan_advise_sequential(int fd)
{
	(void)fd;   /* FILE_SEQUENTIAL_ONLY was asked when the file was opened */
}

int ob_scan_read(size_t *got, int fd, void *buf, size_t len)
{
	DWORD n = 0;

	*got = 0;
	if (!ReadFile(HND(fd), buf, len > 0x40000000u ? 0x40000000u : (DWORD)len, &n, NULL)) {
		DWORD e = GetLastError();
		if (e == ERROR_HANDLE_EOF)
			return 0;
		return err_of(e);
	}
	*got = n;
	return 0;
}

int ob_scan_pread(size_t *got, int fd, void *buf, size_t len, uint64_t off)
{
	OVERLAPPED ov;
	DWORD n = 0;

	*got = 0;
	memset(&ov, 0, sizeof(ov));
	ov.Offset = (DWORD)off;
	ov.OffsetHigh = (DWORD)(off >> 32);
	if (!ReadFile(HND(fd), buf, len > 0x40000000u ? 0x40000000u : (DWORD)len, &n, &ov)) {
		DWORD e = GetLastError();
		if (e == ERROR_HANDLE_EOF)
			return 0;
		return err_of(e);
	}
	*got = n;
	return 0;
}

const char *ob_scan_reason(int err)
{
	if (err == EBUSY)
		return "in use by another process that does not share it (a sharing or lock violation); obagent "
			"reads the live volume, as Volume Shadow Copy is not available to it yet: close the program "
			"that holds the file during the backup, or exclude the file";
	return strerror(err);
}

int ob_scan_extent(uint64_t *end, int *hole, int *at_end, int fd, uint64_t pos, uint64_t limit)
{
	LARGE_INTEGER size;
	FILE_ALLOCATED_RANGE_BUFFER in, out[1];
	DWORD got = 0;
	uint64_t stop;

	*hole = 0;
	*at_end = 0;
	*end = limit;
	if (!GetFileSizeEx(HND(fd), &size))
		return 0;   /* cannot tell: all data */
	if ((uint64_t)size.QuadPart <= pos) {
		*at_end = 1;
		return 0;
	}
	stop = (uint64_t)size.QuadPart < limit ? (uint64_t)size.QuadPart : limit;
	/* The allocated ranges from pos on (NTFS and ReFS sparse files; others answer one range, all data). */
	in.FileOffset.QuadPart = (LONGLONG)pos;
	in.Length.QuadPart = (LONGLONG)(stop - pos);
	if (!DeviceIoControl(HND(fd), FSCTL_QUERY_ALLOCATED_RANGES, &in, sizeof(in), out, sizeof(out), &got, NULL) &&
	    GetLastError() != ERROR_MORE_DATA)
		return 0;   /* not supported here: all data */
	if (got < sizeof(out[0])) {
		/* Nothing allocated from pos to stop: a hole. */
		*hole = 1;
		*end = stop;
		return 0;
	}
	if ((uint64_t)out[0].FileOffset.QuadPart > pos) {
		*hole = 1;
		*end = (uint64_t)out[0].FileOffset.QuadPart < limit ? (uint64_t)out[0].FileOffset.QuadPart : limit;
		return 0;
	}
	{
		uint64_t data_end = (uint64_t)out[0].FileOffset.QuadPart + (uint64_t)out[0].Length.QuadPart;
		if (data_end > pos && data_end < limit)
			*end = data_end;
	}
	return 0;
}

char *ob_scan_user_name(uint32_t uid)
{
	(void)uid;
	return strdup("");   /* owners travel in the security descriptor ("win.security") */
}

char *ob_scan_group_name(uint32_t gid)
{
	(void)gid;
	return strdup("");
}
