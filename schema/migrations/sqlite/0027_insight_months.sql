-- Insights per calendar month (UTC): an ended month's day rollups summed
-- once, by the periodic Insights job, so that a year's rankings read about
-- a dozen rows per article instead of every active day. A month is folded
-- only once it has ended (and the writes of its last day have settled):
-- its days never change after that, so its sums stay exact. The retention
-- sweep refolds the month it cuts into and deletes the months before it,
-- so a folded month is always the sum of the days still kept.
CREATE TABLE insight_months (
    site_id    BIGINT NOT NULL,
    month      BIGINT NOT NULL,
    article_id BIGINT NOT NULL,
    posted     BIGINT NOT NULL DEFAULT 0,
    published  BIGINT NOT NULL DEFAULT 0,
    held       BIGINT NOT NULL DEFAULT 0,
    rejected   BIGINT NOT NULL DEFAULT 0,
    spam       BIGINT NOT NULL DEFAULT 0,
    reports    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, month, article_id)
) WITHOUT ROWID;

CREATE TABLE insight_reaction_months (
    site_id    BIGINT NOT NULL,
    month      BIGINT NOT NULL,
    article_id BIGINT NOT NULL,
    reaction   TEXT NOT NULL,
    added      BIGINT NOT NULL DEFAULT 0,
    retracted  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, month, article_id, reaction)
) WITHOUT ROWID;

-- The months folded: a month without a row here is read from its days
-- (a folded month of a site with no activity has no rows above).
CREATE TABLE insight_folded_months (
    month     BIGINT NOT NULL PRIMARY KEY,
    folded_at BIGINT NOT NULL
) WITHOUT ROWID;
