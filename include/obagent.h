/* obagent: the public C API of libobagent (umbrella header). */
#ifndef OBAGENT_H
#define OBAGENT_H

#include "obagent/common.h"
#include "obagent/vault.h"
#include "obagent/agent.h"

#endif
