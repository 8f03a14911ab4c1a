/*
 * The user's journey on a vault in Azure Blob Storage (Azurite on loopback):
 * the owner creates the vault with the account key; agents register with a
 * credentials file that carries only an access token; three servers back up at
 * the same time; every point restores byte for byte; another server's data
 * restores with its passphrase; an agent's delete is refused by the storage; and the
 * owner's maintenance of one server runs while two others back up again.
 * An agent behind an HTTP proxy reaches the vault through it, and only through it.
 * A backup rides out an outage of the storage service and its point restores.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "vault/serverkey.h"
#include "vault/vault_internal.h"
#include "obagent/sys/azure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <sys/socket.h>

#define DEV_ACCOUNT "devstoreaccount1"
#define DEV_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

static const char *endpoint;
static char *dir, container[64];
static const char *PP = "azure journey passphrase";

static int setup(void **state)
{
	(void)state;
	endpoint = getenv("OBAGENT_TEST_AZURITE");
	dir = ob_test_tempdir("azj");
	snprintf(container, sizeof(container), "vault-%d-%ld", (int)getpid(), (long)time(NULL) % 100000);
	ob_env_set("OBAGENT_WORKER", OBAGENT_WORKER_PATH);
	ob_env_set("OBAGENT_NOW", NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ob_test_rmtree(dir);
	free(dir);
	return 0;
}

static ob_vault_azure_options owner_opts(void)
{
	ob_vault_azure_options o = OB_VAULT_AZURE_OPTIONS_INIT;
	o.endpoint = endpoint;
	o.account = DEV_ACCOUNT;
	o.account_key = DEV_KEY;
	o.container = container;
	return o;
}

static void make_data(const char *root, int seed)
{
	char path[1024];
	uint8_t *buf = malloc(3u << 20);
	int i;

	mkdir(root, 0755);
	for (i = 0; i < 3; i++) {
		size_t k;
		for (k = 0; k < (3u << 20); k++)
			buf[k] = (uint8_t)((k * (unsigned)(seed + i + 7)) >> 9);
		snprintf(path, sizeof(path), "%s/file%d.bin", root, i);
		ob_test_write(path, buf, (3u << 20) - (size_t)i * 1000);
	}
	snprintf(path, sizeof(path), "%s/notes.txt", root);
	ob_test_write(path, "server notes\n", 13);
	free(buf);
}

/* Poll a job every 20 ms until it ends (at most 2 minutes); *j is then its last state. */
static int wait_job(ob_job_info **j, ob_agent *a)
{
	int i;

	for (i = 0; i < 30000 && (*j)->state == OB_JOB_INPROGRESS; i++) {
		char *id = strdup((*j)->job_id);
		int error;
		ob_job_info_free(*j);
		*j = NULL;
		usleep(20000);
		error = ob_job_get(j, a, id);
		free(id);
		if (error < 0)
			return error;
	}
	return 0;
}

/* One server: register with the credentials file, set the passphrase, back up its folder. */
static int run_server(const char *name, const char *cred, const char *data)
{
	char home[1024];
	ob_agent *a = NULL;
	ob_filespec_input spec = { data, 0, 1 };
	ob_policy *p = NULL;
	ob_job_info *j = NULL;

	snprintf(home, sizeof(home), "%s/home-%s", dir, name);
	ob_env_set("OBAGENT_SERVER_NAME", name);
	if (ob_agent_open(&a, home) < 0 || ob_agent_register(NULL, a, cred) < 0 ||
	    ob_agent_set_passphrase(a, (const uint8_t *)PP, strlen(PP), NULL) < 0 ||
	    ob_policy_commit(&p, a, &spec, 1) < 0 || ob_backup_start(&j, a, 0) < 0) {
		fprintf(stderr, "%s: %s\n", name, ob_error_last());
		return 1;
	}
	if (wait_job(&j, a) < 0)
		return 2;
	if (j->state != OB_JOB_COMPLETED) {
		fprintf(stderr, "%s: job %s: %s\n", name, ob_job_state_name(j->state), j->error_message ? j->error_message : "");
		return 3;
	}
	ob_job_info_free(j);
	ob_policy_free(p);
	ob_agent_free(a);
	return 0;
}

