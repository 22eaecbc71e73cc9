/*
 * Unit tests for schema/tables.c (column metadata, schema_value_parse and
 * schema_value_check for every column type) and schema/migrate.c (a fresh
 * database reaches the newest version, a second run changes nothing, a
 * database newer than the binary is refused and left alone, a failing
 * migration leaves nothing behind).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "crm_time.h"
#include "crm_utf8.h"
#include "fields.h"
#include "migrate.h"
#include "tables.h"

#define UUID "0190c3e2-1234-7abc-8def-0123456789ab"

static const struct schema_column *col(const char *table, const char *name)
{
	const struct schema_table *t = schema_table_find(table);
	const struct schema_column *c;

	if (!t)
		fail_msg("no table %s", table);
	c = schema_column_find(t, name);
	if (!c)
		fail_msg("no column %s.%s", table, name);
	return c;
}

/* ---- metadata ----------------------------------------------------------- */

static void test_metadata(void **state)
{
	static const char *const system[] = {"id", "created_at", "updated_at", "deleted"};

	(void)state;
	assert_true(schema_tables_count >= 6);
	assert_string_equal(schema_tables[0].name, "customers");
	assert_ptr_equal(schema_table_find("customers"), schema_table_find("customer"));
	assert_ptr_equal(schema_table_find("activity"), schema_table_find("activities"));
	assert_null(schema_table_find("customerz"));
	assert_null(schema_table_find(""));
	assert_null(schema_column_find(schema_table_find("customers"), "nope"));
	for (size_t i = 0; i < schema_tables_count; i++) {
		const struct schema_table *t = &schema_tables[i];

		for (size_t k = 0; k < 4; k++) {
			assert_string_equal(t->cols[k].name, system[k]);
			assert_true(t->cols[k].flags & SCOL_SYSTEM);
		}
		if (i == 0) {
			assert_null(t->parent);
		} else {
			const struct schema_column *p = schema_column_find(t, t->parent);

			assert_non_null(p);
			assert_true(p->flags & SCOL_PARENT);
			assert_true(p->flags & SCOL_REQUIRED);
			assert_int_equal(p->type, SCOL_ID);
		}
		for (size_t k = 0; k < t->ncols; k++) {
			const struct schema_column *c = &t->cols[k];

			assert_non_null(c->help);
			if (c->type == SCOL_ENUM)
				assert_non_null(c->values);
			if (c->type == SCOL_INT || c->type == SCOL_REAL)
				assert_true(c->min < c->max);
			for (size_t j = 0; j < k; j++)
				assert_string_not_equal(c->name, t->cols[j].name);
		}
	}
}

/* ---- schema_value_parse ------------------------------------------------- */

static void parse_text(const char *table, const char *column, const char *in, const char *want)
{
	struct schema_value v;
	struct crm_error err = {0};

	if (schema_value_parse(col(table, column), in, &v, NULL, &err) != CRM_OK)
		fail_msg("%s.%s \"%s\" refused: %s", table, column, in, err.msg);
	assert_int_equal(v.type, SV_TEXT);
	assert_string_equal(v.s, want);
	schema_value_release(&v);
	assert_int_equal(v.type, SV_NULL);
	assert_null(v.s);
}

static void parse_int(const char *table, const char *column, const char *in, int64_t want)
{
	struct schema_value v;
	struct crm_error err = {0};

	if (schema_value_parse(col(table, column), in, &v, NULL, &err) != CRM_OK)
		fail_msg("%s.%s \"%s\" refused: %s", table, column, in, err.msg);
	assert_int_equal(v.type, SV_INT);
	if (v.i != want)
		fail_msg("%s.%s \"%s\": got %lld, want %lld", table, column, in, (long long)v.i,
			 (long long)want);
	schema_value_release(&v);
}

static void parse_null(const char *table, const char *column, const char *in)
{
	struct schema_value v;
	struct crm_error err = {0};

	assert_int_equal(schema_value_parse(col(table, column), in, &v, NULL, &err), CRM_OK);
	assert_int_equal(v.type, SV_NULL);
	assert_null(v.s);
	schema_value_release(&v);
}

