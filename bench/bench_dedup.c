/*
 * bench_dedup: quality and speed of customer matching (schema/match.h).
 *
 *   bench_dedup febrl [--match T] [--review T] FILE...
 *       FEBRL person records (all FILEs pooled; 4a + 4b are linked together),
 *       full duplicate scan; pairwise precision/recall/F1 of automatic merges
 *       (transitive clusters of MATCH pairs) against rec-N-org / rec-N-dup-K.
 *   bench_dedup gen [--seeds A-B] [--entities N] [--match T] [--review T]
 *       generated Chinese/English business customers (schema/match_gen.h):
 *       precision of automatic merges, recall of merges + review queue.
 *   bench_dedup speed [--pool N] [--queries Q] [--threads T]
 *       median time to match one new customer against a pool of N, and a
 *       full duplicate scan of the pool.
 *
 * Prints figures; docs/benchmarks.md records them with the command.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "match.h"
#include "match_gen.h"

/* CPU seconds used by the whole process (all threads). */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- union-find and pair counting ---------------------------------------- */

struct uf {
	size_t *p;
};

static size_t uf_find(struct uf *u, size_t x)
{
	while (u->p[x] != x) {
		u->p[x] = u->p[u->p[x]];
		x = u->p[x];
	}
	return x;
}

static void uf_union(struct uf *u, size_t a, size_t b)
{
	a = uf_find(u, a);
	b = uf_find(u, b);
	if (a != b)
		u->p[a < b ? b : a] = a < b ? a : b;
}

/* Records of one benchmark: truth entity per record, id "r<index>". */
struct pool {
	size_t n;
	long *entity;            /* true entity of record i */
	struct uf clusters;      /* MATCH clusters */
	size_t review_pairs, review_true, match_pairs_direct;
	const struct match_gen_set *set; /* gen runs with -vv: print wrong merges */
	size_t *rev;                     /* true REVIEW pairs (x, y), 2 per pair */
	size_t nrev, caprev;
	int show_false;                  /* febrl -v: print queued pairs of two entities */
};

static size_t idx_of(const char *id)
{
	return (size_t)strtoull(id + 1, NULL, 10);
}

static int on_pair(void *ctx, const char *a, const char *b, const struct match_verdict *v)
{
	struct pool *p = ctx;
	size_t x = idx_of(a), y = idx_of(b);

	if (p->set && v->decision == MATCH_MATCH && p->entity[x] != p->entity[y]) {
		char why[256];
		printf("WRONG MERGE: %s | %s   [%s]\n", p->set->rows[x].name, p->set->rows[y].name,
		       match_verdict_reasons(v, why, sizeof why));
	}
	if (p->show_false && p->entity[x] != p->entity[y]) {
		char why[256];
		printf("FALSE %s %.1f [%s] r%zu r%zu\n", match_decision_name(v->decision), v->score,
		       match_verdict_reasons(v, why, sizeof why), x, y);
	}
	if (v->decision == MATCH_MATCH) {
		uf_union(&p->clusters, x, y);
		p->match_pairs_direct++;
	} else if (v->decision == MATCH_REVIEW) {
		p->review_pairs++;
		if (p->entity[x] == p->entity[y]) {
			p->review_true++;
			if (p->nrev + 2 > p->caprev) {
				size_t nc = p->caprev ? p->caprev * 2 : 1024;
				size_t *nr = realloc(p->rev, nc * sizeof *nr);
				if (!nr)
					return 1;
				p->rev = nr;
				p->caprev = nc;
			}
			p->rev[p->nrev++] = x;
			p->rev[p->nrev++] = y;
		}
	}
	return 0;
}

static int cmp_pair2(const void *x, const void *y)
{
	const long *a = x, *b = y;

	if (a[0] != b[0])
		return a[0] < b[0] ? -1 : 1;
	return a[1] < b[1] ? -1 : a[1] > b[1];
}

