/*
 * Fuzz target for the change-set decoder (libFuzzer; replayed from
 * tests/fuzz/corpus/changeset/ by ctest otherwise).
 *
 * Input: JSON text, or 'Z' followed by zlib data (inflated with caps first).
 * Decodes without and with a database (type checks), re-encodes what was
 * accepted and checks it decodes to the same shape, and applies it inside a
 * transaction that is rolled back, so merge sees hostile sets too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "crm_buf.h"
#include "sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sqlite3 *fz_db;
static struct sync_db *fz_sync;

static void fz_setup(void)
{
	static const char *const quiet[] = {"updated_at", NULL};
	static const struct sync_table_spec tables[] = {{"customers", quiet}, {"notes_t", NULL}};
	struct crm_error err;

	if (fz_db)
		return;
	if (sqlite3_open(":memory:", &fz_db) != SQLITE_OK)
		abort();
	if (sqlite3_exec(fz_db,
			 "CREATE TABLE customers (id TEXT PRIMARY KEY NOT NULL,"
			 " created_at INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL DEFAULT 0,"
			 " deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),"
			 " name TEXT, phone TEXT, amount INTEGER, lat REAL CHECK (lat BETWEEN -90 AND 90),"
			 " notes TEXT, blob_any);"
			 "CREATE TABLE notes_t (id TEXT PRIMARY KEY NOT NULL, deleted INTEGER NOT NULL"
			 " DEFAULT 0, body TEXT);"
			 "INSERT INTO customers(id, name) VALUES('c1', 'seed');",
			 NULL, NULL, NULL) != SQLITE_OK)
		abort();
	if (sync_open(fz_db, tables, 2, NULL, &fz_sync, &err) != CRM_OK)
		abort();
}

static void fz_roundtrip(const struct sync_changeset *cs)
{
	struct sync_changeset back;
	struct crm_error err;
	cJSON *j = sync_changeset_to_json(cs);
	char *text;
	cJSON *p;

	if (!j)
		abort();
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (!text)
		abort();
	p = cJSON_Parse(text);
	if (!p)
		abort();
	if (sync_changeset_from_json(p, NULL, &back, &err) != CRM_OK) {
		fprintf(stderr, "re-encoded set refused: %s\n%s\n", err.msg, text);
		abort();
	}
	if (back.nrows != cs->nrows || back.nfields != cs->nfields)
		abort();
	sync_changeset_release(&back);
	cJSON_Delete(p);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct crm_buf inflated;
	struct sync_changeset cs;
	struct sync_apply_result res;
	struct crm_error err;
	cJSON *j = NULL;

	fz_setup();
	crm_buf_init(&inflated, 1 << 20);
	if (size > 0 && data[0] == 'Z') {
		if (sync_inflate(data + 1, size - 1, 1 << 20, 200, &inflated, &err) != CRM_OK)
			goto out;
		data = (const uint8_t *)inflated.data;
		size = inflated.len;
	}
	j = cJSON_ParseWithLength((const char *)data, size);
	if (!j)
		goto out;
	if (sync_changeset_from_json(j, NULL, &cs, &err) == CRM_OK) {
		fz_roundtrip(&cs);
		sync_changeset_release(&cs);
	} else if (cs.nrows != 0) {
		abort(); /* refused sets are left empty */
	}
	if (sync_changeset_from_json(j, fz_sync, &cs, &err) == CRM_OK) {
		if (sqlite3_exec(fz_db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			abort();
		if (sync_apply(fz_sync, &cs, SYNC_APPLY_IN_TXN, NULL, NULL, &res, &err) == CRM_OK)
			sync_apply_result_release(&res);
		sqlite3_exec(fz_db, "ROLLBACK", NULL, NULL, NULL);
		sync_changeset_release(&cs);
	}
out:
	cJSON_Delete(j);
	crm_buf_release(&inflated);
	return 0;
}
