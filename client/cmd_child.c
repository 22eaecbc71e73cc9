/*
 * `crm contact|activity|deal|order|task ...` and `crm visit`: the tables under
 * a customer share one add and one list, described by a spec per table.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "crm_time.h"
#include "entry.h"
#include "output.h"
#include "replica.h"
#include "rows.h"
#include "view.h"

#define DEFAULT_LIMIT 50

struct child_spec {
	const char *table, *cmd;
	const char *const *cols, *const *heads; /* list columns */
	const char *order;                      /* ORDER BY of list */
	const char *add_usage, *add_summary;
	const char *const *add_examples, *const *list_examples;
};

static const char *const contact_cols[] = {"customer", "name", "title", "phone", "email", "wechat", "id", NULL};
static const char *const activity_cols[] = {"occurred_at", "customer", "kind", "note", "next_at", "id", NULL};
static const char *const activity_heads[] = {"when", "customer", "kind", "note", "follow up", "id", NULL};
static const char *const deal_cols[] = {"customer", "title", "stage", "amount", "expected_close", "id", NULL};
static const char *const deal_heads[] = {"customer", "title", "stage", "amount", "close", "id", NULL};
static const char *const order_cols[] = {"ordered_at", "customer", "amount", "note", "id", NULL};
static const char *const order_heads[] = {"when", "customer", "amount", "note", "id", NULL};
static const char *const task_cols[] = {"due_at", "customer", "title", "done_at", "id", NULL};
static const char *const task_heads[] = {"due", "customer", "title", "done", "id", NULL};
static const char *const visit_examples[] = {
	"crm visit 华信 --note \"介绍新产品，客户有兴趣\" --outcome 有意向 --next-step 发报价 --next +3d",
	"crm visit 华信 --note 上门拜访 --satisfaction 4 --latitude 22.54 --longitude 114.05",
	"crm visit ACME --note \"Met the buyer\" --next-step \"send quote\" --next tomorrow", NULL};

static const char *const contact_add_ex[] = {
	"crm contact add 华信 --name 李娜 --title 采购经理 --phone 13900001111 --wechat lina_sz",
	"crm contact add \"ACME Trading\" --name \"John Smith\" --email john@acme.example", NULL};
static const char *const contact_list_ex[] = {"crm contact list 华信", "crm contact list --json", NULL};
static const char *const activity_add_ex[] = {
	"crm activity add 华信 --kind visit --note \"介绍新产品\" --outcome 有意向 --next-step 报价 --next +3d",
	"crm activity add ACME --kind call --note \"Discussed renewal\" --at \"2026-11-20 15:30\"",
	"crm visit 华信 --note \"上门拜访\" --satisfaction 4 --latitude 22.54 --longitude 114.05", NULL};
static const char *const activity_list_ex[] = {"crm activity list --customer 华信",
					       "crm activity list --limit 20 --json", NULL};
static const char *const deal_add_ex[] = {
	"crm deal add 华信 --title \"2027 年度框架合同\" --amount ¥120,000 --expected-close 2026-12-31",
	"crm deal add ACME --title \"Pilot licence\" --amount \"5000 USD\" --stage qualified", NULL};
static const char *const deal_list_ex[] = {"crm deal list", "crm deal list --customer ACME --json", NULL};
static const char *const order_add_ex[] = {"crm order add 华信 --amount 12,000.50 --note 首批样品",
					   "crm order add ACME --amount \"USD 99.99\" --at 2026-11-01", NULL};
static const char *const order_list_ex[] = {"crm order list --customer 华信", NULL};
static const char *const task_add_ex[] = {"crm task add 华信 --title 发送报价单 --due tomorrow",
					  "crm task add ACME --title \"Call back John\" --due \"2026-11-25 10:00\"", NULL};
static const char *const task_list_ex[] = {"crm task list", "crm task list --customer 华信 --json", NULL};

