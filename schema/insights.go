package schema

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"
)

// Insights are rollups the writes keep as they happen, per article and
// hour (comments' events, reactions added and retracted, reports), and
// per site and day (decisions, waiting times, the rules that held
// comments, queue sizes). The group-commit writer folds a batch's events
// per row as it folds counters, so a batch adds one upsert per (article,
// hour) touched, not one per vote; decisions, which have their own
// transaction, add theirs in it. The hours are the only rollups the hot
// paths write: the day and month rows, which serve the rankings and the
// desk over long periods, are the hours summed by the periodic job once
// each day or month has ended (FoldInsightMonths), and a day not summed
// yet, today always, is read from its hours. They hold no personal data
// (see 0021_insights.sql).

const hourMS = int64(time.Hour / time.Millisecond)

// HourOf is the start of the UTC hour of a time in ms.
func HourOf(ms int64) int64 { return ms - ms%hourMS }

// DayOf is the start of the UTC day of a time in ms.
func DayOf(ms int64) int64 { return ms - ms%day }

// WaitBuckets are the upper bounds, in seconds, of the histogram of the
// time from a comment's post to a moderator's decision; longer waits go in
// bucket 0.
var WaitBuckets = []int64{60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 12 * 3600, 24 * 3600, 48 * 3600, 7 * 24 * 3600}

func waitBucket(ms int64) int64 {
	for _, b := range WaitBuckets {
		if ms <= b*1000 {
			return b
		}
	}
	return 0
}

// SetRollups turns the insights' rollups on (the default) or off. Off is
// for the benchmark only, to measure what they cost the hot paths.
func (s *Store) SetRollups(on bool) { s.noRollups.Store(!on) }

func (s *Store) rollups() bool { return !s.noRollups.Load() }

// commentHour is one article's comment events in a batch.
type commentHour struct {
	site                                             int64
	posted, published, held, rejected, spam, reports int64
}

type ruleKey struct {
	site int64
	rule string
}

// insights is what a batch folds for the rollups.
type insights struct {
	reactions map[countKey]*[2]int64 // added, retracted
	comments  map[int64]*commentHour
	held      map[ruleKey]int64
}

func (b *batch) rollReaction(article int64, reaction string, by int64) {
	if !b.s.rollups() {
		return
	}
	if b.ins.reactions == nil {
		b.ins.reactions = map[countKey]*[2]int64{}
	}
	k := countKey{article, reaction}
	d := b.ins.reactions[k]
	if d == nil {
		d = &[2]int64{}
		b.ins.reactions[k] = d
	}
	if by > 0 {
		d[0] += by
	} else {
		d[1] -= by
	}
}

func (b *batch) commentHour(site, article int64) *commentHour {
	if b.ins.comments == nil {
		b.ins.comments = map[int64]*commentHour{}
	}
	h := b.ins.comments[article]
	if h == nil {
		h = &commentHour{site: site}
		b.ins.comments[article] = h
	}
	return h
}

// rollPost records a new comment: posted, the status the policy gave it,
// and the rules that held it.
func (b *batch) rollPost(c *Comment) {
	if !b.s.rollups() {
		return
	}
	h := b.commentHour(c.SiteID, c.ArticleID)
	h.posted++
	statusEvent(h, c.Status, 1)
	if c.Status == StatusApproved {
		return
	}
	if b.ins.held == nil {
		b.ins.held = map[ruleKey]int64{}
	}
	for _, r := range holdingRules(c.Reasons) {
		b.ins.held[ruleKey{c.SiteID, r}]++
	}
}

func (b *batch) rollReport(site, article int64) {
	if b.s.rollups() {
		b.commentHour(site, article).reports++
	}
}

func statusEvent(h *commentHour, status string, by int64) {
	switch status {
	case StatusApproved:
		h.published += by
	case StatusPending:
		h.held += by
	case StatusRejected:
		h.rejected += by
	case StatusSpam:
		h.spam += by
	}
}

// holdingRules are the rules among a comment's reasons that did more than
// allow it, each once.
func holdingRules(reasons string) []string {
	var rs []struct {
		Rule    string `json:"rule"`
		Verdict string `json:"verdict"`
	}
	if json.Unmarshal([]byte(reasons), &rs) != nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, r := range rs {
		if r.Rule != "" && r.Verdict != "allow" && !seen[r.Rule] {
			seen[r.Rule] = true
			out = append(out, r.Rule)
		}
	}
	return out
}

