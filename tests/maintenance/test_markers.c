/*
 * Deletion markers, the storage's time and snapshot names against forgeries
 * (docs/SECURITY.md, rows deleted/, undeleted/, snapshots/): a real worker on a
 * real vault, the forgeries written with the agent's own access (create-only
 * puts, what every agent's token allows in any area). Forged markers hide
 * nothing and purge nothing; a genuine soft delete hides the point, restores,
 * and is purged 14 days after the storage recorded its marker, whatever the
 * marker says; forged far-future snapshot names decide neither the next
 * point's name nor what retention keeps. `test_markers azure` runs the purge
 * on an Azure vault (Azurite).
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "agent/repo_open.h"
#include "policy/expiry.h"
#include "vault/crypto.h"
#include "vault/repo.h"
#include "vault/snapshot.h"
#include "vault/vault_internal.h"
#include "obagent/sys/azure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEV_ACCOUNT "devstoreaccount1"
#define DEV_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define SERVER "markers-victim"

static const char *PP = "markers test passphrase";
static const char *azurite;      /* the Azurite endpoint when the Azure variant runs */

typedef struct world {
	ob_test_server srv;          /* dir, src, the agent (vault_path unused on Azure) */
	ob_vault *owner;
	ob_repo area;                /* the victim's area through its own (agent's) access */
	char *points[4];             /* oldest first */
	size_t npoints;
} world;

static world w;

static void set_now(int64_t t)
{
	char text[32];

	if (!t) {
		ob_env_set("OBAGENT_NOW", NULL);
		return;
	}
	ob_time_format_utc(text, t);
	assert_ok(ob_env_set("OBAGENT_NOW", text));
}

static void write_src(int k)
{
	char name[64], body[64], *p;

	snprintf(name, sizeof(name), "file-%d.txt", k);
	snprintf(body, sizeof(body), "contents of backup %d\n", k);
	p = ob_test_path(w.srv.src, name);
	ob_test_write(p, body, strlen(body));
	free(p);
}

/* Back up (with a changed file) and record the new point's id (the newest sound one). */
static void backup(int k)
{
	ob_recovery_point **pts = NULL;
	ob_job_info *j;
	size_t n = 0, i;

	write_src(k);
	j = ob_test_backup(w.srv.agent);
	assert_int_equal(j->state, OB_JOB_COMPLETED);
	ob_job_info_free(j);
	assert_ok(ob_recovery_points(&pts, &n, w.srv.agent));
	for (i = 0; i < n && pts[i]->damaged; i++)
		;
	assert_true(i < n);
	w.points[w.npoints++] = strdup(pts[i]->id);
	ob_recovery_points_free(pts, n);
}

static void world_azure(void)
{
	ob_vault_azure_options o = OB_VAULT_AZURE_OPTIONS_INIT;
	char container[64], home[1024], *creds, *cred = NULL;
	ob_filespec_input spec;
	ob_policy *p = NULL;

	snprintf(container, sizeof(container), "markers-%d-%ld", (int)getpid(), (long)time(NULL) % 100000);
	o.endpoint = azurite;
	o.account = DEV_ACCOUNT;
	o.account_key = DEV_KEY;
	o.container = container;
	assert_ok(ob_vault_create_azure(&w.owner, "MarkersAzure", &o));
	creds = ob_test_path(w.srv.dir, "creds");
	assert_ok(ob_vault_credentials_issue(&cred, w.owner, creds, 10));
	snprintf(home, sizeof(home), "%s/home", w.srv.dir);
	ob_env_set("OBAGENT_WORKER", OBAGENT_WORKER_PATH);
	ob_env_set("OBAGENT_SERVER_NAME", SERVER);
	assert_ok(ob_agent_open(&w.srv.agent, home));
	assert_ok(ob_agent_register(NULL, w.srv.agent, cred));
	assert_ok(ob_agent_set_passphrase(w.srv.agent, (const uint8_t *)PP, strlen(PP), NULL));
	spec.spec = w.srv.src;
	spec.is_exclude = 0;
	spec.is_recursive = 1;
	assert_ok(ob_policy_commit(&p, w.srv.agent, &spec, 1));
	ob_policy_free(p);
	ob_str_free(cred);
	free(creds);
}

