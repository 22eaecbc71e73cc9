/*
 * Unit tests for schema/fields.c: every field rule with Chinese and English
 * input, the canonical forms it produces, and the messages of refusals (they
 * must name the field and the value). Time-dependent rules run with CRM_NOW
 * and TZ fixed, so "today" is a known date.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "crm_time.h"
#include "fields.h"

/* 2026-11-24 14:30 in Beijing (UTC+8, no DST). */
#define NOW_TEXT "2026-11-24T06:30:00Z"

static int64_t utc(const char *iso)
{
	int64_t ms = 0;

	assert_int_equal(crm_time_parse(iso, false, &ms), CRM_OK);
	return ms;
}

static int setup_clock(void **state)
{
	(void)state;
	setenv("TZ", "Asia/Shanghai", 1);
	tzset();
	setenv("CRM_NOW", NOW_TEXT, 1);
	return 0;
}

/* Checks that a refusal's message names the field and the value. */
static void assert_names(const struct crm_error *err, const char *field, const char *value)
{
	char want[256];

	snprintf(want, sizeof want, "%s \"%s\"", field, value);
	if (!strstr(err->msg, want))
		fail_msg("message \"%s\" does not contain %s", err->msg, want);
}

/* ---- phones ------------------------------------------------------------- */

struct str_case {
	const char *in;
	const char *out;
};

static void test_phone_valid(void **state)
{
	static const struct str_case cases[] = {
		{"138 0013 8000", "+8613800138000"},
		{"13800138000", "+8613800138000"},
		{"+86 138 0013 8000", "+8613800138000"},
		{"+86-138-0013-8000", "+8613800138000"},
		{"+8613800138000", "+8613800138000"},
		{"0086 138 0013 8000", "+8613800138000"},
		{"86 138 0013 8000", "+8613800138000"},
		{"8613800138000", "+8613800138000"},
		{"(+86) 138.0013.8000", "+8613800138000"},
		{"１３８００１３８０００", "+8613800138000"},
		{"＋８６　１３８　００１３　８０００", "+8613800138000"},
		{"１３８－００１３－８０００", "+8613800138000"},
		{"  139-1234-5678  ", "+8613912345678"},
		{"\xe3\x80\x80" "15012345678" "\xe3\x80\x80", "+8615012345678"},
		{"199 1234 5678", "+8619912345678"},
		{"010-6552 9988", "+861065529988"},
		{"(010) 65529988", "+861065529988"},
		{"010.6552.9988", "+861065529988"},
		{"+86 10 6552 9988", "+861065529988"},
		{"+86 (0)10 6552 9988", "+861065529988"},
		{"0086-10-65529988", "+861065529988"},
		{"０１０－６５５２　９９８８", "+861065529988"},
		{"0755-8888 8888", "+8675588888888"},
		{"0755-888 8888", "+867558888888"},
		{"0755\xe2\x80\x94" "88888888", "+8675588888888"}, /* em dash */
		{"+86 755 8888 8888", "+8675588888888"},
		{"021-5888 8888", "+862158888888"},
		{"020 3888 8888", "+862038888888"},
		{"0571-8765 4321", "+8657187654321"},
		{"0931-812 3456", "+869318123456"},
		{"400-810-8888", "+864008108888"},
		{"800 810 8888", "+868008108888"},
		{"+1 415 555 2671", "+14155552671"},
		{"+1 (415) 555-2671", "+14155552671"},
		{"001 415 555 2671", "+14155552671"},
		{"0044 20 7946 0958", "+442079460958"},
		{"+44 (20) 7946 0958", "+442079460958"},
		{"+81 3-1234-5678", "+81312345678"},
		{"+852 2123 4567", "+85221234567"},
		{"+49 30 123456789", "+4930123456789"},
		{"+49 1234 5678 90123", "+491234567890123"}, /* 15 digits, the E.164 limit */
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[FIELD_PHONE_MAX];
		struct crm_error err = {0};
		enum crm_err rc = field_phone("phone", cases[i].in, out, &err);

		if (rc != CRM_OK)
			fail_msg("phone \"%s\" refused: %s", cases[i].in, err.msg);
		if (strcmp(out, cases[i].out) != 0)
			fail_msg("phone \"%s\": got %s, want %s", cases[i].in, out, cases[i].out);
	}
}

static void test_phone_invalid(void **state)
{
	static const char *const cases[] = {
		"12345",
		"",
		"   ",
		"abc",
		"138-0013-800a",
		"1380013800",           /* 10 digits */
		"138001380001",         /* 12 digits */
		"12800138000",          /* no mobile starts 12 */
		"11800138000",
		"+86 128 0013 8000",
		"86 12800138000",
		"0086 128 0013 8000",
		"+86 138 0013 800",
		"65529988",             /* landline without area code */
		"6552 998",
		"1065529988",           /* Beijing without its trunk 0 */
		"013800138000",         /* a mobile with a trunk 0 */
		"010-6552 998",
		"+86 00755 5557 871",   /* two trunk zeros */
		"0086 0 010 6552 9988",
		"010-6552 99881",
		"021-0552 9988",        /* local numbers never start with 0 */
		"0755-888 888",
		"0755-8888 88888",
		"011-6552 9988",
		"+1 415 555 267",
		"+1 415 555 26711",
		"+1234567890123456",    /* 16 digits */
		"0012345678901234567",
		"+0 123 4567 890",
		"+44 20",
		"010-6552 9988 ext 12",
		"010-6552 9988 x12",
		"010-65529988转123",
		"010-65529988 分机 123",
		"138 0013 8000#12",
		"++86 138 0013 8000",
		"138+0013 8000",
		"tel 138 0013 8000",
		"１３８ＡＢＣ",
		"000",
		"+",
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[FIELD_PHONE_MAX] = "x";
		struct crm_error err = {0};
		enum crm_err rc = field_phone("phone", cases[i], out, &err);

		if (rc != CRM_EINVAL)
			fail_msg("phone \"%s\" accepted as %s (rc %d)", cases[i], out, rc);
		assert_int_equal(err.code, CRM_EINVAL);
		assert_names(&err, "phone", cases[i]);
		assert_non_null(strstr(err.msg, "expected"));
		assert_string_equal(out, "");
	}
}

