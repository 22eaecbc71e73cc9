/*
 * Unit tests of change capture: what the triggers record for inserts,
 * updates and no-op updates, the base of local edits, refused deletes and id
 * changes, capture off, trigger upgrade after ALTER TABLE ADD COLUMN, the
 * outbox (batches, acks, counts), the feed, snapshots, eviction and state.
 */
#include "sync_testutil.h"

#include <unistd.h>

static void test_insert_one_clock_row(void **state)
{
	struct tu_replica r;
	struct sync_changeset cs;
	struct crm_error err;
	int64_t upto, n;
	bool more;
	char sql[256];

	(void)state;
	tu_open(&r, ":memory:");
	tu_exec(r.db, "INSERT INTO customers(id, name, amount, lat) VALUES('c1', '华信', 12, 1.5)");
	assert_int_equal(tu_int(r.db, "SELECT count(*) FROM sync_clock"), 1);
	TU_ASSERT_TEXT(r.db, "SELECT col FROM sync_clock", "");
	snprintf(sql, sizeof sql, "SELECT count(*) FROM sync_clock WHERE site = '%s' AND base_hlc = 0",
		 sync_site_id(r.s));
	assert_int_equal(tu_int(r.db, sql), 1);
	assert_int_equal(sync_outbox_count(r.s, &n, &err), CRM_OK);
	assert_int_equal(n, 8); /* every column but id */
	assert_int_equal(sync_outbox(r.s, 100, &cs, &upto, &more, &err), CRM_OK);
	assert_false(more);
	assert_int_equal(cs.nrows, 1);
	assert_int_equal(cs.rows[0].nfields, 8);
	assert_string_equal(cs.rows[0].table, "customers");
	assert_string_equal(cs.rows[0].id, "c1");
	for (size_t i = 0; i < cs.rows[0].nfields; i++) {
		const struct sync_field *f = &cs.rows[0].fields[i];

		assert_string_equal(f->site, sync_site_id(r.s));
		assert_true(f->base_hlc == 0);
		if (strcmp(f->col, "name") == 0) {
			assert_int_equal(f->v.type, SYNC_TEXT);
			assert_string_equal(f->v.s, "华信");
		}
		if (strcmp(f->col, "lat") == 0)
			assert_int_equal(f->v.type, SYNC_REAL);
		if (strcmp(f->col, "amount") == 0)
			assert_true(f->v.type == SYNC_INT && f->v.i == 12);
		if (strcmp(f->col, "phone") == 0)
			assert_int_equal(f->v.type, SYNC_NULL);
	}
	sync_changeset_release(&cs);
	assert_int_equal(sync_outbox_ack(r.s, upto, &err), CRM_OK);
	assert_int_equal(sync_outbox_count(r.s, &n, &err), CRM_OK);
	assert_int_equal(n, 0);
	/* ack is idempotent, and an older ack does not move it back */
	assert_int_equal(sync_outbox_ack(r.s, upto - 1, &err), CRM_OK);
	assert_int_equal(sync_outbox_count(r.s, &n, &err), CRM_OK);
	assert_int_equal(n, 0);
	tu_close(&r);
}

