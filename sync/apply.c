/* Merge of remote change sets: per-field LWW on (HLC, site), conflicts kept, one write per row. */
#include "apply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conflict.h"
#include "crm_time.h"
#include "hlc.h"

/* A version with its base, as compared during merge. */
struct version {
	sync_hlc hlc;
	const char *site;
	sync_hlc base_hlc;
	const char *base_site;
};

struct pending_conflict {
	int ci;
	const struct sync_field *incoming; /* the remote field */
	bool incoming_loses;
	struct sync_value in_place;        /* value in place (owned) */
	struct version p;                  /* version in place */
	char p_site[37];
};

struct row_work {
	const struct sync_field **win;     /* per column: the winning field, or NULL */
	struct pending_conflict *pc;
	size_t npc, cappc;
};

/* Rows inserted by one statement at most (a power of two, 2^DB_CLOCK_NEW_LOG). */
#define NEW_ROWS_MAX ((size_t)1 << DB_CLOCK_NEW_LOG)

/*
 * New rows waiting to be written: consecutive rows of one table with no
 * clock row, no conflict and a winner in every column, at one version or
 * several (the common case of a push or pull of new rows). They are inserted NEW_ROWS_MAX, then
 * fewer, at a time with one multi-row INSERT, and their clock rows likewise:
 * SQLite's per-statement work (opening a cursor per index, building the
 * CHECK constraints' IN lists, the statement's start and end) is paid once
 * per statement instead of once per row. The queue is written before any
 * other row is, so rowids, sequence numbers and everything else come out
 * as if each row had been written on its own.
 */
struct new_rows {
	struct db_table *t;
	uint64_t mask;       /* the winning columns (bit i = t->cols[i]) */
	size_t n;
	const struct sync_row *rows[NEW_ROWS_MAX];
	const struct sync_field *win[NEW_ROWS_MAX][DB_MAX_COLS];
};

static enum crm_err refuse(struct sync_apply_result *res, const char *tbl, const char *id,
			   const char *col, enum crm_err code, const char *reason,
			   struct crm_error *err)
{
	struct sync_refusal *r, *nr;

	nr = realloc(res->refused, (res->nrefused + 1) * sizeof *nr);
	if (!nr)
		return crm_fail(err, CRM_ENOMEM, "refusals");
	res->refused = nr;
	r = &nr[res->nrefused];
	r->table = strdup(tbl ? tbl : "");
	r->id = strdup(id ? id : "");
	r->col = strdup(col ? col : "");
	r->reason = strdup(reason ? reason : crm_strerror(code));
	r->code = code;
	res->nrefused++;
	if (!r->table || !r->id || !r->col || !r->reason)
		return crm_fail(err, CRM_ENOMEM, "refusals");
	return CRM_OK;
}

void sync_apply_result_release(struct sync_apply_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nrefused; i++) {
		free(r->refused[i].table);
		free(r->refused[i].id);
		free(r->refused[i].col);
		free(r->refused[i].reason);
	}
	free(r->refused);
	memset(r, 0, sizeof *r);
}

static bool same_version(sync_hlc ah, const char *as, sync_hlc bh, const char *bs)
{
	return ah == bh && strcmp(as ? as : "", bs ? bs : "") == 0;
}

/*
 * True if version (h, site) is no newer than base (bh, bsite) written by the
 * same site: that site replaced its own value before the other writer built
 * on the newer one, so the older value was superseded knowingly by its own
 * author (the same-site rule, one base further). It happens when a set
 * arrives late (a delayed or replayed request): without this the late
 * older value would be recorded as a conflict with an edit that had seen
 * its successor.
 */
static bool superseded(sync_hlc h, const char *site, sync_hlc bh, const char *bsite)
{
	return bh != 0 && bsite && strcmp(site, bsite) == 0 && h <= bh;
}

/*
 * The row write for a column set, prepared once per (table, set, kind, rows):
 * an UPDATE, or an INSERT of nrows rows (parameters: each row's id, then its
 * values in column order, row after row).
 */
