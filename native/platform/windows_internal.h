/* Internal to the Windows platform files: what they share (docs/WINDOWS.md). */
#ifndef OB_NATIVE_PLATFORM_WINDOWS_INTERNAL_H
#define OB_NATIVE_PLATFORM_WINDOWS_INTERNAL_H

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <winternl.h>

#include <stddef.h>
#include <stdint.h>

/*
 * An open file or folder (platform/file.h): a handle. A folder is opened
 * without FILE_SHARE_DELETE, so while the engine holds it nobody renames or
 * removes it: the names the engine opens in it stay in it (the *_at calls).
 * entry: opened for its attributes only (a link or node itself).
 */
struct ob_file {
	HANDLE h;
	int entry;
};

/**
 * Keep a Win32 error as this thread's last platform failure (an errno value
 * derived from it is what ob_platform_fail and ob_platform_reason report);
 * returns the OB_E* code.
 */
int ob_win_failed(DWORD err);
/** The same for an NTSTATUS. */
int ob_win_failed_nt(NTSTATUS st);
/** The errno value of a Win32 error (ENOENT, EACCES, ...; EIO when none fits). */
int ob_win_errno(DWORD err);

/**
 * A UTF-8 path as the wide path Win32 takes: '/' becomes '\', and an absolute
 * path gets the \\?\ (or \\?\UNC\) prefix so that no length limit applies.
 * malloc'd; NULL when it is not UTF-8 (errno EINVAL) or out of memory.
 */
wchar_t *ob_win_path(const char *utf8);
/** UTF-8 text as UTF-16, nothing changed (a name in a folder). malloc'd; NULL as above. */
wchar_t *ob_win_wide(const char *utf8);
/** UTF-16 (len characters, or -1: up to the NUL) as UTF-8. malloc'd; NULL as above. */
char *ob_win_utf8(const wchar_t *wide, int len);

/**
 * Open name in the folder dir (NtCreateFile relative to the handle: the name is
 * looked up in that very folder, whatever happened to its path since). options
 * are NtCreateFile's (FILE_OPEN_REPARSE_POINT: a link is opened itself). The
 * returned status is the call's; *out is INVALID_HANDLE_VALUE on failure.
 */
NTSTATUS ob_win_open_at(HANDLE *out, HANDLE dir, const char *name, ACCESS_MASK access, ULONG share,
	ULONG disposition, ULONG options);

/** Seconds and nanoseconds since 1970 UTC of a FILETIME's 100 ns ticks since 1601. */
int64_t ob_win_time_ns(LONGLONG ticks);
/** The FILETIME ticks of nanoseconds since 1970 UTC. */
LONGLONG ob_win_ticks(int64_t ns);

#endif