// The rollups' statements on SQLite, prepared once; the article's site is
// read in the statement, so the vote path needs nothing more.
const (
	sqlRollReaction = `INSERT INTO insight_reaction_hours (article_id, hour, reaction, site_id, added, retracted)
		SELECT id, ?, ?, site_id, ?, ? FROM articles WHERE id = ?
		ON CONFLICT (article_id, hour, reaction) DO UPDATE SET added = insight_reaction_hours.added + excluded.added,
			retracted = insight_reaction_hours.retracted + excluded.retracted`
	sqlRollComments = `INSERT INTO insight_hours (article_id, hour, site_id, posted, published, held, rejected, spam, reports)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (article_id, hour) DO UPDATE SET posted = insight_hours.posted + excluded.posted,
			published = insight_hours.published + excluded.published, held = insight_hours.held + excluded.held,
			rejected = insight_hours.rejected + excluded.rejected, spam = insight_hours.spam + excluded.spam,
			reports = insight_hours.reports + excluded.reports`
	sqlRollHeld = `INSERT INTO insight_rule_days (site_id, day, rule, held) VALUES (?, ?, ?, ?)
		ON CONFLICT (site_id, day, rule) DO UPDATE SET held = insight_rule_days.held + excluded.held`
)

// applyInsights writes what the batch folded, in key order like the
// counters: one statement per row on SQLite; on PostgreSQL one for the
// comments' hours, the reactions' having gone with the counters
// (applyCounts, which runs first). Only the hour rows: the day rows are
// summed from them once the day has ended (foldDays).
func (b *batch) applyInsights() error {
	if len(b.ins.reactions) == 0 && len(b.ins.comments) == 0 && len(b.ins.held) == 0 {
		return nil
	}
	now := b.s.nowMS()
	hour := HourOf(now)
	// On PostgreSQL applyCounts wrote the reactions' rollups with the
	// counters and left none here.
	if len(b.ins.reactions) > 0 {
		keys := make([]countKey, 0, len(b.ins.reactions))
		for k := range b.ins.reactions {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].article != keys[j].article {
				return keys[i].article < keys[j].article
			}
			return keys[i].reaction < keys[j].reaction
		})
		for _, k := range keys {
			d := b.ins.reactions[k]
			if _, err := b.exec(sqlRollReaction, hour, k.reaction, d[0], d[1], k.article); err != nil {
				return fmt.Errorf("roll reactions: %w", err)
			}
		}
	}
	if len(b.ins.comments) > 0 {
		arts := make([]int64, 0, len(b.ins.comments))
		for a := range b.ins.comments {
			arts = append(arts, a)
		}
		sort.Slice(arts, func(i, j int) bool { return arts[i] < arts[j] })
		if b.s.dialect == Postgres {
			cols := make([][]int64, 7)
			for i := range cols {
				cols[i] = make([]int64, len(arts))
			}
			for i, a := range arts {
				h := b.ins.comments[a]
				cols[0][i], cols[1][i], cols[2][i], cols[3][i], cols[4][i], cols[5][i], cols[6][i] = h.site, h.posted, h.published, h.held, h.rejected, h.spam, h.reports
			}
			b.later(`INSERT INTO insight_hours (article_id, hour, site_id, posted, published, held, rejected, spam, reports)
				SELECT u.a, $9, u.s, u.p, u.pub, u.h, u.r, u.sp, u.rep
				FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[])
					WITH ORDINALITY AS u(a, s, p, pub, h, r, sp, rep, n) ORDER BY u.n
				ON CONFLICT (article_id, hour) DO UPDATE SET posted = insight_hours.posted + excluded.posted,
					published = insight_hours.published + excluded.published, held = insight_hours.held + excluded.held,
					rejected = insight_hours.rejected + excluded.rejected, spam = insight_hours.spam + excluded.spam,
					reports = insight_hours.reports + excluded.reports`,
				arts, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], hour)
		} else {
			for _, a := range arts {
				h := b.ins.comments[a]
				if _, err := b.exec(sqlRollComments, a, hour, h.site, h.posted, h.published, h.held, h.rejected, h.spam, h.reports); err != nil {
					return fmt.Errorf("roll comments: %w", err)
				}
			}
		}
	}
	if len(b.ins.held) > 0 {
		keys := make([]ruleKey, 0, len(b.ins.held))
		for k := range b.ins.held {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].site != keys[j].site {
				return keys[i].site < keys[j].site
			}
			return keys[i].rule < keys[j].rule
		})
		for _, k := range keys {
			if err := b.execAtEnd(sqlRollHeld, k.site, DayOf(now), k.rule, b.ins.held[k]); err != nil {
				return fmt.Errorf("roll rules: %w", err)
			}
		}
	}
	return nil
}

