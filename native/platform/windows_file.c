/*
 * Files and folders (platform/file.h) for Windows: handles, names opened
 * relative to a folder's handle (NtCreateFile), UTF-16 at this boundary and
 * never narrow CRT calls, \\?\ paths (docs/WINDOWS.md).
 */
#include "platform/file.h"
#include "platform/platform.h"
#include "platform/windows_internal.h"
#include "platform/common_internal.h"
#include "util/error.h"
#include "util/util.h"

#include <winioctl.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#ifndef IO_REPARSE_TAG_SYMLINK
#define IO_REPARSE_TAG_SYMLINK 0xA000000CL
#endif
#ifndef IO_REPARSE_TAG_MOUNT_POINT
#define IO_REPARSE_TAG_MOUNT_POINT 0xA0000003L
#endif
#ifndef SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE
#define SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE 0x2
#endif
#ifndef ERROR_STOPPED_ON_SYMLINK
#define ERROR_STOPPED_ON_SYMLINK 681L
#endif
#ifndef STATUS_OBJECT_NAME_COLLISION
#define STATUS_OBJECT_NAME_COLLISION ((NTSTATUS)0xC0000035L)
#endif

/* Everything but delete: what the engine opens, others may still read and write. */
#define SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
#define SHARE_KEEP (FILE_SHARE_READ | FILE_SHARE_WRITE)

/* ---- failures ---- */


int ob_win_errno(DWORD err)
{
	switch (err) {
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
	case ERROR_BAD_NETPATH:
	case ERROR_BAD_NET_NAME:
	case ERROR_INVALID_DRIVE:
	case ERROR_NO_MORE_FILES:
		return ENOENT;
	case ERROR_DIRECTORY:
		return ENOTDIR;
	case ERROR_ACCESS_DENIED:
	case ERROR_WRITE_PROTECT:
	case ERROR_PRIVILEGE_NOT_HELD:
	case ERROR_INVALID_OWNER:
		return EACCES;
	case ERROR_FILE_EXISTS:
	case ERROR_ALREADY_EXISTS:
		return EEXIST;
	case ERROR_DISK_FULL:
	case ERROR_HANDLE_DISK_FULL:
		return ENOSPC;
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
		return ENOMEM;
	case ERROR_INVALID_PARAMETER:
	case ERROR_INVALID_NAME:
	case ERROR_NO_UNICODE_TRANSLATION:
		return EINVAL;
	case ERROR_FILENAME_EXCED_RANGE:
		return ENAMETOOLONG;
	case ERROR_SHARING_VIOLATION:
	case ERROR_LOCK_VIOLATION:
	case ERROR_BUSY:
		return EBUSY;
	case ERROR_DIR_NOT_EMPTY:
		return ENOTEMPTY;
	case ERROR_NOT_SAME_DEVICE:
		return EXDEV;
	case ERROR_CANT_RESOLVE_FILENAME:
	case ERROR_STOPPED_ON_SYMLINK:
		return ELOOP;
	default:
		return EIO;
	}
}

int ob_win_failed(DWORD err)
{
	return ob_platform_failed_errno(ob_win_errno(err));
}

int ob_win_failed_nt(NTSTATUS st)
{
	return ob_win_failed(RtlNtStatusToDosError(st));
}

/* The failure of the Win32 call just made. */
static int failed(void)
{
	return ob_win_failed(GetLastError());
}

/* ---- text ---- */

wchar_t *ob_win_wide(const char *utf8)
{
	int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, NULL, 0);
	wchar_t *w;

	if (n <= 0) {
		ob_win_failed(ERROR_NO_UNICODE_TRANSLATION);
		errno = EINVAL;
		return NULL;
	}
	if (!(w = malloc((size_t)n * sizeof(wchar_t)))) {
		ob_win_failed(ERROR_NOT_ENOUGH_MEMORY);
		return NULL;
	}
	MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, w, n);
	return w;
}

