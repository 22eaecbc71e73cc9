/*
 * view: how rows of the business tables are shown, as aligned tables or key:
 * value blocks for people and as JSON for programs. Built on output.h.
 */
#ifndef CLIENT_VIEW_H
#define CLIENT_VIEW_H

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "rows.h"

/* Column width cap in tables (display columns). */
#define VIEW_MAX_WIDTH 40

/*
 * The text a person sees for column col of r: a column name, or "customer"
 * for the name of the row's customer (looked up in db), or "overdue".
 */
void view_cell(sqlite3 *db, const struct row *r, const char *col, char *out, size_t n);

/* "overdue" into out when r's due_at / next_at / expected_close is before now. */
void view_overdue(const struct row *r, int64_t now, char *out, size_t n);

/*
 * Prints rows l as a table of the display columns cols (NULL-terminated) with
 * headers heads (same length), or a note when there are none.
 */
enum crm_err view_table(FILE *f, sqlite3 *db, const struct row_list *l, const char *const *cols,
			const char *const *heads, const char *empty);

/* The line under a table cut at limit rows when more match: how to narrow
 * them (e.g. "--FIELD VALUE") or see them. */
void view_more(FILE *f, long long limit, const char *narrow);

/* The rows as a new JSON array (caller owns it), NULL without memory. */
cJSON *view_json_array(const struct row_list *l);

/* Prints every non-empty column of r as "label: value" lines. */
void view_detail(FILE *f, const struct row *r);

/* Prints one row as JSON. */
enum crm_err view_json_row(FILE *f, const struct row *r);

#endif