/* A registered server backs up its folder again (a child process of the test). */
static int backup_again(const char *name, const char *data)
{
	char home[1024], path[1024];
	ob_agent *a = NULL;
	ob_job_info *j = NULL;

	snprintf(path, sizeof(path), "%s/added-later.txt", data);
	ob_test_write(path, name, strlen(name));
	snprintf(home, sizeof(home), "%s/home-%s", dir, name);
	ob_env_set("OBAGENT_SERVER_NAME", name);
	if (ob_agent_open(&a, home) < 0 || ob_backup_start(&j, a, 0) < 0) {
		fprintf(stderr, "%s: %s\n", name, ob_error_last());
		return 1;
	}
	if (wait_job(&j, a) < 0)
		return 2;
	if (j->state != OB_JOB_COMPLETED) {
		fprintf(stderr, "%s: job %s: %s\n", name, ob_job_state_name(j->state), j->error_message ? j->error_message : "");
		return 3;
	}
	ob_job_info_free(j);
	ob_agent_free(a);
	return 0;
}

static void test_journey(void **state)
{
	ob_vault *v = NULL;
	ob_vault_azure_options o;
	char *cred = NULL, *creds = ob_test_path(dir, "creds"), *xml;
	size_t len;
	pid_t pids[3];
	const char *names[3] = { "az-one", "az-two", "az-three" };
	char data[3][1024];
	int i, status;

	(void)state;
	if (!endpoint)
		skip();
	o = owner_opts();
	assert_ok(ob_vault_create_azure(&v, "AzureJourney", &o));
	assert_string_equal(ob_vault_storage_type(v), "AzureBlob");
	{
		ob_vault *again = NULL;
		assert_ob(OB_EEXISTS, ob_vault_create_azure(&again, "Again", &o));
	}
	assert_ok(ob_vault_credentials_issue(&cred, v, creds, 10));
	/* The file holds an access token, never the account key. */
	xml = ob_test_read(cred, &len);
	assert_null(strstr(xml, DEV_KEY));
	assert_non_null(strstr(xml, "<AccessToken>"));
	assert_non_null(strstr(xml, "sp=rcl"));
	free(xml);

	/* Three servers back up to the vault at the same time. */
	for (i = 0; i < 3; i++) {
		snprintf(data[i], sizeof(data[i]), "%s/data-%s", dir, names[i]);
		make_data(data[i], i * 3);
	}
	for (i = 0; i < 3; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			_exit(run_server(names[i], cred, data[i]));
	}
	for (i = 0; i < 3; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}

	/* Each server's point restores byte for byte, from the server itself. */
	for (i = 0; i < 3; i++) {
		char home[1024], out[1024], cmd[4096];
		ob_agent *a = NULL;
		ob_recovery_point **pts = NULL;
		size_t n = 0;
		ob_restore_options ro = OB_RESTORE_OPTIONS_INIT;
		char *failed = NULL;
		snprintf(home, sizeof(home), "%s/home-%s", dir, names[i]);
		snprintf(out, sizeof(out), "%s/out-%s", dir, names[i]);
		ob_env_set("OBAGENT_SERVER_NAME", names[i]);
		assert_ok(ob_agent_open(&a, home));
		assert_ok(ob_recovery_points(&pts, &n, a));
		assert_int_equal(n, 1);
		ro.point_id = pts[0]->id;
		ro.item = data[i] + 1;
		ro.destination = out;
		assert_ok(ob_restore(&failed, a, &ro));
		snprintf(cmd, sizeof(cmd), "diff -r '%s' '%s/%s'", data[i], out, data[i] + 1);
		assert_int_equal(system(cmd), 0);
		ob_recovery_points_free(pts, n);
		ob_agent_free(a);
	}

	/* Another server's data, from server one, with its passphrase only. */
	{
		char home[1024], out[1024], cmd[4096];
		ob_agent *a = NULL;
		ob_recovery *rec = NULL;
		ob_recovery_point **pts = NULL;
		ob_recovery_request req = { OB_RECOVERY_REQUEST_VERSION };
		ob_job_info *j = NULL;
		const char *items[1];
		size_t n = 0;
		snprintf(home, sizeof(home), "%s/home-%s", dir, names[0]);
		snprintf(out, sizeof(out), "%s/out-alt", dir);
		ob_env_set("OBAGENT_SERVER_NAME", names[0]);
		assert_ok(ob_agent_open(&a, home));
		assert_ob(OB_EPASSPHRASE, ob_recovery_open(&rec, a, names[2], (const uint8_t *)"the wrong passphrase", 20));
		assert_ok(ob_recovery_open(&rec, a, names[2], (const uint8_t *)PP, strlen(PP)));
		assert_ok(ob_recovery_list_points(&pts, &n, rec));
		assert_int_equal(n, 1);
		items[0] = data[2] + 1;
		req.server_name = names[2];
		req.passphrase = (const uint8_t *)PP;
		req.passphrase_len = strlen(PP);
		req.point_id = pts[0]->id;
		req.items = items;
		req.item_count = 1;
		req.destination = out;
		assert_ok(ob_recovery_start(&j, a, &req));
		for (i = 0; i < 30000 && j->state == OB_JOB_INPROGRESS; i++) {
			char *id = strdup(j->job_id);
			ob_job_info_free(j);
			usleep(20000);
			assert_ok(ob_job_get(&j, a, id));
			free(id);
		}
		assert_int_equal(j->state, OB_JOB_COMPLETED);
		snprintf(cmd, sizeof(cmd), "diff -r '%s' '%s/%s'", data[2], out, data[2] + 1);
		assert_int_equal(system(cmd), 0);
		ob_job_info_free(j);
		ob_recovery_points_free(pts, n);
		ob_recovery_free(rec);
		ob_agent_free(a);
	}

	/* An agent's access token cannot delete: the storage itself refuses, the blob stays. */
	{
		char home[1024];
		ob_agent *a = NULL;
		ob_registration *reg = NULL;
		ob_vault_conn vc;
		uint64_t size;
		snprintf(home, sizeof(home), "%s/home-%s", dir, names[1]);
		ob_env_set("OBAGENT_SERVER_NAME", names[1]);
		assert_ok(ob_agent_open(&a, home));
		assert_ok(ob_agent_registration(&reg, a));
		assert_string_equal(reg->storage_type, "AzureBlob");
		assert_ok(ob_vault_conn_open(&vc, reg->vault_location));
		assert_false(vc.be->capabilities(vc.be) & OB_BACKEND_CAP_DELETE);
		assert_ob(OB_EACCESS, vc.be->remove(vc.be, "config"));
		assert_ok(vc.be->stat(&size, vc.be, "config"));
		/* Nor can it overwrite: puts are create-only. */
		assert_ob(OB_EEXISTS, vc.be->put(vc.be, "config", "x", 1));
		/* Nor open the owner's key: it is sealed with the account key. */
		{
			ob_vault *as_agent = NULL;
			assert_ob(OB_EACCESS, ob_vault_open(&as_agent, reg->vault_location));
		}
		ob_vault_conn_dispose(&vc);
		ob_registration_free(reg);
		ob_agent_free(a);
	}
	/*
	 * With its access token, server two forges key records and a data source in
	 * server three's area (docs/SECURITY.md): server three still rebuilds from a
	 * fresh state folder, and server two restores it only with its passphrase.
	 */
	{
		char home[1024], name[160], id[33], *text = NULL;
		ob_agent *a = NULL, *fresh = NULL;
		ob_registration *reg = NULL;
		ob_vault_conn vc;
		ob_recovery *rec = NULL;
		ob_recovery_point **pts = NULL;
		ob_recovery_source **srcs = NULL;
		size_t tl, n = 0;
		uint8_t other[OB_MASTER_KEY_BYTES];
		static const char forged_source[] = "obagent-source 1\nid=1\nname=/forged\nkind=FileFolder\n";
		snprintf(home, sizeof(home), "%s/home-%s", dir, names[1]);
		ob_env_set("OBAGENT_SERVER_NAME", names[1]);
		assert_ok(ob_agent_open(&a, home));
		assert_ok(ob_agent_registration(&reg, a));
		assert_ok(ob_vault_conn_open(&vc, reg->vault_location));
		ob_vault_server_id(id, names[2]);
		snprintf(name, sizeof(name), "servers/%s/keys/0000000001", id);
		assert_ok(ob_vault_read(&text, &tl, &vc, name));
		strstr(text, "wrapped_key=")[14] ^= 1;
		snprintf(name, sizeof(name), "servers/%s/keys/0000000002", id);
		assert_ok(vc.be->put(vc.be, name, text, tl));
		snprintf(name, sizeof(name), "servers/%s/keys/0000000003", id);
		assert_ok(vc.be->put(vc.be, name, "garbage", 7));
		assert_ok(ob_random(other, sizeof(other)));
		assert_ok(ob_server_key_write(&vc, id, 4, other, (const uint8_t *)"the forger's passphrase", 23, 1000));
		assert_ok(ob_server_key_write(&vc, id, 9999999999LL, other, (const uint8_t *)"the forger's passphrase", 23, 1000));
		snprintf(name, sizeof(name), "servers/%s/sources/1-0123456789abcdef", id);
		assert_ok(vc.be->put(vc.be, name, forged_source, strlen(forged_source)));
		ob_wipe(other, sizeof(other));
		free(text);
		ob_vault_conn_dispose(&vc);

		snprintf(home, sizeof(home), "%s/home-%s-rebuilt", dir, names[2]);
		ob_env_set("OBAGENT_SERVER_NAME", names[2]);
		assert_ok(ob_agent_open(&fresh, home));
		assert_ok(ob_agent_register(NULL, fresh, cred));
		assert_ob(OB_EPASSPHRASE, ob_agent_set_passphrase(fresh, (const uint8_t *)"the forger's passphrase", 23, NULL));
		assert_ok(ob_agent_set_passphrase(fresh, (const uint8_t *)PP, strlen(PP), NULL));
		assert_ok(ob_recovery_points(&pts, &n, fresh));
		assert_int_equal(n, 1);
		ob_recovery_points_free(pts, n);
		ob_agent_free(fresh);

		assert_ob(OB_EPASSPHRASE, ob_recovery_open(&rec, a, names[2], (const uint8_t *)"the forger's passphrase", 23));
		assert_ok(ob_recovery_open(&rec, a, names[2], (const uint8_t *)PP, strlen(PP)));
		assert_ok(ob_recovery_list_points(&pts, &n, rec));
		assert_int_equal(n, 1);
		ob_recovery_points_free(pts, n);
		ob_recovery_free(rec);
		assert_ok(ob_recovery_sources(&srcs, &n, a, names[2]));
		assert_int_equal(n, 1);
		assert_string_not_equal(srcs[0]->name, "/forged");
		ob_recovery_sources_free(srcs, n);
		ob_registration_free(reg);
		ob_agent_free(a);
	}
	/* Maintenance deletes, so it needs the owner's key; with it, it runs while the data stays whole. */
	{
		char home[1024];
		ob_agent *a = NULL;
		ob_maintenance_options mo = OB_MAINTENANCE_OPTIONS_INIT;
		ob_maintenance_report *rep = NULL;
		ob_recovery_point **pts = NULL;
		size_t n = 0;
		snprintf(home, sizeof(home), "%s/home-%s", dir, names[0]);
		ob_env_set("OBAGENT_SERVER_NAME", names[0]);
		assert_ok(ob_agent_open(&a, home));
		assert_ob(OB_EACCESS, ob_maintenance_run(&rep, a, &mo));
		assert_non_null(strstr(ob_error_last(), "storage account key"));
		mo.owner_key = DEV_KEY;
		mo.grace_seconds = 0;
		/* It runs while the two other servers back up again into the same vault. */
		for (i = 1; i < 3; i++) {
			pids[i] = fork();
			assert_true(pids[i] >= 0);
			if (pids[i] == 0)
				_exit(backup_again(names[i], data[i]));
		}
		assert_ok(ob_maintenance_run(&rep, a, &mo));
		free(rep);
		for (i = 1; i < 3; i++) {
			assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
			assert_true(WIFEXITED(status));
			assert_int_equal(WEXITSTATUS(status), 0);
		}
		ob_env_set("OBAGENT_SERVER_NAME", names[0]);
		/* The agent's own access is back, and the point still lists and tests healthy. */
		assert_ok(ob_recovery_points(&pts, &n, a));
		assert_int_equal(n, 1);
		{
			ob_recovery *rec = NULL;
			char *report = NULL;
			uint64_t objects = 0;
			assert_ok(ob_recovery_open(&rec, a, NULL, NULL, 0));
			assert_ok(ob_recovery_test(&report, &objects, rec, pts[0]->id));
			ob_str_free(report);
			ob_recovery_free(rec);
		}
		ob_recovery_points_free(pts, n);
		ob_agent_free(a);
	}
	/* The backups made during maintenance restore whole, with the file added since. */
	for (i = 1; i < 3; i++) {
		char home[1024], out[1024], cmd[4096];
		ob_agent *a = NULL;
		ob_recovery_point **pts = NULL;
		size_t n = 0;
		ob_restore_options ro = OB_RESTORE_OPTIONS_INIT;
		char *failed = NULL;
		snprintf(home, sizeof(home), "%s/home-%s", dir, names[i]);
		snprintf(out, sizeof(out), "%s/out-again-%s", dir, names[i]);
		ob_env_set("OBAGENT_SERVER_NAME", names[i]);
		assert_ok(ob_agent_open(&a, home));
		assert_ok(ob_recovery_points(&pts, &n, a));
		assert_int_equal(n, 2);
		assert_true(pts[0]->backup_time >= pts[1]->backup_time);   /* newest first */
		ro.point_id = pts[0]->id;
		ro.item = data[i] + 1;
		ro.destination = out;
		assert_ok(ob_restore(&failed, a, &ro));
		snprintf(cmd, sizeof(cmd), "diff -r '%s' '%s/%s'", data[i], out, data[i] + 1);
		assert_int_equal(system(cmd), 0);
		ob_recovery_points_free(pts, n);
		ob_agent_free(a);
	}
	/*
	 * Forged generation objects, written with an agent's token (docs/SECURITY.md): an
	 * unsigned 9999999999 and N+1 with no end in server one's area. Its backup goes on
	 * without waiting for that "maintenance"; its owner's next run takes a signed number
	 * (the forged one in its way removed) and removes the other.
	 */
	{
		char home[1024], victim[33], name[256];
		ob_agent *a = NULL;
		ob_registration *reg = NULL;
		ob_vault_conn vc;
		ob_name_list l;
		ob_maintenance_options mo = OB_MAINTENANCE_OPTIONS_INIT;
		ob_maintenance_report *rep = NULL;
		ob_job_info *j;
		const char *gen9 = "obagent-generation 1\ngeneration=9999999999\nat=1\n", *gen2 = "obagent-generation 1\ngeneration=2\nat=1\n";
		snprintf(home, sizeof(home), "%s/home-%s", dir, names[1]);
		ob_env_set("OBAGENT_SERVER_NAME", names[1]);
		assert_ok(ob_agent_open(&a, home));
		assert_ok(ob_agent_registration(&reg, a));
		assert_ok(ob_vault_conn_open(&vc, reg->vault_location));
		ob_vault_server_id(victim, names[0]);
		snprintf(name, sizeof(name), "servers/%s/generation/9999999999", victim);
		assert_ok(vc.be->put(vc.be, name, gen9, strlen(gen9)));
		snprintf(name, sizeof(name), "servers/%s/generation/0000000002", victim);   /* its maintenance took 1 */
		assert_ok(vc.be->put(vc.be, name, gen2, strlen(gen2)));
		ob_registration_free(reg);
		ob_agent_free(a);
		snprintf(home, sizeof(home), "%s/home-%s", dir, names[0]);
		ob_env_set("OBAGENT_SERVER_NAME", names[0]);
		assert_ok(ob_agent_open(&a, home));
		j = ob_test_backup(a);
		assert_int_equal(j->state, OB_JOB_COMPLETED);
		ob_job_info_free(j);
		mo.owner_key = DEV_KEY;
		assert_ok(ob_maintenance_run(&rep, a, &mo));
		assert_true(rep->objects_skipped >= 2);
		free(rep);
		snprintf(name, sizeof(name), "servers/%s/generation/", victim);
		assert_ok(ob_vault_list_names(&l, vc.be, name, strlen(name)));
		assert_int_equal(l.n, 2);
		assert_string_equal(l.v[0][10] ? l.v[1] : l.v[0], "0000000002");
		assert_string_equal(l.v[0][10] ? l.v[0] : l.v[1], "0000000002.end");
		ob_name_list_dispose(&l);
		j = ob_test_backup(a);
		assert_int_equal(j->state, OB_JOB_COMPLETED);
		ob_job_info_free(j);
		ob_vault_conn_dispose(&vc);
		ob_agent_free(a);
	}

	/* A tampered access token in the file is detected by the signature. */
	{
		char *text = ob_test_read(cred, &len), *p = strstr(text, "sp=rcl");
		ob_agent *a = NULL;
		char home[1024];
		p[4] = 'w';  /* sp=rwl */
		ob_test_write(cred, text, len);
		snprintf(home, sizeof(home), "%s/home-tamper", dir);
		assert_ok(ob_agent_open(&a, home));
		assert_ob(OB_EAUTH, ob_agent_register(NULL, a, cred));
		ob_agent_free(a);
		free(text);
	}
	ob_vault_free(v);
	ob_str_free(cred);
	free(creds);
	{
		ob_azure_options ao = OB_AZURE_OPTIONS_INIT;
		ao.endpoint = endpoint;
		ao.account = DEV_ACCOUNT;
		ao.account_key = DEV_KEY;
		ao.container = container;
		ob_azure_container_delete(&ao);
	}
}

