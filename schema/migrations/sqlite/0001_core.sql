-- Core: server secrets, sites, articles, reactions and their counters, moderators.
-- Times are Unix milliseconds in BIGINT columns so both engines agree exactly.

CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE sites (
    id         INTEGER PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE,
    settings   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE articles (
    id            INTEGER PRIMARY KEY,
    site_id       BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    title         TEXT NOT NULL DEFAULT '',
    url           TEXT NOT NULL DEFAULT '',
    comments_open BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    BIGINT NOT NULL,
    UNIQUE (site_id, key)
);

-- One reaction per (article, reader); readers are anonymous ids from signed tokens.
CREATE TABLE reactions (
    article_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    reader_id  TEXT NOT NULL,
    reaction   TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (article_id, reader_id)
) WITHOUT ROWID;

-- The truth for counts, kept in the same transaction as reactions so reading
-- counts never scans the votes of a viral article.
CREATE TABLE reaction_counts (
    article_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    reaction   TEXT NOT NULL,
    count      BIGINT NOT NULL,
    PRIMARY KEY (article_id, reaction)
) WITHOUT ROWID;

CREATE TABLE moderators (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'moderator')),
    sites         TEXT NOT NULL DEFAULT '[]',
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL
);
