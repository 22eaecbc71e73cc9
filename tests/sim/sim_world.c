/*
 * sim_world: the simulated world of one seed.
 *
 * Replicas and the hub are real SQLite files migrated with the project's
 * schema and opened with sync_open(). Local operations are ordinary SQL on a
 * replica (capture is the triggers' job); after each one the row is
 * snapshotted and every new field version goes into the model with the
 * version it replaced as its parent. A sync round is one request (the
 * replica's outbox batch and pull cursor) and one response (receipt, page,
 * next cursor, more), both through the real codec: JSON, deflate, inflate,
 * JSON again. The network loses, duplicates and reorders messages; replicas
 * crash between applying a page and saving its cursor, or when idle; the
 * hub restarts. A replica accepts a page only if it starts at its cursor.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crm_buf.h"
#include "crm_time.h"
#include "migrate.h"
#include "sim.h"
#include "tables.h"

#define MSG_MAX (64u * 1024u * 1024u)
#define INFLATE_RATIO 1000u
#define CURSOR_KEY "sim.cursor"

/* Fault rates, per mille. */
#define P_DROP 80
#define P_DUP 70
#define P_CRASH_APPLY 60

bool sim_fail(struct sim_world *w, const char *fmt, ...)
{
	va_list ap;

	if (!w->failed) {
		va_start(ap, fmt);
		vsnprintf(w->why, sizeof w->why, fmt, ap);
		va_end(ap);
		w->failed = true;
	}
	return false;
}

/* ---- schema helpers ---------------------------------------------------- */

static const char *const quiet_cols[] = {"updated_at", NULL};
static struct sync_table_spec specs[16];

const struct sync_table_spec *sim_table_specs(size_t *n)
{
	for (size_t i = 0; i < schema_tables_count && i < 16; i++) {
		specs[i].name = schema_tables[i].name;
		specs[i].quiet = quiet_cols;
	}
	*n = schema_tables_count < 16 ? schema_tables_count : 16;
	return specs;
}

int sim_table_index(const char *name)
{
	for (size_t i = 0; i < schema_tables_count; i++)
		if (strcmp(schema_tables[i].name, name) == 0)
			return (int)i;
	return -1;
}

int sim_col_index(int t, const char *col)
{
	const struct schema_table *tab = &schema_tables[t];

	for (size_t i = 0; i < tab->ncols; i++)
		if (strcmp(tab->cols[i].name, col) == 0)
			return (int)i;
	return -1;
}

int sim_site_index(const struct sim_world *w, const char *site)
{
	for (unsigned i = 0; i <= w->nrep; i++)
		if (strcmp(w->nodes[i].site, site) == 0)
			return (int)i;
	return SIM_NO_SITE;
}

void sim_node_clock(struct sim_world *w, unsigned i)
{
	sim_clock_set(w->now + w->nodes[i].skew_ms);
}

static const char *node_name(const struct sim_world *w, unsigned i, char buf[16])
{
	if (i == w->nrep)
		snprintf(buf, 16, "hub");
	else
		snprintf(buf, 16, "r%u", i);
	return buf;
}

/* ---- opening, closing, restarting --------------------------------------- */

