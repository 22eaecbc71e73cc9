/*
 * csvio: CSV import and CSV/JSON export of the business tables (libcsv,
 * RFC 4180, UTF-8 with an optional BOM).
 *
 * The header row holds column names; rows of a table under a customer name
 * it by customer_id or customer_ext_ref. Every value goes through the same
 * field rules as the command-line flags. The importer runs inside the
 * caller's transaction and guards each row with a savepoint, so a refused row
 * leaves nothing behind; whether to keep the good rows is the caller's call.
 * (Not called csv.h: that name is libcsv's header.)
 */
#ifndef CLIENT_CSVIO_H
#define CLIENT_CSVIO_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "crm_err.h"
#include "tables.h"

struct csvio_refusal {
	long line;                 /* line of the file where the row starts */
	char reason[CRM_ERRMSG_MAX];
};

struct csvio_report {
	size_t imported;
	size_t refused;
	struct csvio_refusal *list; /* every refusal, in file order; malloc()ed */
	size_t nlist, cap;
	char ignored[256];          /* server-managed header columns skipped ("owner") */
};

struct csvio_options {
	bool force;          /* import customers even if phone/e-mail/USCC is taken */
	const char *user;    /* logged-in user: owner of customers, author of activities (may be NULL) */
	void (*progress)(void *ctx, size_t rows); /* called every 5,000 rows (may be NULL) */
	void *progress_ctx;
};

void csvio_report_release(struct csvio_report *r);

/*
 * Imports the CSV rows of in into table t of db, which must be inside a
 * transaction. Refused rows are listed in rep (with line numbers and
 * reasons) and leave nothing behind. Returns CRM_OK when the file could be
 * read (rows may still have been refused: check rep->refused); CRM_EFORMAT for
 * a bad header (unknown column, named in the message) or malformed CSV;
 * CRM_EUTF8 for text that is not UTF-8; CRM_EIO if reading fails.
 */
enum crm_err csvio_import(sqlite3 *db, const struct schema_table *t, FILE *in,
			  const struct csvio_options *opt, struct csvio_report *rep,
			  struct crm_error *err);

/* Writes every column of every row of t (deleted ones too if with_deleted), header first. */
enum crm_err csvio_export_csv(sqlite3 *db, const struct schema_table *t, bool with_deleted,
			      FILE *out, struct crm_error *err);

/* Writes the rows of t as one JSON array of objects keyed by column name. */
enum crm_err csvio_export_json(sqlite3 *db, const struct schema_table *t, bool with_deleted,
			       FILE *out, struct crm_error *err);

#endif
