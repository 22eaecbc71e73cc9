/*
 * match_index: the in-memory blocking index of customer records.
 *
 * Each record is filed under its blocking keys (match__keys: USCC, phone,
 * e-mail, id number, name grams, ...) in an open-addressing hash table of
 * posting lists. A query counts, per candidate, the keys it shares with the
 * new record, skipping blocks larger than the cap (a bigram like 科技 or a
 * birth date shared by thousands finds nobody useful), ranks candidates by
 * strong keys first and shared keys second, and scores the best few.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match_int.h"

#define KEYS_MAX 64
#define AMBIG_MAX 16

struct cand {
	uint32_t slot;
	uint16_t count;
	uint16_t strong;
};

/* Per-query scratch: an open-addressing set of candidates. */
struct scratch {
	struct cand *tab;
	size_t cap;
	uint32_t *order;
	struct cand *list;
	size_t norder;
	/*
	 * Dense mode (the writer's scratch, match_index_add_query): a cell per
	 * slot of the index instead of the hash table, valid when its stamp is
	 * gen; order then lists slots. ndense cells, 0: hash mode.
	 */
	struct cand *dense;
	uint32_t *stamp;
	size_t ndense;
	uint32_t gen;
};

struct slot_hit {
	uint32_t slot;
	struct match_verdict v;
};

struct post {
	uint64_t key;  /* 0: empty slot */
	uint32_t n;    /* ids in the list */
	uint32_t cap;  /* 0: the single id is in `one` */
	union {
		uint32_t one;
		uint32_t *many;
	} u;
};

struct match_index {
	struct match_params params;
	struct match_record *recs;
	char **ids;      /* NULL: slot free (removed) */
	size_t nslots, capslots, live;
	struct post *posts;
	size_t nposts, capposts; /* capposts is a power of two */
	uint32_t *idmap;          /* slot + 1, 0 empty, UINT32_MAX deleted */
	size_t capidmap, usedidmap;
	uint32_t *freeslots;      /* slots of removed records, reused by adds */
	size_t nfree, capfree;
	struct scratch *wscratch; /* match_index_add_query's, kept between calls */
	struct slot_hit *whits;
	size_t capwhits;
};

/* ---- posting table ------------------------------------------------------ */

static struct post *post_find(const struct match_index *idx, uint64_t key)
{
	size_t mask = idx->capposts - 1, i = (size_t)key & mask;

	for (;;) {
		struct post *p = &idx->posts[i];
		if (p->key == key)
			return p;
		if (p->key == 0)
			return NULL;
		i = (i + 1) & mask;
	}
}

static int posts_grow(struct match_index *idx)
{
	size_t ncap = idx->capposts ? idx->capposts * 2 : 1024, i;
	struct post *np = calloc(ncap, sizeof *np);

	if (!np)
		return -1;
	for (i = 0; i < idx->capposts; i++) {
		struct post *p = &idx->posts[i];
		size_t j;
		if (p->key == 0)
			continue;
		j = (size_t)p->key & (ncap - 1);
		while (np[j].key != 0)
			j = (j + 1) & (ncap - 1);
		np[j] = *p;
	}
	free(idx->posts);
	idx->posts = np;
	idx->capposts = ncap;
	return 0;
}

static int post_add(struct match_index *idx, uint64_t key, uint32_t slot)
{
	struct post *p;
	size_t i;

	if ((idx->nposts + 1) * 4 >= idx->capposts * 3 && posts_grow(idx) != 0)
		return -1;
	i = (size_t)key & (idx->capposts - 1);
	while (idx->posts[i].key != 0 && idx->posts[i].key != key)
		i = (i + 1) & (idx->capposts - 1);
	p = &idx->posts[i];
	if (p->key == 0) {
		p->key = key;
		idx->nposts++;
	}
	if (p->cap == 0 && p->n == 0) {
		p->u.one = slot;
		p->n = 1;
		return 0;
	}
	if (p->cap == 0) {
		uint32_t *m = malloc(4 * sizeof *m);
		if (!m)
			return -1;
		m[0] = p->u.one;
		p->u.many = m;
		p->cap = 4;
	}
	if (p->n == p->cap) {
		uint32_t *m = realloc(p->u.many, (size_t)p->cap * 2 * sizeof *m);
		if (!m)
			return -1;
		p->u.many = m;
		p->cap *= 2;
	}
	p->u.many[p->n++] = slot;
	return 0;
}

