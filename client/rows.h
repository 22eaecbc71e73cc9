/*
 * rows: generic reads and writes of the business tables' rows, driven by the
 * column metadata of schema/tables.h, and the resolution of what a person
 * types to name a row (REF).
 *
 * Writes are plain SQL on the replica, so the sync capture triggers record
 * them; deletion is `deleted = 1`, never a SQL DELETE. All SQL is
 * parameterized; only identifiers from the schema metadata are spliced in.
 */
#ifndef CLIENT_ROWS_H
#define CLIENT_ROWS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crm_err.h"
#include "crm_id.h"
#include "tables.h"

/* One row of table t: t->ncols values in column order, owned by the row. */
struct row {
	const struct schema_table *t;
	struct schema_value *v;
};

/* A row with every value NULL. CRM_ENOMEM. Release with row_release. */
enum crm_err row_init(struct row *r, const struct schema_table *t);

/* A new row: a fresh UUIDv7 id, created_at = updated_at = crm_now_ms(), deleted = 0. */
enum crm_err row_new(struct row *r, const struct schema_table *t);

void row_release(struct row *r);

/* Index of column name in t, or -1. */
int row_col(const struct schema_table *t, const char *name);

/* The value of column name (NULL if t has no such column). */
const struct schema_value *row_get(const struct row *r, const char *name);

/* Text of column name, or NULL when it is NULL, not text, or not a column. */
const char *row_text(const struct row *r, const char *name);

/* Replaces the value of column name (v is moved in: the row owns v->s after). */
void row_put(struct row *r, const char *name, struct schema_value *v);
enum crm_err row_put_text(struct row *r, const char *name, const char *s); /* s copied */
void row_put_int(struct row *r, const char *name, int64_t i);

struct row_list {
	struct row *rows;
	size_t n, cap;
};

void row_list_release(struct row_list *l);

/* Releases the rows after the first n; true if there were any (a list read
 * with LIMIT n + 1 then knows that more rows match than it shows). */
bool row_list_trim(struct row_list *l, size_t n);

/*
 * INSERTs r (every column). CRM_EDB with SQLite's message on failure. The
 * prepared statement is kept for the next insert into the same table of db;
 * call rows_cache_clear(db) before closing db.
 */
enum crm_err rows_insert(sqlite3 *db, const struct row *r, struct crm_error *err);

/*
 * UPDATEs the columns of r marked in set[] (t->ncols flags) of the row whose id
 * is r's id, and sets updated_at to crm_now_ms(). CRM_ENOTFOUND if no such row.
 */
enum crm_err rows_update(sqlite3 *db, const struct row *r, const bool *set, struct crm_error *err);

/* Finalizes the statements kept for db. */
void rows_cache_clear(sqlite3 *db);

/* Marks row id of t deleted (deleted = 1, updated_at = now). */
enum crm_err rows_delete(sqlite3 *db, const struct schema_table *t, const char *id,
			 struct crm_error *err);

/* Reads row id of t into r (initialized here). CRM_ENOTFOUND if absent. */
enum crm_err rows_get(sqlite3 *db, const struct schema_table *t, const char *id, struct row *r,
		      struct crm_error *err);

/* Reads r's own row (its table, its id) again into r, after a write. */
enum crm_err rows_reload(sqlite3 *db, struct row *r, struct crm_error *err);

/*
 * Appends to out the rows of `SELECT <all columns> FROM t <tail>`, where tail
 * is SQL written by the program ("WHERE customer_id = ?1 ORDER BY ...") and
 * params[0..nparams-1] are bound to ?1, ?2, ... Columns may be referred to
 * unqualified; the table is aliased `r`.
 */
enum crm_err rows_select(sqlite3 *db, const struct schema_table *t, const char *tail,
			 const struct schema_value *params, size_t nparams, struct row_list *out,
			 struct crm_error *err);

/*
 * Finds the row of t that ref names: its id; a unique id prefix (at least 4
 * characters); its ext_ref (customers); its exact name or title; a unique
 * substring of its name or title (case-insensitive for ASCII). Rows marked
 * deleted are found only by their full id. Errors: CRM_ENOTFOUND (message
 * says what to do), CRM_EAMBIGUOUS (message lists the candidates with ids).
 */
enum crm_err rows_resolve(sqlite3 *db, const struct schema_table *t, const char *ref,
			  char id[CRM_ID_SIZE], struct crm_error *err);

/* A customer that already holds an identifying value. */
struct rows_dup {
	char id[CRM_ID_SIZE];
	char name[320];
	char col[16];     /* "phone", "email" or "uscc" */
	char value[320];
};

/*
 * Looks for another non-deleted customer (not r's id) with the same phone,
 * e-mail or USCC as customer row r (values already normalized). *found says
 * whether one exists; dup describes the first.
 */
enum crm_err rows_find_duplicate(sqlite3 *db, const struct row *r, bool *found,
				 struct rows_dup *dup, struct crm_error *err);

/* The name of customer id into out ("" if unknown). */
void rows_customer_name(sqlite3 *db, const char *id, char *out, size_t n);

#endif
