/* crm login, sync, status and conflicts: the client side of protocol v1. */
#include "cmd_sync.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_pool.h"
#include "crm_id.h"
#include "crm_secret.h"
#include "crm_time.h"
#include "http.h"
#include "migrate.h"
#include "output.h"
#include "replica.h"
#include "round.h"
#include "search.h"
#include "sync.h"
#include "tables.h"

#define PUSH_FIELDS 50000     /* fields per pushed batch (the server takes up to 100,000) */
#define PASSWORD_MAX 1024

/* ---- small helpers ---------------------------------------------------- */

/* state value or NULL (malloc()ed). */
static char *state(struct replica *r, const char *key)
{
	char *v = NULL;

	if (sync_state_get(r->sync, key, &v, NULL) != CRM_OK)
		return NULL;
	return v;
}

static int64_t state_i64(struct replica *r, const char *key)
{
	char *v = state(r, key);
	char *end = NULL;
	long long n = 0;

	if (v) {
		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno || *end || n < 0)
			n = 0;
	}
	free(v);
	return (int64_t)n;
}

/* REPLICA.token, malloc()ed. */
static char *token_path(const struct replica *r)
{
	size_t n = strlen(r->path) + sizeof ".token";
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s.token", r->path);
	return p;
}

static enum crm_err token_write(const struct replica *r, const char *token, struct crm_error *err)
{
	char *path = token_path(r);
	enum crm_err rc = CRM_OK;
	size_t n = strlen(token);
	int fd;

