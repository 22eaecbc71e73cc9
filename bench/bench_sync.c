/*
 * bench_sync: figures for the sync core (docs/benchmarks.md, "Sync core").
 *
 *   1. capture cost: bulk insert of N customer rows (the 22-column customers
 *      table of schema v1, its six indexes, no search triggers) in one
 *      transaction, without sync (no triggers) and with capture on;
 *   2. apply speed: 100,000 remote field changes merged by sync_apply, as new
 *      rows and as edits of existing rows;
 *   3. change-set size: M customer rows as raw values, as wire JSON, and as
 *      deflated JSON.
 *
 * Usage: bench_sync [--rows N] [--fields F] [--per-row K] [--size-rows M]
 *                   [--cache-mb MB] [--dir DIR]
 * Databases are files in DIR (default /tmp), removed afterwards. Data comes
 * from a fixed-seed generator, so runs are comparable.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "crm_buf.h"
#include "crm_id.h"
#include "sync.h"

static const char CUSTOMERS_SQL[] =
	"CREATE TABLE customers ("
	" id TEXT PRIMARY KEY NOT NULL, created_at INTEGER NOT NULL DEFAULT 0,"
	" updated_at INTEGER NOT NULL DEFAULT 0,"
	" deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),"
	" kind TEXT CHECK (kind IN ('company', 'person')), name TEXT, uscc TEXT, id_number TEXT,"
	" birth_date TEXT, phone TEXT, email TEXT, address TEXT, city TEXT, region TEXT,"
	" industry TEXT, source TEXT,"
	" stage TEXT CHECK (stage IN ('lead', 'prospect', 'customer', 'loyal', 'churned')),"
	" tier TEXT CHECK (tier IN ('A', 'B', 'C')), owner TEXT, notes TEXT, ext_ref TEXT,"
	" merged_into TEXT);"
	"CREATE INDEX customers_name ON customers(name);"
	"CREATE INDEX customers_phone ON customers(phone);"
	"CREATE INDEX customers_email ON customers(email);"
	"CREATE INDEX customers_uscc ON customers(uscc);"
	"CREATE INDEX customers_ext_ref ON customers(ext_ref);"
	"CREATE INDEX customers_owner ON customers(owner);";

static const char *const quiet[] = {"updated_at", NULL};
static const struct sync_table_spec tables[] = {{"customers", quiet}};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static int cache_mb = 256;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/*
 * CPU time of this process, not wall time: the figures must not depend on
 * what else the machine runs (CI and development boxes are shared), and
 * every database here lives in the page cache, so the work is CPU.
 */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die_sql(sqlite3 *db, const char *what)
{
	fprintf(stderr, "bench_sync: %s: %s\n", what, sqlite3_errmsg(db));
	exit(1);
}

static void exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		die_sql(db, sql);
}

static sqlite3 *open_db(const char *path)
{
	sqlite3 *db;

	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		die_sql(db, path);
	{
		char pragma[128];

		/* a page cache that holds the working set: CPU cost, not disk seeks */
		snprintf(pragma, sizeof pragma,
			 "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -%d;",
			 cache_mb * 1024);
		exec(db, pragma);
	}
	exec(db, CUSTOMERS_SQL);
	return db;
}

/* ---- a customer generator --------------------------------------------- */

static const char *const SURN[] = {"华信", "恒通", "金达", "东方", "宏远", "新世纪", "中联", "天成", "博雅", "瑞丰"};
static const char *const CITY[] = {"深圳市", "上海市", "北京市", "广州市", "杭州市", "成都市", "武汉市", "南京市"};
static const char *const IND[] = {"科技", "贸易", "制造", "物流", "医药", "教育", "餐饮", "建材"};
static const char *const STAGE[] = {"lead", "prospect", "customer", "loyal", "churned"};

struct cust {
	char id[CRM_ID_SIZE];
	char name[128], uscc[32], phone[32], email[64], address[160], city[32], region[32];
	char industry[32], source[16], owner[40], notes[200], ext_ref[32];
	const char *stage, *tier;
	int64_t created;
};