static void post_del(struct match_index *idx, uint64_t key, uint32_t slot)
{
	struct post *p = post_find(idx, key);
	uint32_t i;

	if (!p || p->n == 0)
		return;
	if (p->cap == 0) {
		if (p->u.one == slot)
			p->n = 0;
		return;
	}
	for (i = 0; i < p->n; i++)
		if (p->u.many[i] == slot) {
			p->u.many[i] = p->u.many[p->n - 1];
			p->n--;
			return;
		}
}

static const uint32_t *post_ids(const struct post *p)
{
	return p->cap == 0 ? &p->u.one : p->u.many;
}

/* ---- id map -------------------------------------------------------------- */

static size_t id_probe(const struct match_index *idx, const char *id, int *found)
{
	size_t mask = idx->capidmap - 1;
	size_t i = (size_t)match__hash('i', id, strlen(id)) & mask, tomb = SIZE_MAX;

	*found = 0;
	for (;;) {
		uint32_t v = idx->idmap[i];
		if (v == 0)
			return tomb != SIZE_MAX ? tomb : i;
		if (v == UINT32_MAX) {
			if (tomb == SIZE_MAX)
				tomb = i;
		} else if (strcmp(idx->ids[v - 1], id) == 0) {
			*found = 1;
			return i;
		}
		i = (i + 1) & mask;
	}
}

static int idmap_grow(struct match_index *idx)
{
	size_t ncap = idx->capidmap ? idx->capidmap * 2 : 1024, i;
	uint32_t *old = idx->idmap;
	size_t oldcap = idx->capidmap;

	idx->idmap = calloc(ncap, sizeof *idx->idmap);
	if (!idx->idmap) {
		idx->idmap = old;
		return -1;
	}
	idx->capidmap = ncap;
	idx->usedidmap = 0;
	for (i = 0; i < oldcap; i++) {
		int found;
		size_t j;
		if (old[i] == 0 || old[i] == UINT32_MAX)
			continue;
		j = id_probe(idx, idx->ids[old[i] - 1], &found);
		idx->idmap[j] = old[i];
		idx->usedidmap++;
	}
	free(old);
	return 0;
}

/* ---- lifecycle ----------------------------------------------------------- */

enum crm_err match_index_new(struct match_index **out, const struct match_params *p,
			     struct crm_error *err)
{
	struct match_index *idx = calloc(1, sizeof *idx);

	*out = NULL;
	if (!idx)
		return crm_fail(err, CRM_ENOMEM, "out of memory creating the match index");
	if (p)
		idx->params = *p;
	else
		match_params_default(&idx->params);
	if (posts_grow(idx) != 0 || idmap_grow(idx) != 0) {
		match_index_free(idx);
		return crm_fail(err, CRM_ENOMEM, "out of memory creating the match index");
	}
	*out = idx;
	return CRM_OK;
}

void match_index_free(struct match_index *idx)
{
	size_t i;

	if (!idx)
		return;
	for (i = 0; i < idx->capposts; i++)
		if (idx->posts[i].cap)
			free(idx->posts[i].u.many);
	for (i = 0; i < idx->nslots; i++)
		free(idx->ids[i]);
	free(idx->posts);
	free(idx->ids);
	free(idx->recs);
	free(idx->idmap);
	free(idx->freeslots);
	if (idx->wscratch) {
		free(idx->wscratch->tab);
		free(idx->wscratch->order);
		free(idx->wscratch->list);
		free(idx->wscratch->dense);
		free(idx->wscratch->stamp);
		free(idx->wscratch);
	}
	free(idx->whits);
	free(idx);
}

