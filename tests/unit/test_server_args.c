/* Unit tests for server/srv_args.c, crm-server's option parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "srv_args.h"

struct o {
	const char *db, *owner;
	bool json;
	const char *pos[2];
	size_t npos;
};

static int run(struct o *o, int argc, char **argv)
{
	const struct srv_arg specs[] = {
		{"--json", &o->json, NULL},
		{"--db", NULL, &o->db},
		{"--owner", NULL, &o->owner},
		{NULL, NULL, NULL},
	};

	o->db = o->owner = NULL;
	o->json = false;
	return srv_args_parse(argc, argv, specs, o->pos, 2, &o->npos);
}

static void test_parse(void **state)
{
	char a0[] = "customers", a1[] = "--db", a2[] = "x.db", a3[] = "a.csv", a4[] = "--json",
	     a5[] = "--owner", a6[] = "李四", b0[] = "--db", c0[] = "--colour", c1[] = "red",
	     d0[] = "a", d1[] = "b", d2[] = "c";
	char *ok[] = {a0, a1, a2, a3, a4, a5, a6};
	char *novalue[] = {b0};
	char *unknown[] = {c0, c1};
	char *many[] = {d0, d1, d2};
	struct o o;

	(void)state;
	assert_int_equal(run(&o, 7, ok), 0);
	assert_string_equal(o.db, "x.db");
	assert_string_equal(o.owner, "李四");
	assert_true(o.json);
	assert_int_equal(o.npos, 2);
	assert_string_equal(o.pos[0], "customers");
	assert_string_equal(o.pos[1], "a.csv");
	assert_int_equal(run(&o, 1, novalue), 2);
	assert_int_equal(run(&o, 2, unknown), 2);
	assert_int_equal(run(&o, 3, many), 2);
	assert_int_equal(srv_args_need_db(NULL), 2);
	assert_int_equal(srv_args_need_db("x.db"), 0);
}

static void test_count(void **state)
{
	size_t n = 7;

	(void)state;
	assert_int_equal(srv_args_count("--limit", "25", &n), 0);
	assert_int_equal(n, 25);
	assert_int_equal(srv_args_count("--limit", "-1", &n), 2);
	assert_int_equal(srv_args_count("--limit", "", &n), 2);
	assert_int_equal(srv_args_count("--limit", "3x", &n), 2);
	assert_int_equal(srv_args_count("--limit", "99999999999999999999", &n), 2);
	assert_int_equal(n, 25);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_count),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
