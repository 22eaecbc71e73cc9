/* CSV import (per-row savepoints, line numbers) and CSV/JSON export over libcsv. */
#include "csvio.h"

#include <csv.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "crm_time.h"
#include "csv_read.h"
#include "crm_utf8.h"
#include "entry.h"
#include "output.h"
#include "rows.h"

#define MAX_FIELDS CSV_READ_MAX_FIELDS
#define PROGRESS_EVERY 5000

/* What a header column feeds. */
enum hkind { H_COLUMN, H_EXT_REF, H_IGNORE };

struct importer {
	sqlite3 *db;
	const struct schema_table *t;
	const struct csvio_options *opt;
	struct csvio_report *rep;
	struct crm_error *err;

	const struct csv_record *rec; /* the record being read (csv_read's) */

	/* the header */
	size_t ncols;
	enum hkind kind[MAX_FIELDS];
	int col[MAX_FIELDS];
	size_t seen;                 /* data rows seen */

	/* customers added so far: rowid0 + k + 1 came from line added[k], so a
	 * duplicate inside the file can name the line it repeats */
	sqlite3_int64 rowid0;
	long *added;
	size_t nadded, capadded;
};

void csvio_report_release(struct csvio_report *r)
{
	free(r->list);
	memset(r, 0, sizeof *r);
}

static enum crm_err refuse(struct importer *im, const char *reason)
{
	struct csvio_report *r = im->rep;

	r->refused++;
	if (r->nlist == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct csvio_refusal *p = realloc(r->list, cap * sizeof *p);

		if (!p)
			return crm_fail(im->err, CRM_ENOMEM, "out of memory");
		r->list = p;
		r->cap = cap;
	}
	r->list[r->nlist].line = im->rec->line;
	snprintf(r->list[r->nlist].reason, sizeof r->list[0].reason, "%s", reason);
	r->nlist++;
	return CRM_OK;
}

/*
 * A header name as the column it means: spreadsheets people write by hand say
 * "Name", "Ext Ref" or "ext-ref" for ext_ref. ASCII letters are lower-cased,
 * spaces and dashes become underscores; longer names than any column are kept
 * as they are (they match nothing either way).
 */
static const char *header_key(const char *name, char *buf, size_t n)
{
	size_t len = strlen(name);

	if (len >= n)
		return name;
	for (size_t i = 0; i <= len; i++) {
		char ch = name[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		else if (ch == ' ' || ch == '-')
			ch = '_';
		buf[i] = ch;
	}
	return buf;
}

static enum crm_err read_header(struct importer *im)
{
	const struct schema_table *t = im->t;

	if (im->rec->bad_utf8)
		return crm_fail(im->err, CRM_EUTF8, "line %ld: the header is not valid UTF-8 text: "
				"save the file as UTF-8 (Excel: CSV UTF-8; a GBK file "
				"can be converted with iconv -f GBK -t UTF-8)",
				im->rec->line);
	if (im->rec->too_many)
		return crm_fail(im->err, CRM_EFORMAT, "line %ld: more than %d columns", im->rec->line,
				MAX_FIELDS);
	for (size_t i = 0; i < im->rec->n; i++) {
		const char *name = im->rec->fields[i];
		const char *key;
		const struct schema_column *c;
		char buf[64];

		key = header_key(name, buf, sizeof buf);
		c = schema_column_find(t, key);
		if (c && (c->flags & SCOL_SERVER)) {
			size_t len = strlen(im->rep->ignored);

			im->kind[i] = H_IGNORE;
			snprintf(im->rep->ignored + len, sizeof im->rep->ignored - len, "%s%s",
				 len ? ", " : "", name);
		} else if (c) {
			im->kind[i] = H_COLUMN;
			im->col[i] = (int)(c - t->cols);
		} else if (t->parent && strcmp(key, "customer_ext_ref") == 0) {
			im->kind[i] = H_EXT_REF;
		} else {
			char list[CRM_ERRMSG_MAX / 2];
			size_t len = 0;

			list[0] = '\0';
			for (size_t k = 0; k < t->ncols && len + 40 < sizeof list; k++)
				len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
							k ? " " : "", t->cols[k].name);
			return crm_fail(im->err, CRM_EFORMAT,
					"line %ld: unknown column \"%s\": the columns of %s are: %s%s",
					im->rec->line, name, t->name, list,
					t->parent ? " (or customer_ext_ref)" : "");
		}
		for (size_t k = 0; k < i; k++)
			if (im->kind[k] == im->kind[i] && im->kind[i] != H_IGNORE &&
			    (im->kind[i] == H_EXT_REF || im->col[k] == im->col[i]))
				return crm_fail(im->err, CRM_EFORMAT,
						"line %ld: column \"%s\" appears twice", im->rec->line,
						name);
	}
	im->ncols = im->rec->n;
	return CRM_OK;
}