static void parse_fails(const char *table, const char *column, const char *in,
			enum crm_err want, const char *in_msg)
{
	struct schema_value v;
	struct crm_error err = {0};
	enum crm_err rc = schema_value_parse(col(table, column), in, &v, NULL, &err);

	if (rc != want)
		fail_msg("%s.%s \"%s\": rc %d (%s), want %d", table, column, in, rc, err.msg, want);
	assert_int_equal(v.type, SV_NULL);
	assert_null(v.s);
	assert_int_equal(err.code, want);
	/* the message names the column */
	if (strncmp(err.msg, column, strlen(column)) != 0)
		fail_msg("message \"%s\" does not start with %s", err.msg, column);
	if (in_msg && !strstr(err.msg, in_msg))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, in_msg);
}

static int64_t utc(const char *iso)
{
	int64_t ms = 0;

	assert_int_equal(crm_time_parse(iso, false, &ms), CRM_OK);
	return ms;
}

static void test_parse_text_and_enum(void **state)
{
	char big[400];

	(void)state;
	parse_text("customers", "name", "  深圳市华信科技有限公司  ", "深圳市华信科技有限公司");
	parse_text("customers", "name", "ACME Trading", "ACME Trading");
	parse_text("customers", "notes", "第一行\n第二行", "第一行\n第二行");
	parse_text("customers", "city", "\xe3\x80\x80深圳\xe3\x80\x80", "深圳");
	parse_fails("customers", "name", "", CRM_EINVAL, "required");
	parse_fails("customers", "name", "   ", CRM_EINVAL, "required");
	parse_fails("customers", "name", "bad\x01name", CRM_EINVAL, NULL);
	parse_fails("customers", "name", "\xe5\x8d", CRM_EUTF8, "UTF-8");
	parse_fails("customers", "notes", "\xff", CRM_EUTF8, "UTF-8");
	parse_null("customers", "city", "");
	parse_null("customers", "city", "  ");
	/* name is limited to 300 bytes */
	memset(big, 'n', 300);
	big[300] = '\0';
	parse_text("customers", "name", big, big);
	big[300] = 'n';
	big[301] = '\0';
	parse_fails("customers", "name", big, CRM_ETOOBIG, NULL);
	/* 34 CJK characters are 102 bytes: over city's 100 */
	parse_fails("customers", "city",
		    "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四",
		    CRM_ETOOBIG, NULL);

	parse_text("customers", "kind", "company", "company");
	parse_text("customers", "kind", " person ", "person");
	parse_text("customers", "stage", "lead", "lead");
	parse_text("customers", "stage", "churned", "churned");
	parse_text("customers", "tier", "A", "A");
	parse_text("customers", "tier", "b", "B");
	parse_text("deals", "stage", "negotiation", "negotiation");
	parse_text("activities", "kind", "visit", "visit");
	parse_fails("customers", "kind", "shop", CRM_EINVAL, "company, person");
	parse_fails("customers", "stage", "won", CRM_EINVAL, "stage \"won\"");
	parse_fails("customers", "tier", "D", CRM_EINVAL, "A, B, C");
	parse_fails("deals", "stage", "prospect", CRM_EINVAL, NULL);
	parse_fails("activities", "kind", "", CRM_EINVAL, "required");
	parse_fails("activities", "kind", "拜访", CRM_EINVAL, "visit, call, meeting, email, note");
	parse_null("customers", "stage", "");
}