static void test_phone_messages(void **state)
{
	char out[FIELD_PHONE_MAX];
	struct crm_error err = {0};
	char bad_utf8[] = {'1', '3', '8', (char)0xff, 0};
	char long_in[2048];

	(void)state;
	assert_int_equal(field_phone("phone", "12345", out, &err), CRM_EINVAL);
	assert_string_equal(err.msg, "phone \"12345\": not a phone number (expected e.g. "
				     "138 0013 8000, 010-6552 9988 or +1 415 555 2671)");
	assert_int_equal(field_phone("mobile", "010-6552 9988 ext 12", out, &err), CRM_EINVAL);
	assert_non_null(strstr(err.msg, "mobile \"010-6552 9988 ext 12\""));
	assert_non_null(strstr(err.msg, "extension"));
	assert_int_equal(field_phone("phone", "65529988", out, &err), CRM_EINVAL);
	assert_non_null(strstr(err.msg, "area code"));
	assert_int_equal(field_phone("phone", "+1234567890123456", out, &err), CRM_EINVAL);
	assert_non_null(strstr(err.msg, "15"));
	assert_int_equal(field_phone("phone", "+86 128 0013 8000", out, &err), CRM_EINVAL);
	assert_non_null(strstr(err.msg, "mobile"));
	assert_int_equal(field_phone("phone", bad_utf8, out, &err), CRM_EUTF8);
	assert_non_null(strstr(err.msg, "phone"));
	assert_int_equal(field_phone("phone", NULL, out, &err), CRM_EINVAL);
	/* a huge value is refused and quoted only in part */
	memset(long_in, '1', sizeof long_in - 1);
	long_in[sizeof long_in - 1] = '\0';
	assert_int_equal(field_phone("phone", long_in, out, &err), CRM_EINVAL);
	assert_true(strlen(err.msg) < 200);
	assert_non_null(strstr(err.msg, "..."));
	/* control characters never reach a message */
	assert_int_equal(field_phone("phone", "138\x1b[2J", out, &err), CRM_EINVAL);
	assert_null(strchr(err.msg, 0x1b));
	/* err may be NULL */
	assert_int_equal(field_phone("phone", "12345", out, NULL), CRM_EINVAL);
}

/* ---- e-mail ------------------------------------------------------------- */

static void test_email_valid(void **state)
{
	static const struct str_case cases[] = {
		{"Zhang.San@Example.COM", "zhang.san@example.com"},
		{"  li@huaxin.com.cn  ", "li@huaxin.com.cn"},
		{"\xe3\x80\x80wang@example.cn\xe3\x80\x80", "wang@example.cn"},
		{"ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", "zhang@example.com"},
		{"ＺＨＡＮＧ＠ＥＸＡＭＰＬＥ．ＣＯＭ", "zhang@example.com"},
		{"wang+crm@mail.example.org", "wang+crm@mail.example.org"},
		{"o'brien_1-x@sub-domain.example.co.uk", "o'brien_1-x@sub-domain.example.co.uk"},
		{"info@example\xe3\x80\x82" "cn", "info@example.cn"}, /* 。 in the domain */
		{"张三@例子.中国", "张三@例子.中国"},
		{"sales@163.com", "sales@163.com"},
		{"a@b.co", "a@b.co"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[320];
		struct crm_error err = {0};
		enum crm_err rc = field_email("email", cases[i].in, out, sizeof out, &err);

		if (rc != CRM_OK)
			fail_msg("email \"%s\" refused: %s", cases[i].in, err.msg);
		if (strcmp(out, cases[i].out) != 0)
			fail_msg("email \"%s\": got %s, want %s", cases[i].in, out, cases[i].out);
	}
}

static void test_email_invalid(void **state)
{
	static const char *const cases[] = {
		"",
		"zhang",
		"zhang.example.com",
		"@example.com",
		"a@b@example.com",
		"a@example",
		"a@.example.com",
		"a@example..com",
		"a@example.com.",
		"a b@example.com",
		"a@exa mple.com",
		"a@-example.com",
		"a@example-.com",
		".a@example.com",
		"a.@example.com",
		"a..b@example.com",
		"a@1.2.3.4",
		"a@[1.2.3.4]",
		"a(b)@example.com",
		"a@exa_mple.com",
		"张三",
	};
	char local65[128], label64[128], long_addr[400];
	(void)state;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[320];
		struct crm_error err = {0};
		enum crm_err rc = field_email("email", cases[i], out, sizeof out, &err);

		if (rc != CRM_EINVAL)
			fail_msg("email \"%s\" accepted as %s", cases[i], out);
		assert_names(&err, "email", cases[i]);
		assert_non_null(strstr(err.msg, "expected"));
	}
	/* length limits: 64 bytes before the @, 63 per label, 254 in all */
	memset(local65, 'a', 65);
	snprintf(local65 + 65, sizeof local65 - 65, "@example.com");
	memset(label64, 'b', 64);
	snprintf(label64 + 64, sizeof label64 - 64, ".com");
	{
		char out[320], addr[200];
		struct crm_error err = {0};

		assert_int_equal(field_email("email", local65, out, sizeof out, &err), CRM_EINVAL);
		local65[64] = '@';
		memmove(local65 + 65, "example.com", 12); /* now 64 bytes before the @ */
		assert_int_equal(field_email("email", local65, out, sizeof out, &err), CRM_OK);
		snprintf(addr, sizeof addr, "a@%s", label64);
		assert_int_equal(field_email("email", addr, out, sizeof out, &err), CRM_EINVAL);
		snprintf(addr, sizeof addr, "a@%s", label64 + 1);
		assert_int_equal(field_email("email", addr, out, sizeof out, &err), CRM_OK);
	}
	{
		/* 60 + "@" + 3 * 60-byte labels + ".com": 249 bytes ok; 5 more is too long */
		char out[320];
		struct crm_error err = {0};
		size_t o = 0;

		memset(long_addr, 'x', 60);
		o = 60;
		long_addr[o++] = '@';
		for (int l = 0; l < 3; l++) {
			memset(long_addr + o, 'y', 60);
			o += 60;
			long_addr[o++] = '.';
		}
		memcpy(long_addr + o, "com", 4);
		assert_int_equal(strlen(long_addr), 247);
		assert_int_equal(field_email("email", long_addr, out, sizeof out, &err), CRM_OK);
		memmove(long_addr + 8, long_addr, strlen(long_addr) + 1);
		memcpy(long_addr, "zzzzzzzz", 8); /* local part now 68 > 64 */
		assert_int_equal(field_email("email", long_addr, out, sizeof out, &err), CRM_EINVAL);
		/* 255 bytes with a legal local part */
		memset(long_addr, 'x', 60);
		o = 60;
		long_addr[o++] = '@';
		for (int l = 0; l < 3; l++) {
			memset(long_addr + o, 'y', 62);
			o += 62;
			long_addr[o++] = '.';
		}
		memcpy(long_addr + o, "com", 4);
		assert_int_equal(strlen(long_addr), 253);
		assert_int_equal(field_email("email", long_addr, out, sizeof out, &err), CRM_OK);
		memcpy(long_addr + o, "coms", 5);
		assert_int_equal(field_email("email", long_addr, out, sizeof out, &err), CRM_OK);
		memcpy(long_addr + o, "comss", 6);
		assert_int_equal(strlen(long_addr), 255);
		assert_int_equal(field_email("email", long_addr, out, sizeof out, &err), CRM_EINVAL);
		assert_non_null(strstr(err.msg, "254"));
	}
	{
		char small[8];
		struct crm_error err = {0};

		assert_int_equal(field_email("email", "zhang@example.com", small, sizeof small, &err),
				 CRM_ETOOBIG);
		assert_int_equal(field_email("email", "a@\xff.com", small, sizeof small, &err),
				 CRM_EUTF8);
	}
}

