-- Server version 3: de-duplication of customers (查重, 撞单).
-- The review queue of likely pairs, the log of every merge with what is needed
-- to undo it exactly (children moved, fields filled, the tombstone's previous
-- state), aliases from merged-away ids to their survivors, the notices owed
-- to reps, per-device evictions an unmerge owes, and the customers changed by
-- admin commands (so a running `serve` refreshes its match index).

-- One row per unordered pair (a < b). dismissed: never proposed again.
CREATE TABLE srv_dup_pairs (
  a          TEXT NOT NULL,
  b          TEXT NOT NULL,
  score      REAL NOT NULL,
  reasons    TEXT NOT NULL,
  status     TEXT NOT NULL CHECK (status IN ('open', 'dismissed', 'merged')),
  created_at INTEGER NOT NULL,
  decided_at INTEGER,
  decided_by TEXT,
  PRIMARY KEY (a, b),
  CHECK (a < b)
) WITHOUT ROWID;
CREATE INDEX srv_dup_pairs_status ON srv_dup_pairs(status);
CREATE INDEX srv_dup_pairs_b ON srv_dup_pairs(b);

-- Every merge; undone_at set once `dup unmerge` reversed it.
CREATE TABLE srv_dup_merges (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  survivor       TEXT NOT NULL,
  merged         TEXT NOT NULL,
  survivor_owner TEXT,
  merged_owner   TEXT,
  how            TEXT NOT NULL,          -- sync, review, scan, import
  by_user        TEXT,
  score          REAL,
  reasons        TEXT,
  prev_deleted   INTEGER NOT NULL,       -- the merged row before it became a tombstone
  prev_merged_into TEXT,
  at             INTEGER NOT NULL,
  undone_at      INTEGER,
  undone_by      TEXT
);
CREATE INDEX srv_dup_merges_merged ON srv_dup_merges(merged);
CREATE INDEX srv_dup_merges_survivor ON srv_dup_merges(survivor);

-- Child rows a merge moved from the merged customer to the survivor.
CREATE TABLE srv_dup_moves (
  merge_id INTEGER NOT NULL REFERENCES srv_dup_merges(id),
  tbl      TEXT NOT NULL,
  row_id   TEXT NOT NULL,
  PRIMARY KEY (merge_id, tbl, row_id)
) WITHOUT ROWID;

-- Empty fields of the survivor a merge filled, with the version it wrote
-- (an unmerge empties them again only if nobody edited them since).
CREATE TABLE srv_dup_fills (
  merge_id INTEGER NOT NULL REFERENCES srv_dup_merges(id),
  col      TEXT NOT NULL,
  hlc      TEXT NOT NULL,
  PRIMARY KEY (merge_id, col)
) WITHOUT ROWID;

-- A change that still names a merged-away customer lands on its survivor.
CREATE TABLE srv_dup_aliases (
  old_id   TEXT PRIMARY KEY NOT NULL,
  new_id   TEXT NOT NULL,
  merge_id INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX srv_dup_aliases_new ON srv_dup_aliases(new_id);

-- Messages for a user's next sync ("your customer X was merged into Y").
CREATE TABLE srv_dup_notices (
  seq  INTEGER PRIMARY KEY AUTOINCREMENT,
  user TEXT NOT NULL,
  at   INTEGER NOT NULL,
  text TEXT NOT NULL
);
CREATE INDEX srv_dup_notices_user ON srv_dup_notices(user, seq);
CREATE TABLE srv_dup_notice_sent (
  device_id TEXT PRIMARY KEY NOT NULL,
  upto      INTEGER NOT NULL
) WITHOUT ROWID;

-- Rows a device must drop (children an unmerge took back out of its scope).
CREATE TABLE srv_dup_evict (
  device_id TEXT NOT NULL,
  tbl       TEXT NOT NULL,
  row_id    TEXT NOT NULL,
  PRIMARY KEY (device_id, tbl, row_id)
) WITHOUT ROWID;

-- Customers written by admin commands (import, dup ...): a running serve
-- re-reads them into its match index.
CREATE TABLE srv_dup_touched (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  customer_id TEXT NOT NULL
);
