-- Server version 4: an incremental scope handout (server/srv_handout.c).
-- Every customer whose scope-relevant facts changed (created, owner changed,
-- merged or unmerged, deleted, or told to be sent whole again) is logged with
-- a growing sequence, written by triggers so that every code path and every
-- admin command is caught. Each device remembers how far it has processed the
-- log, so a sync round trip looks only at customers logged since instead of
-- walking every customer in its scope. A change to a user's role or team (or
-- a user added or removed) logs the empty id: every device walks its whole
-- scope once, as before.
--
-- One row per customer (the latest change): a change deletes the previous
-- row and inserts a new one, so seq only grows (AUTOINCREMENT never reuses)
-- and the log never holds more rows than there are customers. Two plain
-- statements, not INSERT OR REPLACE: a trigger's conflict clause yields to the
-- one of the statement that fired it (INSERT OR IGNORE INTO customers ...).
-- A later migration that rebuilds customers, srv_scope or srv_users must
-- create these triggers again (tests/unit/test_server_handout.c checks).

CREATE TABLE srv_scope_log (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  customer_id TEXT NOT NULL UNIQUE       -- '' : everyone walks their whole scope
);

-- How far each device has processed the log: for customers entering its scope
-- (scope_seen) and, separately, for those leaving it (evict_seen, processed
-- only once the device has nothing more to push). 0: walk everything.
ALTER TABLE srv_devices ADD COLUMN scope_seen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE srv_devices ADD COLUMN evict_seen INTEGER NOT NULL DEFAULT 0;

-- A device's handouts not yet acknowledged (gen > ack), and its evictions
-- acknowledged (in_scope 0, gen <= ack), without a walk over all its rows.
CREATE INDEX srv_scope_gen ON srv_scope(device_id, in_scope, gen);

CREATE TRIGGER srv_scope_log_cust_ins AFTER INSERT ON customers BEGIN
  DELETE FROM srv_scope_log WHERE customer_id = NEW.id;
  INSERT INTO srv_scope_log (customer_id) VALUES (NEW.id);
END;

CREATE TRIGGER srv_scope_log_cust_upd AFTER UPDATE OF id, owner, merged_into ON customers
WHEN OLD.id IS NOT NEW.id OR OLD.owner IS NOT NEW.owner
  OR OLD.merged_into IS NOT NEW.merged_into BEGIN
  DELETE FROM srv_scope_log WHERE customer_id IN (OLD.id, NEW.id);
  INSERT INTO srv_scope_log (customer_id) VALUES (OLD.id);
  INSERT INTO srv_scope_log (customer_id) SELECT NEW.id WHERE NEW.id IS NOT OLD.id;
END;

CREATE TRIGGER srv_scope_log_cust_del AFTER DELETE ON customers BEGIN
  DELETE FROM srv_scope_log WHERE customer_id = OLD.id;
  INSERT INTO srv_scope_log (customer_id) VALUES (OLD.id);
END;

-- A held customer's entry removed (srv_dedup sends it whole again that way).
CREATE TRIGGER srv_scope_log_held_del AFTER DELETE ON srv_scope WHEN OLD.in_scope = 1 BEGIN
  DELETE FROM srv_scope_log WHERE customer_id = OLD.customer_id;
  INSERT INTO srv_scope_log (customer_id) VALUES (OLD.customer_id);
END;

CREATE TRIGGER srv_scope_log_user_ins AFTER INSERT ON srv_users BEGIN
  DELETE FROM srv_scope_log WHERE customer_id = '';
  INSERT INTO srv_scope_log (customer_id) VALUES ('');
END;

CREATE TRIGGER srv_scope_log_user_upd AFTER UPDATE OF name, role, team ON srv_users
WHEN OLD.name IS NOT NEW.name OR OLD.role IS NOT NEW.role OR OLD.team IS NOT NEW.team BEGIN
  DELETE FROM srv_scope_log WHERE customer_id = '';
  INSERT INTO srv_scope_log (customer_id) VALUES ('');
END;

CREATE TRIGGER srv_scope_log_user_del AFTER DELETE ON srv_users BEGIN
  DELETE FROM srv_scope_log WHERE customer_id = '';
  INSERT INTO srv_scope_log (customer_id) VALUES ('');
END;

-- Devices that synced before this version walk their whole scope once.
INSERT INTO srv_scope_log (customer_id) VALUES ('');
