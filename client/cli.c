/* Option parsing and --help text for crm's commands, from the table metadata. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crm_utf8.h"

/* Short flags people expect, mapped to columns. */
static const struct {
	const char *table, *flag, *col;
} aliases[] = {
	{"activities", "at", "occurred_at"},
	{"activities", "next", "next_at"},
	{"orders", "at", "ordered_at"},
	{"tasks", "due", "due_at"},
};

bool cli_settable(const struct schema_column *c)
{
	return !(c->flags & (SCOL_SYSTEM | SCOL_SERVER | SCOL_PARENT));
}

void cli_flag_name(const char *col, char *out, size_t n)
{
	size_t i = 0;

	if (n == 0)
		return;
	for (; col[i] && i + 1 < n; i++)
		out[i] = col[i] == '_' ? '-' : col[i];
	out[i] = '\0';
}

void cli_args_release(struct cli_args *a)
{
	free(a->cols);
	free(a->pos);
	free(a->extra);
	memset(a, 0, sizeof *a);
	a->limit = -1;
}

static size_t count_extras(const struct cli_extra *extras)
{
	size_t n = 0;

	while (extras && extras[n].name)
		n++;
	return n;
}

/* Column index for flag name (with dashes) in t, or -1. */
static int column_for_flag(const struct schema_table *t, const char *flag)
{
	char name[64];

	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strcmp(aliases[i].table, t->name) == 0 && strcmp(aliases[i].flag, flag) == 0)
			flag = aliases[i].col;
	for (size_t i = 0; i < t->ncols; i++) {
		cli_flag_name(t->cols[i].name, name, sizeof name);
		if (strcmp(name, flag) == 0 || strcmp(t->cols[i].name, flag) == 0)
			return (int)i;
	}
	return -1;
}

enum crm_err cli_parse(int argc, char **argv, int first, const struct schema_table *t,
		       unsigned accept, const struct cli_extra *extras, struct cli_args *a,
		       struct crm_error *err)
{
	size_t nextra = count_extras(extras);
	bool opts_done = false;

	memset(a, 0, sizeof *a);
	a->limit = -1;
	a->t = t;
	a->pos = calloc((size_t)argc + 1, sizeof *a->pos);
	a->cols = calloc(t ? t->ncols : 1, sizeof *a->cols);
	a->extra = calloc(nextra + 1, sizeof *a->extra);
	if (!a->pos || !a->cols || !a->extra)
		return crm_fail(err, CRM_ENOMEM, "out of memory");
	for (int i = first; i < argc; i++) {
		const char *arg = argv[i];
		char flag[64];
		const char *eq, *value = NULL;
		size_t flen;
		int col;

		if (!crm_utf8_valid(arg, strlen(arg)))
			return crm_fail(err, CRM_EUTF8, "argument %d is not valid UTF-8 text: "
				       "check the terminal's encoding (UTF-8 is required)", i);
		/* "-" (stdin) and "-20" are values, not options. */
		if (opts_done || arg[0] != '-' || arg[1] == '\0' || isdigit((unsigned char)arg[1])) {
			a->pos[a->npos++] = argv[i];
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			opts_done = true;
			continue;
		}
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			a->help = true;
			continue;
		}
		if (arg[1] != '-')
			return crm_fail(err, CRM_EUSAGE, "unknown option %s: see --help", arg);
		eq = strchr(arg + 2, '=');
		flen = eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
		if (flen == 0 || flen >= sizeof flag)
			return crm_fail(err, CRM_EUSAGE, "unknown option %s: see --help", arg);
		memcpy(flag, arg + 2, flen);
		flag[flen] = '\0';
		if (eq)
			value = eq + 1;