static enum crm_err row_stmt(struct sync_db *s, struct db_table *t, uint64_t mask, bool insert,
			     size_t nrows, sqlite3_stmt **out, struct crm_error *err)
{
	struct crm_buf sql;
	enum crm_err rc = CRM_OK;
	struct db_rowstmt *e;
	int n = 0;

	for (size_t i = 0; i < t->nrowst; i++) {
		if (t->rowst[i].mask == mask && t->rowst[i].insert == insert &&
		    t->rowst[i].nrows == nrows) {
			*out = t->rowst[i].st;
			return CRM_OK;
		}
	}
	if (t->nrowst == t->caprowst) {
		size_t ncap = t->caprowst ? t->caprowst * 2 : 8;
		struct db_rowstmt *nr = realloc(t->rowst, ncap * sizeof *nr);

		if (!nr)
			return crm_fail(err, CRM_ENOMEM, "statement cache");
		t->rowst = nr;
		t->caprowst = ncap;
	}
	crm_buf_init(&sql, 1 << 20);
	if (insert) {
		rc = crm_buf_addf(&sql, "INSERT INTO \"%s\"(\"%s\"", t->name, t->pk);
		for (size_t i = 0; i < t->ncols && rc == CRM_OK; i++) {
			if (mask & ((uint64_t)1 << i))
				rc = crm_buf_addf(&sql, ", \"%s\"", t->cols[i].name);
		}
		if (rc == CRM_OK)
			rc = crm_buf_addstr(&sql, ") VALUES");
		for (size_t r = 0; r < nrows && rc == CRM_OK; r++) {
			rc = crm_buf_addf(&sql, "%s(?%d", r ? ", " : "", 1 + n++);
			for (size_t i = 0; i < t->ncols && rc == CRM_OK; i++) {
				if (mask & ((uint64_t)1 << i))
					rc = crm_buf_addf(&sql, ", ?%d", 1 + n++);
			}
			if (rc == CRM_OK)
				rc = crm_buf_addstr(&sql, ")");
		}
	} else {
		rc = crm_buf_addf(&sql, "UPDATE \"%s\" SET ", t->name);
		for (size_t i = 0; i < t->ncols && rc == CRM_OK; i++) {
			if (mask & ((uint64_t)1 << i)) {
				rc = crm_buf_addf(&sql, "%s\"%s\" = ?%d", n ? ", " : "", t->cols[i].name,
						  2 + n);
				n++;
			}
		}
		if (rc == CRM_OK)
			rc = crm_buf_addf(&sql, " WHERE \"%s\" = ?1", t->pk);
	}
	if (rc != CRM_OK) {
		rc = crm_fail(err, rc, "row statement");
		goto out;
	}
	e = &t->rowst[t->nrowst];
	rc = db_prepare(s, sql.data, &e->st, err);
	if (rc != CRM_OK)
		goto out;
	e->mask = mask;
	e->insert = insert;
	e->nrows = nrows;
	t->nrowst++;
	*out = e->st;
out:
	crm_buf_release(&sql);
	return rc;
}

/* Runs the row write; returns the SQLite result code (SQLITE_DONE on success). */
static int row_write(struct sync_db *s, struct db_table *t, const char *rid,
		     const struct sync_field *const *win, uint64_t mask, bool insert,
		     struct crm_error *err, enum crm_err *rc)
{
	sqlite3_stmt *st = NULL;
	int n = 2, step;

	*rc = row_stmt(s, t, mask, insert, 1, &st, err);
	if (*rc != CRM_OK)
		return SQLITE_ERROR;
	sqlite3_bind_text(st, 1, rid, -1, SQLITE_STATIC);
	for (size_t i = 0; i < t->ncols; i++) {
		if (mask & ((uint64_t)1 << i))
			db_value_bind(st, n++, &win[i]->v);
	}
	step = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return step;
}

static enum crm_err add_pending(struct row_work *w, struct sync_db *s, struct db_table *t,
				const char *rid, int ci, const struct sync_field *f, bool f_loses,
				const struct version *p, struct crm_error *err)
{
	struct pending_conflict *pc;
	enum crm_err rc;

	if (w->npc == w->cappc) {
		size_t ncap = w->cappc ? w->cappc * 2 : 4;
		struct pending_conflict *np = realloc(w->pc, ncap * sizeof *np);

		if (!np)
			return crm_fail(err, CRM_ENOMEM, "conflicts");
		w->pc = np;
		w->cappc = ncap;
	}
	pc = &w->pc[w->npc];
	memset(pc, 0, sizeof *pc);
	pc->ci = ci;
	pc->incoming = f;
	pc->incoming_loses = f_loses;
	pc->p = *p;
	snprintf(pc->p_site, sizeof pc->p_site, "%s", p->site ? p->site : "");
	pc->p.site = NULL;
	pc->p.base_site = NULL;
	if (w->win[ci]) {
		/* in place is an earlier field of this same set */
		const struct sync_value *v = &w->win[ci]->v;

		pc->in_place = *v;
		if (v->type == SYNC_TEXT) {
			pc->in_place.s = strdup(v->s ? v->s : "");
			if (!pc->in_place.s)
				return crm_fail(err, CRM_ENOMEM, "conflicts");
		}
		rc = CRM_OK;
	} else {
		bool found; /* an absent row holds NULL */

		rc = db_col_value(s, t, ci, rid, &pc->in_place, &found, err);
	}
	if (rc == CRM_OK)
		w->npc++;
	return rc;
}

