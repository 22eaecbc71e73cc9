/*
 * sim: the deterministic sync simulator (sync-sim), declarations shared by
 * its files.
 *
 * One process holds N replicas and one hub, each a real SQLite database with
 * the project's schema and sync_open()'s capture. Everything random (edits,
 * exchange schedules, message faults, crashes, the simulated clock behind
 * CRM_NOW, even libsodium's random bytes behind site ids) comes from one
 * seeded PRNG, so a seed replays exactly. After each seed the world is
 * quiesced and checked: every replica equals the hub, every conflict the hub
 * saw is recorded, and no acknowledged write is lost (a model of every field
 * version and what its writer had seen is kept for that).
 *
 *   sim_rng.c    PRNG, deterministic libsodium random bytes, the CRM_NOW clock
 *   sim_model.c  the version model (who wrote what, on top of what)
 *   sim_world.c  databases, restarts, the step loop of one seed
 *   sim_ops.c    local operations (SQL on a replica) and their versions
 *   sim_net.c    the lossy network and sync rounds through the codec
 *   sim_check.c  quiescence and the end-of-seed checks
 *   sim_main.c   command line and the seed loop
 */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sync.h"

/* ---- sim_rng.c -------------------------------------------------------- */

struct sim_rng {
	uint64_t s[4];
};

/* Seeds a xoshiro256** generator through splitmix64. */
void sim_rng_seed(struct sim_rng *r, uint64_t seed);
uint64_t sim_rng_next(struct sim_rng *r);
/* Uniform in [0, n); n must be > 0. */
uint64_t sim_rng_below(struct sim_rng *r, uint64_t n);
/* Uniform in [lo, hi]. */
int64_t sim_rng_range(struct sim_rng *r, int64_t lo, int64_t hi);
/* True with probability per_mille / 1000. */
bool sim_rng_chance(struct sim_rng *r, unsigned per_mille);

/*
 * Makes libsodium's randombytes (behind crm_id_new, hence site ids) a
 * deterministic stream; call once before anything uses libsodium, then
 * sim_random_reseed() at the start of every seed.
 */
void sim_random_install(void);
void sim_random_reseed(uint64_t seed);

/* Points CRM_NOW at a buffer the simulator rewrites; call once. */
void sim_clock_install(void);
/* Sets the time every crm_now_ms() (the HLC's included) reads. */
void sim_clock_set(int64_t ms);

/* ---- sim_model.c ------------------------------------------------------ */

#define SIM_NO_SITE (-1)

/* One version of one field, as a local edit made it. */
struct sim_version {
	int table;              /* index in schema_tables */
	int col;                /* index in schema_tables[table].cols */
	char id[37];            /* row id */
	sync_hlc hlc;
	int site;               /* writer: replica index */
	sync_hlc parent_hlc;    /* the version in place when it was written (0: none) */
	int parent_site;
	bool quiet;             /* bookkeeping column: LWW without conflict records */
	bool acked;             /* in a push the hub receipted, and the receipt arrived */
	bool reached;           /* in a push the hub applied */
	unsigned marks;         /* scratch bits for the checks */
};

struct sim_model {
	struct sim_version *v;
	size_t n, cap;
	size_t *slots; /* open addressing: index + 1, 0 empty */
	size_t nslots;
};

void sim_model_init(struct sim_model *m);
void sim_model_release(struct sim_model *m);

/* Index of a version, or SIZE_MAX if the model does not know it. */
size_t sim_model_find(const struct sim_model *m, int table, const char *id, int col,
		      sync_hlc hlc, int site);

/*
 * Adds a version (copied). Returns its index, SIZE_MAX if it is already known
 * (a site handing out one HLC twice) or memory ran out (*dup tells which).
 */
size_t sim_model_add(struct sim_model *m, const struct sim_version *v, bool *dup);

/*
 * ORs bit into the marks of version idx and of every version it was written
 * on top of. Returns false if the chain names a version the model lacks.
 */
bool sim_model_mark_chain(struct sim_model *m, size_t idx, unsigned bit);

/* True if version anc is version v or one it was written on top of. */
bool sim_model_is_ancestor(const struct sim_model *m, size_t anc, size_t v);

/* ---- sim_world.c ------------------------------------------------------ */

struct sim_config {
	unsigned replicas;
	unsigned ops;
	bool verbose;
	bool strict;      /* spurious conflicts fail the seed */
	const char *sabotage; /* NULL, or a fault the checks must catch (see sim_main.c) */
	const char *dir;  /* directory for the databases */
};

