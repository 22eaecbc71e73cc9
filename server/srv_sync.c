/*
 * POST /v1/sync: one round trip carries a push and a pull.
 *
 * 1. push (writer, one transaction with step 2): a batch id seen before
 *    returns the stored receipts and applies nothing; otherwise srv_push
 *    checks and merges it.
 * 2. handout (same transaction): what srv_handout tells the device about its
 *    scope and the conflicts it sees.
 * 3. pull (reader, concurrent): the feed past the device's cursor, filtered
 *    to its scope, without what the device wrote itself.
 * The wire format is in docs/protocol.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crm_id.h"
#include "crm_time.h"
#include "migrate.h"
#include "srv_app.h"
#include "srv_dedup.h"
#include "srv_pool.h"
#include "srv_poolcmd.h"
#include "srv_handout.h"
#include "srv_push.h"
#include "srv_scope.h"
#include "srv_sync.h"

#define MAX_BATCH_ID 64
/* How long a batch sent "after" another waits for it to be stored. */
#define AFTER_WAIT_S 60

/* What the envelope said. */
struct envelope {
	int schema;
	const char *batch;
	const char *after; /* the batch that must be stored before this one */
	bool pull;         /* false: a push alone, no handout and no page */
	int64_t cursor;
	int64_t ack;
	char site[37];
	bool more_push;
	const cJSON *push;
};

/* ---- small helpers ---------------------------------------------------- */

static enum crm_err parse_i64(const char *s, int64_t *out)
{
	char *end = NULL;
	long long v;

	if (!s[0] || s[0] == '-' || s[0] == '+' || s[0] == ' ')
		return CRM_EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return CRM_EINVAL;
	*out = (int64_t)v;
	return CRM_OK;
}

static void err_resp(struct srv_resp *resp, enum crm_err rc, const struct crm_error *err)
{
	const char *code;
	unsigned st = srv_status_of(rc, &code);

	srv_resp_error(resp, st, code, "%s", err->msg[0] ? err->msg : crm_strerror(rc));
}

/* The user name a site id belongs to ("server" for the hub itself), into out. */
/* ---- envelope --------------------------------------------------------- */

