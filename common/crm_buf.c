/* Growable, capped byte buffer; see crm_buf.h. */
#include "crm_buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char empty[1];

void crm_buf_init(struct crm_buf *b, size_t max)
{
	b->data = empty;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void crm_buf_release(struct crm_buf *b)
{
	if (b->cap)
		free(b->data);
	crm_buf_init(b, b->max);
}

void crm_buf_reset(struct crm_buf *b)
{
	b->len = 0;
	if (b->cap)
		b->data[0] = '\0';
}

enum crm_err crm_buf_grow(struct crm_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return CRM_ETOOBIG;
	need = b->len + n + 1;
	if (need <= b->cap)
		return CRM_OK;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	/* max == SIZE_MAX means "no limit": max + 1 would wrap to 0 */
	if (b->max < SIZE_MAX && cap > b->max + 1)
		cap = b->max + 1;
	p = b->cap ? realloc(b->data, cap) : malloc(cap);
	if (!p)
		return CRM_ENOMEM;
	if (!b->cap)
		p[0] = '\0';
	b->data = p;
	b->cap = cap;
	return CRM_OK;
}

enum crm_err crm_buf_add(struct crm_buf *b, const void *p, size_t n)
{
	enum crm_err rc = crm_buf_grow(b, n);

	if (rc != CRM_OK)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return CRM_OK;
}

enum crm_err crm_buf_addstr(struct crm_buf *b, const char *s)
{
	return crm_buf_add(b, s, strlen(s));
}

enum crm_err crm_buf_vaddf(struct crm_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	enum crm_err rc;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return CRM_EINVAL;
	rc = crm_buf_grow(b, (size_t)n);
	if (rc != CRM_OK)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return CRM_OK;
}

enum crm_err crm_buf_addf(struct crm_buf *b, const char *fmt, ...)
{
	va_list ap;
	enum crm_err rc;

	va_start(ap, fmt);
	rc = crm_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *crm_buf_detach(struct crm_buf *b, size_t *len_out)
{
	char *p;

	if (!b->cap) {
		p = malloc(1);
		if (!p)
			return NULL;
		p[0] = '\0';
	} else {
		p = b->data;
	}
	if (len_out)
		*len_out = b->len;
	crm_buf_init(b, b->max);
	return p;
}
