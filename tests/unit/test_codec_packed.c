/*
 * Unit tests of packed push arrays (sync_json_parse_packed and its reading in
 * sync_changeset_from_json): for every request body, valid or not, the packed
 * parse and cJSON_ParseWithLength agree on whether it is JSON, on every other
 * member, and the push decodes to the same change set or fails with the same
 * code and message. Bodies: hand-written edge cases (escapes, surrogates,
 * numbers, spaces, duplicate keys, trailing bytes), the fuzz corpus of the
 * decoder, the writer's text of random change sets, and thousands of random
 * mutations of them (bytes flipped, dropped, repeated, spliced).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <math.h>

#include "sync.h"

#include "codec_testutil.h"

static size_t packed_seen;

/* CODEC_PACKED_SCALE=N runs N times the mutations (a longer search by hand). */
static int scale(void)
{
	const char *v = getenv("CODEC_PACKED_SCALE");
	long n = v ? strtol(v, NULL, 10) : 1;

	return n >= 1 && n <= 100000 ? (int)n : 1;
}

static void assert_same_cs(const struct sync_changeset *x, const struct sync_changeset *y)
{
	assert_int_equal(x->nrows, y->nrows);
	assert_int_equal(x->nfields, y->nfields);
	for (size_t i = 0; i < x->nrows; i++)
		assert_same_row(&x->rows[i], &y->rows[i]);
}

/* Prints a member for comparison (NULL-safe, malloc()ed). */
static char *print(const cJSON *x)
{
	char *t = x ? cJSON_PrintUnformatted(x) : NULL;

	return t ? t : strdup("<none>");
}

/* The packed parse of body agrees with cJSON's in every way that counts. */
static void check_body(const char *body, size_t n)
{
	struct sync_json_arena *arena = NULL;
	cJSON *a = cJSON_ParseWithLength(body, n);
	cJSON *b = sync_json_parse_packed(body, n, "push", &arena);
	const cJSON *pa, *pb, *xa, *xb;

	assert_int_equal(a == NULL, b == NULL);
	if (!a) {
		assert_null(arena);
		return;
	}
	assert_int_equal(a->type, b->type);
	assert_int_equal(cJSON_GetArraySize(a), cJSON_GetArraySize(b));
	/* every member but the push, in order, the same */
	for (xa = a->child, xb = b->child; xa && xb; xa = xa->next, xb = xb->next) {
		char *ta, *tb;

		assert_true((xa->string == NULL) == (xb->string == NULL));
		if (xa->string)
			assert_string_equal(xa->string, xb->string);
		ta = print(xa);
		tb = print(xb);
		assert_string_equal(ta, tb);
		free(ta);
		free(tb);
	}
	assert_true(xa == NULL && xb == NULL);
	pa = cJSON_IsObject(a) ? cJSON_GetObjectItemCaseSensitive(a, "push") : NULL;
	pb = cJSON_IsObject(b) ? cJSON_GetObjectItemCaseSensitive(b, "push") : NULL;
	assert_int_equal(pa == NULL, pb == NULL);
	if (pa) {
		struct sync_changeset ca, cb;
		struct crm_error ea, eb;
		enum crm_err ra, rb;

		assert_int_equal(cJSON_IsArray(pa), cJSON_IsArray(pb));
		assert_int_equal(cJSON_IsNull(pa), cJSON_IsNull(pb));
		assert_int_equal(cJSON_GetArraySize(pa), cJSON_GetArraySize(pb));
		if (pb->type & cJSON_IsReference) {
			assert_true(cJSON_IsArray(pb));
			assert_non_null(arena);
			packed_seen++;
		}
		crm_error_clear(&ea);
		crm_error_clear(&eb);
		ra = sync_changeset_from_json(pa, NULL, &ca, &ea);
		rb = sync_changeset_from_json(pb, NULL, &cb, &eb);
		assert_int_equal(ra, rb);
		if (ra != CRM_OK)
			assert_string_equal(ea.msg, eb.msg);
		assert_same_cs(&ca, &cb);
		sync_changeset_release(&ca);
		sync_changeset_release(&cb);
	}
	cJSON_Delete(a);
	cJSON_Delete(b);
	sync_json_arena_free(arena);
}

