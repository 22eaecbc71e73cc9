/* Front ends of the pool: admin commands, /v1/pool routes, the recycling timer. */
#include "srv_poolcmd.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crm_time.h"
#include "crm_utf8.h"
#include "srv_audit.h"
#include "srv_args.h"
#include "srv_config.h"
#include "srv_db.h"
#include "srv_pool.h"
#include "srv_out.h"

/* ---- admin commands --------------------------------------------------- */

struct popts {
	const char *db, *city, *industry, *note;
	bool json;
	size_t limit;
	const char *pos[4];
	size_t npos;
};

static int pfail(const struct crm_error *err)
{
	fprintf(stderr, "crm-server: %s\n", err->msg);
	return 1;
}

static int pusage(const char *line)
{
	fprintf(stderr, "crm-server: usage: %s\n", line);
	return 2;
}

static int pparse(int argc, char **argv, struct popts *o)
{
	const char *limit = NULL;
	const struct srv_arg specs[] = {
		{"--json", &o->json, NULL},         {"--db", NULL, &o->db},
		{"--city", NULL, &o->city},         {"--industry", NULL, &o->industry},
		{"--note", NULL, &o->note},         {"--limit", NULL, &limit},
		{NULL, NULL, NULL},
	};
	int rc;

	memset(o, 0, sizeof *o);
	o->db = getenv("CRM_SERVER_DB");
	rc = srv_args_parse(argc, argv, specs, o->pos, sizeof o->pos / sizeof o->pos[0], &o->npos);
	if (rc == 0 && limit)
		rc = srv_args_count("--limit", limit, &o->limit);
	return rc ? rc : srv_args_need_db(o->db);
}

static const char *or_pool(const char *owner)
{
	return owner && owner[0] ? owner : "(pool)";
}

static void add_owner(cJSON *o, const char *key, const char *owner)
{
	if (owner && owner[0])
		cJSON_AddStringToObject(o, key, owner);
	else
		cJSON_AddNullToObject(o, key);
}

static void add_time(cJSON *o, const char *key, int64_t ms)
{
	char when[CRM_TIME_ISO_MAX];

	crm_time_format_utc(ms, when);
	cJSON_AddStringToObject(o, key, when);
}

static int config_run(struct popts *o, sqlite3 *db)
{
	struct crm_error err;
	size_t n = srv_config_count();
	struct srv_config_entry *e = NULL;
	const char *verb = o->npos ? o->pos[0] : "";
	int rc = 0;

	if (strcmp(verb, "set") == 0) {
		char norm[SRV_CONFIG_VALUE_MAX];
		enum crm_err r;

		if (o->npos != 3)
			return pusage("config set KEY VALUE --db PATH (see config list for the keys)");
		r = srv_config_set(db, o->pos[1], o->pos[2], norm, &err);
		if (r == CRM_ENOTFOUND) {
			fprintf(stderr, "crm-server: %s\n", err.msg);
			return 2;
		}
		if (r != CRM_OK)
			return pfail(&err);
		printf("%s = %s\n", o->pos[1], norm);
		return 0;
	}
	if (strcmp(verb, "list") != 0 && strcmp(verb, "get") != 0)
		return pusage("config set KEY VALUE | config get KEY | config list [--json]  --db PATH");
	if ((strcmp(verb, "get") == 0) != (o->npos == 2) || o->npos > 2)
		return pusage("config get KEY | config list [--json]  --db PATH");
	e = calloc(n, sizeof *e);
	if (!e) {
		fprintf(stderr, "crm-server: out of memory\n");
		return 1;
	}
	if (srv_config_list(db, e, &err) != CRM_OK) {
		rc = pfail(&err);
		goto out;
	}
	if (strcmp(verb, "get") == 0) {
		for (size_t i = 0; i < n; i++) {
			if (strcmp(e[i].key, o->pos[1]) == 0) {
				printf("%s\n", e[i].value);
				goto out;
			}
		}
		fprintf(stderr, "crm-server: unknown setting \"%s\" (see config list)\n", o->pos[1]);
		rc = 2;
		goto out;
	}
	if (o->json) {
		/* {"pool.recycle_days": 30, ..., "pool.exempt_open_deals": true} */
		cJSON *m = cJSON_CreateObject();

		for (size_t i = 0; m && i < n; i++) {
			char *end = NULL;
			long long v = strtoll(e[i].value, &end, 10);

			if (end && !*end && end != e[i].value)
				cJSON_AddNumberToObject(m, e[i].key, (double)v);
			else
				cJSON_AddBoolToObject(m, e[i].key, strcmp(e[i].value, "on") == 0);
		}
		srv_out_json(m);
		cJSON_Delete(m);
		goto out;
	}
	srv_out_padded("KEY", 26);
	srv_out_padded("VALUE", 8);
	srv_out_padded("", 10);
	puts("MEANING");
	for (size_t i = 0; i < n; i++) {
		srv_out_padded(e[i].key, 26);
		srv_out_padded(e[i].value, 8);
		srv_out_padded(e[i].is_default ? "(default)" : "", 10);
		puts(e[i].help);
	}
out:
	free(e);
	return rc;
}

