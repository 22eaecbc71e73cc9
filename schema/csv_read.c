/* CSV records with line numbers over libcsv; see csv_read.h. */
#include "csv_read.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "crm_utf8.h"

struct reader {
	struct csv_record rec;
	bool in_record;
	long line; /* line being fed */
	size_t records;
	csv_read_fn fn;
	void *ctx;
	struct crm_error *err;
	enum crm_err fatal;
};

static void clear_record(struct reader *r)
{
	for (size_t i = 0; i < r->rec.n; i++)
		free(r->rec.fields[i]);
	r->rec.n = 0;
	r->rec.too_many = false;
	r->rec.bad_utf8 = false;
}

static void field_cb(void *data, size_t len, void *ctx)
{
	struct reader *r = ctx;
	char *s;

	if (!r->in_record) {
		r->in_record = true;
		r->rec.line = r->line;
	}
	if (r->fatal != CRM_OK)
		return;
	if (r->rec.n >= CSV_READ_MAX_FIELDS) {
		r->rec.too_many = true;
		return;
	}
	s = malloc(len + 1);
	if (!s) {
		r->fatal = crm_fail(r->err, CRM_ENOMEM, "out of memory");
		return;
	}
	if (len)
		memcpy(s, data, len);
	s[len] = '\0';
	if (!crm_utf8_valid(s, len))
		r->rec.bad_utf8 = true;
	r->rec.fields[r->rec.n++] = s;
}

static void record_cb(int c, void *ctx)
{
	struct reader *r = ctx;

	(void)c;
	if (!r->in_record)
		r->rec.line = r->line;
	if (r->fatal == CRM_OK) {
		r->records++;
		r->fatal = r->fn(r->ctx, &r->rec, r->err);
	}
	clear_record(r);
	r->in_record = false;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != '\n' && s[i] != '\r')
			return false;
	return true;
}

enum crm_err csv_read(FILE *in, csv_read_fn fn, void *ctx, struct crm_error *err)
{
	struct csv_parser p;
	struct reader r;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	memset(&r, 0, sizeof r);
	r.fn = fn;
	r.ctx = ctx;
	r.err = err;
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
		return crm_fail(err, CRM_ENOMEM, "out of memory");
	for (n = getline(&line, &cap, in); n > 0 && r.fatal == CRM_OK; n = getline(&line, &cap, in)) {
		const char *text = line;
		size_t len = (size_t)n;

		r.line++;
		if (r.line == 1 && len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
			text += 3;
			len -= 3;
		}
		/* Blank lines between records are not records (libcsv skips them too). */
		if (!r.in_record && blank(text, len))
			continue;
		if (!r.in_record) {
			r.in_record = true;
			r.rec.line = r.line;
		}
		if (csv_parse(&p, text, len, field_cb, record_cb, &r) != len && r.fatal == CRM_OK)
			r.fatal = csv_error(&p) == CSV_EPARSE
					  ? crm_fail(err, CRM_EFORMAT, "line %ld: malformed CSV, a "
						     "stray quote: quote fields that hold commas, "
						     "quotes or line breaks, and double the quotes "
						     "inside them (\"\"); nothing imported", r.line)
					  : crm_fail(err, CRM_EFORMAT, "line %ld: cannot read the "
						     "CSV: %s; nothing imported", r.line,
						     csv_strerror(csv_error(&p)));
	}
	if (r.fatal == CRM_OK && ferror(in))
		r.fatal = crm_fail(err, CRM_EIO, "cannot read the file");
	if (r.fatal == CRM_OK && csv_fini(&p, field_cb, record_cb, &r) != 0 && r.fatal == CRM_OK)
		r.fatal = crm_fail(err, CRM_EFORMAT, "line %ld: a quoted field runs to the end of "
				   "the file: add the closing quote (\"); nothing imported",
				   r.rec.line);
	if (r.fatal == CRM_OK && r.records == 0)
		r.fatal = crm_fail(err, CRM_EFORMAT, "the file is empty: the first line must name "
				   "the columns");
	clear_record(&r);
	csv_free(&p);
	free(line);
	return r.fatal;
}

struct rows_reader {
	const struct csv_rows *cb;
	bool header_done;
};

static enum crm_err rows_record(void *ctx, const struct csv_record *rec, struct crm_error *err)
{
	struct rows_reader *rr = ctx;
	const struct csv_rows *cb = rr->cb;
	struct crm_error why;
	enum crm_err rc;

	if (!rr->header_done) {
		rr->header_done = true;
		return cb->header(cb->ctx, rec, err);
	}
	if (sqlite3_exec(cb->db, "SAVEPOINT csv_row", NULL, NULL, NULL) != SQLITE_OK)
		return crm_fail(err, CRM_EDB, "line %ld: %s", rec->line, sqlite3_errmsg(cb->db));
	crm_error_clear(&why);
	rc = cb->row(cb->ctx, rec, &why);
	if (rc != CRM_OK) {
		sqlite3_exec(cb->db, "ROLLBACK TO csv_row", NULL, NULL, NULL);
		if (rc == CRM_ENOMEM || rc == CRM_EINTERNAL)
			rc = crm_fail(err, rc, "line %ld: %s", rec->line, why.msg);
		else
			rc = cb->refused(cb->ctx, rec, why.msg[0] ? why.msg : crm_strerror(rc), err);
	}
	sqlite3_exec(cb->db, "RELEASE csv_row", NULL, NULL, NULL);
	return rc;
}

enum crm_err csv_read_rows(FILE *in, const struct csv_rows *rows, struct crm_error *err)
{
	struct rows_reader rr = {rows, false};

	return csv_read(in, rows_record, &rr, err);
}
