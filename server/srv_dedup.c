/*
 * srv_dedup: automatic merges, the review queue, unmerge and aliases.
 * See srv_dedup.h; the admin commands (`crm-server dup ...`) are in
 * srv_dupcmd.c.
 */
#include "srv_dedup.h"
#include "srv_push.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm_id.h"
#include "crm_time.h"
#include "srv_scope.h"
#include "tables.h"

#define NCOLS_MAX 48
#define MAX_HITS 16
#define ALIAS_DEPTH 32

#define PENDING_MAX 4096
#define STMT_CACHE 48

struct ahead;

struct srv_dedup {
	sqlite3 *db;        /* the connection the cached statements belong to */
	struct ahead *ahead; /* the push's check done ahead (srv_dedup_push_begin), or NULL */
	bool no_ahead;       /* srv_dedup_set_ahead(false) */
	size_t recorded;     /* srv_dedup_ahead_recorded */
	sqlite3_stmt *load; /* cust_load's SELECT, prepared once on db */
	/* Other statements of merges, prepared once on db (updates compile the capture triggers). */
	char *sql[STMT_CACHE];
	sqlite3_stmt *stmt[STMT_CACHE];
	size_t nstmt;
	struct match_index *idx;
	int64_t touched; /* srv_dup_touched read up to this seq */
	/*
	 * Ids whose index entry changed inside a transaction that may still roll
	 * back; re-read from the database at the next srv_dedup_after_push (a
	 * rolled-back merge must not leave its loser out of the index).
	 */
	char **pending;
	size_t npending;
	bool overflow; /* too many to list: rebuild the index */
	size_t pends;  /* pend() calls ever made (listed or not) */
	/*
	 * The commit mark: srv_dedup_after_push ends by writing gen into a TEMP
	 * table inside its transaction. When the next settle still sees that
	 * value (and the connection has no temp write of its own open), that
	 * transaction committed, so the first marked_n pending ids are in the
	 * index exactly as in the database and need not be read again.
	 */
	bool marked;
	int64_t gen;       /* last value written */
	size_t marked_n;   /* npending when the mark was written */
	size_t marked_pends; /* pends when the mark was written */
};

static void pend(struct srv_dedup *d, const char *id)
{
	d->pends++;
	if (d->overflow)
		return;
	if (!d->pending)
		d->pending = calloc(PENDING_MAX, sizeof *d->pending);
	if (!d->pending || d->npending == PENDING_MAX) {
		d->overflow = true;
		return;
	}
	d->pending[d->npending] = strdup(id);
	if (!d->pending[d->npending])
		d->overflow = true;
	else
		d->npending++;
}

static void pending_clear(struct srv_dedup *d)
{
	for (size_t i = 0; i < d->npending; i++)
		free(d->pending[i]);
	d->npending = 0;
	d->overflow = false;
}

/* ---- customer rows ------------------------------------------------------ */

/* One customers row: the text of every column (schema order), NULL for NULL. */
struct cust {
	bool exists, live;
	int64_t created_at;
	char id[37];
	char *v[NCOLS_MAX];
};

static const struct schema_table *ctab(void)
{
	return schema_table_find("customers");
}

static int ccol(const char *name)
{
	const struct schema_column *c = schema_column_find(ctab(), name);

	return c ? (int)(c - ctab()->cols) : -1;
}

static const char *cval(const struct cust *c, const char *name)
{
	int i = ccol(name);

	return i >= 0 ? c->v[i] : NULL;
}

static bool is_empty(const char *s)
{
	return !s || !s[0];
}

static void cust_release(struct cust *c)
{
	for (size_t i = 0; i < NCOLS_MAX; i++)
		free(c->v[i]);
	memset(c, 0, sizeof *c);
}

static enum crm_err db_fail(sqlite3 *db, struct crm_error *err, const char *what)
{
	return crm_fail(err, CRM_EDB, "%s: %s", what, sqlite3_errmsg(db));
}

/*
 * A statement for sql on db: kept on d when db is d's connection (d may be
 * NULL), else prepared for one use. NULL when it cannot be prepared. Give it
 * back with stmt_done.
 */
static sqlite3_stmt *stmt_get(struct srv_dedup *d, sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (d && d->db == db) {
		for (size_t i = 0; i < d->nstmt; i++)
			if (strcmp(d->sql[i], sql) == 0)
				return d->stmt[i];
		if (d->nstmt < STMT_CACHE) {
			char *copy = strdup(sql);

			if (copy && sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) ==
					    SQLITE_OK) {
				d->sql[d->nstmt] = copy;
				d->stmt[d->nstmt++] = st;
				return st;
			}
			free(copy);
			sqlite3_finalize(st);
			return NULL;
		}
	}
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

static void stmt_done(struct srv_dedup *d, sqlite3_stmt *st)
{
	if (!st)
		return;
	for (size_t i = 0; d && i < d->nstmt; i++) {
		if (d->stmt[i] == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return;
		}
	}
	sqlite3_finalize(st);
}

/*
 * Loads customer id (c->exists false when there is none). Release with
 * cust_release. d (may be NULL) keeps the statement prepared when db is its
 * connection (serve matches every pushed customer).
 */
static enum crm_err cust_load(struct srv_dedup *d, sqlite3 *db, const char *id, struct cust *c,
			      struct crm_error *err)
{
	const struct schema_table *t = ctab();
	sqlite3_stmt *st = NULL;
	bool cached = d && d->db == db;
	enum crm_err rc = CRM_OK;
	int step;

	memset(c, 0, sizeof *c);
	if (cached && d->load) {
		st = d->load;
	} else {
		char sql[2048];
		size_t len = (size_t)snprintf(sql, sizeof sql, "SELECT ");

		for (size_t i = 0; i < t->ncols && i < NCOLS_MAX; i++)
			len += (size_t)snprintf(sql + len, sizeof sql - len, "%s\"%s\"", i ? ", " : "",
						t->cols[i].name);
		snprintf(sql + len, sizeof sql - len, " FROM customers WHERE id = ?1");
		if (sqlite3_prepare_v3(db, sql, -1, cached ? SQLITE_PREPARE_PERSISTENT : 0, &st,
				       NULL) != SQLITE_OK)
			return db_fail(db, err, "customer");
		if (cached)
			d->load = st;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		c->exists = true;
		snprintf(c->id, sizeof c->id, "%s", (const char *)sqlite3_column_text(st, 0));
		for (size_t i = 0; i < t->ncols && i < NCOLS_MAX; i++) {
			const unsigned char *txt = sqlite3_column_text(st, (int)i);

			if (sqlite3_column_type(st, (int)i) == SQLITE_NULL || !txt)
				continue;
			c->v[i] = strdup((const char *)txt);
			if (!c->v[i]) {
				rc = crm_fail(err, CRM_ENOMEM, "out of memory");
				break;
			}
		}
		c->created_at = sqlite3_column_int64(st, ccol("created_at"));
		c->live = sqlite3_column_int(st, ccol("deleted")) == 0 &&
			  sqlite3_column_type(st, ccol("merged_into")) == SQLITE_NULL;
	} else if (step != SQLITE_DONE) {
		rc = db_fail(db, err, "customer");
	}
	if (cached) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	} else {
		sqlite3_finalize(st);
	}
	if (rc != CRM_OK)
		cust_release(c);
	return rc;
}

/*
 * *live = customer id exists, is not deleted and not merged away (what
 * cust_load's c->live says, without reading the row's text).
 */
static enum crm_err cust_live(struct srv_dedup *d, sqlite3 *db, const char *id, bool *live,
			      struct crm_error *err)
{
	sqlite3_stmt *st = stmt_get(d, db,
				    "SELECT deleted = 0 AND merged_into IS NULL FROM customers WHERE id = ?1");
	enum crm_err rc = CRM_OK;
	int step;

	*live = false;
	if (!st)
		return db_fail(db, err, "customer");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*live = sqlite3_column_int(st, 0) != 0;
	else if (step != SQLITE_DONE)
		rc = db_fail(db, err, "customer");
	stmt_done(d, st);
	return rc;
}

/* What srv_dedup_check needs of one customer row. */
struct ident {
	bool exists, live;
	bool ok;                /* rec holds the row normalized (live and valid text) */
	char id[37];            /* as stored */
	struct match_record rec;
};

/*
 * Reads only the identifying columns of customer id (cust_load reads and
 * copies every column) and normalizes them when the customer is live.
 */
/*
 * The identifying columns of a row read as (id, kind, name, uscc, id_number,
 * birth_date, phone, email, address, city, region, ...): columns 1 to 10.
 * The strings stay the statement's until its next step.
 */
static void input_from_row(sqlite3_stmt *st, struct match_input *in)
{
	in->kind = (const char *)sqlite3_column_text(st, 1);
	in->name = (const char *)sqlite3_column_text(st, 2);
	in->uscc = (const char *)sqlite3_column_text(st, 3);
	in->id_number = (const char *)sqlite3_column_text(st, 4);
	in->birth_date = (const char *)sqlite3_column_text(st, 5);
	in->phone = (const char *)sqlite3_column_text(st, 6);
	in->email = (const char *)sqlite3_column_text(st, 7);
	in->address = (const char *)sqlite3_column_text(st, 8);
	in->city = (const char *)sqlite3_column_text(st, 9);
	in->region = (const char *)sqlite3_column_text(st, 10);
}

static enum crm_err ident_load(struct srv_dedup *d, sqlite3 *db, const char *id, struct ident *o,
			       struct crm_error *err)
{
	sqlite3_stmt *st = stmt_get(d, db,
				    "SELECT id, kind, name, uscc, id_number, birth_date, phone, email,"
				    " address, city, region, deleted = 0 AND merged_into IS NULL"
				    " FROM customers WHERE id = ?1");
	enum crm_err rc = CRM_OK;
	int step;

	memset(o, 0, sizeof *o);
	if (!st)
		return db_fail(db, err, "customer");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		struct match_input in;
		struct crm_error ignore;

		o->exists = true;
		snprintf(o->id, sizeof o->id, "%s", (const char *)sqlite3_column_text(st, 0));
		o->live = sqlite3_column_int(st, 11) != 0;
		input_from_row(st, &in);
		if (o->live)
			o->ok = match_record_init(&o->rec, &in, &ignore) == CRM_OK;
	} else if (step != SQLITE_DONE) {
		rc = db_fail(db, err, "customer");
	}
	stmt_done(d, st);
	return rc;
}

/* A customer for messages: its name and id. */
static void label(const struct cust *c, char *out, size_t n)
{
	const char *name = cval(c, "name");

	snprintf(out, n, "%s (%s)", is_empty(name) ? "(no name)" : name, c->id);
}

