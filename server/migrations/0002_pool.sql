-- Server version 2: the customer pool (公海).
-- The rules head office sets with `crm-server config set` (a key missing here
-- has its default, see server/srv_config.c), and the indexes the recycling
-- sweep, the lock-out check and the claim limit read.

CREATE TABLE srv_config (
  key        TEXT PRIMARY KEY NOT NULL,
  value      TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- "May this previous owner claim it again yet?" and "when did the owner get it?"
CREATE INDEX srv_ownership_old ON srv_ownership(customer_id, old_owner, at);
CREATE INDEX srv_ownership_new ON srv_ownership(customer_id, new_owner, at);

-- The latest follow-up by the owner, per customer (recycling).
CREATE INDEX IF NOT EXISTS activities_author
  ON activities(customer_id, author, deleted, occurred_at, created_at);
