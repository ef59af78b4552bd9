-- Comments, their votes and reports, and the captchas that guard posting.

ALTER TABLE articles ADD COLUMN approved_count BIGINT NOT NULL DEFAULT 0;

CREATE TABLE captchas (
    id         TEXT PRIMARY KEY,
    digits     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX captchas_expiry ON captchas (expires_at);

CREATE TABLE comments (
    id              BIGSERIAL PRIMARY KEY,
    site_id         BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    article_id      BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    parent_id       BIGINT REFERENCES comments(id) ON DELETE SET NULL,
    reader_id       TEXT NOT NULL DEFAULT '',
    author          TEXT NOT NULL,
    email_hash      TEXT NOT NULL DEFAULT '',
    ip_hash         TEXT NOT NULL DEFAULT '',
    body            TEXT NOT NULL,
    body_key        TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'spam', 'deleted')),
    version         BIGINT NOT NULL DEFAULT 1,
    reasons         TEXT NOT NULL DEFAULT '[]',
    edit_token_hash TEXT NOT NULL,
    upvotes         BIGINT NOT NULL DEFAULT 0,
    downvotes       BIGINT NOT NULL DEFAULT 0,
    score           BIGINT NOT NULL DEFAULT 0,
    report_count    BIGINT NOT NULL DEFAULT 0,
    shadow          BOOLEAN NOT NULL DEFAULT FALSE,
    has_replies     BOOLEAN NOT NULL DEFAULT FALSE,
    -- visible: what the public thread shows, approved comments and deleted
    -- ones that keep their replies' place; derived, kept for the indexes.
    visible         BOOLEAN NOT NULL DEFAULT FALSE,
    -- reported_at: when the reports reached the site's threshold; cleared
    -- when a moderator approves the comment again.
    reported_at     BIGINT,
    created_at      BIGINT NOT NULL,
    edited_at       BIGINT,
    decided_at      BIGINT
);
-- Keyset pages of a thread by id (oldest, newest) and by score (top).
CREATE INDEX comments_thread ON comments (article_id, visible, id);
CREATE INDEX comments_top ON comments (article_id, visible, score, id);
CREATE INDEX comments_reported ON comments (reported_at, id);
-- Moderation queues, all sites or one.
CREATE INDEX comments_queue ON comments (status, id);
CREATE INDEX comments_site_queue ON comments (site_id, status, id);
-- Policy facts: repeated text, author history, posting rate.
CREATE INDEX comments_body_key ON comments (site_id, body_key, created_at);
CREATE INDEX comments_email ON comments (site_id, email_hash, status);
CREATE INDEX comments_reader ON comments (site_id, reader_id, status);
CREATE INDEX comments_ip ON comments (ip_hash, created_at);
CREATE INDEX comments_parent ON comments (parent_id);

CREATE TABLE comment_votes (
    comment_id BIGINT NOT NULL REFERENCES comments(id) ON DELETE CASCADE,
    reader_id  TEXT NOT NULL,
    vote       SMALLINT NOT NULL CHECK (vote IN (-1, 1)),
    PRIMARY KEY (comment_id, reader_id)
);

CREATE TABLE reports (
    id           BIGSERIAL PRIMARY KEY,
    comment_id   BIGINT NOT NULL REFERENCES comments(id) ON DELETE CASCADE,
    reader_id    TEXT NOT NULL,
    reason       TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    dismissed_at BIGINT,
    UNIQUE (comment_id, reader_id)
);