/* A victim with `points` points; w.area is its area opened with its own access (an agent's). */
static void world_new(size_t points)
{
	size_t i;

	memset(&w, 0, sizeof(w));
	ob_test_server_folders(&w.srv, "markers");
	if (azurite) {
		world_azure();
	} else {
		ob_test_server_register(&w.srv, "home", OBAGENT_WORKER_PATH, SERVER, "MarkersTest", PP);
		assert_ok(ob_vault_open(&w.owner, w.srv.vault_path));
	}
	for (i = 0; i < points; i++)
		backup((int)i);
	assert_ok(ob_agent_repo_open(&w.area, w.srv.agent, NULL));
	/* An agent's access: create, read, list, and on Azure no delete. */
	if (azurite)
		assert_false(w.area.vc.be->capabilities(w.area.vc.be) & OB_BACKEND_CAP_DELETE);
}

static void world_free(void)
{
	size_t i;

	set_now(0);
	ob_repo_dispose(&w.area);
	ob_vault_free(w.owner);
	for (i = 0; i < w.npoints; i++)
		free(w.points[i]);
	ob_test_server_dispose(&w.srv);
	memset(&w, 0, sizeof(w));
}

/* ---- forging, with the agent's rights ---- */

static void put(const char *rel, const void *data, size_t len)
{
	char name[400];

	snprintf(name, sizeof(name), "%s%s", w.area.prefix, rel);
	assert_ok(w.area.vc.be->put(w.area.vc.be, name, data, len));
}

static char *get(const char *rel, size_t *len)
{
	char name[400];
	void *data = NULL;

	snprintf(name, sizeof(name), "%s%s", w.area.prefix, rel);
	assert_ok(w.area.vc.be->get(&data, len, w.area.vc.be, name, 0, 0));
	return data;
}

/* Today's attack: an unsigned marker that says its 14 days are long over. */
static void forge_v1(const char *rel, const char *point)
{
	ob_buf b = OB_BUF_INIT;

	assert_ok(ob_kv_begin(&b, "deletion", 1));
	assert_ok(ob_kv_add(&b, "point", point));
	assert_ok(ob_kv_add_i64(&b, "deleted_at", 1));
	assert_ok(ob_kv_add_i64(&b, "purge_after", 1));
	assert_ok(ob_kv_add(&b, "reason", "forged"));
	put(rel, b.data, b.len);
	ob_buf_dispose(&b);
}

/* A marker of the right shape signed by a key of the attacker's (as the server, or as the owner). */
static void forge_v2(const char *rel, const char *point, const char *nonce, const char *signer)
{
	uint8_t priv[OB_SIGN_PRIVATE_BYTES], pub[OB_SIGN_PUBLIC_BYTES];
	ob_buf b = OB_BUF_INIT;

	assert_ok(ob_sign_keygen(priv, pub));
	assert_ok(ob_kv_begin(&b, "deletion", 2));
	assert_ok(ob_kv_add(&b, "point", point));
	assert_ok(ob_kv_add(&b, "server", w.area.server_id));
	assert_ok(ob_kv_add(&b, "vault", w.area.vc.id));
	assert_ok(ob_kv_add_i64(&b, "deleted_at", 1));
	assert_ok(ob_kv_add(&b, "reason", "forged"));
	assert_ok(ob_kv_add(&b, "nonce", nonce));
	assert_ok(ob_kv_add(&b, "signer", signer));
	assert_ok(ob_record_sign(&b, priv));
	put(rel, b.data, b.len);
	ob_buf_dispose(&b);
}

static void soft_delete(const char *point)
{
	char *pin = NULL;
	int64_t expires;

	assert_ok(ob_vault_security_pin_new(&pin, &expires, w.owner));
	assert_ok(ob_recovery_point_remove(w.srv.agent, point, "test", pin));
	ob_str_free(pin);
}

