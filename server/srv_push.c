/*
 * srv_push: the push half of POST /v1/sync, where the server is the authority.
 *
 * Every pushed field is checked before it is merged: its clock (a field from
 * the future is refused), its table, column, type and size
 * (schema_value_check), and permission (srv_scope: reps write under their own
 * customers, managers under their team's, admins anywhere; owner and
 * merged_into only through server operations). Refused fields get receipts;
 * the replica is put back by a correcting change at a fresh server HLC, or
 * told to evict a row it may not have. Batches are idempotent per device.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm_id.h"
#include "crm_time.h"
#include "srv_dedup.h"
#include "srv_pool.h"
#include "srv_push.h"
#include "srv_scope.h"

/* The permission decision for one pushed row, made before merging. */
struct row_decision {
	bool refused;
	enum crm_err code;
	char reason[200];
	bool existed; /* on the server before this push */
};

/*
 * writable()'s answers during one decide_rows, by customer id: nothing is
 * written meanwhile, so a customer's answer holds for every row naming it
 * (a batch of activities names each customer a few times).
 */
struct writable_memo {
	char (*ids)[37]; /* "" free */
	bool *ok;
	size_t cap;      /* a power of two, 0: no memo (asks every time) */
	size_t n;
};

struct push_ctx {
	struct srv_app *app;
	struct srv_scope *sc;
	const struct sync_changeset *cs;
	struct row_decision *dec;
	const char *device; /* the pushing device (srv_pool_device_holds) */
	struct writable_memo memo;
	/* check_field's memory of the row and column it saw last (fields come in order) */
	const struct sync_row *last_row;
	const struct schema_table *last_table;
	size_t next_col;
};

/*
 * May the pusher write under customer id? In scope now, or still held by this
 * device: a customer that left its scope (claimed, transferred, recycled) is
 * evicted only after the device's pending edits to it are pushed, and those
 * are kept (docs/pool.md).
 */
static bool writable(struct push_ctx *pc, const char *id)
{
	return srv_scope_customer(pc->sc, id) ||
	       srv_pool_device_holds(pc->app->writer.db, pc->device, id) ||
	       srv_dedup_writable(pc->app->writer.db, pc->device, id);
}

static void memo_init(struct writable_memo *m, size_t rows)
{
	size_t cap = 64;

	memset(m, 0, sizeof *m);
	while (cap < rows * 2 && cap < ((size_t)1 << 20))
		cap *= 2;
	m->ids = calloc(cap, sizeof *m->ids);
	m->ok = calloc(cap, sizeof *m->ok);
	if (m->ids && m->ok)
		m->cap = cap;
}

static void memo_release(struct writable_memo *m)
{
	free(m->ids);
	free(m->ok);
	memset(m, 0, sizeof *m);
}

/* writable(pc, id), asked once per customer of a decide_rows. */
static bool writable_memo(struct push_ctx *pc, const char *id)
{
	struct writable_memo *m = &pc->memo;
	size_t len = strlen(id), h = 14695981039346656037u, i;

	if (!m->cap || len != 36 || (m->n + 1) * 2 > m->cap)
		return writable(pc, id);
	for (size_t k = 0; k < len; k++)
		h = (h ^ (unsigned char)id[k]) * 1099511628211u;
	for (i = h & (m->cap - 1); m->ids[i][0]; i = (i + 1) & (m->cap - 1))
		if (memcmp(m->ids[i], id, 37) == 0)
			return m->ok[i];
	memcpy(m->ids[i], id, 37);
	m->ok[i] = writable(pc, id);
	m->n++;
	return m->ok[i];
}

static cJSON *encode_value(const struct sync_value *v)
{
	cJSON *o;
	char b[32];

	switch (v->type) {
	case SYNC_TEXT:
		return cJSON_CreateString(v->s ? v->s : "");
	case SYNC_INT:
		if (v->i >= -9007199254740992LL && v->i <= 9007199254740992LL)
			return cJSON_CreateNumber((double)v->i);
		o = cJSON_CreateObject();
		snprintf(b, sizeof b, "%lld", (long long)v->i);
		if (o)
			cJSON_AddStringToObject(o, "i", b);
		return o;
	case SYNC_REAL:
		o = cJSON_CreateObject();
		if (o)
			cJSON_AddNumberToObject(o, "r", v->r);
		return o;
	default:
		return cJSON_CreateNull();
	}
}

static void add_hlc(cJSON *o, const char *key, sync_hlc h)
{
	char b[SYNC_HLC_STR_MAX];

	sync_hlc_format(h, b);
	cJSON_AddStringToObject(o, key, b);
}

