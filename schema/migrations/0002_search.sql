-- Version 2: the local search index behind `crm search`.
--
-- Not a replicated table: every replica builds its own from the rows it holds.
-- FTS5 with the trigram tokenizer: substring matching that works for Chinese
-- without word segmentation, case-insensitive for ASCII. Documents:
--   one per customer:  name    the customer's name
--                      keys    phone (E.164, digits only, national form with
--                              trunk 0), e-mail, USCC, ext_ref, city, address
--                      people  contacts' names, phones, e-mails, WeChat ids
--                      notes   the customer's notes
--   one per activity with a note (notes only), so logging a visit adds one
--   small document instead of rewriting the customer's.
-- search_docs maps each document (a stable INTEGER PRIMARY KEY, which survives
-- VACUUM where an implicit rowid may not) to the row it indexes (source_id:
-- the customer's or the activity's id) and to the customer it finds.
-- Every column ends in two spaces, so each character of the text starts a
-- trigram: a one- or two-character query is answered from the index's
-- vocabulary (the trigrams starting with it), see client/search.c.
-- Ordinary triggers keep the index current; they fire for local edits and for
-- rows applied by sync alike, except during a fresh laptop's first pull, which
-- drops them; the first crm search afterwards runs this whole file again to
-- rebuild the index in one pass (client/search.c). crm-server drops all of it
-- (server/srv_db.c). Deleted customers stay indexed so `--deleted`
-- finds them (queries filter on customers.deleted); deleted activities do not.

CREATE TABLE search_docs (
  doc         INTEGER PRIMARY KEY,
  source_id   TEXT NOT NULL UNIQUE,
  customer_id TEXT NOT NULL
);
CREATE INDEX search_docs_customer ON search_docs(customer_id);

CREATE VIRTUAL TABLE search_index USING fts5(name, keys, people, notes, tokenize = 'trigram');

CREATE TRIGGER search_customers_ai AFTER INSERT ON customers BEGIN
  INSERT OR IGNORE INTO search_docs(source_id, customer_id) VALUES (NEW.id, NEW.id);
  DELETE FROM search_index WHERE rowid = (SELECT doc FROM search_docs WHERE source_id = NEW.id);
  INSERT INTO search_index(rowid, name, keys, people, notes)
    SELECT d.doc, c.name || '  ',
           coalesce(c.phone, '') || ' ' || coalesce(replace(c.phone, '+', ''), '') || ' ' ||
           CASE WHEN c.phone LIKE '+86%' THEN '0' || substr(c.phone, 4) ELSE '' END || ' ' ||
           coalesce(c.email, '') || ' ' || coalesce(c.uscc, '') || ' ' || coalesce(c.ext_ref, '') || ' ' ||
           coalesce(c.city, '') || ' ' || coalesce(c.address, '') || '  ',
           coalesce((SELECT group_concat(coalesce(p.name, '') || ' ' || coalesce(p.phone, '') || ' ' ||
                                         coalesce(replace(p.phone, '+', ''), '') || ' ' ||
                                         CASE WHEN p.phone LIKE '+86%' THEN '0' || substr(p.phone, 4) ELSE '' END || ' ' ||
                                         coalesce(p.email, '') || ' ' || coalesce(p.wechat, ''), ' ')
                       FROM contacts p WHERE p.customer_id = c.id AND p.deleted = 0), '') || '  ',
           coalesce(c.notes, '') || '  '
      FROM customers c JOIN search_docs d ON d.source_id = c.id WHERE c.id = NEW.id;
END;

CREATE TRIGGER search_customers_au AFTER UPDATE OF name, uscc, ext_ref, email, phone, city, address, notes ON customers BEGIN
  INSERT OR IGNORE INTO search_docs(source_id, customer_id) VALUES (NEW.id, NEW.id);
  DELETE FROM search_index WHERE rowid = (SELECT doc FROM search_docs WHERE source_id = NEW.id);
  INSERT INTO search_index(rowid, name, keys, people, notes)
    SELECT d.doc, c.name || '  ',
           coalesce(c.phone, '') || ' ' || coalesce(replace(c.phone, '+', ''), '') || ' ' ||
           CASE WHEN c.phone LIKE '+86%' THEN '0' || substr(c.phone, 4) ELSE '' END || ' ' ||
           coalesce(c.email, '') || ' ' || coalesce(c.uscc, '') || ' ' || coalesce(c.ext_ref, '') || ' ' ||
           coalesce(c.city, '') || ' ' || coalesce(c.address, '') || '  ',
           coalesce((SELECT group_concat(coalesce(p.name, '') || ' ' || coalesce(p.phone, '') || ' ' ||
                                         coalesce(replace(p.phone, '+', ''), '') || ' ' ||
                                         CASE WHEN p.phone LIKE '+86%' THEN '0' || substr(p.phone, 4) ELSE '' END || ' ' ||
                                         coalesce(p.email, '') || ' ' || coalesce(p.wechat, ''), ' ')
                       FROM contacts p WHERE p.customer_id = c.id AND p.deleted = 0), '') || '  ',
           coalesce(c.notes, '') || '  '
      FROM customers c JOIN search_docs d ON d.source_id = c.id WHERE c.id = NEW.id;
