/* Table and column descriptions, and the dispatch from column type to field rule. */
#include "tables.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm_id.h"
#include "crm_utf8.h"
#include "fields.h"

#define TEXT_MAX 4000
#define NAME_MAX_BYTES 300

static const char *const customer_kinds[] = {"company", "person", NULL};
static const char *const customer_stages[] = {"lead", "prospect", "customer", "loyal", "churned", NULL};
static const char *const tiers[] = {"A", "B", "C", NULL};
static const char *const activity_kinds[] = {"visit", "call", "meeting", "email", "note", NULL};
static const char *const deal_stages[] = {"lead", "qualified", "proposal", "negotiation", "won", "lost", NULL};

#define SYSTEM_COLS                                                                    \
	{"id", SCOL_ID, SCOL_SYSTEM, NULL, 0, 0, "row id (UUIDv7)"},                   \
	{"created_at", SCOL_TIME, SCOL_SYSTEM, NULL, 0, 0, "when the row was made"},   \
	{"updated_at", SCOL_TIME, SCOL_SYSTEM, NULL, 0, 0, "when it last changed"},    \
	{"deleted", SCOL_BOOL, SCOL_SYSTEM, NULL, 0, 1, "1 if deleted (a tombstone)"}

#define PARENT_COL {"customer_id", SCOL_ID, SCOL_PARENT | SCOL_REQUIRED, NULL, 0, 0, "the customer"}

static const struct schema_column customer_cols[] = {
	SYSTEM_COLS,
	{"kind", SCOL_ENUM, 0, customer_kinds, 0, 0, "company or person"},
	{"name", SCOL_TEXT, SCOL_REQUIRED | SCOL_IDENT | SCOL_SEARCH, NULL, 0, NAME_MAX_BYTES, "company or person name"},
	{"uscc", SCOL_USCC, SCOL_IDENT | SCOL_SEARCH, NULL, 0, 0, "unified social credit code (companies)"},
	{"id_number", SCOL_IDNUM, SCOL_IDENT, NULL, 0, 0, "resident id number (persons)"},
	{"birth_date", SCOL_DATE, SCOL_IDENT, NULL, 0, 0, "date of birth (persons)"},
	{"phone", SCOL_PHONE, SCOL_IDENT | SCOL_SEARCH, NULL, 0, 0, "main phone"},
	{"email", SCOL_EMAIL, SCOL_IDENT | SCOL_SEARCH, NULL, 0, 0, "main e-mail"},
	{"address", SCOL_TEXT, SCOL_IDENT | SCOL_SEARCH, NULL, 0, 500, "street address"},
	{"city", SCOL_TEXT, SCOL_SEARCH, NULL, 0, 100, "city"},
	{"region", SCOL_TEXT, 0, NULL, 0, 100, "province or region"},
	{"industry", SCOL_TEXT, 0, NULL, 0, 100, "industry"},
	{"source", SCOL_TEXT, 0, NULL, 0, 100, "where the lead came from"},
	{"stage", SCOL_ENUM, 0, customer_stages, 0, 0, "lifecycle stage"},
	{"tier", SCOL_ENUM, 0, tiers, 0, 0, "value tier A/B/C"},
	{"owner", SCOL_TEXT, SCOL_SERVER, NULL, 0, 100, "owning rep (server-managed)"},
	{"notes", SCOL_TEXT, SCOL_SEARCH, NULL, 0, TEXT_MAX, "notes"},
	{"ext_ref", SCOL_TEXT, SCOL_SEARCH, NULL, 0, 100, "code from another system"},
	{"merged_into", SCOL_ID, SCOL_SERVER | SCOL_SYSTEM, NULL, 0, 0, "survivor of a merge"},
};

static const struct schema_column contact_cols[] = {
	SYSTEM_COLS,
	PARENT_COL,
	{"name", SCOL_TEXT, SCOL_REQUIRED | SCOL_SEARCH, NULL, 0, NAME_MAX_BYTES, "contact name"},
	{"title", SCOL_TEXT, 0, NULL, 0, 100, "job title"},
	{"phone", SCOL_PHONE, SCOL_SEARCH, NULL, 0, 0, "phone"},
	{"email", SCOL_EMAIL, SCOL_SEARCH, NULL, 0, 0, "e-mail"},
	{"wechat", SCOL_TEXT, SCOL_SEARCH, NULL, 0, 100, "WeChat id"},
	{"notes", SCOL_TEXT, SCOL_SEARCH, NULL, 0, TEXT_MAX, "notes"},
};