static void gen(struct cust *c, int i)
{
	const char *city = CITY[rnd() % 8];

	crm_id_new(c->id);
	snprintf(c->name, sizeof c->name, "%s%s%s有限公司", city, SURN[rnd() % 10], IND[rnd() % 8]);
	snprintf(c->uscc, sizeof c->uscc, "91440300%010u", rnd() % 1000000000u);
	snprintf(c->phone, sizeof c->phone, "+861%02u%08u", 30 + rnd() % 60, rnd() % 100000000u);
	snprintf(c->email, sizeof c->email, "contact%d@example%u.com", i, rnd() % 1000);
	snprintf(c->address, sizeof c->address, "%s南山区科技园%u号%u栋", city, rnd() % 300, rnd() % 20);
	snprintf(c->city, sizeof c->city, "%s", city);
	snprintf(c->region, sizeof c->region, "华南");
	snprintf(c->industry, sizeof c->industry, "%s", IND[rnd() % 8]);
	snprintf(c->source, sizeof c->source, "%s", rnd() % 2 ? "visit" : "referral");
	snprintf(c->owner, sizeof c->owner, "rep%02u", rnd() % 40);
	snprintf(c->notes, sizeof c->notes, "首次拜访，对方有采购意向，约%u月再联系", 1 + rnd() % 12);
	snprintf(c->ext_ref, sizeof c->ext_ref, "ERP-%07d", i);
	c->stage = STAGE[rnd() % 5];
	c->tier = (const char *[]){"A", "B", "C"}[rnd() % 3];
	c->created = 1772352000000LL + i;
}

static void bind_cust(sqlite3_stmt *st, const struct cust *c)
{
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, c->created);
	sqlite3_bind_int64(st, 3, c->created);
	sqlite3_bind_text(st, 4, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c->uscc, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, c->phone, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, c->email, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, c->address, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, c->city, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, c->industry, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, c->source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, c->stage, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, c->tier, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 15, c->owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 16, c->notes, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 17, c->ext_ref, -1, SQLITE_STATIC);
}

static const char INSERT_SQL[] =
	"INSERT INTO customers(id, created_at, updated_at, kind, name, uscc, phone, email,"
	" address, city, region, industry, source, stage, tier, owner, notes, ext_ref)"
	" VALUES(?1, ?2, ?3, 'company', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
	" ?16, ?17)";

static struct cust *rows_cache;
static int rows_cached;

/* The same n rows every time (ids included), generated once, outside the timing. */
static const struct cust *rows_get(int n)
{
	if (rows_cached < n) {
		free(rows_cache);
		rows_cache = malloc((size_t)n * sizeof *rows_cache);
		if (!rows_cache)
			exit(1);
		rng = 0x9e3779b97f4a7c15ULL;
		for (int i = 0; i < n; i++)
			gen(&rows_cache[i], i);
		rows_cached = n;
	}
	return rows_cache;
}

/* Inserts n generated rows in one transaction; returns CPU seconds. */
static double insert_rows(sqlite3 *db, int n)
{
	const struct cust *rows = rows_get(n);
	sqlite3_stmt *st;
	double t0;

	if (sqlite3_prepare_v2(db, INSERT_SQL, -1, &st, NULL) != SQLITE_OK)
		die_sql(db, "prepare insert");
	t0 = now_s();
	exec(db, "BEGIN");
	for (int i = 0; i < n; i++) {
		bind_cust(st, &rows[i]);
		if (sqlite3_step(st) != SQLITE_DONE)
			die_sql(db, "insert");
		sqlite3_reset(st);
	}
	exec(db, "COMMIT");
	sqlite3_finalize(st);
	return now_s() - t0;
}

static struct sync_db *sync_on(sqlite3 *db)
{
	struct sync_db *s;
	struct crm_error err;

	if (sync_open(db, tables, 1, NULL, &s, &err) != CRM_OK) {
		fprintf(stderr, "bench_sync: sync_open: %s\n", err.msg);
		exit(1);
	}
	return s;
}

static void bench_capture(const char *dir, int n)
{
	char path[512];
	double best_plain = 1e9, best_cap = 1e9;

	snprintf(path, sizeof path, "%s/bench_sync_capture.db", dir);
	for (int round = 0; round < 3; round++) {
		sqlite3 *db = open_db(path);
		struct sync_db *s;
		double t;

		t = insert_rows(db, n);
		if (t < best_plain)
			best_plain = t;
		sqlite3_close(db);
		db = open_db(path);
		s = sync_on(db);
		t = insert_rows(db, n);
		if (t < best_cap)
			best_cap = t;
		sync_close(s);
		sqlite3_close(db);
	}
	unlink(path);
	printf("capture: %d rows in one transaction: without triggers %.3f s (%.0f rows/s),"
	       " with capture %.3f s (%.0f rows/s): ratio %.2fx (CPU seconds, best of 3)\n",
	       n, best_plain, n / best_plain, best_cap, n / best_cap, best_cap / best_plain);
}

