/*
 * Put/get throughput of one storage back end: N objects of SIZE MiB put one after
 * the other (each large put may itself go up in parallel blocks), then read back.
 *   backend_bench local DIR N SIZE_MIB
 *   backend_bench azure ENDPOINT CONTAINER key|sas N SIZE_MIB [SERVER_PID]
 * With SERVER_PID, also prints that process's CPU time (utime+stime) per phase.
 * Built and run by bench/azure.sh; not part of CI.
 */
#include "obagent.h"
#include "obagent/sys/azure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEV_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) a process has used so far; -1 if unknown. */
static double cpu_of(long pid)
{
	char path[64], buf[4096], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (!(p = strrchr(buf, ')')) || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "%s: %d %s\n", what, rc, ob_error_last());
	exit(1);
}

int main(int argc, char **argv)
{
	ob_backend *be = NULL;
	int n, i, rc, is_azure = argc > 1 && strcmp(argv[1], "azure") == 0;
	size_t size;
	uint8_t *buf;
	long pid = 0;
	double t0, c0, put_s, get_s, put_cpu, get_cpu;
	char *sas = NULL;

	ob_init();
	if (argc == 5 && strcmp(argv[1], "local") == 0) {
		if ((rc = ob_backend_local_new(&be, argv[2])) < 0)
			die("open", rc);
		n = atoi(argv[3]);
		size = (size_t)atoi(argv[4]) << 20;
	} else if (is_azure && argc >= 7) {
		ob_azure_options o = OB_AZURE_OPTIONS_INIT;
		o.endpoint = argv[2];
		o.account = "devstoreaccount1";
		o.container = argv[3];
		o.account_key = DEV_KEY;
		if ((rc = ob_azure_container_create(&o)) < 0)
			die("container", rc);
		if (strcmp(argv[4], "sas") == 0) {
			if ((rc = ob_azure_sas_create(&sas, o.account, DEV_KEY, o.container, "rcl", 0, (int64_t)time(NULL) + 3600)) < 0)
				die("sas", rc);
			o.account_key = NULL;
			o.sas = sas;
		}
		if ((rc = ob_backend_azure_new(&be, &o)) < 0)
			die("open", rc);
		n = atoi(argv[5]);
		size = (size_t)atoi(argv[6]) << 20;
		pid = argc > 7 ? atol(argv[7]) : 0;
	} else {
		fprintf(stderr, "usage: backend_bench local DIR N SIZE_MIB | azure ENDPOINT CONTAINER key|sas N SIZE_MIB [PID]\n");
		return 2;
	}
	if (!(buf = malloc(size)))
		return 1;
	srand(42);
	for (size_t k = 0; k < size; k++)
		buf[k] = (uint8_t)rand();

	c0 = cpu_of(pid);
	t0 = now();
	for (i = 0; i < n; i++) {
		char name[64];
		snprintf(name, sizeof(name), "data/%02x/pack-%06d", i & 0xff, i);
		buf[0] = (uint8_t)i;   /* distinct objects */
		if ((rc = be->put(be, name, buf, size)) < 0)
			die("put", rc);
	}
	put_s = now() - t0;
	put_cpu = c0 >= 0 ? cpu_of(pid) - c0 : -1;
	c0 = cpu_of(pid);
	t0 = now();
	for (i = 0; i < n; i++) {
		char name[64];
		void *data;
		size_t len;
		snprintf(name, sizeof(name), "data/%02x/pack-%06d", i & 0xff, i);
		if ((rc = be->get(&data, &len, be, name, 0, 0)) < 0)
			die("get", rc);
		if (len != size || memcmp((uint8_t *)data + 1, buf + 1, size - 1) != 0)
			die("verify", -1);
		free(data);
	}
	get_s = now() - t0;
	get_cpu = c0 >= 0 ? cpu_of(pid) - c0 : -1;
	printf("%-12s %3d x %2zu MiB  put %7.1f MiB/s  get %7.1f MiB/s", is_azure ? (sas ? "azure-sas" : "azure-key") : "local",
		n, size >> 20, (double)(n * (size >> 20)) / put_s, (double)(n * (size >> 20)) / get_s);
	if (put_cpu >= 0)
		printf("  azurite cpu: put %.0f%% get %.0f%% of a core", 100 * put_cpu / put_s, 100 * get_cpu / get_s);
	printf("\n");
	be->free(be);
	ob_str_free(sas);
	free(buf);
	return 0;
}
