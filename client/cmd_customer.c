/*
 * `crm customer add|list|show|edit|delete`: thin front ends over rows.c.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "entry.h"
#include "match_db.h"
#include "output.h"
#include "replica.h"
#include "rows.h"
#include "view.h"

#define DEFAULT_LIMIT 50

static const struct schema_table *customers(void)
{
	return schema_table_find("customers");
}

static const char *const list_cols[] = {"name", "phone", "city", "stage", "tier", "owner", "id", NULL};
static const char *const list_heads[] = {"name", "phone", "city", "stage", "tier", "owner", "id", NULL};

/* The refusal of a customer whose phone, e-mail or USCC another one has. */
static enum crm_err dup_check(struct replica *rep, const struct row *r, struct crm_error *err)
{
	struct rows_dup dup;
	bool found = false;
	enum crm_err rc = rows_find_duplicate(rep->db, r, &found, &dup, err);

	if (rc != CRM_OK || !found)
		return rc;
	return crm_fail(err, CRM_EEXISTS,
			"%s %s already belongs to customer %s (id %s): see it with "
			"`crm customer show %s`, or add --force to keep both",
			dup.col, dup.value, dup.name, dup.id, dup.id);
}

/*
 * Warns (stderr) of customers in the replica that are likely the same one,
 * with the server's scoring (schema/match.h); never blocks the add.
 */
static void warn_similar(struct replica *rep, const struct row *r)
{
	struct match_input in = {0};
	struct match_db_hit hits[5];
	size_t n = 0, i;

	in.kind = row_text(r, "kind");
	in.name = row_text(r, "name");
	in.uscc = row_text(r, "uscc");
	in.id_number = row_text(r, "id_number");
	in.birth_date = row_text(r, "birth_date");
	in.phone = row_text(r, "phone");
	in.email = row_text(r, "email");
	in.address = row_text(r, "address");
	in.city = row_text(r, "city");
	in.region = row_text(r, "region");
	if (match_db_similar(rep->db, &in, row_text(r, "id"), hits, 5, &n, NULL) != CRM_OK)
		return;
	for (i = 0; i < n; i++) {
		char why[256];
		fprintf(stderr, "warning: %s duplicate of customer %s (id %s): %s; see `crm customer "
			"show %s`\n",
			hits[i].verdict.decision == MATCH_MATCH ? "likely a" : "maybe a",
			hits[i].name, hits[i].id,
			match_verdict_reasons(&hits[i].verdict, why, sizeof why), hits[i].id);
	}
}

static int customer_add(int argc, char **argv, struct cli_ctx *ctx)
{
	static const char *const examples[] = {
		"crm customer add --name 深圳市华信科技有限公司 --phone \"138 0013 8000\" \\",
		"    --uscc 91440300MA5DC1WX1K --city 深圳 --industry 电子 --ext-ref ERP-0012",
		"crm customer add --kind person --name 王小明 --phone 13912345678 --city 上海",
		"crm customer add --name \"ACME Trading\" --email Sales@ACME.example --city London",
		NULL};
	const unsigned accept = CLI_COLUMNS | CLI_JSON | CLI_FORCE | CLI_NEW;
	const struct schema_table *t = customers();
	struct cli_args a;
	struct replica rep = {0};
	struct row r = {0};
	struct crm_error err;
	char *user = NULL;
	enum crm_err rc;
	int status = 0;

	crm_error_clear(&err);
	rc = cli_parse(argc, argv, 1, t, accept, NULL, &a, &err);
	if (rc == CRM_OK && a.help) {
		cli_help(stdout, "crm customer add --name NAME [--phone ...] [OPTIONS]",
			 "Adds a customer. Refuses one whose phone, e-mail or USCC another customer "
			 "already has, unless --force.", t, accept, NULL, examples);
		goto out;
	}
	if (rc == CRM_OK && a.npos > 0)
		rc = crm_fail(&err, CRM_EUSAGE, "unexpected argument \"%s\": values go after "
			      "flags such as --name", a.pos[0]);
	if (rc == CRM_OK)
		rc = row_new(&r, t);
	if (rc == CRM_OK)
		rc = entry_apply(&a, &r, NULL, &err);
	if (rc == CRM_OK)
		rc = entry_finish_new(&r, true, &err);
	if (rc == CRM_OK)
		rc = replica_open(ctx->db_path, &rep, &err);
	if (rc == CRM_OK)
		rc = replica_user(&rep, &user, &err);
	if (rc == CRM_OK && user)
		rc = row_put_text(&r, "owner", user);
	if (rc == CRM_OK)
		rc = replica_begin(&rep, &err);
	if (rc == CRM_OK && !a.force)
		rc = dup_check(&rep, &r, &err);
	/* likely duplicates (similar name, same city ...): a warning, never a refusal */
	if (rc == CRM_OK)
		warn_similar(&rep, &r);
	if (rc == CRM_OK)
		rc = rows_insert(rep.db, &r, &err);
	rc = replica_finish(&rep, rc, &err);
	if (rc != CRM_OK) {
		status = cli_report("customer add", &err);
		goto out;
	}
	if (a.json || ctx->json)
		view_json_row(stdout, &r);
	else
		printf("added customer %s (id %s)\n", row_text(&r, "name"), row_text(&r, "id"));
out:
	free(user);
	row_release(&r);
	replica_close(&rep);
	cli_args_release(&a);
	return status;
}

