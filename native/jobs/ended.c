/* What follows a job's end (jobs/ended.h): one place for the reports that read it. */
#include "jobs/ended.h"

#include "util/error.h"

void ob_jobs_ended(ob_agent *agent, const char *job_id)
{
	(void)agent;
	(void)job_id;
	/* Each report is called here in turn; none may fail the job or keep it waiting. */
	ob_error_clear();
}
