/*
 * Unit tests of POST /v1/sync without HTTP: the route is called in-process
 * with envelopes built here. Covers authority (permission, server-only
 * columns, values, clocks) with receipts and corrections, owner assignment,
 * idempotent replays, version checks, the filtered pull, scope entry and
 * eviction acknowledged by generation, and conflicts handed to both devices.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db_testutil.h"
#include "crm_time.h"
#include "migrate.h"
#include "srv_app.h"
#include "srv_users.h"

#define SITE_A1 "01900000-0000-7000-8000-00000000a001"
#define SITE_A2 "01900000-0000-7000-8000-00000000a002"
#define SITE_B "01900000-0000-7000-8000-00000000b001"
#define CUST_A "01900000-0000-7000-8000-0000000c0a01"
#define CUST_B "01900000-0000-7000-8000-0000000c0b01"

struct fx {
	char path[64];
	struct srv_app app;
	char tok_a1[SRV_TOKEN_SIZE], tok_a2[SRV_TOKEN_SIZE], tok_b[SRV_TOKEN_SIZE];
	char tok_m[SRV_TOKEN_SIZE];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct crm_error err;
	struct srv_db d;
	struct srv_session s;

	assert_non_null(f);
	dbtu_temp_path(f->path, sizeof f->path, "test_server_sync");
	assert_int_equal(srv_db_open(f->path, SRV_DB_CREATE | SRV_DB_SYNC, &d, &err), CRM_OK);
	assert_int_equal(srv_user_add(d.db, "alice", SRV_REP, "east", "pw", &err), CRM_OK);
	assert_int_equal(srv_user_add(d.db, "bob", SRV_REP, "west", "pw", &err), CRM_OK);
	assert_int_equal(srv_user_add(d.db, "mgr", SRV_MANAGER, "east", "pw", &err), CRM_OK);
	assert_int_equal(srv_login(d.db, "alice", "pw", "a1", f->tok_a1, &s, &err), CRM_OK);
	assert_int_equal(srv_login(d.db, "alice", "pw", "a2", f->tok_a2, &s, &err), CRM_OK);
	assert_int_equal(srv_login(d.db, "bob", "pw", "b", f->tok_b, &s, &err), CRM_OK);
	assert_int_equal(srv_login(d.db, "mgr", "pw", "m", f->tok_m, &s, &err), CRM_OK);
	srv_db_close(&d);
	assert_int_equal(srv_app_open(&f->app, f->path, 2, &err), CRM_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	srv_app_close(&f->app);
	dbtu_remove(f->path);
	free(f);
	return 0;
}

/* Calls the route; returns the status, *out the answer (caller frees). */
static unsigned call(struct fx *f, const char *token, const char *body, cJSON **out)
{
	struct srv_req req;
	struct srv_resp resp = {0, NULL};
	char auth[128];
	cJSON *json = cJSON_Parse(body);

	assert_non_null(json);
	memset(&req, 0, sizeof req);
	snprintf(auth, sizeof auth, "Bearer %s", token ? token : "");
	req.method = "POST";
	req.path = "/v1/sync";
	req.json = json;
	req.authorization = token ? auth : NULL;
	resp.status = 200;
	srv_route_sync(&f->app, &req, &resp);
	cJSON_Delete(json);
	/* as on the wire: printed and read back (a pull page is a raw node) */
	{
		char *text = resp.json ? cJSON_PrintUnformatted(resp.json) : NULL;

		cJSON_Delete(resp.json);
		*out = text ? cJSON_Parse(text) : NULL;
		free(text);
	}
	return resp.status;
}

static char *hlc_now(int64_t plus_ms)
{
	static char b[4][32];
	static int k;
	char *p = b[k++ % 4];

	snprintf(p, 32, "%llu", (unsigned long long)((uint64_t)(crm_now_ms() + plus_ms) << 16));
	return p;
}