	if (!path)
		return crm_fail(err, CRM_ENOMEM, "out of memory");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0 || write(fd, token, n) != (ssize_t)n ||
	    write(fd, "\n", 1) != 1 || fsync(fd) != 0)
		rc = crm_fail(err, CRM_EIO, "cannot write the token to %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

static char *token_read(const struct replica *r, struct crm_error *err)
{
	char *path = token_path(r);
	char buf[256];
	FILE *f;
	size_t n;

	if (!path) {
		crm_fail(err, CRM_ENOMEM, "out of memory");
		return NULL;
	}
	f = fopen(path, "r");
	if (!f) {
		crm_fail(err, CRM_EAUTH, "not logged in (no %s): crm login --server URL --user NAME",
			 path);
		free(path);
		return NULL;
	}
	free(path);
	if (!fgets(buf, sizeof buf, f))
		buf[0] = '\0';
	fclose(f);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (!n) {
		crm_fail(err, CRM_EAUTH, "the saved token is empty: crm login again");
		return NULL;
	}
	return strdup(buf);
}

static const char *json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- login ------------------------------------------------------------ */

int cmd_login(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct cli_extra extras[] = {
		{"server", "URL", "the crm-server, e.g. https://crm.example.com:8443"},
		{"user", "NAME", "your user name"},
		{"device", "NAME", "what to call this laptop (default: its host name)"},
		{"cacert", "FILE", "CA certificate of a private CA (HTTPS is always verified)"},
		{NULL, NULL, NULL}};
	static const char *const examples[] = {
		"echo \"$PASSWORD\" | crm login --server https://crm.example.com:8443 --user alice",
		"crm login --server https://10.0.0.5:8443 --user 张伟 --cacert company-ca.pem", NULL};
	struct cli_args a;
	struct replica rep = {0};
	struct http_client h = {0};
	struct crm_error err;
	char password[PASSWORD_MAX + 2] = "", host[256] = "laptop";
	cJSON *req = NULL, *resp = NULL;
	const char *token, *site, *role, *device_id;
	char *old_site = NULL, *cacert_abs = NULL;
	enum crm_err rc;
	int status = 0;

	crm_error_clear(&err);
	rc = cli_parse(argc, argv, 1, NULL, CLI_JSON, extras, &a, &err);
	if (rc == CRM_OK && a.help) {
		cli_help(stdout, "crm login --server URL --user NAME [--device NAME] [--cacert FILE]",
			 "Logs this laptop in to the server: the password is read from stdin (or "
			 "asked for on a terminal); the token it gets is kept beside the replica "
			 "(mode 0600) and stays valid until an administrator revokes the device.",
			 NULL, CLI_JSON, extras, examples);
		goto out;
	}
	if (rc == CRM_OK && (!a.extra[0] || !a.extra[1]))
		rc = crm_fail(&err, CRM_EUSAGE, "login needs --server URL and --user NAME");
	if (rc == CRM_OK && a.extra[3]) {
		cacert_abs = realpath(a.extra[3], NULL);
		if (!cacert_abs)
			rc = crm_fail(&err, CRM_EIO, "--cacert %s: %s", a.extra[3], strerror(errno));
	}
	if (rc == CRM_OK)
		rc = crm_secret_read("password: ", password, sizeof password, &err);
	if (rc != CRM_OK)
		goto fail;
	if (!a.extra[2] && gethostname(host, sizeof host - 1) != 0)
		snprintf(host, sizeof host, "laptop");
	host[sizeof host - 1] = '\0';
	rc = replica_open(ctx->db_path, &rep, &err);
	if (rc != CRM_OK)
		goto fail;
	{
		/* One replica, one person: another user's customers must not mix in. */
		char *old_user = state(&rep, "user");
		const char *new_user = a.extra[1];

		if (old_user && old_user[0] && strcmp(old_user, new_user) != 0)
			rc = crm_fail(&err, CRM_EEXISTS,
				      "this replica belongs to %s: log %s in with another replica "
				      "(--db PATH or CRM_HOME)",
				      old_user, new_user);
		free(old_user);
		if (rc != CRM_OK)
			goto fail;
	}
	rc = http_init(&h, a.extra[0], cacert_abs, &err);
	if (rc != CRM_OK)
		goto fail;
	req = cJSON_CreateObject();
	if (!req || !cJSON_AddStringToObject(req, "user", a.extra[1]) ||
	    !cJSON_AddStringToObject(req, "password", password) ||
	    !cJSON_AddStringToObject(req, "device", a.extra[2] ? a.extra[2] : host)) {
		rc = crm_fail(&err, CRM_ENOMEM, "out of memory");
		goto fail;
	}
	rc = http_post(&h, "/v1/login", NULL, req, 60000, &resp, &err);
	if (rc != CRM_OK)
		goto fail;
	token = json_str(resp, "token");
	site = json_str(resp, "site");
	role = json_str(resp, "role");
	device_id = json_str(resp, "device");
	if (!token || !site || !device_id) {
		rc = crm_fail(&err, CRM_EFORMAT, "the server's answer has no token: is %s a crm-server?",
			      a.extra[0]);
		goto fail;
	}
	rc = token_write(&rep, token, &err);
	if (rc == CRM_OK)
		rc = replica_begin(&rep, &err);
	if (rc != CRM_OK)
		goto fail;
	old_site = state(&rep, "server_site");
	/* Another server's cursor means nothing here: start its feed from the beginning. */
	if (!old_site || strcmp(old_site, site) != 0) {
		rc = sync_state_set(rep.sync, "cursor", "0", &err);
		if (rc == CRM_OK)
			rc = sync_state_set(rep.sync, "ack", "0", &err);
	}
	if (rc == CRM_OK)
		rc = sync_state_set(rep.sync, "server", h.base, &err);
	if (rc == CRM_OK)
		rc = sync_state_set(rep.sync, "server_site", site, &err);
	if (rc == CRM_OK)
		rc = sync_state_set(rep.sync, "user", json_str(resp, "user") ? json_str(resp, "user") : a.extra[1], &err);
	if (rc == CRM_OK)
		rc = sync_state_set(rep.sync, "role", role ? role : "rep", &err);
	if (rc == CRM_OK)
		rc = sync_state_set(rep.sync, "device", device_id, &err);
	if (rc == CRM_OK)
		rc = sync_state_set(rep.sync, "cacert", cacert_abs ? cacert_abs : "", &err);
	if (rc == CRM_OK)
		rc = pool_rules_store(&rep, cJSON_GetObjectItemCaseSensitive(resp, "pool"), &err);
	rc = replica_finish(&rep, rc, &err);
	if (rc != CRM_OK)
		goto fail;
	if (a.json || ctx->json) {
		cJSON *o = cJSON_CreateObject();

		if (o) {
			cJSON_AddStringToObject(o, "server", h.base);
			cJSON_AddStringToObject(o, "user", a.extra[1]);
			cJSON_AddStringToObject(o, "role", role ? role : "rep");
			cJSON_AddStringToObject(o, "device", device_id);
			out_json_print(o, stdout);
			cJSON_Delete(o);
		}
	} else {
		printf("logged in to %s as %s (%s); this laptop is device %s\n", h.base, a.extra[1],
		       role ? role : "rep", device_id);
	}
	goto out;
fail:
	status = cli_report("login", &err);
out:
	memset(password, 0, sizeof password);
	free(old_site);
	free(cacert_abs);
	cJSON_Delete(req);
	cJSON_Delete(resp);
	http_release(&h);
	replica_close(&rep);
	cli_args_release(&a);
	return status;
}

/* ---- sync ------------------------------------------------------------- */

struct summary {
	size_t pushed, pulled, refused, evicted, rounds, replayed;
	int64_t conflicts_before, conflicts_after;
	cJSON *notices;  /* strings */
	cJSON *refusals; /* {table,id,col,code,reason} */
};

static enum crm_err decode_value(const cJSON *x, struct sync_value *v)
{
	memset(v, 0, sizeof *v);
	if (!x || cJSON_IsNull(x)) {
		v->type = SYNC_NULL;
		return CRM_OK;
	}
	if (cJSON_IsString(x)) {
		v->type = SYNC_TEXT;
		v->s = strdup(x->valuestring);
		return v->s ? CRM_OK : CRM_ENOMEM;
	}
	if (cJSON_IsNumber(x)) {
		v->type = SYNC_INT;
		v->i = (int64_t)x->valuedouble;
		return CRM_OK;
	}
	if (cJSON_IsObject(x)) {
		const cJSON *i = cJSON_GetObjectItemCaseSensitive(x, "i");
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(x, "r");

		if (cJSON_IsString(i)) {
			char *end = NULL;

			errno = 0;
			v->type = SYNC_INT;
			v->i = (int64_t)strtoll(i->valuestring, &end, 10);
			return errno || *end ? CRM_EFORMAT : CRM_OK;
		}
		if (cJSON_IsNumber(r)) {
			v->type = SYNC_REAL;
			v->r = r->valuedouble;
			return CRM_OK;
		}
	}
	return CRM_EFORMAT;
}

static void value_release(struct sync_value *v)
{
	if (v->type == SYNC_TEXT)
		free(v->s);
	v->s = NULL;
	v->type = SYNC_NULL;
}

static bool copy_id(char out[37], const char *s)
{
	if (!s || strlen(s) != 36)
		return false;
	memcpy(out, s, 37);
	return true;
}

/* Records one conflict the server sent, and remembers who its sites are. */
static enum crm_err record_conflict(struct replica *rep, const cJSON *c, struct crm_error *err)
{
	struct sync_conflict k;
	const cJSON *lo = cJSON_GetObjectItemCaseSensitive(c, "loser");
	const cJSON *wi = cJSON_GetObjectItemCaseSensitive(c, "winner");
	const char *when = json_str(c, "detected_at");
	enum crm_err rc = CRM_OK;
	const cJSON *sides[2] = {lo, wi};

	memset(&k, 0, sizeof k);
	if (!copy_id(k.id, json_str(c, "id")) || !json_str(c, "table") || !json_str(c, "row") ||
	    !json_str(c, "col") || !cJSON_IsObject(lo) || !cJSON_IsObject(wi) ||
	    !copy_id(k.loser_site, json_str(lo, "site")) || !copy_id(k.winner_site, json_str(wi, "site")) ||
	    !json_str(lo, "hlc") || !json_str(wi, "hlc") ||
	    sync_hlc_parse(json_str(lo, "hlc"), &k.loser_hlc) != CRM_OK ||
	    sync_hlc_parse(json_str(wi, "hlc"), &k.winner_hlc) != CRM_OK)
		return crm_fail(err, CRM_EFORMAT, "the server sent a malformed conflict");
	k.table = (char *)(uintptr_t)json_str(c, "table");
	k.row_id = (char *)(uintptr_t)json_str(c, "row");
	k.col = (char *)(uintptr_t)json_str(c, "col");
	if (when && crm_time_parse(when, false, &k.detected_at) != CRM_OK)
		k.detected_at = 0;
	if (decode_value(cJSON_GetObjectItemCaseSensitive(lo, "value"), &k.loser) != CRM_OK ||
	    decode_value(cJSON_GetObjectItemCaseSensitive(wi, "value"), &k.winner) != CRM_OK) {
		rc = crm_fail(err, CRM_EFORMAT, "the server sent a malformed conflict value");
		goto out;
	}
	rc = sync_conflict_record(rep->sync, &k, err);
	for (int i = 0; i < 2 && rc == CRM_OK; i++) {
		const char *user = json_str(sides[i], "user");
		const char *site = json_str(sides[i], "site");
		char key[64];

		if (!user || !user[0] || !site)
			continue;
		snprintf(key, sizeof key, "who.%s", site);
		rc = sync_state_set(rep->sync, key, user, err);
	}
out:
	value_release(&k.loser);
	value_release(&k.winner);
	return rc;
}

/* Evicts a row; a customer goes with every row under it. Capture stays off: nothing replicates. */
static enum crm_err evict(struct replica *rep, const char *table, const char *id, size_t *count,
			  struct crm_error *err)
{
	const struct schema_table *t = schema_table_find(table);
	enum crm_err rc = CRM_OK;

	if (!t || strcmp(t->name, table) != 0 || !crm_id_valid(id))
		return CRM_OK; /* nothing of ours */
	for (size_t i = 0; !t->parent && i < schema_tables_count && rc == CRM_OK; i++) {
		const struct schema_table *c = &schema_tables[i];
		sqlite3_stmt *st = NULL;
		char sql[256];
		char **ids = NULL;
		size_t n = 0, cap = 0;

		if (!c->parent)
			continue;
		snprintf(sql, sizeof sql, "SELECT id FROM \"%s\" WHERE \"%s\" = ?1", c->name, c->parent);
		if (sqlite3_prepare_v2(rep->db, sql, -1, &st, NULL) != SQLITE_OK)
			return crm_fail(err, CRM_EDB, "evict: %s", sqlite3_errmsg(rep->db));
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				char **ni = realloc(ids, ncap * sizeof *ni);

				if (!ni)
					break;
				ids = ni;
				cap = ncap;
			}
			ids[n] = strdup((const char *)sqlite3_column_text(st, 0));
			if (ids[n])
				n++;
		}
		sqlite3_finalize(st);
		for (size_t k = 0; k < n; k++) {
			if (rc == CRM_OK)
				rc = sync_evict_row(rep->sync, c->name, ids[k], err);
			free(ids[k]);
		}
		free(ids);
	}
	if (rc == CRM_OK) {
		sqlite3_stmt *st = NULL;
		char sql[256];
		bool here = false;

		snprintf(sql, sizeof sql, "SELECT 1 FROM \"%s\" WHERE id = ?1", t->name);
		if (sqlite3_prepare_v2(rep->db, sql, -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
			here = sqlite3_step(st) == SQLITE_ROW;
		}
		sqlite3_finalize(st);
		rc = sync_evict_row(rep->sync, t->name, id, err);
		if (rc == CRM_OK && here)
			(*count)++;
	}
	return rc;
}

