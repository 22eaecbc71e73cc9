/*
 * srv_db: the server's database file.
 *
 * One SQLite file in WAL mode holds the business tables (the same migrations
 * as every replica), the sync tables (the server is the hub and has its own
 * site id) and the server's own tables (server/migrations: users, devices,
 * processed batches, scope, ownership audit). Admin commands open it while
 * `serve` runs: every connection has a busy timeout, and write transactions
 * begin IMMEDIATE so writers queue instead of failing.
 */
#ifndef SERVER_SRV_DB_H
#define SERVER_SRV_DB_H

#include <sqlite3.h>
#include <stdbool.h>

#include "crm_err.h"
#include "sync.h"

/* WAL pages after which the server checkpoints (32 MB; srv_app hands it to a thread). */
#define SRV_CHECKPOINT_PAGES 8192

enum srv_db_mode {
	SRV_DB_CREATE = 1 << 0, /* make the file if missing (init) */
	SRV_DB_SYNC = 1 << 1,   /* open the replication core too (init, serve) */
	SRV_DB_READONLY = 1 << 2 /* a reader connection: no migrations run */
};

struct srv_db {
	sqlite3 *db;
	struct sync_db *sync; /* NULL unless opened with SRV_DB_SYNC */
};

/*
 * Opens path. Without SRV_DB_CREATE the file must exist and have been made by
 * `crm-server init` (CRM_ENOTFOUND otherwise, with a message saying so).
 * Unless SRV_DB_READONLY, brings the business schema and the server tables to
 * this binary's version. On failure nothing stays open. Release with
 * srv_db_close().
 */
enum crm_err srv_db_open(const char *path, unsigned mode, struct srv_db *out,
			 struct crm_error *err);
void srv_db_close(struct srv_db *d);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK with errors mapped to CRM_EDB or CRM_EBUSY. */
enum crm_err srv_db_begin(sqlite3 *db, struct crm_error *err);
enum crm_err srv_db_commit(sqlite3 *db, struct crm_error *err);
void srv_db_rollback(sqlite3 *db);

/*
 * The replicated tables (schema_tables) as the sync core wants them, with
 * updated_at quiet (bookkeeping, never a conflict). Points at static data.
 */
const struct sync_table_spec *srv_sync_tables(size_t *n);

/* The server's own migrations (generated from server/migrations/). */
int srv_db_version(void);

#endif