/* Pairs inside MATCH clusters: predicted, true positive; and all true pairs. */
static void count_pairs(struct pool *p, double *pred, double *tp, double *truth)
{
	long *key = malloc(p->n * 2 * sizeof *key);
	size_t i, j;

	*pred = *tp = *truth = 0;
	/* (cluster, entity) sorted: runs give TP; cluster runs give predictions */
	for (i = 0; i < p->n; i++) {
		key[2 * i] = (long)uf_find(&p->clusters, i);
		key[2 * i + 1] = p->entity[i];
	}
	qsort(key, p->n, 2 * sizeof *key, cmp_pair2);
	for (i = 0; i < p->n; i = j) {
		double c = 0;
		for (j = i; j < p->n && key[2 * j] == key[2 * i]; j++)
			c++;
		*pred += c * (c - 1) / 2;
	}
	for (i = 0; i < p->n; i = j) {
		double c = 0;
		for (j = i; j < p->n && key[2 * j] == key[2 * i] && key[2 * j + 1] == key[2 * i + 1];
		     j++)
			c++;
		*tp += c * (c - 1) / 2;
	}
	for (i = 0; i < p->n; i++) {
		key[2 * i] = p->entity[i];
		key[2 * i + 1] = 0;
	}
	qsort(key, p->n, 2 * sizeof *key, cmp_pair2);
	for (i = 0; i < p->n; i = j) {
		double c = 0;
		for (j = i; j < p->n && key[2 * j] == key[2 * i]; j++)
			c++;
		*truth += c * (c - 1) / 2;
	}
	free(key);
}

static int pool_init(struct pool *p, size_t n)
{
	size_t i;

	memset(p, 0, sizeof *p);
	p->n = n;
	p->entity = calloc(n ? n : 1, sizeof *p->entity);
	p->clusters.p = malloc((n ? n : 1) * sizeof *p->clusters.p);
	if (!p->entity || !p->clusters.p)
		return -1;
	for (i = 0; i < n; i++)
		p->clusters.p[i] = i;
	return 0;
}

/*
 * True pairs that reached the review queue but were not merged: a true pair
 * is "found" when merged or queued. Review pairs already inside one MATCH
 * cluster are not counted twice.
 */
static double review_only_true(struct pool *p)
{
	size_t i;
	double c = 0;

	for (i = 0; i < p->nrev; i += 2)
		if (uf_find(&p->clusters, p->rev[i]) != uf_find(&p->clusters, p->rev[i + 1]))
			c++;
	return c;
}

static void pool_release(struct pool *p)
{
	free(p->rev);
	free(p->entity);
	free(p->clusters.p);
}

/* ---- FEBRL ---------------------------------------------------------------- */

#define FEBRL_COLS 11

/* Splits a FEBRL line at ", " (CR/LF stripped) into cols. */
static int febrl_split(char *line, char *cols[FEBRL_COLS])
{
	size_t n = strlen(line);
	int k = 0;
	char *p = line;

	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	while (k < FEBRL_COLS) {
		char *c = strchr(p, ',');
		cols[k++] = p;
		if (!c)
			break;
		*c = '\0';
		p = c + 1;
		while (*p == ' ')
			p++;
	}
	return k;
}

/* Entity number of "rec-N-org" / "rec-N-dup-K". */
static long febrl_entity(const char *rec)
{
	if (strncmp(rec, "rec-", 4) != 0)
		return -1;
	return strtol(rec + 4, NULL, 10);
}

struct run_opts {
	struct match_params params;
	int threads;
};

static int run_pool_scan(struct match_index *idx, struct pool *p, int threads, double *secs)
{
	struct crm_error err;
	double t0 = now_s();

	if (match_index_scan(idx, threads, on_pair, p, &err) != CRM_OK) {
		fprintf(stderr, "scan: %s\n", err.msg);
		return -1;
	}
	*secs = now_s() - t0;
	return 0;
}

