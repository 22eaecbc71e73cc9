/*
 * Decisions of the cheaper duplicate check stay what they were:
 *
 *   - match__compare_quick (the index's scoring) gives match_compare's
 *     verdict for every pair that is not DISTINCT, and DISTINCT otherwise,
 *     on generated customers with duplicates and hard negatives;
 *   - match__fold maps plain ASCII itself exactly as utf8proc does;
 *   - match__region_lookup and match__region_zh_prefix (hash tables now)
 *     find what a scan of the region table in order finds;
 *   - match_index_add_query finds exactly what match_index_add followed by
 *     match_index_query (excluding the record) finds;
 *   - srv_dedup_after_push with one long-lived index (commit marks, skipped
 *     settles) leaves the same merges, review queue and tombstones as an
 *     index rebuilt from the database before every push, across pushes of
 *     new customers, a push that rolls back and is pushed again, identity
 *     edits and deletions.
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
#include "match.h"
#include "match_gen.h"
#include "match_int.h"
#include "srv_db.h"
#include "srv_dedup.h"

#define ENTITIES 260
#define BATCH 97

/* ---- the match library ---------------------------------------------------- */

static void test_quick_compare_same(void **state)
{
	struct match_gen_set set;
	struct match_record *recs;
	struct crm_error err;
	struct match_params p;
	size_t n, pairs = 0, kept = 0;

	(void)state;
	match_params_default(&p);
	assert_int_equal(match_gen_make(&set, 7, 400, &err), CRM_OK);
	n = set.n;
	recs = calloc(n, sizeof *recs);
	assert_non_null(recs);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(match_record_init(&recs[i], &set.rows[i].in, &err), CRM_OK);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			struct match_verdict full, quick;

			match_compare(&recs[i], &recs[j], &p, &full);
			match__compare_quick(&recs[i], &recs[j], &p, &quick);
			pairs++;
			assert_int_equal(quick.decision, full.decision);
			if (full.decision == MATCH_DISTINCT)
				continue;
			kept++;
			assert_true(quick.score == full.score);
			assert_int_equal(quick.nreasons, full.nreasons);
			for (int k = 0; k < full.nreasons; k++)
				assert_string_equal(quick.reasons[k], full.reasons[k]);
		}
	}
	/* The set must exercise both sides: many pairs kept, most cut short. */
	assert_true(kept > 100);
	assert_true(pairs > 100 * kept);
	free(recs);
	match_gen_release(&set);
}

static void test_add_query_same(void **state)
{
	struct match_gen_set set;
	struct match_index *a = NULL, *b = NULL;
	struct crm_error err;
	size_t found = 0;

	(void)state;
	assert_int_equal(match_gen_make(&set, 11, 1500, &err), CRM_OK);
	assert_int_equal(match_index_new(&a, NULL, &err), CRM_OK);
	assert_int_equal(match_index_new(&b, NULL, &err), CRM_OK);
	for (size_t i = 0; i < set.n; i++) {
		struct match_record r;
		struct match_hit ha[16], hb[16];
		size_t na = 0, nb = 0;
		char id[32];

		snprintf(id, sizeof id, "c%zu", i);
		assert_int_equal(match_record_init(&r, &set.rows[i].in, &err), CRM_OK);
		assert_int_equal(match_index_add_query(a, id, &r, ha, 16, &na, &err), CRM_OK);
		assert_int_equal(match_index_add(b, id, &r, &err), CRM_OK);
		assert_int_equal(match_index_query(b, &r, id, hb, 16, &nb, &err), CRM_OK);
		assert_int_equal(na, nb);
		for (size_t k = 0; k < na; k++) {
			assert_string_equal(ha[k].id, hb[k].id);
			assert_int_equal(ha[k].verdict.decision, hb[k].verdict.decision);
			assert_true(ha[k].verdict.score == hb[k].verdict.score);
			assert_int_equal(ha[k].verdict.nreasons, hb[k].verdict.nreasons);
		}
		found += na;
		/* Re-adding a record under its id replaces it, as match_index_add does. */
		if (i % 50 == 0) {
			assert_int_equal(match_index_add_query(a, id, &r, ha, 16, &na, &err), CRM_OK);
			assert_int_equal(match_index_query(b, &r, id, hb, 16, &nb, &err), CRM_OK);
			assert_int_equal(na, nb);
		}
	}
	assert_int_equal(match_index_count(a), match_index_count(b));
	assert_true(found > 500);
	match_index_free(a);
	match_index_free(b);
	match_gen_release(&set);
}

