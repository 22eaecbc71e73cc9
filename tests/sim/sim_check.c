/*
 * sim_check: the end of a seed.
 *
 * Quiescing delivers whatever is still on the wire, then syncs every replica
 * until its outbox is empty and the hub has nothing more for it, twice round
 * (the second round brings everyone what the others pushed in the first).
 * Then the checks:
 *   - every replica equals the hub: a canonical dump of every replicated
 *     table (all columns, ordered by table and id), and the same version
 *     (HLC, site) of every field;
 *   - every field version that reached the hub, and every acknowledged one,
 *     is the final value, or was written over by someone who had seen it,
 *     or is a loser in the hub's conflicts table (or written over by someone
 *     who had seen that loser): nothing acknowledged is lost, every conflict
 *     the hub saw is recorded;
 *   - every other local edit is accounted for the same way, or is a loser in
 *     its own replica's conflicts (it lost there before it could be pushed);
 *   - every conflict the hub recorded is real: neither version had seen the
 *     other (a spurious one is counted, and fails the seed with --strict);
 *     no conflict names a quiet column; each database's conflicts table
 *     holds as many as its committed sync_apply calls reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm_buf.h"
#include "sim.h"
#include "tables.h"

#define QUIESCE_ROUNDS 2000
#define DUMP_MAX (256u * 1024u * 1024u)

bool sim_quiesce(struct sim_world *w)
{
	struct crm_error err;
	int64_t count = 0;

	w->faults = false;
	while (w->nnet > 0)
		if (!sim_deliver(w, (size_t)sim_rng_below(&w->rng, w->nnet)))
			return false;
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned r = 0; r < w->nrep; r++) {
			int round;

			for (round = 0; round < QUIESCE_ROUNDS; round++) {
				w->now += sim_rng_range(&w->rng, 1, 100);
				if (!sim_send_request(w, r))
					return false;
				while (w->nnet > 0)
					if (!sim_deliver(w, w->nnet - 1))
						return false;
				if (sync_outbox_count(w->nodes[r].s, &count, &err) != CRM_OK)
					return sim_fail(w, "r%u: sync_outbox_count: %s", r, err.msg);
				if (count == 0 && !w->nodes[r].last_more)
					break;
			}
			if (round == QUIESCE_ROUNDS)
				return sim_fail(w, "r%u: still syncing after %d rounds (outbox %lld)", r,
						QUIESCE_ROUNDS, (long long)count);
		}
	}
	/* Quiet now: nothing to push, nothing to pull, for anyone. */
	for (unsigned r = 0; r < w->nrep; r++) {
		struct sync_changeset page;
		int64_t next = 0;
		bool more = false;
		if (sync_outbox_count(w->nodes[r].s, &count, &err) != CRM_OK)
			return sim_fail(w, "r%u: sync_outbox_count: %s", r, err.msg);
		if (count != 0)
			return sim_fail(w, "r%u: %lld fields still in the outbox after two quiet passes "
					"(applying pages must not capture)", r, (long long)count);
		sync_changeset_init(&page);
		{
			char *text = NULL;
			int64_t cursor = 0;
			enum crm_err rc = sync_state_get(w->nodes[r].s, SIM_CURSOR_KEY, &text, &err);

			if (rc == CRM_OK)
				cursor = strtoll(text, NULL, 10);
			free(text);
			if (rc != CRM_OK && rc != CRM_ENOTFOUND)
				return sim_fail(w, "r%u: sync_state_get: %s", r, err.msg);
			if (sync_feed(SIM_HUB(w)->s, cursor, 1000, NULL, NULL, w->nodes[r].site, &page,
				      &next, &more, &err) != CRM_OK) {
				sync_changeset_release(&page);
				return sim_fail(w, "hub: sync_feed: %s", err.msg);
			}
		}
		if (page.nfields != 0 || more) {
			sync_changeset_release(&page);
			return sim_fail(w, "r%u: the hub still has %zu fields for it after two quiet passes",
					r, page.nfields);
		}
		sync_changeset_release(&page);
	}
	return true;
}

/* ---- canonical dumps ------------------------------------------------------ */

