/*
 * sync_testutil: shared fixtures of the sync unit tests (header-only, static):
 * a customers-like replicated table, SQL helpers, and a push of one
 * replica's outbox into another through the real JSON codec.
 */
#ifndef SYNC_TESTUTIL_H
#define SYNC_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "db_testutil.h"
#include "sync.h"

#define TU_TABLE_SQL                                                                   \
	"CREATE TABLE IF NOT EXISTS customers ("                                        \
	" id TEXT PRIMARY KEY NOT NULL,"                                                \
	" created_at INTEGER NOT NULL DEFAULT 0,"                                       \
	" updated_at INTEGER NOT NULL DEFAULT 0,"                                       \
	" deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),"                \
	" name TEXT, phone TEXT, amount INTEGER, lat REAL, notes TEXT);"                \
	"CREATE TABLE IF NOT EXISTS notes_t ("                                           \
	" id TEXT PRIMARY KEY NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, body TEXT);"

static const char *const tu_quiet[] = {"updated_at", NULL};
static const struct sync_table_spec tu_tables[] = {
	{"customers", tu_quiet},
	{"notes_t", NULL},
};

static inline void tu_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK)
		fprintf(stderr, "SQL failed: %s: %s\n", sql, msg ? msg : "?");
	sqlite3_free(msg);
	assert_int_equal(rc, SQLITE_OK);
}

/* Runs sql, returns the SQLite code (for statements expected to fail). */
static inline int tu_try(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* First column of the first row as malloc()ed text ("NULL" for NULL, "" if no row). */
static inline char *tu_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	char *out;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		out = strdup(t ? (const char *)t : "NULL");
	} else {
		out = strdup("");
	}
	sqlite3_finalize(st);
	assert_non_null(out);
	return out;
}

static inline int64_t tu_int(sqlite3 *db, const char *sql)
{
	return dbtu_int(db, sql);
}

#define TU_ASSERT_TEXT(db, sql, want)                 \
	do {                                           \
		char *got_ = tu_text((db), (sql));     \
		assert_string_equal(got_, (want));     \
		free(got_);                            \
	} while (0)

struct tu_replica {
	sqlite3 *db;
	struct sync_db *s;
};

static inline void tu_open(struct tu_replica *r, const char *path)
{
	struct crm_error err;
	enum crm_err rc;

	assert_int_equal(sqlite3_open(path, &r->db), SQLITE_OK);
	tu_exec(r->db, TU_TABLE_SQL);
	rc = sync_open(r->db, tu_tables, 2, NULL, &r->s, &err);
	if (rc != CRM_OK)
		fprintf(stderr, "sync_open: %s\n", err.msg);
	assert_int_equal(rc, CRM_OK);
}

static inline void tu_close(struct tu_replica *r)
{
	sync_close(r->s);
	sqlite3_close(r->db);
	r->s = NULL;
	r->db = NULL;
}

/* Round trip through JSON text, as on the wire. */
static inline void tu_wire(struct sync_db *reader, const struct sync_changeset *in,
		    struct sync_changeset *out)
{
	cJSON *j = sync_changeset_to_json(in);
	char *text;
	cJSON *back;
	struct crm_error err;
	enum crm_err rc;

	assert_non_null(j);
	text = cJSON_PrintUnformatted(j);
	assert_non_null(text);
	cJSON_Delete(j);
	back = cJSON_Parse(text);
	assert_non_null(back);
	rc = sync_changeset_from_json(back, reader, out, &err);
	if (rc != CRM_OK)
		fprintf(stderr, "decode: %s\n%s\n", err.msg, text);
	assert_int_equal(rc, CRM_OK);
	cJSON_Delete(back);
	free(text);
}

/* Pushes everything pending at from into to (acked at from); returns conflicts recorded. */
static inline size_t tu_push(struct tu_replica *from, struct tu_replica *to)
{
	size_t conflicts = 0;
	bool more = true;

	while (more) {
		struct sync_changeset cs, wire;
		struct sync_apply_result res;
		struct crm_error err;
		int64_t upto = 0;

		assert_int_equal(sync_outbox(from->s, 1000, &cs, &upto, &more, &err), CRM_OK);
		tu_wire(to->s, &cs, &wire);
		assert_int_equal(sync_apply(to->s, &wire, 0, NULL, NULL, &res, &err), CRM_OK);
		conflicts += res.conflicts;
		assert_int_equal(res.nrefused, 0);
		sync_apply_result_release(&res);
		assert_int_equal(sync_outbox_ack(from->s, upto, &err), CRM_OK);
		sync_changeset_release(&cs);
		sync_changeset_release(&wire);
	}
	return conflicts;
}

/* Pulls everything past *cursor of from's feed into to (skipping to's own fields). */
static inline size_t tu_pull(struct tu_replica *from, struct tu_replica *to, int64_t *cursor)
{
	size_t conflicts = 0;
	bool more = true;

	while (more) {
		struct sync_changeset cs, wire;
		struct sync_apply_result res;
		struct crm_error err;
		int64_t next = 0;

		assert_int_equal(sync_feed(from->s, *cursor, 1000, NULL, NULL, sync_site_id(to->s), &cs,
					   &next, &more, &err), CRM_OK);
		tu_wire(to->s, &cs, &wire);
		assert_int_equal(sync_apply(to->s, &wire, SYNC_APPLY_FROM_HUB, NULL, NULL, &res, &err),
				 CRM_OK);
		conflicts += res.conflicts;
		sync_apply_result_release(&res);
		*cursor = next;
		sync_changeset_release(&cs);
		sync_changeset_release(&wire);
	}
	return conflicts;
}

/* Canonical dump of the replicated data (values with their types). */
static inline char *tu_dump(sqlite3 *db)
{
	return tu_text(db, "SELECT group_concat(x, '|') FROM (SELECT id || ':' || created_at || ','"
			   " || updated_at || ',' || deleted || ',' || quote(name) || ',' || quote(phone)"
			   " || ',' || quote(amount) || ',' || quote(lat) || ',' || quote(notes) AS x"
			   " FROM customers ORDER BY id)");
}

#endif