static void test_parse_rules(void **state)
{
	struct schema_value v;
	char cur[4] = "zz";
	struct crm_error err = {0};

	(void)state;
	setenv("TZ", "Asia/Shanghai", 1);
	tzset();
	setenv("CRM_NOW", "2026-11-24T06:30:00Z", 1);

	parse_text("customers", "phone", "138 0013 8000", "+8613800138000");
	parse_text("contacts", "phone", "０１０－６５５２　９９８８", "+861065529988");
	parse_fails("customers", "phone", "12345", CRM_EINVAL, "phone \"12345\"");
	parse_text("customers", "email", " Zhang@Example.COM ", "zhang@example.com");
	parse_fails("contacts", "email", "zhang", CRM_EINVAL, "email \"zhang\"");
	parse_text("customers", "uscc", "91350100m000100y43", "91350100M000100Y43");
	parse_fails("customers", "uscc", "91350100M000100Y44", CRM_EINVAL, "check character");
	parse_text("customers", "id_number", "11010519491231002x", "11010519491231002X");
	parse_fails("customers", "id_number", "110105194912310021", CRM_EINVAL, NULL);
	parse_text("customers", "birth_date", "1949年12月31日", "1949-12-31");
	parse_text("deals", "expected_close", "+7d", "2026-12-01");
	parse_fails("deals", "expected_close", "2026-02-30", CRM_EINVAL, "does not exist");
	parse_int("activities", "occurred_at", "2026-11-24 14:30", utc("2026-11-24T06:30:00Z"));
	parse_int("activities", "occurred_at", "now", utc("2026-11-24T06:30:00Z"));
	parse_int("tasks", "due_at", "tomorrow", utc("2026-11-24T16:00:00Z"));
	parse_null("tasks", "due_at", "");
	parse_fails("tasks", "due_at", "someday", CRM_EINVAL, "due_at \"someday\"");
	parse_int("activities", "satisfaction", "5", 5);
	parse_int("activities", "satisfaction", "１", 1);
	parse_fails("activities", "satisfaction", "6", CRM_EINVAL, "1 to 5");
	parse_fails("activities", "satisfaction", "0", CRM_EINVAL, NULL);
	parse_int("deals", "probability", "100", 100);
	parse_fails("deals", "probability", "101", CRM_EINVAL, NULL);
	parse_text("deals", "currency", "usd", "USD");
	parse_fails("orders", "currency", "dollars", CRM_EINVAL, NULL);
	parse_text("contacts", "customer_id", UUID, UUID);
	parse_text("contacts", "customer_id", "0190C3E2-1234-7ABC-8DEF-0123456789AB", UUID);
	parse_fails("contacts", "customer_id", "", CRM_EINVAL, "required");
	parse_fails("contacts", "customer_id", "acme", CRM_EINVAL, "UUID");
	parse_int("customers", "deleted", "1", 1);
	parse_int("customers", "deleted", "0", 0);
	parse_fails("customers", "deleted", "2", CRM_EINVAL, NULL);
	parse_fails("customers", "deleted", "yes", CRM_EINVAL, NULL);

	/* REAL */
	assert_int_equal(schema_value_parse(col("activities", "latitude"), "39.9042", &v, NULL, &err),
			 CRM_OK);
	assert_int_equal(v.type, SV_REAL);
	assert_true(v.r > 39.904 && v.r < 39.905);
	schema_value_release(&v);
	parse_fails("activities", "latitude", "91", CRM_EINVAL, NULL);
	parse_fails("activities", "longitude", "-180.5", CRM_EINVAL, NULL);
	parse_fails("activities", "longitude", "east", CRM_EINVAL, NULL);

	/* MONEY: minor units, the currency named in the text comes back */
	assert_int_equal(schema_value_parse(col("deals", "amount"), "¥12,000.50", &v, cur, &err),
			 CRM_OK);
	assert_int_equal(v.type, SV_INT);
	assert_int_equal(v.i, 1200050);
	assert_string_equal(cur, "CNY");
	assert_int_equal(schema_value_parse(col("orders", "amount"), "USD 99.99", &v, cur, &err),
			 CRM_OK);
	assert_int_equal(v.i, 9999);
	assert_string_equal(cur, "USD");
	assert_int_equal(schema_value_parse(col("orders", "amount"), "1.5万", &v, cur, &err), CRM_OK);
	assert_int_equal(v.i, 1500000);
	assert_string_equal(cur, "");
	assert_int_equal(schema_value_parse(col("orders", "amount"), "300", &v, NULL, &err), CRM_OK);
	assert_int_equal(v.i, 30000);
	parse_fails("orders", "amount", "", CRM_EINVAL, "required");
	parse_fails("orders", "amount", "12.345", CRM_EINVAL, "two decimals");
	parse_null("deals", "amount", "");
	unsetenv("CRM_NOW");
}