/* The body of a request pushing cs_text, and random mutations of it. */
static void check_push(const char *cs_text, unsigned *st, int mutations)
{
	size_t n = strlen(cs_text) + 200;
	char *body = malloc(n), *m = malloc(n * 2 + 16);
	int len;

	assert_non_null(body);
	assert_non_null(m);
	len = snprintf(body, n, "{\"protocol\":3,\"schema\":9,\"site\":\"" SA "\",\"more_push\":true,\"push\":%s,\"batch\":\"b1\"}",
		       cs_text);
	assert_true(len > 0 && (size_t)len < n);
	check_body(body, (size_t)len);
	mutations *= scale();
	for (int i = 0; i < mutations; i++) {
		size_t ml = (size_t)len, at;
		unsigned kind;

		memcpy(m, body, ml);
		for (int k = 0; k < 1 + (int)(*st % 3); k++) {
			*st = *st * 1103515245u + 12345u;
			at = (size_t)((*st >> 8) % ml);
			kind = (*st >> 4) % 6;
			if (kind == 0) { /* a byte replaced by one that matters to JSON */
				static const char pick[] = "\"\\{}[],:0123456789-+.eEtfnul \t\n\x01\x7f\xc3\xa9u";

				m[at] = pick[(*st >> 12) % (sizeof pick - 1)];
			} else if (kind == 1 && ml > 1) { /* a byte dropped */
				memmove(m + at, m + at + 1, ml - at - 1);
				ml--;
			} else if (kind == 2) { /* a byte repeated */
				memmove(m + at + 1, m + at, ml - at);
				ml++;
			} else if (kind == 3) { /* random byte */
				m[at] = (char)(*st >> 16);
			} else if (kind == 4) { /* an escape spliced in */
				static const char *const esc[] = {"\\u0041", "\\ud83d\\ude00", "\\ud83d", "\\u0000",
								  "\\n", "\\/", "\\x", "\\uDC00", "\\u00e9", "\\\""};
				const char *e = esc[(*st >> 12) % 10];
				size_t el = strlen(e);

				if (ml + el < n * 2) {
					memmove(m + at + el, m + at, ml - at);
					memcpy(m + at, e, el);
					ml += el;
				}
			} else { /* a number spliced in */
				static const char *const num[] = {"1e400", "-0", "01", "1.", ".5", "1e", "-",
								  "9007199254740993", "123456789012345678901234567890123456789012345678901234567890123456789", "2.5E-3"};
				const char *e = num[(*st >> 12) % 10];
				size_t el = strlen(e);

				if (ml + el < n * 2) {
					memmove(m + at + el, m + at, ml - at);
					memcpy(m + at, e, el);
					ml += el;
				}
			}
		}
		check_body(m, ml);
	}
	free(body);
	free(m);
}

