-- Moderation queues at scale, the classifier's memory of decisions, and
-- what webhooks and one-time links need.

-- queue: the moderation queue a comment is in, derived from status and
-- reported_at ('reported' is an approved comment whose reports reached the
-- site's threshold). One column, so every queue page is one index range.
ALTER TABLE comments ADD COLUMN queue TEXT NOT NULL DEFAULT 'pending';
UPDATE comments SET queue = CASE WHEN status = 'approved' AND reported_at IS NOT NULL THEN 'reported' ELSE status END;
-- priority: the policy's reasons plus the open reports, for sort=priority.
ALTER TABLE comments ADD COLUMN priority BIGINT NOT NULL DEFAULT 0;
UPDATE comments SET priority = json_array_length(reasons::json) + report_count;
-- learned: what the classifier learned from the last decision on the
-- current text ('spam', 'ham' or ''), so that a reversal can unlearn it.
ALTER TABLE comments ADD COLUMN learned TEXT NOT NULL DEFAULT '';

DROP INDEX comments_queue;
DROP INDEX comments_site_queue;
DROP INDEX comments_reported;
CREATE INDEX comments_mod_queue ON comments (queue, id);
CREATE INDEX comments_mod_site_queue ON comments (site_id, queue, id);
CREATE INDEX comments_mod_article_queue ON comments (article_id, queue, id);
CREATE INDEX comments_mod_priority ON comments (queue, priority DESC, id);
CREATE INDEX comments_mod_site_priority ON comments (site_id, queue, priority DESC, id);

-- The size of the queues moderators work through, kept with every change
-- so that the dashboard's counts never count rows.
CREATE TABLE queue_counts (
    site_id BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    queue   TEXT NOT NULL,
    count   BIGINT NOT NULL,
    PRIMARY KEY (site_id, queue)
);
INSERT INTO queue_counts (site_id, queue, count)
    SELECT site_id, queue, COUNT(*) FROM comments WHERE queue IN ('pending', 'reported', 'spam') GROUP BY site_id, queue;

CREATE INDEX mod_sessions_moderator ON mod_sessions (moderator_id);
CREATE INDEX mod_sessions_expiry ON mod_sessions (expires_at);
CREATE INDEX api_tokens_moderator ON api_tokens (moderator_id);

-- Deliveries still to make, by when they are due.
ALTER TABLE webhook_deliveries ADD COLUMN gave_up_at BIGINT;
DROP INDEX webhook_due;
CREATE INDEX webhook_due ON webhook_deliveries (next_attempt_at) WHERE delivered_at IS NULL AND gave_up_at IS NULL;

-- The approve and reject links of one announcement are spent together.
ALTER TABLE action_links ADD COLUMN pair TEXT NOT NULL DEFAULT '';
CREATE INDEX action_links_pair ON action_links (pair);
CREATE INDEX action_links_expiry ON action_links (expires_at);