/*
 * A forwarding HTTP proxy on loopback: it relays each connection to Azurite byte
 * for byte and notes what a proxy sees of the agent's requests.
 */
typedef struct {
	int listen_fd;
	unsigned short target_port;
	pthread_mutex_t lock;
	int connections, absolute_form, authorized;
} relay;

typedef struct {
	relay *r;
	int fd;
} relay_conn;

static void *relay_pump(void *arg)
{
	relay_conn *rc = arg;
	relay *r = rc->r;
	struct sockaddr_in to = { 0 };
	struct pollfd pf[2];
	char buf[65536];
	int up = socket(AF_INET, SOCK_STREAM, 0), first = 1;

	to.sin_family = AF_INET;
	to.sin_port = htons(r->target_port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (up < 0 || connect(up, (struct sockaddr *)&to, sizeof(to)) < 0)
		goto done;
	pf[0].fd = rc->fd;
	pf[1].fd = up;
	pf[0].events = pf[1].events = POLLIN;
	for (;;) {
		int i;
		if (poll(pf, 2, 30000) <= 0)
			break;
		for (i = 0; i < 2; i++) {
			ssize_t n, off = 0;
			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if ((n = read(pf[i].fd, buf, sizeof(buf) - 1)) <= 0)
				goto done;
			if (i == 0 && first) {
				buf[n] = '\0';
				pthread_mutex_lock(&r->lock);
				if (strstr(buf, " http://127.0.0.1:") && strstr(buf, " http://") < strstr(buf, "\r\n"))
					r->absolute_form++;
				if (strstr(buf, "\r\nProxy-Authorization: Basic "))
					r->authorized++;
				pthread_mutex_unlock(&r->lock);
				first = 0;
			}
			while (off < n) {
				ssize_t w = write(pf[1 - i].fd, buf + off, (size_t)(n - off));
				if (w <= 0)
					goto done;
				off += w;
			}
		}
	}
done:
	if (up >= 0)
		close(up);
	close(rc->fd);
	free(rc);
	return NULL;
}

static void *relay_accept(void *arg)
{
	relay *r = arg;
	int fd;

	while ((fd = accept(r->listen_fd, NULL, NULL)) >= 0) {
		relay_conn *rc = malloc(sizeof(*rc));
		pthread_t t;
		rc->r = r;
		rc->fd = fd;
		pthread_mutex_lock(&r->lock);
		r->connections++;
		pthread_mutex_unlock(&r->lock);
		if (pthread_create(&t, NULL, relay_pump, rc) != 0) {
			close(fd);
			free(rc);
		} else {
			pthread_detach(t);
		}
	}
	return NULL;
}

/* A loopback port that nothing listens on (bound, then closed). */
static unsigned short listen_port(int *out_fd)
{
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	if (out_fd) {
		assert_int_equal(listen(fd, 16), 0);
		*out_fd = fd;
	} else {
		close(fd);
	}
	return ntohs(a.sin_port);
}

static int relay_count(relay *r, int *absolute_form, int *authorized)
{
	int n;
	pthread_mutex_lock(&r->lock);
	n = r->connections;
	if (absolute_form)
		*absolute_form = r->absolute_form;
	if (authorized)
		*authorized = r->authorized;
	pthread_mutex_unlock(&r->lock);
	return n;
}

static void test_proxy(void **state)
{
	ob_vault *v = NULL;
	ob_vault_azure_options o;
	ob_agent *a = NULL;
	relay r = { 0 };
	pthread_t acceptor;
	char pcontainer[80], *cred = NULL, *creds, *home, *data, *out, cmd[4096];
	const char *port_text;
	unsigned short dead, proxy_port;
	ob_filespec_input spec;
	ob_policy *p = NULL;
	ob_job_info *j = NULL;
	ob_recovery_point **pts = NULL;
	ob_restore_options ro = OB_RESTORE_OPTIONS_INIT;
	char *failed = NULL;
	size_t n = 0;
	int before, absolute_form, authorized;

	(void)state;
	if (!endpoint)
		skip();
	port_text = strrchr(endpoint, ':');
	assert_non_null(port_text);
	r.target_port = (unsigned short)atoi(port_text + 1);
	pthread_mutex_init(&r.lock, NULL);
	proxy_port = listen_port(&r.listen_fd);
	assert_int_equal(pthread_create(&acceptor, NULL, relay_accept, &r), 0);

	snprintf(pcontainer, sizeof(pcontainer), "%s-proxy", container);
	o = owner_opts();
	o.container = pcontainer;
	creds = ob_test_path(dir, "proxy-creds");
	assert_ok(ob_vault_create_azure(&v, "ProxyJourney", &o));
	assert_ok(ob_vault_credentials_issue(&cred, v, creds, 10));
	home = ob_test_path(dir, "home-proxy");
	data = ob_test_path(dir, "data-proxy");
	out = ob_test_path(dir, "out-proxy");
	make_data(data, 11);
	ob_env_set("OBAGENT_SERVER_NAME", "az-proxy");
	assert_ok(ob_agent_open(&a, home));

	/* A proxy that does not answer: registration fails, saying to check the proxy. */
	dead = listen_port(NULL);
	assert_ok(ob_agent_set_proxy(a, "127.0.0.1", dead, NULL, NULL, 0));
	assert_ob(OB_EIO, ob_agent_register(NULL, a, cred));
	assert_non_null(strstr(ob_error_last(), "proxy"));
	assert_int_equal(relay_count(&r, NULL, NULL), 0);

	/* Through the relay, with proxy credentials: registration and a backup by the worker process. */
	assert_ok(ob_agent_set_proxy(a, "127.0.0.1", proxy_port, "proxyuser", (const uint8_t *)"proxy secret", 12));
	assert_ok(ob_agent_register(NULL, a, cred));
	assert_ok(ob_agent_set_passphrase(a, (const uint8_t *)PP, strlen(PP), NULL));
	spec.spec = data;
	spec.is_exclude = 0;
	spec.is_recursive = 1;
	assert_ok(ob_policy_commit(&p, a, &spec, 1));
	assert_ok(ob_backup_start(&j, a, 0));
	assert_ok(wait_job(&j, a));
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	before = relay_count(&r, &absolute_form, &authorized);
	assert_true(before > 0);
	assert_int_equal(absolute_form, before);   /* every connection spoke to a proxy */
	assert_int_equal(authorized, before);      /* with the proxy credentials */
	ob_agent_free(a);

	/* Without the proxy, the next process connects directly: the relay sees nothing more. */
	assert_ok(ob_agent_open(&a, home));
	assert_ok(ob_agent_set_no_proxy(a));
	assert_ok(ob_recovery_points(&pts, &n, a));
	assert_int_equal(n, 1);
	ro.point_id = pts[0]->id;
	ro.item = data + 1;
	ro.destination = out;
	assert_ok(ob_restore(&failed, a, &ro));
	snprintf(cmd, sizeof(cmd), "diff -r '%s' '%s/%s'", data, out, data + 1);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(relay_count(&r, NULL, NULL), before);

	shutdown(r.listen_fd, SHUT_RDWR);
	close(r.listen_fd);
	pthread_join(acceptor, NULL);
	ob_recovery_points_free(pts, n);
	ob_job_info_free(j);
	ob_policy_free(p);
	ob_agent_free(a);
	ob_vault_free(v);
	ob_str_free(cred);
	free(creds);
	free(home);
	free(data);
	free(out);
	{
		ob_azure_options ao = OB_AZURE_OPTIONS_INIT;
		ao.endpoint = endpoint;
		ao.account = DEV_ACCOUNT;
		ao.account_key = DEV_KEY;
		ao.container = pcontainer;
		ob_azure_container_delete(&ao);
	}
}

static int azurite_sh(const char *action, int port, const char *run)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "OBAGENT_AZURITE_RUN='%s' bash '%s' %s %d >/dev/null", run, OBAGENT_AZURITE_SH, action, port);
	return system(cmd);
}

