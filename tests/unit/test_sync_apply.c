/*
 * Unit tests of merge: LWW in both orders, idempotence, commutativity over
 * random permutations of real change sets, conflicts recorded with both
 * values (and the same id everywhere), same-site later edits, quiet columns,
 * undelete, refusals (unknown table/column, check veto, constraint), clock
 * skew refusal leaving the database untouched, and conflict resolution.
 */
#include "sync_testutil.h"

#include "hlc.h"

static void set_text(struct tu_replica *r, const char *id, const char *col, const char *v)
{
	char sql[512];

	snprintf(sql, sizeof sql, "UPDATE customers SET %s = '%s' WHERE id = '%s'", col, v, id);
	tu_exec(r->db, sql);
}

/* Takes r's whole outbox as one change set (acknowledged). */
static void take_outbox(struct tu_replica *r, struct sync_changeset *cs)
{
	struct crm_error err;
	int64_t upto;
	bool more;

	assert_int_equal(sync_outbox(r->s, 100000, cs, &upto, &more, &err), CRM_OK);
	assert_false(more);
	assert_int_equal(sync_outbox_ack(r->s, upto, &err), CRM_OK);
}

static size_t apply_ok(struct tu_replica *r, const struct sync_changeset *cs)
{
	struct sync_apply_result res;
	struct crm_error err;
	enum crm_err rc = sync_apply(r->s, cs, 0, NULL, NULL, &res, &err);
	size_t c;

	if (rc != CRM_OK)
		fprintf(stderr, "apply: %s\n", err.msg);
	assert_int_equal(rc, CRM_OK);
	assert_int_equal(res.nrefused, 0);
	c = res.conflicts;
	sync_apply_result_release(&res);
	return c;
}

/* Hub with one customer, and two replicas that have it. */
static void three(struct tu_replica *hub, struct tu_replica *a, struct tu_replica *b)
{
	int64_t ca = 0, cb = 0;

	tu_open(hub, ":memory:");
	tu_open(a, ":memory:");
	tu_open(b, ":memory:");
	tu_exec(hub->db, "INSERT INTO customers(id, name, phone, amount) VALUES('c1', 'orig', '1', 5)");
	tu_pull(hub, a, &ca);
	tu_pull(hub, b, &cb);
}

static void close3(struct tu_replica *x, struct tu_replica *y, struct tu_replica *z)
{
	tu_close(x);
	tu_close(y);
	tu_close(z);
}

static void test_lww_both_orders_conflict_kept(void **state)
{
	struct tu_replica hub, a, b, h2;
	struct sync_changeset ca, cb;
	struct sync_conflict *l1 = NULL, *l2 = NULL;
	size_t n1 = 0, n2 = 0;
	struct crm_error err;
	char *d1, *d2;
	int64_t cur = 0;

	(void)state;
	three(&hub, &a, &b);
	tu_open(&h2, ":memory:");
	tu_pull(&hub, &h2, &cur);
	set_text(&a, "c1", "name", "from-a");
	set_text(&b, "c1", "name", "from-b"); /* later HLC: b wins */
	take_outbox(&a, &ca);
	take_outbox(&b, &cb);
	assert_int_equal(apply_ok(&hub, &ca), 0);
	assert_int_equal(apply_ok(&hub, &cb), 1);
	assert_int_equal(apply_ok(&h2, &cb), 0);
	assert_int_equal(apply_ok(&h2, &ca), 1);
	TU_ASSERT_TEXT(hub.db, "SELECT name FROM customers", "from-b");
	d1 = tu_dump(hub.db);
	d2 = tu_dump(h2.db);
	assert_string_equal(d1, d2);
	free(d1);
	free(d2);
	assert_int_equal(sync_conflicts_list(hub.s, false, &l1, &n1, &err), CRM_OK);
	assert_int_equal(sync_conflicts_list(h2.s, false, &l2, &n2, &err), CRM_OK);
	assert_int_equal(n1, 1);
	assert_int_equal(n2, 1);
	assert_string_equal(l1[0].id, l2[0].id);
	assert_string_equal(l1[0].table, "customers");
	assert_string_equal(l1[0].row_id, "c1");
	assert_string_equal(l1[0].col, "name");
	assert_int_equal(l1[0].loser.type, SYNC_TEXT);
	assert_string_equal(l1[0].loser.s, "from-a");
	assert_string_equal(l1[0].winner.s, "from-b");
	assert_string_equal(l2[0].loser.s, "from-a");
	assert_string_equal(l2[0].winner.s, "from-b");
	assert_string_equal(l1[0].loser_site, sync_site_id(a.s));
	assert_string_equal(l1[0].winner_site, sync_site_id(b.s));
	/* LWW: (HLC, site), the site breaking a tie within one millisecond and counter */
	assert_true(l1[0].loser_hlc < l1[0].winner_hlc ||
		    (l1[0].loser_hlc == l1[0].winner_hlc &&
		     strcmp(l1[0].loser_site, l1[0].winner_site) < 0));
	assert_true(l1[0].detected_at > 0);
	assert_int_equal(l1[0].resolved_at, 0);
	sync_conflicts_release(l1, n1);
	sync_conflicts_release(l2, n2);
	sync_changeset_release(&ca);
	sync_changeset_release(&cb);
	close3(&hub, &a, &b);
	tu_close(&h2);
}

