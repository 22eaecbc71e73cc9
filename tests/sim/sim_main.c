/*
 * sync-sim: command line of the deterministic sync simulator.
 *
 *   sync-sim [--seeds N] [--replicas R] [--ops K] [--seed S] [--jobs J]
 *            [--verbose] [--strict] [--sabotage diverge|lose]
 *
 * Runs seeds S .. S+N-1, each a fresh world of R replicas and a hub doing K
 * local operations with random exchanges and faults, then quiesced and
 * checked (see sim.h). A failing seed prints why and the command that
 * replays it alone. The last line is "N passed, M failed"; the exit status is
 * 1 if any seed failed, 2 on bad usage.
 *
 * Seeds are independent, so J worker processes (default: one per CPU) share
 * them out; each seed's lines are written in one piece, in whatever order
 * the seeds finish. A seed's outcome does not depend on J or on the seeds
 * around it.
 *
 * --sabotage is the simulator's own test: "diverge" changes a field on one
 * replica behind sync's back after quiescing, "lose" has a replica mark a
 * batch that creates a row acknowledged without ever sending it. Every seed
 * must then fail (ctest checks that it is reported), or the checks have gone
 * blind.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: sync-sim [--seeds N] [--replicas R] [--ops K] [--seed S] [--verbose] "
		   "[--strict] [--sabotage diverge|lose]\n"
		   "  --seeds N     how many seeds to run (default 100)\n"
		   "  --replicas R  replicas besides the hub, 1..30 (default 5)\n"
		   "  --ops K       local operations per seed (default 200)\n"
		   "  --seed S      first seed (default 1)\n"
		   "  --jobs J      worker processes (default: one per CPU, at most 8)\n"
		   "  --verbose     one line of figures per seed\n"
		   "  --strict      a spurious conflict (one version had seen the other) fails\n"
		   "  --sabotage K  self-test: diverge (a replica changed behind sync's back) or\n"
		   "                lose (a batch acknowledged, never sent); every seed must fail\n");
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

static void print_stats(FILE *out, const char *label, const struct sim_stats *s)
{
	fprintf(out, "%s: ops %lu (inserts %lu, edits %lu, concurrent pairs %lu, deletes %lu, undeletes %lu, "
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

struct tally {
	unsigned long passed, failed;
	struct sim_stats total;
};

/* Writes all of buf to stdout in one go where possible (workers share it). */
static void put_all(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* Runs seeds first+job, first+job+njobs, ... below first+nseeds. */
static void run_seeds(const struct sim_config *cfg, uint64_t first, uint64_t nseeds, unsigned job,
		      unsigned njobs, struct tally *t)
{
	char why[1024];

	for (uint64_t k = job; k < nseeds; k += njobs) {
		uint64_t seed = first + k;
		struct sim_stats st;
		char *text = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&text, &len);
		bool ok;

		memset(&st, 0, sizeof st);
		ok = sim_run_seed(cfg, seed, &st, why, sizeof why);
		if (!out)
			out = stdout;
		if (ok) {
			t->passed++;
		} else {
			t->failed++;
			fprintf(out, "seed %llu FAILED: %s\n", (unsigned long long)seed, why);
			fprintf(out, "  replay: sync-sim --seeds 1 --replicas %u --ops %u --seed %llu%s%s%s\n",
				cfg->replicas, cfg->ops, (unsigned long long)seed,
				cfg->strict ? " --strict" : "", cfg->sabotage ? " --sabotage " : "",
				cfg->sabotage ? cfg->sabotage : "");
		}
		if (cfg->verbose) {
			char label[48];

			snprintf(label, sizeof label, "seed %llu", (unsigned long long)seed);
			print_stats(out, label, &st);
			fprintf(out, "seed %llu: hub dump hash %016llx\n", (unsigned long long)seed,
				(unsigned long long)st.hub_hash);
		}
		add_stats(&t->total, &st);
		if (out != stdout) {
			fclose(out);
			put_all(text, len);
			free(text);
		}
	}
}

