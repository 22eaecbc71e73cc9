/*
 * cmd_sync: the commands that talk to crm-server (protocol v1, docs/protocol.md).
 *
 *   crm login --server URL --user NAME [--device NAME] [--cacert FILE]
 *   crm sync [--json] [--cacert FILE]
 *   crm status [--json]
 *   crm conflicts [--json] [--all]
 *   crm conflicts resolve ID --keep mine|theirs
 *
 * What a replica knows about its server lives in its sync state (server,
 * user, device, cursor, ack ...); the bearer token lives beside the replica
 * file in REPLICA.token, mode 0600. Handlers follow commands.h; login, sync
 * and status live in cmd_sync.c, conflicts in cmd_conflicts.c.
 */
#ifndef CLIENT_CMD_SYNC_H
#define CLIENT_CMD_SYNC_H

#include "commands.h"

int cmd_login(int argc, char **argv, struct cli_ctx *ctx);
int cmd_sync(int argc, char **argv, struct cli_ctx *ctx);
int cmd_status(int argc, char **argv, struct cli_ctx *ctx);
int cmd_conflicts(int argc, char **argv, struct cli_ctx *ctx);

#endif