static void work_release(struct row_work *w)
{
	for (size_t i = 0; i < w->npc; i++)
		db_value_release(&w->pc[i].in_place);
	free(w->pc);
	free(w->win);
}

/* Writes the winners; fields that break a table constraint are refused one by one. */
static enum crm_err write_winners(struct sync_db *s, struct db_table *t, const struct sync_row *row,
				  struct row_work *w, bool *existed, struct sync_apply_result *res,
				  struct crm_error *err)
{
	enum crm_err rc = CRM_OK;
	uint64_t mask = 0;
	bool exists = *existed;
	int step;

	for (size_t i = 0; i < t->ncols; i++) {
		if (w->win[i])
			mask |= (uint64_t)1 << i;
	}
	if (!mask)
		return CRM_OK;
	step = row_write(s, t, row->id, w->win, mask, !exists, err, &rc);
	if (rc != CRM_OK)
		return rc;
	if (!exists && step != SQLITE_DONE &&
	    sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_PRIMARYKEY) {
		/* there after all (a row without clocks): update it */
		exists = *existed = true;
		step = row_write(s, t, row->id, w->win, mask, false, err, &rc);
		if (rc != CRM_OK)
			return rc;
	}
	if (step == SQLITE_DONE && exists && sqlite3_changes(s->db) == 0) {
		/* clocks without a row (deleted behind our back): create it again */
		exists = *existed = false;
		step = row_write(s, t, row->id, w->win, mask, true, err, &rc);
		if (rc != CRM_OK)
			return rc;
	}
	if (step == SQLITE_DONE)
		return CRM_OK;
	if ((sqlite3_errcode(s->db) & 0xff) != SQLITE_CONSTRAINT)
		return db_fail(s, err, "apply");
	/* Some value breaks a constraint: find which, field by field. */
	if (!exists) {
		sqlite3_stmt *ins = t->insert_pk;

		sqlite3_bind_text(ins, 1, row->id, -1, SQLITE_STATIC);
		step = sqlite3_step(ins);
		sqlite3_reset(ins);
		sqlite3_clear_bindings(ins);
		if (step != SQLITE_DONE) {
			if ((sqlite3_errcode(s->db) & 0xff) != SQLITE_CONSTRAINT)
				return db_fail(s, err, "apply");
			for (size_t i = 0; i < t->ncols && rc == CRM_OK; i++) {
				if (!w->win[i])
					continue;
				rc = refuse(res, row->table, row->id, t->cols[i].name, CRM_EINVAL,
					    "the row cannot be created here (table constraint)", err);
				w->win[i] = NULL;
			}
			return rc;
		}
	}
	for (size_t i = 0; i < t->ncols && rc == CRM_OK; i++) {
		char why[CRM_ERRMSG_MAX];

		if (!w->win[i])
			continue;
		step = row_write(s, t, row->id, w->win, (uint64_t)1 << i, false, err, &rc);
		if (rc != CRM_OK)
			break;
		if (step == SQLITE_DONE)
			continue;
		if ((sqlite3_errcode(s->db) & 0xff) != SQLITE_CONSTRAINT) {
			rc = db_fail(s, err, "apply");
			break;
		}
		snprintf(why, sizeof why, "value breaks a table constraint: %s", sqlite3_errmsg(s->db));
		rc = refuse(res, row->table, row->id, t->cols[i].name, CRM_EINVAL, why, err);
		w->win[i] = NULL;
	}
	return rc;
}

