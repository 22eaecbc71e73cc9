/*
 * apply: merging remote change sets (sync_apply) and evicting rows
 * (sync_evict_row), both with capture off. Declared in sync.h.
 *
 * Per row: the row's clock rows are read once, every field is compared with
 * the version in place (its own clock row, else the row's "" insert row),
 * winners are written with ONE INSERT or UPDATE per row (statements cached
 * per column set), then their clock rows, then any conflicts.
 */
#ifndef SYNC_APPLY_H
#define SYNC_APPLY_H

#include "db.h"

/* Tables wider than this (columns besides the key) are refused by sync_open. */
#define APPLY_MAX_COLS DB_MAX_COLS

#endif