static void fold_same(const char *text)
{
	for (int keep = 0; keep < 2; keep++) {
		char *a = match__fold(text, keep), *b = match__fold_utf8proc(text, keep);

		assert_non_null(a);
		assert_non_null(b);
		assert_string_equal(a, b);
		free(a);
		free(b);
	}
}

static void test_ascii_fold_same(void **state)
{
	struct match_gen_set set;
	struct crm_error err;
	uint64_t x = 88172645463325252u;
	char buf[64];

	(void)state;
	fold_same("");
	for (int c = 1; c < 128; c++) {
		snprintf(buf, sizeof buf, "%c", c);
		fold_same(buf);
		snprintf(buf, sizeof buf, "Ab%c9Z%c%c x", c, c, c);
		fold_same(buf);
	}
	for (int i = 0; i < 20000; i++) {
		size_t len;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		len = (size_t)(x % 40);
		for (size_t k = 0; k < len; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[k] = (char)(1 + x % 127);
		}
		buf[len] = '\0';
		fold_same(buf);
	}
	/* Real columns, ASCII or not (those take utf8proc's path in both). */
	assert_int_equal(match_gen_make(&set, 9, 300, &err), CRM_OK);
	for (size_t i = 0; i < set.n; i++) {
		const struct match_gen_row *r = &set.rows[i];

		fold_same(r->name);
		fold_same(r->uscc);
		fold_same(r->phone);
		fold_same(r->email);
		fold_same(r->address);
		fold_same(r->city);
		fold_same(r->region);
	}
	match_gen_release(&set);
}

/* The region table scanned in order, as match__region_lookup did (after its trimming). */
static int region_scan(const char *s, size_t n)
{
	static const char *const suffix[] = {"特别行政区", "维吾尔自治区", "壮族自治区",
					     "回族自治区", "自治区", "省", "市", NULL};

	for (size_t i = 0; suffix[i]; i++) {
		size_t k = strlen(suffix[i]);

		if (n >= k && memcmp(s + n - k, suffix[i], k) == 0) {
			n -= k;
			break;
		}
	}
	for (size_t i = 0; i < match__nregions; i++) {
		const struct match__region *r = &match__regions[i];

		if ((strlen(r->zh) == n && memcmp(r->zh, s, n) == 0) ||
		    (strlen(r->en) == n && memcmp(r->en, s, n) == 0))
			return (int)i;
	}
	return -1;
}

static void lookup_same(const char *text)
{
	const char *s = text;
	size_t n;

	while (*s == ' ')
		s++;
	n = strlen(s);
	while (n > 0 && s[n - 1] == ' ')
		n--;
	assert_int_equal(match__region_lookup(text), n ? region_scan(s, n) : -1);
}

/* The longest Chinese region name s starts with, by a scan (zh_region_prefix's old loop). */
static void zh_prefix_same(const char *s)
{
	size_t best = 0, got = 0;
	int want = -1, r;

	for (size_t i = 0; i < match__nregions; i++) {
		size_t k = strlen(match__regions[i].zh);

		if (k > best && strncmp(s, match__regions[i].zh, k) == 0) {
			best = k;
			want = (int)i;
		}
	}
	r = match__region_zh_prefix(s, &got);
	assert_int_equal(r, want);
	if (r >= 0)
		assert_int_equal(got, best);
}

static void test_region_lookup_same(void **state)
{
	static const char *const around[][2] = {
		{"", ""}, {" ", "  "}, {"", "市"}, {"", "省"}, {"", "自治区"}, {"", " city"}, {"x", ""},
	};
	struct match_gen_set set;
	struct crm_error err;
	char buf[256];

	(void)state;
	lookup_same("");
	lookup_same("市");
	lookup_same("  ");
	for (size_t i = 0; i < match__nregions; i++) {
		const char *names[2] = {match__regions[i].zh, match__regions[i].en};

		for (size_t k = 0; k < 2; k++) {
			for (size_t a = 0; a < sizeof around / sizeof around[0]; a++) {
				snprintf(buf, sizeof buf, "%s%s%s", around[a][0], names[k], around[a][1]);
				lookup_same(buf);
			}
			/* cut short by one byte: never a match unless another name is that */
			snprintf(buf, sizeof buf, "%s", names[k]);
			buf[strlen(buf) - 1] = '\0';
			lookup_same(buf);
			zh_prefix_same(buf);
			snprintf(buf, sizeof buf, "%s华信科技有限公司", names[k]);
			zh_prefix_same(buf);
			snprintf(buf, sizeof buf, "%s市", names[k]);
			zh_prefix_same(buf);
		}
	}
	assert_int_equal(match_gen_make(&set, 3, 300, &err), CRM_OK);
	for (size_t i = 0; i < set.n; i++) {
		lookup_same(set.rows[i].city);
		lookup_same(set.rows[i].region);
		zh_prefix_same(set.rows[i].name);
		zh_prefix_same(set.rows[i].address);
	}
	match_gen_release(&set);
}