/* The same marker with its signature spelled otherwise (a spare bit of its last base64 digit flipped). */
static void respell(char *text, size_t len)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *at;

	assert_true(len > 8 && memcmp(text + len - 3, "==\n", 3) == 0);
	at = strchr(b64, text[len - 4]);
	assert_non_null(at);
	text[len - 4] = b64[(at - b64) ^ 1];
}

/* ---- looking ---- */

/* The point in a listing, or NULL. */
static ob_recovery_point *find(ob_recovery_point **pts, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(pts[i]->id, id))
			return pts[i];
	return NULL;
}

/* Whether the point is in the normal listing (sound and not deleted), and in the all-points one as deleted. */
static void expect(const char *id, int listed, int deleted)
{
	ob_recovery_point **pts = NULL, *p;
	size_t n = 0;

	assert_ok(ob_recovery_points(&pts, &n, w.srv.agent));
	p = find(pts, n, id);
	if (listed != (p != NULL))
		print_error("point %s: listed %d, expected %d\n", id, p != NULL, listed);
	assert_int_equal(p != NULL, listed);
	if (p)
		assert_false(p->damaged);
	ob_recovery_points_free(pts, n);
	assert_ok(ob_recovery_points_all(&pts, &n, w.srv.agent));
	p = find(pts, n, id);
	assert_non_null(p);
	if (deleted != (p->deleted_at != 0))
		print_error("point %s: deleted_at %lld, expected deleted %d\n", id, (long long)p->deleted_at, deleted);
	assert_int_equal(p->deleted_at != 0, deleted);
	ob_recovery_points_free(pts, n);
}

static void expect_gone(const char *id)
{
	ob_recovery_point **pts = NULL;
	size_t n = 0;

	assert_ok(ob_recovery_points_all(&pts, &n, w.srv.agent));
	assert_null(find(pts, n, id));
	ob_recovery_points_free(pts, n);
}

/* The point restores its file-<k>.txt byte for byte. */
static void expect_restores(const char *id, int k)
{
	ob_restore_options ro = OB_RESTORE_OPTIONS_INIT;
	char out[1024], rel[1024], name[64], body[64], *failed = NULL, *got;
	size_t len;

	snprintf(out, sizeof(out), "%s/out-%s", w.srv.dir, id);
	snprintf(name, sizeof(name), "file-%d.txt", k);
	snprintf(body, sizeof(body), "contents of backup %d\n", k);
	snprintf(rel, sizeof(rel), "%s/%s", ob_test_rel(w.srv.src), name);
	ro.point_id = id;
	ro.item = rel;
	ro.destination = out;
	assert_ok(ob_restore(&failed, w.srv.agent, &ro));
	ob_str_free(failed);
	snprintf(rel, sizeof(rel), "%s/%s/%s", out, ob_test_rel(w.srv.src), name);
	got = ob_test_read(rel, &len);
	assert_non_null(got);
	assert_int_equal(len, strlen(body));
	assert_memory_equal(got, body, len);
	free(got);
}

static ob_maintenance_report *maintain(int64_t at)
{
	ob_maintenance_options mo = OB_MAINTENANCE_OPTIONS_INIT;
	ob_maintenance_report *rep = NULL;

	mo.grace_seconds = 0;
	if (azurite)
		mo.owner_key = DEV_KEY;
	set_now(at);
	assert_ok(ob_maintenance_run(&rep, w.srv.agent, &mo));
	set_now(0);
	assert_int_equal(rep->version, OB_MAINTENANCE_REPORT_VERSION);
	return rep;
}

/* ---- the cases ---- */

/*
 * Every kind of forged marker, around three points: none hides a point, and the
 * owner's maintenance 15 days later purges none, warning about each.
 */