static const char *const cases[] = {
	"[]",
	"[{\"t\":\"customers\",\"id\":\"c1\",\"h\":\"5\",\"s\":\"" SA "\",\"f\":[[\"name\",\"x\"]]}]",
	"[ { \"t\" : \"customers\" , \"id\":\"c1\",\"h\":\"5\",\"s\":\"" SA "\",\"f\":[[\"name\",\"a\\u00e9\\ud83d\\ude00\\n\\\"\\/\"]] } ]",
	"[{\"t\":\"customers\",\"id\":\"c1\",\"h\":\"5\",\"s\":\"" SA "\",\"f\":[[\"amount\",12],[\"lat\",{\"r\":1.5e2}],[\"n\",null],[\"i\",{\"i\":\"-9223372036854775808\"}]]}]",
	"[{\"t\":\"customers\",\"id\":\"c1\",\"h\":\"5\",\"s\":\"" SA "\",\"f\":[[\"amount\",1.5]]}]",
	"[{\"t\":\"customers\",\"id\":\"c1\",\"h\":\"5\",\"s\":\"" SA "\",\"t\":\"x\",\"f\":[[\"name\",\"x\"]]}]",
	"[{\"t\":\"customers\",\"id\":\"c1\",\"h\":\"5\",\"s\":\"" SA "\",\"zz\":1,\"f\":[[\"name\",\"x\"]]}]",
	"[{\"t\":\"customers\",\"c\":[\"name\",\"amount\"],\"r\":[[\"c1\",\"5\",\"" SA "\",\"x\",1],[\"c2\",\"6\",\"" SB "\",null,2]]}]",
	"[{\"t\":\"customers\",\"c\":[\"name\",\"name\"],\"r\":[[\"c1\",\"5\",\"" SA "\",\"x\",1]]}]",
	"[{\"t\":\"customers\",\"c\":[\"name\"],\"r\":[[\"c1\",\"5\",\"" SA "\",\"x\",1]]}]",
	"[{\"t\":\"customers\",\"c\":[\"name\"],\"r\":[[\"c1\",\"0\",\"" SA "\",\"x\"]]}]",
	"[{\"t\":\"customers\",\"id\":\"c1\",\"h\":\"5\",\"s\":\"" SA "\",\"f\":[[\"name\",\"\\ud800\"]]}]",
	"[{\"t\":\"customers\",\"id\":\"c1\",\"h\":\"5\",\"s\":\"" SA "\",\"f\":[[\"name\",\"\\u0000x\"]]}]",
	"[{\"t\":\"customers\",\"id\":\"c1\",\"h\":\"5\",\"s\":\"" SA "\",\"f\":[[\"name\",\"\\uzzzz\"]]}]",
	"[{\"t\":\"customers\",\"id\":\"c1\",\"h\":\"5\",\"s\":\"" SA "\",\"f\":[[\"name\",\"tab\there\"]]}]",
	"[1,2,3]", "[null]", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	"{\"a\":1}", "\"push\"", "null", "[\"x\"]",
};

static void test_cases(void **state)
{
	unsigned st = 7;

	(void)state;
	packed_seen = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_push(cases[i], &st, 300);
	/* the valid bodies were packed: the fast path is what was compared */
	assert_true(packed_seen > 100);
}

/* Whole bodies around the push: duplicates, escaped keys, spaces, trailing bytes. */
static void test_bodies(void **state)
{
	static const char *const bodies[] = {
		"{\"push\":[{\"t\":\"customers\",\"id\":\"c1\",\"h\":\"5\",\"s\":\"" SA "\",\"f\":[[\"name\",\"x\"]]}]}",
		"  {\"push\" :\t[1,2]\n}\r\n",
		"{\"push\":[1],\"push\":[2,3]}",
		"{\"push\":null,\"push\":[2,3]}",
		"{\"pu\\u0073h\":[1],\"push\":[2,3]}",
		"{\"push\":[1]} trailing",
		"{\"push\":[1]}\x01",
		"\xef\xbb\xbf{\"push\":[1]}",
		"{\"push\":[1],}",
		"{\"push\":[1,]}",
		"{\"push\":[]}",
		"{\"push\":{\"a\":1}}",
		"{\"a\":{\"push\":[1]},\"b\":true,\"c\":false,\"d\":-1.5e3}",
		"{\"push\":[1]",
		"{\"push\":[\"\x01\"]}",
		"{}",
		"[]",
		"",
		"{\"push\":[1],\"x\":01}",
		"{\"x\":\"\\u0000\",\"push\":[7]}",
		"{\"protocol\":1,\"push\":[{\"a\":[true,false,null,-0.5e-3,\"\\u00e9\"]}],\"more\":{\"x\":[]}}",
		"{\"x\":[{},[]],\"push\":[[],{}]}",
	};

	(void)state;
	packed_seen = 0;
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
		check_body(bodies[i], strlen(bodies[i]));
	assert_true(packed_seen == 5);
}