static bool read_envelope(const cJSON *j, struct envelope *e, struct srv_resp *resp)
{
	const cJSON *protocol = cJSON_GetObjectItemCaseSensitive(j, "protocol");
	const cJSON *schema = cJSON_GetObjectItemCaseSensitive(j, "schema");
	const cJSON *batch = cJSON_GetObjectItemCaseSensitive(j, "batch");
	const cJSON *cursor = cJSON_GetObjectItemCaseSensitive(j, "cursor");
	const cJSON *ack = cJSON_GetObjectItemCaseSensitive(j, "ack");
	const cJSON *site = cJSON_GetObjectItemCaseSensitive(j, "site");
	const cJSON *more = cJSON_GetObjectItemCaseSensitive(j, "more_push");
	const cJSON *after = cJSON_GetObjectItemCaseSensitive(j, "after");
	const cJSON *pull = cJSON_GetObjectItemCaseSensitive(j, "pull");

	memset(e, 0, sizeof *e);
	if (!cJSON_IsNumber(protocol) || !cJSON_IsNumber(schema)) {
		srv_resp_error(resp, 400, "malformed",
			       "the envelope needs \"protocol\" and \"schema\" as numbers");
		return false;
	}
	if (protocol->valuedouble != SRV_PROTOCOL) {
		srv_resp_error(resp, 409, "version",
			       "protocol %g is not spoken here (this server speaks protocol %d): "
			       "upgrade crm",
			       protocol->valuedouble, SRV_PROTOCOL);
		return false;
	}
	if (schema->valuedouble < SRV_MIN_CLIENT_SCHEMA || schema->valuedouble > schema_version() ||
	    schema->valuedouble != (double)(int)schema->valuedouble) {
		srv_resp_error(resp, 409, "version",
			       "schema %g is not compatible with this server (it accepts %d to %d): %s",
			       schema->valuedouble, SRV_MIN_CLIENT_SCHEMA, schema_version(),
			       schema->valuedouble > schema_version() ? "upgrade crm-server"
								      : "upgrade crm");
		return false;
	}
	e->schema = (int)schema->valuedouble;
	if (!cJSON_IsString(site) || !crm_id_valid(site->valuestring)) {
		srv_resp_error(resp, 422, "invalid", "\"site\" must be the replica's site id (a UUID)");
		return false;
	}
	for (int i = 0; i < 36; i++) {
		char c = site->valuestring[i];

		e->site[i] = (char)(c >= 'A' && c <= 'F' ? c + 32 : c);
	}
	e->site[36] = '\0';
	if (cursor && !(cJSON_IsString(cursor) && parse_i64(cursor->valuestring, &e->cursor) == CRM_OK)) {
		srv_resp_error(resp, 422, "invalid",
			       "\"cursor\" must be a non-negative integer written as a string");
		return false;
	}
	if (ack && !(cJSON_IsString(ack) && parse_i64(ack->valuestring, &e->ack) == CRM_OK)) {
		srv_resp_error(resp, 422, "invalid",
			       "\"ack\" must be a non-negative integer written as a string");
		return false;
	}
	if (more && !cJSON_IsBool(more)) {
		srv_resp_error(resp, 422, "invalid", "\"more_push\" must be true or false");
		return false;
	}
	e->more_push = cJSON_IsTrue(more);
	if (pull && !cJSON_IsBool(pull)) {
		srv_resp_error(resp, 422, "invalid", "\"pull\" must be true or false");
		return false;
	}
	e->pull = !pull || cJSON_IsTrue(pull);
	e->push = cJSON_GetObjectItemCaseSensitive(j, "push");
	if (e->push && cJSON_IsNull(e->push))
		e->push = NULL;
	if (e->push && !cJSON_IsArray(e->push)) {
		srv_resp_error(resp, 422, "invalid", "\"push\" must be an array of changed rows");
		return false;
	}
	if (e->push && cJSON_GetArraySize(e->push) > 0) {
		if (!cJSON_IsString(batch) || !batch->valuestring[0] ||
		    strlen(batch->valuestring) > MAX_BATCH_ID) {
			srv_resp_error(resp, 422, "invalid",
				       "a push needs \"batch\": a unique id of 1 to %d characters",
				       MAX_BATCH_ID);
			return false;
		}
		e->batch = batch->valuestring;
	}
	if (after && !cJSON_IsNull(after)) {
		if (!e->batch || !cJSON_IsString(after) || !after->valuestring[0] ||
		    strlen(after->valuestring) > MAX_BATCH_ID) {
			srv_resp_error(resp, 422, "invalid",
				       "\"after\" names the batch pushed before this one (1 to %d characters), "
				       "and only with a push",
				       MAX_BATCH_ID);
			return false;
		}
		e->after = after->valuestring;
	}
	return true;
}

/* ---- batch order ------------------------------------------------------ */

/* Is the batch stored for this device? */
static enum crm_err batch_stored(sqlite3 *db, const char *device, const char *batch, bool *out,
				 struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	int step;

	*out = false;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM srv_batches WHERE device_id = ?1 AND batch_id = ?2", -1,
			       &st, NULL) != SQLITE_OK)
		return crm_fail(err, CRM_EDB, "batches: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, batch, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return crm_fail(err, CRM_EDB, "batches: %s", sqlite3_errmsg(db));
	*out = step == SQLITE_ROW;
	return CRM_OK;
}

static bool batch_failed(const struct srv_app *app, const char *device, const char *batch)
{
	for (size_t i = 0; i < SRV_FAILED_BATCHES; i++)
		if (strcmp(app->failed[i].device, device) == 0 && strcmp(app->failed[i].batch, batch) == 0)
			return true;
	return false;
}

/* Under write_lock: batch is being tried again, so an old failure of it no longer counts. */
static void forget_failed(struct srv_app *app, const char *device, const char *batch)
{
	for (size_t i = 0; i < SRV_FAILED_BATCHES; i++)
		if (strcmp(app->failed[i].device, device) == 0 && strcmp(app->failed[i].batch, batch) == 0)
			app->failed[i].batch[0] = '\0';
}

/* Under write_lock: a batch that will not be stored, for those waiting on it. */
static void note_failed(struct srv_app *app, const char *device, const char *batch)
{
	struct srv_failed_batch *f = &app->failed[app->failed_next % SRV_FAILED_BATCHES];

	snprintf(f->device, sizeof f->device, "%s", device);
	snprintf(f->batch, sizeof f->batch, "%s", batch);
	app->failed_next++;
	pthread_cond_broadcast(&app->batch_done);
}

