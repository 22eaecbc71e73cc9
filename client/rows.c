/* Generic row reads/writes from the schema metadata, and REF resolution. */
#include "rows.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm_buf.h"
#include "crm_time.h"

#define SQL_MAX (64 * 1024)
#define MAX_CANDIDATES 5

enum crm_err row_init(struct row *r, const struct schema_table *t)
{
	r->t = t;
	r->v = calloc(t->ncols, sizeof *r->v);
	return r->v ? CRM_OK : CRM_ENOMEM;
}

enum crm_err row_new(struct row *r, const struct schema_table *t)
{
	char id[CRM_ID_SIZE];
	int64_t now = crm_now_ms();
	enum crm_err rc = row_init(r, t);

	if (rc != CRM_OK)
		return rc;
	crm_id_new(id);
	rc = row_put_text(r, "id", id);
	row_put_int(r, "created_at", now);
	row_put_int(r, "updated_at", now);
	row_put_int(r, "deleted", 0);
	if (rc != CRM_OK)
		row_release(r);
	return rc;
}

void row_release(struct row *r)
{
	if (r->v)
		for (size_t i = 0; i < r->t->ncols; i++)
			schema_value_release(&r->v[i]);
	free(r->v);
	r->v = NULL;
}

int row_col(const struct schema_table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return (int)i;
	return -1;
}

const struct schema_value *row_get(const struct row *r, const char *name)
{
	int i = row_col(r->t, name);

	return i < 0 ? NULL : &r->v[i];
}

const char *row_text(const struct row *r, const char *name)
{
	const struct schema_value *v = row_get(r, name);

	return v && v->type == SV_TEXT ? v->s : NULL;
}

void row_put(struct row *r, const char *name, struct schema_value *v)
{
	int i = row_col(r->t, name);

	if (i < 0) {
		schema_value_release(v);
		return;
	}
	schema_value_release(&r->v[i]);
	r->v[i] = *v;
	v->type = SV_NULL;
	v->s = NULL;
}

enum crm_err row_put_text(struct row *r, const char *name, const char *s)
{
	struct schema_value v = {SV_TEXT, 0, 0, strdup(s)};

	if (!v.s)
		return CRM_ENOMEM;
	row_put(r, name, &v);
	return CRM_OK;
}

void row_put_int(struct row *r, const char *name, int64_t i)
{
	struct schema_value v = {SV_INT, i, 0, NULL};

	row_put(r, name, &v);
}

void row_list_release(struct row_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		row_release(&l->rows[i]);
	free(l->rows);
	memset(l, 0, sizeof *l);
}

bool row_list_trim(struct row_list *l, size_t n)
{
	bool more = l->n > n;

	while (l->n > n)
		row_release(&l->rows[--l->n]);
	return more;
}

static enum crm_err db_fail(sqlite3 *db, struct crm_error *err, const char *what)
{
	return crm_fail(err, CRM_EDB, "%s: %s", what, sqlite3_errmsg(db));
}

static int bind_value(sqlite3_stmt *st, int idx, const struct schema_value *v)
{
	switch (v->type) {
	case SV_INT:
		return sqlite3_bind_int64(st, idx, v->i);
	case SV_REAL:
		return sqlite3_bind_double(st, idx, v->r);
	case SV_TEXT:
		return sqlite3_bind_text(st, idx, v->s, -1, SQLITE_STATIC);
	case SV_NULL:
		break;
	}
	return sqlite3_bind_null(st, idx);
}

static enum crm_err read_value(sqlite3_stmt *st, int idx, struct schema_value *v)
{
	v->s = NULL;
	switch (sqlite3_column_type(st, idx)) {
	case SQLITE_INTEGER:
		v->type = SV_INT;
		v->i = sqlite3_column_int64(st, idx);
		break;
	case SQLITE_FLOAT:
		v->type = SV_REAL;
		v->r = sqlite3_column_double(st, idx);
		break;
	case SQLITE_TEXT:
	case SQLITE_BLOB: {
		const unsigned char *s = sqlite3_column_text(st, idx);

		v->type = SV_TEXT;
		v->s = strdup(s ? (const char *)s : "");
		if (!v->s) {
			v->type = SV_NULL;
			return CRM_ENOMEM;
		}
		break;
	}
	default:
		v->type = SV_NULL;
		break;
	}
	return CRM_OK;
}

