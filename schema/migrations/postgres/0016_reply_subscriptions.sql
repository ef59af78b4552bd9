-- Readers who asked to be emailed replies to their comments on an article.
-- The address is kept in clear (it is where the mail goes) next to its keyed
-- hash, which joins comments written with it; `parley reader forget` erases
-- the row with the comments. Nothing is sent before confirmed_at is set by
-- the link of the confirmation email (double opt-in). due_at is when the
-- next digest may go: set when a reply is queued in reply_pending, no
-- earlier than last_sent_at plus the site's interval.
CREATE TABLE reply_subscriptions (
    id           BIGSERIAL PRIMARY KEY,
    site_id      BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    article_id   BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    email_hash   TEXT NOT NULL,
    lang         TEXT NOT NULL DEFAULT 'en',
    confirmed_at BIGINT,
    last_sent_at BIGINT,
    due_at       BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX reply_subscriptions_one ON reply_subscriptions (article_id, email_hash);
CREATE INDEX reply_subscriptions_email ON reply_subscriptions (email_hash);
CREATE INDEX reply_subscriptions_due ON reply_subscriptions (due_at) WHERE due_at IS NOT NULL;

-- Links in emails, stored as SHA-256 hashes like the one-time action links:
-- a confirm link (expires) and one unsubscribe link per email sent (kept
-- while the subscription lives, so any old email still unsubscribes).
CREATE TABLE mail_tokens (
    token_hash      TEXT PRIMARY KEY,
    subscription_id BIGINT NOT NULL REFERENCES reply_subscriptions(id) ON DELETE CASCADE,
    purpose         TEXT NOT NULL,
    expires_at      BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX mail_tokens_subscription ON mail_tokens (subscription_id);

-- Published replies waiting for the subscriber's next digest.
CREATE TABLE reply_pending (
    subscription_id BIGINT NOT NULL REFERENCES reply_subscriptions(id) ON DELETE CASCADE,
    comment_id      BIGINT NOT NULL REFERENCES comments(id) ON DELETE CASCADE,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (subscription_id, comment_id)
);
CREATE INDEX reply_pending_comment ON reply_pending (comment_id);

-- Erasure finds an address's mail, sent or not.
CREATE INDEX mail_outbox_recipient ON mail_outbox (recipient);