size_t match_index_count(const struct match_index *idx)
{
	return idx->live;
}

static int slot_of(const struct match_index *idx, const char *id, uint32_t *slot)
{
	int found;
	size_t i = id_probe(idx, id, &found);

	if (!found)
		return 0;
	*slot = idx->idmap[i] - 1;
	return 1;
}

const struct match_record *match_index_get(const struct match_index *idx, const char *id)
{
	uint32_t s;

	if (!id || !slot_of(idx, id, &s))
		return NULL;
	return &idx->recs[s];
}

enum crm_err match_index_remove(struct match_index *idx, const char *id, struct crm_error *err)
{
	int found;
	size_t i = id_probe(idx, id, &found), k, n;
	uint32_t slot;
	uint64_t keys[KEYS_MAX];

	if (!found)
		return crm_fail(err, CRM_ENOTFOUND, "customer %s is not in the match index", id);
	slot = idx->idmap[i] - 1;
	idx->idmap[i] = UINT32_MAX;
	n = match__keys(&idx->recs[slot], keys, KEYS_MAX);
	for (k = 0; k < n; k++)
		post_del(idx, keys[k], slot);
	free(idx->ids[slot]);
	idx->ids[slot] = NULL;
	idx->live--;
	/* keep the slot for the next add (an edit is a remove and an add) */
	if (idx->nfree == idx->capfree) {
		size_t nc = idx->capfree ? idx->capfree * 2 : 64;
		uint32_t *nf = realloc(idx->freeslots, nc * sizeof *nf);
		if (!nf)
			return CRM_OK; /* the slot is merely not reused */
		idx->freeslots = nf;
		idx->capfree = nc;
	}
	idx->freeslots[idx->nfree++] = slot;
	return CRM_OK;
}

/* match_index_add with rec's keys (n of them) given; *slot_out gets its slot. */
static enum crm_err add_keys(struct match_index *idx, const char *id, const struct match_record *rec,
			     const uint64_t *keys, size_t n, uint32_t *slot_out, struct crm_error *err)
{
	size_t k, pos;
	uint32_t slot;
	int found, reused;

	if (!id || !*id)
		return crm_fail(err, CRM_EINVAL, "match index: empty customer id");
	if (match_index_get(idx, id) && match_index_remove(idx, id, err) != CRM_OK)
		return err ? err->code : CRM_EINTERNAL;
	if ((idx->usedidmap + 1) * 2 >= idx->capidmap && idmap_grow(idx) != 0)
		goto nomem;
	if (idx->nslots == idx->capslots) {
		size_t nc = idx->capslots ? idx->capslots * 2 : 1024;
		struct match_record *r = realloc(idx->recs, nc * sizeof *r);
		char **ids;
		if (!r)
			goto nomem;
		idx->recs = r;
		ids = realloc(idx->ids, nc * sizeof *ids);
		if (!ids)
			goto nomem;
		idx->ids = ids;
		idx->capslots = nc;
	}
	if (idx->nslots >= UINT32_MAX - 1)
		return crm_fail(err, CRM_ETOOBIG, "match index is full");
	reused = idx->nfree > 0;
	slot = reused ? idx->freeslots[idx->nfree - 1] : (uint32_t)idx->nslots;
	idx->ids[slot] = strdup(id);
	if (!idx->ids[slot])
		goto nomem;
	idx->recs[slot] = *rec;
	if (reused)
		idx->nfree--;
	else
		idx->nslots++;
	/* the keys' cells are scattered over a big table: fetch them all first */
	for (k = 0; k < n; k++)
		__builtin_prefetch(&idx->posts[(size_t)keys[k] & (idx->capposts - 1)], 1);
	for (k = 0; k < n; k++)
		if (post_add(idx, keys[k], slot) != 0) {
			while (k-- > 0)
				post_del(idx, keys[k], slot);
			free(idx->ids[slot]);
			idx->ids[slot] = NULL;
			if (reused)
				idx->nfree++; /* still free: its entry is still in the list */
			goto nomem;
		}
	pos = id_probe(idx, id, &found);
	if (idx->idmap[pos] == 0)
		idx->usedidmap++;
	idx->idmap[pos] = slot + 1;
	idx->live++;
	*slot_out = slot;
	return CRM_OK;
nomem:
	return crm_fail(err, CRM_ENOMEM, "out of memory adding %s to the match index", id);
}

