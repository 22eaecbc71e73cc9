/*
 * test_match: customer matching (schema/match.h) - normalization of company
 * and person names, USCC evidence, scoring and decisions, the index with its
 * ambiguity guard, and a small generated data set whose precision must hold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "match.h"
#include "match_gen.h"
#include "match_int.h"

static struct match_record rec_kind(const char *kind, const char *name, const char *phone,
				    const char *email, const char *uscc)
{
	struct match_input in = {0};
	struct match_record r;
	struct crm_error err;

	in.kind = kind;
	in.name = name;
	in.phone = phone;
	in.email = email;
	in.uscc = uscc;
	assert_int_equal(match_record_init(&r, &in, &err), CRM_OK);
	return r;
}

static struct match_record company(const char *name)
{
	return rec_kind("company", name, NULL, NULL, NULL);
}

/* The core of a record as UTF-8, for comparisons in tests. */
static void core_text(const struct match_record *r, char *buf, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < r->core_len && o + 5 < n; i++) {
		uint32_t c = r->core[i];
		if (c < 0x80) {
			buf[o++] = (char)c;
		} else if (c < 0x800) {
			buf[o++] = (char)(0xC0 | (c >> 6));
			buf[o++] = (char)(0x80 | (c & 0x3F));
		} else {
			buf[o++] = (char)(0xE0 | (c >> 12));
			buf[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
			buf[o++] = (char)(0x80 | (c & 0x3F));
		}
	}
	buf[o] = '\0';
}

static enum match_decision decide(const struct match_record *a, const struct match_record *b)
{
	struct match_verdict v, w;

	match_compare(a, b, NULL, &v);
	match_compare(b, a, NULL, &w);
	assert_int_equal(v.decision, w.decision); /* symmetric */
	assert_true(v.score == w.score);
	return v.decision;
}

static int has_reason(const struct match_verdict *v, const char *what)
{
	int i;

	for (i = 0; i < v->nreasons; i++)
		if (strstr(v->reasons[i], what))
			return 1;
	return 0;
}

static void test_chinese_company_normalization(void **state)
{
	struct match_record a = company("深圳市华信科技有限公司");
	struct match_record b = company("华信科技（深圳）有限公司");
	struct match_record c = company("华信科技");
	struct match_record d = company("广东省深圳市华信科技股份有限公司");
	struct match_record e = company("深圳 华信科技 有限公司");
	struct match_record f = company("深圳市南山区华信科技有限公司");
	struct match_record g = company("华信投资（有限合伙）");
	struct match_record w1 = company("潍坊市华信科技有限公司"); /* a city not in the table */
	struct match_record w2 = rec_kind("company", "华信科技有限公司", NULL, NULL, NULL);
	struct match_record w3 = company("临朐市华信科技有限公司");
	struct match_record sm = company("华联超市有限公司");
	char buf[128];

	(void)state;
	core_text(&a, buf, sizeof buf);
	assert_string_equal(buf, "华信科技");
	core_text(&b, buf, sizeof buf);
	assert_string_equal(buf, "华信科技");
	core_text(&c, buf, sizeof buf);
	assert_string_equal(buf, "华信科技");
	core_text(&d, buf, sizeof buf);
	assert_string_equal(buf, "华信科技");
	core_text(&e, buf, sizeof buf);
	assert_string_equal(buf, "华信科技");
	core_text(&f, buf, sizeof buf);
	assert_string_equal(buf, "华信科技"); /* the district after the city goes */
	core_text(&g, buf, sizeof buf);
	assert_string_equal(buf, "华信投资"); /* a partnership's legal form */
	assert_int_equal(f.region, match__region_lookup("深圳"));
	assert_int_equal(a.region, match__region_lookup("深圳"));
	core_text(&w1, buf, sizeof buf);
	assert_string_equal(buf, "华信科技");
	assert_true(w1.region >= 0);
	core_text(&w3, buf, sizeof buf);
	assert_string_equal(buf, "华信科技");
	assert_true(w3.region >= 0 && w3.region != w1.region);
	assert_int_equal(decide(&w1, &w3), MATCH_DISTINCT); /* two cities */
	assert_int_equal(decide(&w1, &w2), MATCH_REVIEW);
	core_text(&sm, buf, sizeof buf);
	assert_string_equal(buf, "华联超市"); /* 超市 is a supermarket, not a city */
	assert_int_equal(sm.region, -1);
	assert_int_equal(b.region, a.region);
	assert_int_equal(d.region, a.region); /* the city, not the province */
	assert_int_equal(c.region, -1);
	assert_int_equal(a.branch, 0);
	assert_int_equal(a.kind, MATCH_KIND_COMPANY);
	/* the same region and core: one customer */
	assert_int_equal(decide(&a, &b), MATCH_MATCH);
	assert_int_equal(decide(&a, &d), MATCH_MATCH);
	/* the bare trade name: the same core, but which city? review, unless a key agrees */
	assert_int_equal(decide(&a, &c), MATCH_REVIEW);
	{
		struct match_record c2 = rec_kind("company", "华信科技", "138 0013 8000", NULL, NULL);
		struct match_record a2 =
			rec_kind("company", "深圳市华信科技有限公司", "+86 13800138000", NULL, NULL);
		assert_int_equal(decide(&a2, &c2), MATCH_MATCH);
	}
}