/*
 * Prepared INSERTs, one per (database, table). Preparing an INSERT compiles
 * the sync capture and search triggers with it, which costs more than the
 * insert itself; a CSV import of 100,000 rows reuses one statement.
 */
static struct {
	sqlite3 *db;
	const struct schema_table *t;
	sqlite3_stmt *st;
} insert_cache[8];

void rows_cache_clear(sqlite3 *db)
{
	for (size_t i = 0; i < sizeof insert_cache / sizeof insert_cache[0]; i++) {
		if (insert_cache[i].db != db)
			continue;
		sqlite3_finalize(insert_cache[i].st);
		memset(&insert_cache[i], 0, sizeof insert_cache[i]);
	}
}

static enum crm_err insert_stmt(sqlite3 *db, const struct schema_table *t, sqlite3_stmt **out,
				struct crm_error *err)
{
	struct crm_buf sql;
	enum crm_err rc = CRM_OK;
	size_t slot = sizeof insert_cache / sizeof insert_cache[0];

	for (size_t i = 0; i < sizeof insert_cache / sizeof insert_cache[0]; i++) {
		if (insert_cache[i].db == db && insert_cache[i].t == t) {
			*out = insert_cache[i].st;
			return CRM_OK;
		}
		if (!insert_cache[i].db && slot == sizeof insert_cache / sizeof insert_cache[0])
			slot = i;
	}
	*out = NULL;
	crm_buf_init(&sql, SQL_MAX);
	rc = crm_buf_addf(&sql, "INSERT INTO \"%s\" (", t->name);
	for (size_t i = 0; rc == CRM_OK && i < t->ncols; i++)
		rc = crm_buf_addf(&sql, "%s\"%s\"", i ? ", " : "", t->cols[i].name);
	if (rc == CRM_OK)
		rc = crm_buf_addstr(&sql, ") VALUES (");
	for (size_t i = 0; rc == CRM_OK && i < t->ncols; i++)
		rc = crm_buf_addstr(&sql, i ? ", ?" : "?");
	if (rc == CRM_OK)
		rc = crm_buf_addstr(&sql, ")");
	if (rc != CRM_OK) {
		rc = crm_fail(err, rc, "building SQL for %s", t->name);
		goto out;
	}
	if (sqlite3_prepare_v3(db, sql.data, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "cannot prepare insert");
		goto out;
	}
	if (slot < sizeof insert_cache / sizeof insert_cache[0]) {
		insert_cache[slot].db = db;
		insert_cache[slot].t = t;
		insert_cache[slot].st = *out;
	}
out:
	crm_buf_release(&sql);
	return rc;
}

static bool cached(sqlite3_stmt *st)
{
	for (size_t i = 0; i < sizeof insert_cache / sizeof insert_cache[0]; i++)
		if (insert_cache[i].st == st)
			return true;
	return false;
}

enum crm_err rows_insert(sqlite3 *db, const struct row *r, struct crm_error *err)
{
	const struct schema_table *t = r->t;
	sqlite3_stmt *st = NULL;
	enum crm_err rc = insert_stmt(db, t, &st, err);

	if (rc != CRM_OK)
		return rc;
	for (size_t i = 0; i < t->ncols; i++)
		bind_value(st, (int)i + 1, &r->v[i]);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = crm_fail(err, CRM_EDB, "cannot add %s: %s", t->singular, sqlite3_errmsg(db));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (!cached(st))
		sqlite3_finalize(st);
	return rc;
}

enum crm_err rows_update(sqlite3 *db, const struct row *r, const bool *set, struct crm_error *err)
{
	const struct schema_table *t = r->t;
	struct crm_buf sql;
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	int n = 0;
	const char *id = row_text(r, "id");