/* ---- USCC and resident id numbers --------------------------------------- */

static const char uscc_alpha[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static void test_uscc_known(void **state)
{
	static const char *const valid[] = {
		"91350100M000100Y43", /* a real, published code */
		"91110000100000000R", /* the ones below computed by hand (Python) */
		"91440300MA5DC0000Y",
		"12100000400000000W",
		"91310115MA1K3YJ70G",
		"521100005000000008",
	};
	static const struct str_case folded[] = {
		{"91350100m000100y43", "91350100M000100Y43"},
		{" 9135 0100 M000 100Y 43 ", "91350100M000100Y43"},
		{"９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000100Y43"},
		{"９１３５０１００ｍ０００１００ｙ４３", "91350100M000100Y43"},
		{"91440300-MA5DC000-0Y", "91440300MA5DC0000Y"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
		char out[FIELD_USCC_LEN + 1];
		struct crm_error err = {0};

		if (field_uscc("uscc", valid[i], out, &err) != CRM_OK)
			fail_msg("uscc %s refused: %s", valid[i], err.msg);
		assert_string_equal(out, valid[i]);
		assert_true(field_uscc_valid(valid[i]));
	}
	for (size_t i = 0; i < sizeof folded / sizeof folded[0]; i++) {
		char out[FIELD_USCC_LEN + 1];
		struct crm_error err = {0};

		if (field_uscc("uscc", folded[i].in, out, &err) != CRM_OK)
			fail_msg("uscc \"%s\" refused: %s", folded[i].in, err.msg);
		assert_string_equal(out, folded[i].out);
	}
	assert_false(field_uscc_valid("91350100m000100y43")); /* not canonical */
	assert_false(field_uscc_valid("91350100M000100Y44"));
	assert_false(field_uscc_valid("91350100M000100Y4"));
	assert_false(field_uscc_valid("91350100M000100Y433"));
	assert_false(field_uscc_valid(""));
	assert_false(field_uscc_valid(NULL));
}

static void test_uscc_invalid(void **state)
{
	static const char *const cases[] = {
		"91350100M000100Y44",  /* last character changed */
		"91350100M000100Y4Y",
		"91350100M000100Y42",
		"81350100M000100Y43",  /* first character changed */
		"91350100M000010Y43",  /* two characters swapped */
		"91350100M000100Y4",   /* 17 */
		"91350100M000100Y433", /* 19 */
		"91350100I000100Y43",  /* I is not in the alphabet */
		"91350100O000100Y43",
		"9135010SM000100Y43",
		"91350100M000100V43",
		"91350100Z000100Y43",
		"91350100M0001_0Y43",
		"91350100M000100Y4３Ａ",
		"深圳市华信科技有限公司",
		"",
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[FIELD_USCC_LEN + 1] = "x";
		struct crm_error err = {0};

		if (field_uscc("uscc", cases[i], out, &err) != CRM_EINVAL)
			fail_msg("uscc \"%s\" accepted", cases[i]);
		assert_names(&err, "uscc", cases[i]);
		assert_string_equal(out, "");
	}
	{
		char out[FIELD_USCC_LEN + 1];
		struct crm_error err = {0};

		field_uscc("uscc", "91350100M000100Y44", out, &err);
		assert_non_null(strstr(err.msg, "check character"));
		field_uscc("uscc", "91350100I000100Y43", out, &err);
		assert_non_null(strstr(err.msg, "I, O, S, V or Z"));
	}
}

/*
 * For random bodies, exactly one of the 31 possible last characters passes,
 * and changing any single character of a valid code breaks it (the weights
 * are all non-zero mod 31, a prime).
 */
static void test_uscc_property(void **state)
{
	unsigned seed = 12345;
	(void)state;

	for (int round = 0; round < 300; round++) {
		char code[FIELD_USCC_LEN + 1];
		int passing = 0;
		char good = 0;

		for (int i = 0; i < 17; i++) {
			seed = seed * 1103515245u + 12345u;
			code[i] = uscc_alpha[(seed >> 16) % 31];
		}
		code[18] = '\0';
		for (int c = 0; c < 31; c++) {
			code[17] = uscc_alpha[c];
			if (field_uscc_valid(code)) {
				passing++;
				good = code[17];
			}
		}
		assert_int_equal(passing, 1);
		code[17] = good;
		for (int pos = 0; pos < 18; pos++) {
			char keep = code[pos];
			char alt = uscc_alpha[(strchr(uscc_alpha, keep) - uscc_alpha + 1 + round % 30) % 31];

			code[pos] = alt;
			assert_false(field_uscc_valid(code));
			code[pos] = keep;
		}
		assert_true(field_uscc_valid(code));
	}
}

static void test_id_number(void **state)
{
	static const struct str_case valid[] = {
		{"11010519491231002X", "11010519491231002X"},
		{"11010519491231002x", "11010519491231002X"},
		{"440301199003071230", "440301199003071230"},
		{"310104200002294568", "310104200002294568"}, /* 2000-02-29 */
		{"110101198001010010", "110101198001010010"},
		{"510102198511110004", "510102198511110004"},
		{"４４０３０１１９９００３０７１２３０", "440301199003071230"},
		{" 110105 19491231 002X ", "11010519491231002X"},
		/* one body per check character 0-9 and X (computed with Python) */
		{"320502197001010005", "320502197001010005"},
		{"320502197001010013", "320502197001010013"},
		{"320502197001010021", "320502197001010021"},
		{"32050219700101003X", "32050219700101003X"},
		{"320502197001010048", "320502197001010048"},
		{"320502197001010056", "320502197001010056"},
		{"320502197001010064", "320502197001010064"},
		{"320502197001010072", "320502197001010072"},
		{"320502197001010080", "320502197001010080"},
		{"320502197001010099", "320502197001010099"},
		{"320502197001010187", "320502197001010187"},
	};
	static const char *const invalid[] = {
		"11010519491231002Y",
		"110105194912310021",  /* wrong check */
		"440301199003071231",
		"110105194902310026",  /* 1949-02-31, check digit right */
		"11010520300101001X",  /* born in 2030, check right */
		"11010519491231002",   /* 17 */
		"11010519491231002XX",
		"1101051949123100AX",
		"110105491231002",     /* the old 15-digit form */
		"",
		"张三",
	};
	(void)state;
	setup_clock(NULL);
	for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
		char out[19];
		struct crm_error err = {0};

		if (field_id_number("id_number", valid[i].in, out, &err) != CRM_OK)
			fail_msg("id number \"%s\" refused: %s", valid[i].in, err.msg);
		assert_string_equal(out, valid[i].out);
	}
	for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
		char out[19] = "x";
		struct crm_error err = {0};

		if (field_id_number("id_number", invalid[i], out, &err) != CRM_EINVAL)
			fail_msg("id number \"%s\" accepted", invalid[i]);
		assert_names(&err, "id_number", invalid[i]);
		assert_string_equal(out, "");
	}
	{
		char out[19];
		struct crm_error err = {0};

		field_id_number("id_number", "110105194902310026", out, &err);
		assert_non_null(strstr(err.msg, "birth date"));
		field_id_number("id_number", "440301199003071231", out, &err);
		assert_non_null(strstr(err.msg, "check character"));
	}
}