/* ---- the index ---------------------------------------------------------- */

static void ahead_cut(struct srv_dedup *d);
static void ahead_free(struct srv_dedup *d);

/* Puts customer id in the index as it is in db now (or takes it out). */
static enum crm_err index_sync_one(struct srv_dedup *d, sqlite3 *db, const char *id,
				   struct crm_error *err)
{
	struct ident c;
	struct crm_error ignore;
	enum crm_err rc;

	if (!d)
		return CRM_OK;
	ahead_cut(d);
	pend(d, id);
	rc = ident_load(d, db, id, &c, err);
	if (rc != CRM_OK)
		return rc;
	/* Not live, or not valid text (cannot be matched): out of the pool. */
	if (!c.ok) {
		match_index_remove(d->idx, id, &ignore);
		return CRM_OK;
	}
	return match_index_add(d->idx, id, &c.rec, err);
}

static enum crm_err max_touched(sqlite3 *db, int64_t *out, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;

	*out = 0;
	if (sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(seq), 0) FROM srv_dup_touched", -1, &st,
			       NULL) != SQLITE_OK)
		return db_fail(db, err, "dedup");
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		rc = db_fail(db, err, "dedup");
	sqlite3_finalize(st);
	return rc;
}

enum crm_err srv_dedup_open(sqlite3 *db, struct srv_dedup **out, struct crm_error *err)
{
	struct srv_dedup *d = calloc(1, sizeof *d);
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	int step;

	*out = NULL;
	if (!d)
		return crm_fail(err, CRM_ENOMEM, "out of memory");
	d->db = db;
	rc = match_index_new(&d->idx, NULL, err);
	if (rc != CRM_OK)
		goto out;
	rc = max_touched(db, &d->touched, err);
	if (rc != CRM_OK)
		goto out;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, kind, name, uscc, id_number, birth_date, phone, email, address,"
			       " city, region FROM customers WHERE deleted = 0 AND merged_into IS NULL",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "dedup index");
		goto out;
	}
	for (step = sqlite3_step(st); step == SQLITE_ROW; step = sqlite3_step(st)) {
		struct match_input in;
		struct crm_error ignore;
		enum crm_err r;

		input_from_row(st, &in);
		r = match_index_add_row(d->idx, (const char *)sqlite3_column_text(st, 0), &in, &ignore);
		if (r == CRM_ENOMEM) {
			rc = crm_fail(err, CRM_ENOMEM, "out of memory building the match index");
			goto out;
		}
		/* A row that is not valid UTF-8 cannot be matched: it stays out. */
	}
	if (step != SQLITE_DONE)
		rc = db_fail(db, err, "dedup index");
out:
	sqlite3_finalize(st);
	if (rc != CRM_OK) {
		srv_dedup_free(d);
		return rc;
	}
	*out = d;
	return CRM_OK;
}

void srv_dedup_free(struct srv_dedup *d)
{
	if (!d)
		return;
	ahead_free(d);
	sqlite3_finalize(d->load);
	for (size_t i = 0; i < d->nstmt; i++) {
		sqlite3_finalize(d->stmt[i]);
		free(d->sql[i]);
	}
	match_index_free(d->idx);
	pending_clear(d);
	free(d->pending);
	free(d);
}

size_t srv_dedup_count(const struct srv_dedup *d)
{
	return d ? match_index_count(d->idx) : 0;
}

enum crm_err srv_dedup_refresh(struct srv_dedup *d, sqlite3 *db, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	char **ids = NULL;
	size_t n = 0, cap = 0;
	int64_t upto = d->touched;

	if (sqlite3_prepare_v2(db, "SELECT seq, customer_id FROM srv_dup_touched WHERE seq > ?1 ORDER BY seq",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, err, "dedup");
	sqlite3_bind_int64(st, 1, d->touched);
	while (rc == CRM_OK && sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **ni = realloc(ids, ncap * sizeof *ni);

			if (!ni) {
				rc = crm_fail(err, CRM_ENOMEM, "out of memory");
				break;
			}
			ids = ni;
			cap = ncap;
		}
		upto = sqlite3_column_int64(st, 0);
		ids[n] = strdup((const char *)sqlite3_column_text(st, 1));
		if (!ids[n])
			rc = crm_fail(err, CRM_ENOMEM, "out of memory");
		else
			n++;
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < n; i++) {
		if (rc == CRM_OK)
			rc = index_sync_one(d, db, ids[i], err);
		free(ids[i]);
	}
	free(ids);
	if (rc == CRM_OK)
		d->touched = upto;
	return rc;
}

/*
 * True when the transaction that wrote the last commit mark has committed:
 * the mark is still there. Settle runs at the start of a transaction (see
 * srv_dedup.h), so the marking one has ended; a rolled-back one took its
 * mark (and a newly made table) with it.
 */
static bool mark_committed(struct srv_dedup *d, sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	bool ok = false;

	if (!d->marked || d->db != db)
		return false;
	/* Prepared each time (once a round trip): the table may have rolled back. */
	if (sqlite3_prepare_v2(db, "SELECT gen FROM temp.srv_dedup_mark WHERE k = 0", -1, &st, NULL) ==
	    SQLITE_OK)
		ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) == d->gen;
	sqlite3_finalize(st);
	return ok;
}

/*
 * Writes the commit mark inside the caller's transaction: the ids pending
 * so far are in the index as this transaction leaves them. Without a mark
 * (it could not be written) the next settle reads them all again, as it
 * always did: never a reason to fail the push.
 */
static void mark_write(struct srv_dedup *d, sqlite3 *db)
{
	sqlite3_stmt *st = NULL;

	d->marked = false;
	if (d->db != db)
		return;
	/* A no-op once it exists; made again when its creation rolled back. */
	if (sqlite3_exec(db,
			 "CREATE TEMP TABLE IF NOT EXISTS srv_dedup_mark"
			 " (k INTEGER PRIMARY KEY, gen INTEGER NOT NULL)",
			 NULL, NULL, NULL) != SQLITE_OK)
		return;
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO temp.srv_dedup_mark (k, gen) VALUES (0, ?1)",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, d->gen + 1);
		if (sqlite3_step(st) == SQLITE_DONE) {
			d->gen++;
			d->marked = true;
			d->marked_n = d->npending;
			d->marked_pends = d->pends;
		}
	}
	sqlite3_finalize(st);
}

/*
 * Settle's first step: the ids pended before a commit mark that is still
 * there leave the list (they are in the index as the database has them).
 * Done once: the mark is consumed.
 */
static void settle_trim(struct srv_dedup *d, sqlite3 *db)
{
	if (mark_committed(d, db)) {
		/* Nothing pended after the mark: the index is the database. */
		if (d->pends == d->marked_pends) {
			pending_clear(d);
		} else if (!d->overflow && d->marked_n > 0) {
			for (size_t i = 0; i < d->marked_n; i++)
				free(d->pending[i]);
			memmove(d->pending, d->pending + d->marked_n,
				(d->npending - d->marked_n) * sizeof *d->pending);
			d->npending -= d->marked_n;
		}
	}
	d->marked = false;
}

enum crm_err srv_dedup_settle(struct srv_dedup *d, sqlite3 *db, struct crm_error *err)
{
	enum crm_err rc = CRM_OK;
	char **list;
	size_t n;

	settle_trim(d, db);
	list = d->pending;
	n = d->npending;
	if (d->overflow) {
		struct srv_dedup *fresh = NULL;

		ahead_cut(d);
		pending_clear(d);
		rc = srv_dedup_open(db, &fresh, err);
		if (rc != CRM_OK)
			return rc;
		match_index_free(d->idx);
		d->idx = fresh->idx;
		fresh->idx = NULL;
		srv_dedup_free(fresh);
		return CRM_OK;
	}
	/* index_sync_one lists what it touches again: take the list out first. */
	d->pending = NULL;
	d->npending = 0;
	for (size_t i = 0; i < n; i++) {
		if (rc == CRM_OK)
			rc = index_sync_one(d, db, list[i], err);
		free(list[i]);
	}
	free(list);
	pending_clear(d);
	if (rc != CRM_OK)
		d->overflow = true; /* the rest was not brought up to date: rebuild at the next settle */
	return rc;
}

enum crm_err srv_dedup_touch(sqlite3 *db, const char *id, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;

	if (sqlite3_prepare_v2(db, "INSERT INTO srv_dup_touched (customer_id) VALUES (?1)", -1, &st,
			       NULL) != SQLITE_OK)
		return db_fail(db, err, "dedup");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, err, "dedup");
	sqlite3_finalize(st);
	return rc;
}

/* ---- small SQL helpers -------------------------------------------------- */

/* Runs sql with text parameters (NULL binds NULL), expecting no rows. d may be NULL. */
static enum crm_err exec_text(struct srv_dedup *d, sqlite3 *db, struct crm_error *err,
			      const char *sql, int n, ...)
{
	sqlite3_stmt *st = stmt_get(d, db, sql);
	enum crm_err rc = CRM_OK;
	va_list ap;

	if (!st)
		return db_fail(db, err, "dedup");
	va_start(ap, n);
	for (int i = 1; i <= n; i++) {
		const char *v = va_arg(ap, const char *);

		if (v)
			sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(st, i);
	}
	va_end(ap);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, err, "dedup");
	stmt_done(d, st);
	return rc;
}

static void i64_text(int64_t v, char out[24])
{
	snprintf(out, 24, "%lld", (long long)v);
}

/* ---- pairs, aliases, notices ------------------------------------------- */

static void pair_order(const char *x, const char *y, const char **a, const char **b)
{
	if (strcmp(x, y) < 0) {
		*a = x;
		*b = y;
	} else {
		*a = y;
		*b = x;
	}
}

/* The pair's status into out ("" when the pair was never recorded). */
static enum crm_err pair_status(struct srv_dedup *d, sqlite3 *db, const char *x, const char *y,
				char out[16], struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	const char *a, *b;
	enum crm_err rc = CRM_OK;
	int step;

	out[0] = '\0';
	pair_order(x, y, &a, &b);
	st = stmt_get(d, db, "SELECT status FROM srv_dup_pairs WHERE a = ?1 AND b = ?2");
	if (!st)
		return db_fail(db, err, "review queue");
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		snprintf(out, 16, "%s", (const char *)sqlite3_column_text(st, 0));
	else if (step != SQLITE_DONE)
		rc = db_fail(db, err, "review queue");
	stmt_done(d, st);
	return rc;
}

