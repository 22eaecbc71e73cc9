/*
 * sync-sim: command line of the deterministic sync simulator.
 *
 *   sync-sim [--seeds N] [--replicas R] [--ops K] [--seed S] [--verbose] [--strict]
 *
 * Runs seeds S .. S+N-1, each a fresh world of R replicas and a hub doing K
 * local operations with random exchanges and faults, then quiesced and
 * checked (see sim.h). A failing seed prints why and the command that
 * replays it alone. The last line is "N passed, M failed"; the exit status is
 * 1 if any seed failed, 2 on bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: sync-sim [--seeds N] [--replicas R] [--ops K] [--seed S] [--verbose] "
		   "[--strict]\n"
		   "  --seeds N     how many seeds to run (default 100)\n"
		   "  --replicas R  replicas besides the hub, 1..30 (default 5)\n"
		   "  --ops K       local operations per seed (default 200)\n"
		   "  --seed S      first seed (default 1)\n"
		   "  --verbose     one line of figures per seed\n"
		   "  --strict      a spurious conflict (one version had seen the other) fails\n");
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = (uint64_t)v;
	return true;
}

static void add_stats(struct sim_stats *t, const struct sim_stats *s)
{
	t->ops += s->ops;
	t->inserts += s->inserts;
	t->edits += s->edits;
	t->concurrent += s->concurrent;
	t->deletes += s->deletes;
	t->undeletes += s->undeletes;
	t->resolves += s->resolves;
	t->requests += s->requests;
	t->responses += s->responses;
	t->dropped += s->dropped;
	t->duplicated += s->duplicated;
	t->stale_pages += s->stale_pages;
	t->crashes += s->crashes;
	t->restarts += s->restarts;
	t->hub_restarts += s->hub_restarts;
	t->applied += s->applied;
	t->conflicts_hub += s->conflicts_hub;
	t->spurious += s->spurious;
	t->versions += s->versions;
	t->acked += s->acked;
}

static void print_stats(const char *label, const struct sim_stats *s)
{
	printf("%s: ops %lu (inserts %lu, edits %lu, concurrent pairs %lu, deletes %lu, undeletes %lu, "
	       "resolves %lu); requests %lu, responses %lu, dropped %lu, duplicated %lu, stale pages %lu; "
	       "crashes %lu, restarts %lu, hub restarts %lu; versions %lu, acked %lu, hub applied %lu, "
	       "hub conflicts %lu, spurious %lu\n",
	       label, s->ops, s->inserts, s->edits, s->concurrent, s->deletes, s->undeletes,
	       s->resolves, s->requests, s->responses, s->dropped, s->duplicated, s->stale_pages,
	       s->crashes, s->restarts, s->hub_restarts, s->versions, s->acked, s->applied,
	       s->conflicts_hub, s->spurious);
}

static const char *temp_base(void)
{
	const char *t = getenv("TMPDIR");
	struct stat sb;

	/* tmpfs when there is one: the databases are files, but need not touch a disk. */
	if (stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) && access("/dev/shm", W_OK) == 0)
		return "/dev/shm";
	return t && *t ? t : "/tmp";
}

int main(int argc, char **argv)
{
	struct sim_config cfg;
	uint64_t nseeds = 100, first = 1, v;
	unsigned long passed = 0, failed = 0;
	struct sim_stats total;
	char dir[512];
	char why[1024];
	struct timespec t0, t1;

	memset(&cfg, 0, sizeof cfg);
	memset(&total, 0, sizeof total);
	cfg.replicas = 5;
	cfg.ops = 200;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
			cfg.verbose = true;
		} else if (strcmp(a, "--strict") == 0) {
			cfg.strict = true;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--seeds") == 0 && parse_u64(val, UINT64_MAX, &v)) {
			nseeds = v;
			i++;
		} else if (strcmp(a, "--replicas") == 0 && parse_u64(val, 30, &v) && v >= 1) {
			cfg.replicas = (unsigned)v;
			i++;
		} else if (strcmp(a, "--ops") == 0 && parse_u64(val, 10000000, &v)) {
			cfg.ops = (unsigned)v;
			i++;
		} else if (strcmp(a, "--seed") == 0 && parse_u64(val, UINT64_MAX, &v)) {
			first = v;
			i++;
		} else {
			fprintf(stderr, "sync-sim: bad argument %s%s%s\n", a, val ? " " : "", val ? val : "");
			usage(stderr);
			return 2;
		}
	}
	snprintf(dir, sizeof dir, "%s/sync-sim.XXXXXX", temp_base());
	if (!mkdtemp(dir)) {
		fprintf(stderr, "sync-sim: cannot make a directory for the databases (%s): %s\n", dir,
			strerror(errno));
		return 2;
	}
	cfg.dir = dir;
	sim_random_install();
	sim_clock_install();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t k = 0; k < nseeds; k++) {
		uint64_t seed = first + k;
		struct sim_stats st;

		memset(&st, 0, sizeof st);
		if (sim_run_seed(&cfg, seed, &st, why, sizeof why)) {
			passed++;
		} else {
			failed++;
			printf("seed %llu FAILED: %s\n", (unsigned long long)seed, why);
			printf("  replay: sync-sim --seeds 1 --replicas %u --ops %u --seed %llu%s\n",
			       cfg.replicas, cfg.ops, (unsigned long long)seed, cfg.strict ? " --strict" : "");
		}
		if (cfg.verbose) {
			char label[48];

			snprintf(label, sizeof label, "seed %llu", (unsigned long long)seed);
			print_stats(label, &st);
			printf("seed %llu: hub dump hash %016llx\n", (unsigned long long)seed,
			       (unsigned long long)st.hub_hash);
		}
		add_stats(&total, &st);
		fflush(stdout);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rmdir(dir);
	print_stats("total", &total);
	printf("time: %.2f s for %llu seeds of %u replicas and %u ops\n",
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	       (unsigned long long)nseeds, cfg.replicas, cfg.ops);
	printf("%lu passed, %lu failed\n", passed, failed);
	return failed ? 1 : 0;
}
