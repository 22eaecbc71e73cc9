/*
 * Unit tests of sync_apply's multi-row inserts of new rows: a change set of
 * many new rows (runs of every size, two tables, updates between them, a row
 * that breaks a CHECK, a row already there without clocks, the same row
 * twice) leaves exactly what applying its rows one set at a time leaves:
 * the same rows with the same rowids, the same clock rows with the same
 * sequence numbers, the same refusals and counts; new rows with some columns
 * or with columns at different versions too. Also: another trigger on
 * a table still fires once per row, in row order.
 */
#include "sync_testutil.h"

#define SITE_A "01900000-0000-7000-8000-00000000000a"
#define SITE_B "01900000-0000-7000-8000-00000000000b"

/* Appends field col = v to r at (h, site) over (bh, bsite); col and text are copied. */
static void add_field(struct sync_changeset *cs, struct sync_row *r, const char *col,
		      struct sync_value v, const char *text, sync_hlc h, const char *site,
		      sync_hlc bh, const char *bsite)
{
	struct sync_field f;
	char cbuf[64], tbuf[128];

	memset(&f, 0, sizeof f);
	snprintf(cbuf, sizeof cbuf, "%s", col);
	f.col = cbuf;
	f.v = v;
	if (text) {
		snprintf(tbuf, sizeof tbuf, "%s", text);
		f.v.type = SYNC_TEXT;
		f.v.s = tbuf;
	}
	f.hlc = h;
	snprintf(f.site, sizeof f.site, "%s", site);
	f.base_hlc = bh;
	snprintf(f.base_site, sizeof f.base_site, "%s", bsite ? bsite : "");
	assert_int_equal(sync_row_add_field(cs, r, &f), CRM_OK);
}

static struct sync_value ival(int64_t i)
{
	return (struct sync_value){.type = SYNC_INT, .i = i};
}

/* A customers row at one version: every column, as a new row is pushed. */
static void add_customer(struct sync_changeset *cs, const char *id, sync_hlc h, const char *site,
			 const char *name, int64_t deleted)
{
	struct sync_row *r = sync_changeset_add_row(cs, "customers", id);
	struct sync_value none = {.type = SYNC_NULL};
	char phone[32];

	assert_non_null(r);
	snprintf(phone, sizeof phone, "+86 %s", id);
	add_field(cs, r, "created_at", ival(1000), NULL, h, site, 0, NULL);
	add_field(cs, r, "updated_at", ival(2000), NULL, h, site, 0, NULL);
	add_field(cs, r, "deleted", ival(deleted), NULL, h, site, 0, NULL);
	add_field(cs, r, "name", none, name, h, site, 0, NULL);
	add_field(cs, r, "phone", none, phone, h, site, 0, NULL);
	add_field(cs, r, "amount", ival((int64_t)cs->nrows * 7), NULL, h, site, 0, NULL);
	add_field(cs, r, "lat", (struct sync_value){.type = SYNC_REAL, .r = 31.5}, NULL, h, site, 0,
		  NULL);
	add_field(cs, r, "notes", none, NULL, h, site, 0, NULL);
}

/* A new customers row with only name and phone (the others take their defaults). */
static void add_partial(struct sync_changeset *cs, const char *id, sync_hlc h)
{
	struct sync_row *r = sync_changeset_add_row(cs, "customers", id);
	struct sync_value none = {.type = SYNC_NULL};

	assert_non_null(r);
	add_field(cs, r, "name", none, "partial", h, SITE_A, 0, NULL);
	add_field(cs, r, "phone", none, id, h, SITE_A, 0, NULL);
}

/* A new customers row, every column, each at its own version (edited before it was sent). */
static void add_varied(struct sync_changeset *cs, const char *id, struct tu_replica *clock)
{
	struct sync_row *r = sync_changeset_add_row(cs, "customers", id);
	struct sync_value none = {.type = SYNC_NULL};
	static const char *const ints[] = {"created_at", "updated_at", "deleted", "amount"};

	assert_non_null(r);
	for (size_t i = 0; i < 4; i++)
		add_field(cs, r, ints[i], ival(0), NULL, sync_hlc_next(clock->s), SITE_B, 0, NULL);
	add_field(cs, r, "name", none, "varied", sync_hlc_next(clock->s), SITE_B, 0, NULL);
	add_field(cs, r, "phone", none, NULL, sync_hlc_next(clock->s), SITE_B, 0, NULL);
	add_field(cs, r, "lat", none, NULL, sync_hlc_next(clock->s), SITE_B, 0, NULL);
	add_field(cs, r, "notes", none, "n", sync_hlc_next(clock->s), SITE_B, 0, NULL);
}