static void test_forged_markers_hide_nothing(void **state)
{
	ob_recovery_point **pts = NULL, *p;
	ob_maintenance_report *rep;
	char rel[300], *genuine;
	size_t len, n = 0, i;
	int64_t now = (int64_t)time(NULL);

	(void)state;
	world_new(3);
	/* P2: v1 unsigned, purge_after=1. P1: v2 signed by a random key, as the server and as the owner. */
	snprintf(rel, sizeof(rel), "deleted/%s", w.points[2]);
	forge_v1(rel, w.points[2]);
	snprintf(rel, sizeof(rel), "deleted/%s", w.points[1]);
	forge_v2(rel, w.points[1], "00112233445566778899aabbccddeeff", "server");
	snprintf(rel, sizeof(rel), "deleted/%s.ffeeddccbbaa99887766554433221100", w.points[1]);
	forge_v2(rel, w.points[1], "ffeeddccbbaa99887766554433221100", "owner");
	/* P0: genuinely deleted; its marker copied onto P1 (under P1's name with the marker's nonce too). */
	soft_delete(w.points[0]);
	expect(w.points[0], 0, 1);
	snprintf(rel, sizeof(rel), "deleted/%s", w.points[0]);
	genuine = get(rel, &len);
	{
		ob_kv kv;
		assert_ok(ob_kv_parse(&kv, genuine, len));
		assert_int_equal(kv.version, 2);
		assert_string_equal(ob_kv_get(&kv, "signer"), "server");
		snprintf(rel, sizeof(rel), "deleted/%s.%s", w.points[1], ob_kv_get(&kv, "nonce"));
		ob_kv_dispose(&kv);
	}
	put(rel, genuine, len);
	/* The owner undeletes P0; the attacker writes the genuine marker's bytes back. */
	assert_ok(ob_vault_undelete(w.owner, SERVER, w.points[0]));
	expect(w.points[0], 1, 0);
	snprintf(rel, sizeof(rel), "deleted/%s", w.points[0]);
	put(rel, genuine, len);
	/* And a respelling of it, under the point's name with the marker's nonce: still the undeleted marker. */
	{
		ob_kv kv;
		char *again = malloc(len);
		memcpy(again, genuine, len);
		respell(again, len);
		assert_ok(ob_kv_parse(&kv, genuine, len));
		snprintf(rel, sizeof(rel), "deleted/%s.%s", w.points[0], ob_kv_get(&kv, "nonce"));
		ob_kv_dispose(&kv);
		put(rel, again, len);
		free(again);
	}
	/* Undeleting what is not deleted says so. */
	assert_ob(OB_ENOTFOUND, ob_vault_undelete(w.owner, SERVER, w.points[2] + 1));

	for (i = 0; i < 3; i++)
		expect(w.points[i], 1, 0);
	/* Each sound point with an ignored marker says so, naming the object. */
	assert_ok(ob_recovery_points(&pts, &n, w.srv.agent));
	for (i = 0; i < 3; i++) {
		p = find(pts, n, w.points[i]);
		assert_non_null(p);
		assert_non_null(p->problem);
		assert_non_null(strstr(p->problem, "/deleted/"));
		assert_non_null(strstr(p->problem, "was ignored"));
	}
	assert_non_null(strstr(find(pts, n, w.points[2])->problem, "unsigned"));
	assert_non_null(strstr(find(pts, n, w.points[1])->problem, "signature"));
	assert_non_null(strstr(find(pts, n, w.points[0])->problem, "undeleted"));
	ob_recovery_points_free(pts, n);

	/* The owner's maintenance, 15 days later, purges nothing and says what it ignored. */
	rep = maintain(now + 15 * 86400);
	assert_int_equal(rep->points_purged, 0);
	assert_non_null(strstr(rep->warnings, "was ignored"));
	free(rep);
	for (i = 0; i < 3; i++) {
		expect(w.points[i], 1, 0);
		expect_restores(w.points[i], (int)i);
	}

	/* A forgery holding deleted/<P2> does not keep the server from deleting P2 for real. */
	soft_delete(w.points[2]);
	expect(w.points[2], 0, 1);
	/* A backup still works, and its point is the newest. */
	backup(3);
	assert_ok(ob_recovery_points(&pts, &n, w.srv.agent));
	assert_true(n >= 1);
	assert_string_equal(pts[0]->id, w.points[3]);
	ob_recovery_points_free(pts, n);
	free(genuine);
	world_free();
}

/*
 * A genuine soft delete: hidden, listed with all points, restorable, and purged
 * 14 days after the storage's time of its marker, not the time the marker says
 * (written with the clock 30 days back, it still waits its 14 days).
 */
