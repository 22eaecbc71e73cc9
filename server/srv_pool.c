/* The pool: claims, releases, assignments and recycling as captured edits of customers.owner. */
#include "srv_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm_id.h"
#include "crm_time.h"
#include "crm_utf8.h"
#include "srv_audit.h"
#include "srv_db.h"

#define MAX_CANDIDATES 5

/* A live customer: not a tombstone, not merged into another. */
#define LIVE "c.deleted = 0 AND c.merged_into IS NULL"

static void copy_text(sqlite3_stmt *st, int i, char *out, size_t n)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	snprintf(out, n, "%s", s ? (const char *)s : "");
}

static enum crm_err sql_fail(sqlite3 *db, struct crm_error *err, const char *what)
{
	int code = sqlite3_errcode(db);

	return crm_fail(err, code == SQLITE_BUSY || code == SQLITE_LOCKED ? CRM_EBUSY : CRM_EDB,
			"%s: %s", what, sqlite3_errmsg(db));
}

static void refuse(struct srv_pool_change *c, const char *code)
{
	snprintf(c->refusal, sizeof c->refusal, "%s", code);
}

/* ---- resolving a reference ------------------------------------------- */

/* Runs one lookup; adds up to MAX_CANDIDATES ids/names, counts all matches. */
static enum crm_err lookup(sqlite3 *db, const char *sql, const char *ref, const char *owner,
			   char ids[][37], char names[][80], size_t *found, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	int i;

	*found = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(db, err, "customer lookup");
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	i = sqlite3_bind_parameter_index(st, "?2");
	if (i > 0) {
		if (owner)
			sqlite3_bind_text(st, i, owner, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, i);
	}
	for (;;) {
		int step = sqlite3_step(st);

		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			rc = sql_fail(db, err, "customer lookup");
			break;
		}
		if (*found < MAX_CANDIDATES) {
			const char *nm = (const char *)sqlite3_column_text(st, 1);
			size_t cols = 0, bytes = nm ? crm_utf8_prefix(nm, 30, &cols) : 0;

			copy_text(st, 0, ids[*found], 37);
			/* Cut at a character boundary: the message may travel as JSON. */
			snprintf(names[*found], 80, "%.*s", (int)(bytes < 79 ? bytes : 0), nm ? nm : "");
		}
		(*found)++;
	}
	sqlite3_finalize(st);
	return rc;
}

enum crm_err srv_pool_resolve(sqlite3 *db, const char *ref, enum srv_pool_among among,
			      const char *owner, char id[37], struct crm_error *err)
{
	static const char *const among_cond[] = {
		"1",
		"c.owner IS NULL",
		"c.owner = ?2",
	};
	/* Tried in order; the first that matches anything decides. */
	static const char *const tries[] = {
		"c.id = lower(?1)",
		"c.ext_ref = ?1",
		"length(?1) >= 4 AND substr(c.id, 1, length(?1)) = lower(?1)",
		"c.name = ?1",
		"instr(c.name, ?1) > 0",
	};
	char ids[MAX_CANDIDATES][37];
	char names[MAX_CANDIDATES][80];
	size_t found = 0;
	enum crm_err rc = CRM_OK;

	if (!ref || !ref[0])
		return crm_fail(err, CRM_EUSAGE, "which customer? give its id, name or ext_ref");
	for (size_t t = 0; t < sizeof tries / sizeof tries[0]; t++) {
		char cond[256], sql[512];

		/* Only an exact id may name a customer outside the chosen set. */
		snprintf(cond, sizeof cond, "%s AND %s", tries[t], t == 0 ? "1" : among_cond[among]);
		snprintf(sql, sizeof sql,
			 "SELECT c.id, coalesce(c.name, '') FROM customers c WHERE %s AND " LIVE
			 " ORDER BY c.name, c.id LIMIT 50",
			 cond);
		rc = lookup(db, sql, ref, owner, ids, names, &found, err);
		if (rc != CRM_OK)
			return rc;
		if (found)
			break;
	}
	if (found == 1) {
		snprintf(id, 37, "%s", ids[0]);
		return CRM_OK;
	}
	if (found == 0)
		return crm_fail(err, CRM_ENOTFOUND, "no customer%s matches \"%s\"",
				among == SRV_AMONG_POOL	   ? " in the pool"
				: among == SRV_AMONG_OWNED ? " of yours"
							   : "",
				ref);
	{
		char list[600];
		size_t used = 0;

		list[0] = '\0';
		for (size_t i = 0; i < found && i < MAX_CANDIDATES; i++) {
			int w = snprintf(list + used, sizeof list - used, "%s%s (%.8s)", i ? ", " : "",
					 names[i][0] ? names[i] : "(no name)", ids[i]);

			if (w < 0 || (size_t)w >= sizeof list - used) {
				list[used] = '\0'; /* whole entries only */
				break;
			}
			used += (size_t)w;
		}
		return crm_fail(err, CRM_EAMBIGUOUS,
				"\"%s\" matches %zu customers: %s%s; give more of the name or the id", ref,
				found, list, found > MAX_CANDIDATES ? ", ..." : "");
	}
}

