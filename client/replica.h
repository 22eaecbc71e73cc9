/*
 * replica: opening the rep's local database (the replica) for crm.
 *
 * Resolves where it lives (--db PATH, else $CRM_HOME/replica.db, CRM_HOME
 * defaulting to ~/.local/share/crm, created 0700), opens it with WAL and a
 * busy timeout, brings the schema up to date, and starts sync capture on every
 * business table so each write made through the handle is recorded for the
 * next sync. crm-server's admin commands reuse it.
 */
#ifndef CLIENT_REPLICA_H
#define CLIENT_REPLICA_H

#include <sqlite3.h>
#include <stdbool.h>

#include "crm_err.h"
#include "sync.h"

struct replica {
	sqlite3 *db;          /* owned */
	struct sync_db *sync; /* owned */
	char *path;           /* malloc()ed path of the database file */
};

/*
 * Opens (creating if needed) the replica at path, or the default one when
 * path is NULL. On failure r is left closed and err says what to do.
 */
enum crm_err replica_open(const char *path, struct replica *r, struct crm_error *err);

/* Closes everything r owns; safe on a zeroed or already closed replica. */
void replica_close(struct replica *r);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK (rollback never fails loudly). */
enum crm_err replica_begin(struct replica *r, struct crm_error *err);
enum crm_err replica_commit(struct replica *r, struct crm_error *err);
void replica_rollback(struct replica *r);

/*
 * Ends a command's transaction: commits when rc is CRM_OK, otherwise (or if
 * the commit fails) rolls back, so a refused command leaves the replica as it
 * was. Returns the outcome (rc, or the commit's error).
 */
enum crm_err replica_finish(struct replica *r, enum crm_err rc, struct crm_error *err);

/*
 * The user logged in on this replica (sync state "user"), malloc()ed into
 * *user (caller frees), or NULL when nobody has logged in.
 */
enum crm_err replica_user(struct replica *r, char **user, struct crm_error *err);

#endif
