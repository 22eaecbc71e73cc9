/*
 * sim_ops: what people do on their laptops, as ordinary SQL on a replica.
 *
 * Inserts of customers and of rows under them, edits of one to three random
 * fields, the same field edited on two replicas before either syncs (often in
 * the same millisecond, so HLC ties between sites are broken by site id),
 * deletes and undeletes (the deleted field), conflict resolutions, and a hard
 * DELETE that must be refused. Capture is the triggers' business; after each
 * operation the row is snapshotted and every field whose version changed
 * goes into the model, with the version it replaced as its parent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm_buf.h"
#include "sim.h"
#include "tables.h"

/* ---- snapshots and the model ------------------------------------------- */

static bool snapshot(struct sim_world *w, unsigned i, int t, const char *id,
		     struct sync_changeset *cs)
{
	struct crm_error err;
	enum crm_err rc;

	sync_changeset_init(cs);
	rc = sync_row_snapshot(w->nodes[i].s, schema_tables[t].name, id, cs, &err);
	if (rc == CRM_ENOTFOUND) {
		sync_changeset_release(cs);
		sync_changeset_init(cs);
		return true;
	}
	if (rc != CRM_OK)
		return sim_fail(w, "node %u: sync_row_snapshot %s/%s: %s", i,
				schema_tables[t].name, id, err.msg);
	return true;
}

static const struct sync_field *find_field(const struct sync_changeset *cs, const char *col)
{
	for (size_t r = 0; r < cs->nrows; r++)
		for (size_t f = 0; f < cs->rows[r].nfields; f++)
			if (strcmp(cs->rows[r].fields[f].col, col) == 0)
				return &cs->rows[r].fields[f];
	return NULL;
}

/* Adds to the model every field version the local edit on replica r made. */
static bool record_edit(struct sim_world *w, unsigned r, int t, const char *id,
			const struct sync_changeset *before, const struct sync_changeset *after)
{
	struct sim_node *n = &w->nodes[r];

	for (size_t ri = 0; ri < after->nrows; ri++) {
		const struct sync_row *row = &after->rows[ri];

		for (size_t fi = 0; fi < row->nfields; fi++) {
			const struct sync_field *f = &row->fields[fi];
			const struct sync_field *old = find_field(before, f->col);
			struct sim_version v;
			bool dup;
			char a[SYNC_HLC_STR_MAX];

			if (old && old->hlc == f->hlc && strcmp(old->site, f->site) == 0)
				continue;
			memset(&v, 0, sizeof v);
			v.table = t;
			v.col = sim_col_index(t, f->col);
			if (v.col < 0)
				return sim_fail(w, "r%u: snapshot names unknown column %s.%s", r,
						schema_tables[t].name, f->col);
			snprintf(v.id, sizeof v.id, "%s", id);
			v.hlc = f->hlc;
			v.site = sim_site_index(w, f->site);
			if (v.site != (int)r)
				return sim_fail(w, "r%u: after a local edit of %s/%s.%s the version in "
						"place is from site %s, not this replica",
						r, schema_tables[t].name, id, f->col, f->site);
			if (old) {
				v.parent_hlc = old->hlc;
				v.parent_site = sim_site_index(w, old->site);
			} else {
				v.parent_site = SIM_NO_SITE;
			}
			v.quiet = strcmp(f->col, "updated_at") == 0;
			if (sim_model_add(&w->model, &v, &dup) == SIZE_MAX) {
				sync_hlc_format(f->hlc, a);
				return sim_fail(w, "r%u: %s: version %s of %s/%s.%s", r,
						dup ? "HLC handed out twice" : "out of memory", a,
						schema_tables[t].name, id, f->col);
			}
			w->st->versions++;
			if (f->hlc > n->max_hlc)
				n->max_hlc = f->hlc;
		}
	}
	return true;
}

/* ---- values -------------------------------------------------------------- */