static void test_idempotent(void **state)
{
	struct tu_replica hub, a, b;
	struct sync_changeset ca, cb;
	struct sync_apply_result res;
	struct crm_error err;
	char *d1, *d2;
	int64_t seq;

	(void)state;
	three(&hub, &a, &b);
	set_text(&a, "c1", "name", "x");
	set_text(&b, "c1", "name", "y");
	tu_exec(a.db, "INSERT INTO customers(id, name) VALUES('c2', 'new')");
	take_outbox(&a, &ca);
	take_outbox(&b, &cb);
	apply_ok(&hub, &ca);
	apply_ok(&hub, &cb);
	d1 = tu_dump(hub.db);
	seq = tu_int(hub.db, "SELECT max(seq) FROM sync_clock");
	for (int i = 0; i < 2; i++) {
		assert_int_equal(sync_apply(hub.s, &ca, 0, NULL, NULL, &res, &err), CRM_OK);
		assert_int_equal(res.applied, 0);
		assert_int_equal(res.conflicts, 0);
		assert_true(res.ignored > 0);
		sync_apply_result_release(&res);
		assert_int_equal(sync_apply(hub.s, &cb, 0, NULL, NULL, &res, &err), CRM_OK);
		assert_int_equal(res.applied, 0);
		assert_int_equal(res.conflicts, 0);
		sync_apply_result_release(&res);
	}
	d2 = tu_dump(hub.db);
	assert_string_equal(d1, d2);
	assert_int_equal(tu_int(hub.db, "SELECT max(seq) FROM sync_clock"), seq);
	assert_int_equal(tu_int(hub.db, "SELECT count(*) FROM sync_conflicts"), 1);
	free(d1);
	free(d2);
	sync_changeset_release(&ca);
	sync_changeset_release(&cb);
	close3(&hub, &a, &b);
}

static char *conflict_ids(sqlite3 *db)
{
	return tu_text(db, "SELECT group_concat(x, '|') FROM (SELECT id || ':' || quote(loser_value) || ':'"
			   " || quote(winner_value) AS x FROM sync_conflicts ORDER BY id)");
}

static unsigned rnd(unsigned *st)
{
	*st = *st * 1103515245u + 12345u;
	return (*st >> 16) & 0x7fff;
}

