/*
 * Unit tests of the wire codec: a round trip keeps every value type and
 * version exactly (64-bit integers, reals that look whole, non-finite reals,
 * Chinese text), the row default keeps fields compact, every malformed shape
 * is refused with CRM_EFORMAT and an empty result, and with a database each
 * value is checked against its column's declared type.
 */
#include "sync_testutil.h"

#include <math.h>

#include "codec_testutil.h"

/* a and b hold the same rows, fields, versions and values, in the same order. */
static void assert_same(const struct sync_changeset *cs_a, const struct sync_changeset *cs_b)
{
	assert_int_equal(cs_b->nrows, cs_a->nrows);
	assert_int_equal(cs_b->nfields, cs_a->nfields);
	for (size_t i = 0; i < cs_a->nrows; i++)
		assert_same_row(&cs_a->rows[i], &cs_b->rows[i]);
}

static void test_round_trip(void **state)
{
	struct sync_changeset cs, back;
	struct sync_row *row;
	struct crm_error err;
	struct sync_value vnull = {SYNC_NULL, 0, 0, NULL};
	sync_hlc h = ((sync_hlc)1772352000000ULL << 16) | 7;
	cJSON *j, *p;
	char *text;

	(void)state;
	sync_changeset_init(&cs);
	row = sync_changeset_add_row(&cs, "customers", "0190c3e2-aaaa-7000-8000-000000000001");
	addf(&cs, row, "name", vtext("深圳市华信科技有限公司"), h, SA, 0, "");
	addf(&cs, row, "phone", vtext(""), h, SA, 0, "");
	addf(&cs, row, "amount", vint(INT64_MAX), h, SA, 0, "");
	addf(&cs, row, "a2", vint(INT64_MIN), h, SA, 0, "");
	addf(&cs, row, "a3", vint(9007199254740993LL), h + 1, SB, 0, "");
	addf(&cs, row, "a4", vint(-42), h, SA, h - 5, SB);
	addf(&cs, row, "a5", vint(5052524885106169LL), h, SA, 0, ""); /* 16 digits, under 2^53 */
	addf(&cs, row, "a6", vint(-9007199254740991LL), h, SA, 0, "");
	addf(&cs, row, "a7", vint(9007199254740992LL), h, SA, 0, "");
	addf(&cs, row, "lat", vreal(1.0), h, SA, 0, "");
	addf(&cs, row, "r2", vreal(0.1), h, SA, 0, "");
	addf(&cs, row, "r3", vreal(INFINITY), h, SA, 0, "");
	addf(&cs, row, "r4", vreal(-INFINITY), h, SA, 0, "");
	addf(&cs, row, "r5", vreal(NAN), h, SA, 0, "");
	addf(&cs, row, "notes", vnull, h, SA, 0, "");
	addf(&cs, row, "q", vtext("quote \" back \\ nl \n"), UINT64_MAX, SB, UINT64_MAX - 1, SA);
	row = sync_changeset_add_row(&cs, "notes_t", "n1");
	addf(&cs, row, "body", vtext("x"), h, SB, h - 1, SA);
	j = sync_changeset_to_json(&cs);
	assert_non_null(j);
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	/* fields at the row's version are just [col, value] */
	assert_non_null(strstr(text, "[\"phone\",\"\"]"));
	assert_non_null(strstr(text, "\"h\":\"116152860672000007\""));
	p = cJSON_Parse(text);
	assert_int_equal(sync_changeset_from_json(p, NULL, &back, &err), CRM_OK);
	cJSON_Delete(p);
	free(text);
	assert_int_equal(back.nrows, 2);
	assert_same(&cs, &back);
	sync_changeset_release(&back);
	sync_changeset_release(&cs);
}