static const struct schema_column activity_cols[] = {
	SYSTEM_COLS,
	PARENT_COL,
	{"kind", SCOL_ENUM, SCOL_REQUIRED, activity_kinds, 0, 0, "visit, call, meeting, email or note"},
	{"occurred_at", SCOL_TIME, 0, NULL, 0, 0, "when it happened (default now)"},
	{"author", SCOL_TEXT, SCOL_SYSTEM, NULL, 0, 100, "who logged it"},
	{"note", SCOL_TEXT, SCOL_SEARCH, NULL, 0, TEXT_MAX, "what happened"},
	{"outcome", SCOL_TEXT, 0, NULL, 0, 500, "result"},
	{"next_step", SCOL_TEXT, 0, NULL, 0, 500, "agreed next step"},
	{"next_at", SCOL_TIME, 0, NULL, 0, 0, "when to follow up"},
	{"satisfaction", SCOL_INT, 0, NULL, 1, 5, "customer satisfaction 1-5"},
	{"latitude", SCOL_REAL, 0, NULL, -90, 90, "check-in latitude"},
	{"longitude", SCOL_REAL, 0, NULL, -180, 180, "check-in longitude"},
};

static const struct schema_column deal_cols[] = {
	SYSTEM_COLS,
	PARENT_COL,
	{"title", SCOL_TEXT, SCOL_REQUIRED | SCOL_SEARCH, NULL, 0, 300, "deal title"},
	{"stage", SCOL_ENUM, 0, deal_stages, 0, 0, "lead, qualified, proposal, negotiation, won, lost"},
	{"amount", SCOL_MONEY, 0, NULL, 0, INT64_MAX, "value, e.g. 12,000.50 or ¥12000 or 500 USD"},
	{"currency", SCOL_CURRENCY, 0, NULL, 0, 0, "ISO currency code (default CNY)"},
	{"expected_close", SCOL_DATE, 0, NULL, 0, 0, "expected close date"},
	{"probability", SCOL_INT, 0, NULL, 0, 100, "win probability in percent"},
	{"lost_reason", SCOL_TEXT, 0, NULL, 0, 500, "why it was lost"},
};

static const struct schema_column order_cols[] = {
	SYSTEM_COLS,
	PARENT_COL,
	{"amount", SCOL_MONEY, SCOL_REQUIRED, NULL, 0, 0, "order value"},
	{"currency", SCOL_CURRENCY, 0, NULL, 0, 0, "ISO currency code (default CNY)"},
	{"ordered_at", SCOL_TIME, 0, NULL, 0, 0, "when it was ordered (default now)"},
	{"note", SCOL_TEXT, SCOL_SEARCH, NULL, 0, TEXT_MAX, "note"},
};

static const struct schema_column task_cols[] = {
	SYSTEM_COLS,
	PARENT_COL,
	{"title", SCOL_TEXT, SCOL_REQUIRED | SCOL_SEARCH, NULL, 0, 300, "what to do"},
	{"due_at", SCOL_TIME, 0, NULL, 0, 0, "when it is due"},
	{"done_at", SCOL_TIME, 0, NULL, 0, 0, "when it was done"},
	{"note", SCOL_TEXT, 0, NULL, 0, TEXT_MAX, "note"},
};

#define TABLE(n, s, cols, parent) {n, s, cols, sizeof cols / sizeof cols[0], parent}

const struct schema_table schema_tables[] = {
	TABLE("customers", "customer", customer_cols, NULL),
	TABLE("contacts", "contact", contact_cols, "customer_id"),
	TABLE("activities", "activity", activity_cols, "customer_id"),
	TABLE("deals", "deal", deal_cols, "customer_id"),
	TABLE("orders", "order", order_cols, "customer_id"),
	TABLE("tasks", "task", task_cols, "customer_id"),
};
const size_t schema_tables_count = sizeof schema_tables / sizeof schema_tables[0];

const struct schema_table *schema_table_find(const char *name)
{
	for (size_t i = 0; i < schema_tables_count; i++)
		if (strcmp(schema_tables[i].name, name) == 0 || strcmp(schema_tables[i].singular, name) == 0)
			return &schema_tables[i];
	return NULL;
}

const struct schema_column *schema_column_find(const struct schema_table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return &t->cols[i];
	return NULL;
}

const struct schema_column *schema_column_find_next(const struct schema_table *t, const char *name,
						    size_t *next)
{
	const struct schema_column *c;

	if (*next < t->ncols && strcmp(t->cols[*next].name, name) == 0)
		c = &t->cols[*next];
	else
		c = schema_column_find(t, name);
	if (c)
		*next = (size_t)(c - t->cols) + 1;
	return c;
}

void schema_value_release(struct schema_value *v)
{
	if (v->type == SV_TEXT)
		free(v->s);
	v->type = SV_NULL;
	v->s = NULL;
}