static void test_commutative_permutations(void **state)
{
	enum { NR = 3, ROUNDS = 4, PERMS = 12 };
	struct tu_replica hub, r[NR];
	struct sync_changeset sets[NR * ROUNDS + 1];
	size_t nsets = 0;
	int64_t cur[NR] = {0};
	unsigned seed = 12345;
	static const char *const cols[] = {"name", "phone", "notes", "deleted", "amount", "updated_at"};
	char *want_dump, *want_conf;

	(void)state;
	tu_open(&hub, ":memory:");
	for (int i = 0; i < NR; i++)
		tu_open(&r[i], ":memory:");
	tu_exec(r[0].db, "INSERT INTO customers(id, name) VALUES('c1', 'a'), ('c2', 'b'), ('c3', 'c')");
	take_outbox(&r[0], &sets[nsets]);
	apply_ok(&hub, &sets[nsets++]);
	for (int i = 0; i < NR; i++)
		tu_pull(&hub, &r[i], &cur[i]);
	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < NR; i++) {
			int edits = 1 + (int)(rnd(&seed) % 4);

			for (int e = 0; e < edits; e++) {
				char sql[256];
				const char *col = cols[rnd(&seed) % 6];
				unsigned row = 1 + rnd(&seed) % 3, v = rnd(&seed) % 2;

				if (strcmp(col, "deleted") == 0 || strcmp(col, "amount") == 0 ||
				    strcmp(col, "updated_at") == 0)
					snprintf(sql, sizeof sql, "UPDATE customers SET %s = %u WHERE id = 'c%u'",
						 col, v, row);
				else
					snprintf(sql, sizeof sql,
						 "UPDATE customers SET %s = 'r%d-%d-%u' WHERE id = 'c%u'", col,
						 i, round, v, row);
				tu_exec(r[i].db, sql);
			}
		}
		/* everyone pushes, then some pull: bases differ between replicas */
		for (int i = 0; i < NR; i++) {
			take_outbox(&r[i], &sets[nsets]);
			apply_ok(&hub, &sets[nsets++]);
		}
		for (int i = 0; i < NR; i++) {
			if (rnd(&seed) % 2)
				tu_pull(&hub, &r[i], &cur[i]);
		}
	}
	want_dump = tu_dump(hub.db);
	want_conf = conflict_ids(hub.db);
	for (int p = 0; p < PERMS; p++) {
		struct tu_replica f;
		size_t order[NR * ROUNDS + 1];
		char *d, *c;

		for (size_t i = 0; i < nsets; i++)
			order[i] = i;
		for (size_t i = nsets - 1; i > 0; i--) {
			size_t j = rnd(&seed) % (i + 1), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		tu_open(&f, ":memory:");
		for (size_t i = 0; i < nsets; i++) {
			struct sync_changeset w;

			tu_wire(f.s, &sets[order[i]], &w);
			apply_ok(&f, &w);
			sync_changeset_release(&w);
		}
		/*
		 * Data converges whatever the order. Conflict records need not
		 * match: out of order, a version can meet one it would never
		 * meet in sequence order (docs/sync.md, what is not guaranteed).
		 */
		d = tu_dump(f.db);
		assert_string_equal(d, want_dump);
		c = conflict_ids(f.db);
		if (want_conf[0] != '\0')
			assert_true(c[0] != '\0');
		free(d);
		free(c);
		tu_close(&f);
	}
	free(want_dump);
	free(want_conf);
	for (size_t i = 0; i < nsets; i++)
		sync_changeset_release(&sets[i]);
	for (int i = 0; i < NR; i++)
		tu_close(&r[i]);
	tu_close(&hub);
}

static void test_same_site_later_edit_no_conflict(void **state)
{
	struct tu_replica hub, a, b;
	struct sync_changeset c1, c2;

	(void)state;
	three(&hub, &a, &b);
	set_text(&a, "c1", "name", "first");
	take_outbox(&a, &c1);
	set_text(&a, "c1", "name", "second"); /* based on what a had: its own first edit */
	take_outbox(&a, &c2);
	assert_int_equal(apply_ok(&hub, &c1), 0);
	assert_int_equal(apply_ok(&hub, &c2), 0);
	TU_ASSERT_TEXT(hub.db, "SELECT name FROM customers", "second");
	/*
	 * b still has the original and pulls "second", whose base ("first") b
	 * never saw: from the hub that is no conflict (the hub judged it).
	 */
	{
		int64_t cur = 0;
		struct sync_changeset cb;

		assert_int_equal(tu_pull(&hub, &b, &cur), 0);
		TU_ASSERT_TEXT(b.db, "SELECT name FROM customers", "second");
		assert_int_equal(tu_int(b.db, "SELECT count(*) FROM sync_conflicts"), 0);
		/* an edit made after receiving another site's value is no conflict either */
		set_text(&b, "c1", "name", "third");
		take_outbox(&b, &cb);
		assert_int_equal(apply_ok(&hub, &cb), 0);
		sync_changeset_release(&cb);
	}
	assert_int_equal(tu_int(hub.db, "SELECT count(*) FROM sync_conflicts"), 0);
	sync_changeset_release(&c1);
	sync_changeset_release(&c2);
	close3(&hub, &a, &b);
}

