/*
 * match_db: likely duplicates of one customer among the customers table of
 * a database (the rep's replica), offline, with the scoring of match.h.
 *
 * Used by `crm customer add` to warn before a second record of the same
 * customer is typed in. It reads every live customer (a replica holds the
 * rep's scope, thousands of rows) and scores each against the new one, so it
 * needs no index kept on disk.
 */
#ifndef SCHEMA_MATCH_DB_H
#define SCHEMA_MATCH_DB_H

#include <stddef.h>

#include <sqlite3.h>

#include "crm_err.h"
#include "match.h"

/* One likely duplicate. */
struct match_db_hit {
	char id[64];
	char name[128];               /* its name as stored (cut at 127 bytes) */
	struct match_verdict verdict; /* REVIEW or MATCH */
};

/*
 * Scores in against every customer of db with deleted = 0 (merged ones are
 * tombstones, so they are skipped) except exclude_id (may be NULL), and
 * writes the best REVIEW/MATCH hits, best first, into hits (at most max);
 * *n gets their number. CRM_EDB if the table cannot be read, CRM_EUTF8 if
 * in has bad text. Rows whose text is not valid UTF-8 are skipped.
 */
enum crm_err match_db_similar(sqlite3 *db, const struct match_input *in, const char *exclude_id,
			      struct match_db_hit *hits, size_t max, size_t *n,
			      struct crm_error *err);

#endif
