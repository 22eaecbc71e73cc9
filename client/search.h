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
#include <stdint.h>

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

/*
 * The index after a fresh laptop's bulk first pull, built lazily. Its
 * triggers index every pulled row one statement at a time, which is most of
 * a first pull's CPU; so crm sync suspends them (search_index_suspend) and
 * the index is rebuilt whole, from the tables as they are then, by the first
 * command that reads it (search_index_ensure). Meanwhile sync state
 * "search_rebuild" is "1", the triggers are gone and the index is stale:
 * every writer may write freely (nothing to keep current), and every reader
 * of search_index / search_docs must call search_index_ensure first.
 */
struct replica;

/*
 * Drops the index's triggers and sets "search_rebuild" to "1", inside the
 * caller's open transaction (the rows it is about to write then never reach
 * the triggers). Already suspended: nothing to do.
 */
enum crm_err search_index_suspend(struct replica *rep, struct crm_error *err);

/*
 * Whether the index waits for its rebuild; *records (may be NULL) gets how
 * many documents the rebuild would write (customers plus activity notes, as
 * of now), for a progress line.
 */
bool search_index_stale(struct replica *rep, int64_t *records);

/*
 * Rebuilds a stale index in one transaction of its own (call it outside any):
 * drops and recreates the index with the migration's SQL (tables, triggers,
 * documents of every row there now) and clears "search_rebuild". Checks the
 * flag again inside the transaction, so two commands racing build it once.
 * *rebuilt (may be NULL) says whether this call built it. A current index:
 * CRM_OK at once. On failure nothing changed (the flag stays set).
 */
enum crm_err search_index_ensure(struct replica *rep, bool *rebuilt, struct crm_error *err);

#endif