static void test_update_fields_and_base(void **state)
{
	struct tu_replica r;
	struct crm_error err;
	struct sync_changeset cs;
	int64_t upto, seq_before, v1h;
	bool more;
	char *v1s;

	(void)state;
	tu_open(&r, ":memory:");
	tu_exec(r.db, "INSERT INTO customers(id, name, phone) VALUES('c1', 'a', '1')");
	/* an edit of a pending insert keeps the insert's base (none) */
	tu_exec(r.db, "UPDATE customers SET name = 'b', phone = '1' WHERE id = 'c1'");
	assert_int_equal(tu_int(r.db, "SELECT count(*) FROM sync_clock"), 2);
	assert_int_equal(tu_int(r.db, "SELECT base_hlc FROM sync_clock WHERE col = 'name'"), 0);
	/* no-op update: nothing captured, no sequence used */
	seq_before = tu_int(r.db, "SELECT max(seq) FROM sync_clock");
	tu_exec(r.db, "UPDATE customers SET name = name, phone = '1' WHERE id = 'c1'");
	assert_int_equal(tu_int(r.db, "SELECT max(seq) FROM sync_clock"), seq_before);
	assert_int_equal(tu_int(r.db, "SELECT count(*) FROM sync_clock"), 2);
	/* after the push is acknowledged, an edit is based on the version in place */
	assert_int_equal(sync_outbox(r.s, 100, &cs, &upto, &more, &err), CRM_OK);
	sync_changeset_release(&cs);
	assert_int_equal(sync_outbox_ack(r.s, upto, &err), CRM_OK);
	v1h = tu_int(r.db, "SELECT hlc FROM sync_clock WHERE col = 'name'");
	v1s = tu_text(r.db, "SELECT site FROM sync_clock WHERE col = 'name'");
	tu_exec(r.db, "UPDATE customers SET name = 'c' WHERE id = 'c1'");
	assert_int_equal(tu_int(r.db, "SELECT base_hlc FROM sync_clock WHERE col = 'name'"), v1h);
	TU_ASSERT_TEXT(r.db, "SELECT base_site FROM sync_clock WHERE col = 'name'", v1s);
	/* a second offline edit rests on the same base (what the server has) */
	tu_exec(r.db, "UPDATE customers SET name = 'd' WHERE id = 'c1'");
	assert_int_equal(tu_int(r.db, "SELECT base_hlc FROM sync_clock WHERE col = 'name'"), v1h);
	assert_true(tu_int(r.db, "SELECT hlc FROM sync_clock WHERE col = 'name'") > v1h);
	/* the other columns still take their version from the insert row */
	tu_exec(r.db, "UPDATE customers SET phone = '2' WHERE id = 'c1'");
	assert_int_equal(tu_int(r.db, "SELECT base_hlc FROM sync_clock WHERE col = 'phone'"),
			 tu_int(r.db, "SELECT hlc FROM sync_clock WHERE col = ''"));
	/* one UPDATE of several fields shares one HLC */
	tu_exec(r.db, "UPDATE customers SET phone = '3', notes = 'n' WHERE id = 'c1'");
	assert_int_equal(tu_int(r.db, "SELECT count(DISTINCT hlc) FROM sync_clock WHERE col IN ('phone', 'notes')"), 1);
	free(v1s);
	tu_close(&r);
}

static void test_delete_and_id_change_refused(void **state)
{
	struct tu_replica r;

	(void)state;
	tu_open(&r, ":memory:");
	tu_exec(r.db, "INSERT INTO customers(id, name) VALUES('c1', 'a')");
	assert_int_not_equal(tu_try(r.db, "DELETE FROM customers WHERE id = 'c1'"), SQLITE_OK);
	assert_non_null(strstr(sqlite3_errmsg(r.db), "hard delete refused"));
	assert_int_equal(tu_int(r.db, "SELECT count(*) FROM customers"), 1);
	assert_int_not_equal(tu_try(r.db, "UPDATE customers SET id = 'c2' WHERE id = 'c1'"), SQLITE_OK);
	assert_int_equal(tu_int(r.db, "SELECT count(*) FROM customers WHERE id = 'c1'"), 1);
	/* the tombstone is an ordinary captured field */
	tu_exec(r.db, "UPDATE customers SET deleted = 1 WHERE id = 'c1'");
	assert_int_equal(tu_int(r.db, "SELECT count(*) FROM sync_clock WHERE col = 'deleted'"), 1);
	tu_close(&r);
}

static void test_capture_off(void **state)
{
	struct tu_replica r;
	struct crm_error err;
	int64_t n;

	(void)state;
	tu_open(&r, ":memory:");
	sync_capture_set(r.s, false);
	tu_exec(r.db, "INSERT INTO customers(id, name) VALUES('c1', 'a')");
	tu_exec(r.db, "UPDATE customers SET name = 'b' WHERE id = 'c1'");
	assert_int_equal(tu_int(r.db, "SELECT count(*) FROM sync_clock"), 0);
	tu_exec(r.db, "DELETE FROM customers WHERE id = 'c1'");
	sync_capture_set(r.s, true);
	tu_exec(r.db, "INSERT INTO customers(id, name) VALUES('c2', 'a')");
	assert_int_equal(sync_outbox_count(r.s, &n, &err), CRM_OK);
	assert_int_equal(n, 8);
	tu_close(&r);
}

