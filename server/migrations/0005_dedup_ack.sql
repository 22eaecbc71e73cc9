-- Server version 5: what the duplicate check tells a device (notices of
-- merges, rows an unmerge took out of its scope) is handed out like the scope
-- itself (server/srv_handout.c): stamped with the generation of the answer
-- that carried it and sent again until the device acknowledges that
-- generation, so a lost answer loses nothing. Before, each went out once.

-- The generation of the answer that last carried this eviction (0: not sent).
ALTER TABLE srv_dup_evict ADD COLUMN gen INTEGER NOT NULL DEFAULT 0;

-- upto: the newest notice sent; sent_gen: in which answer; acked: the newest
-- notice the device has acknowledged. What was sent before counts as acknowledged.
ALTER TABLE srv_dup_notice_sent ADD COLUMN sent_gen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE srv_dup_notice_sent ADD COLUMN acked INTEGER NOT NULL DEFAULT 0;
UPDATE srv_dup_notice_sent SET acked = upto;