static int customer_list(int argc, char **argv, struct cli_ctx *ctx)
{
	static const char *const examples[] = {"crm customer list", "crm customer list --limit 10",
					       "crm customer list --city 深圳 --stage prospect",
					       "crm customer list --tier A --json",
					       "crm customer list --deleted --json", NULL};
	const unsigned accept = CLI_COLUMNS | CLI_JSON | CLI_LIMIT | CLI_DELETED;
	const struct schema_table *t = customers();
	struct cli_args a;
	struct replica rep = {0};
	struct row_list l = {0};
	struct row filter = {0};
	struct schema_value *p = calloc(t->ncols + 2, sizeof *p);
	struct crm_error err;
	char tail[2048] = "WHERE (r.deleted = 0 OR ?1)";
	size_t np = 2;
	enum crm_err rc;
	bool json, more;
	long long limit = -1;
	int status = 0;

	crm_error_clear(&err);
	rc = cli_parse(argc, argv, 1, t, accept, NULL, &a, &err);
	if (rc == CRM_OK && !p)
		rc = crm_fail(&err, CRM_ENOMEM, "out of memory");
	if (rc == CRM_OK && a.help) {
		cli_help(stdout, "crm customer list [--FIELD VALUE ...] [--limit N] [--deleted] [--json]",
			 "Lists customers by name. Field flags filter on exact values (after the "
			 "same normalization as add: --phone \"138 0013 8000\" works; an empty "
			 "value finds the customers without one).", t, accept, NULL, examples);
		goto out;
	}
	if (rc == CRM_OK && a.npos > 0)
		rc = crm_fail(&err, CRM_EUSAGE, "unexpected argument \"%s\": to find customers "
			      "use `crm search TEXT`", a.pos[0]);
	json = a.json || ctx->json;
	if (rc == CRM_OK) {
		p[0].type = SV_INT;
		p[0].i = a.deleted;
		p[1].type = SV_INT;
		limit = a.limit >= 0 ? a.limit : json ? -1 : DEFAULT_LIMIT;
		/* One row more than shown tells whether more match. */
		p[1].i = limit >= 0 ? limit + 1 : -1;
		rc = row_init(&filter, t);
	}
	if (rc == CRM_OK)
		rc = entry_filters(&a, &filter, tail, sizeof tail, p, &np, &err);
	if (rc == CRM_OK) {
		size_t len = strlen(tail);

		snprintf(tail + len, sizeof tail - len, " ORDER BY r.name, r.id LIMIT ?2");
	}
	if (rc == CRM_OK)
		rc = replica_open(ctx->db_path, &rep, &err);
	if (rc == CRM_OK)
		rc = rows_select(rep.db, t, tail, p, np, &l, &err);
	if (rc != CRM_OK) {
		status = cli_report("customer list", &err);
		goto out;
	}
	more = limit >= 0 && row_list_trim(&l, (size_t)limit);
	if (json) {
		cJSON *arr = view_json_array(&l);

		if (arr)
			out_json_print(arr, stdout);
		cJSON_Delete(arr);
	} else {
		/* --limit 0 with rows to show: no "no customers yet". */
		if (!more || l.n > 0)
			view_table(stdout, rep.db, &l, list_cols, list_heads,
				   strstr(tail, " AND ") ? "no customers match"
					  : "no customers yet: add one with `crm customer add --name "
					    "NAME`");
		if (more)
			view_more(stdout, limit, "--city, --stage, --tier ... (see --help)");
	}
out:
	free(p);
	if (filter.v)
		row_release(&filter);
	row_list_release(&l);
	replica_close(&rep);
	cli_args_release(&a);
	return status;
}

