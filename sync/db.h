/*
 * db: the internals of struct sync_db shared by the sync modules.
 *
 * struct sync_db holds the caller's sqlite3 handle, this replica's site id,
 * the HLC, the local sequence counter, the column lists of the replicated
 * tables (read from PRAGMA table_info at open) and the prepared statements
 * every module reuses. Nothing here is public: sync.h is the contract.
 * Internal non-static functions carry the db_ prefix.
 */
#ifndef SYNC_DB_H
#define SYNC_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "sync.h"

/* Column affinity as declared, for the codec's type checks. */
enum db_affinity { DB_AFF_ANY, DB_AFF_INT, DB_AFF_REAL, DB_AFF_TEXT };

struct db_col {
	char *name;
	enum db_affinity aff;
	bool notnull;
	bool quiet;           /* LWW without conflict records */
	sqlite3_stmt *get;    /* SELECT "col" FROM t WHERE pk = ?1, prepared on demand */
};

/* A prepared row write for one set of columns (bit i = cols[i]). */
struct db_rowstmt {
	uint64_t mask;
	bool insert;          /* INSERT (row absent) or UPDATE */
	size_t nrows;         /* rows one INSERT writes (1 for an UPDATE) */
	sqlite3_stmt *st;
};

/* Column sets per table whose new rows sync_apply inserts several at a time. */
#define DB_MULTI_MASKS 8

struct db_table {
	char *name;
	char *pk;             /* the single primary-key column (e.g. id) */
	struct db_col *cols;  /* every column but the primary key, in table order */
	size_t ncols;
	sqlite3_stmt *insert_pk; /* INSERT OR IGNORE INTO t(pk) VALUES(?1) */
	sqlite3_stmt *select_all; /* SELECT cols... FROM t WHERE pk = ?1 */
	struct db_rowstmt *rowst; /* cache of row writes by column set */
	size_t nrowst, caprowst;
	bool others;          /* sync_apply: the table has triggers besides sync_* */
	/* column sets that sync_apply inserts several rows at a time (bounded: statement cache) */
	uint64_t multi[DB_MULTI_MASKS];
	size_t nmulti;
};

/* sync_apply inserts new rows, and their clock rows, up to 2^DB_CLOCK_NEW_LOG at a time. */
#define DB_CLOCK_NEW_LOG 5

struct sync_db {
	sqlite3 *db;
	char site[37];
	sync_hlc last;          /* last HLC issued or observed */
	int64_t max_skew_ms;
	int64_t seq;            /* last local sequence number used */
	int64_t acked;          /* outbox acknowledged up to here */
	/*
	 * No clock row of this site lies in (acked, outbox_clean]: the last outbox
	 * walk, run on committed data, found none up to the sequence then in use.
	 * Later local edits get larger sequences, so the next walk starts here and
	 * does not read again every pulled row (0: unknown).
	 */
	int64_t outbox_clean;
	bool fresh;             /* counters valid for the current transaction */
	bool capture;           /* capture wanted (sync_capture_set) */
	bool applying;          /* inside sync_apply / eviction: capture off */
	struct db_table *tables;
	size_t ntables;
	/* shared statements */
	sqlite3_stmt *clock_row;   /* SELECT col,hlc,site,seq,base_hlc,base_site FROM sync_clock WHERE tbl=?1 AND rid=?2 */
	sqlite3_stmt *clock_put;   /* INSERT OR REPLACE INTO sync_clock VALUES (?1..?8) */
	sqlite3_stmt *state_get;
	sqlite3_stmt *state_put;
	sqlite3_stmt *max_seq;     /* SELECT seq, hlc FROM sync_clock ORDER BY seq DESC LIMIT 1 */
	sqlite3_stmt *conflict_put;
	/*
	 * INSERT INTO sync_clock of 2^k clock rows of new rows at once (k =
	 * 1..DB_CLOCK_NEW_LOG), prepared on demand (db_clock_new).
	 */
	sqlite3_stmt *clock_new[DB_CLOCK_NEW_LOG + 1];
};

/* One clock row as read from sync_clock. */
struct db_clock {
	char col[128];          /* "" = the whole row as inserted */
	bool col_too_long;
	sync_hlc hlc;
	char site[37];
	int64_t seq;
	sync_hlc base_hlc;
	char base_site[37];
};

