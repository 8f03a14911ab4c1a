/*
 * A back end wrapper that holds transfers to the machine's bandwidth settings
 * (Set-OBMachineSetting -WorkDay -StartWorkHour -EndWorkHour -WorkHourBandwidth
 * -NonWorkHourBandwidth): the rate in force is chosen per transfer from the
 * local time, so it switches at the work-hour boundaries. Retry and throttling
 * wrap a back end instead of living inside it.
 */
#include "storage/throttle.h"
#include "util/env.h"
#include "util/error.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct throttle {
	ob_backend_wrapper w;   /* first: the wrapper is the throttle */
	ob_throttle_settings settings;
	ob_throttle_clock clock;
	int paced;              /* the inner back end moves objects in the pieces we grant */
	pthread_mutex_t lock;
	double next_free;       /* monotonic seconds when the link is free again */
} throttle;

static throttle *of(ob_backend *be)
{
	return (throttle *)OB_BACKEND_WRAPPER(be);
}

static double mono_now(void *payload)
{
	struct timespec ts;

	(void)payload;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void mono_sleep(void *payload, double seconds)
{
	struct timespec ts;

	(void)payload;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0)
		;
}

uint32_t ob_throttle_rate_at(const ob_throttle_settings *s, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	int minute;

	localtime_r(&tt, &tm);
	minute = tm.tm_hour * 60 + tm.tm_min;
	if ((s->work_days & (1u << tm.tm_wday)) && minute >= s->start_minute && minute < s->end_minute)
		return s->work_bandwidth;
	return s->non_work_bandwidth;
}

/* The rate in force now: bytes per second, 0 for no limit. */
static uint32_t rate_now(throttle *t)
{
	int64_t now = 0;

	ob_clock_now(&now);
	return ob_throttle_rate_at(&t->settings, now);
}

/* Take len bytes of the link: wait until the bytes before them have gone at rate. */
static void take(throttle *t, uint32_t rate, size_t len)
{
	double start, wait;

	if (!rate)
		return;
	pthread_mutex_lock(&t->lock);
	start = t->clock.now(t->clock.payload);
	if (t->next_free < start)
		t->next_free = start;
	wait = t->next_free - start;
	t->next_free += (double)len / (double)rate;
	pthread_mutex_unlock(&t->lock);
	if (wait > 0)
		t->clock.sleep(t->clock.payload, wait);
}

/* A whole object's bytes, for a back end that cannot move it in pieces. */
static void take_whole(throttle *t, size_t len)
{
	if (!t->paced)
		take(t, rate_now(t), len);
}

size_t ob_throttle_slice(uint32_t rate)
{
	size_t slice = (size_t)(rate / OB_THROTTLE_SLICES_PER_SECOND) & ~(size_t)4095;

	return slice ? slice : 4096;
}

/*
 * The inner back end's pacer: an eighth of a second's worth of bytes (whole pages)
 * at a time, so that the link carries the rate within every second, not a pack
 * at once and then nothing while the bucket refills.
 */
static size_t pace(void *payload, size_t want)
{
	throttle *t = payload;
	uint32_t rate = rate_now(t);
	size_t n = want;

	if (rate && want > ob_throttle_slice(rate))
		n = ob_throttle_slice(rate);
	take(t, rate, n);
	return n;
}

static int t_put(ob_backend *be, const char *name, const void *data, size_t len)
{
	throttle *t = of(be);

	take_whole(t, len);
	return t->w.inner->put(t->w.inner, name, data, len);
}

static int t_put_nosync(ob_backend *be, const char *name, const void *data, size_t len)
{
	throttle *t = of(be);

	take_whole(t, len);
	return t->w.inner->put_nosync(t->w.inner, name, data, len);
}

static int t_get(void **out, size_t *out_len, ob_backend *be, const char *name, uint64_t offset, size_t len)
{
	throttle *t = of(be);
	int error = t->w.inner->get(out, out_len, t->w.inner, name, offset, len);

	if (error == 0)
		take_whole(t, *out_len);
	return error;
}

static void t_free(ob_backend *be)
{
	throttle *t;

	if (!be)
		return;
	t = of(be);
	ob_backend_forward_free(be);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static ob_throttle_clock clock_override;
static int clock_overridden;

void ob_throttle_clock_override(const ob_throttle_clock *clock)
{
	clock_overridden = clock != NULL;
	if (clock)
		clock_override = *clock;
}

int ob_backend_throttle_wrap(ob_backend **be, const ob_throttle_settings *settings)
{
	return ob_backend_throttle_wrap_clock(be, settings, clock_overridden ? &clock_override : NULL);
}

int ob_backend_throttle_wrap_clock(ob_backend **be, const ob_throttle_settings *settings, const ob_throttle_clock *clock)
{
	throttle *t;

	if (!settings->work_days && !settings->work_bandwidth && !settings->non_work_bandwidth)
		return 0;
	if (!(t = calloc(1, sizeof(*t))))
		return ob_err_nomem();
	ob_backend_wrapper_init(&t->w, *be);
	t->settings = *settings;
	t->clock.now = clock && clock->now ? clock->now : mono_now;
	t->clock.sleep = clock && clock->sleep ? clock->sleep : mono_sleep;
	t->clock.payload = clock ? clock->payload : NULL;
	pthread_mutex_init(&t->lock, NULL);
	/* Only what moves bytes is held; the rest goes straight through to the inner back end. */
	t->w.parent.put = t_put;
	t->w.parent.get = t_get;
	t->w.parent.free = t_free;
	if (t->w.parent.put_nosync)
		t->w.parent.put_nosync = t_put_nosync;
	t->w.parent.set_pacer = NULL;   /* this wrapper paces; nothing above it does */
	if (t->w.inner->version >= 2 && t->w.inner->set_pacer) {
		t->w.inner->set_pacer(t->w.inner, pace, t);
		t->paced = 1;
	}
	*be = &t->w.parent;
	return 0;
}
