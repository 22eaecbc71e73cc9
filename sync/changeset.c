/* Change sets: row-grouped field versions, built by outbox/feed/decoder, read by apply/encoder. */
#include <stdlib.h>
#include <string.h>

#include "changeset.h"
#include "db.h"

void sync_changeset_init(struct sync_changeset *cs)
{
	memset(cs, 0, sizeof *cs);
}

static void row_release(struct sync_row *r)
{
	for (size_t j = 0; j < r->nfields; j++) {
		free(r->fields[j].col);
		db_value_release(&r->fields[j].v);
	}
	free(r->fields);
	free(r->table);
	free(r->id);
}

void sync_changeset_release(struct sync_changeset *cs)
{
	if (!cs)
		return;
	for (size_t i = 0; i < cs->nrows; i++)
		row_release(&cs->rows[i]);
	free(cs->rows);
	sync_changeset_init(cs);
}

struct sync_row *sync_changeset_add_row(struct sync_changeset *cs, const char *table, const char *id)
{
	struct sync_row *r;

	if (cs->nrows == cs->cap) {
		size_t ncap = cs->cap ? cs->cap * 2 : 16;
		struct sync_row *nr = realloc(cs->rows, ncap * sizeof *nr);

		if (!nr)
			return NULL;
		cs->rows = nr;
		cs->cap = ncap;
	}
	r = &cs->rows[cs->nrows];
	memset(r, 0, sizeof *r);
	r->table = strdup(table);
	r->id = strdup(id);
	if (!r->table || !r->id) {
		free(r->table);
		free(r->id);
		return NULL;
	}
	cs->nrows++;
	return r;
}

enum crm_err sync_row_add_field(struct sync_changeset *cs, struct sync_row *row,
				const struct sync_field *f)
{
	struct sync_field *d;

	if (row->nfields == row->cap) {
		size_t ncap = row->cap ? row->cap * 2 : 8;
		struct sync_field *nf = realloc(row->fields, ncap * sizeof *nf);

		if (!nf)
			return CRM_ENOMEM;
		row->fields = nf;
		row->cap = ncap;
	}
	d = &row->fields[row->nfields];
	*d = *f;
	d->col = strdup(f->col ? f->col : "");
	if (!d->col)
		return CRM_ENOMEM;
	if (f->v.type == SYNC_TEXT) {
		d->v.s = strdup(f->v.s ? f->v.s : "");
		if (!d->v.s) {
			free(d->col);
			return CRM_ENOMEM;
		}
	} else {
		d->v.s = NULL;
	}
	d->site[sizeof d->site - 1] = '\0';
	d->base_site[sizeof d->base_site - 1] = '\0';
	row->nfields++;
	cs->nfields++;
	return CRM_OK;
}

enum crm_err sync_row_reserve(struct sync_row *row, size_t n)
{
	struct sync_field *nf;

	if (row->cap - row->nfields >= n)
		return CRM_OK;
	nf = realloc(row->fields, (row->nfields + n) * sizeof *nf);
	if (!nf)
		return CRM_ENOMEM;
	row->fields = nf;
	row->cap = row->nfields + n;
	return CRM_OK;
}

enum crm_err sync_row_take_field_n(struct sync_changeset *cs, struct sync_row *row,
				   struct sync_field *f, size_t col_len)
{
	struct sync_field *d;
	char *text = f->v.type == SYNC_TEXT ? f->v.s : NULL;
	const char *col = f->col ? f->col : "";
	enum crm_err rc = CRM_OK;

	f->v.s = NULL;
	if (f->v.type == SYNC_TEXT && !text) {
		text = strdup("");
		if (!text)
			return CRM_ENOMEM;
	}
	if (row->nfields == row->cap) {
		size_t ncap = row->cap ? row->cap * 2 : 8;
		struct sync_field *nf = realloc(row->fields, ncap * sizeof *nf);

		if (!nf) {
			rc = CRM_ENOMEM;
			goto out;
		}
		row->fields = nf;
		row->cap = ncap;
	}
	d = &row->fields[row->nfields];
	*d = *f;
	d->col = malloc(col_len + 1);
	if (!d->col) {
		rc = CRM_ENOMEM;
		goto out;
	}
	memcpy(d->col, col, col_len);
	d->col[col_len] = '\0';
	d->v.s = text;
	text = NULL;
	d->site[sizeof d->site - 1] = '\0';
	d->base_site[sizeof d->base_site - 1] = '\0';
	row->nfields++;
	cs->nfields++;
out:
	free(text);
	return rc;
}

enum crm_err sync_row_take_field(struct sync_changeset *cs, struct sync_row *row,
				 struct sync_field *f)
{
	return sync_row_take_field_n(cs, row, f, f->col ? strlen(f->col) : 0);
}