static bool exec_sql(struct sim_world *w, unsigned i, const char *sql)
{
	char *msg = NULL;
	char nb[16];

	if (sqlite3_exec(w->nodes[i].db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		sim_fail(w, "%s: %s: %s", node_name(w, i, nb), sql, msg ? msg : "?");
		sqlite3_free(msg);
		return false;
	}
	return true;
}

static bool node_open(struct sim_world *w, unsigned i)
{
	struct sim_node *n = &w->nodes[i];
	struct crm_error err;
	const struct sync_table_spec *sp;
	size_t nsp;
	char nb[16];

	if (sqlite3_open_v2(n->path, &n->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK)
		return sim_fail(w, "%s: cannot open %s", node_name(w, i, nb), n->path);
	if (!exec_sql(w, i, "PRAGMA synchronous=OFF; PRAGMA journal_mode=MEMORY;"))
		return false;
	if (schema_migrate(n->db, NULL, &err) != CRM_OK)
		return sim_fail(w, "%s: schema_migrate: %s", node_name(w, i, nb), err.msg);
	sp = sim_table_specs(&nsp);
	if (sync_open(n->db, sp, nsp, NULL, &n->s, &err) != CRM_OK) {
		n->s = NULL;
		return sim_fail(w, "%s: sync_open: %s", node_name(w, i, nb), err.msg);
	}
	snprintf(n->site, sizeof n->site, "%s", sync_site_id(n->s));
	return true;
}

static void node_close(struct sim_node *n)
{
	if (n->s)
		sync_close(n->s);
	n->s = NULL;
	if (n->db)
		sqlite3_close_v2(n->db);
	n->db = NULL;
}

/*
 * A process restart: the connection goes away (an open transaction with it,
 * as a crash would roll it back) and the database is opened again the way the
 * app does. The HLC must come back above everything committed before.
 */
static bool node_restart(struct sim_world *w, unsigned i)
{
	struct sim_node *n = &w->nodes[i];
	char site[37];
	sync_hlc h;
	char nb[16], a[SYNC_HLC_STR_MAX], b[SYNC_HLC_STR_MAX];

	snprintf(site, sizeof site, "%s", n->site);
	node_close(n);
	n->gen++;
	if (i == w->nrep)
		w->st->hub_restarts++;
	else
		w->st->restarts++;
	sim_node_clock(w, i);
	if (!node_open(w, i))
		return false;
	if (strcmp(site, n->site) != 0)
		return sim_fail(w, "%s: site id changed across a restart (%s -> %s)",
				node_name(w, i, nb), site, n->site);
	h = sync_hlc_next(n->s);
	if (h <= n->max_hlc) {
		sync_hlc_format(h, a);
		sync_hlc_format(n->max_hlc, b);
		return sim_fail(w, "%s: HLC went backwards across a restart: next %s <= committed %s",
				node_name(w, i, nb), a, b);
	}
	return true;
}

/* ---- snapshots and the model ------------------------------------------- */

static bool snapshot(struct sim_world *w, unsigned i, int t, const char *id,
		     struct sync_changeset *cs)
{
	struct crm_error err;
	enum crm_err rc;
	char nb[16];

	sync_changeset_init(cs);
	rc = sync_row_snapshot(w->nodes[i].s, schema_tables[t].name, id, cs, &err);
	if (rc == CRM_ENOTFOUND) {
		sync_changeset_release(cs);
		sync_changeset_init(cs);
		return true;
	}
	if (rc != CRM_OK)
		return sim_fail(w, "%s: sync_row_snapshot %s/%s: %s", node_name(w, i, nb),
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
		/* Past 2^53 sometimes: 64-bit integers must not go through a double. */
		if (sim_rng_chance(g, 250))
			v->i = sim_rng_range(g, -(1LL << 62), 1LL << 62);
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

/* A random row replica r holds, or NULL. */
static const struct sim_rowref *pick_row(struct sim_world *w, unsigned r)
{
	for (int tries = 0; tries < 6 && w->nrows > 0; tries++) {
		const struct sim_rowref *rr = &w->rows[sim_rng_below(&w->rng, w->nrows)];
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
			int c = (int)sim_rng_below(&w->rng, tab->ncols);
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
		c = (int)sim_rng_below(&w->rng, schema_tables[rr->table].ncols);
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

static bool local_op(struct sim_world *w)
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

/* ---- the network ----------------------------------------------------------- */

static bool encode(struct sim_world *w, cJSON *j, unsigned char **data, size_t *len)
{
	char *text = cJSON_PrintUnformatted(j);
	struct crm_buf z;
	struct crm_error err;
	bool ok = false;

	crm_buf_init(&z, MSG_MAX);
	if (!text) {
		sim_fail(w, "cJSON_PrintUnformatted failed");
		goto out;
	}
	if (sync_deflate(text, strlen(text), &z, &err) != CRM_OK) {
		sim_fail(w, "sync_deflate: %s", err.msg);
		goto out;
	}
	*data = (unsigned char *)crm_buf_detach(&z, len);
	ok = *data != NULL;
	if (!ok)
		sim_fail(w, "out of memory");
out:
	cJSON_free(text);
	crm_buf_release(&z);
	return ok;
}

static cJSON *decode(struct sim_world *w, const unsigned char *data, size_t len)
{
	struct crm_buf z;
	struct crm_error err;
	cJSON *j = NULL;

	crm_buf_init(&z, MSG_MAX);
	if (sync_inflate(data, len, MSG_MAX, INFLATE_RATIO, &z, &err) != CRM_OK) {
		sim_fail(w, "sync_inflate: %s", err.msg);
		goto out;
	}
	j = cJSON_ParseWithLength(z.data, z.len);
	if (!j)
		sim_fail(w, "a message does not parse as JSON after the round trip");
out:
	crm_buf_release(&z);
	return j;
}

/* How long a message lingers: mostly not at all, sometimes long (a slow
 * path, a retry queue), so old messages arrive after newer ones. */
static uint64_t random_delay(struct sim_world *w)
{
	uint64_t roll;

	if (!w->faults)
		return 0;
	roll = sim_rng_below(&w->rng, 100);
	if (roll < 70)
		return 0;
	if (roll < 92)
		return sim_rng_below(&w->rng, 10);
	return sim_rng_below(&w->rng, 200);
}

size_t sim_pick_ready(struct sim_world *w)
{
	size_t nready = 0, k;

	for (size_t i = 0; i < w->nnet; i++)
		nready += w->net[i].ready <= w->stepno;
	if (nready == 0)
		return SIZE_MAX;
	k = (size_t)sim_rng_below(&w->rng, nready);
	for (size_t i = 0; i < w->nnet; i++)
		if (w->net[i].ready <= w->stepno && k-- == 0)
			return i;
	return SIZE_MAX;
}

static bool net_add(struct sim_world *w, const struct sim_msg *m)
{
	if (w->nnet == w->capnet) {
		size_t cap = w->capnet ? w->capnet * 2 : 32;
		struct sim_msg *nn = realloc(w->net, cap * sizeof *nn);

		if (!nn)
			return sim_fail(w, "out of memory");
		w->net = nn;
		w->capnet = cap;
	}
	w->net[w->nnet] = *m;
	w->net[w->nnet].ready = w->stepno + random_delay(w);
	w->nnet++;
	return true;
}

/* Puts a message on the wire (takes data): maybe lost, maybe twice. */
static bool net_send(struct sim_world *w, struct sim_msg *m)
{
	struct sim_msg copy;

	if (w->faults && sim_rng_chance(&w->rng, P_DROP)) {
		w->st->dropped++;
		free(m->data);
		return true;
	}
	if (w->faults && sim_rng_chance(&w->rng, P_DUP)) {
		copy = *m;
		copy.data = malloc(m->len ? m->len : 1);
		if (!copy.data) {
			free(m->data);
			return sim_fail(w, "out of memory");
		}
		memcpy(copy.data, m->data, m->len);
		if (!net_add(w, &copy)) {
			free(copy.data);
			free(m->data);
			return false;
		}
		w->st->duplicated++;
	}
	if (!net_add(w, m)) {
		free(m->data);
		return false;
	}
	return true;
}

static bool get_i64(struct sim_world *w, const cJSON *j, const char *key, int64_t *out)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, key);
	char *end;
	long long v;

	if (!cJSON_IsString(x) || !x->valuestring[0])
		return sim_fail(w, "message field %s missing", key);
	v = strtoll(x->valuestring, &end, 10);
	if (*end != '\0')
		return sim_fail(w, "message field %s is not a number: %s", key, x->valuestring);
	*out = (int64_t)v;
	return true;
}

static bool add_i64(cJSON *j, const char *key, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%lld", (long long)v);
	return cJSON_AddStringToObject(j, key, buf) != NULL;
}

static bool get_cursor(struct sim_world *w, unsigned r, int64_t *cursor)
{
	struct crm_error err;
	char *text = NULL;
	char *end;
	enum crm_err rc = sync_state_get(w->nodes[r].s, CURSOR_KEY, &text, &err);

	*cursor = 0;
	if (rc == CRM_ENOTFOUND)
		return true;
	if (rc != CRM_OK)
		return sim_fail(w, "r%u: sync_state_get: %s", r, err.msg);
	*cursor = (int64_t)strtoll(text, &end, 10);
	if (*end != '\0') {
		sim_fail(w, "r%u: saved cursor is not a number: %s", r, text);
		free(text);
		return false;
	}
	free(text);
	return true;
}

static bool new_req(struct sim_world *w, unsigned r, size_t *idx)
{
	if (w->nreqs == w->capreqs) {
		size_t cap = w->capreqs ? w->capreqs * 2 : 64;
		struct sim_req *nr = realloc(w->reqs, cap * sizeof *nr);

		if (!nr)
			return sim_fail(w, "out of memory");
		w->reqs = nr;
		w->capreqs = cap;
	}
	memset(&w->reqs[w->nreqs], 0, sizeof w->reqs[w->nreqs]);
	w->reqs[w->nreqs].replica = r;
	*idx = w->nreqs++;
	return true;
}

/* Maps every field of an outbox batch to its model version. */
static bool req_versions(struct sim_world *w, struct sim_req *q, const struct sync_changeset *cs)
{
	char a[SYNC_HLC_STR_MAX];

	q->vers = calloc(cs->nfields ? cs->nfields : 1, sizeof *q->vers);
	if (!q->vers)
		return sim_fail(w, "out of memory");
	for (size_t ri = 0; ri < cs->nrows; ri++) {
		const struct sync_row *row = &cs->rows[ri];
		int t = sim_table_index(row->table);

		if (t < 0)
			return sim_fail(w, "r%u: outbox names unknown table %s", q->replica, row->table);
		for (size_t fi = 0; fi < row->nfields; fi++) {
			const struct sync_field *f = &row->fields[fi];
			int c = sim_col_index(t, f->col);
			int site = sim_site_index(w, f->site);
			size_t v;

			if (c < 0)
				return sim_fail(w, "r%u: outbox names unknown column %s.%s", q->replica,
						row->table, f->col);
			v = sim_model_find(&w->model, t, row->id, c, f->hlc, site);
			if (v == SIZE_MAX) {
				sync_hlc_format(f->hlc, a);
				return sim_fail(w, "r%u: outbox sends %s/%s.%s at %s from %s, a version "
						"no local edit made", q->replica, row->table, row->id,
						f->col, a, f->site);
			}
			if (site != (int)q->replica)
				return sim_fail(w, "r%u: outbox sends %s/%s.%s written by another site (%s)",
						q->replica, row->table, row->id, f->col, f->site);
			if (q->nvers < cs->nfields)
				q->vers[q->nvers++] = v;
		}
	}
	return true;
}

bool sim_send_request(struct sim_world *w, unsigned r)
{
	struct sim_node *n = &w->nodes[r];
	struct sync_changeset cs;
	struct crm_error err;
	int64_t upto = 0, cursor = 0;
	bool more = false, ok = false;
	size_t qi;
	cJSON *j = NULL, *push;
	struct sim_msg m;
	size_t max = (size_t)sim_rng_range(&w->rng, 1, 40);

	sync_changeset_init(&cs);
	sim_node_clock(w, r);
	if (sync_outbox(n->s, max, &cs, &upto, &more, &err) != CRM_OK) {
		sim_fail(w, "r%u: sync_outbox: %s", r, err.msg);
		goto out;
	}
	if (!get_cursor(w, r, &cursor) || !new_req(w, r, &qi))
		goto out;
	w->reqs[qi].upto = upto;
	w->reqs[qi].has_push = cs.nfields > 0;
	if (!req_versions(w, &w->reqs[qi], &cs))
		goto out;
	j = cJSON_CreateObject();
	push = sync_changeset_to_json(&cs);
	if (!j || !push) {
		cJSON_Delete(push);
		sim_fail(w, "out of memory");
		goto out;
	}
	cJSON_AddItemToObject(j, "push", push);
	if (!cJSON_AddStringToObject(j, "site", n->site) || !add_i64(j, "cursor", cursor) ||
	    !add_i64(j, "upto", upto)) {
		sim_fail(w, "out of memory");
		goto out;
	}
	memset(&m, 0, sizeof m);
	m.kind = SIM_REQ;
	m.node = r;
	m.gen = n->gen;
	m.req = qi;
	if (!encode(w, j, &m.data, &m.len))
		goto out;
	w->st->requests++;
	ok = net_send(w, &m);
out:
	cJSON_Delete(j);
	sync_changeset_release(&cs);
	return ok;
}

static sync_hlc max_hlc_of(const struct sync_changeset *cs)
{
	sync_hlc h = 0;

	for (size_t r = 0; r < cs->nrows; r++)
		for (size_t f = 0; f < cs->rows[r].nfields; f++)
			if (cs->rows[r].fields[f].hlc > h)
				h = cs->rows[r].fields[f].hlc;
	return h;
}

static bool check_refused(struct sim_world *w, const char *who, struct sync_apply_result *res)
{
	if (res->nrefused == 0)
		return true;
	return sim_fail(w, "%s: sync_apply refused %zu fields, first %s/%s.%s: %s", who,
			res->nrefused, res->refused[0].table, res->refused[0].id,
			res->refused[0].col, res->refused[0].reason ? res->refused[0].reason : "?");
}

/* The hub: applies the push, answers with receipt and a page of the feed. */
static bool hub_handle(struct sim_world *w, const struct sim_msg *msg)
{
	struct sim_node *hub = SIM_HUB(w);
	struct sim_req *q = &w->reqs[msg->req];
	struct sync_changeset cs, page;
	struct sync_apply_result res;
	struct crm_error err;
	cJSON *j = NULL, *out = NULL, *pj;
	const cJSON *site, *push;
	int64_t cursor = 0, upto = 0, next = 0;
	bool more = false, ok = false;
	struct sim_msg m;
	sync_hlc h;

	sync_changeset_init(&cs);
	sync_changeset_init(&page);
	memset(&res, 0, sizeof res);
	sim_node_clock(w, w->nrep);
	j = decode(w, msg->data, msg->len);
	if (!j)
		goto out;
	site = cJSON_GetObjectItemCaseSensitive(j, "site");
	push = cJSON_GetObjectItemCaseSensitive(j, "push");
	if (!cJSON_IsString(site) || !push || !get_i64(w, j, "cursor", &cursor) ||
	    !get_i64(w, j, "upto", &upto)) {
		sim_fail(w, "hub: malformed request");
		goto out;
	}
	if (sync_changeset_from_json(push, hub->s, &cs, &err) != CRM_OK) {
		sim_fail(w, "hub: decoding r%u's push: %s", msg->node, err.msg);
		goto out;
	}
	if (cs.nfields != q->nvers) {
		sim_fail(w, "hub: r%u's push has %zu fields after the codec, %zu before", msg->node,
			 cs.nfields, q->nvers);
		goto out;
	}
	if (sync_apply(hub->s, &cs, 0, NULL, NULL, &res, &err) != CRM_OK) {
		sim_fail(w, "hub: sync_apply of r%u's push: %s", msg->node, err.msg);
		goto out;
	}
	if (!check_refused(w, "hub", &res))
		goto out;
	w->st->applied += res.applied;
	for (size_t k = 0; k < q->nvers; k++)
		w->model.v[q->vers[k]].reached = true;
	h = max_hlc_of(&cs);
	if (h > hub->max_hlc)
		hub->max_hlc = h;
	if (sync_feed(hub->s, cursor, (size_t)sim_rng_range(&w->rng, 1, 40), NULL, NULL,
		      site->valuestring, &page, &next, &more, &err) != CRM_OK) {
		sim_fail(w, "hub: sync_feed for r%u from %lld: %s", msg->node, (long long)cursor, err.msg);
		goto out;
	}
	out = cJSON_CreateObject();
	pj = sync_changeset_to_json(&page);
	if (!out || !pj) {
		cJSON_Delete(pj);
		sim_fail(w, "out of memory");
		goto out;
	}
	cJSON_AddItemToObject(out, "page", pj);
	if ((q->has_push && !add_i64(out, "receipt", upto)) || !add_i64(out, "from", cursor) ||
	    !add_i64(out, "next", next) || !cJSON_AddBoolToObject(out, "more", more)) {
		sim_fail(w, "out of memory");
		goto out;
	}
	memset(&m, 0, sizeof m);
	m.kind = SIM_RESP;
	m.node = msg->node;
	m.gen = msg->gen;
	m.req = msg->req;
	if (!encode(w, out, &m.data, &m.len))
		goto out;
	ok = net_send(w, &m);
out:
	cJSON_Delete(j);
	cJSON_Delete(out);
	sync_apply_result_release(&res);
	sync_changeset_release(&cs);
	sync_changeset_release(&page);
	return ok;
}

/*
 * A replica takes a response: the receipt acknowledges its push; the page is
 * applied with its cursor in one transaction, but only if it starts where the
 * replica's cursor stands (an old or repeated response is ignored).
 */
static bool replica_handle(struct sim_world *w, const struct sim_msg *msg)
{
	unsigned r = msg->node;
	struct sim_node *n = &w->nodes[r];
	struct sim_req *q = &w->reqs[msg->req];
	struct sync_changeset page;
	struct sync_apply_result res;
	struct crm_error err;
	cJSON *j = NULL;
	const cJSON *pj;
	int64_t upto = 0, from = 0, next = 0, cursor = 0;
	bool ok = false, in_txn = false;
	char nbuf[24];
	sync_hlc h;

	sync_changeset_init(&page);
	memset(&res, 0, sizeof res);
	if (msg->gen != n->gen) {
		/* The process that asked is gone; nobody is listening. */
		w->st->dropped++;
		return true;
	}
	w->st->responses++;
	sim_node_clock(w, r);
	j = decode(w, msg->data, msg->len);
	if (!j)
		goto out;
	if (cJSON_GetObjectItemCaseSensitive(j, "receipt")) {
		if (!get_i64(w, j, "receipt", &upto))
			goto out;
		if (sync_outbox_ack(n->s, upto, &err) != CRM_OK) {
			sim_fail(w, "r%u: sync_outbox_ack(%lld): %s", r, (long long)upto, err.msg);
			goto out;
		}
		for (size_t k = 0; k < q->nvers; k++) {
			if (!w->model.v[q->vers[k]].acked)
				w->st->acked++;
			w->model.v[q->vers[k]].acked = true;
		}
	}
	pj = cJSON_GetObjectItemCaseSensitive(j, "page");
	if (!pj || !get_i64(w, j, "from", &from) || !get_i64(w, j, "next", &next) ||
	    !get_cursor(w, r, &cursor)) {
		sim_fail(w, "r%u: malformed response", r);
		goto out;
	}
	if (from != cursor) {
		w->st->stale_pages++;
		ok = true;
		goto out;
	}
	if (next < cursor) {
		sim_fail(w, "r%u: page from %lld has next cursor %lld behind it", r, (long long)from,
			 (long long)next);
		goto out;
	}
	if (sync_changeset_from_json(pj, n->s, &page, &err) != CRM_OK) {
		sim_fail(w, "r%u: decoding a page: %s", r, err.msg);
		goto out;
	}
	if (!exec_sql(w, r, "BEGIN IMMEDIATE"))
		goto out;
	in_txn = true;
	if (sync_apply(n->s, &page, SYNC_APPLY_IN_TXN | SYNC_APPLY_FROM_HUB, NULL, NULL, &res, &err) != CRM_OK) {
		sim_fail(w, "r%u: sync_apply of a page: %s", r, err.msg);
		goto out;
	}
	if (!check_refused(w, "replica", &res))
		goto out;
	if (w->faults && sim_rng_chance(&w->rng, P_CRASH_APPLY)) {
		/* Crash after the page, before its cursor: half the time the
		 * connection just dies with the transaction open. */
		w->st->crashes++;
		if (sim_rng_chance(&w->rng, 500) && !exec_sql(w, r, "ROLLBACK"))
			goto out;
		in_txn = false;
		ok = node_restart(w, r);
		goto out;
	}
	snprintf(nbuf, sizeof nbuf, "%lld", (long long)next);
	if (sync_state_set(n->s, CURSOR_KEY, nbuf, &err) != CRM_OK) {
		sim_fail(w, "r%u: sync_state_set: %s", r, err.msg);
		goto out;
	}
	if (!exec_sql(w, r, "COMMIT"))
		goto out;
	in_txn = false;
	h = max_hlc_of(&page);
	if (h > n->max_hlc)
		n->max_hlc = h;
	n->last_more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "more"));
	ok = true;
out:
	if (in_txn)
		sqlite3_exec(n->db, "ROLLBACK", NULL, NULL, NULL);
	cJSON_Delete(j);
	sync_apply_result_release(&res);
	sync_changeset_release(&page);
	return ok;
}

bool sim_deliver(struct sim_world *w, size_t i)
{
	struct sim_msg m = w->net[i];
	bool ok;

	w->net[i] = w->net[--w->nnet];
	if (m.kind == SIM_REQ)
		ok = hub_handle(w, &m);
	else
		ok = replica_handle(w, &m);
	free(m.data);
	return ok;
}

/* ---- one seed ---------------------------------------------------------------- */

static void advance_time(struct sim_world *w)
{
	uint64_t roll = sim_rng_below(&w->rng, 100);

	if (roll < 20)
		return; /* the clock stands still */
	if (roll < 70)
		w->now += sim_rng_range(&w->rng, 1, 50);
	else if (roll < 97)
		w->now += sim_rng_range(&w->rng, 50, 5000);
	else
		w->now += sim_rng_range(&w->rng, 60000, 600000); /* offline a while */
}

/*
 * A replica's clock error: often none (NTP works), so replicas share
 * milliseconds and HLC ties between sites happen; else up to 30 s either way,
 * well inside the 5 minutes sync refuses.
 */
static int64_t random_skew(struct sim_world *w)
{
	if (sim_rng_chance(&w->rng, 400))
		return 0;
	return sim_rng_range(&w->rng, -30000, 30000);
}

static bool step(struct sim_world *w)
{
	uint64_t roll = sim_rng_below(&w->rng, 100);
	unsigned r = (unsigned)sim_rng_below(&w->rng, w->nrep);
	size_t ready = SIZE_MAX;

	w->stepno++;
	advance_time(w);
	if (roll < 50)
		return local_op(w);
	if (roll >= 70 && roll < 94)
		ready = sim_pick_ready(w);
	if (roll < 70 || (roll < 94 && ready == SIZE_MAX))
		return sim_send_request(w, r);
	if (roll < 94)
		return sim_deliver(w, ready);
	if (roll < 96) {
		sim_node_clock(w, r);
		return node_restart(w, r);
	}
	if (roll < 97)
		return node_restart(w, w->nrep);
	/* A clock correction: this laptop's clock jumps, maybe backwards. */
	w->nodes[r].skew_ms = random_skew(w);
	return true;
}

static void remove_db(const char *path)
{
	char p[600];

	unlink(path);
	snprintf(p, sizeof p, "%s-journal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
}

/* 2026-01-01T00:00:00Z; every seed gets its own day, so ids made by
 * crm_id_new() in one seed never lean on the previous seed's clock. */
#define SIM_EPOCH_MS 1767225600000LL

bool sim_run_seed(const struct sim_config *cfg, uint64_t seed, struct sim_stats *st,
		  char *why, size_t whylen)
{
	struct sim_world *w = calloc(1, sizeof *w);
	bool ok = false;

	if (!w) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	w->cfg = cfg;
	w->seed = seed;
	w->st = st;
	w->faults = true;
	w->nrep = cfg->replicas;
	sim_rng_seed(&w->rng, seed);
	sim_random_reseed(seed);
	sim_model_init(&w->model);
	w->now = SIM_EPOCH_MS + (int64_t)(seed % 65536) * 86400000LL;
	w->nodes = calloc(w->nrep + 1, sizeof *w->nodes);
	if (!w->nodes) {
		sim_fail(w, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i <= w->nrep; i++) {
		struct sim_node *n = &w->nodes[i];

		if (i == w->nrep)
			snprintf(n->path, sizeof n->path, "%s/hub.db", cfg->dir);
		else
			snprintf(n->path, sizeof n->path, "%s/r%u.db", cfg->dir, i);
		remove_db(n->path);
		n->skew_ms = i == w->nrep ? 0 : random_skew(w);
		sim_node_clock(w, i);
		if (!node_open(w, i))
			goto out;
	}
	for (unsigned i = 0; i <= w->nrep; i++)
		for (unsigned k = 0; k < i; k++)
			if (strcmp(w->nodes[i].site, w->nodes[k].site) == 0) {
				sim_fail(w, "two databases got the same site id %s", w->nodes[i].site);
				goto out;
			}
	while (st->ops < cfg->ops && !w->failed)
		if (!step(w))
			break;
	if (w->failed)
		goto out;
	if (!sim_quiesce(w))
		goto out;
	ok = sim_check(w);
out:
	if (!ok && !w->failed)
		sim_fail(w, "unknown failure");
	if (!ok)
		snprintf(why, whylen, "%s", w->why);
	for (size_t i = 0; i < w->nnet; i++)
		free(w->net[i].data);
	free(w->net);
	for (size_t i = 0; i < w->nreqs; i++)
		free(w->reqs[i].vers);
	free(w->reqs);
	if (w->nodes) {
		for (unsigned i = 0; i <= w->nrep; i++) {
			node_close(&w->nodes[i]);
			remove_db(w->nodes[i].path);
		}
	}
	free(w->nodes);
	free(w->rows);
	sim_model_release(&w->model);
	free(w);
	return ok;
}
