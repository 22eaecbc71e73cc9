/*
 * `crm today`: what needs doing: tasks due by the end of today, follow-ups due
 * (an activity's next_at passed with nothing logged since), deals expected to
 * close within a week. The sections are a table, so another is one more row.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmd_pool.h"
#include "commands.h"
#include "crm_time.h"
#include "output.h"
#include "replica.h"
#include "rows.h"
#include "view.h"

#define CLOSE_WITHIN_DAYS 7
#define LIVE_CUSTOMER "EXISTS (SELECT 1 FROM customers c WHERE c.id = r.customer_id AND c.deleted = 0)"

struct today_section {
	const char *key;   /* JSON key */
	const char *title; /* heading for people */
	const char *table;
	const char *tail;  /* ?1 now ms, ?2 end of today ms, ?3 last close date (YYYY-MM-DD) */
	const char *const *cols, *const *heads;
	const char *empty;
};

static const char *const task_cols[] = {"due_at", "overdue", "customer", "title", "id", NULL};
static const char *const task_heads[] = {"due", "", "customer", "task", "id", NULL};
static const char *const follow_cols[] = {"next_at", "overdue", "customer", "next_step", "note", "id", NULL};
static const char *const follow_heads[] = {"follow up", "", "customer", "next step", "last note", "id", NULL};
static const char *const deal_cols[] = {"expected_close", "overdue", "customer", "title", "stage", "amount", "id", NULL};
static const char *const deal_heads[] = {"close", "", "customer", "deal", "stage", "amount", "id", NULL};

static const struct today_section sections[] = {
	{"tasks", "tasks due", "tasks",
	 "WHERE r.deleted = 0 AND r.done_at IS NULL AND r.due_at < ?2 AND " LIVE_CUSTOMER
	 " ORDER BY r.due_at, r.id",
	 task_cols, task_heads, "no tasks due"},
	{"follow_ups", "follow-ups due", "activities",
	 "WHERE r.deleted = 0 AND r.next_at < ?2 AND " LIVE_CUSTOMER
	 " AND NOT EXISTS (SELECT 1 FROM activities b WHERE b.customer_id = r.customer_id"
	 " AND b.deleted = 0 AND b.id <> r.id AND b.occurred_at > r.occurred_at)"
	 " ORDER BY r.next_at, r.id",
	 follow_cols, follow_heads, "no follow-ups due"},
	{"deals", "deals expected to close within 7 days", "deals",
	 "WHERE r.deleted = 0 AND coalesce(r.stage, 'lead') NOT IN ('won', 'lost')"
	 " AND r.expected_close <= ?3 AND " LIVE_CUSTOMER " ORDER BY r.expected_close, r.id",
	 deal_cols, deal_heads, "no deals closing this week"},
};

/* End of the local day of now (ms), and the local date `days` days later. */
static void day_bounds(int64_t now, int64_t *end_ms, char close[11])
{
	time_t t = (time_t)(now / 1000);
	struct tm tm, end, later;

	localtime_r(&t, &tm);
	end = tm;
	end.tm_hour = 0;
	end.tm_min = 0;
	end.tm_sec = 0;
	end.tm_mday += 1;
	end.tm_isdst = -1;
	*end_ms = (int64_t)mktime(&end) * 1000;
	later = tm;
	later.tm_hour = 12;
	later.tm_mday += CLOSE_WITHIN_DAYS;
	later.tm_isdst = -1;
	t = mktime(&later);
	localtime_r(&t, &later);
	if (strftime(close, 11, "%Y-%m-%d", &later) == 0)
		close[0] = '\0';
}

int cmd_today(int argc, char **argv, struct cli_ctx *ctx)
{
	static const char *const examples[] = {"crm today", "crm today --json",
					       "CRM_NOW=2026-12-01T09:00:00+08:00 crm today", NULL};
	const unsigned accept = CLI_JSON;
	const char *usage = "crm today [--json]";
	enum { NSEC = sizeof sections / sizeof sections[0] };
	struct cli_args a;
	struct replica rep = {0};
	struct row_list lists[NSEC];
	struct schema_value p[3] = {{SV_INT, 0, 0, NULL}, {SV_INT, 0, 0, NULL}, {SV_TEXT, 0, 0, NULL}};
	struct crm_error err;
	char close[11];
	cJSON *obj = NULL;
	enum crm_err rc;
	int status = 0;
	struct pool_rules prules;   /* pool section (cmd_pool.h) */
	struct pool_warning *warn = NULL;
	size_t nwarn = 0;

	memset(lists, 0, sizeof lists);
	crm_error_clear(&err);
	rc = cli_parse(argc, argv, 1, NULL, accept, NULL, &a, &err);
	if (rc == CRM_OK && a.help) {
		cli_help(stdout, usage, "Shows what needs doing: tasks due by the end of today "
			 "(overdue first), follow-ups due (an activity's --next time has come and "
			 "nothing was logged for that customer since), and open deals expected to "
			 "close within 7 days; and your customers that return to the public pool within "
			 "pool.warn_days days without a follow-up, with the days left (docs/pool.md).",
			 NULL, accept, NULL, examples);
		goto out;
	}
	if (rc == CRM_OK && a.npos > 0)
		rc = crm_fail(&err, CRM_EUSAGE, "unexpected argument \"%s\" (usage: %s)", a.pos[0],
			      usage);
	p[0].i = crm_now_ms();
	day_bounds(p[0].i, &p[1].i, close);
	p[2].s = close;
	if (rc == CRM_OK)
		rc = replica_open(ctx->db_path, &rep, &err);
	for (size_t i = 0; rc == CRM_OK && i < NSEC; i++)
		rc = rows_select(rep.db, schema_table_find(sections[i].table), sections[i].tail, p, 3,
				 &lists[i], &err);
	if (rc == CRM_OK) {
		pool_rules_load(&rep, &prules);
		rc = pool_warnings(&rep, p[0].i, &prules, &warn, &nwarn, &err);
	}
	if (rc != CRM_OK) {
		status = cli_report("today", &err);
		goto out;
	}
	if (a.json || ctx->json) {
		obj = cJSON_CreateObject();
		for (size_t i = 0; obj && i < NSEC; i++) {
			cJSON *arr = view_json_array(&lists[i]);

			if (arr)
				cJSON_AddItemToObject(obj, sections[i].key, arr);
		}
		if (obj)
			cJSON_AddItemToObject(obj, "pool", pool_warnings_json(warn, nwarn));
		if (obj)
			out_json_print(obj, stdout);
		goto out;
	}
	for (size_t i = 0; i < NSEC; i++) {
		printf("%s%s (%zu)\n", i ? "\n" : "", sections[i].title, lists[i].n);
		view_table(stdout, rep.db, &lists[i], sections[i].cols, sections[i].heads,
			   sections[i].empty);
	}
	putchar('\n');
	pool_warnings_print(stdout, &prules, warn, nwarn);
out:
	free(warn);
	cJSON_Delete(obj);
	for (size_t i = 0; i < NSEC; i++)
		row_list_release(&lists[i]);
	replica_close(&rep);
	cli_args_release(&a);
	return status;
}
