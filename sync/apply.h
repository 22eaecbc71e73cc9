/*
 * apply: merging remote change sets (sync_apply) and evicting rows
 * (sync_evict_row), both with capture off. Declared in sync.h.
 *
 * Per row: the row's clock rows are read once, every field is compared with
 * the version in place (its own clock row, else the row's "" insert row),
 * winners are written with ONE INSERT or UPDATE per row (statements cached
 * per column set), then their clock rows, then any conflicts. New rows
 * without conflicts (no clock row) wait in a short queue and go in by
 * multi-row INSERTs, rows and then clock rows, before any other row is
 * written: the database ends as if each row had been written alone (rowids,
 * sequence numbers, refusals). Only the order of res->refused across rows
 * may differ when a queued row breaks a constraint (its refusals then come
 * after those the next row's check gave); refusals are per row and field.
 */
#ifndef SYNC_APPLY_H
#define SYNC_APPLY_H

#include "db.h"

/* Tables wider than this (columns besides the key) are refused by sync_open. */
#define APPLY_MAX_COLS DB_MAX_COLS

#endif
