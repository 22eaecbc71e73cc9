/*
 * migrate: versioned schema migrations embedded in the binaries.
 *
 * schema/migrations/NNNN_name.sql are compiled in by cmake/EmbedSql.cmake.
 * schema_migrate() brings a database to the newest version, applying every
 * missing migration in one transaction; PRAGMA user_version holds the version.
 * A database newer than this binary is refused, never touched.
 */
#ifndef SCHEMA_MIGRATE_H
#define SCHEMA_MIGRATE_H

#include <sqlite3.h>
#include <stddef.h>

#include "crm_err.h"

struct schema_migration {
	int version;
	const char *name;  /* file name, for messages */
	const char *sql;
};

/* Generated at build time, sorted by version. */
extern const struct schema_migration schema_migrations[];
extern const size_t schema_migrations_count;

/* The version this binary brings a database to. */
int schema_version(void);

/*
 * Applies the missing migrations to db inside one transaction (BEGIN IMMEDIATE
 * ... COMMIT). If the caller already has a transaction open, the migrations run
 * inside it and the caller commits. *from (if not NULL) gets the version the
 * database had. Errors: CRM_EVERSION if the database is newer than this binary
 * (message says which versions and to upgrade crm), CRM_EDB on SQL failure
 * (nothing applied).
 */
enum crm_err schema_migrate(sqlite3 *db, int *from, struct crm_error *err);

#endif
