/* Internal: setting the thread-local last error. */
#ifndef OB_NATIVE_ERROR_H
#define OB_NATIVE_ERROR_H

#include "obagent/common.h"

#if defined(__MINGW32__)
/* mingw-w64 builds with its C99 printf (__USE_MINGW_ANSI_STDIO): checked as GNU's, %zu and %lld included. */
#  define OB_PRINTF(a, b) __attribute__((format(gnu_printf, a, b)))
#elif defined(__GNUC__)
#  define OB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#  define OB_PRINTF(a, b)
#endif

/** Record an error on this thread and return code, so that `return ob_err(...)` reads well. */
int ob_err(int code, ob_error_class klass, const char *fmt, ...) OB_PRINTF(3, 4);

/** Record an OS error (errno value err) about path: message "<what> '<path>': <strerror>". */
int ob_err_os(int err, const char *what, const char *path);

/** Map an errno value to an ob_error_code. */
int ob_code_from_errno(int err);

/** Record "out of memory". */
int ob_err_nomem(void);

#endif