static void test_english_company_normalization(void **state)
{
	struct match_record a = company("ACME Trading Co., Ltd.");
	struct match_record b = company("Acme Trading Company Limited");
	struct match_record c = company("ＡＣＭＥ　ＴＲＡＤＩＮＧ　ＣＯ．，ＬＴＤ．");
	struct match_record d = company("Acme Intl Trading (Shanghai) Co. Ltd");
	struct match_record e = company("ACME International Trading Corp. Shanghai");
	struct match_record f = company("Acme & Sons Tech Inc");
	struct match_record g = company("Acme and Sons Technology Incorporated");
	struct match_record h = company("Acme Sons Tech Pvt. Ltd.");
	char buf[128];

	(void)state;
	core_text(&a, buf, sizeof buf);
	assert_string_equal(buf, "acme trading");
	core_text(&b, buf, sizeof buf);
	assert_string_equal(buf, "acme trading");
	core_text(&c, buf, sizeof buf);
	assert_string_equal(buf, "acme trading");
	core_text(&d, buf, sizeof buf);
	assert_string_equal(buf, "acme international trading");
	core_text(&e, buf, sizeof buf);
	assert_string_equal(buf, "acme international trading");
	assert_int_equal(d.region, match__region_lookup("shanghai"));
	assert_int_equal(e.region, d.region);
	core_text(&f, buf, sizeof buf);
	assert_string_equal(buf, "acme sons technology");
	core_text(&g, buf, sizeof buf);
	assert_string_equal(buf, "acme sons technology");
	core_text(&h, buf, sizeof buf);
	assert_string_equal(buf, "acme sons technology");
	assert_int_equal(decide(&d, &e), MATCH_MATCH);
	/* names alone, no region on either side: queued, never merged blind */
	assert_int_equal(decide(&a, &b), MATCH_REVIEW);
	{
		struct match_record a2 = rec_kind("company", "ACME Trading Co., Ltd.", NULL,
						  "Sales@AcmeTrading.com", NULL);
		struct match_record b2 = rec_kind("company", "Acme Trading Company Limited", NULL,
						  "sales@acmetrading.com", NULL);
		struct match_verdict v;
		assert_int_equal(decide(&a2, &b2), MATCH_MATCH);
		match_compare(&a2, &b2, NULL, &v);
		assert_true(has_reason(&v, "same e-mail"));
	}
}

static void test_branch_never_head_office(void **state)
{
	struct match_record head = company("深圳市华信科技有限公司");
	struct match_record br = company("华信科技深圳分公司");
	struct match_record br2 = company("深圳市华信科技有限公司广州分公司");
	struct match_record br3 = company("华信科技有限公司广州分公司");
	struct match_record br4 = company("深圳市华信科技有限公司北京分公司");
	struct match_record en = company("Acme Trading (Shanghai) Co., Ltd. Beijing Branch");
	struct match_record enh = company("Acme Trading (Shanghai) Co., Ltd.");
	struct match_verdict v;
	char buf[64];

	(void)state;
	assert_int_equal(br.branch, 1);
	assert_int_equal(br.branch_region, match__region_lookup("深圳"));
	core_text(&br, buf, sizeof buf);
	assert_string_equal(buf, "华信科技");
	assert_int_equal(br2.branch, 1);
	assert_int_equal(br2.branch_region, match__region_lookup("广州"));
	assert_int_equal(br2.region, head.region);
	assert_int_equal(decide(&head, &br), MATCH_DISTINCT);
	assert_int_equal(decide(&head, &br2), MATCH_DISTINCT);
	match_compare(&head, &br2, NULL, &v);
	assert_true(has_reason(&v, "branch vs head office"));
	/* two branches in different cities are different customers */
	assert_int_equal(decide(&br2, &br4), MATCH_DISTINCT);
	/* the same branch, typed with and without the head's region: not distinct */
	assert_int_not_equal(decide(&br2, &br3), MATCH_DISTINCT);
	assert_int_equal(en.branch, 1);
	assert_int_equal(enh.branch, 0);
	assert_int_equal(decide(&en, &enh), MATCH_DISTINCT);
	/* even the same number does not merge a branch into its head office */
	{
		struct match_record h2 = rec_kind("company", "深圳市华信科技有限公司", "0755-8888 1234",
						  NULL, NULL);
		struct match_record b2 = rec_kind("company", "华信科技深圳分公司", "075588881234",
						  NULL, NULL);
		assert_int_equal(decide(&h2, &b2), MATCH_DISTINCT);
	}
}

