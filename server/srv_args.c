/* Table-driven option parsing for crm-server's subcommands; see srv_args.h. */
#include "srv_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct srv_arg *find(const struct srv_arg *specs, const char *name)
{
	for (; specs->name; specs++)
		if (strcmp(specs->name, name) == 0)
			return specs;
	return NULL;
}

int srv_args_parse(int argc, char **argv, const struct srv_arg *specs, const char **pos,
		   size_t pos_max, size_t *npos)
{
	*npos = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const struct srv_arg *s = find(specs, a);

		if (s && s->flag) {
			*s->flag = true;
			continue;
		}
		if (s && s->value) {
			if (i + 1 >= argc) {
				fprintf(stderr, "crm-server: %s needs a value\n", a);
				return 2;
			}
			*s->value = argv[++i];
			continue;
		}
		if (a[0] == '-' && a[1] == '-') {
			fprintf(stderr, "crm-server: unknown option %s (see crm-server --help)\n", a);
			return 2;
		}
		if (*npos == pos_max) {
			fprintf(stderr, "crm-server: too many arguments (from \"%s\" on)\n", a);
			return 2;
		}
		pos[(*npos)++] = a;
	}
	return 0;
}

int srv_args_need_db(const char *db)
{
	if (db)
		return 0;
	fprintf(stderr, "crm-server: which database? give --db PATH\n");
	return 2;
}

int srv_args_count(const char *name, const char *text, size_t *out)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || !end || end == text || *end || v < 0) {
		fprintf(stderr, "crm-server: %s %s: expected a whole number >= 0\n", name, text);
		return 2;
	}
	*out = (size_t)v;
	return 0;
}
