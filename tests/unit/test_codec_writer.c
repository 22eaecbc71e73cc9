/*
 * Unit tests of the direct change-set writer (sync_changeset_write_json) and
 * of sync_row_take_field: the writer's text is byte for byte the text of the
 * cJSON encoder (cJSON_PrintUnformatted(sync_changeset_to_json())) for every
 * value type, every escape, rows with their own versions and bases, blocks,
 * runs too short for a block, empty rows and empty sets, and on many random
 * change sets; it reads back into the same change set; it stops with
 * CRM_ETOOBIG at its buffer's cap; as a raw node it prints the same inside a
 * larger object; a taken text value is owned by the set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "sync.h"

#include "codec_testutil.h"

/* The old encoder's text (malloc()ed). */
static char *old_text(const struct sync_changeset *cs)
{
	cJSON *j = sync_changeset_to_json(cs);
	char *t;

	assert_non_null(j);
	t = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	assert_non_null(t);
	return t;
}

static void assert_same(const struct sync_changeset *a_cs, const struct sync_changeset *b_cs)
{
	size_t ia = 0;

	/* the encoders drop rows without fields */
	for (size_t i = 0; i < a_cs->nrows; i++) {
		const struct sync_row *ra = &a_cs->rows[i], *rb;

		if (ra->nfields == 0)
			continue;
		assert_true(ia < b_cs->nrows);
		rb = &b_cs->rows[ia++];
		assert_same_row(ra, rb);
	}
	assert_int_equal(ia, b_cs->nrows);
}

/* The writer's text equals the old encoder's, and decodes back to cs. */
static void check_equal(const struct sync_changeset *cs)
{
	struct crm_buf b;
	struct sync_changeset back;
	struct crm_error err;
	char *want = old_text(cs);
	cJSON *p;

	crm_buf_init(&b, SIZE_MAX);
	assert_int_equal(sync_changeset_write_json(cs, &b), CRM_OK);
	if (strcmp(want, b.data) != 0)
		fprintf(stderr, "old: %s\nnew: %s\n", want, b.data);
	assert_string_equal(want, b.data);
	assert_int_equal(strlen(b.data), b.len);
	{
		/* inside a response object, the raw node prints as the tree would */
		cJSON *o1 = cJSON_CreateObject(), *o2 = cJSON_CreateObject();
		char *t1, *t2;

		assert_non_null(o1);
		assert_non_null(o2);
		assert_non_null(cJSON_AddStringToObject(o1, "k", "v"));
		assert_non_null(cJSON_AddStringToObject(o2, "k", "v"));
		assert_true(cJSON_AddItemToObject(o1, "changes", sync_changeset_to_json(cs)));
		assert_true(cJSON_AddItemToObject(o2, "changes", sync_changeset_to_json_raw(cs)));
		t1 = cJSON_PrintUnformatted(o1);
		t2 = cJSON_PrintUnformatted(o2);
		assert_non_null(t1);
		assert_non_null(t2);
		assert_string_equal(t1, t2);
		free(t1);
		free(t2);
		cJSON_Delete(o1);
		cJSON_Delete(o2);
	}
	p = cJSON_ParseWithLength(b.data, b.len);
	assert_non_null(p);
	assert_int_equal(sync_changeset_from_json(p, NULL, &back, &err), CRM_OK);
	assert_same(cs, &back);
	cJSON_Delete(p);
	sync_changeset_release(&back);
	free(want);
	crm_buf_release(&b);
}