static void test_genuine_delete_waits_14_days(void **state)
{
	ob_recovery_point **pts = NULL, *p;
	ob_maintenance_report *rep;
	int64_t now = (int64_t)time(NULL), created = 0;
	uint64_t size;
	char name[300];
	size_t n = 0;

	(void)state;
	world_new(2);
	/* Another server's unsigned marker on P1 rides along: it must not be purged with P0. */
	snprintf(name, sizeof(name), "deleted/%s", w.points[1]);
	forge_v1(name, w.points[1]);
	set_now(now - 30 * 86400);
	soft_delete(w.points[0]);
	set_now(0);
	expect(w.points[0], 0, 1);
	expect(w.points[1], 1, 0);
	snprintf(name, sizeof(name), "%sdeleted/%s", w.area.prefix, w.points[0]);
	assert_non_null(w.area.vc.be->stat_created);
	assert_ok(w.area.vc.be->stat_created(&created, w.area.vc.be, name));
	assert_true(created >= now - 300 && created <= (int64_t)time(NULL) + 300);
	/* The listing: deleted_at is what the marker says, purge_after the storage's time + 14 days. */
	assert_ok(ob_recovery_points_all(&pts, &n, w.srv.agent));
	p = find(pts, n, w.points[0]);
	assert_non_null(p);
	assert_true(p->deleted_at <= now - 29 * 86400);
	assert_int_equal(p->purge_after, created + 14 * 86400);
	ob_recovery_points_free(pts, n);
	/* Deleted, it still restores. */
	expect_restores(w.points[0], 0);

	/* 13 days after the storage's time: kept (the marker's own time is 43 days old). */
	rep = maintain(created + 13 * 86400);
	assert_int_equal(rep->points_purged, 0);
	free(rep);
	expect(w.points[0], 0, 1);
	/* 15 days after: purged, and only it; its summary (other servers list it by) goes with it. */
	snprintf(name, sizeof(name), "%ssummaries/%s", w.area.prefix, w.points[0]);
	assert_ok(w.area.vc.be->stat(&size, w.area.vc.be, name));
	rep = maintain(created + 15 * 86400);
	assert_int_equal(rep->points_purged, 1);
	assert_non_null(strstr(rep->warnings, "was ignored"));
	free(rep);
	expect_gone(w.points[0]);
	assert_int_equal(w.area.vc.be->stat(&size, w.area.vc.be, name), OB_ENOTFOUND);
	ob_error_clear();
	expect(w.points[1], 1, 0);
	expect_restores(w.points[1], 1);
	world_free();
}

/*
 * Forged snapshot names far in the future (random bytes; a genuine point's bytes
 * copied under a newer name; garbage) decide neither the next point's name nor
 * what retention keeps.
 */
