/*
 * What differs between operating systems (platform/platform.h), for Windows:
 * UTF-16 Win32 calls at this boundary, state under %ProgramData%\obagent, the
 * secrets folder with an ACL for SYSTEM, Administrators and its owner, its key
 * protected with DPAPI (machine scope), locks as files opened without sharing,
 * detached workers started with CreateProcessW and an explicit handle list,
 * broken away from the caller's job (docs/WINDOWS.md).
 */
#include "platform/platform.h"
#include "platform/file.h"
#include "platform/windows_internal.h"
#include "platform/common_internal.h"
#include "util/error.h"
#include "util/util.h"

#include <sddl.h>
#include <shlobj.h>
#include <knownfolders.h>
#include <wincrypt.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <openssl/rand.h>

/* ---- names and paths ---- */

int ob_platform_hostname(char **out)
{
	wchar_t name[256];
	DWORD n = sizeof(name) / sizeof(name[0]);

	if (!GetComputerNameExW(ComputerNameDnsHostname, name, &n) && !GetComputerNameW(name, &n))
		return ob_err_os(ob_win_errno(GetLastError()), "Cannot read the host name", "");
	*out = ob_win_utf8(name, -1);
	return *out ? 0 : OB_ENOMEM;
}

int ob_platform_default_home(char **out)
{
	wchar_t data[MAX_PATH], *known = NULL;
	DWORD n = 0;
	char *base;

	/*
	 * The machine's ProgramData folder as Windows knows it, not the variable: a service's environment
	 * need not name it (Wine's services see C:\users\Public), and a user's may be changed.
	 */
	if (SUCCEEDED(SHGetKnownFolderPath(&FOLDERID_ProgramData, KF_FLAG_DONT_VERIFY, NULL, &known)) && known) {
		base = ob_win_utf8(known, -1);
		CoTaskMemFree(known);
	} else {
		n = GetEnvironmentVariableW(L"ProgramData", data, MAX_PATH);
		if (n == 0 || n >= MAX_PATH)
			return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
				"Cannot find a folder for the agent's state: set OBAGENT_HOME or ProgramData.");
		base = ob_win_utf8(data, -1);
	}
	if (!base)
		return OB_ENOMEM;
	*out = ob_platform_join(base, "obagent");
	free(base);
	return *out ? 0 : OB_ENOMEM;
}

static int is_sep(char c)
{
	return c == '\\' || c == '/';
}

int ob_platform_path_is_absolute(const char *path)
{
	if (!path)
		return 0;
	if (isalpha((unsigned char)path[0]) && path[1] == ':' && is_sep(path[2]))
		return 1;
	if (path[0] == '/' && (path[1] == '\0' || strncmp(path, "/UNC/", 5) == 0 ||
	    (isalpha((unsigned char)path[1]) && path[2] == ':' && (path[3] == '/' || path[3] == '\0'))))
		return 1;   /* the engine's form */
	return is_sep(path[0]) && is_sep(path[1]);   /* \\server\share, \\?\... */
}

char *ob_platform_path_internal(const char *path);

/*
 * "\\?\Volume{GUID}\rest" (p at "Volume{"): the volume's first mount point, a drive ("C:\")
 * before a folder, in its place, so a file spec names the files it names by drive letter, as MARS's
 * data sources are volumes by letter. A volume mounted nowhere stays "/Volume{GUID}/rest", which
 * names no file (its inclusion is reported missing, with what to do).
 */
static char *volume_path_internal(const char *path, const char *p)
{
	const char *close = strchr(p, '}'), *rest;
	char *volume, *mount = NULL, *joined, *out;
	wchar_t *wvol, names[1024];
	DWORD got = 0;

	if (!close)
		return ob_strdup(path);
	rest = close + 1;
	while (is_sep(*rest))
		rest++;
	if (!(volume = malloc((size_t)(close - path) + 3)))
		return NULL;
	memcpy(volume, path, (size_t)(close - path) + 1);
	strcpy(volume + (close - path) + 1, "\\");
	for (char *c = volume; *c; c++)
		if (*c == '/')
			*c = '\\';
	wvol = ob_win_wide(volume);
	free(volume);
	if (wvol && GetVolumePathNamesForVolumeNameW(wvol, names, sizeof(names) / sizeof(names[0]), &got) && names[0]) {
		const wchar_t *pick = names, *n;
		for (n = names; *n; n += wcslen(n) + 1)
			if (wcslen(n) == 3 && n[1] == L':') {
				pick = n;
				break;
			}
		mount = ob_win_utf8(pick, -1);
	}
	free(wvol);
	if (!mount) {
		/* Mounted nowhere (or not a volume): the engine's form of the name as it is. */
		ob_buf b = OB_BUF_INIT;
		char *s;
		if (ob_buf_puts(&b, "/") < 0 || ob_buf_put(&b, p, (size_t)(close - p) + 1) < 0 ||
		    (*rest && (ob_buf_puts(&b, "/") < 0 || ob_buf_puts(&b, rest) < 0))) {
			ob_buf_dispose(&b);
			return NULL;
		}
		for (s = b.data; *s; s++)
			if (*s == '\\')
				*s = '/';
		return ob_buf_detach(&b);
	}
	joined = *rest ? ob_platform_join(mount, rest) : ob_strdup(mount);
	free(mount);
	if (!joined)
		return NULL;
	out = ob_platform_path_internal(joined);
	free(joined);
	return out;
}