enum crm_err match_index_add(struct match_index *idx, const char *id,
			     const struct match_record *rec, struct crm_error *err)
{
	uint64_t keys[KEYS_MAX];
	size_t n = match__keys(rec, keys, KEYS_MAX);
	uint32_t slot;

	return add_keys(idx, id, rec, keys, n, &slot, err);
}

enum crm_err match_index_add_row(struct match_index *idx, const char *id,
				 const struct match_input *in, struct crm_error *err)
{
	struct match_record r;
	enum crm_err rc = match_record_init(&r, in, err);

	if (rc != CRM_OK)
		return rc;
	return match_index_add(idx, id, &r, err);
}

/* ---- queries ------------------------------------------------------------- */

static int scratch_ensure(struct scratch *s, size_t want)
{
	size_t cap = 64;

	while (cap < want * 2)
		cap *= 2;
	size_t i;

	if (cap <= s->cap)
		return 0;
	free(s->tab);
	free(s->order);
	free(s->list);
	s->tab = malloc(cap * sizeof *s->tab);
	s->order = malloc(cap * sizeof *s->order);
	s->list = malloc(cap * sizeof *s->list);
	s->cap = s->tab && s->order && s->list ? cap : 0;
	if (!s->cap)
		return -1;
	for (i = 0; i < cap; i++)
		s->tab[i].slot = UINT32_MAX;
	return 0;
}

static int cand_better(const struct cand *a, const struct cand *b)
{
	if (a->strong != b->strong)
		return a->strong > b->strong;
	if (a->count != b->count)
		return a->count > b->count;
	return a->slot < b->slot;
}

static int cand_cmp(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;

	if (a->slot == b->slot)
		return 0;
	return cand_better(a, b) ? -1 : 1;
}

static int hit_cmp(const void *x, const void *y)
{
	const struct slot_hit *a = x, *b = y;

	if (a->v.decision != b->v.decision)
		return a->v.decision > b->v.decision ? -1 : 1;
	if (a->v.score != b->v.score)
		return a->v.score > b->v.score ? -1 : 1;
	return a->slot < b->slot ? -1 : a->slot > b->slot;
}

/*
 * Candidates of rec (whose nk blocking keys are keys), scored. Writes up to
 * max hits (REVIEW or MATCH) into out sorted best first; returns the count,
 * or -1 on allocation failure.
 */
static long query_slots(const struct match_index *idx, const struct match_record *rec,
			const uint64_t *keys, size_t nk, uint32_t exclude, struct scratch *s,
			struct slot_hit *out, size_t max)
{
	const struct post *ps[KEYS_MAX];
	size_t k, total = 0, i, nc = 0, nh = 0;
	size_t cap = idx->params.block_cap, limit = idx->params.max_candidates;
	size_t mask;