static const char *const words[] = {
	"深圳市华信科技有限公司", "Acme Trading Co., Ltd.", "北京", "上海浦东", "回访客户",
	"跟进报价", "O'Brien & Sons", "a \"quoted\" word", "back\\slash", "tab\there",
	"line\nbreak", "emoji 😀", "Zürich GmbH", "", "张伟", "visit went well",
};
static const char *const currencies[] = {"CNY", "USD", "EUR", "HKD"};

struct sim_value {
	int type; /* SQLITE_NULL, SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT */
	int64_t i;
	double r;
	char s[160];
};

static const char *random_customer(struct sim_world *w)
{
	for (int tries = 0; tries < 8 && w->nrows > 0; tries++) {
		const struct sim_rowref *rr = &w->rows[sim_rng_below(&w->rng, w->nrows)];

		if (rr->table == 0)
			return rr->id;
	}
	return NULL;
}

static void gen_value(struct sim_world *w, int t, int c, struct sim_value *v)
{
	const struct schema_column *col = &schema_tables[t].cols[c];
	struct sim_rng *g = &w->rng;
	const char *cust;
	size_t n;

	v->type = SQLITE_TEXT;
	v->s[0] = '\0';
	if (strcmp(col->name, "deleted") == 0) {
		v->type = SQLITE_INTEGER;
		v->i = (int64_t)sim_rng_below(g, 2);
		return;
	}
	if (!(col->flags & (SCOL_REQUIRED | SCOL_PARENT)) && sim_rng_chance(g, 80)) {
		v->type = SQLITE_NULL;
		return;
	}
	switch (col->type) {
	case SCOL_ENUM:
		for (n = 0; col->values[n]; n++)
			;
		snprintf(v->s, sizeof v->s, "%s", col->values[sim_rng_below(g, n)]);
		break;
	case SCOL_PHONE:
		snprintf(v->s, sizeof v->s, "+86138%08u", (unsigned)sim_rng_below(g, 100000000));
		break;
	case SCOL_EMAIL:
		snprintf(v->s, sizeof v->s, "u%u@example.com", (unsigned)sim_rng_below(g, 100000));
		break;
	case SCOL_USCC:
		snprintf(v->s, sizeof v->s, "91440300%09uX", (unsigned)sim_rng_below(g, 1000000000));
		break;
	case SCOL_IDNUM:
		snprintf(v->s, sizeof v->s, "1101011990%04u%04u", (unsigned)sim_rng_below(g, 10000),
			 (unsigned)sim_rng_below(g, 10000));
		break;
	case SCOL_DATE:
		snprintf(v->s, sizeof v->s, "2026-%02u-%02u", (unsigned)sim_rng_range(g, 1, 12),
			 (unsigned)sim_rng_range(g, 1, 28));
		break;
	case SCOL_TIME:
		v->type = SQLITE_INTEGER;
		v->i = w->now + sim_rng_range(g, -86400000LL * 30, 86400000LL * 30);
		break;
	case SCOL_INT:
	case SCOL_BOOL:
		v->type = SQLITE_INTEGER;
		v->i = sim_rng_range(g, col->min, col->max);
		break;
	case SCOL_REAL:
		v->type = SQLITE_FLOAT;
		v->r = (double)col->min +
		       (double)(col->max - col->min) * ((double)(sim_rng_next(g) >> 11) * 0x1.0p-53);
		break;
	case SCOL_MONEY:
		v->type = SQLITE_INTEGER;
		/* Past 2^53 sometimes: 64-bit integers must not go through a double;
		 * and 16 digits below it, where printing "%.15g" loses the last one. */
		if (sim_rng_chance(g, 200))
			v->i = sim_rng_range(g, -(1LL << 62), 1LL << 62);
		else if (sim_rng_chance(g, 100))
			v->i = sim_rng_range(g, 1000000000000000LL, 1LL << 53);
		else
			v->i = sim_rng_range(g, 0, 1000000000);
		break;
	case SCOL_CURRENCY:
		snprintf(v->s, sizeof v->s, "%s", currencies[sim_rng_below(g, 4)]);
		break;
	case SCOL_ID:
		cust = random_customer(w);
		if (!cust)
			v->type = SQLITE_NULL;
		else
			snprintf(v->s, sizeof v->s, "%s", cust);
		break;
	case SCOL_TEXT:
	default:
		snprintf(v->s, sizeof v->s, "%s #%u", words[sim_rng_below(g, sizeof words / sizeof words[0])],
			 (unsigned)sim_rng_below(g, 1000));
		break;
	}
}

