/*
 * Unit tests of server-side de-duplication on a server database without
 * HTTP: the survivor rule, fills, conflicts, children moved, tombstone and
 * alias, notices; an exact unmerge (children moved elsewhere since stay, a
 * filled field edited since stays); dismissed pairs; the review queue; the
 * rewrite of pushed ids through aliases (chains too); and an index that
 * recovers after a merge is rolled back.
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
#include "crm_time.h"
#include "srv_db.h"
#include "srv_dedup.h"

#define X_ID "01900000-0000-7000-8000-000000000001"
#define Y_ID "01900000-0000-7000-8000-000000000002"
#define W_ID "01900000-0000-7000-8000-000000000003"
#define G1_ID "01900000-0000-7000-8000-000000000004"
#define G2_ID "01900000-0000-7000-8000-000000000005"
#define ACT_ID "01900000-0000-7000-8000-0000000000a1"
#define CON_ID "01900000-0000-7000-8000-0000000000c1"
#define DEAL_ID "01900000-0000-7000-8000-0000000000d1"

struct fx {
	char path[64];
	struct srv_db d;
	struct srv_dedup *dd;
};

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", sql, msg ? msg : "?");
		sqlite3_free(msg);
		fail();
	}
}

/* The first column of the first row as text ("" for NULL, "-" for no row). */
static char *q(sqlite3 *db, const char *sql)
{
	static char out[512];
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, sizeof out, "%s",
			 sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "");
	else
		snprintf(out, sizeof out, "-");
	sqlite3_finalize(st);
	return out;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct crm_error err;

	assert_non_null(f);
	dbtu_temp_path(f->path, sizeof f->path, "test_server_dedup");
	assert_int_equal(srv_db_open(f->path, SRV_DB_CREATE | SRV_DB_SYNC, &f->d, &err), CRM_OK);
	/* alice registered 华信 first; bob typed it in again, with the same phone. */
	exec(f->d.db,
	     "INSERT INTO customers (id, created_at, name, phone, city, owner) VALUES"
	     " ('" X_ID "', 1000, '深圳市华信科技有限公司', '+8613800138000', '深圳', 'alice');"
	     "INSERT INTO customers (id, created_at, name, phone, email, address, owner) VALUES"
	     " ('" Y_ID "', 2000, '华信科技（深圳）有限公司', '+8613800138000', 'info@huaxin.cn',"
	     " '南山区科技园1号', 'bob');"
	     "INSERT INTO activities (id, customer_id, kind, note) VALUES ('" ACT_ID "', '" Y_ID "', 'visit', 'bob visited');"
	     "INSERT INTO contacts (id, customer_id, name) VALUES ('" CON_ID "', '" Y_ID "', '王经理');"
	     "INSERT INTO deals (id, customer_id, title) VALUES ('" DEAL_ID "', '" X_ID "', 'alice deal');"
	     "INSERT INTO customers (id, created_at, name, city) VALUES"
	     " ('" G1_ID "', 3000, 'Globex Corporation', 'Springfield'),"
	     " ('" G2_ID "', 4000, 'Globex Corp', 'Springfield');");
	assert_int_equal(srv_dedup_open(f->d.db, &f->dd, &err), CRM_OK);
	assert_int_equal(srv_dedup_count(f->dd), 4);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	srv_dedup_free(f->dd);
	srv_db_close(&f->d);
	dbtu_remove(f->path);
	free(f);
	return 0;
}

/* The version of one field at the hub (0 when never written). */
static sync_hlc field_hlc(struct fx *f, const char *table, const char *id, const char *col)
{
	struct sync_changeset cs;
	struct crm_error err;
	sync_hlc h = 0;

	assert_int_equal(sync_row_snapshot(f->d.sync, table, id, &cs, &err), CRM_OK);
	for (size_t i = 0; cs.nrows && i < cs.rows[0].nfields; i++)
		if (strcmp(cs.rows[0].fields[i].col, col) == 0)
			h = cs.rows[0].fields[i].hlc;
	sync_changeset_release(&cs);
	return h;
}

/* Matches Y inside a transaction and commits; returns what Y was merged into. */
static void check_y(struct fx *f, char into[37], struct srv_dup_stats *stats)
{
	struct crm_error err;

	assert_int_equal(srv_db_begin(f->d.db, &err), CRM_OK);
	assert_int_equal(srv_dedup_check(f->dd, f->d.db, f->d.sync, Y_ID, "test", "tester", stats,
					 into, &err),
			 CRM_OK);
	assert_int_equal(srv_db_commit(f->d.db, &err), CRM_OK);
}