/*
 * A conflict is settled once its losing value is back in place by a later
 * edit (someone kept it, on another laptop): nothing is lost any more, so the
 * copy on this laptop is marked resolved too, without writing anything. Any
 * other later value leaves it open: the losing value is still worth a look.
 */
static bool same_value(const struct sync_value *a, const struct sync_value *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case SYNC_TEXT:
		return a->s && b->s && strcmp(a->s, b->s) == 0;
	case SYNC_INT:
		return a->i == b->i;
	case SYNC_REAL:
		return a->r == b->r || (a->r != a->r && b->r != b->r);
	default:
		return true;
	}
}

static enum crm_err settle_conflicts(struct replica *rep, struct crm_error *err)
{
	struct sync_conflict *list = NULL;
	size_t n = 0;
	enum crm_err rc = sync_conflicts_list(rep->sync, false, &list, &n, err);

	for (size_t i = 0; i < n && rc == CRM_OK; i++) {
		const struct sync_conflict *c = &list[i];
		struct sync_changeset snap;
		sync_hlc newest = c->winner_hlc > c->loser_hlc ? c->winner_hlc : c->loser_hlc;
		bool later = false;

		if (sync_row_snapshot(rep->sync, c->table, c->row_id, &snap, NULL) != CRM_OK)
			continue;
		for (size_t j = 0; snap.nrows == 1 && j < snap.rows[0].nfields; j++) {
			const struct sync_field *f = &snap.rows[0].fields[j];

			if (strcmp(f->col, c->col) == 0 && f->hlc > newest && same_value(&f->v, &c->loser))
				later = true;
		}
		sync_changeset_release(&snap);
		if (later)
			rc = sync_conflict_resolve(rep->sync, c->id, false, err);
	}
	sync_conflicts_release(list, n);
	return rc;
}