static const struct sync_field *row_field(const struct sync_row *r, const char *col)
{
	for (size_t j = 0; j < r->nfields; j++)
		if (strcmp(r->fields[j].col, col) == 0)
			return &r->fields[j];
	return NULL;
}

static void site_user(sqlite3 *db, const char *server_site, const char *site, char *out, size_t n)
{
	sqlite3_stmt *st = NULL;

	snprintf(out, n, "%s", "");
	if (strcmp(site, server_site) == 0) {
		snprintf(out, n, "server");
		return;
	}
	if (sqlite3_prepare_v2(db, "SELECT user, name FROM srv_devices WHERE site = ?1 ORDER BY created_at DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, site, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, n, "%s (%s)", (const char *)sqlite3_column_text(st, 0),
			 (const char *)sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
}

/* ---- push: permission ------------------------------------------------- */

static int cmp_id(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ids is sorted (decide_rows sorts it between its passes). */
static bool in_list(char **ids, size_t n, const char *id)
{
	return n && bsearch(&id, ids, n, sizeof *ids, cmp_id) != NULL;
}

static void refuse_row(struct row_decision *d, enum crm_err code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void refuse_row(struct row_decision *d, enum crm_err code, const char *fmt, ...)
{
	va_list ap;

	d->refused = true;
	d->code = code;
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof d->reason, fmt, ap);
	va_end(ap);
}

/*
 * Decides, per row, whether the pusher may write it at all: customers first
 * (a new one must be owned by the pusher or someone they may give it to),
 * then child rows (their customer, old and new, must be writable; a customer
 * created in the same push counts).
 */
static enum crm_err decide_rows(struct push_ctx *pc, struct crm_error *err)
{
	const struct sync_changeset *cs = pc->cs;
	char **fresh = NULL; /* new customers accepted in this push */
	size_t nfresh = 0;
	enum crm_err rc = CRM_OK;

	fresh = calloc(cs->nrows ? cs->nrows : 1, sizeof *fresh);
	if (!fresh)
		return crm_fail(err, CRM_ENOMEM, "out of memory");
	memo_init(&pc->memo, cs->nrows); /* without memory: no memo, the same answers */
	for (int pass = 0; pass < 2 && rc == CRM_OK; pass++) {
		if (pass == 1 && nfresh > 1)
			qsort(fresh, nfresh, sizeof *fresh, cmp_id);
		for (size_t i = 0; i < cs->nrows && rc == CRM_OK; i++) {
			const struct sync_row *r = &cs->rows[i];
			const struct schema_table *t = schema_table_find(r->table);
			struct row_decision *d = &pc->dec[i];
			char parent[37] = "";
			bool found = false;

			if (!t || strcmp(t->name, r->table) != 0) {
				if (pass == 0)
					refuse_row(d, CRM_EINVAL, "unknown table %s", r->table);
				continue;
			}
			if ((pass == 0) != (t->parent == NULL))
				continue;
			if (!crm_id_valid(r->id)) {
				refuse_row(d, CRM_EINVAL, "row id %s is not a UUID", r->id);
				continue;
			}
			rc = srv_scope_parent(pc->sc, r->table, r->id, parent, &found, err);
			if (rc != CRM_OK)
				break;
			d->existed = found;
			if (!t->parent) {
				const struct sync_field *owner = row_field(r, "owner");
				const struct sync_field *merged = row_field(r, "merged_into");

				if (found) {
					if (!writable_memo(pc, r->id))
						refuse_row(d, CRM_EPERM, "customer %s is not yours", r->id);
					continue;
				}
				if (owner && owner->v.type != SYNC_NULL &&
				    (owner->v.type != SYNC_TEXT || !srv_scope_may_own(pc->sc, owner->v.s))) {
					refuse_row(d, CRM_EPERM,
						   "a new customer must be owned by you (owner %s refused)",
						   owner->v.type == SYNC_TEXT ? owner->v.s : "?");
					continue;
				}
				if (merged && merged->v.type != SYNC_NULL) {
					refuse_row(d, CRM_EPERM, "%s",
						   "merged_into changes only through a server merge");
					continue;
				}
				fresh[nfresh++] = r->id;
				continue;
			}
			{
				const struct sync_field *pf = row_field(r, t->parent);
				const char *newp = pf && pf->v.type == SYNC_TEXT ? pf->v.s : NULL;

				if (found && (!parent[0] || (!writable_memo(pc, parent) &&
							     !in_list(fresh, nfresh, parent)))) {
					refuse_row(d, CRM_EPERM, "the customer of this row (%s) is not yours",
						   parent[0] ? parent : "none");
					continue;
				}
				if (!found && !newp) {
					refuse_row(d, CRM_EINVAL, "a new %s needs its customer_id", t->singular);
					continue;
				}
				if (pf && !newp) {
					refuse_row(d, CRM_EINVAL, "%s", "customer_id cannot be cleared");
					continue;
				}
				if (newp && (!found || strcmp(newp, parent) != 0) &&
				    !writable_memo(pc, newp) && !in_list(fresh, nfresh, newp))
					refuse_row(d, CRM_EPERM, "customer %s is not yours (or unknown)", newp);
			}
		}
	}
	memo_release(&pc->memo);
	free(fresh);
	return rc;
}

/* sync_apply's per-field veto: the row decision, then table, column, type, size. */
static enum crm_err check_field(void *ctx, const struct sync_row *row, const struct sync_field *f,
				struct crm_error *err)
{
	struct push_ctx *pc = ctx;
	const struct row_decision *d = NULL;
	const struct schema_table *t;
	const struct schema_column *c;
	struct schema_value v;

	if (row >= pc->cs->rows && row < pc->cs->rows + pc->cs->nrows)
		d = &pc->dec[row - pc->cs->rows];
	if (!d)
		return crm_fail(err, CRM_EINTERNAL, "row outside the pushed batch");
	if (d->refused)
		return crm_fail(err, d->code, "%s", d->reason);
	if (row != pc->last_row) {
		pc->last_row = row;
		pc->last_table = schema_table_find(row->table);
		pc->next_col = 0;
	}
	t = pc->last_table;
	c = t ? schema_column_find_next(t, f->col, &pc->next_col) : NULL;
	if (!c)
		return crm_fail(err, CRM_EINVAL, "unknown column %s.%s", row->table, f->col);
	if (strcmp(c->name, "id") == 0)
		return crm_fail(err, CRM_EINVAL, "%s", "the id column is the row's own id");
	if (c->flags & SCOL_SERVER) {
		bool ok = !d->existed && (f->v.type == SYNC_NULL || strcmp(c->name, "owner") == 0);

		if (!ok)
			return crm_fail(err, CRM_EPERM,
					"%s changes only through server operations (claim, assign, merge)",
					c->name);
	}
	memset(&v, 0, sizeof v);
	switch (f->v.type) {
	case SYNC_INT:
		v.type = SV_INT;
		v.i = f->v.i;
		break;
	case SYNC_REAL:
		v.type = SV_REAL;
		v.r = f->v.r;
		break;
	case SYNC_TEXT:
		v.type = SV_TEXT;
		v.s = f->v.s;
		break;
	default:
		v.type = SV_NULL;
		break;
	}
	return schema_value_check(c, &v, err);
}

/* ---- push: receipts, corrections -------------------------------------- */

struct refusal_ref {
	const char *col;
	enum crm_err code;
	const char *reason;
};

struct row_receipt {
	struct refusal_ref *r;
	size_t n, cap;
};

static int cmp_row_key(const struct sync_row *a, const char *table, const char *id)
{
	int c = strcmp(a->table, table);

	return c ? c : strcmp(a->id, id);
}

static const struct sync_changeset *sort_cs; /* qsort has no context argument */

static int cmp_idx(const void *x, const void *y)
{
	const struct sync_row *a = &sort_cs->rows[*(const size_t *)x];
	const struct sync_row *b = &sort_cs->rows[*(const size_t *)y];

	return cmp_row_key(a, b->table, b->id);
}

static long find_row(const struct sync_changeset *cs, const size_t *order, const char *table,
		     const char *id)
{
	size_t lo = 0, hi = cs->nrows;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_row_key(&cs->rows[order[mid]], table, id);

		if (c == 0)
			return (long)order[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static bool receipt_add(struct row_receipt *rr, const char *col, enum crm_err code,
			const char *reason)
{
	if (rr->n == rr->cap) {
		size_t ncap = rr->cap ? rr->cap * 2 : 4;
		struct refusal_ref *nr = realloc(rr->r, ncap * sizeof *nr);

		if (!nr)
			return false;
		rr->r = nr;
		rr->cap = ncap;
	}
	rr->r[rr->n++] = (struct refusal_ref){col, code, reason};
	return true;
}

/* A change written by the server itself (a correction, an owner), at a fresh HLC. */
struct server_write {
	const char *table, *id, *col;
	const char *text; /* new text value, or NULL: put back the value in place */
};

static enum crm_err apply_server_writes(struct srv_app *app, const struct server_write *w,
					size_t n, struct crm_error *err)
{
	struct sync_db *s = app->writer.sync;
	struct sync_changeset cs;
	struct sync_apply_result res;
	enum crm_err rc = CRM_OK;

	sync_changeset_init(&cs);
	memset(&res, 0, sizeof res);
	for (size_t i = 0; i < n && rc == CRM_OK; i++) {
		struct sync_changeset snap;
		const struct sync_field *cur = NULL;
		struct sync_row *row;
		struct sync_field f;

		rc = sync_row_snapshot(s, w[i].table, w[i].id, &snap, err);
		if (rc == CRM_ENOTFOUND) {
			rc = CRM_OK; /* nothing to correct: the row is not here */
			continue;
		}
		if (rc != CRM_OK)
			break;
		if (snap.nrows == 1)
			cur = row_field(&snap.rows[0], w[i].col);
		row = sync_changeset_add_row(&cs, w[i].table, w[i].id);
		if (!row) {
			rc = crm_fail(err, CRM_ENOMEM, "out of memory");
			sync_changeset_release(&snap);
			break;
		}
		memset(&f, 0, sizeof f);
		f.col = (char *)(uintptr_t)w[i].col;
		if (w[i].text) {
			f.v.type = SYNC_TEXT;
			f.v.s = (char *)(uintptr_t)w[i].text;
		} else if (cur) {
			f.v = cur->v;
		}
		f.hlc = sync_hlc_next(s);
		snprintf(f.site, sizeof f.site, "%s", sync_site_id(s));
		if (cur && cur->hlc) {
			f.base_hlc = cur->hlc;
			snprintf(f.base_site, sizeof f.base_site, "%s", cur->site);
		}
		if (sync_row_add_field(&cs, row, &f) != CRM_OK)
			rc = crm_fail(err, CRM_ENOMEM, "out of memory");
		sync_changeset_release(&snap);
	}
	if (rc == CRM_OK && cs.nrows)
		rc = sync_apply(s, &cs, SYNC_APPLY_IN_TXN, NULL, NULL, &res, err);
	sync_apply_result_release(&res);
	sync_changeset_release(&cs);
	return rc;
}

/*
 * Rows per multi-row INSERT of the audit and scope rows of new customers:
 * one statement per group instead of one per row (a batch creates
 * thousands). The groups go in order, so the rows do too.
 */
#define INSERT_GROUP 32

/*
 * "head" followed by n copies of tuple separated by commas, prepared on db
 * (*st NULL on failure).
 */
static int prepare_group(sqlite3 *db, const char *head, const char *tuple, size_t n,
			 sqlite3_stmt **st)
{
	char sql[4096];
	size_t len = (size_t)snprintf(sql, sizeof sql, "%s", head);

	*st = NULL;
	for (size_t k = 0; k < n && len < sizeof sql; k++)
		len += (size_t)snprintf(sql + len, sizeof sql - len, "%s%s", k ? ", " : "", tuple);
	if (len >= sizeof sql)
		return SQLITE_TOOBIG;
	return sqlite3_prepare_v2(db, sql, -1, st, NULL);
}

/* A multi-row INSERT "head tuple, tuple, ..." run group by group; the full group's statement kept. */
struct group_insert {
	const char *head, *tuple;
	sqlite3_stmt *full; /* INSERT_GROUP tuples, prepared on first use */
};

/* The statement for a group of k rows (NULL on failure); give it back with group_done. */
static sqlite3_stmt *group_stmt(struct group_insert *g, sqlite3 *db, size_t k)
{
	sqlite3_stmt *st = NULL;

	if (k == INSERT_GROUP) {
		if (!g->full)
			prepare_group(db, g->head, g->tuple, k, &g->full);
		return g->full;
	}
	prepare_group(db, g->head, g->tuple, k, &st);
	return st;
}

static void group_done(struct group_insert *g, sqlite3_stmt *st)
{
	if (st == g->full) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	} else {
		sqlite3_finalize(st);
	}
}

/* One srv_ownership row of a new customer: who owns it and why. */
struct audit_row {
	const char *customer, *owner, *reason;
};

/* The ownership log's rows of new customers, in order (by is the pusher). */
static enum crm_err audit_created(sqlite3 *db, const struct audit_row *a, size_t n, const char *by,
				  struct crm_error *err)
{
	struct group_insert g = {"INSERT INTO srv_ownership (customer_id, old_owner, new_owner, by_user,"
				 " reason, at) VALUES ",
				 "(?, NULL, ?, ?, ?, ?)", NULL};
	enum crm_err rc = CRM_OK;
	size_t k;

	for (size_t i = 0; i < n && rc == CRM_OK; i += k) {
		sqlite3_stmt *st;
		int p = 1;

		k = n - i < INSERT_GROUP ? n - i : INSERT_GROUP;
		st = group_stmt(&g, db, k);
		if (!st) {
			rc = crm_fail(err, CRM_EDB, "audit: %s", sqlite3_errmsg(db));
			break;
		}
		for (size_t j = i; j < i + k; j++) {
			sqlite3_bind_text(st, p++, a[j].customer, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, p++, a[j].owner, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, p++, by, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, p++, a[j].reason, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, p++, crm_now_ms());
		}
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = crm_fail(err, CRM_EDB, "audit: %s", sqlite3_errmsg(db));
		group_done(&g, st);
	}
	sqlite3_finalize(g.full);
	return rc;
}

/* Copies the conflicts sync_apply just recorded into srv_conflicts, with who and the customer. */
static enum crm_err log_conflicts(struct srv_app *app, struct srv_scope *sc,
				  const struct srv_session *who, int64_t since,
				  struct crm_error *err)
{
	struct sync_conflict *list = NULL;
	size_t n = 0;
	sqlite3_stmt *st = NULL;
	enum crm_err rc = sync_conflicts_list(app->writer.sync, true, &list, &n, err);
	const char *server_site = sync_site_id(app->writer.sync);

	if (rc != CRM_OK)
		return rc;
	if (sqlite3_prepare_v2(app->writer.db,
			       "INSERT OR IGNORE INTO srv_conflicts (conflict_id, tbl, row_id, customer_id,"
			       " user, device_id, at, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = crm_fail(err, CRM_EDB, "conflicts: %s", sqlite3_errmsg(app->writer.db));
		goto out;
	}
	for (size_t i = 0; i < n && rc == CRM_OK; i++) {
		const struct sync_conflict *c = &list[i];
		char customer[37] = "", wu[SRV_NAME_MAX * 2 + 8], lu[SRV_NAME_MAX * 2 + 8];
		char when[CRM_TIME_ISO_MAX];
		bool found = false;
		cJSON *o, *x;
		char *body;

		if (c->detected_at < since)
			break; /* newest first: the rest were logged before */
		rc = srv_scope_parent(sc, c->table, c->row_id, customer, &found, err);
		if (rc != CRM_OK)
			break;
		site_user(app->writer.db, server_site, c->loser_site, lu, sizeof lu);
		site_user(app->writer.db, server_site, c->winner_site, wu, sizeof wu);
		o = cJSON_CreateObject();
		if (!o) {
			rc = crm_fail(err, CRM_ENOMEM, "out of memory");
			break;
		}
		cJSON_AddStringToObject(o, "id", c->id);
		cJSON_AddStringToObject(o, "table", c->table);
		cJSON_AddStringToObject(o, "row", c->row_id);
		cJSON_AddStringToObject(o, "col", c->col);
		x = cJSON_AddObjectToObject(o, "loser");
		if (x) {
			cJSON_AddItemToObject(x, "value", encode_value(&c->loser));
			add_hlc(x, "hlc", c->loser_hlc);
			cJSON_AddStringToObject(x, "site", c->loser_site);
			cJSON_AddStringToObject(x, "user", lu);
		}
		x = cJSON_AddObjectToObject(o, "winner");
		if (x) {
			cJSON_AddItemToObject(x, "value", encode_value(&c->winner));
			add_hlc(x, "hlc", c->winner_hlc);
			cJSON_AddStringToObject(x, "site", c->winner_site);
			cJSON_AddStringToObject(x, "user", wu);
		}
		crm_time_format_utc(c->detected_at, when);
		cJSON_AddStringToObject(o, "detected_at", when);
		body = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (!body) {
			rc = crm_fail(err, CRM_ENOMEM, "out of memory");
			break;
		}
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, c->table, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, c->row_id, -1, SQLITE_STATIC);
		if (found && customer[0])
			sqlite3_bind_text(st, 4, customer, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 4);
		sqlite3_bind_text(st, 5, who->user.name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, who->device.id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, c->detected_at);
		sqlite3_bind_text(st, 8, body, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = crm_fail(err, CRM_EDB, "conflicts: %s", sqlite3_errmsg(app->writer.db));
		free(body);
	}
out:
	sqlite3_finalize(st);
	sync_conflicts_release(list, n);
	return rc;
}

cJSON *srv_evict_entry(const char *table, const char *id)
{
	cJSON *o = cJSON_CreateObject();

	if (o) {
		cJSON_AddStringToObject(o, "table", table);
		cJSON_AddStringToObject(o, "id", id);
	}
	return o;
}

/* Marks customers this device created as already in its scope (it has them). */
static enum crm_err mark_own(sqlite3 *db, const char *device, const struct sync_changeset *cs,
			     const struct row_decision *dec, struct crm_error *err)
{
	struct group_insert g = {"INSERT OR IGNORE INTO srv_scope (device_id, customer_id, in_scope, gen)"
				 " VALUES ",
				 "(?1, ?, 1, 0)", NULL};
	const char *ids[INSERT_GROUP];
	enum crm_err rc = CRM_OK;
	size_t n = 0;

	for (size_t i = 0; i <= cs->nrows && rc == CRM_OK; i++) {
		sqlite3_stmt *st;

		if (i < cs->nrows) {
			if (dec[i].refused || dec[i].existed || strcmp(cs->rows[i].table, "customers") != 0)
				continue;
			ids[n++] = cs->rows[i].id;
			if (n < INSERT_GROUP)
				continue;
		}
		if (n == 0)
			break;
		st = group_stmt(&g, db, n); /* a full group, or the rest at the end */
		if (!st) {
			rc = crm_fail(err, CRM_EDB, "scope: %s", sqlite3_errmsg(db));
			break;
		}
		sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
		for (size_t k = 0; k < n; k++)
			sqlite3_bind_text(st, (int)k + 2, ids[k], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = crm_fail(err, CRM_EDB, "scope: %s", sqlite3_errmsg(db));
		group_done(&g, st);
		n = 0;
	}
	sqlite3_finalize(g.full);
	return rc;
}

enum crm_err srv_push_apply(struct srv_app *app, const struct srv_session *who,
			       const struct sync_changeset *in, cJSON **result,
			       struct crm_error *err)
{
	struct sync_changeset ok_cs;
	const struct sync_changeset *cs = in;
	struct row_decision *dec = NULL;
	struct row_receipt *rr = NULL;
	size_t *order = NULL;
	struct server_write *sw = NULL;
	size_t nsw = 0;
	struct sync_apply_result res;
	struct srv_scope sc;
	bool sc_open = false;
	struct push_ctx pc;
	int64_t now = crm_now_ms(), started = crm_now_ms();
	enum crm_err rc = CRM_OK;
	cJSON *out = NULL, *receipts, *evict, *notices;
	char *clock_reason = NULL;
	size_t accepted = 0, nrefused = 0;
	bool any_ahead = false;
	struct audit_row *audit = NULL; /* one per new customer */
	size_t naudit = 0;

	sync_changeset_init(&ok_cs);
	memset(&res, 0, sizeof res);
	*result = NULL;
	dec = calloc(in->nrows ? in->nrows : 1, sizeof *dec);
	rr = calloc(in->nrows ? in->nrows : 1, sizeof *rr);
	order = calloc(in->nrows ? in->nrows : 1, sizeof *order);
	sw = calloc(in->nfields ? in->nfields + in->nrows : 1, sizeof *sw);
	audit = calloc(in->nrows ? in->nrows : 1, sizeof *audit);
	clock_reason = malloc(160);
	if (!dec || !rr || !order || !sw || !audit || !clock_reason) {
		rc = crm_fail(err, CRM_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(clock_reason, 160,
		 "the clock of this laptop is more than %lld s ahead of the server's: set it right",
		 (long long)(app->limits.max_skew_ms / 1000));
	/* A clock too far ahead would win every conflict forever: refuse those fields. */
	for (size_t i = 0; i < in->nrows && !any_ahead; i++)
		for (size_t j = 0; j < in->rows[i].nfields; j++)
			if (SYNC_HLC_MS(in->rows[i].fields[j].hlc) > now + app->limits.max_skew_ms)
				any_ahead = true;
	if (any_ahead) {
		for (size_t i = 0; i < in->nrows && rc == CRM_OK; i++) {
			const struct sync_row *r = &in->rows[i];
			struct sync_row *nr = sync_changeset_add_row(&ok_cs, r->table, r->id);

			if (!nr) {
				rc = crm_fail(err, CRM_ENOMEM, "out of memory");
				break;
			}
			for (size_t j = 0; j < r->nfields && rc == CRM_OK; j++) {
				if (SYNC_HLC_MS(r->fields[j].hlc) > now + app->limits.max_skew_ms) {
					if (!receipt_add(&rr[i], r->fields[j].col, CRM_ECLOCK, clock_reason))
						rc = crm_fail(err, CRM_ENOMEM, "out of memory");
					continue;
				}
				if (sync_row_add_field(&ok_cs, nr, &r->fields[j]) != CRM_OK)
					rc = crm_fail(err, CRM_ENOMEM, "out of memory");
			}
		}
		if (rc != CRM_OK)
			goto out;
		cs = &ok_cs; /* same rows in the same order, fewer fields */
	}
	rc = srv_scope_init(&sc, app->writer.db, &who->user, err);
	if (rc != CRM_OK)
		goto out;
	sc_open = true;
	pc = (struct push_ctx){app, &sc, cs, dec, who->device.id, {NULL, NULL, 0, 0}, NULL, NULL, 0};
	/* The duplicate check of the new customers starts on a worker meanwhile (srv_dedup). */
	if (cs == in)
		rc = srv_dedup_push_begin(app->dedup, app->writer.db, cs, err);
	if (rc == CRM_OK)
		rc = decide_rows(&pc, err);
	if (rc != CRM_OK)
		goto out;
	/* Customers that existed or were refused whole are not stored as pushed. */
	for (size_t i = 0; i < cs->nrows; i++)
		if ((dec[i].existed || dec[i].refused) && strcmp(cs->rows[i].table, "customers") == 0)
			srv_dedup_push_refused(app->dedup, cs, i);
	rc = sync_apply(app->writer.sync, cs, SYNC_APPLY_IN_TXN, check_field, &pc, &res, err);
	if (rc != CRM_OK)
		goto out;
	/* Every field not refused won: the new customers are stored as pushed. */
	srv_dedup_push_applied(app->dedup, cs, res.ignored == 0);
	/* Receipts per row: refusals found by row key. */
	for (size_t i = 0; i < cs->nrows; i++)
		order[i] = i;
	sort_cs = cs;
	qsort(order, cs->nrows, sizeof *order, cmp_idx);
	sort_cs = NULL;
	for (size_t k = 0; k < res.nrefused; k++) {
		const struct sync_refusal *f = &res.refused[k];
		long i = find_row(cs, order, f->table, f->id);

		if (i < 0)
			continue;
		if (!receipt_add(&rr[i], f->col, f->code, f->reason)) {
			rc = crm_fail(err, CRM_ENOMEM, "out of memory");
			goto out;
		}
		/* What is stored of this row is not all that was pushed. */
		srv_dedup_push_refused(app->dedup, cs, (size_t)i);
	}
	out = cJSON_CreateObject();
	receipts = out ? cJSON_AddArrayToObject(out, "receipts") : NULL;
	evict = out ? cJSON_AddArrayToObject(out, "evict") : NULL;
	notices = out ? cJSON_AddArrayToObject(out, "notices") : NULL;
	if (!receipts || !evict || !notices) {
		rc = crm_fail(err, CRM_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < cs->nrows && rc == CRM_OK; i++) {
		const struct sync_row *r = &in->rows[i];
		cJSON *o = cJSON_CreateObject();
		bool whole = dec[i].refused || rr[i].n >= r->nfields;

		if (!o || !cJSON_AddItemToArray(receipts, o)) {
			cJSON_Delete(o);
			rc = crm_fail(err, CRM_ENOMEM, "out of memory");
			break;
		}
		cJSON_AddStringToObject(o, "table", r->table);
		cJSON_AddStringToObject(o, "id", r->id);
		accepted += r->nfields - (rr[i].n < r->nfields ? rr[i].n : r->nfields);
		if (rr[i].n == 0) {
			cJSON_AddStringToObject(o, "status", "ok");
			continue;
		}
		nrefused += rr[i].n;
		cJSON_AddStringToObject(o, "status", whole ? "refused" : "partial");
		{
			cJSON *ra = cJSON_AddArrayToObject(o, "refused");

			for (size_t k = 0; ra && k < rr[i].n; k++) {
				cJSON *x = cJSON_CreateObject();

				if (!x)
					break;
				cJSON_AddStringToObject(x, "col", rr[i].r[k].col);
				cJSON_AddStringToObject(x, "code", crm_errname(rr[i].r[k].code));
				cJSON_AddStringToObject(x, "reason", rr[i].r[k].reason);
				cJSON_AddItemToArray(ra, x);
			}
		}
		/*
		 * Put the replica back: a row it may not have is evicted; a row it may
		 * keep gets the server's value of each refused field at a fresh HLC.
		 */
		if (!srv_scope_row(&sc, r->table, r->id)) {
			cJSON_AddItemToArray(evict, srv_evict_entry(r->table, r->id));
			continue;
		}
		for (size_t k = 0; k < rr[i].n; k++) {
			if (rr[i].r[k].code == CRM_ECLOCK)
				continue; /* a correction could not beat a clock from the future */
			sw[nsw++] = (struct server_write){r->table, r->id, rr[i].r[k].col, NULL};
		}
	}
	if (rc != CRM_OK)
		goto out;
	/* New customers pushed without an owner belong to the pusher (a server operation). */
	for (size_t i = 0; i < cs->nrows; i++) {
		const struct sync_row *r = &cs->rows[i];
		const struct sync_field *owner;

		if (dec[i].refused || dec[i].existed || strcmp(r->table, "customers") != 0)
			continue;
		owner = row_field(r, "owner");
		if (!owner || owner->v.type != SYNC_TEXT) {
			sw[nsw++] = (struct server_write){"customers", r->id, "owner", who->user.name};
			audit[naudit++] = (struct audit_row){r->id, who->user.name,
							     "created (owner assigned by the server)"};
		} else {
			audit[naudit++] = (struct audit_row){r->id, owner->v.s, "created"};
		}
	}
	if (naudit)
		rc = audit_created(app->writer.db, audit, naudit, who->user.name, err);
	if (rc == CRM_OK && nsw)
		rc = apply_server_writes(app, sw, nsw, err);
	if (rc == CRM_OK && res.conflicts)
		rc = log_conflicts(app, &sc, who, started, err);
	if (rc == CRM_OK)
		rc = mark_own(app->writer.db, who->device.id, cs, dec, err);
	if (rc != CRM_OK)
		goto out;
	if (nrefused) {
		char msg[160];
		cJSON *x;

		snprintf(msg, sizeof msg, "%zu pushed field%s refused by the server (see receipts)",
			 nrefused, nrefused == 1 ? " was" : "s were");
		x = cJSON_CreateString(msg);
		if (x)
			cJSON_AddItemToArray(notices, x);
	}
	cJSON_AddNumberToObject(out, "accepted", (double)accepted);
	cJSON_AddNumberToObject(out, "conflicts", (double)res.conflicts);
	*result = out;
	out = NULL;
out:
	srv_dedup_push_end(app->dedup, rc == CRM_OK);
	if (sc_open)
		srv_scope_release(&sc);
	for (size_t i = 0; rr && i < in->nrows; i++)
		free(rr[i].r);
	free(rr);
	free(dec);
	free(order);
	free(sw);
	free(clock_reason);
	free(audit);
	cJSON_Delete(out);
	sync_apply_result_release(&res);
	sync_changeset_release(&ok_cs);
	return rc;
}

enum crm_err srv_batch_lookup(sqlite3 *db, const char *device, const char *batch,
				 cJSON **stored, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	int step;

	*stored = NULL;
	if (sqlite3_prepare_v2(db, "SELECT receipts FROM srv_batches WHERE device_id = ?1 AND batch_id = ?2",
			       -1, &st, NULL) != SQLITE_OK)
		return crm_fail(err, CRM_EDB, "batches: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, batch, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		*stored = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
		if (!*stored)
			rc = crm_fail(err, CRM_EINTERNAL, "stored receipts of batch %s are unreadable", batch);
	} else if (step != SQLITE_DONE) {
		rc = crm_fail(err, CRM_EDB, "batches: %s", sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	return rc;
}

enum crm_err srv_batch_store(sqlite3 *db, const char *device, const char *batch,
				const cJSON *result, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	char *text = cJSON_PrintUnformatted(result);

	if (!text)
		return crm_fail(err, CRM_ENOMEM, "out of memory");
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO srv_batches (device_id, batch_id, receipts, created_at)"
			       " VALUES (?1, ?2, ?3, ?4)",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = crm_fail(err, CRM_EDB, "batches: %s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, batch, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, crm_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = crm_fail(err, CRM_EDB, "batches: %s", sqlite3_errmsg(db));
out:
	sqlite3_finalize(st);
	free(text);
	return rc;
}

enum crm_err srv_device_touch(sqlite3 *db, const char *device, const char *site,
				 struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;

	if (sqlite3_prepare_v2(db, "UPDATE srv_devices SET site = ?1, last_seen = ?2 WHERE id = ?3", -1,
			       &st, NULL) != SQLITE_OK)
		return crm_fail(err, CRM_EDB, "device: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, site, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, crm_now_ms());
	sqlite3_bind_text(st, 3, device, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = crm_fail(err, CRM_EDB, "device: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

