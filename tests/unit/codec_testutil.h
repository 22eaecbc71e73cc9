/*
 * codec_testutil: building change sets by hand in the codec unit tests
 * (header-only, static): two site ids, a field appended with its version and
 * base, and values of each type.
 */
#ifndef CODEC_TESTUTIL_H
#define CODEC_TESTUTIL_H

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

#endif