/* ---- money and currencies ----------------------------------------------- */

struct money_case {
	const char *in;
	int64_t minor;
	const char *cur;
};

static void test_money_valid(void **state)
{
	static const struct money_case cases[] = {
		{"12000", 1200000, ""},
		{"12,000.50", 1200050, ""},
		{"1,234,567.89", 123456789, ""},
		{"¥12000", 1200000, "CNY"},
		{"￥1.5", 150, "CNY"},
		{"¥ 12,000", 1200000, "CNY"},
		{"12000 CNY", 1200000, "CNY"},
		{"12000cny", 1200000, "CNY"},
		{"USD 99.99", 9999, "USD"},
		{"usd99.99", 9999, "USD"},
		{"99.99 USD", 9999, "USD"},
		{"$5", 500, "USD"},
		{"US$5", 500, "USD"},
		{"€3", 300, "EUR"},
		{"3 EUR", 300, "EUR"},
		{"£2", 200, "GBP"},
		{"HK$10", 1000, "HKD"},
		{"hk$10", 1000, "HKD"},
		{"RMB 100", 10000, "CNY"},
		{"rmb100", 10000, "CNY"},
		{"100元", 10000, "CNY"},
		{"100 元", 10000, "CNY"},
		{"人民币100元", 10000, "CNY"},
		{"¥100元", 10000, "CNY"},
		{"50美元", 5000, "USD"},
		{"1.5万", 1500000, ""},
		{"1.5万元", 1500000, "CNY"},
		{"3万", 3000000, ""},
		{"3.2345万", 3234500, ""},
		{"0.0001万", 100, ""},
		{"-20", -2000, ""},
		{"−20", -2000, ""},  /* U+2212 */
		{"-¥20", -2000, "CNY"},
		{"¥-20", -2000, "CNY"},
		{"+20", 2000, ""},
		{"0", 0, ""},
		{"0.01", 1, ""},
		{"0.5", 50, ""},
		{"1.500", 150, ""},
		{"  12000  ", 1200000, ""},
		{"１２，０００．５０", 1200050, ""},
		{"￥１２０００", 1200000, "CNY"},
		{"92233720368547758.07", INT64_MAX, ""},
		{"-92233720368547758.07", -INT64_MAX, ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t minor = 42;
		char cur[FIELD_CURRENCY_MAX];
		struct crm_error err = {0};

		if (field_money("amount", cases[i].in, NULL, &minor, cur, &err) != CRM_OK)
			fail_msg("amount \"%s\" refused: %s", cases[i].in, err.msg);
		if (minor != cases[i].minor || strcmp(cur, cases[i].cur) != 0)
			fail_msg("amount \"%s\": got %lld %s, want %lld %s", cases[i].in,
				 (long long)minor, cur, (long long)cases[i].minor, cases[i].cur);
	}
}

static void test_money_default_currency(void **state)
{
	int64_t minor;
	char cur[FIELD_CURRENCY_MAX];
	struct crm_error err = {0};

	(void)state;
	assert_int_equal(field_money("amount", "12000", "CNY", &minor, cur, &err), CRM_OK);
	assert_string_equal(cur, "CNY");
	assert_int_equal(field_money("amount", "12000", "usd", &minor, cur, &err), CRM_OK);
	assert_string_equal(cur, "USD");
	/* a currency in the text wins over the default */
	assert_int_equal(field_money("amount", "€12", "CNY", &minor, cur, &err), CRM_OK);
	assert_string_equal(cur, "EUR");
	assert_int_equal(minor, 1200);
}

static void test_money_invalid(void **state)
{
	static const char *const cases[] = {
		"",
		"abc",
		"12.345",
		"0.001",
		"1,2000",
		"12,00",
		"1234,567",
		"1,234,56",
		",123",
		"1.2.3",
		"12.",
		".5",
		"$",
		"¥",
		"元",
		"USD 5 EUR",
		"¥5 USD",
		"$5 CNY",
		"99999999999999999999",
		"92233720368547758.08",
		"999999999999999万",
		"1e5",
		"--5",
		"5-",
		"12000 CN",
		"12000 CNYX",
		"1万万",
		"12 000",
		"五百",
		"0x10",
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t minor = 42;
		char cur[FIELD_CURRENCY_MAX];
		struct crm_error err = {0};

		if (field_money("amount", cases[i], NULL, &minor, cur, &err) != CRM_EINVAL)
			fail_msg("amount \"%s\" accepted as %lld %s", cases[i], (long long)minor, cur);
		assert_names(&err, "amount", cases[i]);
		assert_int_equal(minor, 42); /* untouched */
	}
	{
		int64_t minor;
		char cur[FIELD_CURRENCY_MAX];
		struct crm_error err = {0};

		field_money("amount", "12.345", NULL, &minor, cur, &err);
		assert_non_null(strstr(err.msg, "two decimals"));
		field_money("amount", "99999999999999999999", NULL, &minor, cur, &err);
		assert_non_null(strstr(err.msg, "too large"));
		assert_int_equal(field_money("amount", "5", "US", &minor, cur, &err), CRM_EINVAL);
	}
}

static void test_currency(void **state)
{
	static const struct str_case valid[] = {
		{"CNY", "CNY"}, {"cny", "CNY"}, {" usd ", "USD"}, {"ＥＵＲ", "EUR"},
		{"RMB", "CNY"}, {"¥", "CNY"},   {"人民币", "CNY"}, {"$", "USD"},
		{"HK$", "HKD"}, {"jpy", "JPY"},
	};
	static const char *const invalid[] = {"", "US", "USDX", "12A", "U D", "C1Y", "元元", "$$"};
	(void)state;
	for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
		char out[FIELD_CURRENCY_MAX];
		struct crm_error err = {0};

		if (field_currency("currency", valid[i].in, out, &err) != CRM_OK)
			fail_msg("currency \"%s\" refused: %s", valid[i].in, err.msg);
		assert_string_equal(out, valid[i].out);
	}
	for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
		char out[FIELD_CURRENCY_MAX];
		struct crm_error err = {0};

		if (field_currency("currency", invalid[i], out, &err) != CRM_EINVAL)
			fail_msg("currency \"%s\" accepted as %s", invalid[i], out);
		assert_names(&err, "currency", invalid[i]);
	}
}

