/*
 * Unit tests for client/cli.c (option parsing from the table metadata),
 * client/entry.c (flag text to typed values, defaults, required columns) and
 * client/csvio.c (CSV import line numbers, refusals, header checks; export
 * that reads back), the last two over a real temporary replica.
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

#include "cli.h"
#include "csvio.h"
#include "entry.h"
#include "replica.h"
#include "rows.h"

/* A writable argv (string literals are const with -Wwrite-strings). */
struct argv {
	int argc;
	char *v[24];
};

static struct argv *mk(const char *first, ...)
{
	struct argv *a = calloc(1, sizeof *a);
	va_list ap;

	assert_non_null(a);
	va_start(ap, first);
	for (const char *s = first; s && a->argc < 23; s = va_arg(ap, const char *)) {
		a->v[a->argc] = strdup(s);
		assert_non_null(a->v[a->argc]);
		a->argc++;
	}
	va_end(ap);
	return a;
}

static void freeargv(struct argv *a)
{
	for (int i = 0; i < a->argc; i++)
		free(a->v[i]);
	free(a);
}

static const struct schema_table *table(const char *name)
{
	const struct schema_table *t = schema_table_find(name);

	assert_non_null(t);
	return t;
}

static const char *col(const struct cli_args *a, const char *name)
{
	return a->cols[row_col(a->t, name)];
}

static void test_parse_columns(void **state)
{
	static const struct cli_extra extras[] = {{"format", "F", "x"}, {"skip-bad", NULL, "y"},
						  {NULL, NULL, NULL}};
	struct argv *v = mk("add", "华信", "--name", "深圳市华信科技有限公司", "--ext-ref=ERP-1",
			    "--city", "", "--json", "--format", "csv", "--skip-bad", "--", "--name", NULL);
	struct cli_args a;
	struct crm_error err;

	(void)state;
	assert_int_equal(cli_parse(v->argc, v->v, 1, table("customers"),
				   CLI_COLUMNS | CLI_JSON, extras, &a, &err), CRM_OK);
	assert_string_equal(col(&a, "name"), "深圳市华信科技有限公司");
	assert_string_equal(col(&a, "ext_ref"), "ERP-1");
	assert_string_equal(col(&a, "city"), "");      /* given empty: clears */
	assert_null(col(&a, "phone"));
	assert_true(a.json);
	assert_string_equal(a.extra[0], "csv");
	assert_string_equal(a.extra[1], "");
	assert_int_equal(a.npos, 2);                    /* "华信" and, after --, "--name" */
	assert_string_equal(a.pos[0], "华信");
	assert_string_equal(a.pos[1], "--name");
	assert_int_equal(a.limit, -1);
	cli_args_release(&a);
	freeargv(v);
}

static void test_parse_aliases_and_common(void **state)
{
	struct argv *v = mk("add", "--at", "2026-11-20 10:00", "--next", "+3d", "--customer", "ACME",
			    NULL);
	struct argv *v2 = mk("list", "--limit", "7", "--deleted", NULL);
	struct cli_args a;
	struct crm_error err;

	(void)state;
	assert_int_equal(cli_parse(v->argc, v->v, 1, table("activities"), CLI_COLUMNS | CLI_CUSTOMER,
				   NULL, &a, &err), CRM_OK);
	assert_string_equal(col(&a, "occurred_at"), "2026-11-20 10:00");
	assert_string_equal(col(&a, "next_at"), "+3d");
	assert_string_equal(a.customer, "ACME");
	cli_args_release(&a);
	assert_int_equal(cli_parse(v2->argc, v2->v, 1, NULL, CLI_LIMIT | CLI_DELETED, NULL, &a, &err),
			 CRM_OK);
	assert_int_equal(a.limit, 7);
	assert_true(a.deleted);
	cli_args_release(&a);
	freeargv(v);
	freeargv(v2);
}

/* Parses v (freed here) and expects code with msg in the message. */
static void expect_usage(struct argv *v, const struct schema_table *t, unsigned accept,
			 enum crm_err code, const char *msg)
{
	struct cli_args a;
	struct crm_error err;

	crm_error_clear(&err);
	assert_int_equal(cli_parse(v->argc, v->v, 1, t, accept, NULL, &a, &err), code);
	assert_non_null(strstr(err.msg, msg));
	assert_int_equal(cli_status(code), code == CRM_EUSAGE ? 2 : 1);
	cli_args_release(&a);
	freeargv(v);
}