static bool dump_db(struct sim_world *w, unsigned i, struct crm_buf *out)
{
	sqlite3 *db = w->nodes[i].db;

	for (size_t t = 0; t < schema_tables_count; t++) {
		const struct schema_table *tab = &schema_tables[t];
		struct crm_buf sql;
		sqlite3_stmt *st = NULL;
		int rc;

		crm_buf_init(&sql, 4096);
		crm_buf_addstr(&sql, "SELECT ");
		for (size_t c = 0; c < tab->ncols; c++)
			crm_buf_addf(&sql, "%s\"%s\"", c ? ", " : "", tab->cols[c].name);
		crm_buf_addf(&sql, " FROM \"%s\" ORDER BY id", tab->name);
		rc = sqlite3_prepare_v2(db, sql.data, -1, &st, NULL);
		crm_buf_release(&sql);
		if (rc != SQLITE_OK)
			return sim_fail(w, "dump: %s", sqlite3_errmsg(db));
		for (rc = sqlite3_step(st); rc == SQLITE_ROW; rc = sqlite3_step(st)) {
			crm_buf_addstr(out, tab->name);
			for (int c = 0; c < sqlite3_column_count(st); c++) {
				switch (sqlite3_column_type(st, c)) {
				case SQLITE_INTEGER:
					crm_buf_addf(out, "|i%lld", (long long)sqlite3_column_int64(st, c));
					break;
				case SQLITE_FLOAT:
					crm_buf_addf(out, "|r%a", sqlite3_column_double(st, c));
					break;
				case SQLITE_TEXT:
					crm_buf_addf(out, "|t%d:%s", sqlite3_column_bytes(st, c),
						     (const char *)sqlite3_column_text(st, c));
					break;
				case SQLITE_BLOB:
					crm_buf_addf(out, "|b%d", sqlite3_column_bytes(st, c));
					break;
				default:
					crm_buf_addstr(out, "|n");
					break;
				}
			}
			if (crm_buf_addstr(out, "\n") != CRM_OK) {
				sqlite3_finalize(st);
				return sim_fail(w, "dump too large");
			}
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return sim_fail(w, "dump: %s", sqlite3_errmsg(db));
	}
	return true;
}

/* Copies line number k (from the start of the difference) for a message. */
static void diff_line(const char *a, const char *b, char *la, char *lb, size_t n)
{
	size_t i = 0, start = 0;
	size_t ea, eb;

	while (a[i] && a[i] == b[i]) {
		if (a[i] == '\n')
			start = i + 1;
		i++;
	}
	for (ea = start; a[ea] && a[ea] != '\n'; ea++)
		;
	for (eb = start; b[eb] && b[eb] != '\n'; eb++)
		;
	snprintf(la, n, "%.*s", (int)(ea - start), a + start);
	snprintf(lb, n, "%.*s", (int)(eb - start), b + start);
}

static bool check_dumps(struct sim_world *w)
{
	struct crm_buf hub, rep;
	bool ok = true;
	char la[300], lb[300];

	crm_buf_init(&hub, DUMP_MAX);
	crm_buf_init(&rep, DUMP_MAX);
	if (!dump_db(w, w->nrep, &hub)) {
		ok = false;
		goto out;
	}
	w->st->hub_hash = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < hub.len; i++) {
		w->st->hub_hash ^= (unsigned char)hub.data[i];
		w->st->hub_hash *= 0x100000001b3ULL;
	}
	for (unsigned r = 0; r < w->nrep && ok; r++) {
		crm_buf_reset(&rep);
		if (!dump_db(w, r, &rep)) {
			ok = false;
			break;
		}
		if (strcmp(hub.data, rep.data) != 0) {
			diff_line(hub.data, rep.data, la, lb, sizeof la);
			ok = sim_fail(w, "r%u differs from the hub:\n    hub: %s\n    r%u:  %s", r, la, r, lb);
		}
	}
out:
	crm_buf_release(&hub);
	crm_buf_release(&rep);
	return ok;
}

/* ---- versions --------------------------------------------------------------- */

static bool same_value(const struct sync_value *a, const struct sync_value *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case SYNC_INT:
		return a->i == b->i;
	case SYNC_REAL:
		return a->r == b->r;
	case SYNC_TEXT:
		return strcmp(a->s, b->s) == 0;
	default:
		return true;
	}
}

static const struct sync_field *field_of(const struct sync_changeset *cs, const char *col)
{
	for (size_t r = 0; r < cs->nrows; r++)
		for (size_t f = 0; f < cs->rows[r].nfields; f++)
			if (strcmp(cs->rows[r].fields[f].col, col) == 0)
				return &cs->rows[r].fields[f];
	return NULL;
}

static bool snap(struct sim_world *w, unsigned i, const struct sim_rowref *rr,
		 struct sync_changeset *cs)
{
	struct crm_error err;

	sync_changeset_init(cs);
	if (sync_row_snapshot(w->nodes[i].s, schema_tables[rr->table].name, rr->id, cs, &err) !=
	    CRM_OK)
		return sim_fail(w, "node %u: sync_row_snapshot %s/%s: %s", i,
				schema_tables[rr->table].name, rr->id, err.msg);
	return true;
}

