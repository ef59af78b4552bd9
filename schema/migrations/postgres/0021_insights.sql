-- Insights: what readers and moderators did, hour by hour and day by day,
-- kept by the writes themselves (in their transactions) so that trends
-- never need a scan of the comments or reactions. No reader, email, IP or
-- text is kept here: the rows survive `reader forget` and say nothing of
-- anyone. Times are the start of the UTC hour or day, in ms. No foreign
-- keys: the hot paths would pay for the check, and the retention sweep
-- removes old rows.

-- One row per article and hour with comments' events: posted, and each
-- comment entering published, held, rejected or spam (by the policy when
-- posted, by a moderator, an edit or a ban later); reports counted.
CREATE TABLE insight_hours (
    article_id BIGINT NOT NULL,
    hour       BIGINT NOT NULL,
    site_id    BIGINT NOT NULL,
    posted     BIGINT NOT NULL DEFAULT 0,
    published  BIGINT NOT NULL DEFAULT 0,
    held       BIGINT NOT NULL DEFAULT 0,
    rejected   BIGINT NOT NULL DEFAULT 0,
    spam       BIGINT NOT NULL DEFAULT 0,
    reports    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (article_id, hour)
);
CREATE INDEX insight_hours_site ON insight_hours (site_id, hour);

-- One row per article, hour and reaction: reactions added and retracted
-- (a change from one reaction to another is both).
CREATE TABLE insight_reaction_hours (
    article_id BIGINT NOT NULL,
    hour       BIGINT NOT NULL,
    reaction   TEXT NOT NULL,
    site_id    BIGINT NOT NULL,
    added      BIGINT NOT NULL DEFAULT 0,
    retracted  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (article_id, hour, reaction)
);
CREATE INDEX insight_reaction_hours_site ON insight_reaction_hours (site_id, hour);

-- The same per UTC day, which is what the rankings and the desk read over
-- long periods: keyed by site and day first, so that a period of a site
-- is one range of the key.
CREATE TABLE insight_days (
    site_id    BIGINT NOT NULL,
    day        BIGINT NOT NULL,
    article_id BIGINT NOT NULL,
    posted     BIGINT NOT NULL DEFAULT 0,
    published  BIGINT NOT NULL DEFAULT 0,
    held       BIGINT NOT NULL DEFAULT 0,
    rejected   BIGINT NOT NULL DEFAULT 0,
    spam       BIGINT NOT NULL DEFAULT 0,
    reports    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, article_id)
);
CREATE INDEX insight_days_article ON insight_days (article_id, day);

CREATE TABLE insight_reaction_days (
    site_id    BIGINT NOT NULL,
    day        BIGINT NOT NULL,
    article_id BIGINT NOT NULL,
    reaction   TEXT NOT NULL,
    added      BIGINT NOT NULL DEFAULT 0,
    retracted  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, article_id, reaction)
);
CREATE INDEX insight_reaction_days_article ON insight_reaction_days (article_id, day);

-- The moderation desk, per site and UTC day. Decisions by action and by
-- moderator (0: a one-time link or the command line).
CREATE TABLE insight_decision_days (
    site_id      BIGINT NOT NULL,
    day          BIGINT NOT NULL,
    moderator_id BIGINT NOT NULL,
    action       TEXT NOT NULL,
    decisions    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, moderator_id, action)
);

-- How long held comments waited from being posted to a decision: a
-- histogram, by the bucket's upper bound in seconds (0 for longer than
-- the last bound), from which the median and the 90th percentile are read.
CREATE TABLE insight_wait_days (
    site_id   BIGINT NOT NULL,
    day       BIGINT NOT NULL,
    bucket    BIGINT NOT NULL,
    decisions BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, bucket)
);

-- Which rules held comments, and what moderators then decided on them:
-- the rule's precision as the newsroom sees it.
CREATE TABLE insight_rule_days (
    site_id  BIGINT NOT NULL,
    day      BIGINT NOT NULL,
    rule     TEXT NOT NULL,
    held     BIGINT NOT NULL DEFAULT 0,
    approved BIGINT NOT NULL DEFAULT 0,
    rejected BIGINT NOT NULL DEFAULT 0,
    spam     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, rule)
);

-- The queues' sizes, sampled by the periodic sweep: a day's last sample
-- is its size at the end of the day.
CREATE TABLE insight_queue_days (
    site_id BIGINT NOT NULL,
    day     BIGINT NOT NULL,
    queue   TEXT NOT NULL,
    size    BIGINT NOT NULL,
    PRIMARY KEY (site_id, day, queue)
);