/* An envelope with a push of one row: fields is the JSON of "f". */
static char *push1(const char *site, const char *batch, const char *cursor, const char *ack,
		   const char *table, const char *id, const char *fields, int64_t skew_ms)
{
	char *b = malloc(4096);

	assert_non_null(b);
	snprintf(b, 4096,
		 "{\"protocol\":1,\"schema\":%d,\"site\":\"%s\",\"batch\":\"%s\",\"cursor\":\"%s\","
		 "\"ack\":\"%s\",\"push\":[{\"t\":\"%s\",\"id\":\"%s\",\"h\":\"%s\",\"s\":\"%s\",\"f\":%s}]}",
		 schema_version(), site, batch, cursor, ack, table, id, hlc_now(skew_ms), site, fields);
	return b;
}

static char *pull(const char *site, const char *cursor, const char *ack)
{
	char *b = malloc(512);

	assert_non_null(b);
	snprintf(b, 512, "{\"protocol\":1,\"schema\":%d,\"site\":\"%s\",\"cursor\":\"%s\",\"ack\":\"%s\"}",
		 schema_version(), site, cursor, ack);
	return b;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *receipt_status(const cJSON *ans, int i)
{
	return str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ans, "receipts"), i), "status");
}

static bool changes_have(const cJSON *ans, const char *id, const char *col, const char *value)
{
	const cJSON *row;

	cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(ans, "changes")) {
		const cJSON *fld;

		if (strcmp(str(row, "id"), id) != 0)
			continue;
		cJSON_ArrayForEach(fld, cJSON_GetObjectItemCaseSensitive(row, "f")) {
			const cJSON *c = cJSON_GetArrayItem(fld, 0), *v = cJSON_GetArrayItem(fld, 1);

			if (strcmp(c->valuestring, col) != 0)
				continue;
			if (!value)
				return true;
			if (cJSON_IsString(v) && strcmp(v->valuestring, value) == 0)
				return true;
		}
	}
	return false;
}

static bool evicts(const cJSON *ans, const char *id)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(ans, "evict"))
		if (strcmp(str(e, "id"), id) == 0)
			return true;
	return false;
}

static char *server_text(struct fx *f, const char *sql)
{
	sqlite3_stmt *st = NULL;
	char *v = NULL;

	assert_int_equal(sqlite3_prepare_v2(f->app.writer.db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v ? v : strdup("");
}

static void expect_text(struct fx *f, const char *sql, const char *want)
{
	char *v = server_text(f, sql);

	assert_string_equal(v, want);
	free(v);
}

static void test_push_owner_and_replay(void **state)
{
	struct fx *f = *state;
	cJSON *ans = NULL;
	char *b = push1(SITE_A1, "b1", "0", "0", "customers", CUST_A,
			"[[\"name\",\"华信\"],[\"phone\",\"+8613800138000\"]]", 0);

	assert_int_equal(call(f, f->tok_a1, b, &ans), 200);
	assert_string_equal(receipt_status(ans, 0), "ok");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ans, "replayed")));
	/* No owner pushed: the server gave the customer to the pusher, and says so in the pull. */
	expect_text(f, "SELECT owner FROM customers", "alice");
	assert_true(changes_have(ans, CUST_A, "owner", "alice"));
	assert_false(changes_have(ans, CUST_A, "name", NULL)); /* a1 wrote it: not echoed */
	expect_text(f, "SELECT count(*) FROM srv_ownership", "1");
	cJSON_Delete(ans);

	/* The same batch again: stored receipts, nothing applied twice. */
	assert_int_equal(call(f, f->tok_a1, b, &ans), 200);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ans, "replayed")));
	assert_string_equal(receipt_status(ans, 0), "ok");
	expect_text(f, "SELECT count(*) FROM srv_batches", "1");
	expect_text(f, "SELECT count(*) FROM srv_ownership", "1");
	cJSON_Delete(ans);
	free(b);

	/* A laptop still at schema 1 pulls the customer (columns it knows). */
	b = malloc(256);
	assert_non_null(b);
	snprintf(b, 256, "{\"protocol\":1,\"schema\":1,\"site\":\"%s\",\"cursor\":\"0\"}", SITE_A2);
	assert_int_equal(call(f, f->tok_a2, b, &ans), 200);
	assert_true(changes_have(ans, CUST_A, "name", "华信"));
	assert_true(changes_have(ans, CUST_A, "owner", "alice"));
	cJSON_Delete(ans);
	free(b);
}

