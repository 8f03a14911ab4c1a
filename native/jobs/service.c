/*
 * The scheduler's loop as the system's service (ob_service_run, include/obagent/job.h): a step
 * of ob_schedule_run_due, then a wait that the system's stop ends at once (platform/service.h:
 * SIGTERM on POSIX, the Service Control Manager on Windows).
 */
#include "obagent/agent.h"
#include "obagent/job.h"
#include "platform/service.h"
#include "util/env.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

typedef struct service_run {
	const char *home;
	unsigned int flags;
	const ob_service_events *events;
} service_run;

static void report_failure(const service_run *s, int rc)
{
	if (s->events && s->events->failed)
		s->events->failed(rc, ob_error_last(), s->events->payload);
}

/* Follow the started job until it ends or the service is stopped; *job is replaced as it goes. */
static void follow(const service_run *s, ob_agent *agent, ob_job_info **job)
{
	char *id = strdup((*job)->job_id);

	while (id && (*job)->state == OB_JOB_INPROGRESS && !ob_platform_service_wait(0)) {
		ob_job_info *next = NULL;
		if (ob_job_wait(&next, agent, id, 1000) < 0) {
			report_failure(s, OB_EIO);
			break;
		}
		ob_job_info_free(*job);
		*job = next;
	}
	free(id);
	if (s->events && s->events->ended)
		s->events->ended(*job, s->events->payload);
}

/* One step: 0 or the failure; *pause_ms how long to wait before the next. */
static int step(const service_run *s, unsigned int *pause_ms)
{
	ob_agent *agent = NULL;
	ob_job_info *job = NULL;
	int64_t next = 0, now = 0, pause;
	int rc = ob_agent_open(&agent, s->home);

	*pause_ms = 60 * 1000;
	if (rc < 0) {
		report_failure(s, rc);
		return rc;
	}
	rc = ob_schedule_run_due(&job, &next, agent);
	if (rc >= 0 && ob_clock_now(&now) < 0)
		rc = OB_EINVALID;
	if (rc < 0)
		report_failure(s, rc);
	if (job) {
		if (s->events && s->events->started)
			s->events->started(job, s->events->payload);
		if ((s->flags & OB_SERVICE_ONCE) && (s->flags & OB_SERVICE_WAIT))
			follow(s, agent, &job);
	}
	ob_job_info_free(job);
	ob_agent_free(agent);
	/* Until the next scheduled time, a minute at most (the policy may change), a second at least. */
	pause = next > now ? next - now : 60;
	if (pause > 60)
		pause = 60;
	if (pause < 1)
		pause = 1;
	*pause_ms = (unsigned int)pause * 1000;
	return rc;
}

static int body(void *payload)
{
	const service_run *s = payload;

	for (;;) {
		unsigned int pause_ms;
		int rc = step(s, &pause_ms);
		if (s->flags & OB_SERVICE_ONCE)
			return rc < 0 ? rc : 0;
		if (ob_platform_service_wait(pause_ms))
			return 0;
	}
}

int ob_service_run(const char *home, unsigned int flags, const ob_service_events *events)
{
	service_run s = { home, flags, events };

	return ob_platform_service_run(OB_SERVICE_NAME, body, &s);
}