/* Resolves the one positional REF of a customer command. */
static enum crm_err one_ref(struct replica *rep, const struct cli_args *a, const char *usage,
			    char id[CRM_ID_SIZE], struct crm_error *err)
{
	if (a->npos == 0)
		return crm_fail(err, CRM_EUSAGE, "which customer? usage: %s", usage);
	if (a->npos > 1)
		return crm_fail(err, CRM_EUSAGE, "unexpected argument \"%s\": quote a name with "
			       "spaces (usage: %s)", a->pos[1], usage);
	return rows_resolve(rep->db, customers(), a->pos[0], id, err);
}

static bool same_value(const struct schema_value *x, const struct schema_value *y)
{
	if (x->type != y->type)
		return false;
	switch (x->type) {
	case SV_NULL:
		return true;
	case SV_INT:
		return x->i == y->i;
	case SV_REAL:
		return x->r == y->r;
	case SV_TEXT:
		return strcmp(x->s ? x->s : "", y->s ? y->s : "") == 0;
	}
	return false;
}

struct section {
	const char *table, *title, *tail;
	const char *const *cols, *const *heads;
	size_t limit; /* rows shown; tail selects one more to tell if there are more (0: all) */
};

static const char *const contact_cols[] = {"name", "title", "phone", "email", "wechat", NULL};
static const char *const activity_cols[] = {"occurred_at", "kind", "note", "next_step", "next_at", NULL};
static const char *const activity_heads[] = {"when", "kind", "note", "next step", "follow up", NULL};
static const char *const deal_cols[] = {"title", "stage", "amount", "expected_close", "id", NULL};
static const char *const deal_heads[] = {"title", "stage", "amount", "close", "id", NULL};
static const char *const task_cols[] = {"due_at", "title", "id", NULL};
static const char *const task_heads[] = {"due", "title", "id", NULL};

static const struct section sections[] = {
	{"contacts", "contacts", "WHERE r.customer_id = ?1 AND r.deleted = 0 ORDER BY r.name",
	 contact_cols, contact_cols, 0},
	{"activities", "recent activities",
	 "WHERE r.customer_id = ?1 AND r.deleted = 0 ORDER BY r.occurred_at DESC LIMIT 11",
	 activity_cols, activity_heads, 10},
	{"deals", "open deals",
	 "WHERE r.customer_id = ?1 AND r.deleted = 0 AND coalesce(r.stage, '') NOT IN ('won', 'lost') "
	 "ORDER BY r.expected_close", deal_cols, deal_heads, 0},
	{"tasks", "open tasks",
	 "WHERE r.customer_id = ?1 AND r.deleted = 0 AND r.done_at IS NULL ORDER BY r.due_at",
	 task_cols, task_heads, 0},
};