/* ---- schema_value_check ------------------------------------------------- */

static enum crm_err check_text(const char *table, const char *column, const char *s)
{
	struct schema_value v = {SV_TEXT, 0, 0, (char *)(uintptr_t)s};
	struct crm_error err = {0};
	enum crm_err rc = schema_value_check(col(table, column), &v, &err);

	if (rc != CRM_OK && strncmp(err.msg, column, strlen(column)) != 0)
		fail_msg("message \"%s\" does not name %s", err.msg, column);
	return rc;
}

static enum crm_err check_int(const char *table, const char *column, int64_t i)
{
	struct schema_value v = {SV_INT, i, 0, NULL};

	return schema_value_check(col(table, column), &v, NULL);
}

static enum crm_err check_real(const char *table, const char *column, double r)
{
	struct schema_value v = {SV_REAL, 0, r, NULL};

	return schema_value_check(col(table, column), &v, NULL);
}

static void test_check(void **state)
{
	struct schema_value null = {SV_NULL, 0, 0, NULL};
	char big[400];

	(void)state;
	/* NULL is always a valid typed value (fields arrive one by one) */
	for (size_t i = 0; i < schema_tables_count; i++)
		for (size_t k = 0; k < schema_tables[i].ncols; k++)
			assert_int_equal(schema_value_check(&schema_tables[i].cols[k], &null, NULL),
					 CRM_OK);

	assert_int_equal(check_text("customers", "name", "深圳市华信科技有限公司"), CRM_OK);
	assert_int_equal(check_text("customers", "notes", "line\nline\ttab"), CRM_OK);
	assert_int_equal(check_text("customers", "name", "\xff"), CRM_EUTF8);
	assert_int_equal(check_text("customers", "name", "a\x1b[2Jb"), CRM_EINVAL);
	assert_int_equal(check_text("customers", "name", "a\x7f"), CRM_EINVAL);
	memset(big, 'n', 301);
	big[301] = '\0';
	assert_int_equal(check_text("customers", "name", big), CRM_ETOOBIG);
	big[300] = '\0';
	assert_int_equal(check_text("customers", "name", big), CRM_OK);
	assert_int_equal(check_int("customers", "name", 5), CRM_EINVAL);

	assert_int_equal(check_text("customers", "stage", "loyal"), CRM_OK);
	assert_int_equal(check_text("customers", "stage", "Loyal"), CRM_EINVAL);
	assert_int_equal(check_text("customers", "tier", "a"), CRM_EINVAL);
	assert_int_equal(check_text("customers", "tier", "C"), CRM_OK);

	/* rule-checked text must already be canonical */
	assert_int_equal(check_text("customers", "phone", "+8613800138000"), CRM_OK);
	assert_int_equal(check_text("customers", "phone", "138 0013 8000"), CRM_EINVAL);
	assert_int_equal(check_text("customers", "phone", "+86 138"), CRM_EINVAL);
	assert_int_equal(check_text("customers", "email", "zhang@example.com"), CRM_OK);
	assert_int_equal(check_text("customers", "email", "Zhang@example.com"), CRM_EINVAL);
	assert_int_equal(check_text("customers", "uscc", "91350100M000100Y43"), CRM_OK);
	assert_int_equal(check_text("customers", "uscc", "91350100m000100y43"), CRM_EINVAL);
	assert_int_equal(check_text("customers", "uscc", "91350100M000100Y44"), CRM_EINVAL);
	assert_int_equal(check_text("customers", "id_number", "11010519491231002X"), CRM_OK);
	assert_int_equal(check_text("customers", "id_number", "11010519491231002x"), CRM_EINVAL);
	assert_int_equal(check_text("customers", "birth_date", "1949-12-31"), CRM_OK);
	assert_int_equal(check_text("customers", "birth_date", "1949/12/31"), CRM_EINVAL);
	assert_int_equal(check_text("customers", "birth_date", "today"), CRM_EINVAL);
	assert_int_equal(check_text("deals", "currency", "CNY"), CRM_OK);
	assert_int_equal(check_text("deals", "currency", "cny"), CRM_EINVAL);
	assert_int_equal(check_text("contacts", "customer_id", UUID), CRM_OK);
	assert_int_equal(check_text("contacts", "customer_id", "not-a-uuid"), CRM_EINVAL);
	assert_int_equal(check_int("contacts", "customer_id", 7), CRM_EINVAL);

	assert_int_equal(check_int("activities", "occurred_at", utc("2026-11-24T06:30:00Z")), CRM_OK);
	assert_int_equal(check_text("activities", "occurred_at", "2026-11-24"), CRM_EINVAL);
	assert_int_equal(check_real("activities", "occurred_at", 1.5), CRM_EINVAL);
	assert_int_equal(check_int("orders", "amount", -2000), CRM_OK);
	assert_int_equal(check_text("orders", "amount", "12000"), CRM_EINVAL);
	assert_int_equal(check_int("activities", "satisfaction", 3), CRM_OK);
	assert_int_equal(check_int("activities", "satisfaction", 0), CRM_EINVAL);
	assert_int_equal(check_int("activities", "satisfaction", 6), CRM_EINVAL);
	assert_int_equal(check_real("activities", "satisfaction", 3.0), CRM_EINVAL);
	assert_int_equal(check_int("customers", "deleted", 1), CRM_OK);
	assert_int_equal(check_int("customers", "deleted", 2), CRM_EINVAL);
	assert_int_equal(check_int("customers", "deleted", -1), CRM_EINVAL);
	assert_int_equal(check_real("activities", "latitude", 39.9), CRM_OK);
	assert_int_equal(check_int("activities", "latitude", 40), CRM_OK);
	assert_int_equal(check_real("activities", "latitude", 90.01), CRM_EINVAL);
	assert_int_equal(check_real("activities", "longitude", -180.0), CRM_OK);
	assert_int_equal(check_real("activities", "longitude", (double)NAN), CRM_EINVAL);
	assert_int_equal(check_real("activities", "longitude", (double)INFINITY), CRM_EINVAL);
	assert_int_equal(check_text("activities", "longitude", "116.4"), CRM_EINVAL);
	{
		struct schema_value v = {SV_TEXT, 0, 0, NULL};

		assert_int_equal(schema_value_check(col("customers", "name"), &v, NULL), CRM_EINVAL);
	}
}

