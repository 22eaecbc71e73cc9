/*
 * srv_import: head office's de-duplicating import of customers and the
 * export of every customer record. See srv_import.h.
 *
 * The CSV reading mirrors client/csvio.c (same header rules, same field
 * rules through schema_value_parse, line numbers of each record's first
 * line); it is written here because the server does not link the client.
 */
#include "srv_import.h"
#include "srv_args.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm_id.h"
#include "csv_read.h"
#include "crm_time.h"
#include "crm_utf8.h"
#include "srv_audit.h"
#include "srv_db.h"
#include "srv_dedup.h"
#include "srv_users.h"
#include "tables.h"

#define MAX_FIELDS CSV_READ_MAX_FIELDS
#define COL_IGNORED (-1)
#define INSERT_CACHE 16

struct refusal {
	long line;
	char reason[CRM_ERRMSG_MAX];
};

struct importer {
	sqlite3 *db;
	struct sync_db *sync;
	struct srv_dedup *dedup;
	const struct schema_table *t;
	const char *owner; /* --owner, or NULL */
	const char *by;
	struct crm_error *err;

	const struct csv_record *rec; /* the record being read (csv_read's) */

	/* the header */
	size_t ncols;
	int col[MAX_FIELDS]; /* column index in t, or COL_IGNORED */
	char ignored[256];

	/* INSERT statements by the set of columns filled */
	sqlite3_stmt *inserts[INSERT_CACHE];
	uint64_t insert_mask[INSERT_CACHE];
	size_t ninserts, insert_next;

	/* the outcome */
	size_t rows, created, merged, queued;
	struct refusal *refused;
	size_t nrefused, cap;
	int64_t now;
};

static enum crm_err read_header(struct importer *im)
{
	const struct schema_table *t = im->t;

	if (im->rec->bad_utf8)
		return crm_fail(im->err, CRM_EUTF8, "line %ld: the header is not valid UTF-8",
				im->rec->line);
	if (im->rec->too_many)
		return crm_fail(im->err, CRM_EFORMAT, "line %ld: more than %d columns", im->rec->line,
				MAX_FIELDS);
	for (size_t i = 0; i < im->rec->n; i++) {
		const char *name = im->rec->fields[i];
		const struct schema_column *c;

		/* A BOM in front of the first name is Excel's habit. */
		if (i == 0 && strncmp(name, "\xef\xbb\xbf", 3) == 0)
			name += 3;
		c = schema_column_find(t, name);
		if (!c) {
			char list[CRM_ERRMSG_MAX / 2];
			size_t len = 0;

			list[0] = '\0';
			for (size_t k = 0; k < t->ncols && len + 40 < sizeof list; k++)
				len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
							k ? " " : "", t->cols[k].name);
			return crm_fail(im->err, CRM_EFORMAT,
					"line %ld: unknown column \"%s\": the columns of customers are: %s",
					im->rec->line, name, list);
		}
		/* The server decides these: a merge, a deletion, the time of this write. */
		if (strcmp(c->name, "deleted") == 0 || strcmp(c->name, "merged_into") == 0 ||
		    strcmp(c->name, "updated_at") == 0) {
			size_t len = strlen(im->ignored);

			im->col[i] = COL_IGNORED;
			snprintf(im->ignored + len, sizeof im->ignored - len, "%s%s", len ? ", " : "",
				 c->name);
		} else {
			im->col[i] = (int)(c - t->cols);
		}
		for (size_t k = 0; k < i; k++)
			if (im->col[k] == im->col[i] && im->col[i] != COL_IGNORED)
				return crm_fail(im->err, CRM_EFORMAT, "line %ld: column \"%s\" appears twice",
						im->rec->line, name);
	}
	im->ncols = im->rec->n;
	return CRM_OK;
}

static enum crm_err refuse(struct importer *im, const char *reason)
{
	if (im->nrefused == im->cap) {
		size_t cap = im->cap ? im->cap * 2 : 16;
		struct refusal *p = realloc(im->refused, cap * sizeof *p);

		if (!p)
			return crm_fail(im->err, CRM_ENOMEM, "out of memory");
		im->refused = p;
		im->cap = cap;
	}
	im->refused[im->nrefused].line = im->rec->line;
	snprintf(im->refused[im->nrefused].reason, sizeof im->refused[0].reason, "%s", reason);
	im->nrefused++;
	return CRM_OK;
}

static bool exists(sqlite3 *db, const char *id)
{
	sqlite3_stmt *st = NULL;
	bool found = false;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM customers WHERE id = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return found;
}

