/* JSON encode/decode of change sets with strict validation. */
#include "codec.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "changeset.h"
#include "crm_id.h"
#include "crm_utf8.h"
#include "db.h"

#define JSON_INT_MAX 9007199254740992LL /* 2^53: larger integers lose bits as JSON numbers */

/* ---- encode ------------------------------------------------------------ */

/*
 * A double as the shortest decimal that reads back to the same bits. cJSON's
 * own printer stops at 15 digits when the value is merely close, which loses
 * the last bit (and replicas would diverge), so the text is made here.
 */
static void real_text(double r, char *b, size_t size)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(b, size, "%.*g", prec, r);
		if (strtod(b, NULL) == r)
			break;
	}
	/* JSON wants '.', whatever LC_NUMERIC the program runs under */
	for (char *p = b; *p; p++) {
		if (*p == ',')
			*p = '.';
	}
}

static cJSON *real_number(double r)
{
	char b[40];

	real_text(r, b, sizeof b);
	return cJSON_CreateRaw(b);
}

static cJSON *encode_value(const struct sync_value *v)
{
	cJSON *o, *x;

	switch (v->type) {
	case SYNC_TEXT:
		return cJSON_CreateString(v->s ? v->s : "");
	case SYNC_INT:
		if (v->i >= -JSON_INT_MAX && v->i <= JSON_INT_MAX) {
			/* printed here: cJSON prints 15 significant digits, and loses a 16th */
			char b[32];

			snprintf(b, sizeof b, "%lld", (long long)v->i);
			return cJSON_CreateRaw(b);
		}
		o = cJSON_CreateObject();
		if (o) {
			char b[32];

			snprintf(b, sizeof b, "%lld", (long long)v->i);
			if (!cJSON_AddStringToObject(o, "i", b)) {
				cJSON_Delete(o);
				return NULL;
			}
		}
		return o;
	case SYNC_REAL:
		o = cJSON_CreateObject();
		if (!o)
			return NULL;
		if (isnan(v->r))
			x = cJSON_CreateString("nan");
		else if (isinf(v->r))
			x = cJSON_CreateString(v->r > 0 ? "inf" : "-inf");
		else
			x = real_number(v->r);
		if (!x || !cJSON_AddItemToObject(o, "r", x)) {
			cJSON_Delete(x);
			cJSON_Delete(o);
			return NULL;
		}
		return o;
	case SYNC_NULL:
	default:
		return cJSON_CreateNull();
	}
}

static bool add_hlc(cJSON *arr_or_obj, const char *key, sync_hlc h)
{
	char b[SYNC_HLC_STR_MAX];
	cJSON *x;

	sync_hlc_format(h, b);
	if (key)
		return cJSON_AddStringToObject(arr_or_obj, key, b) != NULL;
	x = cJSON_CreateString(b);
	return x && cJSON_AddItemToArray(arr_or_obj, x);
}

static bool add_str(cJSON *arr, const char *s)
{
	cJSON *x = cJSON_CreateString(s);

	return x && cJSON_AddItemToArray(arr, x);
}

static cJSON *encode_field(const struct sync_field *f, const struct sync_field *d)
{
	cJSON *a = cJSON_CreateArray(), *v;
	bool same_version, same_base;

	if (!a)
		return NULL;
	same_version = f->hlc == d->hlc && strcmp(f->site, d->site) == 0;
	same_base = f->base_hlc == d->base_hlc && strcmp(f->base_site, d->base_site) == 0;
	v = encode_value(&f->v);
	if (!add_str(a, f->col) || !v || !cJSON_AddItemToArray(a, v)) {
		cJSON_Delete(v);
		goto fail;
	}
	if (same_version && same_base)
		return a;
	if (!add_hlc(a, NULL, f->hlc) || !add_str(a, f->site))
		goto fail;
	if (same_base)
		return a;
	if (!add_hlc(a, NULL, f->base_hlc) || !add_str(a, f->base_hlc ? f->base_site : ""))
		goto fail;
	return a;
fail:
	cJSON_Delete(a);
	return NULL;
}

/* A row a block can carry: every field at the row's one version, no base. */
static bool blockable(const struct sync_row *r)
{
	const struct sync_field *d = r->nfields ? &r->fields[0] : NULL;

	if (!d || d->hlc == 0)
		return false;
	for (size_t j = 0; j < r->nfields; j++) {
		const struct sync_field *f = &r->fields[j];

		if (f->hlc != d->hlc || f->base_hlc != 0 || strcmp(f->site, d->site) != 0)
			return false;
	}
	return true;
}

/* Same table, same columns in the same order. */
static bool same_shape(const struct sync_row *a, const struct sync_row *b)
{
	if (a->nfields != b->nfields || strcmp(a->table, b->table) != 0)
		return false;
	for (size_t j = 0; j < a->nfields; j++)
		if (strcmp(a->fields[j].col, b->fields[j].col) != 0)
			return false;
	return true;
}

/* Appends rows[0..n) (blockable, one shape) to arr as one block object. */
static bool encode_block(cJSON *arr, const struct sync_row *rows, size_t n)
{
	cJSON *o = cJSON_CreateObject(), *c, *ra;

	if (!o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return false;
	}
	if (!cJSON_AddStringToObject(o, "t", rows[0].table))
		return false;
	c = cJSON_AddArrayToObject(o, "c");
	if (!c)
		return false;
	for (size_t j = 0; j < rows[0].nfields; j++)
		if (!add_str(c, rows[0].fields[j].col))
			return false;
	ra = cJSON_AddArrayToObject(o, "r");
	if (!ra)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct sync_row *r = &rows[i];
		cJSON *x = cJSON_CreateArray();

		if (!x || !cJSON_AddItemToArray(ra, x)) {
			cJSON_Delete(x);
			return false;
		}
		if (!add_str(x, r->id) || !add_hlc(x, NULL, r->fields[0].hlc) ||
		    !add_str(x, r->fields[0].site))
			return false;
		for (size_t j = 0; j < r->nfields; j++) {
			cJSON *v = encode_value(&r->fields[j].v);

			if (!v || !cJSON_AddItemToArray(x, v)) {
				cJSON_Delete(v);
				return false;
			}
		}
	}
	return true;
}