static void test_authority(void **state)
{
	struct fx *f = *state;
	cJSON *ans = NULL;
	char *b = push1(SITE_A1, "b1", "0", "0", "customers", CUST_A,
			"[[\"name\",\"华信\"],[\"owner\",\"alice\"]]", 0);
	const cJSON *r;

	assert_int_equal(call(f, f->tok_a1, b, &ans), 200);
	cJSON_Delete(ans);
	free(b);

	/* bob: an edit of alice's customer is refused and he is told to evict it. */
	b = push1(SITE_B, "x1", "0", "0", "customers", CUST_A, "[[\"phone\",\"+8613000000000\"]]", 0);
	assert_int_equal(call(f, f->tok_b, b, &ans), 200);
	assert_string_equal(receipt_status(ans, 0), "refused");
	r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(ans, "receipts"), 0), "refused"), 0);
	assert_string_equal(str(r, "code"), "perm");
	assert_true(evicts(ans, CUST_A));
	assert_false(changes_have(ans, CUST_A, "name", NULL)); /* nothing of alice's in bob's pull */
	expect_text(f, "SELECT coalesce(phone, '') FROM customers", "");
	cJSON_Delete(ans);
	free(b);

	/* bob: a new customer owned by alice is refused. */
	b = push1(SITE_B, "x2", "0", "0", "customers", CUST_B, "[[\"name\",\"planted\"],[\"owner\",\"alice\"]]", 0);
	assert_int_equal(call(f, f->tok_b, b, &ans), 200);
	assert_string_equal(receipt_status(ans, 0), "refused");
	assert_true(evicts(ans, CUST_B));
	expect_text(f, "SELECT count(*) FROM customers", "1");
	cJSON_Delete(ans);
	free(b);

	/* alice: owner is server-only, a bad phone and a clock from the future are refused;
	 * the city is applied; the refused owner and phone are put back by corrections. */
	b = push1(SITE_A1, "b2", "0", "0", "customers", CUST_A,
		  "[[\"owner\",\"bob\"],[\"phone\",\"12345\"],[\"city\",\"深圳\"]]", 0);
	assert_int_equal(call(f, f->tok_a1, b, &ans), 200);
	assert_string_equal(receipt_status(ans, 0), "partial");
	assert_true(changes_have(ans, CUST_A, "owner", "alice"));
	assert_true(changes_have(ans, CUST_A, "phone", NULL));
	expect_text(f, "SELECT owner || '|' || city FROM customers", "alice|深圳");
	cJSON_Delete(ans);
	free(b);
	b = push1(SITE_A1, "b3", "0", "0", "customers", CUST_A, "[[\"notes\",\"future\"]]", 3600 * 1000);
	assert_int_equal(call(f, f->tok_a1, b, &ans), 200);
	r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(ans, "receipts"), 0), "refused"), 0);
	assert_string_equal(str(r, "code"), "clock");
	expect_text(f, "SELECT coalesce(notes, '') FROM customers", "");
	cJSON_Delete(ans);
	free(b);
}

/* A pull of device a1 at cursor "1" acknowledging ack, more_push as given; the answer's ack into *next. */
static cJSON *pull_a1(struct fx *f, const char *ack, bool more_push, char next[32])
{
	char b[512];
	cJSON *ans = NULL;

	snprintf(b, sizeof b,
		 "{\"protocol\":1,\"schema\":%d,\"site\":\"%s\",\"cursor\":\"1\",\"ack\":\"%s\","
		 "\"more_push\":%s}",
		 schema_version(), SITE_A1, ack, more_push ? "true" : "false");
	assert_int_equal(call(f, f->tok_a1, b, &ans), 200);
	snprintf(next, 32, "%s", str(ans, "ack"));
	return ans;
}

static bool notes(const cJSON *ans, const char *text)
{
	const cJSON *n;

	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(ans, "notices"))
		if (cJSON_IsString(n) && strcmp(n->valuestring, text) == 0)
			return true;
	return false;
}

