/* The library's environment variables, with host overrides, and its clock. */
#include "util/env.h"
#include "util/error.h"
#include "util/util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const known_names[] = { "OBAGENT_HOME", "OBAGENT_SERVER_NAME", "OBAGENT_NOW", "OBAGENT_WORKER",
	"OBAGENT_WORKER_ENV" };
#define KNOWN_COUNT (sizeof(known_names) / sizeof(known_names[0]))

static pthread_mutex_t env_lock = PTHREAD_MUTEX_INITIALIZER;
static char *overrides[KNOWN_COUNT];
static int overridden[KNOWN_COUNT];

static int known_index(const char *name)
{
	size_t i;

	for (i = 0; i < KNOWN_COUNT; i++)
		if (strcmp(known_names[i], name) == 0)
			return (int)i;
	return -1;
}

int ob_env_set(const char *name, const char *value)
{
	int i;
	char *copy = NULL;

	if (!name || (i = known_index(name)) < 0)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "'%s' is not an obagent environment variable.",
			name ? name : "(null)");
	if (value && !(copy = ob_strdup(value)))
		return OB_ENOMEM;
	pthread_mutex_lock(&env_lock);
	free(overrides[i]);
	overrides[i] = copy;
	overridden[i] = 1;
	pthread_mutex_unlock(&env_lock);
	return 0;
}

char *ob_env_get(const char *name)
{
	int i = known_index(name);
	char *result = NULL;
	const char *v;

	pthread_mutex_lock(&env_lock);
	if (i >= 0 && overridden[i])
		v = overrides[i];
	else
		v = getenv(name);
	if (v && *v)
		result = strdup(v);
	pthread_mutex_unlock(&env_lock);
	return result;
}

int ob_clock_now(int64_t *out)
{
	char *pinned = ob_env_get("OBAGENT_NOW");
	int error = 0;

	if (pinned) {
		error = ob_time_parse(out, pinned);
		if (error < 0)
			ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
				"OBAGENT_NOW='%s' is not an ISO 8601 date and time; unset it or fix it.", pinned);
		free(pinned);
		return error;
	}
	*out = (int64_t)time(NULL);
	return 0;
}

int ob_clock_now_ns(int64_t *out_sec, long *out_nsec)
{
	char *pinned = ob_env_get("OBAGENT_NOW");
	struct timespec ts;

	if (pinned) {
		free(pinned);
		*out_nsec = 0;
		return ob_clock_now(out_sec);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	*out_sec = (int64_t)ts.tv_sec;
	*out_nsec = ts.tv_nsec;
	return 0;
}
