-- A comment's audit entries by comment: an export reads them a page of
-- comments at a time, which scanned the whole log for every page.
CREATE INDEX audit_object ON audit_log (object_type, object_id);
