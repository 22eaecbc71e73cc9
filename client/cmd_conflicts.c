/* crm conflicts [resolve]: the fields two people changed from the same starting point. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_sync.h"
#include "crm_time.h"
#include "output.h"
#include "replica.h"
#include "sync.h"
#include "tables.h"

/* A sync state value, malloc()ed, or NULL. */
static char *state(struct replica *r, const char *key)
{
	char *v = NULL;

	if (sync_state_get(r->sync, key, &v, NULL) != CRM_OK)
		return NULL;
	return v;
}

static void value_text(const struct sync_value *v, char *out, size_t n)
{
	switch (v->type) {
	case SYNC_TEXT:
		snprintf(out, n, "%s", v->s ? v->s : "");
		break;
	case SYNC_INT:
		snprintf(out, n, "%lld", (long long)v->i);
		break;
	case SYNC_REAL:
		snprintf(out, n, "%g", v->r);
		break;
	default:
		snprintf(out, n, "(empty)");
		break;
	}
}

static cJSON *value_json(const struct sync_value *v)
{
	switch (v->type) {
	case SYNC_TEXT:
		return cJSON_CreateString(v->s ? v->s : "");
	case SYNC_INT:
		return cJSON_CreateNumber((double)v->i);
	case SYNC_REAL:
		return cJSON_CreateNumber(v->r);
	default:
		return cJSON_CreateNull();
	}
}

/* Who wrote from site: this laptop, a name the server told us, or the site id. */
static void who(struct replica *rep, const char *site, char *out, size_t n)
{
	char key[64];
	char *v;

	if (strcmp(site, sync_site_id(rep->sync)) == 0) {
		snprintf(out, n, "me (this laptop)");
		return;
	}
	snprintf(key, sizeof key, "who.%s", site);
	v = state(rep, key);
	if (v)
		snprintf(out, n, "%s", v);
	else
		snprintf(out, n, "site %.8s", site);
	free(v);
}

/* "customer 华信科技" / "activity of 华信科技" for people. */
static void record_label(struct replica *rep, const char *table, const char *id, char *out,
			 size_t n)
{
	const struct schema_table *t = schema_table_find(table);
	sqlite3_stmt *st = NULL;
	char sql[256];

	snprintf(out, n, "%s %.8s", t ? t->singular : table, id);
	if (!t)
		return;
	if (!t->parent)
		snprintf(sql, sizeof sql, "SELECT name FROM customers WHERE id = ?1");
	else
		snprintf(sql, sizeof sql,
			 "SELECT c.name FROM \"%s\" x JOIN customers c ON c.id = x.\"%s\" WHERE x.id = ?1",
			 t->name, t->parent);
	if (sqlite3_prepare_v2(rep->db, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
			const char *name = (const char *)sqlite3_column_text(st, 0);

			if (!t->parent)
				snprintf(out, n, "%s", name);
			else
				snprintf(out, n, "%s of %s", t->singular, name);
		}
	}
	sqlite3_finalize(st);
}

