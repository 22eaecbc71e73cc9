/*
 * match: customer matching (查重) shared by the client and the server.
 *
 * Three steps, each usable on its own:
 *   1. match_record_init() normalizes the text columns of one customer row
 *      (NFKC + case folding with utf8proc; company names lose legal forms and
 *      punctuation, the region is split off as a weaker feature, a branch is
 *      flagged; person names, phones, e-mails, USCC, id numbers, birth dates,
 *      addresses) into a fixed-size struct match_record.
 *   2. match_compare() scores a pair and decides MATCH (merge automatically),
 *      REVIEW (queue for head office) or DISTINCT, with short reasons.
 *   3. struct match_index keeps many records with blocking keys (valid USCC,
 *      phone, e-mail, id number, name n-grams / tokens, birth date ...) so
 *      that one new record is compared only with plausible candidates.
 *
 * Precision first: a wrong merge is worse than a missed one. The rules and
 * thresholds are documented in docs/dedup.md.
 */
#ifndef SCHEMA_MATCH_H
#define SCHEMA_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crm_err.h"

#define MATCH_CORE_MAX 40   /* code points of a normalized name core */
#define MATCH_ADDR_MAX 64   /* code points of a normalized address */
#define MATCH_GRAMS_MAX 48  /* blocking/similarity grams of a name */
#define MATCH_ID_MAX 24     /* bytes of a normalized id number (+NUL) */
#define MATCH_REASONS_MAX 6
#define MATCH_REASON_LEN 40

enum match_kind { MATCH_KIND_UNKNOWN = 0, MATCH_KIND_COMPANY, MATCH_KIND_PERSON };

enum match_decision { MATCH_DISTINCT = 0, MATCH_REVIEW = 1, MATCH_MATCH = 2 };

/*
 * The identifying columns of one customer row, as typed (UTF-8, any width,
 * any case). Every pointer may be NULL or "". kind is "company", "person" or
 * NULL (then guessed: a name with a legal form or a USCC is a company).
 */
struct match_input {
	const char *kind;
	const char *name;
	const char *uscc;
	const char *id_number;
	const char *birth_date; /* YYYY-MM-DD or YYYYMMDD */
	const char *phone;
	const char *email;
	const char *address;
	const char *city;
	const char *region;
};

/*
 * A normalized customer. Plain data with no pointers: it may be copied with
 * '=' or memcpy, and needs no release. Fields are read-only for callers.
 */
struct match_record {
	/* hot fields first: a comparison reads them from a random record */
	uint8_t kind;                     /* enum match_kind */
	uint8_t branch;                   /* 1: a branch (分公司, "branch") */
	uint8_t core_len;                 /* code points in core */
	uint8_t ngrams;                   /* entries in grams */
	uint8_t addr_len;                 /* code points in addr */
	uint8_t phone_mobile;             /* 1: phone is a mobile */
	uint8_t email_free;               /* 1: e-mail at a free provider (qq.com, gmail ...) */
	uint8_t has_birth;                /* birth_* set */
	int16_t region;                   /* region table index, -1 unknown */
	int16_t branch_region;            /* region named with the branch, -1 none */
	uint16_t birth_y;
	uint8_t birth_m, birth_d;
	uint64_t phone;                   /* hash of the E.164 phone, 0 none */
	uint64_t email;                   /* hash of the lower-cased e-mail, 0 none */
	uint64_t email_domain;            /* hash of its domain, 0 none */
	char uscc[20];                    /* a checksum-valid USCC, "" otherwise */
	char id_number[MATCH_ID_MAX];     /* upper-cased id number, "" none */
	uint32_t core[MATCH_CORE_MAX];    /* name core; tokens separated by ' ' */
	uint32_t addr[MATCH_ADDR_MAX];    /* address (+ a person's city) words and numbers */
	uint32_t grams[MATCH_GRAMS_MAX];  /* sorted unique hashes of name bigrams/tokens */
};

/*
 * Scoring weights and thresholds. match_params_default() fills the values
 * documented in docs/dedup.md; benchmarks vary them to show the trade-off.
 */
struct match_params {
	double match_threshold;  /* score >= this (and no veto): MATCH */
	double review_threshold; /* score >= this: REVIEW */
	size_t block_cap;        /* blocks larger than this are not used to find candidates */
	size_t max_candidates;   /* at most this many candidates are scored per query */
};

void match_params_default(struct match_params *p);

/* A scored pair: decision, score, and up to MATCH_REASONS_MAX short reasons. */
struct match_verdict {
	enum match_decision decision;
	double score;
	int nreasons;
	char reasons[MATCH_REASONS_MAX][MATCH_REASON_LEN]; /* "same USCC", "name 0.93" ... */
};

