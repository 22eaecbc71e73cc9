-- Version 1: the replicated business tables.
-- Every replicated table has id (UUIDv7), created_at, updated_at (UTC ms) and
-- deleted (a tombstone merged like any other field). Columns are nullable on
-- purpose: with field-level merge a row can arrive one field at a time, so the
-- application layer (schema/tables.c) enforces required fields, not SQL.
-- CHECKs only keep impossible values out (NULL passes a CHECK).

CREATE TABLE customers (
  id          TEXT PRIMARY KEY NOT NULL,
  created_at  INTEGER NOT NULL DEFAULT 0,
  updated_at  INTEGER NOT NULL DEFAULT 0,
  deleted     INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  kind        TEXT CHECK (kind IN ('company', 'person')),
  name        TEXT,
  uscc        TEXT,
  id_number   TEXT,
  birth_date  TEXT,
  phone       TEXT,
  email       TEXT,
  address     TEXT,
  city        TEXT,
  region      TEXT,
  industry    TEXT,
  source      TEXT,
  stage       TEXT CHECK (stage IN ('lead', 'prospect', 'customer', 'loyal', 'churned')),
  tier        TEXT CHECK (tier IN ('A', 'B', 'C')),
  owner       TEXT,
  notes       TEXT,
  ext_ref     TEXT,
  merged_into TEXT
);
CREATE INDEX customers_name ON customers(name);
CREATE INDEX customers_phone ON customers(phone);
CREATE INDEX customers_email ON customers(email);
CREATE INDEX customers_uscc ON customers(uscc);
CREATE INDEX customers_ext_ref ON customers(ext_ref);
CREATE INDEX customers_owner ON customers(owner);

CREATE TABLE contacts (
  id          TEXT PRIMARY KEY NOT NULL,
  created_at  INTEGER NOT NULL DEFAULT 0,
  updated_at  INTEGER NOT NULL DEFAULT 0,
  deleted     INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  customer_id TEXT,
  name        TEXT,
  title       TEXT,
  phone       TEXT,
  email       TEXT,
  wechat      TEXT,
  notes       TEXT
);
CREATE INDEX contacts_customer ON contacts(customer_id);

CREATE TABLE activities (
  id           TEXT PRIMARY KEY NOT NULL,
  created_at   INTEGER NOT NULL DEFAULT 0,
  updated_at   INTEGER NOT NULL DEFAULT 0,
  deleted      INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  customer_id  TEXT,
  kind         TEXT CHECK (kind IN ('visit', 'call', 'meeting', 'email', 'note')),
  occurred_at  INTEGER,
  author       TEXT,
  note         TEXT,
  outcome      TEXT,
  next_step    TEXT,
  next_at      INTEGER,
  satisfaction INTEGER CHECK (satisfaction BETWEEN 1 AND 5),
  latitude     REAL CHECK (latitude BETWEEN -90 AND 90),
  longitude    REAL CHECK (longitude BETWEEN -180 AND 180)
);
CREATE INDEX activities_customer ON activities(customer_id, occurred_at);
CREATE INDEX activities_next ON activities(next_at);

CREATE TABLE deals (
  id             TEXT PRIMARY KEY NOT NULL,
  created_at     INTEGER NOT NULL DEFAULT 0,
  updated_at     INTEGER NOT NULL DEFAULT 0,
  deleted        INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  customer_id    TEXT,
  title          TEXT,
  stage          TEXT CHECK (stage IN ('lead', 'qualified', 'proposal', 'negotiation', 'won', 'lost')),
  amount         INTEGER,
  currency       TEXT,
  expected_close TEXT,
  probability    INTEGER CHECK (probability BETWEEN 0 AND 100),
  lost_reason    TEXT
);
CREATE INDEX deals_customer ON deals(customer_id);
CREATE INDEX deals_close ON deals(expected_close);

CREATE TABLE orders (
  id          TEXT PRIMARY KEY NOT NULL,
  created_at  INTEGER NOT NULL DEFAULT 0,
  updated_at  INTEGER NOT NULL DEFAULT 0,
  deleted     INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  customer_id TEXT,
  amount      INTEGER,
  currency    TEXT,
  ordered_at  INTEGER,
  note        TEXT
);
CREATE INDEX orders_customer ON orders(customer_id, ordered_at);

CREATE TABLE tasks (
  id          TEXT PRIMARY KEY NOT NULL,
  created_at  INTEGER NOT NULL DEFAULT 0,
  updated_at  INTEGER NOT NULL DEFAULT 0,
  deleted     INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  customer_id TEXT,
  title       TEXT,
  due_at      INTEGER,
  done_at     INTEGER,
  note        TEXT
);
CREATE INDEX tasks_customer ON tasks(customer_id);
CREATE INDEX tasks_due ON tasks(due_at);
