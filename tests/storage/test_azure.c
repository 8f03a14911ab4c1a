/*
 * The Azure Blob back end against Azurite (label integration): the conformance
 * suite with the owner's key and with an agent's "rcl" SAS, then what only this
 * back end promises: a SAS that can't delete, an expired SAS, a wrong key,
 * leases, pagination, the service going away, and a fault-injecting proxy.
 * OBAGENT_TEST_AZURITE gives the endpoint (ctest sets it); unset: skipped.
 */
#include "testutil.h"
#include "conformance.h"
#include "storage/azure_xml.h"
#include "obagent/sys/azure.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEV_ACCOUNT "devstoreaccount1"
#define DEV_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

static const char *endpoint;
static int container_seq;
static pid_t proxy_pid;   /* the fault proxy; teardown stops it too, when an assertion ends a test early */

static void container_name(char out[64], const char *tag)
{
	snprintf(out, 64, "%s-%ld-%d", tag, (long)getpid(), ++container_seq);
}

static ob_azure_options owner_options(const char *container)
{
	ob_azure_options o = OB_AZURE_OPTIONS_INIT;

	o.endpoint = endpoint;
	o.account = DEV_ACCOUNT;
	o.container = container;
	o.account_key = DEV_KEY;
	return o;
}

static char *agent_sas(const char *container, const char *perms, int64_t start, int64_t expiry)
{
	char *sas = NULL;

	assert_ok(ob_azure_sas_create(&sas, DEV_ACCOUNT, DEV_KEY, container, perms, start, expiry));
	return sas;
}

static ob_backend *open_owner(const char *container)
{
	ob_azure_options o = owner_options(container);
	ob_backend *be = NULL;

	assert_ok(ob_backend_azure_new(&be, &o));
	return be;
}

static ob_backend *open_agent(const char *container, const char *sas)
{
	ob_azure_options o = OB_AZURE_OPTIONS_INIT;
	ob_backend *be = NULL;

	o.endpoint = endpoint;
	o.account = DEV_ACCOUNT;
	o.container = container;
	o.sas = sas;
	assert_ok(ob_backend_azure_new(&be, &o));
	return be;
}

/* ---- the conformance factories: a fresh container per case ---- */

typedef struct {
	int use_sas;
	char container[64];
} factory_state;

static ob_backend *make(void *payload)
{
	factory_state *f = payload;
	ob_azure_options o;
	ob_backend *be = NULL;
	char *sas;

	container_name(f->container, f->use_sas ? "conf-sas" : "conf-key");
	o = owner_options(f->container);
	if (ob_azure_container_create(&o) < 0) {
		print_error("container create: %s\n", ob_error_last());
		return NULL;
	}
	if (!f->use_sas)
		return ob_backend_azure_new(&be, &o) < 0 ? NULL : be;
	sas = agent_sas(f->container, "rcl", 0, (int64_t)time(NULL) + 3600);
	o.account_key = NULL;
	o.sas = sas;
	if (ob_backend_azure_new(&be, &o) < 0)
		be = NULL;
	ob_str_free(sas);
	return be;
}

static void destroy(void *payload)
{
	factory_state *f = payload;
	ob_azure_options o = owner_options(f->container);

	if (ob_azure_container_delete(&o) < 0)
		print_error("container delete: %s\n", ob_error_last());
}

/* ---- per-test containers for the cases below ---- */

typedef struct {
	char container[64];
	ob_backend *owner;
} fixture;

