/* Column sets of older schema versions, from the embedded migrations. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate.h"
#include "srv_sync.h"
#include "tables.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void srv_columns_release(struct srv_columns *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->keys[i]);
	free(c->keys);
	c->keys = NULL;
	c->n = 0;
}

enum crm_err srv_columns_load(int version, struct srv_columns *out, struct crm_error *err)
{
	sqlite3 *db = NULL;
	enum crm_err rc = CRM_OK;
	size_t cap = 0;

	out->keys = NULL;
	out->n = 0;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
		rc = crm_fail(err, CRM_ENOMEM, "cannot open an in-memory database");
		goto out;
	}
	for (size_t i = 0; i < schema_migrations_count; i++) {
		if (schema_migrations[i].version > version)
			break;
		if (sqlite3_exec(db, schema_migrations[i].sql, NULL, NULL, NULL) != SQLITE_OK) {
			rc = crm_fail(err, CRM_EDB, "migration %s: %s", schema_migrations[i].name,
				      sqlite3_errmsg(db));
			goto out;
		}
	}
	for (size_t t = 0; t < schema_tables_count && rc == CRM_OK; t++) {
		sqlite3_stmt *st = NULL;

		if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info(?1)", -1, &st, NULL) !=
		    SQLITE_OK) {
			rc = crm_fail(err, CRM_EDB, "%s", sqlite3_errmsg(db));
			break;
		}
		sqlite3_bind_text(st, 1, schema_tables[t].name, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *col = (const char *)sqlite3_column_text(st, 0);
			size_t len = strlen(schema_tables[t].name) + strlen(col) + 2;
			char *k;

			if (out->n == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				char **nk = realloc(out->keys, ncap * sizeof *nk);

				if (!nk) {
					rc = crm_fail(err, CRM_ENOMEM, "out of memory");
					break;
				}
				out->keys = nk;
				cap = ncap;
			}
			k = malloc(len);
			if (!k) {
				rc = crm_fail(err, CRM_ENOMEM, "out of memory");
				break;
			}
			snprintf(k, len, "%s\x1f%s", schema_tables[t].name, col);
			out->keys[out->n++] = k;
		}
		sqlite3_finalize(st);
	}
	if (rc == CRM_OK && out->n)
		qsort(out->keys, out->n, sizeof *out->keys, cmp_str);
out:
	sqlite3_close(db);
	if (rc != CRM_OK)
		srv_columns_release(out);
	return rc;
}

bool srv_columns_has(const struct srv_columns *c, const char *table, const char *col)
{
	char key[256];
	const char *p = key;

	snprintf(key, sizeof key, "%s\x1f%s", table, col);
	return c->n && bsearch(&p, c->keys, c->n, sizeof *c->keys, cmp_str) != NULL;
}
