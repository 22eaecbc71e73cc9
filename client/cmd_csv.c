/* `crm import TABLE FILE.csv` and `crm export TABLE --format csv|json`. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "csvio.h"
#include "output.h"
#include "replica.h"

#define MAX_REPORTED 100

static const char *const table_list = "customers, contacts, activities, deals, orders, tasks";

static void progress(void *ctx, size_t rows)
{
	(void)ctx;
	fprintf(stderr, "\rcrm: import: %zu rows read...", rows);
	fflush(stderr);
}

static enum crm_err find_table(const char *name, const struct schema_table **t,
			       struct crm_error *err)
{
	*t = schema_table_find(name);
	if (!*t)
		return crm_fail(err, CRM_EUSAGE, "unknown table \"%s\": one of %s", name, table_list);
	return CRM_OK;
}

int cmd_import(int argc, char **argv, struct cli_ctx *ctx)
{
	static const char *const examples[] = {
		"crm import customers customers.csv",
		"crm import activities visits.csv --skip-bad",
		"",
		"customers.csv (UTF-8, first line = column names):",
		"  name,phone,email,city,ext_ref",
		"  深圳市华信科技有限公司,138 0013 8000,,深圳,ERP-0012",
		"  ACME Trading,+44 20 7946 0958,sales@acme.example,London,ERP-0013",
		"visits.csv (name the customer by customer_id or customer_ext_ref):",
		"  customer_ext_ref,kind,occurred_at,note",
		"  ERP-0012,visit,2026-11-20 10:00,介绍新产品", NULL};
	static const struct cli_extra extras[] = {
		{"skip-bad", NULL, "import the good rows and report the refused ones "
				   "(default: all or nothing)"},
		{NULL, NULL, NULL}};
	const unsigned accept = CLI_JSON | CLI_FORCE;
	const char *usage = "crm import TABLE FILE.csv [--skip-bad] [--force] [--json]";
	struct cli_args a;
	struct replica rep = {0};
	struct csvio_report report = {0};
	struct csvio_options opt = {false, NULL, NULL, NULL};
	const struct schema_table *t = NULL;
	struct crm_error err;
	char *user = NULL;
	FILE *in = NULL;
	const char *file = NULL;
	bool skip_bad, json;
	enum crm_err rc;
	int status = 0;

	crm_error_clear(&err);
	rc = cli_parse(argc, argv, 1, NULL, accept, extras, &a, &err);
	if (rc == CRM_OK && a.help) {
		cli_help(stdout, usage, "Imports rows from a CSV file (RFC 4180, UTF-8, a BOM is fine) "
			 "whose first line names the columns (see `crm export TABLE` for them). "
			 "Values go through the same checks as the flags. All or nothing unless "
			 "--skip-bad; every refused row is reported with its line number.",
			 NULL, accept, extras, examples);
		goto out;
	}
	if (rc == CRM_OK && a.npos != 2)
		rc = crm_fail(&err, CRM_EUSAGE, "%s: usage: %s",
			      a.npos < 2 ? "give the table and the file" : "too many arguments", usage);
	if (rc == CRM_OK)
		rc = find_table(a.pos[0], &t, &err);
	skip_bad = a.extra && a.extra[0];
	json = a.json || ctx->json;
	if (rc == CRM_OK) {
		file = a.pos[1];
		in = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
		if (!in)
			rc = crm_fail(&err, CRM_EIO, "cannot open %s: %s", file, strerror(errno));
	}
	if (rc == CRM_OK)
		rc = replica_open(ctx->db_path, &rep, &err);
	if (rc == CRM_OK)
		rc = replica_user(&rep, &user, &err);
	if (rc == CRM_OK)
		rc = replica_begin(&rep, &err);
	if (rc == CRM_OK) {
		opt.force = a.force;
		opt.user = user;
		if (isatty(STDERR_FILENO))
			opt.progress = progress;
		rc = csvio_import(rep.db, t, in, &opt, &report, &err);
		if (opt.progress && report.imported + report.refused >= 5000)
			fputc('\n', stderr);
	}
	if (rc != CRM_OK) {
		char what[600];

		replica_rollback(&rep);
		snprintf(what, sizeof what, "import%s%s", file ? " " : "", file ? file : "");
		status = cli_report(what, &err);
		goto out;
	}
	if (report.ignored[0])
		fprintf(stderr, "crm: import %s: ignored the server-managed column(s) %s\n", file,
			report.ignored);
	for (size_t i = 0; i < report.nlist && i < MAX_REPORTED; i++)
		fprintf(stderr, "crm: import %s: line %ld: %s\n", file, report.list[i].line,
			report.list[i].reason);
	if (report.nlist > MAX_REPORTED)
		fprintf(stderr, "crm: import %s: ... and %zu more refused rows\n", file,
			report.nlist - MAX_REPORTED);
	if (report.refused && !skip_bad) {
		replica_rollback(&rep);
		fprintf(stderr, "crm: import %s: %zu bad row%s, nothing imported: fix %s, or use "
			"--skip-bad to import the good rows\n", file, report.refused,
			report.refused == 1 ? "" : "s", report.refused == 1 ? "it" : "them");
		status = 1;
		goto out;
	}
	rc = replica_finish(&rep, CRM_OK, &err);
	if (rc != CRM_OK) {
		status = cli_report("import", &err);
		goto out;
	}
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON *arr = cJSON_CreateArray();

		cJSON_AddNumberToObject(o, "imported", (double)report.imported);
		cJSON_AddNumberToObject(o, "refused", (double)report.refused);
		for (size_t i = 0; arr && i < report.nlist; i++) {
			cJSON *e = cJSON_CreateObject();

			cJSON_AddNumberToObject(e, "line", (double)report.list[i].line);
			cJSON_AddStringToObject(e, "reason", report.list[i].reason);
			cJSON_AddItemToArray(arr, e);
		}
		cJSON_AddItemToObject(o, "errors", arr);
		out_json_print(o, stdout);
		cJSON_Delete(o);
	} else {
		printf("imported %zu %s, refused %zu\n", report.imported,
		       report.imported == 1 ? t->singular : t->name, report.refused);
	}
out:
	if (in && in != stdin)
		fclose(in);
	free(user);
	csvio_report_release(&report);
	replica_close(&rep);
	cli_args_release(&a);
	return status;
}

int cmd_export(int argc, char **argv, struct cli_ctx *ctx)
{
	static const char *const examples[] = {"crm export customers > customers.csv",
					       "crm export activities --format json",
					       "crm export deals --deleted --format csv", NULL};
	static const struct cli_extra extras[] = {
		{"format", "csv|json", "output format (default csv)"}, {NULL, NULL, NULL}};
	const unsigned accept = CLI_JSON | CLI_DELETED;
	const char *usage = "crm export TABLE [--format csv|json] [--deleted]";
	struct cli_args a;
	struct replica rep = {0};
	const struct schema_table *t = NULL;
	struct crm_error err;
	const char *format = "csv";
	enum crm_err rc;
	int status = 0;

	crm_error_clear(&err);
	rc = cli_parse(argc, argv, 1, NULL, accept, extras, &a, &err);
	if (rc == CRM_OK && a.help) {
		cli_help(stdout, usage, "Writes every column of a table to standard output: CSV "
			 "(header first; times in UTC ISO-8601, money in major units, so "
			 "`crm import` reads it back) or a JSON array.", NULL, accept, extras,
			 examples);
		goto out;
	}
	if (rc == CRM_OK && a.npos != 1)
		rc = crm_fail(&err, CRM_EUSAGE, "%s: usage: %s",
			      a.npos < 1 ? "which table?" : "too many arguments", usage);
	if (rc == CRM_OK)
		rc = find_table(a.pos[0], &t, &err);
	if (rc == CRM_OK && (a.json || ctx->json))
		format = "json";
	if (rc == CRM_OK && a.extra[0])
		format = a.extra[0];
	if (rc == CRM_OK && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0)
		rc = crm_fail(&err, CRM_EUSAGE, "--format \"%s\": use csv or json", format);
	if (rc == CRM_OK)
		rc = replica_open(ctx->db_path, &rep, &err);
	if (rc == CRM_OK)
		rc = strcmp(format, "csv") == 0
			     ? csvio_export_csv(rep.db, t, a.deleted, stdout, &err)
			     : csvio_export_json(rep.db, t, a.deleted, stdout, &err);
	if (rc != CRM_OK)
		status = cli_report("export", &err);
out:
	replica_close(&rep);
	cli_args_release(&a);
	return status;
}