	for (k = 0; k < nk; k++) {
		const struct post *p = post_find(idx, keys[k]);
		ps[k] = (p && p->n > 0 && p->n <= cap) ? p : NULL;
		if (ps[k])
			total += ps[k]->n;
	}
	if (total == 0)
		return 0;
	if (scratch_ensure(s, total) != 0)
		return -1;
	mask = s->cap - 1;
	s->norder = 0;
	if (s->ndense >= idx->nslots) {
		/* the same counts, one cell per slot: no probing */
		for (k = 0; k < nk; k++) {
			const uint32_t *ids;
			int strong, inc;
			if (!ps[k])
				continue;
			ids = post_ids(ps[k]);
			strong = match__key_strong(keys[k]);
			inc = ps[k]->n <= 64 ? 2 : 1;
			for (i = 0; i < ps[k]->n; i++) {
				uint32_t sl = ids[i];
				struct cand *c = &s->dense[sl];
				if (sl == exclude)
					continue;
				if (s->stamp[sl] != s->gen) {
					s->stamp[sl] = s->gen;
					c->slot = sl;
					c->count = 0;
					c->strong = 0;
					s->order[s->norder++] = sl;
				}
				if (c->count < UINT16_MAX - 2)
					c->count = (uint16_t)(c->count + inc);
				if (strong)
					c->strong++;
			}
		}
		goto counted;
	}
	for (k = 0; k < nk; k++) {
		const uint32_t *ids;
		int strong, inc;
		if (!ps[k])
			continue;
		ids = post_ids(ps[k]);
		strong = match__key_strong(keys[k]);
		inc = ps[k]->n <= 64 ? 2 : 1; /* a rare key says more than a common one */
		for (i = 0; i < ps[k]->n; i++) {
			uint32_t sl = ids[i];
			size_t h;
			if (sl == exclude)
				continue;
			h = ((size_t)sl * 2654435761u) & mask;
			while (s->tab[h].slot != UINT32_MAX && s->tab[h].slot != sl)
				h = (h + 1) & mask;
			if (s->tab[h].slot == UINT32_MAX) {
				s->tab[h].slot = sl;
				s->tab[h].count = 0;
				s->tab[h].strong = 0;
				s->order[s->norder++] = (uint32_t)h;
			}
			if (s->tab[h].count < UINT16_MAX - 2)
				s->tab[h].count = (uint16_t)(s->tab[h].count + inc);
			if (strong)
				s->tab[h].strong++;
		}
	}
counted:
	nc = 0;
	for (i = 0; i < s->norder; i++) {
		const struct cand *c = s->ndense >= idx->nslots ? &s->dense[s->order[i]] :
								  &s->tab[s->order[i]];
		/*
		 * With many candidates, one shared weak key from a big block (a
		 * common word, a birth date) is not enough to be worth scoring.
		 */
		if (s->norder > 32 && c->strong == 0 && c->count < 2)
			continue;
		s->list[nc++] = *c;
	}
	if (nc > 8) {
		/*
		 * Ranked by strong keys, then shared keys. A weak candidate sharing
		 * less than a quarter of the best weak candidate's keys is noise:
		 * a true duplicate shares its name's grams, pairs and deletions.
		 * (The kept set is the best-ranked prefix down to the first such
		 * weak one; found without sorting, as the hits kept below do not
		 * depend on the order candidates are scored in.)
		 */
		uint16_t best = 0;
		size_t kept = 0;
		for (i = 0; i < nc; i++)
			if (s->list[i].strong == 0 && s->list[i].count > best)
				best = s->list[i].count;
		for (i = 0; i < nc; i++)
			if (s->list[i].strong != 0 || s->list[i].count * 4 >= best)
				s->list[kept++] = s->list[i];
		nc = kept;
	}
	if (nc > limit) {
		/* only then does the rank decide who is scored */
		qsort(s->list, nc, sizeof *s->list, cand_cmp);
		nc = limit;
	}
	for (i = 0; i < nc && i < 4; i++)
		__builtin_prefetch(&idx->recs[s->list[i].slot]);
	for (i = 0; i < nc; i++) {
		const struct cand *c = &s->list[i];
		struct match_verdict v;
		if (i + 4 < nc) /* records are scattered: fetch ahead */
			__builtin_prefetch(&idx->recs[s->list[i + 4].slot]);
		match__compare_quick(rec, &idx->recs[c->slot], &idx->params, &v);
		if (v.decision == MATCH_DISTINCT)
			continue;
		if (nh < max) {
			out[nh].slot = c->slot;
			out[nh].v = v;
			nh++;
		} else {
			/* keep the best: replace the weakest if this one beats it */
			size_t w = 0, j;
			for (j = 1; j < nh; j++)
				if (hit_cmp(&out[j], &out[w]) > 0)
					w = j;
			{
				struct slot_hit cand = {c->slot, v};
				if (hit_cmp(&cand, &out[w]) < 0)
					out[w] = cand;
			}
		}
	}
	/* leave the table empty for the next query (only the used cells) */
	if (s->ndense >= idx->nslots) {
		if (++s->gen == 0) { /* wrapped: no stamp may look current */
			memset(s->stamp, 0, s->ndense * sizeof *s->stamp);
			s->gen = 1;
		}
	} else {
		for (i = 0; i < s->norder; i++)
			s->tab[s->order[i]].slot = UINT32_MAX;
	}
	qsort(out, nh, sizeof *out, hit_cmp);
	/* ambiguity guard */
	{
		size_t nm = 0, a, b;
		int ambiguous = 0;
		while (nm < nh && out[nm].v.decision == MATCH_MATCH)
			nm++;
		if (rec->kind == MATCH_KIND_PERSON)
			nm = 0; /* persons: several typo'd copies may differ pairwise */
		if (nm > AMBIG_MAX)
			nm = AMBIG_MAX;
		for (a = 0; a < nm && !ambiguous; a++)
			for (b = a + 1; b < nm && !ambiguous; b++) {
				struct match_verdict v;
				match_compare(&idx->recs[out[a].slot], &idx->recs[out[b].slot],
					      &idx->params, &v);
				if (v.decision == MATCH_DISTINCT)
					ambiguous = 1;
			}
		if (ambiguous) {
			for (a = 0; a < nh; a++) {
				struct match_verdict *v = &out[a].v;
				if (v->decision != MATCH_MATCH)
					continue;
				v->decision = MATCH_REVIEW;
				if (v->nreasons < MATCH_REASONS_MAX)
					v->nreasons++;
				snprintf(v->reasons[v->nreasons - 1], MATCH_REASON_LEN,
					 "ambiguous");
			}
		}
	}
	return (long)nh;
}

