/*
 * srv_dedup: server-side de-duplication of customers (查重, 撞单).
 *
 * Every new customer and every edit of an identifying field (SCOL_IDENT),
 * arriving by sync or import, is matched against the whole pool with the
 * schema/match library. A MATCH is merged automatically (the customer
 * registered first survives), a REVIEW pair goes to the review queue
 * (srv_dup_pairs, server migration 3), and every merge is logged so that it
 * can be undone exactly. Aliases (old id -> survivor) make changes that still
 * name a merged-away customer land on the survivor.
 */
#ifndef SERVER_SRV_DEDUP_H
#define SERVER_SRV_DEDUP_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crm_err.h"

struct srv_dedup;

/* `crm-server dup list|merge|dismiss|unmerge|scan`; exit status. */
int srv_cmd_dup(int argc, char **argv);

#endif
