/*
 * srv_pool: the customer pool (公海) and every change of a customer's owner.
 *
 * Ownership changes only here, on the server: a claim from the pool (first
 * come, first served: the UPDATE only matches while owner IS NULL, inside a
 * BEGIN IMMEDIATE transaction, after the claim limit and the lock-out are
 * checked in the same transaction), a release back to the pool, a manager's
 * assignment or transfer within the team, head office's anywhere, and the
 * recycling sweep that returns customers nobody followed up.
 *
 * Each change is an ordinary UPDATE of customers.owner on a connection opened
 * with the sync core (SRV_DB_SYNC), so the capture triggers record it like any
 * edit and it replicates; the scope bookkeeping of /v1/sync then brings the
 * customer whole to its new owner's replicas and evicts it from the old
 * owner's (after their pending edits are pushed). Each change is also written
 * to the ownership audit (srv_audit) with who, when, from, to and why.
 *
 * Every function runs its own IMMEDIATE transaction on db (do not call them
 * inside one) and reads the clock through crm_now_ms() (CRM_NOW).
 */
#ifndef SERVER_SRV_POOL_H
#define SERVER_SRV_POOL_H

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crm_err.h"
#include "srv_config.h"
#include "srv_users.h"

#define SRV_DAY_MS ((int64_t)86400000)
#define SRV_POOL_NAME_MAX 256

/* Which customers a reference may name (besides an exact id, always honoured). */
enum srv_pool_among {
	SRV_AMONG_ALL,    /* every live customer (head office) */
	SRV_AMONG_POOL,   /* customers in the pool (claims) */
	SRV_AMONG_OWNED   /* customers owned by the given user (releases) */
};

/* An ownership change made, or why it was refused. */
struct srv_pool_change {
	char customer[37];
	char name[SRV_POOL_NAME_MAX];       /* the customer's name, "" when none */
	char old_owner[SRV_NAME_MAX + 1];   /* "" = the pool */
	char new_owner[SRV_NAME_MAX + 1];   /* "" = the pool */
	int64_t at;                         /* UTC ms of the change */
	bool unchanged;                     /* it was already so: nothing written */
	int64_t last_follow_up;             /* recycle: the follow-up (or hand-over) counted */
	/*
	 * On failure, a short code for front ends: "notfound", "taken", "limit",
	 * "lockout", "notyours", "forbidden", "nouser", "ambiguous"; "" otherwise.
	 */
	char refusal[16];
};

/*
 * Finds the customer ref names: its id (any live customer), else among the
 * customers `among` selects (owner: the user for SRV_AMONG_OWNED): ext_ref,
 * a unique id prefix of 4+ characters, the exact name, a unique part of the
 * name. CRM_ENOTFOUND, or CRM_EAMBIGUOUS with up to five candidates named.
 */
enum crm_err srv_pool_resolve(sqlite3 *db, const char *ref, enum srv_pool_among among,
			      const char *owner, char id[37], struct crm_error *err);

/*
 * who claims customer from the pool. Refused (change->refusal says which)
 * when it has an owner ("taken", CRM_ECONFLICT, naming the owner), when who
 * owns claim_limit customers already ("limit", CRM_EPERM), or when who lost
 * or gave it up less than lockout_days ago ("lockout", CRM_EPERM, saying from
 * when they may). Claiming a customer one already owns changes nothing
 * (CRM_OK, change->unchanged).
 */
enum crm_err srv_pool_claim(sqlite3 *db, const struct srv_user *who, const char *customer,
			    struct srv_pool_change *change, struct crm_error *err);

/*
 * Returns customer to the pool. who NULL is head office at the console;
 * otherwise who must own it, or manage the owner's team, or be an admin
 * ("notyours", CRM_EPERM). note (may be NULL) is added to the audit reason.
 */
enum crm_err srv_pool_release(sqlite3 *db, const struct srv_user *who, const char *customer,
			      const char *note, struct srv_pool_change *change,
			      struct crm_error *err);

/*
 * Makes to the owner of customer (from the pool: an assignment; from someone:
 * a transfer). who NULL is head office at the console and may assign anywhere,
 * as may an admin; a manager only customers in the pool or owned within their
 * team, and only to a member of their team; a rep never ("forbidden",
 * CRM_EPERM). to must be an enabled user ("nouser", CRM_ENOTFOUND).
 */
enum crm_err srv_pool_assign(sqlite3 *db, const struct srv_user *who, const char *customer,
			     const char *to, const char *note, struct srv_pool_change *change,
			     struct crm_error *err);

/*
 * The recycling sweep at time now: every owned, live customer whose owner's
 * latest follow-up (an activity they authored, dated by when it happened but
 * never later than when it was recorded) or, if later, the time they got the
 * customer (the ownership audit; its created_at without one) is
 * recycle_days or more ago goes back to the pool, unless it has an open deal
 * (a live deal not won or lost) and exempt_open_deals is on. *list gets the
 * changes made (malloc()ed, caller frees; NULL when *n is 0).
 */
enum crm_err srv_pool_recycle(sqlite3 *db, int64_t now, struct srv_pool_change **list,
			      size_t *n, struct crm_error *err);

/*
 * The sweep in two steps, so `serve` scans on a reader connection without
 * holding the write lock. srv_pool_due: the customers due at now (read only;
 * in its own read transaction unless one is open); *list malloc()ed, caller
 * frees. srv_pool_recycle_due: in one IMMEDIATE transaction, recycles those
 * of list[0..*n-1] still due and still owned by the same user (each is
 * checked again), compacts list to them and sets *n to their number.
 * srv_pool_recycle is the two in a row on one connection.
 */
enum crm_err srv_pool_due(sqlite3 *db, int64_t now, struct srv_pool_change **list, size_t *n,
			  struct crm_error *err);
enum crm_err srv_pool_recycle_due(sqlite3 *db, int64_t now, struct srv_pool_change *list,
				  size_t *n, struct crm_error *err);

/*
 * The customers in the pool, by name, optionally only those whose city or
 * industry contains the given text (NULL or "": any), at most limit (0: all),
 * as a new JSON array (caller owns it) of {"id","name","kind","city","region",
 * "industry","stage","tier","source","pool_since","previous_owner"}.
 */
enum crm_err srv_pool_list(sqlite3 *db, const char *city, const char *industry, size_t limit,
			   cJSON **out, struct crm_error *err);

/*
 * True if device still holds customer: it was handed the customer (srv_scope
 * in_scope = 1) and has not yet been told to evict it. Such a device may push
 * its pending edits to a customer that has just left its scope (a claim, a
 * transfer, recycling): they were made while it was the device's, they are
 * kept, and the eviction follows in the same round trip.
 */
bool srv_pool_device_holds(sqlite3 *db, const char *device, const char *customer);

#endif
