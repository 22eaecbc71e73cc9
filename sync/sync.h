/*
 * sync: the public face of the generic replication core.
 *
 * It knows tables, rows and columns, never customers. A database that takes
 * part in sync is opened with sync_open(), which installs field-level change
 * capture (SQLite triggers generated from PRAGMA table_info) for the tables it
 * is given. Local writes through the ordinary SQL of the app are then captured
 * in the same transaction; remote change sets are merged with sync_apply()
 * (per-field last-writer-wins on (HLC, site), conflicts kept, idempotent,
 * order-independent). See docs/sync.md for the model.
 *
 * Ownership: every struct filled by a sync_* call is owned by the caller and
 * released with its *_release() function; strings inside are malloc()ed.
 * The sqlite3 handle stays the caller's and must outlive the struct sync_db.
 */
#ifndef SYNC_SYNC_H
#define SYNC_SYNC_H

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crm_buf.h"
#include "crm_err.h"

/* ---- clocks ----------------------------------------------------------- */

/* Hybrid logical clock: 48 bits of UTC milliseconds, 16 bits of counter. */
typedef uint64_t sync_hlc;
#define SYNC_HLC_MS(h) ((int64_t)((h) >> 16))
#define SYNC_HLC_STR_MAX 21 /* decimal digits of a uint64 + NUL */

/* Decimal text form, as on the wire (64-bit integers do not survive JSON numbers). */
void sync_hlc_format(sync_hlc h, char out[SYNC_HLC_STR_MAX]);
enum crm_err sync_hlc_parse(const char *s, sync_hlc *out);

/* ---- opening ---------------------------------------------------------- */

/* A replicated table, as the schema marks it. */
struct sync_table_spec {
	const char *name;
	/* NULL-terminated columns merged by LWW without conflict records
	 * (bookkeeping such as updated_at); may be NULL. */
	const char *const *quiet;
};

struct sync_options {
	int64_t max_skew_ms; /* remote clocks further ahead of ours are refused (0: 5 minutes) */
};

struct sync_db; /* opaque: handle, site id, clock, prepared statements */

/*
 * Prepares db for sync: creates the sync tables if missing (clock table,
 * state, conflicts, aliases), makes this replica's site id on first open,
 * restores the HLC so it never goes backwards across restarts, registers the
 * SQL functions the triggers call, and installs or upgrades the capture
 * triggers of every table in tables[] from its live columns (a column added
 * by a later migration is captured from then on). Run it after the schema
 * migrations; it is idempotent. opt may be NULL. *out is freed with sync_close().
 * It also sets PRAGMA temp_store = MEMORY unless the caller chose one (the
 * triggers give every write a statement journal; on disk it doubled the cost
 * of capture), and installs the connection's commit and rollback hooks (do
 * not replace them). After sync_close the triggers' SQL functions are gone:
 * writes to replicated tables fail until the next sync_open, never uncaptured.
 */
enum crm_err sync_open(sqlite3 *db, const struct sync_table_spec *tables, size_t ntables,
		       const struct sync_options *opt, struct sync_db **out, struct crm_error *err);
void sync_close(struct sync_db *s);

/* This replica's site id (UUID text, owned by s). */
const char *sync_site_id(const struct sync_db *s);

/* The next local HLC (also what the triggers use). */
sync_hlc sync_hlc_next(struct sync_db *s);

/*
 * Merges a remote clock into ours. CRM_ECLOCK if remote is more than
 * max_skew_ms ahead of crm_now_ms() (it would win every conflict forever).
 */
enum crm_err sync_hlc_observe(struct sync_db *s, sync_hlc remote, struct crm_error *err);

/* Turns capture off (remote applies, eviction) and back on. On by default. */
void sync_capture_set(struct sync_db *s, bool on);

/*
 * Small persistent key/value state kept in the sync tables (the client's pull
 * cursor, the server it syncs with ...). Written inside the caller's
 * transaction if one is open, so a page and its cursor commit together.
 * sync_state_get: CRM_ENOTFOUND if key was never set; *out malloc()ed, caller frees.
 */
enum crm_err sync_state_get(struct sync_db *s, const char *key, char **out, struct crm_error *err);
enum crm_err sync_state_set(struct sync_db *s, const char *key, const char *value,
			    struct crm_error *err);

/* ---- change sets ------------------------------------------------------ */

enum sync_vtype { SYNC_NULL, SYNC_INT, SYNC_REAL, SYNC_TEXT };

struct sync_value {
	enum sync_vtype type;
	int64_t i;
	double r;
	char *s;    /* SYNC_TEXT: malloc()ed, NUL-terminated */
};

/* One field of a row at one version. */
struct sync_field {
	char *col;
	struct sync_value v;
	sync_hlc hlc;            /* version of this value */
	char site[37];           /* site that wrote it */
	sync_hlc base_hlc;       /* version the edit was made on (0: none, a new row) */
	char base_site[37];
};

/* The changed fields of one row. */
struct sync_row {
	char *table;
	char *id;
	struct sync_field *fields;
	size_t nfields, cap;
};