/*
 * Under write_lock, outside a transaction: waits until the batch after is
 * stored for this device (a client keeps two batches on the wire, and they may
 * arrive in either order), unless this batch itself is (a replay). Fills resp
 * with 409 when after failed or did not come in time.
 */
static bool wait_after(struct srv_app *app, const char *device, const struct envelope *e,
		       struct srv_resp *resp, enum crm_err *rc, struct crm_error *err)
{
	struct timespec until;
	bool have = false;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += AFTER_WAIT_S;
	*rc = batch_stored(app->writer.db, device, e->batch, &have, err);
	while (*rc == CRM_OK && !have) {
		*rc = batch_stored(app->writer.db, device, e->after, &have, err);
		if (*rc != CRM_OK || have)
			break;
		if (batch_failed(app, device, e->after)) {
			srv_resp_error(resp, 409, "order",
				       "batch %s, which this one follows, was not stored: push again", e->after);
			return false;
		}
		if (pthread_cond_timedwait(&app->batch_done, &app->write_lock, &until) == ETIMEDOUT) {
			*rc = batch_stored(app->writer.db, device, e->after, &have, err);
			if (*rc == CRM_OK && !have) {
				srv_resp_error(resp, 409, "order",
					       "batch %s, which this one follows, did not arrive within %d s: "
					       "push again",
					       e->after, AFTER_WAIT_S);
				return false;
			}
		}
	}
	return true;
}

/* ---- pull ------------------------------------------------------------- */

static bool feed_filter(void *ctx, const char *table, const char *id)
{
	return srv_scope_row(ctx, table, id);
}

/* Drops fields of columns a client at schema version v does not know. */
static enum crm_err drop_unknown_columns(int v, struct sync_changeset *cs, struct crm_error *err)
{
	struct srv_columns known;
	enum crm_err rc = srv_columns_load(v, &known, err);

	if (rc != CRM_OK)
		return rc;
	for (size_t i = 0; i < cs->nrows; i++) {
		struct sync_row *r = &cs->rows[i];
		size_t w = 0;

		for (size_t j = 0; j < r->nfields; j++) {
			if (srv_columns_has(&known, r->table, r->fields[j].col)) {
				r->fields[w++] = r->fields[j];
				continue;
			}
			free(r->fields[j].col);
			if (r->fields[j].v.type == SYNC_TEXT)
				free(r->fields[j].v.s);
			cs->nfields--;
		}
		r->nfields = w;
	}
	srv_columns_release(&known);
	return CRM_OK;
}

/* Appends the rows of src to dst (copies). */
static enum crm_err append_cs(struct sync_changeset *dst, const struct sync_changeset *src)
{
	for (size_t i = 0; i < src->nrows; i++) {
		struct sync_row *r = sync_changeset_add_row(dst, src->rows[i].table, src->rows[i].id);

		if (!r)
			return CRM_ENOMEM;
		for (size_t j = 0; j < src->rows[i].nfields; j++)
			if (sync_row_add_field(dst, r, &src->rows[i].fields[j]) != CRM_OK)
				return CRM_ENOMEM;
	}
	return CRM_OK;
}

/* ---- the route -------------------------------------------------------- */

/*
 * Test hook: CRM_SERVER_TEST_SLOW_MS holds every sync answer back that long
 * after the push committed, so end-to-end tests can kill the server between
 * the commit and the answer. Unset in production.
 */
static void test_pause(void)
{
	const char *v = getenv("CRM_SERVER_TEST_SLOW_MS");
	char *end = NULL;
	long ms;

	if (!v)
		return;
	ms = strtol(v, &end, 10);
	if (*end || ms <= 0 || ms > 60000)
		return;
	{
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

		nanosleep(&ts, NULL);
	}
}