cJSON *sync_changeset_to_json(const struct sync_changeset *cs)
{
	cJSON *arr = cJSON_CreateArray();

	if (!arr)
		return NULL;
	for (size_t i = 0; i < cs->nrows; i++) {
		const struct sync_row *r = &cs->rows[i];
		const struct sync_field *d;
		cJSON *o, *fa;
		size_t run = 1;

		if (r->nfields == 0)
			continue;
		if (blockable(r)) {
			while (i + run < cs->nrows && blockable(&cs->rows[i + run]) &&
			       same_shape(r, &cs->rows[i + run]))
				run++;
			if (run >= CODEC_BLOCK_MIN) {
				if (!encode_block(arr, r, run))
					goto fail;
				i += run - 1;
				continue;
			}
		}
		d = &r->fields[0];
		o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			goto fail;
		}
		if (!cJSON_AddStringToObject(o, "t", r->table) || !cJSON_AddStringToObject(o, "id", r->id) ||
		    !add_hlc(o, "h", d->hlc) || !cJSON_AddStringToObject(o, "s", d->site))
			goto fail;
		if (d->base_hlc != 0 &&
		    (!add_hlc(o, "bh", d->base_hlc) || !cJSON_AddStringToObject(o, "bs", d->base_site)))
			goto fail;
		fa = cJSON_AddArrayToObject(o, "f");
		if (!fa)
			goto fail;
		for (size_t j = 0; j < r->nfields; j++) {
			cJSON *f = encode_field(&r->fields[j], d);

			if (!f || !cJSON_AddItemToArray(fa, f)) {
				cJSON_Delete(f);
				goto fail;
			}
		}
	}
	return arr;
fail:
	cJSON_Delete(arr);
	return NULL;
}

/* ---- direct writer ----------------------------------------------------- */

/*
 * The text cJSON_PrintUnformatted makes of the tree above, written without
 * the tree: no node, key or string copy per field, one growing buffer.
 * Escaping follows cJSON's printer exactly (short escapes for " \ \b \f \n
 * \r \t, \u00xx in lower-case hex for the other bytes below 0x20, every
 * other byte as is), so the bytes are the same (tests compare them).
 */
struct wr {
	struct crm_buf *b;
	enum crm_err rc;
};

/* Room for n more bytes; false (and w->rc set) if there is none. */
static bool wr_room(struct wr *w, size_t n)
{
	if (w->rc != CRM_OK)
		return false;
	if (w->b->cap && w->b->len + n < w->b->cap)
		return true;
	w->rc = crm_buf_grow(w->b, n < 4096 ? 4096 : n);
	if (w->rc == CRM_ETOOBIG) /* the reserve may pass max where the text would not */
		w->rc = crm_buf_grow(w->b, n);
	return w->rc == CRM_OK;
}

static void wr_raw(struct wr *w, const char *p, size_t n)
{
	if (!wr_room(w, n))
		return;
	memcpy(w->b->data + w->b->len, p, n);
	w->b->len += n;
	w->b->data[w->b->len] = '\0';
}

#define WR_LIT(w, lit) wr_raw((w), (lit), sizeof(lit) - 1)

/* Extra bytes each byte takes in a JSON string: 1 for \" \\ \b \f \n \r \t, 5 for \u00xx. */
static const unsigned char esc_extra[256] = {
	5, 5, 5, 5, 5, 5, 5, 5, 1, 1, 1, 5, 1, 1, 5, 5, /* 0x00-0x0f: \b \t \n \f \r short */
	5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* '"' */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* '\\' */
};

static void wr_str(struct wr *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = 0, extra = 0;
	char *o;

	for (; p[n]; n++)
		extra += esc_extra[p[n]];
	if (!wr_room(w, n + extra + 2))
		return;
	o = w->b->data + w->b->len;
	*o++ = '"';
	if (extra == 0) {
		memcpy(o, p, n);
		o += n;
	} else {
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = p[i];

			if (!esc_extra[ch]) {
				*o++ = (char)ch;
				continue;
			}
			*o++ = '\\';
			switch (ch) {
			case '"':
				*o++ = '"';
				break;
			case '\\':
				*o++ = '\\';
				break;
			case '\b':
				*o++ = 'b';
				break;
			case '\f':
				*o++ = 'f';
				break;
			case '\n':
				*o++ = 'n';
				break;
			case '\r':
				*o++ = 'r';
				break;
			case '\t':
				*o++ = 't';
				break;
			default:
				*o++ = 'u';
				*o++ = '0';
				*o++ = '0';
				*o++ = hex[ch >> 4];
				*o++ = hex[ch & 15];
			}
		}
	}
	*o++ = '"';
	w->b->len = (size_t)(o - w->b->data);
	w->b->data[w->b->len] = '\0';
}

/* A decimal integer, without printf. */
static void wr_i64(struct wr *w, int64_t v)
{
	char b[24], *e = b + sizeof b, *p = e;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + (u % 10));
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	wr_raw(w, p, (size_t)(e - p));
}

static void wr_hlc(struct wr *w, sync_hlc h)
{
	char b[24], *e = b + sizeof b, *p = e;

	do {
		*--p = (char)('0' + (h % 10));
		h /= 10;
	} while (h);
	if (!wr_room(w, (size_t)(e - p) + 2))
		return;
	WR_LIT(w, "\"");
	wr_raw(w, p, (size_t)(e - p));
	WR_LIT(w, "\"");
}

