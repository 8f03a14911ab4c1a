/*
 * The user's journey on a vault in Azure Blob Storage (Azurite on loopback):
 * the owner creates the vault with the account key; agents register with a
 * credentials file that carries only an access token; three servers back up at
 * the same time; every point restores byte for byte; another server's data
 * restores with its passphrase; and an agent's delete is refused by the storage.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "vault_internal.h"
#include "obagent/sys/azure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* One server: register with the credentials file, set the passphrase, back up its folder. */
static int run_server(const char *name, const char *cred, const char *data)
{
	char home[1024];
	ob_agent *a = NULL;
	ob_filespec_input spec = { data, 0, 1 };
	ob_policy *p = NULL;
	ob_job_info *j = NULL;
	int i;

	snprintf(home, sizeof(home), "%s/home-%s", dir, name);
	ob_env_set("OBAGENT_SERVER_NAME", name);
	if (ob_agent_open(&a, home) < 0 || ob_agent_register(NULL, a, cred) < 0 ||
	    ob_agent_set_passphrase(a, (const uint8_t *)PP, strlen(PP), NULL) < 0 ||
	    ob_policy_commit(&p, a, &spec, 1) < 0 || ob_backup_start(&j, a, 0) < 0) {
		fprintf(stderr, "%s: %s\n", name, ob_error_last());
		return 1;
	}
	for (i = 0; i < 6000 && j->state == OB_JOB_INPROGRESS; i++) {
		char *id = strdup(j->job_id);
		ob_job_info_free(j);
		usleep(20000);
		if (ob_job_get(&j, a, id) < 0)
			return 2;
		free(id);
	}
	if (j->state != OB_JOB_COMPLETED) {
		fprintf(stderr, "%s: job %s: %s\n", name, ob_job_state_name(j->state), j->error_message ? j->error_message : "");
		return 3;
	}
	ob_job_info_free(j);
	ob_policy_free(p);
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
		for (i = 0; i < 3000 && j->state == OB_JOB_INPROGRESS; i++) {
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
		assert_ok(ob_maintenance_run(&rep, a, &mo));
		free(rep);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journey),
	};
	ob_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