/* Every double survives the wire bit for bit (replicas compare values exactly). */
static void test_reals_exact(void **state)
{
	struct sync_changeset cs, back;
	struct sync_row *row;
	unsigned st = 99;
	double special[] = {0.1 + 0.2, 1.0 / 3.0, 37.654321987654321, -0.0, 5e-324, 1.7976931348623157e308,
			    2.2250738585072014e-308, 123456789012345678.0, 0x1.2d3cd42b65dcbp+5};
	size_t nspecial = sizeof special / sizeof special[0];
	char name[32];

	(void)state;
	sync_changeset_init(&cs);
	row = sync_changeset_add_row(&cs, "customers", "c1");
	for (size_t i = 0; i < 2000; i++) {
		double r;

		if (i < nspecial) {
			r = special[i];
		} else {
			uint64_t bits = 0;

			for (int k = 0; k < 4; k++) {
				st = st * 1103515245u + 12345u;
				bits = (bits << 16) | ((st >> 8) & 0xffff);
			}
			memcpy(&r, &bits, sizeof r);
			if (!isfinite(r))
				r = (double)bits;
		}
		snprintf(name, sizeof name, "c%zu", i);
		addf(&cs, row, name, vreal(r), 5, SA, 0, "");
	}
	tu_wire(NULL, &cs, &back);
	assert_int_equal(back.nfields, cs.nfields);
	for (size_t i = 0; i < cs.rows[0].nfields; i++) {
		const struct sync_field *a = &cs.rows[0].fields[i], *b = &back.rows[0].fields[i];

		assert_int_equal(b->v.type, SYNC_REAL);
		assert_memory_equal(&a->v.r, &b->v.r, sizeof(double));
	}
	sync_changeset_release(&back);
	sync_changeset_release(&cs);
}

static enum crm_err decode(const char *text, struct sync_db *s, struct sync_changeset *out,
			   struct crm_error *err)
{
	cJSON *j = cJSON_Parse(text);
	enum crm_err rc;

	if (!j)
		return CRM_EFORMAT;
	rc = sync_changeset_from_json(j, s, out, err);
	cJSON_Delete(j);
	return rc;
}

