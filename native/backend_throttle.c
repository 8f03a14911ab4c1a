/*
 * A back end wrapper that holds transfers to the machine's bandwidth settings
 * (Set-OBMachineSetting -WorkDay -StartWorkHour -EndWorkHour -WorkHourBandwidth
 * -NonWorkHourBandwidth): the rate in force is chosen per transfer from the
 * local time, so it switches at the work-hour boundaries. Retry and throttling
 * wrap a back end instead of living inside it.
 */
#include "backend_throttle.h"
#include "env.h"
#include "error.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct throttle {
	ob_backend parent;
	ob_backend *inner;
	ob_throttle_settings settings;
	pthread_mutex_t lock;
	double next_free;       /* monotonic seconds when the link is free again */
} throttle;

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

/* Take len bytes of the link: wait until the bytes before them have gone at the rate in force. */
static void take(throttle *t, size_t len)
{
	int64_t now = 0;
	uint32_t rate;
	double start, wait;

	ob_clock_now(&now);
	rate = ob_throttle_rate_at(&t->settings, now);
	if (!rate)
		return;
	pthread_mutex_lock(&t->lock);
	start = mono_now();
	if (t->next_free < start)
		t->next_free = start;
	wait = t->next_free - start;
	t->next_free += (double)len / (double)rate;
	pthread_mutex_unlock(&t->lock);
	if (wait > 0) {
		struct timespec ts;
		ts.tv_sec = (time_t)wait;
		ts.tv_nsec = (long)((wait - (double)ts.tv_sec) * 1e9);
		while (nanosleep(&ts, &ts) != 0)
			;
	}
}

static int t_put(ob_backend *be, const char *name, const void *data, size_t len)
{
	throttle *t = (throttle *)be;

	take(t, len);
	return t->inner->put(t->inner, name, data, len);
}

static int t_put_nosync(ob_backend *be, const char *name, const void *data, size_t len)
{
	throttle *t = (throttle *)be;

	take(t, len);
	return t->inner->put_nosync(t->inner, name, data, len);
}

static int t_sync(ob_backend *be)
{
	throttle *t = (throttle *)be;

	return t->inner->sync(t->inner);
}

static int t_cleanup(ob_backend *be, const char *prefix)
{
	throttle *t = (throttle *)be;

	return t->inner->cleanup(t->inner, prefix);
}

static int t_get(void **out, size_t *out_len, ob_backend *be, const char *name, uint64_t offset, size_t len)
{
	throttle *t = (throttle *)be;
	int error = t->inner->get(out, out_len, t->inner, name, offset, len);

	if (error == 0)
		take(t, *out_len);
	return error;
}

static int t_stat(uint64_t *out_size, ob_backend *be, const char *name)
{
	throttle *t = (throttle *)be;

	return t->inner->stat(out_size, t->inner, name);
}

static int t_list(ob_backend *be, const char *prefix, ob_backend_list_cb cb, void *payload)
{
	throttle *t = (throttle *)be;

	return t->inner->list(t->inner, prefix, cb, payload);
}

static int t_remove(ob_backend *be, const char *name)
{
	throttle *t = (throttle *)be;

	return t->inner->remove(t->inner, name);
}

static unsigned int t_capabilities(ob_backend *be)
{
	throttle *t = (throttle *)be;

	return t->inner->capabilities(t->inner);
}

static void t_free(ob_backend *be)
{
	throttle *t = (throttle *)be;

	if (!t)
		return;
	t->inner->free(t->inner);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

int ob_backend_throttle_wrap(ob_backend **be, const ob_throttle_settings *settings)
{
	throttle *t;

	if (!settings->work_days && !settings->work_bandwidth && !settings->non_work_bandwidth)
		return 0;
	if (!(t = calloc(1, sizeof(*t))))
		return ob_err_nomem();
	t->inner = *be;
	t->settings = *settings;
	pthread_mutex_init(&t->lock, NULL);
	t->parent.version = OB_BACKEND_VERSION;
	t->parent.put = t_put;
	t->parent.get = t_get;
	t->parent.stat = t_stat;
	t->parent.list = t_list;
	t->parent.remove = t_remove;
	t->parent.capabilities = t_capabilities;
	t->parent.free = t_free;
	t->parent.put_nosync = (*be)->put_nosync ? t_put_nosync : NULL;
	t->parent.sync = (*be)->sync ? t_sync : NULL;
	t->parent.cleanup = (*be)->cleanup ? t_cleanup : NULL;
	*be = &t->parent;
	return 0;
}
