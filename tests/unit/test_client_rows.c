/*
 * Unit tests for client/rows.c and client/search.c over a real replica
 * (replica_open on a temporary file: migrations, capture triggers, search
 * index): REF resolution and its ambiguity errors, duplicate detection,
 * inserts/updates/tombstones, and the search index kept current by triggers
 * for local edits, child rows and eviction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "db_testutil.h"
#include "replica.h"
#include "rows.h"
#include "search.h"

struct fixture {
	char dir[64];
	char path[128];
	struct replica rep;
	char huaxin[CRM_ID_SIZE], trade[CRM_ID_SIZE], acme[CRM_ID_SIZE];
};

static void add_customer(struct fixture *f, const char *name, const char *phone, const char *email,
			 const char *ext_ref, char id[CRM_ID_SIZE])
{
	struct row r;
	struct crm_error err;

	assert_int_equal(row_new(&r, schema_table_find("customers")), CRM_OK);
	assert_int_equal(row_put_text(&r, "name", name), CRM_OK);
	if (phone)
		assert_int_equal(row_put_text(&r, "phone", phone), CRM_OK);
	if (email)
		assert_int_equal(row_put_text(&r, "email", email), CRM_OK);
	if (ext_ref)
		assert_int_equal(row_put_text(&r, "ext_ref", ext_ref), CRM_OK);
	assert_int_equal(rows_insert(f->rep.db, &r, &err), CRM_OK);
	memcpy(id, row_text(&r, "id"), CRM_ID_SIZE);
	row_release(&r);
}

static void add_child(struct fixture *f, const char *table, const char *customer,
		      const char *col, const char *text)
{
	struct row r;
	struct crm_error err;

	assert_int_equal(row_new(&r, schema_table_find(table)), CRM_OK);
	assert_int_equal(row_put_text(&r, "customer_id", customer), CRM_OK);
	assert_int_equal(row_put_text(&r, col, text), CRM_OK);
	if (strcmp(table, "activities") == 0)
		assert_int_equal(row_put_text(&r, "kind", "visit"), CRM_OK);
	assert_int_equal(rows_insert(f->rep.db, &r, &err), CRM_OK);
	row_release(&r);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct crm_error err;

	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/crm-rows-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/replica.db", f->dir);
	assert_int_equal(replica_open(f->path, &f->rep, &err), CRM_OK);
	add_customer(f, "深圳市华信科技有限公司", "+8613800138000", "info@huaxin.example", "ERP-0012",
		     f->huaxin);
	add_customer(f, "华信贸易有限公司", "+8675588886666", NULL, NULL, f->trade);
	add_customer(f, "ACME Trading", NULL, "sales@acme.example", "ERP-0013", f->acme);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	replica_close(&f->rep);
	dbtu_remove(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void resolve_ok(struct fixture *f, const char *ref, const char *want)
{
	char id[CRM_ID_SIZE];
	struct crm_error err;

	crm_error_clear(&err);
	assert_int_equal(rows_resolve(f->rep.db, schema_table_find("customers"), ref, id, &err), CRM_OK);
	assert_string_equal(id, want);
}

static void test_resolve(void **state)
{
	struct fixture *f = *state;
	const struct schema_table *t = schema_table_find("customers");
	char id[CRM_ID_SIZE], prefix[40];
	struct crm_error err;

	resolve_ok(f, f->huaxin, f->huaxin);                 /* full id */
	resolve_ok(f, "ERP-0013", f->acme);                  /* ext_ref */
	resolve_ok(f, "深圳市华信科技有限公司", f->huaxin);  /* exact name */
	resolve_ok(f, "华信科技", f->huaxin);                /* unique part */
	resolve_ok(f, "acme", f->acme);                      /* any case */
	/* The full id minus its last character is a unique prefix. */
	snprintf(prefix, sizeof prefix, "%.35s", f->trade);
	resolve_ok(f, prefix, f->trade);

	assert_int_equal(rows_resolve(f->rep.db, t, "华信", id, &err), CRM_EAMBIGUOUS);
	assert_non_null(strstr(err.msg, "matches 2 customers"));
	assert_non_null(strstr(err.msg, f->huaxin));
	assert_non_null(strstr(err.msg, f->trade));
	assert_int_equal(rows_resolve(f->rep.db, t, "nobody", id, &err), CRM_ENOTFOUND);
	assert_int_equal(rows_resolve(f->rep.db, t, "", id, &err), CRM_EUSAGE);
	/* Too short to be an id prefix, and in no name. */
	assert_int_equal(rows_resolve(f->rep.db, t, "01a", id, &err), CRM_ENOTFOUND);
}

