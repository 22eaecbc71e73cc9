/*
 * Unit tests of the pool on a server database without HTTP: the rules
 * (validation, defaults), claims (taken, limit, lock-out, already yours, and
 * racing claims from two connections: exactly one wins), releases and
 * assignments with their permissions, the recycling rule (whose activities
 * count, the dates used, open deals, the exact boundary), reference
 * resolution, the audit, and that an owner change is a captured edit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db_testutil.h"
#include "crm_time.h"
#include "srv_audit.h"
#include "srv_config.h"
#include "srv_db.h"
#include "srv_pool.h"
#include "srv_users.h"

#define DAY SRV_DAY_MS
#define T0_ISO "2026-01-01T00:00:00Z"

struct fx {
	char path[64];
	struct srv_db d;
	int64_t t0;
};

static void at(const struct fx *f, int64_t ms_after_t0)
{
	char iso[CRM_TIME_ISO_MAX];

	crm_time_format_utc(f->t0 + ms_after_t0, iso);
	setenv("CRM_NOW", iso, 1);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct crm_error err;

	assert_non_null(f);
	assert_int_equal(crm_time_parse(T0_ISO, false, &f->t0), CRM_OK);
	setenv("CRM_NOW", T0_ISO, 1);
	dbtu_temp_path(f->path, sizeof f->path, "test_server_pool");
	assert_int_equal(srv_db_open(f->path, SRV_DB_CREATE | SRV_DB_SYNC, &f->d, &err), CRM_OK);
	assert_int_equal(srv_user_add(f->d.db, "alice", SRV_REP, "east", "pw", &err), CRM_OK);
	assert_int_equal(srv_user_add(f->d.db, "carol", SRV_REP, "east", "pw", &err), CRM_OK);
	assert_int_equal(srv_user_add(f->d.db, "bob", SRV_REP, "west", "pw", &err), CRM_OK);
	assert_int_equal(srv_user_add(f->d.db, "mgr", SRV_MANAGER, "east", "pw", &err), CRM_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	srv_db_close(&f->d);
	dbtu_remove(f->path);
	free(f);
	unsetenv("CRM_NOW");
	return 0;
}

static void exec_sql(sqlite3 *db, const char *sql, const char *a, const char *b, const char *c,
		     int64_t i, int64_t j)
{
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) >= 3)
		sqlite3_bind_text(st, 3, c, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) >= 4)
		sqlite3_bind_int64(st, 4, i);
	if (sqlite3_bind_parameter_count(st) >= 5)
		sqlite3_bind_int64(st, 5, j);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* A customer (captured insert) owned by owner (NULL: the pool), created at t0 + created. */
static void customer(struct fx *f, const char *id, const char *name, const char *owner,
		     int64_t created)
{
	exec_sql(f->d.db,
		 "INSERT INTO customers (id, name, owner, ext_ref, created_at, updated_at)"
		 " VALUES (?1, ?2, ?3, 'ext-' || ?1, ?4, ?4)",
		 id, name, owner, f->t0 + created, 0);
}

static void activity(struct fx *f, const char *id, const char *cust, const char *author,
		     int64_t occurred, int64_t created)
{
	exec_sql(f->d.db,
		 "INSERT INTO activities (id, customer_id, author, kind, occurred_at, created_at)"
		 " VALUES (?1, ?2, ?3, 'visit', ?4, ?5)",
		 id, cust, author, f->t0 + occurred, f->t0 + created);
}

static void deal(struct fx *f, const char *id, const char *cust, const char *stage)
{
	exec_sql(f->d.db, "INSERT INTO deals (id, customer_id, stage, title) VALUES (?1, ?2, ?3, 't')",
		 id, cust, stage, 0, 0);
}

