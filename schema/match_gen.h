/*
 * match_gen: a seeded generator of business customers as reps type them,
 * for measuring the matcher (bench/bench_dedup.c) and for tests.
 *
 * Each entity is one real company (Chinese or English name, region, USCC,
 * switchboard, contacts' mobiles, e-mail domain, address). Records of an
 * entity are what different reps typed: full-width characters, legal forms
 * dropped or changed, the region missing, in brackets or with its province,
 * typos (homophones in Chinese, letters in English), another contact's
 * number, missing fields, English abbreviations and case. Hard negatives are
 * separate entities: the same trade name in another city or industry, and
 * branches (分公司) of an entity.
 */
#ifndef SCHEMA_MATCH_GEN_H
#define SCHEMA_MATCH_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "crm_err.h"
#include "match.h"

/* One generated customer row; in's pointers point into the row's own text. */
struct match_gen_row {
	long entity;              /* true identity: rows with equal entity are duplicates */
	int hard;                 /* 1: this entity was made as a hard negative of another */
	struct match_input in;
	char name[160], uscc[24], phone[40], email[80], address[160], city[40], region[40];
};

/* A fixed data set: n rows of `entities` entities, shuffled. */
struct match_gen_set {
	struct match_gen_row *rows; /* owned; match_gen_release() frees */
	size_t n;
};

/*
 * Makes a data set from seed with about `entities` entities (about 30% of
 * them with 1-3 duplicates, about 25% hard negatives). CRM_ENOMEM on failure.
 */
enum crm_err match_gen_make(struct match_gen_set *set, uint64_t seed, size_t entities,
			    struct crm_error *err);

void match_gen_release(struct match_gen_set *set);

/* An endless stream of rows (new entities and duplicates of recent ones). */
struct match_gen_stream;

enum crm_err match_gen_stream_new(struct match_gen_stream **out, uint64_t seed,
				  struct crm_error *err);
void match_gen_stream_next(struct match_gen_stream *s, struct match_gen_row *row);
void match_gen_stream_free(struct match_gen_stream *s);

#endif