struct sync_changeset {
	struct sync_row *rows;
	size_t nrows, cap;
	size_t nfields; /* total over rows */
};

void sync_changeset_init(struct sync_changeset *cs);
void sync_changeset_release(struct sync_changeset *cs);

/* Appends a row (table and id copied) and returns it, or NULL without memory. */
struct sync_row *sync_changeset_add_row(struct sync_changeset *cs, const char *table, const char *id);

/* Appends a field to row (col and a text value copied). CRM_ENOMEM on failure. */
enum crm_err sync_row_add_field(struct sync_changeset *cs, struct sync_row *row,
				const struct sync_field *f);

/*
 * sync_row_add_field without copying the value: col is copied, a text value's
 * f->v.s is taken over (the set frees it; the caller must not). On failure
 * (CRM_ENOMEM) f->v.s is freed too, so it is never leaked nor double-owned.
 */
enum crm_err sync_row_take_field(struct sync_changeset *cs, struct sync_row *row,
				 struct sync_field *f);

/* ---- outbox (client side) --------------------------------------------- */

/*
 * Collects local changes not yet acknowledged, oldest first, at most
 * max_fields fields (whole rows are never split across batches unless one row
 * alone exceeds it). *upto gets the local sequence the batch reaches (pass it to
 * sync_outbox_ack once the server has receipted the batch); *more whether
 * changes remain after it.
 */
enum crm_err sync_outbox(struct sync_db *s, size_t max_fields, struct sync_changeset *out,
			 int64_t *upto, bool *more, struct crm_error *err);

/*
 * sync_outbox as if everything up to sequence after were acknowledged: the
 * batch after one that is on the wire and not acknowledged yet. Writes
 * nothing (after <= the acknowledged point: the same as sync_outbox).
 */
enum crm_err sync_outbox_after(struct sync_db *s, int64_t after, size_t max_fields,
			       struct sync_changeset *out, int64_t *upto, bool *more,
			       struct crm_error *err);

/* Marks local changes up to sequence upto as acknowledged (idempotent). */
enum crm_err sync_outbox_ack(struct sync_db *s, int64_t upto, struct crm_error *err);

/* Number of fields waiting to be pushed. */
enum crm_err sync_outbox_count(struct sync_db *s, int64_t *count, struct crm_error *err);

/* ---- change feed (server side) ---------------------------------------- */

/* Decides whether a reader may receive a row; ctx is the caller's. */
typedef bool (*sync_row_filter)(void *ctx, const char *table, const char *id);

/*
 * Collects the fields whose local sequence is past cursor, in sequence order,
 * at most max_fields, keeping only rows filter accepts (filter NULL: all).
 * Fields written by skip_site (the reader's own, already there) are left out
 * unless skip_site is NULL. *next gets the cursor to resume from; *more
 * whether fields remain past it. Cursors are this database's own sequence
 * numbers, never timestamps.
 */
enum crm_err sync_feed(struct sync_db *s, int64_t cursor, size_t max_fields,
		       sync_row_filter filter, void *ctx, const char *skip_site,
		       struct sync_changeset *out, int64_t *next, bool *more,
		       struct crm_error *err);

/* Every field of one row at its current version (for a row entering a scope). */
enum crm_err sync_row_snapshot(struct sync_db *s, const char *table, const char *id,
			       struct sync_changeset *out, struct crm_error *err);

/* ---- applying --------------------------------------------------------- */

/*
 * Per-field veto, called by sync_apply before a remote field is merged: the
 * server checks table, column, type, size and permission here. Return CRM_OK
 * to merge it, anything else to refuse it (err says why).
 */
typedef enum crm_err (*sync_field_check)(void *ctx, const struct sync_row *row,
					 const struct sync_field *f, struct crm_error *err);

struct sync_refusal {
	char *table, *id, *col;
	enum crm_err code;
	char *reason;
};

struct sync_apply_result {
	size_t applied;    /* fields that won and were written */
	size_t ignored;    /* fields already there or older (idempotence, LWW losers) */
	size_t conflicts;  /* conflicts recorded by this apply */
	struct sync_refusal *refused; /* fields the check vetoed */
	size_t nrefused;
};

void sync_apply_result_release(struct sync_apply_result *r);

enum sync_apply_flags {
	/*
	 * The caller holds a transaction; do not open one (nor a savepoint): when
	 * sync_apply fails, part of cs may be written, and the caller must roll
	 * its transaction back.
	 */
	SYNC_APPLY_IN_TXN = 1 << 0,
	/*
	 * cs is a page of the hub's feed (a client pulling). The hub already
	 * judged every version it serves against every other it received, and
	 * recorded the conflicts; a field it sends may rest on a version this
	 * replica never saw (two edits in a row elsewhere), which the base rule
	 * alone would flag. So a conflict is recorded only against a local edit
	 * not yet acknowledged (one the hub has not seen). Merge (LWW) is the same.
	 */
	SYNC_APPLY_FROM_HUB = 1 << 1
};