static void bind_value(sqlite3_stmt *st, int i, const struct schema_value *v)
{
	switch (v->type) {
	case SV_INT:
		sqlite3_bind_int64(st, i, v->i);
		break;
	case SV_REAL:
		sqlite3_bind_double(st, i, v->r);
		break;
	case SV_TEXT:
		sqlite3_bind_text(st, i, v->s, -1, SQLITE_TRANSIENT);
		break;
	default:
		sqlite3_bind_null(st, i);
		break;
	}
}

/*
 * The INSERT for rows filling the columns set[] (prepared once per set:
 * preparing it compiles the capture triggers). NULL on failure. The
 * statement stays owned by the importer.
 */
static sqlite3_stmt *insert_stmt(struct importer *im, const bool *set, const char *sql)
{
	uint64_t mask = 0;
	size_t slot;

	for (size_t k = 0; k < im->t->ncols && k < 64; k++)
		if (set[k])
			mask |= (uint64_t)1 << k;
	for (slot = 0; slot < im->ninserts; slot++)
		if (im->insert_mask[slot] == mask)
			return im->inserts[slot];
	if (im->ninserts == INSERT_CACHE) {
		/* Many column patterns: reuse the oldest slot. */
		slot = im->insert_next++ % INSERT_CACHE;
		sqlite3_finalize(im->inserts[slot]);
		im->inserts[slot] = NULL;
	} else {
		slot = im->ninserts++;
	}
	if (sqlite3_prepare_v3(im->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &im->inserts[slot], NULL) !=
	    SQLITE_OK) {
		sqlite3_finalize(im->inserts[slot]);
		im->inserts[slot] = NULL;
		im->insert_mask[slot] = UINT64_MAX; /* never matches a real set */
		return NULL;
	}
	im->insert_mask[slot] = mask;
	return im->inserts[slot];
}

/* Builds, inserts and matches one data row; a refusal returns an error with err set. */
static enum crm_err import_row(struct importer *im, struct crm_error *err)
{
	const struct schema_table *t = im->t;
	struct schema_value vals[MAX_FIELDS];
	bool set[MAX_FIELDS];
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	char sql[2048], id[CRM_ID_SIZE], into[37];
	const char *owner = im->owner;
	size_t len, nb;
	int idcol = -1, ocol = -1, ccol = -1;
	struct srv_dup_stats stats = {0, 0, 0};