static const struct child_spec specs[] = {
	{"contacts", "contact", contact_cols, contact_cols, "ORDER BY r.name, r.id",
	 "crm contact add CUSTOMER --name NAME [OPTIONS]", "Adds a person at a customer.",
	 contact_add_ex, contact_list_ex},
	{"activities", "activity", activity_cols, activity_heads, "ORDER BY r.occurred_at DESC, r.id",
	 "crm activity add CUSTOMER --kind KIND [--note TEXT] [--at TIME] [OPTIONS]",
	 "Logs a visit, call, meeting, e-mail or note. --next TIME sets when to follow up "
	 "(it shows in `crm today`).", activity_add_ex, activity_list_ex},
	{"deals", "deal", deal_cols, deal_heads, "ORDER BY r.expected_close IS NULL, r.expected_close, r.id",
	 "crm deal add CUSTOMER --title TITLE [--amount AMOUNT] [OPTIONS]",
	 "Adds a deal (stage lead unless --stage).", deal_add_ex, deal_list_ex},
	{"orders", "order", order_cols, order_heads, "ORDER BY r.ordered_at DESC, r.id",
	 "crm order add CUSTOMER --amount AMOUNT [--at TIME] [OPTIONS]", "Records an order.",
	 order_add_ex, order_list_ex},
	{"tasks", "task", task_cols, task_heads, "ORDER BY r.done_at IS NOT NULL, r.due_at IS NULL, r.due_at, r.id",
	 "crm task add CUSTOMER --title TITLE [--due TIME] [OPTIONS]", "Adds a task (a reminder).",
	 task_add_ex, task_list_ex},
};

static const struct child_spec *spec(const char *table)
{
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
		if (strcmp(specs[i].table, table) == 0)
			return &specs[i];
	return NULL;
}

/* Resolves a customer REF to a live (not deleted) customer. */
static enum crm_err live_customer(struct replica *rep, const char *ref, char id[CRM_ID_SIZE],
				  char *name, size_t n, struct crm_error *err)
{
	const struct schema_table *t = schema_table_find("customers");
	struct row c = {0};
	enum crm_err rc = rows_resolve(rep->db, t, ref, id, err);

	if (rc == CRM_OK)
		rc = rows_get(rep->db, t, id, &c, err);
	if (rc == CRM_OK) {
		const struct schema_value *d = row_get(&c, "deleted");

		snprintf(name, n, "%s", row_text(&c, "name") ? row_text(&c, "name") : "");
		if (d && d->type == SV_INT && d->i)
			rc = crm_fail(err, CRM_EINVAL, "customer %s (id %s) is deleted", name, id);
	}
	row_release(&c);
	return rc;
}

static int child_add(const struct child_spec *s, const char *preset_kind, int argc, char **argv,
		     struct cli_ctx *ctx)
{
	const unsigned accept = CLI_COLUMNS | CLI_JSON | CLI_CUSTOMER;
	const struct schema_table *t = schema_table_find(s->table);
	struct cli_args a;
	struct replica rep = {0};
	struct row r = {0};
	struct crm_error err;
	char what[64];
	char cid[CRM_ID_SIZE], cname[320];
	const char *ref;
	char *user = NULL;
	enum crm_err rc;
	int status = 0;

