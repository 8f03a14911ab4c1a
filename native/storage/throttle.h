/* Internal: bandwidth throttling as a back end wrapper (native/storage/throttle.c). */
#ifndef OB_NATIVE_BACKEND_THROTTLE_H
#define OB_NATIVE_BACKEND_THROTTLE_H

#include "obagent/sys/backend.h"

typedef struct ob_throttle_settings {
	uint32_t work_days;            /* bit 0 Sunday .. 6 Saturday; 0 with no bandwidths: no throttling */
	int32_t start_minute, end_minute;
	uint32_t work_bandwidth, non_work_bandwidth;   /* bytes per second; 0: unlimited */
} ob_throttle_settings;

/** The rate in force at time t (local time): bytes per second, 0 for no limit. */
uint32_t ob_throttle_rate_at(const ob_throttle_settings *s, int64_t t);

/**
 * Wrap *be (replaced by the wrapper, which owns it) when the settings throttle. A
 * back end with set_pacer (the local one) moves each object in slices of an
 * eighth of a second's bytes with the bucket in between; the others take an
 * object's bytes from the bucket before moving it.
 */
int ob_backend_throttle_wrap(ob_backend **be, const ob_throttle_settings *settings);

/** The clock of a throttle: monotonic seconds, and a wait. Tests pass a fake one. */
typedef struct ob_throttle_clock {
	double (*now)(void *payload);
	void (*sleep)(void *payload, double seconds);
	void *payload;
} ob_throttle_clock;

/** ob_backend_throttle_wrap with another clock (NULL or NULL members: the real one). */
int ob_backend_throttle_wrap_clock(ob_backend **be, const ob_throttle_settings *settings, const ob_throttle_clock *clock);

/**
 * For tests: the clock of the throttles that ob_backend_throttle_wrap makes from
 * now on (copied; NULL: the real one again), so that a test sees how long the
 * engine's transfers were held, deep inside a restore, without waiting for them.
 * Not for concurrent use: set it while no throttle is being made.
 */
void ob_throttle_clock_override(const ob_throttle_clock *clock);

#define OB_THROTTLE_SLICES_PER_SECOND 8
/** The most bytes a paced back end moves at once at rate (bytes/s): rate/8 in whole pages, 4096 at least. */
size_t ob_throttle_slice(uint32_t rate);

#endif