/*
 * Normalizes in into *out (fully overwritten). Invalid USCCs, unparsable
 * phones, dates and e-mails are dropped as evidence, never an error. Fails
 * only with CRM_EUTF8 (a field is not valid UTF-8) or CRM_ENOMEM.
 */
enum crm_err match_record_init(struct match_record *out, const struct match_input *in,
			       struct crm_error *err);

/*
 * Scores a against b and decides. p may be NULL (defaults). Symmetric:
 * compare(a, b) and compare(b, a) give the same decision and score.
 */
void match_compare(const struct match_record *a, const struct match_record *b,
		   const struct match_params *p, struct match_verdict *v);

/* "match", "review", "distinct". */
const char *match_decision_name(enum match_decision d);

/*
 * Writes the verdict's reasons joined by ", " into buf (always terminated).
 * Returns buf.
 */
char *match_verdict_reasons(const struct match_verdict *v, char *buf, size_t bufsz);

/* True if s is an 18-character USCC whose GB 32100 check character is right. */
bool match_uscc_valid(const char *s);

/*
 * The index: records under caller-chosen ids, with blocking keys.
 * Ids are copied; records are copied. Not thread-safe for writers; any number
 * of threads may call match_index_query()/match_index_get() on an index that
 * nobody modifies meanwhile.
 */
struct match_index;

/* A new empty index (*out, free with match_index_free). */
enum crm_err match_index_new(struct match_index **out, const struct match_params *p,
			     struct crm_error *err);

/* Frees the index and everything in it. NULL is fine. */
void match_index_free(struct match_index *idx);

/* Number of records in the index. */
size_t match_index_count(const struct match_index *idx);

/*
 * Adds (or replaces) the record under id. CRM_ENOMEM on allocation failure,
 * CRM_EINVAL for an empty id.
 */
enum crm_err match_index_add(struct match_index *idx, const char *id,
			     const struct match_record *rec, struct crm_error *err);

/*
 * Convenience: normalizes the row (match_record_init) and adds it.
 */
enum crm_err match_index_add_row(struct match_index *idx, const char *id,
				 const struct match_input *in, struct crm_error *err);

/* Removes the record under id. CRM_ENOTFOUND if it is not there. */
enum crm_err match_index_remove(struct match_index *idx, const char *id, struct crm_error *err);

/* The record under id, or NULL. The pointer is valid until the index changes. */
const struct match_record *match_index_get(const struct match_index *idx, const char *id);

/* One candidate found by a query. */
struct match_hit {
	const char *id;            /* owned by the index; valid until that record is removed */
	struct match_verdict verdict;
};

/*
 * Finds the records that may be the same customer as rec: candidates from
 * the blocks rec shares (blocks larger than the cap are skipped), each scored
 * with match_compare(). Hits with decision REVIEW or MATCH are written to
 * hits (best first, at most max), *nhits gets their number. exclude_id (may
 * be NULL) is skipped, so a record already in the index can be queried.
 *
 * Ambiguity guard: when two MATCH hits are themselves DISTINCT from each
 * other (华信科技 without a region against 深圳华信 and 北京华信), every MATCH
 * hit is lowered to REVIEW with the reason "ambiguous".
 */
enum crm_err match_index_query(const struct match_index *idx, const struct match_record *rec,
			       const char *exclude_id, struct match_hit *hits, size_t max,
			       size_t *nhits, struct crm_error *err);

/*
 * match_index_add() of rec under id, then match_index_query() of it with
 * exclude_id = id, in one step: its blocking keys are computed once and the
 * query's scratch memory is kept in the index for the next call. A writer's
 * call (nobody may use the index meanwhile). On an error of the query the
 * record stays added. Hit ids are owned by the index.
 */
enum crm_err match_index_add_query(struct match_index *idx, const char *id,
				   const struct match_record *rec, struct match_hit *hits, size_t max,
				   size_t *nhits, struct crm_error *err);

/*
 * Full duplicate scan: queries every record against the index (with nthreads
 * threads, >= 1) and calls cb once per unordered pair whose decision is
 * REVIEW or MATCH (the ambiguity guard applied from both sides: a pair is
 * MATCH only if it is MATCH when either record is the query). cb is called
 * from the calling thread only, after the threads are done; a non-zero
 * return stops the scan. Ids passed to cb are owned by the index.
 */
typedef int (*match_pair_cb)(void *ctx, const char *a, const char *b,
			     const struct match_verdict *v);
enum crm_err match_index_scan(const struct match_index *idx, int nthreads, match_pair_cb cb,
			      void *ctx, struct crm_error *err);

#endif