// rollStatus records a comment entering a status after it was posted (a
// decision, an edit, a ban), in the transaction of the change.
func (s *Store) rollStatus(ctx context.Context, tx sqlx.ExtContext, c *Comment, status string) error {
	if !s.rollups() || c.Status == status {
		return nil
	}
	var h commentHour
	statusEvent(&h, status, 1)
	if h == (commentHour{}) {
		return nil
	}
	if _, err := tx.ExecContext(ctx, s.q(sqlRollComments), c.ArticleID, HourOf(s.nowMS()), c.SiteID, 0, h.published, h.held, h.rejected, h.spam, 0); err != nil {
		return fmt.Errorf("roll status: %w", err)
	}
	return nil
}

// rollDecision records a moderator's decision that changed a comment: by
// whom and what, how long the comment waited if it was held, and what the
// decision says of the rules that held it.
func (s *Store) rollDecision(ctx context.Context, tx sqlx.ExtContext, before *Comment, status string, a Audit) error {
	if !s.rollups() {
		return nil
	}
	now := s.nowMS()
	today := DayOf(now)
	action := a.Action
	if action == "" {
		action = "comment." + status
	}
	var moderator int64 // 0: the policy, a link or a ban, not a moderator
	if a.ModeratorID != nil {
		moderator = *a.ModeratorID
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO insight_decision_days (site_id, day, moderator_id, action, decisions) VALUES (?, ?, ?, ?, 1)
		ON CONFLICT (site_id, day, moderator_id, action) DO UPDATE SET decisions = insight_decision_days.decisions + 1`),
		before.SiteID, today, moderator, action); err != nil {
		return fmt.Errorf("roll decision: %w", err)
	}
	held := before.Queue == QueuePending || before.Queue == QueueSpam || before.Queue == QueueReported
	if !held {
		return nil
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO insight_wait_days (site_id, day, bucket, decisions) VALUES (?, ?, ?, 1)
		ON CONFLICT (site_id, day, bucket) DO UPDATE SET decisions = insight_wait_days.decisions + 1`),
		before.SiteID, today, waitBucket(now-before.CreatedMS)); err != nil {
		return fmt.Errorf("roll wait: %w", err)
	}
	if before.Queue == QueueReported {
		return nil
	}
	col := map[string]string{StatusApproved: "approved", StatusRejected: "rejected", StatusSpam: "spam"}[status]
	if col == "" {
		return nil
	}
	rules := holdingRules(before.Reasons)
	sort.Strings(rules)
	for _, r := range rules {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO insight_rule_days (site_id, day, rule, `+col+`) VALUES (?, ?, ?, 1)
			ON CONFLICT (site_id, day, rule) DO UPDATE SET `+col+` = insight_rule_days.`+col+` + 1`), before.SiteID, today, r); err != nil {
			return fmt.Errorf("roll rule: %w", err)
		}
	}
	return nil
}

// SampleQueues records the queues' current sizes as today's: the sweep
// calls it every minute, so a day's row ends with its last sample.
func (s *Store) SampleQueues(ctx context.Context) error {
	if !s.rollups() {
		return nil
	}
	return s.write(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO insight_queue_days (site_id, day, queue, size)
			SELECT site_id, ?, queue, count FROM queue_counts WHERE TRUE
			ON CONFLICT (site_id, day, queue) DO UPDATE SET size = excluded.size`), DayOf(s.nowMS()))
		if err != nil {
			return fmt.Errorf("sample queues: %w", err)
		}
		return nil
	})
}

// MonthOf is the start of the UTC calendar month of a time in ms.
func MonthOf(ms int64) int64 {
	t := time.UnixMilli(ms).UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).UnixMilli()
}

// nextMonth is the start of the month after the one starting at m.
func nextMonth(m int64) int64 { return time.UnixMilli(m).UTC().AddDate(0, 1, 0).UnixMilli() }

// RefoldInsights forgets that the days of [from, to) and their months were
// summed, and sums them again from their hours. Writes roll up into the
// hour of their own clock, so an ended day's hours change only when
// history is written at past times (a tool loading a history, or an
// instance whose clock was behind by more than the settling time).
func (s *Store) RefoldInsights(ctx context.Context, from, to time.Time, retention time.Duration) error {
	first, last := DayOf(from.UnixMilli()), DayOf(to.UnixMilli())+day
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM insight_folded_days WHERE day >= ? AND day < ?`), first, last); err != nil {
			return fmt.Errorf("unfold days: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM insight_folded_months WHERE month >= ? AND month < ?`), MonthOf(first), last); err != nil {
			return fmt.Errorf("unfold months: %w", err)
		}
		s.changed(tx, change{kind: changeAll})
		return nil
	})
	if err != nil {
		return err
	}
	_, err = s.FoldInsightMonths(ctx, retention)
	return err
}