/* The process id of a job's worker (0 when it is not running). */
static pid_t worker_pid(const char *job_id)
{
	char cmd[256];
	long pid = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "pgrep -f 'run-job --job %s'", job_id);
	if ((f = popen(cmd, "r")) != NULL) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		pclose(f);
	}
	return (pid_t)pid;
}

/*
 * Run a backup; once bytes_at are uploaded, stop the storage service and start
 * it again after seconds (-1: leave it stopped). Returns the ended job. The
 * worker meets an outage of that many seconds of its own running time: it is
 * held (SIGSTOP) while the service stops and while it starts again, which takes
 * a loaded machine longer than any retry budget, and runs in between.
 */
static ob_job_info *backup_with_outage(ob_agent *a, uint64_t bytes_at, int seconds, int port, const char *run, int *paused)
{
	ob_job_info *j = NULL;
	int i;

	*paused = 0;
	assert_ok(ob_backup_start(&j, a, 0));
	for (i = 0; i < 30000 && j->state == OB_JOB_INPROGRESS; i++) {
		char *id = strdup(j->job_id);
		if (!*paused && j->bytes_uploaded >= bytes_at) {
			pid_t w = seconds >= 0 ? worker_pid(id) : 0;
			if (w > 0)
				kill(w, SIGSTOP);
			assert_int_equal(azurite_sh("pause", port, run), 0);
			if (seconds >= 0) {
				if (w > 0)
					kill(w, SIGCONT);
				sleep((unsigned int)seconds);
				if (w > 0)
					kill(w, SIGSTOP);
				assert_int_equal(azurite_sh("resume", port, run), 0);
				if (w > 0)
					kill(w, SIGCONT);
			}
			*paused = 1;
		}
		ob_job_info_free(j);
		usleep(20000);
		assert_ok(ob_job_get(&j, a, id));
		free(id);
	}
	return j;
}

