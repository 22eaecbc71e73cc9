/*
 * srv_dedup: automatic merges, the review queue, unmerge and aliases.
 * See srv_dedup.h.
 */
#include <stdio.h>

#include "srv_dedup.h"

int srv_cmd_dup(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("crm-server dup: not implemented yet\n", stderr);
	return 2;
}
