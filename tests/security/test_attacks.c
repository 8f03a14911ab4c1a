/*
 * The attack suite (docs/SECURITY.md; what each case tries is in tests/security/README.md).
 *
 * One vault, its owner, and three servers: victim B backs up a folder, attacker A
 * is registered with the same credentials file and writes forgeries into B's area
 * (and the vault-wide folders) with exactly an agent's rights, and C restores B's
 * data with B's passphrase. After the forgeries B must list, back up, rebuild and
 * restore as before, C must restore B, and the owner's maintenance, 15 days on,
 * must purge nothing early. A genuine soft delete still hides a point for 14 days
 * of the storage's time, and a replayed marker hides nothing the owner undeleted.
 *
 * Two variants of the same scenario: `test_attacks local` (a vault folder; the
 * attacker writes through ob_backend_local_new, create-only, as an agent does) and
 * `test_attacks azure` (Azurite; the attacker writes through an Azure back end
 * opened with the credentials file's "rcl" SAS, the token every agent holds).
 * The cases run in order and share the scenario: each forgery case writes its
 * objects and probes what it can cheaply; the checks after see all of them.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "obagent/sys/azure.h"
#include "util/util.h"
#include "vault/credentials.h"
#include "vault/crypto.h"
#include "vault/vault_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEV_ACCOUNT "devstoreaccount1"
#define DEV_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define DAY 86400
/* A job of this suite moves a few hundred KiB: one still running after this waits on a forgery. */
#define JOB_HANG_SECONDS 180
#define MAX_POINTS 8

static const char *PP_B = "victim b passphrase, sixteen+";
static const char *PP_A = "attacker a passphrase, 16+";
static const char *PP_C = "restorer c passphrase, 16+";
static const char *NAME_B = "victim-b", *NAME_A = "attacker-a", *NAME_C = "restorer-c";
/* The PIN the attacker puts in its forged PIN record. */
static const char *PIN_A = "13572468";

static struct {
	int azure, ready;
	int dry;                           /* --no-forgeries: the attacker writes nothing (the suite's own check) */
	const char *endpoint;
	char container[64];
	char *dir, *vault_path, *creds_dir, *cred;
	char *location, *vault_id, *sas;   /* B's registration: where the vault is; Azure: the file's token */
	char *src_b, *src_a;
	char b_id[33];
	ob_agent *b, *a;
	ob_backend *attacker;              /* A's own rights: create, read, list */
	char *points[MAX_POINTS];          /* B's genuine points, oldest first */
	char *states[MAX_POINTS];          /* a copy of B's folder as each point saw it */
	size_t npoints;
	char *forged_snapshots[2];
	int64_t source_ids[4];             /* B's data sources, as its own sealed points name them */
	char *source_names[4];
	size_t nsources;
	int64_t preempted_source;          /* the data source id of B's that A wrote before B could */
} t;

/* ---- the scenario's parts ---- */

static ob_vault_azure_options owner_opts(void)
{
	ob_vault_azure_options o = OB_VAULT_AZURE_OPTIONS_INIT;

	o.endpoint = t.endpoint;
	o.account = DEV_ACCOUNT;
	o.account_key = DEV_KEY;
	o.container = t.container;
	return o;
}

/*
 * The owner's handle. On Azure, opening it makes the account key this process's
 * access to the vault; owner_done gives the agents in this process their token
 * back, so that nothing they do here has more rights than an agent has.
 */
static ob_vault *owner_open(void)
{
	ob_vault *v = NULL;

	if (t.azure) {
		ob_vault_azure_options o = owner_opts();
		assert_ok(ob_vault_open_azure(&v, &o));
	} else {
		assert_ok(ob_vault_open(&v, t.vault_path));
	}
	return v;
}

static void owner_done(ob_vault *v)
{
	ob_vault_free(v);
	if (t.azure && t.location) {
		char access[4096];
		snprintf(access, sizeof(access), "sas:%s", t.sas);
		assert_ok(ob_vault_access_set(t.location, access));
	}
}

static char *pin_new(void)
{
	ob_vault *v = owner_open();
	char *pin = NULL;
	int64_t expires;

	assert_ok(ob_vault_security_pin_new(&pin, &expires, v));
	owner_done(v);
	return pin;
}

static char *home_path(const char *tag)
{
	char name[128];

	snprintf(name, sizeof(name), "home-%s", tag);
	return ob_test_path(t.dir, name);
}

/* Register a server (home dir/home-<tag>), set its passphrase, and commit a policy for src (NULL: none). */
static ob_agent *server_up(const char *name, const char *tag, const char *passphrase, const char *src)
{
	char *home = home_path(tag);
	ob_agent *a = NULL;

	ob_env_set("OBAGENT_SERVER_NAME", name);
	assert_ok(ob_agent_open(&a, home));
	assert_ok(ob_agent_register(NULL, a, t.cred));
	if (passphrase)
		assert_ok(ob_agent_set_passphrase(a, (const uint8_t *)passphrase, strlen(passphrase), NULL));
	if (src) {
		ob_filespec_input spec = { src, 0, 1 };
		ob_policy *p = NULL;
		assert_ok(ob_policy_commit(&p, a, &spec, 1));
		ob_policy_free(p);
	}
	free(home);
	return a;
}

/* Poll a job to its end. One that runs past JOB_HANG_SECONDS is stopped and fails the case. */
static ob_job_info *job_wait(ob_agent *a, ob_job_info *j, const char *what)
{
	char *id = strdup(j->job_id);
	time_t start = time(NULL);

	assert_non_null(id);
	while (j->state == OB_JOB_INPROGRESS && time(NULL) - start < JOB_HANG_SECONDS) {
		ob_job_info_free(j);
		j = NULL;
		assert_ok(ob_job_wait(&j, a, id, 1000));
	}
	if (j->state == OB_JOB_INPROGRESS) {
		char phase[256];
		snprintf(phase, sizeof(phase), "%s", j->phase ? j->phase : "");
		ob_job_stop(a, id);
		ob_job_info_free(j);
		j = NULL;
		assert_ok(ob_job_wait(&j, a, id, 120000));
		ob_job_info_free(j);
		free(id);
		fail_msg("%s was still running after %d s (phase '%s'): it waits on a forgery (a generation without "
			"its end?); stopped", what, JOB_HANG_SECONDS, phase);
	}
	free(id);
	return j;
}

/* The failed items of a job, for messages. */
static char *job_failures(ob_agent *a, const ob_job_info *j)
{
	char *failed = NULL;

	if (ob_job_failed_files(&failed, a, j->job_id) < 0)
		return strdup("");
	return failed;
}

/*
 * B backs up; the point must be healthy. The job ends Completed, or
 * CompletedWithWarning when its only warnings are about forged objects it
 * ignored (docs/SECURITY.md: "says so in a warning"): none may name B's files.
 */
static void b_backup(const char *what)
{
	ob_job_info *j = NULL;
	char cmd[2048], *failed;
	size_t k = t.npoints;

	assert_true(k < MAX_POINTS);
	assert_ok(ob_backup_start(&j, t.b, 0));
	j = job_wait(t.b, j, what);
	failed = job_failures(t.b, j);
	if (j->state != OB_JOB_COMPLETED && j->state != OB_JOB_COMPLETED_WITH_WARNING)
		fail_msg("%s: the job ended %s: %s (failed items: %s)", what, ob_job_state_name(j->state),
			j->error_message ? j->error_message : "", failed);
	if (failed && strstr(failed, t.src_b))
		fail_msg("%s: the job failed some of B's files: %s", what, failed);
	assert_non_null(j->recovery_point);
	t.points[k] = strdup(j->recovery_point);
	snprintf(cmd, sizeof(cmd), "%s/state-%zu", t.dir, k + 1);
	t.states[k] = strdup(cmd);
	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", t.src_b, t.states[k]);
	assert_int_equal(system(cmd), 0);
	t.npoints++;
	ob_str_free(failed);
	ob_job_info_free(j);
}

/* Point k is named from B's clock: a forged snapshot's far-future name was not taken as the newest point. */
static void check_named_now(size_t k, int64_t now)
{
	int64_t named = strtoll(t.points[k], NULL, 10);

	if (named < now - DAY || named > now + DAY)
		fail_msg("B's new point is named %s, not from B's clock: the name's time was taken from a forged snapshot",
			t.points[k]);
}