/*
 * The search index (schema/migrations/0002_search.sql) during a first pull.
 * Its triggers index every pulled row one statement at a time; for a replica
 * being filled from scratch that is most of the pull's CPU. So when a fresh
 * replica (cursor 0) receives a large page (half a full one), the triggers are
 * dropped in that page's transaction and state "search_rebuild" is set
 * (search_index_suspend). The sync then ends without rebuilding the index: the
 * first command that reads it rebuilds it whole from the rows as they are then
 * (search_index_ensure in client/search.c), so the cost moves to the first
 * search instead of every sync that follows a fresh login.
 */
#define SEARCH_BULK_FIELDS 10000 /* a first page at least this large suspends the triggers */

/*
 * Stores an answer in one transaction, so an interruption anywhere leaves the
 * replica where it was: the pushed batch acknowledged (up to upto), the page,
 * conflicts and evictions applied, the cursor and ack moved. A push sent
 * alone (pull false) moves neither: its answer carries receipts, notices and
 * evictions of refused rows only.
 */
static enum crm_err apply_answer(struct replica *rep, const cJSON *ans, bool pushed, int64_t upto,
				 bool pull, struct summary *sum, bool *more, struct crm_error *err)
{
	const cJSON *changes = cJSON_GetObjectItemCaseSensitive(ans, "changes");
	const cJSON *receipts = cJSON_GetObjectItemCaseSensitive(ans, "receipts");
	const cJSON *conflicts = cJSON_GetObjectItemCaseSensitive(ans, "conflicts");
	const cJSON *evicts = cJSON_GetObjectItemCaseSensitive(ans, "evict");
	const cJSON *notices = cJSON_GetObjectItemCaseSensitive(ans, "notices");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(ans, "more");
	const char *cursor = json_str(ans, "cursor");
	const char *ack = json_str(ans, "ack");
	struct sync_changeset page;
	struct sync_apply_result res;
	const cJSON *x;
	enum crm_err rc;
	char now[32];

	sync_changeset_init(&page);
	memset(&res, 0, sizeof res);
	if (!cursor || !ack || !cJSON_IsArray(changes) || !cJSON_IsBool(m))
		return crm_fail(err, CRM_EFORMAT, "the server's answer lacks cursor, ack, changes or more");
	*more = cJSON_IsTrue(m);
	rc = sync_changeset_from_json(changes, rep->sync, &page, err);
	if (rc != CRM_OK)
		return rc;
	rc = replica_begin(rep, err);
	if (rc != CRM_OK)
		goto out;
	if (pushed)
		rc = sync_outbox_ack(rep->sync, upto, err);
	if (rc == CRM_OK && page.nfields >= SEARCH_BULK_FIELDS && state_i64(rep, "cursor") == 0)
		rc = search_index_suspend(rep, err);
	if (rc == CRM_OK && page.nrows)
		rc = sync_apply(rep->sync, &page, SYNC_APPLY_IN_TXN | SYNC_APPLY_FROM_HUB, NULL, NULL, &res, err);
	cJSON_ArrayForEach(x, conflicts) {
		if (rc != CRM_OK)
			break;
		rc = record_conflict(rep, x, err);
	}
	cJSON_ArrayForEach(x, evicts) {
		if (rc != CRM_OK)
			break;
		if (json_str(x, "table") && json_str(x, "id"))
			rc = evict(rep, json_str(x, "table"), json_str(x, "id"), &sum->evicted, err);
	}
	if (rc == CRM_OK && page.nrows)
		rc = settle_conflicts(rep, err);
	if (rc == CRM_OK && pull)
		rc = sync_state_set(rep->sync, "cursor", cursor, err);
	if (rc == CRM_OK && pull)
		rc = sync_state_set(rep->sync, "ack", ack, err);
	snprintf(now, sizeof now, "%lld", (long long)crm_now_ms());
	if (rc == CRM_OK && pull)
		rc = sync_state_set(rep->sync, "last_sync", now, err);
	if (rc == CRM_OK && pull) /* the pool rules, for crm today's warnings offline */
		rc = pool_rules_store(rep, cJSON_GetObjectItemCaseSensitive(ans, "pool"), err);
	if (rc == CRM_OK)
		rc = replica_commit(rep, err);
	if (rc != CRM_OK) {
		replica_rollback(rep);
		goto out;
	}
	sum->pulled += page.nfields;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ans, "replayed")))
		sum->replayed++;
	cJSON_ArrayForEach(x, receipts) {
		const cJSON *refused = cJSON_GetObjectItemCaseSensitive(x, "refused");
		const cJSON *f;

		cJSON_ArrayForEach(f, refused) {
			cJSON *o = cJSON_CreateObject();

			sum->refused++;
			if (!o)
				continue;
			cJSON_AddStringToObject(o, "table", json_str(x, "table") ? json_str(x, "table") : "");
			cJSON_AddStringToObject(o, "id", json_str(x, "id") ? json_str(x, "id") : "");
			cJSON_AddStringToObject(o, "col", json_str(f, "col") ? json_str(f, "col") : "");
			cJSON_AddStringToObject(o, "code", json_str(f, "code") ? json_str(f, "code") : "");
			cJSON_AddStringToObject(o, "reason", json_str(f, "reason") ? json_str(f, "reason") : "");
			cJSON_AddItemToArray(sum->refusals, o);
		}
	}
	cJSON_ArrayForEach(x, notices) {
		if (cJSON_IsString(x))
			cJSON_AddItemToArray(sum->notices, cJSON_CreateString(x->valuestring));
	}
