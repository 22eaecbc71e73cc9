/* Aligned tables, value formatting and JSON rows for crm's output. */
#include "output.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "crm_time.h"
#include "crm_utf8.h"

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, one column */

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

enum crm_err out_table_init(struct out_table *t, size_t ncols, const char *const *head)
{
	memset(t, 0, sizeof *t);
	t->ncols = ncols;
	t->head = calloc(ncols, sizeof *t->head);
	t->right = calloc(ncols, sizeof *t->right);
	if (!t->head || !t->right)
		goto fail;
	for (size_t i = 0; i < ncols; i++) {
		t->head[i] = dup_or_empty(head[i]);
		if (!t->head[i])
			goto fail;
	}
	return CRM_OK;
fail:
	out_table_release(t);
	return CRM_ENOMEM;
}

void out_table_release(struct out_table *t)
{
	if (t->head)
		for (size_t i = 0; i < t->ncols; i++)
			free(t->head[i]);
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->head);
	free(t->cells);
	free(t->right);
	memset(t, 0, sizeof *t);
}

void out_table_align_right(struct out_table *t, size_t col)
{
	if (col < t->ncols)
		t->right[col] = true;
}

enum crm_err out_table_add(struct out_table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **p = realloc(t->cells, cap * t->ncols * sizeof *p);

		if (!p)
			return CRM_ENOMEM;
		t->cells = p;
		t->cap = cap;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		char *c = dup_or_empty(cells[i]);

		if (!c) {
			for (size_t j = 0; j < i; j++)
				free(t->cells[t->nrows * t->ncols + j]);
			return CRM_ENOMEM;
		}
		/* Line breaks and tabs would break the alignment. */
		for (char *p = c; *p; p++)
			if (*p == '\n' || *p == '\r' || *p == '\t')
				*p = ' ';
		t->cells[t->nrows * t->ncols + i] = c;
	}
	t->nrows++;
	return CRM_OK;
}

size_t out_fit(const char *s, size_t max_cols, char *out, size_t n)
{
	size_t cols = 0;
	size_t w = crm_utf8_width(s);
	size_t len = strlen(s);
	size_t mc;

	if (n == 0)
		return 0;
	if (w <= max_cols && len < n) {
		memcpy(out, s, len + 1);
		return w;
	}
	out[0] = '\0';
	if (max_cols == 0 || n < sizeof ELLIPSIS)
		return 0;
	mc = max_cols - 1;
	len = crm_utf8_prefix(s, mc, &cols);
	while (len + sizeof ELLIPSIS > n && mc > 0) {
		mc--;
		len = crm_utf8_prefix(s, mc, &cols);
	}
	memcpy(out, s, len);
	memcpy(out + len, ELLIPSIS, sizeof ELLIPSIS);
	return cols + 1;
}

void out_pad(FILE *f, const char *s, size_t width)
{
	size_t w = crm_utf8_width(s);

	fputs(s, f);
	for (; w < width; w++)
		fputc(' ', f);
}

static void print_cell(FILE *f, const char *s, size_t width, bool right, bool last)
{
	char buf[1024];
	size_t w = out_fit(s, width, buf, sizeof buf);

	if (right)
		for (size_t i = w; i < width; i++)
			fputc(' ', f);
	fputs(buf, f);
	if (!right && !last)
		for (size_t i = w; i < width; i++)
			fputc(' ', f);
}

/* Index of the last column with a width, so the line ends without padding. */
static size_t last_shown(const size_t *width, size_t ncols)
{
	size_t last = 0;

	for (size_t c = 0; c < ncols; c++)
		if (width[c])
			last = c;
	return last;
}

static void print_line(FILE *f, const struct out_table *t, const size_t *width,
		       char *const *cells)
{
	size_t last = last_shown(width, t->ncols);

	/* Empty cells at the end of this line are not padded: no trailing blanks. */
	while (last > 0 && !t->right[last] && (!cells[last] || !cells[last][0]))
		last--;
	for (size_t c = 0; c <= last; c++) {
		/* A column with neither header nor values is left out. */
		if (!width[c])
			continue;
		print_cell(f, cells[c], width[c], t->right[c], c == last);
		if (c != last)
			fputs("  ", f);
	}
	fputc('\n', f);
}

