/* Internal: what maintenance needs of the job machinery. */
#ifndef OB_NATIVE_JOBS_INTERNAL_H
#define OB_NATIVE_JOBS_INTERNAL_H

#include "agent/agent_internal.h"

/** Take this server's job lock (*out_fd holds it; close to release), or OB_ELOCKED naming the job that holds it. */
int ob_job_lock_take(int *out_fd, ob_agent *agent);

#endif