static void test_upgrade_after_add_column(void **state)
{
	char pa[] = "/tmp/test_sync_cap_a_XXXXXX", pb[] = "/tmp/test_sync_cap_b_XXXXXX";
	int fa = mkstemp(pa), fb = mkstemp(pb);
	struct tu_replica a, b;
	char *trig;

	(void)state;
	assert_true(fa >= 0 && fb >= 0);
	close(fa);
	close(fb);
	tu_open(&a, pa);
	tu_open(&b, pb);
	tu_exec(a.db, "INSERT INTO customers(id, name) VALUES('old', 'x')");
	assert_int_equal(tu_push(&a, &b), 0);
	tu_close(&a);
	tu_close(&b);
	/* a later migration adds a column, on both sides */
	{
		sqlite3 *db;

		assert_int_equal(sqlite3_open(pa, &db), SQLITE_OK);
		/* without sync_open the triggers cannot run: writes are refused, not lost */
		assert_int_not_equal(tu_try(db, "UPDATE customers SET name = 'q' WHERE id = 'old'"), SQLITE_OK);
		tu_exec(db, "ALTER TABLE customers ADD COLUMN city TEXT");
		sqlite3_close(db);
		assert_int_equal(sqlite3_open(pb, &db), SQLITE_OK);
		tu_exec(db, "ALTER TABLE customers ADD COLUMN city TEXT");
		sqlite3_close(db);
	}
	tu_open(&a, pa);
	tu_open(&b, pb);
	trig = tu_text(a.db, "SELECT sql FROM sqlite_master WHERE name = 'sync_upd_customers'");
	assert_non_null(strstr(trig, "city"));
	free(trig);
	/* old row: the new column is captured and merges */
	tu_exec(a.db, "UPDATE customers SET city = '深圳' WHERE id = 'old'");
	assert_int_equal(tu_int(a.db, "SELECT count(*) FROM sync_clock WHERE col = 'city'"), 1);
	/* new row carries the new column */
	tu_exec(a.db, "INSERT INTO customers(id, name, city) VALUES('new', 'y', '上海')");
	assert_int_equal(tu_push(&a, &b), 0);
	TU_ASSERT_TEXT(b.db, "SELECT city FROM customers WHERE id = 'old'", "深圳");
	TU_ASSERT_TEXT(b.db, "SELECT city FROM customers WHERE id = 'new'", "上海");
	/* and back the other way */
	tu_exec(b.db, "UPDATE customers SET city = '北京' WHERE id = 'new'");
	assert_int_equal(tu_push(&b, &a), 0);
	TU_ASSERT_TEXT(a.db, "SELECT city FROM customers WHERE id = 'new'", "北京");
	/* a second open changes nothing */
	{
		char *before = tu_text(a.db, "SELECT group_concat(sql) FROM sqlite_master WHERE type = 'trigger'");
		struct sync_db *s2 = NULL;
		struct crm_error err;
		char *after;

		sync_close(a.s);
		assert_int_equal(sync_open(a.db, tu_tables, 2, NULL, &s2, &err), CRM_OK);
		a.s = s2;
		after = tu_text(a.db, "SELECT group_concat(sql) FROM sqlite_master WHERE type = 'trigger'");
		assert_string_equal(before, after);
		free(before);
		free(after);
	}
	tu_close(&a);
	tu_close(&b);
	unlink(pa);
	unlink(pb);
}