char *ob_platform_path_internal(const char *path)
{
	ob_buf b = OB_BUF_INIT;
	const char *p = path;
	char *s;
	int error = 0;

	if (path[0] == '/' && path[1] != '/')
		return ob_strdup(path);   /* the engine's form already */
	if (strncmp(p, "\\\\?\\", 4) == 0 || strncmp(p, "//?/", 4) == 0) {
		p += 4;
		if (strncmp(p, "UNC", 3) == 0 && is_sep(p[3])) {
			error = ob_buf_puts(&b, "/UNC/");
			p += 4;
		} else if (_strnicmp(p, "Volume{", 7) == 0) {
			return volume_path_internal(path, p);
		}
	} else if (is_sep(p[0]) && is_sep(p[1])) {
		error = ob_buf_puts(&b, "/UNC/");
		p += 2;
	}
	if (error == 0 && b.len == 0)
		error = ob_buf_puts(&b, "/");
	if (error == 0)
		error = ob_buf_puts(&b, p);
	if (error < 0) {
		ob_buf_dispose(&b);
		return NULL;
	}
	for (s = b.data; *s; s++)
		if (*s == '\\')
			*s = '/';
	/* No trailing separator, as a POSIX mount point has none: "C:\" is "/C:", "C:\data\" is "/C:/data". */
	while (b.len > 1 && b.data[b.len - 1] == '/')
		b.data[--b.len] = '\0';
	return ob_buf_detach(&b);
}

/* A wide path (\\?\ or not) in the engine's form (ob_platform_path_internal). */
static char *plain_path(const wchar_t *w)
{
	char *s = ob_win_utf8(w, -1), *out;

	if (!s)
		return NULL;
	out = ob_platform_path_internal(s);
	free(s);
	return out;
}

int ob_platform_realpath(char **out, const char *path)
{
	wchar_t *w = ob_win_path(path), *full;
	HANDLE h;
	DWORD n;

	*out = NULL;
	if (!w)
		return ob_err_os(EINVAL, "Cannot resolve the path", path);
	h = CreateFileW(w, FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
		FILE_FLAG_BACKUP_SEMANTICS, NULL);
	free(w);
	if (h == INVALID_HANDLE_VALUE) {
		ob_win_failed(GetLastError());
		return ob_err_os(ob_win_errno(GetLastError()), "Cannot resolve the path", path);
	}
	n = GetFinalPathNameByHandleW(h, NULL, 0, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
	if (n == 0 || !(full = malloc(((size_t)n + 1) * sizeof(wchar_t)))) {
		CloseHandle(h);
		return n == 0 ? ob_err_os(ob_win_errno(GetLastError()), "Cannot resolve the path", path) : ob_err_nomem();
	}
	n = GetFinalPathNameByHandleW(h, full, n + 1, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
	CloseHandle(h);
	if (n == 0) {
		free(full);
		return ob_err_os(ob_win_errno(GetLastError()), "Cannot resolve the path", path);
	}
	*out = plain_path(full);
	free(full);
	return *out ? 0 : ob_err_nomem();
}

char *ob_platform_join(const char *a, const char *b)
{
	ob_buf out = OB_BUF_INIT;
	size_t alen = strlen(a);

	/* '/' as in the engine's form; the Win32 calls take it (ob_win_path). */
	if (ob_buf_put(&out, a, alen) < 0 || ((alen == 0 || !is_sep(a[alen - 1])) && ob_buf_puts(&out, "/") < 0) ||
	    ob_buf_puts(&out, b) < 0) {
		ob_buf_dispose(&out);
		return NULL;
	}
	return ob_buf_detach(&out);
}

/*
 * The security of a folder or file made with a mode that shuts out group and
 * others (0700, 0600): protected (no inherited entries), full control for
 * SYSTEM, Administrators and its creator-owner only. NULL: the parent's.
 */
static PSECURITY_DESCRIPTOR private_sd(unsigned int mode)
{
	PSECURITY_DESCRIPTOR sd = NULL;

	if (mode & 077)
		return NULL;
	if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;OW)",
		SDDL_REVISION_1, &sd, NULL))
		return NULL;
	return sd;
}

