/*
 * cli: argument parsing for crm's commands, generated from the table metadata.
 *
 * A command names the options it accepts: the common ones (--json, --limit,
 * --deleted, --force, --customer), its own extras (--format ...), and, for
 * add/edit, one flag per column people may set, named after the column with
 * dashes for underscores (--ext-ref). Values stay the raw text typed; the
 * command parses them with schema_value_parse so errors name the column.
 * `--flag value` and `--flag=value` both work; `--` ends the options.
 */
#ifndef CLIENT_CLI_H
#define CLIENT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "commands.h"
#include "crm_err.h"
#include "tables.h"

enum cli_accept {
	CLI_JSON = 1 << 0,     /* --json */
	CLI_LIMIT = 1 << 1,    /* --limit N */
	CLI_DELETED = 1 << 2,  /* --deleted */
	CLI_FORCE = 1 << 3,    /* --force */
	CLI_CUSTOMER = 1 << 4, /* --customer REF */
	CLI_COLUMNS = 1 << 5,  /* one flag per settable column of the table */
	CLI_NEW = 1 << 6       /* the command creates a row: its help marks required columns */
};

/* A command's own option. */
struct cli_extra {
	const char *name;  /* without dashes: "format" */
	const char *arg;   /* metavariable ("csv|json"), NULL for a plain switch */
	const char *help;
};

struct cli_args {
	const struct schema_table *t;
	const char **cols;     /* t->ncols raw values (NULL: not given); malloc()ed array */
	char **pos;            /* positional arguments (pointers into argv); malloc()ed array */
	size_t npos;
	const char **extra;    /* per extra option: its value ("" for a switch), NULL if absent */
	bool json, deleted, force, help;
	long long limit;       /* -1 when not given */
	const char *customer;  /* --customer REF */
};

/*
 * Parses argv[first..argc-1]. t may be NULL (no column flags). extras is
 * terminated by an entry with name NULL (may be NULL). Errors are CRM_EUSAGE
 * (unknown option, missing value, a column people cannot set) and CRM_EUTF8
 * (an argument that is not valid UTF-8). Release a with cli_args_release even
 * on failure.
 */
enum crm_err cli_parse(int argc, char **argv, int first, const struct schema_table *t,
		       unsigned accept, const struct cli_extra *extras, struct cli_args *a,
		       struct crm_error *err);
void cli_args_release(struct cli_args *a);

/* True if column c may be set by a flag (not system-, server- or parent-managed). */
bool cli_settable(const struct schema_column *c);

/* "ext_ref" -> "ext-ref" into out. */
void cli_flag_name(const char *col, char *out, size_t n);

/*
 * Prints the help of one command: usage line, summary, its options (column
 * flags from the metadata, marked when required if accept has CLI_NEW), then the examples
 * (NULL-terminated, may be NULL).
 */
void cli_help(FILE *f, const char *usage, const char *summary, const struct schema_table *t,
	      unsigned accept, const struct cli_extra *extras, const char *const *examples);

/*
 * Prints "crm: what: message" on stderr and returns the exit status for
 * err->code: 2 for usage errors, 1 for everything else.
 */
int cli_report(const char *what, const struct crm_error *err);

/*
 * Runs the subcommand argv[1] of group argv[0] ("customer add ...") from
 * subs[0..n-1], passing it argv + 1. Without one, or with --help, lists them.
 */
int cli_dispatch(const struct cli_command *subs, size_t n, int argc, char **argv,
		 struct cli_ctx *ctx);

/* Exit status for a code, without printing. */
int cli_status(enum crm_err code);

#endif
