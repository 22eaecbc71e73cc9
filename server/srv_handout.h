/*
 * srv_handout: per-device scope bookkeeping for POST /v1/sync.
 *
 * Decides which customers a device must receive whole (they entered its
 * scope), which it must evict (they left it), and which conflicts it must be
 * told of, tied to generations the device acknowledges (srv_devices.gen,
 * srv_scope, srv_conflicts). Runs on the writer connection inside the
 * caller's write transaction. Incremental: it reads the customers logged in
 * srv_scope_log (server migration 4) since the device's last round trip, not
 * every customer in its scope; see srv_handout.c.
 */
#ifndef SERVER_SRV_HANDOUT_H
#define SERVER_SRV_HANDOUT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crm_err.h"
#include "srv_app.h"
#include "srv_users.h"
#include "sync.h"

/* What srv_handout_update hands out: srv_handout_init, then srv_handout_release. */
struct srv_handout {
	struct sync_changeset snap; /* whole customers entering the scope */
	cJSON *evict;               /* array to append customers leaving it to */
	cJSON *conflicts;           /* array to append conflicts to */
	cJSON *notices;             /* array of strings for people */
	int64_t gen;                /* what the device acknowledges next time */
	bool more;                  /* entering customers or conflicts left for the next page */
};

/* An empty handout with its three arrays; CRM_ENOMEM without memory (release it anyway). */
enum crm_err srv_handout_init(struct srv_handout *so);

/* Frees what so holds (arrays the caller took over are NULL) and empties it. */
void srv_handout_release(struct srv_handout *so);

/*
 * Works out the handout for who's device, which pulls from cursor and last
 * committed generation ack_in. more_push: the device has more batches queued
 * (no evictions until it has pushed them). budget bounds the snapshot fields.
 * A replica that never pulled (cursor 0) gets everything from the feed: its
 * scope is just recorded, and the customers it pushed that have left its
 * scope since are evicted. The duplicate check's notices and evictions go
 * out here too (srv_dedup_handout). so->gen: the generation the device
 * acknowledges once it has
 * committed this answer (ack_in, or 0 for a fresh replica, when nothing was
 * handed out).
 */
enum crm_err srv_handout_update(struct srv_app *app, const struct srv_session *who, int64_t cursor,
				int64_t ack_in, bool more_push, size_t budget, struct srv_handout *so,
				struct crm_error *err);

#endif
