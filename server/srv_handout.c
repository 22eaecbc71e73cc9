/*
 * srv_handout: what a device is told besides the feed, kept per device.
 *
 * Customers entering its scope are sent whole (unless the feed past its
 * cursor already holds all of them), customers leaving it are evicted once
 * the device has nothing more to push, and conflicts on rows it sees are
 * listed. Each answer that hands something out gets a new generation; the
 * device acknowledges the last generation it committed, and anything newer is
 * sent again, so a lost answer loses nothing. What is sent again is stamped
 * with the new answer's generation, and what an answer leaves out although
 * the device has not acknowledged it (a full page, evictions held back while
 * the device still pushes) with the generation after it: acknowledging a
 * generation always means having everything stamped up to it.
 *
 * Incremental: triggers (server/migrations/0004_scope_log.sql) log every
 * customer whose scope-relevant facts change (created, owner, merged_into,
 * deleted, a held entry dropped to be sent whole again) in srv_scope_log with
 * a growing seq, and each device remembers how far it has processed that log
 * for customers entering its scope (srv_devices.scope_seen) and leaving it
 * (evict_seen). A round trip looks only at the customers logged since, plus
 * its own handouts not yet acknowledged (srv_scope gen > ack, indexed). A
 * change of any user's role or team logs the empty id, and a device that never
 * processed the log has 0: both walk the whole scope, as every round trip once
 * did. Invariants this rests on: once a device processed the log up to N,
 * every customer then in its scope had an in_scope 1 entry (entering), and
 * every in_scope 1 entry was in scope (leaving); any customer for which this
 * stops being true has been logged past N.
 */
#include <stdio.h>
#include <string.h>

#include "srv_dedup.h"
#include "srv_handout.h"
#include "srv_push.h"
#include "srv_scope.h"
#include "tables.h"

#define MAX_CONFLICTS_PER_PAGE 500

/* Appends the snapshot of a customer and every row under it to out. */
enum crm_err srv_snapshot_customer(struct sync_db *s, sqlite3 *db, const char *id,
				   struct sync_changeset *out, struct crm_error *err)
{
	enum crm_err rc = CRM_OK;

	for (size_t i = 0; i < schema_tables_count && rc == CRM_OK; i++) {
		const struct schema_table *t = &schema_tables[i];
		sqlite3_stmt *st = NULL;
		char sql[256];

		if (!t->parent) {
			snprintf(sql, sizeof sql, "SELECT id FROM \"%s\" WHERE id = ?1", t->name);
		} else {
			snprintf(sql, sizeof sql, "SELECT id FROM \"%s\" WHERE \"%s\" = ?1", t->name,
				 t->parent);
		}
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
			return crm_fail(err, CRM_EDB, "snapshot: %s", sqlite3_errmsg(db));
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		while (rc == CRM_OK && sqlite3_step(st) == SQLITE_ROW) {
			struct sync_changeset one;
			const char *rid = (const char *)sqlite3_column_text(st, 0);

			rc = sync_row_snapshot(s, t->name, rid, &one, err);
			if (rc == CRM_ENOTFOUND) {
				rc = CRM_OK;
				continue;
			}
			for (size_t r = 0; rc == CRM_OK && r < one.nrows; r++) {
				struct sync_row *nr = sync_changeset_add_row(out, one.rows[r].table, one.rows[r].id);

				if (!nr) {
					rc = crm_fail(err, CRM_ENOMEM, "out of memory");
					break;
				}
				for (size_t f = 0; f < one.rows[r].nfields && rc == CRM_OK; f++) {
					/* A field never written has no version: nothing to send. */
					if (one.rows[r].fields[f].hlc == 0)
						continue;
					if (sync_row_add_field(out, nr, &one.rows[r].fields[f]) != CRM_OK)
						rc = crm_fail(err, CRM_ENOMEM, "out of memory");
				}
			}
			sync_changeset_release(&one);
		}
		sqlite3_finalize(st);
	}
	return rc;
}

/*
 * Does any field of the customer or of a row under it carry a feed position at
 * or before cursor? If none does, the feed past cursor holds all of it (a
 * customer created since, by a teammate or on the user's other laptop) and
 * no snapshot is needed. Reads sync_clock, the replication core's clock
 * table (PRIMARY KEY (tbl, rid, col), seq = the feed position).
 */
