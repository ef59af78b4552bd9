-- Outgoing email waits here, written in the transaction of the change that
-- owes it (a reply, a notice receipt, a statement of reasons), so a crash
-- loses both or neither; a worker sends due rows over SMTP with back-off.
-- kind names the message (reply, digest, confirm, notice_receipt, …) for
-- metrics and tests; headers is a JSON object of extra headers such as
-- List-Unsubscribe.
CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY,
    site_id         BIGINT REFERENCES sites(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL DEFAULT '',
    headers         TEXT NOT NULL DEFAULT '{}',
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at         BIGINT,
    gave_up_at      BIGINT,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL
);
CREATE INDEX mail_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND gave_up_at IS NULL;
