-- Where imported comments came from: the source system and its id for the
-- comment, so that running the same import again finds what it already
-- wrote, and the source id of its parent, resolved once the whole file is
-- in (resolved: that step is done for the row, so a re-run neither redoes
-- it nor undoes a broken cycle).
CREATE TABLE imported_comments (
    site_id       BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    source        TEXT NOT NULL,
    source_id     TEXT NOT NULL,
    comment_id    BIGINT NOT NULL REFERENCES comments(id) ON DELETE CASCADE,
    source_parent TEXT NOT NULL DEFAULT '',
    resolved      BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (site_id, source, source_id)
);
CREATE INDEX imported_comments_comment ON imported_comments (comment_id);
CREATE INDEX imported_comments_unresolved ON imported_comments (site_id, source) WHERE resolved = FALSE;