static void test_delete_and_resolve(void **state)
{
	struct fixture *f = *state;
	const struct schema_table *t = schema_table_find("customers");
	struct row r;
	struct crm_error err;
	char id[CRM_ID_SIZE];

	assert_int_equal(rows_delete(f->rep.db, t, f->trade, &err), CRM_OK);
	assert_int_equal(rows_get(f->rep.db, t, f->trade, &r, &err), CRM_OK);
	assert_int_equal(row_get(&r, "deleted")->i, 1);
	row_release(&r);
	/* The deleted one no longer makes "华信" ambiguous, but its id still finds it. */
	resolve_ok(f, "华信", f->huaxin);
	resolve_ok(f, f->trade, f->trade);
	assert_int_equal(rows_resolve(f->rep.db, t, "华信贸易", id, &err), CRM_ENOTFOUND);
	/* A SQL DELETE is refused by the capture triggers: deletion is a tombstone. */
	assert_int_not_equal(sqlite3_exec(f->rep.db, "DELETE FROM customers", NULL, NULL, NULL),
			     SQLITE_OK);
}

static void test_duplicates(void **state)
{
	struct fixture *f = *state;
	struct row r;
	struct rows_dup dup;
	struct crm_error err;
	bool found;

	assert_int_equal(row_new(&r, schema_table_find("customers")), CRM_OK);
	assert_int_equal(row_put_text(&r, "name", "Other"), CRM_OK);
	assert_int_equal(rows_find_duplicate(f->rep.db, &r, &found, &dup, &err), CRM_OK);
	assert_false(found);
	assert_int_equal(row_put_text(&r, "email", "sales@acme.example"), CRM_OK);
	assert_int_equal(rows_find_duplicate(f->rep.db, &r, &found, &dup, &err), CRM_OK);
	assert_true(found);
	assert_string_equal(dup.id, f->acme);
	assert_string_equal(dup.col, "email");
	assert_string_equal(dup.name, "ACME Trading");
	row_release(&r);
	/* A customer is not its own duplicate (edit). */
	assert_int_equal(rows_get(f->rep.db, schema_table_find("customers"), f->acme, &r, &err), CRM_OK);
	assert_int_equal(rows_find_duplicate(f->rep.db, &r, &found, &dup, &err), CRM_OK);
	assert_false(found);
	row_release(&r);
}

/* Runs a search and returns the number of hits; *first gets the first hit. */
static size_t hits(struct fixture *f, const char *q, bool deleted, struct search_hit *first)
{
	struct search_result res;
	struct crm_error err;
	size_t n;

	assert_int_equal(search_run(f->rep.db, q, deleted, 50, &res, &err), CRM_OK);
	n = res.n;
	if (first && n)
		*first = res.hits[0];
	search_result_release(&res);
	return n;
}