static void test_outbox_batches(void **state)
{
	struct tu_replica r;
	struct crm_error err;
	int64_t n, upto, prev = 0;
	size_t total = 0, batches = 0;
	bool more = true;

	(void)state;
	tu_open(&r, ":memory:");
	tu_exec(r.db, "BEGIN");
	for (int i = 0; i < 30; i++) {
		char sql[128];

		snprintf(sql, sizeof sql, "INSERT INTO notes_t(id, body) VALUES('n%02d', 'b')", i);
		tu_exec(r.db, sql);
	}
	tu_exec(r.db, "COMMIT");
	tu_exec(r.db, "UPDATE notes_t SET body = 'c' WHERE id = 'n03'");
	assert_int_equal(sync_outbox_count(r.s, &n, &err), CRM_OK);
	assert_int_equal(n, 60);
	while (more) {
		struct sync_changeset cs;

		assert_int_equal(sync_outbox(r.s, 10, &cs, &upto, &more, &err), CRM_OK);
		assert_true(cs.nfields <= 10);
		assert_true(upto > prev);
		prev = upto;
		total += cs.nfields;
		batches++;
		sync_changeset_release(&cs);
		/* not acked yet: the same batch comes again */
		if (batches == 1) {
			int64_t again;

			assert_int_equal(sync_outbox(r.s, 10, &cs, &again, &more, &err), CRM_OK);
			assert_int_equal(again, upto);
			sync_changeset_release(&cs);
		}
		assert_int_equal(sync_outbox_ack(r.s, upto, &err), CRM_OK);
	}
	assert_int_equal(total, 60);
	assert_true(batches >= 6 && batches <= 7); /* whole rows: a batch may stop short */
	assert_int_equal(sync_outbox_count(r.s, &n, &err), CRM_OK);
	assert_int_equal(n, 0);
	tu_close(&r);
}

/* The batch after one on the wire, without acknowledging it: the one that comes next. */
static void test_outbox_after(void **state)
{
	struct tu_replica r;
	struct crm_error err;
	struct sync_changeset b1, b2, again;
	int64_t u1, u2, u3;
	bool more;

	(void)state;
	tu_open(&r, ":memory:");
	tu_exec(r.db, "BEGIN");
	for (int i = 0; i < 12; i++) {
		char sql[128];

		snprintf(sql, sizeof sql, "INSERT INTO notes_t(id, body) VALUES('n%02d', 'b')", i);
		tu_exec(r.db, sql);
	}
	tu_exec(r.db, "COMMIT");
	assert_int_equal(sync_outbox(r.s, 10, &b1, &u1, &more, &err), CRM_OK);
	assert_true(more);
	assert_int_equal(b1.nrows, 5);
	assert_int_equal(sync_outbox_after(r.s, u1, 10, &b2, &u2, &more, &err), CRM_OK);
	assert_true(u2 > u1);
	assert_int_equal(b2.nrows, 5);
	assert_string_not_equal(b2.rows[0].id, b1.rows[0].id);
	/* nothing was acknowledged: the outbox still starts with the first batch */
	assert_int_equal(sync_outbox(r.s, 10, &again, &u3, &more, &err), CRM_OK);
	assert_int_equal(u3, u1);
	sync_changeset_release(&again);
	/* once the first is acknowledged, the outbox is what was collected after it */
	assert_int_equal(sync_outbox_ack(r.s, u1, &err), CRM_OK);
	assert_int_equal(sync_outbox(r.s, 10, &again, &u3, &more, &err), CRM_OK);
	assert_int_equal(u3, u2);
	assert_int_equal(again.nrows, b2.nrows);
	for (size_t i = 0; i < again.nrows; i++)
		assert_string_equal(again.rows[i].id, b2.rows[i].id);
	sync_changeset_release(&again);
	/* past the end: empty, and an earlier point than acknowledged changes nothing */
	assert_int_equal(sync_outbox_after(r.s, u2 + 100, 10, &again, &u3, &more, &err), CRM_OK);
	assert_int_equal(again.nrows, 0);
	assert_false(more);
	sync_changeset_release(&again);
	assert_int_equal(sync_outbox_after(r.s, 0, 10, &again, &u3, &more, &err), CRM_OK);
	assert_int_equal(u3, u2);
	sync_changeset_release(&again);
	sync_changeset_release(&b1);
	sync_changeset_release(&b2);
	tu_close(&r);
}

