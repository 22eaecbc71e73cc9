/* Capture triggers: generation from table metadata, install/upgrade, sync_touch(). */
#include "capture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bump when the generated trigger text changes, so old databases are upgraded. */
#define CAPTURE_VERSION "1"
/* Columns per sync_touch() call: 2 + 2 * 60 arguments stays under SQLite's 127. */
#define TOUCH_CHUNK 60

/*
 * sync_touch(tbl, rid, col1, changed1, col2, changed2, ...): writes a clock
 * row for every changed column, all at one new HLC. The base of each edit is
 * the version in place, unless that is itself a pending local edit: then its
 * base is kept, so several offline edits all rest on what the server gave us.
 */
static void fn_touch(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sync_db *s = sqlite3_user_data(ctx);
	struct db_clock *rows = NULL;
	size_t nrows = 0;
	const char *tbl, *rid;
	bool any = false;
	sync_hlc h;
	struct crm_error err;

	if (argc < 2 || argc % 2 != 0) {
		sqlite3_result_error(ctx, "sync_touch: bad arguments", -1);
		return;
	}
	for (int i = 3; i < argc; i += 2) {
		if (sqlite3_value_int(argv[i]) != 0)
			any = true;
	}
	if (!any)
		return;
	tbl = (const char *)sqlite3_value_text(argv[0]);
	rid = (const char *)sqlite3_value_text(argv[1]);
	if (!tbl || !rid) {
		sqlite3_result_error(ctx, "sync_touch: row without id", -1);
		return;
	}
	db_refresh(s);
	if (db_clock_load(s, tbl, rid, &rows, &nrows, &err) != CRM_OK) {
		sqlite3_result_error(ctx, err.msg, -1);
		return;
	}
	h = sync_hlc_next(s);
	for (int i = 2; i + 1 < argc; i += 2) {
		const char *col = (const char *)sqlite3_value_text(argv[i]);
		const struct db_clock *p;
		sync_hlc bh = 0;
		const char *bs = NULL;

		if (!col || sqlite3_value_int(argv[i + 1]) == 0)
			continue;
		p = db_clock_effective(rows, nrows, col);
		if (p && strcmp(p->site, s->site) == 0 && p->seq > s->acked) {
			bh = p->base_hlc;
			bs = p->base_site;
		} else if (p) {
			bh = p->hlc;
			bs = p->site;
		}
		if (db_clock_put(s, tbl, rid, col, h, s->site, bh, bs, &err) != CRM_OK) {
			sqlite3_result_error(ctx, err.msg, -1);
			goto out;
		}
	}
out:
	free(rows);
}

enum crm_err capture_register(struct sync_db *s, bool on, struct crm_error *err)
{
	if (sqlite3_create_function_v2(s->db, "sync_touch", -1, SQLITE_UTF8,
				       on ? s : NULL, on ? fn_touch : NULL, NULL, NULL,
				       NULL) != SQLITE_OK)
		return db_fail(s, err, "register sync_touch");
	return CRM_OK;
}

static bool name_ok(const char *n)
{
	return n && *n && !strchr(n, '"') && !strchr(n, '\'');
}

static enum crm_err build_signature(const struct db_table *t, struct crm_buf *b)
{
	enum crm_err rc = crm_buf_addf(b, "v%s:%s", CAPTURE_VERSION, t->pk);

	for (size_t i = 0; i < t->ncols && rc == CRM_OK; i++)
		rc = crm_buf_addf(b, ",%s", t->cols[i].name);
	return rc;
}

static enum crm_err build_triggers(const struct db_table *t, struct crm_buf *b)
{
	const char *n = t->name, *pk = t->pk;
	enum crm_err rc;

