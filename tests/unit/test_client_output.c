/*
 * Unit tests for client/output.c: display widths with CJK, truncation with
 * "…" at character boundaries, aligned tables, money and JSON rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crm_utf8.h"
#include "output.h"

static void test_fit_ascii(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(out_fit("ACME Trading", 20, out, sizeof out), 12);
	assert_string_equal(out, "ACME Trading");
	assert_int_equal(out_fit("ACME Trading", 6, out, sizeof out), 6);
	assert_string_equal(out, "ACME \xe2\x80\xa6");
	assert_int_equal(out_fit("abc", 0, out, sizeof out), 0);
	assert_string_equal(out, "");
}

static void test_fit_cjk(void **state)
{
	char out[64];
	size_t w;

	(void)state;
	/* 11 characters, 22 columns. */
	assert_int_equal(crm_utf8_width("深圳市华信科技有限公司"), 22);
	w = out_fit("深圳市华信科技有限公司", 22, out, sizeof out);
	assert_int_equal(w, 22);
	assert_string_equal(out, "深圳市华信科技有限公司");
	/* 9 columns: 4 characters (8) + "…" (1); never half a character. */
	w = out_fit("深圳市华信科技有限公司", 9, out, sizeof out);
	assert_string_equal(out, "深圳市华\xe2\x80\xa6");
	assert_int_equal(w, 9);
	/* 8 columns: 3 characters + "…" = 7, one column short rather than split. */
	w = out_fit("深圳市华信科技有限公司", 8, out, sizeof out);
	assert_string_equal(out, "深圳市\xe2\x80\xa6");
	assert_int_equal(w, 7);
	/* A buffer too small for the whole text still gets a valid prefix. */
	w = out_fit("深圳市华信科技有限公司", 40, out, 10);
	assert_true(strlen(out) < 10);
	assert_true(crm_utf8_valid(out, strlen(out)));
}

/* Renders a table to a string (caller frees). */
static char *render(const struct out_table *t, size_t max)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	out_table_print(t, f, max);
	fclose(f);
	return buf;
}

/* Display column where needle starts on the line of text containing key. */
static size_t col_of(const char *text, const char *key, const char *needle)
{
	const char *line = strstr(text, key);
	const char *end, *at;
	char prefix[512];

	assert_non_null(line);
	while (line > text && line[-1] != '\n')
		line--;
	end = strchr(line, '\n');
	at = strstr(line, needle);
	assert_non_null(at);
	assert_true(!end || at < end);
	assert_true((size_t)(at - line) < sizeof prefix);
	memcpy(prefix, line, (size_t)(at - line));
	prefix[at - line] = '\0';
	return crm_utf8_width(prefix);
}

static void test_table_aligns_cjk(void **state)
{
	static const char *const head[] = {"name", "city", "amount"};
	static const char *const r1[] = {"深圳市华信科技有限公司", "深圳", "120,000.00 CNY"};
	static const char *const r2[] = {"ACME Trading", "London", "5.00 USD"};
	struct out_table t;
	char *s;

	(void)state;
	assert_int_equal(out_table_init(&t, 3, head), CRM_OK);
	out_table_align_right(&t, 2);
	assert_int_equal(out_table_add(&t, r1), CRM_OK);
	assert_int_equal(out_table_add(&t, r2), CRM_OK);
	s = render(&t, 40);
	/* The second column starts at the same display column on every line. */
	assert_int_equal(col_of(s, "name", "city"), 24);
	assert_int_equal(col_of(s, "深圳市", "深圳  "), 24);
	assert_int_equal(col_of(s, "ACME", "London"), 24);
	/* Right-aligned money ends at the same column. */
	assert_int_equal(col_of(s, "ACME", "5.00 USD") + 8, col_of(s, "深圳市", "120,000.00 CNY") + 14);
	free(s);
	out_table_release(&t);
}

static void test_table_truncates_and_flattens(void **state)
{
	static const char *const head[] = {"note", "id"};
	static const char *const r1[] = {"第一行\n第二行\t很长很长很长很长很长的备注", "x1"};
	struct out_table t;
	char *s;

	(void)state;
	assert_int_equal(out_table_init(&t, 2, head), CRM_OK);
	assert_int_equal(out_table_add(&t, r1), CRM_OK);
	s = render(&t, 10);
	/* header + rule + one row: the newline in the cell did not add a line. */
	{
		size_t lines = 0;

		for (const char *p = s; *p; p++)
			lines += *p == '\n';
		assert_int_equal(lines, 3);
	}
	assert_non_null(strstr(s, "第一行 第\xe2\x80\xa6"));
	assert_int_equal(col_of(s, "第一行", "x1"), 12);
	free(s);
	out_table_release(&t);
}

static void test_table_leaves_out_empty_columns(void **state)
{
	static const char *const head[] = {"due", "", "title"};
	static const char *const r1[] = {"2026-11-24 09:00", "", "报价"};
	struct out_table t;
	char *s;

	(void)state;
	assert_int_equal(out_table_init(&t, 3, head), CRM_OK);
	assert_int_equal(out_table_add(&t, r1), CRM_OK);
	s = render(&t, 40);
	assert_string_equal(s, "due               title\n"
			       "----------------  -----\n"
			       "2026-11-24 09:00  报价\n");
	free(s);
	out_table_release(&t);
}