static char *owner_of(struct fx *f, const char *id)
{
	sqlite3_stmt *st = NULL;
	char *o = NULL;

	assert_int_equal(sqlite3_prepare_v2(f->d.db, "SELECT owner FROM customers WHERE id = ?1", -1,
					    &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	if (sqlite3_column_type(st, 0) != SQLITE_NULL)
		o = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return o;
}

static void assert_owner(struct fx *f, const char *id, const char *want)
{
	char *o = owner_of(f, id);

	if (!want)
		assert_null(o);
	else
		assert_string_equal(o ? o : "(null)", want);
	free(o);
}

static struct srv_user user(struct fx *f, const char *name)
{
	struct srv_user u;

	assert_int_equal(srv_user_get(f->d.db, name, &u, NULL), CRM_OK);
	return u;
}

#define C1 "01900000-0000-7000-8000-0000000000c1"
#define C2 "01900000-0000-7000-8000-0000000000c2"
#define C3 "01900000-0000-7000-8000-0000000000c3"
#define C4 "01900000-0000-7000-8000-0000000000c4"
#define C5 "01900000-0000-7000-8000-0000000000c5"
#define C6 "01900000-0000-7000-8000-0000000000c6"

/* ---- rules ------------------------------------------------------------ */

static void test_config(void **state)
{
	struct fx *f = *state;
	struct srv_pool_rules r;
	struct crm_error err;
	char norm[SRV_CONFIG_VALUE_MAX];
	static const char *const bad[][2] = {
		{"pool.recycle_days", "0"},	{"pool.recycle_days", "abc"},
		{"pool.recycle_days", "1.5"},	{"pool.recycle_days", "+3"},
		{"pool.recycle_days", ""},	{"pool.warn_days", "-1"},
		{"pool.warn_days", "3651"},	{"pool.claim_limit", "99999999999999999999"},
		{"pool.exempt_open_deals", "maybe"}, {"pool.lockout_days", "7 days"},
	};

	assert_int_equal(srv_config_rules(f->d.db, &r, &err), CRM_OK);
	assert_int_equal(r.recycle_days, 30);
	assert_int_equal(r.warn_days, 3);
	assert_true(r.exempt_open_deals);
	assert_int_equal(r.claim_limit, 200);
	assert_int_equal(r.lockout_days, 7);
	assert_int_equal(srv_config_set(f->d.db, "pool.recycle_days", "045", norm, &err), CRM_OK);
	assert_string_equal(norm, "45");
	assert_int_equal(srv_config_set(f->d.db, "pool.exempt_open_deals", "FALSE", norm, &err), CRM_OK);
	assert_string_equal(norm, "off");
	assert_int_equal(srv_config_set(f->d.db, "pool.bogus", "1", NULL, &err), CRM_ENOTFOUND);
	assert_non_null(strstr(err.msg, "pool.claim_limit")); /* lists the known keys */
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(srv_config_set(f->d.db, bad[i][0], bad[i][1], NULL, &err), CRM_EINVAL);
		assert_non_null(strstr(err.msg, bad[i][0]));
	}
	assert_int_equal(srv_config_rules(f->d.db, &r, &err), CRM_OK);
	assert_int_equal(r.recycle_days, 45);
	assert_false(r.exempt_open_deals);
	assert_int_equal(r.warn_days, 3); /* the refused values changed nothing */
	assert_int_equal(r.lockout_days, 7);
}

/* ---- claims ----------------------------------------------------------- */

static void test_claim(void **state)
{
	struct fx *f = *state;
	struct srv_user alice = user(f, "alice"), bob = user(f, "bob");
	struct srv_pool_change c;
	struct crm_error err;
	struct sync_changeset snap;
	struct srv_audit_entry *log = NULL;
	size_t n = 0;
	sync_hlc owner_hlc = 0;

	customer(f, C1, "深圳市华信科技有限公司", NULL, 0);
	at(f, 2 * DAY);
	assert_int_equal(srv_pool_claim(f->d.db, &alice, C1, &c, &err), CRM_OK);
	assert_false(c.unchanged);
	assert_string_equal(c.new_owner, "alice");
	assert_owner(f, C1, "alice");
	/* The change is a captured edit at the server's clock: it replicates. */
	assert_int_equal(sync_row_snapshot(f->d.sync, "customers", C1, &snap, &err), CRM_OK);
	for (size_t j = 0; j < snap.rows[0].nfields; j++)
		if (strcmp(snap.rows[0].fields[j].col, "owner") == 0)
			owner_hlc = snap.rows[0].fields[j].hlc;
	sync_changeset_release(&snap);
	assert_true(SYNC_HLC_MS(owner_hlc) >= f->t0 + 2 * DAY);
	/* Someone was first. */
	assert_int_equal(srv_pool_claim(f->d.db, &bob, C1, &c, &err), CRM_ECONFLICT);
	assert_string_equal(c.refusal, "taken");
	assert_non_null(strstr(err.msg, "alice owns it"));
	assert_owner(f, C1, "alice");
	/* Again by the owner: nothing changes. */
	assert_int_equal(srv_pool_claim(f->d.db, &alice, C1, &c, &err), CRM_OK);
	assert_true(c.unchanged);
	assert_int_equal(srv_pool_claim(f->d.db, &alice, "01900000-0000-7000-8000-0000000000ff", &c, &err),
			 CRM_ENOTFOUND);
	assert_int_equal(srv_audit_customer(f->d.db, C1, &log, &n, &err), CRM_OK);
	assert_int_equal(n, 1);
	assert_string_equal(log[0].old_owner, "");
	assert_string_equal(log[0].new_owner, "alice");
	assert_string_equal(log[0].by, "alice");
	assert_int_equal(log[0].at, f->t0 + 2 * DAY);
	free(log);
}

static void test_limit_and_lockout(void **state)
{
	struct fx *f = *state;
	struct srv_user alice = user(f, "alice");
	struct srv_pool_change c;
	struct crm_error err;

	customer(f, C1, "One", "alice", 0);
	customer(f, C2, "Two", NULL, 0);
	customer(f, C3, "Three", NULL, 0);
	assert_int_equal(srv_config_set(f->d.db, "pool.claim_limit", "2", NULL, &err), CRM_OK);
	assert_int_equal(srv_pool_claim(f->d.db, &alice, C2, &c, &err), CRM_OK);
	assert_int_equal(srv_pool_claim(f->d.db, &alice, C3, &c, &err), CRM_EPERM);
	assert_string_equal(c.refusal, "limit");
	assert_owner(f, C3, NULL);
	/* Releasing makes room, and locks alice out of what she released. */
	at(f, 1 * DAY);
	assert_int_equal(srv_pool_release(f->d.db, &alice, C1, "no budget", &c, &err), CRM_OK);
	assert_owner(f, C1, NULL);
	assert_int_equal(srv_pool_claim(f->d.db, &alice, C3, &c, &err), CRM_OK);
	at(f, 8 * DAY - 1);
	assert_int_equal(srv_config_set(f->d.db, "pool.claim_limit", "200", NULL, &err), CRM_OK);
	assert_int_equal(srv_pool_claim(f->d.db, &alice, C1, &c, &err), CRM_EPERM);
	assert_string_equal(c.refusal, "lockout");
	assert_non_null(strstr(err.msg, "2026-01-09T00:00"));
	at(f, 8 * DAY);
	assert_int_equal(srv_pool_claim(f->d.db, &alice, C1, &c, &err), CRM_OK);
	/* No lock-out at all with 0 days. */
	assert_int_equal(srv_pool_release(f->d.db, &alice, C1, NULL, &c, &err), CRM_OK);
	assert_int_equal(srv_config_set(f->d.db, "pool.lockout_days", "0", NULL, &err), CRM_OK);
	assert_int_equal(srv_pool_claim(f->d.db, &alice, C1, &c, &err), CRM_OK);
}

struct racer {
	const char *path, *who, *customer;
	pthread_barrier_t *go;
	enum crm_err rc;
};

static void *race(void *p)
{
	struct racer *r = p;
	struct srv_db d;
	struct srv_user u;
	struct srv_pool_change c;
	struct crm_error err;

	r->rc = CRM_EINTERNAL;
	if (srv_db_open(r->path, SRV_DB_SYNC, &d, &err) != CRM_OK)
		return NULL;
	srv_user_get(d.db, r->who, &u, NULL);
	pthread_barrier_wait(r->go);
	r->rc = srv_pool_claim(d.db, &u, r->customer, &c, &err);
	srv_db_close(&d);
	return NULL;
}

static void test_claim_race(void **state)
{
	struct fx *f = *state;
	static const char *const ids[] = {C1, C2, C3, C4, C5, C6};

	for (size_t i = 0; i < 6; i++)
		customer(f, ids[i], "Contested", NULL, 0);
	for (size_t i = 0; i < 6; i++) {
		pthread_barrier_t go;
		pthread_t t[2];
		struct racer r[2] = {{f->path, "alice", ids[i], &go, CRM_OK},
				     {f->path, "bob", ids[i], &go, CRM_OK}};
		char *o;

		pthread_barrier_init(&go, NULL, 2);
		for (int k = 0; k < 2; k++)
			assert_int_equal(pthread_create(&t[k], NULL, race, &r[k]), 0);
		for (int k = 0; k < 2; k++)
			pthread_join(t[k], NULL);
		pthread_barrier_destroy(&go);
		/* Exactly one wins; the other is told it was taken. */
		assert_true((r[0].rc == CRM_OK && r[1].rc == CRM_ECONFLICT) ||
			    (r[1].rc == CRM_OK && r[0].rc == CRM_ECONFLICT));
		o = owner_of(f, ids[i]);
		assert_non_null(o);
		assert_string_equal(o, r[0].rc == CRM_OK ? "alice" : "bob");
		free(o);
	}
}

/* ---- release and assign ----------------------------------------------- */

static void test_assign_permissions(void **state)
{
	struct fx *f = *state;
	struct srv_user alice = user(f, "alice"), bob = user(f, "bob"), mgr = user(f, "mgr");
	struct srv_pool_change c;
	struct crm_error err;
	struct srv_audit_entry *log = NULL;
	size_t n = 0;

	customer(f, C1, "East One", "alice", 0);
	customer(f, C2, "West One", "bob", 0);
	customer(f, C3, "Pooled", NULL, 0);
	assert_int_equal(srv_pool_assign(f->d.db, &alice, C3, "alice", NULL, &c, &err), CRM_EPERM);
	assert_string_equal(c.refusal, "forbidden");
	/* A manager within the team: transfer and assignment from the pool. */
	assert_int_equal(srv_pool_assign(f->d.db, &mgr, C1, "carol", "holiday", &c, &err), CRM_OK);
	assert_owner(f, C1, "carol");
	assert_int_equal(srv_pool_assign(f->d.db, &mgr, C3, "alice", NULL, &c, &err), CRM_OK);
	assert_owner(f, C3, "alice");
	/* ... but not to another team, nor another team's customer. */
	assert_int_equal(srv_pool_assign(f->d.db, &mgr, C3, "bob", NULL, &c, &err), CRM_EPERM);
	assert_int_equal(srv_pool_assign(f->d.db, &mgr, C2, "alice", NULL, &c, &err), CRM_EPERM);
	assert_owner(f, C2, "bob");
	assert_int_equal(srv_pool_assign(f->d.db, &mgr, C1, "nobody", NULL, &c, &err), CRM_ENOTFOUND);
	assert_string_equal(c.refusal, "nouser");
	/* Head office anywhere. */
	assert_int_equal(srv_pool_assign(f->d.db, NULL, C2, "alice", NULL, &c, &err), CRM_OK);
	assert_owner(f, C2, "alice");
	/* Releases: not someone else's (a rep), a manager's team's yes. */
	assert_int_equal(srv_pool_release(f->d.db, &bob, C2, NULL, &c, &err), CRM_EPERM);
	assert_string_equal(c.refusal, "notyours");
	assert_int_equal(srv_pool_release(f->d.db, &mgr, C2, NULL, &c, &err), CRM_OK);
	assert_owner(f, C2, NULL);
	assert_int_equal(srv_audit_customer(f->d.db, C1, &log, &n, &err), CRM_OK);
	assert_int_equal(n, 1);
	assert_string_equal(log[0].old_owner, "alice");
	assert_string_equal(log[0].new_owner, "carol");
	assert_string_equal(log[0].by, "mgr");
	assert_non_null(strstr(log[0].reason, "transferred from alice to carol: holiday"));
	free(log);
}

/* ---- recycling -------------------------------------------------------- */

static size_t recycle(struct fx *f, int64_t when, const char *expect_first)
{
	struct srv_pool_change *v = NULL;
	size_t n = 0;
	struct crm_error err;

	assert_int_equal(srv_pool_recycle(f->d.db, f->t0 + when, &v, &n, &err), CRM_OK);
	if (expect_first) {
		assert_true(n >= 1);
		assert_string_equal(v[0].customer, expect_first);
	}
	free(v);
	return n;
}

static void test_recycle_rule(void **state)
{
	struct fx *f = *state;
	struct crm_error err;

	customer(f, C1, "Plain", "alice", 0);        /* due at day 30 */
	customer(f, C2, "Visited", "alice", 0);
	activity(f, "01900000-0000-7000-8000-0000000000a1", C2, "alice", 10 * DAY, 10 * DAY);
	customer(f, C3, "Visited by others", "alice", 0);
	activity(f, "01900000-0000-7000-8000-0000000000a2", C3, "mgr", 20 * DAY, 20 * DAY);
	customer(f, C4, "Future-dated visit", "alice", 0);
	activity(f, "01900000-0000-7000-8000-0000000000a3", C4, "alice", 90 * DAY, 5 * DAY);
	customer(f, C5, "Open deal", "alice", 0);
	deal(f, "01900000-0000-7000-8000-0000000000d1", C5, "proposal");
	customer(f, C6, "Won deal", "alice", 0);
	deal(f, "01900000-0000-7000-8000-0000000000d2", C6, "won");

	/* One millisecond before 30 days: nothing. */
	assert_int_equal(recycle(f, 30 * DAY - 1, NULL), 0);
	/* At 30 days: Plain, Visited by others (a manager's note does not keep it),
	 * Won deal; the open deal is exempt. */
	assert_int_equal(recycle(f, 30 * DAY, NULL), 3);
	assert_owner(f, C1, NULL);
	assert_owner(f, C3, NULL);
	assert_owner(f, C6, NULL);
	assert_owner(f, C5, "alice");
	assert_owner(f, C2, "alice");
	/* A visit dated in the future counts from when it was typed (day 5): due at 35. */
	assert_owner(f, C4, "alice");
	assert_int_equal(recycle(f, 35 * DAY, C4), 1);
	/* alice's visit on day 10: due at day 40. */
	assert_int_equal(recycle(f, 40 * DAY - 1, NULL), 0);
	assert_int_equal(recycle(f, 40 * DAY, C2), 1);
	/* Exemption off: the open deal goes too. */
	assert_int_equal(srv_config_set(f->d.db, "pool.exempt_open_deals", "off", NULL, &err), CRM_OK);
	assert_int_equal(recycle(f, 40 * DAY, C5), 1);
	assert_int_equal(recycle(f, 400 * DAY, NULL), 0);
}

static void test_recycle_counts_from_claim(void **state)
{
	struct fx *f = *state;
	struct srv_user bob = user(f, "bob");
	struct srv_pool_change c;
	struct crm_error err;
	struct srv_audit_entry *log = NULL;
	size_t n = 0;

	/* An old customer with an old visit by bob, claimed by bob on day 100. */
	customer(f, C1, "Old", NULL, 0);
	activity(f, "01900000-0000-7000-8000-0000000000a1", C1, "bob", 1 * DAY, 1 * DAY);
	at(f, 100 * DAY);
	assert_int_equal(srv_pool_claim(f->d.db, &bob, C1, &c, &err), CRM_OK);
	assert_int_equal(recycle(f, 129 * DAY, NULL), 0);
	assert_int_equal(recycle(f, 130 * DAY, C1), 1);
	assert_int_equal(srv_audit_customer(f->d.db, C1, &log, &n, &err), CRM_OK);
	assert_int_equal(n, 2);
	assert_string_equal(log[1].old_owner, "bob");
	assert_string_equal(log[1].new_owner, "");
	assert_string_equal(log[1].by, "server");
	assert_non_null(strstr(log[1].reason, "no follow-up by bob since 2026-04-11"));
	free(log);
	/* A deleted customer is never recycled. */
	customer(f, C2, "Gone", "bob", 0);
	exec_sql(f->d.db, "UPDATE customers SET deleted = 1 WHERE id = ?1", C2, NULL, NULL, 0, 0);
	assert_int_equal(recycle(f, 1000 * DAY, NULL), 0);
	assert_owner(f, C2, "bob");
}

/* The scan and the write are apart in serve: what changed in between is checked again. */
static void test_recycle_recheck(void **state)
{
	struct fx *f = *state;
	struct srv_pool_change *v = NULL, c;
	size_t n = 0;
	struct crm_error err;

	customer(f, C1, "Visited meanwhile", "alice", 0);
	customer(f, C2, "Changed hands meanwhile", "alice", 0);
	customer(f, C3, "Still due", "alice", 0);
	assert_int_equal(srv_pool_due(f->d.db, f->t0 + 31 * DAY, &v, &n, &err), CRM_OK);
	assert_int_equal(n, 3);
	activity(f, "01900000-0000-7000-8000-0000000000a1", C1, "alice", 30 * DAY, 30 * DAY);
	assert_int_equal(srv_pool_assign(f->d.db, NULL, C2, "carol", NULL, &c, &err), CRM_OK);
	assert_int_equal(srv_pool_recycle_due(f->d.db, f->t0 + 31 * DAY, v, &n, &err), CRM_OK);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].customer, C3);
	free(v);
	assert_owner(f, C1, "alice");
	assert_owner(f, C2, "carol");
	assert_owner(f, C3, NULL);
}