#define ROW(extra) "[{\"t\":\"customers\",\"id\":\"c1\",\"h\":\"5\",\"s\":\"" SA "\"" extra "}]"

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"{}", "1", "\"x\"", "null", "[1]", "[[]]", "[{}]", "[null]",
		"[{\"id\":\"c1\",\"h\":\"5\",\"s\":\"" SA "\",\"f\":[[\"name\",\"x\"]]}]",
		"[{\"t\":1,\"id\":\"c1\",\"h\":\"5\",\"s\":\"" SA "\",\"f\":[[\"name\",\"x\"]]}]",
		"[{\"t\":\"\",\"id\":\"c1\",\"h\":\"5\",\"s\":\"" SA "\",\"f\":[[\"name\",\"x\"]]}]",
		"[{\"t\":\"customers\",\"h\":\"5\",\"s\":\"" SA "\",\"f\":[[\"name\",\"x\"]]}]",
		"[{\"t\":\"customers\",\"id\":7,\"h\":\"5\",\"s\":\"" SA "\",\"f\":[[\"name\",\"x\"]]}]",
		"[{\"t\":\"customers\",\"id\":\"c1\",\"h\":5,\"s\":\"" SA "\",\"f\":[[\"name\",\"x\"]]}]",
		"[{\"t\":\"customers\",\"id\":\"c1\",\"h\":\"-5\",\"s\":\"" SA "\",\"f\":[[\"name\",\"x\"]]}]",
		"[{\"t\":\"customers\",\"id\":\"c1\",\"h\":\"99999999999999999999\",\"s\":\"" SA "\",\"f\":[[\"name\",\"x\"]]}]",
		"[{\"t\":\"customers\",\"id\":\"c1\",\"h\":\"5\",\"s\":\"not-a-site\",\"f\":[[\"name\",\"x\"]]}]",
		"[{\"t\":\"customers\",\"id\":\"c1\",\"h\":\"5\",\"f\":[[\"name\",\"x\"]]}]",
		ROW(""), ROW(",\"f\":[]"), ROW(",\"f\":{}"), ROW(",\"f\":[1]"), ROW(",\"f\":[[]]"),
		ROW(",\"f\":[[\"name\"]]"), ROW(",\"f\":[[\"name\",\"x\",\"6\"]]"),
		ROW(",\"f\":[[\"name\",\"x\",\"6\",\"" SB "\",\"1\"]]"),
		ROW(",\"f\":[[\"name\",\"x\",\"6\",\"" SB "\",\"1\",\"" SA "\",1]]"),
		ROW(",\"f\":[[1,\"x\"]]"), ROW(",\"f\":[[\"\",\"x\"]]"),
		ROW(",\"f\":[[\"name\",\"x\",6,\"" SB "\"]]"),
		ROW(",\"f\":[[\"name\",\"x\",\"6\",\"zz\"]]"),
		ROW(",\"f\":[[\"name\",\"x\",\"6\",\"" SB "\",\"0\",\"" SA "\"]]"),
		ROW(",\"f\":[[\"name\",true]]"), ROW(",\"f\":[[\"name\",[1]]]"),
		ROW(",\"f\":[[\"name\",{}]]"), ROW(",\"f\":[[\"name\",{\"x\":1}]]"),
		ROW(",\"f\":[[\"name\",{\"i\":1}]]"), ROW(",\"f\":[[\"name\",{\"i\":\"1.5\"}]]"),
		ROW(",\"f\":[[\"name\",{\"i\":\"\"}]]"), ROW(",\"f\":[[\"name\",{\"i\":\"--1\"}]]"),
		ROW(",\"f\":[[\"name\",{\"i\":\"99999999999999999999\"}]]"),
		ROW(",\"f\":[[\"name\",{\"i\":\"1\",\"r\":1}]]"),
		ROW(",\"f\":[[\"name\",{\"r\":\"x\"}]]"), ROW(",\"f\":[[\"name\",{\"r\":null}]]"),
		ROW(",\"f\":[[\"name\",1.5]]"), ROW(",\"f\":[[\"name\",1e300]]"),
		ROW(",\"f\":[[\"name\",9007199254740994]]"),
		ROW(",\"f\":[[\"name\",\"x\"],[\"name\",\"y\"]]"),
		ROW(",\"f\":[[\"name\",\"x\"]],\"extra\":1"),
		ROW(",\"bh\":\"3\",\"f\":[[\"name\",\"x\"]]"),
		ROW(",\"bs\":\"" SB "\",\"f\":[[\"name\",\"x\"]]"),
		ROW(",\"bh\":\"0\",\"bs\":\"" SB "\",\"f\":[[\"name\",\"x\"]]"),
		ROW(",\"f\":[[\"name\",\"\xff\xfe\"]]"),
		ROW(",\"f\":[[\"name\",\"\xe4\xb8\"]]"),
	};
	struct crm_error err;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sync_changeset cs;
		enum crm_err rc;

		memset(&cs, 0x5a, sizeof cs);
		crm_error_clear(&err);
		rc = decode(bad[i], NULL, &cs, &err);
		if (rc != CRM_EFORMAT)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		assert_int_equal(rc, CRM_EFORMAT);
		if (err.code == CRM_EFORMAT) {
			/* the decoder itself refused it (not cJSON), with a message, leaving nothing */
			assert_int_equal(cs.nrows, 0);
			assert_null(cs.rows);
			assert_true(err.msg[0] != '\0');
		}
	}
	/* a few well-formed edge shapes are accepted */
	{
		static const char *const good[] = {
			ROW(",\"f\":[[\"name\",null]]"),
			ROW(",\"f\":[[\"amount\",-9007199254740992]]"),
			ROW(",\"f\":[[\"amount\",{\"i\":\"-9223372036854775808\"}]]"),
			ROW(",\"bh\":\"3\",\"bs\":\"" SB "\",\"f\":[[\"name\",\"x\"],[\"phone\",\"y\",\"9\",\"" SB "\"]]"),
			ROW(",\"f\":[[\"name\",\"x\",\"6\",\"" SB "\",\"0\",\"\"]]"),
			"[]",
		};

		for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
			struct sync_changeset cs;

			assert_int_equal(decode(good[i], NULL, &cs, &err), CRM_OK);
			sync_changeset_release(&cs);
		}
	}
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/*
 * Runs of new rows of one shape travel as blocks (columns named once); rows
 * with their own field versions or bases, short runs and other shapes stay
 * rows; everything comes back identical and in order.
 */
