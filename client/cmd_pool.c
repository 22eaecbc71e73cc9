/* crm pool list|claim, crm release, and the pool warnings of crm today. */
#include "cmd_pool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_sync.h"
#include "crm_time.h"
#include "http.h"
#include "output.h"
#include "rows.h"
#include "sync.h"

#define DAY_MS ((int64_t)86400000)
#define POOL_TIMEOUT_MS 30000
#define PEOPLE_LIMIT 50

/* ---- rules ------------------------------------------------------------ */

enum crm_err pool_rules_store(struct replica *rep, const cJSON *pool, struct crm_error *err)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(pool, "recycle_days");
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(pool, "warn_days");
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(pool, "exempt_open_deals");
	char *text;
	enum crm_err rc;

	if (!cJSON_IsObject(pool) || !cJSON_IsNumber(r) || !cJSON_IsNumber(w) || !cJSON_IsBool(x))
		return CRM_OK;
	text = cJSON_PrintUnformatted(pool);
	if (!text)
		return crm_fail(err, CRM_ENOMEM, "out of memory");
	rc = sync_state_set(rep->sync, POOL_RULES_STATE, text, err);
	free(text);
	return rc;
}

void pool_rules_load(struct replica *rep, struct pool_rules *out)
{
	char *text = NULL;
	cJSON *j = NULL;
	const cJSON *r, *w, *x;

	out->recycle_days = 30;
	out->warn_days = 3;
	out->exempt_open_deals = true;
	out->from_server = false;
	if (sync_state_get(rep->sync, POOL_RULES_STATE, &text, NULL) != CRM_OK)
		return;
	j = cJSON_Parse(text);
	r = cJSON_GetObjectItemCaseSensitive(j, "recycle_days");
	w = cJSON_GetObjectItemCaseSensitive(j, "warn_days");
	x = cJSON_GetObjectItemCaseSensitive(j, "exempt_open_deals");
	if (cJSON_IsNumber(r) && cJSON_IsNumber(w) && cJSON_IsBool(x) && r->valuedouble >= 1 &&
	    r->valuedouble <= 100000 && w->valuedouble >= 0 && w->valuedouble <= 100000) {
		out->recycle_days = (int64_t)r->valuedouble;
		out->warn_days = (int64_t)w->valuedouble;
		out->exempt_open_deals = cJSON_IsTrue(x);
		out->from_server = true;
	}
	cJSON_Delete(j);
	free(text);
}

/* ---- warnings (offline) ----------------------------------------------- */

/* Same rule as the server's sweep (server/srv_pool.c), on the replica. */
static const char owned_sql[] =
	"SELECT c.id, coalesce(c.name, ''), c.created_at,"
	" (SELECT max(CASE WHEN a.occurred_at IS NULL THEN a.created_at"
	"                  WHEN a.created_at > 0 AND a.occurred_at > a.created_at THEN a.created_at"
	"                  ELSE a.occurred_at END)"
	"    FROM activities a WHERE a.customer_id = c.id AND a.author = c.owner AND a.deleted = 0),"
	" EXISTS (SELECT 1 FROM deals d WHERE d.customer_id = c.id AND d.deleted = 0"
	"         AND coalesce(d.stage, '') NOT IN ('won', 'lost'))"
	" FROM customers c WHERE c.owner = ?1 AND c.deleted = 0 AND c.merged_into IS NULL";

/* When the owner got customer id: the version of its owner field (0 if unknown). */
static int64_t owner_since(struct replica *rep, const char *id)
{
	struct sync_changeset snap;
	int64_t ms = 0;

	if (sync_row_snapshot(rep->sync, "customers", id, &snap, NULL) != CRM_OK)
		return 0;
	for (size_t i = 0; i < snap.nrows; i++)
		for (size_t j = 0; j < snap.rows[i].nfields; j++)
			if (strcmp(snap.rows[i].fields[j].col, "owner") == 0)
				ms = SYNC_HLC_MS(snap.rows[i].fields[j].hlc);
	sync_changeset_release(&snap);
	return ms;
}