out:
	sync_apply_result_release(&res);
	sync_changeset_release(&page);
	return rc;
}

/*
 * Test hooks, unset in production: CRM_TEST_DROP_RESPONSE=N loses the Nth
 * answer on its way back; CRM_TEST_FAIL_APPLY=N makes the Nth answer fail to
 * store.
 */
struct hooks {
	long drop_at, fail_at;
};

static enum crm_err hook_drop(const struct hooks *hk, const struct summary *sum, struct crm_error *err)
{
	if (hk->drop_at > 0 && (long)sum->rounds == hk->drop_at)
		return crm_fail(err, CRM_ENET, "connection lost before the answer arrived "
			       "(CRM_TEST_DROP_RESPONSE)");
	return CRM_OK;
}

static enum crm_err hook_fail(const struct hooks *hk, const struct summary *sum, struct crm_error *err)
{
	if (hk->fail_at > 0 && (long)sum->rounds == hk->fail_at)
		return crm_fail(err, CRM_EDB, "the answer could not be stored (CRM_TEST_FAIL_APPLY)");
	return CRM_OK;
}

/*
 * Pushes an outbox of more than one batch with two batches on the wire, one
 * on each of h[0] and h[1]: each is sent alone ("pull": false) and "after"
 * the batch before it, so the server decodes one while it writes the other
 * and stores them in order (docs/protocol.md, "Two batches on the wire").
 * The next batch is collected past the newest on the wire while that one
 * flies; answers land and are stored strictly in order. After an error the
 * batch still on the wire is landed and dropped: the next sync sends both
 * again under the same batch ids (replays). first holds the first batch,
 * collected, spare is empty; on return nothing flies and both are released.
 */
static enum crm_err push_ahead(struct replica *rep, struct http_client *h, const char *token,
			       bool progress, size_t push_fields, const struct hooks *hk,
			       struct summary *sum, struct round *first, struct round *spare,
			       struct crm_error *err)
{
	struct round *fly[2] = {first, NULL};
	size_t nfly = 1;
	int64_t cursor = state_i64(rep, "cursor"), ack = state_i64(rep, "ack");
	enum crm_err rc = round_envelope(rep, first, cursor, ack, NULL, true, err);

