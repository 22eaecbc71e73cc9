/* crm sync's round trips: requests built ahead, posted from a second thread. */
#include "round.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crm_id.h"
#include "migrate.h"

#define MAX_ATTEMPTS 5        /* per round trip, on network errors */
#define FIRST_BACKOFF_MS 250

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * The batch id of the outbox reaching upto: the same one again after an
 * interruption. Sync state "push_batch" keeps the last two as "ID UPTO"
 * lines, newest first: two batches may be on the wire when an answer is
 * lost. The end alone names a batch: a batch is stored only after the one
 * before it (after), so when one reaching upto is stored, everything the
 * outbox held up to upto is on the server.
 */
static enum crm_err batch_id(struct replica *rep, int64_t upto, char out[65], struct crm_error *err)
{
	char *saved = NULL, *line, *save = NULL;
	char want[64], newest[128] = "", val[320];
	enum crm_err rc;

	if (sync_state_get(rep->sync, "push_batch", &saved, NULL) != CRM_OK)
		saved = NULL;
	snprintf(want, sizeof want, "%lld", (long long)upto);
	for (line = saved ? strtok_r(saved, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		const char *sp = strchr(line, ' ');

		if (!newest[0])
			snprintf(newest, sizeof newest, "%s", line);
		if (sp && strcmp(sp + 1, want) == 0 && (size_t)(sp - line) < 65) {
			memcpy(out, line, (size_t)(sp - line));
			out[sp - line] = '\0';
			free(saved);
			return CRM_OK;
		}
	}
	free(saved);
	crm_id_new(out);
	snprintf(val, sizeof val, "%s %s%s%s", out, want, newest[0] ? "\n" : "", newest);
	rc = sync_state_set(rep->sync, "push_batch", val, err);
	return rc;
}

/* POST with bounded retries and exponential backoff on network errors. */
static enum crm_err post_retry(struct http_client *h, const char *token,
			       const struct http_body *env, cJSON **ans, bool progress,
			       struct crm_error *err)
{
	enum crm_err rc = CRM_ENET;
	long wait = FIRST_BACKOFF_MS;

	for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
		rc = http_post_body(h, "/v1/sync", token, env, 0, ans, err);
		if (rc != CRM_ENET || attempt == MAX_ATTEMPTS)
			break;
		if (progress)
			fprintf(stderr, "\rsync: %s; retrying in %ld ms   \n", err->msg, wait);
		sleep_ms(wait);
		wait *= 2;
	}
	return rc;
}

void round_init(struct round *r)
{
	memset(r, 0, sizeof *r);
	sync_changeset_init(&r->cs);
}

void round_release(struct round *r)
{
	sync_changeset_release(&r->cs);
	http_body_release(&r->env);
	cJSON_Delete(r->ans);
	round_init(r);
}

/*
 * Starts r's request: everything but its batch id, cursor and ack (known only
 * once the answer before it has committed), printed and deflated now, while
 * the round before it may still be on the wire. The object is closed by
 * round_envelope.
 */
static enum crm_err round_start(struct replica *rep, struct round *r, struct crm_error *err)
{
	char head[256];
	struct crm_buf push;
	enum crm_err rc;
	int n;

	http_body_release(&r->env);
	r->started = false;
	rc = http_body_init(&r->env, err);
	if (rc != CRM_OK)
		return rc;
	n = snprintf(head, sizeof head,
		     "{\"protocol\":%d,\"schema\":%d,\"site\":\"%s\",\"more_push\":%s,\"push\":",
		     ROUND_PROTOCOL, schema_version(), sync_site_id(rep->sync), r->more_out ? "true" : "false");
	if (n < 0 || (size_t)n >= sizeof head)
		return crm_fail(err, CRM_EINTERNAL, "sync: request head too long");
	/* the head and the change set's text (written straight, no cJSON tree) in one piece */
	crm_buf_init(&push, SIZE_MAX);
	rc = crm_buf_add(&push, head, (size_t)n);
	if (rc == CRM_OK && r->pushed)
		rc = sync_changeset_write_json(&r->cs, &push);
	else if (rc == CRM_OK)
		rc = crm_buf_add(&push, "[]", 2);
	if (rc != CRM_OK)
		rc = crm_fail(err, rc, "sync: out of memory for the request");
	else
		rc = http_body_add(&r->env, push.data, push.len, false, err);
	crm_buf_release(&push);
	if (rc == CRM_OK)
		r->started = true;
	return rc;
}

enum crm_err round_collect(struct replica *rep, int64_t after, size_t max_fields,
			   struct round *r, struct crm_error *err)
{
	enum crm_err rc;

	round_release(r);
	rc = sync_outbox_after(rep->sync, after, max_fields, &r->cs, &r->upto, &r->more_out, err);
	if (rc != CRM_OK)
		return rc;
	r->pushed = r->cs.nfields > 0;
	return round_start(rep, r, err);
}

enum crm_err round_envelope(struct replica *rep, struct round *r, int64_t cursor,
				   int64_t ack, const char *after, bool push_only, struct crm_error *err)
{
	char tail[384], follow[96] = "";
	enum crm_err rc = CRM_OK;
	int n;

	r->cursor = cursor;
	r->ack = ack;
	r->batch[0] = '\0';
	r->push_only = push_only && r->pushed;
	if (!r->started)
		rc = round_start(rep, r, err);
	if (rc == CRM_OK && r->pushed)
		rc = batch_id(rep, r->upto, r->batch, err);
	if (rc != CRM_OK)
		return rc;
	if (r->pushed && after && after[0])
		snprintf(follow, sizeof follow, "\"after\":\"%s\",", after);
	n = snprintf(tail, sizeof tail, "%s%s%s%s%s\"cursor\":\"%lld\",\"ack\":\"%lld\"}",
		     r->pushed ? ",\"batch\":\"" : ",", r->batch, r->pushed ? "\"," : "", follow,
		     r->push_only ? "\"pull\":false," : "", (long long)cursor, (long long)ack);
	if (n < 0 || (size_t)n >= sizeof tail)
		return crm_fail(err, CRM_EINTERNAL, "sync: request tail too long");
	return http_body_add(&r->env, tail, (size_t)n, true, err);
}

static void *round_fly(void *p)
{
	struct round *r = p;

	crm_error_clear(&r->err);
	r->rc = post_retry(r->h, r->token, &r->env, &r->ans, r->progress, &r->err);
	return NULL;
}

void round_launch(struct round *r, struct http_client *h, const char *token, bool progress)
{
	r->h = h;
	r->token = token;
	r->progress = progress;
	r->flying = pthread_create(&r->th, NULL, round_fly, r) == 0;
	if (!r->flying)
		round_fly(r);
}

enum crm_err round_land(struct round *r)
{
	if (r->flying) {
		pthread_join(r->th, NULL);
		r->flying = false;
	}
	return r->rc;
}

bool round_answer_i64(const cJSON *o, const char *key, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
	char *end = NULL;
	long long n;

	if (!s || !*s)
		return false;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || *end || n < 0)
		return false;
	*out = (int64_t)n;
	return true;
}