/* ---- reading one customer -------------------------------------------- */

struct cust {
	bool found, live;
	char owner[SRV_NAME_MAX + 1]; /* "" = the pool */
	char name[SRV_POOL_NAME_MAX];
};

static enum crm_err read_customer(sqlite3 *db, const char *id, struct cust *c,
				  struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	int step;

	memset(c, 0, sizeof *c);
	if (sqlite3_prepare_v2(db,
			       "SELECT c.owner, coalesce(c.name, ''), (" LIVE ") FROM customers c"
			       " WHERE c.id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return sql_fail(db, err, "customer");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		c->found = true;
		copy_text(st, 0, c->owner, sizeof c->owner);
		copy_text(st, 1, c->name, sizeof c->name);
		c->live = sqlite3_column_int(st, 2) != 0;
	} else if (step != SQLITE_DONE) {
		rc = sql_fail(db, err, "customer");
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * The captured edit itself: owner from expect ("" = NULL) to to ("" = NULL).
 * *changed false when the row no longer matched (someone else was first).
 * *cache keeps the prepared UPDATE (preparing it compiles the capture
 * triggers: worth reusing in a sweep); the caller finalizes it.
 */
static enum crm_err set_owner_cached(sqlite3 *db, sqlite3_stmt **cache, const char *id,
				     const char *expect, const char *to, int64_t now, bool *changed,
				     struct crm_error *err)
{
	sqlite3_stmt *st = *cache;
	enum crm_err rc = CRM_OK;

	*changed = false;
	if (!st && sqlite3_prepare_v2(db,
				      "UPDATE customers SET owner = ?2, updated_at = ?4"
				      " WHERE id = ?1 AND owner IS ?3 AND deleted = 0",
				      -1, cache, NULL) != SQLITE_OK)
		return sql_fail(db, err, "owner");
	st = *cache;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (to[0])
		sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
	if (expect[0])
		sqlite3_bind_text(st, 3, expect, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = sql_fail(db, err, "owner");
	else
		*changed = sqlite3_changes(db) == 1;
	sqlite3_reset(st);
	return rc;
}

static enum crm_err set_owner(sqlite3 *db, const char *id, const char *expect, const char *to,
			      int64_t now, bool *changed, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = set_owner_cached(db, &st, id, expect, to, now, changed, err);

	sqlite3_finalize(st);
	return rc;
}

static enum crm_err query_i64(sqlite3 *db, const char *sql, const char *a, const char *b,
			      int64_t *out, bool *null, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;

	*out = 0;
	if (null)
		*null = true;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(db, err, "pool");
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
			*out = sqlite3_column_int64(st, 0);
			if (null)
				*null = false;
		}
	} else {
		rc = sql_fail(db, err, "pool");
	}
	sqlite3_finalize(st);
	return rc;
}

static void day_text(int64_t ms, char out[CRM_TIME_ISO_MAX])
{
	crm_time_format_utc(ms, out);
	out[10] = '\0'; /* YYYY-MM-DD */
}

static void start_change(struct srv_pool_change *ch, const char *id)
{
	memset(ch, 0, sizeof *ch);
	snprintf(ch->customer, sizeof ch->customer, "%s", id);
}

/*
 * Reads the customer a pool operation is about into c and notes its name and
 * owner in ch; a customer that does not exist, was deleted or merged away is
 * refused (CRM_ENOTFOUND, ch marked "notfound").
 */
static enum crm_err read_live(sqlite3 *db, const char *customer, struct cust *c,
			      struct srv_pool_change *ch, struct crm_error *err)
{
	enum crm_err rc = read_customer(db, customer, c, err);

	if (rc != CRM_OK)
		return rc;
	snprintf(ch->name, sizeof ch->name, "%s", c->name);
	snprintf(ch->old_owner, sizeof ch->old_owner, "%s", c->owner);
	if (!c->found || !c->live) {
		refuse(ch, "notfound");
		return crm_fail(err, CRM_ENOTFOUND, "customer %s %s", customer,
				c->found ? "was deleted or merged into another" : "does not exist");
	}
	return CRM_OK;
}

/* ---- claim ----------------------------------------------------------- */

enum crm_err srv_pool_claim(sqlite3 *db, const struct srv_user *who, const char *customer,
			    struct srv_pool_change *ch, struct crm_error *err)
{
	struct srv_pool_rules rules;
	struct cust c;
	int64_t now = crm_now_ms(), lost_at = 0, owned = 0;
	bool none = true, changed = false;
	enum crm_err rc;

	start_change(ch, customer);
	ch->at = now;
	rc = srv_db_begin(db, err);
	if (rc != CRM_OK)
		return rc;
	rc = srv_config_rules(db, &rules, err);
	if (rc == CRM_OK)
		rc = read_live(db, customer, &c, ch, err);
	if (rc != CRM_OK)
		goto out;
	if (strcmp(c.owner, who->name) == 0) {
		snprintf(ch->new_owner, sizeof ch->new_owner, "%s", who->name);
		ch->unchanged = true;
		goto out;
	}
	if (c.owner[0]) {
		refuse(ch, "taken");
		rc = crm_fail(err, CRM_ECONFLICT, "%s is not in the pool: %s owns it",
			      c.name[0] ? c.name : customer, c.owner);
		goto out;
	}
	/* The lock-out: when did who last lose or give it up? */
	rc = query_i64(db,
		       "SELECT max(at) FROM srv_ownership WHERE customer_id = ?1 AND old_owner = ?2",
		       customer, who->name, &lost_at, &none, err);
	if (rc != CRM_OK)
		goto out;
	if (!none && rules.lockout_days > 0 && now < lost_at + rules.lockout_days * SRV_DAY_MS) {
		char since[CRM_TIME_ISO_MAX], until[CRM_TIME_ISO_MAX];

		crm_time_format_utc(lost_at, since);
		crm_time_format_utc(lost_at + rules.lockout_days * SRV_DAY_MS, until);
		refuse(ch, "lockout");
		rc = crm_fail(err, CRM_EPERM,
			      "you owned %s until %.16s UTC: a previous owner may claim it again only "
			      "after %lld days, from %.16s UTC",
			      c.name[0] ? c.name : customer, since, (long long)rules.lockout_days, until);
		goto out;
	}
	rc = query_i64(db,
		       "SELECT count(*) FROM customers c WHERE c.owner = ?1 AND " LIVE, who->name,
		       NULL, &owned, NULL, err);
	if (rc != CRM_OK)
		goto out;
	if (owned >= rules.claim_limit) {
		refuse(ch, "limit");
		rc = crm_fail(err, CRM_EPERM,
			      "you own %lld customers, the most a rep may own is %lld (pool.claim_limit): "
			      "release one first (crm release REF)",
			      (long long)owned, (long long)rules.claim_limit);
		goto out;
	}
	rc = set_owner(db, customer, "", who->name, now, &changed, err);
	if (rc != CRM_OK)
		goto out;
	if (!changed) {
		refuse(ch, "taken");
		rc = crm_fail(err, CRM_ECONFLICT, "%s was claimed by someone else first",
			      c.name[0] ? c.name : customer);
		goto out;
	}
	snprintf(ch->new_owner, sizeof ch->new_owner, "%s", who->name);
	rc = srv_audit_record(db, customer, NULL, who->name, who->name, "claimed from the pool", now,
			      err);
out:
	if (rc == CRM_OK)
		rc = srv_db_commit(db, err);
	if (rc != CRM_OK)
		srv_db_rollback(db);
	return rc;
}

/* ---- release and assign ---------------------------------------------- */

/* May who (a manager) act on customers owned by owner? Their own, or their team's. */
static bool manages(sqlite3 *db, const struct srv_user *who, const char *owner)
{
	struct srv_user o;

	if (strcmp(owner, who->name) == 0)
		return true;
	if (!who->team[0] || srv_user_get(db, owner, &o, NULL) != CRM_OK)
		return false;
	return strcmp(o.team, who->team) == 0;
}

enum crm_err srv_pool_release(sqlite3 *db, const struct srv_user *who, const char *customer,
			      const char *note, struct srv_pool_change *ch, struct crm_error *err)
{
	struct cust c;
	int64_t now = crm_now_ms();
	bool changed = false;
	char reason[SRV_NAME_MAX + 300];
	enum crm_err rc;

	start_change(ch, customer);
	ch->at = now;
	rc = srv_db_begin(db, err);
	if (rc != CRM_OK)
		return rc;
	rc = read_live(db, customer, &c, ch, err);
	if (rc != CRM_OK)
		goto out;
	if (!c.owner[0]) {
		ch->unchanged = true;
		goto out;
	}
	if (who && strcmp(c.owner, who->name) != 0 &&
	    !(who->role == SRV_ADMIN || (who->role == SRV_MANAGER && manages(db, who, c.owner)))) {
		refuse(ch, "notyours");
		rc = crm_fail(err, CRM_EPERM, "%s is not yours to release (%s owns it)",
			      c.name[0] ? c.name : customer, c.owner);
		goto out;
	}
	rc = set_owner(db, customer, c.owner, "", now, &changed, err);
	if (rc != CRM_OK)
		goto out;
	if (!changed) {
		rc = crm_fail(err, CRM_EBUSY, "the owner of %s changed meanwhile: try again", customer);
		goto out;
	}
	if (who && strcmp(c.owner, who->name) == 0)
		snprintf(reason, sizeof reason, "released to the pool%s%s", note && note[0] ? ": " : "",
			 note && note[0] ? note : "");
	else
		snprintf(reason, sizeof reason, "returned to the pool by %s%s%s",
			 who ? who->name : "head office", note && note[0] ? ": " : "",
			 note && note[0] ? note : "");
	rc = srv_audit_record(db, customer, c.owner, NULL, who ? who->name : "crm-server", reason, now,
			      err);
out:
	if (rc == CRM_OK)
		rc = srv_db_commit(db, err);
	if (rc != CRM_OK)
		srv_db_rollback(db);
	return rc;
}

enum crm_err srv_pool_assign(sqlite3 *db, const struct srv_user *who, const char *customer,
			     const char *to, const char *note, struct srv_pool_change *ch,
			     struct crm_error *err)
{
	struct cust c;
	struct srv_user target;
	struct crm_error uerr;
	int64_t now = crm_now_ms();
	bool changed = false;
	char reason[SRV_NAME_MAX * 2 + 300];
	enum crm_err rc;

	start_change(ch, customer);
	ch->at = now;
	if (who && who->role == SRV_REP) {
		refuse(ch, "forbidden");
		return crm_fail(err, CRM_EPERM,
				"only a manager or an admin may assign customers (a rep claims them: "
				"crm pool claim REF)");
	}
	rc = srv_db_begin(db, err);
	if (rc != CRM_OK)
		return rc;
	if (srv_user_get(db, to, &target, &uerr) != CRM_OK || target.disabled) {
		refuse(ch, "nouser");
		rc = crm_fail(err, CRM_ENOTFOUND, "no such user: %s%s", to,
			      uerr.code == CRM_OK ? " (disabled)" : "");
		goto out;
	}
	rc = read_live(db, customer, &c, ch, err);
	if (rc != CRM_OK)
		goto out;
	if (who && who->role == SRV_MANAGER) {
		if (c.owner[0] && !manages(db, who, c.owner)) {
			refuse(ch, "forbidden");
			rc = crm_fail(err, CRM_EPERM, "%s is owned by %s, outside your team",
				      c.name[0] ? c.name : customer, c.owner);
			goto out;
		}
		if (!manages(db, who, to)) {
			refuse(ch, "forbidden");
			rc = crm_fail(err, CRM_EPERM, "%s is not in your team (%s)", to,
				      who->team[0] ? who->team : "none");
			goto out;
		}
	}
	snprintf(ch->new_owner, sizeof ch->new_owner, "%s", target.name);
	if (strcmp(c.owner, target.name) == 0) {
		ch->unchanged = true;
		goto out;
	}
	rc = set_owner(db, customer, c.owner, target.name, now, &changed, err);
	if (rc != CRM_OK)
		goto out;
	if (!changed) {
		rc = crm_fail(err, CRM_EBUSY, "the owner of %s changed meanwhile: try again", customer);
		goto out;
	}
	if (c.owner[0])
		snprintf(reason, sizeof reason, "transferred from %s to %s%s%s", c.owner, target.name,
			 note && note[0] ? ": " : "", note && note[0] ? note : "");
	else
		snprintf(reason, sizeof reason, "assigned from the pool to %s%s%s", target.name,
			 note && note[0] ? ": " : "", note && note[0] ? note : "");
	rc = srv_audit_record(db, customer, c.owner, target.name, who ? who->name : "crm-server", reason,
			      now, err);
out:
	if (rc == CRM_OK)
		rc = srv_db_commit(db, err);
	if (rc != CRM_OK)
		srv_db_rollback(db);
	return rc;
}

/* ---- recycling ------------------------------------------------------- */

/*
 * Per owned live customer: owner, name, when the owner got it, their latest
 * follow-up, whether a deal is open. A follow-up counts from when it happened
 * (occurred_at) but never later than when it was recorded (created_at).
 * A customer its owner created (offline, synced later) is theirs since its
 * created_at, as the laptop sees it, not since the sync that brought it.
 */
#define DUE_SQL \
	"SELECT c.id, c.owner, coalesce(c.name, '')," \
	" coalesce((SELECT CASE WHEN o.reason = 'created' AND c.created_at > 0" \
	"                        AND c.created_at < o.at THEN c.created_at ELSE o.at END" \
	"           FROM srv_ownership o WHERE o.customer_id = c.id AND o.new_owner = c.owner" \
	"           ORDER BY o.seq DESC LIMIT 1), c.created_at)," \
	" (SELECT max(CASE WHEN a.occurred_at IS NULL THEN a.created_at" \
	"                  WHEN a.created_at > 0 AND a.occurred_at > a.created_at THEN a.created_at" \
	"                  ELSE a.occurred_at END)" \
	"    FROM activities a WHERE a.customer_id = c.id AND a.author = c.owner AND a.deleted = 0)," \
	" EXISTS (SELECT 1 FROM deals d WHERE d.customer_id = c.id AND d.deleted = 0" \
	"         AND coalesce(d.stage, '') NOT IN ('won', 'lost'))" \
	" FROM customers c WHERE c.owner IS NOT NULL AND " LIVE

static const char due_all[] = DUE_SQL;
static const char due_one[] = DUE_SQL " AND c.id = ?1";

/* If the row st is on is due at now, fills ch (unless NULL) and returns true. */
static bool row_due(sqlite3_stmt *st, const struct srv_pool_rules *rules, int64_t now,
		    struct srv_pool_change *ch)
{
	int64_t got = sqlite3_column_int64(st, 3);
	int64_t last = sqlite3_column_type(st, 4) == SQLITE_NULL ? got : sqlite3_column_int64(st, 4);

	if (got > last)
		last = got;
	if (now < last + rules->recycle_days * SRV_DAY_MS)
		return false;
	if (rules->exempt_open_deals && sqlite3_column_int(st, 5))
		return false;
	if (ch) {
		start_change(ch, (const char *)sqlite3_column_text(st, 0));
		copy_text(st, 1, ch->old_owner, sizeof ch->old_owner);
		copy_text(st, 2, ch->name, sizeof ch->name);
		ch->at = now;
		ch->last_follow_up = last;
	}
	return true;
}

enum crm_err srv_pool_due(sqlite3 *db, int64_t now, struct srv_pool_change **list, size_t *n,
			  struct crm_error *err)
{
	struct srv_pool_rules rules;
	struct srv_pool_change *v = NULL;
	size_t len = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	bool own_txn = sqlite3_get_autocommit(db) != 0;
	enum crm_err rc;

	*list = NULL;
	*n = 0;
	/* One read transaction: a consistent snapshot, no write lock. */
	if (own_txn && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return sql_fail(db, err, "recycle");
	rc = srv_config_rules(db, &rules, err);
	if (rc != CRM_OK)
		goto out;
	if (sqlite3_prepare_v2(db, due_all, -1, &st, NULL) != SQLITE_OK) {
		rc = sql_fail(db, err, "recycle");
		goto out;
	}
	for (;;) {
		int step = sqlite3_step(st);

		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			rc = sql_fail(db, err, "recycle");
			goto out;
		}
		if (!row_due(st, &rules, now, NULL))
			continue;
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct srv_pool_change *nv = realloc(v, ncap * sizeof *nv);

			if (!nv) {
				rc = crm_fail(err, CRM_ENOMEM, "out of memory");
				goto out;
			}
			v = nv;
			cap = ncap;
		}
		row_due(st, &rules, now, &v[len++]);
	}
	*list = v;
	*n = len;
	v = NULL;
out:
	sqlite3_finalize(st);
	free(v);
	if (own_txn)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

enum crm_err srv_pool_recycle_due(sqlite3 *db, int64_t now, struct srv_pool_change *list,
				  size_t *n, struct crm_error *err)
{
	struct srv_pool_rules rules;
	sqlite3_stmt *one = NULL, *upd = NULL;
	size_t kept = 0;
	enum crm_err rc;

	if (*n == 0)
		return CRM_OK;
	rc = srv_db_begin(db, err);
	if (rc != CRM_OK)
		return rc;
	rc = srv_config_rules(db, &rules, err);
	if (rc != CRM_OK)
		goto out;
	if (sqlite3_prepare_v2(db, due_one, -1, &one, NULL) != SQLITE_OK) {
		rc = sql_fail(db, err, "recycle");
		goto out;
	}
	for (size_t i = 0; i < *n; i++) {
		struct srv_pool_change ch;
		char reason[SRV_NAME_MAX + 200], day[CRM_TIME_ISO_MAX];
		bool changed = false;
		int step;

		/* Still due now that we write? (a visit may have arrived meanwhile) */
		sqlite3_reset(one);
		sqlite3_bind_text(one, 1, list[i].customer, -1, SQLITE_STATIC);
		step = sqlite3_step(one);
		if (step != SQLITE_ROW && step != SQLITE_DONE) {
			rc = sql_fail(db, err, "recycle");
			goto out;
		}
		if (step != SQLITE_ROW || !row_due(one, &rules, now, &ch) ||
		    strcmp(ch.old_owner, list[i].old_owner) != 0)
			continue;
		sqlite3_reset(one);
		rc = set_owner_cached(db, &upd, ch.customer, ch.old_owner, "", now, &changed, err);
		if (rc != CRM_OK)
			goto out;
		if (!changed)
			continue;
		day_text(ch.last_follow_up, day);
		snprintf(reason, sizeof reason,
			 "recycled to the pool: no follow-up by %s since %s (pool.recycle_days %lld)",
			 ch.old_owner, day, (long long)rules.recycle_days);
		rc = srv_audit_record(db, ch.customer, ch.old_owner, NULL, "server", reason, now, err);
		if (rc != CRM_OK)
			goto out;
		list[kept++] = ch;
	}
	rc = srv_db_commit(db, err);
out:
	sqlite3_finalize(one);
	sqlite3_finalize(upd);
	if (rc != CRM_OK)
		srv_db_rollback(db);
	else
		*n = kept;
	return rc;
}

enum crm_err srv_pool_recycle(sqlite3 *db, int64_t now, struct srv_pool_change **list,
			      size_t *n, struct crm_error *err)
{
	enum crm_err rc = srv_pool_due(db, now, list, n, err);

	if (rc == CRM_OK)
		rc = srv_pool_recycle_due(db, now, *list, n, err);
	if (rc != CRM_OK || *n == 0) {
		free(*list);
		*list = NULL;
		*n = 0;
	}
	return rc;
}

/* ---- listing --------------------------------------------------------- */

static void add_text_or_null(cJSON *o, const char *key, sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	if (s)
		cJSON_AddStringToObject(o, key, (const char *)s);
	else
		cJSON_AddNullToObject(o, key);
}

enum crm_err srv_pool_list(sqlite3 *db, const char *city, const char *industry, size_t limit,
			   cJSON **out, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	cJSON *a = cJSON_CreateArray();
	enum crm_err rc = CRM_OK;

	*out = NULL;
	if (!a)
		return crm_fail(err, CRM_ENOMEM, "out of memory");
	if (sqlite3_prepare_v2(
		    db,
		    "SELECT c.id, c.name, c.kind, c.city, c.region, c.industry, c.stage, c.tier, c.source,"
		    " (SELECT max(o.at) FROM srv_ownership o WHERE o.customer_id = c.id"
		    "   AND o.new_owner IS NULL),"
		    " (SELECT o.old_owner FROM srv_ownership o WHERE o.customer_id = c.id"
		    "   AND o.new_owner IS NULL ORDER BY o.seq DESC LIMIT 1)"
		    " FROM customers c WHERE c.owner IS NULL AND " LIVE
		    " AND (?1 IS NULL OR instr(lower(c.city), lower(?1)) > 0)"
		    " AND (?2 IS NULL OR instr(lower(c.industry), lower(?2)) > 0)"
		    " ORDER BY c.name, c.id LIMIT ?3",
		    -1, &st, NULL) != SQLITE_OK) {
		rc = sql_fail(db, err, "pool list");
		goto out;
	}
	if (city && city[0])
		sqlite3_bind_text(st, 1, city, -1, SQLITE_STATIC);
	if (industry && industry[0])
		sqlite3_bind_text(st, 2, industry, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, limit ? (sqlite3_int64)limit : -1);
	for (;;) {
		int step = sqlite3_step(st);
		cJSON *o;

		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			rc = sql_fail(db, err, "pool list");
			goto out;
		}
		o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(a, o)) {
			cJSON_Delete(o);
			rc = crm_fail(err, CRM_ENOMEM, "out of memory");
			goto out;
		}
		add_text_or_null(o, "id", st, 0);
		add_text_or_null(o, "name", st, 1);
		add_text_or_null(o, "kind", st, 2);
		add_text_or_null(o, "city", st, 3);
		add_text_or_null(o, "region", st, 4);
		add_text_or_null(o, "industry", st, 5);
		add_text_or_null(o, "stage", st, 6);
		add_text_or_null(o, "tier", st, 7);
		add_text_or_null(o, "source", st, 8);
		if (sqlite3_column_type(st, 9) != SQLITE_NULL) {
			char when[CRM_TIME_ISO_MAX];

			crm_time_format_utc(sqlite3_column_int64(st, 9), when);
			cJSON_AddStringToObject(o, "pool_since", when);
		} else {
			cJSON_AddNullToObject(o, "pool_since");
		}
		add_text_or_null(o, "previous_owner", st, 10);
	}
	*out = a;
	a = NULL;
out:
	sqlite3_finalize(st);
	cJSON_Delete(a);
	return rc;
}

/* ---- the previous owner's pending edits ------------------------------- */

bool srv_pool_device_holds(sqlite3 *db, const char *device, const char *customer)
{
	sqlite3_stmt *st = NULL;
	bool yes = false;

	if (!device || !customer)
		return false;
	if (sqlite3_prepare_v2(db,
			       "SELECT 1 FROM srv_scope WHERE device_id = ?1 AND customer_id = ?2"
			       " AND in_scope = 1",
			       -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, customer, -1, SQLITE_STATIC);
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}
