/*
 * bench_server_dedup: the server's de-duplication end to end, on generated
 * business customers (schema/match_gen.h) whose true identity is known.
 *
 *   bench_server_dedup [--entities N] [--seed S] [--dir DIR]
 *
 * Writes the generated rows as a CSV (ext_ref carries the true entity),
 * imports it into a fresh server database with `crm-server import customers
 * --skip-bad` (srv_cmd_import: every row matched against the pool and the
 * rows before it, merged or queued as it goes, each merge a logged captured
 * write), then runs `crm-server dup scan` over the result. Prints the time of
 * each, and the pairwise precision and recall of the merges the server made
 * (rows in the same merge cluster, followed through merged_into) and of
 * merges plus the review queue, against the true entities.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "match_gen.h"
#include "srv_db.h"
#include "srv_dedup.h"
#include "srv_import.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this process (the machine is shared: wall time alone misleads). */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void csv_field(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

struct rec {
	char id[37], root[37];
	long entity;
	int merged; /* index of merged_into row, -1 */
};

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct rec *)a)->id, ((const struct rec *)b)->id);
}

static long find(struct rec *r, size_t n, const char *id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r[mid].id, id);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Union-find over row indexes. */
static size_t uf_find(size_t *p, size_t x)
{
	while (p[x] != x) {
		p[x] = p[p[x]];
		x = p[x];
	}
	return x;
}