static enum crm_err has_history_before(sqlite3 *db, sqlite3_stmt **cache, const char *id,
				       int64_t cursor, bool *older, struct crm_error *err)
{
	char sql[2048];
	size_t len = 0;
	sqlite3_stmt *st = *cache;
	enum crm_err rc = CRM_OK;

	*older = true;
	if (st)
		goto run;

	len += (size_t)snprintf(sql + len, sizeof sql - len,
				"SELECT EXISTS (SELECT 1 FROM sync_clock WHERE tbl = 'customers' AND rid = ?1"
				" AND seq <= ?2)");
	for (size_t i = 0; i < schema_tables_count && len < sizeof sql; i++) {
		const struct schema_table *t = &schema_tables[i];

		if (!t->parent)
			continue;
		len += (size_t)snprintf(sql + len, sizeof sql - len,
					" OR EXISTS (SELECT 1 FROM \"%s\" x JOIN sync_clock k ON k.tbl = '%s'"
					" AND k.rid = x.id WHERE x.\"%s\" = ?1 AND k.seq <= ?2)",
					t->name, t->name, t->parent);
	}
	if (len >= sizeof sql)
		return CRM_OK; /* too many tables to ask: send the snapshot */
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return crm_fail(err, CRM_EDB, "scope: %s", sqlite3_errmsg(db));
	*cache = st;
run:
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, cursor);
	if (sqlite3_step(st) == SQLITE_ROW)
		*older = sqlite3_column_int(st, 0) != 0;
	else
		rc = crm_fail(err, CRM_EDB, "scope: %s", sqlite3_errmsg(db));
	sqlite3_reset(st);
	return rc;
}

