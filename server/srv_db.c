/* Opens the server database: WAL, busy timeout, migrations, sync core. */
#include "srv_db.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crm_time.h"
#include "migrate.h"
#include "tables.h"

extern const struct schema_migration server_migrations[];
extern const size_t server_migrations_count;

#define BUSY_TIMEOUT_MS 10000
#define MAX_TABLES 16

static const char *const quiet_cols[] = {"updated_at", NULL};
static struct sync_table_spec spec[MAX_TABLES];

static pthread_once_t spec_once = PTHREAD_ONCE_INIT;

static void spec_fill(void)
{
	for (size_t i = 0; i < schema_tables_count && i < MAX_TABLES; i++) {
		spec[i].name = schema_tables[i].name;
		spec[i].quiet = quiet_cols;
	}
}

const struct sync_table_spec *srv_sync_tables(size_t *n)
{
	/* Filled once from the schema's own list (request threads open connections too). */
	pthread_once(&spec_once, spec_fill);
	*n = schema_tables_count < MAX_TABLES ? schema_tables_count : MAX_TABLES;
	return spec;
}

int srv_db_version(void)
{
	return server_migrations_count ? server_migrations[server_migrations_count - 1].version : 0;
}

static enum crm_err exec(sqlite3 *db, const char *sql, struct crm_error *err)
{
	char *msg = NULL;
	enum crm_err rc = CRM_OK;
	int src = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (src == SQLITE_BUSY || src == SQLITE_LOCKED)
		rc = crm_fail(err, CRM_EBUSY, "database busy: %s", msg ? msg : sqlite3_errmsg(db));
	else if (src != SQLITE_OK)
		rc = crm_fail(err, CRM_EDB, "%s: %s", sql, msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return rc;
}

enum crm_err srv_db_begin(sqlite3 *db, struct crm_error *err)
{
	return exec(db, "BEGIN IMMEDIATE", err);
}

enum crm_err srv_db_commit(sqlite3 *db, struct crm_error *err)
{
	return exec(db, "COMMIT", err);
}

void srv_db_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/* Applies the server's own migrations, tracked in srv_migrations. */
static enum crm_err server_migrate(sqlite3 *db, struct crm_error *err)
{
	sqlite3_stmt *get = NULL, *put = NULL;
	enum crm_err rc = CRM_OK;
	int have = 0;

	rc = srv_db_begin(db, err);
	if (rc != CRM_OK)
		return rc;
	rc = exec(db,
		  "CREATE TABLE IF NOT EXISTS srv_migrations (version INTEGER PRIMARY KEY, "
		  "name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
		  err);
	if (rc != CRM_OK)
		goto out;
	if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM srv_migrations", -1,
			       &get, NULL) != SQLITE_OK ||
	    sqlite3_step(get) != SQLITE_ROW) {
		rc = crm_fail(err, CRM_EDB, "cannot read server schema version: %s",
			      sqlite3_errmsg(db));
		goto out;
	}
	have = sqlite3_column_int(get, 0);
	if (have > srv_db_version()) {
		rc = crm_fail(err, CRM_EVERSION,
			      "server tables are version %d, newer than this crm-server (%d): "
			      "upgrade crm-server",
			      have, srv_db_version());
		goto out;
	}
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO srv_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			       -1, &put, NULL) != SQLITE_OK) {
		rc = crm_fail(err, CRM_EDB, "%s", sqlite3_errmsg(db));
		goto out;
	}
	for (size_t i = 0; i < server_migrations_count; i++) {
		const struct schema_migration *m = &server_migrations[i];

		if (m->version <= have)
			continue;
		rc = exec(db, m->sql, err);
		if (rc != CRM_OK)
			goto out;
		sqlite3_reset(put);
		sqlite3_bind_int(put, 1, m->version);
		sqlite3_bind_text(put, 2, m->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(put, 3, crm_now_ms());
		if (sqlite3_step(put) != SQLITE_DONE) {
			rc = crm_fail(err, CRM_EDB, "cannot record server migration %s: %s", m->name,
				      sqlite3_errmsg(db));
			goto out;
		}
	}
	rc = srv_db_commit(db, err);
out:
	sqlite3_finalize(get);
	sqlite3_finalize(put);
	if (rc != CRM_OK)
		srv_db_rollback(db);
	return rc;
}

/* True if the file has the server tables (made by `crm-server init`). */
/*
 * The client's search index (schema/migrations/0002_search.sql: search_docs,
 * search_index and their triggers) is for `crm search` on a laptop. Nobody
 * searches on the server, and its triggers cost about 60% of the server's CPU
 * on a push: the server drops them right after the schema's migrations
 * (idempotent; a fresh database creates and drops them once).
 */
static enum crm_err drop_search_index(sqlite3 *db, struct crm_error *err)
{
	static const char *const sql =
		"DROP TRIGGER IF EXISTS search_customers_ai;"
		"DROP TRIGGER IF EXISTS search_customers_au;"
		"DROP TRIGGER IF EXISTS search_customers_ad;"
		"DROP TRIGGER IF EXISTS search_contacts_ai;"
		"DROP TRIGGER IF EXISTS search_contacts_au;"
		"DROP TRIGGER IF EXISTS search_contacts_ad;"
		"DROP TRIGGER IF EXISTS search_activities_ai;"
		"DROP TRIGGER IF EXISTS search_activities_au;"
		"DROP TRIGGER IF EXISTS search_activities_ad;"
		"DROP TABLE IF EXISTS search_index;"
		"DROP TABLE IF EXISTS search_docs;";
	sqlite3_stmt *st = NULL;
	bool any = false;