static int bind_value(sqlite3_stmt *st, int idx, const struct sim_value *v)
{
	switch (v->type) {
	case SQLITE_INTEGER:
		return sqlite3_bind_int64(st, idx, v->i);
	case SQLITE_FLOAT:
		return sqlite3_bind_double(st, idx, v->r);
	case SQLITE_TEXT:
		return sqlite3_bind_text(st, idx, v->s, -1, SQLITE_TRANSIENT);
	default:
		return sqlite3_bind_null(st, idx);
	}
}

static void random_id(struct sim_world *w, char out[37])
{
	uint64_t a = sim_rng_next(&w->rng), b = sim_rng_next(&w->rng);
	uint64_t ms = (uint64_t)w->now & 0xffffffffffffULL;

	snprintf(out, 37, "%08llx-%04llx-7%03llx-%04llx-%012llx", (unsigned long long)(ms >> 16),
		 (unsigned long long)(ms & 0xffff), (unsigned long long)(a & 0xfff),
		 (unsigned long long)(0x8000 | ((a >> 12) & 0x3fff)),
		 (unsigned long long)(b & 0xffffffffffffULL));
}

/* ---- local operations --------------------------------------------------- */

static bool row_exists(struct sim_world *w, unsigned r, int t, const char *id, bool *yes)
{
	sqlite3_stmt *st = NULL;
	char sql[128];
	int rc;

	snprintf(sql, sizeof sql, "SELECT 1 FROM \"%s\" WHERE id = ?", schema_tables[t].name);
	if (sqlite3_prepare_v2(w->nodes[r].db, sql, -1, &st, NULL) != SQLITE_OK)
		return sim_fail(w, "r%u: %s: %s", r, sql, sqlite3_errmsg(w->nodes[r].db));
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*yes = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sim_fail(w, "r%u: %s failed", r, sql);
	return true;
}

#define HOT_ROWS 4
#define HOT_COLS 6

/*
 * A random row replica r holds, or NULL. A third of the picks go to the
 * first few rows ever made (hot rows everyone has), so the same fields are
 * edited again and again from several sides: concurrent edits, edits of
 * edits, and stale messages about fields that have moved on since.
 */
static const struct sim_rowref *pick_row(struct sim_world *w, unsigned r)
{
	for (int tries = 0; tries < 6 && w->nrows > 0; tries++) {
		uint64_t span = sim_rng_chance(&w->rng, 333) && w->nrows > HOT_ROWS ? HOT_ROWS : w->nrows;
		const struct sim_rowref *rr = &w->rows[sim_rng_below(&w->rng, span)];
		bool yes = false;

		if (!row_exists(w, r, rr->table, rr->id, &yes))
			return NULL;
		if (yes)
			return rr;
	}
	return NULL;
}

static bool editable(int t, int c)
{
	const char *name = schema_tables[t].cols[c].name;

	return strcmp(name, "id") != 0 && strcmp(name, "created_at") != 0 &&
	       strcmp(name, "updated_at") != 0;
}

/* A random column of table t, half the time one of its first few (hot ones). */
static int random_col(struct sim_world *w, int t)
{
	size_t n = schema_tables[t].ncols;

	if (n > HOT_COLS && sim_rng_chance(&w->rng, 500))
		n = HOT_COLS;
	return (int)sim_rng_below(&w->rng, n);
}

