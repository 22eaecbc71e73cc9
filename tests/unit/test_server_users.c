/*
 * Unit tests of srv_users and srv_scope: Argon2id logins, per-device tokens
 * stored only as hashes, revocation, disabled users, password changes, names,
 * and which customers a rep, a manager and an admin may see and give away.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db_testutil.h"
#include "migrate.h"
#include "srv_db.h"
#include "srv_scope.h"
#include "srv_sync.h"
#include "srv_users.h"

struct fx {
	char path[64];
	struct srv_db d;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct crm_error err;

	assert_non_null(f);
	dbtu_temp_path(f->path, sizeof f->path, "test_server_users");
	assert_int_equal(srv_db_open(f->path, SRV_DB_CREATE | SRV_DB_SYNC, &f->d, &err), CRM_OK);
	assert_int_equal(srv_user_add(f->d.db, "alice", SRV_REP, "east", "alice-pw", &err), CRM_OK);
	assert_int_equal(srv_user_add(f->d.db, "bob", SRV_REP, "west", "bob-pw", &err), CRM_OK);
	assert_int_equal(srv_user_add(f->d.db, "王经理", SRV_MANAGER, "east", "mgr-pw", &err), CRM_OK);
	assert_int_equal(srv_user_add(f->d.db, "root", SRV_ADMIN, NULL, "root-pw", &err), CRM_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	srv_db_close(&f->d);
	dbtu_remove(f->path);
	free(f);
	return 0;
}

static void test_users(void **state)
{
	struct fx *f = *state;
	struct crm_error err;
	struct srv_user u, *list = NULL;
	size_t n = 0;
	enum srv_role r;

	assert_int_equal(srv_user_add(f->d.db, "alice", SRV_REP, NULL, "x", &err), CRM_EEXISTS);
	assert_int_equal(srv_user_add(f->d.db, "bad\nname", SRV_REP, NULL, "x", &err), CRM_EINVAL);
	assert_int_equal(srv_user_add(f->d.db, "", SRV_REP, NULL, "x", &err), CRM_EINVAL);
	assert_int_equal(srv_user_add(f->d.db, "carol", SRV_REP, NULL, "", &err), CRM_EINVAL);
	assert_int_equal(srv_role_parse("manager", &r, &err), CRM_OK);
	assert_int_equal(r, SRV_MANAGER);
	assert_int_equal(srv_role_parse("boss", &r, &err), CRM_EINVAL);
	assert_int_equal(srv_user_get(f->d.db, "王经理", &u, &err), CRM_OK);
	assert_int_equal(u.role, SRV_MANAGER);
	assert_string_equal(u.team, "east");
	assert_int_equal(srv_user_get(f->d.db, "nobody", &u, &err), CRM_ENOTFOUND);
	assert_int_equal(srv_user_list(f->d.db, &list, &n, &err), CRM_OK);
	assert_int_equal(n, 4);
	assert_string_equal(list[0].name, "alice");
	free(list);
	/* Passwords are Argon2id strings, never the password. */
	{
		sqlite3_stmt *st = NULL;

		assert_int_equal(sqlite3_prepare_v2(f->d.db, "SELECT pwhash FROM srv_users WHERE name = 'alice'",
						    -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_non_null(strstr((const char *)sqlite3_column_text(st, 0), "$argon2id$"));
		assert_null(strstr((const char *)sqlite3_column_text(st, 0), "alice-pw"));
		sqlite3_finalize(st);
	}
}

static void test_login_tokens(void **state)
{
	struct fx *f = *state;
	struct crm_error err;
	struct srv_session s, s2, who;
	char tok[SRV_TOKEN_SIZE], tok2[SRV_TOKEN_SIZE];
	sqlite3_stmt *st = NULL;

	assert_int_equal(srv_login(f->d.db, "alice", "wrong", "lap", tok, &s, &err), CRM_EAUTH);
	assert_string_equal(tok, "");
	assert_int_equal(srv_login(f->d.db, "nobody", "x", "lap", tok, &s, &err), CRM_EAUTH);
	assert_int_equal(srv_login(f->d.db, "alice", "alice-pw", "lap1", tok, &s, &err), CRM_OK);
	assert_int_equal(strlen(tok), 43);
	assert_int_equal(srv_login(f->d.db, "alice", "alice-pw", "lap2", tok2, &s2, &err), CRM_OK);
	assert_string_not_equal(tok, tok2);
	assert_string_not_equal(s.device.id, s2.device.id);

	assert_int_equal(srv_auth(f->d.db, tok, &who, &err), CRM_OK);
	assert_string_equal(who.user.name, "alice");
	assert_string_equal(who.device.id, s.device.id);
	assert_string_equal(who.device.name, "lap1");
	/* A token that differs in one character, or is not token-shaped, is refused. */
	{
		char t[SRV_TOKEN_SIZE];

		memcpy(t, tok, sizeof t);
		t[10] = t[10] == 'A' ? 'B' : 'A';
		assert_int_equal(srv_auth(f->d.db, t, &who, &err), CRM_EAUTH);
		assert_int_equal(srv_auth(f->d.db, "short", &who, &err), CRM_EAUTH);
		assert_int_equal(srv_auth(f->d.db, "", &who, &err), CRM_EAUTH);
	}
	/* Only a 32-byte hash is stored. */
	assert_int_equal(sqlite3_prepare_v2(f->d.db, "SELECT token_hash FROM srv_devices", -1, &st, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		assert_int_equal(sqlite3_column_bytes(st, 0), 32);
		assert_true(memcmp(sqlite3_column_blob(st, 0), tok, 32) != 0);
	}
	sqlite3_finalize(st);

	/* Revoking one laptop leaves the other working. */
	assert_int_equal(srv_device_revoke(f->d.db, s.device.id, &err), CRM_OK);
	assert_int_equal(srv_auth(f->d.db, tok, &who, &err), CRM_EAUTH);
	assert_non_null(strstr(err.msg, "revoked"));
	assert_int_equal(srv_auth(f->d.db, tok2, &who, &err), CRM_OK);
	assert_int_equal(srv_device_revoke(f->d.db, "01900000-0000-7000-8000-000000000000", &err),
			 CRM_ENOTFOUND);

	/* A new password: the old one fails, tokens stay valid. */
	assert_int_equal(srv_user_passwd(f->d.db, "alice", "new-pw", &err), CRM_OK);
	assert_int_equal(srv_login(f->d.db, "alice", "alice-pw", "x", tok, &s, &err), CRM_EAUTH);
	assert_int_equal(srv_auth(f->d.db, tok2, &who, &err), CRM_OK);

	/* A disabled user: no login, no token. */
	assert_int_equal(srv_user_disable(f->d.db, "alice", &err), CRM_OK);
	assert_int_equal(srv_auth(f->d.db, tok2, &who, &err), CRM_EAUTH);
	assert_int_equal(srv_login(f->d.db, "alice", "new-pw", "x", tok, &s, &err), CRM_EAUTH);
	assert_int_equal(srv_user_disable(f->d.db, "nobody", &err), CRM_ENOTFOUND);
}

static void add_customer(sqlite3 *db, const char *id, const char *owner)
{
	char sql[256];

	snprintf(sql, sizeof sql, "INSERT INTO customers (id, name, owner) VALUES ('%s', 'c', '%s')", id,
		 owner);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static void test_scope(void **state)
{
	struct fx *f = *state;
	struct crm_error err;
	struct srv_user alice, bob, mgr, root;
	struct srv_scope sa, sb, sm, sr;
	const char *ca = "01900000-0000-7000-8000-0000000000a1";
	const char *cb = "01900000-0000-7000-8000-0000000000b1";
	char parent[37];
	bool found;

	add_customer(f->d.db, ca, "alice");
	add_customer(f->d.db, cb, "bob");
	assert_int_equal(sqlite3_exec(f->d.db,
				      "INSERT INTO activities (id, customer_id, kind) VALUES "
				      "('01900000-0000-7000-8000-0000000000d1', '01900000-0000-7000-8000-0000000000a1', 'visit')",
				      NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(srv_user_get(f->d.db, "alice", &alice, &err), CRM_OK);
	assert_int_equal(srv_user_get(f->d.db, "bob", &bob, &err), CRM_OK);
	assert_int_equal(srv_user_get(f->d.db, "王经理", &mgr, &err), CRM_OK);
	assert_int_equal(srv_user_get(f->d.db, "root", &root, &err), CRM_OK);
	assert_int_equal(srv_scope_init(&sa, f->d.db, &alice, &err), CRM_OK);
	assert_int_equal(srv_scope_init(&sb, f->d.db, &bob, &err), CRM_OK);
	assert_int_equal(srv_scope_init(&sm, f->d.db, &mgr, &err), CRM_OK);
	assert_int_equal(srv_scope_init(&sr, f->d.db, &root, &err), CRM_OK);

	assert_true(srv_scope_customer(&sa, ca));
	assert_false(srv_scope_customer(&sa, cb));
	assert_true(srv_scope_customer(&sb, cb));
	assert_false(srv_scope_customer(&sb, ca));
	assert_true(srv_scope_customer(&sm, ca));  /* alice is in the manager's team */
	assert_false(srv_scope_customer(&sm, cb)); /* bob is not */
	assert_true(srv_scope_customer(&sr, cb));
	assert_false(srv_scope_customer(&sa, "01900000-0000-7000-8000-0000000000ff"));

	assert_true(srv_scope_row(&sa, "activities", "01900000-0000-7000-8000-0000000000d1"));
	assert_false(srv_scope_row(&sb, "activities", "01900000-0000-7000-8000-0000000000d1"));
	assert_false(srv_scope_row(&sa, "nosuch", ca));
	assert_int_equal(srv_scope_parent(&sb, "activities", "01900000-0000-7000-8000-0000000000d1",
					  parent, &found, &err), CRM_OK);
	assert_true(found);
	assert_string_equal(parent, ca);
	assert_int_equal(srv_scope_parent(&sb, "customers", ca, parent, &found, &err), CRM_OK);
	assert_true(found);
	assert_int_equal(srv_scope_parent(&sb, "contacts", ca, parent, &found, &err), CRM_OK);
	assert_false(found);

	assert_true(srv_scope_may_own(&sa, "alice"));
	assert_false(srv_scope_may_own(&sa, "bob"));
	assert_true(srv_scope_may_own(&sm, "alice"));
	assert_false(srv_scope_may_own(&sm, "bob"));
	assert_true(srv_scope_may_own(&sr, "bob"));
	assert_false(srv_scope_may_own(&sr, "nobody"));

	srv_scope_release(&sa);
	srv_scope_release(&sb);
	srv_scope_release(&sm);
	srv_scope_release(&sr);
}

static void test_columns(void **state)
{
	struct srv_columns c;
	struct crm_error err;

	(void)state;
	assert_int_equal(srv_columns_load(1, &c, &err), CRM_OK);
	assert_true(srv_columns_has(&c, "customers", "name"));
	assert_true(srv_columns_has(&c, "activities", "customer_id"));
	assert_false(srv_columns_has(&c, "customers", "nosuch"));
	assert_false(srv_columns_has(&c, "nosuch", "name"));
	srv_columns_release(&c);
	assert_int_equal(srv_columns_load(0, &c, &err), CRM_OK);
	assert_false(srv_columns_has(&c, "customers", "name"));
	srv_columns_release(&c);
}

static long search_objects(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	long n = -1;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'search%'",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* The client's search index never lives on the server, even in an older database. */
static void test_no_search_index(void **state)
{
	struct fx *f = *state;
	struct crm_error err;
	const char *search_sql = NULL;

	assert_int_equal(search_objects(f->d.db), 0);
	for (size_t i = 0; i < schema_migrations_count; i++)
		if (strstr(schema_migrations[i].name, "search"))
			search_sql = schema_migrations[i].sql;
	assert_non_null(search_sql);
	/* a database made before the server dropped it */
	assert_int_equal(sqlite3_exec(f->d.db, search_sql, NULL, NULL, NULL), SQLITE_OK);
	assert_true(search_objects(f->d.db) >= 11);
	srv_db_close(&f->d);
	assert_int_equal(srv_db_open(f->path, SRV_DB_SYNC, &f->d, &err), CRM_OK);
	assert_int_equal(search_objects(f->d.db), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_users, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_columns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_search_index, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