static int cmp_pair(const void *a, const void *b)
{
	const long *x = a, *y = b;

	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

static size_t pairs_of_sorted(long *k, size_t n)
{
	size_t total = 0, run = 1;

	qsort(k, n, sizeof *k, cmp_long);
	for (size_t i = 1; i <= n; i++) {
		if (i < n && k[i] == k[i - 1]) {
			run++;
			continue;
		}
		total += run * (run - 1) / 2;
		run = 1;
	}
	return total;
}

int main(int argc, char **argv)
{
	size_t entities = 20000;
	unsigned long seed = 1;
	const char *dir = "/tmp";
	char csv[512], db[512], p[600];
	struct match_gen_set set;
	struct crm_error err;
	struct srv_db d;
	FILE *f;
	double t0, c0, t_import, t_scan, c_import, c_scan;
	struct rec *r = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	size_t *uf = NULL;
	long *key = NULL;
	size_t true_pairs, pred_pairs, tp, queued = 0, queued_true = 0, review_tp;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--entities") == 0 && i + 1 < argc)
			entities = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			seed = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else {
			fprintf(stderr, "usage: bench_server_dedup [--entities N] [--seed S] [--dir DIR]\n");
			return 2;
		}
	}
	snprintf(csv, sizeof csv, "%s/bench_server_dedup.%d.csv", dir, (int)getpid());
	snprintf(db, sizeof db, "%s/bench_server_dedup.%d.db", dir, (int)getpid());
	if (match_gen_make(&set, seed, entities, &err) != CRM_OK) {
		fprintf(stderr, "gen: %s\n", err.msg);
		return 1;
	}
	f = fopen(csv, "wb");
	if (!f) {
		perror(csv);
		match_gen_release(&set);
		return 1;
	}
	fputs("name,uscc,phone,email,address,city,region,kind,ext_ref\n", f);
	for (size_t i = 0; i < set.n; i++) {
		const struct match_gen_row *g = &set.rows[i];
		char ref[64];

		csv_field(f, g->in.name);
		fputc(',', f);
		csv_field(f, g->in.uscc);
		fputc(',', f);
		csv_field(f, g->in.phone);
		fputc(',', f);
		csv_field(f, g->in.email);
		fputc(',', f);
		csv_field(f, g->in.address);
		fputc(',', f);
		csv_field(f, g->in.city);
		fputc(',', f);
		csv_field(f, g->in.region);
		fputc(',', f);
		csv_field(f, g->in.kind);
		snprintf(ref, sizeof ref, "E%ld#%zu", g->entity, i);
		fputc(',', f);
		csv_field(f, ref);
		fputc('\n', f);
	}
	fclose(f);
	printf("generated %zu rows of %zu entities (seed %lu)\n", set.n, entities, seed);
	match_gen_release(&set);
	if (srv_db_open(db, SRV_DB_CREATE | SRV_DB_SYNC, &d, &err) != CRM_OK) {
		fprintf(stderr, "db: %s\n", err.msg);
		goto out;
	}
	srv_db_close(&d);
	{
		char *args[] = {(char *)(uintptr_t) "customers", csv, (char *)(uintptr_t) "--skip-bad",
				(char *)(uintptr_t) "--db", db, NULL};
		char *sargs[] = {(char *)(uintptr_t) "scan", (char *)(uintptr_t) "--db", db, NULL};

		t0 = now_s();
		c0 = cpu_s();
		if (srv_cmd_import(5, args) != 0)
			goto out;
		t_import = now_s() - t0;
		c_import = cpu_s() - c0;
		t0 = now_s();
		c0 = cpu_s();
		if (srv_cmd_dup(3, sargs) != 0)
			goto out;
		t_scan = now_s() - t0;
		c_scan = cpu_s() - c0;
	}
	/* Read back: every row's entity (from ext_ref) and where it was merged. */
	if (srv_db_open(db, 0, &d, &err) != CRM_OK) {
		fprintf(stderr, "db: %s\n", err.msg);
		goto out;
	}
	/* What `serve` does when it starts: the index of every live customer. */
	{
		struct srv_dedup *dd = NULL;

		t0 = now_s();
		c0 = cpu_s();
		if (srv_dedup_open(d.db, &dd, &err) != CRM_OK) {
			fprintf(stderr, "index: %s\n", err.msg);
			goto out_db;
		}
		printf("index build (serve start): %zu live customers in %.2f s wall, %.2f s CPU\n",
		       srv_dedup_count(dd), now_s() - t0, cpu_s() - c0);
		srv_dedup_free(dd);
	}
	if (sqlite3_prepare_v2(d.db, "SELECT id, ext_ref, coalesce(merged_into, '') FROM customers", -1,
			       &st, NULL) != SQLITE_OK)
		goto out_db;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *ref = (const char *)sqlite3_column_text(st, 1);

		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			r = realloc(r, cap * sizeof *r);
			if (!r)
				goto out_db;
		}
		snprintf(r[n].id, sizeof r[n].id, "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(r[n].root, sizeof r[n].root, "%s", (const char *)sqlite3_column_text(st, 2));
		r[n].entity = ref && ref[0] == 'E' ? strtol(ref + 1, NULL, 10) : -1;
		n++;
	}
	sqlite3_finalize(st);
	st = NULL;
	qsort(r, n, sizeof *r, by_id);
	uf = malloc(n * sizeof *uf);
	key = malloc(n * sizeof *key);
	if (!uf || !key)
		goto out_db;
	for (size_t i = 0; i < n; i++)
		uf[i] = i;
	for (size_t i = 0; i < n; i++) {
		long j = r[i].root[0] ? find(r, n, r[i].root) : -1;

		if (j >= 0)
			uf[uf_find(uf, i)] = uf_find(uf, (size_t)j);
	}
	for (size_t i = 0; i < n; i++)
		key[i] = r[i].entity;
	true_pairs = pairs_of_sorted(key, n);
	for (size_t i = 0; i < n; i++)
		key[i] = (long)uf_find(uf, i);
	pred_pairs = pairs_of_sorted(key, n);
	/* True positives: pairs with the same cluster and the same entity. */
	{
		long (*pk)[2] = malloc(n * sizeof *pk);
		size_t run = 1;

		if (!pk)
			goto out_db;
		for (size_t i = 0; i < n; i++) {
			pk[i][0] = (long)uf_find(uf, i);
			pk[i][1] = r[i].entity;
		}
		qsort(pk, n, sizeof *pk, cmp_pair);
		tp = 0;
		for (size_t i = 1; i <= n; i++) {
			if (i < n && pk[i][0] == pk[i - 1][0] && pk[i][1] == pk[i - 1][1]) {
				run++;
				continue;
			}
			tp += run * (run - 1) / 2;
			run = 1;
		}
		free(pk);
	}
	/* The review queue: a queued pair links two clusters (merged + queued). */
	if (sqlite3_prepare_v2(d.db, "SELECT a, b FROM srv_dup_pairs WHERE status = 'open'", -1, &st,
			       NULL) != SQLITE_OK)
		goto out_db;
	while (sqlite3_step(st) == SQLITE_ROW) {
		long a = find(r, n, (const char *)sqlite3_column_text(st, 0));
		long b = find(r, n, (const char *)sqlite3_column_text(st, 1));

		if (a < 0 || b < 0)
			continue;
		queued++;
		queued_true += r[a].entity == r[b].entity;
		uf[uf_find(uf, (size_t)a)] = uf_find(uf, (size_t)b);
	}
	sqlite3_finalize(st);
	st = NULL;
	{
		long (*pk)[2] = malloc(n * sizeof *pk);
		size_t run = 1;

		if (!pk)
			goto out_db;
		for (size_t i = 0; i < n; i++) {
			pk[i][0] = (long)uf_find(uf, i);
			pk[i][1] = r[i].entity;
		}
		qsort(pk, n, sizeof *pk, cmp_pair);
		review_tp = 0;
		for (size_t i = 1; i <= n; i++) {
			if (i < n && pk[i][0] == pk[i - 1][0] && pk[i][1] == pk[i - 1][1]) {
				run++;
				continue;
			}
			review_tp += run * (run - 1) / 2;
			run = 1;
		}
		free(pk);
	}
	printf("import: %zu rows in %.2f s wall, %.2f s CPU (%.0f rows per CPU second), each matched,"
	       " merged or queued as it went\n",
	       n, t_import, c_import, (double)n / c_import);
	printf("dup scan over the result: %.2f s wall, %.2f s CPU (2 threads)\n", t_scan, c_scan);
	printf("true pairs %zu; merged pairs %zu: precision %.4f, recall %.4f\n", true_pairs, pred_pairs,
	       pred_pairs ? (double)tp / (double)pred_pairs : 1.0,
	       true_pairs ? (double)tp / (double)true_pairs : 1.0);
	printf("review queue %zu pairs (%zu true); recall of merges + queue %.4f\n", queued, queued_true,
	       true_pairs ? (double)review_tp / (double)true_pairs : 1.0);
	rc = 0;
out_db:
	sqlite3_finalize(st);
	srv_db_close(&d);
out:
	free(r);
	free(uf);
	free(key);
	unlink(csv);
	unlink(db);
	snprintf(p, sizeof p, "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", db);
	unlink(p);
	return rc;
}