static int cmd_febrl(int argc, char **argv, const struct run_opts *o, int verbose)
{
	char **raw = NULL;
	int i, rc = 1;
	size_t cap = 0, n = 0;
	struct match_record *recs = NULL;
	long *ent = NULL;
	struct match_index *idx = NULL;
	struct crm_error err;
	struct pool p;
	char line[1024];
	double pred, tp, truth, secs, prec, rec, f1;

	for (i = 0; i < argc; i++) {
		FILE *f = fopen(argv[i], "r");
		int first = 1;
		if (!f) {
			fprintf(stderr, "cannot open %s\n", argv[i]);
			goto out;
		}
		while (fgets(line, sizeof line, f)) {
			char *c[FEBRL_COLS];
			char name[256], addr[512];
			struct match_input in = {0};
			if (first) {
				first = 0;
				continue;
			}
			if (n == cap) {
				cap = cap ? cap * 2 : 1024;
				recs = realloc(recs, cap * sizeof *recs);
				ent = realloc(ent, cap * sizeof *ent);
				raw = realloc(raw, cap * sizeof *raw);
				if (!recs || !ent || !raw) {
					fclose(f);
					goto out;
				}
			}
			raw[n] = verbose ? strdup(line) : NULL;
			if (febrl_split(line, c) != FEBRL_COLS) {
				free(raw[n]);
				continue;
			}
			/* name, address (number street, locality, postcode), city, region */
			snprintf(name, sizeof name, "%s %s", c[1], c[2]);
			snprintf(addr, sizeof addr, "%s %s, %s, %s", c[3], c[4], c[5], c[7]);
			in.kind = "person";
			in.name = name;
			in.address = addr;
			in.city = c[6];
			in.region = c[8];
			in.birth_date = c[9];
			in.id_number = c[10];
			if (match_record_init(&recs[n], &in, &err) != CRM_OK) {
				fprintf(stderr, "%s: %s\n", argv[i], err.msg);
				free(raw[n]);
				continue;
			}
			ent[n] = febrl_entity(c[0]);
			n++;
		}
		fclose(f);
	}
	if (pool_init(&p, n) != 0)
		goto out;
	if (match_index_new(&idx, &o->params, &err) != CRM_OK)
		goto out_pool;
	for (size_t k = 0; k < n; k++) {
		char id[32];
		snprintf(id, sizeof id, "r%zu", k);
		p.entity[k] = ent[k];
		if (match_index_add(idx, id, &recs[k], &err) != CRM_OK) {
			fprintf(stderr, "%s\n", err.msg);
			goto out_pool;
		}
	}
	p.show_false = verbose;
	if (run_pool_scan(idx, &p, o->threads, &secs) != 0)
		goto out_pool;
	count_pairs(&p, &pred, &tp, &truth);
	prec = pred > 0 ? tp / pred : 1.0;
	rec = truth > 0 ? tp / truth : 1.0;
	f1 = prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0;
	printf("records %zu  true pairs %.0f  merged pairs %.0f  correct %.0f\n", n, truth, pred,
	       tp);
	if (verbose)
		for (size_t a = 0; a < n; a++)
			for (size_t b = a + 1; b < n; b++) {
				struct match_verdict v;
				char why[256];
				if (ent[a] != ent[b] ||
				    uf_find(&p.clusters, a) == uf_find(&p.clusters, b))
					continue;
				match_compare(&recs[a], &recs[b], &o->params, &v);
				printf("MISSED %s %.1f [%s]\n  %s\n  %s\n",
				       match_decision_name(v.decision), v.score,
				       match_verdict_reasons(&v, why, sizeof why), raw[a], raw[b]);
			}
	printf("precision %.4f  recall %.4f  F1 %.4f  review pairs %zu (%zu true)  scan %.2f s\n",
	       prec, rec, f1, p.review_pairs, p.review_true, secs);
	rc = 0;
out_pool:
	pool_release(&p);
out:
	match_index_free(idx);
	if (raw)
		for (size_t k = 0; k < n; k++)
			free(raw[k]);
	free(raw);
	free(recs);
	free(ent);
	return rc;
}

/* ---- generated business customers ---------------------------------------- */