static void wr_value(struct wr *w, const struct sync_value *v)
{
	char b[40];

	switch (v->type) {
	case SYNC_TEXT:
		wr_str(w, v->s);
		return;
	case SYNC_INT:
		if (v->i >= -JSON_INT_MAX && v->i <= JSON_INT_MAX) {
			wr_i64(w, v->i);
			return;
		}
		WR_LIT(w, "{\"i\":\"");
		wr_i64(w, v->i);
		WR_LIT(w, "\"}");
		return;
	case SYNC_REAL:
		if (isnan(v->r)) {
			WR_LIT(w, "{\"r\":\"nan\"}");
		} else if (isinf(v->r)) {
			if (v->r > 0)
				WR_LIT(w, "{\"r\":\"inf\"}");
			else
				WR_LIT(w, "{\"r\":\"-inf\"}");
		} else {
			real_text(v->r, b, sizeof b);
			WR_LIT(w, "{\"r\":");
			wr_raw(w, b, strlen(b));
			WR_LIT(w, "}");
		}
		return;
	case SYNC_NULL:
	default:
		WR_LIT(w, "null");
		return;
	}
}

static void wr_field(struct wr *w, const struct sync_field *f, const struct sync_field *d)
{
	bool same_version = f->hlc == d->hlc && strcmp(f->site, d->site) == 0;
	bool same_base = f->base_hlc == d->base_hlc && strcmp(f->base_site, d->base_site) == 0;

	WR_LIT(w, "[");
	wr_str(w, f->col);
	WR_LIT(w, ",");
	wr_value(w, &f->v);
	if (!(same_version && same_base)) {
		WR_LIT(w, ",");
		wr_hlc(w, f->hlc);
		WR_LIT(w, ",");
		wr_str(w, f->site);
		if (!same_base) {
			WR_LIT(w, ",");
			wr_hlc(w, f->base_hlc);
			WR_LIT(w, ",");
			wr_str(w, f->base_hlc ? f->base_site : "");
		}
	}
	WR_LIT(w, "]");
}

static void wr_block(struct wr *w, const struct sync_row *rows, size_t n)
{
	WR_LIT(w, "{\"t\":");
	wr_str(w, rows[0].table);
	WR_LIT(w, ",\"c\":[");
	for (size_t j = 0; j < rows[0].nfields; j++) {
		if (j)
			WR_LIT(w, ",");
		wr_str(w, rows[0].fields[j].col);
	}
	WR_LIT(w, "],\"r\":[");
	for (size_t i = 0; i < n && w->rc == CRM_OK; i++) {
		const struct sync_row *r = &rows[i];

		if (i)
			WR_LIT(w, ",");
		WR_LIT(w, "[");
		wr_str(w, r->id);
		WR_LIT(w, ",");
		wr_hlc(w, r->fields[0].hlc);
		WR_LIT(w, ",");
		wr_str(w, r->fields[0].site);
		for (size_t j = 0; j < r->nfields; j++) {
			WR_LIT(w, ",");
			wr_value(w, &r->fields[j].v);
		}
		WR_LIT(w, "]");
	}
	WR_LIT(w, "]}");
}

static void wr_row(struct wr *w, const struct sync_row *r)
{
	const struct sync_field *d = &r->fields[0];

	WR_LIT(w, "{\"t\":");
	wr_str(w, r->table);
	WR_LIT(w, ",\"id\":");
	wr_str(w, r->id);
	WR_LIT(w, ",\"h\":");
	wr_hlc(w, d->hlc);
	WR_LIT(w, ",\"s\":");
	wr_str(w, d->site);
	if (d->base_hlc != 0) {
		WR_LIT(w, ",\"bh\":");
		wr_hlc(w, d->base_hlc);
		WR_LIT(w, ",\"bs\":");
		wr_str(w, d->base_site);
	}
	WR_LIT(w, ",\"f\":[");
	for (size_t j = 0; j < r->nfields; j++) {
		if (j)
			WR_LIT(w, ",");
		wr_field(w, &r->fields[j], d);
	}
	WR_LIT(w, "]}");
}

enum crm_err sync_changeset_write_json(const struct sync_changeset *cs, struct crm_buf *out)
{
	struct wr w = {out, CRM_OK};
	bool first = true;

	/* room for the usual text at once (~25 bytes a field): no copy after copy as it grows */
	if (cs->nfields < SIZE_MAX / 32)
		(void)crm_buf_grow(out, cs->nfields * 32); /* failing: grown piece by piece below */
	WR_LIT(&w, "[");
	for (size_t i = 0; i < cs->nrows && w.rc == CRM_OK; i++) {
		const struct sync_row *r = &cs->rows[i];
		size_t run = 1;

		if (r->nfields == 0)
			continue;
		if (!first)
			WR_LIT(&w, ",");
		first = false;
		/* the same choice of rows and blocks as sync_changeset_to_json */
		if (blockable(r)) {
			while (i + run < cs->nrows && blockable(&cs->rows[i + run]) &&
			       same_shape(r, &cs->rows[i + run]))
				run++;
			if (run >= CODEC_BLOCK_MIN) {
				wr_block(&w, r, run);
				i += run - 1;
				continue;
			}
		}
		wr_row(&w, r);
	}
	WR_LIT(&w, "]");
	return w.rc;
}

cJSON *sync_changeset_to_json_raw(const struct sync_changeset *cs)
{
	struct crm_buf b;
	cJSON *raw = NULL;

	crm_buf_init(&b, SIZE_MAX);
	if (sync_changeset_write_json(cs, &b) == CRM_OK)
		raw = cJSON_CreateRaw(b.data);
	crm_buf_release(&b);
	return raw;
}