/* Number of fields sync_outbox offers now (not acknowledged). */
static size_t outbox_fields(struct tu_replica *r)
{
	struct sync_changeset cs;
	struct crm_error err;
	int64_t upto = 0;
	bool more = false;
	size_t n;

	assert_int_equal(sync_outbox(r->s, 1000, &cs, &upto, &more, &err), CRM_OK);
	n = cs.nfields;
	sync_changeset_release(&cs);
	return n;
}

/*
 * The outbox walk skips what an empty walk already read (pulled rows), yet
 * never skips a local edit: not one made after it, nor one made on another
 * connection, nor one after a rolled-back transaction handed out sequences.
 */
static void test_outbox_skips_pulled_rows(void **state)
{
	char path[] = "/tmp/test_sync_outbox_XXXXXX";
	int fd = mkstemp(path);
	struct tu_replica hub, a, b;
	int64_t cursor = 0;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	tu_open(&hub, ":memory:");
	tu_open(&a, path);
	tu_open(&b, path);
	tu_exec(hub.db, "INSERT INTO customers(id, name) VALUES('h1', 'x')");
	tu_exec(hub.db, "INSERT INTO customers(id, name) VALUES('h2', 'y')");
	tu_pull(&hub, &a, &cursor);
	assert_int_equal(outbox_fields(&a), 0);
	/* a local edit after the empty walk */
	tu_exec(a.db, "UPDATE customers SET phone = '1' WHERE id = 'h1'");
	assert_int_equal(outbox_fields(&a), 1);
	tu_push(&a, &hub);
	assert_int_equal(outbox_fields(&a), 0);
	/* more pulled rows, then an edit on another connection of the same replica */
	tu_exec(hub.db, "INSERT INTO customers(id, name) VALUES('h3', 'z')");
	tu_pull(&hub, &a, &cursor);
	assert_int_equal(outbox_fields(&a), 0);
	tu_exec(b.db, "UPDATE customers SET notes = 'n' WHERE id = 'h3'");
	assert_int_equal(outbox_fields(&a), 1);
	tu_push(&a, &hub);
	assert_int_equal(outbox_fields(&a), 0);
	/* a rolled-back transaction on this connection, then a real edit */
	tu_exec(a.db, "BEGIN");
	tu_exec(a.db, "INSERT INTO notes_t(id, body) VALUES('gone', 'x')");
	tu_exec(a.db, "ROLLBACK");
	assert_int_equal(outbox_fields(&a), 0);
	tu_exec(b.db, "INSERT INTO notes_t(id, body) VALUES('kept', 'x')");
	assert_int_equal(outbox_fields(&a), 2); /* deleted, body */
	tu_push(&a, &hub);
	TU_ASSERT_TEXT(hub.db, "SELECT body FROM notes_t WHERE id = 'kept'", "x");
	TU_ASSERT_TEXT(hub.db, "SELECT notes FROM customers WHERE id = 'h3'", "n");
	tu_close(&a);
	tu_close(&b);
	tu_close(&hub);
	unlink(path);
}

static bool only_c1(void *ctx, const char *table, const char *id)
{
	int *calls = ctx;

	(*calls)++;
	return strcmp(table, "customers") == 0 && strcmp(id, "c1") == 0;
}