/*
 * A text column refuses exactly what field_text refuses (schema_value_check
 * scans the bytes itself and asks field_text only for the message): every
 * string of up to three bytes drawn from the bytes that matter (controls, CR,
 * LF, tab, DEL, the C1 lead byte C2 and its continuations, a CJK character's
 * bytes, ASCII), when valid UTF-8, gets the same verdict both ways.
 */
static void test_check_text_controls(void **state)
{
	static const unsigned char pick[] = {0x01, '\t', '\n', '\r', 0x1b, 0x1f, ' ', 'a', 0x7e, 0x7f,
					     0xc2, 0x80, 0x85, 0x9f, 0xa0, 0xe4, 0xb8, 0xad};
	const size_t np = sizeof pick;
	size_t tried = 0, refused = 0;

	(void)state;
	for (size_t len = 1; len <= 3; len++) {
		size_t total = 1;

		for (size_t k = 0; k < len; k++)
			total *= np;
		for (size_t n = 0; n < total; n++) {
			char s[4];
			size_t x = n;
			char *t = NULL;
			enum crm_err want, got;

			for (size_t k = 0; k < len; k++) {
				s[k] = (char)pick[x % np];
				x /= np;
			}
			s[len] = '\0';
			if (!crm_utf8_valid(s, len))
				continue;
			want = field_text("notes", s, SIZE_MAX, &t, NULL);
			free(t);
			got = check_text("customers", "notes", s);
			if (want != got)
				fail_msg("\"%s\" (%zu bytes): field_text %d, schema_value_check %d", s, len,
					 (int)want, (int)got);
			tried++;
			refused += got != CRM_OK;
		}
	}
	assert_true(tried > 500);
	assert_true(refused > 100 && refused < tried);
	assert_int_equal(check_text("customers", "notes", "行一\r\n行二\t好"), CRM_OK);
	assert_int_equal(check_text("customers", "notes", "bell\a"), CRM_EINVAL);
	assert_int_equal(check_text("customers", "notes", "next line \xc2\x85"), CRM_EINVAL);
	assert_int_equal(check_text("customers", "notes", "no-break\xc2\xa0space"), CRM_OK);
}

