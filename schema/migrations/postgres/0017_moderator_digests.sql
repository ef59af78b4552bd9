-- Moderators who asked for an email listing pending comments, at most every
-- every_minutes; last_at is when the digest job last looked for them.
CREATE TABLE moderator_digests (
    moderator_id  BIGINT PRIMARY KEY REFERENCES moderators(id) ON DELETE CASCADE,
    every_minutes BIGINT NOT NULL,
    last_at       BIGINT NOT NULL
);