	rc = crm_buf_addf(b,
		"DROP TRIGGER IF EXISTS \"sync_ins_%s\";"
		"DROP TRIGGER IF EXISTS \"sync_upd_%s\";"
		"DROP TRIGGER IF EXISTS \"sync_del_%s\";"
		"DROP TRIGGER IF EXISTS \"sync_pk_%s\";", n, n, n, n);
	if (rc == CRM_OK)
		rc = crm_buf_addf(b,
			"CREATE TRIGGER \"sync_ins_%s\" AFTER INSERT ON \"%s\" WHEN sync_capturing()"
			" BEGIN INSERT OR REPLACE INTO sync_clock"
			"(tbl, rid, col, hlc, site, seq, base_hlc, base_site)"
			" VALUES('%s', NEW.\"%s\", '', sync_hlc(), sync_site(), sync_seq(), 0, NULL); END;",
			n, n, n, pk);
	if (rc == CRM_OK)
		rc = crm_buf_addf(b,
			"CREATE TRIGGER \"sync_del_%s\" BEFORE DELETE ON \"%s\" WHEN sync_capturing()"
			" BEGIN SELECT RAISE(ABORT, 'hard delete refused: set deleted = 1'); END;",
			n, n);
	if (rc == CRM_OK)
		rc = crm_buf_addf(b,
			"CREATE TRIGGER \"sync_pk_%s\" BEFORE UPDATE OF \"%s\" ON \"%s\""
			" WHEN sync_capturing() AND OLD.\"%s\" IS NOT NEW.\"%s\""
			" BEGIN SELECT RAISE(ABORT, 'row ids are never updated'); END;",
			n, pk, n, pk, pk);
	if (rc == CRM_OK && t->ncols > 0) {
		rc = crm_buf_addf(b, "CREATE TRIGGER \"sync_upd_%s\" AFTER UPDATE ON \"%s\""
				     " WHEN sync_capturing() BEGIN", n, n);
		for (size_t i = 0; i < t->ncols && rc == CRM_OK; i++) {
			const char *c = t->cols[i].name;

			if (i % TOUCH_CHUNK == 0)
				rc = crm_buf_addf(b, "%s SELECT sync_touch('%s', NEW.\"%s\"",
						  i ? ");" : "", n, pk);
			if (rc == CRM_OK)
				rc = crm_buf_addf(b, ", '%s', OLD.\"%s\" IS NOT NEW.\"%s\"", c, c, c);
		}
		if (rc == CRM_OK)
			rc = crm_buf_addstr(b, "); END;");
	}
	return rc;
}

static int count_triggers(struct sync_db *s, const char *table)
{
	sqlite3_stmt *st = NULL;
	int n = -1;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
			       " AND tbl_name = ?1 AND name IN ('sync_ins_' || ?1, 'sync_upd_' || ?1,"
			       " 'sync_del_' || ?1, 'sync_pk_' || ?1)",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

enum crm_err capture_install(struct sync_db *s, struct db_table *t, struct crm_error *err)
{
	struct crm_buf sig, sql, key;
	char *old = NULL;
	enum crm_err rc;
	int want = t->ncols > 0 ? 4 : 3;

	crm_buf_init(&sig, 1 << 20);
	crm_buf_init(&sql, 1 << 22);
	crm_buf_init(&key, 1024);
	if (!name_ok(t->name) || !name_ok(t->pk)) {
		rc = crm_fail(err, CRM_EINVAL, "table %s: name not supported for capture", t->name);
		goto out;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		if (!name_ok(t->cols[i].name)) {
			rc = crm_fail(err, CRM_EINVAL, "table %s: column name not supported", t->name);
			goto out;
		}
	}
	rc = build_signature(t, &sig);
	if (rc == CRM_OK)
		rc = crm_buf_addf(&key, DB_STATE_PREFIX "cols.%s", t->name);
	if (rc != CRM_OK) {
		rc = crm_fail(err, rc, "table %s: too many columns", t->name);
		goto out;
	}
	if (sync_state_get(s, key.data, &old, NULL) == CRM_OK && strcmp(old, sig.data) == 0 &&
	    count_triggers(s, t->name) == want)
		goto out; /* already current */
	rc = build_triggers(t, &sql);
	if (rc != CRM_OK) {
		rc = crm_fail(err, rc, "table %s: triggers too large", t->name);
		goto out;
	}
	rc = db_exec(s, sql.data, err);
	if (rc == CRM_OK)
		rc = sync_state_set(s, key.data, sig.data, err);
out:
	free(old);
	crm_buf_release(&sig);
	crm_buf_release(&sql);
	crm_buf_release(&key);
	return rc;
}