static void test_every_value(void **state)
{
	struct sync_changeset cs;
	struct sync_row *row;
	sync_hlc h = ((sync_hlc)1772352000000ULL << 16) | 7;
	char ctl[64];
	size_t k = 0;

	(void)state;
	/* every byte below 0x20 (short escapes and \u00xx), quote, backslash, DEL */
	for (int c = 1; c < 32; c++)
		ctl[k++] = (char)c;
	ctl[k++] = '"';
	ctl[k++] = '\\';
	ctl[k++] = 0x7f;
	ctl[k++] = '/';
	ctl[k] = '\0';
	sync_changeset_init(&cs);
	row = sync_changeset_add_row(&cs, "customers", "0190c3e2-aaaa-7000-8000-000000000001");
	addf(&cs, row, "name", vtext("深圳市华信科技有限公司"), h, SA, 0, "");
	addf(&cs, row, "phone", vtext(""), h, SA, 0, "");
	addf(&cs, row, "ctl", vtext(ctl), h, SA, 0, "");
	addf(&cs, row, "emoji", vtext("a😀b é"), h, SA, 0, "");
	addf(&cs, row, "amount", vint(INT64_MAX), h, SA, 0, "");
	addf(&cs, row, "a2", vint(INT64_MIN), h, SA, 0, "");
	addf(&cs, row, "a3", vint(9007199254740993LL), h + 1, SB, 0, "");
	addf(&cs, row, "a4", vint(-42), h, SA, h - 5, SB);
	addf(&cs, row, "a5", vint(5052524885106169LL), h, SA, 0, "");
	addf(&cs, row, "a6", vint(-9007199254740992LL), h, SA, 0, "");
	addf(&cs, row, "a6b", vint(-9007199254740993LL), h, SA, 0, "");
	addf(&cs, row, "a7", vint(9007199254740992LL), h, SA, 0, "");
	addf(&cs, row, "a8", vint(0), h, SA, 0, "");
	addf(&cs, row, "lat", vreal(1.0), h, SA, 0, "");
	addf(&cs, row, "r2", vreal(0.1), h, SA, 0, "");
	addf(&cs, row, "r3", vreal(INFINITY), h, SA, 0, "");
	addf(&cs, row, "r4", vreal(-INFINITY), h, SA, 0, "");
	addf(&cs, row, "r5", vreal(NAN), h, SA, 0, "");
	addf(&cs, row, "r6", vreal(-0.0), h, SA, 0, "");
	addf(&cs, row, "r7", vreal(5e-324), h, SA, 0, "");
	addf(&cs, row, "r8", vreal(1.7976931348623157e308), h, SA, 0, "");
	addf(&cs, row, "r9", vreal(0.1 + 0.2), h, SA, 0, "");
	addf(&cs, row, "notes", vnull(), h, SA, 0, "");
	addf(&cs, row, "q", vtext("quote \" back \\ nl \n"), UINT64_MAX, SB, UINT64_MAX - 1, SA);
	addf(&cs, row, "z", vtext("zero version"), 0, "", 0, "");
	/* a row whose default has a base */
	row = sync_changeset_add_row(&cs, "notes_t", "n\"1\n");
	addf(&cs, row, "body", vtext("x"), h, SB, h - 1, SA);
	addf(&cs, row, "b2", vint(3), h, SB, h - 1, SA);
	addf(&cs, row, "b3", vint(4), h, SB, 0, "");
	/* a row without fields is left out */
	sync_changeset_add_row(&cs, "notes_t", "empty");
	check_equal(&cs);
	sync_changeset_release(&cs);
}

static void test_empty(void **state)
{
	struct sync_changeset cs;
	struct crm_buf b;

	(void)state;
	sync_changeset_init(&cs);
	check_equal(&cs);
	crm_buf_init(&b, 100);
	assert_int_equal(sync_changeset_write_json(&cs, &b), CRM_OK);
	assert_string_equal(b.data, "[]");
	crm_buf_release(&b);
	sync_changeset_add_row(&cs, "customers", "c1");
	check_equal(&cs);
	sync_changeset_release(&cs);
}

/* Adds n new rows of one shape (blockable), row ids from base. */
static void add_new_rows(struct sync_changeset *cs, const char *table, size_t n, int base,
			 sync_hlc h, const char *site)
{
	char id[32], nm[32];

	for (size_t i = 0; i < n; i++) {
		struct sync_row *row;

		snprintf(id, sizeof id, "r%d", base + (int)i);
		snprintf(nm, sizeof nm, "name \"%zu\"", i);
		row = sync_changeset_add_row(cs, table, id);
		assert_non_null(row);
		addf(cs, row, "name", vtext(nm), h + i, site, 0, "");
		addf(cs, row, "amount", i % 2 ? vint((int64_t)i * 1000003) : vnull(), h + i, site, 0, "");
		addf(cs, row, "lat", vreal((double)i / 7.0), h + i, site, 0, "");
		addf(cs, row, "big", vint(INT64_MIN + (int64_t)i), h + i, site, 0, "");
	}
}

