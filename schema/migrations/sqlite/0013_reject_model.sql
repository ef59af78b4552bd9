-- The second per-site model: what moderators reject (abuse, insults,
-- off-topic), learned from reject decisions apart from spam. Approved
-- comments (ham) are the other class of both models, so one more count
-- per token and per site is all it takes.
ALTER TABLE classifier_tokens ADD COLUMN rejected BIGINT NOT NULL DEFAULT 0;
ALTER TABLE classifier_totals ADD COLUMN rejected BIGINT NOT NULL DEFAULT 0;