static void test_quiet_columns(void **state)
{
	struct tu_replica hub, a, b;
	struct sync_changeset ca, cb;

	(void)state;
	three(&hub, &a, &b);
	tu_exec(a.db, "UPDATE customers SET updated_at = 111 WHERE id = 'c1'");
	tu_exec(b.db, "UPDATE customers SET updated_at = 222 WHERE id = 'c1'");
	take_outbox(&a, &ca);
	take_outbox(&b, &cb);
	assert_int_equal(apply_ok(&hub, &cb), 0);
	assert_int_equal(apply_ok(&hub, &ca), 0);
	assert_int_equal(tu_int(hub.db, "SELECT updated_at FROM customers"), 222);
	assert_int_equal(tu_int(hub.db, "SELECT count(*) FROM sync_conflicts"), 0);
	sync_changeset_release(&ca);
	sync_changeset_release(&cb);
	close3(&hub, &a, &b);
}

static void test_undelete(void **state)
{
	struct tu_replica hub, a, b;
	struct sync_changeset ca, cb;
	int64_t cur = 0;

	(void)state;
	three(&hub, &a, &b);
	tu_exec(a.db, "UPDATE customers SET deleted = 1 WHERE id = 'c1'");
	take_outbox(&a, &ca);
	apply_ok(&hub, &ca);
	assert_int_equal(tu_int(hub.db, "SELECT deleted FROM customers"), 1);
	tu_pull(&hub, &b, &cur);
	assert_int_equal(tu_int(b.db, "SELECT deleted FROM customers"), 1);
	tu_exec(b.db, "UPDATE customers SET deleted = 0 WHERE id = 'c1'");
	take_outbox(&b, &cb);
	assert_int_equal(apply_ok(&hub, &cb), 0);
	assert_int_equal(tu_int(hub.db, "SELECT deleted FROM customers"), 0);
	TU_ASSERT_TEXT(hub.db, "SELECT name FROM customers", "orig");
	sync_changeset_release(&ca);
	sync_changeset_release(&cb);
	close3(&hub, &a, &b);
}

static void add(struct sync_changeset *cs, struct sync_row *row, const char *col,
		enum sync_vtype t, const char *s, int64_t i, sync_hlc h, const char *site)
{
	struct sync_field f;

	memset(&f, 0, sizeof f);
	f.col = (char *)(uintptr_t)col;
	f.v.type = t;
	f.v.s = (char *)(uintptr_t)s;
	f.v.i = i;
	f.hlc = h;
	snprintf(f.site, sizeof f.site, "%s", site);
	assert_int_equal(sync_row_add_field(cs, row, &f), CRM_OK);
}

static enum crm_err no_phone(void *ctx, const struct sync_row *row, const struct sync_field *f,
			     struct crm_error *err)
{
	int *calls = ctx;

	(*calls)++;
	(void)row;
	if (strcmp(f->col, "phone") == 0)
		return crm_fail(err, CRM_EPERM, "phone is read-only for you");
	return CRM_OK;
}

