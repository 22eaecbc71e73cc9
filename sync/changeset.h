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

/* Makes room for n more fields in row (fewer reallocations). CRM_ENOMEM. */
enum crm_err sync_row_reserve(struct sync_row *row, size_t n);

/* sync_row_take_field with the length of f->col known (strlen(f->col) == col_len). */
enum crm_err sync_row_take_field_n(struct sync_changeset *cs, struct sync_row *row,
				   struct sync_field *f, size_t col_len);

#endif