/* ---- decode ------------------------------------------------------------ */

struct dec {
	struct sync_db *s;
	struct crm_error *err;
	size_t rowno;
};

static enum crm_err bad(struct dec *d, const char *what)
{
	return crm_fail(d->err, CRM_EFORMAT, "change set row %zu: %s", d->rowno, what);
}

static bool text_ok(const char *s, size_t max)
{
	size_t n;

	if (!s)
		return false;
	n = strlen(s);
	return n > 0 && n <= max && crm_utf8_valid(s, n);
}

static enum crm_err get_hlc(struct dec *d, const cJSON *x, sync_hlc *out, const char *what)
{
	if (!cJSON_IsString(x) || sync_hlc_parse(x->valuestring, out) != CRM_OK)
		return bad(d, what);
	return CRM_OK;
}

/* Site ids are UUIDs, stored lower-case; "" only where allowed (no version). */
static enum crm_err get_site(struct dec *d, const cJSON *x, bool empty_ok, char out[37],
			     const char *what)
{
	const char *v;

	if (!cJSON_IsString(x))
		return bad(d, what);
	v = x->valuestring;
	if (v[0] == '\0' && empty_ok) {
		out[0] = '\0';
		return CRM_OK;
	}
	if (!crm_id_valid(v))
		return bad(d, what);
	for (int i = 0; i < 36; i++)
		out[i] = (char)((v[i] >= 'A' && v[i] <= 'F') ? v[i] + 32 : v[i]);
	out[36] = '\0';
	return CRM_OK;
}

static enum crm_err parse_i64(const char *s, int64_t *out)
{
	char *end = NULL;
	long long v;

	if (!s || !*s || strlen(s) > 20)
		return CRM_EFORMAT;
	for (const char *p = s; *p; p++) {
		if (!((*p >= '0' && *p <= '9') || (p == s && *p == '-')))
			return CRM_EFORMAT;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || !end || *end != '\0' || end == s)
		return CRM_EFORMAT;
	*out = (int64_t)v;
	return CRM_OK;
}

static enum crm_err decode_value(struct dec *d, const cJSON *x, struct sync_value *v)
{
	memset(v, 0, sizeof *v);
	if (cJSON_IsNull(x)) {
		v->type = SYNC_NULL;
		return CRM_OK;
	}
	if (cJSON_IsString(x)) {
		size_t n = strlen(x->valuestring);

		if (!crm_utf8_valid(x->valuestring, n))
			return crm_fail(d->err, CRM_EFORMAT, "change set row %zu: text is not UTF-8",
					d->rowno);
		v->type = SYNC_TEXT;
		v->s = malloc(n + 1);
		if (!v->s) {
			v->type = SYNC_NULL;
			return crm_fail(d->err, CRM_ENOMEM, "change set");
		}
		memcpy(v->s, x->valuestring, n + 1);
		return CRM_OK;
	}
	if (cJSON_IsNumber(x)) {
		double r = x->valuedouble;

		if (!isfinite(r) || r != floor(r) || r < -(double)JSON_INT_MAX || r > (double)JSON_INT_MAX)
			return bad(d, "a number value must be an integer within 2^53 (use {\"i\"} or {\"r\"})");
		v->type = SYNC_INT;
		v->i = (int64_t)r;
		return CRM_OK;
	}
	if (cJSON_IsObject(x) && x->child && !x->child->next && x->child->string) {
		const cJSON *c = x->child;

		if (strcmp(c->string, "i") == 0) {
			if (!cJSON_IsString(c) || parse_i64(c->valuestring, &v->i) != CRM_OK)
				return bad(d, "{\"i\"} needs a decimal 64-bit integer string");
			v->type = SYNC_INT;
			return CRM_OK;
		}
		if (strcmp(c->string, "r") == 0) {
			if (cJSON_IsNumber(c) && isfinite(c->valuedouble)) {
				v->r = c->valuedouble;
			} else if (cJSON_IsString(c) && strcmp(c->valuestring, "inf") == 0) {
				v->r = INFINITY;
			} else if (cJSON_IsString(c) && strcmp(c->valuestring, "-inf") == 0) {
				v->r = -INFINITY;
			} else if (cJSON_IsString(c) && strcmp(c->valuestring, "nan") == 0) {
				v->r = NAN;
			} else {
				return bad(d, "{\"r\"} needs a number");
			}
			v->type = SYNC_REAL;
			return CRM_OK;
		}
	}
	return bad(d, "a value must be null, a string, an integer, {\"i\": ...} or {\"r\": ...}");
}

/* Checks a value against the declared column (with a database). */
static enum crm_err check_type(struct dec *d, const struct db_table *t, const char *col,
			       int hint, const struct sync_value *v)
{
	int ci = db_col_find_from(t, col, hint);
	const struct db_col *c;
	bool ok = true;

	if (ci < 0)
		return crm_fail(d->err, CRM_EFORMAT, "change set row %zu: unknown column %s.%s",
				d->rowno, t->name, col);
	c = &t->cols[ci];
	switch (v->type) {
	case SYNC_NULL:
		ok = !c->notnull;
		break;
	case SYNC_INT:
		ok = c->aff == DB_AFF_ANY || c->aff == DB_AFF_INT || c->aff == DB_AFF_REAL;
		break;
	case SYNC_REAL:
		ok = c->aff == DB_AFF_ANY || c->aff == DB_AFF_REAL;
		break;
	case SYNC_TEXT:
		ok = c->aff == DB_AFF_ANY || c->aff == DB_AFF_TEXT;
		break;
	}
	if (!ok)
		return crm_fail(d->err, CRM_EFORMAT, "change set row %zu: %s.%s cannot hold a %s value",
				d->rowno, t->name, col,
				v->type == SYNC_NULL ? "null" : v->type == SYNC_INT ? "integer"
				: v->type == SYNC_REAL ? "real" : "text");
	return CRM_OK;
}