static void test_blocks(void **state)
{
	struct sync_changeset cs;
	struct sync_row *row;
	struct crm_buf b;
	sync_hlc h = 1000;

	(void)state;
	sync_changeset_init(&cs);
	add_new_rows(&cs, "customers", 3, 0, h, SA);        /* too short: rows */
	add_new_rows(&cs, "notes_t", 4, 10, h, SB);         /* exactly a block */
	add_new_rows(&cs, "customers", 50, 100, h, SA);     /* a long block */
	row = sync_changeset_add_row(&cs, "customers", "edited");
	addf(&cs, row, "name", vtext("e"), h, SA, h - 1, SB); /* a base: not blockable */
	add_new_rows(&cs, "customers", 5, 200, h, SA);
	check_equal(&cs);
	/* a block is really there, and rows around it */
	crm_buf_init(&b, SIZE_MAX);
	assert_int_equal(sync_changeset_write_json(&cs, &b), CRM_OK);
	assert_non_null(strstr(b.data, "{\"t\":\"notes_t\",\"c\":[\"name\",\"amount\",\"lat\",\"big\"],\"r\":[[\"r10\",\"1000\",\"" SB "\",\"name \\\"0\\\"\",null,{\"r\":0},{\"i\":\"-9223372036854775808\"}],"));
	assert_non_null(strstr(b.data, "[{\"t\":\"customers\",\"id\":\"r0\",\"h\":\"1000\",\"s\":\"" SA "\",\"f\":[[\"name\",\"name \\\"0\\\"\"],"));
	crm_buf_release(&b);
	sync_changeset_release(&cs);
}

static unsigned rnd(unsigned *st)
{
	*st = *st * 1103515245u + 12345u;
	return (*st >> 8) & 0xffffff;
}

/* Many random change sets: the two encoders agree on every one. */
static void test_random(void **state)
{
	static const char *const tables[] = {"customers", "notes_t", "t\"x"};
	static const char *const cols[] = {"name", "phone", "amount", "lat", "notes", "c\\5", "deleted"};
	static const char *const texts[] = {"", "a", "深圳", "tab\there", "\x01\x1f", "long text of a note, with, commas"};
	static const char *const sites[] = {SA, SB};
	unsigned st = 12345;

	(void)state;
	for (int iter = 0; iter < 300; iter++) {
		struct sync_changeset cs;
		size_t nrows = rnd(&st) % 30;

		sync_changeset_init(&cs);
		for (size_t i = 0; i < nrows; i++) {
			char id[32];
			struct sync_row *row;
			size_t nf = rnd(&st) % 5;
			bool shaped = rnd(&st) % 2;
			sync_hlc h = rnd(&st) % 4 ? 1 + rnd(&st) % 1000 : 0;
			const char *site = h ? sites[rnd(&st) % 2] : "";

			snprintf(id, sizeof id, "id%zu", i);
			row = sync_changeset_add_row(&cs, shaped ? "customers" : tables[rnd(&st) % 3], id);
			assert_non_null(row);
			for (size_t k = 0; k < nf; k++) {
				struct sync_value v;
				unsigned kind = rnd(&st) % 5;
				sync_hlc fh = h, bh = 0;
				const char *fs = site, *bsite = "";

				if (kind == 0)
					v = vnull();
				else if (kind == 1)
					v = vint((int64_t)((uint64_t)rnd(&st) * rnd(&st) * rnd(&st) * 257u));
				else if (kind == 2)
					v = vreal((double)rnd(&st) / ((double)rnd(&st) + 1.0));
				else
					v = vtext(texts[rnd(&st) % 6]);
				if (!shaped && rnd(&st) % 3 == 0) {
					fh = rnd(&st) % 1000;
					fs = fh ? sites[rnd(&st) % 2] : "";
				}
				if (!shaped && rnd(&st) % 3 == 0) {
					bh = rnd(&st) % 1000;
					bsite = bh ? sites[rnd(&st) % 2] : "";
				}
				addf(&cs, row, shaped ? cols[k] : cols[rnd(&st) % 7], v, fh, fs, bh, bsite);
				if (!shaped) /* two fields of one column: decode refuses them; keep one */
					for (size_t q = 0; q + 1 < row->nfields; q++)
						if (strcmp(row->fields[q].col, row->fields[row->nfields - 1].col) == 0) {
							struct sync_field *f = &row->fields[row->nfields - 1];

							free(f->col);
							if (f->v.type == SYNC_TEXT)
								free(f->v.s);
							row->nfields--;
							cs.nfields--;
							break;
						}
			}
		}
		check_equal(&cs);
		sync_changeset_release(&cs);
	}
}