char *ob_win_utf8(const wchar_t *wide, int len)
{
	int n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, wide, len, NULL, 0, NULL, NULL);
	char *s;

	if (n < 0 || (n == 0 && len != 0)) {
		ob_win_failed(ERROR_NO_UNICODE_TRANSLATION);
		return NULL;
	}
	if (!(s = malloc((size_t)n + 1))) {
		ob_win_failed(ERROR_NOT_ENOUGH_MEMORY);
		return NULL;
	}
	WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, wide, len, s, n, NULL, NULL);
	s[n] = '\0';
	return s;
}

wchar_t *ob_win_path(const char *utf8)
{
	wchar_t *w = ob_win_wide(utf8), *out, *p;
	const wchar_t *prefix = L"";
	size_t n, skip = 0;

	if (!w)
		return NULL;
	for (p = w; *p; p++)
		if (*p == L'/')
			*p = L'\\';
	n = wcslen(w);
	if (n >= 4 && wcsncmp(w, L"\\\\?\\", 4) == 0)
		return w;   /* already a \\?\ path */
	/* The engine's form: "\C:\x" (from "/C:/x") and "\UNC\srv\share" (from "/UNC/srv/share"). */
	if (n >= 3 && w[0] == L'\\' && w[2] == L':' && (w[3] == L'\\' || w[3] == 0)) {
		memmove(w, w + 1, n * sizeof(wchar_t));
		n--;
		if (n == 2) {
			wchar_t *grown = realloc(w, 4 * sizeof(wchar_t));
			if (!grown) {
				free(w);
				ob_win_failed(ERROR_NOT_ENOUGH_MEMORY);
				return NULL;
			}
			w = grown;
			wcscpy(w + 2, L"\\");
			n = 3;
		}
	} else if (n >= 5 && wcsncmp(w, L"\\UNC\\", 5) == 0) {
		memmove(w + 1, w + 4, (n - 3) * sizeof(wchar_t));   /* "\UNC\srv" -> "\\srv" */
		w[1] = L'\\';
		n -= 3;
	}
	if (n >= 3 && w[1] == L':' && w[2] == L'\\')
		prefix = L"\\\\?\\";
	else if (n >= 2 && w[0] == L'\\' && w[1] == L'\\') {
		prefix = L"\\\\?\\UNC\\";
		skip = 2;
	}
	if (!*prefix)
		return w;
	if (!(out = malloc((wcslen(prefix) + n - skip + 1) * sizeof(wchar_t)))) {
		free(w);
		ob_win_failed(ERROR_NOT_ENOUGH_MEMORY);
		return NULL;
	}
	wcscpy(out, prefix);
	wcscat(out, w + skip);
	free(w);
	return out;
}

/* ---- times ---- */

/* 100 ns ticks between 1601-01-01 and 1970-01-01. */
#define EPOCH_TICKS 116444736000000000LL

int64_t ob_win_time_ns(LONGLONG ticks)
{
	return (int64_t)(ticks - EPOCH_TICKS) * 100;
}

LONGLONG ob_win_ticks(int64_t ns)
{
	return (LONGLONG)(ns / 100) + EPOCH_TICKS;
}

/* ---- opening relative to a folder ---- */

NTSTATUS ob_win_open_at(HANDLE *out, HANDLE dir, const char *name, ACCESS_MASK access, ULONG share,
	ULONG disposition, ULONG options)
{
	OBJECT_ATTRIBUTES oa;
	UNICODE_STRING us;
	IO_STATUS_BLOCK io;
	wchar_t *w;
	size_t len;
	NTSTATUS st;

	*out = INVALID_HANDLE_VALUE;
	if (!name || !*name || strchr(name, '/') || strchr(name, '\\'))
		return (NTSTATUS)0xC0000033L;   /* STATUS_OBJECT_NAME_INVALID: one name, never a path */
	if (!(w = ob_win_wide(name)))
		return (NTSTATUS)0xC0000033L;
	len = wcslen(w) * sizeof(wchar_t);
	us.Buffer = w;
	us.Length = (USHORT)len;
	us.MaximumLength = (USHORT)len;
	InitializeObjectAttributes(&oa, &us, OBJ_CASE_INSENSITIVE, dir, NULL);
	memset(&io, 0, sizeof(io));
	st = NtCreateFile(out, access | SYNCHRONIZE, &oa, &io, NULL, FILE_ATTRIBUTE_NORMAL, share, disposition,
		options | FILE_SYNCHRONOUS_IO_NONALERT, NULL, 0);
	free(w);
	if (st < 0)
		*out = INVALID_HANDLE_VALUE;
	return st;
}