static enum crm_err decode_row(struct dec *d, const cJSON *o, struct sync_changeset *out)
{
	const cJSON *t, *id, *h, *s, *bh, *bs, *f, *fx;
	struct sync_field def;
	struct sync_row *row;
	const struct db_table *tbl = NULL;
	enum crm_err rc;

	if (!cJSON_IsObject(o))
		return bad(d, "not an object");
	for (const cJSON *k = o->child; k; k = k->next) {
		static const char *const keys[] = {"t", "id", "h", "s", "bh", "bs", "f"};
		bool known = false;

		for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
			known = known || (k->string && strcmp(k->string, keys[i]) == 0);
		if (!known)
			return bad(d, "unknown key");
	}
	t = cJSON_GetObjectItemCaseSensitive(o, "t");
	id = cJSON_GetObjectItemCaseSensitive(o, "id");
	h = cJSON_GetObjectItemCaseSensitive(o, "h");
	s = cJSON_GetObjectItemCaseSensitive(o, "s");
	bh = cJSON_GetObjectItemCaseSensitive(o, "bh");
	bs = cJSON_GetObjectItemCaseSensitive(o, "bs");
	f = cJSON_GetObjectItemCaseSensitive(o, "f");
	if (!cJSON_IsString(t) || !text_ok(t->valuestring, CODEC_NAME_MAX))
		return bad(d, "\"t\" must be a table name");
	if (!cJSON_IsString(id) || !text_ok(id->valuestring, CODEC_ID_MAX))
		return bad(d, "\"id\" must be a row id");
	if (!cJSON_IsArray(f) || !f->child)
		return bad(d, "\"f\" must be a non-empty array of fields");
	if (d->s) {
		tbl = db_table_find(d->s, t->valuestring);
		if (!tbl)
			return crm_fail(d->err, CRM_EFORMAT, "change set row %zu: unknown table %s",
					d->rowno, t->valuestring);
	}
	memset(&def, 0, sizeof def);
	rc = get_hlc(d, h, &def.hlc, "\"h\" must be an HLC string");
	if (rc == CRM_OK)
		rc = get_site(d, s, def.hlc == 0, def.site, "\"s\" must be a site id");
	if (rc == CRM_OK && (bh || bs)) {
		rc = get_hlc(d, bh, &def.base_hlc, "\"bh\" must be an HLC string");
		if (rc == CRM_OK)
			rc = get_site(d, bs, def.base_hlc == 0, def.base_site, "\"bs\" must be a site id");
	}
	if (rc != CRM_OK)
		return rc;
	if (def.base_hlc == 0 && def.base_site[0])
		return bad(d, "a base without an HLC");
	row = sync_changeset_add_row(out, t->valuestring, id->valuestring);
	if (!row)
		return crm_fail(d->err, CRM_ENOMEM, "change set");
	for (fx = f->child; fx; fx = fx->next) {
		struct sync_field fld = def;
		int n = cJSON_GetArraySize(fx);
		const cJSON *e0, *e1, *e;

		if (!cJSON_IsArray(fx) || (n != 2 && n != 4 && n != 6))
			return bad(d, "a field must be [col, value] or with 2 or 4 more elements");
		e0 = fx->child;
		e1 = e0->next;
		if (!cJSON_IsString(e0) || !text_ok(e0->valuestring, CODEC_NAME_MAX))
			return bad(d, "a field needs a column name");
		for (size_t j = 0; j < row->nfields; j++) {
			if (strcmp(row->fields[j].col, e0->valuestring) == 0)
				return bad(d, "a column appears twice in one row");
		}
		e = e1->next;
		if (n >= 4) {
			rc = get_hlc(d, e, &fld.hlc, "a field HLC must be a string");
			if (rc == CRM_OK)
				rc = get_site(d, e->next, fld.hlc == 0, fld.site, "a field site must be a site id");
			if (rc != CRM_OK)
				return rc;
			e = e->next->next;
		}
		if (n == 6) {
			rc = get_hlc(d, e, &fld.base_hlc, "a base HLC must be a string");
			if (rc == CRM_OK)
				rc = get_site(d, e->next, fld.base_hlc == 0, fld.base_site,
					      "a base site must be a site id");
			if (rc != CRM_OK)
				return rc;
			if (fld.base_hlc == 0 && fld.base_site[0])
				return bad(d, "a base without an HLC");
		}
		if (fld.hlc == 0)
			fld.site[0] = '\0';
		fld.col = e0->valuestring;
		rc = decode_value(d, e1, &fld.v);
		if (rc != CRM_OK)
			return rc;
		if (tbl)
			rc = check_type(d, tbl, fld.col, -1, &fld.v);
		if (rc == CRM_OK && sync_row_take_field(out, row, &fld) != CRM_OK)
			rc = crm_fail(d->err, CRM_ENOMEM, "change set");
		if (fld.v.type == SYNC_TEXT)
			free(fld.v.s);
		if (rc != CRM_OK)
			return rc;
	}
	return CRM_OK;
}

/* Decodes a block object (see codec.h) into rows appended to out. */
static enum crm_err decode_block(struct dec *d, const cJSON *o, struct sync_changeset *out)
{
	const cJSON *t = NULL, *c = NULL, *r = NULL, *x;
	const struct db_table *tbl = NULL;
	const char *cols[DB_MAX_COLS];
	size_t lens[DB_MAX_COLS];
	int cis[DB_MAX_COLS];
	size_t nc = 0;
	enum crm_err rc = CRM_OK;
	const char *last_site = NULL; /* the previous row's site, as sent, and as read */
	char last_read[37] = "";