static void test_parse_refusals(void **state)
{
	const struct schema_table *c = table("customers");
	const unsigned cols = CLI_COLUMNS | CLI_JSON;

	(void)state;
	expect_usage(mk("add", "--colour", "red", NULL), c, cols, CRM_EUSAGE, "unknown option --colour");
	expect_usage(mk("add", "--name", NULL), c, cols, CRM_EUSAGE, "--name needs a value");
	expect_usage(mk("add", "--owner", "bob", NULL), c, cols, CRM_EUSAGE, "kept by the server");
	expect_usage(mk("add", "--id", "x", NULL), c, cols, CRM_EUSAGE, "kept by the program");
	expect_usage(mk("add", "--deleted", "1", NULL), c, cols, CRM_EUSAGE, "kept by the program");
	expect_usage(mk("add", "--customer-id", "x", NULL), table("contacts"), cols, CRM_EUSAGE,
		     "name the customer");
	expect_usage(mk("add", "-x", NULL), c, cols, CRM_EUSAGE, "unknown option -x");
	expect_usage(mk("list", "--limit", "-1", NULL), NULL, CLI_LIMIT, CRM_EUSAGE, "--limit \"-1\"");
	expect_usage(mk("list", "--limit", "5x", NULL), NULL, CLI_LIMIT, CRM_EUSAGE, "--limit");
	/* Column flags only where the command takes them. */
	expect_usage(mk("list", "--name", "x", NULL), c, CLI_LIMIT, CRM_EUSAGE, "unknown option --name");
	expect_usage(mk("add", "--name", "bad\xff", NULL), c, cols, CRM_EUTF8, "not valid UTF-8");
	expect_usage(mk("add", "\xc3\x28", NULL), c, cols, CRM_EUTF8, "not valid UTF-8");
}

static void test_flag_name_and_help(void **state)
{
	char name[32];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	cli_flag_name("ext_ref", name, sizeof name);
	assert_string_equal(name, "ext-ref");
	cli_flag_name("expected_close", name, 6);
	assert_string_equal(name, "expec");
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	cli_help(f, "crm activity add ...", "Logs.", table("activities"),
		 CLI_COLUMNS | CLI_JSON | CLI_NEW, NULL, NULL);
	fclose(f);
	assert_non_null(strstr(buf, "--next-step TEXT"));
	assert_non_null(strstr(buf, "--occurred-at, --at TIME"));
	assert_non_null(strstr(buf, "[required]"));
	assert_null(strstr(buf, "--author"));   /* system column */
	assert_null(strstr(buf, "--customer-id"));
	free(buf);
	/* Without CLI_NEW (list, edit, stage) no column is required. */
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	cli_help(f, "crm activity list ...", "Lists.", table("activities"), CLI_COLUMNS | CLI_JSON,
		 NULL, NULL);
	fclose(f);
	assert_non_null(strstr(buf, "--kind VALUE"));
	assert_null(strstr(buf, "[required]"));
	free(buf);
}

/* ---- entry ----------------------------------------------------------- */

static void test_entry(void **state)
{
	struct argv *v = mk("add", "--title", "框架合同", "--amount", "500 USD", "--expected-close",
			    "2026-12-31", NULL);
	struct argv *v2 = mk("add", "--title", "x", "--amount", "¥12,000.50", "--currency", "eur",
			     NULL);
	struct cli_args a;
	struct row r;
	struct crm_error err;

	(void)state;
	assert_int_equal(cli_parse(v->argc, v->v, 1, table("deals"), CLI_COLUMNS, NULL, &a, &err),
			 CRM_OK);
	assert_int_equal(row_new(&r, table("deals")), CRM_OK);
	assert_int_equal(entry_apply(&a, &r, NULL, &err), CRM_OK);
	assert_int_equal(row_get(&r, "amount")->i, 50000);
	assert_string_equal(row_text(&r, "currency"), "USD");
	assert_string_equal(row_text(&r, "expected_close"), "2026-12-31");
	/* Defaults, then the missing customer is the one thing required. */
	assert_int_equal(entry_finish_new(&r, true, &err), CRM_EUSAGE);
	assert_non_null(strstr(err.msg, "which customer"));
	assert_string_equal(row_text(&r, "stage"), "lead");
	assert_int_equal(entry_finish_new(&r, false, &err), CRM_EINVAL);
	assert_non_null(strstr(err.msg, "customer_id: a value is required"));
	row_release(&r);
	cli_args_release(&a);

	/* --currency wins over the one named in the amount. */
	assert_int_equal(cli_parse(v2->argc, v2->v, 1, table("deals"), CLI_COLUMNS, NULL, &a, &err),
			 CRM_OK);
	assert_int_equal(row_new(&r, table("deals")), CRM_OK);
	assert_int_equal(entry_apply(&a, &r, NULL, &err), CRM_OK);
	assert_int_equal(row_get(&r, "amount")->i, 1200050);
	assert_string_equal(row_text(&r, "currency"), "EUR");
	row_release(&r);
	cli_args_release(&a);

	/* Errors name the column and the value. */
	assert_int_equal(row_new(&r, table("customers")), CRM_OK);
	assert_int_equal(entry_put(&r, "phone", "12345", NULL, NULL, &err), CRM_EINVAL);
	assert_non_null(strstr(err.msg, "phone \"12345\""));
	assert_int_equal(entry_put(&r, "phone", "０７５５－８８８８ ６６６６", NULL, NULL, &err), CRM_OK);
	assert_string_equal(row_text(&r, "phone"), "+8675588886666");
	assert_int_equal(entry_finish_new(&r, true, &err), CRM_EUSAGE);
	assert_non_null(strstr(err.msg, "--name is required"));
	row_release(&r);
	freeargv(v);
	freeargv(v2);
}

