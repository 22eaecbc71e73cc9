/*
 * srv_audit: the record of every change of a customer's owner.
 *
 * One row per change in srv_ownership (server migration 1): the customer,
 * the owner before and after (NULL = the public pool), who made the change
 * ("server" for the recycling sweep), why, and when (UTC ms, crm_now_ms()).
 * The pool reads it back for the lock-out and for when an owner got a customer.
 */
#ifndef SERVER_SRV_AUDIT_H
#define SERVER_SRV_AUDIT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "crm_err.h"
#include "srv_users.h"

#define SRV_AUDIT_REASON_MAX 256

struct srv_audit_entry {
	int64_t seq;
	int64_t at;                                /* UTC ms */
	char old_owner[SRV_NAME_MAX + 1];          /* "" = the pool (or none) */
	char new_owner[SRV_NAME_MAX + 1];          /* "" = the pool */
	char by[SRV_NAME_MAX + 1];                 /* "" when unknown */
	char reason[SRV_AUDIT_REASON_MAX];
};

/*
 * Records one change, inside the caller's transaction. old_owner, new_owner
 * and by may be NULL. reason is required ("claimed", "recycled: ...").
 */
enum crm_err srv_audit_record(sqlite3 *db, const char *customer, const char *old_owner,
			      const char *new_owner, const char *by, const char *reason, int64_t at,
			      struct crm_error *err);

/*
 * Every change of customer's owner, oldest first. *list is malloc()ed
 * (caller frees; NULL when *n is 0).
 */
enum crm_err srv_audit_customer(sqlite3 *db, const char *customer, struct srv_audit_entry **list,
				size_t *n, struct crm_error *err);

#endif