// FoldInsightMonths sums every day and then every month that has ended
// (and settled) within the retention and was not folded yet into the day
// and month rollups, a transaction per day or month: an ended day's hours
// never change, nor a month's days, so each is done once. The days go
// first, since the months are their sums. It returns how many months it
// folded. Instances may race for a day or a month: the first to claim it
// in insight_folded_days or insight_folded_months folds it, the others
// find it claimed and skip it.
func (s *Store) FoldInsightMonths(ctx context.Context, retention time.Duration) (int, error) {
	now := s.nowMS()
	last := MonthOf(now - settleMS) // months before it are over and settled
	first := MonthOf(now - retention.Milliseconds())
	// The days within the retention (the sweep, which runs first,
	// removed the hours before it).
	if err := s.foldDays(ctx, DayOf(now-retention.Milliseconds()), DayOf(now-settleMS), now); err != nil {
		return 0, err
	}
	var done []int64
	if err := s.db.SelectContext(ctx, &done, s.q(`SELECT month FROM insight_folded_months WHERE month >= ? AND month < ?`), first, last); err != nil {
		return 0, fmt.Errorf("read folded months: %w", err)
	}
	var sites []int64
	if err := s.db.SelectContext(ctx, &sites, `SELECT id FROM sites ORDER BY id`); err != nil {
		return 0, fmt.Errorf("read sites: %w", err)
	}
	n := 0
	for m := first; m < last; m = nextMonth(m) {
		if slices.Contains(done, m) {
			continue
		}
		err := s.write(ctx, func(tx *sqlx.Tx) error {
			res, err := tx.ExecContext(ctx, s.q(`INSERT INTO insight_folded_months (month, folded_at) VALUES (?, ?) ON CONFLICT (month) DO NOTHING`), m, now)
			if err != nil {
				return fmt.Errorf("claim month: %w", err)
			}
			if claimed, _ := res.RowsAffected(); claimed == 0 {
				return nil
			}
			for _, site := range sites {
				if err := s.foldMonth(ctx, tx, site, m); err != nil {
					return err
				}
			}
			n++
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// foldDays writes the day rows of every day in [first, last) not folded
// yet as the sums of its hours, for every site, replacing any it had (the
// hot paths wrote day rows before 0028, today's partly).
func (s *Store) foldDays(ctx context.Context, first, last, now int64) error {
	var done []int64
	if err := s.db.SelectContext(ctx, &done, s.q(`SELECT day FROM insight_folded_days WHERE day >= ? AND day < ? ORDER BY day`), first, last); err != nil {
		return fmt.Errorf("read folded days: %w", err)
	}
	for d := first; d < last; d += day {
		if _, found := slices.BinarySearch(done, d); found {
			continue
		}
		err := s.write(ctx, func(tx *sqlx.Tx) error {
			res, err := tx.ExecContext(ctx, s.q(`INSERT INTO insight_folded_days (day, folded_at) VALUES (?, ?) ON CONFLICT (day) DO NOTHING`), d, now)
			if err != nil {
				return fmt.Errorf("claim day: %w", err)
			}
			if claimed, _ := res.RowsAffected(); claimed == 0 {
				return nil
			}
			// Every site's rows in one range of the (site_id, time)
			// indexes per site.
			for _, q := range []string{
				`DELETE FROM insight_days WHERE site_id IN (SELECT id FROM sites) AND day = ?`,
				`DELETE FROM insight_reaction_days WHERE site_id IN (SELECT id FROM sites) AND day = ?`,
			} {
				if _, err := tx.ExecContext(ctx, s.q(q), d); err != nil {
					return fmt.Errorf("fold day: %w", err)
				}
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO insight_days (site_id, day, article_id, posted, published, held, rejected, spam, reports)
				SELECT site_id, CAST(? AS BIGINT), article_id, SUM(posted), SUM(published), SUM(held), SUM(rejected), SUM(spam), SUM(reports)
				FROM insight_hours WHERE site_id IN (SELECT id FROM sites) AND hour >= ? AND hour < ? GROUP BY site_id, article_id`), d, d, d+day); err != nil {
				return fmt.Errorf("fold day: %w", err)
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO insight_reaction_days (site_id, day, article_id, reaction, added, retracted)
				SELECT site_id, CAST(? AS BIGINT), article_id, reaction, SUM(added), SUM(retracted)
				FROM insight_reaction_hours WHERE site_id IN (SELECT id FROM sites) AND hour >= ? AND hour < ? GROUP BY site_id, article_id, reaction`), d, d, d+day); err != nil {
				return fmt.Errorf("fold day: %w", err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// foldMonth writes a site's month rows as the sums of the days kept in the
// month, replacing any it had.
func (s *Store) foldMonth(ctx context.Context, tx *sqlx.Tx, site, m int64) error {
	end := nextMonth(m)
	for _, q := range []string{
		`DELETE FROM insight_months WHERE site_id = ? AND month = ?`,
		`DELETE FROM insight_reaction_months WHERE site_id = ? AND month = ?`,
	} {
		if _, err := tx.ExecContext(ctx, s.q(q), site, m); err != nil {
			return fmt.Errorf("fold month: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO insight_months (site_id, month, article_id, posted, published, held, rejected, spam, reports)
		SELECT site_id, CAST(? AS BIGINT), article_id, SUM(posted), SUM(published), SUM(held), SUM(rejected), SUM(spam), SUM(reports)
		FROM insight_days WHERE site_id = ? AND day >= ? AND day < ? GROUP BY site_id, article_id`), m, site, m, end); err != nil {
		return fmt.Errorf("fold month: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO insight_reaction_months (site_id, month, article_id, reaction, added, retracted)
		SELECT site_id, CAST(? AS BIGINT), article_id, reaction, SUM(added), SUM(retracted)
		FROM insight_reaction_days WHERE site_id = ? AND day >= ? AND day < ? GROUP BY site_id, article_id, reaction`), m, site, m, end); err != nil {
		return fmt.Errorf("fold month: %w", err)
	}
	return nil
}

// DeleteOldInsights removes rollups older than retention, site by site so
// that each delete is an index range. The cut is at a UTC midnight, so
// that whole days go with their hours; the months before the cut's go,
// and the cut's own month, if folded, is folded again from the days left,
// so that every folded month stays the sum of its days. It returns how
// many rows went.
func (s *Store) DeleteOldInsights(ctx context.Context, retention time.Duration) (int64, error) {
	cut := DayOf(s.nowMS() - retention.Milliseconds())
	cutMonth := MonthOf(cut)
	var sites []int64
	if err := s.db.SelectContext(ctx, &sites, `SELECT id FROM sites ORDER BY id`); err != nil {
		return 0, fmt.Errorf("read sites: %w", err)
	}
	var total int64
	for _, site := range sites {
		err := s.write(ctx, func(tx *sqlx.Tx) error {
			var days int64
			for _, t := range []struct {
				table, col string
				before     int64
			}{
				{"insight_hours", "hour", cut}, {"insight_reaction_hours", "hour", cut}, {"insight_days", "day", cut}, {"insight_reaction_days", "day", cut},
				{"insight_decision_days", "day", cut}, {"insight_wait_days", "day", cut}, {"insight_rule_days", "day", cut}, {"insight_queue_days", "day", cut},
				{"insight_months", "month", cutMonth}, {"insight_reaction_months", "month", cutMonth},
			} {
				res, err := tx.ExecContext(ctx, s.q(`DELETE FROM `+t.table+` WHERE site_id = ? AND `+t.col+` < ?`), site, t.before)
				if err != nil {
					return fmt.Errorf("delete old insights: %w", err)
				}
				n, _ := res.RowsAffected()
				total += n
				if t.table == "insight_days" || t.table == "insight_reaction_days" {
					days += n
				}
			}
			if days == 0 || cutMonth == cut {
				return nil
			}
			var folded int
			if err := tx.GetContext(ctx, &folded, s.q(`SELECT COUNT(*) FROM insight_folded_months WHERE month = ?`), cutMonth); err != nil {
				return fmt.Errorf("read folded months: %w", err)
			}
			if folded == 0 {
				return nil
			}
			return s.foldMonth(ctx, tx, site, cutMonth)
		})
		if err != nil {
			return total, err
		}
	}
	if err := s.write(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM insight_folded_days WHERE day < ?`), cut); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`DELETE FROM insight_folded_months WHERE month < ?`), cutMonth)
		return err
	}); err != nil {
		return total, fmt.Errorf("delete old insights: %w", err)
	}
	if total > 0 {
		s.state.insightDays.Clear() // sums of days that are gone
		s.state.insightParts.Clear()
		s.state.insightDesk.Clear()
	}
	return total, nil
}