/* Change B's folder between points: one file grows, one is new. */
static void b_change(int round)
{
	char path[1024], text[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/a.txt", t.src_b);
	assert_non_null(f = fopen(path, "a"));
	fprintf(f, "round %d\n", round);
	fclose(f);
	snprintf(path, sizeof(path), "%s/sub/new-%d.txt", t.src_b, round);
	snprintf(text, sizeof(text), "added in round %d\n", round);
	ob_test_write(path, text, strlen(text));
}

/* A folder of a few files, a symlink and a subfolder (one file of 200 KiB, not compressible much). */
static void make_folder(const char *root, unsigned seed)
{
	char path[1024];
	uint8_t *buf = malloc(200u << 10);
	size_t k;
	uint32_t x = seed * 2654435761u + 1;

	assert_non_null(buf);
	assert_int_equal(mkdir(root, 0755), 0);
	snprintf(path, sizeof(path), "%s/sub", root);
	assert_int_equal(mkdir(path, 0750), 0);
	snprintf(path, sizeof(path), "%s/sub/deeper", root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/a.txt", root);
	ob_test_write(path, "alpha\n", 6);
	for (k = 0; k < (200u << 10); k++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[k] = (uint8_t)(k % 7 ? x : k);
	}
	snprintf(path, sizeof(path), "%s/b.bin", root);
	ob_test_write(path, buf, 200u << 10);
	snprintf(path, sizeof(path), "%s/sub/c.txt", root);
	ob_test_write(path, "charlie\n", 8);
	snprintf(path, sizeof(path), "%s/sub/deeper/d.txt", root);
	ob_test_write(path, "delta\n", 6);
	snprintf(path, sizeof(path), "%s/link", root);
	assert_int_equal(symlink("a.txt", path), 0);
	free(buf);
}

/* The restored copy of B's folder under out equals the state of point k, byte for byte, the link a link. */
static void compare_state(const char *out, size_t k, const char *what)
{
	char cmd[4096], link[1024], target[64];
	struct stat st;
	ssize_t n;

	snprintf(cmd, sizeof(cmd), "diff -r --no-dereference '%s' '%s/%s' >&2", t.states[k], out, t.src_b + 1);
	if (system(cmd) != 0)
		fail_msg("%s: the restored folder differs from the point's (%s)", what, t.states[k]);
	snprintf(link, sizeof(link), "%s/%s/link", out, t.src_b + 1);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	n = readlink(link, target, sizeof(target) - 1);
	assert_int_equal(n, 5);
	target[n] = '\0';
	assert_string_equal(target, "a.txt");
}

/* Restore point k of B in this process with agent a, and compare it. */
static void restore_check(ob_agent *a, size_t k, const char *tag)
{
	ob_restore_options ro = OB_RESTORE_OPTIONS_INIT;
	char name[128], *out, *failed = NULL;
	int rc;

	snprintf(name, sizeof(name), "out-%s", tag);
	out = ob_test_path(t.dir, name);
	ob_test_rmtree(out);
	ro.point_id = t.points[k];
	ro.item = t.src_b + 1;
	ro.destination = out;
	rc = ob_restore(&failed, a, &ro);
	if (rc < 0)
		fail_msg("%s: restoring point %s failed: %s (%s) %s", tag, t.points[k], ob_error_name(rc), ob_error_last(),
			failed ? failed : "");
	compare_state(out, k, tag);
	ob_str_free(failed);
	free(out);
}

static int genuine_index(const char *id)
{
	size_t i;

	for (i = 0; i < t.npoints; i++)
		if (t.points[i] && !strcmp(t.points[i], id))
			return (int)i;
	return -1;
}

static void print_points(ob_recovery_point **pts, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		print_message("  %s%s deleted_at=%lld%s%s\n", pts[i]->id, pts[i]->damaged ? " DAMAGED" : "",
			(long long)pts[i]->deleted_at, pts[i]->problem ? " " : "", pts[i]->problem ? pts[i]->problem : "");
}

/*
 * A listing holds every genuine point named in want (a bit per point index), sound
 * and not deleted; whatever else it holds is a forged snapshot, listed as damaged.
 */
static void check_listing(ob_recovery_point **pts, size_t n, unsigned want, const char *what)
{
	size_t i, k;

	for (k = 0; k < t.npoints; k++) {
		int found = 0;
		if (!(want & (1u << k)))
			continue;
		for (i = 0; i < n; i++)
			if (!strcmp(pts[i]->id, t.points[k])) {
				found = 1;
				if (pts[i]->damaged || pts[i]->deleted_at) {
					print_points(pts, n);
					fail_msg("%s: B's point %zu (%s) is listed %s", what, k + 1, t.points[k],
						pts[i]->damaged ? "as damaged" : "as deleted");
				}
			}
		if (!found) {
			print_points(pts, n);
			fail_msg("%s: B's point %zu (%s) is not listed", what, k + 1, t.points[k]);
		}
	}
	for (i = 0; i < n; i++)
		if (genuine_index(pts[i]->id) < 0 && !pts[i]->damaged) {
			print_points(pts, n);
			fail_msg("%s: %s is listed as a sound point of B, but B never made it", what, pts[i]->id);
		}
}

/* B's own listings: the normal one and the owner's view with deleted points. */
static void check_points(unsigned want, const char *what)
{
	ob_recovery_point **pts = NULL;
	size_t n = 0;
	char label[256];

	assert_ok(ob_recovery_points(&pts, &n, t.b));
	snprintf(label, sizeof(label), "%s (Get-OBAllRecoveryPoints)", what);
	check_listing(pts, n, want, label);
	ob_recovery_points_free(pts, n);
	assert_ok(ob_recovery_points_all(&pts, &n, t.b));
	snprintf(label, sizeof(label), "%s (with deleted points)", what);
	check_listing(pts, n, want, label);
	ob_recovery_points_free(pts, n);
}

static unsigned all_points(void)
{
	return (1u << t.npoints) - 1;
}

/* The genuine points listed sound and not deleted in both of B's listings (a bit per point). */
static unsigned healthy_points(void)
{
	ob_recovery_point **pts = NULL, **all = NULL;
	size_t n = 0, nall = 0, k;
	unsigned mask = 0;

	assert_ok(ob_recovery_points(&pts, &n, t.b));
	assert_ok(ob_recovery_points_all(&all, &nall, t.b));
	for (k = 0; k < t.npoints; k++) {
		size_t i;
		int ok = 0, ok_all = 0;
		for (i = 0; i < n; i++)
			if (!strcmp(pts[i]->id, t.points[k]) && !pts[i]->damaged && !pts[i]->deleted_at)
				ok = 1;
		for (i = 0; i < nall; i++)
			if (!strcmp(all[i]->id, t.points[k]) && !all[i]->damaged && !all[i]->deleted_at)
				ok_all = 1;
		if (ok && ok_all)
			mask |= 1u << k;
	}
	ob_recovery_points_free(pts, n);
	ob_recovery_points_free(all, nall);
	return mask;
}

/*
 * A forgery case's probe: every genuine point that was healthy before this
 * forgery still is (so that a case fails for its own forgery only, not for an
 * earlier one's harm), and nothing but a damaged entry is listed that B never made.
 */
static void check_no_new_harm(unsigned before, const char *what)
{
	unsigned after = healthy_points();

	if (before & ~after) {
		ob_recovery_point **pts = NULL;
		size_t n = 0;
		assert_ok(ob_recovery_points_all(&pts, &n, t.b));
		print_points(pts, n);
		ob_recovery_points_free(pts, n);
		fail_msg("%s: B's points 0x%x were listed sound before it, now only 0x%x are", what, before, after);
	}
	check_points(after, what);
}

/* ---- the attacker's side: names and bytes in B's area, with A's rights ---- */

static void forge_at(const char *name, const void *data, size_t len)
{
	int rc = t.dry ? 0 : t.attacker->put(t.attacker, name, data, len);

	if (rc < 0)
		fail_msg("the attacker could not create %s: %s (%s)", name, ob_error_name(rc), ob_error_last());
}

/* Create servers/<B>/<rel>. */
static void forge(const char *rel, const void *data, size_t len)
{
	char name[512];

	snprintf(name, sizeof(name), "servers/%s/%s", t.b_id, rel);
	forge_at(name, data, len);
}

/* Read any object, as A can; the copy (free()) has a NUL after its *len bytes, for the record forgeries. */
static void *steal(const char *name, size_t *len)
{
	void *data = NULL;
	char *copy;

	assert_ok(t.attacker->get(&data, len, t.attacker, name, 0, 0));
	assert_non_null(copy = malloc(*len + 1));
	if (*len)
		memcpy(copy, data, *len);
	copy[*len] = '\0';
	free(data);
	return copy;
}

/* The names under servers/<server>/<rel>, relative to it. */
static void names_of(ob_name_list *l, const char *server_id, const char *rel)
{
	char prefix[256];

	snprintf(prefix, sizeof(prefix), "servers/%s/%s", server_id, rel);
	assert_ok(ob_vault_list_names(l, t.attacker, prefix, strlen(prefix)));
}

/* The highest ten-digit sequence under a full prefix (0: none). */
static int64_t max_seq(const char *prefix)
{
	ob_name_list l = { 0 };
	int64_t max = 0, v;
	size_t i;

	assert_ok(ob_vault_list_names(&l, t.attacker, prefix, strlen(prefix)));
	for (i = 0; i < l.n; i++)
		if (strlen(l.v[i]) == 10 && ob_parse_i64(&v, l.v[i]) == 0 && v > max)
			max = v;
	ob_name_list_dispose(&l);
	return max;
}

static void random_bytes(uint8_t *buf, size_t len)
{
	assert_ok(ob_random(buf, len));
}

static void sha256_hex(char out[65], const void *data, size_t len)
{
	uint8_t digest[32];

	ob_sha256(digest, data, len);
	ob_hex_encode(out, digest, 32);
}

static char *b64(const uint8_t *data, size_t len)
{
	char *s = ob_base64_encode(data, len);

	assert_non_null(s);
	return s;
}

/* ---- setup and teardown ---- */

static void attacker_open(void)
{
	if (t.azure) {
		char *xml;
		size_t len;
		ob_credentials c = { 0 };
		ob_azure_options o = OB_AZURE_OPTIONS_INIT;
		xml = ob_test_read(t.cred, &len);
		assert_ok(ob_credentials_parse(&c, xml, len));
		assert_non_null(strstr(c.access_token, "sp=rcl"));
		o.endpoint = c.endpoint;
		o.account = c.account;
		o.container = c.container;
		o.sas = c.access_token;
		assert_ok(ob_backend_azure_new(&t.attacker, &o));
		assert_false(t.attacker->capabilities(t.attacker) & OB_BACKEND_CAP_DELETE);
		t.sas = strdup(c.access_token);
		ob_credentials_dispose(&c);
		free(xml);
	} else {
		assert_ok(ob_backend_local_new(&t.attacker, t.vault_path));
	}
}

static int group_setup(void **state)
{
	(void)state;
	t.dir = ob_test_tempdir(t.azure ? "attacks-azure" : "attacks-local");
	t.vault_path = ob_test_path(t.dir, "vault");
	t.creds_dir = ob_test_path(t.dir, "creds");
	t.src_b = ob_test_path(t.dir, "data-b");
	t.src_a = ob_test_path(t.dir, "data-a");
	snprintf(t.container, sizeof(t.container), "attacks-%d-%ld", (int)getpid(), (long)time(NULL) % 100000);
	ob_env_set("OBAGENT_WORKER", OBAGENT_WORKER_PATH);
	ob_env_set("OBAGENT_NOW", NULL);
	return 0;
}

static int group_teardown(void **state)
{
	size_t i;

	(void)state;
	ob_agent_free(t.b);
	ob_agent_free(t.a);
	if (t.attacker)
		t.attacker->free(t.attacker);
	if (t.azure && t.endpoint) {
		ob_azure_options ao = OB_AZURE_OPTIONS_INIT;
		ao.endpoint = t.endpoint;
		ao.account = DEV_ACCOUNT;
		ao.account_key = DEV_KEY;
		ao.container = t.container;
		ob_azure_container_delete(&ao);
	}
	ob_test_rmtree(t.dir);
	for (i = 0; i < MAX_POINTS; i++) {
		free(t.points[i]);
		free(t.states[i]);
	}
	for (i = 0; i < t.nsources; i++)
		free(t.source_names[i]);
	free(t.forged_snapshots[0]);
	free(t.forged_snapshots[1]);
	free(t.dir);
	free(t.vault_path);
	free(t.creds_dir);
	free(t.cred);
	free(t.location);
	free(t.vault_id);
	free(t.sas);
	free(t.src_b);
	free(t.src_a);
	return 0;
}

/*
 * A data source's id is derived from the server's id, the kind and the mount
 * point (native/policy/policy.c), so A can write B's sources/<id> record before B
 * ever backs that mount up: B's own record then finds its name taken. This is
 * the only forgery made in the setup (it must come before B's first backup);
 * test_forge_sources checks what B and others list.
 */
static void preempt_source(void)
{
	char cmd[1024], mount[512] = "", sid[33], rel[128];
	ob_buf b = OB_BUF_INIT, rec = OB_BUF_INIT;
	uint8_t digest[32];
	uint64_t r = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "df --output=target '%s' | tail -n 1", t.src_b);
	assert_non_null(f = popen(cmd, "r"));
	assert_non_null(fgets(mount, sizeof(mount), f));
	pclose(f);
	mount[strcspn(mount, "\n")] = '\0';
	ob_vault_server_id(sid, NAME_B);
	assert_ok(ob_buf_printf(&b, "obagent-datasource:%s:FileFolder:%s", sid, mount));
	ob_sha256(digest, b.data, b.len);
	ob_buf_dispose(&b);
	memcpy(&r, digest, sizeof(r));
	r &= UINT64_C(0x3fffffffffffffff);
	t.preempted_source = (int64_t)r;
	assert_ok(ob_kv_begin(&rec, "source", 1));
	assert_ok(ob_kv_add_i64(&rec, "id", t.preempted_source));
	assert_ok(ob_kv_add(&rec, "name", "/etc"));
	assert_ok(ob_kv_add(&rec, "kind", "FileFolder"));
	snprintf(rel, sizeof(rel), "sources/%lld", (long long)t.preempted_source);
	snprintf(t.b_id, sizeof(t.b_id), "%s", sid);
	forge(rel, rec.data, rec.len);
	ob_buf_dispose(&rec);
}

/* The cases after the setup need it. */
#define NEEDS_SCENARIO() do { if (!t.ready) fail_msg("the scenario's setup failed: nothing to attack"); } while (0)

/*
 * The owner makes the vault and a credentials file; B registers, sets its
 * passphrase and backs up its folder twice; A registers with the same file and
 * backs up a folder of its own (so that it has genuine objects of its own to copy).
 */
static void test_setup(void **state)
{
	ob_vault *v = NULL;
	ob_registration *reg = NULL;
	ob_job_info *j = NULL;
	char sid[33];

	(void)state;
	if (t.azure) {
		ob_vault_azure_options o = owner_opts();
		assert_ok(ob_vault_create_azure(&v, "AttackSuite", &o));
	} else {
		assert_ok(ob_vault_create(&v, t.vault_path, "AttackSuite"));
	}
	assert_ok(ob_vault_credentials_issue(&t.cred, v, t.creds_dir, 10));
	ob_vault_free(v);
	attacker_open();

	make_folder(t.src_b, 1);
	make_folder(t.src_a, 2);
	preempt_source();
	t.b = server_up(NAME_B, "b", PP_B, t.src_b);
	assert_ok(ob_agent_registration(&reg, t.b));
	/* B's id is the name's hash, so anyone who knows the name knows where B's area is. */
	ob_vault_server_id(sid, NAME_B);
	assert_string_equal(reg->server_id, sid);
	snprintf(t.b_id, sizeof(t.b_id), "%s", sid);
	t.location = strdup(reg->vault_location);
	t.vault_id = strdup(reg->vault_id);
	ob_registration_free(reg);
	b_backup("B's first backup");
	b_change(2);
	b_backup("B's second backup");

	t.a = server_up(NAME_A, "a", PP_A, t.src_a);
	assert_ok(ob_backup_start(&j, t.a, 0));
	j = job_wait(t.a, j, "A's backup");
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);

	check_points(all_points(), "before any forgery");
	{
		/* B's data sources as its own sealed point names them: the truth its source listing must show. */
		ob_recovery_point **pts = NULL;
		size_t n = 0;
		const char *ids, *names;
		assert_ok(ob_recovery_points(&pts, &n, t.b));
		assert_true(n >= 1);
		ids = pts[0]->datasource_ids;
		names = pts[0]->datasources;
		while (*ids && t.nsources < 4) {
			const char *end = strchr(names, '\n');
			size_t len = end ? (size_t)(end - names) : strlen(names);
			t.source_ids[t.nsources] = strtoll(ids, NULL, 10);
			t.source_names[t.nsources++] = strndup(names, len);
			ids = strchr(ids, '\n') ? strchr(ids, '\n') + 1 : "";
			names += len + (end ? 1 : 0);
		}
		ob_recovery_points_free(pts, n);
		assert_int_equal(t.nsources, 1);
		/* The pre-emption hit B's real data source: the id was computable from B's name and the mount point. */
		assert_true(t.source_ids[0] == t.preempted_source);
	}
	t.ready = 1;
}