/*
 * The storage service stops in the middle of a backup (its process ends; its
 * data stays): the job fails with a network error. The next run uploads only
 * what is not stored yet, rides out a short outage (its requests retry), and
 * its point restores byte for byte.
 */
static void test_outage(void **state)
{
	char *run = ob_test_tempdir("azurite-outage"), url[128], ocontainer[80], cmd[4096], path[1024];
	char *cred = NULL, *creds, *home, *data, *out, *failed = NULL;
	int port = listen_port(NULL), i, paused = 0;
	uint64_t uploaded_first;
	ob_vault *v = NULL;
	ob_vault_azure_options o;
	ob_agent *a = NULL;
	ob_filespec_input spec;
	ob_policy *p = NULL;
	ob_job_info *j = NULL;
	ob_recovery_point **pts = NULL;
	ob_restore_options ro = OB_RESTORE_OPTIONS_INIT;
	size_t n = 0;
	uint8_t *buf;
	FILE *f;

	(void)state;
	if (!endpoint)
		skip();
	if (azurite_sh("start", port, run) != 0)
		fail_msg("could not start a second Azurite on port %d", port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/" DEV_ACCOUNT, port);
	snprintf(ocontainer, sizeof(ocontainer), "%s-outage", container);
	o = owner_opts();
	o.endpoint = url;
	o.container = ocontainer;
	creds = ob_test_path(dir, "outage-creds");
	home = ob_test_path(dir, "home-outage");
	data = ob_test_path(dir, "data-outage");
	out = ob_test_path(dir, "out-outage");
	assert_ok(ob_vault_create_azure(&v, "OutageJourney", &o));
	assert_ok(ob_vault_credentials_issue(&cred, v, creds, 10));

	/* 32 MiB that neither compresses nor repeats, sent at 4 MiB/s: the job lasts about 8 s. */
	mkdir(data, 0755);
	buf = malloc(2u << 20);
	assert_non_null(f = fopen("/dev/urandom", "rb"));
	for (i = 0; i < 16; i++) {
		assert_int_equal(fread(buf, 1, 2u << 20, f), 2u << 20);
		snprintf(path, sizeof(path), "%s/part%02d.bin", data, i);
		ob_test_write(path, buf, 2u << 20);
	}
	fclose(f);
	free(buf);

	ob_env_set("OBAGENT_SERVER_NAME", "az-outage");
	assert_ok(ob_agent_open(&a, home));
	assert_ok(ob_agent_register(NULL, a, cred));
	assert_ok(ob_agent_set_passphrase(a, (const uint8_t *)PP, strlen(PP), NULL));
	assert_ok(ob_agent_set_throttle(a, 0x7f, 0, 1439, 4u << 20, 4u << 20));
	spec.spec = data;
	spec.is_exclude = 0;
	spec.is_recursive = 1;
	assert_ok(ob_policy_commit(&p, a, &spec, 1));

	/* The service goes away for good once 8 MiB are in the vault: the job fails, saying why. */
	j = backup_with_outage(a, 8u << 20, -1, port, run, &paused);
	assert_true(paused);
	assert_int_equal(j->state, OB_JOB_FAILED);
	assert_non_null(j->error_message);
	assert_non_null(strstr(j->error_message, "Cannot reach the vault"));
	uploaded_first = j->bytes_uploaded;
	assert_true(uploaded_first >= (8u << 20));
	ob_job_info_free(j);
	assert_int_equal(azurite_sh("resume", port, run), 0);

	/*
	 * The next run sends only what is not stored yet, and rides out a 2 s outage
	 * of the service on the way (its requests retry for about 8 s).
	 */
	j = backup_with_outage(a, 4u << 20, 2, port, run, &paused);
	if (j->state != OB_JOB_COMPLETED)
		fail_msg("job %s: %s", ob_job_state_name(j->state), j->error_message ? j->error_message : "");
	assert_true(paused);   /* the outage happened while the job ran */
	assert_true(uploaded_first + j->bytes_uploaded <= (32u << 20) + (1u << 20));

	assert_ok(ob_recovery_points(&pts, &n, a));
	assert_int_equal(n, 1);
	ro.point_id = pts[0]->id;
	ro.item = data + 1;
	ro.destination = out;
	assert_ok(ob_restore(&failed, a, &ro));
	snprintf(cmd, sizeof(cmd), "diff -r '%s' '%s/%s'", data, out, data + 1);
	assert_int_equal(system(cmd), 0);

	ob_recovery_points_free(pts, n);
	ob_job_info_free(j);
	ob_policy_free(p);
	ob_agent_free(a);
	ob_vault_free(v);
	ob_str_free(cred);
	free(creds);
	free(home);
	free(data);
	free(out);
	azurite_sh("stop", port, run);
	ob_test_rmtree(run);
	free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journey),
		cmocka_unit_test(test_proxy),
		cmocka_unit_test(test_outage),
	};
	ob_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
