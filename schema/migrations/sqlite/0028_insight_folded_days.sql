-- The day rollups are no longer written by the hot paths: a vote or a
-- post adds to its article's hour row only, and the periodic Insights
-- job sums each ended (and settled) day's hours into the day rows once,
-- as it sums the months. A day without a row here is read from its hours
-- (today always; an ended day until the job reaches it). The day rows
-- written before this version, today's included, are replaced from the
-- hours when their day is folded, so no data moves here.
CREATE TABLE insight_folded_days (
    day       BIGINT NOT NULL PRIMARY KEY,
    folded_at BIGINT NOT NULL
) WITHOUT ROWID;
