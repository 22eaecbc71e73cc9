/*
 * changeset: the in-memory form of change sets (rows of fields, each with its
 * value, version and base), built by the outbox, the feed, snapshots and the
 * decoder, read by apply and the encoder. The functions are declared in
 * sync.h (sync_changeset_*, sync_row_add_field, sync_row_take_field); strings
 * are copied in (a text value taken over by sync_row_take_field) and owned by
 * the set until sync_changeset_release().
 */
#ifndef SYNC_CHANGESET_H
#define SYNC_CHANGESET_H

#include "sync.h"

#endif