/* One "" clock row stands for a whole new row written at one version. */
static bool whole_row_at_one_version(const struct db_table *t, const struct row_work *w)
{
	const struct sync_field *first = w->win[0];

	if (t->ncols == 0 || !first)
		return false;
	for (size_t i = 1; i < t->ncols; i++) {
		const struct sync_field *f = w->win[i];

		if (!f || f->hlc != first->hlc || strcmp(f->site, first->site) != 0 ||
		    f->base_hlc != first->base_hlc || strcmp(f->base_site, first->base_site) != 0)
			return false;
	}
	return true;
}

/*
 * Writes a row's winners (one INSERT or UPDATE), their clock rows and the
 * conflicts found; nclocks is how many clock rows the row had.
 */
static enum crm_err finish_row(struct sync_db *s, struct db_table *t, const struct sync_row *row,
			       struct row_work *w, size_t nclocks, struct sync_apply_result *res,
			       struct crm_error *err)
{
	enum crm_err rc;
	bool exists = true;

	/*
	 * No clocks: a new row, as a rule. It is inserted without looking first;
	 * write_winners updates instead if the insert meets the row after all.
	 */
	if (nclocks == 0)
		exists = false;
	rc = write_winners(s, t, row, w, &exists, res, err);
	if (rc != CRM_OK)
		return rc;
	if (!exists && nclocks == 0 && whole_row_at_one_version(t, w)) {
		const struct sync_field *f = w->win[0];

		rc = db_clock_put(s, t->name, row->id, "", f->hlc, f->site, f->base_hlc,
				  f->base_site, err);
		if (rc != CRM_OK)
			return rc;
		res->applied += t->ncols;
	} else {
		for (size_t i = 0; i < t->ncols; i++) {
			const struct sync_field *f = w->win[i];

			if (!f)
				continue;
			rc = db_clock_put(s, t->name, row->id, t->cols[i].name, f->hlc, f->site,
					  f->base_hlc, f->base_site, err);
			if (rc != CRM_OK)
				return rc;
			res->applied++;
		}
	}
	for (size_t k = 0; k < w->npc; k++) {
		struct pending_conflict *pc = &w->pc[k];
		const struct sync_field *f = pc->incoming;
		bool added = false;

		if (!pc->incoming_loses && w->win[pc->ci] == NULL)
			continue; /* the winner was refused: nothing replaced */
		if (pc->incoming_loses)
			rc = conflict_add(s, t->name, row->id, f->col, &f->v, f->hlc, f->site,
					  &pc->in_place, pc->p.hlc, pc->p_site, &added, err);
		else
			rc = conflict_add(s, t->name, row->id, f->col, &pc->in_place, pc->p.hlc,
					  pc->p_site, &f->v, f->hlc, f->site, &added, err);
		if (rc != CRM_OK)
			return rc;
		if (added)
			res->conflicts++;
	}
	return CRM_OK;
}

/*
 * The column set of a new row's winners if the row may wait in the queue, 0
 * if it is to be written alone: every column (as rows are sent) always may;
 * other sets (fields refused, partial rows) only the first DB_MULTI_MASKS of
 * a table, so that the statement cache keeps a few multi-row statements per
 * table, not a few per column set ever seen.
 */
static uint64_t new_row_mask(struct db_table *t, const struct row_work *w)
{
	uint64_t mask = 0;
	bool all = true;

	for (size_t i = 0; i < t->ncols; i++) {
		if (w->win[i])
			mask |= (uint64_t)1 << i;
		else
			all = false;
	}
	if (all || !mask)
		return mask;
	for (size_t i = 0; i < t->nmulti; i++) {
		if (t->multi[i] == mask)
			return mask;
	}
	if (t->nmulti == DB_MULTI_MASKS)
		return 0;
	t->multi[t->nmulti++] = mask;
	return mask;
}

/* True if row id waits in q. */
static bool new_rows_has(const struct new_rows *q, const char *id)
{
	for (size_t i = 0; i < q->n; i++) {
		if (strcmp(q->rows[i]->id, id) == 0)
			return true;
	}
	return false;
}

/* Writes the clock rows of rows [from, from + n) of q, in order (they are new). */
static enum crm_err new_rows_clocks(struct sync_db *s, struct new_rows *q, size_t from, size_t n,
				    struct sync_apply_result *res, struct crm_error *err)
{
	struct db_table *t = q->t;
	struct db_clock_new *clk;
	enum crm_err rc = CRM_OK;
	size_t nclk = 0, done = 0, most = NEW_ROWS_MAX;
	int lim = sqlite3_limit(s->db, SQLITE_LIMIT_VARIABLE_NUMBER, -1);