static void test_refusals(void **state)
{
	struct tu_replica r;
	struct sync_changeset cs;
	struct sync_apply_result res;
	struct crm_error err;
	struct sync_row *row;
	const char *site = "0190c3e2-0000-7000-8000-000000000001";
	sync_hlc h;
	int calls = 0;

	(void)state;
	tu_open(&r, ":memory:");
	h = sync_hlc_next(r.s);
	sync_changeset_init(&cs);
	row = sync_changeset_add_row(&cs, "nope", "x1");
	add(&cs, row, "name", SYNC_TEXT, "n", 0, h, site);
	row = sync_changeset_add_row(&cs, "customers", "c9");
	add(&cs, row, "name", SYNC_TEXT, "partial row", 0, h, site);
	add(&cs, row, "bogus", SYNC_TEXT, "b", 0, h, site);
	add(&cs, row, "phone", SYNC_TEXT, "138", 0, h, site);
	add(&cs, row, "deleted", SYNC_INT, NULL, 7, h, site); /* breaks CHECK */
	assert_int_equal(sync_apply(r.s, &cs, 0, no_phone, &calls, &res, &err), CRM_OK);
	assert_int_equal(res.nrefused, 4);
	assert_string_equal(res.refused[0].table, "nope");
	assert_int_equal(res.refused[0].code, CRM_ENOTFOUND);
	assert_non_null(strstr(res.refused[0].reason, "nope"));
	assert_string_equal(res.refused[1].col, "bogus");
	assert_non_null(strstr(res.refused[1].reason, "bogus"));
	assert_string_equal(res.refused[2].col, "phone");
	assert_int_equal(res.refused[2].code, CRM_EPERM);
	assert_string_equal(res.refused[2].reason, "phone is read-only for you");
	assert_string_equal(res.refused[3].col, "deleted");
	assert_int_equal(res.applied, 1);
	assert_int_equal(calls, 3);
	sync_apply_result_release(&res);
	TU_ASSERT_TEXT(r.db, "SELECT name || ',' || quote(phone) || ',' || deleted FROM customers WHERE id = 'c9'",
		       "partial row,NULL,0");
	assert_int_equal(tu_int(r.db, "SELECT count(*) FROM sync_clock WHERE rid = 'c9'"), 1);
	sync_changeset_release(&cs);
	tu_close(&r);
}

static void test_skew_leaves_db_unchanged(void **state)
{
	struct tu_replica r;
	struct sync_changeset cs;
	struct sync_apply_result res;
	struct crm_error err;
	struct sync_row *row;
	const char *site = "0190c3e2-0000-7000-8000-000000000001";
	sync_hlc h;
	char *before, *after;

	(void)state;
	tu_open(&r, ":memory:");
	tu_exec(r.db, "INSERT INTO customers(id, name) VALUES('c1', 'a')");
	before = tu_dump(r.db);
	h = sync_hlc_next(r.s);
	sync_changeset_init(&cs);
	row = sync_changeset_add_row(&cs, "customers", "c1");
	add(&cs, row, "name", SYNC_TEXT, "fine", 0, h + 5, site);
	row = sync_changeset_add_row(&cs, "customers", "c2");
	add(&cs, row, "name", SYNC_TEXT, "future", 0, hlc_make(SYNC_HLC_MS(h) + 3600 * 1000, 0), site);
	assert_int_equal(sync_apply(r.s, &cs, 0, NULL, NULL, &res, &err), CRM_ECLOCK);
	assert_int_equal(res.applied, 0);
	after = tu_dump(r.db);
	assert_string_equal(before, after);
	assert_int_equal(tu_int(r.db, "SELECT count(*) FROM sync_clock"), 1);
	assert_true(sync_hlc_next(r.s) < hlc_make(SYNC_HLC_MS(h) + 3600 * 1000, 0));
	free(before);
	free(after);
	sync_changeset_release(&cs);
	tu_close(&r);
}