END;

CREATE TRIGGER search_customers_ad AFTER DELETE ON customers BEGIN
  DELETE FROM search_index WHERE rowid = (SELECT doc FROM search_docs WHERE source_id = OLD.id);
  DELETE FROM search_docs WHERE source_id = OLD.id;
END;

CREATE TRIGGER search_contacts_ai AFTER INSERT ON contacts BEGIN
  INSERT OR IGNORE INTO search_docs(source_id, customer_id) VALUES (NEW.customer_id, NEW.customer_id);
  DELETE FROM search_index WHERE rowid = (SELECT doc FROM search_docs WHERE source_id = NEW.customer_id);
  INSERT INTO search_index(rowid, name, keys, people, notes)
    SELECT d.doc, c.name || '  ',
           coalesce(c.phone, '') || ' ' || coalesce(replace(c.phone, '+', ''), '') || ' ' ||
           CASE WHEN c.phone LIKE '+86%' THEN '0' || substr(c.phone, 4) ELSE '' END || ' ' ||
           coalesce(c.email, '') || ' ' || coalesce(c.uscc, '') || ' ' || coalesce(c.ext_ref, '') || ' ' ||
           coalesce(c.city, '') || ' ' || coalesce(c.address, '') || '  ',
           coalesce((SELECT group_concat(coalesce(p.name, '') || ' ' || coalesce(p.phone, '') || ' ' ||
                                         coalesce(replace(p.phone, '+', ''), '') || ' ' ||
                                         CASE WHEN p.phone LIKE '+86%' THEN '0' || substr(p.phone, 4) ELSE '' END || ' ' ||
                                         coalesce(p.email, '') || ' ' || coalesce(p.wechat, ''), ' ')
                       FROM contacts p WHERE p.customer_id = c.id AND p.deleted = 0), '') || '  ',
           coalesce(c.notes, '') || '  '
      FROM customers c JOIN search_docs d ON d.source_id = c.id WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER search_contacts_au AFTER UPDATE OF customer_id, name, phone, email, wechat, deleted ON contacts BEGIN
  INSERT OR IGNORE INTO search_docs(source_id, customer_id) VALUES (NEW.customer_id, NEW.customer_id);
  DELETE FROM search_index WHERE rowid = (SELECT doc FROM search_docs WHERE source_id = NEW.customer_id);
  INSERT INTO search_index(rowid, name, keys, people, notes)
    SELECT d.doc, c.name || '  ',
           coalesce(c.phone, '') || ' ' || coalesce(replace(c.phone, '+', ''), '') || ' ' ||
           CASE WHEN c.phone LIKE '+86%' THEN '0' || substr(c.phone, 4) ELSE '' END || ' ' ||
           coalesce(c.email, '') || ' ' || coalesce(c.uscc, '') || ' ' || coalesce(c.ext_ref, '') || ' ' ||
           coalesce(c.city, '') || ' ' || coalesce(c.address, '') || '  ',
           coalesce((SELECT group_concat(coalesce(p.name, '') || ' ' || coalesce(p.phone, '') || ' ' ||
                                         coalesce(replace(p.phone, '+', ''), '') || ' ' ||
                                         CASE WHEN p.phone LIKE '+86%' THEN '0' || substr(p.phone, 4) ELSE '' END || ' ' ||
                                         coalesce(p.email, '') || ' ' || coalesce(p.wechat, ''), ' ')
                       FROM contacts p WHERE p.customer_id = c.id AND p.deleted = 0), '') || '  ',
           coalesce(c.notes, '') || '  '
      FROM customers c JOIN search_docs d ON d.source_id = c.id WHERE c.id = NEW.customer_id;
  DELETE FROM search_index WHERE rowid = (SELECT doc FROM search_docs WHERE source_id = OLD.customer_id);
  INSERT INTO search_index(rowid, name, keys, people, notes)
    SELECT d.doc, c.name || '  ',
           coalesce(c.phone, '') || ' ' || coalesce(replace(c.phone, '+', ''), '') || ' ' ||
           CASE WHEN c.phone LIKE '+86%' THEN '0' || substr(c.phone, 4) ELSE '' END || ' ' ||
           coalesce(c.email, '') || ' ' || coalesce(c.uscc, '') || ' ' || coalesce(c.ext_ref, '') || ' ' ||
           coalesce(c.city, '') || ' ' || coalesce(c.address, '') || '  ',
           coalesce((SELECT group_concat(coalesce(p.name, '') || ' ' || coalesce(p.phone, '') || ' ' ||
                                         coalesce(replace(p.phone, '+', ''), '') || ' ' ||
                                         CASE WHEN p.phone LIKE '+86%' THEN '0' || substr(p.phone, 4) ELSE '' END || ' ' ||
                                         coalesce(p.email, '') || ' ' || coalesce(p.wechat, ''), ' ')
                       FROM contacts p WHERE p.customer_id = c.id AND p.deleted = 0), '') || '  ',
           coalesce(c.notes, '') || '  '
      FROM customers c JOIN search_docs d ON d.source_id = c.id WHERE c.id = OLD.customer_id;