static void test_merge(void **state)
{
	struct fx *f = *state;
	struct srv_dup_stats stats = {0, 0, 0};
	struct sync_conflict *list = NULL;
	size_t n = 0;
	struct crm_error err;
	char into[37];
	bool found = false;

	sync_hlc before = field_hlc(f, "activities", ACT_ID, "customer_id");

	check_y(f, into, &stats);
	assert_string_equal(into, X_ID); /* registered first: survives though checked second */
	/* The move is a captured write: a newer version of the field, so it replicates. */
	assert_true(field_hlc(f, "activities", ACT_ID, "customer_id") > before);
	assert_int_equal(stats.merged, 1);
	assert_string_equal(q(f->d.db, "SELECT deleted || '|' || merged_into || '|' || owner FROM customers WHERE id = '" Y_ID "'"),
			    "1|" X_ID "|bob");
	assert_string_equal(q(f->d.db, "SELECT email FROM customers WHERE id = '" X_ID "'"), "info@huaxin.cn");
	assert_string_equal(q(f->d.db, "SELECT city FROM customers WHERE id = '" X_ID "'"), "深圳");
	assert_string_equal(q(f->d.db, "SELECT owner FROM customers WHERE id = '" X_ID "'"), "alice");
	assert_string_equal(q(f->d.db, "SELECT customer_id FROM activities WHERE id = '" ACT_ID "'"), X_ID);
	assert_string_equal(q(f->d.db, "SELECT customer_id FROM contacts WHERE id = '" CON_ID "'"), X_ID);
	assert_string_equal(q(f->d.db, "SELECT customer_id FROM deals WHERE id = '" DEAL_ID "'"), X_ID);
	assert_string_equal(q(f->d.db, "SELECT new_id FROM srv_dup_aliases WHERE old_id = '" Y_ID "'"), X_ID);
	assert_string_equal(q(f->d.db, "SELECT count(*) FROM srv_dup_moves"), "2");
	assert_string_equal(q(f->d.db, "SELECT group_concat(col) FROM (SELECT col FROM srv_dup_fills ORDER BY col)"), "address,email");
	/* The differing name is a conflict on the survivor, with bob's value as the loser. */
	assert_int_equal(sync_conflicts_list(f->d.sync, false, &list, &n, &err), CRM_OK);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].col, "name") != 0)
			continue;
		found = true;
		assert_string_equal(list[i].row_id, X_ID);
		assert_string_equal(list[i].loser.s, "华信科技（深圳）有限公司");
		assert_string_equal(list[i].winner.s, "深圳市华信科技有限公司");
	}
	sync_conflicts_release(list, n);
	assert_true(found);
	assert_string_equal(q(f->d.db, "SELECT count(*) FROM srv_conflicts WHERE row_id = '" X_ID "'"), "1");
	/* Both reps are told, bob that it is alice's now. */
	assert_non_null(strstr(q(f->d.db, "SELECT text FROM srv_dup_notices WHERE user = 'bob'"),
			       "owned by alice"));
	assert_string_equal(q(f->d.db, "SELECT count(*) FROM srv_dup_notices WHERE user = 'alice'"), "1");
	assert_string_equal(q(f->d.db, "SELECT count(*) FROM srv_dup_pairs WHERE status = 'merged'"), "1");
	assert_int_equal(srv_dedup_count(f->dd), 3);
	/* A tombstone cannot be merged again. */
	assert_int_equal(srv_db_begin(f->d.db, &err), CRM_OK);
	{
		struct srv_dup_merge_info info;

		assert_int_equal(srv_dedup_merge(f->dd, f->d.db, f->d.sync, Y_ID, G1_ID, "test", NULL,
						 NULL, &info, &err),
				 CRM_ECONFLICT);
	}
	srv_db_rollback(f->d.db);
}