	/* Errors name the command as typed: `crm visit` says "visit". */
	snprintf(what, sizeof what, "%s", preset_kind ? "visit" : s->cmd);
	if (!preset_kind) {
		size_t len = strlen(what);

		snprintf(what + len, sizeof what - len, " add");
	}
	crm_error_clear(&err);
	rc = cli_parse(argc, argv, 1, t, accept, NULL, &a, &err);
	if (rc == CRM_OK && a.help) {
		cli_help(stdout, preset_kind ? "crm visit CUSTOMER [--note TEXT] [--at TIME] [OPTIONS]"
					     : s->add_usage,
			 preset_kind ? "Logs a visit: the same as `crm activity add CUSTOMER --kind visit`."
				     : s->add_summary,
			 t, preset_kind ? accept : accept | CLI_NEW, NULL,
			 preset_kind ? visit_examples : s->add_examples);
		goto out;
	}
	ref = a.customer ? a.customer : a.npos > 0 ? a.pos[0] : NULL;
	if (rc == CRM_OK && !ref)
		rc = crm_fail(&err, CRM_EUSAGE, "which customer? usage: %s", s->add_usage);
	if (rc == CRM_OK && a.npos > (a.customer ? 0u : 1u))
		rc = crm_fail(&err, CRM_EUSAGE, "unexpected argument \"%s\": quote text with spaces "
			      "(usage: %s)", a.pos[a.customer ? 0 : 1], s->add_usage);
	if (rc == CRM_OK && preset_kind && !a.cols[row_col(t, "kind")])
		a.cols[row_col(t, "kind")] = preset_kind;
	if (rc == CRM_OK)
		rc = row_new(&r, t);
	if (rc == CRM_OK)
		rc = entry_apply(&a, &r, NULL, &err);
	if (rc == CRM_OK)
		rc = replica_open(ctx->db_path, &rep, &err);
	if (rc == CRM_OK)
		rc = replica_begin(&rep, &err);
	if (rc == CRM_OK)
		rc = live_customer(&rep, ref, cid, cname, sizeof cname, &err);
	if (rc == CRM_OK)
		rc = row_put_text(&r, "customer_id", cid);
	if (rc == CRM_OK && row_col(t, "author") >= 0)
		rc = replica_user(&rep, &user, &err);
	if (rc == CRM_OK && user)
		rc = row_put_text(&r, "author", user);
	if (rc == CRM_OK)
		rc = entry_finish_new(&r, true, &err);
	if (rc == CRM_OK)
		rc = rows_insert(rep.db, &r, &err);
	rc = replica_finish(&rep, rc, &err);
	if (rc != CRM_OK) {
		status = cli_report(what, &err);
		goto out;
	}
	if (a.json || ctx->json) {
		view_json_row(stdout, &r);
	} else {
		const char *label = row_text(&r, "name") ? row_text(&r, "name")
				    : row_text(&r, "title") ? row_text(&r, "title")
				    : row_text(&r, "kind") ? row_text(&r, "kind") : NULL;
		char money[64] = "";
		const struct schema_value *amt = row_get(&r, "amount");

		if (!label && amt && amt->type == SV_INT) {
			out_money(amt->i, row_text(&r, "currency"), money, sizeof money);
			label = money;
		}
		printf("added %s %s for %s (id %s)\n", t->singular, label ? label : "", cname,
		       row_text(&r, "id"));
	}
out:
	free(user);
	row_release(&r);
	replica_close(&rep);
	cli_args_release(&a);
	return status;
}

