/*
 * Unit tests for common/: the error table, the capped buffer (growth, the cap,
 * detach), the clock and ISO-8601 text (zones, impossible dates, CRM_NOW),
 * UUIDv7 ids (format, order), UTF-8 validity and CJK display widths, and
 * reading a password from stdin.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "crm_buf.h"
#include "crm_err.h"
#include "crm_id.h"
#include "crm_secret.h"
#include "crm_time.h"
#include "crm_utf8.h"

/* ---- crm_err ------------------------------------------------------------ */

static void test_err(void **state)
{
	struct crm_error err;

	(void)state;
	assert_int_equal(CRM_OK, 0);
	assert_string_equal(crm_strerror(CRM_OK), "ok");
	assert_string_equal(crm_strerror(CRM_ENOTFOUND), "not found");
	assert_string_equal(crm_strerror((enum crm_err)999), "unknown error");
	assert_string_equal(crm_errname(CRM_EINVAL), "inval");
	assert_string_equal(crm_errname(CRM_EVERSION), "version");
	assert_string_equal(crm_errname((enum crm_err)-1), "unknown");
	for (int c = 0; c < CRM_E_COUNT; c++) {
		assert_true(strlen(crm_strerror((enum crm_err)c)) > 0);
		assert_true(strlen(crm_errname((enum crm_err)c)) > 0);
		for (int d = 0; d < c; d++)
			assert_string_not_equal(crm_errname((enum crm_err)c),
						crm_errname((enum crm_err)d));
	}
	assert_int_equal(crm_fail(&err, CRM_EINVAL, "phone \"%s\": %d", "12345", 7), CRM_EINVAL);
	assert_int_equal(err.code, CRM_EINVAL);
	assert_string_equal(err.msg, "phone \"12345\": 7");
	assert_int_equal(crm_fail(NULL, CRM_EDB, "x"), CRM_EDB);
	crm_error_clear(&err);
	assert_int_equal(err.code, CRM_OK);
	assert_string_equal(err.msg, "");
	crm_error_clear(NULL);
	{
		/* a message longer than the buffer is cut, still terminated */
		char big[CRM_ERRMSG_MAX * 2];

		memset(big, 'a', sizeof big - 1);
		big[sizeof big - 1] = '\0';
		crm_fail(&err, CRM_ETOOBIG, "%s", big);
		assert_int_equal(strlen(err.msg), CRM_ERRMSG_MAX - 1);
	}
}

/* ---- crm_buf ------------------------------------------------------------ */

static void test_buf_basic(void **state)
{
	struct crm_buf b;

	(void)state;
	crm_buf_init(&b, 1024);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0); /* nothing allocated yet */
	assert_int_equal(crm_buf_addstr(&b, "hello"), CRM_OK);
	assert_int_equal(crm_buf_add(&b, ", ", 2), CRM_OK);
	assert_int_equal(crm_buf_addf(&b, "%s %d", "世界", 42), CRM_OK);
	assert_string_equal(b.data, "hello, 世界 42");
	assert_int_equal(b.len, strlen("hello, 世界 42"));
	assert_int_equal(crm_buf_add(&b, NULL, 0), CRM_OK);
	crm_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_true(b.cap > 0); /* reset keeps the allocation */
	assert_int_equal(crm_buf_addstr(&b, "again"), CRM_OK);
	assert_string_equal(b.data, "again");
	crm_buf_release(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.max, 1024);
	assert_string_equal(b.data, "");
	crm_buf_release(&b); /* twice is harmless */
	crm_buf_reset(&b);   /* so is resetting an empty one */
	assert_string_equal(b.data, "");
}

static void test_buf_growth(void **state)
{
	struct crm_buf b;
	char chunk[100];

	(void)state;
	crm_buf_init(&b, 1 << 20);
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(chunk, sizeof chunk, "%d,", i);

		assert_int_equal(crm_buf_add(&b, chunk, (size_t)n), CRM_OK);
		assert_true(b.cap > b.len);
		assert_int_equal(b.data[b.len], '\0');
	}
	/* the content survived every realloc */
	assert_int_equal(strncmp(b.data, "0,1,2,3,", 8), 0);
	assert_non_null(strstr(b.data, ",4998,4999,"));
	assert_int_equal(b.len, strlen(b.data));
	/* a large printf in one go */
	crm_buf_reset(&b);
	assert_int_equal(crm_buf_addf(&b, "%0*d", 10000, 7), CRM_OK);
	assert_int_equal(b.len, 10000);
	assert_int_equal(b.data[9999], '7');
	assert_int_equal(crm_buf_grow(&b, 50000), CRM_OK);
	assert_true(b.cap >= b.len + 50000 + 1);
	assert_int_equal(b.len, 10000);
	crm_buf_release(&b);
}

