/* obagent: the public C API of libobagent (umbrella header). */
#ifndef OBAGENT_H
#define OBAGENT_H

#include "obagent/common.h"
#include "obagent/vault.h"
#include "obagent/agent.h"
#include "obagent/policy.h"
#include "obagent/job.h"
#include "obagent/drill.h"
#include "obagent/recovery.h"
#include "obagent/schedule.h"
#include "obagent/systemstate.h"

#endif
