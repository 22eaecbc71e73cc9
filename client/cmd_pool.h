/*
 * cmd_pool: the customer pool (公海) on the rep's side.
 *
 *   crm pool list [--city C] [--industry I] [--limit N] [--json]   (online)
 *   crm pool claim REF [--json]                                   (online)
 *   crm release REF [--note TEXT] [--json]                         (online)
 *   crm today: customers of yours that return to the pool soon     (offline)
 *
 * Claims and releases change ownership, which only the server does: they are
 * sent with the bearer token crm login saved, and a sync then brings the
 * claimed customer in (or evicts the released one). Offline they fail with a
 * message saying to connect and retry. The warning in `crm today` needs no
 * network: the server's pool rules come with every sync (and the pool
 * commands) and are kept in the replica's sync state under "pool_rules".
 */
#ifndef CLIENT_CMD_POOL_H
#define CLIENT_CMD_POOL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "commands.h"
#include "crm_err.h"
#include "replica.h"

int cmd_pool(int argc, char **argv, struct cli_ctx *ctx);    /* list | claim */
int cmd_release(int argc, char **argv, struct cli_ctx *ctx); /* release REF */

/* The sync state key holding the server's pool rules (JSON text). */
#define POOL_RULES_STATE "pool_rules"

/* The rules a replica needs to warn offline (the server's; defaults until the first sync). */
struct pool_rules {
	int64_t recycle_days;   /* 30 */
	int64_t warn_days;      /* 3 */
	bool exempt_open_deals; /* on */
	bool from_server;       /* false: the defaults, no sync brought the rules yet */
};

/*
 * Keeps the server's rules (the "pool" object of a sync, login or pool
 * answer) in rep's sync state, inside the caller's transaction if one is open.
 * A malformed object is ignored (CRM_OK).
 */
enum crm_err pool_rules_store(struct replica *rep, const cJSON *pool, struct crm_error *err);

/* The rules kept in rep, or the defaults. */
void pool_rules_load(struct replica *rep, struct pool_rules *out);

/* A customer of the replica's user that returns to the pool soon. */
struct pool_warning {
	char id[37];
	char name[256];
	int64_t last_follow_up; /* UTC ms: latest follow-up by the owner, or when they got it */
	int64_t deadline;       /* UTC ms it becomes due for recycling */
	int64_t days_left;      /* whole days left, rounded up; 0 = due at the next sweep */
};

/*
 * The customers owned by the replica's user (sync state "user") that are due
 * for recycling within warn_days of now, soonest first, computed from the
 * replica alone like the server does: the latest activity the owner authored
 * (when it happened, never later than when it was recorded) or, if later,
 * when the owner got the customer (the version of its owner field); none with
 * an open deal when those are exempt. *list is malloc()ed (caller frees; NULL
 * when *n is 0). No user logged in: an empty list.
 */
enum crm_err pool_warnings(struct replica *rep, int64_t now, const struct pool_rules *rules,
			   struct pool_warning **list, size_t *n, struct crm_error *err);

/* The warnings as a new JSON array (caller owns it), NULL without memory. */
cJSON *pool_warnings_json(const struct pool_warning *list, size_t n);

/* The warnings for people: a heading with the window and an aligned table. */
void pool_warnings_print(FILE *f, const struct pool_rules *rules,
			 const struct pool_warning *list, size_t n);

#endif