static int conflicts_resolve(struct cli_args *a, struct replica *rep)
{
	struct sync_conflict *list = NULL;
	size_t n = 0;
	struct crm_error err;
	const char *ref = a->pos[1], *keep = a->extra[1];
	const struct sync_conflict *hit = NULL;
	enum crm_err rc;
	int status = 0;
	bool keep_loser, mine_lost, mine_won;
	char label[256], val[512];

	crm_error_clear(&err);
	if (a->npos != 2 || !keep || (strcmp(keep, "mine") != 0 && strcmp(keep, "theirs") != 0)) {
		rc = crm_fail(&err, CRM_EUSAGE, "usage: crm conflicts resolve ID --keep mine|theirs");
		goto fail;
	}
	rc = sync_conflicts_list(rep->sync, false, &list, &n, &err);
	if (rc != CRM_OK)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(list[i].id, ref, strlen(ref)) != 0)
			continue;
		if (hit) {
			rc = crm_fail(&err, CRM_EAMBIGUOUS, "%s names more than one conflict: give more of the id", ref);
			goto fail;
		}
		hit = &list[i];
	}
	if (!hit || strlen(ref) < 4) {
		rc = crm_fail(&err, CRM_ENOTFOUND, "no open conflict %s (see crm conflicts)", ref);
		goto fail;
	}
	/*
	 * "mine" is the value this laptop wrote; when neither side is this
	 * laptop's, "mine" is the value in place and "theirs" the one that lost.
	 */
	mine_lost = strcmp(hit->loser_site, sync_site_id(rep->sync)) == 0;
	mine_won = strcmp(hit->winner_site, sync_site_id(rep->sync)) == 0;
	if (strcmp(keep, "mine") == 0)
		keep_loser = mine_lost && !mine_won;
	else
		keep_loser = !(mine_lost && !mine_won);
	record_label(rep, hit->table, hit->row_id, label, sizeof label);
	value_text(keep_loser ? &hit->loser : &hit->winner, val, sizeof val);
	rc = sync_conflict_resolve(rep->sync, hit->id, keep_loser, &err);
	if (rc != CRM_OK)
		goto fail;
	printf("kept %s = %s for %s%s\n", hit->col, val, label,
	       keep_loser ? " (a new edit: it reaches the others at the next crm sync)" : "");
	goto out;
fail:
	status = cli_report("conflicts resolve", &err);
out:
	sync_conflicts_release(list, n);
	return status;
}

