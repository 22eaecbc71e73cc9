/* `crm search`: FTS5 trigram MATCH (or LIKE for short queries) plus why each hit matched. */
#include "search.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm_buf.h"
#include "crm_utf8.h"
#include "migrate.h"
#include "replica.h"
#include "sync.h"

#define NEEDLE_MAX 512
#define PATTERN_MAX (128 * 1024)
#define MAX_TERMS 2000 /* beyond that many trigrams, a short query scans with LIKE */

void search_needle(const char *text, char *out, size_t n)
{
	const char *s = text;
	size_t len, digits = 0, o = 0;
	bool phone_like = true;

	if (n == 0)
		return;
	while (*s && isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (isdigit(ch))
			digits++;
		else if (!strchr(" +-().", ch))
			phone_like = false;
	}
	if (phone_like && digits >= 3) {
		for (size_t i = 0; i < len && o + 1 < n; i++)
			if (isdigit((unsigned char)s[i]))
				out[o++] = s[i];
		out[o] = '\0';
		return;
	}
	if (len >= n) {
		/* Cut at a character boundary. */
		len = n - 1;
		while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(out, s, len);
	out[len] = '\0';
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/* Case-insensitive (ASCII) substring search; returns the byte offset or -1. */
static long ci_find(const char *hay, const char *needle)
{
	size_t nl = strlen(needle);

	if (!hay)
		return -1;
	for (size_t i = 0; hay[i]; i++) {
		size_t k = 0;

		while (k < nl && hay[i + k] &&
		       tolower((unsigned char)hay[i + k]) == tolower((unsigned char)needle[k]))
			k++;
		if (k == nl)
			return (long)i;
	}
	return -1;
}

/* True if phone (E.164) contains needle as written, as digits, or in national form. */
static bool phone_has(const char *phone, const char *needle)
{
	char national[40];

	if (!phone)
		return false;
	if (ci_find(phone, needle) >= 0 || (phone[0] == '+' && ci_find(phone + 1, needle) >= 0))
		return true;
	if (strncmp(phone, "+86", 3) == 0) {
		snprintf(national, sizeof national, "0%s", phone + 3);
		return ci_find(national, needle) >= 0;
	}
	return false;
}

/* A short excerpt of text around byte offset at: a few characters of context. */
static void excerpt(const char *text, long at, char *out, size_t n)
{
	size_t start = (size_t)at;
	int back = 8;

	while (start > 0 && back > 0) {
		start--;
		if (((unsigned char)text[start] & 0xC0) != 0x80)
			back--;
	}
	snprintf(out, n, "%s%s", start > 0 ? "\xe2\x80\xa6" : "", text + start);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? (const char *)s : NULL;
}

/* Fills hit->matched with the first field of the customer that contains needle. */
static void explain(sqlite3 *db, const char *needle, struct search_hit *hit)
{
	static const char *const fields[] = {"name", "ext_ref", "uscc", "email", "city", "address", "notes"};
	sqlite3_stmt *st = NULL;
	char ex[200];

	hit->matched[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT name, ext_ref, uscc, email, city, address, notes, phone "
				   "FROM customers WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, hit->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (phone_has(col_text(st, 7), needle)) {
			snprintf(hit->matched, sizeof hit->matched, "phone %s", col_text(st, 7));
			goto out;
		}
		for (int i = 0; i < 7; i++) {
			long at = ci_find(col_text(st, i), needle);

			if (at < 0)
				continue;
			hit->name_match = i == 0;
			if (i == 0) {
				snprintf(hit->matched, sizeof hit->matched, "name");
			} else {
				excerpt(col_text(st, i), i == 6 ? at : 0, ex, sizeof ex);
				snprintf(hit->matched, sizeof hit->matched, "%s %s", fields[i], ex);
			}
			goto out;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT name, phone, email, wechat FROM contacts "
				   "WHERE customer_id = ?1 AND deleted = 0", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, hit->id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = col_text(st, 0) ? col_text(st, 0) : "";

		if (ci_find(col_text(st, 0), needle) >= 0 || phone_has(col_text(st, 1), needle) ||
		    ci_find(col_text(st, 2), needle) >= 0 || ci_find(col_text(st, 3), needle) >= 0) {
			const char *detail = phone_has(col_text(st, 1), needle) ? col_text(st, 1)
					     : ci_find(col_text(st, 2), needle) >= 0 ? col_text(st, 2)
					     : ci_find(col_text(st, 3), needle) >= 0 ? col_text(st, 3)
										      : NULL;

			snprintf(hit->matched, sizeof hit->matched, "contact %s%s%s", name,
				 detail ? " " : "", detail ? detail : "");
			goto out;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT note FROM activities WHERE customer_id = ?1 AND deleted = 0 "
				   "AND note IS NOT NULL ORDER BY occurred_at DESC", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, hit->id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		long at = ci_find(col_text(st, 0), needle);

		if (at >= 0) {
			excerpt(col_text(st, 0), at, ex, sizeof ex);
			snprintf(hit->matched, sizeof hit->matched, "activity %s", ex);
			goto out;
		}
	}
out:
	sqlite3_finalize(st);
}

static int hit_order(const void *a, const void *b)
{
	const struct search_hit *x = a, *y = b;

	if (x->name_match != y->name_match)
		return (int)y->name_match - (int)x->name_match;
	return strcmp(x->id, y->id);
}

static const char *const match_sql =
	"SELECT DISTINCT d.customer_id FROM search_index s JOIN search_docs d ON d.doc = s.rowid "
	"JOIN customers c ON c.id = d.customer_id "
	"WHERE search_index MATCH ?1 AND (c.deleted = 0 OR ?2) LIMIT ?3";

static const char *const like_sql =
	"SELECT DISTINCT d.customer_id FROM search_index s JOIN search_docs d ON d.doc = s.rowid "
	"JOIN customers c ON c.id = d.customer_id "
	"WHERE (s.name LIKE ?1 ESCAPE '\\' OR s.keys LIKE ?1 ESCAPE '\\' "
	"OR s.people LIKE ?1 ESCAPE '\\' OR s.notes LIKE ?1 ESCAPE '\\') "
	"AND (c.deleted = 0 OR ?2) LIMIT ?3";

/* Appends s as one FTS5 string ("..." with quotes doubled). */
static enum crm_err quote_term(struct crm_buf *b, const char *s)
{
	enum crm_err rc = crm_buf_addstr(b, "\"");

	for (const char *p = s; rc == CRM_OK && *p; p++)
		rc = crm_buf_add(b, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);
	if (rc == CRM_OK)
		rc = crm_buf_addstr(b, "\"");
	return rc;
}

/* Appends %needle% with LIKE's wildcards escaped. */
static enum crm_err like_pattern(struct crm_buf *b, const char *needle)
{
	enum crm_err rc = crm_buf_addstr(b, "%");

	for (const char *p = needle; rc == CRM_OK && *p; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			rc = crm_buf_addstr(b, "\\");
		if (rc == CRM_OK)
			rc = crm_buf_add(b, p, 1);
	}
	if (rc == CRM_OK)
		rc = crm_buf_addstr(b, "%");
	return rc;
}

/*
 * A query of one or two characters cannot be a trigram, but every place it
 * occurs starts one (the index pads each column with two spaces), so the
 * documents that contain it are those holding a trigram that begins with it.
 * The index's vocabulary lists those, in order: pat gets "t1" OR "t2" ...
 * *any is false when there is none. With more than MAX_TERMS, pat stays
 * empty and the caller scans with LIKE.
 */
static enum crm_err short_terms(sqlite3 *db, const char *needle, struct crm_buf *pat, bool *any,
				struct crm_error *err)
{
	char lo[16], hi[24];
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	size_t n = 0, i;
	int step;

	*any = false;
	/* The trigram tokenizer folds case; so must the bounds. */
	for (i = 0; needle[i] && i + 1 < sizeof lo; i++)
		lo[i] = (char)tolower((unsigned char)needle[i]);
	lo[i] = '\0';
	snprintf(hi, sizeof hi, "%s\xf4\x8f\xbf\xbf", lo); /* U+10FFFF sorts after any term */
	if (sqlite3_exec(db, "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab "
			     "USING fts5vocab(main, search_index, row)", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT term FROM temp.search_vocab WHERE term >= ?1 AND term < ?2",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = crm_fail(err, CRM_EDB, "cannot search: %s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, lo, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
	for (step = sqlite3_step(st); step == SQLITE_ROW; step = sqlite3_step(st)) {
		const char *term = col_text(st, 0);

		*any = true;
		if (++n > MAX_TERMS) {
			crm_buf_reset(pat);
			goto out;
		}
		if (n > 1)
			rc = crm_buf_addstr(pat, " OR ");
		if (rc == CRM_OK)
			rc = quote_term(pat, term ? term : "");
		if (rc != CRM_OK) {
			crm_buf_reset(pat);
			rc = CRM_OK;
			goto out;
		}
	}
	if (step != SQLITE_DONE)
		rc = crm_fail(err, CRM_EDB, "cannot search: %s", sqlite3_errmsg(db));
out:
	sqlite3_finalize(st);
	return rc;
}

/*
 * The MATCH (or LIKE) pattern for one needle into pat and the SQL that takes
 * it into *sql. *none is set when no document can contain the needle.
 */
static enum crm_err needle_pattern(sqlite3 *db, const char *needle, struct crm_buf *pat,
				   const char **sql, bool *none, struct crm_error *err)
{
	enum crm_err rc;

	*none = false;
	if (utf8_chars(needle) >= 3) {
		/* One FTS5 phrase: with the trigram tokenizer, a substring match. */
		*sql = match_sql;
		rc = quote_term(pat, needle);
	} else {
		bool any = false;

		rc = short_terms(db, needle, pat, &any, err);
		if (rc != CRM_OK)
			return rc;
		if (!any) {
			/* No trigram starts with it: nothing contains it. */
			*none = true;
			return CRM_OK;
		}
		*sql = pat->len ? match_sql : like_sql;
		if (!pat->len)
			rc = like_pattern(pat, needle);
	}
	if (rc != CRM_OK)
		rc = crm_fail(err, rc, "search text too long");
	return rc;
}

/*
 * For a text of several words that is not found as it stands ("华信 科技",
 * "acme london"): the MATCH pattern that wants every word in the same
 * document, into pat. *none when some word is in no document; pat stays
 * empty when a word is too short and common to be a term list (then the
 * words are not searched apart).
 */
static enum crm_err words_pattern(sqlite3 *db, const char *needle, struct crm_buf *pat,
				  char *first, size_t first_n, bool *none, struct crm_error *err)
{
	char words[NEEDLE_MAX];
	char *save = NULL;
	size_t nwords = 0;
	enum crm_err rc = CRM_OK;

	*none = false;
	first[0] = '\0';
	snprintf(words, sizeof words, "%s", needle);
	for (char *w = strtok_r(words, " \t", &save); w && rc == CRM_OK && !*none;
	     w = strtok_r(NULL, " \t", &save)) {
		struct crm_buf one;
		const char *sql = NULL;

		crm_buf_init(&one, PATTERN_MAX);
		rc = needle_pattern(db, w, &one, &sql, none, err);
		if (rc == CRM_OK && !*none && sql != match_sql) {
			/* A LIKE scan cannot be combined in a MATCH: give up splitting. */
			crm_buf_release(&one);
			crm_buf_reset(pat);
			return CRM_OK;
		}
		if (rc == CRM_OK && !*none) {
			if (nwords++ == 0)
				snprintf(first, first_n, "%s", w);
			rc = crm_buf_addstr(pat, nwords > 1 ? " AND (" : "(");
			if (rc == CRM_OK)
				rc = crm_buf_add(pat, one.data, one.len);
			if (rc == CRM_OK)
				rc = crm_buf_addstr(pat, ")");
			if (rc != CRM_OK)
				rc = crm_fail(err, rc, "search text too long");
		}
		crm_buf_release(&one);
	}
	if (rc == CRM_OK && nwords < 2)
		crm_buf_reset(pat);
	return rc;
}

/* Runs sql with pattern pat, appending up to limit customer ids to out. */
static enum crm_err run_query(sqlite3 *db, const char *sql, const struct crm_buf *pat,
			      bool with_deleted, size_t limit, struct search_result *out,
			      struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	int step;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = crm_fail(err, CRM_EDB, "cannot search: %s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, pat->data, (int)pat->len, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, with_deleted);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
	for (step = sqlite3_step(st); step == SQLITE_ROW && out->n < limit;
	     step = sqlite3_step(st)) {
		const char *id = col_text(st, 0);

		snprintf(out->hits[out->n].id, CRM_ID_SIZE, "%s", id ? id : "");
		out->n++;
	}
	if (step != SQLITE_DONE && step != SQLITE_ROW)
		rc = crm_fail(err, CRM_EDB, "search failed: %s", sqlite3_errmsg(db));
out:
	sqlite3_finalize(st);
	return rc;
}

enum crm_err search_run(sqlite3 *db, const char *text, bool with_deleted, size_t limit,
			struct search_result *out, struct crm_error *err)
{
	char needle[NEEDLE_MAX], first[NEEDLE_MAX];
	const char *explained;
	struct crm_buf pat;
	enum crm_err rc = CRM_OK;
	const char *sql = NULL;
	bool none = false;

	memset(out, 0, sizeof *out);
	crm_buf_init(&pat, PATTERN_MAX);
	if (!crm_utf8_valid(text, strlen(text))) {
		rc = crm_fail(err, CRM_EUTF8, "the search text is not valid UTF-8");
		goto out;
	}
	search_needle(text, needle, sizeof needle);
	explained = needle;
	if (needle[0] == '\0') {
		rc = crm_fail(err, CRM_EUSAGE, "nothing to search for: crm search TEXT");
		goto out;
	}
	out->hits = calloc(limit ? limit : 1, sizeof *out->hits);
	if (!out->hits) {
		rc = crm_fail(err, CRM_ENOMEM, "out of memory");
		goto out;
	}
	rc = needle_pattern(db, needle, &pat, &sql, &none, err);
	if (rc == CRM_OK && !none)
		rc = run_query(db, sql, &pat, with_deleted, limit, out, err);
	if (rc == CRM_OK && out->n == 0 && strchr(needle, ' ')) {
		crm_buf_reset(&pat);
		rc = words_pattern(db, needle, &pat, first, sizeof first, &none, err);
		if (rc == CRM_OK && !none && pat.len) {
			rc = run_query(db, match_sql, &pat, with_deleted, limit, out, err);
			explained = first;
		}
	}
	if (rc != CRM_OK)
		goto out;
	for (size_t i = 0; i < out->n; i++)
		explain(db, explained, &out->hits[i]);
	qsort(out->hits, out->n, sizeof *out->hits, hit_order);
out:
	crm_buf_release(&pat);
	if (rc != CRM_OK)
		search_result_release(out);
	return rc;
}

void search_result_release(struct search_result *r)
{
	free(r->hits);
	memset(r, 0, sizeof *r);
}

/* ---- the index's lazy rebuild ------------------------------------------ */

#define REBUILD_KEY "search_rebuild"

static enum crm_err index_exec(sqlite3 *db, const char *sql, struct crm_error *err)
{
	char *msg = NULL;
	enum crm_err rc = CRM_OK;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		rc = crm_fail(err, CRM_EDB, "search index: %s", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return rc;
}

/* Drops every search_* trigger (names from the schema itself). In the caller's transaction. */
static enum crm_err drop_triggers(sqlite3 *db, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (sqlite3_prepare_v2(db,
			       "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name GLOB 'search_*'",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = crm_fail(err, CRM_EDB, "search index: %s", sqlite3_errmsg(db));
		goto out;
	}
	while (rc == CRM_OK && sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);

		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **grown = realloc(names, ncap * sizeof *names);

			if (!grown) {
				rc = crm_fail(err, CRM_ENOMEM, "out of memory");
				break;
			}
			names = grown;
			cap = ncap;
		}
		names[n] = strdup(name ? name : "");
		if (!names[n])
			rc = crm_fail(err, CRM_ENOMEM, "out of memory");
		else
			n++;
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < n && rc == CRM_OK; i++) {
		char sql[256];
		int len = snprintf(sql, sizeof sql, "DROP TRIGGER IF EXISTS \"%s\"", names[i]);

		if (len < 0 || (size_t)len >= sizeof sql || strchr(names[i], '"'))
			rc = crm_fail(err, CRM_EDB, "search index: odd trigger name");
		else
			rc = index_exec(db, sql, err);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* The embedded migration that defines the search index, or NULL. */
static const char *index_migration_sql(void)
{
	for (size_t i = 0; i < schema_migrations_count; i++)
		if (strstr(schema_migrations[i].name, "_search"))
			return schema_migrations[i].sql;
	return NULL;
}

static bool flag_set(struct replica *rep)
{
	char *v = NULL;
	bool set;

	if (sync_state_get(rep->sync, REBUILD_KEY, &v, NULL) != CRM_OK)
		return false;
	set = v && strcmp(v, "1") == 0;
	free(v);
	return set;
}

enum crm_err search_index_suspend(struct replica *rep, struct crm_error *err)
{
	enum crm_err rc;

	if (flag_set(rep) || !index_migration_sql())
		return CRM_OK;
	rc = drop_triggers(rep->db, err);
	if (rc == CRM_OK)
		rc = sync_state_set(rep->sync, REBUILD_KEY, "1", err);
	return rc;
}

bool search_index_stale(struct replica *rep, int64_t *records)
{
	sqlite3_stmt *st = NULL;
	bool stale = flag_set(rep) && index_migration_sql();

	if (records)
		*records = 0;
	if (!stale || !records)
		return stale;
	if (sqlite3_prepare_v2(rep->db,
			       "SELECT (SELECT count(*) FROM customers) + (SELECT count(*) FROM "
			       "activities WHERE deleted = 0 AND note IS NOT NULL AND customer_id IS NOT NULL)",
			       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		*records = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return stale;
}

enum crm_err search_index_ensure(struct replica *rep, bool *rebuilt, struct crm_error *err)
{
	const char *sql = index_migration_sql();
	enum crm_err rc;

	if (rebuilt)
		*rebuilt = false;
	if (!sql || !flag_set(rep))
		return CRM_OK;
	rc = replica_begin(rep, err);
	if (rc != CRM_OK)
		return rc;
	if (!flag_set(rep)) /* another command built it while we waited for the lock */
		return replica_finish(rep, CRM_OK, err);
	rc = drop_triggers(rep->db, err);
	if (rc == CRM_OK)
		rc = index_exec(rep->db, "DROP TABLE IF EXISTS search_index; DROP TABLE IF EXISTS search_docs;",
				err);
	if (rc == CRM_OK)
		rc = index_exec(rep->db, sql, err);
	if (rc == CRM_OK)
		rc = sync_state_set(rep->sync, REBUILD_KEY, "0", err);
	rc = replica_finish(rep, rc, err);
	if (rc == CRM_OK && rebuilt)
		*rebuilt = true;
	return rc;
}
