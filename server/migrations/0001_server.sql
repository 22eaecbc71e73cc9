-- Server version 1: the tables only crm-server has (never replicated).
-- Users and their per-device bearer tokens (only a hash of each token is
-- kept), the batches already applied (idempotent replays), what each device
-- has been given (partial replication), conflicts in the order the server
-- recorded them, and every change of a customer's owner.

CREATE TABLE srv_users (
  name       TEXT PRIMARY KEY NOT NULL,
  role       TEXT NOT NULL CHECK (role IN ('rep', 'manager', 'admin')),
  team       TEXT,
  pwhash     TEXT NOT NULL,            -- crypto_pwhash_str (Argon2id)
  disabled   INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  created_at INTEGER NOT NULL
);

CREATE TABLE srv_devices (
  id         TEXT PRIMARY KEY NOT NULL, -- UUIDv7, made at login
  user       TEXT NOT NULL REFERENCES srv_users(name),
  name       TEXT NOT NULL,             -- what the rep called the laptop
  token_hash BLOB NOT NULL UNIQUE,      -- crypto_generichash of the token
  site       TEXT,                      -- the replica's site id, learned at first sync
  created_at INTEGER NOT NULL,
  last_seen  INTEGER,
  revoked_at INTEGER,
  -- Bookkeeping acknowledged by the device: every response that hands out
  -- scope changes or conflicts gets a new generation (gen); the device sends
  -- back the last one it committed, and anything newer is sent again.
  gen               INTEGER NOT NULL DEFAULT 0,
  conflict_sent     INTEGER NOT NULL DEFAULT 0, -- srv_conflicts.seq handed out up to ...
  conflict_sent_gen INTEGER NOT NULL DEFAULT 0, -- ... in this generation
  conflict_acked    INTEGER NOT NULL DEFAULT 0  -- srv_conflicts.seq the device has
);
CREATE INDEX srv_devices_user ON srv_devices(user);

-- A batch id seen before gets the stored receipts back and is not applied again.
CREATE TABLE srv_batches (
  device_id  TEXT NOT NULL,
  batch_id   TEXT NOT NULL,
  receipts   TEXT NOT NULL,             -- the JSON returned the first time
  created_at INTEGER NOT NULL,
  PRIMARY KEY (device_id, batch_id)
) WITHOUT ROWID;

-- Customers a device was given (in_scope 1) or told to evict (0), and in
-- which scope generation; entries past the generation the device acknowledged
-- are sent again (a lost response loses nothing).
CREATE TABLE srv_scope (
  device_id   TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  in_scope    INTEGER NOT NULL,
  gen         INTEGER NOT NULL,
  PRIMARY KEY (device_id, customer_id)
) WITHOUT ROWID;

-- Conflicts in the order the server recorded them (sync keeps their values);
-- every device whose scope holds the row is sent each one once acknowledged.
CREATE TABLE srv_conflicts (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  conflict_id TEXT NOT NULL UNIQUE,
  tbl         TEXT NOT NULL,
  row_id      TEXT NOT NULL,
  customer_id TEXT,
  user        TEXT,                     -- who pushed the change that collided
  device_id   TEXT,
  at          INTEGER NOT NULL,
  body        TEXT NOT NULL             -- the conflict as sent to devices (JSON)
);

-- Every change of a customer's owner (created, assigned, claimed ...).
CREATE TABLE srv_ownership (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  customer_id TEXT NOT NULL,
  old_owner   TEXT,
  new_owner   TEXT,
  by_user     TEXT,
  reason      TEXT NOT NULL,
  at          INTEGER NOT NULL
);
CREATE INDEX srv_ownership_customer ON srv_ownership(customer_id);