/* The length of a path's root, which is never made: "C:\" (3), "\\server\share\" , "\\?\C:\". */
static size_t root_length(const char *p)
{
	size_t i = 0, parts = 0;

	if (strncmp(p, "/UNC/", 5) == 0) {
		i = 5;
		parts = 2;
	} else if (p[0] == '/' && isalpha((unsigned char)p[1]) && p[2] == ':') {
		return p[3] == '/' ? 4 : 3;
	} else if (strncmp(p, "\\\\?\\", 4) == 0) {
		i = 4;
		if (strncmp(p + 4, "UNC\\", 4) == 0) {
			i = 8;
			parts = 2;
		}
	} else if (is_sep(p[0]) && is_sep(p[1])) {
		i = 2;
		parts = 2;
	}
	if (parts) {
		while (parts && p[i]) {
			while (p[i] && !is_sep(p[i]))
				i++;
			if (p[i])
				i++;
			parts--;
		}
		return i;
	}
	if (isalpha((unsigned char)p[i]) && p[i + 1] == ':')
		return i + (is_sep(p[i + 2]) ? 3 : 2);
	return 0;
}

int ob_platform_mkdir_p(const char *path, unsigned int mode)
{
	char *copy = ob_strdup(path), *p;
	PSECURITY_DESCRIPTOR sd = private_sd(mode);
	SECURITY_ATTRIBUTES sa = { sizeof(sa), sd, FALSE };
	int error = 0;
	DWORD a;

	if (!copy) {
		LocalFree(sd);
		return OB_ENOMEM;
	}
	for (p = copy + root_length(copy);; p++) {
		if (is_sep(*p) || *p == '\0') {
			char saved = *p;
			*p = '\0';
			if (p > copy && !is_sep(p[-1])) {
				wchar_t *w = ob_win_path(copy);
				if (!w) {
					error = ob_err_os(EINVAL, "Cannot create the folder", copy);
					break;
				}
				if (!CreateDirectoryW(w, sd ? &sa : NULL) && GetLastError() != ERROR_ALREADY_EXISTS) {
					error = ob_err_os(ob_win_errno(GetLastError()), "Cannot create the folder", copy);
					free(w);
					break;
				}
				free(w);
			}
			*p = saved;
			if (saved == '\0')
				break;
		}
	}
	if (!error) {
		wchar_t *w = ob_win_path(path);
		a = w ? GetFileAttributesW(w) : INVALID_FILE_ATTRIBUTES;
		free(w);
		if (a == INVALID_FILE_ATTRIBUTES)
			error = ob_err_os(ob_win_errno(GetLastError()), "Cannot create the folder", path);
		else if (!(a & FILE_ATTRIBUTE_DIRECTORY))
			error = ob_err(OB_EINVALID, OB_ERRCLASS_OS, "'%s' exists and is not a folder.", path);
	}
	LocalFree(sd);
	free(copy);
	return error;
}

int ob_platform_dir_is_empty(const char *path)
{
	ob_dir *d = NULL;
	const char *name;
	int error = ob_dir_open(&d, path), empty;

	if (error == OB_ENOTFOUND)
		return OB_ENOTFOUND;
	if (error < 0)
		return ob_platform_fail("Cannot open the folder", path);
	empty = !ob_dir_next(d, &name);
	ob_dir_close(d);
	return empty;
}

int ob_platform_exists(const char *path)
{
	wchar_t *w = ob_win_path(path);
	DWORD a = w ? GetFileAttributesW(w) : INVALID_FILE_ATTRIBUTES;

	free(w);
	return a != INVALID_FILE_ATTRIBUTES;
}

/* NTFS journals its metadata and a rename asks for write-through: a folder has nothing to flush. */
int ob_platform_sync_parent(const char *path)
{
	(void)path;
	return 0;
}

/* ---- whole files ---- */