static void test_blocks(void **state)
{
	const sync_hlc h = (sync_hlc)1772323200000ULL << 16;
	const struct sync_value vnull = {SYNC_NULL, 0, 0, NULL};
	struct sync_changeset cs, back;
	struct crm_error err;
	char id[40];
	char *text;
	cJSON *j;

	(void)state;
	sync_changeset_init(&cs);
	for (int i = 0; i < 5; i++) {
		struct sync_row *row;

		snprintf(id, sizeof id, "c%d", i);
		row = sync_changeset_add_row(&cs, "customers", id);
		addf(&cs, row, "name", vtext(i == 2 ? "深圳市华信科技有限公司" : "Acme \"x\""), h + (sync_hlc)i, SA, 0, "");
		addf(&cs, row, "amount", i == 3 ? vint(INT64_MIN) : vint(i), h + (sync_hlc)i, SA, 0, "");
		addf(&cs, row, "lat", vreal(0.1 * i), h + (sync_hlc)i, SA, 0, "");
		addf(&cs, row, "notes", vnull, h + (sync_hlc)i, SA, 0, "");
	}
	{ /* an edit with a base: a row */
		struct sync_row *row = sync_changeset_add_row(&cs, "customers", "c0");

		addf(&cs, row, "name", vtext("edit"), h + 9, SB, h, SA);
	}
	for (int i = 0; i < 6; i++) { /* 2 rows of one shape (a row each), then 4 of another (a block) */
		struct sync_row *row;

		snprintf(id, sizeof id, "n%d", i);
		row = sync_changeset_add_row(&cs, "notes_t", id);
		addf(&cs, row, "body", vtext("b"), h + 20 + (sync_hlc)i, SB, 0, "");
		if (i >= 2)
			addf(&cs, row, "deleted", vint(0), h + 20 + (sync_hlc)i, SB, 0, "");
	}
	{ /* fields at two versions: a row */
		struct sync_row *row = sync_changeset_add_row(&cs, "notes_t", "n9");

		addf(&cs, row, "body", vtext("v1"), h + 30, SA, 0, "");
		addf(&cs, row, "deleted", vint(1), h + 31, SA, 0, "");
	}
	j = sync_changeset_to_json(&cs);
	assert_non_null(j);
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	assert_non_null(text);
	assert_int_equal(count_of(text, "\"r\":["), 2);
	assert_int_equal(count_of(text, "\"f\":["), 4);
	assert_non_null(strstr(text, "{\"t\":\"customers\",\"c\":[\"name\",\"amount\",\"lat\",\"notes\"],\"r\":[[\"c0\","));
	assert_int_equal(count_of(text, "\"amount\""), 1); /* named once for five rows */
	j = cJSON_Parse(text);
	assert_int_equal(sync_changeset_from_json(j, NULL, &back, &err), CRM_OK);
	cJSON_Delete(j);
	free(text);
	assert_same(&cs, &back);
	sync_changeset_release(&back);
	sync_changeset_release(&cs);
}

/* A decode case against a database: needle in the message, or NULL if accepted. */
struct db_case {
	const char *json;
	const char *needle;
};

/*
 * Decodes every case with r's database: accepted ones must give want_rows rows
 * (0: any), refused ones CRM_EFORMAT naming their needle and leave nothing.
 */
static void run_db_cases(const struct db_case *cases, size_t n, size_t want_rows)
{
	struct tu_replica r;
	struct crm_error err;

	tu_open(&r, ":memory:");
	for (size_t i = 0; i < n; i++) {
		struct sync_changeset cs;
		enum crm_err rc = decode(cases[i].json, r.s, &cs, &err);

		if (!cases[i].needle) {
			assert_int_equal(rc, CRM_OK);
			if (want_rows)
				assert_int_equal(cs.nrows, want_rows);
			sync_changeset_release(&cs);
			continue;
		}
		if (rc != CRM_EFORMAT || !strstr(err.msg, cases[i].needle))
			fprintf(stderr, "case %zu: rc %d, message: %s\n", i, rc, err.msg);
		assert_int_equal(rc, CRM_EFORMAT);
		assert_non_null(strstr(err.msg, cases[i].needle));
		assert_int_equal(cs.nrows, 0);
	}
	tu_close(&r);
}

#define BLOCK(cols, rows) "[{\"t\":\"customers\",\"c\":" cols ",\"r\":" rows "}]"

