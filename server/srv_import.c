/* srv_import: see srv_import.h. */
#include "srv_import.h"

#include <stdio.h>

int srv_cmd_import(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("crm-server import: not implemented yet\n", stderr);
	return 2;
}

int srv_cmd_export(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("crm-server export: not implemented yet\n", stderr);
	return 2;
}
