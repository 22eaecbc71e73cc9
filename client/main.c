/*
 * crm: the rep's offline command-line client (git's git.c).
 *
 * Parses the global options, then dispatches through the command table below.
 * A command is one row: {name, handler, one-line help}; handlers are declared
 * in commands.h and live one group per file (cmd_*.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "cli.h"
#include "cmd_pool.h"
#include "cmd_sync.h"
#include "commands.h"
#include "crm_utf8.h"

#define CRM_VERSION "0.1.0"

static const struct cli_command commands[] = {
	{"customer", cmd_customer, "add, list, show, edit or delete customers"},
	{"contact", cmd_contact, "add or list the people at a customer"},
	{"activity", cmd_activity, "log or list visits, calls, meetings, e-mails, notes"},
	{"visit", cmd_visit, "log a visit (same as `activity add --kind visit`)"},
	{"deal", cmd_deal, "add or list deals, move a deal to another stage"},
	{"order", cmd_order, "add or list orders"},
	{"task", cmd_task, "add, list or finish tasks"},
	{"search", cmd_search, "find customers by name, phone, e-mail, contact or note"},
	{"today", cmd_today, "what is due today: tasks, follow-ups, deals closing"},
	{"import", cmd_import, "import rows from a CSV file"},
	{"export", cmd_export, "export a table as CSV or JSON"},
	{"login", cmd_login, "log this laptop in to the crm-server"},
	{"sync", cmd_sync, "push your changes and pull the server's (resumable)"},
	{"status", cmd_status, "server, user, pending changes, last sync"},
	{"conflicts", cmd_conflicts, "list conflicting edits, or resolve one"},
	{"pool", cmd_pool, "list or claim customers in the public pool (online)"},
	{"release", cmd_release, "give a customer back to the public pool (online)"},
};

static void usage(FILE *f)
{
	fputs("usage: crm [--db PATH] [--json] COMMAND [ARGS]\n\n"
	      "crm keeps your customers on this computer and works offline.\n"
	      "The data lives in $CRM_HOME/replica.db (CRM_HOME defaults to ~/.local/share/crm).\n\n"
	      "commands:\n", f);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		fprintf(f, "  %-10s  %s\n", commands[i].name, commands[i].help);
	}
	fputs("\nglobal options:\n"
	      "  --db PATH     use this database instead of $CRM_HOME/replica.db\n"
	      "  --json        print JSON instead of tables\n"
	      "  --help, -h    show help (also `crm COMMAND --help`)\n"
	      "  --version     show the version\n\n"
	      "examples:\n"
	      "  crm customer add --name 深圳市华信科技有限公司 --phone \"138 0013 8000\" --city 深圳\n"
	      "  crm customer add --name \"ACME Trading\" --email sales@acme.example --city London\n"
	      "  crm visit 华信 --note \"介绍新产品，客户有兴趣\" --next +7d\n"
	      "  crm search acme\n"
	      "  crm today\n", f);
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx = {NULL, false};
	struct crm_error err;
	int i = 1;

	/* No setlocale(): the C locale keeps numbers in output and CSV exports
	 * written with a decimal point whatever LC_NUMERIC says. */
	/*
	 * No allocation statistics: with them every SQLite allocation takes a
	 * global mutex (sqlite3_status() is not used). Before any database opens.
	 */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	crm_error_clear(&err);
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!crm_utf8_valid(a, strlen(a))) {
			fprintf(stderr, "crm: argument %d is not valid UTF-8 text: check the "
					"terminal's encoding (UTF-8 is required)\n", i);
			return 1;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("crm %s\n", CRM_VERSION);
			return 0;
		} else if (strcmp(a, "--json") == 0) {
			ctx.json = true;
		} else if (strcmp(a, "--db") == 0) {
			if (i + 1 >= argc) {
				fputs("crm: --db needs a path: crm --db PATH COMMAND ...\n", stderr);
				return 2;
			}
			ctx.db_path = argv[++i];
		} else if (strncmp(a, "--db=", 5) == 0) {
			ctx.db_path = a + 5;
		} else {
			fprintf(stderr, "crm: unknown option %s: see crm --help\n", a);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[i], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
		if (strcmp(commands[k].name, argv[i]) == 0) {
			int status = commands[k].run(argc - i, argv + i, &ctx);

			/* Output lost (a full disk, a closed pipe) is a failure, not 0. */
			errno = 0;
			if ((fflush(stdout) != 0 || ferror(stdout)) && status == 0) {
				fprintf(stderr, "crm: %s: cannot write the output: %s\n", argv[i],
					errno ? strerror(errno) : "write error");
				status = 1;
			}
			return status;
		}
	if (!crm_utf8_valid(argv[i], strlen(argv[i]))) {
		fprintf(stderr, "crm: the command is not valid UTF-8 text\n");
		return 1;
	}
	fprintf(stderr, "crm: unknown command \"%s\": see crm --help for the commands\n", argv[i]);
	return 2;
}
