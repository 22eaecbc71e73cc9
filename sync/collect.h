/*
 * collect: reading change sets out of the clock table.
 *
 * The outbox (client: local fields past the acknowledged sequence), the feed
 * (server: every field past a reader's cursor) and row snapshots all walk
 * sync_clock in sequence order and group fields by row. A clock row with col
 * '' (a captured insert) stands for every column of the row that has no clock
 * row of its own, at the insert's version, with the values now in the table.
 * The public functions are declared in sync.h.
 */
#ifndef SYNC_COLLECT_H
#define SYNC_COLLECT_H

#include "db.h"

#endif
