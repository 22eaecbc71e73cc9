/*
 * srv_app: the state `crm-server serve` shares between request threads.
 *
 * One writer connection (with the sync core: the server's site id and HLC)
 * behind a mutex, so write transactions never interleave, and a small pool of
 * reader connections for what only reads (token checks, pull pages), which
 * run concurrently under WAL.
 */
#ifndef SERVER_SRV_APP_H
#define SERVER_SRV_APP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "srv_db.h"
#include "srv_http.h"

struct srv_dedup;

#define SRV_PROTOCOL 1

struct srv_limits {
	size_t page_fields;    /* fields per pulled page */
	size_t push_fields;    /* fields accepted per pushed batch (more: 413) */
	int64_t max_skew_ms;   /* a pushed clock further ahead than this is refused */
};

/* A pushed batch that failed, so a batch sent "after" it stops waiting (srv_sync.c). */
struct srv_failed_batch {
	char device[37];
	char batch[65];
};

#define SRV_FAILED_BATCHES 256

struct srv_app {
	struct srv_db writer;
	pthread_mutex_t write_lock;
	/*
	 * Under write_lock: broadcast when a pushed batch is stored or fails, for a
	 * batch that must follow it; the last batches that failed, newest at
	 * failed_next - 1 (a ring).
	 */
	pthread_cond_t batch_done;
	struct srv_failed_batch failed[SRV_FAILED_BATCHES];
	size_t failed_next;
	struct srv_db *readers;
	bool *reader_busy;
	size_t nreaders;
	pthread_mutex_t pool_lock;
	pthread_cond_t pool_free;
	struct srv_limits limits;
	struct srv_dedup *dedup; /* match index of the live customers (srv_dedup), writer lock */
	/*
	 * The checkpointer: a thread with its own connection that copies the WAL
	 * back into the database once the writer's commits have grown it past
	 * SRV_CHECKPOINT_PAGES, so that work is not done inside a sync's write
	 * lock (the writer still does it itself if the WAL runs 4 times past).
	 */
	pthread_t ckpt_thread;
	bool ckpt_running;
	pthread_mutex_t ckpt_lock;
	pthread_cond_t ckpt_wake;
	bool ckpt_due, ckpt_stop; /* under ckpt_lock */
	sqlite3 *ckpt_db;
};


/* Opens the writer (migrating the file) and nreaders reader connections. */
enum crm_err srv_app_open(struct srv_app *app, const char *path, size_t nreaders,
			  struct crm_error *err);
void srv_app_close(struct srv_app *app);

/* Borrows a reader connection (waits for one); give it back with srv_app_reader_put. */
struct srv_db *srv_app_reader_get(struct srv_app *app);
void srv_app_reader_put(struct srv_app *app, struct srv_db *r);

/* The routes of protocol v1 (srv_routes.c). */
extern const struct srv_route srv_routes[];
extern const size_t srv_routes_count;

/*
 * Appends a customer and every row under it, each field at its current
 * version (fields never written are left out), to out (srv_sync.c).
 */
enum crm_err srv_snapshot_customer(struct sync_db *s, sqlite3 *db, const char *id,
				   struct sync_changeset *out, struct crm_error *err);

/* POST /v1/sync (srv_sync.c). */
void srv_route_sync(void *app, struct srv_req *req, struct srv_resp *resp);

/*
 * Checks the Authorization: Bearer header on a reader connection; on failure
 * fills resp with 401 and returns false. On success the log names fill req.
 */
bool srv_authenticate(struct srv_app *app, struct srv_req *req, struct srv_resp *resp,
		      struct srv_session *out);

#endif
