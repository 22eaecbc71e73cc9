/* Conflicts: deterministic ids, recording, listing, resolving by a new captured edit. */
#include "conflict.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm_time.h"

void conflict_id(const char *tbl, const char *rid, const char *col, sync_hlc loser_hlc,
		 const char *loser_site, char out[37])
{
	crypto_generichash_state st;
	unsigned char h[16];
	char hs[SYNC_HLC_STR_MAX];
	const unsigned char zero = 0;

	sync_hlc_format(loser_hlc, hs);
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, (const unsigned char *)tbl, strlen(tbl));
	crypto_generichash_update(&st, &zero, 1);
	crypto_generichash_update(&st, (const unsigned char *)rid, strlen(rid));
	crypto_generichash_update(&st, &zero, 1);
	crypto_generichash_update(&st, (const unsigned char *)col, strlen(col));
	crypto_generichash_update(&st, &zero, 1);
	crypto_generichash_update(&st, (const unsigned char *)hs, strlen(hs));
	crypto_generichash_update(&st, &zero, 1);
	crypto_generichash_update(&st, (const unsigned char *)loser_site, strlen(loser_site));
	crypto_generichash_final(&st, h, sizeof h);
	h[6] = (unsigned char)(0x80 | (h[6] & 0x0f)); /* UUID version 8: custom */
	h[8] = (unsigned char)(0x80 | (h[8] & 0x3f));
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", h[0], h[1],
		 h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14],
		 h[15]);
}

static enum crm_err put(struct sync_db *s, const char *id, const char *tbl, const char *rid,
			const char *col, const struct sync_value *loser, sync_hlc lh,
			const char *ls, const struct sync_value *winner, sync_hlc wh,
			const char *ws, int64_t detected, int64_t resolved, bool *added,
			struct crm_error *err)
{
	sqlite3_stmt *st = s->conflict_put;
	enum crm_err rc = CRM_OK;

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, tbl, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, rid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, col, -1, SQLITE_STATIC);
	db_value_bind(st, 5, loser);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)lh);
	sqlite3_bind_text(st, 7, ls, -1, SQLITE_STATIC);
	db_value_bind(st, 8, winner);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)wh);
	sqlite3_bind_text(st, 10, ws, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, detected);
	sqlite3_bind_int64(st, 12, resolved);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(s, err, "record conflict");
	else if (added)
		*added = sqlite3_changes(s->db) > 0;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

enum crm_err conflict_add(struct sync_db *s, const char *tbl, const char *rid, const char *col,
			  const struct sync_value *loser, sync_hlc loser_hlc, const char *loser_site,
			  const struct sync_value *winner, sync_hlc winner_hlc,
			  const char *winner_site, bool *added, struct crm_error *err)
{
	char id[37];

	conflict_id(tbl, rid, col, loser_hlc, loser_site, id);
	return put(s, id, tbl, rid, col, loser, loser_hlc, loser_site, winner, winner_hlc,
		   winner_site, crm_now_ms(), 0, added, err);
}

enum crm_err sync_conflict_record(struct sync_db *s, const struct sync_conflict *c,
				  struct crm_error *err)
{
	if (!c->table || !c->row_id || !c->col)
		return crm_fail(err, CRM_EINVAL, "conflict without table, row or column");
	return put(s, c->id, c->table, c->row_id, c->col, &c->loser, c->loser_hlc, c->loser_site,
		   &c->winner, c->winner_hlc, c->winner_site,
		   c->detected_at ? c->detected_at : crm_now_ms(), c->resolved_at, NULL, err);
}

static void conflict_clear(struct sync_conflict *c)
{
	free(c->table);
	free(c->row_id);
	free(c->col);
	db_value_release(&c->loser);
	db_value_release(&c->winner);
	memset(c, 0, sizeof *c);
}

void sync_conflicts_release(struct sync_conflict *list, size_t n)
{
	if (!list)
		return;
	for (size_t i = 0; i < n; i++)
		conflict_clear(&list[i]);
	free(list);
}

static char *dup_col(sqlite3_stmt *st, int i)
{
	const unsigned char *p = sqlite3_column_text(st, i);

	return strdup(p ? (const char *)p : "");
}

static enum crm_err read_conflict(sqlite3_stmt *st, struct sync_conflict *c)
{
	const unsigned char *p;

	memset(c, 0, sizeof *c);
	p = sqlite3_column_text(st, 0);
	snprintf(c->id, sizeof c->id, "%s", p ? (const char *)p : "");
	c->table = dup_col(st, 1);
	c->row_id = dup_col(st, 2);
	c->col = dup_col(st, 3);
	if (!c->table || !c->row_id || !c->col)
		return CRM_ENOMEM;
	if (db_value_from_column(st, 4, &c->loser) != CRM_OK)
		return CRM_ENOMEM;
	c->loser_hlc = (sync_hlc)sqlite3_column_int64(st, 5);
	p = sqlite3_column_text(st, 6);
	snprintf(c->loser_site, sizeof c->loser_site, "%s", p ? (const char *)p : "");
	if (db_value_from_column(st, 7, &c->winner) != CRM_OK)
		return CRM_ENOMEM;
	c->winner_hlc = (sync_hlc)sqlite3_column_int64(st, 8);
	p = sqlite3_column_text(st, 9);
	snprintf(c->winner_site, sizeof c->winner_site, "%s", p ? (const char *)p : "");
	c->detected_at = sqlite3_column_int64(st, 10);
	c->resolved_at = sqlite3_column_int64(st, 11);
	return CRM_OK;
}

