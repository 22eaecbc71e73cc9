/*
 * srv_import: head office's import and export of customers.
 *
 * `crm-server import customers FILE.csv [--owner USER] [--skip-bad]` reads
 * the client's CSV format (a header row of column names, RFC 4180, UTF-8 with
 * an optional BOM; every value through the same field rules as the client),
 * keeps ext_ref, and de-duplicates as it goes, within the file and against
 * the whole pool (srv_dedup): a MATCH is merged, a REVIEW queued. All or
 * nothing unless --skip-bad (then each refused row is reported with its line
 * number and reason). Rows are captured writes at the hub, so they replicate
 * to their owners. `crm-server export customers --format csv|json` writes
 * every customer record, merged and deleted ones included, every column.
 */
#ifndef SERVER_SRV_IMPORT_H
#define SERVER_SRV_IMPORT_H

/* `crm-server import customers FILE.csv ...`; exit status. */
int srv_cmd_import(int argc, char **argv);

/* `crm-server export customers --format csv|json ...`; exit status. */
int srv_cmd_export(int argc, char **argv);

#endif