static bool op_insert(struct sim_world *w, unsigned r)
{
	struct sim_node *n = &w->nodes[r];
	const char *cust = random_customer(w);
	int t = (!cust || sim_rng_chance(&w->rng, 400)) ? 0 : (int)sim_rng_range(&w->rng, 1, (int64_t)schema_tables_count - 1);
	const struct schema_table *tab = &schema_tables[t];
	struct sync_changeset before, after;
	struct sim_value vals[32];
	int cols[32];
	int nc = 0;
	struct crm_buf sql;
	sqlite3_stmt *st = NULL;
	struct sim_rowref rr;
	bool ok = false;
	int idx = 1;

	sync_changeset_init(&before);
	sync_changeset_init(&after);
	crm_buf_init(&sql, 8192);
	rr.table = t;
	random_id(w, rr.id);
	for (size_t c = 0; c < tab->ncols && nc < 32; c++) {
		const struct schema_column *col = &tab->cols[c];

		if (!editable(t, (int)c) || strcmp(col->name, "deleted") == 0)
			continue;
		if (!(col->flags & (SCOL_REQUIRED | SCOL_PARENT)) && !sim_rng_chance(&w->rng, 500))
			continue;
		cols[nc] = (int)c;
		gen_value(w, t, (int)c, &vals[nc]);
		if (col->flags & SCOL_PARENT) {
			vals[nc].type = SQLITE_TEXT;
			snprintf(vals[nc].s, sizeof vals[nc].s, "%s", cust ? cust : rr.id);
		}
		nc++;
	}
	crm_buf_addf(&sql, "INSERT INTO \"%s\" (id, created_at, updated_at", tab->name);
	for (int k = 0; k < nc; k++)
		crm_buf_addf(&sql, ", \"%s\"", tab->cols[cols[k]].name);
	crm_buf_addstr(&sql, ") VALUES (?, ?, ?");
	for (int k = 0; k < nc; k++)
		crm_buf_addstr(&sql, ", ?");
	if (crm_buf_addstr(&sql, ")") != CRM_OK) {
		sim_fail(w, "SQL too long");
		goto out;
	}
	if (sqlite3_prepare_v2(n->db, sql.data, -1, &st, NULL) != SQLITE_OK) {
		sim_fail(w, "r%u: %s: %s", r, sql.data, sqlite3_errmsg(n->db));
		goto out;
	}
	sqlite3_bind_text(st, idx++, rr.id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, idx++, w->now + n->skew_ms);
	sqlite3_bind_int64(st, idx++, w->now + n->skew_ms);
	for (int k = 0; k < nc; k++)
		bind_value(st, idx++, &vals[k]);
	sim_node_clock(w, r);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sim_fail(w, "r%u: insert into %s: %s", r, tab->name, sqlite3_errmsg(n->db));
		goto out;
	}
	if (!snapshot(w, r, t, rr.id, &after))
		goto out;
	if (after.nfields == 0) {
		sim_fail(w, "r%u: insert into %s %s was not captured", r, tab->name, rr.id);
		goto out;
	}
	if (!record_edit(w, r, t, rr.id, &before, &after))
		goto out;
	if (w->nrows == w->caprows) {
		size_t cap = w->caprows ? w->caprows * 2 : 256;
		struct sim_rowref *nr = realloc(w->rows, cap * sizeof *nr);

		if (!nr) {
			sim_fail(w, "out of memory");
			goto out;
		}
		w->rows = nr;
		w->caprows = cap;
	}
	w->rows[w->nrows++] = rr;
	w->st->inserts++;
	ok = true;
out:
	sqlite3_finalize(st);
	crm_buf_release(&sql);
	sync_changeset_release(&before);
	sync_changeset_release(&after);
	return ok;
}

/*
 * Edits row (t, id) on replica r: forced_col (>= 0) set to forced (if not
 * NULL) or a random value, else 1 to 3 random columns; updated_at always, as
 * the app does.
 */