static void test_same_trade_name_elsewhere(void **state)
{
	struct match_record sz = company("深圳市华信科技有限公司");
	struct match_record bj = company("北京市华信科技有限公司");
	struct match_record trade = company("深圳市华信贸易有限公司");
	struct match_record en1 = company("Acme Trading (Shanghai) Co., Ltd.");
	struct match_record en2 = company("Acme Trading (Beijing) Co., Ltd.");
	struct match_record en3 = company("Acme Logistics (Shanghai) Co., Ltd.");

	(void)state;
	assert_int_equal(decide(&sz, &bj), MATCH_DISTINCT);
	assert_int_equal(decide(&sz, &trade), MATCH_DISTINCT);
	assert_int_equal(decide(&en1, &en2), MATCH_DISTINCT);
	assert_int_equal(decide(&en1, &en3), MATCH_DISTINCT);
	/* a shared switchboard does not make another city's company the same */
	{
		struct match_record a = rec_kind("company", "深圳市华信科技有限公司", "0755-88881234",
						 NULL, NULL);
		struct match_record b = rec_kind("company", "北京华信科技有限公司", "0755-88881234",
						 NULL, NULL);
		assert_int_not_equal(decide(&a, &b), MATCH_MATCH);
	}
}

static void test_uscc_evidence(void **state)
{
	/* 91350100M000100Y43 is a well-formed code with a valid check character */
	const char *good = "91350100M000100Y43";
	const char *good2 = "91110108MA01Y0DR6B";
	struct match_record a, b, c, d;
	struct match_verdict v;

	(void)state;
	assert_true(match_uscc_valid(good));
	assert_false(match_uscc_valid("91350100M000100Y44"));
	assert_false(match_uscc_valid("91350100M000100Y4"));
	assert_false(match_uscc_valid("91350100I000100Y43")); /* I is not in the alphabet */
	/* same valid USCC: a match whatever the names */
	a = rec_kind("company", "深圳市华信科技有限公司", NULL, NULL, good);
	b = rec_kind("company", "华芯电子", NULL, NULL, "９１３５０１００ｍ０００１００ｙ４３");
	assert_string_equal(b.uscc, good);
	match_compare(&a, &b, NULL, &v);
	assert_int_equal(v.decision, MATCH_MATCH);
	assert_true(has_reason(&v, "same USCC"));
	/* an invalid code is no evidence at all, not a difference */
	c = rec_kind("company", "深圳市华信科技有限公司", NULL, NULL, "91350100M000100Y44");
	assert_string_equal(c.uscc, "");
	assert_int_equal(decide(&a, &c), MATCH_MATCH);
	/* two different valid codes: different companies even with the same name */
	assert_true(match_uscc_valid(good2));
	{
		d = rec_kind("company", "深圳市华信科技有限公司", NULL, NULL, good2);
		match_compare(&a, &d, NULL, &v);
		assert_int_equal(v.decision, MATCH_DISTINCT);
		assert_true(has_reason(&v, "different USCC"));
	}
}

static void test_phone_and_email_normalization(void **state)
{
	struct match_record a = rec_kind("company", "x", "138 0013 8000", "A@B.COM", NULL);
	struct match_record b = rec_kind("company", "x", "+86 138-0013-8000", "a@b.com", NULL);
	struct match_record c = rec_kind("company", "x", "８６１３８００１３８０００", NULL, NULL);
	struct match_record d = rec_kind("company", "x", "0086 13800138000", NULL, NULL);
	struct match_record l1 = rec_kind("company", "x", "010-6552 9988", NULL, NULL);
	struct match_record l2 = rec_kind("company", "x", "+86 10 65529988", NULL, NULL);
	struct match_record bad = rec_kind("company", "x", "12345", "not-an-email", NULL);

	(void)state;
	assert_true(a.phone != 0);
	assert_true(a.phone_mobile);
	assert_true(a.phone == b.phone);
	assert_true(a.phone == c.phone);
	assert_true(a.phone == d.phone);
	assert_true(l1.phone != 0 && l1.phone == l2.phone);
	assert_false(l1.phone_mobile);
	assert_true(a.email != 0 && a.email == b.email);
	assert_true(bad.phone == 0);
	assert_true(bad.email == 0);
}

