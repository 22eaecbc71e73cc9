/*
 * sim_net: sync rounds over a lossy network.
 *
 * A round is one request (the replica's outbox batch, its site and pull
 * cursor) and one response (a receipt for the push, a page of the hub's feed,
 * the page's first and next cursor, whether more remains), both through the
 * real codec: sync_changeset_to_json, cJSON_PrintUnformatted, sync_deflate,
 * then sync_inflate, cJSON_Parse, sync_changeset_from_json. On the wire a
 * message may be lost, duplicated or held back (so an old one arrives after
 * newer ones). The hub applies every push it gets; a replica acknowledges
 * every receipt, but applies a page (with its cursor, in one transaction)
 * only if it starts at its cursor, and sometimes crashes in between.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm_buf.h"
#include "sim.h"
#include "tables.h"

#define MSG_MAX (64u * 1024u * 1024u)
#define INFLATE_RATIO 1000u

/* Fault rates, per mille. */
#define P_DROP 80
#define P_DUP 70
#define P_CRASH_APPLY 60

/* ---- the network ----------------------------------------------------------- */

static bool encode(struct sim_world *w, cJSON *j, unsigned char **data, size_t *len)
{
	char *text = cJSON_PrintUnformatted(j);
	struct crm_buf z;
	struct crm_error err;
	bool ok = false;

	crm_buf_init(&z, MSG_MAX);
	if (!text) {
		sim_fail(w, "cJSON_PrintUnformatted failed");
		goto out;
	}
	if (sync_deflate(text, strlen(text), &z, &err) != CRM_OK) {
		sim_fail(w, "sync_deflate: %s", err.msg);
		goto out;
	}
	*data = (unsigned char *)crm_buf_detach(&z, len);
	ok = *data != NULL;
	if (!ok)
		sim_fail(w, "out of memory");
out:
	cJSON_free(text);
	crm_buf_release(&z);
	return ok;
}

static cJSON *decode(struct sim_world *w, const unsigned char *data, size_t len)
{
	struct crm_buf z;
	struct crm_error err;
	cJSON *j = NULL;

	crm_buf_init(&z, MSG_MAX);
	if (sync_inflate(data, len, MSG_MAX, INFLATE_RATIO, &z, &err) != CRM_OK) {
		sim_fail(w, "sync_inflate: %s", err.msg);
		goto out;
	}
	j = cJSON_ParseWithLength(z.data, z.len);
	if (!j)
		sim_fail(w, "a message does not parse as JSON after the round trip");
out:
	crm_buf_release(&z);
	return j;
}

/* How long a message lingers: mostly not at all, sometimes long (a slow
 * path, a retry queue), so old messages arrive after newer ones. */
static uint64_t random_delay(struct sim_world *w)
{
	uint64_t roll;

	if (!w->faults)
		return 0;
	roll = sim_rng_below(&w->rng, 100);
	if (roll < 70)
		return 0;
	if (roll < 92)
		return sim_rng_below(&w->rng, 10);
	return sim_rng_below(&w->rng, 200);
}

size_t sim_pick_ready(struct sim_world *w)
{
	size_t nready = 0, k;

	for (size_t i = 0; i < w->nnet; i++)
		nready += w->net[i].ready <= w->stepno;
	if (nready == 0)
		return SIZE_MAX;
	k = (size_t)sim_rng_below(&w->rng, nready);
	for (size_t i = 0; i < w->nnet; i++)
		if (w->net[i].ready <= w->stepno && k-- == 0)
			return i;
	return SIZE_MAX;
}

static bool net_add(struct sim_world *w, const struct sim_msg *m)
{
	if (w->nnet == w->capnet) {
		size_t cap = w->capnet ? w->capnet * 2 : 32;
		struct sim_msg *nn = realloc(w->net, cap * sizeof *nn);

		if (!nn)
			return sim_fail(w, "out of memory");
		w->net = nn;
		w->capnet = cap;
	}
	w->net[w->nnet] = *m;
	w->net[w->nnet].ready = w->stepno + random_delay(w);
	w->nnet++;
	return true;
}