int cmd_conflicts(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct cli_extra extras[] = {
		{"all", NULL, "also list resolved conflicts"},
		{"keep", "mine|theirs", "with resolve: which value to keep"},
		{NULL, NULL, NULL}};
	static const char *const examples[] = {"crm conflicts", "crm conflicts --json",
					       "crm conflicts resolve 3f2a9c1e --keep mine", NULL};
	static const char *const head[] = {"id", "record", "field", "kept", "kept from", "lost",
					   "lost from", "when"};
	struct cli_args a;
	struct replica rep = {0};
	struct crm_error err;
	struct sync_conflict *list = NULL;
	size_t n = 0;
	enum crm_err rc;
	int status = 0;

	crm_error_clear(&err);
	rc = cli_parse(argc, argv, 1, NULL, CLI_JSON, extras, &a, &err);
	if (rc == CRM_OK && a.help) {
		cli_help(stdout, "crm conflicts [--json] [--all] | crm conflicts resolve ID --keep mine|theirs",
			 "Lists the fields two people changed from the same starting point: the value "
			 "kept (last writer wins) and the one that lost, who wrote each and when. "
			 "resolve keeps one of them (keeping the lost one is a new edit that syncs).",
			 NULL, CLI_JSON, extras, examples);
		goto out;
	}
	if (rc == CRM_OK)
		rc = replica_open(ctx->db_path, &rep, &err);
	if (rc != CRM_OK) {
		status = cli_report("conflicts", &err);
		goto out;
	}
	if (a.npos >= 1 && strcmp(a.pos[0], "resolve") == 0) {
		status = conflicts_resolve(&a, &rep);
		goto out;
	}
	if (a.npos) {
		rc = crm_fail(&err, CRM_EUSAGE, "unknown argument %s: crm conflicts [resolve ID --keep mine|theirs]",
			      a.pos[0]);
		status = cli_report("conflicts", &err);
		goto out;
	}
	rc = sync_conflicts_list(rep.sync, a.extra[0] != NULL, &list, &n, &err);
	if (rc != CRM_OK) {
		status = cli_report("conflicts", &err);
		goto out;
	}
	if (a.json || ctx->json) {
		cJSON *arr = cJSON_CreateArray();

		for (size_t i = 0; arr && i < n; i++) {
			const struct sync_conflict *c = &list[i];
			cJSON *o = cJSON_CreateObject(), *k, *l;
			char label[256], w1[160], w2[160], when[CRM_TIME_ISO_MAX], hb[SYNC_HLC_STR_MAX];

			if (!o)
				break;
			record_label(&rep, c->table, c->row_id, label, sizeof label);
			who(&rep, c->winner_site, w1, sizeof w1);
			who(&rep, c->loser_site, w2, sizeof w2);
			cJSON_AddStringToObject(o, "id", c->id);
			cJSON_AddStringToObject(o, "table", c->table);
			cJSON_AddStringToObject(o, "row", c->row_id);
			cJSON_AddStringToObject(o, "record", label);
			cJSON_AddStringToObject(o, "field", c->col);
			k = cJSON_AddObjectToObject(o, "kept");
			if (k) {
				cJSON_AddItemToObject(k, "value", value_json(&c->winner));
				cJSON_AddStringToObject(k, "site", c->winner_site);
				cJSON_AddStringToObject(k, "who", w1);
				crm_time_format_utc(SYNC_HLC_MS(c->winner_hlc), when);
				cJSON_AddStringToObject(k, "at", when);
				sync_hlc_format(c->winner_hlc, hb);
				cJSON_AddStringToObject(k, "hlc", hb);
			}
			l = cJSON_AddObjectToObject(o, "lost");
			if (l) {
				cJSON_AddItemToObject(l, "value", value_json(&c->loser));
				cJSON_AddStringToObject(l, "site", c->loser_site);
				cJSON_AddStringToObject(l, "who", w2);
				crm_time_format_utc(SYNC_HLC_MS(c->loser_hlc), when);
				cJSON_AddStringToObject(l, "at", when);
				sync_hlc_format(c->loser_hlc, hb);
				cJSON_AddStringToObject(l, "hlc", hb);
			}
			crm_time_format_utc(c->detected_at, when);
			cJSON_AddStringToObject(o, "detected_at", when);
			if (c->resolved_at) {
				crm_time_format_utc(c->resolved_at, when);
				cJSON_AddStringToObject(o, "resolved_at", when);
			} else {
				cJSON_AddNullToObject(o, "resolved_at");
			}
			cJSON_AddItemToArray(arr, o);
		}
		if (arr)
			out_json_print(arr, stdout);
		cJSON_Delete(arr);
		goto out;
	}
	if (n == 0) {
		printf("no %sconflicts\n", a.extra[0] ? "" : "open ");
		goto out;
	}
	{
		struct out_table t;

		if (out_table_init(&t, sizeof head / sizeof head[0], head) != CRM_OK) {
			crm_fail(&err, CRM_ENOMEM, "out of memory");
			status = cli_report("conflicts", &err);
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			const struct sync_conflict *c = &list[i];
			char id[9], label[256], kept[512], lost[512], w1[160], w2[160];
			char when[CRM_TIME_ISO_MAX];
			const char *cells[8];

			snprintf(id, sizeof id, "%.8s", c->id);
			record_label(&rep, c->table, c->row_id, label, sizeof label);
			value_text(&c->winner, kept, sizeof kept);
			value_text(&c->loser, lost, sizeof lost);
			who(&rep, c->winner_site, w1, sizeof w1);
			who(&rep, c->loser_site, w2, sizeof w2);
			crm_time_format_local(SYNC_HLC_MS(c->loser_hlc) > SYNC_HLC_MS(c->winner_hlc)
						      ? SYNC_HLC_MS(c->loser_hlc)
						      : SYNC_HLC_MS(c->winner_hlc),
					      when);
			cells[0] = id;
			cells[1] = label;
			cells[2] = c->col;
			cells[3] = kept;
			cells[4] = w1;
			cells[5] = lost;
			cells[6] = w2;
			cells[7] = when;
			out_table_add(&t, cells);
		}
		out_table_print(&t, stdout, 32);
		out_table_release(&t);
		printf("\nkeep the other value with: crm conflicts resolve ID --keep mine|theirs\n");
	}
out:
	sync_conflicts_release(list, n);
	replica_close(&rep);
	cli_args_release(&a);
	return status;
}