static int recycle_run(struct popts *o, sqlite3 *db)
{
	struct srv_pool_change *v = NULL;
	size_t n = 0;
	struct crm_error err;

	if (o->npos != 1)
		return pusage("pool recycle [--json] --db PATH");
	if (srv_pool_recycle(db, crm_now_ms(), &v, &n, &err) != CRM_OK)
		return pfail(&err);
	if (o->json) {
		cJSON *root = cJSON_CreateObject();
		cJSON *a = root ? cJSON_AddArrayToObject(root, "recycled") : NULL;

		for (size_t i = 0; a && i < n; i++) {
			cJSON *x = cJSON_CreateObject();

			if (!x)
				break;
			cJSON_AddStringToObject(x, "id", v[i].customer);
			cJSON_AddStringToObject(x, "name", v[i].name);
			cJSON_AddStringToObject(x, "previous_owner", v[i].old_owner);
			add_time(x, "last_follow_up", v[i].last_follow_up);
			add_time(x, "at", v[i].at);
			cJSON_AddItemToArray(a, x);
		}
		if (root)
			cJSON_AddNumberToObject(root, "count", (double)n);
		srv_out_json(root);
		cJSON_Delete(root);
	} else {
		printf("recycled %zu customer%s to the pool\n", n, n == 1 ? "" : "s");
		for (size_t i = 0; i < n; i++) {
			char day[CRM_TIME_ISO_MAX];

			crm_time_format_utc(v[i].last_follow_up, day);
			printf("  %s  %s  from %s (no follow-up since %.10s)\n", v[i].customer,
			       v[i].name[0] ? v[i].name : "(no name)", v[i].old_owner, day);
		}
	}
	free(v);
	return 0;
}

static int list_run(struct popts *o, sqlite3 *db)
{
	cJSON *a = NULL, *x;
	struct crm_error err;

	if (o->npos != 1)
		return pusage("pool list [--city C] [--industry I] [--limit N] [--json] --db PATH");
	if (srv_pool_list(db, o->city, o->industry, o->limit, &a, &err) != CRM_OK)
		return pfail(&err);
	if (o->json) {
		srv_out_json(a);
		cJSON_Delete(a);
		return 0;
	}
	srv_out_padded("ID", 38);
	srv_out_padded("NAME", 32);
	srv_out_padded("CITY", 12);
	srv_out_padded("INDUSTRY", 14);
	puts("PREVIOUS OWNER");
	cJSON_ArrayForEach(x, a)
	{
		const char *keys[] = {"id", "name", "city", "industry", "previous_owner"};
		size_t widths[] = {38, 32, 12, 14, 0};

		for (size_t k = 0; k < 5; k++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(x, keys[k]);
			const char *s = cJSON_IsString(v) ? v->valuestring : "-";

			if (widths[k])
				srv_out_padded(s, widths[k]);
			else
				puts(s);
		}
	}
	printf("%d customer%s in the pool\n", cJSON_GetArraySize(a),
	       cJSON_GetArraySize(a) == 1 ? "" : "s");
	cJSON_Delete(a);
	return 0;
}