int ob_platform_write_file_impl(const char *path, const void *data, size_t len, unsigned int mode, int replace,
	int durable, ob_platform_pace_cb pace, void *payload)
{
	ob_buf tmp = OB_BUF_INIT;
	unsigned char rnd[8];
	char hex[17];
	const char *p = data, *base = path, *s;
	size_t left = len;
	wchar_t *wtmp = NULL, *wpath = NULL;
	PSECURITY_DESCRIPTOR sd = private_sd(mode);
	SECURITY_ATTRIBUTES sa = { sizeof(sa), sd, FALSE };
	HANDLE h = INVALID_HANDLE_VALUE;
	int error = 0;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		LocalFree(sd);
		return ob_err(OB_ERROR, OB_ERRCLASS_CRYPTO, "The random generator failed.");
	}
	ob_hex_encode(hex, rnd, sizeof(rnd));
	for (s = path; *s; s++)
		if (is_sep(*s))
			base = s + 1;
	/* The temporary file beside the target, hidden by its leading dot as on POSIX. */
	if ((error = ob_buf_put(&tmp, path, (size_t)(base - path))) < 0 ||
	    (error = ob_buf_printf(&tmp, ".%s.tmp-%s", base, hex)) < 0)
		goto done;
	if (!(wtmp = ob_win_path(tmp.data)) || !(wpath = ob_win_path(path))) {
		error = ob_err_os(EINVAL, "Cannot create the file", path);
		goto done;
	}
	h = CreateFileW(wtmp, GENERIC_WRITE, 0, sd ? &sa : NULL, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
	if (h == INVALID_HANDLE_VALUE) {
		error = ob_err_os(ob_win_errno(GetLastError()), "Cannot create the file", tmp.data);
		goto done;
	}
	while (left > 0) {
		size_t grant = ob_platform_paced(pace, payload, left);   /* once: a pacer spends what it grants */
		DWORD put = 0, want = (DWORD)(grant > 0x40000000u ? 0x40000000u : grant);
		if (!WriteFile(h, p, want, &put, NULL) || put == 0) {
			error = ob_err_os(ob_win_errno(GetLastError()), "Cannot write the file", path);
			goto done;
		}
		p += put;
		left -= put;
	}
	if (durable && !FlushFileBuffers(h)) {
		error = ob_err_os(ob_win_errno(GetLastError()), "Cannot write the file", path);
		goto done;
	}
	CloseHandle(h);
	h = INVALID_HANDLE_VALUE;
	/* Without MOVEFILE_REPLACE_EXISTING the rename fails when the target exists: create-only, atomically. */
	if (!MoveFileExW(wtmp, wpath, (replace ? MOVEFILE_REPLACE_EXISTING : 0) | (durable ? MOVEFILE_WRITE_THROUGH : 0))) {
		DWORD e = GetLastError();
		if (!replace && (e == ERROR_ALREADY_EXISTS || e == ERROR_FILE_EXISTS))
			error = ob_err(OB_EEXISTS, OB_ERRCLASS_OS, "'%s' exists already.", path);
		else
			error = ob_err_os(ob_win_errno(e), "Cannot write the file", path);
		goto done;
	}
	if (!(mode & 0222))
		SetFileAttributesW(wpath, FILE_ATTRIBUTE_READONLY);
done:
	if (h != INVALID_HANDLE_VALUE)
		CloseHandle(h);
	if (error < 0 && wtmp)
		DeleteFileW(wtmp);
	free(wtmp);
	free(wpath);
	LocalFree(sd);
	ob_buf_dispose(&tmp);
	return error;
}

int ob_platform_sync_paths(char *const *paths, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		wchar_t *w = ob_win_path(paths[i]);
		HANDLE h = w ? CreateFileW(w, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
			OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL) : INVALID_HANDLE_VALUE;
		int ok = h != INVALID_HANDLE_VALUE && FlushFileBuffers(h);
		DWORD e = GetLastError();
		if (h != INVALID_HANDLE_VALUE)
			CloseHandle(h);
		free(w);
		if (!ok && e != ERROR_ACCESS_DENIED)   /* a read-only file was flushed by the writer that closed it */
			return ob_err_os(ob_win_errno(e), "Cannot sync the file", paths[i]);
	}
	return 0;
}

