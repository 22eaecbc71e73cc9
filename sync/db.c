/*
 * db: opening a database for sync (tables, site id, counters, column lists,
 * prepared statements), the small key/value state, and helpers the other
 * sync modules share (clock rows, values, errors).
 */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "crm_id.h"
#include "crm_time.h"
#include "hlc.h"

#define DEFAULT_SKEW_MS (5 * 60 * 1000)

static const char SCHEMA_SQL[] =
	"CREATE TABLE IF NOT EXISTS sync_state(key TEXT PRIMARY KEY, value);"
	"CREATE TABLE IF NOT EXISTS sync_clock("
	" tbl TEXT NOT NULL, rid TEXT NOT NULL, col TEXT NOT NULL,"
	" hlc INTEGER NOT NULL, site TEXT NOT NULL, seq INTEGER NOT NULL,"
	" base_hlc INTEGER NOT NULL DEFAULT 0, base_site TEXT,"
	" PRIMARY KEY(tbl, rid, col)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS sync_clock_seq ON sync_clock(seq);"
	"CREATE TABLE IF NOT EXISTS sync_conflicts("
	" id TEXT PRIMARY KEY, tbl TEXT NOT NULL, rid TEXT NOT NULL, col TEXT NOT NULL,"
	" loser_value, loser_hlc INTEGER NOT NULL, loser_site TEXT NOT NULL,"
	" winner_value, winner_hlc INTEGER NOT NULL, winner_site TEXT NOT NULL,"
	" detected_at INTEGER NOT NULL, resolved_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS sync_conflicts_detected ON sync_conflicts(detected_at);";

enum crm_err db_fail(struct sync_db *s, struct crm_error *err, const char *what)
{
	int rc = sqlite3_errcode(s->db);
	enum crm_err code = (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ? CRM_EBUSY : CRM_EDB;

	return crm_fail(err, code, "%s: %s", what, sqlite3_errmsg(s->db));
}

enum crm_err db_exec(struct sync_db *s, const char *sql, struct crm_error *err)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(s, err, sql);
	return CRM_OK;
}

enum crm_err db_prepare(struct sync_db *s, const char *sql, sqlite3_stmt **st,
			struct crm_error *err)
{
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return db_fail(s, err, "prepare");
	}
	return CRM_OK;
}

struct db_table *db_table_find(struct sync_db *s, const char *name)
{
	for (size_t i = 0; i < s->ntables; i++) {
		if (strcmp(s->tables[i].name, name) == 0)
			return &s->tables[i];
	}
	return NULL;
}

enum crm_err db_col_value(struct sync_db *s, struct db_table *t, int ci, const char *rid,
			  struct sync_value *v, bool *found, struct crm_error *err)
{
	struct db_col *c = &t->cols[ci];
	enum crm_err rc = CRM_OK;
	int step;

	*found = false;
	memset(v, 0, sizeof *v);
	if (!c->get) {
		char sql[512];

		snprintf(sql, sizeof sql, "SELECT \"%s\" FROM \"%s\" WHERE \"%s\" = ?1", c->name,
			 t->name, t->pk);
		rc = db_prepare(s, sql, &c->get, err);
		if (rc != CRM_OK)
			return rc;
	}
	sqlite3_bind_text(c->get, 1, rid, -1, SQLITE_STATIC);
	step = sqlite3_step(c->get);
	if (step == SQLITE_ROW) {
		*found = true;
		if (db_value_from_column(c->get, 0, v) != CRM_OK)
			rc = crm_fail(err, CRM_ENOMEM, "value");
	} else if (step != SQLITE_DONE) {
		rc = db_fail(s, err, "read value");
	}
	sqlite3_reset(c->get);
	sqlite3_clear_bindings(c->get);
	return rc;
}

int db_col_find_from(const struct db_table *t, const char *name, int hint)
{
	if (hint >= 0 && (size_t)hint < t->ncols && strcmp(t->cols[hint].name, name) == 0)
		return hint;
	return db_col_find(t, name);
}