static void print_change(const struct srv_pool_change *c, const char *verb)
{
	printf("%s %s (%s): %s -> %s\n", verb, c->name[0] ? c->name : "(no name)", c->customer,
	       or_pool(c->old_owner), or_pool(c->new_owner));
}

static int assign_run(struct popts *o, sqlite3 *db)
{
	struct srv_pool_change c;
	struct crm_error err;
	char id[37];

	if (o->npos != 3)
		return pusage("pool assign REF USER [--note TEXT] --db PATH");
	if (srv_pool_resolve(db, o->pos[1], SRV_AMONG_ALL, NULL, id, &err) != CRM_OK)
		return pfail(&err);
	if (srv_pool_assign(db, NULL, id, o->pos[2], o->note, &c, &err) != CRM_OK)
		return pfail(&err);
	if (c.unchanged)
		printf("%s (%s) already belongs to %s\n", c.name, c.customer, c.new_owner);
	else
		print_change(&c, c.old_owner[0] ? "transferred" : "assigned");
	return 0;
}

static int release_run(struct popts *o, sqlite3 *db)
{
	struct srv_pool_change c;
	struct crm_error err;
	char id[37];

	if (o->npos != 2)
		return pusage("pool release REF [--note TEXT] --db PATH");
	if (srv_pool_resolve(db, o->pos[1], SRV_AMONG_ALL, NULL, id, &err) != CRM_OK)
		return pfail(&err);
	if (srv_pool_release(db, NULL, id, o->note, &c, &err) != CRM_OK)
		return pfail(&err);
	if (c.unchanged)
		printf("%s (%s) is already in the pool\n", c.name, c.customer);
	else
		print_change(&c, "released");
	return 0;
}

/* Opens the database with the sync core (ownership edits must be captured) and runs fn. */
static int with_db(int argc, char **argv, int (*fn)(struct popts *, sqlite3 *))
{
	struct popts o;
	struct srv_db d;
	struct crm_error err;
	int rc = pparse(argc, argv, &o);

	if (rc != 0)
		return rc;
	if (srv_db_open(o.db, SRV_DB_SYNC, &d, &err) != CRM_OK)
		return pfail(&err);
	rc = fn(&o, d.db);
	srv_db_close(&d);
	return rc;
}

int srv_cmd_config(int argc, char **argv)
{
	return with_db(argc, argv, config_run);
}

static int pool_run(struct popts *o, sqlite3 *db)
{
	const char *verb = o->npos ? o->pos[0] : "";

	if (strcmp(verb, "recycle") == 0)
		return recycle_run(o, db);
	if (strcmp(verb, "list") == 0)
		return list_run(o, db);
	if (strcmp(verb, "assign") == 0)
		return assign_run(o, db);
	if (strcmp(verb, "release") == 0)
		return release_run(o, db);
	return pusage("pool recycle | pool list [--city C] [--industry I] | pool assign REF USER |"
		      " pool release REF  [--json] --db PATH");
}

int srv_cmd_pool(int argc, char **argv)
{
	return with_db(argc, argv, pool_run);
}