struct sim_stats {
	unsigned long ops, inserts, edits, concurrent, deletes, undeletes, resolves;
	unsigned long requests, responses, dropped, duplicated, stale_pages;
	unsigned long crashes, restarts, hub_restarts;
	unsigned long applied, conflicts_hub, spurious, versions, acked;
	uint64_t hub_hash; /* FNV-1a of the hub's final dump: equal runs, equal hash */
};

/* A database taking part: a replica, or the hub (the last node). */
struct sim_node {
	sqlite3 *db;
	struct sync_db *s;
	char path[512];
	char site[37];
	int64_t skew_ms;      /* this node's clock error */
	sync_hlc max_hlc;     /* highest HLC committed here (restart check) */
	unsigned gen;         /* bumped on every restart */
	bool last_more;       /* the last accepted page said more remains */
	unsigned long conflicts_reported; /* sum of committed sync_apply res.conflicts */
};

enum sim_msg_kind { SIM_REQ, SIM_RESP };

struct sim_msg {
	enum sim_msg_kind kind;
	unsigned node;     /* the replica it is from (request) or for (response) */
	unsigned gen;      /* that replica's generation when the request was sent */
	size_t req;        /* index in world->reqs */
	unsigned char *data; /* deflated JSON, owned */
	size_t len;
	uint64_t ready;    /* not delivered before this step (a slow path) */
};

struct sim_req {
	unsigned replica;
	int64_t upto;
	bool has_push;
	size_t *vers;     /* model versions pushed */
	size_t nvers;
};

struct sim_rowref {
	int table;
	char id[37];
};

struct sim_world {
	const struct sim_config *cfg;
	uint64_t seed;
	struct sim_rng rng;
	int64_t now;                 /* true simulated time, ms */
	uint64_t stepno;             /* steps taken so far */
	struct sim_node *nodes;      /* replicas 0..R-1, then the hub */
	unsigned nrep;
	struct sim_msg *net;         /* in flight */
	size_t nnet, capnet;
	struct sim_req *reqs;
	size_t nreqs, capreqs;
	struct sim_model model;
	struct sim_rowref *rows;     /* every row ever inserted */
	size_t nrows, caprows;
	struct sim_stats *st;
	bool faults;
	bool sabotaged;              /* the --sabotage fault has been done */
	bool failed;
	char why[1024];
};

#define SIM_HUB(w) (&(w)->nodes[(w)->nrep])

/* Records the first failure of the seed; always returns false. */
bool sim_fail(struct sim_world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The replicated tables as sync_open() wants them (quiet: updated_at). */
const struct sync_table_spec *sim_table_specs(size_t *n);

/* Sets CRM_NOW to node i's view of the simulated time. */
void sim_node_clock(struct sim_world *w, unsigned i);

/* Replica or hub index of a site id, SIM_NO_SITE if unknown. */
int sim_site_index(const struct sim_world *w, const char *site);

/* Column index of col in table t, -1 if unknown. */
int sim_col_index(int t, const char *col);

/* Table index of name, -1 if unknown. */
int sim_table_index(const char *name);

/* Runs one whole seed; false (with the reason in why) if it failed. */
bool sim_run_seed(const struct sim_config *cfg, uint64_t seed, struct sim_stats *st,
		  char *why, size_t whylen);

/* Where a replica keeps its pull cursor (sync_state). */
#define SIM_CURSOR_KEY "sim.cursor"

/* Runs sql on node i; false (and the seed fails) on error. */
bool sim_exec(struct sim_world *w, unsigned i, const char *sql);

/*
 * Restarts node i: closes the connection (an open transaction dies with it),
 * reopens it the way the app does, and checks that the site id stayed and
 * the HLC is above everything committed before.
 */
bool sim_node_restart(struct sim_world *w, unsigned i);

/* ---- sim_ops.c -------------------------------------------------------- */

/* One random local operation on a random replica. */
bool sim_local_op(struct sim_world *w);

/* ---- sim_net.c -------------------------------------------------------- */

/* One replica round: sends a request (subject to faults when w->faults). */
bool sim_send_request(struct sim_world *w, unsigned r);

/* Delivers in-flight message i (removing it from the network). */
bool sim_deliver(struct sim_world *w, size_t i);

/* Index of a random message ready for delivery, SIZE_MAX if none. */
size_t sim_pick_ready(struct sim_world *w);

/* ---- sim_check.c ------------------------------------------------------ */

/* Delivers what is in flight, then syncs every replica to the end, twice round. */
bool sim_quiesce(struct sim_world *w);

/* The end-of-seed checks: convergence, conflicts, no lost writes. */
bool sim_check(struct sim_world *w);

#endif