/*
 * Merges a remote change set: one transaction (unless SYNC_APPLY_IN_TXN),
 * capture off, per-field LWW on (HLC, site). A field whose base is not the
 * version in place (and that is not a later edit from the same site) is a
 * conflict: the LWW winner goes in place, the loser is kept in the conflicts
 * table. Applying the same set twice changes nothing; sets commute. Remote
 * clocks are observed (CRM_ECLOCK refuses the set if one is too far ahead).
 * check (may be NULL) can veto fields. An unknown table or column is refused
 * per field (listed in res->refused), never a crash.
 */
enum crm_err sync_apply(struct sync_db *s, const struct sync_changeset *cs, unsigned flags,
			sync_field_check check, void *ctx, struct sync_apply_result *res,
			struct crm_error *err);

/* ---- conflicts -------------------------------------------------------- */

struct sync_conflict {
	char id[37];             /* deterministic: the same conflict has the same id everywhere */
	char *table, *row_id, *col;
	struct sync_value loser;
	sync_hlc loser_hlc;
	char loser_site[37];
	struct sync_value winner;
	sync_hlc winner_hlc;
	char winner_site[37];
	int64_t detected_at;     /* UTC ms */
	int64_t resolved_at;     /* 0 while open */
};

void sync_conflicts_release(struct sync_conflict *list, size_t n);

/* Lists conflicts (open only unless all), newest first. *list is freed with sync_conflicts_release. */
enum crm_err sync_conflicts_list(struct sync_db *s, bool all, struct sync_conflict **list,
				 size_t *n, struct crm_error *err);

/* Stores a conflict learned from elsewhere (the server); a known id is left as is. */
enum crm_err sync_conflict_record(struct sync_db *s, const struct sync_conflict *c,
				  struct crm_error *err);

/*
 * Resolves conflict id. keep_loser writes the losing value back as a new,
 * captured local edit (it syncs like any other edit); otherwise the winner
 * stays. Either way the conflict is marked resolved.
 */
enum crm_err sync_conflict_resolve(struct sync_db *s, const char *id, bool keep_loser,
				   struct crm_error *err);

/* ---- eviction --------------------------------------------------------- */

/* Removes a row and its clocks with capture off: not a deletion, not replicated. */
enum crm_err sync_evict_row(struct sync_db *s, const char *table, const char *id,
			    struct crm_error *err);

/* ---- wire codec ------------------------------------------------------- */

/*
 * JSON form of a change set (cJSON; HLCs and 64-bit integers as strings).
 * sync_changeset_to_json returns a new cJSON array owned by the caller
 * (cJSON_Delete), NULL without memory.
 */
cJSON *sync_changeset_to_json(const struct sync_changeset *cs);

/*
 * The same JSON text as cJSON_PrintUnformatted(sync_changeset_to_json(cs)),
 * byte for byte, written straight into out (appended) without building a
 * tree. CRM_ETOOBIG past out's max, CRM_ENOMEM without memory (out then holds
 * a partial text the caller discards).
 */
enum crm_err sync_changeset_write_json(const struct sync_changeset *cs, struct crm_buf *out);

/*
 * The same text as a cJSON_Raw node (caller owns, cJSON_Delete), NULL without
 * memory: for a change set that goes into a larger JSON object only to be
 * printed (a server's pull page), at a fraction of sync_changeset_to_json's
 * cost. The node has no children to read: decode the printed text instead.
 */
cJSON *sync_changeset_to_json_raw(const struct sync_changeset *cs);

/*
 * Reads a change set from JSON. With s not NULL, each value is checked against
 * its column's declared type in s's database, and unknown tables or columns are
 * errors (CRM_EFORMAT, message names them). Malformed input gives CRM_EFORMAT,
 * never a crash. On error *out is left empty.
 */
enum crm_err sync_changeset_from_json(const cJSON *json, struct sync_db *s,
				      struct sync_changeset *out, struct crm_error *err);

/*
 * cJSON_ParseWithLength(text, n) for a request object, cheaper for a big
 * array: the elements of its first member named key, when that is a
 * non-empty array of strict JSON, are the same cJSON nodes cJSON would make
 * but carved from *arena (the array node is flagged cJSON_IsReference, so
 * cJSON_Delete leaves them). Read them; never detach, delete or add to them.
 * Returns what cJSON_ParseWithLength would (NULL: not JSON). Free the tree
 * with cJSON_Delete, then *arena with sync_json_arena_free (*arena is NULL
 * when nothing was packed).
 */
struct sync_json_arena;
cJSON *sync_json_parse_packed(const char *text, size_t n, const char *key,
			      struct sync_json_arena **arena);
void sync_json_arena_free(struct sync_json_arena *a);

/* zlib deflate (RFC 1950) of n bytes into out. */
enum crm_err sync_deflate(const void *in, size_t n, struct crm_buf *out, struct crm_error *err);

/*
 * zlib inflate with hard caps: more than max_out bytes of output, or an output
 * more than max_ratio times the input, fails with CRM_ETOOBIG (a zip bomb);
 * corrupt input with CRM_EFORMAT.
 */
enum crm_err sync_inflate(const void *in, size_t n, size_t max_out, size_t max_ratio,
			  struct crm_buf *out, struct crm_error *err);

#endif