/* ---- references --------------------------------------------------------- */

static void test_resolve(void **state)
{
	struct fx *f = *state;
	char id[37];
	struct crm_error err;

	customer(f, C1, "深圳市华信科技有限公司", NULL, 0);
	customer(f, C2, "深圳市华信电子有限公司", "alice", 0);
	customer(f, C3, "ACME Trading", NULL, 0);
	assert_int_equal(srv_pool_resolve(f->d.db, "华信", SRV_AMONG_ALL, NULL, id, &err), CRM_EAMBIGUOUS);
	assert_non_null(strstr(err.msg, "深圳市华信电子有限公司"));
	/* Among the pool only one matches. */
	assert_int_equal(srv_pool_resolve(f->d.db, "华信", SRV_AMONG_POOL, NULL, id, &err), CRM_OK);
	assert_string_equal(id, C1);
	assert_int_equal(srv_pool_resolve(f->d.db, "华信", SRV_AMONG_OWNED, "alice", id, &err), CRM_OK);
	assert_string_equal(id, C2);
	assert_int_equal(srv_pool_resolve(f->d.db, "ext-" C3, SRV_AMONG_ALL, NULL, id, &err), CRM_OK);
	assert_string_equal(id, C3);
	/* An exact id always resolves, even outside the set (so a claim can say who has it). */
	assert_int_equal(srv_pool_resolve(f->d.db, C2, SRV_AMONG_POOL, NULL, id, &err), CRM_OK);
	assert_string_equal(id, C2);
	assert_int_equal(srv_pool_resolve(f->d.db, "Globex", SRV_AMONG_ALL, NULL, id, &err), CRM_ENOTFOUND);
	assert_int_equal(srv_pool_resolve(f->d.db, "", SRV_AMONG_ALL, NULL, id, &err), CRM_EUSAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_and_lockout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_assign_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recycle_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recycle_counts_from_claim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recycle_recheck, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
