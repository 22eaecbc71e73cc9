/*
 * srv_push: the push half of POST /v1/sync (server authority).
 *
 * All functions run on the writer connection inside the caller's write
 * transaction (srv_app.write_lock held). srv_push_apply runs the duplicate
 * check of the batch's new customers on a worker thread while it applies
 * the batch (srv_dedup_push_begin); the worker has ended when it returns.
 */
#ifndef SERVER_SRV_PUSH_H
#define SERVER_SRV_PUSH_H

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "crm_err.h"
#include "srv_app.h"
#include "srv_users.h"
#include "sync.h"

/*
 * Checks and merges a change set pushed by who. Fields refused (clock from
 * the future, unknown table or column, bad type, value or size, no
 * permission, a server-only column) get receipts; the rest is merged (LWW,
 * conflicts recorded and logged in srv_conflicts). Then: a correcting change
 * at a fresh server HLC for each refused field of a row the device may keep,
 * an eviction for a row it may not have, the pusher as owner of new customers
 * pushed without one (audited), and the new customers marked as held by the
 * device. *result gets {"receipts":[...], "evict":[...], "notices":[...],
 * "accepted": N, "conflicts": N} (caller frees with cJSON_Delete).
 */
enum crm_err srv_push_apply(struct srv_app *app, const struct srv_session *who,
			    const struct sync_changeset *in, cJSON **result, struct crm_error *err);

/* The stored result of a batch this device pushed before into *stored (NULL if new; caller frees). */
enum crm_err srv_batch_lookup(sqlite3 *db, const char *device, const char *batch, cJSON **stored,
			      struct crm_error *err);

/* Remembers a batch and its result (srv_push_apply's) for replays. */
enum crm_err srv_batch_store(sqlite3 *db, const char *device, const char *batch,
			     const cJSON *result, struct crm_error *err);

/* Records the device's replica site id and when it was last seen. */
enum crm_err srv_device_touch(sqlite3 *db, const char *device, const char *site,
			      struct crm_error *err);

/* {"table": table, "id": id}, an entry of an answer's "evict" (caller owns it; NULL without memory). */
cJSON *srv_evict_entry(const char *table, const char *id);

#endif
