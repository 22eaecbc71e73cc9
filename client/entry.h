/*
 * entry: turns the column flags a person typed into a row, with the field
 * rules applied (schema_value_parse: phones to E.164, money to minor units,
 * times to UTC ms), and checks what an added row must have.
 */
#ifndef CLIENT_ENTRY_H
#define CLIENT_ENTRY_H

#include <stdbool.h>

#include "cli.h"
#include "rows.h"

/*
 * For every column given in a->cols, parses its text into r and marks it in
 * set[] (t->ncols flags, may be NULL). A currency named in a money value
 * ("500 USD") fills the currency column unless --currency was given too.
 * Errors name the flag and the value (CRM_EINVAL, CRM_EUTF8, CRM_ETOOBIG).
 */
enum crm_err entry_apply(const struct cli_args *a, struct row *r, bool *set, struct crm_error *err);

/*
 * Parses text for column name of r's table into r (set[] marked if not NULL).
 * Used by CSV import and commands with positional values.
 */
enum crm_err entry_put(struct row *r, const char *name, const char *text, bool *set,
		       char currency_out[4], struct crm_error *err);

/*
 * Turns the column flags of a list command into filters: parses each given
 * value into vals (an initialized row of the table, which keeps the values),
 * appends ` AND r."col" = ?N` to tail (size tailsz) for each, numbering from
 * *n + 1, and puts a borrowed copy of the value in params[*n] (params has room
 * for t->ncols more), advancing *n. Errors as entry_apply.
 */
enum crm_err entry_filters(const struct cli_args *a, struct row *vals, char *tail, size_t tailsz,
			   struct schema_value *params, size_t *n, struct crm_error *err);

/*
 * Fills the defaults of a new row (occurred_at/ordered_at now, currency CNY
 * where there is an amount, deal stage lead, customer kind company) and checks
 * the required columns: with flags, CRM_EUSAGE naming the missing --flag;
 * without (CSV), CRM_EINVAL naming the column.
 */
enum crm_err entry_finish_new(struct row *r, bool flags, struct crm_error *err);

#endif
