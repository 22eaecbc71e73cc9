/*
 * search: finding customers in the replica by any text a rep remembers.
 *
 * Backed by the FTS5 trigram index of schema/migrations/0002_search.sql (one
 * document per customer: name; phones, e-mail, USCC, ext_ref, city, address;
 * contacts; notes; and a document per activity note). Queries of three characters or more
 * are one MATCH phrase; shorter ones, which are no trigram, MATCH the
 * trigrams of the index's vocabulary that start with them (a one-character
 * query with too many such trigrams scans with LIKE instead). A query
 * that looks like a phone number is searched by its digits, so "138 0013 8000"
 * and "00138000" find +8613800138000.
 */
#ifndef CLIENT_SEARCH_H
#define CLIENT_SEARCH_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "crm_err.h"
#include "crm_id.h"

struct search_hit {
	char id[CRM_ID_SIZE];  /* the customer */
	char matched[256];     /* what matched, for people: "phone +86138...", "contact 李娜" */
	bool name_match;       /* the name itself matched (sorted first) */
};

struct search_result {
	struct search_hit *hits; /* malloc()ed; free with search_result_release */
	size_t n;
};

/*
 * Finds up to limit customers matching text (deleted ones only if
 * with_deleted), name matches first. CRM_EUSAGE for an empty query,
 * CRM_EUTF8 for invalid text, CRM_EDB on SQL failure.
 */
enum crm_err search_run(sqlite3 *db, const char *text, bool with_deleted, size_t limit,
			struct search_result *out, struct crm_error *err);

void search_result_release(struct search_result *r);

/*
 * The string actually searched for text: trimmed, and reduced to its digits
 * when text looks like a phone number. Writes into out (size n).
 */
void search_needle(const char *text, char *out, size_t n);

#endif