static void test_typos_and_keys(void **state)
{
	/* a homophone typo with the same mobile: merged; without it: queued */
	struct match_record a = rec_kind("company", "深圳市华信科技有限公司", "13800138000", NULL, NULL);
	struct match_record b = rec_kind("company", "深圳华新科技", "13800138000", NULL, NULL);
	struct match_record c = rec_kind("company", "深圳华新科技", NULL, NULL, NULL);
	struct match_record e1 = company("Evergreen Logistics (Ningbo) Ltd");
	struct match_record e2 = company("Evergren Logistics (Ningbo) Co Ltd");
	/* the same mobile alone does not merge two unrelated names */
	struct match_record z = rec_kind("company", "深圳市远航物流有限公司", "13800138000", NULL, NULL);

	(void)state;
	assert_int_equal(decide(&a, &b), MATCH_MATCH);
	assert_int_equal(decide(&a, &c), MATCH_REVIEW);
	assert_int_equal(decide(&e1, &e2), MATCH_REVIEW);
	assert_int_not_equal(decide(&a, &z), MATCH_MATCH);
}

static struct match_record person(const char *name, const char *birth, const char *id,
				  const char *addr)
{
	struct match_input in = {0};
	struct match_record r;

	in.kind = "person";
	in.name = name;
	in.birth_date = birth;
	in.id_number = id;
	in.address = addr;
	assert_int_equal(match_record_init(&r, &in, NULL), CRM_OK);
	return r;
}

static void test_persons(void **state)
{
	struct match_record a = person("lachlan berry", "19990219", "7364009",
				       "69 giblin street, killarney, 4814");
	/* surname and given name swapped, a typo, birth day and month swapped */
	struct match_record b = person("berry lachlna", "19990902", "7364009",
				       "69 giblin st, killarney, 4814");
	/* another person with the same birthday on the same street */
	struct match_record c = person("deakin sondergeld", "19990219", "2635962",
				       "48 giblin street, kooltuo, 4814");
	struct match_record d = person("lachlan berry", "19990219", "7364090", "");
	struct match_record comp = company("Berry Lachlan Co., Ltd.");

	(void)state;
	assert_int_equal(decide(&a, &b), MATCH_MATCH);
	assert_int_equal(decide(&a, &c), MATCH_DISTINCT);
	assert_int_equal(decide(&a, &d), MATCH_MATCH); /* id with two digits swapped */
	assert_int_equal(decide(&a, &comp), MATCH_DISTINCT);
}

