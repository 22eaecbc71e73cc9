/* Tables, detail blocks and JSON for rows of the business tables. */
#include "view.h"

#include <stdlib.h>
#include <string.h>

#include "crm_time.h"
#include "output.h"

void view_overdue(const struct row *r, int64_t now, char *out, size_t n)
{
	const struct schema_value *v = row_get(r, "due_at");
	const char *close = row_text(r, "expected_close");

	out[0] = '\0';
	if (!v || v->type != SV_INT)
		v = row_get(r, "next_at");
	if (v && v->type == SV_INT && v->i < now) {
		char due[CRM_TIME_ISO_MAX], today[CRM_TIME_ISO_MAX];

		/* Local midnight is what a date alone gives ("--due tomorrow",
		 * "--due 2026-11-25"): such a task is due that day, not overdue
		 * from its first minute. */
		crm_time_format_local(v->i, due);
		crm_time_format_local(now, today);
		if (strcmp(due + 10, " 00:00") == 0 && strncmp(due, today, 10) == 0)
			snprintf(out, n, "today");
		else
			snprintf(out, n, "overdue");
	} else if (close) {
		char today[CRM_TIME_ISO_MAX];

		crm_time_format_local(now, today);
		today[10] = '\0';
		if (strcmp(close, today) < 0)
			snprintf(out, n, "overdue");
	}
}

void view_cell(sqlite3 *db, const struct row *r, const char *col, char *out, size_t n)
{
	int i;

	out[0] = '\0';
	if (strcmp(col, "overdue") == 0) {
		view_overdue(r, crm_now_ms(), out, n);
		return;
	}
	if (strcmp(col, "customer") == 0) {
		rows_customer_name(db, row_text(r, "customer_id"), out, n);
		return;
	}
	i = row_col(r->t, col);
	if (i < 0)
		return;
	out_value(&r->t->cols[i], &r->v[i], row_text(r, "currency"), out, n);
	if (strcmp(col, "name") == 0 || strcmp(col, "title") == 0) {
		const struct schema_value *d = row_get(r, "deleted");

		if (d && d->type == SV_INT && d->i) {
			size_t len = strlen(out);

			snprintf(out + len, n - len, " (deleted)");
		}
	}
}

enum crm_err view_table(FILE *f, sqlite3 *db, const struct row_list *l, const char *const *cols,
			const char *const *heads, const char *empty)
{
	struct out_table t;
	size_t ncols = 0;
	const char **cells = NULL;
	char (*buf)[512] = NULL;
	enum crm_err rc;

	while (cols[ncols])
		ncols++;
	if (l->n == 0) {
		fprintf(f, "%s\n", empty);
		return CRM_OK;
	}
	rc = out_table_init(&t, ncols, heads);
	if (rc != CRM_OK)
		return rc;
	cells = calloc(ncols, sizeof *cells);
	buf = calloc(ncols, sizeof *buf);
	if (!cells || !buf) {
		rc = CRM_ENOMEM;
		goto out;
	}
	for (size_t c = 0; c < ncols; c++) {
		int i = row_col(l->rows[0].t, cols[c]);

		if (i >= 0 && (l->rows[0].t->cols[i].type == SCOL_MONEY ||
			       l->rows[0].t->cols[i].type == SCOL_INT))
			out_table_align_right(&t, c);
	}
	for (size_t r = 0; r < l->n; r++) {
		for (size_t c = 0; c < ncols; c++) {
			view_cell(db, &l->rows[r], cols[c], buf[c], sizeof buf[c]);
			cells[c] = buf[c];
		}
		rc = out_table_add(&t, cells);
		if (rc != CRM_OK)
			goto out;
	}
	out_table_print(&t, f, VIEW_MAX_WIDTH);
out:
	free(cells);
	free(buf);
	out_table_release(&t);
	return rc;
}

cJSON *view_json_array(const struct row_list *l)
{
	cJSON *a = cJSON_CreateArray();

	if (!a)
		return NULL;
	for (size_t i = 0; i < l->n; i++) {
		cJSON *o = out_row_json(l->rows[i].t, l->rows[i].v);

		if (!o || !cJSON_AddItemToArray(a, o)) {
			cJSON_Delete(o);
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

void view_detail(FILE *f, const struct row *r)
{
	const struct schema_table *t = r->t;
	size_t width = 0;

	for (size_t i = 0; i < t->ncols; i++) {
		size_t w = strlen(t->cols[i].name);

		if (r->v[i].type != SV_NULL && w > width)
			width = w;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		char buf[4096];

		if (r->v[i].type == SV_NULL || strcmp(t->cols[i].name, "deleted") == 0)
			continue;
		out_value(&t->cols[i], &r->v[i], row_text(r, "currency"), buf, sizeof buf);
		fprintf(f, "%-*s  ", (int)width + 1, t->cols[i].name);
		/* The lines of a multi-line value start under its first line. */
		for (const char *p = buf; *p; p++) {
			if (*p == '\r')
				continue;
			fputc(*p, f);
			if (*p == '\n' && p[1] && p[1] != '\n' && p[1] != '\r')
				fprintf(f, "%*s", (int)width + 3, "");
		}
		fputc('\n', f);
	}
	{
		const struct schema_value *d = row_get(r, "deleted");

		if (d && d->type == SV_INT && d->i)
			fprintf(f, "%-*s  yes\n", (int)width + 1, "deleted");
	}
}

enum crm_err view_json_row(FILE *f, const struct row *r)
{
	cJSON *o = out_row_json(r->t, r->v);
	enum crm_err rc;

	if (!o)
		return CRM_ENOMEM;
	rc = out_json_print(o, f);
	cJSON_Delete(o);
	return rc;
}

void view_more(FILE *f, long long limit, const char *narrow)
{
	fprintf(f, "(the first %lld shown; more match: narrow them with %s, or use --limit %lld)\n",
		limit, narrow, limit < 1000 ? 1000 : limit * 10);
}