/*
 * What parse produces, check accepts: for each rule a typed value made by
 * schema_value_parse passes schema_value_check.
 */
static void test_parse_then_check(void **state)
{
	static const struct {
		const char *table, *column, *text;
	} cases[] = {
		{"customers", "name", " 华信 "},      {"customers", "phone", "0755-8888 8888"},
		{"customers", "email", "A@B.CN"},     {"customers", "uscc", "９１３５０１００Ｍ０００１００Ｙ４３"},
		{"customers", "tier", "a"},           {"customers", "birth_date", "2000/2/29"},
		{"customers", "id_number", "11010519491231002x"},
		{"deals", "amount", "¥1.5万"},        {"deals", "currency", "rmb"},
		{"activities", "occurred_at", "now"}, {"activities", "latitude", "-33.5"},
		{"tasks", "customer_id", UUID},       {"customers", "deleted", "1"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct schema_column *c = col(cases[i].table, cases[i].column);
		struct schema_value v;
		struct crm_error err = {0};

		if (schema_value_parse(c, cases[i].text, &v, NULL, &err) != CRM_OK)
			fail_msg("%s \"%s\" refused: %s", cases[i].column, cases[i].text, err.msg);
		if (schema_value_check(c, &v, &err) != CRM_OK)
			fail_msg("%s \"%s\" parsed but fails its check: %s", cases[i].column,
				 cases[i].text, err.msg);
		schema_value_release(&v);
	}
}

/* ---- migrations --------------------------------------------------------- */

static sqlite3 *open_mem(void)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	return db;
}