/* Builds a change set of nrows customers, fields columns each, from one remote site. */
static void make_set(struct sync_changeset *cs, sqlite3 *src, int fields, const char *site,
		     sync_hlc h, bool edits)
{
	static const char *const cols[] = {"name", "uscc", "phone", "email", "address", "city",
					   "region", "industry", "source", "stage", "tier", "owner",
					   "notes", "ext_ref", "created_at", "updated_at", "deleted",
					   "kind", "birth_date", "id_number", "merged_into"};
	sqlite3_stmt *st;
	int ncols = fields;

	if (ncols > 21)
		ncols = 21;
	sync_changeset_init(cs);
	if (sqlite3_prepare_v2(src, "SELECT id, name, uscc, phone, email, address, city, region,"
				    " industry, source, stage, tier, owner, notes, ext_ref,"
				    " created_at, updated_at, deleted, kind FROM customers ORDER BY id",
			       -1, &st, NULL) != SQLITE_OK)
		die_sql(src, "select");
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct sync_row *row = sync_changeset_add_row(cs, "customers",
							      (const char *)sqlite3_column_text(st, 0));

		for (int k = 0; k < ncols; k++) {
			struct sync_field f;
			char buf[256];

			memset(&f, 0, sizeof f);
			f.col = (char *)(uintptr_t)cols[k];
			f.hlc = h++;
			snprintf(f.site, sizeof f.site, "%s", site);
			if (k < 18 && sqlite3_column_type(st, k + 1) == SQLITE_INTEGER) {
				f.v.type = SYNC_INT;
				f.v.i = sqlite3_column_int64(st, k + 1);
			} else if (k < 18 && sqlite3_column_type(st, k + 1) == SQLITE_TEXT) {
				f.v.type = SYNC_TEXT;
				snprintf(buf, sizeof buf, "%s%s", sqlite3_column_text(st, k + 1),
					 edits && k < 14 && k != 9 && k != 10 ? "*" : "");
				f.v.s = buf;
			} else {
				f.v.type = SYNC_NULL;
			}
			if (k == 17 && edits) { /* kind must stay within its CHECK */
				f.v.type = SYNC_TEXT;
				f.v.s = (char *)(uintptr_t)"person";
			}
			if (sync_row_add_field(cs, row, &f) != CRM_OK)
				exit(1);
		}
	}
	sqlite3_finalize(st);
}

static void apply_timed(const char *label, struct sync_db *s, const struct sync_changeset *cs)
{
	struct sync_apply_result res;
	struct crm_error err;
	double t0 = now_s(), t;

	if (sync_apply(s, cs, 0, NULL, NULL, &res, &err) != CRM_OK) {
		fprintf(stderr, "bench_sync: apply: %s\n", err.msg);
		exit(1);
	}
	t = now_s() - t0;
	printf("apply %s: %zu field changes in %zu rows in %.3f s: %.0f changes/s"
	       " (applied %zu, ignored %zu, conflicts %zu, refused %zu)\n",
	       label, cs->nfields, cs->nrows, t, (double)cs->nfields / t, res.applied, res.ignored,
	       res.conflicts, res.nrefused);
	sync_apply_result_release(&res);
}

static void bench_apply(const char *dir, int nfields_total, int per_row)
{
	char src_path[512], dst_path[512];
	sqlite3 *src, *dst;
	struct sync_db *ss, *ds;
	struct sync_changeset cs;
	int nrows = nfields_total / per_row;
	char site[CRM_ID_SIZE];
	sync_hlc h;

	snprintf(src_path, sizeof src_path, "%s/bench_sync_src.db", dir);
	snprintf(dst_path, sizeof dst_path, "%s/bench_sync_dst.db", dir);
	src = open_db(src_path);
	insert_rows(src, nrows);
	dst = open_db(dst_path);
	ds = sync_on(dst);
	ss = sync_on(src);
	crm_id_new(site);
	h = sync_hlc_next(ss);
	/* new rows: every field creates or fills a row */
	make_set(&cs, src, per_row, site, h, false);
	apply_timed("(new rows)", ds, &cs);
	sync_changeset_release(&cs);
	/* edits of existing rows, each based on what is in place: no conflicts */
	h = sync_hlc_next(ss) + 1000000;
	make_set(&cs, src, per_row, site, h, true);
	apply_timed("(edits of existing rows)", ds, &cs);
	/* the same set again: idempotent, everything ignored */
	apply_timed("(same set again)", ds, &cs);
	sync_changeset_release(&cs);
	sync_close(ss);
	sync_close(ds);
	sqlite3_close(src);
	sqlite3_close(dst);
	unlink(src_path);
	unlink(dst_path);
}