int db_col_find(const struct db_table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++) {
		if (strcmp(t->cols[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

int db_version_cmp(sync_hlc ah, const char *as, sync_hlc bh, const char *bs)
{
	int c;

	if (ah != bh)
		return ah < bh ? -1 : 1;
	c = strcmp(as, bs);
	return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

/* ---- values ------------------------------------------------------------ */

enum crm_err db_value_from_column(sqlite3_stmt *st, int i, struct sync_value *v)
{
	memset(v, 0, sizeof *v);
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		v->type = SYNC_INT;
		v->i = sqlite3_column_int64(st, i);
		break;
	case SQLITE_FLOAT:
		v->type = SYNC_REAL;
		v->r = sqlite3_column_double(st, i);
		break;
	case SQLITE_TEXT:
	case SQLITE_BLOB: {
		const unsigned char *p = sqlite3_column_text(st, i);
		int n = sqlite3_column_bytes(st, i);

		v->type = SYNC_TEXT;
		v->s = malloc((size_t)n + 1);
		if (!v->s) {
			v->type = SYNC_NULL;
			return CRM_ENOMEM;
		}
		if (n > 0 && p)
			memcpy(v->s, p, (size_t)n);
		v->s[n] = '\0';
		break;
	}
	default:
		v->type = SYNC_NULL;
		break;
	}
	return CRM_OK;
}

int db_value_bind(sqlite3_stmt *st, int i, const struct sync_value *v)
{
	switch (v->type) {
	case SYNC_INT:
		return sqlite3_bind_int64(st, i, v->i);
	case SYNC_REAL:
		return sqlite3_bind_double(st, i, v->r);
	case SYNC_TEXT:
		return sqlite3_bind_text(st, i, v->s ? v->s : "", -1, SQLITE_STATIC);
	case SYNC_NULL:
	default:
		return sqlite3_bind_null(st, i);
	}
}

void db_value_release(struct sync_value *v)
{
	if (v->type == SYNC_TEXT)
		free(v->s);
	v->s = NULL;
	v->type = SYNC_NULL;
}

/* ---- clock rows -------------------------------------------------------- */

static void copy_site(char dst[37], const unsigned char *src)
{
	snprintf(dst, 37, "%s", src ? (const char *)src : "");
}

enum crm_err db_clock_load(struct sync_db *s, const char *tbl, const char *rid,
			   struct db_clock **out, size_t *n, struct crm_error *err)
{
	struct db_clock *rows = NULL;
	size_t cnt = 0, cap = 0;
	enum crm_err rc = CRM_OK;
	sqlite3_stmt *st = s->clock_row;
	int step;

	*out = NULL;
	*n = 0;
	sqlite3_bind_text(st, 1, tbl, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rid, -1, SQLITE_STATIC);
	for (step = sqlite3_step(st); step == SQLITE_ROW; step = sqlite3_step(st)) {
		struct db_clock *c;
		const unsigned char *col = sqlite3_column_text(st, 0);

		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct db_clock *nr = realloc(rows, ncap * sizeof *nr);

			if (!nr) {
				rc = crm_fail(err, CRM_ENOMEM, "clock rows");
				goto out;
			}
			rows = nr;
			cap = ncap;
		}
		c = &rows[cnt++];
		memset(c, 0, sizeof *c);
		if (col && strlen((const char *)col) >= sizeof c->col)
			c->col_too_long = true;
		snprintf(c->col, sizeof c->col, "%s", col ? (const char *)col : "");
		c->hlc = (sync_hlc)sqlite3_column_int64(st, 1);
		copy_site(c->site, sqlite3_column_text(st, 2));
		c->seq = sqlite3_column_int64(st, 3);
		c->base_hlc = (sync_hlc)sqlite3_column_int64(st, 4);
		copy_site(c->base_site, sqlite3_column_text(st, 5));
	}
	if (step != SQLITE_DONE)
		rc = db_fail(s, err, "read clock");
out:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != CRM_OK) {
		free(rows);
		return rc;
	}
	*out = rows;
	*n = cnt;
	return CRM_OK;
}

const struct db_clock *db_clock_effective(const struct db_clock *rows, size_t n, const char *col)
{
	const struct db_clock *whole = NULL;

	for (size_t i = 0; i < n; i++) {
		if (rows[i].col_too_long)
			continue;
		if (strcmp(rows[i].col, col) == 0)
			return &rows[i];
		if (rows[i].col[0] == '\0')
			whole = &rows[i];
	}
	return whole;
}

enum crm_err db_clock_put(struct sync_db *s, const char *tbl, const char *rid, const char *col,
			  sync_hlc hlc, const char *site, sync_hlc base_hlc, const char *base_site,
			  struct crm_error *err)
{
	sqlite3_stmt *st = s->clock_put;
	enum crm_err rc = CRM_OK;

	sqlite3_bind_text(st, 1, tbl, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, col, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)hlc);
	sqlite3_bind_text(st, 5, site, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, db_next_seq(s));
	sqlite3_bind_int64(st, 7, (sqlite3_int64)base_hlc);
	if (base_hlc != 0 && base_site && base_site[0])
		sqlite3_bind_text(st, 8, base_site, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 8);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(s, err, "write clock");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

enum crm_err db_clock_new(struct sync_db *s, const char *tbl, const struct db_clock_new *rows,
			  size_t n, struct crm_error *err)
{
	sqlite3_stmt *st;
	enum crm_err rc = CRM_OK;
	size_t k = 1;
	int p = 1;

	while (k <= DB_CLOCK_NEW_LOG && ((size_t)1 << k) < n)
		k++;
	if (k > DB_CLOCK_NEW_LOG || ((size_t)1 << k) != n)
		return crm_fail(err, CRM_EINTERNAL, "clock rows: %zu at once", n);
	if (!s->clock_new[k]) {
		struct crm_buf sql;

		crm_buf_init(&sql, 1 << 16);
		rc = crm_buf_addstr(&sql, "INSERT INTO sync_clock"
					  "(tbl, rid, col, hlc, site, seq, base_hlc, base_site) VALUES");
		for (size_t i = 0; i < n && rc == CRM_OK; i++)
			rc = crm_buf_addf(&sql, "%s(?1, ?%zu, ?%zu, ?%zu, ?%zu, ?%zu, ?%zu, ?%zu)",
					  i ? ", " : "", 2 + 7 * i, 3 + 7 * i, 4 + 7 * i, 5 + 7 * i,
					  6 + 7 * i, 7 + 7 * i, 8 + 7 * i);
		if (rc == CRM_OK)
			rc = db_prepare(s, sql.data, &s->clock_new[k], err);
		else
			rc = crm_fail(err, rc, "clock rows");
		crm_buf_release(&sql);
		if (rc != CRM_OK)
			return rc;
	}
	st = s->clock_new[k];
	sqlite3_bind_text(st, p++, tbl, -1, SQLITE_STATIC);
	for (size_t i = 0; i < n; i++) {
		const struct db_clock_new *r = &rows[i];

		sqlite3_bind_text(st, p++, r->rid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, p++, r->col, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, p++, (sqlite3_int64)r->hlc);
		sqlite3_bind_text(st, p++, r->site, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, p++, db_next_seq(s));
		sqlite3_bind_int64(st, p++, (sqlite3_int64)r->base_hlc);
		if (r->base_hlc != 0 && r->base_site && r->base_site[0])
			sqlite3_bind_text(st, p++, r->base_site, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, p++);
	}
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(s, err, "write clock");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/* ---- counters ---------------------------------------------------------- */

static int64_t state_int(struct sync_db *s, const char *key)
{
	sqlite3_stmt *st = s->state_get;
	int64_t v = 0;

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return v;
}

static enum crm_err state_put_int(struct sync_db *s, const char *key, int64_t v,
				  struct crm_error *err)
{
	sqlite3_stmt *st = s->state_put;
	enum crm_err rc = CRM_OK;

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, v);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(s, err, "write sync state");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

int64_t db_acked(struct sync_db *s)
{
	return state_int(s, DB_STATE_PREFIX "acked");
}

void db_refresh(struct sync_db *s)
{
	sqlite3_stmt *st = s->max_seq;
	int64_t floor;

	if (s->fresh)
		return;
	if (sqlite3_step(st) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		sync_hlc h = (sync_hlc)sqlite3_column_int64(st, 1);

		if (seq > s->seq)
			s->seq = seq;
		if (h > s->last)
			s->last = h;
	}
	sqlite3_reset(st);
	floor = state_int(s, DB_STATE_PREFIX "seq");
	if (floor > s->seq)
		s->seq = floor;
	s->acked = state_int(s, DB_STATE_PREFIX "acked");
	if (s->acked > s->seq)
		s->seq = s->acked;
	s->fresh = true;
}

int64_t db_committed_seq(struct sync_db *s)
{
	sqlite3_stmt *st = s->max_seq;
	int64_t seq = 0, floor;

	if (sqlite3_step(st) == SQLITE_ROW)
		seq = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	floor = state_int(s, DB_STATE_PREFIX "seq");
	if (floor > seq)
		seq = floor;
	floor = state_int(s, DB_STATE_PREFIX "acked");
	return floor > seq ? floor : seq;
}

int64_t db_next_seq(struct sync_db *s)
{
	db_refresh(s);
	return ++s->seq;
}

enum crm_err db_save_floors(struct sync_db *s, struct crm_error *err)
{
	enum crm_err rc;

	rc = state_put_int(s, DB_STATE_PREFIX "hlc", (int64_t)s->last, err);
	if (rc == CRM_OK)
		rc = state_put_int(s, DB_STATE_PREFIX "seq", s->seq, err);
	return rc;
}

/* A commit or rollback (ours or anyone's on this connection) ends what we know. */
static int on_commit(void *p)
{
	((struct sync_db *)p)->fresh = false;
	return 0;
}

static void on_rollback(void *p)
{
	((struct sync_db *)p)->fresh = false;
}

/* ---- public: clock ----------------------------------------------------- */

sync_hlc sync_hlc_next(struct sync_db *s)
{
	s->last = hlc_tick(s->last, crm_now_ms());
	return s->last;
}

enum crm_err sync_hlc_observe(struct sync_db *s, sync_hlc remote, struct crm_error *err)
{
	int64_t now = crm_now_ms();

	if (hlc_too_far(remote, now, s->max_skew_ms)) {
		char t[CRM_TIME_ISO_MAX];

		crm_time_format_utc(SYNC_HLC_MS(remote), t);
		return crm_fail(err, CRM_ECLOCK,
				"remote clock %s is more than %lld ms ahead of ours", t,
				(long long)s->max_skew_ms);
	}
	if (remote > s->last)
		s->last = remote;
	return CRM_OK;
}

const char *sync_site_id(const struct sync_db *s)
{
	return s->site;
}

void sync_capture_set(struct sync_db *s, bool on)
{
	s->capture = on;
}

/* ---- public: state ----------------------------------------------------- */

enum crm_err sync_state_get(struct sync_db *s, const char *key, char **out, struct crm_error *err)
{
	sqlite3_stmt *st = s->state_get;
	enum crm_err rc = CRM_OK;
	int step;

	*out = NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		const unsigned char *v = sqlite3_column_text(st, 0);

		*out = strdup(v ? (const char *)v : "");
		if (!*out)
			rc = crm_fail(err, CRM_ENOMEM, "state %s", key);
	} else if (step == SQLITE_DONE) {
		rc = crm_fail(err, CRM_ENOTFOUND, "no sync state %s", key);
	} else {
		rc = db_fail(s, err, "read sync state");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

enum crm_err sync_state_set(struct sync_db *s, const char *key, const char *value,
			    struct crm_error *err)
{
	sqlite3_stmt *st = s->state_put;
	enum crm_err rc = CRM_OK;

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(s, err, "write sync state");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/* ---- open / close ------------------------------------------------------ */

static enum db_affinity affinity_of(const char *decl)
{
	char up[64];
	size_t i;

	if (!decl)
		return DB_AFF_ANY;
	for (i = 0; decl[i] && i < sizeof up - 1; i++)
		up[i] = (char)((decl[i] >= 'a' && decl[i] <= 'z') ? decl[i] - 32 : decl[i]);
	up[i] = '\0';
	/* SQLite's own rules (datatype3.html, 3.1), in its order */
	if (strstr(up, "INT"))
		return DB_AFF_INT;
	if (strstr(up, "CHAR") || strstr(up, "CLOB") || strstr(up, "TEXT"))
		return DB_AFF_TEXT;
	if (strstr(up, "BLOB") || up[0] == '\0')
		return DB_AFF_ANY;
	if (strstr(up, "REAL") || strstr(up, "FLOA") || strstr(up, "DOUB"))
		return DB_AFF_REAL;
	return DB_AFF_ANY;
}

static bool is_quiet(const struct sync_table_spec *spec, const char *col)
{
	if (!spec->quiet)
		return false;
	for (size_t i = 0; spec->quiet[i]; i++) {
		if (strcmp(spec->quiet[i], col) == 0)
			return true;
	}
	return false;
}

static void table_release(struct db_table *t)
{
	for (size_t i = 0; i < t->ncols; i++) {
		free(t->cols[i].name);
		sqlite3_finalize(t->cols[i].get);
	}
	free(t->cols);
	for (size_t i = 0; i < t->nrowst; i++)
		sqlite3_finalize(t->rowst[i].st);
	free(t->rowst);
	sqlite3_finalize(t->insert_pk);
	sqlite3_finalize(t->select_all);
	free(t->name);
	free(t->pk);
	memset(t, 0, sizeof *t);
}

static enum crm_err table_load(struct sync_db *s, const struct sync_table_spec *spec,
			       struct db_table *t, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	struct crm_buf sql;
	enum crm_err rc = CRM_OK;
	size_t cap = 0;
	int npk = 0, step;

	crm_buf_init(&sql, 1 << 20);
	memset(t, 0, sizeof *t);
	t->name = strdup(spec->name);
	if (!t->name) {
		rc = crm_fail(err, CRM_ENOMEM, "table name");
		goto out;
	}
	if (sqlite3_prepare_v2(s->db, "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1)",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(s, err, "table_info");
		goto out;
	}
	sqlite3_bind_text(st, 1, spec->name, -1, SQLITE_STATIC);
	for (step = sqlite3_step(st); step == SQLITE_ROW; step = sqlite3_step(st)) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *type = (const char *)sqlite3_column_text(st, 1);
		struct db_col *c;

		if (!name)
			continue;
		if (sqlite3_column_int(st, 3) > 0) {
			npk++;
			free(t->pk);
			t->pk = strdup(name);
			if (!t->pk) {
				rc = crm_fail(err, CRM_ENOMEM, "column name");
				goto out;
			}
			continue;
		}
		if (strlen(name) >= sizeof((struct db_clock *)0)->col || strchr(name, '"')) {
			rc = crm_fail(err, CRM_EINVAL, "table %s: column name %s not supported", spec->name, name);
			goto out;
		}
		if (t->ncols == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct db_col *nc = realloc(t->cols, ncap * sizeof *nc);

			if (!nc) {
				rc = crm_fail(err, CRM_ENOMEM, "columns");
				goto out;
			}
			t->cols = nc;
			cap = ncap;
		}
		c = &t->cols[t->ncols];
		memset(c, 0, sizeof *c);
		c->name = strdup(name);
		if (!c->name) {
			rc = crm_fail(err, CRM_ENOMEM, "column name");
			goto out;
		}
		t->ncols++;
		c->aff = affinity_of(type);
		c->notnull = sqlite3_column_int(st, 2) != 0;
		c->quiet = is_quiet(spec, name);
	}
	if (step != SQLITE_DONE) {
		rc = db_fail(s, err, "table_info");
		goto out;
	}
	if (t->ncols == 0 && npk == 0) {
		rc = crm_fail(err, CRM_ENOTFOUND, "replicated table %s does not exist", spec->name);
		goto out;
	}
	if (t->ncols > DB_MAX_COLS) {
		rc = crm_fail(err, CRM_EINVAL, "table %s has more than %d columns", spec->name, DB_MAX_COLS);
		goto out;
	}
	if (npk != 1 || strchr(t->pk, '"') || strchr(t->name, '"')) {
		rc = crm_fail(err, CRM_EINVAL, "table %s needs a single-column primary key", spec->name);
		goto out;
	}
	if (crm_buf_addf(&sql, "INSERT OR IGNORE INTO \"%s\"(\"%s\") VALUES(?1)", t->name, t->pk) != CRM_OK) {
		rc = crm_fail(err, CRM_ENOMEM, "sql");
		goto out;
	}
	rc = db_prepare(s, sql.data, &t->insert_pk, err);
	if (rc != CRM_OK)
		goto out;
	crm_buf_reset(&sql);
	rc = crm_buf_addstr(&sql, "SELECT ");
	for (size_t i = 0; i < t->ncols && rc == CRM_OK; i++)
		rc = crm_buf_addf(&sql, "%s\"%s\"", i ? ", " : "", t->cols[i].name);
	if (rc == CRM_OK && t->ncols == 0)
		rc = crm_buf_addstr(&sql, "1");
	if (rc == CRM_OK)
		rc = crm_buf_addf(&sql, " FROM \"%s\" WHERE \"%s\" = ?1", t->name, t->pk);
	if (rc != CRM_OK) {
		rc = crm_fail(err, rc, "sql");
		goto out;
	}
	rc = db_prepare(s, sql.data, &t->select_all, err);
out:
	sqlite3_finalize(st);
	crm_buf_release(&sql);
	return rc;
}

static void fn_capturing(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sync_db *s = sqlite3_user_data(ctx);

	(void)argc;
	(void)argv;
	sqlite3_result_int(ctx, s->capture && !s->applying);
}

static void fn_hlc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sync_db *s = sqlite3_user_data(ctx);

	(void)argc;
	(void)argv;
	db_refresh(s);
	sqlite3_result_int64(ctx, (sqlite3_int64)sync_hlc_next(s));
}

static void fn_seq(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sync_db *s = sqlite3_user_data(ctx);

	(void)argc;
	(void)argv;
	sqlite3_result_int64(ctx, db_next_seq(s));
}

static void fn_site(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sync_db *s = sqlite3_user_data(ctx);

	(void)argc;
	(void)argv;
	sqlite3_result_text(ctx, s->site, -1, SQLITE_STATIC);
}

static enum crm_err register_functions(struct sync_db *s, bool on, struct crm_error *err)
{
	static const struct {
		const char *name;
		void (*fn)(sqlite3_context *, int, sqlite3_value **);
	} fns[] = {
		{"sync_capturing", fn_capturing},
		{"sync_hlc", fn_hlc},
		{"sync_seq", fn_seq},
		{"sync_site", fn_site},
	};

	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
		if (sqlite3_create_function_v2(s->db, fns[i].name, 0, SQLITE_UTF8,
					       on ? s : NULL, on ? fns[i].fn : NULL, NULL, NULL,
					       NULL) != SQLITE_OK)
			return db_fail(s, err, "register function");
	}
	return capture_register(s, on, err);
}

static enum crm_err load_site(struct sync_db *s, struct crm_error *err)
{
	char *v = NULL;
	enum crm_err rc = sync_state_get(s, DB_STATE_PREFIX "site", &v, NULL);

	if (rc == CRM_OK && crm_id_valid(v)) {
		snprintf(s->site, sizeof s->site, "%s", v);
		for (char *p = s->site; *p; p++) {
			if (*p >= 'A' && *p <= 'F')
				*p = (char)(*p + 32);
		}
		free(v);
		return CRM_OK;
	}
	free(v);
	crm_id_new(s->site);
	return sync_state_set(s, DB_STATE_PREFIX "site", s->site, err);
}

static bool temp_store_default(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	bool dflt = false;

	if (sqlite3_prepare_v2(db, "PRAGMA temp_store", -1, &st, NULL) != SQLITE_OK)
		return false;
	if (sqlite3_step(st) == SQLITE_ROW)
		dflt = sqlite3_column_int(st, 0) == 0;
	sqlite3_finalize(st);
	return dflt;
}

enum crm_err sync_open(sqlite3 *db, const struct sync_table_spec *tables, size_t ntables,
		       const struct sync_options *opt, struct sync_db **out, struct crm_error *err)
{
	struct sync_db *s;
	enum crm_err rc = CRM_OK;
	bool in_sp = false;

	*out = NULL;
	s = calloc(1, sizeof *s);
	if (!s)
		return crm_fail(err, CRM_ENOMEM, "sync_open");
	s->db = db;
	s->capture = true;
	s->max_skew_ms = (opt && opt->max_skew_ms > 0) ? opt->max_skew_ms : DEFAULT_SKEW_MS;
	/*
	 * The capture triggers make every write to a replicated table a
	 * multi-table statement, which SQLite protects with a statement
	 * journal; past 64 KiB that journal is a temporary file. Unless the
	 * caller chose a temp_store, keep temporary data in memory: it halves
	 * the cost of capture (docs/benchmarks.md).
	 */
	if (temp_store_default(db))
		rc = db_exec(s, "PRAGMA temp_store = MEMORY", err);
	if (rc != CRM_OK)
		goto out;
	rc = db_exec(s, "SAVEPOINT sync_open", err);
	if (rc != CRM_OK)
		goto out;
	in_sp = true;
	rc = db_exec(s, SCHEMA_SQL, err);
	if (rc != CRM_OK)
		goto out;
	/* before any statement on a replicated table: its triggers call these */
	rc = register_functions(s, true, err);
	if (rc != CRM_OK)
		goto out;
	rc = db_prepare(s, "SELECT col, hlc, site, seq, base_hlc, base_site FROM sync_clock"
			   " WHERE tbl = ?1 AND rid = ?2", &s->clock_row, err);
	if (rc == CRM_OK)
		rc = db_prepare(s, "INSERT OR REPLACE INTO sync_clock"
				   "(tbl, rid, col, hlc, site, seq, base_hlc, base_site)"
				   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", &s->clock_put, err);
	if (rc == CRM_OK)
		rc = db_prepare(s, "SELECT value FROM sync_state WHERE key = ?1", &s->state_get, err);
	if (rc == CRM_OK)
		rc = db_prepare(s, "INSERT OR REPLACE INTO sync_state(key, value) VALUES(?1, ?2)",
				&s->state_put, err);
	if (rc == CRM_OK)
		rc = db_prepare(s, "SELECT seq, hlc FROM sync_clock ORDER BY seq DESC LIMIT 1",
				&s->max_seq, err);
	if (rc == CRM_OK)
		rc = db_prepare(s, "INSERT OR IGNORE INTO sync_conflicts(id, tbl, rid, col,"
				   " loser_value, loser_hlc, loser_site, winner_value, winner_hlc,"
				   " winner_site, detected_at, resolved_at)"
				   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
				&s->conflict_put, err);
	if (rc != CRM_OK)
		goto out;
	rc = load_site(s, err);
	if (rc != CRM_OK)
		goto out;
	s->tables = calloc(ntables ? ntables : 1, sizeof *s->tables);
	if (!s->tables) {
		rc = crm_fail(err, CRM_ENOMEM, "tables");
		goto out;
	}
	for (size_t i = 0; i < ntables; i++) {
		rc = table_load(s, &tables[i], &s->tables[i], err);
		s->ntables = i + 1;
		if (rc != CRM_OK)
			goto out;
	}
	/* Restore the counters: never reuse a sequence, never let the clock go back. */
	s->fresh = false;
	db_refresh(s);
	{
		sync_hlc saved = 0;
		char *v = NULL;

		if (sync_state_get(s, DB_STATE_PREFIX "hlc", &v, NULL) == CRM_OK) {
			char *end = NULL;
			long long x = strtoll(v, &end, 10);

			if (end && *end == '\0' && x > 0)
				saved = (sync_hlc)x;
		}
		free(v);
		if (saved > s->last)
			s->last = saved;
	}
	for (size_t i = 0; i < s->ntables; i++) {
		rc = capture_install(s, &s->tables[i], err);
		if (rc != CRM_OK)
			goto out;
	}
	rc = db_exec(s, "RELEASE sync_open", err);
	if (rc != CRM_OK)
		goto out;
	in_sp = false;
	sqlite3_commit_hook(db, on_commit, s);
	sqlite3_rollback_hook(db, on_rollback, s);
	s->fresh = false;
out:
	if (rc != CRM_OK) {
		if (in_sp) {
			sqlite3_exec(db, "ROLLBACK TO sync_open", NULL, NULL, NULL);
			sqlite3_exec(db, "RELEASE sync_open", NULL, NULL, NULL);
		}
		sync_close(s);
		return rc;
	}
	*out = s;
	return CRM_OK;
}

void sync_close(struct sync_db *s)
{
	if (!s)
		return;
	if (s->db) {
		/* Remember the clock; harmless if the database is read-only or busy. */
		if (s->state_put && sqlite3_get_autocommit(s->db))
			db_save_floors(s, NULL);
		register_functions(s, false, NULL);
		sqlite3_commit_hook(s->db, NULL, NULL);
		sqlite3_rollback_hook(s->db, NULL, NULL);
	}
	for (size_t i = 0; i < s->ntables; i++)
		table_release(&s->tables[i]);
	free(s->tables);
	sqlite3_finalize(s->clock_row);
	sqlite3_finalize(s->clock_put);
	sqlite3_finalize(s->state_get);
	sqlite3_finalize(s->state_put);
	sqlite3_finalize(s->max_seq);
	sqlite3_finalize(s->conflict_put);
	for (size_t k = 0; k <= DB_CLOCK_NEW_LOG; k++)
		sqlite3_finalize(s->clock_new[k]);
	free(s);
}