	clk = malloc(n * (t->ncols ? t->ncols : 1) * sizeof *clk);
	if (!clk)
		return crm_fail(err, CRM_ENOMEM, "apply");
	for (size_t r = from; r < from + n; r++) {
		struct row_work w = {.win = q->win[r]};

		if (whole_row_at_one_version(t, &w)) {
			const struct sync_field *f = q->win[r][0];

			clk[nclk++] = (struct db_clock_new){q->rows[r]->id, "", f->hlc, f->site,
							    f->base_hlc, f->base_site};
			res->applied += t->ncols;
			continue;
		}
		for (size_t i = 0; i < t->ncols; i++) {
			const struct sync_field *f = q->win[r][i];

			if (!f)
				continue;
			clk[nclk++] = (struct db_clock_new){q->rows[r]->id, t->cols[i].name, f->hlc,
							    f->site, f->base_hlc, f->base_site};
			res->applied++;
		}
	}
	/* (db_clock_new binds 1 + 7 parameters per clock row) */
	while (most > 1 && (lim <= 0 || 1 + 7 * most > (size_t)lim))
		most >>= 1;
	while (done < nclk && rc == CRM_OK) {
		size_t k = most;
		const struct db_clock_new *c = &clk[done];

		while (k > nclk - done)
			k >>= 1;
		if (k > 1) {
			rc = db_clock_new(s, t->name, c, k, err);
			if (rc != CRM_OK && (sqlite3_errcode(s->db) & 0xff) != SQLITE_CONSTRAINT)
				break;
		}
		if (k == 1 || rc != CRM_OK) {
			/* one alone, or one there after all: the way of a single row */
			rc = CRM_OK;
			for (size_t i = 0; i < k && rc == CRM_OK; i++)
				rc = db_clock_put(s, t->name, c[i].rid, c[i].col, c[i].hlc, c[i].site,
						  c[i].base_hlc, c[i].base_site, err);
		}
		done += k;
	}
	free(clk);
	return rc;
}

/*
 * Inserts n (2 or more) rows of q from row `from` with one statement, then
 * their clock rows. A constraint that one of them breaks undoes the
 * statement: they are then written one by one, each as it would have been.
 */
static enum crm_err new_rows_insert(struct sync_db *s, struct new_rows *q, size_t from, size_t n,
				    struct sync_apply_result *res, struct crm_error *err)
{
	struct db_table *t = q->t;
	sqlite3_stmt *st = NULL;
	enum crm_err rc;
	int p = 1, step;

	rc = row_stmt(s, t, q->mask, true, n, &st, err);
	if (rc != CRM_OK)
		return rc;
	for (size_t r = from; r < from + n; r++) {
		sqlite3_bind_text(st, p++, q->rows[r]->id, -1, SQLITE_STATIC);
		for (size_t i = 0; i < t->ncols; i++) {
			if (q->mask & ((uint64_t)1 << i))
				db_value_bind(st, p++, &q->win[r][i]->v);
		}
	}
	step = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (step != SQLITE_DONE) {
		if ((sqlite3_errcode(s->db) & 0xff) != SQLITE_CONSTRAINT)
			return db_fail(s, err, "apply");
		for (size_t r = from; r < from + n && rc == CRM_OK; r++) {
			struct row_work w;

			memset(&w, 0, sizeof w);
			w.win = q->win[r];
			rc = finish_row(s, t, q->rows[r], &w, 0, res, err);
		}
		return rc;
	}
	return new_rows_clocks(s, q, from, n, res, err);
}

/* Writes the rows waiting in q, in their order, and empties q. */
static enum crm_err new_rows_flush(struct sync_db *s, struct new_rows *q,
				   struct sync_apply_result *res, struct crm_error *err)
{
	enum crm_err rc = CRM_OK;
	size_t done = 0, most = NEW_ROWS_MAX, per = 1;
	int lim = q->n ? sqlite3_limit(s->db, SQLITE_LIMIT_VARIABLE_NUMBER, -1) : 0;