	for (const cJSON *k = o->child; k; k = k->next) {
		if (k->string && strcmp(k->string, "t") == 0 && !t)
			t = k;
		else if (k->string && strcmp(k->string, "c") == 0 && !c)
			c = k;
		else if (k->string && strcmp(k->string, "r") == 0 && !r)
			r = k;
		else
			return bad(d, "unknown key in a block");
	}
	if (!cJSON_IsString(t) || !text_ok(t->valuestring, CODEC_NAME_MAX))
		return bad(d, "a block's \"t\" must be a table name");
	if (!cJSON_IsArray(c) || !c->child)
		return bad(d, "a block's \"c\" must be a non-empty array of column names");
	if (!cJSON_IsArray(r) || !r->child)
		return bad(d, "a block's \"r\" must be a non-empty array of rows");
	if (d->s) {
		tbl = db_table_find(d->s, t->valuestring);
		if (!tbl)
			return crm_fail(d->err, CRM_EFORMAT, "change set row %zu: unknown table %s",
					d->rowno, t->valuestring);
	}
	cJSON_ArrayForEach(x, c) {
		if (nc == DB_MAX_COLS)
			return bad(d, "a block names too many columns");
		if (!cJSON_IsString(x) || !text_ok(x->valuestring, CODEC_NAME_MAX))
			return bad(d, "a block's column must be a name");
		for (size_t j = 0; j < nc; j++)
			if (strcmp(cols[j], x->valuestring) == 0)
				return bad(d, "a column appears twice in one row");
		cis[nc] = tbl ? db_col_find(tbl, x->valuestring) : -1;
		if (tbl && cis[nc] < 0)
			return crm_fail(d->err, CRM_EFORMAT, "change set row %zu: unknown column %s.%s",
					d->rowno, tbl->name, x->valuestring);
		lens[nc] = strlen(x->valuestring);
		cols[nc++] = x->valuestring;
	}
	for (const cJSON *rx = r->child; rx && rc == CRM_OK; rx = rx->next) {
		struct sync_field def;
		struct sync_row *row;
		const cJSON *e;
		size_t j = 0;

		if (!cJSON_IsArray(rx) || (size_t)cJSON_GetArraySize(rx) != nc + 3)
			return bad(d, "a block row must be [id, hlc, site] and one value per column");
		e = rx->child;
		if (!cJSON_IsString(e) || !text_ok(e->valuestring, CODEC_ID_MAX))
			return bad(d, "a block row needs a row id");
		memset(&def, 0, sizeof def);
		rc = get_hlc(d, e->next, &def.hlc, "a block row's HLC must be a string");
		if (rc == CRM_OK && def.hlc == 0)
			rc = bad(d, "a block row needs a version");
		if (rc == CRM_OK && last_site && cJSON_IsString(e->next->next) &&
		    strcmp(e->next->next->valuestring, last_site) == 0) {
			memcpy(def.site, last_read, sizeof def.site); /* the rows of a block share a site */
		} else if (rc == CRM_OK) {
			rc = get_site(d, e->next->next, false, def.site, "a block row's site must be a site id");
			if (rc == CRM_OK) {
				last_site = e->next->next->valuestring;
				memcpy(last_read, def.site, sizeof last_read);
			}
		}
		if (rc != CRM_OK)
			return rc;
		row = sync_changeset_add_row(out, t->valuestring, e->valuestring);
		if (!row || sync_row_reserve(row, nc) != CRM_OK)
			return crm_fail(d->err, CRM_ENOMEM, "change set");
		for (e = e->next->next->next; e && rc == CRM_OK; e = e->next, j++) {
			struct sync_field fld = def;

			fld.col = (char *)(uintptr_t)cols[j];
			rc = decode_value(d, e, &fld.v);
			if (rc != CRM_OK)
				break;
			if (tbl)
				rc = check_type(d, tbl, fld.col, cis[j], &fld.v);
			if (rc == CRM_OK && sync_row_take_field_n(out, row, &fld, lens[j]) != CRM_OK)
				rc = crm_fail(d->err, CRM_ENOMEM, "change set");
			if (fld.v.type == SYNC_TEXT)
				free(fld.v.s);
		}
		d->rowno++;
	}
	return rc;
}

enum crm_err sync_changeset_from_json(const cJSON *json, struct sync_db *s,
				      struct sync_changeset *out, struct crm_error *err)
{
	struct dec d = {s, err, 0};
	enum crm_err rc = CRM_OK;

	sync_changeset_init(out);
	if (!cJSON_IsArray(json))
		return crm_fail(err, CRM_EFORMAT, "a change set must be a JSON array");
	for (const cJSON *o = json->child; o; o = o->next) {
		if (cJSON_IsObject(o) && cJSON_GetObjectItemCaseSensitive(o, "r")) {
			rc = decode_block(&d, o, out);
		} else {
			rc = decode_row(&d, o, out);
			d.rowno++;
		}
		if (rc != CRM_OK)
			break;
	}
	if (rc != CRM_OK)
		sync_changeset_release(out);
	return rc;
}

/* ---- packed arrays: a strict JSON reader building cJSON nodes in an arena ---- */

/*
 * cJSON_Parse makes a malloc()ed node per value, plus its key and its string,
 * and cJSON_Delete frees them one by one: ~150,000 of each for a push of
 * 45,000 fields. sync_json_parse_packed reads the push array of a request
 * with jp_* into cJSON nodes carved from a few blocks (struct
 * sync_json_arena) and freed at once; everything else stays cJSON's.
 *
 * jp_* accepts strict JSON only (RFC 8259; no bytes below 0x20 inside
 * strings, no \u0000, no lone surrogates, numbers of at most 63 characters,
 * nesting at most JP_DEPTH): a subset of what cJSON accepts, and read into the
 * very tree cJSON would make (same types, strings, keys in order, numbers
 * through strtod as cJSON does). Anything else makes jp_* give up, and the
 * whole text goes to cJSON as it always did, so no input is read differently
 * (tests/unit/test_codec_packed.c holds the two to that).
 */
