/*
 * Security PINs work once (docs/SECURITY.md, docs/FORMAT.md "pins/"): the check that accepts a PIN
 * spends it by creating pins/<record>.used create-only, before the action it guards; a second use
 * is refused with OB_EAUTH and a message that says to get a new PIN; of uses at once (threads with
 * their own connections, as two servers or two sessions) exactly one succeeds; an expired or wrong
 * PIN spends nothing; a forged use only burns its PIN, and names under pins/ that are not the
 * owner's records (uses, junk) authorise nothing and break nothing.
 */
#include "testutil.h"
#include "util/env.h"
#include "vault/vault_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
	char *dir, *path;
	ob_vault *vault;
	ob_vault_conn conn;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	f->dir = ob_test_tempdir("pins");
	f->path = ob_test_path(f->dir, "vault");
	ob_env_set("OBAGENT_NOW", NULL);
	assert_ok(ob_vault_create(&f->vault, f->path, "PinVault"));
	assert_ok(ob_vault_conn_open(&f->conn, f->path));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	ob_env_set("OBAGENT_NOW", NULL);
	ob_vault_conn_dispose(&f->conn);
	ob_vault_free(f->vault);
	ob_test_rmtree(f->dir);
	free(f->dir);
	free(f->path);
	free(f);
	return 0;
}

static int collect(const char *name, uint64_t size, void *payload)
{
	ob_name_list *l = payload;

	(void)size;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = realloc(l->v, l->cap * sizeof(char *));
		assert_non_null(l->v);
	}
	l->v[l->n++] = strdup(name);
	return 0;
}

/* The names under pins/, sorted as the back end lists them. */
static ob_name_list pin_names(fixture *f)
{
	ob_name_list l = { NULL, 0, 0 };

	assert_ok(f->conn.be->list(f->conn.be, OB_PREFIX_PINS, collect, &l));
	return l;
}

/* Issue a PIN; *record (malloc'd) is the name of its new record. */
static char *issue(fixture *f, char **record)
{
	ob_name_list before = pin_names(f), after;
	char *pin = NULL;
	int64_t expires;
	size_t i, j;

	assert_ok(ob_vault_security_pin_new(&pin, &expires, f->vault));
	after = pin_names(f);
	*record = NULL;
	for (i = 0; i < after.n && !*record; i++) {
		int old = 0;
		for (j = 0; j < before.n; j++)
			old |= !strcmp(after.v[i], before.v[j]);
		if (!old)
			*record = strdup(after.v[i]);
	}
	assert_non_null(*record);
	ob_name_list_dispose(&before);
	ob_name_list_dispose(&after);
	return pin;
}

static int64_t now(void)
{
	int64_t t;

	assert_ok(ob_clock_now(&t));
	return t;
}

static void test_pin_works_once(void **state)
{
	fixture *f = *state;
	char *record, *pin = issue(f, &record), used[160], *text = NULL;
	size_t len = 0;

	assert_ok(ob_vault_pin_check(&f->conn, pin, "server-a", now()));
	/* The use is recorded beside the record: who used it and when. */
	snprintf(used, sizeof(used), "%s.used", record);
	assert_ok(ob_vault_read(&text, &len, &f->conn, used));
	assert_non_null(strstr(text, "obagent-pin-use 1\n"));
	assert_non_null(strstr(text, "server=server-a\n"));
	assert_non_null(strstr(text, "at="));
	free(text);
	/* A second use, by the same server or another, is refused. */
	assert_ob(OB_EAUTH, ob_vault_pin_check(&f->conn, pin, "server-a", now()));
	assert_non_null(strstr(ob_error_last(), "already used"));
	assert_non_null(strstr(ob_error_last(), "New-OBSecurityPin"));
	assert_ob(OB_EAUTH, ob_vault_pin_check(&f->conn, pin, "server-b", now()));
	assert_non_null(strstr(ob_error_last(), "already used"));
	ob_str_free(pin);
	free(record);
}