	if (rc != CRM_OK) {
		round_release(first);
		return rc;
	}
	round_launch(first, &h[0], token, progress);
	while (nfly > 0) {
		struct round *o, *newest = fly[nfly - 1];
		bool more = false;

		if (rc == CRM_OK && nfly == 1 && newest->more_out) {
			struct round *f = newest == first ? spare : first;

			rc = round_collect(rep, newest->upto, push_fields, f, err);
			if (rc == CRM_OK && f->pushed)
				rc = round_envelope(rep, f, cursor, ack, newest->batch, true, err);
			if (rc == CRM_OK && f->pushed) {
				round_launch(f, &h[f == first ? 0 : 1], token, progress);
				fly[nfly++] = f;
			} else {
				round_release(f);
			}
		}
		o = fly[0];
		if (round_land(o) != CRM_OK && rc == CRM_OK) {
			rc = o->rc;
			*err = o->err;
		}
		if (rc == CRM_OK) {
			sum->rounds++;
			rc = hook_drop(hk, sum, err);
		}
		if (rc == CRM_OK)
			rc = hook_fail(hk, sum, err);
		if (rc == CRM_OK)
			rc = apply_answer(rep, o->ans, true, o->upto, false, sum, &more, err);
		if (rc == CRM_OK) {
			sum->pushed += o->cs.nfields;
			if (progress)
				fprintf(stderr, "\rsync: pushed %zu, pulled %zu fields...", sum->pushed,
					sum->pulled);
		}
		round_release(o);
		fly[0] = fly[1];
		fly[1] = NULL;
		nfly--;
	}
	return rc;
}

/*
 * The next round trip's request, in cur (spare empty): the outbox past what
 * the server acknowledged, and the cursor and ack. An outbox of more than one
 * batch is pushed first, two batches on the wire (push_ahead); then cur holds
 * what is left, usually nothing to push.
 */
static enum crm_err next_round(struct replica *rep, struct http_client *h, const char *token,
			       bool progress, size_t push_fields, const struct hooks *hk,
			       struct summary *sum, struct round *cur, struct round *spare,
			       struct crm_error *err)
{
	enum crm_err rc = round_collect(rep, 0, push_fields, cur, err);

	if (rc == CRM_OK && cur->pushed && cur->more_out)
		rc = push_ahead(rep, h, token, progress, push_fields, hk, sum, cur, spare, err);
	if (rc == CRM_OK && !cur->started) /* pushed by push_ahead: collected again */
		rc = round_collect(rep, 0, push_fields, cur, err);
	if (rc == CRM_OK)
		rc = round_envelope(rep, cur, state_i64(rep, "cursor"), state_i64(rep, "ack"), NULL, false,
				    err);
	return rc;
}

static enum crm_err count_open_conflicts(struct replica *rep, int64_t *n, struct crm_error *err)
{
	struct sync_conflict *list = NULL;
	size_t k = 0;
	enum crm_err rc = sync_conflicts_list(rep->sync, false, &list, &k, err);

	sync_conflicts_release(list, k);
	*n = (int64_t)k;
	return rc;
}

static void print_summary(const struct summary *s, bool json, const char *server)
{
	int64_t conflicts = s->conflicts_after - s->conflicts_before;

	if (conflicts < 0)
		conflicts = 0;
	if (json) {
		cJSON *o = cJSON_CreateObject();

		if (!o)
			return;
		cJSON_AddStringToObject(o, "server", server);
		cJSON_AddNumberToObject(o, "pushed", (double)s->pushed);
		cJSON_AddNumberToObject(o, "pulled", (double)s->pulled);
		cJSON_AddNumberToObject(o, "conflicts", (double)conflicts);
		cJSON_AddNumberToObject(o, "open_conflicts", (double)s->conflicts_after);
		cJSON_AddNumberToObject(o, "refused", (double)s->refused);
		cJSON_AddNumberToObject(o, "evicted", (double)s->evicted);
		cJSON_AddNumberToObject(o, "round_trips", (double)s->rounds);
		cJSON_AddNumberToObject(o, "replayed_batches", (double)s->replayed);
		cJSON_AddItemReferenceToObject(o, "refusals", s->refusals);
		cJSON_AddItemReferenceToObject(o, "notices", s->notices);
		out_json_print(o, stdout);
		cJSON_Delete(o);
		return;
	}
	printf("synced with %s: pushed %zu field%s, pulled %zu, %lld new conflict%s, %zu refused, "
	       "%zu evicted\n",
	       server, s->pushed, s->pushed == 1 ? "" : "s", s->pulled, (long long)conflicts,
	       conflicts == 1 ? "" : "s", s->refused, s->evicted);
	{
		const cJSON *x;

		cJSON_ArrayForEach(x, s->refusals) {
			const char *t = json_str(x, "table"), *id = json_str(x, "id");
			const char *col = json_str(x, "col"), *why = json_str(x, "reason");

			printf("  refused: %s %s %s: %s\n", t ? t : "", id ? id : "", col ? col : "",
			       why ? why : "");
		}
		cJSON_ArrayForEach(x, s->notices)
			printf("  notice: %s\n", x->valuestring);
	}
	if (s->conflicts_after > 0)
		printf("  %lld open conflict%s: see crm conflicts\n", (long long)s->conflicts_after,
		       s->conflicts_after == 1 ? "" : "s");
}