static void test_feed_and_snapshot(void **state)
{
	struct tu_replica hub, a, b;
	struct sync_changeset cs;
	struct crm_error err;
	int64_t next, cur_b = 0;
	bool more;
	int calls = 0;

	(void)state;
	tu_open(&hub, ":memory:");
	tu_open(&a, ":memory:");
	tu_open(&b, ":memory:");
	tu_exec(a.db, "INSERT INTO customers(id, name) VALUES('c1', 'a')");
	tu_exec(a.db, "INSERT INTO customers(id, name) VALUES('c2', 'b')");
	tu_push(&a, &hub);
	/* a's own fields are skipped for a */
	assert_int_equal(sync_feed(hub.s, 0, 100, NULL, NULL, sync_site_id(a.s), &cs, &next, &more, &err), CRM_OK);
	assert_int_equal(cs.nrows, 0);
	assert_false(more);
	assert_true(next > 0);
	sync_changeset_release(&cs);
	/* the filter decides per row */
	assert_int_equal(sync_feed(hub.s, 0, 100, only_c1, &calls, NULL, &cs, &next, &more, &err), CRM_OK);
	assert_int_equal(cs.nrows, 1);
	assert_string_equal(cs.rows[0].id, "c1");
	assert_int_equal(calls, 2);
	sync_changeset_release(&cs);
	/* paging: small pages, cursor moves, everything arrives once */
	tu_pull(&hub, &b, &cur_b);
	TU_ASSERT_TEXT(b.db, "SELECT group_concat(name) FROM (SELECT name FROM customers ORDER BY id)", "a,b");
	assert_int_equal(sync_feed(hub.s, cur_b, 100, NULL, NULL, NULL, &cs, &next, &more, &err), CRM_OK);
	assert_int_equal(cs.nrows, 0);
	assert_int_equal(next, cur_b);
	sync_changeset_release(&cs);
	/* b's edit goes to the hub and then to a */
	tu_exec(b.db, "UPDATE customers SET name = 'bb' WHERE id = 'c2'");
	tu_push(&b, &hub);
	assert_int_equal(sync_feed(hub.s, cur_b, 1, NULL, NULL, NULL, &cs, &next, &more, &err), CRM_OK);
	assert_int_equal(cs.nfields, 1);
	assert_string_equal(cs.rows[0].fields[0].col, "name");
	assert_string_equal(cs.rows[0].fields[0].site, sync_site_id(b.s));
	sync_changeset_release(&cs);
	/* snapshot: every field at its version */
	assert_int_equal(sync_row_snapshot(hub.s, "customers", "c2", &cs, &err), CRM_OK);
	assert_int_equal(cs.nrows, 1);
	assert_int_equal(cs.rows[0].nfields, 8);
	for (size_t i = 0; i < cs.rows[0].nfields; i++) {
		const struct sync_field *f = &cs.rows[0].fields[i];

		assert_string_equal(f->site, strcmp(f->col, "name") == 0 ? sync_site_id(b.s) : sync_site_id(a.s));
	}
	sync_changeset_release(&cs);
	assert_int_equal(sync_row_snapshot(hub.s, "customers", "nope", &cs, &err), CRM_ENOTFOUND);
	assert_int_equal(sync_row_snapshot(hub.s, "nope", "c1", &cs, &err), CRM_ENOTFOUND);
	tu_close(&hub);
	tu_close(&a);
	tu_close(&b);
}

static void test_evict(void **state)
{
	char path[] = "/tmp/test_sync_evict_XXXXXX";
	int fd = mkstemp(path);
	struct tu_replica r;
	struct crm_error err;
	int64_t n, top;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	tu_open(&r, path);
	tu_exec(r.db, "INSERT INTO customers(id, name) VALUES('c1', 'a')");
	tu_exec(r.db, "INSERT INTO customers(id, name) VALUES('c2', 'b')");
	tu_exec(r.db, "UPDATE customers SET name = 'z' WHERE id = 'c2'");
	top = tu_int(r.db, "SELECT max(seq) FROM sync_clock");
	assert_int_equal(sync_evict_row(r.s, "customers", "c2", &err), CRM_OK);
	assert_int_equal(tu_int(r.db, "SELECT count(*) FROM customers"), 1);
	assert_int_equal(tu_int(r.db, "SELECT count(*) FROM sync_clock WHERE rid = 'c2'"), 0);
	assert_int_equal(sync_evict_row(r.s, "nope", "c2", &err), CRM_ENOTFOUND);
	/* capture is back on after eviction */
	assert_int_not_equal(tu_try(r.db, "DELETE FROM customers WHERE id = 'c1'"), SQLITE_OK);
	assert_int_equal(sync_outbox_count(r.s, &n, &err), CRM_OK);
	assert_int_equal(n, 8);
	tu_close(&r);
	/* the evicted sequence numbers are never handed out again */
	tu_open(&r, path);
	tu_exec(r.db, "INSERT INTO customers(id, name) VALUES('c3', 'c')");
	assert_true(tu_int(r.db, "SELECT seq FROM sync_clock WHERE rid = 'c3'") > top);
	tu_close(&r);
	unlink(path);
}