static int cmp_deadline(const void *a, const void *b)
{
	const struct pool_warning *x = a, *y = b;

	if (x->deadline != y->deadline)
		return x->deadline < y->deadline ? -1 : 1;
	return strcmp(x->id, y->id);
}

enum crm_err pool_warnings(struct replica *rep, int64_t now, const struct pool_rules *rules,
			   struct pool_warning **list, size_t *n, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	struct pool_warning *v = NULL;
	size_t len = 0, cap = 0;
	char *user = NULL;
	enum crm_err rc;

	*list = NULL;
	*n = 0;
	rc = replica_user(rep, &user, err);
	if (rc != CRM_OK || !user)
		return rc;
	if (sqlite3_prepare_v2(rep->db, owned_sql, -1, &st, NULL) != SQLITE_OK) {
		rc = crm_fail(err, CRM_EDB, "pool warnings: %s", sqlite3_errmsg(rep->db));
		goto out;
	}
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	for (;;) {
		int step = sqlite3_step(st);
		const char *id;
		int64_t got, last, deadline;
		struct pool_warning *w;

		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			rc = crm_fail(err, CRM_EDB, "pool warnings: %s", sqlite3_errmsg(rep->db));
			goto out;
		}
		if (rules->exempt_open_deals && sqlite3_column_int(st, 4))
			continue;
		id = (const char *)sqlite3_column_text(st, 0);
		if (!id)
			continue;
		got = owner_since(rep, id);
		if (got <= 0)
			got = sqlite3_column_int64(st, 2);
		last = sqlite3_column_type(st, 3) == SQLITE_NULL ? got : sqlite3_column_int64(st, 3);
		if (got > last)
			last = got;
		deadline = last + rules->recycle_days * DAY_MS;
		if (deadline - now > rules->warn_days * DAY_MS)
			continue;
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct pool_warning *nv = realloc(v, ncap * sizeof *nv);

			if (!nv) {
				rc = crm_fail(err, CRM_ENOMEM, "out of memory");
				goto out;
			}
			v = nv;
			cap = ncap;
		}
		w = &v[len++];
		memset(w, 0, sizeof *w);
		snprintf(w->id, sizeof w->id, "%s", id);
		snprintf(w->name, sizeof w->name, "%s", (const char *)sqlite3_column_text(st, 1));
		w->last_follow_up = last;
		w->deadline = deadline;
		w->days_left = deadline <= now ? 0 : (deadline - now + DAY_MS - 1) / DAY_MS;
	}
	if (len > 1)
		qsort(v, len, sizeof *v, cmp_deadline);
	*list = v;
	*n = len;
	v = NULL;
out:
	sqlite3_finalize(st);
	free(v);
	free(user);
	return rc;
}

static void add_time(cJSON *o, const char *key, int64_t ms)
{
	char when[CRM_TIME_ISO_MAX];

	crm_time_format_utc(ms, when);
	cJSON_AddStringToObject(o, key, when);
}

cJSON *pool_warnings_json(const struct pool_warning *list, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(a, o)) {
			cJSON_Delete(o);
			cJSON_Delete(a);
			return NULL;
		}
		cJSON_AddStringToObject(o, "id", list[i].id);
		cJSON_AddStringToObject(o, "name", list[i].name);
		cJSON_AddNumberToObject(o, "days_left", (double)list[i].days_left);
		add_time(o, "returns_to_pool_at", list[i].deadline);
		add_time(o, "last_follow_up", list[i].last_follow_up);
	}
	return a;
}