#define CONFLICT_COLS                                                                   \
	"id, tbl, rid, col, loser_value, loser_hlc, loser_site, winner_value, winner_hlc," \
	" winner_site, detected_at, resolved_at"

enum crm_err sync_conflicts_list(struct sync_db *s, bool all, struct sync_conflict **list,
				 size_t *n, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	struct sync_conflict *v = NULL;
	size_t cnt = 0, cap = 0;
	enum crm_err rc = CRM_OK;
	int step;
	const char *sql = all ? "SELECT " CONFLICT_COLS " FROM sync_conflicts"
				" ORDER BY detected_at DESC, id"
			      : "SELECT " CONFLICT_COLS " FROM sync_conflicts WHERE resolved_at = 0"
				" ORDER BY detected_at DESC, id";

	*list = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(s, err, "list conflicts");
		goto out;
	}
	for (step = sqlite3_step(st); step == SQLITE_ROW; step = sqlite3_step(st)) {
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct sync_conflict *nv = realloc(v, ncap * sizeof *nv);

			if (!nv) {
				rc = crm_fail(err, CRM_ENOMEM, "conflicts");
				goto out;
			}
			v = nv;
			cap = ncap;
		}
		rc = read_conflict(st, &v[cnt]);
		cnt++;
		if (rc != CRM_OK) {
			rc = crm_fail(err, rc, "conflicts");
			goto out;
		}
	}
	if (step != SQLITE_DONE)
		rc = db_fail(s, err, "list conflicts");
out:
	sqlite3_finalize(st);
	if (rc != CRM_OK) {
		sync_conflicts_release(v, cnt);
		return rc;
	}
	*list = v;
	*n = cnt;
	return CRM_OK;
}

enum crm_err sync_conflict_resolve(struct sync_db *s, const char *id, bool keep_loser,
				   struct crm_error *err)
{
	sqlite3_stmt *st = NULL, *up = NULL;
	struct sync_conflict c;
	struct db_table *t;
	struct crm_buf sql;
	enum crm_err rc = CRM_OK;
	bool have = false, in_sp = false;
	int step;

	memset(&c, 0, sizeof c);
	crm_buf_init(&sql, 4096);
	if (sqlite3_prepare_v2(s->db, "SELECT " CONFLICT_COLS " FROM sync_conflicts WHERE id = ?1",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(s, err, "resolve conflict");
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		rc = crm_fail(err, CRM_ENOTFOUND, "no conflict %s", id);
		goto out;
	}
	if (step != SQLITE_ROW) {
		rc = db_fail(s, err, "resolve conflict");
		goto out;
	}
	have = true;
	rc = read_conflict(st, &c);
	if (rc != CRM_OK) {
		rc = crm_fail(err, rc, "resolve conflict");
		goto out;
	}
	rc = db_exec(s, "SAVEPOINT sync_resolve", err);
	if (rc != CRM_OK)
		goto out;
	in_sp = true;
	if (keep_loser) {
		t = db_table_find(s, c.table);
		if (!t || db_col_find(t, c.col) < 0) {
			rc = crm_fail(err, CRM_ENOTFOUND, "conflict %s: %s.%s is not replicated here", id,
				      c.table, c.col);
			goto out;
		}
		if (crm_buf_addf(&sql, "UPDATE \"%s\" SET \"%s\" = ?1 WHERE \"%s\" = ?2", t->name, c.col,
				 t->pk) != CRM_OK) {
			rc = crm_fail(err, CRM_ENOMEM, "resolve conflict");
			goto out;
		}
		if (sqlite3_prepare_v2(s->db, sql.data, -1, &up, NULL) != SQLITE_OK) {
			rc = db_fail(s, err, "resolve conflict");
			goto out;
		}
		db_value_bind(up, 1, &c.loser);
		sqlite3_bind_text(up, 2, c.row_id, -1, SQLITE_STATIC);
		if (sqlite3_step(up) != SQLITE_DONE) {
			rc = db_fail(s, err, "resolve conflict");
			goto out;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(s->db, "UPDATE sync_conflicts SET resolved_at = ?2 WHERE id = ?1",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(s, err, "resolve conflict");
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, crm_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(s, err, "resolve conflict");
		goto out;
	}
out:
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	if (in_sp) {
		if (rc != CRM_OK)
			sqlite3_exec(s->db, "ROLLBACK TO sync_resolve", NULL, NULL, NULL);
		if (sqlite3_exec(s->db, "RELEASE sync_resolve", NULL, NULL, NULL) != SQLITE_OK &&
		    rc == CRM_OK)
			rc = db_fail(s, err, "resolve conflict");
	}
	if (have)
		conflict_clear(&c);
	crm_buf_release(&sql);
	return rc;
}
