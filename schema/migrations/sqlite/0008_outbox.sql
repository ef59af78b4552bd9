-- Webhook events are written in the transaction of the change they
-- announce. A comment has at most one comment.held event waiting: a newer
-- one replaces it, so deliveries are found by comment.
ALTER TABLE webhook_deliveries ADD COLUMN comment_id BIGINT;
CREATE INDEX webhook_comment ON webhook_deliveries (comment_id, event) WHERE delivered_at IS NULL AND gave_up_at IS NULL;

-- A one-time link acts on the comment version it was issued for, and a
-- comment's live links are spent by any decision, found by comment.
ALTER TABLE action_links ADD COLUMN comment_version BIGINT NOT NULL DEFAULT 0;
CREATE INDEX action_links_comment ON action_links (comment_id) WHERE used_at IS NULL;
