/*
 * srv_dedup: server-side de-duplication of customers (查重, 撞单).
 *
 * Every new customer and every edit of an identifying field (SCOL_IDENT),
 * arriving by sync or import, is matched against the whole pool with the
 * schema/match library (a struct match_index of every live customer):
 *
 *   - MATCH merges automatically (srv_dedup_merge): the customer registered
 *     first (earliest created_at, ties by id) survives; its empty fields are
 *     filled from the other; differing values are kept as conflicts; child
 *     rows move to it; the other becomes a tombstone (deleted = 1,
 *     merged_into = survivor) and an alias old id -> survivor makes later
 *     changes that still name the old id land on the survivor.
 *   - REVIEW goes to the review queue (srv_dup_pairs, status open); a
 *     dismissed pair is never proposed again.
 *
 * Every write of a merge is an ordinary captured write on a connection
 * opened with the sync core (SRV_DB_SYNC), so it replicates, and all of it
 * happens inside the caller's transaction. Each merge is logged (children
 * moved, fields filled with the version written, the tombstone's previous
 * state) so srv_dedup_unmerge() undoes it exactly.
 *
 * Threads: a struct srv_dedup is used under the writer's lock only; the
 * worker of srv_dedup_push_begin runs only between that call and
 * srv_dedup_push_end, and is the only one to touch the index meanwhile.
 */
#ifndef SERVER_SRV_DEDUP_H
#define SERVER_SRV_DEDUP_H

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crm_err.h"
#include "match.h"
#include "srv_users.h"
#include "sync.h"

#define SRV_DUP_NAME_MAX 320

/* The match index of the live customers, and how far srv_dup_touched was read. */
struct srv_dedup;

/*
 * Builds the index from every live customer (deleted = 0, not merged) of db.
 * Free with srv_dedup_free.
 */
enum crm_err srv_dedup_open(sqlite3 *db, struct srv_dedup **out, struct crm_error *err);
void srv_dedup_free(struct srv_dedup *d);

/* Number of customers in the index. */
size_t srv_dedup_count(const struct srv_dedup *d);

/*
 * Re-reads into the index the customers other processes (admin commands)
 * wrote since the last call (srv_dup_touched).
 */
enum crm_err srv_dedup_refresh(struct srv_dedup *d, sqlite3 *db, struct crm_error *err);

/*
 * Re-reads the customers whose index entries changed since the last call
 * (inside transactions that may have rolled back since). Call it at the
 * start of a transaction; srv_dedup_after_push does. Those changed by a
 * srv_dedup_after_push whose transaction committed are skipped: it leaves a
 * commit mark (a TEMP table row written in its transaction) that only a
 * commit keeps.
 */
enum crm_err srv_dedup_settle(struct srv_dedup *d, sqlite3 *db, struct crm_error *err);

/* What one merge did. */
struct srv_dup_merge_info {
	int64_t merge_id;
	char survivor[37], merged[37];
	char survivor_owner[SRV_NAME_MAX + 1], merged_owner[SRV_NAME_MAX + 1]; /* "" = pool */
	char survivor_name[SRV_DUP_NAME_MAX], merged_name[SRV_DUP_NAME_MAX];
	size_t moved;     /* child rows moved to the survivor */
	size_t filled;    /* empty survivor fields filled */
	size_t conflicts; /* differing values kept as conflicts */
};

/*
 * Merges customers x and y (either order: the survivor is the one registered
 * first) inside the caller's write transaction on db, whose sync core is s.
 * how says why ("sync", "review", "scan", "import"), by who (may be NULL);
 * v (may be NULL) the verdict that led to it. d (may be NULL) is kept up to
 * date. CRM_ENOTFOUND if either is not a customer, CRM_ECONFLICT if either is
 * not live (deleted or merged already) or they are the same.
 */
enum crm_err srv_dedup_merge(struct srv_dedup *d, sqlite3 *db, struct sync_db *s, const char *x,
			     const char *y, const char *how, const char *by,
			     const struct match_verdict *v, struct srv_dup_merge_info *info,
			     struct crm_error *err);

/*
 * Undoes a merge inside the caller's write transaction. ref is the merge log
 * id (digits) or the merged-away customer's id (its latest merge not undone).
 * Children go back where they were (those still under the survivor), the
 * tombstone is revived, filled fields are emptied again unless edited since,
 * the alias goes, and the pair is marked dismissed (never merged again
 * automatically). CRM_ENOTFOUND if no such merge is in force.
 */
enum crm_err srv_dedup_unmerge(struct srv_dedup *d, sqlite3 *db, struct sync_db *s,
			       const char *ref, const char *by, struct srv_dup_merge_info *info,
			       struct crm_error *err);

/* Counts of what srv_dedup_check did, summed over calls. */
struct srv_dup_stats {
	size_t checked, merged, queued;
};

/*
 * Matches customer id against the pool and acts: merges a MATCH (unless the
 * pair was dismissed), queues a REVIEW. A customer not live is skipped.
 * Inside the caller's write transaction. *merged_into (may be NULL) gets the
 * survivor when id was merged away, "" otherwise.
 */
enum crm_err srv_dedup_check(struct srv_dedup *d, sqlite3 *db, struct sync_db *s,
			     const char *id, const char *how, const char *by,
			     struct srv_dup_stats *stats, char merged_into[37],
			     struct crm_error *err);