static int customer_show(int argc, char **argv, struct cli_ctx *ctx)
{
	static const char *const examples[] = {"crm customer show 华信", "crm customer show ERP-0012",
					       "crm customer show 0190c3e2 --json", NULL};
	const unsigned accept = CLI_JSON;
	const char *usage = "crm customer show REF [--json]";
	struct cli_args a;
	struct replica rep = {0};
	struct row r = {0};
	struct row_list lists[sizeof sections / sizeof sections[0]];
	bool more[sizeof sections / sizeof sections[0]] = {false};
	struct crm_error err;
	char id[CRM_ID_SIZE];
	enum crm_err rc;
	int status = 0;
	cJSON *obj = NULL;

	memset(lists, 0, sizeof lists);
	crm_error_clear(&err);
	rc = cli_parse(argc, argv, 1, customers(), accept, NULL, &a, &err);
	if (rc == CRM_OK && a.help) {
		cli_help(stdout, usage, "Shows a customer with its contacts, recent activities, open "
			 "deals and open tasks. REF is an id, a unique id prefix, an ext_ref or a "
			 "(unique part of a) name.", NULL, accept, NULL, examples);
		goto out;
	}
	if (rc == CRM_OK)
		rc = replica_open(ctx->db_path, &rep, &err);
	if (rc == CRM_OK)
		rc = one_ref(&rep, &a, usage, id, &err);
	if (rc == CRM_OK)
		rc = rows_get(rep.db, customers(), id, &r, &err);
	for (size_t i = 0; rc == CRM_OK && i < sizeof sections / sizeof sections[0]; i++) {
		struct schema_value p = {SV_TEXT, 0, 0, id};

		rc = rows_select(rep.db, schema_table_find(sections[i].table), sections[i].tail, &p, 1,
				 &lists[i], &err);
		if (rc == CRM_OK && sections[i].limit)
			more[i] = row_list_trim(&lists[i], sections[i].limit);
	}
	if (rc != CRM_OK) {
		status = cli_report("customer show", &err);
		goto out;
	}
	if (a.json || ctx->json) {
		obj = out_row_json(r.t, r.v);
		for (size_t i = 0; obj && i < sizeof sections / sizeof sections[0]; i++) {
			cJSON *arr = view_json_array(&lists[i]);

			if (arr)
				cJSON_AddItemToObject(obj, sections[i].table, arr);
		}
		if (obj)
			out_json_print(obj, stdout);
		goto out;
	}
	view_detail(stdout, &r);
	for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
		if (more[i])
			printf("\n%s (the %zu latest; all of them: crm %s list %s)\n",
			       sections[i].title, lists[i].n,
			       schema_table_find(sections[i].table)->singular, id);
		else
			printf("\n%s (%zu)\n", sections[i].title, lists[i].n);
		if (lists[i].n)
			view_table(stdout, rep.db, &lists[i], sections[i].cols, sections[i].heads, "");
	}
out:
	cJSON_Delete(obj);
	for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
		row_list_release(&lists[i]);
	row_release(&r);
	replica_close(&rep);
	cli_args_release(&a);
	return status;
}

static bool any_ident(const struct schema_table *t, const bool *set)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (set[i] && (strcmp(t->cols[i].name, "phone") == 0 ||
			       strcmp(t->cols[i].name, "email") == 0 ||
			       strcmp(t->cols[i].name, "uscc") == 0))
			return true;
	return false;
}

static int customer_edit(int argc, char **argv, struct cli_ctx *ctx)
{
	static const char *const examples[] = {
		"crm customer edit 华信 --city 广州 --stage customer",
		"crm customer edit ERP-0012 --phone \"0755 8888 6666\" --tier A",
		"crm customer edit \"ACME Trading\" --notes \"\"   (an empty value clears a field)",
		NULL};
	const unsigned accept = CLI_COLUMNS | CLI_JSON | CLI_FORCE;
	const char *usage = "crm customer edit REF --FIELD VALUE ...";
	const struct schema_table *t = customers();
	struct cli_args a;
	struct replica rep = {0};
	struct row r = {0};
	struct crm_error err;
	char id[CRM_ID_SIZE];
	struct row before = {0};
	bool *set = calloc(t->ncols, sizeof *set);
	bool any = false, changed = false;
	enum crm_err rc;
	int status = 0;

	crm_error_clear(&err);
	rc = cli_parse(argc, argv, 1, t, accept, NULL, &a, &err);
	if (rc == CRM_OK && !set)
		rc = crm_fail(&err, CRM_ENOMEM, "out of memory");
	if (rc == CRM_OK && a.help) {
		cli_help(stdout, usage, "Changes fields of a customer; an empty value clears one.", t,
			 accept, NULL, examples);
		goto out;
	}
	for (size_t i = 0; rc == CRM_OK && i < t->ncols; i++)
		any = any || a.cols[i];
	if (rc == CRM_OK && !any)
		rc = crm_fail(&err, CRM_EUSAGE, "nothing to change: give fields such as --city "
			      "VALUE (see crm customer edit --help)");
	if (rc == CRM_OK)
		rc = replica_open(ctx->db_path, &rep, &err);
	if (rc == CRM_OK)
		rc = replica_begin(&rep, &err);
	if (rc == CRM_OK)
		rc = one_ref(&rep, &a, usage, id, &err);
	if (rc == CRM_OK)
		rc = rows_get(rep.db, t, id, &r, &err);
	if (rc == CRM_OK)
		rc = rows_get(rep.db, t, id, &before, &err);
	if (rc == CRM_OK)
		rc = entry_apply(&a, &r, set, &err);
	/* Values equal to what is there change nothing: no new updated_at, no
	 * duplicate check of a phone the customer already has, nothing to sync. */
	for (size_t i = 0; rc == CRM_OK && i < t->ncols; i++)
		if (set[i] && same_value(&r.v[i], &before.v[i]))
			set[i] = false;
	for (size_t i = 0; rc == CRM_OK && i < t->ncols; i++)
		changed = changed || set[i];
	if (rc == CRM_OK && changed && !a.force && any_ident(t, set))
		rc = dup_check(&rep, &r, &err);
	if (rc == CRM_OK && changed)
		rc = rows_update(rep.db, &r, set, &err);
	if (rc == CRM_OK)
		rc = rows_reload(rep.db, &r, &err);
	rc = replica_finish(&rep, rc, &err);
	if (rc != CRM_OK) {
		status = cli_report("customer edit", &err);
		goto out;
	}
	if (a.json || ctx->json)
		view_json_row(stdout, &r);
	else
		printf("%s customer %s (id %s)\n", changed ? "updated" : "nothing to change for",
		       row_text(&r, "name"), id);
out:
	free(set);
	row_release(&before);
	row_release(&r);
	replica_close(&rep);
	cli_args_release(&a);
	return status;
}