static void test_resolve_keep_loser(void **state)
{
	struct tu_replica hub, a, b;
	struct sync_changeset ca, cb;
	struct sync_conflict *l = NULL;
	size_t n = 0;
	struct crm_error err;
	int64_t cur = 0, cnt;

	(void)state;
	three(&hub, &a, &b);
	set_text(&a, "c1", "phone", "A");
	set_text(&b, "c1", "phone", "B");
	take_outbox(&a, &ca);
	take_outbox(&b, &cb);
	apply_ok(&hub, &ca);
	assert_int_equal(apply_ok(&hub, &cb), 1);
	/* b learns about the conflict from the hub and keeps the loser */
	tu_pull(&hub, &b, &cur);
	assert_int_equal(sync_conflicts_list(hub.s, false, &l, &n, &err), CRM_OK);
	assert_int_equal(n, 1);
	assert_int_equal(sync_conflict_record(b.s, &l[0], &err), CRM_OK);
	assert_int_equal(sync_conflict_record(b.s, &l[0], &err), CRM_OK);
	assert_int_equal(tu_int(b.db, "SELECT count(*) FROM sync_conflicts"), 1);
	assert_int_equal(sync_conflict_resolve(b.s, l[0].id, true, &err), CRM_OK);
	TU_ASSERT_TEXT(b.db, "SELECT phone FROM customers", "A");
	assert_int_equal(sync_outbox_count(b.s, &cnt, &err), CRM_OK);
	assert_int_equal(cnt, 1);
	sync_conflicts_release(l, n);
	assert_int_equal(sync_conflicts_list(b.s, false, &l, &n, &err), CRM_OK);
	assert_int_equal(n, 0);
	sync_conflicts_release(l, n);
	assert_int_equal(sync_conflicts_list(b.s, true, &l, &n, &err), CRM_OK);
	assert_int_equal(n, 1);
	assert_true(l[0].resolved_at > 0);
	sync_conflicts_release(l, n);
	/* the resolution is an ordinary edit: it syncs, with no new conflict */
	assert_int_equal(tu_push(&b, &hub), 0);
	TU_ASSERT_TEXT(hub.db, "SELECT phone FROM customers", "A");
	/* keeping the winner just closes it */
	assert_int_equal(sync_conflicts_list(hub.s, false, &l, &n, &err), CRM_OK);
	assert_int_equal(n, 1);
	assert_int_equal(sync_conflict_resolve(hub.s, l[0].id, false, &err), CRM_OK);
	TU_ASSERT_TEXT(hub.db, "SELECT phone FROM customers", "A");
	sync_conflicts_release(l, n);
	assert_int_equal(sync_conflicts_list(hub.s, false, &l, &n, &err), CRM_OK);
	assert_int_equal(n, 0);
	sync_conflicts_release(l, n);
	assert_int_equal(sync_conflict_resolve(hub.s, "nope", false, &err), CRM_ENOTFOUND);
	sync_changeset_release(&ca);
	sync_changeset_release(&cb);
	close3(&hub, &a, &b);
}

static void test_apply_in_txn(void **state)
{
	struct tu_replica hub, a, b;
	struct sync_changeset ca;
	struct sync_apply_result res;
	struct crm_error err;

	(void)state;
	three(&hub, &a, &b);
	set_text(&a, "c1", "name", "in-txn");
	take_outbox(&a, &ca);
	/* the caller's transaction decides: rolled back, nothing stays */
	tu_exec(b.db, "BEGIN");
	assert_int_equal(sync_apply(b.s, &ca, SYNC_APPLY_IN_TXN, NULL, NULL, &res, &err), CRM_OK);
	sync_apply_result_release(&res);
	assert_int_equal(sync_state_set(b.s, "cursor", "7", &err), CRM_OK);
	tu_exec(b.db, "ROLLBACK");
	TU_ASSERT_TEXT(b.db, "SELECT name FROM customers", "orig");
	tu_exec(b.db, "BEGIN");
	assert_int_equal(sync_apply(b.s, &ca, SYNC_APPLY_IN_TXN, NULL, NULL, &res, &err), CRM_OK);
	assert_int_equal(res.applied, 1);
	sync_apply_result_release(&res);
	tu_exec(b.db, "COMMIT");
	TU_ASSERT_TEXT(b.db, "SELECT name FROM customers", "in-txn");
	/* applied fields are not echoed back in b's outbox */
	{
		int64_t cnt;

		assert_int_equal(sync_outbox_count(b.s, &cnt, &err), CRM_OK);
		assert_int_equal(cnt, 0);
	}
	sync_changeset_release(&ca);
	close3(&hub, &a, &b);
}

/* boom(x): fails on its second call (a write that breaks in the middle of a page). */
static int boom_calls;

static void boom(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	(void)argc;
	(void)argv;
	if (++boom_calls == 2)
		sqlite3_result_error(cx, "boom", -1);
	else
		sqlite3_result_int(cx, 0);
}