/* ---- times and dates ---------------------------------------------------- */

struct time_case {
	const char *in;
	const char *utc; /* expected instant */
};

static void test_time_valid(void **state)
{
	static const struct time_case cases[] = {
		{"now", NOW_TEXT},
		{"NOW", NOW_TEXT},
		{"现在", NOW_TEXT},
		{"today", "2026-11-23T16:00:00Z"}, /* local midnight, UTC+8 */
		{"今天", "2026-11-23T16:00:00Z"},
		{"tomorrow", "2026-11-24T16:00:00Z"},
		{"明天", "2026-11-24T16:00:00Z"},
		{"yesterday", "2026-11-22T16:00:00Z"},
		{"tomorrow 09:30", "2026-11-25T01:30:00Z"},
		{"TOMORROW 09:30", "2026-11-25T01:30:00Z"},
		{"明天 09:30", "2026-11-25T01:30:00Z"},
		{"明天09:30", "2026-11-25T01:30:00Z"},
		{"today 18:00:30", "2026-11-24T10:00:30Z"},
		{"今天　１８：００", "2026-11-24T10:00:00Z"},
		{"+3d", "2026-11-27T06:30:00Z"},
		{"-2h", "2026-11-24T04:30:00Z"},
		{"+30m", "2026-11-24T07:00:00Z"},
		{"+1w", "2026-12-01T06:30:00Z"},
		{"-1d", "2026-11-23T06:30:00Z"},
		{"2026-11-24 14:30", "2026-11-24T06:30:00Z"},
		{"2026-11-24T14:30", "2026-11-24T06:30:00Z"},
		{"2026-11-24 14:30:15", "2026-11-24T06:30:15Z"},
		{"2026-11-24T06:30:00Z", "2026-11-24T06:30:00Z"},
		{"2026-11-24T14:30:00+08:00", "2026-11-24T06:30:00Z"},
		{"2026-11-24T01:30:00-05:00", "2026-11-24T06:30:00Z"},
		{"2026-11-24", "2026-11-23T16:00:00Z"},
		{"2026/11/24 14:30", "2026-11-24T06:30:00Z"},
		{"2026/11/24", "2026-11-23T16:00:00Z"},
		{"2026年11月24日 14:30", "2026-11-24T06:30:00Z"},
		{"2026年11月24日14:30", "2026-11-24T06:30:00Z"},
		{"2026年11月24日", "2026-11-23T16:00:00Z"},
		{"２０２６－１１－２４　１４：３０", "2026-11-24T06:30:00Z"},
		{"  2026-11-24 14:30  ", "2026-11-24T06:30:00Z"},
		{"2024-02-29 12:00", "2024-02-29T04:00:00Z"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t ms = 0;
		struct crm_error err = {0};

		if (field_time("occurred_at", cases[i].in, &ms, &err) != CRM_OK)
			fail_msg("time \"%s\" refused: %s", cases[i].in, err.msg);
		if (ms != utc(cases[i].utc))
			fail_msg("time \"%s\": got %lld, want %s", cases[i].in, (long long)ms,
				 cases[i].utc);
	}
}

static void test_time_follows_crm_now(void **state)
{
	int64_t ms;

	(void)state;
	setenv("CRM_NOW", "2030-01-01T00:00:00Z", 1);
	assert_int_equal(field_time("due_at", "now", &ms, NULL), CRM_OK);
	assert_true(ms == utc("2030-01-01T00:00:00Z"));
	assert_int_equal(field_time("due_at", "+1h", &ms, NULL), CRM_OK);
	assert_true(ms == utc("2030-01-01T01:00:00Z"));
	/* 00:00Z is 08:00 in Beijing: today is 2030-01-01 there */
	assert_int_equal(field_time("due_at", "today", &ms, NULL), CRM_OK);
	assert_true(ms == utc("2029-12-31T16:00:00Z"));
	setenv("CRM_NOW", "2030-01-01T20:00:00Z", 1);
	/* 04:00 the next morning in Beijing */
	assert_int_equal(field_time("due_at", "today", &ms, NULL), CRM_OK);
	assert_true(ms == utc("2030-01-01T16:00:00Z"));
	setenv("CRM_NOW", NOW_TEXT, 1);
}

static void test_time_invalid(void **state)
{
	static const char *const cases[] = {
		"",
		"soon",
		"next week",
		"+3",
		"+3x",
		"+3s",
		"3d",
		"+d",
		"+1.5h",
		"+99999999d",
		"+9999999w",
		"2026-02-30 10:00",
		"2026-13-01",
		"2026-11-24 25:00",
		"2026-11-24 14:60",
		"2026-11-24 14",
		"2026-11-24T14:30:00+25:00",
		"2026-11-24 14:30 tomorrow",
		"24/11/2026",
		"2026/11-24",
		"2026年11月",
		"14:30",
		"tomorrow 9:30",
		"tomorrow morning",
		"tomorrow 25:00",
		"todayx",
		"today 14:30 today",
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t ms = 42;
		struct crm_error err = {0};

		if (field_time("due_at", cases[i], &ms, &err) != CRM_EINVAL)
			fail_msg("time \"%s\" accepted as %lld", cases[i], (long long)ms);
		assert_names(&err, "due_at", cases[i]);
		assert_int_equal(ms, 42);
	}
}

static void test_date(void **state)
{
	static const struct str_case valid[] = {
		{"2026-11-24", "2026-11-24"},
		{"2026/11/24", "2026-11-24"},
		{"2026.11.24", "2026-11-24"},
		{"2026年11月24日", "2026-11-24"},
		{"2026年11月24号", "2026-11-24"},
		{"2026年1月5日", "2026-01-05"},
		{"2026-1-5", "2026-01-05"},
		{"20261124", "2026-11-24"},
		{"２０２６－１１－２４", "2026-11-24"},
		{"2024-02-29", "2024-02-29"},
		{"2000-02-29", "2000-02-29"},
		{"today", "2026-11-24"},
		{"Today", "2026-11-24"},
		{"今天", "2026-11-24"},
		{"tomorrow", "2026-11-25"},
		{"明天", "2026-11-25"},
		{"yesterday", "2026-11-23"},
		{"+7d", "2026-12-01"},
		{"-1d", "2026-11-23"},
		{"+2w", "2026-12-08"},
		{"+38d", "2027-01-01"},
		{"+0d", "2026-11-24"},
	};
	static const char *const invalid[] = {
		"", "2026-02-29", "1900-02-29", "2026-13-01", "2026-00-10", "2026-11-00",
		"2026-11-31", "2026-04-31", "2026/11-24", "24/11/2026", "11/24/2026", "+3h",
		"+3m", "+3", "2026-11-24 10:00", "2026-11-24T10:00", "abc", "2026年13月1日",
		"2026-111-24", "+999999d", "202611245", "tomorrow 10:00", "today 00:00",
	};
	(void)state;
	for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
		char out[11];
		struct crm_error err = {0};

		if (field_date("expected_close", valid[i].in, out, &err) != CRM_OK)
			fail_msg("date \"%s\" refused: %s", valid[i].in, err.msg);
		assert_string_equal(out, valid[i].out);
	}
	for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
		char out[11] = "x";
		struct crm_error err = {0};

		if (field_date("expected_close", invalid[i], out, &err) != CRM_EINVAL)
			fail_msg("date \"%s\" accepted as %s", invalid[i], out);
		assert_names(&err, "expected_close", invalid[i]);
		assert_string_equal(out, "");
	}
	{
		/* "today" is the local date: 20:00Z is already the next day in Beijing */
		char out[11];

		setenv("CRM_NOW", "2026-12-31T20:00:00Z", 1);
		assert_int_equal(field_date("d", "today", out, NULL), CRM_OK);
		assert_string_equal(out, "2027-01-01");
		setenv("TZ", "UTC", 1);
		tzset();
		assert_int_equal(field_date("d", "today", out, NULL), CRM_OK);
		assert_string_equal(out, "2026-12-31");
		setup_clock(NULL);
	}
}