static void test_unmerge_exact(void **state)
{
	struct fx *f = *state;
	struct srv_dup_stats stats = {0, 0, 0};
	struct srv_dup_merge_info info;
	struct crm_error err;
	char into[37];

	check_y(f, into, &stats);
	assert_string_equal(into, X_ID);
	/* Since the merge: alice edits the filled address; the contact moves to G1 by hand. */
	exec(f->d.db, "UPDATE customers SET address = '南山区科技园2号' WHERE id = '" X_ID "';"
		      "UPDATE contacts SET customer_id = '" G1_ID "' WHERE id = '" CON_ID "'");
	assert_int_equal(srv_db_begin(f->d.db, &err), CRM_OK);
	assert_int_equal(srv_dedup_unmerge(f->dd, f->d.db, f->d.sync, Y_ID, "tester", &info, &err), CRM_OK);
	assert_int_equal(srv_db_commit(f->d.db, &err), CRM_OK);
	assert_int_equal(info.moved, 1);
	assert_int_equal(info.filled, 1);
	assert_string_equal(q(f->d.db, "SELECT deleted || '|' || coalesce(merged_into, '-') FROM customers WHERE id = '" Y_ID "'"),
			    "0|-");
	assert_string_equal(q(f->d.db, "SELECT customer_id FROM activities WHERE id = '" ACT_ID "'"), Y_ID);
	assert_string_equal(q(f->d.db, "SELECT customer_id FROM contacts WHERE id = '" CON_ID "'"), G1_ID);
	assert_string_equal(q(f->d.db, "SELECT customer_id FROM deals WHERE id = '" DEAL_ID "'"), X_ID);
	assert_string_equal(q(f->d.db, "SELECT coalesce(email, 'NULL') FROM customers WHERE id = '" X_ID "'"), "NULL");
	assert_string_equal(q(f->d.db, "SELECT address FROM customers WHERE id = '" X_ID "'"), "南山区科技园2号");
	assert_string_equal(q(f->d.db, "SELECT count(*) FROM srv_dup_aliases"), "0");
	assert_string_equal(q(f->d.db, "SELECT status FROM srv_dup_pairs WHERE a = '" X_ID "'"), "dismissed");
	assert_string_equal(q(f->d.db, "SELECT count(*) FROM srv_dup_merges WHERE undone_at IS NOT NULL"), "1");
	assert_int_equal(srv_dedup_count(f->dd), 4);
	/* Undone once; and the dismissed pair is not merged again. */
	assert_int_equal(srv_db_begin(f->d.db, &err), CRM_OK);
	assert_int_equal(srv_dedup_unmerge(f->dd, f->d.db, f->d.sync, Y_ID, "tester", &info, &err),
			 CRM_ENOTFOUND);
	srv_db_rollback(f->d.db);
	check_y(f, into, &stats);
	assert_string_equal(into, "");
	assert_string_equal(q(f->d.db, "SELECT count(*) FROM customers WHERE deleted = 0"), "4");
}

static void test_review_queue(void **state)
{
	struct fx *f = *state;
	struct srv_dup_stats stats = {0, 0, 0};
	struct crm_error err;
	char into[37];

	for (int i = 0; i < 2; i++) {
		assert_int_equal(srv_db_begin(f->d.db, &err), CRM_OK);
		assert_int_equal(srv_dedup_check(f->dd, f->d.db, f->d.sync, G2_ID, "test", NULL, &stats,
						 into, &err),
				 CRM_OK);
		assert_int_equal(srv_db_commit(f->d.db, &err), CRM_OK);
		assert_string_equal(into, "");
	}
	assert_int_equal(stats.queued, 1); /* queued once, not twice */
	assert_int_equal(stats.merged, 0);
	assert_string_equal(q(f->d.db, "SELECT a || '|' || b || '|' || status FROM srv_dup_pairs"),
			    G1_ID "|" G2_ID "|open");
	assert_string_not_equal(q(f->d.db, "SELECT reasons FROM srv_dup_pairs"), "[]");
}

