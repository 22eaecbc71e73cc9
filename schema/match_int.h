/*
 * match_int: internals shared by the match_*.c files (not a public API).
 *
 * Text folding, the region table, similarity measures and blocking keys.
 */
#ifndef SCHEMA_MATCH_INT_H
#define SCHEMA_MATCH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "match.h"

/* One region: Chinese name, pinyin/English name(s), province index or -1. */
struct match__region {
	const char *zh;
	const char *en;  /* lower case, words separated by one space */
	int parent;      /* index of the province in match__regions, -1 for a province/top */
};
extern const struct match__region match__regions[];
extern const size_t match__nregions;

/* Region index for a folded text ("深圳市", "shenzhen", "广东省"), -1 if none. */
int match__region_lookup(const char *folded);

/*
 * The region whose Chinese name is the longest start of s (the lowest
 * index among equal names), *len its length in bytes; -1 if none.
 */
int match__region_zh_prefix(const char *s, size_t *len);

/*
 * Like match__region_lookup, and else a city the table does not know: two or
 * three CJK characters followed by 市 (or without 市 when !need_suffix, for
 * the city column) get an id of their own above the table (no province).
 */
int match__region_guess(const char *folded, int need_suffix);

/*
 * 2 if a and b (region indexes, -1 unknown) are the same place, 1 if one
 * is unknown or contains the other (a province and one of its cities),
 * 0 if they are different places.
 */
int match__region_relation(int a, int b);

/*
 * NFKC + case fold + strip marks; punctuation and symbols become one space,
 * '&' becomes " and ", apostrophes vanish, brackets become '(' and ')'
 * (when keep_brackets) and a space is put between CJK and other letters.
 * Result malloc()ed, caller frees; NULL on bad UTF-8 or no memory.
 */
char *match__fold(const char *in, int keep_brackets);

/*
 * match__fold always through utf8proc_map (match__fold maps plain ASCII
 * itself); the reference its tests compare with.
 */
char *match__fold_utf8proc(const char *in, int keep_brackets);

/* True for a code point in a CJK ideograph block. */
int match__is_cjk(uint32_t c);

/* Decodes UTF-8 s into at most max code points; returns the count. */
size_t match__decode(const char *s, uint32_t *out, size_t max);

/* Similarities in [0, 1]. */
double match__jaro_winkler(const uint32_t *a, size_t na, const uint32_t *b, size_t nb);
double match__lev_sim(const uint32_t *a, size_t na, const uint32_t *b, size_t nb);
/* Edit distance (adjacent transpositions count once) capped at 255. */
unsigned match__lev(const uint32_t *a, size_t na, const uint32_t *b, size_t nb);
/* The same, but any distance above maxd is returned as maxd + 1 (faster). */
unsigned match__lev_bounded(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
			    unsigned maxd);

/*
 * match_compare() for callers that keep only REVIEW and MATCH: the same
 * decision, but a DISTINCT verdict may lack score and reasons (pairs that
 * cannot reach the review threshold are cut short).
 */
void match__compare_quick(const struct match_record *a, const struct match_record *b,
			  const struct match_params *p, struct match_verdict *v);

/* 64-bit hash of n bytes with a one-byte tag (the key type). */
uint64_t match__hash(char tag, const void *p, size_t n);

/* Blocking keys of r (at most max); returns how many were written. */
size_t match__keys(const struct match_record *r, uint64_t *keys, size_t max);

/* A key is "strong" (USCC, phone, e-mail, id number) if its top byte says so. */
int match__key_strong(uint64_t key);

#endif