static void test_table_no_trailing_blanks(void **state)
{
	static const char *const head[] = {"kind", "note", "follow up"};
	static const char *const r1[] = {"visit", "上门拜访", ""};
	static const char *const r2[] = {"call", "", ""};
	static const char *const r3[] = {"visit", "报价", "2026-11-27"};
	struct out_table t;
	char *s;

	(void)state;
	assert_int_equal(out_table_init(&t, 3, head), CRM_OK);
	assert_int_equal(out_table_add(&t, r1), CRM_OK);
	assert_int_equal(out_table_add(&t, r2), CRM_OK);
	assert_int_equal(out_table_add(&t, r3), CRM_OK);
	s = render(&t, 40);
	/* Rows whose last cells are empty end at their last value. */
	assert_string_equal(s, "kind   note      follow up\n"
			       "-----  --------  ----------\n"
			       "visit  上门拜访\n"
			       "call\n"
			       "visit  报价      2026-11-27\n");
	free(s);
	out_table_release(&t);
}

static void test_json_print(void **state)
{
	cJSON *arr = cJSON_CreateArray();
	cJSON *o = cJSON_CreateObject();
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_non_null(arr);
	assert_non_null(o);
	cJSON_AddStringToObject(o, "name", "华信 \"A\"\\\n\x01");
	cJSON_AddNumberToObject(o, "amount", 1200050);
	cJSON_AddNumberToObject(o, "latitude", 22.54);
	cJSON_AddNullToObject(o, "email");
	cJSON_AddItemToObject(o, "tasks", cJSON_CreateArray());
	cJSON_AddItemToArray(arr, o);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(out_json_print(arr, f), CRM_OK);
	fclose(f);
	assert_string_equal(buf, "[\n"
			       "  {\n"
			       "    \"name\": \"华信 \\\"A\\\"\\\\\\n\\u0001\",\n"
			       "    \"amount\": 1200050,\n"
			       "    \"latitude\": 22.54,\n"
			       "    \"email\": null,\n"
			       "    \"tasks\": []\n"
			       "  }\n"
			       "]\n");
	free(buf);
	cJSON_Delete(arr);
}

static void test_money(void **state)
{
	char out[64];

	(void)state;
	out_money(1200050, "CNY", out, sizeof out);
	assert_string_equal(out, "12,000.50 CNY");
	out_money(12345678901, "USD", out, sizeof out);
	assert_string_equal(out, "123,456,789.01 USD");
	out_money(-2000, NULL, out, sizeof out);
	assert_string_equal(out, "-20.00");
	out_money(5, "", out, sizeof out);
	assert_string_equal(out, "0.05");
	out_money(INT64_MIN, "CNY", out, sizeof out);
	assert_string_equal(out, "-92,233,720,368,547,758.08 CNY");
}

static void test_row_json(void **state)
{
	const struct schema_table *t = schema_table_find("orders");
	struct schema_value *v = calloc(t->ncols, sizeof *v);
	cJSON *o;
	char *s;

	(void)state;
	assert_non_null(v);
	for (size_t i = 0; i < t->ncols; i++) {
		const char *n = t->cols[i].name;

		if (strcmp(n, "id") == 0) {
			v[i].type = SV_TEXT;
			v[i].s = strdup("0190c3e2-0000-7000-8000-000000000001");
		} else if (strcmp(n, "ordered_at") == 0 || strcmp(n, "created_at") == 0) {
			v[i].type = SV_INT;
			v[i].i = 1795478400000; /* 2026-11-24T00:00:00Z */
		} else if (strcmp(n, "amount") == 0) {
			v[i].type = SV_INT;
			v[i].i = 1200050;
		} else if (strcmp(n, "note") == 0) {
			v[i].type = SV_TEXT;
			v[i].s = strdup("首批样品");
		}
	}
	o = out_row_json(t, v);
	assert_non_null(o);
	assert_string_equal(cJSON_GetObjectItem(o, "id")->valuestring, "0190c3e2-0000-7000-8000-000000000001");
	assert_string_equal(cJSON_GetObjectItem(o, "ordered_at")->valuestring, "2026-11-24T00:00:00.000Z");
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(o, "amount")));
	assert_int_equal((int64_t)cJSON_GetObjectItem(o, "amount")->valuedouble, 1200050);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "currency")));
	assert_string_equal(cJSON_GetObjectItem(o, "note")->valuestring, "首批样品");
	assert_int_equal(cJSON_GetArraySize(o), (int)t->ncols);
	s = cJSON_PrintUnformatted(o);
	assert_non_null(s);
	cJSON_free(s);
	cJSON_Delete(o);
	for (size_t i = 0; i < t->ncols; i++)
		schema_value_release(&v[i]);
	free(v);
}

static void test_value_for_people(void **state)
{
	const struct schema_table *t = schema_table_find("deals");
	struct schema_value amount = {SV_INT, 12000000, 0, NULL};
	struct schema_value null = {SV_NULL, 0, 0, NULL};
	char out[64];

	(void)state;
	out_value(schema_column_find(t, "amount"), &amount, "CNY", out, sizeof out);
	assert_string_equal(out, "120,000.00 CNY");
	out_value(schema_column_find(t, "title"), &null, NULL, out, sizeof out);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fit_ascii),
		cmocka_unit_test(test_fit_cjk),
		cmocka_unit_test(test_table_aligns_cjk),
		cmocka_unit_test(test_table_truncates_and_flattens),
		cmocka_unit_test(test_table_leaves_out_empty_columns),
		cmocka_unit_test(test_table_no_trailing_blanks),
		cmocka_unit_test(test_json_print),
		cmocka_unit_test(test_money),
		cmocka_unit_test(test_row_json),
		cmocka_unit_test(test_value_for_people),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
