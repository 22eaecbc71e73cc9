/* Outbox, feed and row snapshots: clock rows in sequence order, grouped by row. */
#include "collect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows already met in this batch: (table, id) -> row index in the change set, or -1 if filtered out. */
struct rowmap_ent {
	char *key;
	long idx;
};

struct rowmap {
	struct rowmap_ent *e;
	size_t cap, n;
};

static uint64_t hash_key(const char *k)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *k; k++) {
		h ^= (unsigned char)*k;
		h *= 1099511628211ULL;
	}
	return h;
}

static void rowmap_release(struct rowmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->e[i].key);
	free(m->e);
	memset(m, 0, sizeof *m);
}

static struct rowmap_ent *rowmap_slot(struct rowmap_ent *e, size_t cap, const char *key)
{
	size_t i = (size_t)(hash_key(key) & (cap - 1));

	while (e[i].key && strcmp(e[i].key, key) != 0)
		i = (i + 1) & (cap - 1);
	return &e[i];
}

/* Finds key, or inserts it with idx -2 ("new"). NULL without memory. */
static struct rowmap_ent *rowmap_get(struct rowmap *m, const char *key)
{
	struct rowmap_ent *slot;

	if ((m->n + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 64;
		struct rowmap_ent *ne = calloc(ncap, sizeof *ne);

		if (!ne)
			return NULL;
		for (size_t i = 0; i < m->cap; i++) {
			if (m->e[i].key)
				*rowmap_slot(ne, ncap, m->e[i].key) = m->e[i];
		}
		free(m->e);
		m->e = ne;
		m->cap = ncap;
	}
	slot = rowmap_slot(m->e, m->cap, key);
	if (!slot->key) {
		slot->key = strdup(key);
		if (!slot->key)
			return NULL;
		slot->idx = -2;
		m->n++;
	}
	return slot;
}

struct collector {
	struct sync_db *s;
	struct sync_changeset *out;
	struct rowmap map;
	sync_row_filter filter;
	void *ctx;
	const char *skip_site;
	struct crm_buf key;
};

/* Copies a site id (36 characters, or fewer) without printf. */
static void site_copy(char out[37], const char *s)
{
	size_t n = s ? strnlen(s, 36) : 0;

	memcpy(out, s ? s : "", n);
	out[n] = '\0';
}

/* Adds a field (value owned by the call: moved into the set, *v left null). */
static enum crm_err add_field(struct sync_changeset *cs, struct sync_row *row, const char *col,
			      struct sync_value *v, sync_hlc hlc, const char *site, sync_hlc bh,
			      const char *bs, struct crm_error *err)
{
	struct sync_field f;
	enum crm_err rc;

	memset(&f, 0, sizeof f);
	f.col = (char *)(uintptr_t)col;
	f.v = *v;
	f.hlc = hlc;
	site_copy(f.site, site);
	f.base_hlc = bh;
	site_copy(f.base_site, bh ? bs : "");
	v->s = NULL;
	v->type = SYNC_NULL;
	rc = sync_row_take_field(cs, row, &f);
	if (rc != CRM_OK)
		return crm_fail(err, rc, "change set");
	return CRM_OK;
}

/*
 * Adds the fields of a "" clock row: every column without a clock row of its
 * own, at the insert's version, with the values now in the table.
 */
static enum crm_err add_whole_row(struct sync_db *s, struct db_table *t, struct sync_changeset *cs,
				  struct sync_row *row, const struct db_clock *whole,
				  const char *skip_site, struct crm_error *err)
{
	struct db_clock *rows = NULL;
	size_t nrows = 0;
	enum crm_err rc;
	sqlite3_stmt *st = t->select_all;
	int step;

	if (skip_site && strcmp(whole->site, skip_site) == 0)
		return CRM_OK;
	rc = db_clock_load(s, t->name, row->id, &rows, &nrows, err);
	if (rc != CRM_OK)
		return rc;
	sqlite3_bind_text(st, 1, row->id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		for (size_t i = 0; i < t->ncols && rc == CRM_OK; i++) {
			const struct db_clock *eff = db_clock_effective(rows, nrows, t->cols[i].name);
			struct sync_value v;

			if (eff && eff->col[0] != '\0')
				continue; /* has its own version */
			if (db_value_from_column(st, (int)i, &v) != CRM_OK) {
				rc = crm_fail(err, CRM_ENOMEM, "value");
				break;
			}
			rc = add_field(cs, row, t->cols[i].name, &v, whole->hlc, whole->site,
				       whole->base_hlc, whole->base_site, err);
		}
	} else if (step != SQLITE_DONE) {
		rc = db_fail(s, err, "read row");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	free(rows);
	return rc;
}

/* Handles one clock row of the walk. */
static enum crm_err collect_one(struct collector *c, const struct db_clock *ck, const char *tbl,
				const char *rid, struct crm_error *err)
{
	struct db_table *t = db_table_find(c->s, tbl);
	struct rowmap_ent *ent;
	struct sync_row *row;
	enum crm_err rc;

	if (!t)
		return CRM_OK; /* no longer replicated */
	/*
	 * The reader's own versions are skipped before anything else (a device
	 * pulling right after its push walks past all it pushed). A whole row of
	 * its own still names the row: its columns versioned since by others
	 * come with their own clock rows.
	 */
	if (c->skip_site && strcmp(ck->site, c->skip_site) == 0)
		return CRM_OK;
	crm_buf_reset(&c->key);
	rc = crm_buf_addstr(&c->key, tbl);
	if (rc == CRM_OK)
		rc = crm_buf_add(&c->key, "\x1f", 1);
	if (rc == CRM_OK)
		rc = crm_buf_addstr(&c->key, rid);
	if (rc != CRM_OK)
		return crm_fail(err, rc, "row key");
	ent = rowmap_get(&c->map, c->key.data);
	if (!ent)
		return crm_fail(err, CRM_ENOMEM, "row map");
	if (ent->idx == -2) {
		if (c->filter && !c->filter(c->ctx, tbl, rid)) {
			ent->idx = -1;
		} else {
			if (!sync_changeset_add_row(c->out, tbl, rid))
				return crm_fail(err, CRM_ENOMEM, "change set");
			ent->idx = (long)c->out->nrows - 1;
		}
	}
	if (ent->idx < 0)
		return CRM_OK;
	row = &c->out->rows[ent->idx];
	if (ck->col[0] == '\0')
		return add_whole_row(c->s, t, c->out, row, ck, c->skip_site, err);
	{
		int ci = db_col_find(t, ck->col);
		struct sync_value v;
		bool found;

		if (ci < 0)
			return CRM_OK; /* column dropped */
		rc = db_col_value(c->s, t, ci, rid, &v, &found, err);
		if (rc != CRM_OK || !found)
			return rc;
		return add_field(c->out, row, ck->col, &v, ck->hlc, ck->site, ck->base_hlc,
				 ck->base_site, err);
	}
}

/*
 * Walks clock rows with seq > from (only site's own if own_site), adding to
 * out until max_fields is reached or scan_max rows were read.
 */
static enum crm_err walk(struct collector *c, int64_t from, const char *own_site,
			 size_t max_fields, size_t scan_max, int64_t *last, bool *more,
			 struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	size_t scanned = 0;
	int step;
	const char *sql = own_site
		? "SELECT tbl, rid, col, hlc, site, seq, base_hlc, base_site FROM sync_clock"
		  " WHERE seq > ?1 AND site = ?2 ORDER BY seq"
		: "SELECT tbl, rid, col, hlc, site, seq, base_hlc, base_site FROM sync_clock"
		  " WHERE seq > ?1 ORDER BY seq";

	*last = from;
	*more = false;
	if (max_fields == 0)
		max_fields = 1;
	if (sqlite3_prepare_v2(c->s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(c->s, err, "read clock");
	sqlite3_bind_int64(st, 1, from);
	if (own_site)
		sqlite3_bind_text(st, 2, own_site, -1, SQLITE_STATIC);
	for (step = sqlite3_step(st); step == SQLITE_ROW; step = sqlite3_step(st)) {
		struct db_clock ck;
		const char *tbl = (const char *)sqlite3_column_text(st, 0);
		const char *rid = (const char *)sqlite3_column_text(st, 1);
		const char *col = (const char *)sqlite3_column_text(st, 2);
		const char *site = (const char *)sqlite3_column_text(st, 4);
		const char *bs = (const char *)sqlite3_column_text(st, 7);

		size_t est = 1;

		if (col && col[0] == '\0' && tbl) {
			const struct db_table *t = db_table_find(c->s, tbl);

			est = t ? t->ncols : 0;
		}
		/* a whole row never splits; a batch passes max_fields only for one huge row */
		if ((c->out->nfields > 0 && c->out->nfields + est > max_fields) || scanned >= scan_max) {
			*more = true;
			break;
		}
		scanned++;
		memset(&ck, 0, sizeof ck);
		if (!tbl || !rid || !col || strlen(col) >= sizeof ck.col) {
			*last = sqlite3_column_int64(st, 5);
			continue;
		}
		memcpy(ck.col, col, strlen(col) + 1);
		ck.hlc = (sync_hlc)sqlite3_column_int64(st, 3);
		site_copy(ck.site, site);
		ck.seq = sqlite3_column_int64(st, 5);
		ck.base_hlc = (sync_hlc)sqlite3_column_int64(st, 6);
		site_copy(ck.base_site, bs);
		rc = collect_one(c, &ck, tbl, rid, err);
		if (rc != CRM_OK)
			goto out;
		*last = ck.seq;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = db_fail(c->s, err, "read clock");
out:
	sqlite3_finalize(st);
	return rc;
}

static void collector_init(struct collector *c, struct sync_db *s, struct sync_changeset *out)
{
	memset(c, 0, sizeof *c);
	c->s = s;
	c->out = out;
	crm_buf_init(&c->key, 1 << 16);
}

static void collector_release(struct collector *c)
{
	rowmap_release(&c->map);
	crm_buf_release(&c->key);
}

/* Drops rows that ended up without fields (every field skipped). */
static void drop_empty_rows(struct sync_changeset *cs)
{
	size_t w = 0;

	for (size_t i = 0; i < cs->nrows; i++) {
		if (cs->rows[i].nfields == 0) {
			free(cs->rows[i].fields);
			free(cs->rows[i].table);
			free(cs->rows[i].id);
			continue;
		}
		cs->rows[w++] = cs->rows[i];
	}
	cs->nrows = w;
}

/* The outbox walk from after (0: from what is acknowledged). */
static enum crm_err outbox_from(struct sync_db *s, int64_t after, size_t max_fields,
				struct sync_changeset *out, int64_t *upto, bool *more,
				struct crm_error *err)
{
	struct collector c;
	int64_t acked = db_acked(s), from, bound;
	bool committed = sqlite3_get_autocommit(s->db) != 0;
	enum crm_err rc;

	sync_changeset_init(out);
	/* read before the walk: a later commit elsewhere gets a larger sequence */
	bound = committed ? db_committed_seq(s) : 0;
	from = s->outbox_clean > acked ? s->outbox_clean : acked;
	if (after > from) {
		from = after;
		committed = false; /* an empty walk from here says nothing of (acked, after] */
	}
	collector_init(&c, s, out);
	rc = walk(&c, from, s->site, max_fields, SIZE_MAX, upto, more, err);
	collector_release(&c);
	if (rc != CRM_OK) {
		sync_changeset_release(out);
		return rc;
	}
	drop_empty_rows(out);
	if (committed && !*more && out->nrows == 0) {
		/*
		 * Nothing of ours past acked: remember up to where (only on committed
		 * data: a rolled-back transaction may hand its sequences out again).
		 */
		if (bound > s->outbox_clean)
			s->outbox_clean = bound;
		*upto = acked;
	}
	return CRM_OK;
}

enum crm_err sync_outbox(struct sync_db *s, size_t max_fields, struct sync_changeset *out,
			 int64_t *upto, bool *more, struct crm_error *err)
{
	return outbox_from(s, 0, max_fields, out, upto, more, err);
}

enum crm_err sync_outbox_after(struct sync_db *s, int64_t after, size_t max_fields,
			       struct sync_changeset *out, int64_t *upto, bool *more,
			       struct crm_error *err)
{
	return outbox_from(s, after < 0 ? 0 : after, max_fields, out, upto, more, err);
}

enum crm_err sync_outbox_ack(struct sync_db *s, int64_t upto, struct crm_error *err)
{
	char v[32];

	if (upto <= db_acked(s))
		return CRM_OK;
	snprintf(v, sizeof v, "%lld", (long long)upto);
	s->acked = upto;
	return sync_state_set(s, DB_STATE_PREFIX "acked", v, err);
}

enum crm_err sync_outbox_count(struct sync_db *s, int64_t *count, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	int64_t n = 0;
	int step;

	*count = 0;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT c.tbl, c.col, (SELECT count(*) FROM sync_clock o"
			       " WHERE o.tbl = c.tbl AND o.rid = c.rid AND o.col <> '')"
			       " FROM sync_clock c WHERE c.seq > ?1 AND c.site = ?2",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(s, err, "count outbox");
	sqlite3_bind_int64(st, 1, db_acked(s));
	sqlite3_bind_text(st, 2, s->site, -1, SQLITE_STATIC);
	for (step = sqlite3_step(st); step == SQLITE_ROW; step = sqlite3_step(st)) {
		const char *tbl = (const char *)sqlite3_column_text(st, 0);
		const char *col = (const char *)sqlite3_column_text(st, 1);
		struct db_table *t = tbl ? db_table_find(s, tbl) : NULL;

		if (!t)
			continue;
		if (col && col[0] != '\0') {
			n++;
		} else {
			int64_t own = sqlite3_column_int64(st, 2);

			if ((int64_t)t->ncols > own)
				n += (int64_t)t->ncols - own;
		}
	}
	if (step != SQLITE_DONE)
		rc = db_fail(s, err, "count outbox");
	sqlite3_finalize(st);
	if (rc == CRM_OK)
		*count = n;
	return rc;
}

enum crm_err sync_feed(struct sync_db *s, int64_t cursor, size_t max_fields,
		       sync_row_filter filter, void *ctx, const char *skip_site,
		       struct sync_changeset *out, int64_t *next, bool *more,
		       struct crm_error *err)
{
	struct collector c;
	enum crm_err rc;
	size_t scan_max = max_fields > SIZE_MAX / 8 ? SIZE_MAX : max_fields * 8 + 1024;

	sync_changeset_init(out);
	collector_init(&c, s, out);
	c.filter = filter;
	c.ctx = ctx;
	c.skip_site = skip_site;
	rc = walk(&c, cursor < 0 ? 0 : cursor, NULL, max_fields, scan_max, next, more, err);
	collector_release(&c);
	if (rc != CRM_OK) {
		sync_changeset_release(out);
		return rc;
	}
	drop_empty_rows(out);
	return CRM_OK;
}

enum crm_err sync_row_snapshot(struct sync_db *s, const char *table, const char *id,
			       struct sync_changeset *out, struct crm_error *err)
{
	struct db_table *t = db_table_find(s, table);
	struct db_clock *rows = NULL;
	size_t nrows = 0;
	struct sync_row *row;
	enum crm_err rc;
	sqlite3_stmt *st;
	int step;

	sync_changeset_init(out);
	if (!t)
		return crm_fail(err, CRM_ENOTFOUND, "table %s is not replicated", table);
	rc = db_clock_load(s, table, id, &rows, &nrows, err);
	if (rc != CRM_OK)
		return rc;
	st = t->select_all;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		rc = crm_fail(err, CRM_ENOTFOUND, "%s %s not found", table, id);
		goto out;
	}
	if (step != SQLITE_ROW) {
		rc = db_fail(s, err, "read row");
		goto out;
	}
	row = sync_changeset_add_row(out, table, id);
	if (!row) {
		rc = crm_fail(err, CRM_ENOMEM, "change set");
		goto out;
	}
	for (size_t i = 0; i < t->ncols && rc == CRM_OK; i++) {
		const struct db_clock *eff = db_clock_effective(rows, nrows, t->cols[i].name);
		struct sync_value v;

		if (db_value_from_column(st, (int)i, &v) != CRM_OK) {
			rc = crm_fail(err, CRM_ENOMEM, "value");
			break;
		}
		rc = add_field(out, row, t->cols[i].name, &v, eff ? eff->hlc : 0,
			       eff ? eff->site : "", eff ? eff->base_hlc : 0,
			       eff ? eff->base_site : "", err);
	}
out:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	free(rows);
	if (rc != CRM_OK)
		sync_changeset_release(out);
	return rc;
}
