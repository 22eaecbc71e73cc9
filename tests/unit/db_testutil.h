/*
 * db_testutil: database files of the unit tests (header-only, static): a fresh
 * path in /tmp, and removal of a database with its WAL and shared-memory files.
 */
#ifndef DB_TESTUTIL_H
#define DB_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

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

#endif