int ob_platform_read_file(char **out, size_t *out_len, const char *path, size_t max)
{
	wchar_t *w = ob_win_path(path);
	HANDLE h;
	LARGE_INTEGER size;
	char *buf = NULL;
	size_t got = 0;
	int error = 0;

	*out = NULL;
	*out_len = 0;
	if (!w)
		return ob_err_os(EINVAL, "Cannot open the file", path);
	h = CreateFileW(w, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
		FILE_ATTRIBUTE_NORMAL, NULL);
	free(w);
	if (h == INVALID_HANDLE_VALUE)
		return ob_err_os(ob_win_errno(GetLastError()), "Cannot open the file", path);
	if (!GetFileSizeEx(h, &size)) {
		error = ob_err_os(ob_win_errno(GetLastError()), "Cannot read the file", path);
		goto done;
	}
	if ((uint64_t)size.QuadPart > max) {
		error = ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "'%s' is %lld bytes, more than the %zu expected.", path,
			(long long)size.QuadPart, max);
		goto done;
	}
	if (!(buf = malloc((size_t)size.QuadPart + 1))) {
		error = ob_err_nomem();
		goto done;
	}
	while (got < (size_t)size.QuadPart) {
		DWORD n = 0;
		if (!ReadFile(h, buf + got, (DWORD)((size_t)size.QuadPart - got), &n, NULL)) {
			error = ob_err_os(ob_win_errno(GetLastError()), "Cannot read the file", path);
			goto done;
		}
		if (n == 0)
			break;
		got += n;
	}
	buf[got] = '\0';
	*out = buf;
	*out_len = got;
	buf = NULL;
done:
	free(buf);
	CloseHandle(h);
	return error;
}

int ob_platform_remove_file(const char *path)
{
	int error = ob_file_remove(path);

	if (error < 0 && ob_platform_failure() != OB_FAILURE_ABSENT)
		return ob_platform_fail("Cannot remove the file", path);
	return 0;
}

/* ---- the local key: DPAPI, machine scope ---- */

int ob_platform_local_key(uint8_t key[32], int *out_bound, const char *secrets_dir)
{
	char *path = ob_platform_join(secrets_dir, "local.key.dpapi"), *data = NULL;
	DATA_BLOB in, out;
	size_t len = 0;
	int error;

	*out_bound = 0;
	if (!path)
		return ob_err_nomem();
	error = ob_platform_read_file(&data, &len, path, 4096);
	if (error == OB_ENOTFOUND) {
		uint8_t fresh[32];
		ob_error_clear();
		if (RAND_bytes(fresh, sizeof(fresh)) != 1) {
			free(path);
			return ob_err(OB_ERROR, OB_ERRCLASS_CRYPTO, "The random generator failed.");
		}
		in.pbData = fresh;
		in.cbData = sizeof(fresh);
		/* Machine scope: the service and an administrator's PowerShell open the same secrets on this machine only. */
		if (!CryptProtectData(&in, L"obagent local key", NULL, NULL, NULL,
			CRYPTPROTECT_LOCAL_MACHINE | CRYPTPROTECT_UI_FORBIDDEN, &out)) {
			ob_wipe(fresh, sizeof(fresh));
			free(path);
			return ob_err(OB_ERROR, OB_ERRCLASS_CRYPTO, "Cannot protect the agent's local key with DPAPI (error %lu).",
				(unsigned long)GetLastError());
		}
		ob_wipe(fresh, sizeof(fresh));
		error = ob_platform_write_file(path, out.pbData, out.cbData, 0600, 0);
		LocalFree(out.pbData);
		if (error == 0 || error == OB_EEXISTS)
			error = ob_platform_read_file(&data, &len, path, 4096);
	}
	free(path);
	if (error < 0)
		return error;
	in.pbData = (BYTE *)data;
	in.cbData = (DWORD)len;
	if (!CryptUnprotectData(&in, NULL, NULL, NULL, NULL, CRYPTPROTECT_UI_FORBIDDEN, &out)) {
		free(data);
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_CRYPTO,
			"The agent's local key does not open on this machine (DPAPI error %lu): the state folder was copied from "
			"another machine, or the key file is damaged.", (unsigned long)GetLastError());
	}
	free(data);
	if (out.cbData != 32) {
		ob_wipe(out.pbData, out.cbData);
		LocalFree(out.pbData);
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_CRYPTO, "The agent's local key file is damaged.");
	}
	memcpy(key, out.pbData, 32);
	ob_wipe(out.pbData, out.cbData);
	LocalFree(out.pbData);
	*out_bound = 1;
	return 0;
}

int ob_platform_local_key_unbound(uint8_t key[32], const char *secrets_dir)
{
	(void)key;
	(void)secrets_dir;
	return OB_ENOTFOUND;   /* Windows' secrets were bound to the machine from the first */
}

/* ---- locks, descriptors, sleeping, matching ---- */