void pool_warnings_print(FILE *f, const struct pool_rules *rules,
			 const struct pool_warning *list, size_t n)
{
	static const char *const head[] = {"days left", "customer", "last follow-up",
					   "returns to pool", "id"};
	struct out_table t;

	fprintf(f, "returning to the pool within %lld day%s without a follow-up (%zu)%s\n",
		(long long)rules->warn_days, rules->warn_days == 1 ? "" : "s", n,
		rules->from_server ? "" : " [default rules: sync to get the server's]");
	if (n == 0) {
		fputs("  none: every customer of yours has been followed up recently\n", f);
		return;
	}
	if (out_table_init(&t, 5, head) != CRM_OK)
		return;
	out_table_align_right(&t, 0);
	for (size_t i = 0; i < n; i++) {
		char days[32], last[CRM_TIME_ISO_MAX], due[CRM_TIME_ISO_MAX];
		const char *cells[5];

		if (list[i].days_left == 0)
			snprintf(days, sizeof days, "due now");
		else
			snprintf(days, sizeof days, "%lld", (long long)list[i].days_left);
		crm_time_format_local(list[i].last_follow_up, last);
		crm_time_format_local(list[i].deadline, due);
		cells[0] = days;
		cells[1] = list[i].name;
		cells[2] = last;
		cells[3] = due;
		cells[4] = list[i].id;
		if (out_table_add(&t, cells) != CRM_OK)
			break;
	}
	out_table_print(&t, f, 40);
	out_table_release(&t);
	fputs("  log a visit or call (crm visit REF --note ...) to keep them\n", f);
}

/* ---- talking to the server -------------------------------------------- */

static char *state(struct replica *r, const char *key)
{
	char *v = NULL;

	if (sync_state_get(r->sync, key, &v, NULL) != CRM_OK)
		return NULL;
	return v;
}

/* The bearer token crm login saved beside the replica (REPLICA.token), malloc()ed. */
static char *read_token(const struct replica *r, struct crm_error *err)
{
	size_t n = strlen(r->path) + sizeof ".token";
	char *path = malloc(n);
	char buf[256];
	FILE *f;
	size_t len;

	if (!path) {
		crm_fail(err, CRM_ENOMEM, "out of memory");
		return NULL;
	}
	snprintf(path, n, "%s.token", r->path);
	f = fopen(path, "r");
	free(path);
	if (!f) {
		crm_fail(err, CRM_EAUTH, "not logged in: crm login --server URL --user NAME");
		return NULL;
	}
	if (!fgets(buf, sizeof buf, f))
		buf[0] = '\0';
	fclose(f);
	len = strlen(buf);
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (!len) {
		crm_fail(err, CRM_EAUTH, "the saved token is empty: crm login again");
		return NULL;
	}
	return strdup(buf);
}

/*
 * POSTs body to path on the replica's server; *ans gets the answer. Keeps
 * the pool rules the answer carries. Offline: CRM_ENET with a message that
 * says to connect and retry; a refusal: the server's message alone.
 */
static enum crm_err online(struct replica *rep, const char *what, const char *path,
			   const cJSON *body, cJSON **ans, struct crm_error *err)
{
	struct http_client h;
	char *server = state(rep, "server");
	char *cacert = state(rep, "cacert");
	char *token = NULL;
	enum crm_err rc = CRM_OK;

	memset(&h, 0, sizeof h);
	*ans = NULL;
	if (!server) {
		rc = crm_fail(err, CRM_EAUTH, "%s needs the server, and this replica is not logged in: "
			      "crm login --server URL --user NAME", what);
		goto out;
	}
	token = read_token(rep, err);
	if (!token) {
		rc = err->code;
		goto out;
	}
	rc = http_init(&h, server, cacert && cacert[0] ? cacert : NULL, err);
	if (rc == CRM_OK)
		rc = http_post(&h, path, token, body, POOL_TIMEOUT_MS, ans, err);
	if (rc == CRM_ENET) {
		char why[CRM_ERRMSG_MAX];

		snprintf(why, sizeof why, "%s", err->msg);
		crm_fail(err, CRM_ENET,
			 "cannot reach the server %s (%s): %s works only online: connect to the "
			 "network and retry",
			 server, why, what);
		goto out;
	}
	if (rc != CRM_OK) {
		/* "server said 409: <message>": the message is what a person needs. */
		const char *colon = strstr(err->msg, ": ");

		if (strncmp(err->msg, "server said ", 12) == 0 && colon) {
			char msg[CRM_ERRMSG_MAX];

			snprintf(msg, sizeof msg, "%s", colon + 2);
			snprintf(err->msg, sizeof err->msg, "%s", msg);
		}
		goto out;
	}
	{
		const cJSON *pool = cJSON_GetObjectItemCaseSensitive(*ans, "pool");

		if (pool)
			pool_rules_store(rep, pool, NULL);
	}
out:
	http_release(&h);
	free(server);
	free(cacert);
	free(token);
	return rc;
}

