/*
 * codec: the JSON wire form of change sets (sync_changeset_to_json and
 * sync_changeset_from_json in sync.h; the format is in docs/sync.md).
 *
 * A change set is an array of row objects:
 *   {"t": table, "id": row id, "h": hlc, "s": site, ["bh": hlc, "bs": site,]
 *    "f": [[col, value], [col, value, hlc, site], [col, value, hlc, site, bh, bs] ...]}
 * A 2-element field takes the row's version and base, a 4-element one the
 * row's base.
 * Runs of rows of one table written whole at one version each (new rows: the
 * bulk of a first push or pull) go as block objects instead, the columns
 * named once:
 *   {"t": table, "c": [col, ...], "r": [[id, hlc, site, value, ...], ...]}
 * every row carrying one value per column, in order, and no base. A change
 * set may mix rows and blocks; their order is the order of the rows. Values: null, a string (text), a JSON integer (|n| <= 2^53),
 * {"i": "decimal"} (any 64-bit integer), {"r": number | "inf" | "-inf" | "nan"}
 * (real). HLCs are decimal strings. Decoding never trusts its input.
 */
#ifndef SYNC_CODEC_H
#define SYNC_CODEC_H

#include "sync.h"

/* Longest table or column name, and row id, the decoder accepts (bytes). */
#define CODEC_NAME_MAX 127
#define CODEC_ID_MAX 255
/* Fewest consecutive rows of one shape sent as a block. */
#define CODEC_BLOCK_MIN 4

#endif
