-- Version 2: the local search index behind `crm search`.
--
-- Not a replicated table: every replica builds its own from the rows it holds.
-- One FTS5 document per customer (trigram tokenizer: substring matching that
-- works for Chinese without word segmentation, case-insensitive for ASCII):
--   name    the customer's name
--   keys    phone (E.164, digits only, national form with trunk 0), e-mail,
--           USCC, ext_ref, city, address
--   people  contacts' names, phones, e-mails, WeChat ids
--   notes   the customer's notes and its activities' notes
-- Every column ends in two spaces, so each character of the text starts a
-- trigram: a one- or two-character query is answered from the index's
-- vocabulary (the trigrams starting with it), see client/search.c.
-- search_docs gives each customer a stable integer document id (an INTEGER
-- PRIMARY KEY survives VACUUM, a table's implicit rowid may not).
-- Ordinary triggers keep the index current; they fire for local edits and for
-- rows applied by sync alike. Deleted rows stay indexed so `--deleted` finds
-- them; queries filter on customers.deleted.

CREATE TABLE search_docs (
  doc         INTEGER PRIMARY KEY,
  customer_id TEXT NOT NULL UNIQUE
);

CREATE VIRTUAL TABLE search_index USING fts5(name, keys, people, notes, tokenize = 'trigram');

CREATE TRIGGER search_customers_ai AFTER INSERT ON customers BEGIN
  INSERT OR IGNORE INTO search_docs(customer_id) VALUES (NEW.id);
  DELETE FROM search_index WHERE rowid = (SELECT doc FROM search_docs WHERE customer_id = NEW.id);
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
           coalesce(c.notes, '') || ' ' ||
           coalesce((SELECT group_concat(a.note, ' ') FROM activities a
                      WHERE a.customer_id = c.id AND a.deleted = 0), '') || '  '
      FROM customers c JOIN search_docs d ON d.customer_id = c.id WHERE c.id = NEW.id;
END;

CREATE TRIGGER search_customers_au AFTER UPDATE OF name, uscc, ext_ref, email, phone, city, address, notes ON customers BEGIN
  INSERT OR IGNORE INTO search_docs(customer_id) VALUES (NEW.id);
  DELETE FROM search_index WHERE rowid = (SELECT doc FROM search_docs WHERE customer_id = NEW.id);
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
           coalesce(c.notes, '') || ' ' ||
           coalesce((SELECT group_concat(a.note, ' ') FROM activities a
                      WHERE a.customer_id = c.id AND a.deleted = 0), '') || '  '
      FROM customers c JOIN search_docs d ON d.customer_id = c.id WHERE c.id = NEW.id;
END;

CREATE TRIGGER search_customers_ad AFTER DELETE ON customers BEGIN
  DELETE FROM search_index WHERE rowid = (SELECT doc FROM search_docs WHERE customer_id = OLD.id);
  DELETE FROM search_docs WHERE customer_id = OLD.id;
END;

CREATE TRIGGER search_contacts_ai AFTER INSERT ON contacts BEGIN
  INSERT OR IGNORE INTO search_docs(customer_id) VALUES (NEW.customer_id);
  DELETE FROM search_index WHERE rowid = (SELECT doc FROM search_docs WHERE customer_id = NEW.customer_id);
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
           coalesce(c.notes, '') || ' ' ||
           coalesce((SELECT group_concat(a.note, ' ') FROM activities a
                      WHERE a.customer_id = c.id AND a.deleted = 0), '') || '  '
      FROM customers c JOIN search_docs d ON d.customer_id = c.id WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER search_contacts_au AFTER UPDATE OF customer_id, name, phone, email, wechat, deleted ON contacts BEGIN
  INSERT OR IGNORE INTO search_docs(customer_id) VALUES (NEW.customer_id);
  DELETE FROM search_index WHERE rowid = (SELECT doc FROM search_docs WHERE customer_id = NEW.customer_id);
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
           coalesce(c.notes, '') || ' ' ||
           coalesce((SELECT group_concat(a.note, ' ') FROM activities a
                      WHERE a.customer_id = c.id AND a.deleted = 0), '') || '  '
      FROM customers c JOIN search_docs d ON d.customer_id = c.id WHERE c.id = NEW.customer_id;
  
  DELETE FROM search_index WHERE rowid = (SELECT doc FROM search_docs WHERE customer_id = OLD.customer_id);
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
           coalesce(c.notes, '') || ' ' ||
           coalesce((SELECT group_concat(a.note, ' ') FROM activities a
                      WHERE a.customer_id = c.id AND a.deleted = 0), '') || '  '
      FROM customers c JOIN search_docs d ON d.customer_id = c.id WHERE c.id = OLD.customer_id;
END;

CREATE TRIGGER search_contacts_ad AFTER DELETE ON contacts BEGIN
  INSERT OR IGNORE INTO search_docs(customer_id) VALUES (OLD.customer_id);
  DELETE FROM search_index WHERE rowid = (SELECT doc FROM search_docs WHERE customer_id = OLD.customer_id);
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
           coalesce(c.notes, '') || ' ' ||
           coalesce((SELECT group_concat(a.note, ' ') FROM activities a
                      WHERE a.customer_id = c.id AND a.deleted = 0), '') || '  '
      FROM customers c JOIN search_docs d ON d.customer_id = c.id WHERE c.id = OLD.customer_id;
END;

CREATE TRIGGER search_activities_ai AFTER INSERT ON activities BEGIN
  INSERT OR IGNORE INTO search_docs(customer_id) VALUES (NEW.customer_id);
  DELETE FROM search_index WHERE rowid = (SELECT doc FROM search_docs WHERE customer_id = NEW.customer_id);
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
           coalesce(c.notes, '') || ' ' ||
           coalesce((SELECT group_concat(a.note, ' ') FROM activities a
                      WHERE a.customer_id = c.id AND a.deleted = 0), '') || '  '
      FROM customers c JOIN search_docs d ON d.customer_id = c.id WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER search_activities_au AFTER UPDATE OF customer_id, note, deleted ON activities BEGIN
  INSERT OR IGNORE INTO search_docs(customer_id) VALUES (NEW.customer_id);
  DELETE FROM search_index WHERE rowid = (SELECT doc FROM search_docs WHERE customer_id = NEW.customer_id);
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
           coalesce(c.notes, '') || ' ' ||
           coalesce((SELECT group_concat(a.note, ' ') FROM activities a
                      WHERE a.customer_id = c.id AND a.deleted = 0), '') || '  '
      FROM customers c JOIN search_docs d ON d.customer_id = c.id WHERE c.id = NEW.customer_id;
  
  DELETE FROM search_index WHERE rowid = (SELECT doc FROM search_docs WHERE customer_id = OLD.customer_id);
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
           coalesce(c.notes, '') || ' ' ||
           coalesce((SELECT group_concat(a.note, ' ') FROM activities a
                      WHERE a.customer_id = c.id AND a.deleted = 0), '') || '  '
      FROM customers c JOIN search_docs d ON d.customer_id = c.id WHERE c.id = OLD.customer_id;
END;

CREATE TRIGGER search_activities_ad AFTER DELETE ON activities BEGIN
  INSERT OR IGNORE INTO search_docs(customer_id) VALUES (OLD.customer_id);
  DELETE FROM search_index WHERE rowid = (SELECT doc FROM search_docs WHERE customer_id = OLD.customer_id);
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
           coalesce(c.notes, '') || ' ' ||
           coalesce((SELECT group_concat(a.note, ' ') FROM activities a
                      WHERE a.customer_id = c.id AND a.deleted = 0), '') || '  '
      FROM customers c JOIN search_docs d ON d.customer_id = c.id WHERE c.id = OLD.customer_id;
END;

-- Index the rows already there.
INSERT INTO search_docs(customer_id) SELECT id FROM customers;
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
         coalesce(c.notes, '') || ' ' ||
         coalesce((SELECT group_concat(a.note, ' ') FROM activities a
                    WHERE a.customer_id = c.id AND a.deleted = 0), '') || '  '
    FROM customers c JOIN search_docs d ON d.customer_id = c.id;
