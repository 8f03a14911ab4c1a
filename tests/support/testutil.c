#define _XOPEN_SOURCE 700
#include "testutil.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *ob_test_tempdir(const char *tag)
{
	char tmpl[512];
	const char *base = getenv("TMPDIR");
	char *p;

	snprintf(tmpl, sizeof(tmpl), "%s/obagent-%s-XXXXXX", base && *base ? base : "/tmp", tag);
	p = mkdtemp(tmpl);
	assert_non_null(p);
	return strdup(p);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

void ob_test_rmtree(const char *path)
{
	if (path)
		nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *ob_test_path(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);

	assert_non_null(p);
	snprintf(p, n, "%s/%s", a, b);
	return p;
}

void ob_test_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

char *ob_test_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

void ob_test_server_folders(ob_test_server *s, const char *tag)
{
	memset(s, 0, sizeof(*s));
	s->dir = ob_test_tempdir(tag);
	s->src = ob_test_path(s->dir, "src");
	s->vault_path = ob_test_path(s->dir, "vault");
	s->creds = ob_test_path(s->dir, "creds");
	assert_int_equal(mkdir(s->src, 0755), 0);
}

void ob_test_server_register(ob_test_server *s, const char *home, const char *worker, const char *server_name,
	const char *vault_name, const char *passphrase)
{
	ob_vault *v;
	char *cred, *home_path = ob_test_path(s->dir, home);
	ob_filespec_input spec;
	ob_policy *policy;

	ob_env_set("OBAGENT_WORKER", worker);
	ob_env_set("OBAGENT_SERVER_NAME", server_name);
	ob_env_set("OBAGENT_NOW", NULL);
	assert_ok(ob_vault_create(&v, s->vault_path, vault_name));
	assert_ok(ob_vault_credentials_issue(&cred, v, s->creds, 10));
	assert_ok(ob_agent_open(&s->agent, home_path));
	assert_ok(ob_agent_register(NULL, s->agent, cred));
	assert_ok(ob_agent_set_passphrase(s->agent, (const uint8_t *)passphrase, strlen(passphrase), NULL));
	spec.spec = s->src;
	spec.is_exclude = 0;
	spec.is_recursive = 1;
	assert_ok(ob_policy_commit(&policy, s->agent, &spec, 1));
	ob_policy_free(policy);
	ob_str_free(cred);
	ob_vault_free(v);
	free(home_path);
}

void ob_test_server_dispose(ob_test_server *s)
{
	ob_agent_free(s->agent);
	ob_test_rmtree(s->dir);
	free(s->dir);
	free(s->src);
	free(s->vault_path);
	free(s->creds);
	memset(s, 0, sizeof(*s));
}

ob_job_info *ob_test_job_wait(ob_agent *a, ob_job_info *j)
{
	char *id = strdup(j->job_id);
	int i;

	assert_non_null(id);
	for (i = 0; i < 30000 && j->state == OB_JOB_INPROGRESS; i++) {
		ob_job_info_free(j);
		usleep(20000);
		assert_ok(ob_job_get(&j, a, id));
	}
	free(id);
	return j;
}

ob_job_info *ob_test_backup(ob_agent *a)
{
	ob_job_info *j = NULL;

	assert_ok(ob_backup_start(&j, a, 0));
	return ob_test_job_wait(a, j);
}

void ob_test_newest_point(ob_agent *a, char **point, int64_t *ds)
{
	ob_recovery_point **pts = NULL;
	size_t n = 0;

	assert_ok(ob_recovery_points(&pts, &n, a));
	assert_true(n >= 1);
	*point = strdup(pts[0]->id);
	*ds = strtoll(pts[0]->datasource_ids, NULL, 10);
	ob_recovery_points_free(pts, n);
}