/* ---- the forgeries, one kind to a case ---- */

/*
 * Deletion markers: today's attack (a v1 marker, purge_after=1, on B's newest
 * point), and a marker of the signed form signed by a key A made (naming its
 * public key as the signer), on B's oldest. Signed by neither B nor the owner:
 * both must be ignored.
 */
static void test_forge_deleted(void **state)
{
	unsigned before;
	ob_buf rec = OB_BUF_INIT;
	uint8_t priv[OB_SIGN_PRIVATE_BYTES], pub[OB_SIGN_PUBLIC_BYTES], nonce[16];
	char rel[256], *pub64, *nonce64;

	(void)state;
	NEEDS_SCENARIO();
	before = healthy_points();
	assert_ok(ob_kv_begin(&rec, "deletion", 1));
	assert_ok(ob_kv_add(&rec, "point", t.points[1]));
	assert_ok(ob_kv_add_i64(&rec, "deleted_at", 1));
	assert_ok(ob_kv_add_i64(&rec, "purge_after", 1));
	assert_ok(ob_kv_add(&rec, "reason", "expired"));
	snprintf(rel, sizeof(rel), "deleted/%s", t.points[1]);
	forge(rel, rec.data, rec.len);
	ob_buf_dispose(&rec);

	assert_ok(ob_sign_keygen(priv, pub));
	random_bytes(nonce, sizeof(nonce));
	pub64 = b64(pub, sizeof(pub));
	nonce64 = b64(nonce, sizeof(nonce));
	assert_ok(ob_kv_begin(&rec, "deletion", 2));
	assert_ok(ob_kv_add(&rec, "point", t.points[0]));
	assert_ok(ob_kv_add(&rec, "server", t.b_id));
	assert_ok(ob_kv_add(&rec, "vault", t.vault_id));
	assert_ok(ob_kv_add_i64(&rec, "deleted_at", 1));
	assert_ok(ob_kv_add(&rec, "reason", "expired"));
	assert_ok(ob_kv_add(&rec, "nonce", nonce64));
	assert_ok(ob_kv_add(&rec, "signer", pub64));
	assert_ok(ob_record_sign(&rec, priv));
	snprintf(rel, sizeof(rel), "deleted/%s", t.points[0]);
	forge(rel, rec.data, rec.len);
	ob_buf_dispose(&rec);
	free(pub64);
	free(nonce64);

	check_no_new_harm(before, "after forged deletion markers");
}