#define JP_DEPTH 64
#define ARENA_BLOCK ((size_t)1 << 16) /* small enough for malloc to reuse, not map anew */

struct arena_blk {
	struct arena_blk *next;
	size_t used, cap;
	/* data follows */
};

struct sync_json_arena {
	struct arena_blk *head;
};

static void *arena_alloc(struct sync_json_arena *a, size_t n)
{
	struct arena_blk *b = a->head;
	char *p;

	n = (n + 15) & ~(size_t)15;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		b = malloc(sizeof *b + 16 + cap);
		if (!b)
			return NULL;
		b->next = a->head;
		b->used = 0;
		b->cap = cap;
		a->head = b;
	}
	p = (char *)(b + 1) + 16 + b->used;
	p -= (uintptr_t)p & 15;
	b->used += n;
	return p;
}

static void arena_release(struct sync_json_arena *a)
{
	while (a->head) {
		struct arena_blk *n = a->head->next;

		free(a->head);
		a->head = n;
	}
}

struct jp {
	const char *p, *end;
	struct sync_json_arena *a; /* NULL: check the syntax only, build nothing */
	int depth;
	char dp; /* the locale's decimal point, as cJSON's strtod reads it */
};

static void jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
		j->p++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at p (p + 4 <= end), or -1. */
static long hex4(const char *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		int h = hexval(p[i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/*
 * A string at j->p (the opening quote). *out gets it decoded (NUL-terminated,
 * in the arena) when building; *raw_plain whether it had no escape.
 */
static bool jp_string(struct jp *j, char **out, bool *raw_plain)
{
	const char *s = j->p + 1, *q = s;
	bool esc = false;
	char *o;

	for (;;) {
		if (q >= j->end)
			return false;
		if (*q == '"')
			break;
		if ((unsigned char)*q < 0x20)
			return false;
		if (*q == '\\') {
			esc = true;
			q++;
			if (q >= j->end)
				return false;
		}
		q++;
	}
	if (raw_plain)
		*raw_plain = !esc;
	j->p = q + 1;
	if (!esc && !j->a)
		return true;
	o = j->a ? arena_alloc(j->a, (size_t)(q - s) + 1) : NULL;
	if (j->a && !o)
		return false;
	if (out)
		*out = o;
	if (!esc) {
		memcpy(o, s, (size_t)(q - s));
		o[q - s] = '\0';
		return true;
	}
	for (const char *p = s; p < q;) {
		long cp, lo;

		if (*p != '\\') {
			if (o)
				*o++ = *p;
			p++;
			continue;
		}
		p++;
		switch (*p) {
		case '"':
		case '\\':
		case '/':
			cp = *p;
			break;
		case 'b':
			cp = '\b';
			break;
		case 'f':
			cp = '\f';
			break;
		case 'n':
			cp = '\n';
			break;
		case 'r':
			cp = '\r';
			break;
		case 't':
			cp = '\t';
			break;
		case 'u':
			if (q - p < 5)
				return false;
			cp = hex4(p + 1);
			if (cp <= 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
				return false;
			p += 4;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (q - p < 7 || p[1] != '\\' || p[2] != 'u')
					return false;
				lo = hex4(p + 3);
				if (lo < 0xDC00 || lo > 0xDFFF)
					return false;
				cp = 0x10000 + (((cp & 0x3FF) << 10) | (lo & 0x3FF));
				p += 6;
			}
			break;
		default:
			return false;
		}
		p++;
		if (!o)
			continue;
		if (cp < 0x80) {
			*o++ = (char)cp;
		} else if (cp < 0x800) {
			*o++ = (char)(0xC0 | (cp >> 6));
			*o++ = (char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			*o++ = (char)(0xE0 | (cp >> 12));
			*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
			*o++ = (char)(0x80 | (cp & 0x3F));
		} else {
			*o++ = (char)(0xF0 | (cp >> 18));
			*o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
			*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
			*o++ = (char)(0x80 | (cp & 0x3F));
		}
	}
	if (o)
		*o = '\0';
	return true;
}

/* A number as RFC 8259 writes it; the value as cJSON computes it. */
static bool jp_number(struct jp *j, cJSON *item)
{
	const char *s = j->p, *p = s;
	char b[64];
	double d;

	if (p < j->end && *p == '-')
		p++;
	if (p >= j->end || !(*p >= '0' && *p <= '9'))
		return false;
	if (*p == '0')
		p++;
	else
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	if (p < j->end && *p == '.') {
		p++;
		if (p >= j->end || !(*p >= '0' && *p <= '9'))
			return false;
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < j->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < j->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= j->end || !(*p >= '0' && *p <= '9'))
			return false;
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	}
	if ((size_t)(p - s) >= sizeof b)
		return false; /* cJSON reads 63 characters at most */
	j->p = p;
	if (!item)
		return true;
	memcpy(b, s, (size_t)(p - s));
	b[p - s] = '\0';
	if (j->dp != '.') /* cJSON reads '.' as the locale's decimal point */
		for (char *c = b; *c; c++)
			if (*c == '.')
				*c = j->dp;
	d = strtod(b, NULL);
	item->type = cJSON_Number;
	item->valuedouble = d;
	if (d >= INT_MAX)
		item->valueint = INT_MAX;
	else if (d <= (double)INT_MIN)
		item->valueint = INT_MIN;
	else
		item->valueint = (int)d;
	return true;
}

static bool jp_lit(struct jp *j, const char *lit, size_t n)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return false;
	j->p += n;
	return true;
}

static bool jp_value(struct jp *j, cJSON **out);

/* Appends item (may be NULL when only checking) to parent's children. */
static void jp_link(cJSON *parent, cJSON **last, cJSON *item)
{
	if (!parent)
		return;
	if (*last) {
		(*last)->next = item;
		item->prev = *last;
	} else {
		parent->child = item;
	}
	*last = item;
	parent->child->prev = item;
}

static bool jp_container(struct jp *j, cJSON *item, bool object)
{
	cJSON *last = NULL;
	char close = object ? '}' : ']';

	if (++j->depth > JP_DEPTH)
		return false;
	j->p++;
	jp_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return true;
	}
	for (;;) {
		char *key = NULL;
		cJSON *v = NULL;

		if (object) {
			if (j->p >= j->end || *j->p != '"' || !jp_string(j, &key, NULL))
				return false;
			jp_ws(j);
			if (j->p >= j->end || *j->p != ':')
				return false;
			j->p++;
			jp_ws(j);
		}
		if (!jp_value(j, item ? &v : NULL))
			return false;
		if (v) {
			v->string = key;
			jp_link(item, &last, v);
		}
		jp_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			jp_ws(j);
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			j->depth--;
			return true;
		}
		return false;
	}
}