/* ---- what a path is ---- */

/* Whether a handle's object is a link: a symbolic link or a junction (reparse points the engine does not follow). */
static int is_link(HANDLE h, DWORD attrs)
{
	FILE_ATTRIBUTE_TAG_INFO tag;

	if (!(attrs & FILE_ATTRIBUTE_REPARSE_POINT))
		return 0;
	if (!GetFileInformationByHandleEx(h, FileAttributeTagInfo, &tag, sizeof(tag)))
		return 0;
	return tag.ReparseTag == IO_REPARSE_TAG_SYMLINK || tag.ReparseTag == IO_REPARSE_TAG_MOUNT_POINT;
}

static int info_of(ob_file_info *out, HANDLE h)
{
	BY_HANDLE_FILE_INFORMATION bi;
	FILE_BASIC_INFO basic;

	if (!GetFileInformationByHandle(h, &bi))
		return failed();
	memset(out, 0, sizeof(*out));
	if (is_link(h, bi.dwFileAttributes))
		out->type = OB_FILE_SYMLINK;
	else if (bi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)
		out->type = OB_FILE_DIR;
	else
		out->type = GetFileType(h) == FILE_TYPE_DISK ? OB_FILE_REGULAR : OB_FILE_OTHER;
	out->size = ((uint64_t)bi.nFileSizeHigh << 32) | bi.nFileSizeLow;
	out->mtime = ob_win_time_ns(((LONGLONG)bi.ftLastWriteTime.dwHighDateTime << 32) | bi.ftLastWriteTime.dwLowDateTime) /
		1000000000;
	out->ctime = out->mtime;
	if (GetFileInformationByHandleEx(h, FileBasicInfo, &basic, sizeof(basic)) && basic.ChangeTime.QuadPart)
		out->ctime = ob_win_time_ns(basic.ChangeTime.QuadPart) / 1000000000;
	out->dev = bi.dwVolumeSerialNumber;
	out->ino = ((uint64_t)bi.nFileIndexHigh << 32) | bi.nFileIndexLow;
	out->block_size = 4096;
	return 0;
}

/* Open a path for its attributes (the object itself when !follow). */
static HANDLE open_path_attrs(const char *path, int follow)
{
	wchar_t *w = ob_win_path(path);
	HANDLE h;

	if (!w)
		return INVALID_HANDLE_VALUE;
	h = CreateFileW(w, FILE_READ_ATTRIBUTES, SHARE_ALL, NULL, OPEN_EXISTING,
		FILE_FLAG_BACKUP_SEMANTICS | (follow ? 0 : FILE_FLAG_OPEN_REPARSE_POINT), NULL);
	if (h == INVALID_HANDLE_VALUE)
		failed();
	free(w);
	return h;
}

int ob_file_stat_path(ob_file_info *out, const char *path, int follow)
{
	HANDLE h = open_path_attrs(path, follow);
	int error;

	if (h == INVALID_HANDLE_VALUE)
		return ob_platform_last_code();
	error = info_of(out, h);
	CloseHandle(h);
	return error;
}

int ob_file_stat_at(ob_file_info *out, ob_file *dir, const char *name)
{
	HANDLE h;
	NTSTATUS st = ob_win_open_at(&h, dir->h, name, FILE_READ_ATTRIBUTES, SHARE_ALL, FILE_OPEN, FILE_OPEN_REPARSE_POINT);
	int error;

	if (st < 0)
		return ob_win_failed_nt(st);
	error = info_of(out, h);
	CloseHandle(h);
	return error;
}

int ob_file_stat(ob_file_info *out, ob_file *f)
{
	return info_of(out, f->h);
}

/* ---- opening and closing ---- */

static int wrap(ob_file **out, HANDLE h, int entry)
{
	*out = NULL;
	if (!(*out = malloc(sizeof(**out)))) {
		CloseHandle(h);
		return ob_win_failed(ERROR_NOT_ENOUGH_MEMORY);
	}
	(*out)->h = h;
	(*out)->entry = entry;
	return 0;
}