static void dup_queue(struct fx *f, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(f->app.writer.db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

/*
 * What the duplicate check tells a device (a notice of a merge, a row an
 * unmerge took away) is sent again until the device acknowledges the answer
 * that carried it; an eviction held back while the device still pushes is
 * not covered by acknowledging answers that did not carry it.
 */
static void test_dedup_handout_acked(void **state)
{
	struct fx *f = *state;
	char g1[32], g2[32], g3[32], g4[32], g5[32], sql[512];
	cJSON *ans;

	snprintf(sql, sizeof sql,
		 "INSERT INTO srv_dup_notices (user, at, text) VALUES ('alice', %lld, 'merged 甲 into 乙');"
		 "INSERT INTO srv_dup_evict (device_id, tbl, row_id)"
		 " SELECT id, 'activities', 'act-1' FROM srv_devices WHERE name = 'a1'",
		 (long long)crm_now_ms());
	dup_queue(f, sql);
	ans = pull_a1(f, "0", false, g1);
	assert_true(notes(ans, "merged 甲 into 乙"));
	assert_true(evicts(ans, "act-1"));
	cJSON_Delete(ans);
	/* that answer was lost: the next one, acknowledging the one before, carries both again */
	ans = pull_a1(f, "0", false, g2);
	assert_true(notes(ans, "merged 甲 into 乙"));
	assert_true(evicts(ans, "act-1"));
	assert_string_not_equal(g2, "0");
	cJSON_Delete(ans);
	/* stored and acknowledged: neither comes again */
	ans = pull_a1(f, g2, false, g3);
	assert_false(notes(ans, "merged 甲 into 乙"));
	assert_false(evicts(ans, "act-1"));
	cJSON_Delete(ans);
	expect_text(f, "SELECT count(*) FROM srv_dup_evict", "0");

	/* an eviction goes out, its answer is lost, the device then pushes more */
	dup_queue(f, "INSERT INTO srv_dup_evict (device_id, tbl, row_id)"
		     " SELECT id, 'activities', 'act-2' FROM srv_devices WHERE name = 'a1'");
	ans = pull_a1(f, g3, false, g4);
	assert_true(evicts(ans, "act-2"));
	cJSON_Delete(ans);
	dup_queue(f, "INSERT INTO srv_dup_notices (user, at, text) VALUES ('alice', 1, 'old');"
		     "INSERT INTO srv_dup_notices (user, at, text) VALUES ('alice', 99999999999999, 'later')");
	ans = pull_a1(f, g3, true, g5); /* held back while pushing; a notice hands out a generation */
	assert_false(evicts(ans, "act-2"));
	assert_true(notes(ans, "later"));
	assert_false(notes(ans, "old")); /* from before the device existed */
	cJSON_Delete(ans);
	/* acknowledging that answer does not cover the eviction it did not carry */
	ans = pull_a1(f, g5, false, g4);
	assert_true(evicts(ans, "act-2"));
	assert_false(notes(ans, "later"));
	cJSON_Delete(ans);
}

/* A push alone ("pull": false) of a new customer of alice's, from a replica that never pulled. */
static void push_alone(struct fx *f, const char *tok, const char *site, const char *batch,
		       const char *id, const char *name)
{
	char b[1024];
	cJSON *ans = NULL;

	snprintf(b, sizeof b,
		 "{\"protocol\":1,\"schema\":%d,\"site\":\"%s\",\"batch\":\"%s\",\"cursor\":\"0\","
		 "\"ack\":\"0\",\"pull\":false,\"push\":[{\"t\":\"customers\",\"id\":\"%s\",\"h\":\"%s\","
		 "\"s\":\"%s\",\"f\":[[\"name\",\"%s\"],[\"owner\",\"alice\"]]}]}",
		 schema_version(), site, batch, id, hlc_now(0), site, name);
	assert_int_equal(call(f, tok, b, &ans), 200);
	assert_string_equal(receipt_status(ans, 0), "ok");
	cJSON_Delete(ans);
}

/*
 * A laptop that pushed customers before it ever pulled (cursor 0) and whose
 * customer left its scope meanwhile (given to someone else here; merged away
 * by the duplicate check alike) is told to evict it at its first pull, once
 * it has pushed everything: the first pull's handout used to forget what the
 * laptop held outside its scope, which then stayed on the laptop.
 */
static void test_first_pull_evicts_what_left(void **state)
{
	struct fx *f = *state;
	char b[1024], cur[32], next[32];
	cJSON *ans = NULL;

	push_alone(f, f->tok_a1, SITE_A1, "p1", CUST_B, "交给别人");
	dup_queue(f, "UPDATE customers SET owner = 'bob' WHERE id = '" CUST_B "'");
	/* still pushing: nothing evicted yet */
	snprintf(b, sizeof b,
		 "{\"protocol\":1,\"schema\":%d,\"site\":\"%s\",\"cursor\":\"0\",\"ack\":\"0\","
		 "\"more_push\":true}",
		 schema_version(), SITE_A1);
	assert_int_equal(call(f, f->tok_a1, b, &ans), 200);
	assert_false(evicts(ans, CUST_B));
	snprintf(cur, sizeof cur, "%s", str(ans, "cursor"));
	snprintf(next, sizeof next, "%s", str(ans, "ack"));
	cJSON_Delete(ans);
	/* everything pushed: evicted */
	snprintf(b, sizeof b,
		 "{\"protocol\":1,\"schema\":%d,\"site\":\"%s\",\"cursor\":\"%s\",\"ack\":\"%s\"}",
		 schema_version(), SITE_A1, cur, next);
	assert_int_equal(call(f, f->tok_a1, b, &ans), 200);
	assert_true(evicts(ans, CUST_B));
	cJSON_Delete(ans);
	/* and at a first pull straight away, the same */
	dup_queue(f, "UPDATE customers SET owner = 'alice' WHERE id = '" CUST_B "'");
	push_alone(f, f->tok_a2, SITE_A2, "p2", CUST_A, "又一个");
	dup_queue(f, "UPDATE customers SET owner = 'bob' WHERE id = '" CUST_A "'");
	snprintf(b, sizeof b,
		 "{\"protocol\":1,\"schema\":%d,\"site\":\"%s\",\"cursor\":\"0\",\"ack\":\"0\"}",
		 schema_version(), SITE_A2);
	assert_int_equal(call(f, f->tok_a2, b, &ans), 200);
	assert_true(evicts(ans, CUST_A));
	assert_false(evicts(ans, CUST_B)); /* in a2's scope now, and never held by it */
	cJSON_Delete(ans);
}

static void test_versions_and_envelope(void **state)
{
	struct fx *f = *state;
	cJSON *ans = NULL;
	char b[512];

	snprintf(b, sizeof b, "{\"protocol\":2,\"schema\":%d,\"site\":\"%s\"}", schema_version(), SITE_A1);
	assert_int_equal(call(f, f->tok_a1, b, &ans), 409);
	assert_string_equal(str(ans, "error"), "version");
	cJSON_Delete(ans);
	snprintf(b, sizeof b, "{\"protocol\":1,\"schema\":%d,\"site\":\"%s\"}", schema_version() + 1, SITE_A1);
	assert_int_equal(call(f, f->tok_a1, b, &ans), 409);
	cJSON_Delete(ans);
	/* An older client (schema 1) keeps syncing after an additive schema change. */
	snprintf(b, sizeof b, "{\"protocol\":1,\"schema\":1,\"site\":\"%s\",\"cursor\":\"0\"}", SITE_A1);
	assert_int_equal(call(f, f->tok_a1, b, &ans), 200);
	assert_string_equal(str(ans, "cursor"), "0");
	cJSON_Delete(ans);
	snprintf(b, sizeof b, "{\"protocol\":1,\"schema\":0,\"site\":\"%s\"}", SITE_A1);
	assert_int_equal(call(f, f->tok_a1, b, &ans), 409); /* older than any supported */
	cJSON_Delete(ans);
	snprintf(b, sizeof b, "{\"protocol\":1,\"schema\":%d,\"site\":\"laptop\"}", schema_version());
	assert_int_equal(call(f, f->tok_a1, b, &ans), 422);
	cJSON_Delete(ans);
	snprintf(b, sizeof b, "{\"protocol\":1,\"schema\":%d,\"site\":\"%s\",\"cursor\":7}", schema_version(), SITE_A1);
	assert_int_equal(call(f, f->tok_a1, b, &ans), 422);
	cJSON_Delete(ans);
	snprintf(b, sizeof b, "{\"protocol\":\"1\",\"schema\":1,\"site\":\"%s\"}", SITE_A1);
	assert_int_equal(call(f, f->tok_a1, b, &ans), 400);
	cJSON_Delete(ans);
	snprintf(b, sizeof b, "{\"protocol\":1,\"schema\":%d,\"site\":\"%s\",\"push\":[{\"t\":\"customers\",\"id\":\"%s\",\"h\":\"1\",\"s\":\"%s\",\"f\":[[\"name\",\"x\"]]}]}",
		 schema_version(), SITE_A1, CUST_A, SITE_A1);
	assert_int_equal(call(f, f->tok_a1, b, &ans), 422); /* a push without a batch id */
	cJSON_Delete(ans);
	snprintf(b, sizeof b, "{\"protocol\":1,\"schema\":%d,\"site\":\"%s\"}", schema_version(), SITE_A1);
	assert_int_equal(call(f, NULL, b, &ans), 401);
	cJSON_Delete(ans);
	assert_int_equal(call(f, "not-a-token", b, &ans), 401);
	cJSON_Delete(ans);
}

/* Pulls from cursor/ack until nothing more; returns the last answer (caller frees). */
static cJSON *pull_all(struct fx *f, const char *tok, const char *site, char cursor[32], char ack[32])
{
	cJSON *ans = NULL;
	bool more = true;

	while (more) {
		char *b = pull(site, cursor, ack);

		cJSON_Delete(ans);
		assert_int_equal(call(f, tok, b, &ans), 200);
		free(b);
		assert_non_null(str(ans, "cursor"));
		assert_non_null(str(ans, "ack"));
		snprintf(cursor, 32, "%s", str(ans, "cursor") ? str(ans, "cursor") : "");
		snprintf(ack, 32, "%s", str(ans, "ack") ? str(ans, "ack") : "");
		more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ans, "more"));
	}
	return ans;
}

