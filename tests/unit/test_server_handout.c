/*
 * Model test of the incremental scope handout (server/srv_handout.c): random
 * scope changes (new customers, owner changes, merges and unmerges, a held
 * entry dropped to be sent whole again, team and role changes) interleaved
 * with round trips of five devices calling srv_handout_update directly, some
 * of whose answers are lost (never acknowledged), some with more to push (no
 * evictions), some with a tiny budget (several pages). Each device's model
 * laptop adds the customers handed out whole and drops those evicted; once
 * every device has synced to the end, each must hold exactly its user's scope
 * as srv_scope_cond computes it. A handout that missed a change fails here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db_testutil.h"
#include "srv_app.h"
#include "srv_handout.h"
#include "srv_scope.h"
#include "srv_users.h"

#define NCUST_MAX 64
#define NDEV 5
#ifndef STEPS
#define STEPS 400
#endif
/* Past every feed position: whatever enters a scope comes as a snapshot. */
#define CURSOR_ALL ((int64_t)1 << 40)

static const char *const users[NDEV] = {"r1", "r2", "r3", "m", "x"};

struct laptop {
	char token[SRV_TOKEN_SIZE];
	int64_t ack;
	bool held[NCUST_MAX];
};

struct fx {
	char path[64];
	struct srv_app app;
	struct laptop dev[NDEV];
	char ids[NCUST_MAX][37];
	size_t ncust;
	uint64_t rng;
};

static uint32_t rnd(struct fx *f, uint32_t n)
{
	f->rng = f->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(f->rng >> 33) % n;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct crm_error err;
	struct srv_db d;
	struct srv_session s;

	assert_non_null(f);
	dbtu_temp_path(f->path, sizeof f->path, "test_server_handout");
	assert_int_equal(srv_db_open(f->path, SRV_DB_CREATE | SRV_DB_SYNC, &d, &err), CRM_OK);
	assert_int_equal(srv_user_add(d.db, "r1", SRV_REP, "east", "pw", &err), CRM_OK);
	assert_int_equal(srv_user_add(d.db, "r2", SRV_REP, "east", "pw", &err), CRM_OK);
	assert_int_equal(srv_user_add(d.db, "r3", SRV_REP, "west", "pw", &err), CRM_OK);
	assert_int_equal(srv_user_add(d.db, "m", SRV_MANAGER, "east", "pw", &err), CRM_OK);
	assert_int_equal(srv_user_add(d.db, "x", SRV_ADMIN, NULL, "pw", &err), CRM_OK);
	for (size_t i = 0; i < NDEV; i++)
		assert_int_equal(srv_login(d.db, users[i], "pw", users[i], f->dev[i].token, &s, &err),
				 CRM_OK);
	srv_db_close(&d);
	assert_int_equal(srv_app_open(&f->app, f->path, 1, &err), CRM_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	srv_app_close(&f->app);
	dbtu_remove(f->path);
	free(f);
	return 0;
}

/* Runs sql on the writer with text parameters (NULL binds NULL). */
static void exec(struct fx *f, const char *sql, int n, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;

	assert_int_equal(sqlite3_prepare_v2(f->app.writer.db, sql, -1, &st, NULL), SQLITE_OK);
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		const char *v = va_arg(ap, const char *);

		if (v)
			sqlite3_bind_text(st, i + 1, v, -1, SQLITE_TRANSIENT);
	}
	va_end(ap);
	if (sqlite3_step(st) != SQLITE_DONE)
		fail_msg("%s: %s", sql, sqlite3_errmsg(f->app.writer.db));
	sqlite3_finalize(st);
}

static const char *owner_pick(struct fx *f)
{
	static const char *const owners[] = {"r1", "r2", "r3", "m", NULL, "nobody"};

	return owners[rnd(f, 6)];
}

static void add_customer(struct fx *f)
{
	char name[32];

	if (f->ncust == NCUST_MAX)
		return;
	snprintf(f->ids[f->ncust], 37, "01900000-0000-7000-8000-%012zx", f->ncust + 1);
	snprintf(name, sizeof name, "Customer %zu", f->ncust + 1);
	exec(f, "INSERT INTO customers (id, name, owner) VALUES (?1, ?2, ?3)", 3, f->ids[f->ncust],
	     name, owner_pick(f));
	/* A row under it, so the snapshot is more than the customer itself. */
	exec(f, "INSERT INTO activities (id, customer_id, kind, note) VALUES (?1 || 'a', ?1, 'call', 'x')",
	     1, f->ids[f->ncust]);
	f->ncust++;
}

static bool round_trip(struct fx *f, size_t d, bool more_push, size_t budget, bool lost);
static bool in_scope(struct fx *f, size_t d, const char *id);

/*
 * What srv_dedup does to have a customer sent whole again (rows moved under
 * it): drops the held entry of a device that sees it, which syncs next.
 */
