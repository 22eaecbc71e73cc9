/*
 * The duplicate check done ahead (srv_dedup_push_begin: the new customers of
 * a push matched on a worker thread while the batch is applied) decides
 * exactly what the serial check after the push decides.
 *
 * Two servers start from the same database (seeded customers, duplicates
 * among them and among the pushed ones): one checks ahead, the reference
 * does not (srv_dedup_set_ahead false). Each batch goes through
 * srv_push_apply and srv_dedup_after_push as POST /v1/sync does, on both.
 * Batches mix new customers (duplicates of each other and of the pool) with
 * identity edits of existing customers, fields refused by the value check,
 * customers refused whole, a customer named twice, a deleted new customer
 * a field that loses to the version in place and a customer pushed as new
 * whose row was removed behind the sync core's back (triggers off; its clocks make
 * every field lose, so no row comes back); one batch rolls back
 * after the check and is pushed again, one fails between the apply and the
 * check. After every batch the review queue, merges, notices, customers,
 * receipts and the index size must be the same on both.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_testutil.h"
#include "crm_time.h"
#include "match_gen.h"
#include "srv_app.h"
#include "srv_dedup.h"
#include "srv_push.h"
#include "srv_users.h"
#include "tables.h"

#define ENTITIES 330
#define SEEDED 60  /* generated rows already on the server */
#define BATCH 45   /* new customers per batch */
#define DEV_SITE "01900000-0000-7000-8000-00000000d001"

struct side {
	char path[64];
	struct srv_app app;
	struct srv_session who;
};

static int64_t base_ms;
static size_t gone_row; /* pushed deleted in batch 2, its row removed before batch 5 */

static void row_id(size_t i, char out[37])
{
	snprintf(out, 37, "01900000-0000-7000-8000-%012x", (unsigned)(i + 1));
}

/* The stored form of what a person typed for customers.col ("" when it is refused). */
static void canonical(const char *col, const char *typed, char *out, size_t n)
{
	const struct schema_column *c = schema_column_find(schema_table_find("customers"), col);
	struct schema_value v;
	struct crm_error err;

	out[0] = '\0';
	assert_non_null(c);
	if (!typed || !typed[0])
		return;
	memset(&v, 0, sizeof v);
	if (schema_value_parse(c, typed, &v, NULL, &err) != CRM_OK)
		return;
	if (v.type == SV_TEXT)
		snprintf(out, n, "%s", v.s);
	schema_value_release(&v);
}

static const char *const cols[] = {"kind",  "name",    "uscc", "id_number", "birth_date",
				   "phone", "email",   "address", "city", "region"};

static const char *gen_value(const struct match_gen_row *g, size_t k)
{
	const char *const v[] = {g->in.kind,  g->in.name,  g->in.uscc,	  g->in.id_number,
				 g->in.birth_date, g->in.phone, g->in.email, g->in.address,
				 g->in.city,  g->in.region};

	return v[k];
}