/* ---- srv_dedup_after_push: long-lived index against a rebuilt one -------- */

struct side {
	char path[64];
	struct srv_db d;
	struct srv_dedup *dd;
	bool rebuild; /* the reference: a fresh index from the database before each push */
};

static void side_open(struct side *s, bool rebuild)
{
	struct crm_error err;
	int fd;

	memset(s, 0, sizeof *s);
	s->rebuild = rebuild;
	snprintf(s->path, sizeof s->path, "/tmp/test_dedup_decide.XXXXXX");
	fd = mkstemp(s->path);
	assert_true(fd >= 0);
	close(fd);
	unlink(s->path);
	assert_int_equal(srv_db_open(s->path, SRV_DB_CREATE | SRV_DB_SYNC, &s->d, &err), CRM_OK);
	assert_int_equal(srv_dedup_open(s->d.db, &s->dd, &err), CRM_OK);
}

static void side_close(struct side *s)
{
	char p[80];

	srv_dedup_free(s->dd);
	srv_db_close(&s->d);
	unlink(s->path);
	snprintf(p, sizeof p, "%s-wal", s->path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", s->path);
	unlink(p);
}

static void row_id(size_t i, char out[37])
{
	snprintf(out, 37, "01900000-0000-7000-8000-%012x", (unsigned)(i + 1) & 0xFFFFFFu);
}

static void bind_or_null(sqlite3_stmt *st, int k, const char *v)
{
	if (v && v[0])
		sqlite3_bind_text(st, k, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, k);
}

static void insert_row(sqlite3 *db, size_t i, const struct match_gen_row *g)
{
	sqlite3_stmt *st = NULL;
	char id[37];

	row_id(i, id);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "INSERT INTO customers (id, created_at, kind, name, uscc, id_number,"
					    " birth_date, phone, email, address, city, region, owner)"
					    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, 1000 + (int64_t)i);
	bind_or_null(st, 3, g->in.kind);
	bind_or_null(st, 4, g->in.name);
	bind_or_null(st, 5, g->in.uscc);
	bind_or_null(st, 6, g->in.id_number);
	bind_or_null(st, 7, g->in.birth_date);
	bind_or_null(st, 8, g->in.phone);
	bind_or_null(st, 9, g->in.email);
	bind_or_null(st, 10, g->in.address);
	bind_or_null(st, 11, g->in.city);
	bind_or_null(st, 12, g->in.region);
	sqlite3_bind_text(st, 13, i % 3 ? "bob" : "alice", -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* One pushed row of customer i naming column col (its value does not matter to the hook). */
static void push_row(struct sync_changeset *cs, size_t i, const char *col)
{
	struct sync_row *r;
	struct sync_field f;
	char id[37];

	row_id(i, id);
	r = sync_changeset_add_row(cs, "customers", id);
	assert_non_null(r);
	memset(&f, 0, sizeof f);
	f.col = (char *)(uintptr_t)col;
	f.v.type = SYNC_TEXT;
	f.v.s = (char *)(uintptr_t) "x";
	assert_int_equal(sync_row_add_field(cs, r, &f), CRM_OK);
}

/* Runs sql (with %zu of customer i) on one side, inside the open transaction. */
static void exec_row(sqlite3 *db, const char *sql, size_t i)
{
	sqlite3_stmt *st = NULL;
	char id[37];

	row_id(i, id);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

enum step_kind { STEP_NEW, STEP_EDIT, STEP_DELETE };

/*
 * One push of rows [from, to) on side s: new customers, identity edits (the
 * phone of each row copied from the row `shift` before it, which makes new
 * duplicates) or deletions. commit false: rolled back after the hook ran.
 */
static void push(struct side *s, const struct match_gen_set *set, enum step_kind kind, size_t from,
		 size_t to, bool commit)
{
	struct sync_changeset cs;
	struct crm_error err;

	if (s->rebuild) {
		srv_dedup_free(s->dd);
		assert_int_equal(srv_dedup_open(s->d.db, &s->dd, &err), CRM_OK);
	}
	sync_changeset_init(&cs);
	assert_int_equal(srv_db_begin(s->d.db, &err), CRM_OK);
	for (size_t i = from; i < to; i++) {
		if (kind == STEP_NEW) {
			insert_row(s->d.db, i, &set->rows[i]);
			push_row(&cs, i, "name");
			if (i % 7 == 0)
				push_row(&cs, i, "phone"); /* pushed twice in the batch: checked once */
		} else if (kind == STEP_EDIT) {
			char sql[200];

			snprintf(sql, sizeof sql,
				 "UPDATE customers SET phone = (SELECT phone FROM customers WHERE id ="
				 " '01900000-0000-7000-8000-%012x') WHERE id = ?1",
				 (unsigned)(i - 40 + 1) & 0xFFFFFFu);
			exec_row(s->d.db, sql, i);
			push_row(&cs, i, "phone");
		} else {
			exec_row(s->d.db, "UPDATE customers SET deleted = 1 WHERE id = ?1", i);
			push_row(&cs, i, "deleted");
		}
	}
	assert_int_equal(srv_dedup_after_push(s->dd, s->d.db, s->d.sync, &cs, "bob", &err), CRM_OK);
	if (commit)
		assert_int_equal(srv_db_commit(s->d.db, &err), CRM_OK);
	else
		srv_db_rollback(s->d.db);
	sync_changeset_release(&cs);
}

/* Every decision a side has recorded, as one text. Caller frees. */
static char *outcome(sqlite3 *db)
{
	static const char *const sql[] = {
		"SELECT a, b, printf('%.6f', score), reasons, status FROM srv_dup_pairs ORDER BY a, b",
		"SELECT id, deleted, coalesce(merged_into, '') FROM customers ORDER BY id",
		"SELECT survivor, merged FROM srv_dup_merges ORDER BY survivor, merged",
	};
	return dbtu_dump(db, sql, sizeof sql / sizeof sql[0]);
}


static void test_long_lived_index_same(void **state)
{
	struct match_gen_set set;
	struct side fast, ref;
	struct crm_error err;
	char *a, *b;
	size_t n, at = 0;

	(void)state;
	assert_int_equal(match_gen_make(&set, 5, ENTITIES, &err), CRM_OK);
	n = set.n;
	assert_true(n > 4 * BATCH);
	side_open(&fast, false);
	side_open(&ref, true);
	for (int k = 0; at < n; k++) {
		size_t to = at + BATCH < n ? at + BATCH : n;
		struct side *sides[2] = {&fast, &ref};

		for (int s = 0; s < 2; s++) {
			/* The second push fails after the hook and is pushed again. */
			if (k == 1)
				push(sides[s], &set, STEP_NEW, at, to, false);
			push(sides[s], &set, STEP_NEW, at, to, true);
			/* Identity edits of the previous batch (those not merged away), then a rollback of some. */
			if (k >= 2 && k % 2 == 0) {
				push(sides[s], &set, STEP_EDIT, at - BATCH, at - BATCH + 20, true);
				push(sides[s], &set, STEP_EDIT, at - BATCH + 20, at - BATCH + 30, false);
			}
			if (k == 3)
				push(sides[s], &set, STEP_DELETE, 5, 25, true);
		}
		a = outcome(fast.d.db);
		b = outcome(ref.d.db);
		assert_string_equal(a, b);
		free(a);
		free(b);
		at = to;
	}
	/* The data must have exercised merges and the review queue. */
	assert_true(dbtu_int(fast.d.db, "SELECT count(*) FROM srv_dup_merges") > 20);
	assert_true(dbtu_int(fast.d.db, "SELECT count(*) FROM srv_dup_pairs WHERE status = 'open'") > 10);
	assert_int_equal(srv_dedup_count(fast.dd),
			 dbtu_int(fast.d.db, "SELECT count(*) FROM customers WHERE deleted = 0 AND merged_into IS NULL"));
	side_close(&fast);
	side_close(&ref);
	match_gen_release(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii_fold_same),
		cmocka_unit_test(test_region_lookup_same),
		cmocka_unit_test(test_quick_compare_same),
		cmocka_unit_test(test_add_query_same),
		cmocka_unit_test(test_long_lived_index_same),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
