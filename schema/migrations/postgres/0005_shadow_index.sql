-- The set of shadow-banned readers is reloaded every few seconds; without
-- this partial index that reload would scan every comment.
CREATE INDEX comments_shadow ON comments (site_id, reader_id) WHERE shadow = TRUE;