		/* Switches. */
		if ((accept & CLI_JSON) && strcmp(flag, "json") == 0) {
			a->json = true;
			continue;
		}
		if ((accept & CLI_DELETED) && strcmp(flag, "deleted") == 0) {
			a->deleted = true;
			continue;
		}
		if ((accept & CLI_FORCE) && strcmp(flag, "force") == 0) {
			a->force = true;
			continue;
		}
		{
			size_t k;

			for (k = 0; k < nextra; k++)
				if (strcmp(extras[k].name, flag) == 0)
					break;
			if (k < nextra && !extras[k].arg) {
				a->extra[k] = "";
				continue;
			}
			/* Everything else takes a value. */
			col = -1;
			if (k == nextra && !((accept & CLI_LIMIT) && strcmp(flag, "limit") == 0) &&
			    !((accept & CLI_CUSTOMER) && strcmp(flag, "customer") == 0)) {
				col = t && (accept & CLI_COLUMNS) ? column_for_flag(t, flag) : -1;
				if (col < 0)
					return crm_fail(err, CRM_EUSAGE, "unknown option --%s: see "
						       "--help for the options", flag);
				if (!cli_settable(&t->cols[col]))
					return crm_fail(err, CRM_EUSAGE,
							"--%s: %s is kept by the %s and cannot be set",
							flag, t->cols[col].name,
							(t->cols[col].flags & SCOL_SERVER) ? "server"
							: (t->cols[col].flags & SCOL_PARENT)
							    ? "program (name the customer instead)"
							    : "program");
			}
			if (!value) {
				if (i + 1 >= argc)
					return crm_fail(err, CRM_EUSAGE, "--%s needs a value", flag);
				value = argv[++i];
				if (!crm_utf8_valid(value, strlen(value)))
					return crm_fail(err, CRM_EUTF8,
							"--%s: the value is not valid UTF-8 text: "
							"check the terminal's encoding", flag);
			}
			if (k < nextra) {
				a->extra[k] = value;
			} else if (strcmp(flag, "limit") == 0 && col < 0) {
				char *end = NULL;
				long long n;

				errno = 0;
				n = strtoll(value, &end, 10);
				if (errno || end == value || *end || n < 0)
					return crm_fail(err, CRM_EUSAGE, "--limit \"%s\": expected a "
						       "number of rows (0 or more)", value);
				a->limit = n;
			} else if (strcmp(flag, "customer") == 0 && col < 0) {
				a->customer = value;
			} else {
				a->cols[col] = value;
			}
		}
	}
	return CRM_OK;
}

static void opt_line(FILE *f, const char *flag, const char *metavar, const char *help)
{
	char left[96];

	snprintf(left, sizeof left, "  --%s%s%s", flag, metavar ? " " : "", metavar ? metavar : "");
	fputs(left, f);
	for (size_t w = strlen(left); w < 28; w++)
		fputc(' ', f);
	if (strlen(left) >= 28)
		fputs("  ", f);
	fprintf(f, "%s\n", help);
}

static const char *metavar(const struct schema_column *c)
{
	switch (c->type) {
	case SCOL_ENUM:
		return "VALUE";
	case SCOL_PHONE:
		return "PHONE";
	case SCOL_EMAIL:
		return "EMAIL";
	case SCOL_USCC:
		return "USCC";
	case SCOL_DATE:
		return "DATE";
	case SCOL_TIME:
		return "TIME";
	case SCOL_INT:
	case SCOL_REAL:
		return "N";
	case SCOL_MONEY:
		return "AMOUNT";
	case SCOL_CURRENCY:
		return "CUR";
	default:
		return "TEXT";
	}
}

