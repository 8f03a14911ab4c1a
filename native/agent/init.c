/* Library initialisation and version. */
#include "obagent/common.h"
#include "catalog/catalog.h"
#include "platform/file.h"
#include "platform/process.h"
#include "util/util.h"

#include <pthread.h>
#include <stdlib.h>

#include <openssl/crypto.h>

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static int init_count;

int ob_init(void)
{
	int n;

	pthread_mutex_lock(&init_lock);
	if (init_count == 0) {
		OPENSSL_init_crypto(0, NULL);
		ob_catalog_init();
	}
	n = ++init_count;
	pthread_mutex_unlock(&init_lock);
	return n;
}

int ob_shutdown(void)
{
	int n;

	pthread_mutex_lock(&init_lock);
	if (init_count > 0)
		init_count--;
	n = init_count;
	pthread_mutex_unlock(&init_lock);
	return n;
}

int ob_process_harden(int work_from_root)
{
	if (ob_platform_process_harden(work_from_root) < 0)
		return ob_platform_fail("Cannot protect this process's memory (core dumps, tracing)", "/");
	return 0;
}

const char *ob_version(void)
{
	return OB_VERSION_STRING;
}

void ob_str_free(char *str)
{
	free(str);
}