int ob_platform_lock_try(int *out_fd, const char *path)
{
	wchar_t *w = ob_win_path(path);
	HANDLE h;

	*out_fd = -1;
	if (!w)
		return ob_err_os(EINVAL, "Cannot open the lock file", path);
	/*
	 * Opened without sharing: while any handle on this open file exists (this one, or the
	 * worker's inherited copy), nobody else opens it. That is flock's meaning, and it
	 * survives the handle being passed to a worker, which LockFileEx's would not.
	 */
	h = CreateFileW(w, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
	free(w);
	if (h == INVALID_HANDLE_VALUE) {
		DWORD e = GetLastError();
		if (e == ERROR_SHARING_VIOLATION || e == ERROR_LOCK_VIOLATION)
			return OB_ELOCKED;
		return ob_err_os(ob_win_errno(e), "Cannot lock", path);
	}
	*out_fd = (int)(intptr_t)h;
	return 0;
}

void ob_platform_close(int fd)
{
	if (fd != -1)
		CloseHandle((HANDLE)(intptr_t)fd);
}

void ob_platform_sleep_ms(unsigned int ms)
{
	Sleep(ms);
}

static int fold(int c, int casefold)
{
	return casefold && c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

int ob_platform_names_casefold(void)
{
	return 1;
}

/* UTF-8 to UTF-16 into buf (cap units), or a malloc'd buffer when it is longer; NULL on failure. */
static wchar_t *wide_n(const char *s, size_t len, wchar_t *buf, int cap, int *out_len)
{
	int n;
	wchar_t *w = buf;

	if (len > INT_MAX)
		return NULL;
	if (len == 0) {
		*out_len = 0;
		return buf;
	}
	n = MultiByteToWideChar(CP_UTF8, 0, s, (int)len, NULL, 0);
	if (n <= 0)
		return NULL;
	if (n > cap && !(w = malloc((size_t)n * sizeof(*w))))
		return NULL;
	MultiByteToWideChar(CP_UTF8, 0, s, (int)len, w, n);
	*out_len = n;
	return w;
}

int ob_platform_names_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	wchar_t abuf[260], bbuf[260], *wa, *wb;
	int an = 0, bn = 0, same = 0;

	if (alen == blen && memcmp(a, b, alen) == 0)
		return 1;
	wa = wide_n(a, alen, abuf, 260, &an);
	wb = wide_n(b, blen, bbuf, 260, &bn);
	if (wa && wb)
		same = CompareStringOrdinal(wa, an, wb, bn, TRUE) == CSTR_EQUAL;
	if (wa != abuf)
		free(wa);
	if (wb != bbuf)
		free(wb);
	return same;
}

/* The bytes of the UTF-8 character at s (1 for a stray byte). */
static size_t utf8_len(const char *s)
{
	unsigned char c = (unsigned char)*s;
	size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1, i;

	for (i = 1; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			return 1;
	return n;
}

/* A bracket expression at p (after '['): *matched, and where it ends (NULL: not one, '[' is literal). */
static const char *bracket(const char *p, int c, int casefold, int *matched)
{
	int neg = 0, hit = 0, first = 1;

	if (*p == '!' || *p == '^') {
		neg = 1;
		p++;
	}
	for (; *p && (first || *p != ']'); first = 0) {
		int lo = (unsigned char)*p, hi;
		if (lo == '\\' && p[1])
			lo = (unsigned char)*++p;
		p++;
		hi = lo;
		if (*p == '-' && p[1] && p[1] != ']') {
			hi = (unsigned char)p[1];
			if (hi == '\\' && p[2]) {
				hi = (unsigned char)p[2];
				p++;
			}
			p += 2;
		}
		if (fold(c, casefold) >= fold(lo, casefold) && fold(c, casefold) <= fold(hi, casefold))
			hit = 1;
	}
	if (*p != ']')
		return NULL;
	*matched = hit != neg;
	return p + 1;
}

/*
 * fnmatch(3) with no flags (or FNM_CASEFOLD): the rules the POSIX build follows, so a policy means the same,
 * but by characters, as Windows names are: '?' takes one UTF-8 character, and with casefold a non-ASCII
 * character matches its other case (ob_platform_names_equal); bracket ranges fold ASCII only.
 */
static int match(const char *p, const char *n, int casefold)
{
	for (; *p; p++, n++) {
		switch (*p) {
		case '?':
			if (!*n)
				return 0;
			n += utf8_len(n) - 1;
			break;
		case '*':
			while (*p == '*')
				p++;
			if (!*p)
				return 1;
			for (; *n; n += utf8_len(n))
				if (match(p, n, casefold))
					return 1;
			return match(p, n, casefold);
		case '[': {
			int matched = 0;
			const char *end = *n ? bracket(p + 1, (unsigned char)*n, casefold, &matched) : NULL;
			if (end) {
				if (!matched)
					return 0;
				p = end - 1;
				break;
			}
			if (*n != '[')
				return 0;
			break;
		}
		case '\\':
			if (p[1])
				p++;
			/* fall through */
		default:
			if (casefold && ((unsigned char)*p >= 0x80 || (unsigned char)*n >= 0x80)) {
				size_t pl = utf8_len(p), nl = utf8_len(n);
				if (!*n || !ob_platform_names_equal(p, pl, n, nl))
					return 0;
				p += pl - 1;
				n += nl - 1;
				break;
			}
			if (fold((unsigned char)*p, casefold) != fold((unsigned char)*n, casefold))
				return 0;
		}
	}
	return *n == '\0';
}

int ob_platform_name_match(const char *pattern, const char *name, int casefold)
{
	return match(pattern, name, casefold);
}

/* ---- processes ---- */

/* One argument quoted for CommandLineToArgvW (and the C runtime): backslashes doubled before a quote. */
static int quote_arg(ob_buf *b, const char *arg)
{
	const char *p;
	int error;

	if (*arg && !strpbrk(arg, " \t\n\v\""))
		return ob_buf_puts(b, arg);
	if ((error = ob_buf_puts(b, "\"")) < 0)
		return error;
	for (p = arg;; p++) {
		size_t slashes = 0, i;
		while (*p == '\\') {
			slashes++;
			p++;
		}
		if (!*p) {
			for (i = 0; i < slashes * 2; i++)
				if ((error = ob_buf_puts(b, "\\")) < 0)
					return error;
			break;
		}
		for (i = 0; i < (*p == '"' ? slashes * 2 + 1 : slashes); i++)
			if ((error = ob_buf_puts(b, "\\")) < 0)
				return error;
		if ((error = ob_buf_put(b, p, 1)) < 0)
			return error;
	}
	return ob_buf_puts(b, "\"");
}

int ob_platform_spawn_detached(const char *const *argv, const char *const *envp, const int *keep_fds, size_t keep_count,
	const char *log_path)
{
	ob_buf cmd = OB_BUF_INIT, env = OB_BUF_INIT;
	wchar_t *wcmd = NULL, *wexe = NULL, *wlog = NULL, *wenv = NULL;
	SECURITY_ATTRIBUTES inherit = { sizeof(inherit), NULL, TRUE };
	STARTUPINFOEXW si;
	PROCESS_INFORMATION pi;
	HANDLE handles[16], nul = INVALID_HANDLE_VALUE, log = INVALID_HANDLE_VALUE;
	LPPROC_THREAD_ATTRIBUTE_LIST attrs = NULL;
	SIZE_T attrs_size = 0;
	size_t i, nh = 0, envlen = 0;
	DWORD flags = CREATE_UNICODE_ENVIRONMENT | DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW;
	int error = 0, ok;

	for (i = 0; argv[i]; i++)
		if ((i && (error = ob_buf_puts(&cmd, " ")) < 0) || (error = quote_arg(&cmd, argv[i])) < 0)
			goto done;
	/* The environment block: UTF-16 "NAME=value" strings, each ended by a NUL, the block by another. */
	for (i = 0; envp && envp[i]; i++) {
		wchar_t *w = ob_win_wide(envp[i]);
		if (!w) {
			error = ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "An environment entry for the job process is not UTF-8.");
			goto done;
		}
		if ((error = ob_buf_put(&env, w, (wcslen(w) + 1) * sizeof(wchar_t))) < 0) {
			free(w);
			goto done;
		}
		free(w);
	}
	if ((error = ob_buf_put(&env, L"\0\0", 2 * sizeof(wchar_t))) < 0)
		goto done;
	envlen = env.len;
	(void)envlen;
	if (!(wcmd = ob_win_wide(cmd.data)) || !(wexe = ob_win_path(argv[0])) || !(wlog = ob_win_path(log_path))) {
		error = ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "The job process's command line is not UTF-8.");
		goto done;
	}
	nul = CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &inherit, OPEN_EXISTING, 0, NULL);
	log = CreateFileW(wlog, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, &inherit, OPEN_ALWAYS,
		FILE_ATTRIBUTE_NORMAL, NULL);
	if (nul == INVALID_HANDLE_VALUE || log == INVALID_HANDLE_VALUE) {
		error = ob_err_os(ob_win_errno(GetLastError()), "Cannot open the job log", log_path);
		goto done;
	}
	handles[nh++] = nul;
	handles[nh++] = log;
	for (i = 0; i < keep_count && nh < sizeof(handles) / sizeof(handles[0]); i++) {
		if (keep_fds[i] == -1)
			continue;
		SetHandleInformation((HANDLE)(intptr_t)keep_fds[i], HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
		handles[nh++] = (HANDLE)(intptr_t)keep_fds[i];
	}
	memset(&si, 0, sizeof(si));
	si.StartupInfo.cb = sizeof(si);
	si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
	si.StartupInfo.hStdInput = nul;
	si.StartupInfo.hStdOutput = log;
	si.StartupInfo.hStdError = log;
	/* Only these handles go to the worker, whatever else this process has made inheritable. */
	InitializeProcThreadAttributeList(NULL, 1, 0, &attrs_size);
	if (attrs_size && (attrs = malloc(attrs_size)) && InitializeProcThreadAttributeList(attrs, 1, 0, &attrs_size) &&
	    UpdateProcThreadAttribute(attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, handles, nh * sizeof(HANDLE), NULL, NULL)) {
		si.lpAttributeList = attrs;
		flags |= EXTENDED_STARTUPINFO_PRESENT;
		si.StartupInfo.cb = sizeof(si);
	} else {
		free(attrs);
		attrs = NULL;
		si.StartupInfo.cb = sizeof(si.StartupInfo);
	}
	/* Out of the caller's job (a WinRM session, a scheduled task), so an -Async job outlives it; else inside it. */
	ok = CreateProcessW(wexe, wcmd, NULL, NULL, TRUE, flags | CREATE_BREAKAWAY_FROM_JOB, wenv = (wchar_t *)env.data,
		NULL, &si.StartupInfo, &pi);
	if (!ok && GetLastError() == ERROR_ACCESS_DENIED)
		ok = CreateProcessW(wexe, wcmd, NULL, NULL, TRUE, flags, env.data, NULL, &si.StartupInfo, &pi);
	if (!ok) {
		error = ob_err_os(ob_win_errno(GetLastError()), "Cannot start the job process", argv[0]);
		goto done;
	}
	CloseHandle(pi.hThread);
	CloseHandle(pi.hProcess);
done:
	(void)wenv;
	for (i = 0; i < keep_count; i++)
		if (keep_fds[i] != -1)
			SetHandleInformation((HANDLE)(intptr_t)keep_fds[i], HANDLE_FLAG_INHERIT, 0);
	if (attrs) {
		DeleteProcThreadAttributeList(attrs);
		free(attrs);
	}
	if (nul != INVALID_HANDLE_VALUE)
		CloseHandle(nul);
	if (log != INVALID_HANDLE_VALUE)
		CloseHandle(log);
	free(wcmd);
	free(wexe);
	free(wlog);
	ob_buf_dispose(&cmd);
	ob_buf_dispose(&env);
	return error;
}