static int user_version(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int v;

	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int64_t count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t n;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* The whole schema as text, to see that nothing changed. */
static char *schema_text(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	char *s;

	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT group_concat(type || ' ' || name || ' ' || "
					    "coalesce(sql, ''), ';') FROM "
					    "(SELECT * FROM sqlite_master ORDER BY type, name)",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	s = strdup(sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "");
	sqlite3_finalize(st);
	assert_non_null(s);
	return s;
}

/* A deal's value is never negative; an order's may be (a refund). */
static void test_money_bounds(void **state)
{
	struct schema_value v = {SV_INT, -5, 0, NULL};
	struct crm_error err = {0};

	(void)state;
	parse_fails("deals", "amount", "-5", CRM_EINVAL, "negative");
	parse_int("deals", "amount", "0", 0);
	parse_int("orders", "amount", "-20", -2000);
	assert_int_equal(schema_value_check(col("deals", "amount"), &v, &err), CRM_EINVAL);
	assert_int_equal(schema_value_check(col("orders", "amount"), &v, &err), CRM_OK);
}

static void test_migration_list(void **state)
{
	(void)state;
	assert_true(schema_migrations_count >= 1);
	assert_int_equal(schema_migrations[0].version, 1);
	for (size_t i = 0; i < schema_migrations_count; i++) {
		const struct schema_migration *m = &schema_migrations[i];
		char prefix[16];

		assert_non_null(m->sql);
		assert_true(strlen(m->sql) > 0);
		snprintf(prefix, sizeof prefix, "%04d_", m->version);
		assert_int_equal(strncmp(m->name, prefix, strlen(prefix)), 0);
		assert_non_null(strstr(m->name, ".sql"));
		if (i > 0)
			assert_int_equal(m->version, schema_migrations[i - 1].version + 1);
	}
	assert_int_equal(schema_version(), schema_migrations[schema_migrations_count - 1].version);
}

static void test_migrate_fresh_and_again(void **state)
{
	sqlite3 *db = open_mem();
	struct crm_error err = {0};
	int from = -1;
	char *before, *after;
	int changes;

	(void)state;
	assert_int_equal(schema_migrate(db, &from, &err), CRM_OK);
	assert_int_equal(from, 0);
	assert_int_equal(user_version(db), schema_version());
	assert_int_equal(sqlite3_get_autocommit(db), 1); /* committed */

	/* every table and column of the metadata exists in SQL */
	for (size_t i = 0; i < schema_tables_count; i++) {
		const struct schema_table *t = &schema_tables[i];

		for (size_t k = 0; k < t->ncols; k++) {
			sqlite3_stmt *st = NULL;
			int found = 0;

			assert_int_equal(sqlite3_prepare_v2(db,
							    "SELECT count(*) FROM pragma_table_info(?1) "
							    "WHERE name = ?2",
							    -1, &st, NULL),
					 SQLITE_OK);
			sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, t->cols[k].name, -1, SQLITE_STATIC);
			assert_int_equal(sqlite3_step(st), SQLITE_ROW);
			found = sqlite3_column_int(st, 0);
			sqlite3_finalize(st);
			if (found != 1)
				fail_msg("column %s.%s missing from the SQL schema", t->name,
					 t->cols[k].name);
		}
	}
	assert_int_equal(sqlite3_exec(db,
				      "INSERT INTO customers(id, name) VALUES ('" UUID "', '华信')",
				      NULL, NULL, NULL),
			 SQLITE_OK);

	/* the second run: nothing to do, nothing touched */
	before = schema_text(db);
	changes = sqlite3_total_changes(db);
	from = -1;
	assert_int_equal(schema_migrate(db, &from, &err), CRM_OK);
	assert_int_equal(from, schema_version());
	assert_int_equal(user_version(db), schema_version());
	after = schema_text(db);
	assert_string_equal(before, after);
	assert_int_equal(sqlite3_total_changes(db), changes);
	assert_int_equal(count(db, "SELECT count(*) FROM customers WHERE name = '华信'"), 1);
	assert_int_equal(schema_migrate(db, NULL, NULL), CRM_OK); /* from and err may be NULL */
	free(before);
	free(after);
	sqlite3_close(db);
}

static void test_migrate_refuses_newer(void **state)
{
	sqlite3 *db = open_mem();
	struct crm_error err = {0};
	char sql[64], want[64];
	char *before, *after;
	int from = -1, newer = schema_version() + 1;

	(void)state;
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE future(x); INSERT INTO future VALUES (42)",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", newer);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	before = schema_text(db);

	assert_int_equal(schema_migrate(db, &from, &err), CRM_EVERSION);
	assert_int_equal(err.code, CRM_EVERSION);
	assert_int_equal(from, newer);
	snprintf(want, sizeof want, "%d", newer);
	assert_non_null(strstr(err.msg, want));
	assert_non_null(strstr(err.msg, "upgrade"));
	/* untouched: same version, same schema, same data, no open transaction */
	assert_int_equal(user_version(db), newer);
	after = schema_text(db);
	assert_string_equal(before, after);
	assert_int_equal(count(db, "SELECT x FROM future"), 42);
	assert_int_equal(count(db, "SELECT count(*) FROM sqlite_master WHERE name = 'customers'"), 0);
	assert_int_equal(sqlite3_get_autocommit(db), 1);
	free(before);
	free(after);
	sqlite3_close(db);
}

