/*
 * sim_world: the simulated world of one seed.
 *
 * Replicas and the hub are real SQLite files (on tmpfs when there is one)
 * migrated with the project's schema and opened with sync_open(), as the
 * client and server open theirs. A seed is a sequence of random steps: a
 * local operation (sim_ops.c), a replica starting a sync round or a message
 * being delivered (sim_net.c), a replica or the hub restarting, a laptop's
 * clock being corrected (maybe backwards). Then sim_check.c quiesces and
 * checks. Restarts close the connection (an open transaction dies with it)
 * and reopen; the site id must stay and the HLC must not go back.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crm_buf.h"
#include "crm_time.h"
#include "migrate.h"
#include "sim.h"
#include "tables.h"



bool sim_fail(struct sim_world *w, const char *fmt, ...)
{
	va_list ap;

	if (!w->failed) {
		va_start(ap, fmt);
		vsnprintf(w->why, sizeof w->why, fmt, ap);
		va_end(ap);
		w->failed = true;
	}
	return false;
}

/* ---- schema helpers ---------------------------------------------------- */

static const char *const quiet_cols[] = {"updated_at", NULL};
static struct sync_table_spec specs[16];

const struct sync_table_spec *sim_table_specs(size_t *n)
{
	for (size_t i = 0; i < schema_tables_count && i < 16; i++) {
		specs[i].name = schema_tables[i].name;
		specs[i].quiet = quiet_cols;
	}
	*n = schema_tables_count < 16 ? schema_tables_count : 16;
	return specs;
}

int sim_table_index(const char *name)
{
	for (size_t i = 0; i < schema_tables_count; i++)
		if (strcmp(schema_tables[i].name, name) == 0)
			return (int)i;
	return -1;
}

int sim_col_index(int t, const char *col)
{
	const struct schema_table *tab = &schema_tables[t];

	for (size_t i = 0; i < tab->ncols; i++)
		if (strcmp(tab->cols[i].name, col) == 0)
			return (int)i;
	return -1;
}

int sim_site_index(const struct sim_world *w, const char *site)
{
	for (unsigned i = 0; i <= w->nrep; i++)
		if (strcmp(w->nodes[i].site, site) == 0)
			return (int)i;
	return SIM_NO_SITE;
}

void sim_node_clock(struct sim_world *w, unsigned i)
{
	sim_clock_set(w->now + w->nodes[i].skew_ms);
}

static const char *node_name(const struct sim_world *w, unsigned i, char buf[16])
{
	if (i == w->nrep)
		snprintf(buf, 16, "hub");
	else
		snprintf(buf, 16, "r%u", i);
	return buf;
}

/* ---- opening, closing, restarting --------------------------------------- */