/*
 * Every row has the same field versions everywhere, and the hub's final
 * versions (and what they were written on) get mark bit 1.
 */
static bool check_versions(struct sim_world *w)
{
	char a[SYNC_HLC_STR_MAX], b[SYNC_HLC_STR_MAX];

	for (size_t k = 0; k < w->nrows; k++) {
		const struct sim_rowref *rr = &w->rows[k];
		const char *tname = schema_tables[rr->table].name;
		struct sync_changeset hub;
		bool ok = true;

		if (!snap(w, w->nrep, rr, &hub))
			return false;
		for (size_t f = 0; f < hub.nfields && hub.nrows == 1 && ok; f++) {
			const struct sync_field *hf = &hub.rows[0].fields[f];
			int c = sim_col_index(rr->table, hf->col);
			int site = sim_site_index(w, hf->site);
			size_t v = c < 0 ? SIZE_MAX
					 : sim_model_find(&w->model, rr->table, rr->id, c, hf->hlc, site);

			if (v == SIZE_MAX) {
				sync_hlc_format(hf->hlc, a);
				ok = sim_fail(w, "hub holds %s/%s.%s at %s from %s, a version no edit made",
					      tname, rr->id, hf->col, a, hf->site);
			} else if (!sim_model_mark_chain(&w->model, v, 1u)) {
				ok = sim_fail(w, "model: broken parent chain under %s/%s.%s", tname, rr->id,
					      hf->col);
			}
		}
		for (unsigned r = 0; r < w->nrep && ok; r++) {
			struct sync_changeset rep;

			if (!snap(w, r, rr, &rep)) {
				ok = false;
				break;
			}
			if (rep.nfields != hub.nfields)
				ok = sim_fail(w, "r%u: %s/%s has %zu versioned fields, the hub %zu", r, tname,
					      rr->id, rep.nfields, hub.nfields);
			for (size_t f = 0; f < hub.nfields && hub.nrows == 1 && ok; f++) {
				const struct sync_field *hf = &hub.rows[0].fields[f];
				const struct sync_field *rf = field_of(&rep, hf->col);

				if (!rf) {
					ok = sim_fail(w, "r%u: %s/%s.%s has no version", r, tname, rr->id,
						      hf->col);
				} else if (rf->hlc != hf->hlc || strcmp(rf->site, hf->site) != 0 ||
					   !same_value(&rf->v, &hf->v)) {
					sync_hlc_format(hf->hlc, a);
					sync_hlc_format(rf->hlc, b);
					ok = sim_fail(w, "r%u: %s/%s.%s is at %s/%s, the hub at %s/%s", r,
						      tname, rr->id, hf->col, b, rf->site, a, hf->site);
				}
			}
			sync_changeset_release(&rep);
		}
		sync_changeset_release(&hub);
		if (!ok)
			return false;
	}
	return true;
}

static bool is_quiet(int t, int c)
{
	return strcmp(schema_tables[t].cols[c].name, "updated_at") == 0;
}

/* The model version a conflict names (loser or winner), SIZE_MAX if none. */
static size_t conflict_version(struct sim_world *w, const struct sync_conflict *c, bool loser,
			       int *t, int *col)
{
	*t = sim_table_index(c->table);
	*col = *t < 0 ? -1 : sim_col_index(*t, c->col);
	if (*col < 0)
		return SIZE_MAX;
	return sim_model_find(&w->model, *t, c->row_id, *col, loser ? c->loser_hlc : c->winner_hlc,
			      sim_site_index(w, loser ? c->loser_site : c->winner_site));
}

/* Prints the two versions of a spurious conflict and the chain between them. */
static void explain_spurious(struct sim_world *w, const struct sync_conflict *c, size_t lv,
			     size_t wv)
{
	bool loser_older = sim_model_is_ancestor(&w->model, lv, wv);
	size_t v = loser_older ? wv : lv, stop = loser_older ? lv : wv;
	char a[SYNC_HLC_STR_MAX];

	fprintf(stderr, "  seed %llu: spurious conflict on %s/%s.%s: the %s had seen the %s; chain:",
		(unsigned long long)w->seed, c->table, c->row_id, c->col,
		loser_older ? "winner" : "loser", loser_older ? "loser" : "winner");
	for (int steps = 0; steps < 64 && v != SIZE_MAX; steps++) {
		const struct sim_version *x = &w->model.v[v];

		sync_hlc_format(x->hlc, a);
		fprintf(stderr, " r%d@%s%s%s%s", x->site, a, x->acked ? "(acked)" : "",
			x->reached ? "(at hub)" : "", v == lv ? "[loser]" : v == wv ? "[winner]" : "");
		if (v == stop || x->parent_hlc == 0)
			break;
		v = sim_model_find(&w->model, x->table, x->id, x->col, x->parent_hlc, x->parent_site);
		fprintf(stderr, " <-");
	}
	fprintf(stderr, "\n");
}

