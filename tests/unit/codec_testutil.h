/*
 * codec_testutil: building and comparing change sets in the codec unit tests
 * (header-only, static): two site ids, a field appended with its version and
 * base, values of each type, and rows asserted equal field by field.
 */
#ifndef CODEC_TESTUTIL_H
#define CODEC_TESTUTIL_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sync.h"

#define SA "0190c3e2-0000-7000-8000-00000000000a"
#define SB "0190c3e2-0000-7000-8000-00000000000b"

/* Appends col = v, written at (h, site) over base (bh, bs), to row (copied). */
static inline void addf(struct sync_changeset *cs, struct sync_row *row, const char *col,
			struct sync_value v, sync_hlc h, const char *site, sync_hlc bh, const char *bs)
{
	struct sync_field f;

	memset(&f, 0, sizeof f);
	f.col = (char *)(uintptr_t)col;
	f.v = v;
	f.hlc = h;
	snprintf(f.site, sizeof f.site, "%s", site);
	f.base_hlc = bh;
	snprintf(f.base_site, sizeof f.base_site, "%s", bs);
	assert_int_equal(sync_row_add_field(cs, row, &f), CRM_OK);
}

static inline struct sync_value vtext(const char *s)
{
	struct sync_value v = {SYNC_TEXT, 0, 0, (char *)(uintptr_t)s};

	return v;
}

static inline struct sync_value vint(int64_t i)
{
	struct sync_value v = {SYNC_INT, i, 0, NULL};

	return v;
}

static inline struct sync_value vreal(double r)
{
	struct sync_value v = {SYNC_REAL, 0, r, NULL};

	return v;
}

static inline struct sync_value vnull(void)
{
	struct sync_value v = {SYNC_NULL, 0, 0, NULL};

	return v;
}

/*
 * a and b are the same field: column, version, base (its site only where there
 * is a base), type and value (reals bit for bit, any NaN equal to any NaN).
 */
static inline void assert_same_field(const struct sync_field *a, const struct sync_field *b)
{
	assert_string_equal(a->col, b->col);
	assert_true(a->hlc == b->hlc);
	assert_string_equal(a->site, b->site);
	assert_true(a->base_hlc == b->base_hlc);
	assert_string_equal(a->base_hlc ? a->base_site : "", b->base_hlc ? b->base_site : "");
	assert_int_equal(a->v.type, b->v.type);
	if (a->v.type == SYNC_TEXT)
		assert_string_equal(a->v.s, b->v.s);
	if (a->v.type == SYNC_INT)
		assert_true(a->v.i == b->v.i);
	if (a->v.type == SYNC_REAL)
		assert_true(isnan(a->v.r) ? isnan(b->v.r) != 0
					  : memcmp(&a->v.r, &b->v.r, sizeof(double)) == 0);
}

/* ra and rb are the same row: table, id, and the same fields in the same order. */
static inline void assert_same_row(const struct sync_row *ra, const struct sync_row *rb)
{
	assert_string_equal(ra->table, rb->table);
	assert_string_equal(ra->id, rb->id);
	assert_int_equal(ra->nfields, rb->nfields);
	for (size_t k = 0; k < ra->nfields; k++)
		assert_same_field(&ra->fields[k], &rb->fields[k]);
}

#endif