static void test_buf_cap(void **state)
{
	struct crm_buf b;

	(void)state;
	crm_buf_init(&b, 10);
	assert_int_equal(crm_buf_addstr(&b, "0123456789"), CRM_OK); /* exactly max */
	assert_int_equal(b.len, 10);
	assert_true(b.cap <= 11); /* never more than max + NUL */
	assert_int_equal(crm_buf_addstr(&b, "x"), CRM_ETOOBIG);
	assert_string_equal(b.data, "0123456789"); /* unchanged by the failure */
	assert_int_equal(crm_buf_add(&b, "", 0), CRM_OK);
	crm_buf_reset(&b);
	assert_int_equal(crm_buf_addf(&b, "%s", "01234567890"), CRM_ETOOBIG);
	assert_int_equal(b.len, 0);
	assert_int_equal(crm_buf_addf(&b, "%d", 123456), CRM_OK);
	assert_int_equal(crm_buf_grow(&b, 5), CRM_ETOOBIG);
	assert_int_equal(crm_buf_grow(&b, 4), CRM_OK);
	assert_int_equal(crm_buf_grow(&b, SIZE_MAX), CRM_ETOOBIG);
	assert_int_equal(crm_buf_add(&b, "x", SIZE_MAX), CRM_ETOOBIG);
	crm_buf_release(&b);

	crm_buf_init(&b, 0);
	assert_int_equal(crm_buf_addstr(&b, "a"), CRM_ETOOBIG);
	assert_int_equal(crm_buf_addstr(&b, ""), CRM_OK);
	assert_string_equal(b.data, "");
	crm_buf_release(&b);

	/* "no real limit": the cap arithmetic must not wrap around */
	crm_buf_init(&b, SIZE_MAX);
	assert_int_equal(crm_buf_addstr(&b, "hello"), CRM_OK);
	assert_int_equal(crm_buf_addf(&b, " %s", "world"), CRM_OK);
	assert_string_equal(b.data, "hello world");
	crm_buf_release(&b);
}

static void test_buf_detach(void **state)
{
	struct crm_buf b;
	size_t len = 99;
	char *s;

	(void)state;
	crm_buf_init(&b, 100);
	s = crm_buf_detach(&b, &len); /* empty: still a malloc()ed "" */
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
	assert_int_equal(crm_buf_addstr(&b, "深圳市华信"), CRM_OK);
	s = crm_buf_detach(&b, &len);
	assert_string_equal(s, "深圳市华信");
	assert_int_equal(len, strlen("深圳市华信"));
	/* b is empty and usable again, and no longer owns s */
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(crm_buf_addstr(&b, "next"), CRM_OK);
	assert_string_equal(s, "深圳市华信");
	free(s);
	s = crm_buf_detach(&b, NULL);
	assert_string_equal(s, "next");
	free(s);
	crm_buf_release(&b);
}

/* ---- crm_time ----------------------------------------------------------- */

static int64_t parse_utc(const char *s)
{
	int64_t ms = 0;

	if (crm_time_parse(s, false, &ms) != CRM_OK)
		fail_msg("\"%s\" did not parse", s);
	return ms;
}