static void test_wrong_or_expired_pins_spend_nothing(void **state)
{
	fixture *f = *state;
	char *record, *pin = issue(f, &record), wrong[9], iso[32];
	time_t t = (time_t)(now() + 6 * 60);
	struct tm tm;
	ob_name_list l;
	int i;

	for (i = 0; i < 8; i++)
		wrong[i] = (char)('0' + (pin[i] - '0' + 1) % 10);
	wrong[8] = '\0';
	assert_ob(OB_EAUTH, ob_vault_pin_check(&f->conn, wrong, "server-a", now()));
	assert_non_null(strstr(ob_error_last(), "incorrect"));
	/* Six minutes on, the PIN has expired. */
	gmtime_r(&t, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	assert_ok(ob_env_set("OBAGENT_NOW", iso));
	assert_ob(OB_EEXPIRED, ob_vault_pin_check(&f->conn, pin, "server-a", now()));
	assert_ok(ob_env_set("OBAGENT_NOW", NULL));
	l = pin_names(f);
	assert_int_equal(l.n, 1);   /* no use was recorded */
	ob_name_list_dispose(&l);
	/* Still unspent: it works now, once. */
	assert_ok(ob_vault_pin_check(&f->conn, pin, "server-a", now()));
	ob_str_free(pin);
	free(record);
}

static void test_forged_use_only_burns_its_pin(void **state)
{
	fixture *f = *state;
	char *record, *pin = issue(f, &record), *record2, *pin2, used[160];

	/* Another server writes the use first (any bytes): the PIN is burned, nothing is authorised. */
	snprintf(used, sizeof(used), "%s.used", record);
	assert_ok(f->conn.be->put(f->conn.be, used, "forged", 6));
	assert_ob(OB_EAUTH, ob_vault_pin_check(&f->conn, pin, "victim", now()));
	assert_non_null(strstr(ob_error_last(), "already used"));
	/* Junk under pins/ (uses of nothing, unsigned records, odd names) neither breaks nor authorises. */
	assert_ok(f->conn.be->put(f->conn.be, "pins/999999999999-0000000000000000.used", "x", 1));
	assert_ok(f->conn.be->put(f->conn.be, "pins/junk", "obagent-pin 1\nexpires=9999999999\n", 33));
	pin2 = issue(f, &record2);
	assert_ok(ob_vault_pin_check(&f->conn, pin2, "victim", now()));
	ob_str_free(pin);
	ob_str_free(pin2);
	free(record);
	free(record2);
}

#define USERS 4

typedef struct {
	const char *path, *pin;
	pthread_barrier_t *start;
	int rc;
	char server[16];
} use_arg;

static void *use_main(void *p)
{
	use_arg *u = p;
	ob_vault_conn c;
	int64_t t;

	if ((u->rc = ob_vault_conn_open(&c, u->path)) < 0)
		return NULL;
	pthread_barrier_wait(u->start);
	if ((u->rc = ob_clock_now(&t)) == 0)
		u->rc = ob_vault_pin_check(&c, u->pin, u->server, t);
	ob_vault_conn_dispose(&c);
	return NULL;
}

static void test_concurrent_uses_exactly_one_wins(void **state)
{
	fixture *f = *state;
	int round;

	for (round = 0; round < 5; round++) {
		char *record, *pin = issue(f, &record);
		pthread_barrier_t start;
		pthread_t t[USERS];
		use_arg u[USERS];
		int i, won = 0, refused = 0;
		pthread_barrier_init(&start, NULL, USERS);
		for (i = 0; i < USERS; i++) {
			u[i].path = f->path;
			u[i].pin = pin;
			u[i].start = &start;
			u[i].rc = 1;
			snprintf(u[i].server, sizeof(u[i].server), "server-%d", i);
			assert_int_equal(pthread_create(&t[i], NULL, use_main, &u[i]), 0);
		}
		for (i = 0; i < USERS; i++) {
			pthread_join(t[i], NULL);
			won += u[i].rc == 0;
			refused += u[i].rc == OB_EAUTH;
		}
		pthread_barrier_destroy(&start);
		assert_int_equal(won, 1);
		assert_int_equal(refused, USERS - 1);
		ob_str_free(pin);
		free(record);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pin_works_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_or_expired_pins_spend_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_use_only_burns_its_pin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_uses_exactly_one_wins, setup, teardown),
	};

	ob_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