static int audit_run(struct popts *o, sqlite3 *db)
{
	struct srv_audit_entry *v = NULL;
	size_t n = 0;
	struct crm_error err;
	char id[37];

	if (o->npos != 2 || strcmp(o->pos[0], "customer") != 0)
		return pusage("audit customer REF [--json] --db PATH");
	if (srv_pool_resolve(db, o->pos[1], SRV_AMONG_ALL, NULL, id, &err) != CRM_OK)
		return pfail(&err);
	if (srv_audit_customer(db, id, &v, &n, &err) != CRM_OK)
		return pfail(&err);
	if (o->json) {
		cJSON *a = cJSON_CreateArray();

		for (size_t i = 0; a && i < n; i++) {
			cJSON *x = cJSON_CreateObject();

			if (!x)
				break;
			cJSON_AddStringToObject(x, "customer", id);
			add_time(x, "at", v[i].at);
			add_owner(x, "from", v[i].old_owner);
			add_owner(x, "to", v[i].new_owner);
			add_owner(x, "by", v[i].by);
			cJSON_AddStringToObject(x, "reason", v[i].reason);
			cJSON_AddItemToArray(a, x);
		}
		srv_out_json(a);
		cJSON_Delete(a);
	} else {
		printf("ownership of customer %s\n", id);
		srv_out_padded("WHEN (UTC)", 18);
		srv_out_padded("FROM", 14);
		srv_out_padded("TO", 14);
		srv_out_padded("BY", 14);
		puts("WHY");
		for (size_t i = 0; i < n; i++) {
			char when[CRM_TIME_ISO_MAX];

			crm_time_format_utc(v[i].at, when);
			when[16] = '\0';
			when[10] = ' ';
			srv_out_padded(when, 18);
			srv_out_padded(or_pool(v[i].old_owner), 14);
			srv_out_padded(or_pool(v[i].new_owner), 14);
			srv_out_padded(v[i].by[0] ? v[i].by : "-", 14);
			puts(v[i].reason);
		}
		if (n == 0)
			puts("(no change of owner recorded)");
	}
	free(v);
	return 0;
}

int srv_cmd_audit(int argc, char **argv)
{
	return with_db(argc, argv, audit_run);
}

/* ---- routes ----------------------------------------------------------- */

static const char *str_member(const cJSON *o, const char *key)
{
	const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* An error answer whose code says why an ownership change was refused. */
static void refusal_resp(struct srv_resp *resp, enum crm_err rc, const char *refusal,
			 const struct crm_error *err)
{
	unsigned st;
	const char *code = NULL;

	if (rc == CRM_EAMBIGUOUS) {
		st = 409;
		code = "ambiguous";
	} else if (refusal && refusal[0]) {
		code = refusal;
		if (strcmp(refusal, "taken") == 0)
			st = 409;
		else if (strcmp(refusal, "notfound") == 0 || strcmp(refusal, "nouser") == 0)
			st = 404;
		else
			st = 403;
	} else {
		st = srv_status_of(rc, &code);
	}
	srv_resp_error(resp, st, code, "%s", err->msg[0] ? err->msg : crm_strerror(rc));
}

cJSON *srv_pool_rules_object(sqlite3 *db)
{
	struct srv_pool_rules r;

	if (srv_config_rules(db, &r, NULL) != CRM_OK)
		return NULL;
	return srv_config_rules_json(&r);
}

static cJSON *change_json(const struct srv_pool_change *c, sqlite3 *db)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *x;

	if (!o)
		return NULL;
	x = cJSON_AddObjectToObject(o, "customer");
	if (x) {
		cJSON_AddStringToObject(x, "id", c->customer);
		cJSON_AddStringToObject(x, "name", c->name);
	}
	add_owner(o, "from", c->old_owner);
	add_owner(o, "to", c->new_owner);
	cJSON_AddBoolToObject(o, "unchanged", c->unchanged);
	add_time(o, "at", c->at);
	x = srv_pool_rules_object(db);
	if (x)
		cJSON_AddItemToObject(o, "pool", x);
	return o;
}

void srv_route_pool_rules(void *ctx, struct srv_req *req, struct srv_resp *resp)
{
	struct srv_app *app = ctx;
	struct srv_session who;
	struct srv_db *r;
	cJSON *o;

	if (!srv_authenticate(app, req, resp, &who))
		return;
	r = srv_app_reader_get(app);
	o = srv_pool_rules_object(r->db);
	srv_app_reader_put(app, r);
	if (!o) {
		srv_resp_error(resp, 500, "internal", "cannot read the pool rules");
		return;
	}
	resp->status = 200;
	resp->json = cJSON_CreateObject();
	if (resp->json)
		cJSON_AddItemToObject(resp->json, "pool", o);
	else
		cJSON_Delete(o);
}