/*
 * Sync hook, before the permission checks: rewrites every customer id of cs
 * that names a merged-away customer (a customers row's id, a child's
 * customer_id) to its survivor, following aliases. A pushed `deleted` of such
 * a customer row is dropped (a merged-away customer cannot delete the
 * survivor). *n (may be NULL) gets how many ids were rewritten.
 */
enum crm_err srv_dedup_rewrite(sqlite3 *db, struct sync_changeset *cs, size_t *n,
			       struct crm_error *err);

/*
 * May device write rows of customer id because id is the survivor of a
 * customer the device still holds, or was told to evict in an answer it has
 * not acknowledged (its pending edits of the merged-away record)?
 */
bool srv_dedup_writable(sqlite3 *db, const char *device, const char *id);

/*
 * Sync hook, after a push was applied (same transaction): checks every
 * customer of cs that is new or had an identifying field in it. At most
 * once per transaction (it settles first, which assumes the transaction of
 * its previous call has ended).
 */
enum crm_err srv_dedup_after_push(struct srv_dedup *d, sqlite3 *db, struct sync_db *s,
				  const struct sync_changeset *cs, const char *by,
				  struct crm_error *err);

/*
 * Push hooks that take the duplicate check of new customers off the push's
 * critical path. srv_push calls srv_dedup_push_begin before its permission
 * decisions and the apply of cs (writer's lock and transaction): it settles
 * and refreshes the index (what srv_dedup_after_push then skips), and the
 * customers of cs that look new (every column named once, identifying
 * values text or NULL, not deleted) are normalized, added to the index and
 * matched on a worker thread, from their pushed values, in the order
 * srv_dedup_after_push checks them, while the writer decides and applies.
 * srv_push names with srv_dedup_push_refused each customer row whose stored
 * values will not simply be the pushed ones (it existed, was refused whole,
 * a field of it was refused), and srv_dedup_push_applied says whether any
 * accepted field lost to a version in place. srv_dedup_push_end joins the
 * worker before srv_push returns (cs must stay unchanged until then). Then
 * srv_dedup_after_push(cs) records what the worker found (pairs, merges,
 * notices, in the same order) and checks every other customer as before:
 * it undoes the worker's additions from the first customer it cannot vouch
 * for, or before anything else changes the index, so every decision is the
 * one the serial check makes.
 *
 * The worker is only a shortcut: when it cannot start (settle or refresh
 * would re-read a customer cs writes, no thread, no memory),
 * srv_dedup_after_push checks everything itself. An error of the settle or
 * refresh in srv_dedup_push_begin is the push's.
 */
enum crm_err srv_dedup_push_begin(struct srv_dedup *d, sqlite3 *db,
				  const struct sync_changeset *cs, struct crm_error *err);
void srv_dedup_push_refused(struct srv_dedup *d, const struct sync_changeset *cs, size_t row);
/*
 * After the batch was applied: all_won false when some accepted field of cs
 * lost to (or equalled) a version in place, anywhere in the set; the new
 * customers are then read back before what the worker found is recorded.
 */
void srv_dedup_push_applied(struct srv_dedup *d, const struct sync_changeset *cs, bool all_won);
/* ok false: the push failed; what the worker added is taken out again at once. */
void srv_dedup_push_end(struct srv_dedup *d, bool ok);

/*
 * Tests and benchmarks: false makes srv_dedup_push_begin start nothing (the
 * serial check after the push, the reference). On by default.
 */
void srv_dedup_set_ahead(struct srv_dedup *d, bool on);

/* How many customers' checks were recorded from the worker's results, ever. */
size_t srv_dedup_ahead_recorded(const struct srv_dedup *d);

/*
 * The handout's part of the duplicate check (srv_handout_update, same
 * transaction): appends to notices (strings) the notices for this user the
 * device has not acknowledged, and, unless the device still has changes to
 * push, to evict ({"table","id"}) the rows an unmerge took out of its scope
 * that it has not acknowledged dropping. ack is the generation the device
 * acknowledged, newgen the one of this answer: what is appended is stamped
 * with newgen and *handed set, so it is sent again until ack reaches newgen.
 */
enum crm_err srv_dedup_handout(sqlite3 *db, const struct srv_session *who, bool more_push,
			       int64_t ack, int64_t newgen, cJSON *notices, cJSON *evict,
			       bool *handed, struct crm_error *err);

/*
 * Records that admin commands changed customer id (a running serve refreshes
 * its index from this). Inside the caller's transaction.
 */
enum crm_err srv_dedup_touch(sqlite3 *db, const char *id, struct crm_error *err);

/* Full duplicate scan of the index (match_index_scan on it). */
enum crm_err srv_dedup_index_scan(const struct srv_dedup *d, int nthreads, match_pair_cb cb,
				  void *ctx, struct crm_error *err);

/*
 * For a pair found by a scan: *live whether both are still live customers,
 * status the pair's recorded status ("" never decided, "open", "dismissed",
 * "merged").
 */
enum crm_err srv_dedup_pair_state(sqlite3 *db, const char *x, const char *y, char status[16],
				  bool *live, struct crm_error *err);

/* Puts the pair in the review queue (status open, score and reasons of v). */
enum crm_err srv_dedup_queue(sqlite3 *db, const char *x, const char *y,
			     const struct match_verdict *v, struct crm_error *err);

/* `crm-server dup list|merge|dismiss|unmerge|scan`; exit status. */
int srv_cmd_dup(int argc, char **argv);

#endif