/* Puts a message on the wire (takes data): maybe lost, maybe twice. */
static bool net_send(struct sim_world *w, struct sim_msg *m)
{
	struct sim_msg copy;

	if (w->faults && sim_rng_chance(&w->rng, P_DROP)) {
		w->st->dropped++;
		free(m->data);
		return true;
	}
	if (w->faults && sim_rng_chance(&w->rng, P_DUP)) {
		copy = *m;
		copy.data = malloc(m->len ? m->len : 1);
		if (!copy.data) {
			free(m->data);
			return sim_fail(w, "out of memory");
		}
		memcpy(copy.data, m->data, m->len);
		if (!net_add(w, &copy)) {
			free(copy.data);
			free(m->data);
			return false;
		}
		w->st->duplicated++;
	}
	if (!net_add(w, m)) {
		free(m->data);
		return false;
	}
	return true;
}

static bool get_i64(struct sim_world *w, const cJSON *j, const char *key, int64_t *out)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, key);
	char *end;
	long long v;

	if (!cJSON_IsString(x) || !x->valuestring[0])
		return sim_fail(w, "message field %s missing", key);
	v = strtoll(x->valuestring, &end, 10);
	if (*end != '\0')
		return sim_fail(w, "message field %s is not a number: %s", key, x->valuestring);
	*out = (int64_t)v;
	return true;
}

static bool add_i64(cJSON *j, const char *key, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%lld", (long long)v);
	return cJSON_AddStringToObject(j, key, buf) != NULL;
}

static bool get_cursor(struct sim_world *w, unsigned r, int64_t *cursor)
{
	struct crm_error err;
	char *text = NULL;
	char *end;
	enum crm_err rc = sync_state_get(w->nodes[r].s, SIM_CURSOR_KEY, &text, &err);

	*cursor = 0;
	if (rc == CRM_ENOTFOUND)
		return true;
	if (rc != CRM_OK)
		return sim_fail(w, "r%u: sync_state_get: %s", r, err.msg);
	*cursor = (int64_t)strtoll(text, &end, 10);
	if (*end != '\0') {
		sim_fail(w, "r%u: saved cursor is not a number: %s", r, text);
		free(text);
		return false;
	}
	free(text);
	return true;
}

static bool new_req(struct sim_world *w, unsigned r, size_t *idx)
{
	if (w->nreqs == w->capreqs) {
		size_t cap = w->capreqs ? w->capreqs * 2 : 64;
		struct sim_req *nr = realloc(w->reqs, cap * sizeof *nr);

		if (!nr)
			return sim_fail(w, "out of memory");
		w->reqs = nr;
		w->capreqs = cap;
	}
	memset(&w->reqs[w->nreqs], 0, sizeof w->reqs[w->nreqs]);
	w->reqs[w->nreqs].replica = r;
	*idx = w->nreqs++;
	return true;
}

/* Maps every field of an outbox batch to its model version. */
static bool req_versions(struct sim_world *w, struct sim_req *q, const struct sync_changeset *cs)
{
	char a[SYNC_HLC_STR_MAX];

	q->vers = calloc(cs->nfields ? cs->nfields : 1, sizeof *q->vers);
	if (!q->vers)
		return sim_fail(w, "out of memory");
	for (size_t ri = 0; ri < cs->nrows; ri++) {
		const struct sync_row *row = &cs->rows[ri];
		int t = sim_table_index(row->table);

		if (t < 0)
			return sim_fail(w, "r%u: outbox names unknown table %s", q->replica, row->table);
		for (size_t fi = 0; fi < row->nfields; fi++) {
			const struct sync_field *f = &row->fields[fi];
			int c = sim_col_index(t, f->col);
			int site = sim_site_index(w, f->site);
			size_t v;

			if (c < 0)
				return sim_fail(w, "r%u: outbox names unknown column %s.%s", q->replica,
						row->table, f->col);
			v = sim_model_find(&w->model, t, row->id, c, f->hlc, site);
			if (v == SIZE_MAX) {
				sync_hlc_format(f->hlc, a);
				return sim_fail(w, "r%u: outbox sends %s/%s.%s at %s from %s, a version "
						"no local edit made", q->replica, row->table, row->id,
						f->col, a, f->site);
			}
			if (site != (int)q->replica)
				return sim_fail(w, "r%u: outbox sends %s/%s.%s written by another site (%s)",
						q->replica, row->table, row->id, f->col, f->site);
			if (q->nvers < cs->nfields)
				q->vers[q->nvers++] = v;
		}
	}
	return true;
}