static void test_index_query_and_guard(void **state)
{
	struct match_index *idx = NULL;
	struct crm_error err;
	struct match_input in = {0};
	struct match_hit hits[8];
	size_t n = 0;
	struct match_record q;

	(void)state;
	assert_int_equal(match_index_new(&idx, NULL, &err), CRM_OK);
	in.kind = "company";
	in.name = "深圳市华信科技有限公司";
	in.phone = "13800138000";
	assert_int_equal(match_index_add_row(idx, "sz", &in, &err), CRM_OK);
	in.name = "北京市华信科技有限公司";
	in.phone = "13900139000";
	assert_int_equal(match_index_add_row(idx, "bj", &in, &err), CRM_OK);
	in.name = "深圳市远航物流有限公司";
	in.phone = "0755-8888 1234";
	assert_int_equal(match_index_add_row(idx, "yh", &in, &err), CRM_OK);
	assert_int_equal(match_index_count(idx), 3);

	/* the Shenzhen company typed again with its mobile: merged with sz only */
	q = rec_kind("company", "华信科技（深圳）", "+86 138 0013 8000", NULL, NULL);
	assert_int_equal(match_index_query(idx, &q, NULL, hits, 8, &n, &err), CRM_OK);
	assert_true(n >= 1);
	assert_string_equal(hits[0].id, "sz");
	assert_int_equal(hits[0].verdict.decision, MATCH_MATCH);
	for (size_t i = 1; i < n; i++)
		assert_string_not_equal(hits[i].id, "bj");

	/* the bare name with two cities' companies in the pool: review, "ambiguous" */
	q = rec_kind("company", "华信科技有限公司", "13800138000", NULL, NULL);
	in.name = "华信科技";
	(void)in;
	{
		struct match_record q2 = rec_kind("company", "华信科技有限公司", NULL, NULL, NULL);
		assert_int_equal(match_index_query(idx, &q2, NULL, hits, 8, &n, &err), CRM_OK);
		assert_int_equal(n, 2);
		assert_int_equal(hits[0].verdict.decision, MATCH_REVIEW);
		assert_int_equal(hits[1].verdict.decision, MATCH_REVIEW);
	}

	/* remove: no longer found; exclude_id skips a record itself */
	assert_int_equal(match_index_remove(idx, "sz", &err), CRM_OK);
	assert_int_equal(match_index_remove(idx, "sz", &err), CRM_ENOTFOUND);
	assert_null(match_index_get(idx, "sz"));
	assert_int_equal(match_index_query(idx, &q, NULL, hits, 8, &n, &err), CRM_OK);
	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(hits[i].id, "sz");
	q = *match_index_get(idx, "yh");
	assert_int_equal(match_index_query(idx, &q, "yh", hits, 8, &n, &err), CRM_OK);
	assert_int_equal(n, 0);
	/* re-adding an id replaces the record */
	in.name = "深圳市远航物流有限公司";
	in.phone = "13700137000";
	assert_int_equal(match_index_add_row(idx, "yh", &in, &err), CRM_OK);
	assert_int_equal(match_index_count(idx), 2);
	/* a removed record's slot is reused: the new record is found, not the old */
	in.name = "广州市天河电子有限公司";
	in.phone = "13600136000";
	assert_int_equal(match_index_add_row(idx, "gz", &in, &err), CRM_OK);
	assert_int_equal(match_index_count(idx), 3);
	q = rec_kind("company", "天河电子（广州）", "136 0013 6000", NULL, NULL);
	assert_int_equal(match_index_query(idx, &q, NULL, hits, 8, &n, &err), CRM_OK);
	assert_int_equal(n, 1);
	assert_string_equal(hits[0].id, "gz");
	assert_int_equal(hits[0].verdict.decision, MATCH_MATCH);
	q = rec_kind("company", "深圳市远航物流有限公司", "0755-8888 1234", NULL, NULL);
	assert_int_equal(match_index_query(idx, &q, NULL, hits, 8, &n, &err), CRM_OK);
	assert_int_equal(n, 1);
	assert_string_equal(hits[0].id, "yh"); /* the replaced record, by name */
	match_index_free(idx);
}

struct scan_count {
	size_t match, review, wrong;
	const struct match_gen_set *set;
};

static int on_pair(void *ctx, const char *a, const char *b, const struct match_verdict *v)
{
	struct scan_count *c = ctx;
	size_t x = (size_t)strtoull(a + 1, NULL, 10), y = (size_t)strtoull(b + 1, NULL, 10);

	if (v->decision == MATCH_MATCH) {
		c->match++;
		if (c->set->rows[x].entity != c->set->rows[y].entity)
			c->wrong++;
	} else {
		c->review++;
	}
	return 0;
}

static void test_generated_precision(void **state)
{
	struct match_gen_set set;
	struct match_index *idx = NULL;
	struct crm_error err;
	struct scan_count c = {0};
	size_t i;

	(void)state;
	assert_int_equal(match_gen_make(&set, 42, 400, &err), CRM_OK);
	assert_true(set.n > 400);
	assert_int_equal(match_index_new(&idx, NULL, &err), CRM_OK);
	for (i = 0; i < set.n; i++) {
		char id[32];
		snprintf(id, sizeof id, "r%zu", i);
		assert_int_equal(match_index_add_row(idx, id, &set.rows[i].in, &err), CRM_OK);
	}
	c.set = &set;
	assert_int_equal(match_index_scan(idx, 2, on_pair, &c, &err), CRM_OK);
	/* duplicates are found, and no pair of two entities is merged */
	assert_true(c.match > set.n / 10);
	assert_int_equal(c.wrong, 0);
	match_index_free(idx);
	match_gen_release(&set);
}

static void test_bad_utf8(void **state)
{
	struct match_input in = {0};
	struct match_record r;
	struct crm_error err;

	(void)state;
	in.name = "bad \xff name";
	assert_int_equal(match_record_init(&r, &in, &err), CRM_EUTF8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chinese_company_normalization),
		cmocka_unit_test(test_english_company_normalization),
		cmocka_unit_test(test_branch_never_head_office),
		cmocka_unit_test(test_same_trade_name_elsewhere),
		cmocka_unit_test(test_uscc_evidence),
		cmocka_unit_test(test_phone_and_email_normalization),
		cmocka_unit_test(test_typos_and_keys),
		cmocka_unit_test(test_persons),
		cmocka_unit_test(test_index_query_and_guard),
		cmocka_unit_test(test_generated_precision),
		cmocka_unit_test(test_bad_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