	crm_buf_init(&sql, SQL_MAX);
	if (!id) {
		rc = crm_fail(err, CRM_EINTERNAL, "update of a %s without id", t->singular);
		goto out;
	}
	rc = crm_buf_addf(&sql, "UPDATE \"%s\" SET \"updated_at\" = ?1", t->name);
	for (size_t i = 0; rc == CRM_OK && i < t->ncols; i++)
		if (set[i] && strcmp(t->cols[i].name, "updated_at") != 0)
			rc = crm_buf_addf(&sql, ", \"%s\" = ?%zu", t->cols[i].name, i + 3);
	if (rc == CRM_OK)
		rc = crm_buf_addstr(&sql, " WHERE \"id\" = ?2");
	if (rc != CRM_OK) {
		rc = crm_fail(err, rc, "building SQL for %s", t->name);
		goto out;
	}
	if (sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "cannot prepare update");
		goto out;
	}
	sqlite3_bind_int64(st, 1, crm_now_ms());
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	for (size_t i = 0; i < t->ncols; i++)
		if (set[i] && strcmp(t->cols[i].name, "updated_at") != 0)
			bind_value(st, (int)i + 3, &r->v[i]);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = crm_fail(err, CRM_EDB, "cannot change %s %s: %s", t->singular, id,
			      sqlite3_errmsg(db));
		goto out;
	}
	n = sqlite3_changes(db);
	if (n == 0)
		rc = crm_fail(err, CRM_ENOTFOUND, "no %s with id %s", t->singular, id);
out:
	sqlite3_finalize(st);
	crm_buf_release(&sql);
	return rc;
}

enum crm_err rows_delete(sqlite3 *db, const struct schema_table *t, const char *id,
			 struct crm_error *err)
{
	struct row r;
	bool *set = NULL;
	enum crm_err rc = row_init(&r, t);

	if (rc != CRM_OK)
		return crm_fail(err, rc, "out of memory");
	set = calloc(t->ncols, sizeof *set);
	if (!set) {
		rc = crm_fail(err, CRM_ENOMEM, "out of memory");
		goto out;
	}
	rc = row_put_text(&r, "id", id);
	if (rc != CRM_OK)
		goto out;
	row_put_int(&r, "deleted", 1);
	set[row_col(t, "deleted")] = true;
	rc = rows_update(db, &r, set, err);
out:
	free(set);
	row_release(&r);
	return rc;
}

static enum crm_err select_sql(const struct schema_table *t, const char *tail, struct crm_buf *sql)
{
	enum crm_err rc = crm_buf_addstr(sql, "SELECT ");

	for (size_t i = 0; rc == CRM_OK && i < t->ncols; i++)
		rc = crm_buf_addf(sql, "%sr.\"%s\"", i ? ", " : "", t->cols[i].name);
	if (rc == CRM_OK)
		rc = crm_buf_addf(sql, " FROM \"%s\" AS r %s", t->name, tail);
	return rc;
}

enum crm_err rows_select(sqlite3 *db, const struct schema_table *t, const char *tail,
			 const struct schema_value *params, size_t nparams, struct row_list *out,
			 struct crm_error *err)
{
	struct crm_buf sql;
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	int step;

	crm_buf_init(&sql, SQL_MAX);
	rc = select_sql(t, tail, &sql);
	if (rc != CRM_OK) {
		rc = crm_fail(err, rc, "building SQL for %s", t->name);
		goto out;
	}
	if (sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "cannot prepare query");
		goto out;
	}
	for (size_t i = 0; i < nparams; i++)
		bind_value(st, (int)i + 1, &params[i]);
	for (step = sqlite3_step(st); step == SQLITE_ROW; step = sqlite3_step(st)) {
		struct row *r;

		if (out->n == out->cap) {
			size_t cap = out->cap ? out->cap * 2 : 16;
			struct row *p = realloc(out->rows, cap * sizeof *p);

			if (!p) {
				rc = crm_fail(err, CRM_ENOMEM, "out of memory reading %s", t->name);
				goto out;
			}
			out->rows = p;
			out->cap = cap;
		}
		r = &out->rows[out->n];
		rc = row_init(r, t);
		if (rc != CRM_OK) {
			rc = crm_fail(err, rc, "out of memory reading %s", t->name);
			goto out;
		}
		out->n++;
		for (size_t i = 0; i < t->ncols; i++) {
			rc = read_value(st, (int)i, &r->v[i]);
			if (rc != CRM_OK) {
				rc = crm_fail(err, rc, "out of memory reading %s", t->name);
				goto out;
			}
		}
	}
	if (step != SQLITE_DONE)
		rc = db_fail(db, err, "cannot read rows");