int cmd_sync(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct cli_extra extras[] = {
		{"cacert", "FILE", "CA certificate of a private CA (overrides the one from login)"},
		{NULL, NULL, NULL}};
	static const char *const examples[] = {"crm sync", "crm sync --json", NULL};
	struct cli_args a;
	struct replica rep = {0};
	struct http_client h[2] = {{0}, {0}};
	struct summary sum;
	struct round rounds[2], *cur = &rounds[0], *next = &rounds[1];
	struct crm_error err;
	char *server = NULL, *token = NULL, *cacert = NULL;
	bool progress = isatty(STDERR_FILENO) != 0, more = true;
	const char *drop = getenv("CRM_TEST_DROP_RESPONSE");
	const char *fail = getenv("CRM_TEST_FAIL_APPLY");
	struct hooks hooks = {drop ? strtol(drop, NULL, 10) : 0, fail ? strtol(fail, NULL, 10) : 0};
	/* Test hook: smaller batches, so a small replica pushes in several. */
	const char *small = getenv("CRM_TEST_PUSH_FIELDS");
	long push_small = small ? strtol(small, NULL, 10) : 0;
	size_t push_fields = push_small > 0 && push_small < PUSH_FIELDS ? (size_t)push_small : PUSH_FIELDS;
	int stalled = 0;
	enum crm_err rc;
	int status = 0;

	/*
	 * Only the main thread touches SQLite (the second one only posts), so
	 * connections need no mutex of their own; with a second thread running,
	 * glibc's would cost an atomic instruction per sqlite3_column_* call.
	 * Before the first database opens; a no-op (SQLITE_MISUSE) after.
	 */
	sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
	memset(&sum, 0, sizeof sum);
	round_init(&rounds[0]);
	round_init(&rounds[1]);
	crm_error_clear(&err);
	sum.notices = cJSON_CreateArray();
	sum.refusals = cJSON_CreateArray();
	rc = cli_parse(argc, argv, 1, NULL, CLI_JSON, extras, &a, &err);
	if (rc == CRM_OK && a.help) {
		cli_help(stdout, "crm sync [--json] [--cacert FILE]",
			 "Pushes what you changed since the last sync and pulls what changed on the "
			 "server, in bounded batches, until nothing remains. Safe to interrupt: the "
			 "next sync resumes.",
			 NULL, CLI_JSON, extras, examples);
		goto out;
	}
	if (rc == CRM_OK && (!sum.notices || !sum.refusals))
		rc = crm_fail(&err, CRM_ENOMEM, "out of memory");
	if (rc == CRM_OK)
		rc = replica_open(ctx->db_path, &rep, &err);
	if (rc != CRM_OK)
		goto fail;
	server = state(&rep, "server");
	if (!server) {
		rc = crm_fail(&err, CRM_EAUTH, "not logged in: crm login --server URL --user NAME");
		goto fail;
	}
	token = token_read(&rep, &err);
	if (!token) {
		rc = err.code;
		goto fail;
	}
	cacert = a.extra[0] ? strdup(a.extra[0]) : state(&rep, "cacert");
	rc = http_init(&h[0], server, cacert && cacert[0] ? cacert : NULL, &err);
	if (rc == CRM_OK)
		rc = http_init(&h[1], server, cacert && cacert[0] ? cacert : NULL, &err);
	if (rc == CRM_OK)
		rc = count_open_conflicts(&rep, &sum.conflicts_before, &err);
	if (rc == CRM_OK)
		rc = next_round(&rep, h, token, progress, push_fields, &hooks, &sum, cur, next, &err);
	if (rc == CRM_OK)
		round_launch(cur, &h[0], token, progress);
	while (rc == CRM_OK) {
		struct round *swap;
		bool prefetch = false;
		int64_t next_cursor = 0, answer_ack = -1;

		if (round_land(cur) != CRM_OK && rc == CRM_OK) {
			rc = cur->rc;
			err = cur->err;
		}
		sum.rounds++;
		if (rc == CRM_OK)
			rc = hook_drop(&hooks, &sum, &err);
		if (rc != CRM_OK)
			break;
		/* Nothing left to push and nothing handed out: ask for the next page now. */
		if (!cur->pushed && !cur->more_out &&
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cur->ans, "more")) &&
		    round_answer_i64(cur->ans, "ack", &answer_ack) && answer_ack == cur->ack &&
		    round_answer_i64(cur->ans, "cursor", &next_cursor)) {
			round_release(next);
			rc = round_envelope(&rep, next, next_cursor, cur->ack, NULL, false, &err);
			if (rc != CRM_OK)
				break;
			round_launch(next, &h[0], token, progress);
			prefetch = true;
		}
		rc = hook_fail(&hooks, &sum, &err);
		if (rc == CRM_OK)
			rc = apply_answer(&rep, cur->ans, cur->pushed, cur->upto, true, &sum, &more, &err);
		if (rc == CRM_OK) {
			sum.pushed += cur->cs.nfields;
			more = more || cur->more_out;
			/* A server that keeps saying "more" without moving on would loop forever. */
			if (!cur->pushed && state_i64(&rep, "cursor") == cur->cursor &&
			    state_i64(&rep, "ack") == cur->ack)
				stalled++;
			else
				stalled = 0;
			if (more && stalled >= 10)
				rc = crm_fail(&err, CRM_ENET, "the server keeps answering \"more\" without "
					      "progress (cursor %lld): try again later", (long long)cur->cursor);
		}
		if (rc == CRM_OK && progress && (more || sum.rounds > 1))
			fprintf(stderr, "\rsync: pushed %zu, pulled %zu fields...", sum.pushed, sum.pulled);
		if (rc != CRM_OK || !more)
			break; /* a prefetched answer is dropped below */
		swap = cur;
		cur = next;
		next = swap;
		round_release(next);
		if (prefetch)
			continue; /* already on the wire */
		rc = next_round(&rep, h, token, progress, push_fields, &hooks, &sum, cur, next, &err);
		if (rc == CRM_OK)
			round_launch(cur, &h[0], token, progress);
	}
	round_land(cur);
	round_land(next);
	round_release(&rounds[0]);
	round_release(&rounds[1]);
	if (progress && sum.rounds > 1)
		fputc('\n', stderr);
	if (rc == CRM_OK && progress && search_index_stale(&rep, NULL))
		fprintf(stderr, "sync: the search index will be built on the first search\n");
	if (rc == CRM_OK)
		rc = count_open_conflicts(&rep, &sum.conflicts_after, &err);
	if (rc != CRM_OK)
		goto fail;
	print_summary(&sum, a.json || ctx->json, server);
	goto out;