/* ---- numbers and text --------------------------------------------------- */

static void test_int(void **state)
{
	int64_t v = 0;
	struct crm_error err = {0};
	static const char *const bad_sat[] = {"0", "6", "-1", "3.5", "abc", "", "3 4", "1e2",
					      "99999999999999999999", "0x3", "三"};

	(void)state;
	assert_int_equal(field_int("satisfaction", "3", 1, 5, &v, &err), CRM_OK);
	assert_int_equal(v, 3);
	assert_int_equal(field_int("satisfaction", "５", 1, 5, &v, &err), CRM_OK);
	assert_int_equal(v, 5);
	assert_int_equal(field_int("satisfaction", " 4 ", 1, 5, &v, &err), CRM_OK);
	assert_int_equal(v, 4);
	assert_int_equal(field_int("satisfaction", "+2", 1, 5, &v, &err), CRM_OK);
	assert_int_equal(v, 2);
	assert_int_equal(field_int("n", "-7", -10, 10, &v, &err), CRM_OK);
	assert_int_equal(v, -7);
	assert_int_equal(field_int("n", "9223372036854775807", INT64_MIN, INT64_MAX, &v, &err),
			 CRM_OK);
	assert_true(v == INT64_MAX);
	assert_int_equal(field_int("n", "-9223372036854775808", INT64_MIN, INT64_MAX, &v, &err),
			 CRM_OK);
	assert_true(v == INT64_MIN);
	assert_int_equal(field_int("n", "9223372036854775808", INT64_MIN, INT64_MAX, &v, &err),
			 CRM_EINVAL);
	for (size_t i = 0; i < sizeof bad_sat / sizeof bad_sat[0]; i++) {
		v = 42;
		if (field_int("satisfaction", bad_sat[i], 1, 5, &v, &err) != CRM_EINVAL)
			fail_msg("satisfaction \"%s\" accepted", bad_sat[i]);
		assert_names(&err, "satisfaction", bad_sat[i]);
		assert_int_equal(v, 42);
	}
	field_int("satisfaction", "7", 1, 5, &v, &err);
	assert_string_equal(err.msg,
			    "satisfaction \"7\": out of range (expected a whole number from 1 to 5)");
}

