/*
 * db_testutil: database files of the unit tests (header-only, static): a fresh
 * path in /tmp, removal of a database with its WAL and shared-memory files,
 * and query results as text or a number.
 */
#ifndef DB_TESTUTIL_H
#define DB_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

/* Makes path (n bytes) a new, unused /tmp path for a database named after name. */
static inline void dbtu_temp_path(char *path, size_t n, const char *name)
{
	int fd;

	snprintf(path, n, "/tmp/%s.XXXXXX", name);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
}

/* Removes the database at path and its -wal and -shm files. */
static inline void dbtu_remove(const char *path)
{
	char p[4096];

	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
}

/*
 * The rows of each query in sql, as text: columns joined by '|', a row per
 * line, "--" after each query. For comparing two databases. Caller frees.
 */
static inline char *dbtu_dump(sqlite3 *db, const char *const *sql, size_t nsql)
{
	size_t cap = 1 << 16, len = 0;
	char *out = malloc(cap);

	assert_non_null(out);
	out[0] = '\0';
	for (size_t q = 0; q < nsql; q++) {
		sqlite3_stmt *st = NULL;

		assert_int_equal(sqlite3_prepare_v2(db, sql[q], -1, &st, NULL), SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(st); c++) {
				const char *t = (const char *)sqlite3_column_text(st, c);
				size_t n = strlen(t ? t : "") + 2;

				while (len + n + 4 > cap) {
					cap *= 2;
					out = realloc(out, cap);
					assert_non_null(out);
				}
				len += (size_t)snprintf(out + len, cap - len, "%s%c", t ? t : "",
							c + 1 < sqlite3_column_count(st) ? '|' : '\n');
			}
		}
		sqlite3_finalize(st);
		while (len + 4 > cap) {
			cap *= 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		len += (size_t)snprintf(out + len, cap - len, "--\n");
	}
	return out;
}

/* The first column of the first row of sql as an integer, -1 without a row. */
static inline int64_t dbtu_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

#endif