fail:
	status = cli_report("sync", &err);
	if (err.code == CRM_ENET)
		fprintf(stderr, "crm: nothing was lost: run crm sync again to resume\n");
out:
	free(server);
	free(token);
	free(cacert);
	cJSON_Delete(sum.notices);
	cJSON_Delete(sum.refusals);
	http_release(&h[0]);
	http_release(&h[1]);
	replica_close(&rep);
	cli_args_release(&a);
	return status;
}

/* ---- status ----------------------------------------------------------- */

int cmd_status(int argc, char **argv, struct cli_ctx *ctx)
{
	struct cli_args a;
	struct replica rep = {0};
	struct crm_error err;
	char *server = NULL, *user = NULL, *device = NULL;
	int64_t pending = 0, conflicts = 0, last = 0;
	char when[CRM_TIME_ISO_MAX] = "never";
	enum crm_err rc;
	int status = 0;

	crm_error_clear(&err);
	rc = cli_parse(argc, argv, 1, NULL, CLI_JSON, NULL, &a, &err);
	if (rc == CRM_OK && a.help) {
		cli_help(stdout, "crm status [--json]",
			 "Shows the server this laptop syncs with, who is logged in, the changes "
			 "waiting to be pushed, open conflicts and when it last synced.",
			 NULL, CLI_JSON, NULL, NULL);
		goto out;
	}
	if (rc == CRM_OK)
		rc = replica_open(ctx->db_path, &rep, &err);
	if (rc == CRM_OK)
		rc = sync_outbox_count(rep.sync, &pending, &err);
	if (rc == CRM_OK)
		rc = count_open_conflicts(&rep, &conflicts, &err);
	if (rc != CRM_OK) {
		status = cli_report("status", &err);
		goto out;
	}
	server = state(&rep, "server");
	user = state(&rep, "user");
	device = state(&rep, "device");
	last = state_i64(&rep, "last_sync");
	if (a.json || ctx->json) {
		cJSON *o = cJSON_CreateObject();

		if (o) {
			if (server)
				cJSON_AddStringToObject(o, "server", server);
			else
				cJSON_AddNullToObject(o, "server");
			if (user)
				cJSON_AddStringToObject(o, "user", user);
			else
				cJSON_AddNullToObject(o, "user");
			if (device)
				cJSON_AddStringToObject(o, "device", device);
			else
				cJSON_AddNullToObject(o, "device");
			cJSON_AddStringToObject(o, "site", sync_site_id(rep.sync));
			cJSON_AddNumberToObject(o, "pending", (double)pending);
			cJSON_AddNumberToObject(o, "conflicts", (double)conflicts);
			if (last) {
				crm_time_format_utc(last, when);
				cJSON_AddStringToObject(o, "last_sync", when);
			} else {
				cJSON_AddNullToObject(o, "last_sync");
			}
			out_json_print(o, stdout);
			cJSON_Delete(o);
		}
		goto out;
	}
	if (last)
		crm_time_format_local(last, when);
	printf("server:     %s\n", server ? server : "(none: crm login --server URL --user NAME)");
	printf("user:       %s\n", user ? user : "(not logged in)");
	printf("device:     %s\n", device ? device : "-");
	printf("last sync:  %s\n", when);
	printf("pending:    %lld field%s to push\n", (long long)pending, pending == 1 ? "" : "s");
	printf("conflicts:  %lld open%s\n", (long long)conflicts, conflicts ? " (crm conflicts)" : "");
out:
	free(server);
	free(user);
	free(device);
	replica_close(&rep);
	cli_args_release(&a);
	return status;
}
