/*
 * sim_model: the simulator's ground truth about field versions.
 *
 * Every local edit the simulator makes becomes one version per changed field:
 * (table, row, column, HLC, writer), plus the version that was in place on
 * the writer's replica when it was made, its parent. Parents give the true
 * "had seen" relation, independent of what the sync code stores as a base,
 * so the checks can tell a real conflict (neither version saw the other) from
 * an overwrite by someone who had seen the value. A hash on the full key
 * finds a version again from what a snapshot or a conflict names.
 */
#include <stdlib.h>
#include <string.h>

#include "sim.h"

void sim_model_init(struct sim_model *m)
{
	memset(m, 0, sizeof *m);
}

void sim_model_release(struct sim_model *m)
{
	free(m->v);
	free(m->slots);
	memset(m, 0, sizeof *m);
}

static uint64_t key_hash(int table, const char *id, int col, sync_hlc hlc, int site)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const char *p = id; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 0x100000001b3ULL;
	}
	h ^= (uint64_t)(unsigned)table * 0x9e3779b97f4a7c15ULL;
	h *= 0x100000001b3ULL;
	h ^= (uint64_t)(unsigned)col * 0xc2b2ae3d27d4eb4fULL;
	h *= 0x100000001b3ULL;
	h ^= hlc;
	h *= 0x100000001b3ULL;
	h ^= (uint64_t)(unsigned)(site + 2);
	h *= 0x100000001b3ULL;
	return h ^ (h >> 29);
}

static bool key_eq(const struct sim_version *v, int table, const char *id, int col,
		   sync_hlc hlc, int site)
{
	return v->table == table && v->col == col && v->hlc == hlc && v->site == site &&
	       strcmp(v->id, id) == 0;
}

size_t sim_model_find(const struct sim_model *m, int table, const char *id, int col,
		      sync_hlc hlc, int site)
{
	size_t i;

	if (m->nslots == 0)
		return SIZE_MAX;
	i = (size_t)(key_hash(table, id, col, hlc, site) & (m->nslots - 1));
	while (m->slots[i] != 0) {
		const struct sim_version *v = &m->v[m->slots[i] - 1];

		if (key_eq(v, table, id, col, hlc, site))
			return m->slots[i] - 1;
		i = (i + 1) & (m->nslots - 1);
	}
	return SIZE_MAX;
}

static void slot_put(size_t *slots, size_t nslots, const struct sim_version *v, size_t idx)
{
	size_t i = (size_t)(key_hash(v->table, v->id, v->col, v->hlc, v->site) & (nslots - 1));

	while (slots[i] != 0)
		i = (i + 1) & (nslots - 1);
	slots[i] = idx + 1;
}

static bool grow(struct sim_model *m)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		struct sim_version *nv = realloc(m->v, cap * sizeof *nv);

		if (!nv)
			return false;
		m->v = nv;
		m->cap = cap;
	}
	if ((m->n + 1) * 2 > m->nslots) {
		size_t ns = m->nslots ? m->nslots * 2 : 4096;
		size_t *slots = calloc(ns, sizeof *slots);

		if (!slots)
			return false;
		for (size_t i = 0; i < m->n; i++)
			slot_put(slots, ns, &m->v[i], i);
		free(m->slots);
		m->slots = slots;
		m->nslots = ns;
	}
	return true;
}

size_t sim_model_add(struct sim_model *m, const struct sim_version *v, bool *dup)
{
	*dup = false;
	if (sim_model_find(m, v->table, v->id, v->col, v->hlc, v->site) != SIZE_MAX) {
		*dup = true;
		return SIZE_MAX;
	}
	if (!grow(m))
		return SIZE_MAX;
	m->v[m->n] = *v;
	m->v[m->n].marks = 0;
	slot_put(m->slots, m->nslots, &m->v[m->n], m->n);
	return m->n++;
}

bool sim_model_mark_chain(struct sim_model *m, size_t idx, unsigned bit)
{
	/* Chains are short (edits of one field); the bound only stops a cycle. */
	for (size_t steps = 0; steps <= m->n; steps++) {
		struct sim_version *v = &m->v[idx];

		if (v->marks & bit)
			return true; /* the rest of the chain is marked already */
		v->marks |= bit;
		if (v->parent_hlc == 0)
			return true;
		idx = sim_model_find(m, v->table, v->id, v->col, v->parent_hlc, v->parent_site);
		if (idx == SIZE_MAX)
			return false;
	}
	return false;
}

bool sim_model_is_ancestor(const struct sim_model *m, size_t anc, size_t v)
{
	for (size_t steps = 0; steps <= m->n && v != SIZE_MAX; steps++) {
		const struct sim_version *x = &m->v[v];

		if (v == anc)
			return true;
		if (x->parent_hlc == 0)
			return false;
		v = sim_model_find(m, x->table, x->id, x->col, x->parent_hlc, x->parent_site);
	}
	return false;
}