/*
 * Key records: B's genuine wrap copied to the next sequence (its associated data
 * names another sequence), then a copy with one byte of the wrapped key changed,
 * random bytes, a copy asking for scrypt N=2^30, and a copy at 9999999999. B
 * must still open its key with its passphrase (probed here from A's agent, which
 * any server can do; the rebuild and C's restore below are the real checks).
 */
static void test_forge_keys(void **state)
{
	char prefix[128], name[160], *genuine, *p;
	size_t len;
	int64_t seq;
	uint8_t junk[300];
	ob_recovery *rec = NULL;
	int rc;

	(void)state;
	NEEDS_SCENARIO();
	snprintf(prefix, sizeof(prefix), "servers/%s/keys/", t.b_id);
	seq = max_seq(prefix);
	assert_true(seq >= 1);
	snprintf(name, sizeof(name), "%s%010lld", prefix, (long long)seq);
	genuine = steal(name, &len);

	snprintf(name, sizeof(name), "%s%010lld", prefix, (long long)seq + 1);
	forge_at(name, genuine, len);

	/* One byte of the wrapped key (or, in a record without one, of the middle) changed. */
	if ((p = strstr(genuine, "wrapped_key=")) != NULL)
		p += strlen("wrapped_key=") + 3;
	else
		p = genuine + len / 2;
	*p = *p == 'A' ? 'B' : 'A';
	snprintf(name, sizeof(name), "%s%010lld", prefix, (long long)seq + 2);
	forge_at(name, genuine, len);
	*p = *p == 'A' ? 'B' : 'A';

	random_bytes(junk, sizeof(junk));
	snprintf(name, sizeof(name), "%s%010lld", prefix, (long long)seq + 3);
	forge_at(name, junk, sizeof(junk));

	{
		ob_buf big = OB_BUF_INIT;
		char *at = strstr(genuine, "kdf_log2_n=");
		assert_non_null(at);
		assert_ok(ob_buf_put(&big, genuine, (size_t)(at - genuine)));
		assert_ok(ob_buf_puts(&big, "kdf_log2_n=30"));
		assert_ok(ob_buf_puts(&big, strchr(at, '\n')));
		snprintf(name, sizeof(name), "%s%010lld", prefix, (long long)seq + 4);
		forge_at(name, big.data, big.len);
		ob_buf_dispose(&big);
	}

	snprintf(name, sizeof(name), "%s9999999999", prefix);
	forge_at(name, genuine, len);
	free(genuine);

	rc = ob_recovery_open(&rec, t.a, NAME_B, (const uint8_t *)PP_B, strlen(PP_B));
	if (rc < 0)
		fail_msg("after forged key records, B's passphrase no longer opens B's key: %s (%s)", ob_error_name(rc),
			ob_error_last());
	ob_recovery_free(rec);
}

/*
 * Snapshots: random bytes under a far-future name, and B's genuine newest point
 * copied under a newer name. Both may be listed, as damaged; neither may hide or
 * damage a genuine point, nor name B's next point (test_victim_backs_up).
 */
static void test_forge_snapshots(void **state)
{
	unsigned before;
	uint8_t rnd[8], junk[200];
	char hex[17], rel[256], name[256], *copy;
	size_t len;

	(void)state;
	NEEDS_SCENARIO();
	before = healthy_points();
	random_bytes(rnd, sizeof(rnd));
	ob_hex_encode(hex, rnd, sizeof(rnd));
	random_bytes(junk, sizeof(junk));
	snprintf(rel, sizeof(rel), "999999999999-000000000-%s", hex);
	t.forged_snapshots[0] = strdup(rel);
	snprintf(rel, sizeof(rel), "snapshots/999999999999-000000000-%s", hex);
	forge(rel, junk, sizeof(junk));

	snprintf(name, sizeof(name), "servers/%s/snapshots/%s", t.b_id, t.points[1]);
	copy = steal(name, &len);
	random_bytes(rnd, sizeof(rnd));
	ob_hex_encode(hex, rnd, sizeof(rnd));
	snprintf(rel, sizeof(rel), "%012lld-000000000-%s", strtoll(t.points[1], NULL, 10) + 1, hex);
	t.forged_snapshots[1] = strdup(rel);
	snprintf(rel, sizeof(rel), "snapshots/%s", t.forged_snapshots[1]);
	forge(rel, copy, len);
	free(copy);

	check_no_new_harm(before, "after forged snapshots");
}

/* Index objects: random bytes named by their hash, and one of A's genuine index objects copied in. */
static void test_forge_index(void **state)
{
	unsigned before;
	uint8_t junk[512];
	char hex[65], rel[256], name[256], *copy;
	ob_name_list l = { 0 };
	size_t len;

	(void)state;
	NEEDS_SCENARIO();
	before = healthy_points();
	random_bytes(junk, sizeof(junk));
	sha256_hex(hex, junk, sizeof(junk));
	snprintf(rel, sizeof(rel), "index/%s", hex);
	forge(rel, junk, sizeof(junk));

	{
		char aid[33];
		ob_vault_server_id(aid, NAME_A);
		names_of(&l, aid, "index/");
		assert_true(l.n >= 1);
		snprintf(name, sizeof(name), "servers/%s/index/%s", aid, l.v[0]);
	}
	copy = steal(name, &len);
	snprintf(rel, sizeof(rel), "index/%s", l.v[0]);
	forge(rel, copy, len);
	free(copy);
	ob_name_list_dispose(&l);
	check_no_new_harm(before, "after forged index objects");
}

/* Packs: random bytes named by their hash, where a pack of B's would be. */
static void test_forge_packs(void **state)
{
	unsigned before;
	uint8_t junk[4096];
	char hex[65], rel[256];

	(void)state;
	NEEDS_SCENARIO();
	before = healthy_points();
	random_bytes(junk, sizeof(junk));
	sha256_hex(hex, junk, sizeof(junk));
	snprintf(rel, sizeof(rel), "packs/%.2s/%s", hex, hex);
	forge(rel, junk, sizeof(junk));
	check_no_new_harm(before, "after a forged pack");
}

/*
 * Generations: an unsigned generation/9999999999, and generation/<current+1>
 * without its end object, as a maintenance run of another agent that never ends
 * would leave. B's next backup must not wait for them (test_victim_backs_up).
 */
static void test_forge_generation(void **state)
{
	unsigned before;
	ob_buf rec = OB_BUF_INIT;
	char prefix[128], rel[128];
	int64_t now = (int64_t)time(NULL), cur;

	(void)state;
	NEEDS_SCENARIO();
	before = healthy_points();
	snprintf(prefix, sizeof(prefix), "servers/%s/generation/", t.b_id);
	cur = max_seq(prefix);
	assert_ok(ob_kv_begin(&rec, "generation", 1));
	assert_ok(ob_kv_add_i64(&rec, "generation", cur + 1));
	assert_ok(ob_kv_add_i64(&rec, "at", now));
	snprintf(rel, sizeof(rel), "generation/%010lld", (long long)cur + 1);
	forge(rel, rec.data, rec.len);
	ob_buf_dispose(&rec);

	assert_ok(ob_kv_begin(&rec, "generation", 1));
	assert_ok(ob_kv_add_i64(&rec, "generation", 9999999999LL));
	assert_ok(ob_kv_add_i64(&rec, "at", now));
	forge("generation/9999999999", rec.data, rec.len);
	ob_buf_dispose(&rec);
	check_no_new_harm(before, "after forged generations");
}