out:
	sqlite3_finalize(st);
	crm_buf_release(&sql);
	return rc;
}

enum crm_err rows_get(sqlite3 *db, const struct schema_table *t, const char *id, struct row *r,
		      struct crm_error *err)
{
	struct row_list l = {0};
	struct schema_value p = {SV_TEXT, 0, 0, NULL};
	enum crm_err rc;

	p.s = (char *)(uintptr_t)id; /* bound SQLITE_STATIC, never freed here */
	rc = rows_select(db, t, "WHERE r.\"id\" = ?1", &p, 1, &l, err);
	if (rc != CRM_OK)
		goto out;
	if (l.n == 0) {
		rc = crm_fail(err, CRM_ENOTFOUND, "no %s with id %s", t->singular, id);
		goto out;
	}
	*r = l.rows[0];
	l.rows[0].v = NULL;
out:
	row_list_release(&l);
	return rc;
}

enum crm_err rows_reload(sqlite3 *db, struct row *r, struct crm_error *err)
{
	const struct schema_table *t = r->t;
	const char *have = row_text(r, "id");
	char *id = have ? strdup(have) : NULL;
	enum crm_err rc;

	if (!id)
		return crm_fail(err, have ? CRM_ENOMEM : CRM_EINTERNAL, "reload: %s",
				have ? "out of memory" : "the row has no id");
	row_release(r);
	rc = rows_get(db, t, id, r, err);
	free(id);
	return rc;
}

/* ---- REF resolution -------------------------------------------------- */

struct candidates {
	size_t n;
	char ids[MAX_CANDIDATES + 1][CRM_ID_SIZE];
	char labels[MAX_CANDIDATES + 1][160];
};

/* Runs sql (returns id, label) with ?1 = a, ?2 = b; collects up to MAX+1 rows. */
static enum crm_err collect(sqlite3 *db, const char *sql, const char *a, const char *b,
			    struct candidates *c, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	int step;

	c->n = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "cannot prepare lookup");
		goto out;
	}
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	for (step = sqlite3_step(st); step == SQLITE_ROW; step = sqlite3_step(st)) {
		const unsigned char *id = sqlite3_column_text(st, 0);
		const unsigned char *label = sqlite3_column_text(st, 1);

		if (c->n > MAX_CANDIDATES)
			continue;
		snprintf(c->ids[c->n], CRM_ID_SIZE, "%s", id ? (const char *)id : "");
		snprintf(c->labels[c->n], sizeof c->labels[0], "%s", label ? (const char *)label : "");
		c->n++;
	}
	if (step != SQLITE_DONE)
		rc = db_fail(db, err, "lookup failed");
out:
	sqlite3_finalize(st);
	return rc;
}

static enum crm_err ambiguous(const struct schema_table *t, const char *ref,
			      const struct candidates *c, sqlite3 *db, const char *count_sql,
			      const char *a, const char *b, struct crm_error *err)
{
	char list[CRM_ERRMSG_MAX];
	size_t len = 0;
	long long total = (long long)c->n;
	sqlite3_stmt *st = NULL;

	if (c->n > MAX_CANDIDATES && count_sql &&
	    sqlite3_prepare_v2(db, count_sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
		if (b)
			sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			total = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	list[0] = '\0';
	for (size_t i = 0; i < c->n && i < MAX_CANDIDATES; i++) {
		int w = snprintf(list + len, sizeof list - len, "%s%s (%s)", i ? ", " : "",
				 c->labels[i], c->ids[i]);

		if (w < 0 || (size_t)w >= sizeof list - len)
			break;
		len += (size_t)w;
	}
	if (total > MAX_CANDIDATES && len + 32 < sizeof list)
		snprintf(list + len, sizeof list - len, " and %lld more", total - MAX_CANDIDATES);
	return crm_fail(err, CRM_EAMBIGUOUS,
			"\"%s\" matches %lld %s: %s: use the id, a longer id prefix or the exact %s",
			ref, total, t->name, list,
			strcmp(t->name, "customers") == 0 ? "name" : "title");
}

static bool looks_like_id_prefix(const char *s)
{
	size_t n = strlen(s);

	if (n < 4 || n > CRM_ID_LEN)
		return false;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s) && *s != '-')
			return false;
	return true;
}

