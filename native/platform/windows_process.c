/*
 * Processes, the environment and the key pipe (platform/process.h) for Windows.
 * A descriptor handed across (the job lock, the key pipe) is a handle's value:
 * the worker inherits the handle under the same value (ob_platform_spawn_detached).
 */
#include "platform/process.h"
#include "platform/windows_internal.h"
#include "util/error.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HND(fd) ((HANDLE)(intptr_t)(fd))

int64_t ob_process_id(void)
{
	return (int64_t)GetCurrentProcessId();
}

/* The environment as UTF-8 "NAME=value" strings, made once (Windows keeps it as UTF-16). */
static char **env_utf8;
static INIT_ONCE env_once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK env_make(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
	wchar_t *block = GetEnvironmentStringsW(), *p;
	size_t n = 0, i = 0;

	(void)once;
	(void)param;
	(void)ctx;
	if (!block)
		return TRUE;
	for (p = block; *p; p += wcslen(p) + 1)
		n++;
	if ((env_utf8 = calloc(n + 1, sizeof(char *)))) {
		for (p = block; *p; p += wcslen(p) + 1)
			if (*p != L'=' && (env_utf8[i] = ob_win_utf8(p, -1)))   /* "=C:=C:\..." entries are the shell's */
				i++;
	}
	FreeEnvironmentStringsW(block);
	return TRUE;
}

const char *const *ob_process_environment(void)
{
	static const char *const none[] = { NULL };

	InitOnceExecuteOnce(&env_once, env_make, NULL, NULL);
	return env_utf8 ? (const char *const *)env_utf8 : none;
}

int ob_process_runnable(const char *path)
{
	wchar_t *w = ob_win_path(path);
	DWORD a;

	if (!w)
		return 0;
	a = GetFileAttributesW(w);
	free(w);
	return a != INVALID_FILE_ATTRIBUTES && !(a & FILE_ATTRIBUTE_DIRECTORY);
}

int ob_process_pipe_with(int *out_fd, const void *data, size_t len)
{
	HANDLE r, w;
	DWORD put = 0;

	*out_fd = -1;
	/* Not inheritable: the spawn makes the one handle the worker is given inheritable for it alone. */
	if (!CreatePipe(&r, &w, NULL, (DWORD)(len + 4096)))
		return ob_win_failed(GetLastError());
	if (!WriteFile(w, data, (DWORD)len, &put, NULL) || put != (DWORD)len) {
		DWORD err = GetLastError();
		CloseHandle(r);
		CloseHandle(w);
		return ob_win_failed(err ? err : ERROR_WRITE_FAULT);
	}
	CloseHandle(w);
	*out_fd = (int)(intptr_t)r;
	return 0;
}

void ob_process_read_fd(size_t *out_got, int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		DWORD n = 0;
		if (!ReadFile(HND(fd), p + got, (DWORD)(len - got), &n, NULL) || n == 0)
			break;
		got += n;
	}
	*out_got = got;
}

int ob_platform_process_harden(int work_from_root)
{
	/* No error dialogs and no crash dumps that could hold a key (WER is the machine's; this asks it to stay out). */
	SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX | SEM_NOOPENFILEERRORBOX);
	if (work_from_root) {
		wchar_t root[MAX_PATH];
		UINT n = GetSystemWindowsDirectoryW(root, MAX_PATH);
		if (n >= 3 && n < MAX_PATH) {
			root[3] = L'\0';   /* "C:\" */
			SetCurrentDirectoryW(root);
		}
	}
	return 0;
}

/* What a process needs to run as its parent does (names compared without case, as Windows does). */
static const char *const needed_names[] = { "PATH", "PATHEXT", "SystemRoot", "SystemDrive", "windir", "TEMP", "TMP",
	"USERPROFILE", "USERNAME", "USERDOMAIN", "COMPUTERNAME", "ProgramData", "ProgramFiles", "APPDATA", "LOCALAPPDATA",
	"ALLUSERSPROFILE", "TZ", "LANG", "SSL_CERT_FILE", "SSL_CERT_DIR", "OPENSSL_CONF", "WINEPREFIX", "WINEDEBUG",
	"WINEDLLOVERRIDES" };

int ob_process_env_needed(const char *entry)
{
	const char *eq = strchr(entry, '=');
	size_t len, i;

	if (!eq)
		return 0;
	len = (size_t)(eq - entry);
	for (i = 0; i < sizeof(needed_names) / sizeof(needed_names[0]); i++)
		if (strlen(needed_names[i]) == len && strncasecmp(entry, needed_names[i], len) == 0)
			return 1;
	return 0;
}