void cli_help(FILE *f, const char *usage, const char *summary, const struct schema_table *t,
	      unsigned accept, const struct cli_extra *extras, const char *const *examples)
{
	fprintf(f, "usage: %s\n\n%s\n\n", usage, summary);
	fputs("options:\n", f);
	if (t && (accept & CLI_COLUMNS)) {
		for (size_t i = 0; i < t->ncols; i++) {
			const struct schema_column *c = &t->cols[i];
			char flag[64], help[512];

			if (!cli_settable(c))
				continue;
			cli_flag_name(c->name, flag, sizeof flag);
			for (size_t k = 0; k < sizeof aliases / sizeof aliases[0]; k++)
				if (strcmp(aliases[k].table, t->name) == 0 &&
				    strcmp(aliases[k].col, c->name) == 0) {
					size_t len = strlen(flag);

					snprintf(flag + len, sizeof flag - len, ", --%s", aliases[k].flag);
				}
			if (c->type == SCOL_ENUM && c->values && !strstr(c->help, c->values[0])) {
				size_t len = (size_t)snprintf(help, sizeof help, "%s (", c->help);

				for (const char *const *v = c->values; *v && len < sizeof help; v++)
					len += (size_t)snprintf(help + len, sizeof help - len, "%s%s",
								v == c->values ? "" : "|", *v);
				if (len < sizeof help)
					snprintf(help + len, sizeof help - len, ")");
			} else {
				snprintf(help, sizeof help, "%s", c->help);
			}
			if ((accept & CLI_NEW) && (c->flags & SCOL_REQUIRED)) {
				size_t len = strlen(help);

				snprintf(help + len, sizeof help - len, " [required]");
			}
			opt_line(f, flag, metavar(c), help);
		}
	}
	for (size_t k = 0; extras && extras[k].name; k++)
		opt_line(f, extras[k].name, extras[k].arg, extras[k].help);
	if (accept & CLI_CUSTOMER)
		opt_line(f, "customer", "REF",
			 (accept & CLI_COLUMNS)
				 ? "the customer (instead of the CUSTOMER argument)"
				 : "only rows of this customer (id, id prefix, ext_ref or name)");
	if (accept & CLI_LIMIT)
		opt_line(f, "limit", "N", "show at most N rows (default 50; all with --json)");
	if (accept & CLI_DELETED)
		opt_line(f, "deleted", NULL, "include deleted rows");
	if (accept & CLI_FORCE)
		opt_line(f, "force", NULL, "add even if the phone, e-mail or USCC is already used");
	if (accept & CLI_JSON)
		opt_line(f, "json", NULL, "print JSON (keys are the column names)");
	opt_line(f, "help", NULL, "show this help");
	if (examples && examples[0]) {
		fputs("\nexamples:\n", f);
		for (size_t i = 0; examples[i]; i++)
			fprintf(f, "  %s\n", examples[i]);
	}
}

int cli_status(enum crm_err code)
{
	return code == CRM_EUSAGE ? 2 : 1;
}

int cli_report(const char *what, const struct crm_error *err)
{
	fprintf(stderr, "crm: %s: %s\n", what, err->msg[0] ? err->msg : crm_strerror(err->code));
	return cli_status(err->code);
}

int cli_dispatch(const struct cli_command *subs, size_t n, int argc, char **argv,
		 struct cli_ctx *ctx)
{
	bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
	FILE *f = help ? stdout : stderr;

	if (argc >= 2 && !help) {
		for (size_t i = 0; i < n; i++)
			if (strcmp(subs[i].name, argv[1]) == 0)
				return subs[i].run(argc - 1, argv + 1, ctx);
		if (!crm_utf8_valid(argv[1], strlen(argv[1]))) {
			fprintf(stderr, "crm: %s: the subcommand is not valid UTF-8 text\n", argv[0]);
			return 1;
		}
		fprintf(stderr, "crm: %s: unknown subcommand \"%s\": see crm %s --help\n", argv[0],
			argv[1], argv[0]);
		return 2;
	}
	fprintf(f, "usage: crm %s SUBCOMMAND [OPTIONS]\n\nsubcommands:\n", argv[0]);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  %-8s  %s\n", subs[i].name, subs[i].help);
	fprintf(f, "\nsee crm %s SUBCOMMAND --help for its options and examples\n", argv[0]);
	return help ? 0 : 2;
}