	memset(vals, 0, sizeof vals);
	memset(set, 0, sizeof set);
	if (im->rec->bad_utf8)
		return crm_fail(err, CRM_EUTF8, "the row is not valid UTF-8 text");
	if (im->rec->n != im->ncols || im->rec->too_many)
		return crm_fail(err, CRM_EFORMAT, "%zu fields where the header has %zu", im->rec->n,
				im->ncols);
	for (size_t i = 0; i < im->ncols && rc == CRM_OK; i++) {
		int k = im->col[i];
		char cur[4] = "";

		if (k == COL_IGNORED || im->rec->fields[i][0] == '\0')
			continue;
		rc = schema_value_parse(&t->cols[k], im->rec->fields[i], &vals[k], cur, err);
		if (rc == CRM_OK)
			set[k] = vals[k].type != SV_NULL;
	}
	if (rc != CRM_OK)
		goto out;
	for (size_t k = 0; k < t->ncols; k++) {
		const struct schema_column *c = &t->cols[k];

		if (strcmp(c->name, "id") == 0)
			idcol = (int)k;
		else if (strcmp(c->name, "owner") == 0)
			ocol = (int)k;
		else if (strcmp(c->name, "created_at") == 0)
			ccol = (int)k;
		if ((c->flags & SCOL_REQUIRED) && !set[k]) {
			rc = crm_fail(err, CRM_EINVAL, "%s is required", c->name);
			goto out;
		}
	}
	if (idcol >= 0 && set[idcol]) {
		snprintf(id, sizeof id, "%s", vals[idcol].s);
		if (exists(im->db, id)) {
			rc = crm_fail(err, CRM_EEXISTS, "id %s: already on the server", id);
			goto out;
		}
	} else {
		crm_id_new(id);
	}
	if (ocol >= 0 && set[ocol])
		owner = vals[ocol].s;
	if (owner) {
		struct srv_user u;

		if (srv_user_get(im->db, owner, &u, err) != CRM_OK) {
			rc = crm_fail(err, CRM_ENOTFOUND, "owner %s: no such user", owner);
			goto out;
		}
		if (u.disabled) {
			rc = crm_fail(err, CRM_EINVAL, "owner %s: the user is disabled", owner);
			goto out;
		}
	}
	/* Column names come from the schema's own metadata. */
	len = (size_t)snprintf(sql, sizeof sql, "INSERT INTO customers (id, owner, created_at, updated_at");
	for (size_t k = 0; k < t->ncols; k++) {
		const char *n = t->cols[k].name;

		if (!set[k] || strcmp(n, "id") == 0 || strcmp(n, "owner") == 0 ||
		    strcmp(n, "created_at") == 0)
			continue;
		len += (size_t)snprintf(sql + len, sizeof sql - len, ", \"%s\"", n);
	}
	len += (size_t)snprintf(sql + len, sizeof sql - len, ") VALUES (?, ?, ?, ?");
	for (size_t k = 0; k < t->ncols; k++) {
		const char *n = t->cols[k].name;

		if (!set[k] || strcmp(n, "id") == 0 || strcmp(n, "owner") == 0 ||
		    strcmp(n, "created_at") == 0)
			continue;
		len += (size_t)snprintf(sql + len, sizeof sql - len, ", ?");
	}
	snprintf(sql + len, sizeof sql - len, ")");
	st = insert_stmt(im, set, sql);
	if (!st) {
		rc = crm_fail(err, CRM_EINTERNAL, "import: %s", sqlite3_errmsg(im->db));
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (owner)
		sqlite3_bind_text(st, 2, owner, -1, SQLITE_TRANSIENT);
	/* created_at from the file when given (the earlier registration survives a merge). */
	sqlite3_bind_int64(st, 3, ccol >= 0 && set[ccol] ? vals[ccol].i : im->now);
	sqlite3_bind_int64(st, 4, im->now);
	nb = 4;
	for (size_t k = 0; k < t->ncols; k++) {
		const char *n = t->cols[k].name;

		if (!set[k] || strcmp(n, "id") == 0 || strcmp(n, "owner") == 0 ||
		    strcmp(n, "created_at") == 0)
			continue;
		bind_value(st, (int)++nb, &vals[k]);
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = crm_fail(err, CRM_EINVAL, "%s", sqlite3_errmsg(im->db));
		goto out;
	}
	if (owner)
		rc = srv_audit_record(im->db, id, NULL, owner, im->by, "imported", im->now, err);
	if (rc == CRM_OK)
		rc = srv_dedup_touch(im->db, id, err);
	/* De-duplicated as it goes: against the pool and the rows before it. */
	if (rc == CRM_OK)
		rc = srv_dedup_check(im->dedup, im->db, im->sync, id, "import", im->by, &stats, into, err);
	if (rc != CRM_OK) {
		if (rc != CRM_ENOMEM)
			rc = CRM_EINTERNAL; /* not the row's fault: stop */
		goto out;
	}
	if (stats.merged)
		im->merged++;
	else
		im->created++;
	im->queued += stats.queued;
out:
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	for (size_t k = 0; k < MAX_FIELDS; k++)
		schema_value_release(&vals[k]);
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
	im->rows++;
	rc = import_row(im, why);
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

/* ---- commands ----------------------------------------------------------- */

struct io_opts {
	const char *db, *owner, *format, *by, *out;
	bool skip_bad, json;
	const char *pos[3];
	size_t npos;
};

static int io_parse(int argc, char **argv, struct io_opts *o)
{
	const struct srv_arg specs[] = {
		{"--skip-bad", &o->skip_bad, NULL}, {"--json", &o->json, NULL},
		{"--db", NULL, &o->db},             {"--owner", NULL, &o->owner},
		{"--format", NULL, &o->format},     {"--by", NULL, &o->by},
		{"--out", NULL, &o->out},           {NULL, NULL, NULL},
	};
	int rc;

	memset(o, 0, sizeof *o);
	o->db = getenv("CRM_SERVER_DB");
	o->by = "admin";
	rc = srv_args_parse(argc, argv, specs, o->pos, sizeof o->pos / sizeof o->pos[0], &o->npos);
	return rc ? rc : srv_args_need_db(o->db);
}

int srv_cmd_import(int argc, char **argv)
{
	struct io_opts o;
	struct importer im;
	struct srv_db d;
	struct crm_error err;
	FILE *in = NULL;
	enum crm_err rc;
	bool open = false, txn = false;
	int status = 1;

	memset(&im, 0, sizeof im);
	if (io_parse(argc, argv, &o) != 0)
		return 2;
	if (o.npos != 2 || strcmp(o.pos[0], "customers") != 0) {
		fprintf(stderr, "crm-server: usage: import customers FILE.csv [--owner USER] "
				"[--skip-bad] [--json] --db PATH\n");
		return 2;
	}
	in = fopen(o.pos[1], "rb");
	if (!in) {
		fprintf(stderr, "crm-server: cannot read %s\n", o.pos[1]);
		return 1;
	}
	rc = srv_db_open(o.db, SRV_DB_SYNC, &d, &err);
	if (rc != CRM_OK)
		goto out;
	open = true;
	if (o.owner) {
		struct srv_user u;

		rc = srv_user_get(d.db, o.owner, &u, &err);
		if (rc == CRM_OK && u.disabled)
			rc = crm_fail(&err, CRM_EINVAL, "--owner %s: the user is disabled", o.owner);
		if (rc != CRM_OK)
			goto out;
	}
	im.db = d.db;
	im.sync = d.sync;
	im.t = schema_table_find("customers");
	im.owner = o.owner;
	im.by = o.by;
	im.err = &err;
	im.now = crm_now_ms();
	rc = srv_db_begin(d.db, &err);
	if (rc != CRM_OK)
		goto out;
	txn = true;
	/* The whole pool, read inside the transaction: nothing slips in between. */
	rc = srv_dedup_open(d.db, &im.dedup, &err);
	{
		const struct csv_rows rows = {d.db, on_header, on_row, on_refused, &im};

		if (rc == CRM_OK)
			rc = csv_read_rows(in, &rows, im.err);
	}
	if (rc != CRM_OK)
		goto out;
	if (im.nrefused && !o.skip_bad) {
		srv_db_rollback(d.db);
		txn = false;
		for (size_t i = 0; i < im.nrefused; i++)
			fprintf(stderr, "  line %ld: %s\n", im.refused[i].line, im.refused[i].reason);
		fprintf(stderr,
			"crm-server: import %s: %zu bad row%s, nothing imported: fix %s, or use "
			"--skip-bad to import the good rows\n",
			o.pos[1], im.nrefused, im.nrefused == 1 ? "" : "s",
			im.nrefused == 1 ? "it" : "them");
		status = 1;
		goto done;
	}
	rc = srv_db_commit(d.db, &err);
	txn = false;
	if (rc != CRM_OK)
		goto out;
	if (o.json) {
		cJSON *x = cJSON_CreateObject();
		cJSON *ra = x ? cJSON_AddArrayToObject(x, "refused") : NULL;
		char *text;

		if (x) {
			cJSON_AddNumberToObject(x, "rows", (double)im.rows);
			cJSON_AddNumberToObject(x, "created", (double)im.created);
			cJSON_AddNumberToObject(x, "merged", (double)im.merged);
			cJSON_AddNumberToObject(x, "queued", (double)im.queued);
			cJSON_AddNumberToObject(x, "refused_count", (double)im.nrefused);
		}
		for (size_t i = 0; ra && i < im.nrefused; i++) {
			cJSON *r = cJSON_CreateObject();

			if (!r)
				break;
			cJSON_AddNumberToObject(r, "line", (double)im.refused[i].line);
			cJSON_AddStringToObject(r, "reason", im.refused[i].reason);
			cJSON_AddItemToArray(ra, r);
		}
		text = x ? cJSON_Print(x) : NULL;
		if (text)
			printf("%s\n", text);
		free(text);
		cJSON_Delete(x);
	} else {
		for (size_t i = 0; i < im.nrefused; i++)
			printf("  refused line %ld: %s\n", im.refused[i].line, im.refused[i].reason);
		printf("imported %s: %zu row%s: %zu created, %zu merged, %zu queued for review, %zu "
		       "refused\n",
		       o.pos[1], im.rows, im.rows == 1 ? "" : "s", im.created, im.merged, im.queued,
		       im.nrefused);
		if (im.ignored[0])
			printf("  ignored columns (the server decides them): %s\n", im.ignored);
	}
	status = 0;
	goto done;
out:
	fprintf(stderr, "crm-server: import %s: %s\n", o.pos[1], err.msg);
	status = 1;
done:
	if (txn)
		srv_db_rollback(d.db);
	for (size_t i = 0; i < im.ninserts; i++)
		sqlite3_finalize(im.inserts[i]);
	srv_dedup_free(im.dedup);
	if (open)
		srv_db_close(&d);
	free(im.refused);
	fclose(in);
	return status;
}

/* ---- export ------------------------------------------------------------- */

/* One CSV field, quoted when it holds a comma, quote, line break or edge space. */
static void csv_field(FILE *out, const char *s)
{
	bool quote = s[0] == ' ' || (s[0] && s[strlen(s) - 1] == ' ');

	for (const char *p = s; *p && !quote; p++)
		quote = *p == ',' || *p == '"' || *p == '\n' || *p == '\r';
	if (!quote) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			fputc('"', out);
		fputc(*p, out);
	}
	fputc('"', out);
}

int srv_cmd_export(int argc, char **argv)
{
	struct io_opts o;
	struct srv_db d;
	struct crm_error err;
	const struct schema_table *t = schema_table_find("customers");
	sqlite3_stmt *st = NULL;
	char sql[2048];
	size_t len;
	bool json;
	cJSON *arr = NULL;
	FILE *out = stdout;
	int status = 0;
	size_t n = 0;

	if (io_parse(argc, argv, &o) != 0)
		return 2;
	if (o.npos != 1 || strcmp(o.pos[0], "customers") != 0 ||
	    (o.format && strcmp(o.format, "csv") != 0 && strcmp(o.format, "json") != 0)) {
		fprintf(stderr, "crm-server: usage: export customers --format csv|json [--out FILE] --db PATH\n");
		return 2;
	}
	json = o.format ? strcmp(o.format, "json") == 0 : o.json;
	if (srv_db_open(o.db, 0, &d, &err) != CRM_OK) {
		fprintf(stderr, "crm-server: %s\n", err.msg);
		return 1;
	}
	len = (size_t)snprintf(sql, sizeof sql, "SELECT ");
	for (size_t i = 0; i < t->ncols; i++)
		len += (size_t)snprintf(sql + len, sizeof sql - len, "%s\"%s\"", i ? ", " : "",
					t->cols[i].name);
	snprintf(sql + len, sizeof sql - len, " FROM customers ORDER BY created_at, id");
	if (sqlite3_prepare_v2(d.db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "crm-server: export: %s\n", sqlite3_errmsg(d.db));
		status = 1;
		goto out;
	}
	if (o.out) {
		out = fopen(o.out, "wb");
		if (!out) {
			fprintf(stderr, "crm-server: cannot write %s\n", o.out);
			out = stdout;
			status = 1;
			goto out;
		}
	}
	if (json) {
		arr = cJSON_CreateArray();
	} else {
		for (size_t i = 0; i < t->ncols; i++) {
			if (i)
				fputc(',', out);
			fputs(t->cols[i].name, out);
		}
		fputs("\r\n", out);
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		cJSON *x = json ? cJSON_CreateObject() : NULL;

		n++;
		for (size_t i = 0; i < t->ncols; i++) {
			const struct schema_column *c = &t->cols[i];
			int type = sqlite3_column_type(st, (int)i);
			char buf[64];
			const char *text = (const char *)sqlite3_column_text(st, (int)i);

			if (type == SQLITE_NULL) {
				if (x)
					cJSON_AddNullToObject(x, c->name);
				else if (i)
					fputc(',', out);
				continue;
			}
			if (c->type == SCOL_TIME && type == SQLITE_INTEGER) {
				crm_time_format_utc(sqlite3_column_int64(st, (int)i), buf);
				text = buf;
			}
			if (x) {
				if (type == SQLITE_INTEGER && c->type != SCOL_TIME)
					cJSON_AddNumberToObject(x, c->name,
								(double)sqlite3_column_int64(st, (int)i));
				else
					cJSON_AddStringToObject(x, c->name, text ? text : "");
				continue;
			}
			if (i)
				fputc(',', out);
			csv_field(out, text ? text : "");
		}
		if (x)
			cJSON_AddItemToArray(arr, x);
		else
			fputs("\r\n", out);
	}
	if (json) {
		char *text = arr ? cJSON_Print(arr) : NULL;

		if (text)
			fprintf(out, "%s\n", text);
		else
			status = 1;
		free(text);
	}
	if (o.out)
		fprintf(stderr, "exported %zu customer record%s to %s\n", n, n == 1 ? "" : "s", o.out);
out:
	cJSON_Delete(arr);
	sqlite3_finalize(st);
	if (out != stdout && fclose(out) != 0)
		status = 1;
	srv_db_close(&d);
	return status;
}