	/* Only write (and take the write lock) when something is there. */
	if (sqlite3_prepare_v2(db,
			       "SELECT 1 FROM sqlite_master WHERE name GLOB 'search_*'",
			       -1, &st, NULL) == SQLITE_OK)
		any = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (!any)
		return CRM_OK;
	return exec(db, sql, err);
}

/*
 * Indexes the schema's migrations make for the laptop's own lookups (duplicate
 * warnings by phone, e-mail and USCC; crm today by due date) that no query of
 * crm-server uses: the server matches duplicates in memory (srv_dedup) and
 * reaches activities by customer through activities_author. Every pushed row
 * paid for them (3 of the 7 B-trees a new customer touched). A later schema
 * migration that names one of them must use IF EXISTS.
 */
static enum crm_err drop_client_indexes(sqlite3 *db, struct crm_error *err)
{
	static const char *const names[] = {"customers_phone", "customers_email", "customers_uscc",
					    "activities_customer", "activities_next", "deals_close",
					    "tasks_due"};
	sqlite3_stmt *st = NULL;
	bool any = false;
	enum crm_err rc = CRM_OK;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return crm_fail(err, CRM_EDB, "indexes: %s", sqlite3_errmsg(db));
	for (size_t i = 0; i < sizeof names / sizeof names[0] && !any; i++) {
		sqlite3_bind_text(st, 1, names[i], -1, SQLITE_STATIC);
		any = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (any)
		rc = exec(db,
			  "DROP INDEX IF EXISTS customers_phone; DROP INDEX IF EXISTS customers_email;"
			  "DROP INDEX IF EXISTS customers_uscc; DROP INDEX IF EXISTS activities_customer;"
			  "DROP INDEX IF EXISTS activities_next; DROP INDEX IF EXISTS deals_close;"
			  "DROP INDEX IF EXISTS tasks_due;",
			  err);
	return rc;
}

static bool initialized(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	bool yes = false;

	if (sqlite3_prepare_v2(db,
			       "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'srv_migrations'",
			       -1, &st, NULL) == SQLITE_OK)
		yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

enum crm_err srv_db_open(const char *path, unsigned mode, struct srv_db *out,
			 struct crm_error *err)
{
	enum crm_err rc = CRM_OK;
	/*
	 * No per-connection mutex: each connection is used by one thread at a
	 * time (the writer under app->write_lock, readers checked out of the pool).
	 */
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	size_t ntables = 0;
	const struct sync_table_spec *tables = srv_sync_tables(&ntables);

	out->db = NULL;
	out->sync = NULL;
	if (mode & SRV_DB_CREATE)
		flags |= SQLITE_OPEN_CREATE;
	else if (access(path, F_OK) != 0)
		return crm_fail(err, CRM_ENOTFOUND,
				"%s: no such database (make one with `crm-server init --db %s`)", path,
				path);
	if (sqlite3_open_v2(path, &out->db, flags, NULL) != SQLITE_OK) {
		rc = crm_fail(err, CRM_EDB, "cannot open %s: %s", path,
			      out->db ? sqlite3_errmsg(out->db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(out->db, BUSY_TIMEOUT_MS);
	rc = exec(out->db, "PRAGMA journal_mode = WAL", err);
	if (rc == CRM_OK)
		rc = exec(out->db, "PRAGMA synchronous = NORMAL", err);
	if (rc == CRM_OK)
		rc = exec(out->db, "PRAGMA foreign_keys = ON", err);
	/*
	 * Reads through a memory map and a larger page cache: a pull walks the
	 * whole feed, and with the 2 MB default every page came in by pread().
	 */
	if (rc == CRM_OK)
		rc = exec(out->db, "PRAGMA mmap_size = 1073741824", err);
	if (rc == CRM_OK)
		rc = exec(out->db, "PRAGMA cache_size = -32768", err);
	/*
	 * Checkpoint every 32 MB of WAL instead of 4 MB: a page written by many
	 * sync commits in between is copied back once.
	 */
	if (rc == CRM_OK)
		sqlite3_wal_autocheckpoint(out->db, SRV_CHECKPOINT_PAGES);
	if (rc != CRM_OK)
		goto out;
	if (!(mode & SRV_DB_CREATE) && !initialized(out->db)) {
		rc = crm_fail(err, CRM_ENOTFOUND,
			      "%s is not a crm-server database (make one with `crm-server init`)",
			      path);
		goto out;
	}
	if (!(mode & SRV_DB_READONLY)) {
		rc = schema_migrate(out->db, NULL, err);
		if (rc == CRM_OK)
			rc = drop_search_index(out->db, err);
		if (rc == CRM_OK)
			rc = server_migrate(out->db, err);
		if (rc == CRM_OK)
			rc = drop_client_indexes(out->db, err);
		if (rc != CRM_OK)
			goto out;
	}
	if (mode & SRV_DB_SYNC) {
		struct sync_options opt = {.max_skew_ms = 0};

		rc = sync_open(out->db, tables, ntables, &opt, &out->sync, err);
		if (rc != CRM_OK)
			goto out;
	}
out:
	if (rc != CRM_OK)
		srv_db_close(out);
	return rc;
}

void srv_db_close(struct srv_db *d)
{
	if (d->sync)
		sync_close(d->sync);
	d->sync = NULL;
	if (d->db)
		sqlite3_close(d->db);
	d->db = NULL;
}