static void seed(sqlite3 *db, const struct match_gen_set *set)
{
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_prepare_v2(db,
					    "INSERT INTO customers (id, created_at, kind, name, uscc, id_number,"
					    " birth_date, phone, email, address, city, region, owner)"
					    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
					    -1, &st, NULL),
			 SQLITE_OK);
	for (size_t i = 0; i < SEEDED; i++) {
		char id[37], val[200];

		row_id(i, id);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, 1000 + (int64_t)i);
		for (size_t k = 0; k < 10; k++) {
			canonical(cols[k], gen_value(&set->rows[i], k), val, sizeof val);
			if (val[0])
				sqlite3_bind_text(st, 3 + (int)k, val, -1, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(st, 3 + (int)k);
		}
		sqlite3_bind_text(st, 13, i % 4 ? "alice" : "bob", -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	sqlite3_finalize(st);
}

static void side_open(struct side *s, const char *name, bool ahead, const struct match_gen_set *set)
{
	struct crm_error err;
	struct srv_db d;
	char tok[SRV_TOKEN_SIZE];

	memset(s, 0, sizeof *s);
	dbtu_temp_path(s->path, sizeof s->path, name);
	assert_int_equal(srv_db_open(s->path, SRV_DB_CREATE | SRV_DB_SYNC, &d, &err), CRM_OK);
	assert_int_equal(srv_user_add(d.db, "alice", SRV_REP, "east", "pw", &err), CRM_OK);
	assert_int_equal(srv_user_add(d.db, "bob", SRV_REP, "west", "pw", &err), CRM_OK);
	assert_int_equal(srv_login(d.db, "alice", "pw", "a1", tok, &s->who, &err), CRM_OK);
	seed(d.db, set);
	srv_db_close(&d);
	assert_int_equal(srv_app_open(&s->app, s->path, 1, &err), CRM_OK);
	srv_dedup_set_ahead(s->app.dedup, ahead);
}

static void side_close(struct side *s)
{
	srv_app_close(&s->app);
	dbtu_remove(s->path);
}

/* ---- batches ------------------------------------------------------------- */

struct builder {
	struct sync_changeset *cs;
	sync_hlc hlc; /* the next field's clock */
};

static void add_text(struct builder *b, struct sync_row *r, const char *col, const char *text)
{
	struct sync_field f;

	memset(&f, 0, sizeof f);
	f.col = (char *)(uintptr_t)col;
	f.v.type = text ? SYNC_TEXT : SYNC_NULL;
	f.v.s = (char *)(uintptr_t)text;
	f.hlc = b->hlc++;
	snprintf(f.site, sizeof f.site, "%s", DEV_SITE);
	assert_int_equal(sync_row_add_field(b->cs, r, &f), CRM_OK);
}

static void add_int(struct builder *b, struct sync_row *r, const char *col, int64_t v)
{
	struct sync_field f;

	memset(&f, 0, sizeof f);
	f.col = (char *)(uintptr_t)col;
	f.v.type = SYNC_INT;
	f.v.i = v;
	f.hlc = b->hlc++;
	snprintf(f.site, sizeof f.site, "%s", DEV_SITE);
	assert_int_equal(sync_row_add_field(b->cs, r, &f), CRM_OK);
}

/* A new customer from generated row i; how bends it (0 as typed by a careful rep). */
enum bend { PLAIN, BAD_PHONE, NAME_AS_NUMBER, FOR_BOB, DELETED, TWICE };

static void add_new(struct builder *b, const struct match_gen_set *set, size_t i, enum bend how)
{
	struct sync_row *r;
	char id[37], val[200];

	row_id(i, id);
	r = sync_changeset_add_row(b->cs, "customers", id);
	assert_non_null(r);
	add_int(b, r, "created_at", base_ms + (int64_t)i);
	if (how == DELETED)
		add_int(b, r, "deleted", 1);
	for (size_t k = 0; k < 10; k++) {
		canonical(cols[k], gen_value(&set->rows[i], k), val, sizeof val);
		if (how == BAD_PHONE && strcmp(cols[k], "phone") == 0) {
			add_text(b, r, "phone", "call me maybe"); /* refused by the value check */
			continue;
		}
		if (how == NAME_AS_NUMBER && strcmp(cols[k], "name") == 0) {
			add_int(b, r, "name", 42); /* refused: not text */
			continue;
		}
		if (val[0])
			add_text(b, r, cols[k], val);
		else if (k == 2)
			add_text(b, r, cols[k], NULL); /* an explicit NULL */
	}
	add_text(b, r, "owner", how == FOR_BOB ? "bob" : "alice"); /* bob's: refused whole */
	if (how == TWICE) {
		/* The same customer again in the set, with another phone. */
		r = sync_changeset_add_row(b->cs, "customers", id);
		assert_non_null(r);
		add_text(b, r, "phone", "+8613912345678");
	}
}

/* An identity edit of customer i (seeded or pushed before): the phone of customer from. */
static void add_edit(struct builder *b, const struct match_gen_set *set, size_t i, size_t from)
{
	struct sync_row *r;
	char id[37], val[200];

	row_id(i, id);
	canonical("phone", set->rows[from].in.phone, val, sizeof val);
	r = sync_changeset_add_row(b->cs, "customers", id);
	assert_non_null(r);
	add_text(b, r, "phone", val[0] ? val : "+8613800000000");
}

/* An activity under customer i (a child row, not checked). */
static void add_activity(struct builder *b, size_t i, size_t n)
{
	struct sync_row *r;
	char id[37], cid[37];

	row_id(100000 + n, id);
	row_id(i, cid);
	r = sync_changeset_add_row(b->cs, "activities", id);
	assert_non_null(r);
	add_text(b, r, "customer_id", cid);
	add_text(b, r, "kind", "visit");
	add_text(b, r, "note", "met them");
}

/*
 * Batch k: the new customers idx[0, n) (those without a duplicate before
 * them first, so the worker gets to record some before a merge stops it),
 * with the bends and edits of that batch; prev is a customer pushed before.
 */
static void build(struct sync_changeset *cs, const struct match_gen_set *set, int k,
		  const size_t *idx, size_t n, size_t prev)
{
	struct builder b = {cs, ((sync_hlc)(base_ms + k * 1000) << 16)};

	sync_changeset_init(cs);
	if (k == 3) {
		/* An edit first: nothing can be done ahead in this batch. */
		add_edit(&b, set, 1, 2);
	}
	for (size_t p = 0; p < n; p++) {
		enum bend how = PLAIN;
		size_t i = idx[p];

		if (k == 1 && p == 20)
			how = BAD_PHONE;
		if (k == 2 && p == 5)
			how = FOR_BOB;
		if (k == 2 && p == 9)
			how = DELETED;
		if (k == 2 && p == 30)
			how = NAME_AS_NUMBER;
		if (k == 4 && p == 22)
			how = TWICE;
		if (k == 5 && p == 3) {
			/*
			 * First the customer pushed deleted in batch 2, whose row is
			 * gone since (its clocks stayed), pushed again as new with
			 * clocks older than those: nothing of it wins, no row comes
			 * back, and the worker's check of it must not count.
			 */
			sync_hlc keep = b.hlc;

			b.hlc = (sync_hlc)(base_ms - 9000) << 16;
			add_new(&b, set, gone_row, PLAIN);
			b.hlc = keep;
		}
		add_new(&b, set, i, how);
		if (p % 5 == 0)
			add_activity(&b, i, i);
		if (k == 4 && p == 30) {
			/* Identity edits of seeded customers in the middle, one of bob's (refused). */
			add_edit(&b, set, 5, 6);
			add_edit(&b, set, 4, 7);
		}
	}
	if (k == 5) {
		/*
		 * Last, a field of a customer pushed before, older than the version
		 * in place: it loses, so the new ones are read back before their
		 * check is recorded.
		 */
		struct sync_row *r;
		char id[37];

		row_id(prev, id);
		r = sync_changeset_add_row(cs, "customers", id);
		assert_non_null(r);
		b.hlc = (sync_hlc)(base_ms - 5000) << 16;
		add_text(&b, r, "email", "old@example.com");
	}
}

enum ending { COMMIT, ROLLBACK, FAIL_BEFORE_CHECK };

/* One push on side s, as POST /v1/sync runs it; the result's text (caller frees). */
static char *push(struct side *s, struct sync_changeset *cs, enum ending end)
{
	struct srv_app *app = &s->app;
	struct crm_error err;
	cJSON *result = NULL;
	char *text;

	assert_int_equal(srv_db_begin(app->writer.db, &err), CRM_OK);
	assert_int_equal(srv_dedup_rewrite(app->writer.db, cs, NULL, &err), CRM_OK);
	assert_int_equal(srv_push_apply(app, &s->who, cs, &result, &err), CRM_OK);
	if (end != FAIL_BEFORE_CHECK)
		assert_int_equal(srv_dedup_after_push(app->dedup, app->writer.db, app->writer.sync, cs,
						      s->who.user.name, &err),
				 CRM_OK);
	if (end == COMMIT)
		assert_int_equal(srv_db_commit(app->writer.db, &err), CRM_OK);
	else
		srv_db_rollback(app->writer.db);
	text = cJSON_PrintUnformatted(result);
	assert_non_null(text);
	cJSON_Delete(result);
	return text;
}

/* Every decision a side has recorded, in the order it was made where that shows. Caller frees. */
static char *outcome(sqlite3 *db)
{
	static const char *const sql[] = {
		"SELECT a, b, printf('%.6f', score), reasons, status FROM srv_dup_pairs ORDER BY a, b",
		"SELECT id, deleted, coalesce(merged_into, ''), coalesce(owner, ''), coalesce(name, ''),"
		" coalesce(phone, ''), coalesce(email, '') FROM customers ORDER BY id",
		"SELECT id, survivor, merged, how, printf('%.6f', score), reasons, prev_deleted"
		" FROM srv_dup_merges ORDER BY id",
		"SELECT seq, user, text FROM srv_dup_notices ORDER BY seq",
		"SELECT old_id, new_id FROM srv_dup_aliases ORDER BY old_id",
	};
	return dbtu_dump(db, sql, sizeof sql / sizeof sql[0]);
}


/* Deletes customer i's row behind the sync core's back; its clocks must stay. */
static void remove_row(sqlite3 *db, size_t i)
{
	sqlite3_stmt *st = NULL;
	char id[37];

	row_id(i, id);
	/* The capture triggers refuse hard deletes: off for this one. */
	assert_int_equal(sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "DELETE FROM customers WHERE id = ?1", -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	assert_int_equal(sqlite3_changes(db), 1);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 1, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM sync_clock WHERE rid = ?1", -1, &st,
					    NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_true(sqlite3_column_int(st, 0) > 0);
	sqlite3_finalize(st);
}

static void same(struct side *fast, struct side *ref)
{
	char *a = outcome(fast->app.writer.db), *b = outcome(ref->app.writer.db);

	assert_string_equal(a, b);
	free(a);
	free(b);
	assert_int_equal(srv_dedup_count(fast->app.dedup), srv_dedup_count(ref->app.dedup));
}

static void test_ahead_same_as_serial(void **state)
{
	struct match_gen_set set;
	struct side fast, ref;
	struct crm_error err;
	size_t *first, *again, nfirst = 0, nagain = 0, rec[6], rec_total = 0;

	(void)state;
	base_ms = crm_now_ms() - 60000;
	assert_int_equal(match_gen_make(&set, 11, ENTITIES, &err), CRM_OK);
	/* The rows after the seeded ones: first of their entity, or a duplicate of one before. */
	first = calloc(set.n, sizeof *first);
	again = calloc(set.n, sizeof *again);
	assert_non_null(first);
	assert_non_null(again);
	for (size_t i = SEEDED; i < set.n; i++) {
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = set.rows[j].entity == set.rows[i].entity;
		if (seen)
			again[nagain++] = i;
		else
			first[nfirst++] = i;
	}
	assert_true(nfirst >= 6 * (BATCH - 10) && nagain >= 6 * 10);
	side_open(&fast, "test_server_dedup_ahead_fast", true, &set);
	side_open(&ref, "test_server_dedup_ahead_ref", false, &set);
	same(&fast, &ref);
	for (int k = 0; k < 6; k++) {
		struct side *sides[2] = {&fast, &ref};
		size_t idx[BATCH];
		char *res[2];

		for (size_t p = 0; p < BATCH; p++)
			idx[p] = p < BATCH - 10 ? first[(size_t)k * (BATCH - 10) + p]
						: again[(size_t)k * 10 + p - (BATCH - 10)];
		if (k == 2)
			gone_row = idx[9];
		for (int s = 0; s < 2; s++) {
			struct sync_changeset cs;
			size_t prev = k ? first[(size_t)(k - 1) * (BATCH - 10)] : 0;

			if (k == 5)
				remove_row(sides[s]->app.writer.db, gone_row);

			/* Batch 2 rolls back after the check, batch 1 fails before it; both come again. */
			if (k == 1 || k == 2) {
				build(&cs, &set, k, idx, BATCH, prev);
				free(push(sides[s], &cs, k == 2 ? ROLLBACK : FAIL_BEFORE_CHECK));
				sync_changeset_release(&cs);
			}
			build(&cs, &set, k, idx, BATCH, prev);
			res[s] = push(sides[s], &cs, COMMIT);
			sync_changeset_release(&cs);
		}
		assert_string_equal(res[0], res[1]);
		free(res[0]);
		free(res[1]);
		same(&fast, &ref);
		rec[k] = srv_dedup_ahead_recorded(fast.app.dedup) - (k ? rec_total : 0);
		rec_total = srv_dedup_ahead_recorded(fast.app.dedup);
	}
	/* The batches exercised merges, the review queue and both paths. */
	assert_true(dbtu_int(fast.app.writer.db, "SELECT count(*) FROM srv_dup_merges") > 5);
	assert_true(dbtu_int(fast.app.writer.db, "SELECT count(*) FROM srv_dup_pairs WHERE status = 'open'") > 5);
	/*
	 * Recorded from the worker: a plain batch up to its first merge, none
	 * when an edit comes first, up to the customer named twice; when a field
	 * lost, the new ones read back: the three before the one whose row did
	 * not come back.
	 */
	assert_true(rec[0] > 20);
	assert_int_equal(rec[3], 0);
	assert_true(rec[4] > 10);
	assert_int_equal(rec[5], 3);
	assert_int_equal(srv_dedup_count(fast.app.dedup),
			 dbtu_int(fast.app.writer.db,
			       "SELECT count(*) FROM customers WHERE deleted = 0 AND merged_into IS NULL"));
	side_close(&fast);
	side_close(&ref);
	free(first);
	free(again);
	match_gen_release(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ahead_same_as_serial),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
