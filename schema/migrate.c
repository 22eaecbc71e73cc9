/* Applies embedded migrations in one transaction, tracked by user_version. */
#include "migrate.h"

#include <stdbool.h>
#include <stdio.h>

int schema_version(void)
{
	return schema_migrations_count ? schema_migrations[schema_migrations_count - 1].version : 0;
}

static enum crm_err read_version(sqlite3 *db, int *v, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		rc = crm_fail(err, CRM_EDB, "cannot read schema version: %s", sqlite3_errmsg(db));
		goto out;
	}
	*v = sqlite3_column_int(st, 0);
out:
	sqlite3_finalize(st);
	return rc;
}

enum crm_err schema_migrate(sqlite3 *db, int *from, struct crm_error *err)
{
	bool own_txn = sqlite3_get_autocommit(db) != 0;
	enum crm_err rc = CRM_OK;
	char *msg = NULL;
	int cur = 0;

	if (own_txn && sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK) {
		rc = crm_fail(err, CRM_EDB, "cannot lock database for migration: %s",
			      msg ? msg : sqlite3_errmsg(db));
		own_txn = false;
		goto out;
	}
	rc = read_version(db, &cur, err);
	if (rc != CRM_OK)
		goto out;
	if (from)
		*from = cur;
	if (cur > schema_version()) {
		rc = crm_fail(err, CRM_EVERSION,
			      "database schema version %d is newer than this program's (%d): "
			      "upgrade crm before using this database",
			      cur, schema_version());
		goto out;
	}
	for (size_t i = 0; i < schema_migrations_count; i++) {
		const struct schema_migration *m = &schema_migrations[i];
		char pragma[64];

		if (m->version <= cur)
			continue;
		if (sqlite3_exec(db, m->sql, NULL, NULL, &msg) != SQLITE_OK) {
			rc = crm_fail(err, CRM_EDB, "migration %s failed: %s", m->name,
				      msg ? msg : sqlite3_errmsg(db));
			goto out;
		}
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", m->version);
		if (sqlite3_exec(db, pragma, NULL, NULL, &msg) != SQLITE_OK) {
			rc = crm_fail(err, CRM_EDB, "cannot record schema version: %s",
				      msg ? msg : sqlite3_errmsg(db));
			goto out;
		}
	}
out:
	sqlite3_free(msg);
	msg = NULL;
	if (own_txn) {
		if (rc == CRM_OK && sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
			rc = crm_fail(err, CRM_EDB, "cannot commit migration: %s",
				      msg ? msg : sqlite3_errmsg(db));
		if (rc != CRM_OK)
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_free(msg);
	}
	return rc;
}