	/* no more parameters in one statement than this SQLite takes */
	for (size_t i = 0; i < DB_MAX_COLS; i++) {
		if (q->mask & ((uint64_t)1 << i))
			per++;
	}
	while (most > 1 && (lim <= 0 || most * per > (size_t)lim))
		most >>= 1;
	while (done < q->n && rc == CRM_OK) {
		size_t n = most;

		while (n > q->n - done)
			n >>= 1;
		if (n == 1) {
			struct row_work w;

			memset(&w, 0, sizeof w);
			w.win = q->win[done];
			rc = finish_row(s, q->t, q->rows[done], &w, 0, res, err);
		} else {
			rc = new_rows_insert(s, q, done, n, res, err);
		}
		done += n;
	}
	q->n = 0;
	return rc;
}

static enum crm_err apply_row(struct sync_db *s, struct db_table *t, const struct sync_row *row,
			      unsigned flags, sync_field_check check, void *ctx, struct new_rows *q,
			      struct sync_apply_result *res, struct crm_error *err)
{
	struct db_clock *clocks = NULL;
	size_t nclocks = 0;
	struct row_work w;
	enum crm_err rc = CRM_OK;
	size_t nwin = 0;
	int next_ci = 0;
	uint64_t mask = 0;

	/* what this row reads (its clocks, values in place) must see those before it */
	if (q->n && (q->t != t || new_rows_has(q, row->id))) {
		rc = new_rows_flush(s, q, res, err);
		if (rc != CRM_OK)
			return rc;
	}
	memset(&w, 0, sizeof w);
	w.win = calloc(t->ncols ? t->ncols : 1, sizeof *w.win);
	if (!w.win)
		return crm_fail(err, CRM_ENOMEM, "apply");
	rc = db_clock_load(s, t->name, row->id, &clocks, &nclocks, err);
	if (rc != CRM_OK)
		goto out;
	for (size_t j = 0; j < row->nfields; j++) {
		const struct sync_field *f = &row->fields[j];
		int ci = db_col_find_from(t, f->col, next_ci);
		struct version p = {0, "", 0, ""};
		bool quiet, has_p, judged = false;
		int cmp;

		next_ci = ci + 1;
		if (ci < 0) {
			char why[CRM_ERRMSG_MAX];

			snprintf(why, sizeof why, "unknown column %s.%s", row->table, f->col);
			rc = refuse(res, row->table, row->id, f->col, CRM_ENOTFOUND, why, err);
			if (rc != CRM_OK)
				goto out;
			continue;
		}
		if (check) {
			struct crm_error e;
			enum crm_err crc;

			crm_error_clear(&e);
			crc = check(ctx, row, f, &e);
			if (crc != CRM_OK) {
				rc = refuse(res, row->table, row->id, f->col, crc,
					    e.msg[0] ? e.msg : crm_strerror(crc), err);
				if (rc != CRM_OK)
					goto out;
				continue;
			}
		}
		if (w.win[ci]) {
			const struct sync_field *e = w.win[ci];

			p = (struct version){e->hlc, e->site, e->base_hlc, e->base_site};
			judged = (flags & SYNC_APPLY_FROM_HUB) != 0;
		} else {
			const struct db_clock *e = db_clock_effective(clocks, nclocks, f->col);

			if (e) {
				p = (struct version){e->hlc, e->site, e->base_hlc, e->base_site};
				/* from the hub, only a local edit it has not seen can conflict */
				judged = (flags & SYNC_APPLY_FROM_HUB) &&
					 !(strcmp(e->site, s->site) == 0 && e->seq > s->acked);
			}
		}
		has_p = !(p.hlc == 0 && p.site[0] == '\0');
		quiet = t->cols[ci].quiet || judged;
		cmp = db_version_cmp(f->hlc, f->site, p.hlc, p.site);
		if (cmp == 0) {
			res->ignored++;
			continue;
		}
		if (cmp > 0) {
			if (!quiet && has_p && !same_version(f->base_hlc, f->base_site, p.hlc, p.site) &&
			    strcmp(f->site, p.site) != 0 && !superseded(p.hlc, p.site, f->base_hlc, f->base_site)) {
				rc = add_pending(&w, s, t, row->id, ci, f, false, &p, err);
				if (rc != CRM_OK)
					goto out;
			}
			if (!w.win[ci])
				nwin++;
			w.win[ci] = f;
			continue;
		}
		res->ignored++;
		if (!quiet && !same_version(f->base_hlc, f->base_site, p.hlc, p.site) &&
		    !same_version(p.base_hlc, p.base_site, f->hlc, f->site) &&
		    strcmp(f->site, p.site) != 0 && !superseded(f->hlc, f->site, p.base_hlc, p.base_site)) {
			rc = add_pending(&w, s, t, row->id, ci, f, true, &p, err);
			if (rc != CRM_OK)
				goto out;
		}
	}
	if (nwin == 0 && w.npc == 0)
		goto out;
	if (nclocks == 0 && w.npc == 0)
		mask = new_row_mask(t, &w);
	if (mask) {
		/* a new row: it waits to be inserted with its neighbours */
		if (q->n && q->mask != mask) {
			rc = new_rows_flush(s, q, res, err);
			if (rc != CRM_OK)
				goto out;
		}
		q->t = t;
		q->mask = mask;
		q->rows[q->n] = row;
		memcpy(q->win[q->n], w.win, t->ncols * sizeof *w.win);
		q->n++;
		if (q->n == NEW_ROWS_MAX)
			rc = new_rows_flush(s, q, res, err);
		goto out;
	}
	rc = new_rows_flush(s, q, res, err);
	if (rc == CRM_OK)
		rc = finish_row(s, t, row, &w, nclocks, res, err);
out:
	free(clocks);
	work_release(&w);
	return rc;
}