enum crm_err match_index_query(const struct match_index *idx, const struct match_record *rec,
			       const char *exclude_id, struct match_hit *hits, size_t max,
			       size_t *nhits, struct crm_error *err)
{
	struct scratch s = {0};
	struct slot_hit *tmp = NULL;
	uint32_t ex = UINT32_MAX;
	uint64_t keys[KEYS_MAX];
	size_t nk = 0;
	long n;
	size_t i;
	enum crm_err rc = CRM_OK;

	*nhits = 0;
	if (max == 0)
		goto out;
	nk = match__keys(rec, keys, KEYS_MAX);
	if (exclude_id)
		(void)slot_of(idx, exclude_id, &ex);
	tmp = malloc(max * sizeof *tmp);
	if (!tmp)
		goto nomem;
	n = query_slots(idx, rec, keys, nk, ex, &s, tmp, max);
	if (n < 0)
		goto nomem;
	for (i = 0; i < (size_t)n; i++) {
		hits[i].id = idx->ids[tmp[i].slot];
		hits[i].verdict = tmp[i].v;
	}
	*nhits = (size_t)n;
	goto out;
nomem:
	rc = crm_fail(err, CRM_ENOMEM, "out of memory in a match query");
out:
	free(tmp);
	free(s.tab);
	free(s.order);
	free(s.list);
	return rc;
}