/* Columns besides the key a replicated table may have (row writes use a 64-bit column set). */
#define DB_MAX_COLS 64

/* Reserved sync_state keys start with this. */
#define DB_STATE_PREFIX "sync."

/* Finds a replicated table by name, NULL if unknown. */
struct db_table *db_table_find(struct sync_db *s, const char *name);

/* Index of column name in t->cols, or -1. */
/*
 * The value of column ci of row rid of t in *v (NULL and *found false when the
 * row is absent). The statement is prepared once per column and kept.
 */
enum crm_err db_col_value(struct sync_db *s, struct db_table *t, int ci, const char *rid,
			  struct sync_value *v, bool *found, struct crm_error *err);

/* db_col_find, trying column hint first (fields usually come in table order). */
int db_col_find_from(const struct db_table *t, const char *name, int hint);
int db_col_find(const struct db_table *t, const char *name);

/* Next local sequence number (reloads the counters at a new transaction). */
/*
 * The largest sequence a committed transaction can have used (clock rows,
 * the saved floor, the acknowledgement). Meaningful outside a transaction.
 */
int64_t db_committed_seq(struct sync_db *s);
int64_t db_next_seq(struct sync_db *s);

/*
 * Makes the counters reflect the database (another connection may have
 * written). Call it only inside a write transaction: the counters then stay
 * valid until that transaction commits or rolls back (hooks clear s->fresh).
 */
void db_refresh(struct sync_db *s);

/* The acknowledged outbox sequence as stored (for readers outside a write transaction). */
int64_t db_acked(struct sync_db *s);

/* Maps a SQLite failure into err; returns CRM_EDB (CRM_EBUSY for busy/locked). */
enum crm_err db_fail(struct sync_db *s, struct crm_error *err, const char *what);

/* Runs a statement without results (BEGIN, SAVEPOINT ...). */
enum crm_err db_exec(struct sync_db *s, const char *sql, struct crm_error *err);

/* Prepares a persistent statement. */
enum crm_err db_prepare(struct sync_db *s, const char *sql, sqlite3_stmt **st,
			struct crm_error *err);

/*
 * Loads the clock rows of one row into *out (malloc()ed array, caller frees),
 * *n entries. CRM_OK with *n == 0 when there are none.
 */
enum crm_err db_clock_load(struct sync_db *s, const char *tbl, const char *rid,
			   struct db_clock **out, size_t *n, struct crm_error *err);

/* The effective version of column col: its own clock row, else the row's "" row, else NULL. */
const struct db_clock *db_clock_effective(const struct db_clock *rows, size_t n, const char *col);

/* Writes one clock row with a new sequence number. */
enum crm_err db_clock_put(struct sync_db *s, const char *tbl, const char *rid, const char *col,
			  sync_hlc hlc, const char *site, sync_hlc base_hlc, const char *base_site,
			  struct crm_error *err);

/* Compares versions: hlc first, then site bytes. */
int db_version_cmp(sync_hlc ah, const char *as, sync_hlc bh, const char *bs);

/* Reads a column value into v (text copied). CRM_ENOMEM on failure. */
enum crm_err db_value_from_column(sqlite3_stmt *st, int i, struct sync_value *v);

/* Binds v to parameter i. */
int db_value_bind(sqlite3_stmt *st, int i, const struct sync_value *v);

/* Frees a value's text. */
void db_value_release(struct sync_value *v);

/* Saves the HLC and sequence floors so a restart never goes back (after evictions, applies). */
enum crm_err db_save_floors(struct sync_db *s, struct crm_error *err);

/*
 * Writes n = 2^k clock rows of new rows of table tbl (1 <= k <=
 * DB_CLOCK_NEW_LOG) with one plain INSERT, each with the next sequence
 * number in order: row rid, column col ("" for a whole row) at (hlc, site)
 * over (base_hlc, base_site). Fails (SQLite's constraint error included) if
 * one of them is there already; the caller then writes them with db_clock_put.
 */
struct db_clock_new {
	const char *rid;
	const char *col;
	sync_hlc hlc;
	const char *site;
	sync_hlc base_hlc;
	const char *base_site;
};
enum crm_err db_clock_new(struct sync_db *s, const char *tbl, const struct db_clock_new *rows,
			  size_t n, struct crm_error *err);

#endif