static void test_migrate_failure_is_atomic(void **state)
{
	sqlite3 *db = open_mem();
	struct crm_error err = {0};

	(void)state;
	/* a table that migration 1 will try to create, after customers */
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE contacts(x)", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(schema_migrate(db, NULL, &err), CRM_EDB);
	assert_non_null(strstr(err.msg, "0001"));
	assert_int_equal(user_version(db), 0);
	assert_int_equal(count(db, "SELECT count(*) FROM sqlite_master WHERE name = 'customers'"), 0);
	assert_int_equal(sqlite3_get_autocommit(db), 1); /* rolled back, not left open */
	/* once the obstacle is gone, the same database migrates */
	assert_int_equal(sqlite3_exec(db, "DROP TABLE contacts", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(schema_migrate(db, NULL, &err), CRM_OK);
	assert_int_equal(user_version(db), schema_version());
	sqlite3_close(db);
}

static void test_migrate_in_callers_transaction(void **state)
{
	sqlite3 *db = open_mem();
	struct crm_error err = {0};

	(void)state;
	assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(schema_migrate(db, NULL, &err), CRM_OK);
	assert_int_equal(sqlite3_get_autocommit(db), 0); /* still the caller's */
	assert_int_equal(count(db, "SELECT count(*) FROM sqlite_master WHERE name = 'customers'"), 1);
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(count(db, "SELECT count(*) FROM sqlite_master WHERE name = 'customers'"), 0);
	assert_int_equal(user_version(db), 0);
	sqlite3_close(db);
}

static void test_migrate_file_reopen(void **state)
{
	char path[] = "/tmp/crm-test-tables-XXXXXX";
	char dbpath[64];
	int fd = mkstemp(path);
	sqlite3 *db = NULL;
	int from = -1;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	snprintf(dbpath, sizeof dbpath, "%s", path);
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(schema_migrate(db, &from, NULL), CRM_OK);
	assert_int_equal(from, 0);
	sqlite3_close(db);
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(schema_migrate(db, &from, NULL), CRM_OK);
	assert_int_equal(from, schema_version()); /* the version was committed to disk */
	sqlite3_close(db);
	unlink(dbpath);
}

/* The whole file, malloc()ed; *n gets its size. */
static unsigned char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long size;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size > 0);
	rewind(f);
	buf = malloc((size_t)size);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	*n = (size_t)size;
	return buf;
}

/* A newer database on disk: refused, and not one byte of the file changes. */
static void test_migrate_newer_file_untouched(void **state)
{
	char path[] = "/tmp/crm-test-tables-XXXXXX";
	int fd = mkstemp(path);
	sqlite3 *db = NULL;
	char sql[64];
	unsigned char *before, *after;
	size_t nb, na;
	struct crm_error err = {0};

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(schema_migrate(db, NULL, NULL), CRM_OK);
	assert_int_equal(sqlite3_exec(db,
				      "INSERT INTO customers(id, name) VALUES ('" UUID "', '华信')",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", schema_version() + 5);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	before = slurp(path, &nb);

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(schema_migrate(db, NULL, &err), CRM_EVERSION);
	sqlite3_close(db);
	after = slurp(path, &na);
	assert_int_equal(na, nb);
	assert_memory_equal(before, after, nb);
	free(before);
	free(after);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metadata),
		cmocka_unit_test(test_parse_text_and_enum),
		cmocka_unit_test(test_parse_rules),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_check_text_controls),
		cmocka_unit_test(test_parse_then_check),
		cmocka_unit_test(test_money_bounds),
		cmocka_unit_test(test_migration_list),
		cmocka_unit_test(test_migrate_fresh_and_again),
		cmocka_unit_test(test_migrate_refuses_newer),
		cmocka_unit_test(test_migrate_failure_is_atomic),
		cmocka_unit_test(test_migrate_in_callers_transaction),
		cmocka_unit_test(test_migrate_file_reopen),
		cmocka_unit_test(test_migrate_newer_file_untouched),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
