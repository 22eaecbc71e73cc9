/* The writer connection, the reader pool, and the route table of protocol v1. */
#include "srv_app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crm_id.h"
#include "migrate.h"
#include "srv_dedup.h"
#include "srv_poolcmd.h"
#include "srv_scope.h"

/* ---- the checkpointer ------------------------------------------------- */

/* The writer's WAL hook, after each commit: pages is the WAL's length. */
static int on_wal(void *ctx, sqlite3 *db, const char *name, int pages)
{
	struct srv_app *app = ctx;

	if (pages >= 4 * SRV_CHECKPOINT_PAGES) {
		/* the checkpointer cannot keep up (readers hold the WAL): as SQLite would */
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	} else if (pages >= SRV_CHECKPOINT_PAGES) {
		pthread_mutex_lock(&app->ckpt_lock);
		app->ckpt_due = true;
		pthread_cond_signal(&app->ckpt_wake);
		pthread_mutex_unlock(&app->ckpt_lock);
	}
	return SQLITE_OK;
}

static void *checkpointer(void *ctx)
{
	struct srv_app *app = ctx;

	pthread_mutex_lock(&app->ckpt_lock);
	for (;;) {
		while (!app->ckpt_due && !app->ckpt_stop)
			pthread_cond_wait(&app->ckpt_wake, &app->ckpt_lock);
		if (app->ckpt_stop)
			break;
		app->ckpt_due = false;
		pthread_mutex_unlock(&app->ckpt_lock);
		/* PASSIVE: never waits for, nor blocks, the writer or the readers */
		sqlite3_wal_checkpoint_v2(app->ckpt_db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&app->ckpt_lock);
	}
	pthread_mutex_unlock(&app->ckpt_lock);
	return NULL;
}

static enum crm_err checkpointer_start(struct srv_app *app, const char *path, struct crm_error *err)
{
	if (sqlite3_open_v2(path, &app->ckpt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK)
		return crm_fail(err, CRM_EDB, "cannot open %s: %s", path,
				app->ckpt_db ? sqlite3_errmsg(app->ckpt_db) : "out of memory");
	sqlite3_busy_timeout(app->ckpt_db, 5000);
	/* the writer no longer checkpoints on commit: the hook hands it over */
	sqlite3_wal_hook(app->writer.db, on_wal, app);
	app->ckpt_running = pthread_create(&app->ckpt_thread, NULL, checkpointer, app) == 0;
	if (!app->ckpt_running) /* no thread: the writer checkpoints as before */
		sqlite3_wal_autocheckpoint(app->writer.db, SRV_CHECKPOINT_PAGES);
	return CRM_OK;
}

static void checkpointer_stop(struct srv_app *app)
{
	if (app->ckpt_running) {
		pthread_mutex_lock(&app->ckpt_lock);
		app->ckpt_stop = true;
		pthread_cond_signal(&app->ckpt_wake);
		pthread_mutex_unlock(&app->ckpt_lock);
		pthread_join(app->ckpt_thread, NULL);
		app->ckpt_running = false;
	}
	sqlite3_close(app->ckpt_db);
	app->ckpt_db = NULL;
}

/* ---- the app ---------------------------------------------------------- */

enum crm_err srv_app_open(struct srv_app *app, const char *path, size_t nreaders,
			  struct crm_error *err)
{
	enum crm_err rc = CRM_OK;

