/*
 * output: what `crm` (and crm-server's admin commands) print for people and
 * for programs.
 *
 * For people: tables whose columns are aligned by display width, so Chinese
 * text (two columns per character) lines up with English; long values are
 * cut at a character boundary and end with "…". Times are shown local
 * "YYYY-MM-DD HH:MM", money as "12,000.50 CNY".
 * For programs: JSON objects keyed by column names (cJSON), times as ISO-8601
 * UTC strings, integers as numbers, NULL as null.
 */
#ifndef CLIENT_OUTPUT_H
#define CLIENT_OUTPUT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crm_err.h"
#include "tables.h"

/* ---- aligned tables ------------------------------------------------- */

struct out_table {
	size_t ncols;
	char **head;    /* ncols copies of the headers */
	char **cells;   /* nrows * ncols owned strings */
	size_t nrows, cap;
	bool *right;    /* per column: align right (numbers, money) */
};

/* Sets up a table with ncols columns named head[0..ncols-1] (copied). */
enum crm_err out_table_init(struct out_table *t, size_t ncols, const char *const *head);

/* Frees everything t owns. */
void out_table_release(struct out_table *t);

/* Aligns column col to the right. */
void out_table_align_right(struct out_table *t, size_t col);

/* Appends a row of ncols cells (copied; NULL prints as empty). */
enum crm_err out_table_add(struct out_table *t, const char *const *cells);

/*
 * Prints the header, a rule and the rows to f, each column as wide as its
 * widest cell (display columns) but at most max_width; wider cells are cut
 * with "…". Newlines and tabs in cells print as spaces. A column whose
 * header and cells are all empty is left out.
 */
void out_table_print(const struct out_table *t, FILE *f, size_t max_width);

/*
 * Writes into out (size n) the longest prefix of s that fits in max_cols
 * display columns, ending in "…" when s had to be cut. Returns the display
 * width of what was written.
 */
size_t out_fit(const char *s, size_t max_cols, char *out, size_t n);

/* Writes s left-aligned and padded with spaces to width display columns. */
void out_pad(FILE *f, const char *s, size_t width);

/* ---- values --------------------------------------------------------- */

/* "12,000.50 CNY" (currency omitted when NULL or empty) into out. */
void out_money(int64_t minor, const char *currency, char *out, size_t n);

/*
 * The value of column c for people into out (size n): local time, money with
 * the row's currency (currency may be NULL), "yes" for a set flag, "" for NULL.
 */
void out_value(const struct schema_column *c, const struct schema_value *v,
	       const char *currency, char *out, size_t n);

/*
 * A row of table t (vals has t->ncols entries, in column order) as a new JSON
 * object (caller owns it: cJSON_Delete). NULL if memory runs out.
 */
cJSON *out_row_json(const struct schema_table *t, const struct schema_value *vals);

/* Prints json to f, formatted, with a newline. CRM_ENOMEM if printing fails. */
enum crm_err out_json_print(const cJSON *json, FILE *f);

#endif
