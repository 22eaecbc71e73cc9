/*
 * round: the requests of `crm sync`, one round trip each, built ahead of
 * time and posted from a second thread; client/cmd_sync.c drives them.
 *
 * Each request is a round: its pushed batch, its envelope (printed and
 * deflated as it is built: all but the batch id, cursor and ack before the
 * answer it waits for, those three after), and while it is on the wire (a
 * second thread posts it: network, server, inflate, parse) its answer.
 * Answers are applied strictly in order, each in its own transaction; the
 * main thread alone touches the replica. What overlaps with a round on the
 * wire:
 *
 * - Pushing more than one batch (cmd_sync.c push_ahead): two rounds are on
 *   the wire, on two connections; each is a push alone ("pull": false)
 *   naming the batch before it ("after"), and the server stores them in that
 *   order (docs/protocol.md, "Two batches on the wire"). The next batch is
 *   collected past the newest on the wire while the older one lands.
 *   A batch's id is made when its request is finished (round_envelope) and
 *   kept, so a batch replayed after a lost answer keeps its id.
 * - Pushing a single batch: nothing overlaps; it goes with the pull.
 * - Pulling, once nothing is left to push: when an answer says more remain and
 *   hands nothing out (its ack is the ack we sent), the next page is asked for
 *   (its cursor, the same ack) while this one is applied. If the apply fails,
 *   the prefetched answer is dropped: the next sync resumes from the cursor
 *   that committed. An answer that hands something out (a new ack) waits for
 *   its commit first: acknowledging it early would tell the server that
 *   conflicts and evictions were stored before they were.
 */
#ifndef CLIENT_ROUND_H
#define CLIENT_ROUND_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crm_err.h"
#include "http.h"
#include "replica.h"
#include "sync.h"

#define ROUND_PROTOCOL 1

struct round {
	struct sync_changeset cs; /* the fields it pushes */
	int64_t upto;             /* the outbox sequence they reach */
	char batch[65];           /* its batch id, once round_envelope made it */
	bool push_only;           /* sent with "pull": false (round_envelope) */
	bool pushed, more_out;    /* it pushes; more remains to push after it */
	int64_t cursor, ack;      /* what it sends */
	struct http_body env;     /* the request, deflated as it is built */
	bool started;             /* env holds the part known before the batch id */
	/* the flight: filled by the thread that posts env */
	struct http_client *h;
	const char *token;
	bool progress;
	pthread_t th;
	bool flying;
	cJSON *ans;               /* the answer, owned (freed by round_release) */
	enum crm_err rc;          /* the post's outcome, err its message */
	struct crm_error err;
};

/* An empty round. */
void round_init(struct round *r);

/* Frees what r holds (never while it flies) and leaves it empty. */
void round_release(struct round *r);

/*
 * Collects r's batch (at most max_fields) and starts its request: rep's
 * outbox past what the server acknowledged, or past sequence after when that
 * is further (the batch after one still on the wire, not acknowledged yet).
 * r's previous contents are released first.
 */
enum crm_err round_collect(struct replica *rep, int64_t after, size_t max_fields,
			   struct round *r, struct crm_error *err);

/*
 * Finishes r's request (started by round_collect, or now for a request that
 * pushes nothing): its batch id, made now and kept in sync state
 * "push_batch" (the same id for the same batch after an interruption; the
 * last two are kept, for two batches on the wire), the cursor and the ack.
 * Call it once the answer before r has committed, or, for a push alone
 * (push_only: the server hands nothing out and sends no page), once the
 * batch before it is on the wire: after names that batch, which the server
 * stores first (docs/protocol.md, "Two batches on the wire").
 */
enum crm_err round_envelope(struct replica *rep, struct round *r, int64_t cursor, int64_t ack,
			    const char *after, bool push_only, struct crm_error *err);

/*
 * Puts r on the wire from a second thread (or posts it here if none can
 * start), with retries and backoff on network errors (a line on stderr each
 * when progress). h is used by that thread alone until round_land.
 */
void round_launch(struct round *r, struct http_client *h, const char *token, bool progress);

/* Waits for r's answer: r->ans, or the error in r->rc and r->err. No-op if not flying. */
enum crm_err round_land(struct round *r);

/* A decimal string member of an answer as an int64 (false when missing or not a number). */
bool round_answer_i64(const cJSON *o, const char *key, int64_t *out);

#endif
