/*
 * srv_sync: what POST /v1/sync needs beyond the route itself: which columns
 * a client at an older schema version knows (so an additive schema change
 * never breaks laptops that have not upgraded yet).
 *
 * The column set of version v is read from the embedded migrations applied
 * to an in-memory database up to v, so it can never drift from the schema.
 */
#ifndef SERVER_SRV_SYNC_H
#define SERVER_SRV_SYNC_H

#include <stdbool.h>
#include <stddef.h>

#include "crm_err.h"

/* The oldest client schema version this server still syncs with. */
#define SRV_MIN_CLIENT_SCHEMA 1

struct srv_columns {
	char **keys; /* "table\x1fcolumn", sorted; malloc()ed */
	size_t n;
};

/* The replicated columns at schema version v. Release with srv_columns_release. */
enum crm_err srv_columns_load(int version, struct srv_columns *out, struct crm_error *err);
void srv_columns_release(struct srv_columns *c);

/* True if table.col exists at that version. */
bool srv_columns_has(const struct srv_columns *c, const char *table, const char *col);

#endif
