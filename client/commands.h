/*
 * commands: the handlers behind `crm COMMAND ...` (git's builtin.h).
 *
 * client/main.c parses the global options (--db, --json, --help, --version)
 * and dispatches through one static table of {name, handler, help}. Every
 * handler has the same shape: argv[0] is the command's own name ("customer"),
 * the rest are its arguments; it returns the process exit status (0 ok,
 * 1 failure, 2 usage error) after printing its result on stdout and at most
 * one error line on stderr (cli_report() in cli.h prints it).
 */
#ifndef CLIENT_COMMANDS_H
#define CLIENT_COMMANDS_H

#include <stdbool.h>

/* What the global options said; shared by every command of one run. */
struct cli_ctx {
	const char *db_path; /* --db PATH, or NULL: $CRM_HOME/replica.db */
	bool json;           /* --json given before the command */
};

typedef int (*cli_cmd_fn)(int argc, char **argv, struct cli_ctx *ctx);

/* One row of the command table in main.c. */
struct cli_command {
	const char *name;
	cli_cmd_fn run;
	const char *help; /* one line for `crm --help` */
};

/* cmd_customer.c: customer add|list|show|edit|delete */
int cmd_customer(int argc, char **argv, struct cli_ctx *ctx);

/* cmd_child.c: the tables under a customer */
int cmd_contact(int argc, char **argv, struct cli_ctx *ctx);  /* add|list */
int cmd_activity(int argc, char **argv, struct cli_ctx *ctx); /* add|list */
int cmd_visit(int argc, char **argv, struct cli_ctx *ctx);    /* = activity add --kind visit */
int cmd_deal(int argc, char **argv, struct cli_ctx *ctx);     /* add|list|stage */
int cmd_order(int argc, char **argv, struct cli_ctx *ctx);    /* add|list */
int cmd_task(int argc, char **argv, struct cli_ctx *ctx);     /* add|list|done */

/* cmd_search.c */
int cmd_search(int argc, char **argv, struct cli_ctx *ctx);

/* cmd_today.c */
int cmd_today(int argc, char **argv, struct cli_ctx *ctx);

/* cmd_csv.c */
int cmd_import(int argc, char **argv, struct cli_ctx *ctx);
int cmd_export(int argc, char **argv, struct cli_ctx *ctx);

#endif