/*
 * Marks the tables that carry triggers of someone else (a search index, a
 * server's log): their rows must be written with triggers on. The sync_*
 * triggers themselves do nothing while remote changes are applied (capture is
 * off, and apply neither deletes rows nor changes ids), yet merely being there
 * made SQLite code them into every insert and keep a statement journal for it:
 * 60% more time per new row.
 */
static enum crm_err mark_other_triggers(struct sync_db *s, size_t *nothers, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	int step;

	*nothers = 0;
	for (size_t i = 0; i < s->ntables; i++)
		s->tables[i].others = false;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'"
			       " AND name NOT GLOB 'sync_*' UNION SELECT tbl_name FROM sqlite_temp_master"
			       " WHERE type = 'trigger'",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(s, err, "apply: list triggers");
	for (step = sqlite3_step(st); step == SQLITE_ROW; step = sqlite3_step(st)) {
		const char *tbl = (const char *)sqlite3_column_text(st, 0);
		struct db_table *t = tbl ? db_table_find(s, tbl) : NULL;

		if (t && !t->others) {
			t->others = true;
			(*nothers)++;
		}
	}
	sqlite3_finalize(st);
	if (step != SQLITE_DONE)
		return db_fail(s, err, "apply: list triggers");
	return CRM_OK;
}

/* Applies the rows of cs whose table has (others) or has not other triggers. */
static enum crm_err apply_rows(struct sync_db *s, const struct sync_changeset *cs, bool others,
			       unsigned flags, sync_field_check check, void *ctx, struct new_rows *q,
			       struct sync_apply_result *res, struct crm_error *err)
{
	enum crm_err rc = CRM_OK;

	for (size_t i = 0; i < cs->nrows && rc == CRM_OK; i++) {
		const struct sync_row *r = &cs->rows[i];
		struct db_table *t = db_table_find(s, r->table);

		if (!t) {
			char why[CRM_ERRMSG_MAX];

			if (!others)
				continue; /* refused once, in the first pass */
			snprintf(why, sizeof why, "unknown table %s", r->table);
			for (size_t j = 0; j < r->nfields && rc == CRM_OK; j++)
				rc = refuse(res, r->table, r->id, r->fields[j].col, CRM_ENOTFOUND, why, err);
			continue;
		}
		if (t->others == others)
			rc = apply_row(s, t, r, flags, check, ctx, q, res, err);
	}
	if (rc == CRM_OK)
		rc = new_rows_flush(s, q, res, err);
	q->n = 0;
	return rc;
}

enum crm_err sync_apply(struct sync_db *s, const struct sync_changeset *cs, unsigned flags,
			sync_field_check check, void *ctx, struct sync_apply_result *res,
			struct crm_error *err)
{
	enum crm_err rc = CRM_OK;
	bool own_txn = !(flags & SYNC_APPLY_IN_TXN);
	bool open = false;
	sync_hlc maxh = 0;
	int64_t now = crm_now_ms();
	size_t nothers = 0;
	struct new_rows *q = NULL;