/* ---- csvio ----------------------------------------------------------- */

struct db {
	char dir[64], path[128];
	struct replica rep;
};

static int db_setup(void **state)
{
	struct db *d = calloc(1, sizeof *d);
	struct crm_error err;

	assert_non_null(d);
	snprintf(d->dir, sizeof d->dir, "/tmp/crm-cli-XXXXXX");
	assert_non_null(mkdtemp(d->dir));
	snprintf(d->path, sizeof d->path, "%s/replica.db", d->dir);
	assert_int_equal(replica_open(d->path, &d->rep, &err), CRM_OK);
	*state = d;
	return 0;
}

static int db_teardown(void **state)
{
	struct db *d = *state;
	char p[160];

	replica_close(&d->rep);
	unlink(d->path);
	snprintf(p, sizeof p, "%s-wal", d->path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", d->path);
	unlink(p);
	rmdir(d->dir);
	free(d);
	return 0;
}

static enum crm_err import(struct db *d, const char *table_name, const char *text,
			   struct csvio_report *rep, struct crm_error *err)
{
	struct csvio_options opt = {false, NULL, NULL, NULL};
	FILE *in = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	enum crm_err rc;

	assert_non_null(in);
	assert_int_equal(replica_begin(&d->rep, err), CRM_OK);
	rc = csvio_import(d->rep.db, table(table_name), in, &opt, rep, err);
	if (rc == CRM_OK)
		assert_int_equal(replica_commit(&d->rep, err), CRM_OK);
	else
		replica_rollback(&d->rep);
	fclose(in);
	return rc;
}

static long count(struct db *d, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long n = -1;

	assert_int_equal(sqlite3_prepare_v2(d->rep.db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_csv_lines(void **state)
{
	struct db *d = *state;
	struct csvio_report rep;
	struct crm_error err;
	/* line 1 header (with a BOM); 2 good; 3-4 one record with a line break;
	 * 5 blank; 6 bad phone; 7 duplicate of line 2's phone; 8 good without newline */
	const char *csv = "\xef\xbb\xbfname,phone,notes\r\n"
			  "深圳市华信科技有限公司,138 0013 8000,\r\n"
			  "\"Globex,\nInc.\",,\"say \"\"hi\"\"\"\r\n"
			  "\r\n"
			  "Bad,12345,\r\n"
			  "Dup,+86 138 0013 8000,\r\n"
			  "ACME Trading,,";

	assert_int_equal(import(d, "customers", csv, &rep, &err), CRM_OK);
	assert_int_equal(rep.imported, 3);
	assert_int_equal(rep.refused, 2);
	assert_int_equal(rep.list[0].line, 6);
	assert_non_null(strstr(rep.list[0].reason, "phone \"12345\""));
	assert_int_equal(rep.list[1].line, 7);
	/* The duplicate is of a row of this very file: its line is named. */
	assert_non_null(strstr(rep.list[1].reason, "phone +8613800138000 is also on line 2 "
						   "(深圳市华信科技有限公司)"));
	csvio_report_release(&rep);
	assert_int_equal(count(d, "SELECT count(*) FROM customers"), 3);
	assert_int_equal(count(d, "SELECT count(*) FROM customers WHERE name = 'Globex,\nInc.' "
				  "AND notes = 'say \"hi\"'"), 1);
}

static void test_csv_header_and_format(void **state)
{
	struct db *d = *state;
	struct csvio_report rep;
	struct crm_error err;

	assert_int_equal(import(d, "customers", "name,colour\nx,red\n", &rep, &err), CRM_EFORMAT);
	assert_non_null(strstr(err.msg, "unknown column \"colour\""));
	csvio_report_release(&rep);
	assert_int_equal(import(d, "customers", "name,name\nx,y\n", &rep, &err), CRM_EFORMAT);
	assert_non_null(strstr(err.msg, "appears twice"));
	csvio_report_release(&rep);
	assert_int_equal(import(d, "customers", "name\n\"open\n", &rep, &err), CRM_EFORMAT);
	assert_non_null(strstr(err.msg, "line 2: a quoted field runs to the end of the file"));
	assert_null(strstr(err.msg, "strict")); /* no libcsv internals */
	csvio_report_release(&rep);
	assert_int_equal(import(d, "customers", "name\nx\"y\n", &rep, &err), CRM_EFORMAT);
	assert_non_null(strstr(err.msg, "line 2: malformed CSV, a stray quote"));
	assert_null(strstr(err.msg, "strict"));
	csvio_report_release(&rep);
	assert_int_equal(import(d, "customers", "", &rep, &err), CRM_EFORMAT);
	assert_non_null(strstr(err.msg, "empty"));
	csvio_report_release(&rep);
	/* Wrong field count and invalid UTF-8 are refused rows, not fatal. */
	assert_int_equal(import(d, "customers", "name,city\na\nb,c,d\n\xff,x\nok,y\n", &rep, &err),
			 CRM_OK);
	assert_int_equal(rep.imported, 1);
	assert_int_equal(rep.refused, 3);
	assert_int_equal(rep.list[0].line, 2);
	assert_int_equal(rep.list[1].line, 3);
	assert_int_equal(rep.list[2].line, 4);
	assert_non_null(strstr(rep.list[2].reason, "UTF-8"));
	csvio_report_release(&rep);
	assert_int_equal(count(d, "SELECT count(*) FROM customers"), 1);
}

static void test_csv_children_and_export(void **state)
{
	struct db *d = *state;
	struct csvio_report rep;
	struct crm_error err;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(import(d, "customers", "name,ext_ref\n华信,ERP-1\n", &rep, &err), CRM_OK);
	csvio_report_release(&rep);
	assert_int_equal(import(d, "orders",
				"customer_ext_ref,amount,ordered_at,note\n"
				"ERP-1,\"12,000.50\",2026-11-20T02:00:00Z,首批\n"
				"ERP-2,5,,nobody\n"
				"ERP-1,-20 USD,,refund\n", &rep, &err), CRM_OK);
	assert_int_equal(rep.imported, 2);
	assert_int_equal(rep.refused, 1);
	assert_int_equal(rep.list[0].line, 3);
	csvio_report_release(&rep);
	assert_int_equal(count(d, "SELECT sum(amount) FROM orders"), 1200050 - 2000);
	assert_int_equal(count(d, "SELECT count(*) FROM orders WHERE currency = 'USD'"), 1);

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(csvio_export_csv(d->rep.db, table("orders"), false, f, &err), CRM_OK);
	fclose(f);
	assert_non_null(strstr(buf, "id,created_at,updated_at,deleted,customer_id,amount,currency,"
				    "ordered_at,note\r\n"));
	assert_non_null(strstr(buf, "\"12000.50\",\"CNY\",\"2026-11-20T02:00:00.000Z\",\"首批\""));
	assert_non_null(strstr(buf, "\"-20.00\",\"USD\""));
	/* Read back into the same table: every id is already there. */
	assert_int_equal(import(d, "orders", buf, &rep, &err), CRM_OK);
	assert_int_equal(rep.imported, 0);
	assert_int_equal(rep.refused, 2);
	assert_non_null(strstr(rep.list[0].reason, "already in the replica"));
	csvio_report_release(&rep);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_columns),
		cmocka_unit_test(test_parse_aliases_and_common),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_flag_name_and_help),
		cmocka_unit_test(test_entry),
		cmocka_unit_test_setup_teardown(test_csv_lines, db_setup, db_teardown),
		cmocka_unit_test_setup_teardown(test_csv_header_and_format, db_setup, db_teardown),
		cmocka_unit_test_setup_teardown(test_csv_children_and_export, db_setup, db_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