/* True if the push carries a field of a newly inserted row (for --sabotage lose). */
static bool pushes_new_row(const struct sim_world *w, const struct sim_req *q)
{
	for (size_t k = 0; k < q->nvers; k++) {
		const struct sim_version *v = &w->model.v[q->vers[k]];

		if (v->parent_hlc == 0 && !v->quiet)
			return true;
	}
	return false;
}

/*
 * Fields per push batch or pull page: small while the world runs, so rounds
 * interleave with edits and faults; larger while quiescing, which only has to
 * move what is left.
 */
static size_t batch_size(struct sim_world *w)
{
	if (w->faults)
		return (size_t)sim_rng_range(&w->rng, 1, 40);
	return (size_t)sim_rng_range(&w->rng, 100, 400);
}

bool sim_send_request(struct sim_world *w, unsigned r)
{
	struct sim_node *n = &w->nodes[r];
	struct sync_changeset cs;
	struct crm_error err;
	int64_t upto = 0, cursor = 0;
	bool more = false, ok = false;
	size_t qi = 0;
	cJSON *j = NULL, *push;
	struct sim_msg m;
	size_t max = batch_size(w);

	sync_changeset_init(&cs);
	sim_node_clock(w, r);
	if (sync_outbox(n->s, max, &cs, &upto, &more, &err) != CRM_OK) {
		sim_fail(w, "r%u: sync_outbox: %s", r, err.msg);
		goto out;
	}
	if (!get_cursor(w, r, &cursor) || !new_req(w, r, &qi))
		goto out;
	w->reqs[qi].upto = upto;
	w->reqs[qi].has_push = cs.nfields > 0;
	if (!req_versions(w, &w->reqs[qi], &cs))
		goto out;
	j = cJSON_CreateObject();
	push = sync_changeset_to_json(&cs);
	if (!j || !push) {
		cJSON_Delete(push);
		sim_fail(w, "out of memory");
		goto out;
	}
	cJSON_AddItemToObject(j, "push", push);
	if (!cJSON_AddStringToObject(j, "site", n->site) || !add_i64(j, "cursor", cursor) ||
	    !add_i64(j, "upto", upto)) {
		sim_fail(w, "out of memory");
		goto out;
	}
	if (w->cfg->sabotage && strcmp(w->cfg->sabotage, "lose") == 0 && !w->sabotaged &&
	    pushes_new_row(w, &w->reqs[qi])) {
		/* Self-test: a batch that creates a row is acknowledged, never sent. */
		w->sabotaged = true;
		if (sync_outbox_ack(n->s, upto, &err) != CRM_OK) {
			sim_fail(w, "r%u: sync_outbox_ack: %s", r, err.msg);
			goto out;
		}
		for (size_t k = 0; k < w->reqs[qi].nvers; k++)
			w->model.v[w->reqs[qi].vers[k]].acked = true;
		ok = true;
		goto out;
	}
	memset(&m, 0, sizeof m);
	m.kind = SIM_REQ;
	m.node = r;
	m.gen = n->gen;
	m.req = qi;
	if (!encode(w, j, &m.data, &m.len))
		goto out;
	w->st->requests++;
	ok = net_send(w, &m);
out:
	cJSON_Delete(j);
	sync_changeset_release(&cs);
	return ok;
}

static sync_hlc max_hlc_of(const struct sync_changeset *cs)
{
	sync_hlc h = 0;

	for (size_t r = 0; r < cs->nrows; r++)
		for (size_t f = 0; f < cs->rows[r].nfields; f++)
			if (cs->rows[r].fields[f].hlc > h)
				h = cs->rows[r].fields[f].hlc;
	return h;
}

static bool check_refused(struct sim_world *w, const char *who, struct sync_apply_result *res)
{
	if (res->nrefused == 0)
		return true;
	return sim_fail(w, "%s: sync_apply refused %zu fields, first %s/%s.%s: %s", who,
			res->nrefused, res->refused[0].table, res->refused[0].id,
			res->refused[0].col, res->refused[0].reason ? res->refused[0].reason : "?");
}