/* Prune marks on every pack of B's, marked at 1970: the owner's maintenance must delete none of them. */
static void test_forge_prune(void **state)
{
	ob_name_list l = { 0 };
	ob_buf rec = OB_BUF_INIT;
	char rel[256];
	size_t i, marked = 0;

	(void)state;
	NEEDS_SCENARIO();
	names_of(&l, t.b_id, "packs/");
	assert_ok(ob_kv_begin(&rec, "prune-mark", 1));
	assert_ok(ob_kv_add_i64(&rec, "marked_at", 1));
	for (i = 0; i < l.n; i++) {
		const char *id = strchr(l.v[i], '/');
		if (!id || strlen(id + 1) != 64)
			continue;
		snprintf(rel, sizeof(rel), "prune/%s", id + 1);
		forge(rel, rec.data, rec.len);
		marked++;
	}
	assert_true(marked >= 2);   /* B's packs, and the forged one */
	ob_buf_dispose(&rec);
	ob_name_list_dispose(&l);
}

/* A server's data sources, as a listing shows them, are B's genuine ones. */
static void check_sources(ob_agent *a, const char *server, const char *what)
{
	ob_recovery_source **src = NULL;
	size_t n = 0, i, k;

	assert_ok(ob_recovery_sources(&src, &n, a, server));
	for (i = 0; i < n; i++) {
		for (k = 0; k < t.nsources; k++)
			if (src[i]->datasource_id == t.source_ids[k] && !strcmp(src[i]->name, t.source_names[k]))
				break;
		if (k == t.nsources)
			fail_msg("%s: B lists a data source its points do not name: %lld '%s' (B's is %lld '%s')", what,
				(long long)src[i]->datasource_id, src[i]->name, (long long)t.source_ids[0], t.source_names[0]);
	}
	if (n != t.nsources)
		fail_msg("%s: B lists %zu data sources, not the %zu its points name (%lld '%s')", what, n, t.nsources,
			(long long)t.source_ids[0], t.source_names[0]);
	ob_recovery_sources_free(src, n);
}

/*
 * A data source B never backed up, at the next id; and (written in the setup,
 * before B's first backup) a record at the id of B's own data source. B's
 * listing, and another server's, must show B's data source as its points name it.
 */
static void test_forge_sources(void **state)
{
	ob_name_list l = { 0 };
	ob_buf rec = OB_BUF_INIT;
	int64_t max = 0, v;
	char rel[128];
	size_t i;

	(void)state;
	NEEDS_SCENARIO();
	names_of(&l, t.b_id, "sources/");
	for (i = 0; i < l.n; i++)
		if (ob_parse_i64(&v, l.v[i]) == 0 && v > max)
			max = v;
	ob_name_list_dispose(&l);
	assert_true(max >= 1);   /* B wrote its own before its first point */
	assert_ok(ob_kv_begin(&rec, "source", 1));
	assert_ok(ob_kv_add_i64(&rec, "id", max + 1));
	assert_ok(ob_kv_add(&rec, "name", "/etc"));
	assert_ok(ob_kv_add(&rec, "kind", "FileFolder"));
	snprintf(rel, sizeof(rel), "sources/%lld", (long long)max + 1);
	forge(rel, rec.data, rec.len);
	ob_buf_dispose(&rec);
	check_sources(t.b, NULL, "after a forged source");
	check_sources(t.a, NAME_B, "after a forged source, seen from another server");
}

/*
 * B's points as another server lists them without B's passphrase (the points'
 * signed summaries): every genuine point in want, with the details B's own
 * listing gives; anything else listed is sealed (no genuine summary), never
 * a sound point B did not make.
 */
static void check_points_of(ob_agent *a, unsigned want, const char *what)
{
	ob_recovery_point **pts = NULL, **own = NULL;
	size_t n = 0, nown = 0, i, j, k;

	assert_ok(ob_recovery_points(&own, &nown, t.b));
	assert_ok(ob_recovery_points_of(&pts, &n, a, NAME_B));
	for (k = 0; k < t.npoints; k++) {
		int found = 0;
		if (!(want & (1u << k)))
			continue;
		for (i = 0; i < n; i++) {
			if (strcmp(pts[i]->id, t.points[k]) != 0)
				continue;
			found = 1;
			for (j = 0; j < nown && strcmp(own[j]->id, t.points[k]) != 0; j++)
				;
			assert_true(j < nown);
			if (pts[i]->sealed || pts[i]->damaged || pts[i]->files != own[j]->files || pts[i]->bytes != own[j]->bytes ||
			    pts[i]->backup_time != own[j]->backup_time || strcmp(pts[i]->datasource_ids, own[j]->datasource_ids) != 0) {
				print_points(pts, n);
				fail_msg("%s: B's point %zu (%s) is listed %s (files %llu, B says %llu)", what, k + 1, t.points[k],
					pts[i]->sealed ? "sealed" : "with details B did not write", (unsigned long long)pts[i]->files,
					(unsigned long long)own[j]->files);
			}
		}
		if (!found) {
			print_points(pts, n);
			fail_msg("%s: B's point %zu (%s) is not listed", what, k + 1, t.points[k]);
		}
	}
	for (i = 0; i < n; i++)
		if (genuine_index(pts[i]->id) < 0 && !pts[i]->sealed) {
			print_points(pts, n);
			fail_msg("%s: %s is listed with details, but B never made it", what, pts[i]->id);
		}
	ob_recovery_points_free(pts, n);
	ob_recovery_points_free(own, nown);
}

/* A summary record of point (point-summary 1) with these details, signed by priv. */
static void forged_summary(ob_buf *rec, const char *point, int64_t files, const uint8_t priv[OB_SIGN_PRIVATE_BYTES])
{
	assert_ok(ob_kv_begin(rec, "point-summary", 1));
	assert_ok(ob_kv_add(rec, "point", point));
	assert_ok(ob_kv_add(rec, "server_id", t.b_id));
	assert_ok(ob_kv_add(rec, "vault", t.vault_id));
	assert_ok(ob_kv_add_i64(rec, "time", 1));
	assert_ok(ob_kv_add(rec, "server", NAME_B));
	assert_ok(ob_kv_add(rec, "kind", "FileFolder"));
	assert_ok(ob_kv_add(rec, "job", ""));
	assert_ok(ob_kv_add_i64(rec, "retain_until", 0));
	assert_ok(ob_kv_add_i64(rec, "files", files));
	assert_ok(ob_kv_add_i64(rec, "bytes", files));
	assert_ok(ob_kv_add_i64(rec, "datasources", 1));
	assert_ok(ob_kv_add_i64(rec, "ds0_id", t.source_ids[0]));
	assert_ok(ob_kv_add(rec, "ds0_name", "/etc"));
	assert_ok(ob_record_sign(rec, priv));
}

/*
 * Point summaries, which another server lists B's points by without B's key:
 * one signed by a key A made, beside B's genuine one; B's genuine summary of
 * one point under another point's name; one for a point B never made. Others
 * must list B's points with B's details, from A and from B's own agent.
 */
static void test_forge_summaries(void **state)
{
	uint8_t priv[OB_SIGN_PRIVATE_BYTES], pub[OB_SIGN_PUBLIC_BYTES];
	ob_buf rec = OB_BUF_INIT;
	char rel[256], name[256], *genuine;
	size_t len;
	unsigned before;

	(void)state;
	NEEDS_SCENARIO();
	assert_true(t.npoints >= 2);
	before = healthy_points();
	check_points_of(t.a, before, "before forged summaries");
	assert_ok(ob_sign_keygen(priv, pub));
	forged_summary(&rec, t.points[0], 999999, priv);
	snprintf(rel, sizeof(rel), "summaries/%s.forged0000000000", t.points[0]);
	forge(rel, rec.data, rec.len);
	ob_buf_dispose(&rec);
	snprintf(name, sizeof(name), "servers/%s/summaries/%s", t.b_id, t.points[1]);
	genuine = steal(name, &len);
	snprintf(rel, sizeof(rel), "summaries/%s.moved00000000000", t.points[0]);
	forge(rel, genuine, len);
	free(genuine);
	forged_summary(&rec, "999999999998-000000000-feedfeedfeedfeed", 7, priv);
	forge("summaries/999999999998-000000000-feedfeedfeedfeed", rec.data, rec.len);
	ob_buf_dispose(&rec);
	check_no_new_harm(before, "after forged summaries");
	check_points_of(t.a, before, "after forged summaries, seen from A");
	check_points_of(t.b, before, "after forged summaries, seen from B itself");
}