static int setup(void **state)
{
	fixture *fx = calloc(1, sizeof(*fx));
	ob_azure_options o;

	container_name(fx->container, "case");
	o = owner_options(fx->container);
	if (ob_azure_container_create(&o) < 0 || ob_backend_azure_new(&fx->owner, &o) < 0) {
		print_error("setup: %s\n", ob_error_last());
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	fixture *fx = *state;
	ob_azure_options o = owner_options(fx->container);

	if (proxy_pid > 0) {
		kill(proxy_pid, SIGTERM);
		waitpid(proxy_pid, NULL, 0);
		proxy_pid = 0;
	}
	fx->owner->free(fx->owner);
	ob_azure_container_delete(&o);
	free(fx);
	return 0;
}

static int count_cb(const char *name, uint64_t size, void *payload)
{
	(void)name; (void)size;
	(*(int *)payload)++;
	return 0;
}

static void test_sas_rcl_cannot_delete(void **state)
{
	fixture *fx = *state;
	char *sas = agent_sas(fx->container, "rcl", 0, (int64_t)time(NULL) + 3600);
	ob_backend *agent = open_agent(fx->container, sas);
	void *data;
	size_t len;
	uint64_t size;
	int n = 0;

	assert_false(agent->capabilities(agent) & OB_BACKEND_CAP_DELETE);
	assert_ok(agent->put(agent, "keys/0000000001", "agent data", 10));
	assert_ok(agent->get(&data, &len, agent, "keys/0000000001", 6, 0));
	assert_int_equal(len, 4);
	assert_memory_equal(data, "data", 4);
	free(data);
	assert_ok(agent->list(agent, "keys/", count_cb, &n));
	assert_int_equal(n, 1);
	/* The service refuses the delete (the request is sent: Azurite decides). */
	assert_ob(OB_EACCESS, agent->remove(agent, "keys/0000000001"));
	assert_non_null(strstr(ob_error_last(), "'d' permission"));
	print_message("delete with the agent's SAS: %s\n", ob_error_last());
	/* ... and cannot overwrite either. */
	assert_ob(OB_EEXISTS, agent->put(agent, "keys/0000000001", "overwrite!", 10));
	assert_ok(fx->owner->stat(&size, fx->owner, "keys/0000000001"));
	assert_int_equal(size, 10);
	assert_ok(fx->owner->get(&data, &len, fx->owner, "keys/0000000001", 0, 0));
	assert_memory_equal(data, "agent data", 10);
	free(data);
	/* The owner may delete. */
	assert_ok(fx->owner->remove(fx->owner, "keys/0000000001"));
	agent->free(agent);
	ob_str_free(sas);
}

static void test_sas_expired(void **state)
{
	fixture *fx = *state;
	int64_t now = (int64_t)time(NULL);
	char *sas = agent_sas(fx->container, "rcl", now - 7200, now - 3600);
	ob_backend *agent = open_agent(fx->container, sas);
	uint64_t size;

	assert_ob(OB_EEXPIRED, agent->put(agent, "x", "x", 1));
	assert_non_null(strstr(ob_error_last(), "access token expired on"));
	assert_non_null(strstr(ob_error_last(), "get a new vault credentials file and register again"));
	print_message("expired SAS: %s\n", ob_error_last());
	assert_ob(OB_EEXPIRED, agent->stat(&size, agent, "x"));
	agent->free(agent);
	ob_str_free(sas);
}

static void test_wrong_credentials(void **state)
{
	fixture *fx = *state;
	ob_azure_options o = owner_options(fx->container);
	ob_backend *be;
	char *sas, *bad;
	uint64_t size;

	/* Another valid base64 key of the same length: the signature doesn't match. */
	o.account_key = "Fby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
	assert_ok(ob_backend_azure_new(&be, &o));
	assert_ob(OB_EAUTH, be->put(be, "x", "x", 1));
	print_message("wrong key: %s\n", ob_error_last());
	be->free(be);

	/* A SAS for another container. */
	sas = agent_sas("some-other-vault", "rcl", 0, (int64_t)time(NULL) + 3600);
	be = open_agent(fx->container, sas);
	assert_ob(OB_EAUTH, be->stat(&size, be, "x"));
	be->free(be);
	/* A tampered SAS: its permissions changed after signing. */
	bad = strdup(sas);
	memcpy(strstr(bad, "sp=rcl"), "sp=rcd", 6);
	ob_str_free(sas);
	be = open_agent(fx->container, bad);
	assert_ob(OB_EAUTH, be->stat(&size, be, "x"));
	be->free(be);
	free(bad);

	/* A container that doesn't exist. */
	o = owner_options("no-such-vault-here");
	assert_ok(ob_backend_azure_new(&be, &o));
	assert_ob(OB_ENOTFOUND, be->list(be, "", count_cb, &(int){ 0 }));
	assert_non_null(strstr(ob_error_last(), "does not exist"));
	be->free(be);
}

static void test_pagination(void **state)
{
	fixture *fx = *state;
	char name[32];
	int i, n = 0;

	for (i = 0; i < 7; i++) {
		snprintf(name, sizeof(name), "index/%04d", i);
		assert_ok(fx->owner->put(fx->owner, name, name, strlen(name)));
	}
	assert_ok(fx->owner->put(fx->owner, "other", "x", 1));
	ob_azure_list_page_size = 2;
	assert_ok(fx->owner->list(fx->owner, "index/", count_cb, &n));
	assert_int_equal(n, 7);
	n = 0;
	assert_ok(fx->owner->list(fx->owner, "", count_cb, &n));
	assert_int_equal(n, 8);
	ob_azure_list_page_size = 5000;
}

static void test_leases(void **state)
{
	fixture *fx = *state;
	char *id = NULL, *other = NULL;

	assert_ok(ob_azure_lease_acquire(&id, fx->owner, "locks/maintenance", 15));
	assert_non_null(id);
	assert_ob(OB_ELOCKED, ob_azure_lease_acquire(&other, fx->owner, "locks/maintenance", 15));
	assert_ob(OB_ELOCKED, fx->owner->remove(fx->owner, "locks/maintenance"));
	assert_ok(ob_azure_lease_renew(fx->owner, "locks/maintenance", id));
	assert_ok(ob_azure_lease_release(fx->owner, "locks/maintenance", id));
	/* Someone else takes it: the old id can neither renew nor release it, nor delete it. */
	assert_ok(ob_azure_lease_acquire(&other, fx->owner, "locks/maintenance", -1));
	assert_ob(OB_ELOCKED, ob_azure_lease_renew(fx->owner, "locks/maintenance", id));
	print_message("lost lease: %s\n", ob_error_last());
	assert_ob(OB_ELOCKED, ob_azure_lease_release(fx->owner, "locks/maintenance", id));
	assert_ok(ob_azure_lease_release(fx->owner, "locks/maintenance", other));
	assert_ok(fx->owner->remove(fx->owner, "locks/maintenance"));
	ob_str_free(id);
	ob_str_free(other);
}

static void test_large_blocks_and_bandwidth(void **state)
{
	fixture *fx = *state;
	ob_azure_options o = owner_options(fx->container);
	size_t big = 9u << 20, len, i;
	uint8_t *buf = malloc(big);
	ob_backend *slow;
	void *data;
	struct timespec t0, t1;
	double secs;

	for (i = 0; i < big; i++)
		buf[i] = (uint8_t)(i * 7 + (i >> 11));
	/* 9 MiB: three blocks in parallel, then the block list, create-only. */
	assert_ok(fx->owner->put(fx->owner, "packs/big", buf, big));
	assert_ob(OB_EEXISTS, fx->owner->put(fx->owner, "packs/big", buf, big));
	assert_ok(fx->owner->get(&data, &len, fx->owner, "packs/big", 4u << 20, 1u << 20));
	assert_int_equal(len, 1u << 20);
	assert_memory_equal(data, buf + (4u << 20), len);
	free(data);
	/* A cap of 4 MiB/s each way: 2 MiB takes about half a second. */
	o.max_bytes_per_second = 4u << 20;
	o.connections = 1;
	assert_ok(ob_backend_azure_new(&slow, &o));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_ok(slow->put(slow, "slow", buf, 2u << 20));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("2 MiB at 4 MiB/s: %.2f s\n", secs);
	assert_true(secs > 0.3);
	slow->free(slow);
	free(buf);
}

/* ---- helpers that start processes: a second Azurite, the fault proxy ---- */

static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &alen), 0);
	port = ntohs(a.sin_port);
	close(s);
	return port;
}