static void add_note(struct sync_changeset *cs, const char *id, sync_hlc h, const char *body)
{
	struct sync_row *r = sync_changeset_add_row(cs, "notes_t", id);
	struct sync_value none = {.type = SYNC_NULL};

	assert_non_null(r);
	add_field(cs, r, "deleted", ival(0), NULL, h, SITE_A, 0, NULL);
	add_field(cs, r, "body", none, body, h, SITE_A, 0, NULL);
}

/* An edit of one column of a row, made on version (bh, bsite). */
static void add_edit(struct sync_changeset *cs, const char *id, const char *col, const char *v,
		     sync_hlc h, const char *site, sync_hlc bh, const char *bsite)
{
	struct sync_row *r = sync_changeset_add_row(cs, "customers", id);
	struct sync_value none = {.type = SYNC_NULL};

	assert_non_null(r);
	add_field(cs, r, col, none, v, h, site, bh, bsite);
}

/* Totals of one or more applies, refusals as sorted "table/id/col/code" text. */
struct totals {
	size_t applied, ignored, conflicts;
	char refused[4096];
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void apply_into(struct tu_replica *r, const struct sync_changeset *cs, struct totals *t,
		       char **lines, size_t *nlines)
{
	struct sync_apply_result res;
	struct crm_error err;
	enum crm_err rc = sync_apply(r->s, cs, 0, NULL, NULL, &res, &err);

	if (rc != CRM_OK)
		fprintf(stderr, "apply: %s\n", err.msg);
	assert_int_equal(rc, CRM_OK);
	t->applied += res.applied;
	t->ignored += res.ignored;
	t->conflicts += res.conflicts;
	for (size_t i = 0; i < res.nrefused; i++) {
		char line[256];

		snprintf(line, sizeof line, "%s/%s/%s/%s", res.refused[i].table, res.refused[i].id,
			 res.refused[i].col, crm_strerror(res.refused[i].code));
		assert_true(*nlines < 64);
		lines[*nlines] = strdup(line);
		assert_non_null(lines[*nlines]);
		(*nlines)++;
	}
	sync_apply_result_release(&res);
}

static void totals_close(struct totals *t, char **lines, size_t n)
{
	qsort(lines, n, sizeof *lines, cmp_str);
	t->refused[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(t->refused);

		snprintf(t->refused + len, sizeof t->refused - len, "%s;", lines[i]);
		free(lines[i]);
	}
}

/* cs applied one row per call into one (the reference), and whole into many. */
static void apply_both(struct tu_replica *one, struct tu_replica *many,
		       const struct sync_changeset *cs, struct totals *t1, struct totals *t2)
{
	char *lines[64];
	size_t n = 0;

	memset(t1, 0, sizeof *t1);
	for (size_t i = 0; i < cs->nrows; i++) {
		struct sync_changeset single = {.rows = &cs->rows[i], .nrows = 1, .cap = 1,
						.nfields = cs->rows[i].nfields};

		apply_into(one, &single, t1, lines, &n);
	}
	totals_close(t1, lines, n);
	n = 0;
	memset(t2, 0, sizeof *t2);
	apply_into(many, cs, t2, lines, &n);
	totals_close(t2, lines, n);
}

/* Everything apply writes, rowids and sequence numbers included. */
static char *full_dump(sqlite3 *db)
{
	return tu_text(db,
		       "SELECT group_concat(x, '|') FROM ("
		       " SELECT * FROM (SELECT 'c' || rowid || ':' || id || ',' || created_at || ','"
		       "  || updated_at || ',' || deleted || ',' || quote(name) || ',' || quote(phone)"
		       "  || ',' || quote(amount) || ',' || quote(lat) || ',' || quote(notes) AS x"
		       "  FROM customers ORDER BY rowid)"
		       " UNION ALL SELECT * FROM (SELECT 'n' || rowid || ':' || id || ',' || deleted"
		       "  || ',' || quote(body) FROM notes_t ORDER BY rowid)"
		       " UNION ALL SELECT * FROM (SELECT 'k' || seq || ':' || tbl || ',' || rid || ','"
		       "  || col || ',' || hlc || ',' || site || ',' || base_hlc || ',' || quote(base_site)"
		       "  FROM sync_clock ORDER BY seq)"
		       " UNION ALL SELECT * FROM (SELECT 'x' || tbl || ',' || rid || ',' || col || ','"
		       "  || quote(loser_value) || ',' || quote(winner_value) FROM sync_conflicts"
		       "  ORDER BY tbl, rid, col))");
}

/* The mixed set of the tests: see the file comment. */
static void build_set(struct sync_changeset *cs, struct tu_replica *clock, sync_hlc old_hlc)
{
	char id[32];

	sync_changeset_init(cs);
	/* 45 new customers (32 + 8 + 4 + 1), one breaking deleted's CHECK, one there already */
	for (int i = 0; i < 45; i++) {
		snprintf(id, sizeof id, "c%03d", i);
		add_customer(cs, id, sync_hlc_next(clock->s), SITE_A, i == 20 ? "bad" : "ok",
			     i == 20 ? 7 : 0);
	}
	/* an edit of a row that exists with its clocks (old0 below) */
	add_edit(cs, "old0", "name", "edited", sync_hlc_next(clock->s), SITE_B, old_hlc, SITE_A);
	/* new notes, new customers again, c047 once more while it waits (newer, elsewhere) */
	add_note(cs, "n1", sync_hlc_next(clock->s), "one");
	add_note(cs, "n2", sync_hlc_next(clock->s), "two");
	for (int i = 45; i < 48; i++) {
		snprintf(id, sizeof id, "c%03d", i);
		add_customer(cs, id, sync_hlc_next(clock->s), SITE_A, "late", 0);
	}
	add_customer(cs, "c047", sync_hlc_next(clock->s), SITE_B, "again", 0);
	add_customer(cs, "c049", sync_hlc_next(clock->s), SITE_A, "last", 0);
	/* new rows with some columns, then with every column at its own version */
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof id, "p%03d", i);
		add_partial(cs, id, sync_hlc_next(clock->s));
	}
	for (int i = 0; i < 3; i++) {
		snprintf(id, sizeof id, "v%03d", i);
		add_varied(cs, id, clock);
	}
	/* the row "there" already, only in the database: see prepare() */
	add_customer(cs, "there", sync_hlc_next(clock->s), SITE_A, "pushed", 0);
	for (int i = 50; i < 83; i++) {
		snprintf(id, sizeof id, "c%03d", i);
		add_customer(cs, id, sync_hlc_next(clock->s), SITE_A, "tail", 0);
	}
}