int ob_platform_watch_open(int *out, const char *path)
{
	(void)path;
	*out = -1;   /* nothing watches a lock file's close here: the waiter looks again soon */
	return 0;
}

int ob_platform_watch_wait(int watch, int timeout_ms)
{
	(void)watch;
	Sleep((DWORD)(timeout_ms < 50 ? timeout_ms : 50));
	return 1;
}

void ob_platform_watch_close(int watch)
{
	(void)watch;
}

int ob_platform_process_alive(int64_t pid)
{
	HANDLE h;
	DWORD code = 0;
	int alive;

	if (pid <= 0)
		return 0;
	h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, (DWORD)pid);
	if (!h)
		return GetLastError() == ERROR_ACCESS_DENIED;   /* it is there, someone else's */
	alive = WaitForSingleObject(h, 0) == WAIT_TIMEOUT || (GetExitCodeProcess(h, &code) && code == STILL_ACTIVE);
	CloseHandle(h);
	return alive;
}

int ob_platform_library_dir(char **out)
{
	HMODULE mod = NULL;
	wchar_t path[32768];
	DWORD n;
	char *s, *slash;

	if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
		(LPCWSTR)(void *)ob_platform_library_dir, &mod))
		return ob_err(OB_ENOTFOUND, OB_ERRCLASS_OS, "Cannot find where libobagent is installed.");
	n = GetModuleFileNameW(mod, path, sizeof(path) / sizeof(path[0]));
	if (n == 0 || n >= sizeof(path) / sizeof(path[0]))
		return ob_err(OB_ENOTFOUND, OB_ERRCLASS_OS, "Cannot find where libobagent is installed.");
	if (!(s = plain_path(path)))
		return ob_err_nomem();
	if ((slash = strrchr(s, '/')) && slash > s + 3)
		*slash = '\0';
	*out = s;
	return 0;
}