static bool op_edit(struct sim_world *w, unsigned r, int t, const char *id, int forced_col,
		    const struct sim_value *forced)
{
	struct sim_node *n = &w->nodes[r];
	const struct schema_table *tab = &schema_tables[t];
	struct sync_changeset before, after;
	struct sim_value vals[4];
	int cols[4];
	int nc = 0, want;
	struct crm_buf sql;
	sqlite3_stmt *st = NULL;
	bool ok = false;
	int idx = 1;

	sync_changeset_init(&before);
	sync_changeset_init(&after);
	crm_buf_init(&sql, 8192);
	if (forced_col >= 0) {
		cols[nc] = forced_col;
		if (forced)
			vals[nc] = *forced;
		else
			gen_value(w, t, forced_col, &vals[nc]);
		nc++;
	} else {
		want = (int)sim_rng_range(&w->rng, 1, 3);
		for (int tries = 0; tries < 12 && nc < want; tries++) {
			int c = random_col(w, t);
			bool seen = false;

			if (!editable(t, c))
				continue;
			for (int k = 0; k < nc; k++)
				seen = seen || cols[k] == c;
			if (seen)
				continue;
			cols[nc] = c;
			gen_value(w, t, c, &vals[nc]);
			nc++;
		}
	}
	crm_buf_addf(&sql, "UPDATE \"%s\" SET updated_at = ?", tab->name);
	for (int k = 0; k < nc; k++)
		crm_buf_addf(&sql, ", \"%s\" = ?", tab->cols[cols[k]].name);
	if (crm_buf_addstr(&sql, " WHERE id = ?") != CRM_OK) {
		sim_fail(w, "SQL too long");
		goto out;
	}
	if (!snapshot(w, r, t, id, &before))
		goto out;
	if (sqlite3_prepare_v2(n->db, sql.data, -1, &st, NULL) != SQLITE_OK) {
		sim_fail(w, "r%u: %s: %s", r, sql.data, sqlite3_errmsg(n->db));
		goto out;
	}
	sqlite3_bind_int64(st, idx++, w->now + n->skew_ms);
	for (int k = 0; k < nc; k++)
		bind_value(st, idx++, &vals[k]);
	sqlite3_bind_text(st, idx, id, -1, SQLITE_STATIC);
	sim_node_clock(w, r);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sim_fail(w, "r%u: update %s %s: %s", r, tab->name, id, sqlite3_errmsg(n->db));
		goto out;
	}
	if (sqlite3_changes(n->db) != 1) {
		sim_fail(w, "r%u: update %s %s changed %d rows", r, tab->name, id, sqlite3_changes(n->db));
		goto out;
	}
	if (!snapshot(w, r, t, id, &after))
		goto out;
	if (!record_edit(w, r, t, id, &before, &after))
		goto out;
	w->st->edits++;
	ok = true;
out:
	sqlite3_finalize(st);
	crm_buf_release(&sql);
	sync_changeset_release(&before);
	sync_changeset_release(&after);
	return ok;
}

/* The same field of one row edited on two replicas before either syncs. */
static bool op_concurrent(struct sim_world *w)
{
	unsigned a, b;
	const struct sim_rowref *rr;
	bool yes = false;
	int c;

	if (w->nrep < 2)
		return true;
	a = (unsigned)sim_rng_below(&w->rng, w->nrep);
	b = (unsigned)sim_rng_below(&w->rng, w->nrep - 1);
	if (b >= a)
		b++;
	rr = pick_row(w, a);
	if (!rr)
		return !w->failed;
	if (!row_exists(w, b, rr->table, rr->id, &yes))
		return false;
	if (!yes)
		return true;
	do {
		c = random_col(w, rr->table);
	} while (!editable(rr->table, c));
	if (!op_edit(w, a, rr->table, rr->id, c, NULL))
		return false;
	/* Often in the very same millisecond: HLC ties are broken by site. */
	if (!sim_rng_chance(&w->rng, 500))
		w->now += sim_rng_range(&w->rng, 0, 20);
	if (!op_edit(w, b, rr->table, rr->id, c, NULL))
		return false;
	w->st->concurrent++;
	return true;
}

static bool op_delete(struct sim_world *w, unsigned r, bool undelete)
{
	const struct sim_rowref *rr = pick_row(w, r);
	struct sim_value v;

	if (!rr)
		return !w->failed;
	memset(&v, 0, sizeof v);
	v.type = SQLITE_INTEGER;
	v.i = undelete ? 0 : 1;
	if (undelete)
		w->st->undeletes++;
	else
		w->st->deletes++;
	return op_edit(w, r, rr->table, rr->id, sim_col_index(rr->table, "deleted"), &v);
}