/* A replica with old0 (and its clocks) and "there" (written without capture: no clocks). */
static void prepare(struct tu_replica *r, const struct sync_changeset *old)
{
	struct totals t;
	char *lines[64];
	size_t n = 0;

	memset(&t, 0, sizeof t);
	tu_open(r, ":memory:");
	apply_into(r, old, &t, lines, &n);
	assert_int_equal(n, 0);
	sync_capture_set(r->s, false);
	tu_exec(r->db, "INSERT INTO customers(id, name) VALUES('there', 'local')");
	sync_capture_set(r->s, true);
}

static void batched_equals_row_by_row(bool small_limit)
{
	struct tu_replica clock, one, many;
	struct sync_changeset old, cs;
	struct totals t1, t2;
	char *lines[64];
	size_t n = 0;
	char *d1, *d2;

	tu_open(&clock, ":memory:");
	sync_changeset_init(&old);
	add_customer(&old, "old0", sync_hlc_next(clock.s), SITE_A, "first", 0);
	build_set(&cs, &clock, old.rows[0].fields[0].hlc);
	prepare(&one, &old);
	prepare(&many, &old);
	if (small_limit) /* 4 customers rows, 4 clock rows per statement */
		sqlite3_limit(many.db, SQLITE_LIMIT_VARIABLE_NUMBER, 40);
	/* reference: one row per set */
	apply_both(&one, &many, &cs, &t1, &t2);
	assert_non_null(strstr(t1.refused, "customers/c020/deleted/"));
	assert_null(strchr(strchr(t1.refused, ';') + 1, ';'));
	assert_string_equal(t2.refused, t1.refused);
	assert_int_equal(t2.applied, t1.applied);
	assert_int_equal(t2.ignored, t1.ignored);
	assert_int_equal(t2.conflicts, t1.conflicts);
	d1 = full_dump(one.db);
	d2 = full_dump(many.db);
	assert_string_equal(d2, d1);
	free(d1);
	free(d2);
	/* what it is: every row, the bad one without its bad value, "there" pushed over */
	assert_int_equal(tu_int(many.db, "SELECT count(*) FROM customers"), 92);
	TU_ASSERT_TEXT(many.db, "SELECT group_concat(col) FROM sync_clock WHERE rid = 'p003'",
		       "name,phone");
	TU_ASSERT_TEXT(many.db, "SELECT quote(amount) || quote(notes) FROM customers WHERE id = 'p003'",
		       "NULL" "NULL");
	assert_int_equal(tu_int(many.db, "SELECT count(*) FROM sync_clock WHERE rid GLOB 'v*'"), 24);
	TU_ASSERT_TEXT(many.db, "SELECT name || deleted FROM customers WHERE id = 'c020'", "bad0");
	TU_ASSERT_TEXT(many.db, "SELECT name FROM customers WHERE id = 'there'", "pushed");
	TU_ASSERT_TEXT(many.db, "SELECT name FROM customers WHERE id = 'c047'", "again");
	TU_ASSERT_TEXT(many.db, "SELECT name FROM customers WHERE id = 'old0'", "edited");
	/* one "" clock row per whole new row; per-column rows where it was not whole */
	assert_int_equal(tu_int(many.db, "SELECT count(*) FROM sync_clock WHERE col = ''"
					 " AND rid GLOB 'c0[0-9][0-9]'"), 81);
	assert_int_equal(tu_int(many.db, "SELECT count(*) FROM sync_clock WHERE rid = 'c020'"), 7);
	/* the sequence numbers are dense: nothing was written twice or skipped */
	assert_int_equal(tu_int(many.db, "SELECT max(seq) - min(seq) + 1 - count(*) FROM sync_clock"),
			 0);
	/* applying it again changes nothing */
	n = 0;
	memset(&t2, 0, sizeof t2);
	apply_into(&many, &cs, &t2, lines, &n);
	totals_close(&t2, lines, n);
	assert_int_equal(t2.applied, 0);
	d2 = full_dump(many.db);
	d1 = full_dump(one.db);
	assert_string_equal(d2, d1);
	free(d1);
	free(d2);
	sync_changeset_release(&old);
	sync_changeset_release(&cs);
	tu_close(&clock);
	tu_close(&one);
	tu_close(&many);
}