static void test_state(void **state)
{
	struct tu_replica r;
	struct crm_error err;
	char *v = NULL;

	(void)state;
	tu_open(&r, ":memory:");
	assert_int_equal(sync_state_get(r.s, "cursor", &v, &err), CRM_ENOTFOUND);
	assert_null(v);
	assert_int_equal(sync_state_set(r.s, "cursor", "42", &err), CRM_OK);
	assert_int_equal(sync_state_set(r.s, "cursor", "43", &err), CRM_OK);
	assert_int_equal(sync_state_get(r.s, "cursor", &v, &err), CRM_OK);
	assert_string_equal(v, "43");
	free(v);
	/* inside the caller's transaction: rolled back with it */
	tu_exec(r.db, "BEGIN");
	assert_int_equal(sync_state_set(r.s, "cursor", "99", &err), CRM_OK);
	tu_exec(r.db, "ROLLBACK");
	assert_int_equal(sync_state_get(r.s, "cursor", &v, &err), CRM_OK);
	assert_string_equal(v, "43");
	free(v);
	tu_close(&r);
}

static void test_site_id_kept(void **state)
{
	char path[] = "/tmp/test_sync_site_XXXXXX";
	int fd = mkstemp(path);
	struct tu_replica r;
	char site[37];

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	tu_open(&r, path);
	assert_int_equal(strlen(sync_site_id(r.s)), 36);
	snprintf(site, sizeof site, "%s", sync_site_id(r.s));
	tu_close(&r);
	tu_open(&r, path);
	assert_string_equal(sync_site_id(r.s), site);
	tu_close(&r);
	unlink(path);
}

static void test_bad_tables(void **state)
{
	sqlite3 *db;
	struct sync_db *s = NULL;
	struct crm_error err;
	static const struct sync_table_spec missing[] = {{"nope", NULL}};
	static const struct sync_table_spec twopk[] = {{"t2", NULL}};

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	tu_exec(db, "CREATE TABLE t2(a TEXT, b TEXT, PRIMARY KEY(a, b))");
	assert_int_equal(sync_open(db, missing, 1, NULL, &s, &err), CRM_ENOTFOUND);
	assert_null(s);
	assert_int_equal(sync_open(db, twopk, 1, NULL, &s, &err), CRM_EINVAL);
	assert_null(s);
	sqlite3_close(db);
}

/* Two connections to one file hand out distinct, rising sequence numbers. */
static void test_two_connections(void **state)
{
	char path[] = "/tmp/test_sync_twoconn_XXXXXX";
	int fd = mkstemp(path);
	struct tu_replica a, b;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	tu_open(&a, path);
	tu_open(&b, path);
	assert_string_equal(sync_site_id(a.s), sync_site_id(b.s));
	tu_exec(a.db, "INSERT INTO customers(id, name) VALUES('c1', 'a')");
	tu_exec(b.db, "INSERT INTO customers(id, name) VALUES('c2', 'b')");
	tu_exec(a.db, "UPDATE customers SET name = 'x' WHERE id = 'c2'");
	tu_exec(b.db, "BEGIN");
	tu_exec(b.db, "UPDATE customers SET phone = '1' WHERE id = 'c1'");
	tu_exec(b.db, "UPDATE customers SET phone = '2' WHERE id = 'c2'");
	tu_exec(b.db, "COMMIT");
	tu_exec(a.db, "UPDATE customers SET notes = 'n' WHERE id = 'c1'");
	assert_int_equal(tu_int(a.db, "SELECT count(DISTINCT seq) FROM sync_clock"), 6);
	assert_int_equal(tu_int(a.db, "SELECT count(DISTINCT hlc) FROM sync_clock"), 6);
	/* in sequence order the clock only rises */
	assert_int_equal(tu_int(a.db, "SELECT count(*) FROM sync_clock x JOIN sync_clock y"
			       " ON y.seq > x.seq AND y.hlc <= x.hlc"), 0);
	tu_close(&a);
	tu_close(&b);
	unlink(path);
}

