/* Internal: the library's environment (with host overrides) and its one clock. */
#ifndef OB_NATIVE_ENV_H
#define OB_NATIVE_ENV_H

#include <stdint.h>

/**
 * Copy the value of one of the library's environment variables (override first,
 * then the process environment) into a malloc'd string; NULL when unset or empty.
 */
char *ob_env_get(const char *name);

/**
 * The library's clock: seconds since 1970 UTC. OBAGENT_NOW (ISO 8601) pins it for
 * tests; everything time-dependent asks here. *out, 0 or OB_EINVALID for a bad
 * OBAGENT_NOW.
 */
int ob_clock_now(int64_t *out);

/**
 * The same clock, read once with its nanoseconds (0 while OBAGENT_NOW pins it):
 * for names that must sort in the order things happened.
 */
int ob_clock_now_ns(int64_t *out_sec, long *out_nsec);

#endif