static void test_batched_equals_row_by_row(void **state)
{
	(void)state;
	batched_equals_row_by_row(false);
}

/* With SQLite taking only 40 parameters per statement: smaller statements, same result. */
static void test_batched_small_variable_limit(void **state)
{
	(void)state;
	batched_equals_row_by_row(true);
}

/* A trigger of someone else's on the table fires once per new row, in row order. */
static void test_batched_rows_fire_other_triggers(void **state)
{
	struct tu_replica clock, r;
	struct sync_changeset cs;
	struct totals t;
	char *lines[64];
	size_t n = 0;
	char id[32];

	(void)state;
	tu_open(&clock, ":memory:");
	tu_open(&r, ":memory:");
	tu_exec(r.db, "CREATE TABLE seen(seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE);"
		      "CREATE TRIGGER log_cust AFTER INSERT ON customers BEGIN"
		      " DELETE FROM seen WHERE id = NEW.id; INSERT INTO seen(id) VALUES (NEW.id); END;");
	sync_changeset_init(&cs);
	for (int i = 0; i < 70; i++) {
		snprintf(id, sizeof id, "c%03d", 69 - i);
		add_customer(&cs, id, sync_hlc_next(clock.s), SITE_A, "x", i == 40 ? 9 : 0);
	}
	memset(&t, 0, sizeof t);
	apply_into(&r, &cs, &t, lines, &n);
	totals_close(&t, lines, n);
	assert_non_null(strstr(t.refused, "customers/c029/deleted/"));
	assert_null(strchr(strchr(t.refused, ';') + 1, ';'));
	assert_int_equal(tu_int(r.db, "SELECT count(*) FROM seen"), 70);
	assert_int_equal(tu_int(r.db, "SELECT count(*) FROM customers"), 70);
	/* in row order: c069 first; seq follows the rowids of customers */
	TU_ASSERT_TEXT(r.db, "SELECT id FROM seen ORDER BY seq LIMIT 1", "c069");
	assert_int_equal(tu_int(r.db, "SELECT count(*) FROM seen s JOIN customers c ON c.id = s.id"
				      " WHERE c.rowid <> s.seq"), 0);
	sync_changeset_release(&cs);
	tu_close(&clock);
	tu_close(&r);
}

