/*
 * conflict: the conflicts table (losing values kept, never silently dropped).
 *
 * A conflict's id is a UUID-shaped BLAKE2b hash of table, row, column and the
 * loser's (HLC, site), so the same conflict found at the server and at a
 * laptop, or twice, is one record (INSERT OR IGNORE).
 */
#ifndef SYNC_CONFLICT_H
#define SYNC_CONFLICT_H

#include <stdbool.h>

#include "db.h"

/* The deterministic id of a conflict. */
void conflict_id(const char *tbl, const char *rid, const char *col, sync_hlc loser_hlc,
		 const char *loser_site, char out[37]);

/*
 * Records a conflict detected now (INSERT OR IGNORE). *added (may be NULL) is
 * set to whether it was new.
 */
enum crm_err conflict_add(struct sync_db *s, const char *tbl, const char *rid, const char *col,
			  const struct sync_value *loser, sync_hlc loser_hlc, const char *loser_site,
			  const struct sync_value *winner, sync_hlc winner_hlc,
			  const char *winner_site, bool *added, struct crm_error *err);

#endif