enum crm_err match_index_add_query(struct match_index *idx, const char *id,
				   const struct match_record *rec, struct match_hit *hits, size_t max,
				   size_t *nhits, struct crm_error *err)
{
	uint64_t keys[KEYS_MAX];
	size_t nk = match__keys(rec, keys, KEYS_MAX), i;
	uint32_t slot;
	long n;
	enum crm_err rc;

	*nhits = 0;
	rc = add_keys(idx, id, rec, keys, nk, &slot, err);
	if (rc != CRM_OK || max == 0)
		return rc;
	if (!idx->wscratch) {
		idx->wscratch = calloc(1, sizeof *idx->wscratch);
		if (!idx->wscratch)
			goto nomem;
	}
	if (idx->wscratch->ndense < idx->nslots) {
		/* one cell per slot, grown with the index (stamps start stale) */
		size_t nd = idx->capslots;
		struct cand *dn = realloc(idx->wscratch->dense, nd * sizeof *dn);
		uint32_t *st;

		if (!dn)
			goto nomem;
		idx->wscratch->dense = dn;
		st = realloc(idx->wscratch->stamp, nd * sizeof *st);
		if (!st)
			goto nomem;
		idx->wscratch->stamp = st;
		memset(st, 0, nd * sizeof *st);
		idx->wscratch->ndense = nd;
		idx->wscratch->gen = 1;
	}
	if (idx->capwhits < max) {
		struct slot_hit *w = realloc(idx->whits, max * sizeof *w);

		if (!w)
			goto nomem;
		idx->whits = w;
		idx->capwhits = max;
	}
	/* the record itself is in the index now: exclude its slot */
	n = query_slots(idx, rec, keys, nk, slot, idx->wscratch, idx->whits, max);
	if (n < 0)
		goto nomem;
	for (i = 0; i < (size_t)n; i++) {
		hits[i].id = idx->ids[idx->whits[i].slot];
		hits[i].verdict = idx->whits[i].v;
	}
	*nhits = (size_t)n;
	return CRM_OK;
nomem:
	return crm_fail(err, CRM_ENOMEM, "out of memory in a match query");
}

/* ---- full scan ----------------------------------------------------------- */

#define SCAN_HITS 32

struct pair {
	uint32_t a, b;   /* a < b */
	uint8_t decision;
};

struct scan_job {
	const struct match_index *idx;
	const uint32_t *order;    /* slots, similar names next to each other */
	size_t from, to;          /* this thread's range of order */
	struct pair *pairs;
	size_t n, cap;
	int failed;
};

static void *scan_worker(void *arg)
{
	struct scan_job *j = arg;
	struct scratch s = {0};
	struct slot_hit hits[SCAN_HITS];
	size_t i;

	for (size_t k = j->from; k < j->to; k++) {
		long n, h;
		i = j->order[k];
		if (!j->idx->ids[i])
			continue;
		{
			uint64_t keys[KEYS_MAX];
			size_t nk = match__keys(&j->idx->recs[i], keys, KEYS_MAX);

			n = query_slots(j->idx, &j->idx->recs[i], keys, nk, (uint32_t)i, &s, hits,
					SCAN_HITS);
		}
		if (n < 0) {
			j->failed = 1;
			break;
		}
		for (h = 0; h < n; h++) {
			struct pair *p;
			if (j->n == j->cap) {
				size_t nc = j->cap ? j->cap * 2 : 4096;
				struct pair *np = realloc(j->pairs, nc * sizeof *np);
				if (!np) {
					j->failed = 1;
					goto out;
				}
				j->pairs = np;
				j->cap = nc;
			}
			p = &j->pairs[j->n++];
			p->a = (uint32_t)i < hits[h].slot ? (uint32_t)i : hits[h].slot;
			p->b = (uint32_t)i < hits[h].slot ? hits[h].slot : (uint32_t)i;
			p->decision = (uint8_t)hits[h].v.decision;
		}
	}
out:
	free(s.tab);
	free(s.order);
	free(s.list);
	return NULL;
}

struct okey {
	uint64_t key;
	uint32_t slot;
};

static int okey_cmp(const void *x, const void *y)
{
	const struct okey *a = x, *b = y;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->slot < b->slot ? -1 : a->slot > b->slot;
}

static int pair_cmp(const void *x, const void *y)
{
	const struct pair *a = x, *b = y;

	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	if (a->b != b->b)
		return a->b < b->b ? -1 : 1;
	return (int)a->decision - (int)b->decision;
}