static void bench_size(const char *dir, int nrows)
{
	char path[512];
	sqlite3 *db;
	struct sync_db *s;
	struct sync_changeset cs;
	struct crm_buf z;
	struct crm_error err;
	int64_t upto;
	bool more;
	size_t raw = 0, json_len = 0;
	cJSON *j;
	char *text;
	sqlite3_stmt *st;

	snprintf(path, sizeof path, "%s/bench_sync_size.db", dir);
	db = open_db(path);
	s = sync_on(db);
	insert_rows(db, nrows);
	/* raw: the bytes of every value of every row as stored (text and 8-byte integers) */
	if (sqlite3_prepare_v2(db, "SELECT sum(length(CAST(id AS BLOB)) + 8 + 8 + 8 + coalesce(length(CAST(kind AS BLOB)), 0)"
				   " + coalesce(length(CAST(name AS BLOB)), 0) + coalesce(length(CAST(uscc AS BLOB)), 0)"
				   " + coalesce(length(CAST(phone AS BLOB)), 0) + coalesce(length(CAST(email AS BLOB)), 0)"
				   " + coalesce(length(CAST(address AS BLOB)), 0) + coalesce(length(CAST(city AS BLOB)), 0)"
				   " + coalesce(length(CAST(region AS BLOB)), 0) + coalesce(length(CAST(industry AS BLOB)), 0)"
				   " + coalesce(length(CAST(source AS BLOB)), 0) + coalesce(length(CAST(stage AS BLOB)), 0)"
				   " + coalesce(length(CAST(tier AS BLOB)), 0) + coalesce(length(CAST(owner AS BLOB)), 0)"
				   " + coalesce(length(CAST(notes AS BLOB)), 0) + coalesce(length(CAST(ext_ref AS BLOB)), 0))"
				   " FROM customers", -1, &st, NULL) != SQLITE_OK)
		die_sql(db, "raw size");
	if (sqlite3_step(st) == SQLITE_ROW)
		raw = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (sync_outbox(s, (size_t)nrows * 100, &cs, &upto, &more, &err) != CRM_OK) {
		fprintf(stderr, "bench_sync: outbox: %s\n", err.msg);
		exit(1);
	}
	j = sync_changeset_to_json(&cs);
	text = cJSON_PrintUnformatted(j);
	json_len = strlen(text);
	crm_buf_init(&z, (size_t)1 << 30);
	if (sync_deflate(text, json_len, &z, &err) != CRM_OK)
		exit(1);
	printf("size: %d customer rows (%zu fields): raw values %zu bytes, JSON %zu bytes (%.2fx raw),"
	       " deflated JSON %zu bytes (%.2fx raw, %.1f bytes/row)\n",
	       nrows, cs.nfields, raw, json_len, (double)json_len / (double)raw, z.len,
	       (double)z.len / (double)raw, (double)z.len / nrows);
	crm_buf_release(&z);
	free(text);
	cJSON_Delete(j);
	sync_changeset_release(&cs);
	sync_close(s);
	sqlite3_close(db);
	unlink(path);
}

int main(int argc, char **argv)
{
	int rows = 100000, fields = 100000, size_rows = 10000, per_row = 10;
	const char *dir = "/tmp";

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--rows") == 0)
			rows = (int)strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--fields") == 0)
			fields = (int)strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--per-row") == 0)
			per_row = (int)strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--size-rows") == 0)
			size_rows = (int)strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--cache-mb") == 0)
			cache_mb = (int)strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--dir") == 0)
			dir = argv[i + 1];
	}
	if (rows <= 0 || fields <= 0 || size_rows <= 0 || per_row <= 0 || per_row > 21) {
		fprintf(stderr, "usage: bench_sync [--rows N] [--fields F] [--per-row K<=21] [--size-rows M] [--dir DIR]\n");
		return 2;
	}
	printf("SQLite %s, WAL, synchronous=NORMAL, cache %d MB, files in %s\n", sqlite3_libversion(),
	       cache_mb, dir);
	bench_capture(dir, rows);
	bench_apply(dir, fields, per_row);
	bench_size(dir, size_rows);
	free(rows_cache);
	return 0;
}