/* Prints true pairs of each entity whose decision is DISTINCT (misses of scoring). */
static void explain_missed(const struct match_gen_set *set, const struct match_index *idx,
			   const struct match_params *prm)
{
	long *key = malloc(set->n * 2 * sizeof *key);
	size_t i, j, k;

	if (!key)
		return;
	for (i = 0; i < set->n; i++) {
		key[2 * i] = set->rows[i].entity;
		key[2 * i + 1] = (long)i;
	}
	qsort(key, set->n, 2 * sizeof *key, cmp_pair2);
	for (i = 0; i < set->n; i = j) {
		for (j = i; j < set->n && key[2 * j] == key[2 * i]; j++)
			;
		for (k = i; k < j; k++)
			for (size_t l = k + 1; l < j; l++) {
				size_t x = (size_t)key[2 * k + 1], y = (size_t)key[2 * l + 1];
				struct match_verdict v;
				char a[32], b[32], why[256];
				snprintf(a, sizeof a, "r%zu", x);
				snprintf(b, sizeof b, "r%zu", y);
				match_compare(match_index_get(idx, a), match_index_get(idx, b), prm, &v);
				printf("PAIR %s: %s {%s %s %s} | %s {%s %s %s}  [%s %.1f]\n",
				       match_decision_name(v.decision), set->rows[x].name,
				       set->rows[x].phone, set->rows[x].email, set->rows[x].uscc,
				       set->rows[y].name, set->rows[y].phone, set->rows[y].email,
				       set->rows[y].uscc, match_verdict_reasons(&v, why, sizeof why),
				       v.score);
			}
	}
	free(key);
}

static int cmd_gen(unsigned seed_from, unsigned seed_to, size_t entities, const struct run_opts *o,
		   int verbose)
{
	unsigned seed;
	double sum_pred = 0, sum_tp = 0, sum_truth = 0, sum_rev_tp = 0, sum_rev = 0, sum_n = 0;
	int rc = 1;

	for (seed = seed_from; seed <= seed_to; seed++) {
		struct match_gen_set set;
		struct match_index *idx = NULL;
		struct crm_error err;
		struct pool p;
		double pred, tp, truth, secs;
		size_t k;

		if (match_gen_make(&set, seed, entities, &err) != CRM_OK) {
			fprintf(stderr, "gen: %s\n", err.msg);
			return 1;
		}
		if (pool_init(&p, set.n) != 0 ||
		    match_index_new(&idx, &o->params, &err) != CRM_OK) {
			match_gen_release(&set);
			return 1;
		}
		for (k = 0; k < set.n; k++) {
			char id[32];
			snprintf(id, sizeof id, "r%zu", k);
			p.entity[k] = set.rows[k].entity;
			if (match_index_add_row(idx, id, &set.rows[k].in, &err) != CRM_OK) {
				fprintf(stderr, "%s\n", err.msg);
				goto fail;
			}
		}
		if (verbose > 1)
			p.set = &set;
		if (run_pool_scan(idx, &p, o->threads, &secs) != 0)
			goto fail;
		count_pairs(&p, &pred, &tp, &truth);
		p.review_true = (size_t)review_only_true(&p);
		if (verbose) {
			printf("seed %u: records %zu true pairs %.0f merged %.0f correct %.0f "
			       "review %zu (true %zu) precision %.4f recall(merge) %.4f "
			       "recall(merge+review) %.4f\n",
			       seed, set.n, truth, pred, tp, p.review_pairs, p.review_true,
			       pred > 0 ? tp / pred : 1.0, truth > 0 ? tp / truth : 1.0,
			       truth > 0 ? (tp + (double)p.review_true) / truth : 1.0);
		}
		sum_pred += pred;
		sum_tp += tp;
		sum_truth += truth;
		sum_rev_tp += (double)p.review_true;
		sum_rev += (double)p.review_pairs;
		sum_n += (double)set.n;
		if (verbose > 2)
			explain_missed(&set, idx, &o->params);
		pool_release(&p);
		match_index_free(idx);
		match_gen_release(&set);
		continue;
fail:
		pool_release(&p);
		match_index_free(idx);
		match_gen_release(&set);
		return rc;
	}
	printf("seeds %u-%u entities %zu: precision(merge) %.4f recall(merge) %.4f "
	       "recall(merge+review) %.4f  [true pairs %.0f merged %.0f correct %.0f "
	       "review-true %.0f of %.0f queued, records %.0f]\n",
	       seed_from, seed_to, entities, sum_pred > 0 ? sum_tp / sum_pred : 1.0,
	       sum_truth > 0 ? sum_tp / sum_truth : 1.0,
	       sum_truth > 0 ? (sum_tp + sum_rev_tp) / sum_truth : 1.0, sum_truth, sum_pred, sum_tp,
	       sum_rev_tp, sum_rev, sum_n);
	return 0;
}