static void test_days_from_civil(void **state)
{
	(void)state;
	assert_int_equal(crm_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(crm_days_from_civil(1970, 1, 2), 1);
	assert_int_equal(crm_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(crm_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(crm_days_from_civil(2026, 11, 24), 20781);
	assert_int_equal(crm_days_from_civil(2024, 3, 1) - crm_days_from_civil(2024, 2, 28), 2);
	assert_int_equal(crm_days_from_civil(2100, 3, 1) - crm_days_from_civil(2100, 2, 28), 1);
	/* agrees with timegm() over a long stretch of days */
	for (int64_t days = -800000; days < 800000; days += 997) {
		time_t t = (time_t)(days * 86400);
		struct tm tm;

		assert_non_null(gmtime_r(&t, &tm));
		assert_int_equal(crm_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday),
				 days);
	}
}

static void test_date_parse(void **state)
{
	int y, m, d;
	static const char *const bad[] = {
		"2026-02-29", "2026-02-30", "2026-04-31", "2026-13-01", "2026-00-01", "2026-01-00",
		"1900-02-29", "0000-01-01", "2026-1-01",  "2026/01/01", "26-01-01",   "",
		"2026-01-0x", "abcd-ef-gh", "2026-01-01x", "2026-01-01 10:00",
	};

	(void)state;
	assert_int_equal(crm_date_parse("2026-11-24", &y, &m, &d), CRM_OK);
	assert_int_equal(y, 2026);
	assert_int_equal(m, 11);
	assert_int_equal(d, 24);
	assert_int_equal(crm_date_parse("2024-02-29", &y, &m, &d), CRM_OK);
	assert_int_equal(crm_date_parse("2000-02-29", &y, &m, &d), CRM_OK);
	assert_int_equal(crm_date_parse("9999-12-31", &y, &m, &d), CRM_OK);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (crm_date_parse(bad[i], &y, &m, &d) != CRM_EINVAL)
			fail_msg("date \"%s\" accepted", bad[i]);
}

static void test_time_parse_utc(void **state)
{
	int64_t ms;
	static const char *const bad[] = {
		"",
		"2026-11-24T",
		"2026-11-24 ",
		"2026-11-24T24:00",
		"2026-11-24T12:60",
		"2026-11-24T12:00:61",
		"2026-11-24T1:00",
		"2026-11-24T12",
		"2026-11-24T12:00:00.",
		"2026-11-24T12:00:00Zjunk",
		"2026-11-24T12:00+24:00",
		"2026-11-24T12:00+08:60",
		"2026-11-24T12:00+8",
		"2026-02-30T12:00Z",
		"2026-11-24X12:00",
		"24/11/2026",
		"now",
	};

	(void)state;
	assert_true(parse_utc("1970-01-01T00:00:00Z") == 0);
	assert_true(parse_utc("1970-01-01T00:00:01Z") == 1000);
	assert_true(parse_utc("1969-12-31T23:59:59Z") == -1000);
	assert_true(parse_utc("2026-11-24") == 20781LL * 86400000);
	assert_true(parse_utc("2026-11-24T06:30:00Z") == 20781LL * 86400000 + 23400000);
	assert_true(parse_utc("2026-11-24t06:30:00z") == parse_utc("2026-11-24T06:30:00Z"));
	assert_true(parse_utc("2026-11-24 06:30") == parse_utc("2026-11-24T06:30:00Z"));
	assert_true(parse_utc("2026-11-24T06:30") == parse_utc("2026-11-24T06:30:00Z"));
	/* zone-less text read as UTC when local is false */
	assert_true(parse_utc("2026-11-24T06:30:00") == parse_utc("2026-11-24T06:30:00Z"));
	/* offsets in every spelling */
	assert_true(parse_utc("2026-11-24T14:30:00+08:00") == parse_utc("2026-11-24T06:30:00Z"));
	assert_true(parse_utc("2026-11-24T14:30:00+0800") == parse_utc("2026-11-24T06:30:00Z"));
	assert_true(parse_utc("2026-11-24T14:30:00+08") == parse_utc("2026-11-24T06:30:00Z"));
	assert_true(parse_utc("2026-11-24T01:00:00-05:30") == parse_utc("2026-11-24T06:30:00Z"));
	assert_true(parse_utc("2026-11-24T00:30:00-06:00") == parse_utc("2026-11-24T06:30:00Z"));
	assert_true(parse_utc("2026-11-25T00:30:00+18:00") == parse_utc("2026-11-24T06:30:00Z"));
	/* fractions: milliseconds kept, finer digits dropped */
	assert_true(parse_utc("1970-01-01T00:00:00.5Z") == 500);
	assert_true(parse_utc("1970-01-01T00:00:00.123Z") == 123);
	assert_true(parse_utc("1970-01-01T00:00:00.123999Z") == 123);
	assert_true(parse_utc("1970-01-01T00:00:00.007Z") == 7);
	/* across a leap day and a year end */
	assert_true(parse_utc("2024-03-01T00:00:00Z") - parse_utc("2024-02-28T00:00:00Z") ==
		    2 * 86400000LL);
	assert_true(parse_utc("2027-01-01T00:00:00+08:00") == parse_utc("2026-12-31T16:00:00Z"));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (crm_time_parse(bad[i], false, &ms) != CRM_EINVAL)
			fail_msg("time \"%s\" accepted", bad[i]);
	assert_int_equal(crm_time_parse(NULL, false, &ms), CRM_EINVAL);
}

static void test_time_parse_local(void **state)
{
	(void)state;
	setenv("TZ", "Asia/Shanghai", 1);
	tzset();
	{
		int64_t ms;

		assert_int_equal(crm_time_parse("2026-11-24 14:30", true, &ms), CRM_OK);
		assert_true(ms == parse_utc("2026-11-24T06:30:00Z"));
		assert_int_equal(crm_time_parse("2026-11-24", true, &ms), CRM_OK);
		assert_true(ms == parse_utc("2026-11-23T16:00:00Z"));
		/* an explicit zone wins over local */
		assert_int_equal(crm_time_parse("2026-11-24T06:30:00Z", true, &ms), CRM_OK);
		assert_true(ms == parse_utc("2026-11-24T06:30:00Z"));
	}
	/* a zone with daylight saving: each side of the change */
	setenv("TZ", "America/New_York", 1);
	tzset();
	{
		int64_t ms;

		assert_int_equal(crm_time_parse("2026-07-01 12:00", true, &ms), CRM_OK);
		assert_true(ms == parse_utc("2026-07-01T16:00:00Z")); /* EDT, UTC-4 */
		assert_int_equal(crm_time_parse("2026-01-15 12:00", true, &ms), CRM_OK);
		assert_true(ms == parse_utc("2026-01-15T17:00:00Z")); /* EST, UTC-5 */
		/* 2026-03-08: 03:00 local is just after the jump */
		assert_int_equal(crm_time_parse("2026-03-08 03:00", true, &ms), CRM_OK);
		assert_true(ms == parse_utc("2026-03-08T07:00:00Z"));
		assert_int_equal(crm_time_parse("2026-03-08 01:00", true, &ms), CRM_OK);
		assert_true(ms == parse_utc("2026-03-08T06:00:00Z"));
	}
	setenv("TZ", "UTC", 1);
	tzset();
}

static void test_time_format(void **state)
{
	char out[CRM_TIME_ISO_MAX];

	(void)state;
	crm_time_format_utc(0, out);
	assert_string_equal(out, "1970-01-01T00:00:00.000Z");
	crm_time_format_utc(parse_utc("2026-11-24T06:30:05.042Z"), out);
	assert_string_equal(out, "2026-11-24T06:30:05.042Z");
	crm_time_format_utc(-1, out);
	assert_string_equal(out, "1969-12-31T23:59:59.999Z");
	/* round trip over many instants */
	for (int64_t ms = -5000000000000LL; ms < 5000000000000LL; ms += 123456789013LL) {
		int64_t back;

		crm_time_format_utc(ms, out);
		assert_int_equal(crm_time_parse(out, false, &back), CRM_OK);
		assert_true(back == ms);
	}
	setenv("TZ", "Asia/Shanghai", 1);
	tzset();
	crm_time_format_local(parse_utc("2026-11-24T06:30:59Z"), out);
	assert_string_equal(out, "2026-11-24 14:30");
	crm_time_format_local(parse_utc("2026-12-31T16:00:00Z"), out);
	assert_string_equal(out, "2027-01-01 00:00");
	setenv("TZ", "UTC", 1);
	tzset();
	crm_time_format_local(parse_utc("2026-11-24T06:30:59Z"), out);
	assert_string_equal(out, "2026-11-24 06:30");
}

static void test_now(void **state)
{
	struct timeval tv;
	int64_t real, now;

	(void)state;
	unsetenv("CRM_NOW");
	gettimeofday(&tv, NULL);
	real = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
	now = crm_now_ms();
	assert_true(now >= real && now - real < 5000);

	setenv("CRM_NOW", "2026-11-24T06:30:00Z", 1);
	assert_true(crm_now_ms() == parse_utc("2026-11-24T06:30:00Z"));
	assert_true(crm_now_ms() == parse_utc("2026-11-24T06:30:00Z")); /* stands still */
	setenv("CRM_NOW", "2030-01-01T00:00:00.250Z", 1); /* a new value is read */
	assert_true(crm_now_ms() == parse_utc("2030-01-01T00:00:00.250Z"));
	setenv("CRM_NOW", "2026-11-24T14:30:00+08:00", 1);
	assert_true(crm_now_ms() == parse_utc("2026-11-24T06:30:00Z"));
	setenv("CRM_NOW", "2026-11-24", 1);
	assert_true(crm_now_ms() == parse_utc("2026-11-24T00:00:00Z"));
	/* an unparsable CRM_NOW falls back to the real clock */
	setenv("CRM_NOW", "yesterday", 1);
	now = crm_now_ms();
	assert_true(now >= real && now - real < 5000);
	setenv("CRM_NOW", "", 1);
	now = crm_now_ms();
	assert_true(now >= real && now - real < 5000);
	unsetenv("CRM_NOW");
}

/* ---- crm_id ------------------------------------------------------------- */

static void check_v7(const char *id, int64_t want_ms)
{
	unsigned long long ts = 0;
	char hex[13];

	assert_int_equal(strlen(id), CRM_ID_LEN);
	assert_true(crm_id_valid(id));
	for (int i = 0; i < CRM_ID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(id[i], '-');
		else
			assert_true((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'));
	}
	assert_int_equal(id[14], '7');                 /* version 7 */
	assert_non_null(strchr("89ab", id[19]));       /* RFC 9562 variant */
	memcpy(hex, id, 8);
	memcpy(hex + 8, id + 9, 4);
	hex[12] = '\0';
	ts = strtoull(hex, NULL, 16);
	if (want_ms >= 0)
		assert_true((int64_t)ts >= want_ms && (int64_t)ts <= want_ms + 2);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void test_id(void **state)
{
	enum { N = 10000 };
	static char ids[N][CRM_ID_SIZE];
	static const char *sorted[N];
	char id[CRM_ID_SIZE];

	(void)state;
	setenv("CRM_NOW", "2026-11-24T06:30:00Z", 1);
	crm_id_new(id);
	check_v7(id, parse_utc("2026-11-24T06:30:00Z"));
	/* with the clock standing still, 10,000 ids are still strictly increasing */
	for (int i = 0; i < N; i++) {
		crm_id_new(ids[i]);
		check_v7(ids[i], -1);
		if (i > 0 && strcmp(ids[i - 1], ids[i]) >= 0)
			fail_msg("id %d not after the previous: %s then %s", i, ids[i - 1], ids[i]);
		sorted[i] = ids[i];
	}
	qsort(sorted, N, sizeof sorted[0], cmp_str);
	for (int i = 1; i < N; i++)
		assert_string_not_equal(sorted[i - 1], sorted[i]);
	/* a clock going backwards does not break the order either */
	setenv("CRM_NOW", "2026-11-24T06:00:00Z", 1);
	crm_id_new(id);
	assert_true(strcmp(ids[N - 1], id) < 0);
	/* a later clock moves the timestamp on */
	setenv("CRM_NOW", "2027-01-01T00:00:00Z", 1);
	crm_id_new(id);
	check_v7(id, parse_utc("2027-01-01T00:00:00Z"));
	unsetenv("CRM_NOW");
	crm_id_new(id); /* the real clock is behind 2027: order still holds */
	check_v7(id, -1);
	assert_true(strcmp(ids[N - 1], id) < 0);

	assert_true(crm_id_valid("0190c3e2-1234-7abc-8def-0123456789ab"));
	assert_true(crm_id_valid("0190C3E2-1234-7ABC-8DEF-0123456789AB"));
	assert_true(crm_id_valid("00000000-0000-0000-0000-000000000000"));
	assert_false(crm_id_valid(NULL));
	assert_false(crm_id_valid(""));
	assert_false(crm_id_valid("0190c3e2-1234-7abc-8def-0123456789a"));
	assert_false(crm_id_valid("0190c3e2-1234-7abc-8def-0123456789abc"));
	assert_false(crm_id_valid("0190c3e2x1234-7abc-8def-0123456789ab"));
	assert_false(crm_id_valid("0190c3e2-1234-7abc-8def-0123456789ag"));
	assert_false(crm_id_valid("0190c3e21234-7abc-8def-0123456789ab-"));
	assert_false(crm_id_valid("{0190c3e2-1234-7abc-8def-0123456789}"));
}

/* ---- crm_utf8 ----------------------------------------------------------- */

static void test_utf8_valid(void **state)
{
	static const char *const good[] = {
		"", "hello", "深圳市华信科技有限公司", "ＡＢＣ１２３", "é", "😀", "a\tb\nc",
		"\xf4\x8f\xbf\xbf", /* U+10FFFF */
	};
	static const struct {
		const char *s;
		size_t n;
	} bad[] = {
		{"\xff", 1},
		{"\xc0\xaf", 2},          /* overlong '/' */
		{"\xe0\x80\xaf", 3},      /* overlong */
		{"\xed\xa0\x80", 3},      /* surrogate U+D800 */
		{"\xf4\x90\x80\x80", 4},  /* beyond U+10FFFF */
		{"\xe4\xb8", 2},          /* cut short */
		{"abc\x80", 4},           /* stray continuation */
		{"\xe4\xb8\xad\xe6", 4},  /* complete char then cut */
		{"a\0b", 3},              /* NUL inside */
	};

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!crm_utf8_valid(good[i], strlen(good[i])))
			fail_msg("\"%s\" refused", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (crm_utf8_valid(bad[i].s, bad[i].n))
			fail_msg("bad case %zu accepted", i);
	/* only n bytes are looked at */
	assert_true(crm_utf8_valid("中\xff", 3));
	assert_false(crm_utf8_valid("中\xff", 4));
}

static void test_utf8_width(void **state)
{
	size_t cols = 99;

	(void)state;
	assert_int_equal(crm_utf8_width(""), 0);
	assert_int_equal(crm_utf8_width("ACME Trading"), 12);
	assert_int_equal(crm_utf8_width("华信"), 4);
	assert_int_equal(crm_utf8_width("深圳市华信科技有限公司"), 22);
	assert_int_equal(crm_utf8_width("ＡＢＣ"), 6);      /* full-width Latin */
	assert_int_equal(crm_utf8_width("ｱｲｳ"), 3);         /* half-width katakana */
	assert_int_equal(crm_utf8_width("e\xcc\x81"), 1);   /* e + combining acute */
	assert_int_equal(crm_utf8_width("张三 Zhang"), 10);
	assert_int_equal(crm_utf8_width("。，"), 4);        /* CJK punctuation */

	/* prefixes cut between characters, never inside a wide one */
	assert_int_equal(crm_utf8_prefix("华信科技", 5, &cols), 6);
	assert_int_equal(cols, 4);
	assert_int_equal(crm_utf8_prefix("华信科技", 4, &cols), 6);
	assert_int_equal(cols, 4);
	assert_int_equal(crm_utf8_prefix("华信科技", 1, &cols), 0);
	assert_int_equal(cols, 0);
	assert_int_equal(crm_utf8_prefix("华信科技", 100, &cols), 12);
	assert_int_equal(cols, 8);
	assert_int_equal(crm_utf8_prefix("ab华", 3, &cols), 2);
	assert_int_equal(cols, 2);
	assert_int_equal(crm_utf8_prefix("ab华", 4, NULL), 5);
	assert_int_equal(crm_utf8_prefix("hello", 0, &cols), 0);
	/* broken bytes count as one column each and do not stop the walk */
	assert_int_equal(crm_utf8_width("a\xff" "b"), 3);
}

/* Makes stdin read text (from a temporary file). */
static void stdin_is(const char *text, size_t n)
{
	char path[] = "/tmp/test_common_secret_XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
	assert_non_null(freopen(path, "r", stdin));
	unlink(path);
}

/* A password from stdin: the line without its ending; nothing or a blank line refused. */
static void test_secret_read(void **state)
{
	char pw[16];
	struct crm_error err;

	(void)state;
	stdin_is("s3cret 密码\r\nrest\n", strlen("s3cret 密码\r\nrest\n"));
	assert_int_equal(crm_secret_read("password: ", pw, sizeof pw, &err), CRM_OK);
	assert_string_equal(pw, "s3cret 密码");
	stdin_is("\n", 1);
	assert_int_equal(crm_secret_read("password: ", pw, sizeof pw, &err), CRM_EUSAGE);
	assert_non_null(strstr(err.msg, "no password"));
	stdin_is("", 0);
	assert_int_equal(crm_secret_read("password: ", pw, sizeof pw, &err), CRM_EUSAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err),
		cmocka_unit_test(test_buf_basic),
		cmocka_unit_test(test_buf_growth),
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_buf_detach),
		cmocka_unit_test(test_days_from_civil),
		cmocka_unit_test(test_date_parse),
		cmocka_unit_test(test_time_parse_utc),
		cmocka_unit_test(test_time_parse_local),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_now),
		cmocka_unit_test(test_id),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_width),
		cmocka_unit_test(test_secret_read),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