static int open_path(ob_file **out, const char *path, int dir)
{
	wchar_t *w = ob_win_path(path);
	HANDLE h;

	*out = NULL;
	if (!w)
		return ob_platform_last_code();
	h = CreateFileW(w, dir ? FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | FILE_TRAVERSE : GENERIC_READ,
		dir ? SHARE_KEEP : SHARE_ALL, NULL, OPEN_EXISTING, dir ? FILE_FLAG_BACKUP_SEMANTICS : FILE_FLAG_BACKUP_SEMANTICS, NULL);
	free(w);
	if (h == INVALID_HANDLE_VALUE)
		return failed();
	if (dir) {
		BY_HANDLE_FILE_INFORMATION bi;
		if (!GetFileInformationByHandle(h, &bi) || !(bi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
			CloseHandle(h);
			return ob_win_failed(ERROR_DIRECTORY);
		}
	}
	return wrap(out, h, 0);
}

int ob_file_open(ob_file **out, const char *path)
{
	return open_path(out, path, 0);
}

int ob_file_open_dir(ob_file **out, const char *path)
{
	return open_path(out, path, 1);
}

int ob_file_open_dir_at(ob_file **out, ob_file *dir, const char *name)
{
	HANDLE h;
	NTSTATUS st = ob_win_open_at(&h, dir->h, name, FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | FILE_TRAVERSE | DELETE,
		SHARE_KEEP, FILE_OPEN, FILE_DIRECTORY_FILE | FILE_OPEN_REPARSE_POINT);
	BY_HANDLE_FILE_INFORMATION bi;

	*out = NULL;
	if (st < 0) {
		/* DELETE is asked so that the folder can be renamed by its handle; without the right, open without it. */
		st = ob_win_open_at(&h, dir->h, name, FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | FILE_TRAVERSE, SHARE_KEEP,
			FILE_OPEN, FILE_DIRECTORY_FILE | FILE_OPEN_REPARSE_POINT);
		if (st < 0)
			return ob_win_failed_nt(st);
	}
	if (GetFileInformationByHandle(h, &bi) && is_link(h, bi.dwFileAttributes)) {
		CloseHandle(h);
		return ob_win_failed(ERROR_STOPPED_ON_SYMLINK);   /* a link where a folder was expected */
	}
	return wrap(out, h, 0);
}

int ob_file_create_at(ob_file **out, ob_file *dir, const char *name, unsigned int mode)
{
	HANDLE h;
	NTSTATUS st;

	*out = NULL;
	st = ob_win_open_at(&h, dir->h, name, GENERIC_READ | GENERIC_WRITE | DELETE | WRITE_DAC | WRITE_OWNER, SHARE_ALL,
		FILE_CREATE, FILE_NON_DIRECTORY_FILE | FILE_OPEN_REPARSE_POINT);
	if (st < 0)
		st = ob_win_open_at(&h, dir->h, name, GENERIC_READ | GENERIC_WRITE | DELETE, SHARE_ALL, FILE_CREATE,
			FILE_NON_DIRECTORY_FILE | FILE_OPEN_REPARSE_POINT);
	if (st == STATUS_OBJECT_NAME_COLLISION)
		return ob_win_failed(ERROR_FILE_EXISTS);
	if (st < 0)
		return ob_win_failed_nt(st);
	(void)mode;   /* Windows has no mode bits; the read-only attribute is applied with the metadata */
	return wrap(out, h, 0);
}

int ob_file_dup(ob_file **out, ob_file *f)
{
	HANDLE h;

	*out = NULL;
	if (!DuplicateHandle(GetCurrentProcess(), f->h, GetCurrentProcess(), &h, 0, FALSE, DUPLICATE_SAME_ACCESS))
		return failed();
	return wrap(out, h, f->entry);
}

int ob_file_open_entry_at(ob_file **out, ob_file *dir, const char *name)
{
	HANDLE h;
	NTSTATUS st = ob_win_open_at(&h, dir->h, name, FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES | READ_CONTROL |
		WRITE_DAC | WRITE_OWNER, SHARE_ALL, FILE_OPEN, FILE_OPEN_REPARSE_POINT);

	*out = NULL;
	if (st < 0)
		st = ob_win_open_at(&h, dir->h, name, FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES, SHARE_ALL, FILE_OPEN,
			FILE_OPEN_REPARSE_POINT);
	if (st < 0)
		return ob_win_failed_nt(st);
	return wrap(out, h, 1);
}

int ob_file_open_made_at(ob_file **out, ob_file *dir, const char *name, int type)
{
	BY_HANDLE_FILE_INFORMATION bi;
	ob_file_info info;
	int error;

	if ((error = ob_file_open_entry_at(out, dir, name)) < 0)
		return error;
	/* What this process has just made: of that type, one name (a further name of someone else's file fails). */
	if (info_of(&info, (*out)->h) < 0 || !GetFileInformationByHandle((*out)->h, &bi) || info.type != type ||
	    bi.nNumberOfLinks != 1) {
		ob_file_close(*out);
		*out = NULL;
		return ob_platform_failed_errno(ESTALE);
	}
	return 0;
}

void ob_file_close(ob_file *f)
{
	if (!f)
		return;
	CloseHandle(f->h);
	free(f);
}

/* ---- reading and writing ---- */

int ob_file_read_at(size_t *out_got, ob_file *f, void *buf, size_t len, uint64_t offset)
{
	OVERLAPPED ov;
	DWORD got = 0;

	*out_got = 0;
	memset(&ov, 0, sizeof(ov));
	ov.Offset = (DWORD)offset;
	ov.OffsetHigh = (DWORD)(offset >> 32);
	if (!ReadFile(f->h, buf, len > 0x40000000u ? 0x40000000u : (DWORD)len, &got, &ov)) {
		if (GetLastError() == ERROR_HANDLE_EOF)
			return 0;
		return failed();
	}
	*out_got = got;
	return 0;
}

int ob_file_write_at(ob_file *f, const void *data, size_t len, uint64_t offset)
{
	const uint8_t *p = data;
	size_t off = 0;

	while (off < len) {
		OVERLAPPED ov;
		DWORD put = 0, want = len - off > 0x40000000u ? 0x40000000u : (DWORD)(len - off);
		memset(&ov, 0, sizeof(ov));
		ov.Offset = (DWORD)(offset + off);
		ov.OffsetHigh = (DWORD)((offset + off) >> 32);
		if (!WriteFile(f->h, p + off, want, &put, &ov))
			return failed();
		if (put == 0)
			return ob_win_failed(ERROR_WRITE_FAULT);
		off += put;
	}
	return 0;
}

int ob_file_allow_holes(ob_file *f)
{
	DWORD got = 0;

	/* A file system without sparse files (FAT, Wine's) fills the unwritten ranges with zeros itself. */
	DeviceIoControl(f->h, FSCTL_SET_SPARSE, NULL, 0, NULL, 0, &got, NULL);
	return 0;
}

int ob_file_truncate(ob_file *f, uint64_t size)
{
	FILE_END_OF_FILE_INFO eof;

	eof.EndOfFile.QuadPart = (LONGLONG)size;
	return SetFileInformationByHandle(f->h, FileEndOfFileInfo, &eof, sizeof(eof)) ? 0 : failed();
}

/* ---- entries of a folder ---- */

int ob_file_mkdir_at(ob_file *dir, const char *name, unsigned int mode)
{
	HANDLE h;
	NTSTATUS st = ob_win_open_at(&h, dir->h, name, FILE_LIST_DIRECTORY, SHARE_ALL, FILE_CREATE, FILE_DIRECTORY_FILE);

	(void)mode;
	if (st == STATUS_OBJECT_NAME_COLLISION)
		return ob_win_failed(ERROR_ALREADY_EXISTS);
	if (st < 0)
		return ob_win_failed_nt(st);
	CloseHandle(h);
	return 0;
}

/* The full path of an open object (\\?\ form; malloc'd), or NULL. */
static wchar_t *path_of(HANDLE h)
{
	DWORD n = GetFinalPathNameByHandleW(h, NULL, 0, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
	wchar_t *w;

	if (n == 0) {
		failed();
		return NULL;
	}
	if (!(w = malloc(((size_t)n + 1) * sizeof(wchar_t)))) {
		ob_win_failed(ERROR_NOT_ENOUGH_MEMORY);
		return NULL;
	}
	if (GetFinalPathNameByHandleW(h, w, n + 1, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS) == 0) {
		failed();
		free(w);
		return NULL;
	}
	return w;
}

/* dir's path and name joined (malloc'd), or NULL. */
static wchar_t *path_in(ob_file *dir, const char *name)
{
	wchar_t *d = path_of(dir->h), *n, *w;

	if (!d)
		return NULL;
	if (!(n = ob_win_wide(name))) {
		free(d);
		return NULL;
	}
	if ((w = malloc((wcslen(d) + wcslen(n) + 2) * sizeof(wchar_t)))) {
		wcscpy(w, d);
		if (wcslen(w) && w[wcslen(w) - 1] != L'\\')
			wcscat(w, L"\\");
		wcscat(w, n);
	} else {
		ob_win_failed(ERROR_NOT_ENOUGH_MEMORY);
	}
	free(d);
	free(n);
	return w;
}

/* Rename an open object to name in folder dir (FileRenameInfo relative to the folder's handle). */
static int rename_handle(HANDLE h, ob_file *dir, const char *to, int replace)
{
	wchar_t *w = ob_win_wide(to);
	FILE_RENAME_INFO *ri;
	size_t len, size;
	int error = 0;

	if (!w)
		return ob_platform_last_code();
	len = wcslen(w) * sizeof(wchar_t);
	size = sizeof(*ri) + len;
	if (!(ri = calloc(1, size))) {
		free(w);
		return ob_win_failed(ERROR_NOT_ENOUGH_MEMORY);
	}
	ri->ReplaceIfExists = replace ? TRUE : FALSE;
	ri->RootDirectory = dir->h;
	ri->FileNameLength = (DWORD)len;
	memcpy(ri->FileName, w, len);
	if (!SetFileInformationByHandle(h, FileRenameInfo, ri, (DWORD)size)) {
		/* Where renaming relative to a folder's handle is refused, the folder's path (which it pins) serves. */
		wchar_t *full = path_in(dir, to);
		if (full) {
			size = sizeof(*ri) + wcslen(full) * sizeof(wchar_t);
			free(ri);
			if ((ri = calloc(1, size))) {
				ri->ReplaceIfExists = replace ? TRUE : FALSE;
				ri->FileNameLength = (DWORD)(wcslen(full) * sizeof(wchar_t));
				memcpy(ri->FileName, full, ri->FileNameLength);
				if (!SetFileInformationByHandle(h, FileRenameInfo, ri, (DWORD)size))
					error = failed();
			} else {
				error = ob_win_failed(ERROR_NOT_ENOUGH_MEMORY);
			}
			free(full);
		} else {
			error = ob_platform_last_code();
		}
	}
	free(ri);
	free(w);
	return error;
}

int ob_file_rename_at(ob_file *dir, const char *from, const char *to)
{
	HANDLE h;
	NTSTATUS st = ob_win_open_at(&h, dir->h, from, DELETE | SYNCHRONIZE, SHARE_ALL, FILE_OPEN, FILE_OPEN_REPARSE_POINT);
	int error;

	if (st < 0)
		return ob_win_failed_nt(st);
	error = rename_handle(h, dir, to, 1);
	CloseHandle(h);
	return error;
}

int ob_file_remove_at(ob_file *dir, const char *name, int is_dir)
{
	FILE_DISPOSITION_INFO di;
	HANDLE h;
	NTSTATUS st = ob_win_open_at(&h, dir->h, name, DELETE | FILE_READ_ATTRIBUTES, SHARE_ALL, FILE_OPEN,
		FILE_OPEN_REPARSE_POINT | (is_dir ? FILE_DIRECTORY_FILE : FILE_NON_DIRECTORY_FILE));
	int error = 0;

	if (st < 0)
		return ob_win_failed_nt(st);
	di.DeleteFile = TRUE;
	if (!SetFileInformationByHandle(h, FileDispositionInfo, &di, sizeof(di))) {
		/* A read-only file cannot be deleted: clear the attribute, then delete. */
		FILE_BASIC_INFO b;
		if (GetLastError() == ERROR_ACCESS_DENIED && GetFileInformationByHandleEx(h, FileBasicInfo, &b, sizeof(b)) &&
		    (b.FileAttributes & FILE_ATTRIBUTE_READONLY)) {
			HANDLE w;
			if (ob_win_open_at(&w, dir->h, name, FILE_WRITE_ATTRIBUTES, SHARE_ALL, FILE_OPEN, FILE_OPEN_REPARSE_POINT) >= 0) {
				b.FileAttributes &= ~(DWORD)FILE_ATTRIBUTE_READONLY;
				if (!b.FileAttributes)
					b.FileAttributes = FILE_ATTRIBUTE_NORMAL;
				SetFileInformationByHandle(w, FileBasicInfo, &b, sizeof(b));
				CloseHandle(w);
			}
			if (!SetFileInformationByHandle(h, FileDispositionInfo, &di, sizeof(di)))
				error = failed();
		} else {
			error = failed();
		}
	}
	CloseHandle(h);
	return error;
}

int ob_file_remove(const char *path)
{
	wchar_t *w = ob_win_path(path);
	int error = 0;

	if (!w)
		return ob_platform_last_code();
	if (!DeleteFileW(w)) {
		if (GetLastError() == ERROR_ACCESS_DENIED) {
			DWORD a = GetFileAttributesW(w);
			if (a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_READONLY) &&
			    SetFileAttributesW(w, a & ~(DWORD)FILE_ATTRIBUTE_READONLY) && DeleteFileW(w)) {
				free(w);
				return 0;
			}
			SetLastError(ERROR_ACCESS_DENIED);
		}
		error = failed();
	}
	free(w);
	return error;
}

int ob_file_symlink_at(ob_file *dir, const char *name, const char *target)
{
	wchar_t *link = path_in(dir, name), *t;
	int error = 0;

	if (!link)
		return ob_platform_last_code();
	if (!(t = ob_win_wide(target))) {
		free(link);
		return ob_platform_last_code();
	}
	{
		wchar_t *p;
		for (p = t; *p; p++)
			if (*p == L'/')
				*p = L'\\';
	}
	/* Windows makes a link to a file or to a folder; a link restored without its target is a file link. */
	if (!CreateSymbolicLinkW(link, t, SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE) && !CreateSymbolicLinkW(link, t, 0))
		error = failed();
	free(link);
	free(t);
	return error;
}

int ob_file_link(ob_file *f, ob_file *dir, const char *name, int replace)
{
	wchar_t *existing = path_of(f->h), *link;
	int error = 0;

	if (!existing)
		return ob_platform_last_code();
	if (!(link = path_in(dir, name))) {
		free(existing);
		return ob_platform_last_code();
	}
	if (!CreateHardLinkW(link, existing, NULL)) {
		DWORD err = GetLastError();
		if ((err == ERROR_ALREADY_EXISTS || err == ERROR_FILE_EXISTS) && replace && ob_file_remove_at(dir, name, 0) == 0 &&
		    CreateHardLinkW(link, existing, NULL))
			err = 0;
		if (err)
			error = ob_win_failed(err);
	}
	free(existing);
	free(link);
	return error;
}

int ob_file_make_node_at(ob_file *dir, const char *name, int type, unsigned int mode, uint64_t rdev)
{
	(void)dir;
	(void)name;
	(void)type;
	(void)mode;
	(void)rdev;
	/* Fifos, sockets and device nodes have no Windows counterpart (a restore from a POSIX server skips them). */
	return ob_win_failed(ERROR_NOT_SUPPORTED);
}

unsigned int ob_file_rdev_major(uint64_t rdev)
{
	return (unsigned int)(rdev >> 32);
}

unsigned int ob_file_rdev_minor(uint64_t rdev)
{
	return (unsigned int)(rdev & 0xffffffffu);
}

int ob_file_chmod(const char *path, unsigned int mode)
{
	wchar_t *w = ob_win_path(path);
	DWORD a;
	int error = 0;

	if (!w)
		return ob_platform_last_code();
	/* The one permission bit Windows has: write, as the read-only attribute. */
	if ((a = GetFileAttributesW(w)) == INVALID_FILE_ATTRIBUTES)
		error = failed();
	else if (!SetFileAttributesW(w, (mode & 0222) ? (a & ~(DWORD)FILE_ATTRIBUTE_READONLY) : (a | FILE_ATTRIBUTE_READONLY)))
		error = failed();
	free(w);
	return error;
}

/* ---- listing a folder ---- */

struct ob_dir {
	HANDLE h;
	int own;                 /* h is closed with the listing */
	int restart;             /* the first query starts from the beginning */
	uint8_t *buf;
	size_t pos, len;
	char *name;              /* the current name (UTF-8) */
};

#define DIR_BUF 65536

static int dir_new(ob_dir **out, HANDLE h, int own)
{
	ob_dir *d = calloc(1, sizeof(*d));

	*out = NULL;
	if (!d || !(d->buf = malloc(DIR_BUF))) {
		free(d);
		if (own)
			CloseHandle(h);
		return ob_win_failed(ERROR_NOT_ENOUGH_MEMORY);
	}
	d->h = h;
	d->own = own;
	d->restart = 1;
	*out = d;
	return 0;
}

int ob_dir_open(ob_dir **out, const char *path)
{
	ob_file *f = NULL;
	int error = open_path(&f, path, 1);
	HANDLE h;

	*out = NULL;
	if (error < 0)
		return error;
	h = f->h;
	free(f);
	return dir_new(out, h, 1);
}

int ob_dir_open_file(ob_dir **out, ob_file *f)
{
	HANDLE h;

	*out = NULL;
	if (!DuplicateHandle(GetCurrentProcess(), f->h, GetCurrentProcess(), &h, 0, FALSE, DUPLICATE_SAME_ACCESS))
		return failed();
	return dir_new(out, h, 1);
}

int ob_dir_next(ob_dir *d, const char **out_name)
{
	for (;;) {
		FILE_FULL_DIR_INFO *e;
		if (d->pos >= d->len) {
			if (!GetFileInformationByHandleEx(d->h, d->restart ? FileFullDirectoryRestartInfo : FileFullDirectoryInfo,
				d->buf, DIR_BUF)) {
				DWORD err = GetLastError();
				if (err == ERROR_NO_MORE_FILES)
					return 0;
				ob_win_failed(err);
				return 0;
			}
			d->restart = 0;
			d->pos = 0;
			d->len = DIR_BUF;
		}
		e = (FILE_FULL_DIR_INFO *)(d->buf + d->pos);
		d->pos = e->NextEntryOffset ? d->pos + e->NextEntryOffset : d->len;
		if ((e->FileNameLength == 2 && e->FileName[0] == L'.') ||
		    (e->FileNameLength == 4 && e->FileName[0] == L'.' && e->FileName[1] == L'.'))
			continue;
		free(d->name);
		if (!(d->name = ob_win_utf8(e->FileName, (int)(e->FileNameLength / sizeof(wchar_t)))))
			continue;   /* a name that is not valid UTF-16 cannot be named to the engine */
		*out_name = d->name;
		return 1;
	}
}

void ob_dir_close(ob_dir *d)
{
	if (!d)
		return;
	if (d->own)
		CloseHandle(d->h);
	free(d->buf);
	free(d->name);
	free(d);
}

/* ---- volumes ---- */

int ob_file_mount_points(int (*cb)(const char *mount_point, void *payload), void *payload)
{
	wchar_t drives[512], *p;
	DWORD n = GetLogicalDriveStringsW(sizeof(drives) / sizeof(drives[0]) - 1, drives);
	int error = 0;

	if (n == 0 || n >= sizeof(drives) / sizeof(drives[0]))
		return 0;
	/* "C:\" and the like, each a data source as MARS has them. */
	for (p = drives; *p && error == 0; p += wcslen(p) + 1) {
		char *s;
		UINT type = GetDriveTypeW(p);
		if (type != DRIVE_FIXED && type != DRIVE_REMOVABLE)
			continue;
		if ((s = ob_win_utf8(p, -1))) {
			char *in = ob_platform_path_internal(s);   /* "C:\" is "/C:/" */
			if (in)
				error = cb(in, payload);
			free(in);
			free(s);
		}
	}
	return error;
}