/* Looks up the live customer with ext_ref ref. */
static enum crm_err by_ext_ref(sqlite3 *db, const char *ref, char id[CRM_ID_SIZE],
			       struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	int n = 0;

	if (sqlite3_prepare_v2(db, "SELECT id FROM customers WHERE ext_ref = ?1 AND deleted = 0 "
				   "LIMIT 2", -1, &st, NULL) != SQLITE_OK) {
		rc = crm_fail(err, CRM_EDB, "%s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ == 0)
			snprintf(id, CRM_ID_SIZE, "%s", (const char *)sqlite3_column_text(st, 0));
	}
	if (n == 0)
		rc = crm_fail(err, CRM_ENOTFOUND, "customer_ext_ref \"%s\": no customer has it", ref);
	else if (n > 1)
		rc = crm_fail(err, CRM_EAMBIGUOUS, "customer_ext_ref \"%s\": several customers have it",
			      ref);
out:
	sqlite3_finalize(st);
	return rc;
}

static bool exists(sqlite3 *db, const struct schema_table *t, const char *id, bool live)
{
	sqlite3_stmt *st = NULL;
	char sql[160];
	bool found = false;

	snprintf(sql, sizeof sql, "SELECT 1 FROM \"%s\" WHERE id = ?1%s", t->name,
		 live ? " AND deleted = 0" : "");
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return found;
}

/* Remembers that the customer just inserted came from the current record. */
static enum crm_err note_added(struct importer *im, struct crm_error *err)
{
	if (im->nadded == im->capadded) {
		size_t cap = im->capadded ? im->capadded * 2 : 1024;
		long *p = realloc(im->added, cap * sizeof *p);

		if (!p)
			return crm_fail(err, CRM_ENOMEM, "out of memory");
		im->added = p;
		im->capadded = cap;
	}
	im->added[im->nadded++] = im->rec->line;
	return CRM_OK;
}

/* The line of this file customer id was added from, or 0 if it was already there. */
static long added_line(const struct importer *im, const char *id)
{
	sqlite3_stmt *st = NULL;
	sqlite3_int64 rowid = 0;

	if (sqlite3_prepare_v2(im->db, "SELECT rowid FROM customers WHERE id = ?1", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			rowid = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rowid <= im->rowid0 || (sqlite3_uint64)(rowid - im->rowid0) > im->nadded)
		return 0;
	return im->added[rowid - im->rowid0 - 1];
}

/* Builds and inserts one data row; a refusal is returned as CRM_EINVAL & co with err set. */
static enum crm_err import_row(struct importer *im, struct crm_error *err)
{
	const struct schema_table *t = im->t;
	struct row r = {0};
	bool *set = NULL;
	char money_cur[4] = "";
	const char *ext = NULL;
	enum crm_err rc;

	if (im->rec->bad_utf8)
		return crm_fail(err, CRM_EUTF8, "the row is not valid UTF-8 text: save the file as "
				"UTF-8 (a GBK file: iconv -f GBK -t UTF-8)");
	if (im->rec->n != im->ncols || im->rec->too_many)
		return crm_fail(err, CRM_EFORMAT, "%zu fields where the header has %zu",
				im->rec->n, im->ncols);
	rc = row_new(&r, t);
	set = calloc(t->ncols, sizeof *set);
	if (rc != CRM_OK || !set) {
		rc = crm_fail(err, CRM_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < im->ncols; i++) {
		char cur[4] = "";
		const char *v = im->rec->fields[i];

		if (im->kind[i] == H_EXT_REF) {
			if (v[0])
				ext = v;
			continue;
		}
		if (im->kind[i] != H_COLUMN || v[0] == '\0')
			continue;
		rc = entry_put(&r, t->cols[im->col[i]].name, v, set, cur, err);
		if (rc != CRM_OK)
			goto out;
		if (cur[0])
			memcpy(money_cur, cur, sizeof cur);
	}
	if (money_cur[0] && row_col(t, "currency") >= 0 && !set[row_col(t, "currency")]) {
		rc = row_put_text(&r, "currency", money_cur);
		if (rc != CRM_OK)
			goto out;
	}
	if (t->parent) {
		const char *cid = row_text(&r, "customer_id");
		char id[CRM_ID_SIZE];

		if (!cid && ext) {
			rc = by_ext_ref(im->db, ext, id, err);
			if (rc != CRM_OK)
				goto out;
			rc = row_put_text(&r, "customer_id", id);
			if (rc != CRM_OK)
				goto out;
		} else if (!cid) {
			rc = crm_fail(err, CRM_EINVAL, "no customer: fill customer_id or customer_ext_ref");
			goto out;
		} else if (!exists(im->db, schema_table_find("customers"), cid, true)) {
			rc = crm_fail(err, CRM_ENOTFOUND, "customer_id %s: no such customer", cid);
			goto out;
		}
	}
	if (im->opt->user && row_col(t, "owner") >= 0)
		rc = row_put_text(&r, "owner", im->opt->user);
	if (rc == CRM_OK && im->opt->user && row_col(t, "author") >= 0 && !row_text(&r, "author"))
		rc = row_put_text(&r, "author", im->opt->user);
	if (rc != CRM_OK)
		goto out;
	rc = entry_finish_new(&r, false, err);
	if (rc != CRM_OK)
		goto out;
	if (set[row_col(t, "id")] && exists(im->db, t, row_text(&r, "id"), false)) {
		rc = crm_fail(err, CRM_EEXISTS, "id %s: already in the replica (--skip-bad imports "
			      "only the rows that are not)", row_text(&r, "id"));
		goto out;
	}
	if (strcmp(t->name, "customers") == 0 && !im->opt->force) {
		struct rows_dup dup;
		bool found = false;

		rc = rows_find_duplicate(im->db, &r, &found, &dup, err);
		if (rc == CRM_OK && found) {
			long from = added_line(im, dup.id);

			if (from > 0)
				rc = crm_fail(err, CRM_EEXISTS, "%s %s is also on line %ld (%s): keep one "
					      "of the two rows, or import with --force to keep both",
					      dup.col, dup.value, from, dup.name);
			else
				rc = crm_fail(err, CRM_EEXISTS, "%s %s already belongs to customer %s "
					      "(id %s): import with --force to keep both", dup.col,
					      dup.value, dup.name, dup.id);
		}
		if (rc != CRM_OK)
			goto out;
	}
	rc = rows_insert(im->db, &r, err);
	if (rc == CRM_OK && strcmp(t->name, "customers") == 0)
		rc = note_added(im, err);
out:
	free(set);
	row_release(&r);
	return rc;
}

static enum crm_err on_header(void *ctx, const struct csv_record *rec, struct crm_error *err)
{
	struct importer *im = ctx;
	enum crm_err rc;

	(void)err; /* im->err is the same */
	im->rec = rec;
	rc = read_header(im);
	im->rec = NULL;
	return rc;
}

static enum crm_err on_row(void *ctx, const struct csv_record *rec, struct crm_error *why)
{
	struct importer *im = ctx;
	enum crm_err rc;

	im->rec = rec;
	im->seen++;
	rc = import_row(im, why);
	if (rc == CRM_OK)
		im->rep->imported++;
	if (im->opt->progress && im->seen % PROGRESS_EVERY == 0)
		im->opt->progress(im->opt->progress_ctx, im->seen);
	im->rec = NULL;
	return rc;
}

static enum crm_err on_refused(void *ctx, const struct csv_record *rec, const char *reason,
			       struct crm_error *err)
{
	struct importer *im = ctx;
	enum crm_err rc;

	(void)err; /* im->err is the same */
	im->rec = rec;
	rc = refuse(im, reason);
	im->rec = NULL;
	return rc;
}

enum crm_err csvio_import(sqlite3 *db, const struct schema_table *t, FILE *in,
			  const struct csvio_options *opt, struct csvio_report *rep,
			  struct crm_error *err)
{
	struct importer im;
	enum crm_err rc;

	memset(&im, 0, sizeof im);
	memset(rep, 0, sizeof *rep);
	im.db = db;
	im.t = t;
	im.opt = opt;
	im.rep = rep;
	im.err = err;
	if (strcmp(t->name, "customers") == 0) {
		sqlite3_stmt *st = NULL;

		if (sqlite3_prepare_v2(db, "SELECT coalesce(max(rowid), 0) FROM customers", -1, &st,
				       NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
			im.rowid0 = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	{
		const struct csv_rows rows = {db, on_header, on_row, on_refused, &im};

		rc = csv_read_rows(in, &rows, err);
	}
	free(im.added);
	return rc;
}

/* ---- export ---------------------------------------------------------- */

static enum crm_err select_all(sqlite3 *db, const struct schema_table *t, bool with_deleted,
			       struct row_list *l, struct crm_error *err)
{
	struct schema_value p = {SV_INT, with_deleted, 0, NULL};

	return rows_select(db, t, "WHERE (r.deleted = 0 OR ?1) ORDER BY r.created_at, r.id", &p, 1,
			   l, err);
}

/* The CSV text of a value: what the importer reads back to the same value. */
static void csv_value(const struct schema_column *c, const struct schema_value *v, char *out,
		      size_t n)
{
	out[0] = '\0';
	switch (v->type) {
	case SV_NULL:
		break;
	case SV_TEXT:
		snprintf(out, n, "%s", v->s);
		break;
	case SV_REAL:
		snprintf(out, n, "%.10g", v->r);
		break;
	case SV_INT:
		if (c->type == SCOL_TIME) {
			char iso[CRM_TIME_ISO_MAX];

			crm_time_format_utc(v->i, iso);
			snprintf(out, n, "%s", iso);
		} else if (c->type == SCOL_MONEY) {
			uint64_t mag = v->i < 0 ? (uint64_t)0 - (uint64_t)v->i : (uint64_t)v->i;

			snprintf(out, n, "%s%" PRIu64 ".%02u", v->i < 0 ? "-" : "", mag / 100,
				 (unsigned)(mag % 100));
		} else {
			snprintf(out, n, "%" PRId64, v->i);
		}
		break;
	}
}

enum crm_err csvio_export_csv(sqlite3 *db, const struct schema_table *t, bool with_deleted,
			      FILE *out, struct crm_error *err)
{
	struct row_list l = {0};
	enum crm_err rc = select_all(db, t, with_deleted, &l, err);
	char *buf = NULL;
	const size_t bufsz = 16384;

	if (rc != CRM_OK)
		goto out;
	buf = malloc(bufsz);
	if (!buf) {
		rc = crm_fail(err, CRM_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		if (i)
			fputc(',', out);
		fputs(t->cols[i].name, out);
	}
	fputs("\r\n", out);
	for (size_t r = 0; r < l.n; r++) {
		for (size_t i = 0; i < t->ncols; i++) {
			if (i)
				fputc(',', out);
			if (l.rows[r].v[i].type == SV_NULL)
				continue;
			csv_value(&t->cols[i], &l.rows[r].v[i], buf, bufsz);
			csv_fwrite(out, buf, strlen(buf));
		}
		fputs("\r\n", out);
	}
	if (fflush(out) != 0 || ferror(out))
		rc = crm_fail(err, CRM_EIO, "cannot write the export");
out:
	free(buf);
	row_list_release(&l);
	return rc;
}

enum crm_err csvio_export_json(sqlite3 *db, const struct schema_table *t, bool with_deleted,
			       FILE *out, struct crm_error *err)
{
	struct row_list l = {0};
	cJSON *arr = NULL;
	enum crm_err rc = select_all(db, t, with_deleted, &l, err);

	if (rc != CRM_OK)
		goto out;
	arr = cJSON_CreateArray();
	for (size_t r = 0; arr && r < l.n; r++) {
		cJSON *o = out_row_json(t, l.rows[r].v);

		if (!o || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			cJSON_Delete(arr);
			arr = NULL;
		}
	}
	if (!arr || out_json_print(arr, out) != CRM_OK) {
		rc = crm_fail(err, CRM_ENOMEM, "out of memory");
		goto out;
	}
	if (fflush(out) != 0 || ferror(out))
		rc = crm_fail(err, CRM_EIO, "cannot write the export");
out:
	cJSON_Delete(arr);
	row_list_release(&l);
	return rc;
}