	memset(app, 0, sizeof *app);
	pthread_mutex_init(&app->write_lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&app->batch_done, &ca);
		pthread_condattr_destroy(&ca);
	}
	pthread_mutex_init(&app->pool_lock, NULL);
	pthread_cond_init(&app->pool_free, NULL);
	pthread_mutex_init(&app->ckpt_lock, NULL);
	pthread_cond_init(&app->ckpt_wake, NULL);
	app->limits.page_fields = 50000;
	app->limits.push_fields = 100000;
	app->limits.max_skew_ms = 5 * 60 * 1000;
	rc = srv_db_open(path, SRV_DB_SYNC, &app->writer, err);
	if (rc != CRM_OK)
		goto out;
	rc = srv_dedup_open(app->writer.db, &app->dedup, err);
	if (rc == CRM_OK)
		rc = checkpointer_start(app, path, err);
	if (rc != CRM_OK)
		goto out;
	app->readers = calloc(nreaders, sizeof *app->readers);
	app->reader_busy = calloc(nreaders, sizeof *app->reader_busy);
	if (!app->readers || !app->reader_busy) {
		rc = crm_fail(err, CRM_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nreaders; i++) {
		rc = srv_db_open(path, SRV_DB_SYNC | SRV_DB_READONLY, &app->readers[i], err);
		if (rc != CRM_OK)
			goto out;
		app->nreaders++;
	}
out:
	if (rc != CRM_OK)
		srv_app_close(app);
	return rc;
}

void srv_app_close(struct srv_app *app)
{
	checkpointer_stop(app);
	for (size_t i = 0; i < app->nreaders; i++)
		srv_db_close(&app->readers[i]);
	free(app->readers);
	free(app->reader_busy);
	app->readers = NULL;
	app->reader_busy = NULL;
	app->nreaders = 0;
	srv_dedup_free(app->dedup);
	app->dedup = NULL;
	srv_db_close(&app->writer);
	pthread_mutex_destroy(&app->write_lock);
	pthread_cond_destroy(&app->batch_done);
	pthread_mutex_destroy(&app->pool_lock);
	pthread_cond_destroy(&app->pool_free);
	pthread_mutex_destroy(&app->ckpt_lock);
	pthread_cond_destroy(&app->ckpt_wake);
}

struct srv_db *srv_app_reader_get(struct srv_app *app)
{
	struct srv_db *r = NULL;

	pthread_mutex_lock(&app->pool_lock);
	while (!r) {
		for (size_t i = 0; i < app->nreaders && !r; i++) {
			if (!app->reader_busy[i]) {
				app->reader_busy[i] = true;
				r = &app->readers[i];
			}
		}
		if (!r)
			pthread_cond_wait(&app->pool_free, &app->pool_lock);
	}
	pthread_mutex_unlock(&app->pool_lock);
	return r;
}

void srv_app_reader_put(struct srv_app *app, struct srv_db *r)
{
	pthread_mutex_lock(&app->pool_lock);
	app->reader_busy[r - app->readers] = false;
	pthread_cond_signal(&app->pool_free);
	pthread_mutex_unlock(&app->pool_lock);
}

bool srv_authenticate(struct srv_app *app, struct srv_req *req, struct srv_resp *resp,
		      struct srv_session *out)
{
	struct crm_error err;
	struct srv_db *r;
	enum crm_err rc;
	const char *h = req->authorization;

	if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
		srv_resp_error(resp, 401, "unauthorized",
			       "no bearer token: log in first (crm login --server URL --user NAME)");
		return false;
	}
	h += 7;
	while (*h == ' ')
		h++;
	r = srv_app_reader_get(app);
	rc = srv_auth(r->db, h, out, &err);
	srv_app_reader_put(app, r);
	if (rc != CRM_OK) {
		const char *code;
		unsigned st = srv_status_of(rc, &code);

		srv_resp_error(resp, st, code, "%s", err.msg);
		return false;
	}
	memcpy(req->user, out->user.name, sizeof req->user);
	memcpy(req->device, out->device.id, sizeof req->device);
	return true;
}

/* ---- routes ----------------------------------------------------------- */