static void test_apply_in_txn_failure_rolled_back(void **state)
{
	struct tu_replica hub, a, b;
	struct sync_changeset ca;
	struct sync_apply_result res;
	struct crm_error err;
	int64_t cnt;

	(void)state;
	three(&hub, &a, &b);
	/* the edit first: new rows are inserted together, by one statement */
	set_text(&a, "c1", "name", "changed");
	tu_exec(a.db, "INSERT INTO customers(id, name, phone, amount) VALUES('c2', 'two', '2', 2)");
	tu_exec(a.db, "INSERT INTO customers(id, name, phone, amount) VALUES('c3', 'three', '3', 3)");
	take_outbox(&a, &ca);
	assert_true(ca.nrows >= 2);
	/* every row write on b calls boom(); the second one fails */
	assert_int_equal(sqlite3_create_function(b.db, "boom", 1, SQLITE_UTF8, NULL, boom, NULL, NULL),
			 SQLITE_OK);
	tu_exec(b.db, "CREATE TEMP TRIGGER boom_ins AFTER INSERT ON customers BEGIN SELECT boom(NEW.id); END");
	tu_exec(b.db, "CREATE TEMP TRIGGER boom_upd AFTER UPDATE ON customers BEGIN SELECT boom(NEW.id); END");
	boom_calls = 0;
	tu_exec(b.db, "BEGIN");
	assert_int_not_equal(sync_apply(b.s, &ca, SYNC_APPLY_IN_TXN, NULL, NULL, &res, &err), CRM_OK);
	assert_int_equal(boom_calls, 2);
	/* no savepoint of its own: the first row's write is still there ... */
	assert_true(tu_int(b.db, "SELECT count(*) FROM customers WHERE id <> 'c1' OR name <> 'orig'") > 0);
	/* ... until the caller's ROLLBACK, which leaves nothing of the page */
	tu_exec(b.db, "ROLLBACK");
	tu_exec(b.db, "DROP TRIGGER boom_ins");
	tu_exec(b.db, "DROP TRIGGER boom_upd");
	assert_int_equal(tu_int(b.db, "SELECT count(*) FROM customers"), 1);
	TU_ASSERT_TEXT(b.db, "SELECT name FROM customers", "orig");
	assert_int_equal(tu_int(b.db, "SELECT count(*) FROM sync_clock WHERE rid <> 'c1'"), 0);
	assert_int_equal(sync_outbox_count(b.s, &cnt, &err), CRM_OK);
	assert_int_equal(cnt, 0);
	/* and the same page applies whole afterwards */
	tu_exec(b.db, "BEGIN");
	assert_int_equal(sync_apply(b.s, &ca, SYNC_APPLY_IN_TXN, NULL, NULL, &res, &err), CRM_OK);
	assert_int_equal(res.nrefused, 0);
	sync_apply_result_release(&res);
	tu_exec(b.db, "COMMIT");
	assert_int_equal(tu_int(b.db, "SELECT count(*) FROM customers"), 3);
	TU_ASSERT_TEXT(b.db, "SELECT name FROM customers WHERE id = 'c1'", "changed");
	sync_changeset_release(&ca);
	close3(&hub, &a, &b);
}

static void test_row_deleted_behind_our_back(void **state)
{
	struct tu_replica hub, a, b;
	struct sync_changeset ca;

	(void)state;
	three(&hub, &a, &b);
	/* b removes the row without capture and without eviction: its clocks stay */
	sync_capture_set(b.s, false);
	tu_exec(b.db, "DELETE FROM customers WHERE id = 'c1'");
	sync_capture_set(b.s, true);
	set_text(&a, "c1", "name", "back");
	take_outbox(&a, &ca);
	apply_ok(&b, &ca);
	TU_ASSERT_TEXT(b.db, "SELECT name FROM customers WHERE id = 'c1'", "back");
	sync_changeset_release(&ca);
	close3(&hub, &a, &b);
}

/*
 * Tables whose only triggers are the sync ones are applied with the
 * connection's triggers off; a table with a trigger of someone else's keeps
 * it firing; afterwards every trigger works again (capture, hard-delete refusal).
 */