/* Marks the chains under the losers of node i's conflicts with bit. */
static bool mark_losers(struct sim_world *w, unsigned i, unsigned bit, bool hub)
{
	struct sync_conflict *list = NULL;
	size_t n = 0;
	struct crm_error err;
	bool ok = true;
	char a[SYNC_HLC_STR_MAX];

	if (sync_conflicts_list(w->nodes[i].s, true, &list, &n, &err) != CRM_OK)
		return sim_fail(w, "node %u: sync_conflicts_list: %s", i, err.msg);
	if (hub)
		w->st->conflicts_hub += n;
	if (n != w->nodes[i].conflicts_reported) {
		sync_conflicts_release(list, n);
		return sim_fail(w, "node %u: sync_apply reported %lu conflicts in all, the conflicts "
				"table holds %zu", i, w->nodes[i].conflicts_reported, n);
	}
	for (size_t k = 0; k < n && ok; k++) {
		const struct sync_conflict *c = &list[k];
		int t, col;
		size_t lv = conflict_version(w, c, true, &t, &col);
		size_t wv;

		if (col >= 0 && is_quiet(t, col)) {
			ok = sim_fail(w, "node %u: conflict %s on quiet column %s.%s", i, c->id, c->table,
				      c->col);
			break;
		}
		if (lv == SIZE_MAX) {
			sync_hlc_format(c->loser_hlc, a);
			ok = sim_fail(w, "node %u: conflict %s names loser %s/%s.%s at %s from %s, a "
				      "version no edit made", i, c->id, c->table, c->row_id, c->col, a,
				      c->loser_site);
			break;
		}
		if (!sim_model_mark_chain(&w->model, lv, bit)) {
			ok = sim_fail(w, "model: broken parent chain under a loser");
			break;
		}
		if (!hub)
			continue;
		wv = conflict_version(w, c, false, &t, &col);
		if (wv == SIZE_MAX) {
			sync_hlc_format(c->winner_hlc, a);
			ok = sim_fail(w, "hub: conflict %s names winner %s/%s.%s at %s from %s, a "
				      "version no edit made", c->id, c->table, c->row_id, c->col, a,
				      c->winner_site);
			break;
		}
		if (sim_model_is_ancestor(&w->model, lv, wv) || sim_model_is_ancestor(&w->model, wv, lv)) {
			w->st->spurious++;
			if (w->cfg->verbose || w->cfg->strict)
				explain_spurious(w, c, lv, wv);
			if (w->cfg->strict)
				ok = sim_fail(w, "hub: spurious conflict %s on %s/%s.%s (one version had "
					      "seen the other)", c->id, c->table, c->row_id, c->col);
		}
	}
	sync_conflicts_release(list, n);
	return ok;
}

bool sim_check(struct sim_world *w)
{
	char a[SYNC_HLC_STR_MAX];

	if (!check_dumps(w))
		return false;
	for (size_t k = 0; k < w->model.n; k++)
		w->model.v[k].marks = 0;
	if (!check_versions(w))
		return false;
	if (!mark_losers(w, w->nrep, 1u, true))
		return false;
	for (unsigned r = 0; r < w->nrep; r++)
		if (!mark_losers(w, r, 2u << r, false))
			return false;
	for (size_t k = 0; k < w->model.n; k++) {
		const struct sim_version *v = &w->model.v[k];
		const char *tname = schema_tables[v->table].name;
		const char *cname = schema_tables[v->table].cols[v->col].name;

		if (v->quiet || (v->marks & 1u))
			continue;
		sync_hlc_format(v->hlc, a);
		if (v->acked)
			return sim_fail(w, "acknowledged write lost: r%d's %s/%s.%s at %s is not the final "
					"value, not seen by a later edit, not a recorded conflict",
					v->site, tname, v->id, cname, a);
		if (v->reached)
			return sim_fail(w, "conflict not recorded: r%d's %s/%s.%s at %s reached the hub "
					"but is neither final, seen by a later edit, nor a loser",
					v->site, tname, v->id, cname, a);
		if (!(v->marks & (2u << v->site)))
			return sim_fail(w, "write lost silently: r%d's %s/%s.%s at %s never reached the "
					"hub and is not in r%d's conflicts", v->site, tname, v->id,
					cname, a, v->site);
	}
	return true;
}