/* The hub: applies the push, answers with receipt and a page of the feed. */
static bool hub_handle(struct sim_world *w, const struct sim_msg *msg)
{
	struct sim_node *hub = SIM_HUB(w);
	struct sim_req *q = &w->reqs[msg->req];
	struct sync_changeset cs, page;
	struct sync_apply_result res;
	struct crm_error err;
	cJSON *j = NULL, *out = NULL, *pj;
	const cJSON *site, *push;
	int64_t cursor = 0, upto = 0, next = 0;
	bool more = false, ok = false;
	struct sim_msg m;
	sync_hlc h;

	sync_changeset_init(&cs);
	sync_changeset_init(&page);
	memset(&res, 0, sizeof res);
	sim_node_clock(w, w->nrep);
	j = decode(w, msg->data, msg->len);
	if (!j)
		goto out;
	site = cJSON_GetObjectItemCaseSensitive(j, "site");
	push = cJSON_GetObjectItemCaseSensitive(j, "push");
	if (!cJSON_IsString(site) || !push || !get_i64(w, j, "cursor", &cursor) ||
	    !get_i64(w, j, "upto", &upto)) {
		sim_fail(w, "hub: malformed request");
		goto out;
	}
	if (sync_changeset_from_json(push, hub->s, &cs, &err) != CRM_OK) {
		sim_fail(w, "hub: decoding r%u's push: %s", msg->node, err.msg);
		goto out;
	}
	if (cs.nfields != q->nvers) {
		sim_fail(w, "hub: r%u's push has %zu fields after the codec, %zu before", msg->node,
			 cs.nfields, q->nvers);
		goto out;
	}
	if (sync_apply(hub->s, &cs, 0, NULL, NULL, &res, &err) != CRM_OK) {
		sim_fail(w, "hub: sync_apply of r%u's push: %s", msg->node, err.msg);
		goto out;
	}
	if (!check_refused(w, "hub", &res))
		goto out;
	w->st->applied += res.applied;
	hub->conflicts_reported += res.conflicts;
	for (size_t k = 0; k < q->nvers; k++)
		w->model.v[q->vers[k]].reached = true;
	h = max_hlc_of(&cs);
	if (h > hub->max_hlc)
		hub->max_hlc = h;
	if (sync_feed(hub->s, cursor, batch_size(w), NULL, NULL,
		      site->valuestring, &page, &next, &more, &err) != CRM_OK) {
		sim_fail(w, "hub: sync_feed for r%u from %lld: %s", msg->node, (long long)cursor, err.msg);
		goto out;
	}
	out = cJSON_CreateObject();
	pj = sync_changeset_to_json(&page);
	if (!out || !pj) {
		cJSON_Delete(pj);
		sim_fail(w, "out of memory");
		goto out;
	}
	cJSON_AddItemToObject(out, "page", pj);
	if ((q->has_push && !add_i64(out, "receipt", upto)) || !add_i64(out, "from", cursor) ||
	    !add_i64(out, "next", next) || !cJSON_AddBoolToObject(out, "more", more)) {
		sim_fail(w, "out of memory");
		goto out;
	}
	memset(&m, 0, sizeof m);
	m.kind = SIM_RESP;
	m.node = msg->node;
	m.gen = msg->gen;
	m.req = msg->req;
	if (!encode(w, out, &m.data, &m.len))
		goto out;
	ok = net_send(w, &m);
out:
	cJSON_Delete(j);
	cJSON_Delete(out);
	sync_apply_result_release(&res);
	sync_changeset_release(&cs);
	sync_changeset_release(&page);
	return ok;
}

/*
 * A replica takes a response: the receipt acknowledges its push; the page is
 * applied with its cursor in one transaction, but only if it starts where the
 * replica's cursor stands (an old or repeated response is ignored).
 */
