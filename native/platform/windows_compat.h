/*
 * Internal: the few C library names the engine uses that Windows' C runtime
 * (UCRT or msvcrt through mingw-w64) lacks or spells otherwise. CMake forces
 * this header into every engine file on Windows (-include); nothing includes
 * it by name. What is here is C library, not operating system: the OS calls
 * stay in the windows*.c files of this folder (docs/WINDOWS.md).
 */
#ifndef OB_NATIVE_PLATFORM_WINDOWS_COMPAT_H
#define OB_NATIVE_PLATFORM_WINDOWS_COMPAT_H

#ifdef _WIN32

/* localtime_r, gmtime_r, strtok_r as POSIX has them (mingw-w64's time.h and string.h). */
#ifndef _POSIX_THREAD_SAFE_FUNCTIONS
#define _POSIX_THREAD_SAFE_FUNCTIONS 200112L
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A file handle that no longer names what it did (POSIX's NFS error): the platform's "replaced" failure. */
#ifndef ESTALE
#define ESTALE 116
#endif

static inline char *ob_compat_strndup(const char *s, size_t n)
{
	size_t len = 0;
	char *copy;

	while (len < n && s[len])
		len++;
	if (!(copy = malloc(len + 1)))
		return NULL;
	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}
#define strndup ob_compat_strndup

/*
 * The pack buffers are page-aligned only for Linux's O_DIRECT writes, which
 * Windows' writer does not make; a plain malloc keeps them freed with free().
 */
static inline int ob_compat_posix_memalign(void **out, size_t align, size_t size)
{
	(void)align;
	*out = malloc(size);
	return *out ? 0 : ENOMEM;
}
#define posix_memalign ob_compat_posix_memalign

/* POSIX's reentrant rand (the tests' seeded data): the same 15-bit LCG as the C standard's example.
 * winpthreads' pthread.h defines a rand_r that ignores its seed; this one replaces it. */
#include <pthread.h>
#undef rand_r
static inline int ob_compat_rand_r(unsigned int *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (int)((*seed / 65536u) % 32768u);
}
#define rand_r ob_compat_rand_r

static inline time_t ob_compat_timegm(struct tm *tm)
{
	return _mkgmtime(tm);
}
#define timegm ob_compat_timegm

#endif
#endif