static const char *str_member(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* POST /v1/login {"user","password","device"} -> {"token", ...} */
static void route_login(void *ctx, struct srv_req *req, struct srv_resp *resp)
{
	struct srv_app *app = ctx;
	const char *user = str_member(req->json, "user");
	const char *password = str_member(req->json, "password");
	const char *device = str_member(req->json, "device");
	char token[SRV_TOKEN_SIZE];
	struct srv_session s;
	struct crm_error err;
	struct srv_db *r;
	enum crm_err rc;
	cJSON *o;

	if (!user || !password) {
		srv_resp_error(resp, 400, "malformed",
			       "login needs {\"user\": ..., \"password\": ..., \"device\": ...} as strings");
		return;
	}
	if (!device || !device[0])
		device = "laptop";
	r = srv_app_reader_get(app);
	rc = srv_login(r->db, user, password, device, token, &s, &err);
	srv_app_reader_put(app, r);
	if (rc != CRM_OK) {
		const char *code;
		unsigned st = srv_status_of(rc, &code);

		srv_resp_error(resp, st, code, "%s", err.msg);
		return;
	}
	snprintf(req->user, sizeof req->user, "%s", s.user.name);
	memcpy(req->device, s.device.id, sizeof req->device);
	o = cJSON_CreateObject();
	if (o) {
		cJSON_AddNumberToObject(o, "protocol", SRV_PROTOCOL);
		cJSON_AddNumberToObject(o, "schema", schema_version());
		cJSON_AddStringToObject(o, "token", token);
		cJSON_AddStringToObject(o, "user", s.user.name);
		cJSON_AddStringToObject(o, "role", srv_role_name(s.user.role));
		if (s.user.team[0])
			cJSON_AddStringToObject(o, "team", s.user.team);
		cJSON_AddStringToObject(o, "device", s.device.id);
		cJSON_AddStringToObject(o, "site", sync_site_id(app->writer.sync));
		r = srv_app_reader_get(app);
		cJSON_AddItemToObject(o, "pool", srv_pool_rules_object(r->db));
		srv_app_reader_put(app, r);
	}
	resp->json = o;
	resp->status = 200;
}

/* GET /v1/health: is it up, which versions. No token needed. */
static void route_health(void *ctx, struct srv_req *req, struct srv_resp *resp)
{
	struct srv_app *app = ctx;
	cJSON *o = cJSON_CreateObject();

	(void)req;
	if (o) {
		cJSON_AddNumberToObject(o, "protocol", SRV_PROTOCOL);
		cJSON_AddNumberToObject(o, "schema", schema_version());
		cJSON_AddStringToObject(o, "site", sync_site_id(app->writer.sync));
		cJSON_AddStringToObject(o, "status", "ok");
	}
	resp->json = o;
	resp->status = 200;
}

/*
 * POST /v1/customer {"id"}: one customer and every row under it, if it is in
 * the caller's scope (403 if it exists but is not theirs, 404 if unknown).
 */
static void route_customer(void *ctx, struct srv_req *req, struct srv_resp *resp)
{
	struct srv_app *app = ctx;
	struct srv_session who;
	struct srv_scope sc;
	struct sync_changeset cs;
	struct crm_error err;
	struct srv_db *r;
	const char *id = str_member(req->json, "id");
	char parent[37];
	bool found = false;
	enum crm_err rc;
	cJSON *o = NULL, *rows = NULL;

	if (!srv_authenticate(app, req, resp, &who))
		return;
	if (!id || !crm_id_valid(id)) {
		srv_resp_error(resp, 422, "invalid", "\"id\" must be a customer id (a UUID)");
		return;
	}
	sync_changeset_init(&cs);
	r = srv_app_reader_get(app);
	sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL);
	rc = srv_scope_init(&sc, r->db, &who.user, &err);
	if (rc == CRM_OK) {
		rc = srv_scope_parent(&sc, "customers", id, parent, &found, &err);
		if (rc == CRM_OK && !found)
			rc = crm_fail(&err, CRM_ENOTFOUND, "no customer %s", id);
		else if (rc == CRM_OK && !srv_scope_customer(&sc, id))
			rc = crm_fail(&err, CRM_EPERM, "customer %s is not yours", id);
		if (rc == CRM_OK)
			rc = srv_snapshot_customer(r->sync, r->db, id, &cs, &err);
		srv_scope_release(&sc);
	}
	sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	srv_app_reader_put(app, r);
	if (rc == CRM_OK) {
		rows = sync_changeset_to_json(&cs);
		o = cJSON_CreateObject();
		if (o && rows) {
			cJSON_AddNumberToObject(o, "protocol", SRV_PROTOCOL);
			cJSON_AddNumberToObject(o, "schema", schema_version());
			cJSON_AddItemToObject(o, "rows", rows);
			rows = NULL;
		}
		resp->json = o;
		resp->status = 200;
	} else {
		const char *code;
		unsigned st = srv_status_of(rc, &code);

		srv_resp_error(resp, st, code, "%s", err.msg);
	}
	cJSON_Delete(rows);
	sync_changeset_release(&cs);
}

const struct srv_route srv_routes[] = {
	{"POST", "/v1/customer", route_customer},
	{"POST", "/v1/login", route_login},
	{"POST", "/v1/sync", srv_route_sync},
	{"GET", "/v1/health", route_health},
	{"GET", "/v1/pool/rules", srv_route_pool_rules},
	{"POST", "/v1/pool/list", srv_route_pool_list},
	{"POST", "/v1/pool/claim", srv_route_pool_claim},
	{"POST", "/v1/pool/release", srv_route_pool_release},
	{"POST", "/v1/pool/assign", srv_route_pool_assign},
};
const size_t srv_routes_count = sizeof srv_routes / sizeof srv_routes[0];
