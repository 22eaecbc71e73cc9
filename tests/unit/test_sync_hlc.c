/*
 * Unit tests of the hybrid logical clock: text form, monotonicity under a
 * frozen clock (CRM_NOW), counter overflow, skew refusal, and never going
 * backwards across restarts even when the wall clock does.
 */
#include "sync_testutil.h"

#include <unistd.h>

#include "hlc.h"

static void test_format_parse(void **state)
{
	static const char *const bad[] = {"", "-1", "01", " 1", "1 ", "1a", "+1",
					  "18446744073709551616", "99999999999999999999", "0x10"};
	char b[SYNC_HLC_STR_MAX];
	sync_hlc h = 0;

	(void)state;
	sync_hlc_format(UINT64_MAX, b);
	assert_string_equal(b, "18446744073709551615");
	assert_int_equal(sync_hlc_parse(b, &h), CRM_OK);
	assert_true(h == UINT64_MAX);
	assert_int_equal(sync_hlc_parse("0", &h), CRM_OK);
	assert_true(h == 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(sync_hlc_parse(bad[i], &h), CRM_EFORMAT);
	assert_int_equal(sync_hlc_parse(NULL, &h), CRM_EFORMAT);
}

static void test_tick(void **state)
{
	sync_hlc a = hlc_make(1000, 0), b;

	(void)state;
	b = hlc_tick(a, 1000);
	assert_true(b == a + 1);
	/* physical time ahead: counter restarts */
	assert_true(hlc_tick(b, 2000) == hlc_make(2000, 0));
	/* physical time behind: never go back */
	assert_true(hlc_tick(hlc_make(5000, 7), 10) == hlc_make(5000, 8));
	/* a full counter carries into the milliseconds */
	assert_true(hlc_tick(hlc_make(1000, 0xffff), 1000) == hlc_make(1001, 0));
	assert_true(SYNC_HLC_MS(hlc_make(123456, 9)) == 123456);
	assert_true(hlc_too_far(hlc_make(10000, 0), 1000, 5000));
	assert_false(hlc_too_far(hlc_make(6000, 0xffff), 1000, 5000));
}

static void test_frozen_clock_increases(void **state)
{
	struct tu_replica r;
	sync_hlc prev;

	(void)state;
	setenv("CRM_NOW", "2026-03-01T08:00:00Z", 1);
	tu_open(&r, ":memory:");
	prev = sync_hlc_next(r.s);
	/* more than one counter's worth under a clock that stands still */
	for (int i = 0; i < 70000; i++) {
		sync_hlc h = sync_hlc_next(r.s);

		assert_true(h > prev);
		prev = h;
	}
	assert_true(SYNC_HLC_MS(prev) > SYNC_HLC_MS(hlc_make(1772352000000LL, 0)));
	/* captured writes use the same clock */
	tu_exec(r.db, "INSERT INTO customers(id, name) VALUES('a', 'x')");
	assert_true((sync_hlc)tu_int(r.db, "SELECT hlc FROM sync_clock WHERE rid = 'a'") > prev);
	tu_close(&r);
	unsetenv("CRM_NOW");
}

static void test_skew_refused(void **state)
{
	struct tu_replica r;
	struct crm_error err;
	sync_hlc now_h, ahead, near;
	int64_t ms;

	(void)state;
	setenv("CRM_NOW", "2026-03-01T08:00:00Z", 1);
	tu_open(&r, ":memory:");
	now_h = sync_hlc_next(r.s);
	ms = SYNC_HLC_MS(now_h);
	ahead = hlc_make(ms + 6 * 60 * 1000, 0);
	near = hlc_make(ms + 60 * 1000, 5);
	assert_int_equal(sync_hlc_observe(r.s, ahead, &err), CRM_ECLOCK);
	assert_int_equal(err.code, CRM_ECLOCK);
	assert_true(sync_hlc_next(r.s) < ahead);
	assert_int_equal(sync_hlc_observe(r.s, near, &err), CRM_OK);
	assert_true(sync_hlc_next(r.s) > near);
	/* an older remote clock changes nothing */
	assert_int_equal(sync_hlc_observe(r.s, hlc_make(ms - 1000, 0), &err), CRM_OK);
	assert_true(sync_hlc_next(r.s) > near);
	tu_close(&r);
	unsetenv("CRM_NOW");
}

static void test_custom_skew(void **state)
{
	sqlite3 *db;
	struct sync_db *s;
	struct crm_error err;
	struct sync_options opt = {1000};
	sync_hlc h;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	tu_exec(db, TU_TABLE_SQL);
	assert_int_equal(sync_open(db, tu_tables, 2, &opt, &s, &err), CRM_OK);
	h = sync_hlc_next(s);
	assert_int_equal(sync_hlc_observe(s, h + ((sync_hlc)5000 << 16), &err), CRM_ECLOCK);
	assert_int_equal(sync_hlc_observe(s, h + ((sync_hlc)500 << 16), &err), CRM_OK);
	sync_close(s);
	sqlite3_close(db);
}

static void test_restart_never_back(void **state)
{
	char path[] = "/tmp/test_sync_hlc_XXXXXX";
	int fd = mkstemp(path);
	struct tu_replica r, o;
	struct sync_changeset cs;
	struct sync_apply_result res;
	struct crm_error err;
	sync_hlc last_local, remote, h;
	int64_t upto;
	bool more;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	setenv("CRM_NOW", "2026-03-01T08:00:00Z", 1);
	tu_open(&r, path);
	tu_exec(r.db, "INSERT INTO customers(id, name) VALUES('a', 'x')");
	tu_exec(r.db, "UPDATE customers SET name = 'y' WHERE id = 'a'");
	last_local = (sync_hlc)tu_int(r.db, "SELECT max(hlc) FROM sync_clock");
	tu_close(&r);

	/* the wall clock went back an hour: the HLC must not */
	setenv("CRM_NOW", "2026-03-01T07:00:00Z", 1);
	tu_open(&r, path);
	h = sync_hlc_next(r.s);
	assert_true(h > last_local);

	/* a remote clock observed by an apply (no local write after it) survives a restart */
	setenv("CRM_NOW", "2026-03-01T08:04:00Z", 1);
	tu_open(&o, ":memory:");
	tu_exec(o.db, "INSERT INTO customers(id, name) VALUES('b', 'remote')");
	assert_int_equal(sync_outbox(o.s, 100, &cs, &upto, &more, &err), CRM_OK);
	remote = cs.rows[0].fields[0].hlc;
	setenv("CRM_NOW", "2026-03-01T08:00:00Z", 1);
	assert_int_equal(sync_apply(r.s, &cs, 0, NULL, NULL, &res, &err), CRM_OK);
	assert_true(res.applied > 0);
	sync_apply_result_release(&res);
	sync_changeset_release(&cs);
	tu_close(&o);
	tu_close(&r);
	setenv("CRM_NOW", "2026-03-01T06:00:00Z", 1);
	tu_open(&r, path);
	assert_true(sync_hlc_next(r.s) > remote);
	tu_close(&r);
	unsetenv("CRM_NOW");
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_tick),
		cmocka_unit_test(test_frozen_clock_increases),
		cmocka_unit_test(test_skew_refused),
		cmocka_unit_test(test_custom_skew),
		cmocka_unit_test(test_restart_never_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
