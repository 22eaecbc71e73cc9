/*
 * srv_args: the one option parser of crm-server's admin commands.
 *
 * Each subcommand describes its options in a table (name, and where a flag or
 * a value goes); srv_args_parse fills them and the positional arguments, and
 * prints one line on a usage error, so every command reports the same way.
 */
#ifndef SRV_ARGS_H
#define SRV_ARGS_H

#include <stdbool.h>
#include <stddef.h>

struct srv_arg {
	const char *name;   /* "--db" */
	bool *flag;         /* for a flag: set to true when present */
	const char **value; /* for an option with a value: the next argument */
};

/*
 * Parses argv[0..argc) against specs (ended by an entry with name NULL).
 * Positional arguments go to pos (at most pos_max; *npos gets their number).
 * The strings stay argv's. Returns 0, or 2 after printing one line on stderr
 * (an option without its value, an unknown option, too many arguments).
 */
int srv_args_parse(int argc, char **argv, const struct srv_arg *specs, const char **pos,
		   size_t pos_max, size_t *npos);

/* 0 if db is set, else prints how to name the database and returns 2. */
int srv_args_need_db(const char *db);

/* Parses a whole number >= 0 given to option name; 0, or 2 after one line on stderr. */
int srv_args_count(const char *name, const char *text, size_t *out);

#endif