static void test_pull_scope_and_conflicts(void **state)
{
	struct fx *f = *state;
	cJSON *ans = NULL;
	char cb[32] = "0", ab[32] = "0", cm[32] = "0", am[32] = "0", c2[32] = "0", a2[32] = "0";
	char *b = push1(SITE_A1, "b1", "0", "0", "customers", CUST_A,
			"[[\"name\",\"华信\"],[\"phone\",\"+8613800138000\"],[\"owner\",\"alice\"]]", 0);

	assert_int_equal(call(f, f->tok_a1, b, &ans), 200);
	cJSON_Delete(ans);
	free(b);

	/* bob sees nothing; the manager of alice's team and alice's other laptop see it. */
	ans = pull_all(f, f->tok_b, SITE_B, cb, ab);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ans, "changes")), 0);
	cJSON_Delete(ans);
	ans = pull_all(f, f->tok_m, "01900000-0000-7000-8000-00000000e001", cm, am);
	assert_true(changes_have(ans, CUST_A, "name", "华信"));
	cJSON_Delete(ans);
	ans = pull_all(f, f->tok_a2, SITE_A2, c2, a2);
	assert_true(changes_have(ans, CUST_A, "phone", "+8613800138000"));
	cJSON_Delete(ans);

	/* Both of alice's laptops change the phone from the same base: a conflict,
	 * listed to both. */
	{
		char base[32], fields[256];

		/* the version a2 received is the base of both edits */
		ans = NULL;
		snprintf(fields, sizeof fields, "SELECT hlc FROM sync_clock WHERE rid = '%s' AND col IN ('phone', '') ORDER BY col DESC LIMIT 1", CUST_A);
		{
			char *h = server_text(f, fields);

			snprintf(base, sizeof base, "%s", h);
			free(h);
		}
		snprintf(fields, sizeof fields, "[[\"phone\",\"+8613900001111\",\"%s\",\"%s\",\"%s\",\"%s\"]]",
			 hlc_now(0), SITE_A1, base, SITE_A1);
		b = push1(SITE_A1, "b2", "0", "0", "customers", CUST_A, fields, 0);
		assert_int_equal(call(f, f->tok_a1, b, &ans), 200);
		cJSON_Delete(ans);
		free(b);
		snprintf(fields, sizeof fields, "[[\"phone\",\"+8613722223333\",\"%s\",\"%s\",\"%s\",\"%s\"]]",
			 hlc_now(1), SITE_A2, base, SITE_A1);
		b = push1(SITE_A2, "c1", c2, a2, "customers", CUST_A, fields, 0);
		assert_int_equal(call(f, f->tok_a2, b, &ans), 200);
		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ans, "conflicts")), 1);
		cJSON_Delete(ans);
		free(b);
		expect_text(f, "SELECT count(*) FROM srv_conflicts", "1");
		/* a1 hears of it on its next pull, once; the manager too; bob never. */
		{
			char c1[32] = "0", a1[32] = "0";

			ans = pull_all(f, f->tok_a1, SITE_A1, c1, a1);
			assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ans, "conflicts")), 1);
			cJSON_Delete(ans);
			b = pull(SITE_A1, c1, a1);
			assert_int_equal(call(f, f->tok_a1, b, &ans), 200);
			assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ans, "conflicts")), 0);
			cJSON_Delete(ans);
			free(b);
		}
		ans = pull_all(f, f->tok_b, SITE_B, cb, ab);
		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ans, "conflicts")), 0);
		cJSON_Delete(ans);
	}

	/* The customer changes hands (a server operation): it enters bob's replica
	 * whole and leaves alice's laptop; unacknowledged, both are sent again. */
	pthread_mutex_lock(&f->app.write_lock);
	assert_int_equal(sqlite3_exec(f->app.writer.db, "UPDATE customers SET owner = 'bob'", NULL, NULL, NULL),
			 SQLITE_OK);
	pthread_mutex_unlock(&f->app.write_lock);
	b = pull(SITE_B, cb, ab);
	assert_int_equal(call(f, f->tok_b, b, &ans), 200);
	assert_true(changes_have(ans, CUST_A, "name", "华信"));
	assert_true(changes_have(ans, CUST_A, "owner", "bob"));
	cJSON_Delete(ans);
	assert_int_equal(call(f, f->tok_b, b, &ans), 200); /* answer lost: same cursor and ack */
	assert_true(changes_have(ans, CUST_A, "name", "华信"));
	snprintf(cb, sizeof cb, "%s", str(ans, "cursor"));
	snprintf(ab, sizeof ab, "%s", str(ans, "ack"));
	cJSON_Delete(ans);
	free(b);
	b = pull(SITE_B, cb, ab);
	assert_int_equal(call(f, f->tok_b, b, &ans), 200);
	assert_false(changes_have(ans, CUST_A, "name", NULL)); /* acknowledged: not again */
	cJSON_Delete(ans);
	free(b);
	b = pull(SITE_A2, c2, a2);
	assert_int_equal(call(f, f->tok_a2, b, &ans), 200);
	assert_true(evicts(ans, CUST_A));
	cJSON_Delete(ans);
	assert_int_equal(call(f, f->tok_a2, b, &ans), 200);
	assert_true(evicts(ans, CUST_A)); /* not acknowledged: told again */
	snprintf(c2, sizeof c2, "%s", str(ans, "cursor"));
	snprintf(a2, sizeof a2, "%s", str(ans, "ack"));
	cJSON_Delete(ans);
	free(b);
	b = pull(SITE_A2, c2, a2);
	assert_int_equal(call(f, f->tok_a2, b, &ans), 200);
	assert_false(evicts(ans, CUST_A));
	cJSON_Delete(ans);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_push_owner_and_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_authority, setup, teardown),
		cmocka_unit_test_setup_teardown(test_versions_and_envelope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedup_handout_acked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_pull_evicts_what_left, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pull_scope_and_conflicts, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