static void test_forged_snapshot_names(void **state)
{
	ob_recovery_point **pts = NULL;
	ob_schedule sched = OB_SCHEDULE_INIT;
	ob_retention ret = OB_RETENTION_INIT;
	uint8_t junk[200];
	char rel[300], first[16], *genuine;
	int64_t t0 = (int64_t)time(NULL) / 60 * 60 - 3600;
	size_t len, n = 0, i, sound = 0;

	(void)state;
	world_new(0);
	set_now(t0);
	backup(0);
	set_now(t0 + 60);
	backup(1);
	set_now(0);
	assert_ok(ob_random(junk, sizeof(junk)));
	put("snapshots/999999999999-000000000-0123456789abcdef", junk, sizeof(junk));
	snprintf(rel, sizeof(rel), "snapshots/%s", w.points[1]);
	genuine = get(rel, &len);
	put("snapshots/999999999998-999999999-fedcba9876543210", genuine, len);
	free(genuine);
	put("snapshots/zzzz-garbage", junk, 10);

	/* The next point is named from its own time, after the genuine newest: not after 999999999999. */
	set_now(t0 + 120);
	backup(2);
	set_now(0);
	snprintf(first, sizeof(first), "%012lld-", (long long)(t0 + 120));
	assert_true(strncmp(w.points[2], first, strlen(first)) == 0);
	assert_true(strcmp(w.points[2], w.points[1]) > 0);
	/* A clock that stands still: one nanosecond after the genuine newest, not after a forgery. */
	set_now(t0 + 120);
	backup(3);
	set_now(0);
	assert_true(strncmp(w.points[3], first, strlen(first)) == 0);
	assert_true(strcmp(w.points[3], w.points[2]) > 0);
	/* Listed newest first among sound points; the forgeries are listed as damaged. */
	assert_ok(ob_recovery_points(&pts, &n, w.srv.agent));
	for (i = 0; i < n; i++) {
		if (pts[i]->damaged) {
			assert_int_equal(sound, 0);   /* their names sort first */
			continue;
		}
		assert_string_equal(pts[i]->id, w.points[3 - sound]);
		sound++;
	}
	assert_int_equal(sound, 4);
	assert_int_equal(n, 7);
	ob_recovery_points_free(pts, n);

	/* Retention 30 days later keeps the genuine newest point (always kept), not a forgery. */
	sched.days = 0x7f;
	sched.time_count = 1;
	sched.times[0] = 21 * 60;
	ret.days = 7;
	assert_ok(ob_policy_set_protection(w.srv.agent, &sched, &ret));
	{
		size_t expired = 0;
		assert_ok(ob_retention_apply(w.srv.agent, &w.area, t0 + 30 * 86400, &expired));
		assert_int_equal(expired, 3);
	}
	/* Points 2 and 3 were made at one (pinned) time: retention keeps one of them, the newest by time. */
	assert_ok(ob_recovery_points(&pts, &n, w.srv.agent));
	for (i = 0, sound = 0; i < n; i++)
		if (!pts[i]->damaged) {
			assert_true(!strcmp(pts[i]->id, w.points[3]) || !strcmp(pts[i]->id, w.points[2]));
			sound++;
		}
	assert_int_equal(sound, 1);
	ob_recovery_points_free(pts, n);
	expect(w.points[1], 0, 1);
	expect(w.points[0], 0, 1);
	world_free();
}

/* On Azure: the forgeries with the agent's SAS, one genuine purge by the blob's creation time. */
static void test_azure_purge(void **state)
{
	ob_maintenance_report *rep;
	int64_t created = 0;
	char name[300];

	(void)state;
	world_new(2);
	snprintf(name, sizeof(name), "deleted/%s", w.points[1]);
	forge_v1(name, w.points[1]);
	soft_delete(w.points[0]);
	expect(w.points[0], 0, 1);
	expect(w.points[1], 1, 0);
	snprintf(name, sizeof(name), "%sdeleted/%s", w.area.prefix, w.points[0]);
	assert_ok(w.area.vc.be->stat_created(&created, w.area.vc.be, name));
	assert_true(created >= (int64_t)time(NULL) - 600 && created <= (int64_t)time(NULL) + 300);
	rep = maintain(created + 13 * 86400);
	assert_int_equal(rep->points_purged, 0);
	free(rep);
	rep = maintain(created + 15 * 86400);
	assert_int_equal(rep->points_purged, 1);
	free(rep);
	expect_gone(w.points[0]);
	expect(w.points[1], 1, 0);
	expect_restores(w.points[1], 1);
	world_free();
}

int main(int argc, char **argv)
{
	const struct CMUnitTest local[] = {
		cmocka_unit_test(test_forged_markers_hide_nothing),
		cmocka_unit_test(test_genuine_delete_waits_14_days),
		cmocka_unit_test(test_forged_snapshot_names),
	};
	const struct CMUnitTest azure[] = {
		cmocka_unit_test(test_forged_markers_hide_nothing),
		cmocka_unit_test(test_azure_purge),
	};

	ob_init();
	if (argc > 1 && !strcmp(argv[1], "azure")) {
		if (!(azurite = getenv("OBAGENT_TEST_AZURITE")))
			return 77;
		return cmocka_run_group_tests_name("markers (azure)", azure, NULL, NULL);
	}
	return cmocka_run_group_tests_name("markers (local)", local, NULL, NULL);
}