static const char *json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- crm pool list ---------------------------------------------------- */

static int pool_list(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct cli_extra extras[] = {
		{"city", "C", "only customers whose city contains C"},
		{"industry", "I", "only customers whose industry contains I"},
		{NULL, NULL, NULL}};
	static const char *const examples[] = {"crm pool list", "crm pool list --city 深圳",
					       "crm pool list --industry software --json", NULL};
	const unsigned accept = CLI_JSON | CLI_LIMIT;
	const char *usage = "crm pool list [--city C] [--industry I] [--limit N] [--json]";
	struct cli_args a;
	struct replica rep = {0};
	struct crm_error err;
	cJSON *body = NULL, *ans = NULL;
	const cJSON *list, *x;
	enum crm_err rc;
	int status = 0;

	crm_error_clear(&err);
	rc = cli_parse(argc, argv, 1, NULL, accept, extras, &a, &err);
	if (rc == CRM_OK && a.help) {
		cli_help(stdout, usage,
			 "Lists the customers in the public pool (公海), which any rep may claim. "
			 "Asks the server: needs the network.",
			 NULL, accept, extras, examples);
		goto out;
	}
	if (rc == CRM_OK && a.npos)
		rc = crm_fail(&err, CRM_EUSAGE, "unexpected argument \"%s\" (usage: %s)", a.pos[0], usage);
	if (rc == CRM_OK)
		rc = replica_open(ctx->db_path, &rep, &err);
	if (rc == CRM_OK) {
		body = cJSON_CreateObject();
		if (!body)
			rc = crm_fail(&err, CRM_ENOMEM, "out of memory");
	}
	if (rc == CRM_OK) {
		if (a.extra[0])
			cJSON_AddStringToObject(body, "city", a.extra[0]);
		if (a.extra[1])
			cJSON_AddStringToObject(body, "industry", a.extra[1]);
		/* For people the first 50 by name unless --limit; programs get all. */
		if (a.limit >= 0)
			cJSON_AddNumberToObject(body, "limit", (double)a.limit);
		else if (!(a.json || ctx->json))
			cJSON_AddNumberToObject(body, "limit", (double)PEOPLE_LIMIT);
		rc = online(&rep, "crm pool list", "/v1/pool/list", body, &ans, &err);
	}
	if (rc != CRM_OK) {
		status = cli_report("pool list", &err);
		goto out;
	}
	list = cJSON_GetObjectItemCaseSensitive(ans, "customers");
	if (a.json || ctx->json) {
		out_json_print(list ? list : cJSON_GetObjectItemCaseSensitive(ans, "customers"), stdout);
		goto out;
	}
	{
		static const char *const head[] = {"customer", "city", "industry", "stage",
						   "previous owner", "id"};
		static const char *const keys[] = {"name", "city", "industry", "stage",
						   "previous_owner", "id"};
		struct out_table t;
		int n = cJSON_GetArraySize(list);

		printf("customers in the pool%s (%d)\n", a.extra[0] || a.extra[1] ? " matching" : "", n);
		if (n == 0) {
			puts("  none");
			goto out;
		}
		if (out_table_init(&t, 6, head) != CRM_OK)
			goto out;
		cJSON_ArrayForEach(x, list) {
			const char *cells[6];

			for (size_t k = 0; k < 6; k++)
				cells[k] = json_str(x, keys[k]);
			if (out_table_add(&t, cells) != CRM_OK)
				break;
		}
		out_table_print(&t, stdout, 40);
		out_table_release(&t);
		if (a.limit < 0 && n == PEOPLE_LIMIT)
			printf("(the first %d by name: --limit N or --city/--industry for others)\n",
			       PEOPLE_LIMIT);
		puts("claim one with: crm pool claim REF (its name or id)");
	}
out:
	cJSON_Delete(body);
	cJSON_Delete(ans);
	replica_close(&rep);
	cli_args_release(&a);
	return status;
}