/* An unsigned credentials record newer than the file: a new server still registers with the current file. */
static void test_forge_credentials(void **state)
{
	ob_buf rec = OB_BUF_INIT;
	char name[64];
	int64_t seq, now = (int64_t)time(NULL);
	ob_agent *late = NULL;
	char *home = home_path("late");
	int rc;

	(void)state;
	NEEDS_SCENARIO();
	seq = max_seq(OB_PREFIX_CREDENTIALS);
	assert_true(seq >= 1);
	assert_ok(ob_kv_begin(&rec, "credentials", 1));
	assert_ok(ob_kv_add_i64(&rec, "sequence", seq + 1));
	assert_ok(ob_kv_add_i64(&rec, "issued", now));
	assert_ok(ob_kv_add_i64(&rec, "expires", now + 10 * DAY));
	snprintf(name, sizeof(name), OB_PREFIX_CREDENTIALS "%010lld", (long long)seq + 1);
	forge_at(name, rec.data, rec.len);
	ob_buf_dispose(&rec);

	ob_env_set("OBAGENT_SERVER_NAME", "late-server");
	assert_ok(ob_agent_open(&late, home));
	rc = ob_agent_register(NULL, late, t.cred);
	if (rc < 0)
		fail_msg("a forged credentials record blocks registering with the current file: %s (%s)", ob_error_name(rc),
			ob_error_last());
	ob_agent_free(late);
	free(home);
}

/* A PIN record A made, with a PIN A knows: B cannot delete with it. */
static void test_forge_pin(void **state)
{
	unsigned before;
	ob_buf rec = OB_BUF_INIT;
	uint8_t salt[OB_SALT_BYTES], hash[32], rnd[8], priv[OB_SIGN_PRIVATE_BYTES], pub[OB_SIGN_PUBLIC_BYTES];
	char name[96], hex[17], *salt64, *hash64;
	int64_t now = (int64_t)time(NULL);
	int rc;

	(void)state;
	NEEDS_SCENARIO();
	before = healthy_points();
	random_bytes(salt, sizeof(salt));
	random_bytes(rnd, sizeof(rnd));
	assert_ok(ob_kdf_scrypt(hash, sizeof(hash), (const uint8_t *)PIN_A, strlen(PIN_A), salt, sizeof(salt), &OB_KDF_PIN));
	salt64 = b64(salt, sizeof(salt));
	hash64 = b64(hash, sizeof(hash));
	ob_hex_encode(hex, rnd, sizeof(rnd));
	assert_ok(ob_kv_begin(&rec, "pin", 1));
	assert_ok(ob_kv_add_i64(&rec, "issued", now));
	assert_ok(ob_kv_add_i64(&rec, "expires", now + 300));
	assert_ok(ob_kv_add(&rec, "salt", salt64));
	assert_ok(ob_kv_add(&rec, "hash", hash64));
	assert_ok(ob_sign_keygen(priv, pub));
	assert_ok(ob_record_sign(&rec, priv));
	snprintf(name, sizeof(name), OB_PREFIX_PINS "%012lld-%s", (long long)now, hex);
	forge_at(name, rec.data, rec.len);
	ob_buf_dispose(&rec);
	free(salt64);
	free(hash64);

	rc = ob_recovery_point_remove(t.b, t.points[0], "with the attacker's PIN", PIN_A);
	if (rc != OB_EAUTH)
		fail_msg("a PIN from a forged PIN record was %s (%d, %s): it must be refused as incorrect",
			rc == 0 ? "accepted" : "refused with another error", rc, ob_error_last());
	check_no_new_harm(before, "after a delete with a forged PIN");
}

/* ---- the victim after all the forgeries ---- */

/* B lists both points, sound and not deleted; forged snapshots appear only as damaged. */
static void test_victim_lists(void **state)
{
	ob_recovery_point **pts = NULL;
	size_t n = 0, i;
	int forged_seen = 0;

	(void)state;
	NEEDS_SCENARIO();
	check_points(all_points(), "after every forgery");
	assert_ok(ob_recovery_points(&pts, &n, t.b));
	for (i = 0; i < n; i++)
		if (!strcmp(pts[i]->id, t.forged_snapshots[0]) || !strcmp(pts[i]->id, t.forged_snapshots[1]))
			forged_seen++;
	ob_recovery_points_free(pts, n);
	print_message("forged snapshots listed as damaged: %d of 2\n", forged_seen);
}

/*
 * B backs up: the job completes and makes a third point, named from B's clock
 * and not after the far-future forgery. It restores byte for byte. Then a
 * watcher's forgery: an empty object at deleted/<the new point> as soon as it
 * appears; the point stays listed.
 */
static void test_victim_backs_up(void **state)
{
	int64_t now = (int64_t)time(NULL);
	unsigned before;
	char rel[256];
	size_t k;

	(void)state;
	NEEDS_SCENARIO();
	assert_true(t.npoints == 2);
	before = healthy_points();
	b_change(3);
	b_backup("B's backup after the forgeries");
	k = t.npoints - 1;
	check_named_now(k, now);
	check_points(1u << k, "B's new point");
	check_no_new_harm(before, "after B's backup");
	{
		ob_recovery *rec = NULL;
		char *report = NULL;
		uint64_t objects = 0;
		int rc;
		assert_ok(ob_recovery_open(&rec, t.b, NULL, NULL, 0));
		rc = ob_recovery_test(&report, &objects, rec, t.points[k]);
		if (rc < 0)
			fail_msg("B's new point is damaged: %s", report ? report : ob_error_last());
		ob_str_free(report);
		ob_recovery_free(rec);
	}
	restore_check(t.b, k, "third");

	snprintf(rel, sizeof(rel), "deleted/%s", t.points[k]);
	forge(rel, "", 0);
	check_no_new_harm(before | 1u << k, "after an empty deletion marker on B's new point");
}

/*
 * B loses its state folder: a fresh home registers with the file and sets the
 * same passphrase, which must open B's key among the forged ones, and restores
 * B's newest point byte for byte.
 */
static void test_victim_rebuilds(void **state)
{
	ob_agent *fresh = NULL;
	char *home = home_path("b-rebuilt");
	ob_recovery_point **pts = NULL;
	size_t n = 0;
	int rc;

	(void)state;
	NEEDS_SCENARIO();
	assert_true(t.npoints >= 2);
	ob_env_set("OBAGENT_SERVER_NAME", NAME_B);
	assert_ok(ob_agent_open(&fresh, home));
	assert_ok(ob_agent_register(NULL, fresh, t.cred));
	rc = ob_agent_set_passphrase(fresh, (const uint8_t *)PP_B, strlen(PP_B), NULL);
	if (rc < 0)
		fail_msg("B cannot rebuild: its passphrase no longer opens its key: %s (%s)", ob_error_name(rc), ob_error_last());
	assert_ok(ob_recovery_points(&pts, &n, fresh));
	check_listing(pts, n, healthy_points(), "the rebuilt B's listing (as B's own)");
	ob_recovery_points_free(pts, n);
	restore_check(fresh, t.npoints - 1, "rebuilt");
	ob_agent_free(fresh);
	free(home);
}

/* C, a third server, restores B's newest point with B's passphrase (a recovery job), and lists B's source. */
static void test_other_server_restores(void **state)
{
	ob_agent *c;
	ob_recovery *rec = NULL;
	ob_recovery_point **pts = NULL;
	ob_recovery_request req;
	ob_job_info *j = NULL;
	const char *items[1];
	char *out = ob_test_path(t.dir, "out-by-c"), *failed;
	size_t n = 0, k;
	int rc;

	(void)state;
	NEEDS_SCENARIO();
	k = t.npoints - 1;
	c = server_up(NAME_C, "c", PP_C, NULL);
	rc = ob_recovery_open(&rec, c, NAME_B, (const uint8_t *)PP_B, strlen(PP_B));
	if (rc < 0)
		fail_msg("C cannot open B's backups with B's passphrase: %s (%s)", ob_error_name(rc), ob_error_last());
	assert_ok(ob_recovery_list_points(&pts, &n, rec));
	check_listing(pts, n, healthy_points(), "B's points as C lists them (as B's own)");
	ob_recovery_points_free(pts, n);
	ob_recovery_free(rec);
	check_sources(c, NAME_B, "B's sources as C lists them");

	items[0] = t.src_b + 1;
	memset(&req, 0, sizeof(req));
	req.version = OB_RECOVERY_REQUEST_VERSION;
	req.server_name = NAME_B;
	req.passphrase = (const uint8_t *)PP_B;
	req.passphrase_len = strlen(PP_B);
	req.point_id = t.points[k];
	req.items = items;
	req.item_count = 1;
	req.destination = out;
	assert_ok(ob_recovery_start(&j, c, &req));
	j = job_wait(c, j, "C's recovery of B's point");
	failed = job_failures(c, j);
	if (j->state != OB_JOB_COMPLETED)
		fail_msg("C's recovery of B's point ended %s: %s (%s)", ob_job_state_name(j->state),
			j->error_message ? j->error_message : "", failed);
	compare_state(out, k, "C's recovery of B's point");
	ob_str_free(failed);
	ob_job_info_free(j);
	ob_agent_free(c);
	free(out);
}