static void test_rewrite(void **state)
{
	struct fx *f = *state;
	struct srv_dup_stats stats = {0, 0, 0};
	struct sync_changeset cs;
	struct sync_field fld;
	struct sync_row *r;
	struct crm_error err;
	char into[37];
	size_t n = 0;

	check_y(f, into, &stats);
	/* A chain: X merged into W later (W registered even earlier). */
	exec(f->d.db, "INSERT INTO customers (id, created_at, name, phone, owner) VALUES"
		      " ('" W_ID "', 500, '华信科技', '+8613800138000', 'carol')");
	assert_int_equal(srv_db_begin(f->d.db, &err), CRM_OK);
	{
		struct srv_dup_merge_info info;

		assert_int_equal(srv_dedup_merge(f->dd, f->d.db, f->d.sync, X_ID, W_ID, "test", NULL,
						 NULL, &info, &err),
				 CRM_OK);
		assert_string_equal(info.survivor, W_ID);
	}
	assert_int_equal(srv_db_commit(f->d.db, &err), CRM_OK);

	sync_changeset_init(&cs);
	r = sync_changeset_add_row(&cs, "customers", Y_ID);
	assert_non_null(r);
	memset(&fld, 0, sizeof fld);
	fld.col = (char *)(uintptr_t) "industry";
	fld.v.type = SYNC_TEXT;
	fld.v.s = (char *)(uintptr_t) "software";
	assert_int_equal(sync_row_add_field(&cs, r, &fld), CRM_OK);
	fld.col = (char *)(uintptr_t) "deleted";
	fld.v.type = SYNC_INT;
	fld.v.i = 1;
	fld.v.s = NULL;
	assert_int_equal(sync_row_add_field(&cs, r, &fld), CRM_OK);
	r = sync_changeset_add_row(&cs, "activities", "01900000-0000-7000-8000-0000000000a2");
	assert_non_null(r);
	fld.col = (char *)(uintptr_t) "customer_id";
	fld.v.type = SYNC_TEXT;
	fld.v.s = (char *)(uintptr_t)Y_ID;
	assert_int_equal(sync_row_add_field(&cs, r, &fld), CRM_OK);
	assert_int_equal(cs.nfields, 3);

	assert_int_equal(srv_dedup_rewrite(f->d.db, &cs, &n, &err), CRM_OK);
	assert_int_equal(n, 2);
	assert_string_equal(cs.rows[0].id, W_ID); /* Y -> X -> W */
	assert_int_equal(cs.rows[0].nfields, 1);  /* the deletion was dropped */
	assert_string_equal(cs.rows[0].fields[0].col, "industry");
	assert_string_equal(cs.rows[1].fields[0].v.s, W_ID);
	assert_int_equal(cs.nfields, 2);
	/* The rewritten visit is logged with Y's merge, so an unmerge takes it back. */
	assert_string_equal(q(f->d.db, "SELECT count(*) FROM srv_dup_moves WHERE row_id = '01900000-0000-7000-8000-0000000000a2'"),
			    "1");
	sync_changeset_release(&cs);
}

static void test_rollback_settles(void **state)
{
	struct fx *f = *state;
	struct srv_dup_stats stats = {0, 0, 0};
	struct sync_changeset cs;
	struct sync_row *r;
	struct sync_field fld;
	struct crm_error err;
	char into[37];

	/* A merge inside a transaction that rolls back: the index lost Y meanwhile. */
	assert_int_equal(srv_db_begin(f->d.db, &err), CRM_OK);
	assert_int_equal(srv_dedup_check(f->dd, f->d.db, f->d.sync, Y_ID, "test", NULL, &stats, into, &err),
			 CRM_OK);
	assert_string_equal(into, X_ID);
	srv_db_rollback(f->d.db);
	assert_int_equal(srv_dedup_count(f->dd), 3);
	assert_string_equal(q(f->d.db, "SELECT deleted FROM customers WHERE id = '" Y_ID "'"), "0");
	/* The next push settles the index first, then matches again and merges for good. */
	sync_changeset_init(&cs);
	r = sync_changeset_add_row(&cs, "customers", Y_ID);
	assert_non_null(r);
	memset(&fld, 0, sizeof fld);
	fld.col = (char *)(uintptr_t) "phone";
	fld.v.type = SYNC_TEXT;
	fld.v.s = (char *)(uintptr_t) "+8613800138000";
	assert_int_equal(sync_row_add_field(&cs, r, &fld), CRM_OK);
	assert_int_equal(srv_db_begin(f->d.db, &err), CRM_OK);
	assert_int_equal(srv_dedup_after_push(f->dd, f->d.db, f->d.sync, &cs, "bob", &err), CRM_OK);
	assert_int_equal(srv_db_commit(f->d.db, &err), CRM_OK);
	sync_changeset_release(&cs);
	assert_string_equal(q(f->d.db, "SELECT merged_into FROM customers WHERE id = '" Y_ID "'"), X_ID);
	assert_int_equal(srv_dedup_count(f->dd), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmerge_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_review_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rewrite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_settles, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