static void test_real(void **state)
{
	double v = 0;
	struct crm_error err = {0};
	static const char *const bad_lat[] = {"91", "-90.0001", "nan", "NaN", "inf", "-inf",
					      "0x10", "", "abc", "1,5", "1e999", "39.9N", ".",
					      "+-1"};

	(void)state;
	assert_int_equal(field_real("latitude", "39.9042", -90, 90, &v, &err), CRM_OK);
	assert_true(v > 39.904 && v < 39.905);
	assert_int_equal(field_real("longitude", "-116.4074", -180, 180, &v, &err), CRM_OK);
	assert_true(v < -116.407 && v > -116.408);
	assert_int_equal(field_real("longitude", "１１６．４", -180, 180, &v, &err), CRM_OK);
	assert_true(v > 116.39 && v < 116.41);
	assert_int_equal(field_real("latitude", "1e1", -90, 90, &v, &err), CRM_OK);
	assert_true(v > 9.99 && v < 10.01);
	assert_int_equal(field_real("latitude", "90", -90, 90, &v, &err), CRM_OK);
	assert_int_equal(field_real("latitude", "-90", -90, 90, &v, &err), CRM_OK);
	for (size_t i = 0; i < sizeof bad_lat / sizeof bad_lat[0]; i++) {
		v = 42;
		if (field_real("latitude", bad_lat[i], -90, 90, &v, &err) != CRM_EINVAL)
			fail_msg("latitude \"%s\" accepted", bad_lat[i]);
		assert_names(&err, "latitude", bad_lat[i]);
		assert_true(v == 42);
	}
}