static void test_blocks_malformed(void **state)
{
	static const struct db_case cases[] = {
		{BLOCK("[\"name\",\"amount\"]", "[[\"c1\",\"5\",\"" SA "\",\"x\",5],[\"c2\",\"6\",\"" SA "\",null,null]]"), NULL},
		{BLOCK("[\"name\"]", "[[\"c1\",\"5\",\"" SA "\"]]"), "one value per column"},
		{BLOCK("[\"name\"]", "[[\"c1\",\"5\",\"" SA "\",\"x\",\"y\"]]"), "one value per column"},
		{BLOCK("[\"name\",\"name\"]", "[[\"c1\",\"5\",\"" SA "\",\"x\",\"y\"]]"), "twice"},
		{BLOCK("[]", "[[\"c1\",\"5\",\"" SA "\"]]"), "column names"},
		{BLOCK("[5]", "[[\"c1\",\"5\",\"" SA "\",\"x\"]]"), "column"},
		{BLOCK("[\"name\"]", "[]"), "rows"},
		{BLOCK("[\"name\"]", "[5]"), "one value per column"},
		{BLOCK("[\"name\"]", "[[\"c1\",\"0\",\"" SA "\",\"x\"]]"), "version"},
		{BLOCK("[\"name\"]", "[[\"c1\",5,\"" SA "\",\"x\"]]"), "HLC"},
		{BLOCK("[\"name\"]", "[[\"c1\",\"5\",\"\",\"x\"]]"), "site"},
		{BLOCK("[\"name\"]", "[[7,\"5\",\"" SA "\",\"x\"]]"), "row id"},
		{BLOCK("[\"name\"]", "[[\"c1\",\"5\",\"" SA "\",[1]]]"), "value"},
		{BLOCK("[\"bogus\"]", "[[\"c1\",\"5\",\"" SA "\",\"x\"]]"), "bogus"},
		{BLOCK("[\"amount\"]", "[[\"c1\",\"5\",\"" SA "\",\"12\"]]"), "amount"},
		{"[{\"t\":\"customers\",\"c\":[\"name\"],\"r\":[[\"c1\",\"5\",\"" SA "\",\"x\"]],\"f\":[]}]", "unknown key"},
		{"[{\"t\":\"nope\",\"c\":[\"name\"],\"r\":[[\"c1\",\"5\",\"" SA "\",\"x\"]]}]", "nope"},
	};

	(void)state;
	run_db_cases(cases, sizeof cases / sizeof cases[0], 2);
}

static void test_types_with_db(void **state)
{
	static const struct db_case cases[] = {
		{ROW(",\"f\":[[\"name\",\"x\"],[\"amount\",5],[\"lat\",{\"r\":1.5}],[\"notes\",null]]"), NULL},
		{ROW(",\"f\":[[\"lat\",5]]"), NULL},
		{ROW(",\"f\":[[\"amount\",{\"i\":\"123456789012345678\"}]]"), NULL},
		{"[{\"t\":\"nope\",\"id\":\"c1\",\"h\":\"5\",\"s\":\"" SA "\",\"f\":[[\"name\",\"x\"]]}]", "nope"},
		{ROW(",\"f\":[[\"bogus\",\"x\"]]"), "bogus"},
		{ROW(",\"f\":[[\"id\",\"x\"]]"), "id"},
		{ROW(",\"f\":[[\"amount\",\"12\"]]"), "amount"},
		{ROW(",\"f\":[[\"amount\",{\"r\":1.5}]]"), "amount"},
		{ROW(",\"f\":[[\"name\",5]]"), "name"},
		{ROW(",\"f\":[[\"deleted\",null]]"), "deleted"},
	};

	(void)state;
	run_db_cases(cases, sizeof cases / sizeof cases[0], 0);
}

static void test_real_column_survives_apply(void **state)
{
	struct tu_replica a, b;

	(void)state;
	tu_open(&a, ":memory:");
	tu_open(&b, ":memory:");
	tu_exec(a.db, "INSERT INTO customers(id, lat, amount) VALUES('c1', 2.0, 9007199254740993)");
	tu_push(&a, &b);
	TU_ASSERT_TEXT(b.db, "SELECT typeof(lat) || ':' || quote(lat) || ':' || amount FROM customers",
		       "real:2.0:9007199254740993");
	tu_close(&a);
	tu_close(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_reals_exact),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_types_with_db),
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_blocks_malformed),
		cmocka_unit_test(test_real_column_survives_apply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