void srv_route_pool_list(void *ctx, struct srv_req *req, struct srv_resp *resp)
{
	struct srv_app *app = ctx;
	struct srv_session who;
	struct crm_error err;
	struct srv_db *r;
	cJSON *a = NULL, *rules = NULL;
	const cJSON *lim = cJSON_GetObjectItemCaseSensitive(req->json, "limit");
	size_t limit = 0;
	enum crm_err rc;

	if (!srv_authenticate(app, req, resp, &who))
		return;
	if (lim && !(cJSON_IsNumber(lim) && lim->valuedouble >= 0 && lim->valuedouble <= 1e9)) {
		srv_resp_error(resp, 422, "invalid", "\"limit\" must be a number from 0 (all) up");
		return;
	}
	if (lim)
		limit = (size_t)lim->valuedouble;
	r = srv_app_reader_get(app);
	sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL);
	rc = srv_pool_list(r->db, str_member(req->json, "city"), str_member(req->json, "industry"),
			   limit, &a, &err);
	if (rc == CRM_OK)
		rules = srv_pool_rules_object(r->db);
	sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	srv_app_reader_put(app, r);
	if (rc != CRM_OK) {
		refusal_resp(resp, rc, NULL, &err);
		return;
	}
	resp->status = 200;
	resp->json = cJSON_CreateObject();
	if (!resp->json) {
		cJSON_Delete(a);
		cJSON_Delete(rules);
		return;
	}
	cJSON_AddItemToObject(resp->json, "customers", a);
	if (rules)
		cJSON_AddItemToObject(resp->json, "pool", rules);
}

enum pool_op { OP_CLAIM, OP_RELEASE, OP_ASSIGN };

static void pool_change_route(struct srv_app *app, struct srv_req *req, struct srv_resp *resp,
			      enum pool_op op)
{
	struct srv_session who;
	struct srv_pool_change c;
	struct crm_error err;
	const char *ref = str_member(req->json, "customer");
	const char *to = str_member(req->json, "to");
	const char *note = str_member(req->json, "note");
	char id[37];
	enum crm_err rc;
	sqlite3 *db = app->writer.db;

	memset(&c, 0, sizeof c);
	crm_error_clear(&err);
	if (!srv_authenticate(app, req, resp, &who))
		return;
	if (!ref || !ref[0]) {
		srv_resp_error(resp, 400, "malformed",
			       "the body needs {\"customer\": \"id, name or ext_ref\"}");
		return;
	}
	if (op == OP_ASSIGN && (!to || !to[0])) {
		srv_resp_error(resp, 400, "malformed", "assign needs {\"customer\": ..., \"to\": \"user\"}");
		return;
	}
	pthread_mutex_lock(&app->write_lock);
	if (op == OP_CLAIM) {
		rc = srv_pool_resolve(db, ref, SRV_AMONG_POOL, NULL, id, &err);
		/* Not in the pool: name who has it (someone was first, 撞单). */
		if (rc == CRM_ENOTFOUND)
			rc = srv_pool_resolve(db, ref, SRV_AMONG_ALL, NULL, id, &err);
	}
	else if (op == OP_RELEASE && who.user.role == SRV_REP)
		rc = srv_pool_resolve(db, ref, SRV_AMONG_OWNED, who.user.name, id, &err);
	else
		rc = srv_pool_resolve(db, ref, SRV_AMONG_ALL, NULL, id, &err);
	if (rc == CRM_OK) {
		if (op == OP_CLAIM)
			rc = srv_pool_claim(db, &who.user, id, &c, &err);
		else if (op == OP_RELEASE)
			rc = srv_pool_release(db, &who.user, id, note, &c, &err);
		else
			rc = srv_pool_assign(db, &who.user, id, to, note, &c, &err);
	}
	if (rc == CRM_OK)
		resp->json = change_json(&c, db);
	pthread_mutex_unlock(&app->write_lock);
	if (rc != CRM_OK) {
		refusal_resp(resp, rc, c.refusal, &err);
		return;
	}
	resp->status = resp->json ? 200 : 500;
}