static bool replica_handle(struct sim_world *w, const struct sim_msg *msg)
{
	unsigned r = msg->node;
	struct sim_node *n = &w->nodes[r];
	struct sim_req *q = &w->reqs[msg->req];
	struct sync_changeset page;
	struct sync_apply_result res;
	struct crm_error err;
	cJSON *j = NULL;
	const cJSON *pj;
	int64_t upto = 0, from = 0, next = 0, cursor = 0;
	bool ok = false, in_txn = false;
	char nbuf[24];
	sync_hlc h;

	sync_changeset_init(&page);
	memset(&res, 0, sizeof res);
	if (msg->gen != n->gen) {
		/* The process that asked is gone; nobody is listening. */
		w->st->dropped++;
		return true;
	}
	w->st->responses++;
	sim_node_clock(w, r);
	j = decode(w, msg->data, msg->len);
	if (!j)
		goto out;
	if (cJSON_GetObjectItemCaseSensitive(j, "receipt")) {
		if (!get_i64(w, j, "receipt", &upto))
			goto out;
		if (sync_outbox_ack(n->s, upto, &err) != CRM_OK) {
			sim_fail(w, "r%u: sync_outbox_ack(%lld): %s", r, (long long)upto, err.msg);
			goto out;
		}
		for (size_t k = 0; k < q->nvers; k++) {
			if (!w->model.v[q->vers[k]].acked)
				w->st->acked++;
			w->model.v[q->vers[k]].acked = true;
		}
	}
	pj = cJSON_GetObjectItemCaseSensitive(j, "page");
	if (!pj || !get_i64(w, j, "from", &from) || !get_i64(w, j, "next", &next) ||
	    !get_cursor(w, r, &cursor)) {
		sim_fail(w, "r%u: malformed response", r);
		goto out;
	}
	if (from != cursor) {
		w->st->stale_pages++;
		ok = true;
		goto out;
	}
	if (next < cursor) {
		sim_fail(w, "r%u: page from %lld has next cursor %lld behind it", r, (long long)from,
			 (long long)next);
		goto out;
	}
	if (sync_changeset_from_json(pj, n->s, &page, &err) != CRM_OK) {
		sim_fail(w, "r%u: decoding a page: %s", r, err.msg);
		goto out;
	}
	if (!sim_exec(w, r, "BEGIN IMMEDIATE"))
		goto out;
	in_txn = true;
	if (sync_apply(n->s, &page, SYNC_APPLY_IN_TXN | SYNC_APPLY_FROM_HUB, NULL, NULL, &res, &err) != CRM_OK) {
		sim_fail(w, "r%u: sync_apply of a page: %s", r, err.msg);
		goto out;
	}
	if (!check_refused(w, "replica", &res))
		goto out;
	if (w->faults && sim_rng_chance(&w->rng, P_CRASH_APPLY)) {
		/* Crash after the page, before its cursor: half the time the
		 * connection just dies with the transaction open. */
		w->st->crashes++;
		if (sim_rng_chance(&w->rng, 500) && !sim_exec(w, r, "ROLLBACK"))
			goto out;
		in_txn = false;
		ok = sim_node_restart(w, r);
		goto out;
	}
	snprintf(nbuf, sizeof nbuf, "%lld", (long long)next);
	if (sync_state_set(n->s, SIM_CURSOR_KEY, nbuf, &err) != CRM_OK) {
		sim_fail(w, "r%u: sync_state_set: %s", r, err.msg);
		goto out;
	}
	if (!sim_exec(w, r, "COMMIT"))
		goto out;
	in_txn = false;
	n->conflicts_reported += res.conflicts;
	h = max_hlc_of(&page);
	if (h > n->max_hlc)
		n->max_hlc = h;
	n->last_more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "more"));
	ok = true;
out:
	if (in_txn)
		sqlite3_exec(n->db, "ROLLBACK", NULL, NULL, NULL);
	cJSON_Delete(j);
	sync_apply_result_release(&res);
	sync_changeset_release(&page);
	return ok;
}

bool sim_deliver(struct sim_world *w, size_t i)
{
	struct sim_msg m = w->net[i];
	bool ok;

	w->net[i] = w->net[--w->nnet];
	if (m.kind == SIM_REQ)
		ok = hub_handle(w, &m);
	else
		ok = replica_handle(w, &m);
	free(m.data);
	return ok;
}