/* A hard DELETE on a replicated table must be refused and change nothing. */
static bool op_hard_delete(struct sim_world *w, unsigned r)
{
	const struct sim_rowref *rr = pick_row(w, r);
	sqlite3_stmt *st = NULL;
	char sql[128];
	bool yes = false;
	int rc;

	if (!rr)
		return !w->failed;
	snprintf(sql, sizeof sql, "DELETE FROM \"%s\" WHERE id = ?", schema_tables[rr->table].name);
	if (sqlite3_prepare_v2(w->nodes[r].db, sql, -1, &st, NULL) != SQLITE_OK)
		return sim_fail(w, "r%u: %s: %s", r, sql, sqlite3_errmsg(w->nodes[r].db));
	sqlite3_bind_text(st, 1, rr->id, -1, SQLITE_STATIC);
	sim_node_clock(w, r);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return sim_fail(w, "r%u: a hard DELETE of %s %s was not refused", r,
				schema_tables[rr->table].name, rr->id);
	if (!row_exists(w, r, rr->table, rr->id, &yes))
		return false;
	if (!yes)
		return sim_fail(w, "r%u: refused hard DELETE still removed %s %s", r,
				schema_tables[rr->table].name, rr->id);
	return true;
}

/* Resolves one of replica r's open conflicts, keeping the loser half the time. */
static bool op_resolve(struct sim_world *w, unsigned r)
{
	struct sim_node *n = &w->nodes[r];
	struct sync_conflict *list = NULL;
	size_t nl = 0;
	struct crm_error err;
	struct sync_changeset before, after;
	const struct sync_conflict *c;
	bool ok = false;
	int t;

	sync_changeset_init(&before);
	sync_changeset_init(&after);
	if (sync_conflicts_list(n->s, false, &list, &nl, &err) != CRM_OK) {
		sim_fail(w, "r%u: sync_conflicts_list: %s", r, err.msg);
		goto out;
	}
	if (nl == 0) {
		ok = true;
		goto out;
	}
	c = &list[sim_rng_below(&w->rng, nl)];
	t = sim_table_index(c->table);
	if (t < 0) {
		sim_fail(w, "r%u: conflict %s names unknown table %s", r, c->id, c->table);
		goto out;
	}
	if (!snapshot(w, r, t, c->row_id, &before))
		goto out;
	sim_node_clock(w, r);
	if (sync_conflict_resolve(n->s, c->id, sim_rng_chance(&w->rng, 500), &err) != CRM_OK) {
		sim_fail(w, "r%u: sync_conflict_resolve %s: %s", r, c->id, err.msg);
		goto out;
	}
	if (!snapshot(w, r, t, c->row_id, &after))
		goto out;
	if (!record_edit(w, r, t, c->row_id, &before, &after))
		goto out;
	w->st->resolves++;
	ok = true;
out:
	sync_conflicts_release(list, nl);
	sync_changeset_release(&before);
	sync_changeset_release(&after);
	return ok;
}

bool sim_local_op(struct sim_world *w)
{
	unsigned r = (unsigned)sim_rng_below(&w->rng, w->nrep);
	uint64_t roll = sim_rng_below(&w->rng, 100);
	const struct sim_rowref *rr;

	w->st->ops++;
	if (roll < 20 || w->nrows == 0)
		return op_insert(w, r);
	if (roll < 62) {
		rr = pick_row(w, r);
		if (!rr)
			return w->failed ? false : op_insert(w, r);
		return op_edit(w, r, rr->table, rr->id, -1, NULL);
	}
	if (roll < 78)
		return op_concurrent(w);
	if (roll < 86)
		return op_delete(w, r, false);
	if (roll < 93)
		return op_delete(w, r, true);
	if (roll < 98)
		return op_resolve(w, r);
	return op_hard_delete(w, r);
}