static void resend_one(struct fx *f, const char *id)
{
	size_t d = rnd(f, NDEV);
	char dev[37];
	sqlite3_stmt *st = NULL;

	if (!in_scope(f, d, id))
		return;
	assert_int_equal(sqlite3_prepare_v2(f->app.writer.db, "SELECT id FROM srv_devices WHERE name = ?1",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, users[d], -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(dev, sizeof dev, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	exec(f, "DELETE FROM srv_scope WHERE device_id = ?1 AND customer_id = ?2 AND in_scope = 1", 2, dev,
	     id);
	(void)round_trip(f, d, false, 100000, false);
}

/* One random change to what decides scopes. */
static void change(struct fx *f)
{
	const char *id, *other;

	if (f->ncust < 4 || rnd(f, 8) == 0) {
		add_customer(f);
		return;
	}
	id = f->ids[rnd(f, (uint32_t)f->ncust)];
	other = f->ids[rnd(f, (uint32_t)f->ncust)];
	switch (rnd(f, 10)) {
	case 0:
	case 1:
	case 2:
	case 3:
		exec(f, "UPDATE customers SET owner = ?2 WHERE id = ?1", 2, id, owner_pick(f));
		break;
	case 4:
		if (strcmp(id, other) != 0)
			exec(f, "UPDATE customers SET merged_into = ?2, deleted = 1 WHERE id = ?1", 2, id,
			     other);
		break;
	case 5:
		exec(f, "UPDATE customers SET merged_into = NULL, deleted = 0 WHERE id = ?1", 1, id);
		break;
	case 6:
		resend_one(f, id);
		break;
	case 7:
		if (rnd(f, 4) == 0)
			exec(f, "UPDATE srv_users SET team = ?2 WHERE name = ?1", 2, users[rnd(f, 4)],
			     rnd(f, 2) ? "east" : "west");
		break;
	case 8:
		if (rnd(f, 6) == 0)
			exec(f, "UPDATE srv_users SET role = ?2 WHERE name = ?1", 2, users[rnd(f, 4)],
			     rnd(f, 2) ? "manager" : "rep");
		break;
	default:
		/* Any other edit: not a scope change (not logged). */
		exec(f, "UPDATE customers SET city = 'Oslo' WHERE id = ?1", 1, id);
		break;
	}
}

static int cust_index(struct fx *f, const char *id)
{
	for (size_t i = 0; i < f->ncust; i++)
		if (strcmp(f->ids[i], id) == 0)
			return (int)i;
	fail_msg("unknown customer %s", id);
	return -1;
}

static bool in_scope(struct fx *f, size_t d, const char *id)
{
	struct srv_session who;
	struct crm_error err;
	struct srv_scope sc;
	bool yes;

	assert_int_equal(srv_auth(f->app.writer.db, f->dev[d].token, &who, &err), CRM_OK);
	assert_int_equal(srv_scope_init(&sc, f->app.writer.db, &who.user, &err), CRM_OK);
	yes = srv_scope_customer(&sc, id);
	srv_scope_release(&sc);
	return yes;
}

/*
 * One round trip of device d. lost: the answer never reaches the laptop.
 * Returns whether the server said more is waiting.
 */
static bool round_trip(struct fx *f, size_t d, bool more_push, size_t budget, bool lost)
{
	struct laptop *l = &f->dev[d];
	struct srv_session who;
	struct srv_handout so;
	struct crm_error err;
	const cJSON *e;
	bool more;

	assert_int_equal(srv_auth(f->app.writer.db, l->token, &who, &err), CRM_OK);
	assert_int_equal(srv_handout_init(&so), CRM_OK);
	assert_int_equal(srv_db_begin(f->app.writer.db, &err), CRM_OK);
	if (srv_handout_update(&f->app, &who, CURSOR_ALL, l->ack, more_push, budget, &so, &err) != CRM_OK)
		fail_msg("handout: %s", err.msg);
	assert_int_equal(srv_db_commit(f->app.writer.db, &err), CRM_OK);
	if (!lost) {
		for (size_t r = 0; r < so.snap.nrows; r++)
			if (strcmp(so.snap.rows[r].table, "customers") == 0)
				l->held[cust_index(f, so.snap.rows[r].id)] = true;
		cJSON_ArrayForEach(e, so.evict)
		{
			const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "table");
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");

			assert_string_equal(t->valuestring, "customers");
			l->held[cust_index(f, id->valuestring)] = false;
		}
		l->ack = so.gen;
	}
	more = so.more;
	srv_handout_release(&so);
	return more;
}

/* Device d syncs to the end (pages until nothing more), then holds exactly its scope. */
static void settle_and_check(struct fx *f, size_t d, int step)
{
	struct srv_session who;
	struct crm_error err;
	sqlite3_stmt *st = NULL;
	char sql[1024];
	bool want[NCUST_MAX] = {false};
	int pages = 0;

	while (round_trip(f, d, false, 1 + rnd(f, 40), false))
		assert_true(++pages < 200);
	assert_int_equal(srv_auth(f->app.writer.db, f->dev[d].token, &who, &err), CRM_OK);
	snprintf(sql, sizeof sql, "SELECT c.id FROM customers c WHERE %s", srv_scope_cond(who.user.role));
	assert_int_equal(sqlite3_prepare_v2(f->app.writer.db, sql, -1, &st, NULL), SQLITE_OK);
	srv_scope_bind(st, &who.user);
	while (sqlite3_step(st) == SQLITE_ROW)
		want[cust_index(f, (const char *)sqlite3_column_text(st, 0))] = true;
	sqlite3_finalize(st);
	for (size_t i = 0; i < f->ncust; i++)
		if (want[i] != f->dev[d].held[i] && getenv("HANDOUT_DEBUG")) {
			char q[512];

			snprintf(q, sizeof q,
				 "SELECT s.in_scope, s.gen, v.gen, c.owner, c.merged_into FROM customers c"
				 " LEFT JOIN srv_devices v ON v.name = '%s' LEFT JOIN srv_scope s ON"
				 " s.device_id = v.id AND s.customer_id = c.id WHERE c.id = '%s'",
				 users[d], f->ids[i]);
			assert_int_equal(sqlite3_prepare_v2(f->app.writer.db, q, -1, &st, NULL), SQLITE_OK);
			if (sqlite3_step(st) == SQLITE_ROW)
				fprintf(stderr, "debug: in_scope %s gen %s devgen %s ack %lld owner %s merged %s\n",
					sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
					sqlite3_column_text(st, 2), (long long)f->dev[d].ack,
					sqlite3_column_text(st, 3), sqlite3_column_text(st, 4));
			sqlite3_finalize(st);
		}
	for (size_t i = 0; i < f->ncust; i++)
		if (want[i] != f->dev[d].held[i])
			fail_msg("step %d: %s (%s) %s customer %zu", step, users[d],
				 srv_role_name(who.user.role), want[i] ? "lacks" : "still holds", i + 1);
}

static void run(void **state, uint64_t seed)
{
	struct fx *f = *state;

	f->rng = seed;
	for (int i = 0; i < 6; i++)
		add_customer(f);
	/* A fresh replica first (cursor 0 records what it got from the feed). */
	for (size_t d = 0; d < NDEV; d++) {
		struct srv_session who;
		struct srv_handout so;
		struct crm_error err;

		assert_int_equal(srv_auth(f->app.writer.db, f->dev[d].token, &who, &err), CRM_OK);
		assert_int_equal(srv_handout_init(&so), CRM_OK);
		assert_int_equal(srv_db_begin(f->app.writer.db, &err), CRM_OK);
		assert_int_equal(srv_handout_update(&f->app, &who, 0, 0, false, 1000, &so, &err), CRM_OK);
		assert_int_equal(srv_db_commit(f->app.writer.db, &err), CRM_OK);
		f->dev[d].ack = so.gen;
		srv_handout_release(&so);
	}
	for (size_t d = 0; d < NDEV; d++) {
		sqlite3_stmt *st = NULL;
		char sql[1024];

		/* The feed brought its scope: the model laptop holds it. */
		snprintf(sql, sizeof sql,
			 "SELECT customer_id FROM srv_scope s JOIN srv_devices v ON v.id = s.device_id"
			 " WHERE v.name = '%s' AND s.in_scope = 1",
			 users[d]);
		assert_int_equal(sqlite3_prepare_v2(f->app.writer.db, sql, -1, &st, NULL), SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW)
			f->dev[d].held[cust_index(f, (const char *)sqlite3_column_text(st, 0))] = true;
		sqlite3_finalize(st);
		settle_and_check(f, d, 0);
	}
	for (int step = 1; step <= STEPS; step++) {
		size_t d = rnd(f, NDEV);

		if (rnd(f, 3) == 0)
			change(f);
		(void)round_trip(f, d, rnd(f, 3) == 0, rnd(f, 2) ? 1 + rnd(f, 30) : 100000, rnd(f, 5) == 0);
		if (step % 50 == 0)
			for (size_t k = 0; k < NDEV; k++)
				settle_and_check(f, k, step);
	}
	for (size_t k = 0; k < NDEV; k++)
		settle_and_check(f, k, STEPS + 1);
}

/*
 * The log is written by triggers on customers, srv_scope and srv_users: a
 * later schema migration that rebuilt one of those tables would drop them
 * silently, and the handout would miss changes. All of them must be there
 * after every migration has run.
 */
static void test_log_triggers_present(void **state)
{
	static const char *const names[] = {
		"srv_scope_log_cust_ins", "srv_scope_log_cust_upd", "srv_scope_log_cust_del",
		"srv_scope_log_held_del", "srv_scope_log_user_ins", "srv_scope_log_user_upd",
		"srv_scope_log_user_del",
	};
	struct fx *f = *state;
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_prepare_v2(f->app.writer.db,
					    "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
					    -1, &st, NULL),
			 SQLITE_OK);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, names[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW)
			fail_msg("trigger %s is missing", names[i]);
	}
	sqlite3_finalize(st);
}

static void test_model_seed1(void **state)
{
	run(state, 1);
}

static void test_model_seed2(void **state)
{
	run(state, 20261124);
}

static void test_model_seed3(void **state)
{
	run(state, 777);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_log_triggers_present, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_seed1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_seed2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_seed3, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