static int child_list(const struct child_spec *s, int argc, char **argv, struct cli_ctx *ctx)
{
	const unsigned accept = CLI_COLUMNS | CLI_JSON | CLI_LIMIT | CLI_DELETED | CLI_CUSTOMER;
	const struct schema_table *t = schema_table_find(s->table);
	struct cli_args a;
	struct replica rep = {0};
	struct row_list l = {0};
	struct row filter = {0};
	struct schema_value *p = calloc(t->ncols + 3, sizeof *p);
	struct crm_error err;
	char what[64], usage[160], tail[2048], empty[512];
	size_t np = 3, len;
	char cid[CRM_ID_SIZE], cname[320];
	const char *ref;
	enum crm_err rc;
	bool json, more;
	long long limit = -1;
	int status = 0;

	snprintf(what, sizeof what, "%s list", s->cmd);
	snprintf(usage, sizeof usage, "crm %s list [CUSTOMER | --customer REF] [--FIELD VALUE ...] "
		 "[--limit N] [--deleted] [--json]", s->cmd);
	crm_error_clear(&err);
	rc = cli_parse(argc, argv, 1, t, accept, NULL, &a, &err);
	if (rc == CRM_OK && !p)
		rc = crm_fail(&err, CRM_ENOMEM, "out of memory");
	if (rc == CRM_OK && a.help) {
		char summary[256];

		snprintf(summary, sizeof summary, "Lists %s, of one customer or of all. Field "
			 "flags filter on exact values (an empty value: rows without one).", t->name);
		cli_help(stdout, usage, summary, t, accept, NULL, s->list_examples);
		goto out;
	}
	ref = a.customer ? a.customer : a.npos > 0 ? a.pos[0] : NULL;
	if (rc == CRM_OK && a.npos > (a.customer ? 0u : 1u))
		rc = crm_fail(&err, CRM_EUSAGE, "unexpected argument \"%s\" (usage: %s)",
			      a.pos[a.customer ? 0 : 1], usage);
	json = a.json || ctx->json;
	if (p) {
		p[1].type = SV_INT;
		p[1].i = a.deleted;
		p[2].type = SV_INT;
		limit = a.limit >= 0 ? a.limit : json ? -1 : DEFAULT_LIMIT;
		/* One row more than shown tells whether more match. */
		p[2].i = limit >= 0 ? limit + 1 : -1;
	}
	if (rc == CRM_OK)
		rc = replica_open(ctx->db_path, &rep, &err);
	if (rc == CRM_OK && ref) {
		rc = rows_resolve(rep.db, schema_table_find("customers"), ref, cid, &err);
		if (rc == CRM_OK) {
			p[0].type = SV_TEXT;
			p[0].s = cid;
			rows_customer_name(rep.db, cid, cname, sizeof cname);
		}
	}
	snprintf(tail, sizeof tail,
		 "WHERE (?1 IS NULL OR r.customer_id = ?1) AND (?2 OR (r.deleted = 0 AND EXISTS "
		 "(SELECT 1 FROM customers c WHERE c.id = r.customer_id AND c.deleted = 0)))");
	if (rc == CRM_OK)
		rc = row_init(&filter, t);
	if (rc == CRM_OK)
		rc = entry_filters(&a, &filter, tail, sizeof tail, p, &np, &err);
	len = strlen(tail);
	snprintf(tail + len, sizeof tail - len, " %s LIMIT ?3", s->order);
	if (rc == CRM_OK)
		rc = rows_select(rep.db, t, tail, p, np, &l, &err);
	if (rc != CRM_OK) {
		status = cli_report(what, &err);
		goto out;
	}
	more = limit >= 0 && row_list_trim(&l, (size_t)limit);
	if (json) {
		cJSON *arr = view_json_array(&l);

		if (arr)
			out_json_print(arr, stdout);
		cJSON_Delete(arr);
	} else {
		if (np > 3 || strstr(tail, " IS NULL"))
			snprintf(empty, sizeof empty, "no %s match", t->name);
		else if (ref)
			snprintf(empty, sizeof empty, "no %s for %s yet", t->name, cname);
		else
			snprintf(empty, sizeof empty, "no %s yet", t->name);
		if (!more || l.n > 0)
			view_table(stdout, rep.db, &l, s->cols, s->heads, empty);
		if (more)
			view_more(stdout, limit, "a CUSTOMER or column flags (see --help)");
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

/* ---- deal stage, task done ------------------------------------------- */

static int deal_stage(int argc, char **argv, struct cli_ctx *ctx)
{
	static const char *const examples[] = {
		"crm deal stage \"2027 年度框架合同\" negotiation --probability 70",
		"crm deal stage 0190c3e2 lost --lost-reason \"价格太高 / price too high\"",
		"crm deal stage \"Pilot licence\" won", NULL};
	const unsigned accept = CLI_COLUMNS | CLI_JSON;
	const char *usage = "crm deal stage DEAL STAGE [--lost-reason TEXT] [OPTIONS]";
	const struct schema_table *t = schema_table_find("deals");
	struct cli_args a;
	struct replica rep = {0};
	struct row r = {0};
	struct crm_error err;
	char id[CRM_ID_SIZE];
	bool *set = calloc(t->ncols, sizeof *set);
	enum crm_err rc;
	int status = 0;

	crm_error_clear(&err);
	rc = cli_parse(argc, argv, 1, t, accept, NULL, &a, &err);
	if (rc == CRM_OK && !set)
		rc = crm_fail(&err, CRM_ENOMEM, "out of memory");
	if (rc == CRM_OK && a.help) {
		cli_help(stdout, usage, "Moves a deal to another stage (lead, qualified, proposal, "
			 "negotiation, won, lost). DEAL is an id, id prefix or (part of) the title.",
			 t, accept, NULL, examples);
		goto out;
	}
	if (rc == CRM_OK && a.npos != 2)
		rc = crm_fail(&err, CRM_EUSAGE, "%s: usage: %s",
			      a.npos < 2 ? "give the deal and the new stage" : "too many arguments",
			      usage);
	if (rc == CRM_OK)
		rc = replica_open(ctx->db_path, &rep, &err);
	if (rc == CRM_OK)
		rc = replica_begin(&rep, &err);
	if (rc == CRM_OK)
		rc = rows_resolve(rep.db, t, a.pos[0], id, &err);
	if (rc == CRM_OK)
		rc = rows_get(rep.db, t, id, &r, &err);
	if (rc == CRM_OK)
		rc = entry_put(&r, "stage", a.pos[1], set, NULL, &err);
	if (rc == CRM_OK)
		rc = entry_apply(&a, &r, set, &err);
	if (rc == CRM_OK && !a.cols[row_col(t, "probability")]) {
		const char *st = row_text(&r, "stage");

		/* A closed deal's probability is known. */
		if (st && (strcmp(st, "won") == 0 || strcmp(st, "lost") == 0)) {
			row_put_int(&r, "probability", strcmp(st, "won") == 0 ? 100 : 0);
			set[row_col(t, "probability")] = true;
		}
	}
	if (rc == CRM_OK)
		rc = rows_update(rep.db, &r, set, &err);
	if (rc == CRM_OK)
		rc = rows_reload(rep.db, &r, &err);
	rc = replica_finish(&rep, rc, &err);
	if (rc != CRM_OK) {
		status = cli_report("deal stage", &err);
		goto out;
	}
	if (a.json || ctx->json)
		view_json_row(stdout, &r);
	else
		printf("deal %s is now %s (id %s)\n", row_text(&r, "title"), row_text(&r, "stage"), id);
out:
	free(set);
	row_release(&r);
	replica_close(&rep);
	cli_args_release(&a);
	return status;
}

static int task_done(int argc, char **argv, struct cli_ctx *ctx)
{
	static const char *const examples[] = {"crm task done 0190c3e2-7b1a", "crm task done 发送报价单",
					       NULL};
	static const struct cli_extra extras[] = {{"at", "TIME", "when it was done (default now)"},
						  {NULL, NULL, NULL}};
	const unsigned accept = CLI_JSON;
	const char *usage = "crm task done TASK [--at TIME]";
	const struct schema_table *t = schema_table_find("tasks");
	struct cli_args a;
	struct replica rep = {0};
	struct row r = {0};
	struct crm_error err;
	char id[CRM_ID_SIZE];
	bool *set = calloc(t->ncols, sizeof *set);
	enum crm_err rc;
	int status = 0;
	bool already = false;

	crm_error_clear(&err);
	rc = cli_parse(argc, argv, 1, t, accept, extras, &a, &err);
	if (rc == CRM_OK && !set)
		rc = crm_fail(&err, CRM_ENOMEM, "out of memory");
	if (rc == CRM_OK && a.help) {
		cli_help(stdout, usage, "Marks a task done. TASK is an id, id prefix or (part of) "
			 "its title.", t, accept, extras, examples);
		goto out;
	}
	if (rc == CRM_OK && a.npos != 1)
		rc = crm_fail(&err, CRM_EUSAGE, "%s: usage: %s",
			      a.npos < 1 ? "which task?" : "too many arguments", usage);
	if (rc == CRM_OK)
		rc = replica_open(ctx->db_path, &rep, &err);
	if (rc == CRM_OK)
		rc = replica_begin(&rep, &err);
	if (rc == CRM_OK)
		rc = rows_resolve(rep.db, t, a.pos[0], id, &err);
	if (rc == CRM_OK)
		rc = rows_get(rep.db, t, id, &r, &err);
	if (rc == CRM_OK) {
		const struct schema_value *d = row_get(&r, "done_at");

		already = d && d->type != SV_NULL;
	}
	if (rc == CRM_OK && !already)
		rc = entry_put(&r, "done_at", a.extra[0] ? a.extra[0] : "now", set, NULL, &err);
	if (rc == CRM_OK && !already)
		rc = rows_update(rep.db, &r, set, &err);
	if (rc == CRM_OK)
		rc = rows_reload(rep.db, &r, &err);
	rc = replica_finish(&rep, rc, &err);
	if (rc != CRM_OK) {
		status = cli_report("task done", &err);
		goto out;
	}
	if (a.json || ctx->json) {
		view_json_row(stdout, &r);
	} else {
		char when[CRM_TIME_ISO_MAX];

		crm_time_format_local(row_get(&r, "done_at")->i, when);
		printf("task %s %s done at %s (id %s)\n", row_text(&r, "title"),
		       already ? "was already" : "is", when, id);
	}
out:
	free(set);
	row_release(&r);
	replica_close(&rep);
	cli_args_release(&a);
	return status;
}

/* ---- dispatch -------------------------------------------------------- */

#define CHILD_HANDLERS(fn, table)                                                      \
	static int fn##_add(int argc, char **argv, struct cli_ctx *ctx)                \
	{                                                                              \
		return child_add(spec(table), NULL, argc, argv, ctx);                  \
	}                                                                              \
	static int fn##_list(int argc, char **argv, struct cli_ctx *ctx)               \
	{                                                                              \
		return child_list(spec(table), argc, argv, ctx);                       \
	}

CHILD_HANDLERS(contact, "contacts")
CHILD_HANDLERS(activity, "activities")
CHILD_HANDLERS(deal, "deals")
CHILD_HANDLERS(order, "orders")
CHILD_HANDLERS(task, "tasks")

int cmd_contact(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct cli_command subs[] = {
		{"add", contact_add, "add a person at a customer"},
		{"list", contact_list, "list contacts"},
	};

	return cli_dispatch(subs, sizeof subs / sizeof subs[0], argc, argv, ctx);
}

int cmd_activity(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct cli_command subs[] = {
		{"add", activity_add, "log a visit, call, meeting, e-mail or note"},
		{"list", activity_list, "list activities, newest first"},
	};

	return cli_dispatch(subs, sizeof subs / sizeof subs[0], argc, argv, ctx);
}

int cmd_visit(int argc, char **argv, struct cli_ctx *ctx)
{
	return child_add(spec("activities"), "visit", argc, argv, ctx);
}

int cmd_deal(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct cli_command subs[] = {
		{"add", deal_add, "add a deal"},
		{"list", deal_list, "list deals"},
		{"stage", deal_stage, "move a deal to another stage"},
	};

	return cli_dispatch(subs, sizeof subs / sizeof subs[0], argc, argv, ctx);
}

int cmd_order(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct cli_command subs[] = {
		{"add", order_add, "record an order"},
		{"list", order_list, "list orders, newest first"},
	};

	return cli_dispatch(subs, sizeof subs / sizeof subs[0], argc, argv, ctx);
}

int cmd_task(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct cli_command subs[] = {
		{"add", task_add, "add a task"},
		{"list", task_list, "list tasks, open first"},
		{"done", task_done, "mark a task done"},
	};

	return cli_dispatch(subs, sizeof subs / sizeof subs[0], argc, argv, ctx);
}
