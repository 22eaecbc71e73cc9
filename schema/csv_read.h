/*
 * csv_read: reads the CSV files that `crm import` and `crm-server import` take.
 *
 * libcsv underneath (RFC 4180, strict). A BOM before the first line is dropped
 * (Excel's "CSV UTF-8" puts one there, often before a quote), blank lines
 * between records are skipped, and every record is handed to a callback with
 * the line it starts on, so refusals can name it even across quoted line breaks.
 * Malformed CSV is refused with the line and how to fix it.
 */
#ifndef SCHEMA_CSV_READ_H
#define SCHEMA_CSV_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <sqlite3.h>

#include "crm_err.h"

#define CSV_READ_MAX_FIELDS 64

/* One record. Everything is owned by the reader and valid during the callback only. */
struct csv_record {
	long line;                                /* line the record starts on (1-based) */
	char *fields[CSV_READ_MAX_FIELDS];        /* NUL-terminated values */
	size_t n;                                 /* fields kept */
	bool too_many;                            /* more than CSV_READ_MAX_FIELDS: the rest dropped */
	bool bad_utf8;                            /* some field is not valid UTF-8 */
};

/* Called for every record, the header first. A non-OK result stops the reading. */
typedef enum crm_err (*csv_read_fn)(void *ctx, const struct csv_record *rec,
				    struct crm_error *err);

/*
 * Reads all of in, calling fn(ctx, record, err) for each record. Returns CRM_OK,
 * the first error fn returned (with the message fn wrote into err), CRM_EFORMAT
 * for malformed CSV or a file with no record at all ("the file is empty"),
 * CRM_EIO if in cannot be read, CRM_ENOMEM.
 */
enum crm_err csv_read(FILE *in, csv_read_fn fn, void *ctx, struct crm_error *err);

/*
 * An import of one row per record into db, as both importers do it: the first
 * record is the header, every later one is written by row() inside a SAVEPOINT
 * of its own. A row that fails is undone; CRM_ENOMEM and CRM_EINTERNAL stop
 * the import ("line N: ..." in err), any other failure is handed to refused()
 * with its reason, which returns CRM_OK to go on or an error (in err) to stop.
 */
struct csv_rows {
	sqlite3 *db;
	csv_read_fn header;
	csv_read_fn row;
	enum crm_err (*refused)(void *ctx, const struct csv_record *rec, const char *reason,
				struct crm_error *err);
	void *ctx;
};

/* csv_read over rows (see struct csv_rows); the result as csv_read's. */
enum crm_err csv_read_rows(FILE *in, const struct csv_rows *rows, struct crm_error *err);

#endif