/* A new customers row with the columns of bit set m (bit i: the i-th of cols below). */
static void add_subset(struct sync_changeset *cs, const char *id, sync_hlc h, unsigned m)
{
	static const char *const cols[] = {"created_at", "updated_at", "deleted", "name",
					   "phone", "amount", "lat", "notes"};
	struct sync_row *r = sync_changeset_add_row(cs, "customers", id);
	struct sync_value none = {.type = SYNC_NULL};

	assert_non_null(r);
	for (unsigned i = 0; i < 8; i++) {
		if (!(m & (1u << i)))
			continue;
		if (i == 6)
			add_field(cs, r, cols[i], (struct sync_value){.type = SYNC_REAL, .r = 1.5},
				  NULL, h, SITE_A, 0, NULL);
		else if (i == 3 || i == 4 || i == 7)
			add_field(cs, r, cols[i], none, id, h, SITE_A, 0, NULL);
		else
			add_field(cs, r, cols[i], ival(i == 2 ? 1 : 5), NULL, h, SITE_A, 0, NULL);
	}
}

/*
 * New rows of many column sets: the first few sets a table meets are inserted
 * several rows at a time, the rest one by one; both as if one row at a time.
 */
static void test_many_column_sets(void **state)
{
	struct tu_replica clock, one, many;
	struct sync_changeset cs;
	struct totals t1, t2;
	char id[32], *d1, *d2;

	(void)state;
	tu_open(&clock, ":memory:");
	tu_open(&one, ":memory:");
	tu_open(&many, ":memory:");
	sync_changeset_init(&cs);
	for (unsigned k = 0; k < 14; k++) {
		for (int i = 0; i < 3; i++) {
			snprintf(id, sizeof id, "m%02u-%d", k, i);
			add_subset(&cs, id, sync_hlc_next(clock.s), 1u + k * 17u % 254u);
		}
	}
	apply_both(&one, &many, &cs, &t1, &t2);
	assert_string_equal(t1.refused, "");
	assert_string_equal(t2.refused, "");
	assert_int_equal(t2.applied, t1.applied);
	assert_int_equal(t2.applied, cs.nfields);
	d1 = full_dump(one.db);
	d2 = full_dump(many.db);
	assert_string_equal(d2, d1);
	free(d1);
	free(d2);
	assert_int_equal(tu_int(many.db, "SELECT count(*) FROM customers"), 42);
	sync_changeset_release(&cs);
	tu_close(&clock);
	tu_close(&one);
	tu_close(&many);
}

/*
 * A row that is there without clocks, pushed whole with one value that breaks
 * a CHECK: the insert fails on the CHECK before it meets the row; the bad
 * field is refused, the others update the row, and each gets a clock row of
 * its own (not the "" row of a row created whole at one version).
 */
static void test_existing_row_bad_value(void **state)
{
	struct tu_replica clock, r;
	struct sync_changeset old, cs;
	struct totals t;
	char *lines[64];
	size_t n = 0;

	(void)state;
	tu_open(&clock, ":memory:");
	sync_changeset_init(&old);
	add_customer(&old, "old0", sync_hlc_next(clock.s), SITE_A, "first", 0);
	prepare(&r, &old);
	sync_changeset_init(&cs);
	add_customer(&cs, "there", sync_hlc_next(clock.s), SITE_A, "pushed", 7); /* deleted = 7 */
	memset(&t, 0, sizeof t);
	apply_into(&r, &cs, &t, lines, &n);
	totals_close(&t, lines, n);
	assert_string_equal(t.refused, "customers/there/deleted/invalid value;");
	assert_int_equal(tu_int(r.db, "SELECT count(*) FROM customers WHERE id = 'there' AND name = 'pushed'"),
			 1);
	assert_int_equal(tu_int(r.db, "SELECT count(*) FROM sync_clock WHERE rid = 'there' AND col = ''"), 0);
	assert_int_equal(tu_int(r.db, "SELECT count(*) FROM sync_clock WHERE rid = 'there'"), 7);
	sync_changeset_release(&cs);
	sync_changeset_release(&old);
	tu_close(&clock);
	tu_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batched_equals_row_by_row),
		cmocka_unit_test(test_batched_small_variable_limit),
		cmocka_unit_test(test_batched_rows_fire_other_triggers),
		cmocka_unit_test(test_many_column_sets),
		cmocka_unit_test(test_existing_row_bad_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
