/*
 * The storage conformance suite: what every back end must do. A back end's test
 * calls ob_conformance_run with a factory that makes a fresh, empty back end.
 */
#ifndef OB_CONFORMANCE_H
#define OB_CONFORMANCE_H

#include "obagent/sys/backend.h"

typedef struct ob_conformance_factory {
	/* Make a fresh, empty back end; the payload is the factory's own. */
	ob_backend *(*make)(void *payload);
	/* Tear down what make made (after be->free). */
	void (*destroy)(void *payload);
	void *payload;
} ob_conformance_factory;

int ob_conformance_run(const char *group, ob_conformance_factory *factory);

#endif