/* ---- crm pool claim / crm release ------------------------------------- */

/* Brings the change to this laptop: the claimed customer in, a released one out. */
static int follow_with_sync(struct cli_ctx *ctx)
{
	char name[] = "sync";
	char *argv[] = {name, NULL};
	struct cli_ctx quiet = *ctx;

	quiet.json = false;
	fflush(stdout);
	return cmd_sync(1, argv, &quiet);
}

/* One ownership change the server makes on request. */
struct change_op {
	const char *what, *usage, *summary, *path;
	const struct cli_extra *extras;
	const char *const *examples;
	size_t npos;        /* REF, or REF USER */
	bool resolve_local; /* REF names a customer of this replica */
	int note;           /* index of --note in extras, -1 */
	int no_sync;        /* index of --no-sync in extras */
};

static const struct cli_extra claim_extras[] = {
	{"no-sync", NULL, "do not sync right after (the next crm sync brings it)"},
	{NULL, NULL, NULL}};
static const struct cli_extra release_extras[] = {
	{"note", "TEXT", "why (kept in the ownership audit)"},
	{"no-sync", NULL, "do not sync right after (the next crm sync removes it)"},
	{NULL, NULL, NULL}};
static const char *const claim_examples[] = {"crm pool claim 华信", "crm pool claim \"ACME Trading\"",
					     "crm pool claim 0190f3a2 --json", NULL};
static const char *const release_examples[] = {"crm release 华信 --note \"客户已转向竞争对手\"",
					       "crm release \"ACME Trading\"", NULL};
static const char *const assign_examples[] = {"crm pool assign 华信 carol --note \"张总休假\"",
					      "crm pool assign \"ACME Trading\" alice", NULL};

static const struct change_op op_claim = {
	"pool claim", "crm pool claim REF [--no-sync] [--json]",
	"Claims a customer from the public pool: first come, first served, on the server "
	"(needs the network). Refused when someone was first, when you own pool.claim_limit "
	"customers, or during the lock-out after you owned it. A sync then brings the "
	"customer to this laptop.",
	"/v1/pool/claim", claim_extras, claim_examples, 1, false, -1, 0};
static const struct change_op op_release = {
	"release", "crm release REF [--note TEXT] [--no-sync] [--json]",
	"Gives a customer of yours back to the public pool (needs the network). You may not "
	"claim it again during the lock-out. A sync then removes it from this laptop, after "
	"pushing your edits to it.",
	"/v1/pool/release", release_extras, release_examples, 1, true, 0, 1};
static const struct change_op op_assign = {
	"pool assign", "crm pool assign REF USER [--note TEXT] [--no-sync] [--json]",
	"Gives a customer to USER (needs the network): a manager within their team (a "
	"customer in the pool or owned in the team, to a member of the team), an admin "
	"anywhere. The next sync of each laptop concerned moves it.",
	"/v1/pool/assign", release_extras, assign_examples, 2, true, 0, 1};

