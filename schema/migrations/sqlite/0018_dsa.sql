-- The EU Digital Services Act: the contact an author left for statements
-- of reasons (Art. 17), notices of illegal content (Art. 16), statements
-- of reasons, appeals against them (Art. 20) and trusted flaggers (Art. 22).
-- Times are Unix milliseconds.

-- The email an author gave with a comment, kept (unlike the hash on the
-- comment) only so that a statement of reasons can reach them; erased with
-- the comment's author data.
CREATE TABLE comment_contacts (
    comment_id BIGINT PRIMARY KEY REFERENCES comments(id) ON DELETE CASCADE,
    email      TEXT NOT NULL
);

-- status: open, actioned (the content was removed) or dismissed;
-- unfounded marks a dismissed notice as manifestly unfounded (Art. 23).
-- author_email_hash is the comment author's, for the misuse counters.
CREATE TABLE notices (
    id                INTEGER PRIMARY KEY,
    site_id           BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    comment_id        BIGINT NOT NULL REFERENCES comments(id) ON DELETE CASCADE,
    category          TEXT NOT NULL,
    explanation       TEXT NOT NULL,
    notifier_name     TEXT NOT NULL,
    notifier_email    TEXT NOT NULL,
    trusted           BOOLEAN NOT NULL DEFAULT FALSE,
    author_email_hash TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL DEFAULT 'open',
    unfounded         BOOLEAN NOT NULL DEFAULT FALSE,
    reason            TEXT NOT NULL DEFAULT '',
    decided_by        BIGINT,
    decided_at        BIGINT,
    created_at        BIGINT NOT NULL
);
CREATE INDEX notices_queue ON notices (site_id, status, trusted, created_at);
CREATE INDEX notices_notifier ON notices (site_id, notifier_email);
CREATE INDEX notices_period ON notices (site_id, created_at);

-- decision: reject, spam, ban or shadow; automated_detection and
-- automated_decision say whether a rule or the classifier found or decided
-- it (Art. 17(3)(c)); reasons are the policy's, as stored with the comment.
-- appeal_token_hash is the hash of the appeal link's token.
CREATE TABLE statements (
    id                  INTEGER PRIMARY KEY,
    site_id             BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    comment_id          BIGINT NOT NULL REFERENCES comments(id) ON DELETE CASCADE,
    notice_id           BIGINT,
    decision            TEXT NOT NULL,
    ground              TEXT NOT NULL,
    facts               TEXT NOT NULL,
    reasons             TEXT NOT NULL DEFAULT '[]',
    automated_detection BOOLEAN NOT NULL,
    automated_decision  BOOLEAN NOT NULL,
    moderator_id        BIGINT,
    email               TEXT NOT NULL,
    appeal_token_hash   TEXT NOT NULL UNIQUE,
    appeal_until        BIGINT NOT NULL,
    created_at          BIGINT NOT NULL
);
CREATE INDEX statements_comment ON statements (comment_id);
CREATE INDEX statements_period ON statements (site_id, created_at);

-- status: open, upheld or reversed.
CREATE TABLE appeals (
    id           INTEGER PRIMARY KEY,
    site_id      BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    statement_id BIGINT NOT NULL UNIQUE REFERENCES statements(id) ON DELETE CASCADE,
    comment_id   BIGINT NOT NULL REFERENCES comments(id) ON DELETE CASCADE,
    explanation  TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'open',
    reason       TEXT NOT NULL DEFAULT '',
    decided_by   BIGINT,
    decided_at   BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX appeals_queue ON appeals (site_id, status, created_at);

CREATE TABLE trusted_flaggers (
    site_id    BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    added_by   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (site_id, email)
);