void out_table_print(const struct out_table *t, FILE *f, size_t max_width)
{
	size_t *width = calloc(t->ncols ? t->ncols : 1, sizeof *width);
	size_t last;

	if (!width)
		return;
	for (size_t c = 0; c < t->ncols; c++) {
		width[c] = crm_utf8_width(t->head[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t w = crm_utf8_width(t->cells[r * t->ncols + c]);

			if (w > width[c])
				width[c] = w;
		}
		if (width[c] > max_width)
			width[c] = max_width;
	}
	last = last_shown(width, t->ncols);
	print_line(f, t, width, t->head);
	for (size_t c = 0; c < t->ncols; c++) {
		if (!width[c])
			continue;
		for (size_t i = 0; i < width[c]; i++)
			fputc('-', f);
		fputs(c == last ? "\n" : "  ", f);
	}
	for (size_t r = 0; r < t->nrows; r++)
		print_line(f, t, width, t->cells + r * t->ncols);
	free(width);
}

void out_money(int64_t minor, const char *currency, char *out, size_t n)
{
	char digits[32];
	char grouped[48];
	uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
	size_t len, g = 0;

	snprintf(digits, sizeof digits, "%" PRIu64, mag / 100);
	len = strlen(digits);
	for (size_t i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			grouped[g++] = ',';
		grouped[g++] = digits[i];
	}
	grouped[g] = '\0';
	snprintf(out, n, "%s%s.%02u%s%s", minor < 0 ? "-" : "", grouped, (unsigned)(mag % 100),
		 currency && *currency ? " " : "", currency && *currency ? currency : "");
}

void out_value(const struct schema_column *c, const struct schema_value *v,
	       const char *currency, char *out, size_t n)
{
	char t[CRM_TIME_ISO_MAX];

	if (n == 0)
		return;
	out[0] = '\0';
	switch (v->type) {
	case SV_NULL:
		break;
	case SV_TEXT:
		snprintf(out, n, "%s", v->s);
		break;
	case SV_REAL:
		snprintf(out, n, "%.6g", v->r);
		break;
	case SV_INT:
		if (c->type == SCOL_TIME) {
			crm_time_format_local(v->i, t);
			snprintf(out, n, "%s", t);
		} else if (c->type == SCOL_MONEY) {
			out_money(v->i, currency, out, n);
		} else if (c->type == SCOL_BOOL) {
			snprintf(out, n, "%s", v->i ? "yes" : "");
		} else {
			snprintf(out, n, "%" PRId64, v->i);
		}
		break;
	}
}

cJSON *out_row_json(const struct schema_table *t, const struct schema_value *vals)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	for (size_t i = 0; i < t->ncols; i++) {
		const struct schema_column *c = &t->cols[i];
		const struct schema_value *v = &vals[i];
		cJSON *item = NULL;
		char iso[CRM_TIME_ISO_MAX];

		switch (v->type) {
		case SV_NULL:
			item = cJSON_CreateNull();
			break;
		case SV_TEXT:
			item = cJSON_CreateString(v->s);
			break;
		case SV_REAL:
			item = cJSON_CreateNumber(v->r);
			break;
		case SV_INT:
			if (c->type == SCOL_TIME) {
				crm_time_format_utc(v->i, iso);
				item = cJSON_CreateString(iso);
			} else {
				item = cJSON_CreateNumber((double)v->i);
			}
			break;
		}
		if (!item || !cJSON_AddItemToObject(o, c->name, item)) {
			cJSON_Delete(item);
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}

/* A JSON string: quotes, backslashes and control characters escaped, the
 * rest (UTF-8 included) as it is. */
static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", (unsigned)*p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void json_indent(FILE *f, int depth)
{
	for (int i = 0; i < depth; i++)
		fputs("  ", f);
}

/* Two spaces a level, one member or element a line, "key": value. */
static enum crm_err json_value(FILE *f, const cJSON *v, int depth)
{
	enum crm_err rc = CRM_OK;

	if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
		bool obj = cJSON_IsObject(v);
		const cJSON *c = v->child;

		if (!c) {
			fputs(obj ? "{}" : "[]", f);
			return CRM_OK;
		}
		fputs(obj ? "{\n" : "[\n", f);
		for (; c && rc == CRM_OK; c = c->next) {
			json_indent(f, depth + 1);
			if (obj) {
				json_string(f, c->string);
				fputs(": ", f);
			}
			rc = json_value(f, c, depth + 1);
			fputs(c->next ? ",\n" : "\n", f);
		}
		json_indent(f, depth);
		fputc(obj ? '}' : ']', f);
	} else if (cJSON_IsString(v)) {
		json_string(f, v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		char *s = cJSON_PrintUnformatted(v);

		if (!s)
			return CRM_ENOMEM;
		fputs(s, f);
		cJSON_free(s);
	} else if (cJSON_IsBool(v)) {
		fputs(cJSON_IsTrue(v) ? "true" : "false", f);
	} else {
		fputs("null", f);
	}
	return rc;
}

enum crm_err out_json_print(const cJSON *json, FILE *f)
{
	enum crm_err rc = json_value(f, json, 0);

	fputc('\n', f);
	return rc;
}