/* True if a deleted customer has exactly the name or ext_ref ref; its id into id. */
static bool deleted_customer(sqlite3 *db, const char *ref, char id[CRM_ID_SIZE])
{
	sqlite3_stmt *st = NULL;
	bool found = false;

	if (sqlite3_prepare_v2(db, "SELECT id FROM customers WHERE deleted = 1 AND (name = ?1 "
				   "OR ext_ref = ?1) ORDER BY updated_at DESC LIMIT 1", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
			snprintf(id, CRM_ID_SIZE, "%s", (const char *)sqlite3_column_text(st, 0));
			found = true;
		}
	}
	sqlite3_finalize(st);
	return found;
}

enum crm_err rows_resolve(sqlite3 *db, const struct schema_table *t, const char *ref,
			  char id[CRM_ID_SIZE], struct crm_error *err)
{
	const char *label = schema_column_find(t, "name")    ? "name"
			    : schema_column_find(t, "title") ? "title"
							     : NULL;
	bool has_ext = schema_column_find(t, "ext_ref") != NULL;
	struct candidates c;
	char sql[512], count[512];
	char lower[CRM_ID_SIZE], upper[CRM_ID_SIZE + 1];
	enum crm_err rc = CRM_OK;
	const char *lab = label ? label : "id";

	if (ref[0] == '\0')
		return crm_fail(err, CRM_EUSAGE, "an empty %s reference: give an id or a name",
				t->singular);
	/* 1. The full id (deleted rows too: they can be shown or restored by id). */
	if (crm_id_valid(ref)) {
		size_t i;

		for (i = 0; ref[i] && i < CRM_ID_LEN; i++)
			lower[i] = (char)tolower((unsigned char)ref[i]);
		lower[i] = '\0';
		snprintf(sql, sizeof sql, "SELECT id, \"%s\" FROM \"%s\" WHERE id = ?1", lab, t->name);
		rc = collect(db, sql, lower, NULL, &c, err);
		if (rc != CRM_OK || c.n == 1)
			goto found;
	}
	/* 2. ext_ref, a code from another system: exact. */
	if (has_ext) {
		snprintf(sql, sizeof sql,
			 "SELECT id, \"%s\" FROM \"%s\" WHERE ext_ref = ?1 AND deleted = 0 LIMIT 6",
			 lab, t->name);
		snprintf(count, sizeof count,
			 "SELECT count(*) FROM \"%s\" WHERE ext_ref = ?1 AND deleted = 0", t->name);
		rc = collect(db, sql, ref, NULL, &c, err);
		if (rc != CRM_OK || c.n == 1)
			goto found;
		if (c.n > 1)
			return ambiguous(t, ref, &c, db, count, ref, NULL, err);
	}
	/* 3. A unique id prefix: ids are lower-case hex and dashes, sorted. */
	if (looks_like_id_prefix(ref)) {
		size_t i;

		for (i = 0; ref[i]; i++)
			lower[i] = (char)tolower((unsigned char)ref[i]);
		lower[i] = '\0';
		snprintf(upper, sizeof upper, "%sg", lower);
		snprintf(sql, sizeof sql,
			 "SELECT id, \"%s\" FROM \"%s\" WHERE id >= ?1 AND id < ?2 AND deleted = 0 "
			 "LIMIT 6", lab, t->name);
		snprintf(count, sizeof count,
			 "SELECT count(*) FROM \"%s\" WHERE id >= ?1 AND id < ?2 AND deleted = 0",
			 t->name);
		rc = collect(db, sql, lower, upper, &c, err);
		if (rc != CRM_OK || c.n == 1)
			goto found;
		if (c.n > 1)
			return ambiguous(t, ref, &c, db, count, lower, upper, err);
	}
	if (label) {
		/* 4. The exact name. */
		snprintf(sql, sizeof sql,
			 "SELECT id, \"%s\" FROM \"%s\" WHERE \"%s\" = ?1 AND deleted = 0 LIMIT 6",
			 label, t->name, label);
		snprintf(count, sizeof count,
			 "SELECT count(*) FROM \"%s\" WHERE \"%s\" = ?1 AND deleted = 0", t->name,
			 label);
		rc = collect(db, sql, ref, NULL, &c, err);
		if (rc != CRM_OK || c.n == 1)
			goto found;
		if (c.n > 1)
			return ambiguous(t, ref, &c, db, count, ref, NULL, err);
		/* 5. A unique part of the name. */
		snprintf(sql, sizeof sql,
			 "SELECT id, \"%s\" FROM \"%s\" WHERE instr(lower(\"%s\"), lower(?1)) > 0 "
			 "AND deleted = 0 ORDER BY \"%s\" LIMIT 6",
			 label, t->name, label, label);
		snprintf(count, sizeof count,
			 "SELECT count(*) FROM \"%s\" WHERE instr(lower(\"%s\"), lower(?1)) > 0 "
			 "AND deleted = 0", t->name, label);
		rc = collect(db, sql, ref, NULL, &c, err);
		if (rc != CRM_OK || c.n == 1)
			goto found;
		if (c.n > 1)
			return ambiguous(t, ref, &c, db, count, ref, NULL, err);
	}
	if (strcmp(t->name, "customers") == 0) {
		char gone[CRM_ID_SIZE];

		if (deleted_customer(db, ref, gone))
			return crm_fail(err, CRM_ENOTFOUND, "no customer matches \"%s\": that "
					"customer was deleted; name a deleted customer by its full "
					"id, %s", ref, gone);
		return crm_fail(err, CRM_ENOTFOUND, "no customer matches \"%s\": try `crm search "
				"TEXT` to find it", ref);
	}
	return crm_fail(err, CRM_ENOTFOUND, "no %s matches \"%s\": try `crm %s list` to find it",
			t->singular, ref, t->singular);
found:
	if (rc == CRM_OK)
		memcpy(id, c.ids[0], CRM_ID_SIZE);
	return rc;
}

