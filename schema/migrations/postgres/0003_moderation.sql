-- Moderation: sessions, API tokens, bans, the audit log, the classifier's
-- counts, webhook deliveries and one-time action links.

CREATE TABLE mod_sessions (
    id_hash      TEXT PRIMARY KEY,
    moderator_id BIGINT NOT NULL REFERENCES moderators(id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    moderator_id BIGINT NOT NULL REFERENCES moderators(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);

CREATE TABLE bans (
    id           BIGSERIAL PRIMARY KEY,
    site_id      BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('email', 'ip', 'reader')),
    value        TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    shadow       BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at   BIGINT,
    comment_id   BIGINT,
    moderator_id BIGINT REFERENCES moderators(id) ON DELETE SET NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX bans_identity ON bans (site_id, kind, value);

CREATE TABLE audit_log (
    id           BIGSERIAL PRIMARY KEY,
    at           BIGINT NOT NULL,
    moderator_id BIGINT,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    object_type  TEXT NOT NULL,
    object_id    BIGINT NOT NULL,
    site_id      BIGINT,
    before_state TEXT NOT NULL DEFAULT '',
    after_state  TEXT NOT NULL DEFAULT '',
    detail       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_site ON audit_log (site_id, id);

CREATE TABLE classifier_tokens (
    site_id BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    token   TEXT NOT NULL,
    spam    BIGINT NOT NULL DEFAULT 0,
    ham     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, token)
);

CREATE TABLE classifier_totals (
    site_id BIGINT PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
    spam    BIGINT NOT NULL DEFAULT 0,
    ham     BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE webhook_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    site_id         BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    url             TEXT NOT NULL,
    event           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    delivered_at    BIGINT,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL
);
CREATE INDEX webhook_due ON webhook_deliveries (delivered_at, next_attempt_at);

CREATE TABLE action_links (
    token_hash TEXT PRIMARY KEY,
    comment_id BIGINT NOT NULL REFERENCES comments(id) ON DELETE CASCADE,
    action     TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