/* Reads exactly n bytes from fd; false on a short read. */
static bool read_all(int fd, void *p, size_t n)
{
	unsigned char *b = p;

	while (n > 0) {
		ssize_t r = read(fd, b, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		b += r;
		n -= (size_t)r;
	}
	return true;
}

/*
 * Forks njobs workers, each with its own directory under cfg->dir, and adds
 * up what they report through a pipe. A worker that dies (a sanitizer
 * report, a crash) counts as a failure.
 */
static void run_workers(const struct sim_config *cfg, uint64_t first, uint64_t nseeds,
			unsigned njobs, struct tally *t)
{
	pid_t pids[64];
	int fds[64];

	fflush(stdout);
	for (unsigned j = 0; j < njobs; j++) {
		int p[2];

		pids[j] = -1;
		fds[j] = -1;
		if (pipe(p) != 0) {
			fprintf(stderr, "sync-sim: pipe: %s\n", strerror(errno));
			t->failed++;
			continue;
		}
		pids[j] = fork();
		if (pids[j] == 0) {
			struct sim_config mine = *cfg;
			struct tally tt;
			char sub[600];
			int rc = 0;

			close(p[0]);
			for (unsigned k = 0; k < j; k++)
				if (fds[k] >= 0)
					close(fds[k]);
			memset(&tt, 0, sizeof tt);
			snprintf(sub, sizeof sub, "%s/w%u", cfg->dir, j);
			if (mkdir(sub, 0700) != 0) {
				fprintf(stderr, "sync-sim: mkdir %s: %s\n", sub, strerror(errno));
				exit(3);
			}
			mine.dir = sub;
			run_seeds(&mine, first, nseeds, j, njobs, &tt);
			rmdir(sub);
			if (write(p[1], &tt, sizeof tt) != (ssize_t)sizeof tt)
				rc = 3;
			close(p[1]);
			exit(rc); /* exit, not _exit: LeakSanitizer checks the worker too */
		}
		close(p[1]);
		if (pids[j] < 0) {
			fprintf(stderr, "sync-sim: fork: %s\n", strerror(errno));
			close(p[0]);
			t->failed++;
			continue;
		}
		fds[j] = p[0];
	}
	for (unsigned j = 0; j < njobs; j++) {
		struct tally tt;
		int status = 0;
		bool got;

		if (pids[j] < 0)
			continue;
		got = read_all(fds[j], &tt, sizeof tt);
		close(fds[j]);
		waitpid(pids[j], &status, 0);
		if (got) {
			t->passed += tt.passed;
			t->failed += tt.failed;
			add_stats(&t->total, &tt.total);
		}
		if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			printf("worker %u (seeds %llu + %u + k*%u) died: %s %d; replay its seeds with "
			       "--jobs 1\n", j, (unsigned long long)first, j, njobs,
			       WIFSIGNALED(status) ? "signal" : "exit status",
			       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			t->failed++;
		}
	}
}

int main(int argc, char **argv)
{
	struct sim_config cfg;
	uint64_t nseeds = 100, first = 1, v;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned njobs = ncpu > 0 ? (unsigned)(ncpu < 8 ? ncpu : 8) : 1;
	struct tally t;
	char dir[512];
	struct timespec t0, t1;

	memset(&cfg, 0, sizeof cfg);
	memset(&t, 0, sizeof t);
	cfg.replicas = 5;
	cfg.ops = 200;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
			cfg.verbose = true;
		} else if (strcmp(a, "--strict") == 0) {
			cfg.strict = true;
		} else if (strcmp(a, "--sabotage") == 0 && val &&
			   (strcmp(val, "diverge") == 0 || strcmp(val, "lose") == 0)) {
			cfg.sabotage = val;
			i++;
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
		} else if (strcmp(a, "--jobs") == 0 && parse_u64(val, 64, &v) && v >= 1) {
			njobs = (unsigned)v;
			i++;
		} else {
			fprintf(stderr, "sync-sim: bad argument %s%s%s\n", a, val ? " " : "", val ? val : "");
			usage(stderr);
			return 2;
		}
	}
	if (nseeds < njobs)
		njobs = nseeds > 0 ? (unsigned)nseeds : 1;
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
	if (njobs == 1)
		run_seeds(&cfg, first, nseeds, 0, 1, &t);
	else
		run_workers(&cfg, first, nseeds, njobs, &t);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rmdir(dir);
	print_stats(stdout, "total", &t.total);
	printf("time: %.2f s for %llu seeds of %u replicas and %u ops, %u jobs\n",
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	       (unsigned long long)nseeds, cfg.replicas, cfg.ops, njobs);
	printf("%lu passed, %lu failed\n", t.passed, t.failed);
	return t.failed ? 1 : 0;
}