/* The reasons of a verdict as a JSON array text (malloc()ed), "[]" without one. */
static char *reasons_json(const struct match_verdict *v)
{
	cJSON *a = cJSON_CreateArray();
	char *s;

	for (int i = 0; a && v && i < v->nreasons; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v->reasons[i]));
	s = a ? cJSON_PrintUnformatted(a) : NULL;
	cJSON_Delete(a);
	return s;
}

/*
 * Records the pair x, y with status; the score and reasons of v when v is
 * given (otherwise those already stored stay).
 */
static enum crm_err pair_put(struct srv_dedup *d, sqlite3 *db, const char *x, const char *y,
			     const struct match_verdict *v, const char *status, const char *by,
			     struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	const char *a, *b;
	enum crm_err rc = CRM_OK;
	char *reasons = reasons_json(v);
	int64_t now = crm_now_ms();
	bool open = strcmp(status, "open") == 0;

	if (!reasons)
		return crm_fail(err, CRM_ENOMEM, "out of memory");
	pair_order(x, y, &a, &b);
	st = stmt_get(d, db,
		      "INSERT INTO srv_dup_pairs (a, b, score, reasons, status, created_at,"
		      " decided_at, decided_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
		      " ON CONFLICT (a, b) DO UPDATE SET status = excluded.status,"
		      " decided_at = excluded.decided_at, decided_by = excluded.decided_by,"
		      " score = CASE WHEN ?9 THEN excluded.score ELSE score END,"
		      " reasons = CASE WHEN ?9 THEN excluded.reasons ELSE reasons END");
	if (!st) {
		rc = db_fail(db, err, "review queue");
		goto out;
	}
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 3, v ? v->score : 0.0);
	sqlite3_bind_text(st, 4, reasons, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now);
	if (open) {
		sqlite3_bind_null(st, 7);
		sqlite3_bind_null(st, 8);
	} else {
		sqlite3_bind_int64(st, 7, now);
		if (by)
			sqlite3_bind_text(st, 8, by, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 8);
	}
	sqlite3_bind_int(st, 9, v != NULL);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, err, "review queue");
out:
	stmt_done(d, st);
	free(reasons);
	return rc;
}

/* Follows aliases from id; out = the live end (id itself when not aliased). */
static enum crm_err alias_resolve(sqlite3 *db, const char *id, char out[37], bool *aliased,
				  struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;

	*aliased = false;
	snprintf(out, 37, "%s", id);
	if (sqlite3_prepare_v2(db, "SELECT new_id FROM srv_dup_aliases WHERE old_id = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return db_fail(db, err, "aliases");
	for (int depth = 0; depth < ALIAS_DEPTH; depth++) {
		int step;

		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, out, -1, SQLITE_TRANSIENT);
		step = sqlite3_step(st);
		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			rc = db_fail(db, err, "aliases");
			break;
		}
		snprintf(out, 37, "%s", (const char *)sqlite3_column_text(st, 0));
		*aliased = true;
	}
	sqlite3_finalize(st);
	return rc;
}

static enum crm_err notice(sqlite3 *db, const char *user, struct crm_error *err, const char *fmt,
			   ...) __attribute__((format(printf, 4, 5)));

/* Leaves a message for user's next sync (nothing when user is empty: the pool). */
static enum crm_err notice(sqlite3 *db, const char *user, struct crm_error *err, const char *fmt,
			   ...)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	char text[1024];
	va_list ap;

	if (is_empty(user))
		return CRM_OK;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (sqlite3_prepare_v2(db, "INSERT INTO srv_dup_notices (user, at, text) VALUES (?1, ?2, ?3)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, err, "notices");
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, crm_now_ms());
	sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, err, "notices");
	sqlite3_finalize(st);
	return rc;
}

/* ---- conflicts ---------------------------------------------------------- */

static const struct sync_field *snap_field(const struct sync_changeset *cs, const char *col)
{
	if (cs->nrows == 0)
		return NULL;
	for (size_t j = 0; j < cs->rows[0].nfields; j++)
		if (strcmp(cs->rows[0].fields[j].col, col) == 0)
			return &cs->rows[0].fields[j];
	return NULL;
}

static cJSON *side_json(const struct sync_value *v, sync_hlc hlc, const char *site, const char *user)
{
	cJSON *o = cJSON_CreateObject();
	char h[SYNC_HLC_STR_MAX];

	if (!o)
		return NULL;
	if (v->type == SYNC_TEXT)
		cJSON_AddStringToObject(o, "value", v->s ? v->s : "");
	else if (v->type == SYNC_INT)
		cJSON_AddNumberToObject(o, "value", (double)v->i);
	else
		cJSON_AddNullToObject(o, "value");
	sync_hlc_format(hlc, h);
	cJSON_AddStringToObject(o, "hlc", h);
	cJSON_AddStringToObject(o, "site", site);
	cJSON_AddStringToObject(o, "user", user);
	return o;
}

/*
 * Keeps the merged customer's differing value of col as a conflict on the
 * survivor: in the hub's conflicts table (sync core) and in srv_conflicts,
 * from where every device that sees the survivor is sent it.
 */
static enum crm_err keep_conflict(sqlite3 *db, struct sync_db *s, const char *survivor,
				  const char *col, const char *win_text, const struct sync_field *win,
				  const char *lose_text, const struct sync_field *lose,
				  const char *win_user, const char *lose_user, const char *by,
				  struct crm_error *err)
{
	struct sync_conflict k;
	sqlite3_stmt *st = NULL;
	enum crm_err rc;
	char when[CRM_TIME_ISO_MAX];
	cJSON *o = NULL;
	char *body = NULL;
	const char *site = sync_site_id(s);

	memset(&k, 0, sizeof k);
	crm_id_new(k.id);
	k.table = (char *)(uintptr_t) "customers";
	k.row_id = (char *)(uintptr_t)survivor;
	k.col = (char *)(uintptr_t)col;
	k.loser.type = SYNC_TEXT;
	k.loser.s = (char *)(uintptr_t)lose_text;
	k.winner.type = SYNC_TEXT;
	k.winner.s = (char *)(uintptr_t)win_text;
	k.loser_hlc = lose && lose->hlc ? lose->hlc : sync_hlc_next(s);
	snprintf(k.loser_site, sizeof k.loser_site, "%s", lose && lose->hlc ? lose->site : site);
	k.winner_hlc = win && win->hlc ? win->hlc : sync_hlc_next(s);
	snprintf(k.winner_site, sizeof k.winner_site, "%s", win && win->hlc ? win->site : site);
	k.detected_at = crm_now_ms();
	rc = sync_conflict_record(s, &k, err);
	if (rc != CRM_OK)
		return rc;
	o = cJSON_CreateObject();
	if (!o)
		return crm_fail(err, CRM_ENOMEM, "out of memory");
	cJSON_AddStringToObject(o, "id", k.id);
	cJSON_AddStringToObject(o, "table", "customers");
	cJSON_AddStringToObject(o, "row", survivor);
	cJSON_AddStringToObject(o, "col", col);
	cJSON_AddItemToObject(o, "loser", side_json(&k.loser, k.loser_hlc, k.loser_site, lose_user));
	cJSON_AddItemToObject(o, "winner",
			      side_json(&k.winner, k.winner_hlc, k.winner_site, win_user));
	crm_time_format_utc(k.detected_at, when);
	cJSON_AddStringToObject(o, "detected_at", when);
	cJSON_AddStringToObject(o, "cause", "merge");
	body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!body)
		return crm_fail(err, CRM_ENOMEM, "out of memory");
	if (sqlite3_prepare_v2(db,
			       "INSERT OR IGNORE INTO srv_conflicts (conflict_id, tbl, row_id, customer_id,"
			       " user, device_id, at, body) VALUES (?1, 'customers', ?2, ?2, ?3, NULL, ?4, ?5)",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "conflicts");
		goto out;
	}
	sqlite3_bind_text(st, 1, k.id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, survivor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, by ? by : "server", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, k.detected_at);
	sqlite3_bind_text(st, 5, body, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, err, "conflicts");
out:
	sqlite3_finalize(st);
	free(body);
	return rc;
}

/* ---- merge -------------------------------------------------------------- */

/* Columns a merge may fill or compare: what people type (not system, not server). */
static bool mergeable(const struct schema_column *c)
{
	return !(c->flags & (SCOL_SYSTEM | SCOL_SERVER));
}

/* Sets customers.col of id to text (NULL: clear), a captured edit. */
static enum crm_err set_field(struct srv_dedup *d, sqlite3 *db, const char *id, const char *col,
			      const char *text, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	char sql[160];

	/* The column name comes from the schema's own metadata. */
	snprintf(sql, sizeof sql, "UPDATE customers SET \"%s\" = ?2, updated_at = ?3 WHERE id = ?1", col);
	st = stmt_get(d, db, sql);
	if (!st)
		return db_fail(db, err, "merge");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (text)
		sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_int64(st, 3, crm_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, err, "merge");
	stmt_done(d, st);
	return rc;
}

/* The ids of rows of child table t under customer, malloc()ed list. */
static enum crm_err child_ids(sqlite3 *db, const struct schema_table *t, const char *customer,
			      char ***ids, size_t *n, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	char sql[200];
	size_t cap = 0;
	enum crm_err rc = CRM_OK;

	*ids = NULL;
	*n = 0;
	snprintf(sql, sizeof sql, "SELECT id FROM \"%s\" WHERE \"%s\" = ?1 ORDER BY id", t->name,
		 t->parent);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, err, "merge");
	sqlite3_bind_text(st, 1, customer, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **ni = realloc(*ids, ncap * sizeof *ni);

			if (!ni) {
				rc = crm_fail(err, CRM_ENOMEM, "out of memory");
				break;
			}
			*ids = ni;
			cap = ncap;
		}
		(*ids)[*n] = strdup((const char *)sqlite3_column_text(st, 0));
		if (!(*ids)[*n]) {
			rc = crm_fail(err, CRM_ENOMEM, "out of memory");
			break;
		}
		(*n)++;
	}
	sqlite3_finalize(st);
	return rc;
}

static void free_ids(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

/* Moves row id of child table t to customer to (a captured edit). */
static enum crm_err move_child(struct srv_dedup *d, sqlite3 *db, const struct schema_table *t,
			       const char *id, const char *to, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	char sql[200];
	enum crm_err rc = CRM_OK;

	snprintf(sql, sizeof sql, "UPDATE \"%s\" SET \"%s\" = ?2, updated_at = ?3 WHERE id = ?1",
		 t->name, t->parent);
	st = stmt_get(d, db, sql);
	if (!st)
		return db_fail(db, err, "merge");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, crm_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, err, "merge");
	stmt_done(d, st);
	return rc;
}