/* One value at j->p (no leading space); *out (when building) its node. */
static bool jp_value(struct jp *j, cJSON **out)
{
	cJSON *item = NULL;
	char c;

	if (j->p >= j->end)
		return false;
	if (out) {
		item = arena_alloc(j->a, sizeof *item);
		if (!item)
			return false;
		memset(item, 0, sizeof *item);
		*out = item;
	}
	c = *j->p;
	switch (c) {
	case '"':
		if (item)
			item->type = cJSON_String;
		return jp_string(j, item ? &item->valuestring : NULL, NULL);
	case '{':
	case '[':
		if (item)
			item->type = c == '{' ? cJSON_Object : cJSON_Array;
		return jp_container(j, item, c == '{');
	case 't':
		if (item)
			item->type = cJSON_True;
		if (item)
			item->valueint = 1;
		return jp_lit(j, "true", 4);
	case 'f':
		if (item)
			item->type = cJSON_False;
		return jp_lit(j, "false", 5);
	case 'n':
		if (item)
			item->type = cJSON_NULL;
		return jp_lit(j, "null", 4);
	default:
		return jp_number(j, item);
	}
}

void sync_json_arena_free(struct sync_json_arena *a)
{
	if (!a)
		return;
	arena_release(a);
	free(a);
}

cJSON *sync_json_parse_packed(const char *text, size_t n, const char *key,
			      struct sync_json_arena **arena)
{
	struct jp j = {text, text + n, NULL, 0, '.'};
	const char *a = NULL, *b = NULL;
	const struct lconv *lc = localeconv();
	size_t klen = strlen(key);
	char *env = NULL;
	cJSON *json = NULL, *item, *arr = NULL;

	*arena = NULL;
	if (lc && lc->decimal_point && lc->decimal_point[0])
		j.dp = lc->decimal_point[0];
	/* one pass: the object's syntax checked, the first member named key read into nodes */
	jp_ws(&j);
	if (j.p >= j.end || *j.p != '{')
		goto plain;
	j.p++;
	j.depth = 1;
	jp_ws(&j);
	if (j.p < j.end && *j.p == '}')
		goto plain;
	for (;;) {
		const char *k = j.p + 1;
		bool raw_plain = false;
		bool hit;

		if (j.p >= j.end || *j.p != '"' || !jp_string(&j, NULL, &raw_plain) || !raw_plain)
			goto plain; /* an escape in a key could spell key: cJSON decides */
		hit = !a && (size_t)(j.p - 1 - k) == klen && memcmp(k, key, klen) == 0;
		jp_ws(&j);
		if (j.p >= j.end || *j.p != ':')
			goto plain;
		j.p++;
		jp_ws(&j);
		if (hit && j.p < j.end && *j.p == '[' && j.p + 1 < j.end && j.p[1] != ']') {
			*arena = calloc(1, sizeof **arena);
			if (!*arena)
				goto plain;
			j.a = *arena;
			a = j.p;
			if (!jp_value(&j, &arr))
				goto plain;
			b = j.p;
			j.a = NULL;
		} else if (hit) {
			goto plain; /* not an array, or an empty one: nothing to gain */
		} else if (!jp_value(&j, NULL)) {
			goto plain;
		}
		jp_ws(&j);
		if (j.p < j.end && *j.p == ',') {
			j.p++;
			jp_ws(&j);
			continue;
		}
		if (j.p < j.end && *j.p == '}') {
			j.p++;
			break;
		}
		goto plain;
	}
	jp_ws(&j);
	if (j.p != j.end || !arr || !arr->child)
		goto plain;
	/* the rest of the object through cJSON, with "[]" in place of the array ... */
	env = malloc(n - (size_t)(b - a) + 3);
	if (!env)
		goto plain;
	memcpy(env, text, (size_t)(a - text));
	memcpy(env + (a - text), "[]", 2);
	memcpy(env + (a - text) + 2, b, (size_t)(text + n - b));
	json = cJSON_ParseWithLength(env, n - (size_t)(b - a) + 2);
	free(env);
	item = json ? cJSON_GetObjectItemCaseSensitive(json, key) : NULL;
	if (!cJSON_IsArray(item) || item->child)
		goto plain;
	/* ... then given the arena's elements, as a reference: cJSON_Delete leaves them */
	item->type |= cJSON_IsReference;
	item->child = arr->child;
	return json;
plain:
	cJSON_Delete(json);
	sync_json_arena_free(*arena);
	*arena = NULL;
	return cJSON_ParseWithLength(text, n);
}
