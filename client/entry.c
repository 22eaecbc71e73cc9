/* Flag text to typed row values, defaults and required checks for new rows. */
#include "entry.h"

#include <string.h>

#include "crm_time.h"

enum crm_err entry_put(struct row *r, const char *name, const char *text, bool *set,
		       char currency_out[4], struct crm_error *err)
{
	int i = row_col(r->t, name);
	struct schema_value v;
	enum crm_err rc;

	if (i < 0)
		return crm_fail(err, CRM_EUSAGE, "%s has no column %s", r->t->name, name);
	rc = schema_value_parse(&r->t->cols[i], text, &v, currency_out, err);
	if (rc != CRM_OK)
		return rc;
	row_put(r, name, &v);
	if (set)
		set[i] = true;
	return CRM_OK;
}

enum crm_err entry_apply(const struct cli_args *a, struct row *r, bool *set, struct crm_error *err)
{
	const struct schema_table *t = r->t;
	char money_cur[4] = "";
	int cur_col = row_col(t, "currency");
	enum crm_err rc = CRM_OK;

	for (size_t i = 0; i < t->ncols; i++) {
		char cur[4] = "";

		if (!a->cols[i])
			continue;
		rc = entry_put(r, t->cols[i].name, a->cols[i], set, cur, err);
		if (rc != CRM_OK)
			return rc;
		if (t->cols[i].type == SCOL_MONEY && cur[0])
			memcpy(money_cur, cur, sizeof cur);
	}
	if (money_cur[0] && cur_col >= 0 && !a->cols[cur_col]) {
		rc = row_put_text(r, "currency", money_cur);
		if (rc != CRM_OK)
			return crm_fail(err, rc, "out of memory");
		if (set)
			set[cur_col] = true;
	}
	return CRM_OK;
}

enum crm_err entry_filters(const struct cli_args *a, struct row *vals, char *tail, size_t tailsz,
			   struct schema_value *params, size_t *n, struct crm_error *err)
{
	const struct schema_table *t = vals->t;

	for (size_t i = 0; i < t->ncols; i++) {
		size_t len = strlen(tail);
		int w;
		enum crm_err rc;

		if (!a->cols[i])
			continue;
		rc = entry_put(vals, t->cols[i].name, a->cols[i], NULL, NULL, err);
		if (rc != CRM_OK)
			return rc;
		w = snprintf(tail + len, tailsz - len, "%s r.\"%s\" %s", len ? " AND" : "WHERE",
			     t->cols[i].name, vals->v[i].type == SV_NULL ? "IS NULL" : "= ?");
		if (w < 0 || (size_t)w >= tailsz - len)
			return crm_fail(err, CRM_ETOOBIG, "too many filters");
		if (vals->v[i].type == SV_NULL)
			continue;
		len = strlen(tail);
		/* Free text matches whatever the case of Latin letters (--city london). */
		w = snprintf(tail + len, tailsz - len, "%zu%s", *n + 1,
			     t->cols[i].type == SCOL_TEXT ? " COLLATE NOCASE" : "");
		if (w < 0 || (size_t)w >= tailsz - len)
			return crm_fail(err, CRM_ETOOBIG, "too many filters");
		params[*n] = vals->v[i];
		(*n)++;
	}
	return CRM_OK;
}

static bool is_null(const struct row *r, const char *name)
{
	const struct schema_value *v = row_get(r, name);

	return v && v->type == SV_NULL;
}

enum crm_err entry_finish_new(struct row *r, bool flags, struct crm_error *err)
{
	const struct schema_table *t = r->t;
	int64_t now = crm_now_ms();
	enum crm_err rc = CRM_OK;

	if (is_null(r, "occurred_at"))
		row_put_int(r, "occurred_at", now);
	if (is_null(r, "ordered_at"))
		row_put_int(r, "ordered_at", now);
	if (strcmp(t->name, "deals") == 0 && is_null(r, "stage"))
		rc = row_put_text(r, "stage", "lead");
	if (rc == CRM_OK && strcmp(t->name, "customers") == 0 && is_null(r, "kind"))
		rc = row_put_text(r, "kind", "company");
	if (rc == CRM_OK && row_get(r, "amount") && !is_null(r, "amount") && is_null(r, "currency"))
		rc = row_put_text(r, "currency", "CNY");
	if (rc != CRM_OK)
		return crm_fail(err, rc, "out of memory");
	for (size_t i = 0; i < t->ncols; i++) {
		const struct schema_column *c = &t->cols[i];
		char flag[64];

		if (!(c->flags & SCOL_REQUIRED) || r->v[i].type != SV_NULL)
			continue;
		cli_flag_name(c->name, flag, sizeof flag);
		if (!flags)
			return crm_fail(err, CRM_EINVAL, "%s: a value is required (%s)", c->name,
					c->help);
		if (c->flags & SCOL_PARENT)
			return crm_fail(err, CRM_EUSAGE, "which customer? give a customer REF");
		return crm_fail(err, CRM_EUSAGE, "--%s is required (%s)", flag, c->help);
	}
	return CRM_OK;
}