/* ---- speed ---------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cmd_speed(size_t pool, size_t queries, const struct run_opts *o)
{
	struct match_gen_stream *gs = NULL;
	struct match_index *idx = NULL;
	struct crm_error err;
	double t0, c0, *lat = NULL, scan, scan_cpu, *clat = NULL;
	size_t i, counts[2] = {0, 0};
	struct match_hit hits[16];
	struct pool p;
	double pred, tp, truth;
	int rc = 1;

	if (pool_init(&p, pool) != 0)
		return 1;
	if (match_gen_stream_new(&gs, 12345, &err) != CRM_OK)
		goto out;
	if (match_index_new(&idx, &o->params, &err) != CRM_OK)
		goto out;
	t0 = now_s();
	for (i = 0; i < pool; i++) {
		struct match_gen_row row;
		char id[32];
		match_gen_stream_next(gs, &row);
		snprintf(id, sizeof id, "r%zu", i);
		p.entity[i] = row.entity;
		if (match_index_add_row(idx, id, &row.in, &err) != CRM_OK) {
			fprintf(stderr, "%s\n", err.msg);
			goto out;
		}
	}
	printf("pool %zu built in %.2f s\n", pool, now_s() - t0);
	lat = malloc(queries * sizeof *lat);
	clat = malloc(queries * sizeof *clat);
	if (!lat || !clat)
		goto out;
	for (i = 0; i < queries; i++) {
		struct match_gen_row row;
		struct match_record r;
		size_t nh;
		double q0, qc;
		match_gen_stream_next(gs, &row);
		qc = cpu_s();
		q0 = now_s();
		if (match_record_init(&r, &row.in, &err) != CRM_OK ||
		    match_index_query(idx, &r, NULL, hits, 16, &nh, &err) != CRM_OK)
			goto out;
		lat[i] = now_s() - q0;
		clat[i] = cpu_s() - qc;
	}
	qsort(lat, queries, sizeof *lat, cmp_double);
	qsort(clat, queries, sizeof *clat, cmp_double);
	printf("query (normalize + candidates + score) over %zu: median %.3f ms  p90 %.3f ms  "
	       "p99 %.3f ms  max %.3f ms\n",
	       pool, lat[queries / 2] * 1e3, lat[queries * 9 / 10] * 1e3,
	       lat[queries * 99 / 100] * 1e3, lat[queries - 1] * 1e3);
	printf("query CPU time: median %.3f ms  p90 %.3f ms  p99 %.3f ms\n", clat[queries / 2] * 1e3,
	       clat[queries * 9 / 10] * 1e3, clat[queries * 99 / 100] * 1e3);
	t0 = now_s();
	c0 = cpu_s();
	if (match_index_scan(idx, o->threads, on_pair, &p, &err) != CRM_OK) {
		fprintf(stderr, "%s\n", err.msg);
		goto out;
	}
	scan = now_s() - t0;
	scan_cpu = cpu_s() - c0;
	counts[0] = p.match_pairs_direct;
	counts[1] = p.review_pairs;
	printf("full scan of %zu with %d threads: %.2f s wall, %.2f s CPU  (match pairs %zu, "
	       "review pairs %zu)\n",
	       pool, o->threads, scan, scan_cpu, counts[0], counts[1]);
	count_pairs(&p, &pred, &tp, &truth);
	p.review_true = (size_t)review_only_true(&p);
	printf("scan quality: precision(merge) %.4f recall(merge) %.4f recall(merge+review) %.4f "
	       "[true pairs %.0f merged %.0f correct %.0f]\n",
	       pred > 0 ? tp / pred : 1.0, truth > 0 ? tp / truth : 1.0,
	       truth > 0 ? (tp + (double)p.review_true) / truth : 1.0, truth, pred, tp);
	rc = 0;
out:
	pool_release(&p);
	free(lat);
	free(clat);
	match_index_free(idx);
	match_gen_stream_free(gs);
	return rc;
}

/* ---- main ----------------------------------------------------------------- */

/* A whole number in [lo, hi] or -1 (checked strtoll, the project's habit). */
static long long num(const char *s, long long lo, long long hi)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	return v;
}