	memset(res, 0, sizeof *res);
	if (!cs || cs->nrows == 0)
		return CRM_OK;
	/* Clock sanity first: one clock too far ahead refuses the whole set. */
	for (size_t i = 0; i < cs->nrows; i++) {
		const struct sync_row *r = &cs->rows[i];

		for (size_t j = 0; j < r->nfields; j++) {
			sync_hlc h = r->fields[j].hlc;

			if (hlc_too_far(h, now, s->max_skew_ms))
				return sync_hlc_observe(s, h, err);
			if (h > maxh)
				maxh = h;
		}
	}
	/*
	 * In the caller's transaction no SAVEPOINT is opened: the caller's
	 * ROLLBACK undoes a failed apply. (A savepoint here made every statement
	 * of a large page cost time proportional to the page so far: SQLite
	 * truncates the in-memory statement journal from its head at the end of
	 * each statement.)
	 */
	if (own_txn) {
		rc = db_exec(s, "BEGIN IMMEDIATE", err);
		if (rc != CRM_OK)
			return rc;
		open = true;
	}
	db_refresh(s);
	rc = sync_hlc_observe(s, maxh, err);
	if (rc != CRM_OK)
		goto out;
	q = calloc(1, sizeof *q);
	if (!q) {
		rc = crm_fail(err, CRM_ENOMEM, "apply");
		goto out;
	}
	s->applying = true;
	/*
	 * Rows are independent of each other, so they go in two passes: those of
	 * tables with other triggers, then the rest with the connection's
	 * triggers off (restored before returning, whatever happens).
	 */
	rc = mark_other_triggers(s, &nothers, err);
	if (rc == CRM_OK)
		rc = apply_rows(s, cs, true, flags, check, ctx, q, res, err);
	if (rc == CRM_OK && nothers < s->ntables) {
		int was = 0, now_on = 1;

		/* (the out-parameter reports the setting after the call) */
		if (sqlite3_db_config(s->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, -1, &was) == SQLITE_OK &&
		    was == 1)
			sqlite3_db_config(s->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, &now_on);
		rc = apply_rows(s, cs, false, flags, check, ctx, q, res, err);
		if (was == 1 && now_on == 0 &&
		    (sqlite3_db_config(s->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 1, &now_on) != SQLITE_OK ||
		     now_on != 1) && rc == CRM_OK)
			rc = crm_fail(err, CRM_EDB, "apply: triggers could not be switched back on");
	}
	if (rc == CRM_OK)
		rc = db_save_floors(s, err);
out:
	free(q);
	s->applying = false;
	if (open) {
		if (rc == CRM_OK) {
			rc = db_exec(s, "COMMIT", err);
			if (rc != CRM_OK)
				sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		} else {
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		}
	}
	if (rc != CRM_OK)
		sync_apply_result_release(res);
	return rc;
}

enum crm_err sync_evict_row(struct sync_db *s, const char *table, const char *id,
			    struct crm_error *err)
{
	struct db_table *t = db_table_find(s, table);
	sqlite3_stmt *st = NULL;
	enum crm_err rc;
	char sql[512];

	if (!t)
		return crm_fail(err, CRM_ENOTFOUND, "table %s is not replicated", table);
	rc = db_exec(s, "SAVEPOINT sync_evict", err);
	if (rc != CRM_OK)
		return rc;
	s->applying = true;
	snprintf(sql, sizeof sql, "DELETE FROM \"%s\" WHERE \"%s\" = ?1", t->name, t->pk);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(s, err, "evict");
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(s, err, "evict");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	db_refresh(s);
	if (sqlite3_prepare_v2(s->db, "DELETE FROM sync_clock WHERE tbl = ?1 AND rid = ?2", -1, &st,
			       NULL) != SQLITE_OK) {
		rc = db_fail(s, err, "evict");
		goto out;
	}
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(s, err, "evict");
		goto out;
	}
	rc = db_save_floors(s, err);
out:
	sqlite3_finalize(st);
	s->applying = false;
	if (rc != CRM_OK)
		sqlite3_exec(s->db, "ROLLBACK TO sync_evict", NULL, NULL, NULL);
	if (sqlite3_exec(s->db, "RELEASE sync_evict", NULL, NULL, NULL) != SQLITE_OK && rc == CRM_OK)
		rc = db_fail(s, err, "evict");
	return rc;
}