static enum crm_err set_text(struct schema_value *out, const char *s)
{
	out->s = strdup(s);
	if (!out->s)
		return CRM_ENOMEM;
	out->type = SV_TEXT;
	return CRM_OK;
}

static bool enum_has(const char *const *values, const char *s)
{
	for (; *values; values++)
		if (strcmp(*values, s) == 0)
			return true;
	return false;
}

static enum crm_err enum_error(const struct schema_column *c, const char *v, struct crm_error *err)
{
	char list[256] = "";
	size_t len = 0;

	for (const char *const *p = c->values; *p && len + strlen(*p) + 3 < sizeof list; p++) {
		len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
					p == c->values ? "" : ", ", *p);
	}
	return crm_fail(err, CRM_EINVAL, "%s \"%s\": not one of %s", c->name, v, list);
}

enum crm_err schema_value_parse(const struct schema_column *c, const char *text,
				struct schema_value *out, char currency_out[4],
				struct crm_error *err)
{
	enum crm_err rc = CRM_OK;
	char *t = NULL;
	size_t maxb = c->type == SCOL_TEXT && c->max > 0 ? (size_t)c->max : TEXT_MAX;

	out->type = SV_NULL;
	out->s = NULL;
	if (currency_out)
		currency_out[0] = '\0';
	if (!crm_utf8_valid(text, strlen(text)))
		return crm_fail(err, CRM_EUTF8, "%s: the value is not valid UTF-8 text", c->name);
	rc = field_text(c->name, text, maxb, &t, err);
	if (rc != CRM_OK)
		return rc;
	if (t[0] == '\0') {
		if (c->flags & SCOL_REQUIRED)
			rc = crm_fail(err, CRM_EINVAL, "%s: a value is required", c->name);
		goto out;
	}
	switch (c->type) {
	case SCOL_TEXT:
		out->type = SV_TEXT;
		out->s = t;
		t = NULL;
		break;
	case SCOL_ENUM: {
		const char *v = t;
		char up[2] = {0, 0};

		if (c->values == tiers && strlen(t) == 1 && t[0] >= 'a' && t[0] <= 'c') {
			up[0] = (char)(t[0] - 32);
			v = up;
		}
		if (!enum_has(c->values, v)) {
			rc = enum_error(c, t, err);
			goto out;
		}
		rc = set_text(out, v);
		break;
	}
	case SCOL_PHONE: {
		char p[FIELD_PHONE_MAX];

		rc = field_phone(c->name, t, p, err);
		if (rc == CRM_OK)
			rc = set_text(out, p);
		break;
	}
	case SCOL_EMAIL: {
		char e[320];

		rc = field_email(c->name, t, e, sizeof e, err);
		if (rc == CRM_OK)
			rc = set_text(out, e);
		break;
	}
	case SCOL_USCC: {
		char u[FIELD_USCC_LEN + 1];

		rc = field_uscc(c->name, t, u, err);
		if (rc == CRM_OK)
			rc = set_text(out, u);
		break;
	}
	case SCOL_IDNUM: {
		char u[19];

		rc = field_id_number(c->name, t, u, err);
		if (rc == CRM_OK)
			rc = set_text(out, u);
		break;
	}
	case SCOL_DATE: {
		char d[11];

		rc = field_date(c->name, t, d, err);
		if (rc == CRM_OK)
			rc = set_text(out, d);
		break;
	}
	case SCOL_TIME:
		rc = field_time(c->name, t, &out->i, err);
		if (rc == CRM_OK)
			out->type = SV_INT;
		break;
	case SCOL_INT:
		rc = field_int(c->name, t, c->min, c->max, &out->i, err);
		if (rc == CRM_OK)
			out->type = SV_INT;
		break;
	case SCOL_REAL:
		rc = field_real(c->name, t, (double)c->min, (double)c->max, &out->r, err);
		if (rc == CRM_OK)
			out->type = SV_REAL;
		break;
	case SCOL_MONEY: {
		char cur[FIELD_CURRENCY_MAX];

		rc = field_money(c->name, t, NULL, &out->i, cur, err);
		/* min < max marks a bounded amount (a deal's value is never negative;
		 * an order's may be, for a refund). */
		if (rc == CRM_OK && c->min < c->max && (out->i < c->min || out->i > c->max))
			rc = crm_fail(err, CRM_EINVAL, "%s \"%s\": must not be negative", c->name, t);
		if (rc == CRM_OK) {
			out->type = SV_INT;
			if (currency_out)
				memcpy(currency_out, cur, sizeof cur);
		}
		break;
	}
	case SCOL_CURRENCY: {
		char cur[FIELD_CURRENCY_MAX];

		rc = field_currency(c->name, t, cur, err);
		if (rc == CRM_OK)
			rc = set_text(out, cur);
		break;
	}
	case SCOL_ID:
		if (!crm_id_valid(t)) {
			rc = crm_fail(err, CRM_EINVAL, "%s \"%s\": not an id (expected a UUID)", c->name, t);
			break;
		}
		/* ids are made lower-case and compared as text: fold a pasted upper-case one */
		for (char *p = t; *p; p++)
			if (*p >= 'A' && *p <= 'F')
				*p = (char)(*p - 'A' + 'a');
		rc = set_text(out, t);
		break;
	case SCOL_BOOL:
		if (strcmp(t, "0") == 0 || strcmp(t, "1") == 0) {
			out->type = SV_INT;
			out->i = t[0] - '0';
		} else {
			rc = crm_fail(err, CRM_EINVAL, "%s \"%s\": expected 0 or 1", c->name, t);
		}
		break;
	}
out:
	free(t);
	if (rc != CRM_OK)
		schema_value_release(out);
	return rc;
}