static void test_other_triggers_fire(void **state)
{
	struct tu_replica hub, a, b;
	struct sync_changeset ca;
	int on = -1;

	(void)state;
	three(&hub, &a, &b);
	tu_exec(b.db, "CREATE TABLE seen(id TEXT);"
		      "CREATE TRIGGER log_notes AFTER INSERT ON notes_t BEGIN"
		      " INSERT INTO seen VALUES (NEW.id); END;");
	tu_exec(a.db, "INSERT INTO notes_t(id, body) VALUES('n1', 'x')");
	tu_exec(a.db, "INSERT INTO customers(id, name) VALUES('c9', 'new')");
	take_outbox(&a, &ca);
	apply_ok(&b, &ca);
	TU_ASSERT_TEXT(b.db, "SELECT group_concat(id) FROM seen", "n1");
	TU_ASSERT_TEXT(b.db, "SELECT name FROM customers WHERE id = 'c9'", "new");
	assert_int_equal(sqlite3_db_config(b.db, SQLITE_DBCONFIG_ENABLE_TRIGGER, -1, &on), SQLITE_OK);
	assert_int_equal(on, 1);
	assert_int_not_equal(tu_try(b.db, "DELETE FROM customers WHERE id = 'c9'"), SQLITE_OK);
	tu_exec(b.db, "UPDATE customers SET name = 'local' WHERE id = 'c9'");
	assert_int_equal(tu_int(b.db, "SELECT count(*) FROM sync_clock WHERE rid = 'c9' AND col = 'name'"
			       " AND site = (SELECT value FROM sync_state WHERE key = 'sync.site')"), 1);
	sync_changeset_release(&ca);
	close3(&hub, &a, &b);
}

/*
 * A set delivered late (a delayed or replayed request) brings an older value
 * that its own site had already replaced before someone else built on the
 * newer one: no conflict, in either arrival order.
 */
static void test_late_superseded_value(void **state)
{
	struct tu_replica hub, h2, a, b;
	struct sync_changeset s1, s2, s3;
	int64_t cur = 0;

	(void)state;
	tu_open(&hub, ":memory:");
	tu_open(&h2, ":memory:");
	tu_open(&a, ":memory:");
	tu_open(&b, ":memory:");
	tu_exec(a.db, "INSERT INTO customers(id, name) VALUES('c1', 'v1')");
	take_outbox(&a, &s1);
	assert_int_equal(apply_ok(&hub, &s1), 0);
	set_text(&a, "c1", "name", "v2");
	take_outbox(&a, &s2);
	assert_int_equal(apply_ok(&hub, &s2), 0);
	tu_pull(&hub, &b, &cur);
	set_text(&b, "c1", "name", "w");
	take_outbox(&b, &s3);
	assert_int_equal(apply_ok(&hub, &s3), 0);
	/* s1 again, late: "v1" was replaced by its own author before b saw "v2" */
	assert_int_equal(apply_ok(&hub, &s1), 0);
	TU_ASSERT_TEXT(hub.db, "SELECT name FROM customers", "w");
	/* another hub that gets b's edit before a's second one */
	assert_int_equal(apply_ok(&h2, &s1), 0);
	assert_int_equal(apply_ok(&h2, &s3), 0);
	assert_int_equal(apply_ok(&h2, &s2), 0);
	TU_ASSERT_TEXT(h2.db, "SELECT name FROM customers", "w");
	assert_int_equal(tu_int(hub.db, "SELECT count(*) FROM sync_conflicts"), 0);
	assert_int_equal(tu_int(h2.db, "SELECT count(*) FROM sync_conflicts"), 0);
	sync_changeset_release(&s1);
	sync_changeset_release(&s2);
	sync_changeset_release(&s3);
	close3(&hub, &a, &b);
	tu_close(&h2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lww_both_orders_conflict_kept),
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_commutative_permutations),
		cmocka_unit_test(test_same_site_later_edit_no_conflict),
		cmocka_unit_test(test_quiet_columns),
		cmocka_unit_test(test_undelete),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_skew_leaves_db_unchanged),
		cmocka_unit_test(test_resolve_keep_loser),
		cmocka_unit_test(test_apply_in_txn),
		cmocka_unit_test(test_apply_in_txn_failure_rolled_back),
		cmocka_unit_test(test_row_deleted_behind_our_back),
		cmocka_unit_test(test_other_triggers_fire),
		cmocka_unit_test(test_late_superseded_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