/* The writer stops at the buffer's cap, exactly where the text would pass it. */
static void test_cap(void **state)
{
	struct sync_changeset cs;
	struct crm_buf b;
	char *want;
	size_t len;

	(void)state;
	sync_changeset_init(&cs);
	add_new_rows(&cs, "customers", 40, 0, 77, SA);
	want = old_text(&cs);
	len = strlen(want);
	crm_buf_init(&b, len - 1);
	assert_int_equal(sync_changeset_write_json(&cs, &b), CRM_ETOOBIG);
	crm_buf_release(&b);
	crm_buf_init(&b, len);
	assert_int_equal(sync_changeset_write_json(&cs, &b), CRM_OK);
	assert_string_equal(b.data, want);
	crm_buf_release(&b);
	/* appended after what the buffer held */
	crm_buf_init(&b, SIZE_MAX);
	assert_int_equal(crm_buf_addstr(&b, "{\"push\":"), CRM_OK);
	assert_int_equal(sync_changeset_write_json(&cs, &b), CRM_OK);
	assert_int_equal(strncmp(b.data, "{\"push\":", 8), 0);
	assert_string_equal(b.data + 8, want);
	crm_buf_release(&b);
	free(want);
	sync_changeset_release(&cs);
}

/* A taken text value belongs to the set (ASan would see a leak or a double free). */
static void test_take_field(void **state)
{
	struct sync_changeset cs;
	struct sync_row *row;
	struct sync_field f;

	(void)state;
	sync_changeset_init(&cs);
	row = sync_changeset_add_row(&cs, "customers", "c1");
	for (int i = 0; i < 20; i++) {
		char col[16];

		memset(&f, 0, sizeof f);
		snprintf(col, sizeof col, "c%d", i);
		f.col = col;
		f.v.type = SYNC_TEXT;
		f.v.s = strdup("owned");
		assert_non_null(f.v.s);
		f.hlc = 9;
		snprintf(f.site, sizeof f.site, "%s", SA);
		assert_int_equal(sync_row_take_field(&cs, row, &f), CRM_OK);
		assert_null(f.v.s);
	}
	memset(&f, 0, sizeof f);
	f.col = (char *)(uintptr_t)"n";
	f.v.type = SYNC_TEXT; /* NULL text reads as "" */
	assert_int_equal(sync_row_take_field(&cs, row, &f), CRM_OK);
	memset(&f, 0, sizeof f);
	f.col = (char *)(uintptr_t)"i";
	f.v = vint(5);
	assert_int_equal(sync_row_take_field(&cs, row, &f), CRM_OK);
	assert_int_equal(row->nfields, 22);
	assert_int_equal(cs.nfields, 22);
	assert_string_equal(row->fields[19].col, "c19");
	assert_string_equal(row->fields[19].v.s, "owned");
	assert_string_equal(row->fields[20].v.s, "");
	assert_null(row->fields[21].v.s);
	assert_true(row->fields[21].v.i == 5);
	sync_changeset_release(&cs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_value),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_take_field),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