/* The owner's maintenance of B's area at a pinned time (seconds from now). */
static ob_maintenance_report *maintenance_at(int64_t ahead, const char *what)
{
	ob_maintenance_options mo = OB_MAINTENANCE_OPTIONS_INIT;
	ob_maintenance_report *rep = NULL;
	char when[21];
	int rc;

	ob_time_format_utc(when, (int64_t)time(NULL) + ahead);
	ob_env_set("OBAGENT_NOW", when);
	if (t.azure)
		mo.owner_key = DEV_KEY;
	rc = ob_maintenance_run(&rep, t.b, &mo);
	ob_env_set("OBAGENT_NOW", NULL);
	if (rc < 0)
		fail_msg("%s: the owner's maintenance failed: %s (%s)", what, ob_error_name(rc), ob_error_last());
	return rep;
}

/* Every genuine point in want reads whole: every tree and chunk it needs is still stored. */
static void check_points_whole(unsigned want, const char *what)
{
	ob_recovery *rec = NULL;
	size_t k;

	assert_ok(ob_recovery_open(&rec, t.b, NULL, NULL, 0));
	for (k = 0; k < t.npoints; k++) {
		char *report = NULL;
		uint64_t objects = 0;
		int rc;
		if (!(want & (1u << k)))
			continue;
		rc = ob_recovery_test(&report, &objects, rec, t.points[k]);
		if (rc < 0)
			fail_msg("%s: B's point %zu (%s) is damaged: %s", what, k + 1, t.points[k], report && *report ? report :
				ob_error_last());
		ob_str_free(report);
	}
	ob_recovery_free(rec);
}

/*
 * The owner's maintenance of B's area 15 days on, twice (the second past the
 * grace of the marks the first made): no point purged, no needed pack deleted.
 */
static void test_owner_maintenance(void **state)
{
	ob_maintenance_report *rep;

	(void)state;
	NEEDS_SCENARIO();
	rep = maintenance_at(15 * DAY, "maintenance 15 days on");
	if (rep->points_purged)
		fail_msg("maintenance 15 days on purged %llu of B's points, none of which B deleted",
			(unsigned long long)rep->points_purged);
	free(rep);
	rep = maintenance_at(15 * DAY + 2 * 3600, "maintenance 15 days and 2 hours on");
	if (rep->points_purged)
		fail_msg("maintenance 15 days and 2 hours on purged %llu of B's points", (unsigned long long)rep->points_purged);
	free(rep);
	check_points(all_points(), "after the owner's maintenance");
	check_points_whole(all_points(), "after the owner's maintenance");
	restore_check(t.b, t.npoints - 1, "after-maintenance");
}

static const ob_recovery_point *find_point(ob_recovery_point **pts, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(pts[i]->id, id))
			return pts[i];
	return NULL;
}

/* Point k is hidden from B's listing and shown as deleted in the owner's view (1), or gone from both (0). */
static void check_deleted(size_t k, int kept, const char *what)
{
	ob_recovery_point **pts = NULL;
	const ob_recovery_point *p;
	size_t n = 0;

	assert_ok(ob_recovery_points(&pts, &n, t.b));
	if (find_point(pts, n, t.points[k])) {
		print_points(pts, n);
		fail_msg("%s: B's deleted point %s is still listed", what, t.points[k]);
	}
	ob_recovery_points_free(pts, n);
	assert_ok(ob_recovery_points_all(&pts, &n, t.b));
	p = find_point(pts, n, t.points[k]);
	if (kept && (!p || p->deleted_at == 0)) {
		print_points(pts, n);
		fail_msg("%s: B's deleted point %s is %s", what, t.points[k], p ? "not shown as deleted" : "gone already");
	}
	if (!kept && p) {
		print_points(pts, n);
		fail_msg("%s: B's deleted point %s was not purged", what, t.points[k]);
	}
	ob_recovery_points_free(pts, n);
}

/*
 * A replay: B soft-deletes a point (a genuine marker), the owner undeletes it,
 * and A writes the marker's bytes, saved before, back under its name(s): the
 * point stays listed.
 */
static void test_undelete_replay(void **state)
{
	ob_name_list l = { 0 };
	char *pin, **names = NULL, prefix[128];
	void **saved = NULL;
	size_t *lens = NULL, nsaved = 0, i, k;
	ob_vault *v;
	unsigned before;
	int rc;

	(void)state;
	NEEDS_SCENARIO();
	before = healthy_points();
	b_change(4);
	b_backup("B's backup for the replay");
	k = t.npoints - 1;
	pin = pin_new();
	rc = ob_recovery_point_remove(t.b, t.points[k], "replay test", pin);
	if (rc < 0)
		fail_msg("B's genuine delete with a PIN failed: %s (%s)", ob_error_name(rc), ob_error_last());
	ob_str_free(pin);
	check_deleted(k, 1, "after B's delete");

	/* A saves every marker object of that point, whatever its name. */
	names_of(&l, t.b_id, "deleted/");
	names = calloc(l.n + 1, sizeof(*names));
	saved = calloc(l.n + 1, sizeof(*saved));
	lens = calloc(l.n + 1, sizeof(*lens));
	assert_true(names && saved && lens);
	snprintf(prefix, sizeof(prefix), "servers/%s/deleted/", t.b_id);
	for (i = 0; i < l.n; i++) {
		char name[512];
		if (strncmp(l.v[i], t.points[k], strlen(t.points[k])) != 0)
			continue;
		snprintf(name, sizeof(name), "%s%s", prefix, l.v[i]);
		names[nsaved] = strdup(name);
		saved[nsaved] = steal(name, &lens[nsaved]);
		nsaved++;
	}
	ob_name_list_dispose(&l);
	assert_true(nsaved >= 1);

	v = owner_open();
	rc = ob_vault_undelete(v, NAME_B, t.points[k]);
	owner_done(v);
	if (rc < 0)
		fail_msg("the owner's undelete failed: %s (%s)", ob_error_name(rc), ob_error_last());
	check_points(1u << k, "after the owner's undelete");

	for (i = 0; i < nsaved; i++) {
		rc = t.dry ? 0 : t.attacker->put(t.attacker, names[i], saved[i], lens[i]);
		if (rc < 0 && rc != OB_EEXISTS)
			fail_msg("the attacker could not write %s back: %s", names[i], ob_error_last());
		ob_error_clear();
		free(names[i]);
		free(saved[i]);
	}
	free(names);
	free(saved);
	free(lens);
	check_points(1u << k, "after the attacker replayed the undeleted marker");
	check_no_new_harm(before | 1u << k, "after the replay");
}

/* A's own undeletion records, unsigned, voiding each of point k's markers (undeleted/<sha256 of the marker>). */
static void forge_undeletion(size_t k)
{
	ob_name_list l = { 0 };
	char prefix[128], name[512], hex[65], rel[128];
	size_t i, len, n = 0;

	names_of(&l, t.b_id, "deleted/");
	snprintf(prefix, sizeof(prefix), "servers/%s/deleted/", t.b_id);
	for (i = 0; i < l.n; i++) {
		ob_buf rec = OB_BUF_INIT;
		void *marker;
		if (strncmp(l.v[i], t.points[k], strlen(t.points[k])) != 0)
			continue;
		snprintf(name, sizeof(name), "%s%s", prefix, l.v[i]);
		marker = steal(name, &len);
		sha256_hex(hex, marker, len);
		free(marker);
		assert_ok(ob_kv_begin(&rec, "undeletion", 1));
		assert_ok(ob_kv_add(&rec, "marker", hex));
		assert_ok(ob_kv_add(&rec, "point", t.points[k]));
		assert_ok(ob_kv_add(&rec, "server", t.b_id));
		assert_ok(ob_kv_add(&rec, "vault", t.vault_id));
		assert_ok(ob_kv_add_i64(&rec, "undeleted_at", (int64_t)time(NULL)));
		snprintf(rel, sizeof(rel), "undeleted/%s", hex);
		forge(rel, rec.data, rec.len);
		ob_buf_dispose(&rec);
		n++;
	}
	ob_name_list_dispose(&l);
	assert_true(n >= 1);
}