/* Runs sql with ?1 device, ?2 a and ?3 b (where the statement has them). */
static enum crm_err exec_bound(sqlite3 *db, const char *sql, const char *device, int64_t a,
			       int64_t b, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return crm_fail(err, CRM_EDB, "scope: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, a);
	if (sqlite3_bind_parameter_count(st) >= 3)
		sqlite3_bind_int64(st, 3, b);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = crm_fail(err, CRM_EDB, "scope: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* One round trip's state, shared by the steps below. */
struct handout_ctx {
	sqlite3 *db;
	struct sync_db *s;
	const struct srv_session *who;
	const char *dev;
	const char *cond;     /* srv_scope_cond of the user's role */
	int64_t cursor;
	int64_t ack;          /* the generation the device has committed */
	int64_t newgen;       /* the generation of what this answer hands out */
	sqlite3_stmt *mark;   /* INSERT OR REPLACE INTO srv_scope (?1 dev, ?2, ?3, ?4) */
	sqlite3_stmt *hist;   /* has_history_before's cache */
	bool handed;          /* something handed out: the answer gets newgen */
};

static enum crm_err mark_customer(struct handout_ctx *h, const char *id, int in_scope,
				  struct crm_error *err)
{
	sqlite3_reset(h->mark);
	sqlite3_bind_text(h->mark, 2, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(h->mark, 3, in_scope);
	sqlite3_bind_int64(h->mark, 4, h->newgen);
	h->handed = true;
	if (sqlite3_step(h->mark) != SQLITE_DONE)
		return crm_fail(err, CRM_EDB, "scope: %s", sqlite3_errmsg(h->db));
	return CRM_OK;
}

/* Prepares sql on the writer and binds the user, :dev, :ack, :seen and :gen (where present). */
static enum crm_err prepare(struct handout_ctx *h, const char *sql, int64_t seen, sqlite3_stmt **st,
			    struct crm_error *err)
{
	int i;

	if (sqlite3_prepare_v2(h->db, sql, -1, st, NULL) != SQLITE_OK)
		return crm_fail(err, CRM_EDB, "scope: %s", sqlite3_errmsg(h->db));
	srv_scope_bind(*st, &h->who->user);
	i = sqlite3_bind_parameter_index(*st, ":dev");
	if (i > 0)
		sqlite3_bind_text(*st, i, h->dev, -1, SQLITE_STATIC);
	i = sqlite3_bind_parameter_index(*st, ":ack");
	if (i > 0)
		sqlite3_bind_int64(*st, i, h->ack);
	i = sqlite3_bind_parameter_index(*st, ":seen");
	if (i > 0)
		sqlite3_bind_int64(*st, i, seen);
	i = sqlite3_bind_parameter_index(*st, ":gen");
	if (i > 0)
		sqlite3_bind_int64(*st, i, h->newgen);
	return CRM_OK;
}

/*
 * Customers to send whole: in scope now and either never handed out (or
 * evicted before), or handed out in a generation not yet acknowledged. walk:
 * look at every customer in scope; otherwise only at those logged past seen
 * and the device's unacknowledged handouts (entries this answer writes carry
 * newgen and are left out, so none is read twice). *done false when the
 * budget ran out first (the rest goes on the next page).
 */
static enum crm_err enter_customers(struct handout_ctx *h, bool walk, int64_t seen, size_t budget,
				    struct srv_handout *so, bool *done, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	char sql[2048];

	*done = true;
	if (walk)
		snprintf(sql, sizeof sql,
			 "SELECT c.id, s.in_scope FROM customers c"
			 " LEFT JOIN srv_scope s ON s.device_id = :dev AND s.customer_id = c.id"
			 " WHERE %s AND (s.in_scope IS NULL OR s.in_scope = 0 OR s.gen > :ack)",
			 h->cond);
	else
		snprintf(sql, sizeof sql,
			 "SELECT c.id, s.in_scope FROM"
			 " (SELECT customer_id AS id FROM srv_scope_log WHERE seq > :seen"
			 " UNION SELECT customer_id FROM srv_scope WHERE device_id = :dev AND in_scope = 1"
			 " AND gen > :ack AND gen < :gen) x"
			 " CROSS JOIN customers c ON c.id = x.id"
			 " LEFT JOIN srv_scope s ON s.device_id = :dev AND s.customer_id = c.id"
			 " WHERE %s AND (s.in_scope IS NULL OR s.in_scope = 0 OR s.gen > :ack)",
			 h->cond);
	rc = prepare(h, sql, seen, &st, err);
	if (rc != CRM_OK)
		goto out;
	while (rc == CRM_OK && sqlite3_step(st) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		bool older = true;

		if (so->snap.nfields >= budget) {
			so->more = true;
			*done = false;
			break;
		}
		rc = has_history_before(h->db, &h->hist, id, h->cursor, &older, err);
		/* All of it past the cursor: the feed brings it whole, no snapshot. */
		if (rc == CRM_OK && older)
			rc = srv_snapshot_customer(h->s, h->db, id, &so->snap, err);
		/* Sent again too: stamped with this answer's generation. */
		if (rc == CRM_OK)
			rc = mark_customer(h, id, 1, err);
	}
out:
	sqlite3_finalize(st);
	return rc;
}

/*
 * Customers to evict: handed out but no longer in scope, or evictions not yet
 * acknowledged. walk: check every entry the device holds; otherwise only
 * those logged past seen.
 */
static enum crm_err evict_customers(struct handout_ctx *h, bool walk, int64_t seen,
				    struct srv_handout *so, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	char sql[2048];

	if (walk)
		snprintf(sql, sizeof sql,
			 "SELECT s.customer_id, s.in_scope FROM srv_scope s WHERE s.device_id = :dev AND"
			 " ((s.in_scope = 1 AND NOT EXISTS (SELECT 1 FROM customers c"
			 " WHERE c.id = s.customer_id AND %s)) OR (s.in_scope = 0 AND s.gen > :ack"
			 " AND s.gen < :gen))",
			 h->cond);
	else
		snprintf(sql, sizeof sql,
			 "SELECT s.customer_id, s.in_scope FROM srv_scope_log l"
			 " CROSS JOIN srv_scope s ON s.device_id = :dev AND s.customer_id = l.customer_id"
			 " WHERE l.seq > :seen AND s.in_scope = 1 AND NOT EXISTS (SELECT 1 FROM customers c"
			 " WHERE c.id = s.customer_id AND %s)"
			 " UNION ALL SELECT customer_id, in_scope FROM srv_scope WHERE device_id = :dev"
			 " AND in_scope = 0 AND gen > :ack AND gen < :gen",
			 h->cond);
	rc = prepare(h, sql, seen, &st, err);
	if (rc != CRM_OK)
		goto out;
	while (rc == CRM_OK && sqlite3_step(st) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);

		cJSON_AddItemToArray(so->evict, srv_evict_entry("customers", id));
		rc = mark_customer(h, id, 0, err);
	}
out:
	sqlite3_finalize(st);
	return rc;
}

/* The newest seq of srv_scope_log, and that of its last "walk everything" entry. */
static enum crm_err log_position(sqlite3 *db, int64_t *top, int64_t *walk, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;

	*top = 0;
	*walk = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT (SELECT coalesce(max(seq), 0) FROM srv_scope_log),"
			       " (SELECT coalesce(max(seq), 0) FROM srv_scope_log WHERE customer_id = '')",
			       -1, &st, NULL) != SQLITE_OK)
		return crm_fail(err, CRM_EDB, "scope: %s", sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW) {
		*top = sqlite3_column_int64(st, 0);
		*walk = sqlite3_column_int64(st, 1);
	} else {
		rc = crm_fail(err, CRM_EDB, "scope: %s", sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	return rc;
}

enum crm_err srv_handout_init(struct srv_handout *so)
{
	memset(so, 0, sizeof *so);
	sync_changeset_init(&so->snap);
	so->evict = cJSON_CreateArray();
	so->conflicts = cJSON_CreateArray();
	so->notices = cJSON_CreateArray();
	return so->evict && so->conflicts && so->notices ? CRM_OK : CRM_ENOMEM;
}

void srv_handout_release(struct srv_handout *so)
{
	sync_changeset_release(&so->snap);
	cJSON_Delete(so->evict);
	cJSON_Delete(so->conflicts);
	cJSON_Delete(so->notices);
	memset(so, 0, sizeof *so);
	sync_changeset_init(&so->snap);
}

enum crm_err srv_handout_update(struct srv_app *app, const struct srv_session *who, int64_t cursor,
				int64_t ack_in, bool more_push, size_t budget, struct srv_handout *so,
				struct crm_error *err)
{
	sqlite3 *db = app->writer.db;
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	int64_t gen = 0, sent = 0, sent_gen = 0, acked = 0, ack = ack_in;
	int64_t scope_seen = 0, evict_seen = 0, top = 0, walk_from = 0;
	char sql[1024];
	struct handout_ctx h = {
		.db = db,
		.s = app->writer.sync,
		.who = who,
		.dev = who->device.id,
		.cond = srv_scope_cond(who->user.role),
		.cursor = cursor,
	};

	if (sqlite3_prepare_v2(db,
			       "SELECT gen, conflict_sent, conflict_sent_gen, conflict_acked, scope_seen,"
			       " evict_seen FROM srv_devices WHERE id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return crm_fail(err, CRM_EDB, "scope: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, h.dev, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		gen = sqlite3_column_int64(st, 0);
		sent = sqlite3_column_int64(st, 1);
		sent_gen = sqlite3_column_int64(st, 2);
		acked = sqlite3_column_int64(st, 3);
		scope_seen = sqlite3_column_int64(st, 4);
		evict_seen = sqlite3_column_int64(st, 5);
	}
	sqlite3_finalize(st);
	st = NULL;
	rc = log_position(db, &top, &walk_from, err);
	if (rc != CRM_OK)
		goto out;
	if (ack > gen)
		ack = gen; /* nobody acknowledges what was never handed out */
	if (cursor == 0)
		ack = 0;   /* a fresh replica has nothing yet */
	if (ack >= sent_gen && sent > acked)
		acked = sent;
	if (cursor == 0)
		acked = 0;
	h.ack = ack;
	h.newgen = gen + 1;
	/* Evictions the device confirmed are done with. */
	rc = exec_bound(db, "DELETE FROM srv_scope WHERE device_id = ?1 AND in_scope = 0 AND gen <= ?2",
			h.dev, ack, 0, err);
	if (rc != CRM_OK)
		goto out;
	if (sqlite3_prepare_v2(db,
			       "INSERT OR REPLACE INTO srv_scope (device_id, customer_id, in_scope, gen)"
			       " VALUES (?1, ?2, ?3, ?4)",
			       -1, &h.mark, NULL) != SQLITE_OK) {
		rc = crm_fail(err, CRM_EDB, "scope: %s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(h.mark, 1, h.dev, -1, SQLITE_STATIC);
	if (cursor == 0) {
		/*
		 * A replica that never pulled gets everything from the feed: just
		 * remember what it has. But what it holds already (customers it
		 * pushed) and that left its scope since (merged away, given to
		 * someone else) is evicted, once it has pushed everything: not
		 * forgotten, or it would stay on the laptop.
		 */
		if (!more_push) {
			rc = evict_customers(&h, true, 0, so, err);
			if (rc != CRM_OK)
				goto out;
		}
		snprintf(sql, sizeof sql,
			 "INSERT OR REPLACE INTO srv_scope (device_id, customer_id, in_scope, gen)"
			 " SELECT ?1, c.id, 1, ?2 FROM customers c WHERE %s",
			 h.cond);
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
			rc = crm_fail(err, CRM_EDB, "scope: %s", sqlite3_errmsg(db));
			goto out;
		}
		srv_scope_bind(st, &who->user);
		sqlite3_bind_text(st, 1, h.dev, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, h.newgen);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = crm_fail(err, CRM_EDB, "scope: %s", sqlite3_errmsg(db));
			goto out;
		}
		h.handed = h.handed || sqlite3_changes(db) > 0;
		sqlite3_finalize(st);
		st = NULL;
		/* Old eviction marks go; held customers out of scope stay until evicted. */
		rc = exec_bound(db, "DELETE FROM srv_scope WHERE device_id = ?1 AND gen <> ?2 AND in_scope = 0",
				h.dev, h.newgen, 0, err);
		if (rc != CRM_OK)
			goto out;
		scope_seen = top;
		if (!more_push)
			evict_seen = top;
	} else {
		bool done = true;

		rc = enter_customers(&h, scope_seen == 0 || walk_from > scope_seen, scope_seen, budget, so,
				     &done, err);
		if (rc != CRM_OK)
			goto out;
		if (done)
			scope_seen = top;
		/* Only once the device has pushed everything, so its pending edits reach the server first. */
		if (!more_push) {
			rc = evict_customers(&h, evict_seen == 0 || walk_from > evict_seen, evict_seen, so,
					     err);
			if (rc != CRM_OK)
				goto out;
			evict_seen = top;
		}
	}
	/* Conflicts recorded since the device's last acknowledgement, on rows it sees. */
	snprintf(sql, sizeof sql,
		 "SELECT k.seq, k.body FROM srv_conflicts k LEFT JOIN customers c ON c.id = k.customer_id"
		 " WHERE k.seq > :acked AND (%s) ORDER BY k.seq LIMIT %d",
		 h.cond, MAX_CONFLICTS_PER_PAGE);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = crm_fail(err, CRM_EDB, "scope: %s", sqlite3_errmsg(db));
		goto out;
	}
	srv_scope_bind(st, &who->user);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":acked"), acked);
	{
		int64_t upto = 0;
		int n = 0;

		while (sqlite3_step(st) == SQLITE_ROW) {
			cJSON *c = cJSON_Parse((const char *)sqlite3_column_text(st, 1));

			upto = sqlite3_column_int64(st, 0);
			n++;
			if (c)
				cJSON_AddItemToArray(so->conflicts, c);
		}
		if (n == MAX_CONFLICTS_PER_PAGE)
			so->more = true;
		if (n) {
			sent = upto;
			sent_gen = h.newgen;
			h.handed = true;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	/* What the duplicate check tells the device: notices, rows an unmerge took away. */
	{
		bool dup = false;

		rc = srv_dedup_handout(db, who, more_push, ack, h.newgen, so->notices, so->evict, &dup, err);
		if (rc != CRM_OK)
			goto out;
		h.handed = h.handed || dup;
	}
	/*
	 * The device acknowledges the generation of this answer: everything
	 * stamped with it is in the answer. Entries it has not acknowledged that
	 * this answer leaves out (the page was full, or evictions wait for its
	 * pushes) are stamped with the next generation, so that acknowledging
	 * this one does not cover them. An answer that hands nothing out gives
	 * the device back its own acknowledgement.
	 */
	so->gen = ack;
	if (h.handed) {
		so->gen = h.newgen;
		gen = h.newgen;
		rc = exec_bound(db,
				"UPDATE srv_scope SET gen = ?2 + 1 WHERE device_id = ?1"
				" AND in_scope IN (0, 1) AND gen > ?3 AND gen < ?2",
				h.dev, h.newgen, ack, err);
		if (rc != CRM_OK)
			goto out;
		if (sqlite3_changes(db) > 0)
			gen = h.newgen + 1;
	}
	if (sqlite3_prepare_v2(db,
			       "UPDATE srv_devices SET gen = ?2, conflict_sent = ?3, conflict_sent_gen = ?4,"
			       " conflict_acked = ?5, scope_seen = ?6, evict_seen = ?7 WHERE id = ?1",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = crm_fail(err, CRM_EDB, "scope: %s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, h.dev, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, gen);
	sqlite3_bind_int64(st, 3, sent);
	sqlite3_bind_int64(st, 4, sent_gen);
	sqlite3_bind_int64(st, 5, acked);
	sqlite3_bind_int64(st, 6, scope_seen);
	sqlite3_bind_int64(st, 7, evict_seen);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = crm_fail(err, CRM_EDB, "scope: %s", sqlite3_errmsg(db));
out:
	sqlite3_finalize(st);
	sqlite3_finalize(h.mark);
	sqlite3_finalize(h.hist);
	return rc;
}
