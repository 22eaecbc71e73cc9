/*
 * tables: what each business table holds, for front ends and the server.
 *
 * One description per table and column: its type (which field rule applies),
 * allowed values, whether people may set it, and whether it identifies a
 * customer. The CLI builds its flags, the CSV importer its header checks, and
 * the server its validation from this, so a rule is written once.
 */
#ifndef SCHEMA_TABLES_H
#define SCHEMA_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crm_err.h"

enum schema_type {
	SCOL_TEXT,      /* free text */
	SCOL_ENUM,      /* one of col->values */
	SCOL_PHONE,     /* E.164 via field_phone */
	SCOL_EMAIL,     /* field_email */
	SCOL_USCC,      /* field_uscc */
	SCOL_IDNUM,     /* field_id_number */
	SCOL_DATE,      /* YYYY-MM-DD text */
	SCOL_TIME,      /* INTEGER UTC ms; ISO-8601 at the edges */
	SCOL_INT,       /* INTEGER in [min, max] */
	SCOL_REAL,      /* REAL in [min, max] */
	SCOL_MONEY,     /* INTEGER minor units; text may name the currency */
	SCOL_CURRENCY,  /* ISO 4217 code */
	SCOL_ID,        /* a UUID (id, customer_id, merged_into) */
	SCOL_BOOL       /* 0/1 (deleted) */
};

enum schema_flag {
	SCOL_REQUIRED = 1 << 0, /* must be set when a row is added */
	SCOL_SYSTEM = 1 << 1,   /* kept by the program: id, created_at, updated_at, deleted */
	SCOL_SERVER = 1 << 2,   /* changed only through server operations: owner, merged_into */
	SCOL_IDENT = 1 << 3,    /* identifies a customer (dedup re-checks on change) */
	SCOL_SEARCH = 1 << 4,   /* indexed for `crm search` */
	SCOL_PARENT = 1 << 5    /* names the customer a child row belongs to */
};

struct schema_column {
	const char *name;
	enum schema_type type;
	unsigned flags;
	const char *const *values; /* SCOL_ENUM: NULL-terminated allowed values */
	int64_t min, max;          /* SCOL_INT / SCOL_REAL bounds; SCOL_TEXT: max bytes */
	const char *help;          /* one line for --help and docs */
};

struct schema_table {
	const char *name;      /* "customers" */
	const char *singular;  /* "customer" */
	const struct schema_column *cols;
	size_t ncols;
	const char *parent;    /* column naming the customer ("customer_id"), NULL for customers */
};

/* All replicated business tables, customers first. */
extern const struct schema_table schema_tables[];
extern const size_t schema_tables_count;

/* The table called name (plural or singular), or NULL. */
const struct schema_table *schema_table_find(const char *name);

/* The column called name in t, or NULL. */
const struct schema_column *schema_column_find(const struct schema_table *t, const char *name);

/*
 * schema_column_find, trying column *next first (the fields of a row come in
 * schema order as a rule); on a hit *next moves past the column found.
 */
const struct schema_column *schema_column_find_next(const struct schema_table *t, const char *name,
						    size_t *next);

/* A typed value as stored in SQLite. */
enum schema_vtype { SV_NULL, SV_INT, SV_REAL, SV_TEXT };
struct schema_value {
	enum schema_vtype type;
	int64_t i;
	double r;
	char *s; /* SV_TEXT: malloc()ed, owned by the value; free with schema_value_release() */
};

void schema_value_release(struct schema_value *v);

/*
 * Turns what a person typed for column c into the stored value, applying the
 * column's field rule. An empty string gives SV_NULL (clears the field) unless
 * the column is required. For SCOL_MONEY, a currency named in the text is
 * written to currency_out (if not NULL; "" when none). Errors name the column
 * and the value: CRM_EINVAL, CRM_EUTF8, CRM_ETOOBIG.
 */
enum crm_err schema_value_parse(const struct schema_column *c, const char *text,
				struct schema_value *out, char currency_out[4],
				struct crm_error *err);

/*
 * Checks a value that arrived already typed (sync, JSON) against column c:
 * the right SQLite type, the enum values, bounds, UTF-8, length, and that a
 * phone / e-mail / USCC is already in canonical form. CRM_OK or CRM_EINVAL
 * with a message naming column and value.
 */
enum crm_err schema_value_check(const struct schema_column *c, const struct schema_value *v,
				struct crm_error *err);

#endif
