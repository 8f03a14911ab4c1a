/* Internal: bandwidth throttling as a back end wrapper (native/backend_throttle.c). */
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

/** Wrap *be (replaced by the wrapper, which owns it) when the settings throttle. */
int ob_backend_throttle_wrap(ob_backend **be, const ob_throttle_settings *settings);

#endif