static int change_cmd(int argc, char **argv, struct cli_ctx *ctx, const struct change_op *op)
{
	const unsigned accept = CLI_JSON;
	struct cli_args a;
	struct replica rep = {0};
	struct crm_error err;
	cJSON *body = NULL, *ans = NULL;
	char id[CRM_ID_SIZE];
	const char *ref = NULL, *note = NULL;
	bool no_sync = false, json = false;
	enum crm_err rc;
	int status = 0;

	crm_error_clear(&err);
	rc = cli_parse(argc, argv, 1, NULL, accept, op->extras, &a, &err);
	if (rc == CRM_OK && a.help) {
		cli_help(stdout, op->usage, op->summary, NULL, accept, op->extras, op->examples);
		goto out;
	}
	if (rc == CRM_OK && a.npos != op->npos)
		rc = crm_fail(&err, CRM_EUSAGE, "%s (usage: %s)",
			      a.npos < op->npos && a.npos == 1 ? "to whom?" : "which customer?", op->usage);
	if (rc != CRM_OK)
		goto fail;
	ref = a.pos[0];
	json = a.json || ctx->json;
	no_sync = a.extra[op->no_sync] != NULL;
	note = op->note >= 0 ? a.extra[op->note] : NULL;
	rc = replica_open(ctx->db_path, &rep, &err);
	if (rc != CRM_OK)
		goto fail;
	/* A customer this laptop has: resolve it here, where the rep's customers are. */
	if (op->resolve_local &&
	    rows_resolve(rep.db, schema_table_find("customers"), ref, id, NULL) == CRM_OK)
		ref = id;
	body = cJSON_CreateObject();
	if (!body || !cJSON_AddStringToObject(body, "customer", ref)) {
		rc = crm_fail(&err, CRM_ENOMEM, "out of memory");
		goto fail;
	}
	if (op->npos == 2)
		cJSON_AddStringToObject(body, "to", a.pos[1]);
	if (note)
		cJSON_AddStringToObject(body, "note", note);
	rc = online(&rep, op == &op_claim ? "crm pool claim" : op == &op_release ? "crm release"
										     : "crm pool assign",
		    op->path, body, &ans, &err);
	if (rc != CRM_OK)
		goto fail;
	replica_close(&rep);
	if (json) {
		out_json_print(ans, stdout);
	} else {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(ans, "customer");
		const char *name = json_str(c, "name");
		const char *cid = json_str(c, "id");
		const char *to = json_str(ans, "to");
		bool unchanged = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ans, "unchanged"));

		if (!name || !name[0])
			name = "(no name)";
		if (!cid)
			cid = "?";
		if (op == &op_claim)
			printf(unchanged ? "%s (%s) is already yours\n" : "claimed %s (%s): it is yours now\n",
			       name, cid);
		else if (op == &op_release)
			printf(unchanged ? "%s (%s) is already in the pool\n"
					 : "released %s (%s) to the pool\n",
			       name, cid);
		else
			printf(unchanged ? "%s (%s) already belongs to %s\n" : "assigned %s (%s) to %s\n",
			       name, cid, to ? to : "?");
		if (!no_sync && !unchanged && follow_with_sync(ctx) != 0)
			fprintf(stderr, "crm: %s: done on the server; run crm sync to bring the change "
					"to this laptop\n", op->what);
	}
	goto out;
fail:
	status = cli_report(op->what, &err);
out:
	cJSON_Delete(body);
	cJSON_Delete(ans);
	replica_close(&rep);
	cli_args_release(&a);
	return status;
}

static int pool_claim(int argc, char **argv, struct cli_ctx *ctx)
{
	return change_cmd(argc, argv, ctx, &op_claim);
}

static int pool_assign(int argc, char **argv, struct cli_ctx *ctx)
{
	return change_cmd(argc, argv, ctx, &op_assign);
}

int cmd_release(int argc, char **argv, struct cli_ctx *ctx)
{
	return change_cmd(argc, argv, ctx, &op_release);
}

int cmd_pool(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct cli_command subs[] = {
		{"list", pool_list, "the customers in the public pool (online)"},
		{"claim", pool_claim, "claim a customer from the pool (online)"},
		{"assign", pool_assign, "give a customer to someone in your team (managers, online)"},
	};

	return cli_dispatch(subs, sizeof subs / sizeof subs[0], argc, argv, ctx);
}