static void test_search(void **state)
{
	struct fixture *f = *state;
	struct search_hit h;
	struct crm_error err;
	struct search_result res;

	/* One or two characters: from the trigrams that start with them. */
	assert_int_equal(hits(f, "华信", false, NULL), 2);
	assert_int_equal(hits(f, "公司", false, NULL), 2);          /* at the end of the name */
	assert_int_equal(hits(f, "司", false, NULL), 2);
	assert_int_equal(hits(f, "NG", false, &h), 1);             /* "ACME Trading": end, any case */
	assert_string_equal(h.id, f->acme);
	assert_int_equal(hits(f, "tR", false, NULL), 1);
	assert_int_equal(hits(f, "无此", false, NULL), 0);
	assert_int_equal(hits(f, "华信科技", false, &h), 1);        /* trigram MATCH */
	assert_string_equal(h.id, f->huaxin);
	assert_string_equal(h.matched, "name");
	assert_int_equal(hits(f, "00138000", false, &h), 1);        /* phone digits */
	assert_string_equal(h.matched, "phone +8613800138000");
	assert_int_equal(hits(f, "138 0013 8000", false, NULL), 1);
	assert_int_equal(hits(f, "0755-8888 6666", false, NULL), 1); /* national form */
	assert_int_equal(hits(f, "acme", false, &h), 1);            /* case */
	assert_string_equal(h.id, f->acme);
	assert_int_equal(hits(f, "ACME trad", false, NULL), 1);
	assert_int_equal(hits(f, "erp-001", false, NULL), 2);       /* ext_ref */
	assert_int_equal(hits(f, "nothing here", false, NULL), 0);
	assert_int_equal(hits(f, "%", false, NULL), 0);             /* LIKE wildcards are literal */
	assert_int_equal(hits(f, "\"", false, NULL), 0);            /* FTS syntax is literal */
	assert_int_equal(hits(f, "a\"b\"c", false, NULL), 0);
	assert_int_equal(search_run(f->rep.db, "   ", false, 50, &res, &err), CRM_EUSAGE);
	assert_int_equal(search_run(f->rep.db, "\xff\xfe", false, 50, &res, &err), CRM_EUTF8);
}

static void test_search_follows_edits(void **state)
{
	struct fixture *f = *state;
	const struct schema_table *t = schema_table_find("customers");
	struct search_hit h;
	struct crm_error err;
	struct row r;
	bool *set = calloc(t->ncols, sizeof *set);

	assert_non_null(set);
	/* Child rows: a contact's name and an activity's note find the customer. */
	add_child(f, "contacts", f->acme, "name", "John Smith");
	add_child(f, "activities", f->huaxin, "note", "介绍新产品，客户有兴趣");
	assert_int_equal(hits(f, "john", false, &h), 1);
	assert_string_equal(h.id, f->acme);
	assert_string_equal(h.matched, "contact John Smith");
	assert_int_equal(hits(f, "新产品", false, &h), 1);
	assert_string_equal(h.id, f->huaxin);
	assert_non_null(strstr(h.matched, "activity"));
	/* An activity's note is its own document: edited, then deleted. */
	assert_int_equal(sqlite3_exec(f->rep.db, "UPDATE activities SET note = '签约意向' "
				      "WHERE note LIKE '介绍新产品%'", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(hits(f, "新产品", false, NULL), 0);
	assert_int_equal(hits(f, "签约", false, &h), 1);
	assert_string_equal(h.id, f->huaxin);
	assert_int_equal(sqlite3_exec(f->rep.db, "UPDATE activities SET deleted = 1 "
				      "WHERE note = '签约意向'", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(hits(f, "签约", false, NULL), 0);

	/* An edit re-indexes: the old city is gone, the new one found. */
	assert_int_equal(row_init(&r, t), CRM_OK);
	assert_int_equal(row_put_text(&r, "id", f->acme), CRM_OK);
	assert_int_equal(row_put_text(&r, "city", "Manchester"), CRM_OK);
	set[row_col(t, "city")] = true;
	assert_int_equal(rows_update(f->rep.db, &r, set, &err), CRM_OK);
	row_release(&r);
	assert_int_equal(hits(f, "manchester", false, NULL), 1);

	/* Deleted customers are found only with with_deleted. */
	assert_int_equal(rows_delete(f->rep.db, t, f->acme, &err), CRM_OK);
	assert_int_equal(hits(f, "manchester", false, NULL), 0);
	assert_int_equal(hits(f, "manchester", true, NULL), 1);

	/* Eviction (a hard delete with capture off) drops the document. */
	assert_int_equal(sync_evict_row(f->rep.sync, "customers", f->acme, &err), CRM_OK);
	assert_int_equal(hits(f, "manchester", true, NULL), 0);
	free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_and_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search_follows_edits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