static unsigned rnd(unsigned *st)
{
	*st = *st * 1103515245u + 12345u;
	return (*st >> 8) & 0xffffff;
}

/* The writer's text of random change sets (rows and blocks), mutated. */
static void test_written(void **state)
{
	static const char *const texts[] = {"", "a", "深圳", "tab\there", "\x01\x1f", "q\"b\\s/"};
	unsigned st = 99;

	(void)state;
	packed_seen = 0;
	for (int iter = 0; iter < 40; iter++) {
		struct sync_changeset cs;
		struct crm_buf b;
		size_t nrows = 1 + rnd(&st) % 12;
		bool blocks = rnd(&st) % 2;

		sync_changeset_init(&cs);
		for (size_t i = 0; i < nrows; i++) {
			char id[32];
			struct sync_row *row;

			snprintf(id, sizeof id, "id%zu", i);
			row = sync_changeset_add_row(&cs, "customers", id);
			assert_non_null(row);
			for (size_t k = 0; k < 4; k++) {
				static const char *const cols[] = {"name", "amount", "lat", "notes"};
				struct sync_field f;

				memset(&f, 0, sizeof f);
				f.col = (char *)(uintptr_t)cols[k];
				f.hlc = 1000 + i;
				snprintf(f.site, sizeof f.site, "%s", rnd(&st) % 2 ? SA : SB);
				if (!blocks && rnd(&st) % 3 == 0) {
					f.base_hlc = 5;
					snprintf(f.base_site, sizeof f.base_site, "%s", SB);
				}
				if (k == 1) {
					f.v.type = SYNC_INT;
					f.v.i = (int64_t)((uint64_t)rnd(&st) * rnd(&st) * rnd(&st));
				} else if (k == 2) {
					f.v.type = SYNC_REAL;
					f.v.r = (double)rnd(&st) / 3.0;
				} else {
					f.v.type = SYNC_TEXT;
					f.v.s = (char *)(uintptr_t)texts[rnd(&st) % 6];
				}
				if (blocks)
					snprintf(f.site, sizeof f.site, "%s", SA);
				assert_int_equal(sync_row_add_field(&cs, row, &f), CRM_OK);
			}
		}
		crm_buf_init(&b, SIZE_MAX);
		assert_int_equal(sync_changeset_write_json(&cs, &b), CRM_OK);
		check_push(b.data, &st, 60);
		crm_buf_release(&b);
		sync_changeset_release(&cs);
	}
	assert_true(packed_seen > 40);
}

/* The decoder's fuzz corpus (found next to this file), each mutated. */
static void test_corpus(void **state)
{
	char dir[1024];
	const char *slash = strrchr(__FILE__, '/');
	DIR *d;
	struct dirent *e;
	unsigned st = 3;
	int files = 0;

	(void)state;
	if (!slash || (size_t)(slash - __FILE__) + 40 > sizeof dir)
		skip();
	snprintf(dir, sizeof dir, "%.*s/../fuzz/corpus/changeset", (int)(slash - __FILE__), __FILE__);
	d = opendir(dir);
	if (!d)
		skip();
	while ((e = readdir(d)) != NULL) {
		char path[1400], *text;
		FILE *f;
		long len;

		if (e->d_name[0] == '.' || strncmp(e->d_name, "zlib", 4) == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		assert_int_equal(fseek(f, 0, SEEK_END), 0);
		len = ftell(f);
		assert_true(len >= 0 && len < 1000000);
		rewind(f);
		text = calloc(1, (size_t)len + 1);
		assert_non_null(text);
		assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
		fclose(f);
		check_push(text, &st, 200);
		free(text);
		files++;
	}
	closedir(d);
	assert_true(files > 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_written),
		cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