END;

CREATE TRIGGER search_contacts_ad AFTER DELETE ON contacts BEGIN
  INSERT OR IGNORE INTO search_docs(source_id, customer_id) VALUES (OLD.customer_id, OLD.customer_id);
  DELETE FROM search_index WHERE rowid = (SELECT doc FROM search_docs WHERE source_id = OLD.customer_id);
  INSERT INTO search_index(rowid, name, keys, people, notes)
    SELECT d.doc, c.name || '  ',
           coalesce(c.phone, '') || ' ' || coalesce(replace(c.phone, '+', ''), '') || ' ' ||
           CASE WHEN c.phone LIKE '+86%' THEN '0' || substr(c.phone, 4) ELSE '' END || ' ' ||
           coalesce(c.email, '') || ' ' || coalesce(c.uscc, '') || ' ' || coalesce(c.ext_ref, '') || ' ' ||
           coalesce(c.city, '') || ' ' || coalesce(c.address, '') || '  ',
           coalesce((SELECT group_concat(coalesce(p.name, '') || ' ' || coalesce(p.phone, '') || ' ' ||
                                         coalesce(replace(p.phone, '+', ''), '') || ' ' ||
                                         CASE WHEN p.phone LIKE '+86%' THEN '0' || substr(p.phone, 4) ELSE '' END || ' ' ||
                                         coalesce(p.email, '') || ' ' || coalesce(p.wechat, ''), ' ')
                       FROM contacts p WHERE p.customer_id = c.id AND p.deleted = 0), '') || '  ',
           coalesce(c.notes, '') || '  '
      FROM customers c JOIN search_docs d ON d.source_id = c.id WHERE c.id = OLD.customer_id;
END;

CREATE TRIGGER search_activities_ai AFTER INSERT ON activities BEGIN
  INSERT INTO search_docs(source_id, customer_id)
    SELECT NEW.id, NEW.customer_id WHERE NEW.deleted = 0 AND NEW.note IS NOT NULL AND NEW.customer_id IS NOT NULL;
  INSERT INTO search_index(rowid, name, keys, people, notes)
    SELECT doc, '', '', '', NEW.note || '  ' FROM search_docs WHERE source_id = NEW.id;
END;

CREATE TRIGGER search_activities_au AFTER UPDATE OF customer_id, note, deleted ON activities BEGIN
  DELETE FROM search_index WHERE rowid = (SELECT doc FROM search_docs WHERE source_id = OLD.id);
  DELETE FROM search_docs WHERE source_id = OLD.id;
  INSERT INTO search_docs(source_id, customer_id)
    SELECT NEW.id, NEW.customer_id WHERE NEW.deleted = 0 AND NEW.note IS NOT NULL AND NEW.customer_id IS NOT NULL;
  INSERT INTO search_index(rowid, name, keys, people, notes)
    SELECT doc, '', '', '', NEW.note || '  ' FROM search_docs WHERE source_id = NEW.id;
END;

CREATE TRIGGER search_activities_ad AFTER DELETE ON activities BEGIN
  DELETE FROM search_index WHERE rowid = (SELECT doc FROM search_docs WHERE source_id = OLD.id);
  DELETE FROM search_docs WHERE source_id = OLD.id;
END;

-- Index the rows already there.
INSERT INTO search_docs(source_id, customer_id) SELECT id, id FROM customers;
INSERT INTO search_index(rowid, name, keys, people, notes)
  SELECT d.doc, c.name || '  ',
         coalesce(c.phone, '') || ' ' || coalesce(replace(c.phone, '+', ''), '') || ' ' ||
         CASE WHEN c.phone LIKE '+86%' THEN '0' || substr(c.phone, 4) ELSE '' END || ' ' ||
         coalesce(c.email, '') || ' ' || coalesce(c.uscc, '') || ' ' || coalesce(c.ext_ref, '') || ' ' ||
         coalesce(c.city, '') || ' ' || coalesce(c.address, '') || '  ',
         coalesce((SELECT group_concat(coalesce(p.name, '') || ' ' || coalesce(p.phone, '') || ' ' ||
                                       coalesce(replace(p.phone, '+', ''), '') || ' ' ||
                                       CASE WHEN p.phone LIKE '+86%' THEN '0' || substr(p.phone, 4) ELSE '' END || ' ' ||
                                       coalesce(p.email, '') || ' ' || coalesce(p.wechat, ''), ' ')
                     FROM contacts p WHERE p.customer_id = c.id AND p.deleted = 0), '') || '  ',
         coalesce(c.notes, '') || '  '
    FROM customers c JOIN search_docs d ON d.source_id = c.id;
INSERT INTO search_docs(source_id, customer_id)
  SELECT id, customer_id FROM activities WHERE deleted = 0 AND note IS NOT NULL AND customer_id IS NOT NULL;
INSERT INTO search_index(rowid, name, keys, people, notes)
  SELECT d.doc, '', '', '', a.note || '  ' FROM activities a JOIN search_docs d ON d.source_id = a.id;