void srv_route_pool_claim(void *app, struct srv_req *req, struct srv_resp *resp)
{
	pool_change_route(app, req, resp, OP_CLAIM);
}

void srv_route_pool_release(void *app, struct srv_req *req, struct srv_resp *resp)
{
	pool_change_route(app, req, resp, OP_RELEASE);
}

void srv_route_pool_assign(void *app, struct srv_req *req, struct srv_resp *resp)
{
	pool_change_route(app, req, resp, OP_ASSIGN);
}

/* ---- the recycling timer ---------------------------------------------- */

struct srv_pool_timer {
	struct srv_app *app;
	int64_t every_ms;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
};

int64_t srv_pool_timer_interval_ms(void)
{
	const char *s = getenv("CRM_POOL_INTERVAL");
	char *end = NULL;
	long long v;

	if (!s || !*s)
		return 60000;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || !end || *end || v < 0 || v > 86400)
		return 60000;
	return (int64_t)v * 1000;
}

static void sweep(struct srv_app *app)
{
	struct srv_pool_change *v = NULL;
	size_t n = 0;
	struct crm_error err;
	enum crm_err rc;
	struct srv_db *r = srv_app_reader_get(app);
	int64_t now = crm_now_ms();

	/* Scan on a reader (no write lock held); write only what is due. */
	rc = srv_pool_due(r->db, now, &v, &n, &err);
	srv_app_reader_put(app, r);
	if (rc == CRM_OK && n) {
		pthread_mutex_lock(&app->write_lock);
		rc = srv_pool_recycle_due(app->writer.db, now, v, &n, &err);
		pthread_mutex_unlock(&app->write_lock);
	}
	if (rc != CRM_OK) {
		fprintf(stderr, "crm-server: pool: recycling failed (will retry): %s\n", err.msg);
		free(v);
		return;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "crm-server: pool: recycled %s (%s) from %s\n", v[i].customer,
			v[i].name[0] ? v[i].name : "no name", v[i].old_owner);
	fflush(stderr);
	free(v);
}

static void *timer_main(void *p)
{
	struct srv_pool_timer *t = p;

	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		struct timespec until;

		pthread_mutex_unlock(&t->lock);
		sweep(t->app);
		pthread_mutex_lock(&t->lock);
		/* A monotonic deadline: waiting is not reading the time of day. */
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)(t->every_ms / 1000);
		until.tv_nsec += (long)(t->every_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!t->stop && pthread_cond_timedwait(&t->wake, &t->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

enum crm_err srv_pool_timer_start(struct srv_app *app, int64_t every_ms,
				  struct srv_pool_timer **out, struct crm_error *err)
{
	struct srv_pool_timer *t = calloc(1, sizeof *t);
	pthread_condattr_t ca;

	*out = NULL;
	if (every_ms <= 0) {
		free(t);
		return CRM_OK; /* no timer: recycling only on demand */
	}
	if (!t)
		return crm_fail(err, CRM_ENOMEM, "out of memory");
	t->app = app;
	t->every_ms = every_ms;
	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&t->thread, NULL, timer_main, t) != 0) {
		pthread_mutex_destroy(&t->lock);
		pthread_cond_destroy(&t->wake);
		free(t);
		return crm_fail(err, CRM_EINTERNAL, "cannot start the recycling timer");
	}
	*out = t;
	return CRM_OK;
}

void srv_pool_timer_stop(struct srv_pool_timer *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->wake);
	free(t);
}
