/*
 * capture: field-level change capture by SQLite triggers.
 *
 * For each replicated table, triggers generated from its live columns:
 *   AFTER INSERT  one clock row with col '' ("every column, as inserted");
 *   AFTER UPDATE  one clock row per column whose value changed, through the
 *                 SQL function sync_touch(), which also works out the base;
 *   BEFORE DELETE refused ("hard delete refused: set deleted = 1");
 *   BEFORE UPDATE OF the primary key: refused (ids never change).
 * Every trigger fires only while sync_capturing() is 1 (off during apply and
 * eviction). The column list is remembered in sync_state; when it changes (a
 * migration added a column) the table's triggers are dropped and recreated.
 */
#ifndef SYNC_CAPTURE_H
#define SYNC_CAPTURE_H

#include <stdbool.h>

#include "db.h"

/* Registers (on) or removes (off) the sync_touch() SQL function. */
enum crm_err capture_register(struct sync_db *s, bool on, struct crm_error *err);

/* Installs or upgrades the triggers of t (idempotent). */
enum crm_err capture_install(struct sync_db *s, struct db_table *t, struct crm_error *err);

#endif