/* A table wider than one sync_touch() call (60 columns) is captured in every column. */
static void test_wide_table(void **state)
{
	sqlite3 *db;
	struct sync_db *s = NULL;
	struct crm_error err;
	static const struct sync_table_spec wide[] = {{"wide", NULL}};
	char sql[4096];
	size_t n = 0;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	n += (size_t)snprintf(sql + n, sizeof sql - n, "CREATE TABLE wide(id TEXT PRIMARY KEY");
	for (int i = 0; i < 64; i++)
		n += (size_t)snprintf(sql + n, sizeof sql - n, ", c%d INTEGER", i);
	snprintf(sql + n, sizeof sql - n, ")");
	tu_exec(db, sql);
	assert_int_equal(sync_open(db, wide, 1, NULL, &s, &err), CRM_OK);
	tu_exec(db, "INSERT INTO wide(id) VALUES('w')");
	tu_exec(db, "UPDATE wide SET c0 = 1, c59 = 1, c60 = 1, c63 = 1 WHERE id = 'w'");
	TU_ASSERT_TEXT(db, "SELECT group_concat(col) FROM (SELECT col FROM sync_clock WHERE col <> '' ORDER BY col)",
		       "c0,c59,c60,c63");
	sync_close(s);
	/* one column more than a row write can carry is refused at open */
	tu_exec(db, "ALTER TABLE wide ADD COLUMN c64 INTEGER");
	assert_int_equal(sync_open(db, wide, 1, NULL, &s, &err), CRM_EINVAL);
	sqlite3_close(db);
}

static bool reject_all(void *ctx, const char *table, const char *id)
{
	(void)ctx;
	(void)table;
	(void)id;
	return false;
}

/* A feed whose rows are all filtered out still moves its cursor, in bounded steps. */
static void test_feed_filtered_moves(void **state)
{
	struct tu_replica r;
	struct sync_changeset cs;
	struct crm_error err;
	int64_t next = 0, cursor = 0;
	bool more = true;
	int calls = 0;

	(void)state;
	tu_open(&r, ":memory:");
	tu_exec(r.db, "BEGIN");
	for (int i = 0; i < 2000; i++) {
		char sql[128];

		snprintf(sql, sizeof sql, "INSERT INTO notes_t(id, body) VALUES('n%04d', 'b')", i);
		tu_exec(r.db, sql);
	}
	tu_exec(r.db, "COMMIT");
	while (more) {
		assert_int_equal(sync_feed(r.s, cursor, 10, reject_all, NULL, NULL, &cs, &next, &more, &err),
				 CRM_OK);
		assert_int_equal(cs.nrows, 0);
		assert_true(next > cursor);
		cursor = next;
		calls++;
		sync_changeset_release(&cs);
	}
	assert_int_equal(cursor, tu_int(r.db, "SELECT max(seq) FROM sync_clock"));
	assert_true(calls >= 2);
	tu_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_one_clock_row),
		cmocka_unit_test(test_update_fields_and_base),
		cmocka_unit_test(test_delete_and_id_change_refused),
		cmocka_unit_test(test_capture_off),
		cmocka_unit_test(test_upgrade_after_add_column),
		cmocka_unit_test(test_outbox_batches),
		cmocka_unit_test(test_outbox_skips_pulled_rows),
		cmocka_unit_test(test_outbox_after),
		cmocka_unit_test(test_feed_and_snapshot),
		cmocka_unit_test(test_evict),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_site_id_kept),
		cmocka_unit_test(test_bad_tables),
		cmocka_unit_test(test_two_connections),
		cmocka_unit_test(test_wide_table),
		cmocka_unit_test(test_feed_filtered_moves),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