enum crm_err rows_find_duplicate(sqlite3 *db, const struct row *r, bool *found,
				 struct rows_dup *dup, struct crm_error *err)
{
	static const char *const keys[] = {"phone", "email", "uscc"};
	const char *self = row_text(r, "id");
	enum crm_err rc = CRM_OK;

	*found = false;
	for (size_t k = 0; k < sizeof keys / sizeof keys[0] && !*found; k++) {
		const char *v = row_text(r, keys[k]);
		sqlite3_stmt *st = NULL;
		char sql[256];
		int step;

		if (!v)
			continue;
		snprintf(sql, sizeof sql,
			 "SELECT id, name FROM customers WHERE \"%s\" = ?1 AND deleted = 0 "
			 "AND id <> ?2 LIMIT 1", keys[k]);
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
			rc = db_fail(db, err, "cannot prepare duplicate check");
			sqlite3_finalize(st);
			break;
		}
		sqlite3_bind_text(st, 1, v, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, self ? self : "", -1, SQLITE_STATIC);
		step = sqlite3_step(st);
		if (step == SQLITE_ROW) {
			const unsigned char *id = sqlite3_column_text(st, 0);
			const unsigned char *name = sqlite3_column_text(st, 1);

			*found = true;
			snprintf(dup->id, sizeof dup->id, "%s", id ? (const char *)id : "");
			snprintf(dup->name, sizeof dup->name, "%s", name ? (const char *)name : "");
			snprintf(dup->col, sizeof dup->col, "%s", keys[k]);
			snprintf(dup->value, sizeof dup->value, "%s", v);
		} else if (step != SQLITE_DONE) {
			rc = db_fail(db, err, "duplicate check failed");
		}
		sqlite3_finalize(st);
		if (rc != CRM_OK)
			break;
	}
	return rc;
}

void rows_customer_name(sqlite3 *db, const char *id, char *out, size_t n)
{
	sqlite3_stmt *st = NULL;

	if (n == 0)
		return;
	out[0] = '\0';
	if (!id || sqlite3_prepare_v2(db, "SELECT name FROM customers WHERE id = ?1", -1, &st,
				      NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
out:
	sqlite3_finalize(st);
}