void srv_route_sync(void *ctx, struct srv_req *req, struct srv_resp *resp)
{
	struct srv_app *app = ctx;
	struct srv_session who;
	struct envelope e;
	struct sync_changeset push, page;
	struct srv_handout so;
	struct crm_error err;
	enum crm_err rc = CRM_OK;
	cJSON *pushed = NULL, *o = NULL, *changes = NULL;
	bool replayed = false, locked = false, stored = false;
	int64_t next = 0;
	bool more = false;
	struct srv_db *reader = NULL;
	char cur[32];

	sync_changeset_init(&push);
	sync_changeset_init(&page);
	crm_error_clear(&err);
	if (!srv_authenticate(app, req, resp, &who))
		return;
	if (!read_envelope(req->json, &e, resp)) {
		/* A batch named in a refused envelope will not be stored: those after it stop waiting. */
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(req->json, "batch");

		if (cJSON_IsString(b) && b->valuestring[0] && strlen(b->valuestring) <= MAX_BATCH_ID) {
			pthread_mutex_lock(&app->write_lock);
			note_failed(app, who.device.id, b->valuestring);
			pthread_mutex_unlock(&app->write_lock);
		}
		return;
	}
	if (srv_handout_init(&so) != CRM_OK) {
		rc = crm_fail(&err, CRM_ENOMEM, "out of memory");
		goto out;
	}
	if (e.push) {
		rc = sync_changeset_from_json(e.push, NULL, &push, &err);
		if (rc != CRM_OK) {
			srv_resp_error(resp, 422, "invalid", "the push is not a valid change set: %s",
				       err.msg);
			goto done;
		}
		if (push.nfields > app->limits.push_fields) {
			srv_resp_error(resp, 413, "toobig",
				       "a batch may carry at most %zu fields (this one has %zu): push in smaller batches",
				       app->limits.push_fields, push.nfields);
			goto done;
		}
	}
	pthread_mutex_lock(&app->write_lock);
	locked = true;
	if (e.batch)
		forget_failed(app, who.device.id, e.batch);
	if (push.nrows && e.after && !wait_after(app, who.device.id, &e, resp, &rc, &err))
		goto done;
	if (rc == CRM_OK)
		rc = srv_db_begin(app->writer.db, &err);
	if (rc != CRM_OK)
		goto out;
	if (push.nrows) {
		rc = srv_batch_lookup(app->writer.db, who.device.id, e.batch, &pushed, &err);
		if (rc == CRM_OK && pushed)
			replayed = true;
		if (rc == CRM_OK && !pushed) {
			/* Ids of merged-away customers land on their survivors (srv_dedup). */
			rc = srv_dedup_rewrite(app->writer.db, &push, NULL, &err);
			if (rc == CRM_OK)
				rc = srv_push_apply(app, &who, &push, &pushed, &err);
			if (rc == CRM_OK)
				rc = srv_batch_store(app->writer.db, who.device.id, e.batch, pushed, &err);
			/* New customers and identifying edits are matched against the pool. */
			if (rc == CRM_OK)
				rc = srv_dedup_after_push(app->dedup, app->writer.db, app->writer.sync,
							  &push, who.user.name, &err);
		}
	}
	if (rc == CRM_OK)
		rc = srv_device_touch(app->writer.db, who.device.id, e.site, &err);
	/* A push alone (a client keeps two on the wire) hands nothing out. */
	if (rc == CRM_OK && e.pull)
		rc = srv_handout_update(app, &who, e.cursor, e.ack, e.more_push, app->limits.page_fields / 2,
					&so, &err);
	if (rc == CRM_OK)
		rc = srv_db_commit(app->writer.db, &err);
	if (rc != CRM_OK)
		goto out;
	if (push.nrows) {
		stored = true;
		pthread_cond_broadcast(&app->batch_done); /* for a batch sent after this one */
	}
	pthread_mutex_unlock(&app->write_lock);
	locked = false;
	test_pause();
	if (!e.pull) {
		next = e.cursor;
		so.gen = e.ack;
		goto answer;
	}
	/* The pull reads on its own connection, beside other readers and the writer. */
	reader = srv_app_reader_get(app);
	{
		struct srv_scope sc;
		size_t room = app->limits.page_fields > so.snap.nfields
				      ? app->limits.page_fields - so.snap.nfields
				      : 1;

		rc = srv_scope_init(&sc, reader->db, &who.user, &err);
		if (rc == CRM_OK) {
			sqlite3_exec(reader->db, "BEGIN", NULL, NULL, NULL);
			rc = sync_feed(reader->sync, e.cursor, room,
				       who.user.role == SRV_ADMIN ? NULL : feed_filter, &sc, e.site,
				       &page, &next, &more, &err);
			sqlite3_exec(reader->db, "COMMIT", NULL, NULL, NULL);
			srv_scope_release(&sc);
		}
	}
	srv_app_reader_put(app, reader);
	if (rc != CRM_OK)
		goto out;
	if (so.snap.nrows && append_cs(&so.snap, &page) != CRM_OK) {
		rc = crm_fail(&err, CRM_ENOMEM, "out of memory");
		goto out;
	}
	if (e.schema < schema_version()) {
		rc = drop_unknown_columns(e.schema, so.snap.nrows ? &so.snap : &page, &err);
		if (rc != CRM_OK)
			goto out;
	}
answer:
	changes = sync_changeset_to_json_raw(so.snap.nrows ? &so.snap : &page);
	o = cJSON_CreateObject();
	if (!o || !changes) {
		rc = crm_fail(&err, CRM_ENOMEM, "out of memory");
		goto out;
	}
	cJSON_AddNumberToObject(o, "protocol", SRV_PROTOCOL);
	cJSON_AddNumberToObject(o, "schema", schema_version());
	if (e.batch)
		cJSON_AddStringToObject(o, "batch", e.batch);
	cJSON_AddBoolToObject(o, "replayed", replayed);
	if (pushed) {
		cJSON *r = cJSON_DetachItemFromObjectCaseSensitive(pushed, "receipts");
		cJSON *ev = cJSON_GetObjectItemCaseSensitive(pushed, "evict");
		cJSON *no = cJSON_GetObjectItemCaseSensitive(pushed, "notices");
		cJSON *x;

		cJSON_AddItemToObject(o, "receipts", r ? r : cJSON_CreateArray());
		cJSON_ArrayForEach(x, ev)
			cJSON_AddItemToArray(so.evict, cJSON_Duplicate(x, true));
		cJSON_ArrayForEach(x, no)
			cJSON_AddItemToArray(so.notices, cJSON_Duplicate(x, true));
		x = cJSON_GetObjectItemCaseSensitive(pushed, "accepted");
		cJSON_AddNumberToObject(o, "accepted", cJSON_IsNumber(x) ? x->valuedouble : 0);
	} else {
		cJSON_AddArrayToObject(o, "receipts");
		cJSON_AddNumberToObject(o, "accepted", 0);
	}
	cJSON_AddItemToObject(o, "changes", changes);
	changes = NULL;
	snprintf(cur, sizeof cur, "%lld", (long long)next);
	cJSON_AddStringToObject(o, "cursor", cur);
	snprintf(cur, sizeof cur, "%lld", (long long)so.gen);
	cJSON_AddStringToObject(o, "ack", cur);
	cJSON_AddBoolToObject(o, "more", more || so.more);
	cJSON_AddItemToObject(o, "conflicts", so.conflicts);
	cJSON_AddItemToObject(o, "evict", so.evict);
	cJSON_AddItemToObject(o, "notices", so.notices);
	/* The pool rules, so the client can warn its rep offline (docs/pool.md). */
	if (e.pull) {
		reader = srv_app_reader_get(app);
		changes = srv_pool_rules_object(reader->db);
		srv_app_reader_put(app, reader);
	}
	if (changes)
		cJSON_AddItemToObject(o, "pool", changes);
	changes = NULL;
	so.conflicts = so.evict = so.notices = NULL;
	resp->status = 200;
	resp->json = o;
	o = NULL;
out:
	if (locked) {
		srv_db_rollback(app->writer.db);
		/* what the duplicate check's worker added for this push goes with it */
		srv_dedup_push_end(app->dedup, false);
	}
	if (rc != CRM_OK)
		err_resp(resp, rc, &err);
done:
	/* A batch that was not stored: those sent after it stop waiting. */
	if (e.batch && !stored) {
		if (!locked)
			pthread_mutex_lock(&app->write_lock);
		locked = true;
		note_failed(app, who.device.id, e.batch);
	}
	if (locked)
		pthread_mutex_unlock(&app->write_lock);
	cJSON_Delete(o);
	cJSON_Delete(changes);
	cJSON_Delete(pushed);
	srv_handout_release(&so);
	sync_changeset_release(&page);
	sync_changeset_release(&push);
}
