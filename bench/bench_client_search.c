/*
 * bench_client_search: time `crm search` queries inside one process, over an
 * existing replica (built by bench_client.sh: 100,000 customers, 300,000
 * activities). Opens the replica once (as crm does), runs each query
 * --repeat times through search_run() (the same code as `crm search`,
 * including the per-hit explanation), and prints the median and the worst
 * time per query in milliseconds with the number of hits.
 *
 * usage: bench_client_search --db PATH [--repeat N] [--limit N] QUERY...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "replica.h"
#include "search.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static long parse_long(const char *s, long dflt)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);

	return end && *end == '\0' && v > 0 ? v : dflt;
}

int main(int argc, char **argv)
{
	const char *db = NULL;
	long repeat = 20, limit = 50;
	struct replica rep;
	struct crm_error err;
	double *t = NULL;
	int status = 0, i;

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			db = argv[++i];
		else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
			repeat = parse_long(argv[++i], repeat);
		else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc)
			limit = parse_long(argv[++i], limit);
		else
			break;
	}
	if (!db || i >= argc) {
		fprintf(stderr, "usage: bench_client_search --db PATH [--repeat N] [--limit N] QUERY...\n");
		return 2;
	}
	if (replica_open(db, &rep, &err) != CRM_OK) {
		fprintf(stderr, "bench_client_search: %s\n", err.msg);
		return 1;
	}
	t = calloc((size_t)repeat, sizeof *t);
	if (!t) {
		status = 1;
		goto out;
	}
	printf("%-16s %8s %10s %10s\n", "query", "hits", "median ms", "max ms");
	for (; i < argc; i++) {
		size_t hits = 0;

		for (long k = 0; k < repeat; k++) {
			struct search_result res;
			double t0 = now_ms();

			if (search_run(rep.db, argv[i], false, (size_t)limit, &res, &err) != CRM_OK) {
				fprintf(stderr, "bench_client_search: %s: %s\n", argv[i], err.msg);
				status = 1;
				goto out;
			}
			t[k] = now_ms() - t0;
			hits = res.n;
			search_result_release(&res);
		}
		qsort(t, (size_t)repeat, sizeof *t, cmp_double);
		printf("%-16s %8zu %10.2f %10.2f\n", argv[i], hits, t[repeat / 2], t[repeat - 1]);
	}
out:
	free(t);
	replica_close(&rep);
	return status;
}