/* A decimal number or NAN. */
static double real(const char *s)
{
	char *end = NULL;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0')
		return NAN;
	return v;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_dedup febrl [OPTIONS] [-v] FILE...\n"
		"       bench_dedup gen [--seeds A-B] [--entities N] [OPTIONS] [-v|-vv|-vvv]\n"
		"       bench_dedup speed [--pool N] [--queries Q] [OPTIONS]\n"
		"options: --match T --review T (thresholds), --cap N (block cap),\n"
		"         --candidates N (scored per query), --threads T (scan threads)\n");
}

int main(int argc, char **argv)
{
	struct run_opts o;
	int i, verbose = 0;
	unsigned s0 = 1, s1 = 5;
	size_t entities = 2000, pool = 1000000, queries = 2000;
	char **files = NULL;
	int nfiles = 0, rc, bad = 0;

	match_params_default(&o.params);
	o.threads = 2;
	if (argc < 2) {
		usage();
		return 2;
	}
	files = calloc((size_t)argc, sizeof *files);
	if (!files)
		return 1;
	for (i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--match") == 0 && v) {
			o.params.match_threshold = real(v);
			bad |= isnan(o.params.match_threshold);
			i++;
		} else if (strcmp(a, "--review") == 0 && v) {
			o.params.review_threshold = real(v);
			bad |= isnan(o.params.review_threshold);
			i++;
		} else if (strcmp(a, "--cap") == 0 && v) {
			{
			long long x = num(v, 1, 100000000);
			bad |= x < 0;
			o.params.block_cap = (size_t)(x < 0 ? 1 : x);
			}
			i++;
		} else if (strcmp(a, "--candidates") == 0 && v) {
			{
			long long x = num(v, 1, 100000);
			bad |= x < 0;
			o.params.max_candidates = (size_t)(x < 0 ? 1 : x);
			}
			i++;
		} else if (strcmp(a, "--threads") == 0 && v) {
			{
			long long x = num(v, 1, 64);
			bad |= x < 0;
			o.threads = (int)(x < 0 ? 1 : x);
			}
			i++;
		} else if (strcmp(a, "--seeds") == 0 && v) {
			char buf[64], *dash;
			long long a0, a1;
			snprintf(buf, sizeof buf, "%s", v);
			dash = strchr(buf, '-');
			if (dash)
				*dash = '\0';
			a0 = num(buf, 0, 1000000000);
			a1 = dash ? num(dash + 1, 0, 1000000000) : a0;
			bad |= a0 < 0 || a1 < a0;
			s0 = (unsigned)(a0 < 0 ? 0 : a0);
			s1 = (unsigned)(a1 < 0 ? 0 : a1);
			i++;
		} else if (strcmp(a, "--entities") == 0 && v) {
			{
			long long x = num(v, 1, 10000000);
			bad |= x < 0;
			entities = (size_t)(x < 0 ? 1 : x);
			}
			i++;
		} else if (strcmp(a, "--pool") == 0 && v) {
			{
			long long x = num(v, 1, 100000000);
			bad |= x < 0;
			pool = (size_t)(x < 0 ? 1 : x);
			}
			i++;
		} else if (strcmp(a, "--queries") == 0 && v) {
			{
			long long x = num(v, 1, 10000000);
			bad |= x < 0;
			queries = (size_t)(x < 0 ? 1 : x);
			}
			i++;
		} else if (strcmp(a, "-v") == 0) {
			verbose = 1;
		} else if (strcmp(a, "-vv") == 0) {
			verbose = 2;
		} else if (strcmp(a, "-vvv") == 0) {
			verbose = 3;
		} else {
			files[nfiles++] = argv[i];
		}
	}
	if (bad) {
		usage();
		rc = 2;
	} else if (strcmp(argv[1], "febrl") == 0 && nfiles > 0)
		rc = cmd_febrl(nfiles, files, &o, verbose);
	else if (strcmp(argv[1], "gen") == 0)
		rc = cmd_gen(s0, s1, entities, &o, verbose);
	else if (strcmp(argv[1], "speed") == 0 && queries > 0)
		rc = cmd_speed(pool, queries, &o);
	else {
		usage();
		rc = 2;
	}
	free(files);
	return rc;
}
