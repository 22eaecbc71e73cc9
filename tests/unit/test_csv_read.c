/* Unit tests for schema/csv_read.c, the CSV reader of both importers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "csv_read.h"

struct seen {
	long lines[8];
	char first[8][32];
	size_t n[8];
	bool bad_utf8[8], too_many[8];
	size_t count;
	size_t stop_at; /* fail on this record (1-based), 0 never */
};

static enum crm_err collect(void *ctx, const struct csv_record *rec, struct crm_error *err)
{
	struct seen *s = ctx;

	if (s->count < 8) {
		s->lines[s->count] = rec->line;
		snprintf(s->first[s->count], sizeof s->first[0], "%s", rec->n ? rec->fields[0] : "");
		s->n[s->count] = rec->n;
		s->bad_utf8[s->count] = rec->bad_utf8;
		s->too_many[s->count] = rec->too_many;
	}
	s->count++;
	if (s->stop_at && s->count == s->stop_at)
		return crm_fail(err, CRM_EINVAL, "stopped at line %ld", rec->line);
	return CRM_OK;
}

static enum crm_err read_text(const char *text, struct seen *s, struct crm_error *err)
{
	FILE *f = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	enum crm_err rc;

	assert_non_null(f);
	rc = csv_read(f, collect, s, err);
	fclose(f);
	return rc;
}

static void test_records_and_lines(void **state)
{
	struct seen s = {0};
	struct crm_error err = {0};

	(void)state;
	/* Excel: BOM before a quoted header, CRLF, a blank line, a quoted line break */
	assert_int_equal(read_text("\xef\xbb\xbf\"name\",city\r\n\r\n华信,深圳\r\n\"two\nlines\",x\r\nlast,y",
				   &s, &err), CRM_OK);
	assert_int_equal(s.count, 4);
	assert_string_equal(s.first[0], "name");
	assert_int_equal(s.lines[0], 1);
	assert_string_equal(s.first[1], "华信");
	assert_int_equal(s.lines[1], 3);
	assert_string_equal(s.first[2], "two\nlines");
	assert_int_equal(s.lines[2], 4);
	assert_int_equal(s.lines[3], 6);
	assert_int_equal(s.n[3], 2);
	assert_false(s.bad_utf8[1]);
}

static void test_flags(void **state)
{
	struct seen s = {0};
	struct crm_error err = {0};
	char wide[CSV_READ_MAX_FIELDS * 2 + 8];
	size_t k = 0;

	(void)state;
	assert_int_equal(read_text("name\nbad\xff\n", &s, &err), CRM_OK);
	assert_true(s.bad_utf8[1]);
	for (int i = 0; i <= CSV_READ_MAX_FIELDS; i++) {
		wide[k++] = 'a';
		wide[k++] = ',';
	}
	wide[k - 1] = '\n';
	wide[k] = '\0';
	memset(&s, 0, sizeof s);
	assert_int_equal(read_text(wide, &s, &err), CRM_OK);
	assert_true(s.too_many[0]);
	assert_int_equal(s.n[0], CSV_READ_MAX_FIELDS);
}

static void test_errors(void **state)
{
	struct seen s = {0};
	struct crm_error err = {0};

	(void)state;
	assert_int_equal(read_text("", &s, &err), CRM_EFORMAT);
	assert_non_null(strstr(err.msg, "the file is empty"));
	memset(&s, 0, sizeof s);
	assert_int_equal(read_text("name\nab\"c,d\n", &s, &err), CRM_EFORMAT);
	assert_non_null(strstr(err.msg, "line 2: malformed CSV, a stray quote"));
	memset(&s, 0, sizeof s);
	assert_int_equal(read_text("name\nok\n\"unclosed,x\n", &s, &err), CRM_EFORMAT);
	assert_non_null(strstr(err.msg, "line 3: a quoted field runs to the end of the file"));
	/* the callback's error stops the reading and comes back as is */
	memset(&s, 0, sizeof s);
	s.stop_at = 2;
	assert_int_equal(read_text("name\na\nb\nc\n", &s, &err), CRM_EINVAL);
	assert_int_equal(s.count, 2);
	assert_string_equal(err.msg, "stopped at line 2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_and_lines),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