/* Devices holding customer id get it whole again at their next sync (rows moved under it). */
static enum crm_err resend(sqlite3 *db, const char *id, struct crm_error *err)
{
	return exec_text(NULL, db, err, "DELETE FROM srv_scope WHERE customer_id = ?1 AND in_scope = 1", 1, id);
}

static void copy_str(char *out, size_t n, const char *s)
{
	snprintf(out, n, "%s", s ? s : "");
}

enum crm_err srv_dedup_merge(struct srv_dedup *d, sqlite3 *db, struct sync_db *s, const char *x,
			     const char *y, const char *how, const char *by,
			     const struct match_verdict *v, struct srv_dup_merge_info *info,
			     struct crm_error *err)
{
	const struct schema_table *t = ctab();
	struct cust cx, cy;
	const struct cust *sv, *lo;
	struct sync_changeset ssnap, lsnap, after;
	sqlite3_stmt *st = NULL;
	enum crm_err rc;
	char *reasons = NULL;
	char mid[24], slabel[SRV_DUP_NAME_MAX + 16], llabel[SRV_DUP_NAME_MAX + 16];
	const char *filled[NCOLS_MAX];
	size_t nfilled = 0;

	memset(info, 0, sizeof *info);
	sync_changeset_init(&ssnap);
	sync_changeset_init(&lsnap);
	sync_changeset_init(&after);
	memset(&cy, 0, sizeof cy);
	rc = cust_load(d, db, x, &cx, err);
	if (rc == CRM_OK)
		rc = cust_load(d, db, y, &cy, err);
	if (rc != CRM_OK)
		goto out;
	if (!cx.exists || !cy.exists) {
		rc = crm_fail(err, CRM_ENOTFOUND, "no customer %s", !cx.exists ? x : y);
		goto out;
	}
	if (strcmp(cx.id, cy.id) == 0) {
		rc = crm_fail(err, CRM_ECONFLICT, "%s and %s are the same customer", x, y);
		goto out;
	}
	if (!cx.live || !cy.live) {
		const struct cust *dead = !cx.live ? &cx : &cy;
		const char *into = cval(dead, "merged_into");

		rc = crm_fail(err, CRM_ECONFLICT, "customer %s is %s", dead->id,
			      into ? "merged already" : "deleted");
		goto out;
	}
	/* The earlier claim wins the collision (撞单): registered first survives. */
	if (cx.created_at < cy.created_at ||
	    (cx.created_at == cy.created_at && strcmp(cx.id, cy.id) < 0)) {
		sv = &cx;
		lo = &cy;
	} else {
		sv = &cy;
		lo = &cx;
	}
	copy_str(info->survivor, sizeof info->survivor, sv->id);
	copy_str(info->merged, sizeof info->merged, lo->id);
	copy_str(info->survivor_owner, sizeof info->survivor_owner, cval(sv, "owner"));
	copy_str(info->merged_owner, sizeof info->merged_owner, cval(lo, "owner"));
	copy_str(info->survivor_name, sizeof info->survivor_name, cval(sv, "name"));
	copy_str(info->merged_name, sizeof info->merged_name, cval(lo, "name"));
	label(sv, slabel, sizeof slabel);
	label(lo, llabel, sizeof llabel);
	rc = sync_row_snapshot(s, "customers", sv->id, &ssnap, err);
	if (rc == CRM_OK)
		rc = sync_row_snapshot(s, "customers", lo->id, &lsnap, err);
	if (rc != CRM_OK)
		goto out;
	/* The log entry first: every later write names it. */
	reasons = reasons_json(v);
	if (!reasons) {
		rc = crm_fail(err, CRM_ENOMEM, "out of memory");
		goto out;
	}
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO srv_dup_merges (survivor, merged, survivor_owner, merged_owner,"
			       " how, by_user, score, reasons, prev_deleted, prev_merged_into, at)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "merge log");
		goto out;
	}
	sqlite3_bind_text(st, 1, sv->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, lo->id, -1, SQLITE_STATIC);
	if (cval(sv, "owner"))
		sqlite3_bind_text(st, 3, cval(sv, "owner"), -1, SQLITE_STATIC);
	if (cval(lo, "owner"))
		sqlite3_bind_text(st, 4, cval(lo, "owner"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, how, -1, SQLITE_STATIC);
	if (by)
		sqlite3_bind_text(st, 6, by, -1, SQLITE_STATIC);
	if (v)
		sqlite3_bind_double(st, 7, v->score);
	sqlite3_bind_text(st, 8, reasons, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, 0);
	sqlite3_bind_int64(st, 11, crm_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, err, "merge log");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	info->merge_id = sqlite3_last_insert_rowid(db);
	i64_text(info->merge_id, mid);
	/* Fields: fill the survivor's empty ones, keep differing ones as conflicts. */
	for (size_t i = 0; i < t->ncols && i < NCOLS_MAX && rc == CRM_OK; i++) {
		const struct schema_column *c = &t->cols[i];
		const char *sv_v = sv->v[i], *lo_v = lo->v[i];

		if (!mergeable(c) || is_empty(lo_v))
			continue;
		if (is_empty(sv_v)) {
			rc = set_field(d, db, sv->id, c->name, lo_v, err);
			if (rc == CRM_OK)
				filled[nfilled++] = c->name;
			continue;
		}
		if (strcmp(sv_v, lo_v) == 0)
			continue;
		rc = keep_conflict(db, s, sv->id, c->name, sv_v, snap_field(&ssnap, c->name), lo_v,
				   snap_field(&lsnap, c->name), cval(sv, "owner") ? cval(sv, "owner") : "",
				   cval(lo, "owner") ? cval(lo, "owner") : "", by, err);
		if (rc == CRM_OK)
			info->conflicts++;
	}
	if (rc != CRM_OK)
		goto out;
	info->filled = nfilled;
	/* The versions the fills were written at, so an unmerge knows if they were edited since. */
	if (nfilled) {
		rc = sync_row_snapshot(s, "customers", sv->id, &after, err);
		for (size_t i = 0; i < nfilled && rc == CRM_OK; i++) {
			const struct sync_field *f = snap_field(&after, filled[i]);
			char h[SYNC_HLC_STR_MAX];

			sync_hlc_format(f ? f->hlc : 0, h);
			rc = exec_text(d, db, err,
				       "INSERT INTO srv_dup_fills (merge_id, col, hlc) VALUES (?1, ?2, ?3)",
				       3, mid, filled[i], h);
		}
		if (rc != CRM_OK)
			goto out;
	}
	/* Children: contacts, activities, deals, orders, tasks move to the survivor. */
	for (size_t k = 0; k < schema_tables_count && rc == CRM_OK; k++) {
		const struct schema_table *ct = &schema_tables[k];
		char **ids = NULL;
		size_t n = 0;

		if (!ct->parent)
			continue;
		rc = child_ids(db, ct, lo->id, &ids, &n, err);
		for (size_t i = 0; i < n && rc == CRM_OK; i++) {
			rc = move_child(d, db, ct, ids[i], sv->id, err);
			if (rc == CRM_OK)
				rc = exec_text(d, db, err,
					       "INSERT INTO srv_dup_moves (merge_id, tbl, row_id) VALUES (?1, ?2, ?3)",
					       3, mid, ct->name, ids[i]);
			if (rc == CRM_OK)
				info->moved++;
		}
		free_ids(ids, n);
	}
	if (rc != CRM_OK)
		goto out;
	/* The other record becomes a tombstone pointing at the survivor. */
	{
		sqlite3_stmt *tomb = stmt_get(d, db,
					      "UPDATE customers SET deleted = 1, merged_into = ?2, updated_at = ?3"
					      " WHERE id = ?1");

		if (!tomb) {
			rc = db_fail(db, err, "merge");
			goto out;
		}
		sqlite3_bind_text(tomb, 1, lo->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(tomb, 2, sv->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(tomb, 3, crm_now_ms());
		if (sqlite3_step(tomb) != SQLITE_DONE)
			rc = db_fail(db, err, "merge");
		stmt_done(d, tomb);
		if (rc != CRM_OK)
			goto out;
	}
	rc = exec_text(d, db, err,
		       "INSERT OR REPLACE INTO srv_dup_aliases (old_id, new_id, merge_id) VALUES (?1, ?2, ?3)",
		       3, lo->id, sv->id, mid);
	if (rc == CRM_OK)
		rc = pair_put(d, db, sv->id, lo->id, v, "merged", by ? by : how, err);
	if (rc == CRM_OK)
		rc = resend(db, sv->id, err);
	if (rc == CRM_OK)
		rc = srv_dedup_touch(db, sv->id, err);
	if (rc == CRM_OK)
		rc = srv_dedup_touch(db, lo->id, err);
	if (rc != CRM_OK)
		goto out;
	/* Tell the reps: the one who lost the collision, and the survivor's owner. */
	if (strcmp(info->merged_owner, info->survivor_owner) == 0) {
		rc = notice(db, info->merged_owner, err,
			    "your customer %s was merged into your customer %s (the same customer, "
			    "registered first): %zu row%s moved, %zu differing field%s kept as conflicts",
			    llabel, slabel, info->moved, info->moved == 1 ? "" : "s", info->conflicts,
			    info->conflicts == 1 ? "" : "s");
	} else {
		rc = notice(db, info->merged_owner, err,
			    "your customer %s was merged into %s (%s%s, registered first): "
			    "your %zu row%s moved there; later changes to the old id land there too%s",
			    llabel, slabel, info->survivor_owner[0] ? "owned by " : "in the pool",
			    info->survivor_owner, info->moved, info->moved == 1 ? "" : "s",
			    info->survivor_owner[0] ? "" : " (claim it with crm pool claim)");
		if (rc == CRM_OK)
			rc = notice(db, info->survivor_owner, err,
				    "customer %s (owned by %s) was merged into your customer %s: %zu row%s "
				    "moved, %zu field%s filled, %zu differing field%s kept as conflicts",
				    llabel, info->merged_owner[0] ? info->merged_owner : "the pool", slabel,
				    info->moved, info->moved == 1 ? "" : "s", info->filled,
				    info->filled == 1 ? "" : "s", info->conflicts,
				    info->conflicts == 1 ? "" : "s");
	}
	if (rc == CRM_OK && d) {
		rc = index_sync_one(d, db, lo->id, err);
		if (rc == CRM_OK)
			rc = index_sync_one(d, db, sv->id, err);
	}
out:
	sqlite3_finalize(st);
	free(reasons);
	sync_changeset_release(&ssnap);
	sync_changeset_release(&lsnap);
	sync_changeset_release(&after);
	cust_release(&cx);
	cust_release(&cy);
	return rc;
}

/* ---- unmerge ------------------------------------------------------------ */

struct merge_row {
	int64_t id;
	char survivor[37], merged[37];
	int prev_deleted;
	char prev_merged_into[37];
};

static bool all_digits(const char *s)
{
	if (!s[0])
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static enum crm_err find_merge(sqlite3 *db, const char *ref, struct merge_row *m,
			       struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	bool byid = all_digits(ref);
	int step;

	memset(m, 0, sizeof m[0]);
	if (sqlite3_prepare_v2(db,
			       byid ? "SELECT id, survivor, merged, prev_deleted, prev_merged_into FROM srv_dup_merges"
				      " WHERE id = ?1 AND undone_at IS NULL"
				    : "SELECT id, survivor, merged, prev_deleted, prev_merged_into FROM srv_dup_merges"
				      " WHERE lower(merged) = lower(?1) AND undone_at IS NULL ORDER BY id DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, err, "merge log");
	if (byid) {
		char *end = NULL;
		long long v;

		errno = 0;
		v = strtoll(ref, &end, 10);
		if (errno || *end) {
			sqlite3_finalize(st);
			return crm_fail(err, CRM_EINVAL, "%s is not a merge id", ref);
		}
		sqlite3_bind_int64(st, 1, (sqlite3_int64)v);
	} else {
		sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	}
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		m->id = sqlite3_column_int64(st, 0);
		copy_str(m->survivor, sizeof m->survivor, (const char *)sqlite3_column_text(st, 1));
		copy_str(m->merged, sizeof m->merged, (const char *)sqlite3_column_text(st, 2));
		m->prev_deleted = sqlite3_column_int(st, 3);
		copy_str(m->prev_merged_into, sizeof m->prev_merged_into,
			 (const char *)sqlite3_column_text(st, 4));
	} else if (step == SQLITE_DONE) {
		rc = crm_fail(err, CRM_ENOTFOUND,
			      "no merge in force for %s (give the merged-away customer's id or the merge "
			      "id from `crm-server dup log`)",
			      ref);
	} else {
		rc = db_fail(db, err, "merge log");
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * Queues the eviction of child row (tbl, id) for every device that holds
 * customer from and will not see customer to (where the row goes back).
 */
static enum crm_err evict_from_holders(sqlite3 *db, const char *from, const char *to,
				       const char *tbl, const char *id, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;

	if (sqlite3_prepare_v2(db,
			       "SELECT s.device_id, d.user FROM srv_scope s JOIN srv_devices d ON d.id = s.device_id"
			       " WHERE s.customer_id = ?1 AND s.in_scope = 1",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, err, "unmerge");
	sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
	while (rc == CRM_OK && sqlite3_step(st) == SQLITE_ROW) {
		const char *dev = (const char *)sqlite3_column_text(st, 0);
		const char *user = (const char *)sqlite3_column_text(st, 1);
		struct srv_user u;
		struct srv_scope sc;
		bool sees = false;

		if (srv_user_get(db, user, &u, err) != CRM_OK)
			continue;
		if (srv_scope_init(&sc, db, &u, err) == CRM_OK) {
			sees = srv_scope_customer(&sc, to);
			srv_scope_release(&sc);
		}
		if (!sees)
			rc = exec_text(NULL, db, err,
				       "INSERT INTO srv_dup_evict (device_id, tbl, row_id) VALUES (?1, ?2, ?3)"
				       " ON CONFLICT DO UPDATE SET gen = 0",
				       3, dev, tbl, id);
	}
	sqlite3_finalize(st);
	return rc;
}

enum crm_err srv_dedup_unmerge(struct srv_dedup *d, sqlite3 *db, struct sync_db *s,
			       const char *ref, const char *by, struct srv_dup_merge_info *info,
			       struct crm_error *err)
{
	struct merge_row m;
	struct cust sv, lo;
	struct sync_changeset snap;
	sqlite3_stmt *st = NULL;
	enum crm_err rc;
	char mid[24], slabel[SRV_DUP_NAME_MAX + 16], llabel[SRV_DUP_NAME_MAX + 16];
	char now[24];

	memset(info, 0, sizeof *info);
	memset(&sv, 0, sizeof sv);
	memset(&lo, 0, sizeof lo);
	sync_changeset_init(&snap);
	rc = find_merge(db, ref, &m, err);
	if (rc != CRM_OK)
		return rc;
	i64_text(m.id, mid);
	info->merge_id = m.id;
	copy_str(info->survivor, sizeof info->survivor, m.survivor);
	copy_str(info->merged, sizeof info->merged, m.merged);
	rc = cust_load(d, db, m.survivor, &sv, err);
	if (rc == CRM_OK)
		rc = cust_load(d, db, m.merged, &lo, err);
	if (rc != CRM_OK)
		goto out;
	if (!lo.exists || !sv.exists) {
		rc = crm_fail(err, CRM_ENOTFOUND, "customer %s of merge %s is gone",
			      !lo.exists ? m.merged : m.survivor, mid);
		goto out;
	}
	copy_str(info->survivor_owner, sizeof info->survivor_owner, cval(&sv, "owner"));
	copy_str(info->merged_owner, sizeof info->merged_owner, cval(&lo, "owner"));
	copy_str(info->survivor_name, sizeof info->survivor_name, cval(&sv, "name"));
	copy_str(info->merged_name, sizeof info->merged_name, cval(&lo, "name"));
	label(&sv, slabel, sizeof slabel);
	label(&lo, llabel, sizeof llabel);
	/* Children back where they were: those still under the survivor (or where it went since). */
	if (sqlite3_prepare_v2(db, "SELECT tbl, row_id FROM srv_dup_moves WHERE merge_id = ?1", -1, &st,
			       NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "unmerge");
		goto out;
	}
	sqlite3_bind_int64(st, 1, m.id);
	while (rc == CRM_OK && sqlite3_step(st) == SQLITE_ROW) {
		const char *tbl = (const char *)sqlite3_column_text(st, 0);
		const char *rid = (const char *)sqlite3_column_text(st, 1);
		const struct schema_table *ct = schema_table_find(tbl);
		sqlite3_stmt *q = NULL;
		char sql[200], where[37] = "", end[37];
		bool aliased = false;

		if (!ct || !ct->parent)
			continue;
		snprintf(sql, sizeof sql, "SELECT \"%s\" FROM \"%s\" WHERE id = ?1", ct->parent, ct->name);
		if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
			rc = db_fail(db, err, "unmerge");
			break;
		}
		sqlite3_bind_text(q, 1, rid, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
			copy_str(where, sizeof where, (const char *)sqlite3_column_text(q, 0));
		sqlite3_finalize(q);
		if (!where[0])
			continue;
		rc = alias_resolve(db, m.survivor, end, &aliased, err);
		if (rc != CRM_OK)
			break;
		if (strcmp(where, m.survivor) != 0 && strcmp(where, end) != 0)
			continue; /* moved elsewhere since: a person decided, leave it */
		rc = move_child(d, db, ct, rid, m.merged, err);
		if (rc == CRM_OK)
			rc = evict_from_holders(db, where, m.merged, ct->name, rid, err);
		if (rc == CRM_OK)
			info->moved++;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != CRM_OK)
		goto out;
	/* Filled fields emptied again, unless edited since the merge wrote them. */
	rc = sync_row_snapshot(s, "customers", m.survivor, &snap, err);
	if (rc != CRM_OK)
		goto out;
	if (sqlite3_prepare_v2(db, "SELECT col, hlc FROM srv_dup_fills WHERE merge_id = ?1", -1, &st,
			       NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "unmerge");
		goto out;
	}
	sqlite3_bind_int64(st, 1, m.id);
	while (rc == CRM_OK && sqlite3_step(st) == SQLITE_ROW) {
		const char *col = (const char *)sqlite3_column_text(st, 0);
		const char *h = (const char *)sqlite3_column_text(st, 1);
		const struct sync_field *f = snap_field(&snap, col);
		const struct schema_column *c = schema_column_find(ctab(), col);
		char cur[SYNC_HLC_STR_MAX];

		if (!f || !c)
			continue;
		sync_hlc_format(f->hlc, cur);
		if (strcmp(cur, h) != 0)
			continue; /* edited since: keep the edit */
		rc = set_field(d, db, m.survivor, c->name, NULL, err);
		if (rc == CRM_OK)
			info->filled++;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != CRM_OK)
		goto out;
	/* The tombstone revived as it was. */
	if (sqlite3_prepare_v2(db,
			       "UPDATE customers SET deleted = ?2, merged_into = ?3, updated_at = ?4 WHERE id = ?1",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "unmerge");
		goto out;
	}
	sqlite3_bind_text(st, 1, m.merged, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, m.prev_deleted);
	if (m.prev_merged_into[0])
		sqlite3_bind_text(st, 3, m.prev_merged_into, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_int64(st, 4, crm_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, err, "unmerge");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	i64_text(crm_now_ms(), now);
	rc = exec_text(d, db, err, "DELETE FROM srv_dup_aliases WHERE old_id = ?1", 1, m.merged);
	if (rc == CRM_OK)
		rc = exec_text(d, db, err, "UPDATE srv_dup_merges SET undone_at = ?2, undone_by = ?3 WHERE id = ?1",
			       3, mid, now, by);
	if (rc == CRM_OK)
		rc = pair_put(d, db, m.survivor, m.merged, NULL, "dismissed", by ? by : "unmerge", err);
	/* Devices get both customers whole again (children moved under each). */
	if (rc == CRM_OK)
		rc = resend(db, m.merged, err);
	if (rc == CRM_OK)
		rc = resend(db, m.survivor, err);
	if (rc == CRM_OK)
		rc = srv_dedup_touch(db, m.merged, err);
	if (rc == CRM_OK)
		rc = srv_dedup_touch(db, m.survivor, err);
	if (rc == CRM_OK)
		rc = notice(db, info->merged_owner, err,
			    "your customer %s is back: the merge into %s was undone", llabel, slabel);
	if (rc == CRM_OK && strcmp(info->merged_owner, info->survivor_owner) != 0)
		rc = notice(db, info->survivor_owner, err,
			    "customer %s was split off your customer %s again (the merge was undone)",
			    llabel, slabel);
	if (rc == CRM_OK && d) {
		rc = index_sync_one(d, db, m.merged, err);
		if (rc == CRM_OK)
			rc = index_sync_one(d, db, m.survivor, err);
	}
out:
	sqlite3_finalize(st);
	sync_changeset_release(&snap);
	cust_release(&sv);
	cust_release(&lo);
	return rc;
}

/* ---- matching one customer ---------------------------------------------- */

/* A hit copied out of the index (merging changes the index its id points into). */
struct hit_copy {
	char id[37];
	struct match_verdict v;
};

/*
 * What the check does with the hits of customer self, in order: drops a
 * stale one, merges a MATCH (unless the pair was dismissed or merged),
 * queues a REVIEW never decided. merged_into (may be NULL) gets the
 * survivor when self was merged away.
 */
static enum crm_err act_on_hits(struct srv_dedup *d, sqlite3 *db, struct sync_db *s,
				const char *self, const struct hit_copy *h, size_t n,
				const char *how, const char *by, struct srv_dup_stats *stats,
				char merged_into[37], struct crm_error *err)
{
	struct crm_error ignore;
	enum crm_err rc = CRM_OK;

	for (size_t i = 0; i < n && rc == CRM_OK; i++) {
		bool live = false;
		char status[16];

		rc = cust_live(d, db, h[i].id, &live, err);
		if (rc != CRM_OK)
			break;
		if (!live) {
			/* Stale entry (a write rolled back, another process): drop it. */
			ahead_cut(d);
			match_index_remove(d->idx, h[i].id, &ignore);
			continue;
		}
		rc = pair_status(d, db, self, h[i].id, status, err);
		if (rc != CRM_OK)
			break;
		if (strcmp(status, "dismissed") == 0 || strcmp(status, "merged") == 0)
			continue;
		if (h[i].v.decision == MATCH_MATCH) {
			struct srv_dup_merge_info info;

			rc = srv_dedup_merge(d, db, s, self, h[i].id, how, by, &h[i].v, &info, err);
			if (rc != CRM_OK)
				break;
			if (stats)
				stats->merged++;
			if (strcmp(info.merged, self) == 0) {
				if (merged_into)
					copy_str(merged_into, 37, info.survivor);
				break; /* this customer is gone: nothing more to match */
			}
			continue;
		}
		if (h[i].v.decision == MATCH_REVIEW && status[0] == '\0') {
			rc = pair_put(d, db, self, h[i].id, &h[i].v, "open", NULL, err);
			if (rc == CRM_OK && stats)
				stats->queued++;
		}
	}
	return rc;
}

enum crm_err srv_dedup_check(struct srv_dedup *d, sqlite3 *db, struct sync_db *s,
			     const char *id, const char *how, const char *by,
			     struct srv_dup_stats *stats, char merged_into[37],
			     struct crm_error *err)
{
	struct ident c;
	struct match_hit hits[MAX_HITS];
	struct hit_copy h[MAX_HITS];
	size_t n = 0;
	struct crm_error ignore;
	enum crm_err rc;
	char self[37];

	if (merged_into)
		merged_into[0] = '\0';
	/* What a push's worker added ahead goes first: this changes the index. */
	ahead_cut(d);
	rc = ident_load(d, db, id, &c, err);
	if (rc != CRM_OK)
		return rc;
	copy_str(self, sizeof self, c.exists ? c.id : id);
	if (c.exists)
		pend(d, self);
	if (!c.ok) {
		/* Deleted, merged, or not valid text (cannot be matched): not in the pool. */
		if (c.exists)
			match_index_remove(d->idx, self, &ignore);
		return CRM_OK;
	}
	/* In the index first (it is the pool now), then matched against the others. */
	rc = match_index_add_query(d->idx, self, &c.rec, hits, MAX_HITS, &n, err);
	if (rc != CRM_OK)
		return rc;
	if (stats)
		stats->checked++;
	for (size_t i = 0; i < n; i++) {
		copy_str(h[i].id, sizeof h[i].id, hits[i].id);
		h[i].v = hits[i].verdict;
	}
	return act_on_hits(d, db, s, self, h, n, how, by, stats, merged_into, err);
}

/* ---- sync hooks --------------------------------------------------------- */

static enum crm_err replace_text(char **slot, const char *text, struct crm_error *err)
{
	char *n = strdup(text);

	if (!n)
		return crm_fail(err, CRM_ENOMEM, "out of memory");
	free(*slot);
	*slot = n;
	return CRM_OK;
}

enum crm_err srv_dedup_rewrite(sqlite3 *db, struct sync_changeset *cs, size_t *n,
			       struct crm_error *err)
{
	enum crm_err rc = CRM_OK;
	size_t count = 0;
	sqlite3_stmt *st = NULL;
	bool any = false;

	if (n)
		*n = 0;
	/* Most pushes meet a pool without any merge yet: one look and done. */
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM srv_dup_aliases LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, err, "aliases");
	any = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (!any)
		return CRM_OK;
	for (size_t i = 0; i < cs->nrows && rc == CRM_OK; i++) {
		struct sync_row *r = &cs->rows[i];
		const struct schema_table *t = schema_table_find(r->table);
		char to[37];
		bool aliased = false;

		if (!t || strcmp(t->name, r->table) != 0)
			continue;
		if (!t->parent) {
			if (!crm_id_valid(r->id))
				continue;
			rc = alias_resolve(db, r->id, to, &aliased, err);
			if (rc != CRM_OK || !aliased)
				continue;
			rc = replace_text(&r->id, to, err);
			if (rc != CRM_OK)
				break;
			count++;
			/* A merged-away record cannot delete its survivor. */
			for (size_t j = 0; j < r->nfields;) {
				struct sync_field *f = &r->fields[j];

				if (strcmp(f->col, "deleted") != 0) {
					j++;
					continue;
				}
				free(f->col);
				if (f->v.type == SYNC_TEXT)
					free(f->v.s);
				memmove(f, f + 1, (r->nfields - j - 1) * sizeof *f);
				r->nfields--;
				cs->nfields--;
			}
			continue;
		}
		for (size_t j = 0; j < r->nfields && rc == CRM_OK; j++) {
			struct sync_field *f = &r->fields[j];

			if (strcmp(f->col, t->parent) != 0 || f->v.type != SYNC_TEXT || !f->v.s ||
			    !crm_id_valid(f->v.s))
				continue;
			rc = alias_resolve(db, f->v.s, to, &aliased, err);
			if (rc != CRM_OK || !aliased)
				continue;
			/* Logged with the merge, so an unmerge takes the row back too. */
			rc = exec_text(NULL, db, err,
				       "INSERT OR IGNORE INTO srv_dup_moves (merge_id, tbl, row_id)"
				       " SELECT merge_id, ?2, ?3 FROM srv_dup_aliases WHERE old_id = ?1",
				       3, f->v.s, t->name, r->id);
			if (rc == CRM_OK)
				rc = replace_text(&f->v.s, to, err);
			if (rc == CRM_OK)
				count++;
		}
	}
	if (n)
		*n = count;
	return rc;
}

/*
 * Any srv_scope entry of the old id counts: held (in_scope 1), or evicted in
 * a generation the device has not acknowledged yet (it may still have it and
 * have written under it while the answer was lost).
 */
bool srv_dedup_writable(sqlite3 *db, const char *device, const char *id)
{
	sqlite3_stmt *st = NULL;
	bool ok = false;

	if (!device || !id)
		return false;
	if (sqlite3_prepare_v2(db,
			       "SELECT 1 FROM srv_dup_aliases a JOIN srv_scope s ON s.customer_id = a.old_id"
			       " WHERE a.new_id = ?1 AND s.device_id = ?2 LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
	ok = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return ok;
}

/* A customer row of a pushed set: its id and its place in the set. */
struct row_at {
	const char *id;
	size_t i;
};

static int cmp_row_at(const void *a, const void *b)
{
	const struct row_at *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

#define ROW_CHECKED 1 /* srv_dedup_after_push checks the customer of this row */
#define ROW_MULTI 2   /* that customer has more than one row in the set */

/*
 * Which rows of cs srv_dedup_after_push checks: each customer once (its
 * first row, found by sorting, not by a scan per row), when the row has an
 * identifying field or `deleted`. *out (caller frees) gets ROW_* per row.
 */
static enum crm_err rows_to_check(const struct sync_changeset *cs, unsigned char **out,
				  struct crm_error *err)
{
	const struct schema_table *t = ctab();
	struct row_at *at = malloc((cs->nrows ? cs->nrows : 1) * sizeof *at);
	unsigned char *f = calloc(cs->nrows ? cs->nrows : 1, 1);
	bool *later = calloc(cs->nrows ? cs->nrows : 1, sizeof *later);
	size_t n = 0;

	*out = NULL;
	if (!at || !f || !later) {
		free(at);
		free(f);
		free(later);
		return crm_fail(err, CRM_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < cs->nrows; i++)
		if (strcmp(cs->rows[i].table, t->name) == 0)
			at[n++] = (struct row_at){cs->rows[i].id, i};
	qsort(at, n, sizeof *at, cmp_row_at);
	for (size_t k = 1; k < n; k++) {
		if (strcmp(at[k].id, at[k - 1].id) == 0) {
			later[at[k].i] = true;
			f[at[k].i] |= ROW_MULTI;
			f[at[k - 1].i] |= ROW_MULTI;
		}
	}
	for (size_t i = 0; i < cs->nrows; i++) {
		const struct sync_row *r = &cs->rows[i];
		bool ident = false, deleted = false;

		if (strcmp(r->table, t->name) != 0 || !crm_id_valid(r->id) || later[i])
			continue;
		/* One identifying field is enough to know (the commonest case: a new row). */
		for (size_t j = 0; j < r->nfields && !ident; j++) {
			const struct schema_column *c = schema_column_find(t, r->fields[j].col);

			ident = c && (c->flags & SCOL_IDENT);
			deleted = deleted || strcmp(r->fields[j].col, "deleted") == 0;
		}
		/* A deletion takes it out of the index; a restored one is matched like a new one. */
		if (ident || deleted)
			f[i] |= ROW_CHECKED;
	}
	free(at);
	free(later);
	*out = f;
	return CRM_OK;
}

/* ---- the check of new customers done ahead (srv_dedup_push_begin) -------- */

#define AROW_DIRTY 1 /* not simply stored as pushed (it existed, a field was refused) */

/* One new customer checked by the worker. */
struct ahead_item {
	size_t row;         /* its row in the set */
	char id[37];
	bool ok;            /* valid text: added to the index and matched */
	size_t hit0, nhits; /* its hits: ahead.hits[hit0, hit0 + nhits) */
};

struct ahead {
	const struct sync_changeset *cs; /* the set (read by the worker until it is joined) */
	size_t nrows;
	struct match_index *idx;
	struct ahead_item *items; /* one per row at most */
	size_t done; /* items[0, done) are in the index as the worker left them */
	size_t next; /* items[0, next) recorded by srv_dedup_after_push; the rest can be undone */
	struct hit_copy *hits;
	size_t nhits, caphits;
	unsigned char *row;   /* AROW_* per row of the set */
	unsigned char *check; /* ROW_* per row of the set (rows_to_check) */
	bool verify;          /* a pushed field lost somewhere: read each item back before recording it */
	signed char map[NCOLS_MAX];
	pthread_t thread;
	bool running;
};

/* The identifying columns of a match_input, in the order of input_from_row. */
static const char *const input_cols[] = {"kind",  "name",    "uscc", "id_number", "birth_date",
					 "phone", "email",   "address", "city", "region"};
#define NINPUT (sizeof input_cols / sizeof input_cols[0])

/* Which match_input field each customers column is (-1 none), by column index. */
static void input_map(signed char map[NCOLS_MAX])
{
	const struct schema_table *t = ctab();

	for (size_t ci = 0; ci < NCOLS_MAX; ci++) {
		map[ci] = -1;
		for (size_t k = 0; ci < t->ncols && k < NINPUT; k++)
			if (strcmp(input_cols[k], t->cols[ci].name) == 0)
				map[ci] = (signed char)k;
	}
}

/* The column of customers named col (-1 none); *next is a hint, the column after the last one. */
static int col_at(const char *col, size_t *next)
{
	const struct schema_table *t = ctab();
	const struct schema_column *c = schema_column_find_next(t, col, next);

	return c ? (int)(c - t->cols) : -1;
}

/* The match input of a pushed row: its identifying values (absent ones NULL, as stored). */
static void input_from_fields(const signed char map[NCOLS_MAX], const struct sync_row *r,
			      struct match_input *in)
{
	const char **slot[NINPUT] = {&in->kind,  &in->name,  &in->uscc,    &in->id_number,
				     &in->birth_date, &in->phone, &in->email, &in->address,
				     &in->city,  &in->region};
	size_t next = 0;

	memset(in, 0, sizeof *in);
	for (size_t j = 0; j < r->nfields; j++) {
		int ci = col_at(r->fields[j].col, &next);

		if (ci >= 0 && ci < NCOLS_MAX && map[ci] >= 0)
			*slot[map[ci]] = r->fields[j].v.type == SYNC_TEXT ? r->fields[j].v.s : NULL;
	}
}

/*
 * True when a new row, once applied with every field winning, stores
 * exactly these identifying values: every column named once and exactly,
 * identifying values text or NULL, and live (`deleted` absent or 0;
 * merged_into other than NULL is refused before).
 */
static bool stored_as_pushed(const signed char map[NCOLS_MAX], const struct sync_row *r)
{
	uint64_t seen = 0;
	size_t next = 0;

	for (size_t j = 0; j < r->nfields; j++) {
		const struct sync_field *f = &r->fields[j];
		int ci = col_at(f->col, &next);

		if (ci < 0 || ci >= NCOLS_MAX || (seen & ((uint64_t)1 << ci)))
			return false;
		seen |= (uint64_t)1 << ci;
		if (map[ci] >= 0 && !(f->v.type == SYNC_NULL || (f->v.type == SYNC_TEXT && f->v.s)))
			return false;
		if (strcmp(f->col, "deleted") == 0 && !(f->v.type == SYNC_INT && f->v.i == 0))
			return false;
	}
	return true;
}

/* Keeps the hits of one item (copied: the index owns their ids). */
static bool hits_keep(struct ahead *a, const struct match_hit *hits, size_t n)
{
	if (a->nhits + n > a->caphits) {
		size_t ncap = a->caphits ? a->caphits * 2 : 64;
		struct hit_copy *nh;

		while (ncap < a->nhits + n)
			ncap *= 2;
		nh = realloc(a->hits, ncap * sizeof *nh);
		if (!nh)
			return false;
		a->hits = nh;
		a->caphits = ncap;
	}
	for (size_t i = 0; i < n; i++) {
		copy_str(a->hits[a->nhits + i].id, sizeof a->hits[0].id, hits[i].id);
		a->hits[a->nhits + i].v = hits[i].verdict;
	}
	a->nhits += n;
	return true;
}

/*
 * The worker: which rows are checked (rows_to_check), then for each
 * customer in that order, what srv_dedup_check does to the index
 * (normalize, add, match), from the pushed values. It stops before a
 * customer it cannot do exactly so (named twice, values that may not be
 * stored as pushed, its id already in the index, no memory): that one and
 * the rest are checked after the push.
 */
static void *ahead_work(void *arg)
{
	struct ahead *a = arg;
	struct match_hit hits[MAX_HITS];
	struct crm_error ignore;

	if (rows_to_check(a->cs, &a->check, &ignore) != CRM_OK)
		return NULL;
	for (size_t i = 0; i < a->nrows; i++) {
		const struct sync_row *r = &a->cs->rows[i];
		struct ahead_item *it = &a->items[a->done];
		struct match_input in;
		struct match_record rec;
		size_t n = 0;

		if (!(a->check[i] & ROW_CHECKED))
			continue;
		/* Up to the first that cannot be a plain new customer (srv_push says later which were not). */
		if ((a->check[i] & ROW_MULTI) || !stored_as_pushed(a->map, r) ||
		    match_index_get(a->idx, r->id))
			break;
		it->row = i;
		copy_str(it->id, sizeof it->id, r->id);
		input_from_fields(a->map, r, &in);
		it->ok = match_record_init(&rec, &in, &ignore) == CRM_OK;
		it->hit0 = a->nhits;
		if (it->ok &&
		    (match_index_add_query(a->idx, it->id, &rec, hits, MAX_HITS, &n, &ignore) != CRM_OK ||
		     !hits_keep(a, hits, n))) {
			if (match_index_get(a->idx, it->id))
				match_index_remove(a->idx, it->id, &ignore);
			break;
		}
		it->nhits = n;
		a->done++;
	}
	return NULL;
}

static void ahead_join(struct ahead *a)
{
	if (a && a->running) {
		pthread_join(a->thread, NULL);
		a->running = false;
	}
}

/*
 * Takes out of the index what the worker added for the items not recorded
 * yet, last first: the index is then as the serial check leaves it at this
 * point (the slots freed are handed out again in the order fresh ones
 * would be, so even ties between candidates fall the same way). Called
 * before anything else changes the index.
 */
static void ahead_cut(struct srv_dedup *d)
{
	struct ahead *a = d ? d->ahead : NULL;

	if (!a)
		return;
	ahead_join(a);
	while (a->done > a->next) {
		struct ahead_item *it = &a->items[--a->done];
		struct crm_error ignore;

		if (it->ok)
			match_index_remove(d->idx, it->id, &ignore);
	}
}

static void ahead_free(struct srv_dedup *d)
{
	struct ahead *a = d->ahead;

	if (!a)
		return;
	ahead_cut(d);
	free(a->items);
	free(a->hits);
	free(a->row);
	free(a->check);
	free(a);
	d->ahead = NULL;
}

void srv_dedup_set_ahead(struct srv_dedup *d, bool on)
{
	if (d)
		d->no_ahead = !on;
}

size_t srv_dedup_ahead_recorded(const struct srv_dedup *d)
{
	return d ? d->recorded : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Would settle and refresh re-read a customer that cs writes? Then they
 * must run after the push (as srv_dedup_after_push runs them), not before
 * it. Call after settle_trim. true also when it cannot tell.
 */
static bool settle_meets(struct srv_dedup *d, sqlite3 *db, const struct sync_changeset *cs)
{
	const char **ids = malloc((cs->nrows ? cs->nrows : 1) * sizeof *ids);
	sqlite3_stmt *st = NULL;
	size_t n = 0;
	bool meets = false;
	int step;

	if (!ids)
		return true;
	if (d->npending == 0) {
		/* The commonest case: nothing to re-read at all. */
		st = stmt_get(d, db, "SELECT 1 FROM srv_dup_touched WHERE seq > ?1 LIMIT 1");
		if (st) {
			sqlite3_bind_int64(st, 1, d->touched);
			step = sqlite3_step(st);
			stmt_done(d, st);
			st = NULL;
			if (step == SQLITE_DONE) {
				free(ids);
				return false;
			}
		}
	}
	for (size_t i = 0; i < cs->nrows; i++)
		if (strcmp(cs->rows[i].table, "customers") == 0)
			ids[n++] = cs->rows[i].id;
	qsort(ids, n, sizeof *ids, cmp_str);
	for (size_t i = 0; i < d->npending && !meets; i++)
		meets = n && bsearch(&d->pending[i], ids, n, sizeof *ids, cmp_str) != NULL;
	st = meets ? NULL : stmt_get(d, db, "SELECT customer_id FROM srv_dup_touched WHERE seq > ?1");
	if (!meets && !st)
		meets = true;
	if (st) {
		sqlite3_bind_int64(st, 1, d->touched);
		for (step = sqlite3_step(st); step == SQLITE_ROW && !meets; step = sqlite3_step(st)) {
			const char *id = (const char *)sqlite3_column_text(st, 0);

			meets = !id || (n && bsearch(&id, ids, n, sizeof *ids, cmp_str) != NULL);
		}
		if (step != SQLITE_ROW && step != SQLITE_DONE)
			meets = true;
		stmt_done(d, st);
	}
	free(ids);
	return meets;
}

enum crm_err srv_dedup_push_begin(struct srv_dedup *d, sqlite3 *db,
				  const struct sync_changeset *cs, struct crm_error *err)
{
	struct ahead *a = NULL;
	enum crm_err rc = CRM_OK;

	if (!d)
		return CRM_OK;
	ahead_free(d);
	if (d->no_ahead || cs->nrows == 0 || d->db != db)
		return CRM_OK;
	/*
	 * Settle and refresh first, as srv_dedup_after_push would: the same
	 * reads before the push as after it, unless the push writes one of
	 * the customers they read (then all is left to after the push).
	 */
	settle_trim(d, db);
	if (d->overflow || settle_meets(d, db, cs))
		return CRM_OK;
	a = calloc(1, sizeof *a);
	if (!a)
		return CRM_OK;
	a->items = calloc(cs->nrows, sizeof *a->items);
	a->row = calloc(cs->nrows, 1);
	if (!a->items || !a->row)
		goto out;
	rc = srv_dedup_settle(d, db, err);
	if (rc == CRM_OK)
		rc = srv_dedup_refresh(d, db, err);
	if (rc != CRM_OK)
		goto out;
	a->cs = cs;
	a->nrows = cs->nrows;
	a->idx = d->idx;
	input_map(a->map);
	/* Kept even without a worker: it says settle and refresh have run. */
	a->running = pthread_create(&a->thread, NULL, ahead_work, a) == 0;
	d->ahead = a;
	a = NULL;
out:
	if (a) {
		free(a->items);
		free(a->row);
		free(a);
	}
	return rc;
}

void srv_dedup_push_applied(struct srv_dedup *d, const struct sync_changeset *cs, bool all_won)
{
	struct ahead *a = d ? d->ahead : NULL;

	if (a && a->cs == cs && !all_won)
		a->verify = true;
}

void srv_dedup_push_refused(struct srv_dedup *d, const struct sync_changeset *cs, size_t row)
{
	struct ahead *a = d ? d->ahead : NULL;

	if (a && a->cs == cs && row < a->nrows)
		a->row[row] |= AROW_DIRTY;
}

void srv_dedup_push_end(struct srv_dedup *d, bool ok)
{
	if (!d || !d->ahead)
		return;
	ahead_join(d->ahead);
	if (!ok)
		ahead_free(d);
}

/*
 * Whether customer it is stored live with exactly the identifying values
 * the worker matched (what srv_dedup_check would read).
 */
static bool stored_same(struct srv_dedup *d, sqlite3 *db, const struct ahead_item *it)
{
	sqlite3_stmt *st = stmt_get(d, db,
				    "SELECT id, kind, name, uscc, id_number, birth_date, phone, email,"
				    " address, city, region, deleted = 0 AND merged_into IS NULL"
				    " FROM customers WHERE id = ?1");
	struct match_input pushed, stored;
	bool same = false;

	if (!st)
		return false;
	input_from_fields(d->ahead->map, &d->ahead->cs->rows[it->row], &pushed);
	sqlite3_bind_text(st, 1, it->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 11) != 0 &&
	    strcmp((const char *)sqlite3_column_text(st, 0), it->id) == 0) {
		const char *const a[NINPUT] = {pushed.kind,	  pushed.name,	pushed.uscc,
					       pushed.id_number, pushed.birth_date, pushed.phone,
					       pushed.email,	  pushed.address,	pushed.city,
					       pushed.region};
		const char *b[NINPUT];

		input_from_row(st, &stored);
		b[0] = stored.kind;
		b[1] = stored.name;
		b[2] = stored.uscc;
		b[3] = stored.id_number;
		b[4] = stored.birth_date;
		b[5] = stored.phone;
		b[6] = stored.email;
		b[7] = stored.address;
		b[8] = stored.city;
		b[9] = stored.region;
		same = true;
		for (size_t k = 0; k < NINPUT && same; k++)
			same = (!a[k] && !b[k]) || (a[k] && b[k] && strcmp(a[k], b[k]) == 0);
	}
	stmt_done(d, st);
	return same;
}

/*
 * Records item it of the worker as srv_dedup_check would have: the
 * customer in the pending list, then its hits acted on.
 */
static enum crm_err ahead_record(struct srv_dedup *d, sqlite3 *db, struct sync_db *s,
				 const struct ahead_item *it, const char *by, struct crm_error *err)
{
	struct ahead *a = d->ahead;

	d->recorded++;
	pend(d, it->id);
	if (!it->ok)
		return CRM_OK;
	return act_on_hits(d, db, s, it->id, a->hits + it->hit0, it->nhits, "sync", by, NULL, NULL,
			   err);
}

enum crm_err srv_dedup_after_push(struct srv_dedup *d, sqlite3 *db, struct sync_db *s,
				  const struct sync_changeset *cs, const char *by,
				  struct crm_error *err)
{
	unsigned char *check = NULL;
	struct ahead *a;
	enum crm_err rc = CRM_OK;

	if (!d)
		return CRM_OK;
	a = d->ahead;
	if (a && a->cs == cs && a->nrows == cs->nrows) {
		/* srv_dedup_push_begin settled and refreshed before the push. */
		ahead_join(a);
	} else {
		ahead_cut(d);
		a = NULL;
		rc = srv_dedup_settle(d, db, err);
		if (rc == CRM_OK)
			rc = srv_dedup_refresh(d, db, err);
	}
	if (rc != CRM_OK || cs->nrows == 0)
		goto out;
	if (a && a->next < a->done) {
		/* The same set: the rows the worker's were chosen from. */
		check = a->check;
		a->check = NULL;
	} else {
		rc = rows_to_check(cs, &check, err);
	}
	for (size_t i = 0; i < cs->nrows && rc == CRM_OK; i++) {
		if (!(check[i] & ROW_CHECKED))
			continue;
		if (a && a->next < a->done) {
			const struct ahead_item *it = &a->items[a->next];

			if (it->row == i && !(a->row[i] & AROW_DIRTY) &&
			    strcmp(it->id, cs->rows[i].id) == 0 && (!a->verify || stored_same(d, db, it))) {
				a->next++;
				rc = ahead_record(d, db, s, it, by, err);
				continue;
			}
		}
		/* srv_dedup_check takes out what the worker did past this point first. */
		rc = srv_dedup_check(d, db, s, cs->rows[i].id, "sync", by, NULL, NULL, err);
	}
	if (rc == CRM_OK)
		mark_write(d, db);
out:
	free(check);
	ahead_free(d);
	return rc;
}

/* Runs sql with ?1 = text and ?2 ... = the n integers in v; SQLITE_DONE expected. */
static enum crm_err exec_text_ints(sqlite3 *db, const char *sql, const char *text, const int64_t *v,
				   int n, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, err, "dedup");
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	for (int i = 0; i < n; i++)
		sqlite3_bind_int64(st, 2 + i, v[i]);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, err, "dedup");
	sqlite3_finalize(st);
	return rc;
}

enum crm_err srv_dedup_handout(sqlite3 *db, const struct srv_session *who, bool more_push,
			       int64_t ack, int64_t newgen, cJSON *notices, cJSON *evict,
			       bool *handed, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	int64_t upto = 0, sent_gen = 0, acked = 0, last = -1;
	size_t n = 0;

	*handed = false;
	/* Notices: those past what the device acknowledged, again until it does. */
	if (sqlite3_prepare_v2(db, "SELECT upto, sent_gen, acked FROM srv_dup_notice_sent WHERE device_id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, err, "notices");
	sqlite3_bind_text(st, 1, who->device.id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		upto = sqlite3_column_int64(st, 0);
		sent_gen = sqlite3_column_int64(st, 1);
		acked = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (ack >= sent_gen && upto > acked)
		acked = upto; /* the answer that carried them was stored */
	if (sqlite3_prepare_v2(db,
			       "SELECT seq, text FROM srv_dup_notices WHERE user = ?1 AND at >= ?2 AND seq > ?3"
			       " ORDER BY seq LIMIT 200",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, err, "notices");
	sqlite3_bind_text(st, 1, who->user.name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, who->device.created_at);
	sqlite3_bind_int64(st, 3, acked);
	while (sqlite3_step(st) == SQLITE_ROW) {
		last = sqlite3_column_int64(st, 0);
		cJSON_AddItemToArray(notices, cJSON_CreateString((const char *)sqlite3_column_text(st, 1)));
	}
	sqlite3_finalize(st);
	st = NULL;
	if (last >= 0) {
		upto = last;
		sent_gen = newgen;
		*handed = true;
	}
	{
		const int64_t v[] = {upto, sent_gen, acked};

		rc = exec_text_ints(db,
				    "INSERT INTO srv_dup_notice_sent (device_id, upto, sent_gen, acked)"
				    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (device_id) DO UPDATE SET"
				    " upto = excluded.upto, sent_gen = excluded.sent_gen, acked = excluded.acked",
				    who->device.id, v, 3, err);
	}
	if (rc != CRM_OK)
		return rc;
	/* Evictions: the acknowledged ones are done. */
	rc = exec_text_ints(db, "DELETE FROM srv_dup_evict WHERE device_id = ?1 AND gen > 0 AND gen <= ?2",
			    who->device.id, &ack, 1, err);
	if (rc != CRM_OK)
		return rc;
	/*
	 * Its pending edits first: nothing goes out, and what went out in an
	 * answer it did not store is unsent again (a later acknowledgement must
	 * not count for it).
	 */
	if (more_push)
		return exec_text_ints(db, "UPDATE srv_dup_evict SET gen = 0 WHERE device_id = ?1 AND gen > ?2",
				      who->device.id, &ack, 1, err);
	/* The rest go (again), stamped with this answer. */
	if (sqlite3_prepare_v2(db, "SELECT tbl, row_id FROM srv_dup_evict WHERE device_id = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return db_fail(db, err, "evictions");
	sqlite3_bind_text(st, 1, who->device.id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		cJSON *o = srv_evict_entry((const char *)sqlite3_column_text(st, 0),
					   (const char *)sqlite3_column_text(st, 1));

		if (!o || !cJSON_AddItemToArray(evict, o)) {
			cJSON_Delete(o);
			rc = crm_fail(err, CRM_ENOMEM, "out of memory");
			break;
		}
		n++;
	}
	sqlite3_finalize(st);
	if (rc == CRM_OK && n) {
		*handed = true;
		rc = exec_text_ints(db, "UPDATE srv_dup_evict SET gen = ?2 WHERE device_id = ?1",
				    who->device.id, &newgen, 1, err);
	}
	return rc;
}

/* ---- scans -------------------------------------------------------------- */

enum crm_err srv_dedup_index_scan(const struct srv_dedup *d, int nthreads, match_pair_cb cb,
				  void *ctx, struct crm_error *err)
{
	return match_index_scan(d->idx, nthreads, cb, ctx, err);
}

enum crm_err srv_dedup_pair_state(sqlite3 *db, const char *x, const char *y, char status[16],
				  bool *live, struct crm_error *err)
{
	struct cust a, b;
	enum crm_err rc;

	*live = false;
	status[0] = '\0';
	rc = cust_load(NULL, db, x, &a, err);
	if (rc != CRM_OK)
		return rc;
	rc = cust_load(NULL, db, y, &b, err);
	if (rc == CRM_OK) {
		*live = a.live && b.live;
		rc = pair_status(NULL, db, x, y, status, err);
	}
	cust_release(&a);
	cust_release(&b);
	return rc;
}

enum crm_err srv_dedup_queue(sqlite3 *db, const char *x, const char *y,
			     const struct match_verdict *v, struct crm_error *err)
{
	return pair_put(NULL, db, x, y, v, "open", NULL, err);
}
