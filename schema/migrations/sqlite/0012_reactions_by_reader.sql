-- A reader's own reactions are read all at once, by reader, the first
-- time the reader is seen: then every page view answers "mine" from memory.
CREATE INDEX reactions_by_reader ON reactions (reader_id);