static int customer_delete(int argc, char **argv, struct cli_ctx *ctx)
{
	static const char *const examples[] = {"crm customer delete 0190c3e2-7b1a",
					       "crm customer delete \"ACME Trading\"", NULL};
	const unsigned accept = CLI_JSON;
	const char *usage = "crm customer delete REF";
	const struct schema_table *t = customers();
	struct cli_args a;
	struct replica rep = {0};
	struct row r = {0};
	struct crm_error err;
	char id[CRM_ID_SIZE];
	bool was_deleted;
	enum crm_err rc;
	int status = 0;

	crm_error_clear(&err);
	rc = cli_parse(argc, argv, 1, t, accept, NULL, &a, &err);
	if (rc == CRM_OK && a.help) {
		cli_help(stdout, usage, "Marks a customer deleted (it syncs as a deletion; "
			 "`list --deleted` still shows it).", NULL, accept, NULL, examples);
		goto out;
	}
	if (rc == CRM_OK)
		rc = replica_open(ctx->db_path, &rep, &err);
	if (rc == CRM_OK)
		rc = replica_begin(&rep, &err);
	if (rc == CRM_OK)
		rc = one_ref(&rep, &a, usage, id, &err);
	if (rc == CRM_OK)
		rc = rows_get(rep.db, t, id, &r, &err);
	/* A customer named by its full id may be deleted already: deleting it
	 * again would only stamp a new updated_at and send a change to sync. */
	was_deleted = rc == CRM_OK && row_get(&r, "deleted") &&
		      row_get(&r, "deleted")->type == SV_INT && row_get(&r, "deleted")->i;
	if (rc == CRM_OK && !was_deleted) {
		row_release(&r);
		rc = rows_delete(rep.db, t, id, &err);
		if (rc == CRM_OK)
			rc = rows_get(rep.db, t, id, &r, &err);
	}
	rc = replica_finish(&rep, rc, &err);
	if (rc != CRM_OK) {
		status = cli_report("customer delete", &err);
		goto out;
	}
	if (a.json || ctx->json)
		view_json_row(stdout, &r);
	else
		printf("%s customer %s (id %s)\n", was_deleted ? "already deleted:" : "deleted",
		       row_text(&r, "name"), id);
out:
	row_release(&r);
	replica_close(&rep);
	cli_args_release(&a);
	return status;
}

int cmd_customer(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct cli_command subs[] = {
		{"add", customer_add, "add a customer"},
		{"list", customer_list, "list customers"},
		{"show", customer_show, "show a customer with contacts, activities, deals, tasks"},
		{"edit", customer_edit, "change fields of a customer"},
		{"delete", customer_delete, "mark a customer deleted"},
	};

	return cli_dispatch(subs, sizeof subs / sizeof subs[0], argc, argv, ctx);
}