static int azurite_sh(const char *action, int port, const char *run)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "OBAGENT_AZURITE_RUN='%s' bash '%s' %s %d >/dev/null", run, OBAGENT_AZURITE_SH, action, port);
	return system(cmd);
}

static void test_service_goes_away(void **state)
{
	char url[128], container[64];
	char *run = ob_test_tempdir("azurite2");
	int port = free_port();
	ob_azure_options o;
	ob_backend *be;
	void *data;
	size_t len;

	(void)state;
	if (azurite_sh("start", port, run) != 0) {
		ob_test_rmtree(run);
		free(run);
		fail_msg("could not start a second Azurite on port %d", port);
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/" DEV_ACCOUNT, port);
	container_name(container, "gone");
	o = owner_options(container);
	o.endpoint = url;
	o.max_attempts = 3;
	o.retry_base_ms = 50;
	assert_ok(ob_azure_container_create(&o));
	assert_ok(ob_backend_azure_new(&be, &o));
	assert_ok(be->put(be, "before", "x", 1));
	assert_int_equal(azurite_sh("stop", port, run), 0);
	assert_ob(OB_EIO, be->get(&data, &len, be, "before", 0, 0));
	assert_non_null(strstr(ob_error_last(), "Cannot reach the vault at "));
	assert_non_null(strstr(ob_error_last(), url));
	assert_non_null(strstr(ob_error_last(), "3 attempts"));
	print_message("service gone: %s\n", ob_error_last());
	be->free(be);
	ob_test_rmtree(run);
	free(run);
}

/* The fault proxy (auth NULL), or with auth "user:password" a proxy that wants those credentials. */
static pid_t start_proxy(int *port, const char *log, const char *auth)
{
	int fds[2];
	pid_t pid;
	char line[64];
	FILE *f;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int err = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fds[1], 1);
		if (err >= 0)
			dup2(err, 2);
		close(fds[0]);
		if (auth)
			execlp("python3", "python3", OBAGENT_FAULTPROXY_PY, "--auth", auth, (char *)NULL);
		else
			execlp("python3", "python3", OBAGENT_FAULTPROXY_PY, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_int_equal(sscanf(line, "PORT %d", port), 1);
	proxy_pid = pid;
	return pid;
}

static int count_lines(const char *path, const char *word)
{
	char *text = ob_test_read(path, NULL), *p = text;
	int n = 0;

	while (p && (p = strstr(p, word)) != NULL) {
		n++;
		p++;
	}
	free(text);
	return n;
}

static void test_through_faults(void **state)
{
	fixture *fx = *state;
	char *dir = ob_test_tempdir("faultproxy"), *log = ob_test_path(dir, "proxy.log");
	size_t big = 20u << 20, len, i;
	uint8_t *buf = malloc(big);
	int port, status, faults;
	pid_t pid = start_proxy(&port, log, NULL);
	ob_azure_options o = owner_options(fx->container);
	ob_backend *owner, *agent;
	char *sas = agent_sas(fx->container, "rcl", 0, (int64_t)time(NULL) + 3600);
	void *data;

	for (i = 0; i < big; i++)
		buf[i] = (uint8_t)(i * 13 + (i >> 9));
	o.proxy_host = "127.0.0.1";
	o.proxy_port = (unsigned int)port;
	o.max_attempts = 8;     /* parallel blocks share the proxy's fault sequence */
	o.retry_base_ms = 50;
	assert_ok(ob_backend_azure_new(&owner, &o));
	o.account_key = NULL;
	o.sas = sas;
	assert_ok(ob_backend_azure_new(&agent, &o));

	/* The owner: 5 blocks of 4 MiB in parallel and the block list. */
	assert_ok(owner->put(owner, "packs/owner", buf, big));
	assert_ok(owner->get(&data, &len, owner, "packs/owner", 0, 0));
	assert_int_equal(len, big);
	assert_memory_equal(data, buf, big);
	free(data);
	/* The agent ("rcl": no blocks): one Put Blob of 20 MiB. */
	buf[0] ^= 1;
	assert_ok(agent->put(agent, "packs/agent", buf, big));
	assert_ok(agent->get(&data, &len, agent, "packs/agent", 0, 0));
	assert_int_equal(len, big);
	assert_memory_equal(data, buf, big);
	free(data);
	/* Small puts, each answered after a drop now and then: exists-and-ours counts as done. */
	for (i = 0; i < 24; i++) {
		char name[32];
		snprintf(name, sizeof(name), "small/%02zu", i);
		assert_ok(agent->put(agent, name, name, strlen(name)));
	}
	{
		int n = 0;
		assert_ok(agent->list(agent, "small/", count_cb, &n));
		assert_int_equal(n, 24);
	}
	faults = count_lines(log, "fault ");
	print_message("20 MiB up and down twice through %d injected faults (503, 500+Retry-After, dropped connections)\n", faults);
	assert_true(faults >= 5);
	assert_true(count_lines(log, "fault drop-after PUT") >= 1);

	owner->free(owner);
	agent->free(agent);
	ob_str_free(sas);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	proxy_pid = 0;
	ob_test_rmtree(dir);
	free(dir);
	free(log);
	free(buf);
}

/*
 * A proxy that wants credentials and answers 407: the error says the proxy refused
 * the credentials (or that none are set) and which setting to check, not "HTTP 407
 * no error code"; a 407 is not retried; the right credentials pass.
 */
static void test_proxy_refuses_credentials(void **state)
{
	fixture *fx = *state;
	char *dir = ob_test_tempdir("authproxy"), *log = ob_test_path(dir, "proxy.log");
	int port, status, before;
	pid_t pid = start_proxy(&port, log, "obagent:proxy secret");
	ob_azure_options o = owner_options(fx->container);
	ob_backend *be;
	void *data;
	size_t len;

	o.proxy_host = "127.0.0.1";
	o.proxy_port = (unsigned int)port;
	o.retry_base_ms = 50;

	/* Wrong password. */
	o.proxy_user = "obagent";
	o.proxy_password = "wrong";
	o.proxy_password_len = 5;
	assert_ok(ob_backend_azure_new(&be, &o));
	before = count_lines(log, "fault 407");
	assert_ob(OB_EAUTH, be->get(&data, &len, be, "config", 0, 0));
	print_message("wrong proxy password: %s\n", ob_error_last());
	assert_non_null(strstr(ob_error_last(), "refused the proxy credentials of user 'obagent'"));
	assert_non_null(strstr(ob_error_last(), "HTTP 407"));
	assert_non_null(strstr(ob_error_last(), "reading object 'config'"));
	assert_non_null(strstr(ob_error_last(), "-ProxyUsername"));
	assert_null(strstr(ob_error_last(), "no error code"));
	assert_int_equal(ob_error_last_class(), OB_ERRCLASS_CREDENTIALS);
	assert_int_equal(count_lines(log, "fault 407") - before, 1);   /* asked once, not retried */
	assert_ob(OB_EAUTH, be->put(be, "x", "x", 1));
	be->free(be);

	/* No credentials at all. */
	o.proxy_user = NULL;
	o.proxy_password = NULL;
	o.proxy_password_len = 0;
	assert_ok(ob_backend_azure_new(&be, &o));
	assert_ob(OB_EAUTH, be->stat(&len, be, "config"));
	print_message("no proxy credentials: %s\n", ob_error_last());
	assert_non_null(strstr(ob_error_last(), "requires credentials"));
	assert_non_null(strstr(ob_error_last(), "none are set"));
	assert_non_null(strstr(ob_error_last(), "Set-OBMachineSetting"));
	be->free(be);

	/* An https endpoint: the proxy refuses the tunnel (CONNECT) with a 407. */
	o.endpoint = "https://127.0.0.1:9/" DEV_ACCOUNT;
	o.proxy_user = "obagent";
	o.proxy_password = "wrong";
	o.proxy_password_len = 5;
	assert_ok(ob_backend_azure_new(&be, &o));
	assert_ob(OB_EAUTH, be->get(&data, &len, be, "config", 0, 0));
	print_message("wrong proxy password, https: %s\n", ob_error_last());
	assert_non_null(strstr(ob_error_last(), "refused the proxy credentials of user 'obagent'"));
	assert_true(count_lines(log, "fault 407 CONNECT") >= 1);
	be->free(be);

	/* The right ones: through the proxy to the service. */
	o = owner_options(fx->container);
	o.proxy_host = "127.0.0.1";
	o.proxy_port = (unsigned int)port;
	o.proxy_user = "obagent";
	o.proxy_password = "proxy secret";
	o.proxy_password_len = 12;
	assert_ok(ob_backend_azure_new(&be, &o));
	assert_ok(be->put(be, "through", "proxy", 5));
	assert_ok(be->get(&data, &len, be, "through", 0, 0));
	assert_int_equal(len, 5);
	assert_memory_equal(data, "proxy", 5);
	free(data);
	be->free(be);

	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	proxy_pid = 0;
	ob_test_rmtree(dir);
	free(dir);
	free(log);
}

static void skipped(void **state)
{
	(void)state;
	print_message("OBAGENT_TEST_AZURITE is not set: the Azure tests need Azurite (ctest starts it).\n");
	skip();
}

int main(void)
{
	factory_state key_state = { 0, "" }, sas_state = { 1, "" };
	ob_conformance_factory key = { make, destroy, &key_state }, sas = { make, destroy, &sas_state };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sas_rcl_cannot_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sas_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pagination, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_blocks_and_bandwidth, setup, teardown),
		cmocka_unit_test(test_service_goes_away),
		cmocka_unit_test_setup_teardown(test_through_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proxy_refuses_credentials, setup, teardown),
	};
	const struct CMUnitTest skip_tests[] = { cmocka_unit_test(skipped) };
	int failures = 0;

	ob_init();
	endpoint = getenv("OBAGENT_TEST_AZURITE");
	if (!endpoint || !*endpoint) {
		cmocka_run_group_tests_name("azure", skip_tests, NULL, NULL);
		return 77;
	}
	failures += ob_conformance_run("azure-owner-key", &key);
	failures += ob_conformance_run("azure-agent-sas", &sas);
	failures += cmocka_run_group_tests_name("azure", tests, NULL, NULL);
	return failures ? 1 : 0;
}