static void expect_text(const char *in, size_t max, const char *want)
{
	char *out = NULL;
	struct crm_error err = {0};

	if (field_text("notes", in, max, &out, &err) != CRM_OK)
		fail_msg("text \"%s\" refused: %s", in, err.msg);
	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void expect_text_error(const char *in, size_t max, enum crm_err want)
{
	static char untouched[] = "untouched";
	char *out = untouched;
	struct crm_error err = {0};
	enum crm_err rc = field_text("notes", in, max, &out, &err);

	if (rc != want)
		fail_msg("text \"%s\": rc %d, want %d", in, rc, want);
	assert_null(out);
	assert_non_null(strstr(err.msg, "notes"));
}

static void test_text(void **state)
{
	char big[5000];

	(void)state;
	expect_text("  hello  ", 100, "hello");
	expect_text("\xe3\x80\x80深圳市华信科技有限公司\xe3\x80\x80", 100, "深圳市华信科技有限公司");
	expect_text("\t\n ACME Trading \n", 100, "ACME Trading");
	expect_text("line1\nline2\tx", 100, "line1\nline2\tx");
	expect_text("a\r\nb\r\n", 100, "a\nb");
	expect_text("\xef\xbb\xbfname", 100, "name"); /* BOM from an Excel CSV */
	expect_text("\xc2\xa0nbsp\xc2\xa0", 100, "nbsp");
	expect_text("ＡＢＣ １２３", 100, "ＡＢＣ １２３"); /* kept as typed */
	expect_text("", 100, "");
	expect_text("   ", 100, "");
	expect_text("\xe3\x80\x80", 100, "");
	expect_text("  abcde  ", 5, "abcde"); /* the limit counts the trimmed text */
	expect_text("华信", 6, "华信");
	expect_text_error("abcdef", 5, CRM_ETOOBIG);
	expect_text_error("华信", 5, CRM_ETOOBIG);
	expect_text_error("a\x01" "b", 100, CRM_EINVAL);
	expect_text_error("a\x1b[31mred", 100, CRM_EINVAL);
	expect_text_error("a\x7f", 100, CRM_EINVAL);
	expect_text_error("a\xc2\x85" "b", 100, CRM_EINVAL); /* NEL, a C1 control */
	expect_text_error("a\rb", 100, CRM_EINVAL);
	expect_text_error("\xff", 100, CRM_EUTF8);
	expect_text_error("abc\xe4\xb8", 100, CRM_EUTF8);    /* cut in the middle */
	expect_text_error("\xc0\xaf", 100, CRM_EUTF8);        /* overlong */
	expect_text_error("\xed\xa0\x80", 100, CRM_EUTF8);    /* a surrogate */
	expect_text_error("\xf4\x90\x80\x80", 100, CRM_EUTF8); /* past U+10FFFF */
	expect_text_error(NULL, 100, CRM_EINVAL);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	expect_text(big, sizeof big, big);
	expect_text_error(big, 4000, CRM_ETOOBIG);
	{
		char *out = NULL;
		struct crm_error err = {0};

		field_text("notes", "a\x01" "b", 100, &out, &err);
		assert_non_null(strstr(err.msg, "control character"));
		assert_null(strchr(err.msg, 0x01));
		field_text("name", big, 300, &out, &err);
		assert_non_null(strstr(err.msg, "at most 300"));
		assert_true(strlen(err.msg) < 300);
	}
}

/* ---- robustness --------------------------------------------------------- */

/*
 * Random strings built from fragments that the rules care about (and broken
 * bytes): no rule may crash, return an unexpected code, or accept something
 * whose canonical form it would not accept again unchanged.
 */
static void test_random_input(void **state)
{
	static const char *const frags[] = {
		"0", "1", "3", "8", "9", "86", "010", "138", "+", "-", " ", ".", ",", "(", ")",
		"@", "x", "ext", "转", "万", "元", "¥", "$", "HK$", "CNY", "usd", "年", "月", "日",
		"/", ":", "T", "Z", "today", "明天", "+3d", "e", "１", "＋", "\xe3\x80\x80", "\xff",
		"\xe4\xb8", "\x01", "A", "Y", "I", "com", "2026", "-11-", "24", "\n",
	};
	unsigned seed = 2026;
	(void)state;

	for (int round = 0; round < 20000; round++) {
		char in[128] = "";
		size_t len = 0;
		int parts;
		struct crm_error err = {0};
		enum crm_err rc;

		seed = seed * 1103515245u + 12345u;
		parts = (int)((seed >> 16) % 12);
		for (int k = 0; k < parts; k++) {
			const char *f;

			seed = seed * 1103515245u + 12345u;
			f = frags[(seed >> 16) % (sizeof frags / sizeof frags[0])];
			if (len + strlen(f) + 1 > sizeof in)
				break;
			memcpy(in + len, f, strlen(f) + 1);
			len += strlen(f);
		}
		{
			char out[FIELD_PHONE_MAX], again[FIELD_PHONE_MAX];

			rc = field_phone("phone", in, out, &err);
			assert_true(rc == CRM_OK || rc == CRM_EINVAL || rc == CRM_EUTF8);
			if (rc == CRM_OK) {
				assert_int_equal(out[0], '+');
				assert_true(strlen(out) <= 16);
				assert_int_equal(field_phone("phone", out, again, &err), CRM_OK);
				assert_string_equal(out, again);
			}
		}
		{
			char out[320], again[320];

			rc = field_email("email", in, out, sizeof out, &err);
			assert_true(rc == CRM_OK || rc == CRM_EINVAL || rc == CRM_EUTF8);
			if (rc == CRM_OK) {
				assert_int_equal(field_email("email", out, again, sizeof again, &err), CRM_OK);
				assert_string_equal(out, again);
			}
		}
		{
			char out[FIELD_USCC_LEN + 1];

			rc = field_uscc("uscc", in, out, &err);
			assert_true(rc == CRM_OK || rc == CRM_EINVAL || rc == CRM_EUTF8);
			if (rc == CRM_OK)
				assert_true(field_uscc_valid(out));
		}
		{
			int64_t minor, again;
			char cur[FIELD_CURRENCY_MAX], cur2[FIELD_CURRENCY_MAX];

			rc = field_money("amount", in, NULL, &minor, cur, &err);
			assert_true(rc == CRM_OK || rc == CRM_EINVAL || rc == CRM_EUTF8);
			if (rc == CRM_OK) {
				char text[64];

				assert_true(strlen(cur) == 0 || strlen(cur) == 3);
				snprintf(text, sizeof text, "%s%s%lld.%02lld %s", minor < 0 ? "-" : "", "",
					 (long long)(minor < 0 ? -(minor / 100) : minor / 100),
					 (long long)(minor < 0 ? -(minor % 100) : minor % 100), cur);
				assert_int_equal(field_money("amount", text, NULL, &again, cur2, &err), CRM_OK);
				assert_true(again == minor);
				assert_string_equal(cur, cur2);
			}
		}
		{
			int64_t ms;
			char date[11], again[11];

			rc = field_time("due_at", in, &ms, &err);
			assert_true(rc == CRM_OK || rc == CRM_EINVAL || rc == CRM_EUTF8);
			rc = field_date("expected_close", in, date, &err);
			assert_true(rc == CRM_OK || rc == CRM_EINVAL || rc == CRM_EUTF8);
			if (rc == CRM_OK) {
				assert_int_equal(field_date("d", date, again, &err), CRM_OK);
				assert_string_equal(date, again);
			}
		}
		{
			int64_t i;
			double r;
			char id[19];
			char *t = NULL;

			rc = field_int("n", in, -1000000, 1000000, &i, &err);
			assert_true(rc == CRM_OK || rc == CRM_EINVAL || rc == CRM_EUTF8);
			rc = field_real("r", in, -1e9, 1e9, &r, &err);
			assert_true(rc == CRM_OK || rc == CRM_EINVAL || rc == CRM_EUTF8);
			rc = field_id_number("id_number", in, id, &err);
			assert_true(rc == CRM_OK || rc == CRM_EINVAL || rc == CRM_EUTF8);
			rc = field_text("notes", in, 64, &t, &err);
			assert_true(rc == CRM_OK || rc == CRM_EINVAL || rc == CRM_EUTF8 ||
				    rc == CRM_ETOOBIG);
			assert_true((rc == CRM_OK) == (t != NULL));
			free(t);
		}
		if (rc != CRM_OK)
			assert_true(strlen(err.msg) > 0);
	}
}

/*
 * Phone-shaped random input (a prefix, digits, separators): whatever is
 * accepted is E.164 (+ and 8 to 15 digits), normalizes to itself, and a
 * Chinese result is a mobile 1[3-9] + 9 digits, a 400/800 number or a
 * landline whose subscriber part does not start with 0 or 1.
 */
static void test_random_phones(void **state)
{
	static const char *const prefixes[] = {"", "", "+", "00", "86", "+86 ", "0086", "0", "01",
					       "1", "13", "02", "07", "+1 ", "+44"};
	static const char *const seps[] = {"", "", "", " ", "-", ".", "(", ")", "\xe3\x80\x80"};
	unsigned seed = 86;
	int accepted = 0;
	(void)state;

	for (int round = 0; round < 30000; round++) {
		char in[96], out[FIELD_PHONE_MAX], again[FIELD_PHONE_MAX];
		size_t len;
		int ndig;

		seed = seed * 1103515245u + 12345u;
		snprintf(in, sizeof in, "%s", prefixes[(seed >> 16) % 15]);
		seed = seed * 1103515245u + 12345u;
		ndig = 5 + (int)((seed >> 16) % 12);
		for (int k = 0; k < ndig; k++) {
			seed = seed * 1103515245u + 12345u;
			len = strlen(in);
			snprintf(in + len, sizeof in - len, "%c%s", (char)('0' + (seed >> 16) % 10),
				 seps[(seed >> 20) % 9]);
		}
		if (field_phone("phone", in, out, NULL) != CRM_OK)
			continue;
		accepted++;
		len = strlen(out);
		assert_int_equal(out[0], '+');
		assert_true(len >= 9 && len <= 16);
		assert_int_equal(strspn(out + 1, "0123456789"), len - 1);
		if (field_phone("phone", out, again, NULL) != CRM_OK || strcmp(out, again) != 0)
			fail_msg("phone \"%s\" gave %s, which does not normalize to itself", in, out);
		if (strncmp(out, "+86", 3) == 0) {
			const char *n = out + 3;

			if (n[0] == '1' && n[1] != '0')
				assert_true(n[1] >= '3' && strlen(n) == 11);
			else if (strncmp(n, "400", 3) == 0 || strncmp(n, "800", 3) == 0)
				assert_int_equal(strlen(n), 10);
			else if (n[0] == '1' || n[0] == '2')
				assert_true(strlen(n) == 10 && n[2] >= '2');
			else
				assert_true((strlen(n) == 10 || strlen(n) == 11) && n[3] >= '2');
		}
	}
	/* enough of them were accepted for the checks above to mean something */
	assert_true(accepted > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phone_valid),
		cmocka_unit_test(test_phone_invalid),
		cmocka_unit_test(test_phone_messages),
		cmocka_unit_test(test_email_valid),
		cmocka_unit_test(test_email_invalid),
		cmocka_unit_test(test_uscc_known),
		cmocka_unit_test(test_uscc_invalid),
		cmocka_unit_test(test_uscc_property),
		cmocka_unit_test(test_id_number),
		cmocka_unit_test(test_money_valid),
		cmocka_unit_test(test_money_default_currency),
		cmocka_unit_test(test_money_invalid),
		cmocka_unit_test(test_currency),
		cmocka_unit_test(test_time_valid),
		cmocka_unit_test(test_time_follows_crm_now),
		cmocka_unit_test(test_time_invalid),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_real),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_random_input),
		cmocka_unit_test(test_random_phones),
	};

	return cmocka_run_group_tests(tests, setup_clock, NULL);
}
