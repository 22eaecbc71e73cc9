/* Opens the local replica: path, directory, pragmas, migrations, capture. */
#include "replica.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "migrate.h"
#include "rows.h"
#include "tables.h"

#define BUSY_TIMEOUT_MS 5000

/* Creates dir and its missing parents, each 0700. */
static enum crm_err make_dirs(const char *dir, struct crm_error *err)
{
	char path[4096];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof path)
		return crm_fail(err, CRM_EINVAL, "data directory \"%s\": path too long", dir);
	memcpy(path, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return crm_fail(err, CRM_EIO, "cannot create data directory %s: %s: "
				       "set CRM_HOME or --db to a writable place", path, strerror(errno));
		path[i] = i == n ? '\0' : '/';
	}
	return CRM_OK;
}

static enum crm_err default_path(char **out, struct crm_error *err)
{
	const char *home = getenv("CRM_HOME");
	char dir[4096];
	char file[4200];
	int w;
	enum crm_err rc;

	if (home && *home) {
		w = snprintf(dir, sizeof dir, "%s", home);
	} else {
		const char *h = getenv("HOME");

		if (!h || !*h)
			return crm_fail(err, CRM_EINVAL, "neither CRM_HOME nor HOME is set: "
				       "set CRM_HOME or pass --db PATH");
		w = snprintf(dir, sizeof dir, "%s/.local/share/crm", h);
	}
	if (w < 0 || (size_t)w >= sizeof dir)
		return crm_fail(err, CRM_EINVAL, "CRM_HOME is too long");
	rc = make_dirs(dir, err);
	if (rc != CRM_OK)
		return rc;
	snprintf(file, sizeof file, "%s/replica.db", dir);
	*out = strdup(file);
	return *out ? CRM_OK : crm_fail(err, CRM_ENOMEM, "out of memory");
}

enum crm_err replica_open(const char *path, struct replica *r, struct crm_error *err)
{
	static const char *const quiet[] = {"updated_at", NULL};
	struct sync_table_spec specs[16];
	enum crm_err rc = CRM_OK;
	char *msg = NULL;

	memset(r, 0, sizeof *r);
	if (path) {
		r->path = strdup(path);
		if (!r->path)
			rc = crm_fail(err, CRM_ENOMEM, "out of memory");
	} else {
		rc = default_path(&r->path, err);
	}
	if (rc != CRM_OK)
		goto out;
	if (sqlite3_open_v2(r->path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		rc = crm_fail(err, CRM_EDB, "cannot open the replica %s: %s: check that its "
			      "directory exists and is writable, or set CRM_HOME or --db", r->path,
			      r->db ? sqlite3_errmsg(r->db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(r->db, BUSY_TIMEOUT_MS);
	/* Every crm run opens and closes the replica: a checkpoint at each close
	 * would cost an fsync per command. SQLite checkpoints as the WAL grows. */
	sqlite3_db_config(r->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	/* A 32 MB page cache and in-memory statement journals keep a CSV
	 * import (one transaction, a savepoint per row) off the disk. */
	if (sqlite3_exec(r->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
				"PRAGMA foreign_keys = ON; PRAGMA cache_size = -32768; "
				"PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 8192",
			 NULL, NULL, &msg) != SQLITE_OK) {
		rc = crm_fail(err, CRM_EDB, "cannot set up the replica %s: %s: is it a crm database?",
			      r->path, msg ? msg : sqlite3_errmsg(r->db));
		goto out;
	}
	rc = schema_migrate(r->db, NULL, err);
	if (rc != CRM_OK) {
		/* Say which file: with --db and CRM_HOME it is not always obvious. */
		char why[sizeof err->msg];

		snprintf(why, sizeof why, "%s", err->msg);
		rc = crm_fail(err, rc, "the replica %s: %s", r->path, why);
		goto out;
	}
	if (schema_tables_count > sizeof specs / sizeof specs[0]) {
		rc = crm_fail(err, CRM_EINTERNAL, "too many tables");
		goto out;
	}
	for (size_t i = 0; i < schema_tables_count; i++) {
		specs[i].name = schema_tables[i].name;
		specs[i].quiet = quiet;
	}
	rc = sync_open(r->db, specs, schema_tables_count, NULL, &r->sync, err);
out:
	sqlite3_free(msg);
	if (rc != CRM_OK)
		replica_close(r);
	return rc;
}

void replica_close(struct replica *r)
{
	if (r->sync)
		sync_close(r->sync);
	if (r->db) {
		rows_cache_clear(r->db);
		sqlite3_close(r->db);
	}
	free(r->path);
	memset(r, 0, sizeof *r);
}

static enum crm_err exec(struct replica *r, const char *sql, struct crm_error *err)
{
	char *msg = NULL;
	enum crm_err rc = CRM_OK;

	if (sqlite3_exec(r->db, sql, NULL, NULL, &msg) != SQLITE_OK)
		rc = crm_fail(err, CRM_EDB, "%s failed: %s", sql, msg ? msg : sqlite3_errmsg(r->db));
	sqlite3_free(msg);
	return rc;
}

enum crm_err replica_begin(struct replica *r, struct crm_error *err)
{
	return exec(r, "BEGIN IMMEDIATE", err);
}

enum crm_err replica_commit(struct replica *r, struct crm_error *err)
{
	return exec(r, "COMMIT", err);
}

void replica_rollback(struct replica *r)
{
	if (r->db && !sqlite3_get_autocommit(r->db))
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
}

enum crm_err replica_finish(struct replica *r, enum crm_err rc, struct crm_error *err)
{
	if (rc == CRM_OK)
		rc = replica_commit(r, err);
	if (rc != CRM_OK)
		replica_rollback(r);
	return rc;
}

enum crm_err replica_user(struct replica *r, char **user, struct crm_error *err)
{
	enum crm_err rc = sync_state_get(r->sync, "user", user, err);

	if (rc == CRM_ENOTFOUND) {
		*user = NULL;
		crm_error_clear(err);
		rc = CRM_OK;
	}
	return rc;
}
