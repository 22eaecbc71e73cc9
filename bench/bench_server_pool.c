/*
 * bench_server_pool: what the pool costs the server.
 *
 * Builds a server database of N customers (100 reps' books, 3 activities
 * each by their owner at spread-out dates, one in ten with an open deal),
 * then times: the recycling sweep when nothing is due (what `serve` pays
 * every minute, holding the write lock), the sweep that recycles most of
 * them (captured owner edits and audit rows), and single claims from the
 * pool (one IMMEDIATE transaction each).
 *
 *   bench_server_pool [--customers N] [--claims K] [--db PATH]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crm_id.h"
#include "crm_time.h"
#include "srv_db.h"
#include "srv_pool.h"

#define REPS 100

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const struct crm_error *err, sqlite3 *db)
{
	fprintf(stderr, "bench_server_pool: %s: %s\n", what,
		err ? err->msg : (db ? sqlite3_errmsg(db) : "?"));
	exit(1);
}

static unsigned long long rng_state = 88172645463325252ULL;

static unsigned long long rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void fill(struct srv_db *d, long n, int64_t t0, char (*ids)[37])
{
	sqlite3_stmt *c = NULL, *a = NULL, *dl = NULL;
	char owner[16], id[37];

	if (sqlite3_exec(d->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(d->db,
			       "INSERT INTO customers (id, name, owner, city, created_at, updated_at)"
			       " VALUES (?1, ?2, ?3, 'Shenzhen', ?4, ?4)",
			       -1, &c, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(d->db,
			       "INSERT INTO activities (id, customer_id, author, kind, occurred_at,"
			       " created_at, note) VALUES (?1, ?2, ?3, 'visit', ?4, ?4, 'visit note')",
			       -1, &a, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(d->db,
			       "INSERT INTO deals (id, customer_id, title, stage) VALUES (?1, ?2, 'deal',"
			       " 'proposal')",
			       -1, &dl, NULL) != SQLITE_OK)
		die("prepare", NULL, d->db);
	for (long i = 0; i < n; i++) {
		char name[32];

		crm_id_new(ids[i]);
		snprintf(owner, sizeof owner, "rep%ld", i % REPS);
		snprintf(name, sizeof name, "Customer %ld", i);
		sqlite3_reset(c);
		sqlite3_bind_text(c, 1, ids[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(c, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(c, 3, owner, -1, SQLITE_STATIC);
		sqlite3_bind_int64(c, 4, t0);
		if (sqlite3_step(c) != SQLITE_DONE)
			die("insert customer", NULL, d->db);
		for (int k = 0; k < 3; k++) {
			crm_id_new(id);
			sqlite3_reset(a);
			sqlite3_bind_text(a, 1, id, -1, SQLITE_STATIC);
			sqlite3_bind_text(a, 2, ids[i], -1, SQLITE_STATIC);
			sqlite3_bind_text(a, 3, owner, -1, SQLITE_STATIC);
			sqlite3_bind_int64(a, 4, t0 + (int64_t)(rnd() % (40 * SRV_DAY_MS)));
			if (sqlite3_step(a) != SQLITE_DONE)
				die("insert activity", NULL, d->db);
		}
		if (i % 10 == 0) {
			crm_id_new(id);
			sqlite3_reset(dl);
			sqlite3_bind_text(dl, 1, id, -1, SQLITE_STATIC);
			sqlite3_bind_text(dl, 2, ids[i], -1, SQLITE_STATIC);
			if (sqlite3_step(dl) != SQLITE_DONE)
				die("insert deal", NULL, d->db);
		}
	}
	sqlite3_finalize(c);
	sqlite3_finalize(a);
	sqlite3_finalize(dl);
	if (sqlite3_exec(d->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		die("commit", NULL, d->db);
}

int main(int argc, char **argv)
{
	long n = 100000, claims = 1000;
	const char *path = NULL;
	char tmp[64] = "";
	struct srv_db d;
	struct crm_error err;
	struct srv_pool_change *v = NULL;
	size_t nv = 0;
	char (*ids)[37];
	int64_t t0;
	double t, scan, bulk, claim;
	int fd;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--customers") == 0)
			n = strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--claims") == 0)
			claims = strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--db") == 0)
			path = argv[i + 1];
	}
	if (n < 1 || claims < 0 || claims > n) {
		fprintf(stderr, "usage: bench_server_pool [--customers N] [--claims K <= N] [--db PATH]\n");
		return 2;
	}
	if (!path) {
		snprintf(tmp, sizeof tmp, "/tmp/bench_server_pool.XXXXXX");
		fd = mkstemp(tmp);
		if (fd < 0)
			return 1;
		close(fd);
		unlink(tmp);
		path = tmp;
	}
	ids = calloc((size_t)n, sizeof *ids);
	if (!ids)
		return 1;
	setenv("CRM_NOW", "2026-01-01T00:00:00Z", 1);
	t0 = crm_now_ms();
	if (srv_db_open(path, SRV_DB_CREATE | SRV_DB_SYNC, &d, &err) != CRM_OK)
		die("open", &err, NULL);
	t = now_s();
	fill(&d, n, t0, ids);
	printf("built %ld customers, %ld activities, %ld open deals in %.1f s\n", n, 3 * n,
	       (n + 9) / 10, now_s() - t);

	/* Day 29: nothing is due yet (every customer became its owner's on day 0). */
	t = now_s();
	if (srv_pool_recycle(d.db, t0 + 29 * SRV_DAY_MS, &v, &nv, &err) != CRM_OK)
		die("recycle", &err, NULL);
	scan = now_s() - t;
	free(v);
	printf("sweep, nothing due:  %zu recycled in %.1f ms\n", nv, scan * 1000);

	/* Day 80: everything without an open deal is due. */
	setenv("CRM_NOW", "2026-03-22T00:00:00Z", 1);
	t = now_s();
	if (srv_pool_recycle(d.db, t0 + 80 * SRV_DAY_MS, &v, &nv, &err) != CRM_OK)
		die("recycle", &err, NULL);
	bulk = now_s() - t;
	free(v);
	printf("sweep, most due:     %zu recycled in %.1f ms (%.1f us per customer)\n", nv,
	       bulk * 1000, nv ? bulk * 1e6 / (double)nv : 0.0);

	/* Claims from the pool, one transaction each. */
	t = now_s();
	for (long i = 0, done = 0; i < n && done < claims; i++) {
		struct srv_user u;
		struct srv_pool_change c;

		if (i % 10 == 0)
			continue; /* kept by its open deal: not in the pool */
		memset(&u, 0, sizeof u);
		snprintf(u.name, sizeof u.name, "claimer%ld", done % 7);
		u.role = SRV_REP;
		if (srv_pool_claim(d.db, &u, ids[i], &c, &err) != CRM_OK)
			die("claim", &err, NULL);
		done++;
	}
	claim = now_s() - t;
	printf("claims:              %ld in %.1f ms (%.3f ms per claim)\n", claims, claim * 1000,
	       claims ? claim * 1000 / (double)claims : 0.0);
	srv_db_close(&d);
	free(ids);
	if (tmp[0]) {
		char p[80];

		unlink(tmp);
		snprintf(p, sizeof p, "%s-wal", tmp);
		unlink(p);
		snprintf(p, sizeof p, "%s-shm", tmp);
		unlink(p);
	}
	return 0;
}
