/* `crm search TEXT`: customers whose name, phones, e-mail, contacts or notes contain TEXT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "output.h"
#include "replica.h"
#include "rows.h"
#include "search.h"
#include "view.h"

#define DEFAULT_LIMIT 50
#define PROGRESS_RECORDS 1000 /* a rebuild of this many documents says so on stderr */

/*
 * The index may wait for its lazy rebuild after a fresh laptop's first pull
 * (client/search.h): build it now, saying so when it is large.
 */
static enum crm_err index_ready(struct replica *rep, struct crm_error *err)
{
	int64_t records = 0;

	if (!search_index_stale(rep, &records))
		return CRM_OK;
	if (records >= PROGRESS_RECORDS) {
		fprintf(stderr, "building the search index for %lld records...\n", (long long)records);
		fflush(stderr);
	}
	return search_index_ensure(rep, NULL, err);
}

int cmd_search(int argc, char **argv, struct cli_ctx *ctx)
{
	static const char *const examples[] = {
		"crm search 华信              (part of a name: finds 深圳市华信科技有限公司)",
		"crm search 00138000          (digits of a phone: finds +86 138 0013 8000)",
		"crm search \"138 0013 8000\"",
		"crm search acme              (case does not matter: finds ACME Trading)",
		"crm search 李娜 --json        (a contact's name)", NULL};
	const unsigned accept = CLI_JSON | CLI_LIMIT | CLI_DELETED;
	const char *usage = "crm search TEXT [--limit N] [--deleted] [--json]";
	struct cli_args a;
	struct replica rep = {0};
	struct search_result res = {0};
	struct crm_error err;
	struct crm_buf q;
	struct out_table t = {0};
	cJSON *arr = NULL;
	enum crm_err rc;
	int status = 0;
	bool json, more = false;
	size_t limit;

	crm_error_clear(&err);
	crm_buf_init(&q, 4096);
	rc = cli_parse(argc, argv, 1, NULL, accept, NULL, &a, &err);
	if (rc == CRM_OK && a.help) {
		cli_help(stdout, usage, "Finds customers by any part of their name, phone, e-mail, "
			 "USCC, ext_ref, city, address, contacts (name, phone, e-mail, WeChat) or "
			 "notes, including activity notes. Deleted customers only with --deleted.",
			 NULL, accept, NULL, examples);
		goto out;
	}
	if (rc == CRM_OK && a.npos == 0)
		rc = crm_fail(&err, CRM_EUSAGE, "what to search for? usage: %s", usage);
	for (size_t i = 0; rc == CRM_OK && i < a.npos; i++) {
		if (i)
			rc = crm_buf_addstr(&q, " ");
		if (rc == CRM_OK)
			rc = crm_buf_addstr(&q, a.pos[i]);
		if (rc != CRM_OK)
			rc = crm_fail(&err, CRM_EUSAGE, "the search text is too long");
	}
	json = a.json || ctx->json;
	limit = (size_t)(a.limit >= 0 ? a.limit : DEFAULT_LIMIT);
	if (rc == CRM_OK)
		rc = replica_open(ctx->db_path, &rep, &err);
	if (rc == CRM_OK)
		rc = index_ready(&rep, &err);
	if (rc == CRM_OK)
		/* One hit more than shown tells whether more match. */
		rc = search_run(rep.db, q.data, a.deleted, limit + 1, &res, &err);
	more = rc == CRM_OK && res.n > limit;
	if (more)
		res.n = limit;
	if (rc != CRM_OK) {
		status = cli_report("search", &err);
		goto out;
	}
	if (json) {
		arr = cJSON_CreateArray();
		for (size_t i = 0; arr && i < res.n; i++) {
			struct row r = {0};
			cJSON *o;

			if (rows_get(rep.db, schema_table_find("customers"), res.hits[i].id, &r, NULL) !=
			    CRM_OK)
				continue;
			o = out_row_json(r.t, r.v);
			row_release(&r);
			if (!o)
				continue;
			cJSON_AddStringToObject(o, "matched", res.hits[i].matched);
			cJSON_AddItemToArray(arr, o);
		}
		if (arr)
			out_json_print(arr, stdout);
		goto out;
	}
	if (res.n == 0 && more) {
		view_more(stdout, 0, "a longer text");
		goto out;
	}
	if (res.n == 0) {
		printf("no customer matches \"%s\"\n", q.data);
		goto out;
	}
	{
		static const char *const heads[] = {"name", "phone", "city", "matched", "id"};

		rc = out_table_init(&t, 5, heads);
		for (size_t i = 0; rc == CRM_OK && i < res.n; i++) {
			struct row r = {0};
			char name[512], phone[64], city[256];
			const char *cells[5];

			if (rows_get(rep.db, schema_table_find("customers"), res.hits[i].id, &r, NULL) !=
			    CRM_OK)
				continue;
			view_cell(rep.db, &r, "name", name, sizeof name);
			view_cell(rep.db, &r, "phone", phone, sizeof phone);
			view_cell(rep.db, &r, "city", city, sizeof city);
			cells[0] = name;
			cells[1] = phone;
			cells[2] = city;
			cells[3] = res.hits[i].matched;
			cells[4] = res.hits[i].id;
			rc = out_table_add(&t, cells);
			row_release(&r);
		}
		out_table_print(&t, stdout, VIEW_MAX_WIDTH);
		if (more)
			view_more(stdout, (long long)limit, "a longer text");
	}
out:
	cJSON_Delete(arr);
	out_table_release(&t);
	search_result_release(&res);
	crm_buf_release(&q);
	replica_close(&rep);
	cli_args_release(&a);
	return status;
}