static enum crm_err canonical(const struct schema_column *c, const char *s, struct crm_error *err)
{
	struct schema_value v;
	enum crm_err rc = schema_value_parse(c, s, &v, NULL, err);

	if (rc != CRM_OK)
		return rc;
	if (v.type != SV_TEXT || strcmp(v.s, s) != 0)
		rc = crm_fail(err, CRM_EINVAL, "%s \"%s\": not in canonical form", c->name, s);
	schema_value_release(&v);
	return rc;
}

enum crm_err schema_value_check(const struct schema_column *c, const struct schema_value *v,
				struct crm_error *err)
{
	size_t len;

	if (v->type == SV_NULL)
		return CRM_OK;
	switch (c->type) {
	case SCOL_TIME:
	case SCOL_MONEY:
		if (v->type != SV_INT)
			return crm_fail(err, CRM_EINVAL, "%s: expected an integer", c->name);
		if (c->type == SCOL_MONEY && c->min < c->max && (v->i < c->min || v->i > c->max))
			return crm_fail(err, CRM_EINVAL, "%s %lld: must not be negative", c->name,
					(long long)v->i);
		return CRM_OK;
	case SCOL_INT:
	case SCOL_BOOL:
		if (v->type != SV_INT)
			return crm_fail(err, CRM_EINVAL, "%s: expected an integer", c->name);
		if (v->i < c->min || v->i > c->max)
			return crm_fail(err, CRM_EINVAL, "%s %lld: out of range %lld..%lld", c->name,
					(long long)v->i, (long long)c->min, (long long)c->max);
		return CRM_OK;
	case SCOL_REAL:
		if (v->type != SV_REAL && v->type != SV_INT)
			return crm_fail(err, CRM_EINVAL, "%s: expected a number", c->name);
		{
			double d = v->type == SV_REAL ? v->r : (double)v->i;

			if (!isfinite(d) || d < (double)c->min || d > (double)c->max)
				return crm_fail(err, CRM_EINVAL, "%s: out of range", c->name);
		}
		return CRM_OK;
	default:
		break;
	}
	if (v->type != SV_TEXT || !v->s)
		return crm_fail(err, CRM_EINVAL, "%s: expected text", c->name);
	len = strlen(v->s);
	if (!crm_utf8_valid(v->s, len))
		return crm_fail(err, CRM_EUTF8, "%s: the value is not valid UTF-8 text", c->name);
	switch (c->type) {
	case SCOL_TEXT: {
		char *t = NULL;
		enum crm_err rc;

		if (len > (size_t)(c->max > 0 ? c->max : TEXT_MAX))
			return crm_fail(err, CRM_ETOOBIG, "%s: longer than %lld bytes", c->name,
					(long long)(c->max > 0 ? c->max : TEXT_MAX));
		/* the control characters field_text refuses (terminal escapes); it says which */
		if (!field_control_at(v->s))
			return CRM_OK;
		rc = field_text(c->name, v->s, SIZE_MAX, &t, err);
		free(t);
		return rc != CRM_OK ? rc
				    : crm_fail(err, CRM_EINTERNAL, "%s: control character check disagrees",
					       c->name);
	}
	case SCOL_ENUM:
		return enum_has(c->values, v->s) ? CRM_OK : enum_error(c, v->s, err);
	case SCOL_ID:
		return crm_id_valid(v->s) ? CRM_OK
					  : crm_fail(err, CRM_EINVAL, "%s: not an id", c->name);
	default:
		return canonical(c, v->s, err);
	}
}