/*
 * A genuine soft delete keeps the point 14 days of the storage's time: the
 * owner's maintenance 13 days on keeps it (deleted), 15 days on purges it and
 * nothing else.
 */
static void test_soft_delete_window(void **state)
{
	ob_maintenance_report *rep;
	char *pin;
	size_t k;
	unsigned before;
	int rc;

	(void)state;
	NEEDS_SCENARIO();
	before = healthy_points();
	b_change(5);
	b_backup("B's backup for the soft delete");
	k = t.npoints - 1;
	pin = pin_new();
	rc = ob_recovery_point_remove(t.b, t.points[k], "soft delete window", pin);
	if (rc < 0)
		fail_msg("B's genuine delete with a PIN failed: %s (%s)", ob_error_name(rc), ob_error_last());
	ob_str_free(pin);
	check_deleted(k, 1, "after B's delete");
	forge_undeletion(k);
	check_deleted(k, 1, "after the attacker's undeletion record");

	rep = maintenance_at(13 * DAY, "maintenance 13 days after the delete");
	if (rep->points_purged)
		fail_msg("maintenance 13 days after the delete purged %llu point(s)", (unsigned long long)rep->points_purged);
	free(rep);
	check_deleted(k, 1, "13 days after the delete");

	rep = maintenance_at(15 * DAY, "maintenance 15 days after the delete");
	if (rep->points_purged != 1)
		fail_msg("maintenance 15 days after the delete purged %llu point(s), not the 1 B deleted",
			(unsigned long long)rep->points_purged);
	free(rep);
	check_deleted(k, 0, "15 days after the delete");

	/* Forget the purged point: it is no longer B's. */
	free(t.points[k]);
	t.points[k] = strdup("(purged)");
	check_no_new_harm(before, "after the purge");
	check_points_whole(before, "after the purge");
	restore_check(t.b, k - 1, "after-purge");
}

/*
 * A forged marker sits where B's own would go (deleted/<point> of the second
 * point): B's genuine delete of that point must still delete it.
 */
static void test_delete_despite_forged_marker(void **state)
{
	char *pin;
	int rc;

	(void)state;
	NEEDS_SCENARIO();
	pin = pin_new();
	rc = ob_recovery_point_remove(t.b, t.points[1], "despite a forged marker", pin);
	ob_str_free(pin);
	if (rc < 0)
		fail_msg("B's genuine delete of a point with a forged marker failed: %s (%s)", ob_error_name(rc), ob_error_last());
	check_deleted(1, 1, "B's delete of a point that had a forged marker");
}

/*
 * A server that has not registered yet: A writes its server record and its first
 * key record (a wrap of a key A made, under A's passphrase, bound to D's place)
 * before D comes. D's first passphrase is then refused, saying so (the name is
 * blocked until the owner clears it and no point can be lost: docs/SECURITY.md
 * allows that for names taken early), or accepted, and then D's points must
 * survive D losing its state folder: a fresh home with D's passphrase restores them.
 */
static void test_squat_new_server(void **state)
{
	const char *name_d = "newcomer-d", *pp_d = "newcomer d passphrase, 16+";
	char sid[33], name[256], aad[256], cmd[4096], *data, *out, *home;
	uint8_t master[OB_MASTER_KEY_BYTES];
	ob_buf rec = OB_BUF_INIT;
	int64_t now = (int64_t)time(NULL);
	ob_agent *d = NULL;
	ob_job_info *j = NULL;
	ob_filespec_input spec;
	ob_policy *p = NULL;
	ob_restore_options ro = OB_RESTORE_OPTIONS_INIT;
	char *failed = NULL;
	int rc;

	(void)state;
	NEEDS_SCENARIO();
	ob_vault_server_id(sid, name_d);
	assert_ok(ob_kv_begin(&rec, "server", 1));
	assert_ok(ob_kv_add(&rec, "id", sid));
	assert_ok(ob_kv_add(&rec, "name", name_d));
	assert_ok(ob_kv_add_i64(&rec, "registered", now));
	snprintf(name, sizeof(name), "servers/%s/server", sid);
	forge_at(name, rec.data, rec.len);
	ob_buf_dispose(&rec);
	random_bytes(master, sizeof(master));
	snprintf(aad, sizeof(aad), "obagent-server-key-v1|%s|%s|%lld", t.vault_id, sid, 1LL);
	assert_ok(ob_key_wrap(&rec, master, (const uint8_t *)PP_A, strlen(PP_A), aad, &OB_KDF_PASSPHRASE, now));
	snprintf(name, sizeof(name), "servers/%s/keys/0000000001", sid);
	forge_at(name, rec.data, rec.len);
	ob_buf_dispose(&rec);

	home = home_path("d");
	data = ob_test_path(t.dir, "data-d");
	make_folder(data, 4);
	ob_env_set("OBAGENT_SERVER_NAME", name_d);
	assert_ok(ob_agent_open(&d, home));
	rc = ob_agent_register(NULL, d, t.cred);
	if (rc == 0)
		rc = ob_agent_set_passphrase(d, (const uint8_t *)pp_d, strlen(pp_d), NULL);
	if (rc < 0) {
		/* Refused: visible, nothing stored, the owner clears the name. It must say why. */
		assert_true(*ob_error_last() != '\0');
		print_message("D was refused, as allowed: %s\n", ob_error_last());
		goto done;
	}
	spec.spec = data;
	spec.is_exclude = 0;
	spec.is_recursive = 1;
	assert_ok(ob_policy_commit(&p, d, &spec, 1));
	ob_policy_free(p);
	assert_ok(ob_backup_start(&j, d, 0));
	j = job_wait(d, j, "D's backup");
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	ob_agent_free(d);
	d = NULL;

	/* D loses its state folder: its passphrase must open its key, and its point restore. */
	free(home);
	home = home_path("d-rebuilt");
	assert_ok(ob_agent_open(&d, home));
	assert_ok(ob_agent_register(NULL, d, t.cred));
	rc = ob_agent_set_passphrase(d, (const uint8_t *)pp_d, strlen(pp_d), NULL);
	if (rc < 0)
		fail_msg("D's first key record was taken by A before D registered, D was let back up, and now D cannot "
			"rebuild: %s (%s)", ob_error_name(rc), ob_error_last());
	{
		char *point;
		int64_t ds;
		ob_test_newest_point(d, &point, &ds);
		out = ob_test_path(t.dir, "out-d");
		ro.point_id = point;
		ro.item = data + 1;
		ro.destination = out;
		assert_ok(ob_restore(&failed, d, &ro));
		snprintf(cmd, sizeof(cmd), "diff -r --no-dereference '%s' '%s/%s' >&2", data, out, data + 1);
		assert_int_equal(system(cmd), 0);
		ob_str_free(failed);
		free(point);
		free(out);
	}
done:
	ob_wipe(master, sizeof(master));
	ob_agent_free(d);
	free(home);
	free(data);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_setup),
		cmocka_unit_test(test_forge_deleted),
		cmocka_unit_test(test_forge_keys),
		cmocka_unit_test(test_forge_snapshots),
		cmocka_unit_test(test_forge_index),
		cmocka_unit_test(test_forge_packs),
		cmocka_unit_test(test_forge_generation),
		cmocka_unit_test(test_forge_prune),
		cmocka_unit_test(test_forge_sources),
		cmocka_unit_test(test_forge_summaries),
		cmocka_unit_test(test_forge_credentials),
		cmocka_unit_test(test_forge_pin),
		cmocka_unit_test(test_victim_lists),
		cmocka_unit_test(test_victim_backs_up),
		cmocka_unit_test(test_victim_rebuilds),
		cmocka_unit_test(test_other_server_restores),
		cmocka_unit_test(test_owner_maintenance),
		cmocka_unit_test(test_undelete_replay),
		cmocka_unit_test(test_soft_delete_window),
		cmocka_unit_test(test_delete_despite_forged_marker),
		cmocka_unit_test(test_squat_new_server),
	};

	/* --no-forgeries runs every check with an attacker that writes nothing: they must all pass. */
	if (argc < 2 || argc > 3 || (strcmp(argv[1], "local") && strcmp(argv[1], "azure")) ||
	    (argc == 3 && strcmp(argv[2], "--no-forgeries"))) {
		fprintf(stderr, "usage: %s local|azure [--no-forgeries]\n", argv[0]);
		return 2;
	}
	t.dry = argc == 3;
	t.azure = !strcmp(argv[1], "azure");
	if (t.azure && !(t.endpoint = getenv("OBAGENT_TEST_AZURITE"))) {
		fprintf(stderr, "OBAGENT_TEST_AZURITE is not set: no Azurite to attack\n");
		return 77;
	}
	ob_init();
	return cmocka_run_group_tests_name(t.azure ? "attacks on an Azure vault" : "attacks on a local vault", tests,
		group_setup, group_teardown);
}