bool sim_exec(struct sim_world *w, unsigned i, const char *sql)
{
	char *msg = NULL;
	char nb[16];

	if (sqlite3_exec(w->nodes[i].db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		sim_fail(w, "%s: %s: %s", node_name(w, i, nb), sql, msg ? msg : "?");
		sqlite3_free(msg);
		return false;
	}
	return true;
}

static bool node_open(struct sim_world *w, unsigned i)
{
	struct sim_node *n = &w->nodes[i];
	struct crm_error err;
	const struct sync_table_spec *sp;
	size_t nsp;
	char nb[16];

	if (sqlite3_open_v2(n->path, &n->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK)
		return sim_fail(w, "%s: cannot open %s", node_name(w, i, nb), n->path);
	if (!sim_exec(w, i, "PRAGMA synchronous=OFF; PRAGMA journal_mode=MEMORY;"))
		return false;
	if (schema_migrate(n->db, NULL, &err) != CRM_OK)
		return sim_fail(w, "%s: schema_migrate: %s", node_name(w, i, nb), err.msg);
	sp = sim_table_specs(&nsp);
	if (sync_open(n->db, sp, nsp, NULL, &n->s, &err) != CRM_OK) {
		n->s = NULL;
		return sim_fail(w, "%s: sync_open: %s", node_name(w, i, nb), err.msg);
	}
	snprintf(n->site, sizeof n->site, "%s", sync_site_id(n->s));
	return true;
}

static void node_close(struct sim_node *n)
{
	if (n->s)
		sync_close(n->s);
	n->s = NULL;
	if (n->db)
		sqlite3_close_v2(n->db);
	n->db = NULL;
}

/*
 * A process restart: the connection goes away (an open transaction with it,
 * as a crash would roll it back) and the database is opened again the way the
 * app does. The HLC must come back above everything committed before.
 */
bool sim_node_restart(struct sim_world *w, unsigned i)
{
	struct sim_node *n = &w->nodes[i];
	char site[37];
	sync_hlc h;
	char nb[16], a[SYNC_HLC_STR_MAX], b[SYNC_HLC_STR_MAX];

	snprintf(site, sizeof site, "%s", n->site);
	node_close(n);
	n->gen++;
	if (i == w->nrep)
		w->st->hub_restarts++;
	else
		w->st->restarts++;
	sim_node_clock(w, i);
	if (!node_open(w, i))
		return false;
	if (strcmp(site, n->site) != 0)
		return sim_fail(w, "%s: site id changed across a restart (%s -> %s)",
				node_name(w, i, nb), site, n->site);
	h = sync_hlc_next(n->s);
	if (h <= n->max_hlc) {
		sync_hlc_format(h, a);
		sync_hlc_format(n->max_hlc, b);
		return sim_fail(w, "%s: HLC went backwards across a restart: next %s <= committed %s",
				node_name(w, i, nb), a, b);
	}
	return true;
}

/* ---- one seed ---------------------------------------------------------------- */

static void advance_time(struct sim_world *w)
{
	uint64_t roll = sim_rng_below(&w->rng, 100);

	if (roll < 20)
		return; /* the clock stands still */
	if (roll < 70)
		w->now += sim_rng_range(&w->rng, 1, 50);
	else if (roll < 97)
		w->now += sim_rng_range(&w->rng, 50, 5000);
	else
		w->now += sim_rng_range(&w->rng, 60000, 600000); /* offline a while */
}

/*
 * A replica's clock error: often none (NTP works), so replicas share
 * milliseconds and HLC ties between sites happen; else up to 30 s either way,
 * well inside the 5 minutes sync refuses.
 */
static int64_t random_skew(struct sim_world *w)
{
	if (sim_rng_chance(&w->rng, 400))
		return 0;
	return sim_rng_range(&w->rng, -30000, 30000);
}

static bool step(struct sim_world *w)
{
	uint64_t roll = sim_rng_below(&w->rng, 100);
	unsigned r = (unsigned)sim_rng_below(&w->rng, w->nrep);
	size_t ready = SIZE_MAX;

	w->stepno++;
	advance_time(w);
	if (roll < 50)
		return sim_local_op(w);
	if (roll >= 70 && roll < 94)
		ready = sim_pick_ready(w);
	if (roll < 70 || (roll < 94 && ready == SIZE_MAX))
		return sim_send_request(w, r);
	if (roll < 94)
		return sim_deliver(w, ready);
	if (roll < 96) {
		sim_node_clock(w, r);
		return sim_node_restart(w, r);
	}
	if (roll < 97)
		return sim_node_restart(w, w->nrep);
	/* A clock correction: this laptop's clock jumps, maybe backwards. */
	w->nodes[r].skew_ms = random_skew(w);
	return true;
}

static void remove_db(const char *path)
{
	char p[600];

	unlink(path);
	snprintf(p, sizeof p, "%s-journal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
}

/*
 * Self-test: after quiescing, changes a field on replica 0 with capture off,
 * as a bug that writes without recording would. The checks must see it.
 */
static bool sabotage_diverge(struct sim_world *w)
{
	struct sim_node *n = &w->nodes[0];
	sqlite3_stmt *st = NULL;
	int rc;

	if (w->nrows == 0)
		return true;
	sync_capture_set(n->s, false);
	if (sqlite3_prepare_v2(n->db, "UPDATE customers SET notes = 'sabotage' WHERE id = ?", -1, &st,
			       NULL) != SQLITE_OK) {
		sync_capture_set(n->s, true);
		return sim_fail(w, "sabotage: %s", sqlite3_errmsg(n->db));
	}
	sqlite3_bind_text(st, 1, w->rows[0].id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	sync_capture_set(n->s, true);
	if (rc != SQLITE_DONE)
		return sim_fail(w, "sabotage: %s", sqlite3_errmsg(n->db));
	w->sabotaged = true;
	return true;
}

/* 2026-01-01T00:00:00Z; every seed gets its own day, so ids made by
 * crm_id_new() in one seed never lean on the previous seed's clock. */
#define SIM_EPOCH_MS 1767225600000LL

bool sim_run_seed(const struct sim_config *cfg, uint64_t seed, struct sim_stats *st,
		  char *why, size_t whylen)
{
	struct sim_world *w = calloc(1, sizeof *w);
	bool ok = false;

	if (!w) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	w->cfg = cfg;
	w->seed = seed;
	w->st = st;
	w->faults = true;
	w->nrep = cfg->replicas;
	sim_rng_seed(&w->rng, seed);
	sim_random_reseed(seed);
	sim_model_init(&w->model);
	w->now = SIM_EPOCH_MS + (int64_t)(seed % 65536) * 86400000LL;
	w->nodes = calloc(w->nrep + 1, sizeof *w->nodes);
	if (!w->nodes) {
		sim_fail(w, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i <= w->nrep; i++) {
		struct sim_node *n = &w->nodes[i];

		if (i == w->nrep)
			snprintf(n->path, sizeof n->path, "%s/hub.db", cfg->dir);
		else
			snprintf(n->path, sizeof n->path, "%s/r%u.db", cfg->dir, i);
		remove_db(n->path);
		n->skew_ms = i == w->nrep ? 0 : random_skew(w);
		sim_node_clock(w, i);
		if (!node_open(w, i))
			goto out;
	}
	for (unsigned i = 0; i <= w->nrep; i++)
		for (unsigned k = 0; k < i; k++)
			if (strcmp(w->nodes[i].site, w->nodes[k].site) == 0) {
				sim_fail(w, "two databases got the same site id %s", w->nodes[i].site);
				goto out;
			}
	while (st->ops < cfg->ops && !w->failed)
		if (!step(w))
			break;
	if (w->failed)
		goto out;
	if (!sim_quiesce(w))
		goto out;
	if (cfg->sabotage && strcmp(cfg->sabotage, "diverge") == 0 && !sabotage_diverge(w))
		goto out;
	ok = sim_check(w);
out:
	if (!ok && !w->failed)
		sim_fail(w, "unknown failure");
	if (!ok)
		snprintf(why, whylen, "%s", w->why);
	for (size_t i = 0; i < w->nnet; i++)
		free(w->net[i].data);
	free(w->net);
	for (size_t i = 0; i < w->nreqs; i++)
		free(w->reqs[i].vers);
	free(w->reqs);
	if (w->nodes) {
		for (unsigned i = 0; i <= w->nrep; i++) {
			node_close(&w->nodes[i]);
			remove_db(w->nodes[i].path);
		}
	}
	free(w->nodes);
	free(w->rows);
	sim_model_release(&w->model);
	free(w);
	return ok;
}