enum crm_err match_index_scan(const struct match_index *idx, int nthreads, match_pair_cb cb,
			      void *ctx, struct crm_error *err)
{
	struct scan_job *jobs = NULL;
	pthread_t *th = NULL;
	struct pair *all = NULL;
	uint32_t *order = NULL;
	struct okey *okeys = NULL;
	size_t total = 0, t, i, nt;
	enum crm_err rc = CRM_OK;
	int started = 0;

	if (nthreads < 1)
		nthreads = 1;
	nt = (size_t)nthreads;
	jobs = calloc(nt, sizeof *jobs);
	th = calloc(nt, sizeof *th);
	if (!jobs || !th)
		goto nomem;
	/*
	 * Query in the order of the names, not of the slots: consecutive queries
	 * then read the same posting lists and candidate records, which stay in
	 * the cache. Each thread takes one contiguous part of that order.
	 */
	order = malloc((idx->nslots ? idx->nslots : 1) * sizeof *order);
	okeys = malloc((idx->nslots ? idx->nslots : 1) * sizeof *okeys);
	if (!order || !okeys)
		goto nomem;
	for (i = 0; i < idx->nslots; i++) {
		const struct match_record *r = &idx->recs[i];
		uint64_t k = 0;
		size_t c;
		for (c = 0; c < 4; c++)
			k = (k << 16) | (c < r->core_len ? (r->core[c] & 0xFFFF) : 0);
		okeys[i].key = k;
		okeys[i].slot = (uint32_t)i;
	}
	qsort(okeys, idx->nslots, sizeof *okeys, okey_cmp);
	for (i = 0; i < idx->nslots; i++)
		order[i] = okeys[i].slot;
	free(okeys);
	okeys = NULL;
	for (t = 0; t < nt; t++) {
		jobs[t].idx = idx;
		jobs[t].order = order;
		jobs[t].from = idx->nslots * t / nt;
		jobs[t].to = idx->nslots * (t + 1) / nt;
	}
	for (t = 1; t < nt; t++) {
		if (pthread_create(&th[t], NULL, scan_worker, &jobs[t]) != 0) {
			jobs[t].failed = 1;
			break;
		}
		started++;
	}
	scan_worker(&jobs[0]);
	for (t = 1; t <= (size_t)started; t++)
		pthread_join(th[t], NULL);
	for (t = 0; t < nt; t++) {
		if (jobs[t].failed)
			goto nomem;
		total += jobs[t].n;
	}
	all = malloc((total ? total : 1) * sizeof *all);
	if (!all)
		goto nomem;
	total = 0;
	for (t = 0; t < nt; t++) {
		if (jobs[t].n)
			memcpy(all + total, jobs[t].pairs, jobs[t].n * sizeof *all);
		total += jobs[t].n;
	}
	qsort(all, total, sizeof *all, pair_cmp);
	/* each pair appears once or twice (found from either side); the lower wins */
	for (i = 0; i < total; i++) {
		struct match_verdict v;
		uint8_t dec = all[i].decision;
		if (i > 0 && all[i - 1].a == all[i].a && all[i - 1].b == all[i].b)
			continue;
		match_compare(&idx->recs[all[i].a], &idx->recs[all[i].b], &idx->params, &v);
		if ((uint8_t)v.decision > dec) {
			v.decision = (enum match_decision)dec;
			if (v.nreasons < MATCH_REASONS_MAX)
				v.nreasons++;
			snprintf(v.reasons[v.nreasons - 1], MATCH_REASON_LEN, "ambiguous");
		}
		if (cb(ctx, idx->ids[all[i].a], idx->ids[all[i].b], &v) != 0)
			break;
	}
	goto out;
nomem:
	rc = crm_fail(err, CRM_ENOMEM, "out of memory in the duplicate scan");
out:
	if (jobs)
		for (t = 0; t < nt; t++)
			free(jobs[t].pairs);
	free(jobs);
	free(th);
	free(all);
	free(order);
	free(okeys);
	return rc;
}
