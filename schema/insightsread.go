package schema

import (
	"context"
	"fmt"
	"maps"

	"github.com/jmoiron/sqlx"
)

// InsightScope is what an insights read covers: the sites (nil for every
// site) and the period, From included and To excluded, in ms.
type InsightScope struct {
	SiteIDs  []int64
	From, To int64
}

// where returns the scope's condition on a table with site_id and the
// given time column, and its arguments; none is false for an empty list
// of sites (nothing to read).
func (sc InsightScope) where(alias, col string) (string, []any, bool) {
	cond, args := alias+col+` >= ? AND `+alias+col+` < ?`, []any{sc.From, sc.To}
	if sc.SiteIDs == nil {
		return cond, args, true
	}
	if len(sc.SiteIDs) == 0 {
		return "", nil, false
	}
	q, in, err := sqlx.In(alias+`site_id IN (?) AND `+cond, append([]any{sc.SiteIDs}, args...)...)
	if err != nil {
		return "", nil, false
	}
	return q, in, true
}

// ArticleActivity is what happened under an article in a period.
type ArticleActivity struct {
	ArticleID, SiteID                                int64
	Added, Retracted                                 Counts
	Posted, Published, Held, Rejected, Spam, Reports int64
}

// Net is how many readers chose reaction in the period, less those who
// took it back (never below zero).
func (a *ArticleActivity) Net(reaction string) int64 {
	return max(a.Added[reaction]-a.Retracted[reaction], 0)
}

// settleMS is how long after midnight a day's rollups are taken as final:
// every write rolls into the day of its own clock, and instances' clocks
// differ by far less.
const settleMS = 5 * 60 * 1000

// InsightArticles returns every article with activity in the scope, by
// id, from the day rollups of the scope's days (a period is read in whole
// UTC days). Days that have ended never change, so their sums are kept
// (a year of a busy site is a hundred thousand rows to add up) and only
// today's rows are read again.
func (s *Store) InsightArticles(ctx context.Context, sc InsightScope) (map[int64]*ArticleActivity, error) {
	from := DayOf(sc.From)
	settled := min(DayOf(s.nowMS()-settleMS), sc.To)
	if settled <= from {
		return s.insightArticles(ctx, sc.SiteIDs, from, sc.To)
	}
	key := fmt.Sprint(sc.SiteIDs, from, settled)
	if sc.SiteIDs == nil {
		key = fmt.Sprint("all", from, settled)
	}
	past, err := s.state.insightDays.Load(key, func() (map[int64]*ArticleActivity, error) {
		return s.insightArticles(ctx, sc.SiteIDs, from, settled)
	})
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*ArticleActivity, len(past))
	for id, a := range past {
		c := *a
		c.Added, c.Retracted = maps.Clone(a.Added), maps.Clone(a.Retracted)
		out[id] = &c
	}
	if settled == sc.To {
		return out, nil
	}
	recent, err := s.insightArticles(ctx, sc.SiteIDs, settled, sc.To)
	if err != nil {
		return nil, err
	}
	for id, r := range recent {
		a := out[id]
		if a == nil {
			out[id] = r
			continue
		}
		for k, n := range r.Added {
			a.Added[k] += n
		}
		for k, n := range r.Retracted {
			a.Retracted[k] += n
		}
		a.Posted += r.Posted
		a.Published += r.Published
		a.Held += r.Held
		a.Rejected += r.Rejected
		a.Spam += r.Spam
		a.Reports += r.Reports
	}
	return out, nil
}

// insightArticles sums the day rollups of [from, to) here: the rows come
// in key order, site and day first, and summing in a map spares the
// database a sort.
func (s *Store) insightArticles(ctx context.Context, sites []int64, from, to int64) (map[int64]*ArticleActivity, error) {
	out := map[int64]*ArticleActivity{}
	cond, args, ok := InsightScope{sites, from, to}.where("", "day")
	if !ok {
		return out, nil
	}
	get := func(id, site int64) *ArticleActivity {
		a := out[id]
		if a == nil {
			a = &ArticleActivity{ArticleID: id, SiteID: site, Added: Counts{}, Retracted: Counts{}}
			out[id] = a
		}
		return a
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT article_id, site_id, reaction, added, retracted
		FROM insight_reaction_days WHERE `+cond), args...)
	if err != nil {
		return nil, fmt.Errorf("read reaction insights: %w", err)
	}
	for rows.Next() {
		var id, site, added, retracted int64
		var r string
		if err := rows.Scan(&id, &site, &r, &added, &retracted); err != nil {
			rows.Close()
			return nil, err
		}
		a := get(id, site)
		a.Added[r] += added
		a.Retracted[r] += retracted
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.db.QueryContext(ctx, s.q(`SELECT article_id, site_id, posted, published, held, rejected, spam, reports
		FROM insight_days WHERE `+cond), args...)
	if err != nil {
		return nil, fmt.Errorf("read comment insights: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, site int64
		var h commentHour
		if err := rows.Scan(&id, &site, &h.posted, &h.published, &h.held, &h.rejected, &h.spam, &h.reports); err != nil {
			return nil, err
		}
		a := get(id, site)
		a.Posted += h.posted
		a.Published += h.published
		a.Held += h.held
		a.Rejected += h.rejected
		a.Spam += h.spam
		a.Reports += h.reports
	}
	return out, rows.Err()
}

// InsightPoint is one step of an article's history.
type InsightPoint struct {
	At                                               int64
	Added, Retracted                                 Counts
	Posted, Published, Held, Rejected, Spam, Reports int64
}

// InsightSeries returns an article's history from from to to (ms) in steps
// of step ms (a multiple of an hour), every step present, quiet ones zero.
// Steps of whole days read the day rollups, others the hours.
func (s *Store) InsightSeries(ctx context.Context, articleID, from, to, step int64) ([]InsightPoint, error) {
	if step < hourMS || to <= from {
		return nil, fmt.Errorf("insight series: a step of at least an hour over a period that ends after it starts")
	}
	from -= from % step
	n := (to - from + step - 1) / step
	out := make([]InsightPoint, n)
	for i := range out {
		out[i] = InsightPoint{At: from + int64(i)*step, Added: Counts{}, Retracted: Counts{}}
	}
	at := func(hour int64) *InsightPoint { return &out[(hour-from)/step] }
	rt, ct, col := "insight_reaction_hours", "insight_hours", "hour"
	if step%day == 0 {
		rt, ct, col = "insight_reaction_days", "insight_days", "day"
	}
	rows, err := s.db.QueryxContext(ctx, s.q(`SELECT `+col+`, reaction, added, retracted FROM `+rt+`
		WHERE article_id = ? AND `+col+` >= ? AND `+col+` < ?`), articleID, from, to)
	if err != nil {
		return nil, fmt.Errorf("read reaction history: %w", err)
	}
	for rows.Next() {
		var hour, added, retracted int64
		var r string
		if err := rows.Scan(&hour, &r, &added, &retracted); err != nil {
			rows.Close()
			return nil, err
		}
		p := at(hour)
		p.Added[r] += added
		p.Retracted[r] += retracted
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.db.QueryxContext(ctx, s.q(`SELECT `+col+`, posted, published, held, rejected, spam, reports FROM `+ct+`
		WHERE article_id = ? AND `+col+` >= ? AND `+col+` < ?`), articleID, from, to)
	if err != nil {
		return nil, fmt.Errorf("read comment history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var hour int64
		var h commentHour
		if err := rows.Scan(&hour, &h.posted, &h.published, &h.held, &h.rejected, &h.spam, &h.reports); err != nil {
			return nil, err
		}
		p := at(hour)
		p.Posted += h.posted
		p.Published += h.published
		p.Held += h.held
		p.Rejected += h.rejected
		p.Spam += h.spam
		p.Reports += h.reports
	}
	return out, rows.Err()
}

// DeskDay is the moderation desk's day: comments posted and held, the
// decisions by action, the histogram of waits (by WaitBuckets bound, 0
// beyond) and the queues' sizes at the day's end (absent if not sampled).
type DeskDay struct {
	Day          int64
	Posted, Held int64
	Decisions    map[string]int64
	Waits        map[int64]int64
	Queues       map[string]int64
}

// ModeratorDecisions is how many decisions of an action one moderator
// made in a period; ModeratorID 0 with Email "" stands for one-time links
// and the command line.
type ModeratorDecisions struct {
	ModeratorID int64  `db:"moderator_id"`
	Email       string `db:"email"`
	Action      string `db:"action"`
	Decisions   int64  `db:"decisions"`
}

// InsightDesk returns the desk's days in the scope, oldest first (every
// day of the period), and the decisions by moderator.
func (s *Store) InsightDesk(ctx context.Context, sc InsightScope) ([]DeskDay, []ModeratorDecisions, error) {
	first := DayOf(sc.From)
	var days []DeskDay
	for d := first; d < sc.To; d += day {
		days = append(days, DeskDay{Day: d, Decisions: map[string]int64{}, Waits: map[int64]int64{}, Queues: map[string]int64{}})
	}
	at := func(ms int64) *DeskDay {
		i := (DayOf(ms) - first) / day
		if i < 0 || int(i) >= len(days) {
			return nil
		}
		return &days[i]
	}
	dscope := InsightScope{sc.SiteIDs, first, sc.To}
	dcond, dargs, ok := dscope.where("", "day")
	if !ok {
		return days, nil, nil
	}
	rows, err := s.db.QueryxContext(ctx, s.q(`SELECT day, SUM(posted), SUM(held) FROM insight_days WHERE `+dcond+` GROUP BY day`), dargs...)
	if err != nil {
		return nil, nil, fmt.Errorf("read desk: %w", err)
	}
	for rows.Next() {
		var dayMS, posted, held int64
		if err := rows.Scan(&dayMS, &posted, &held); err != nil {
			rows.Close()
			return nil, nil, err
		}
		if d := at(dayMS); d != nil {
			d.Posted += posted
			d.Held += held
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	for _, t := range []struct {
		query string
		add   func(d *DeskDay, key string, n int64)
	}{
		{`SELECT day, action, SUM(decisions) FROM insight_decision_days WHERE ` + dcond + ` GROUP BY day, action`,
			func(d *DeskDay, k string, n int64) { d.Decisions[k] += n }},
		{`SELECT day, queue, SUM(size) FROM insight_queue_days WHERE ` + dcond + ` GROUP BY day, queue`,
			func(d *DeskDay, k string, n int64) { d.Queues[k] += n }},
	} {
		rows, err := s.db.QueryxContext(ctx, s.q(t.query), dargs...)
		if err != nil {
			return nil, nil, fmt.Errorf("read desk: %w", err)
		}
		for rows.Next() {
			var dayMS, n int64
			var k string
			if err := rows.Scan(&dayMS, &k, &n); err != nil {
				rows.Close()
				return nil, nil, err
			}
			if d := at(dayMS); d != nil {
				t.add(d, k, n)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	rows, err = s.db.QueryxContext(ctx, s.q(`SELECT day, bucket, SUM(decisions) FROM insight_wait_days WHERE `+dcond+` GROUP BY day, bucket`), dargs...)
	if err != nil {
		return nil, nil, fmt.Errorf("read waits: %w", err)
	}
	for rows.Next() {
		var dayMS, bucket, n int64
		if err := rows.Scan(&dayMS, &bucket, &n); err != nil {
			rows.Close()
			return nil, nil, err
		}
		if d := at(dayMS); d != nil {
			d.Waits[bucket] += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	mcond, margs, _ := dscope.where("d.", "day")
	var mods []ModeratorDecisions
	if err := s.db.SelectContext(ctx, &mods, s.q(`SELECT d.moderator_id, COALESCE(m.email, '') AS email, d.action, SUM(d.decisions) AS decisions
		FROM insight_decision_days d LEFT JOIN moderators m ON m.id = d.moderator_id
		WHERE `+mcond+` GROUP BY d.moderator_id, m.email, d.action ORDER BY decisions DESC, d.moderator_id, d.action`), margs...); err != nil {
		return nil, nil, fmt.Errorf("read decisions by moderator: %w", err)
	}
	return days, mods, nil
}

// RuleActivity is what one rule held in a period and what moderators
// decided on the comments it held.
type RuleActivity struct {
	Rule     string `db:"rule"`
	Held     int64  `db:"held"`
	Approved int64  `db:"approved"`
	Rejected int64  `db:"rejected"`
	Spam     int64  `db:"spam"`
}

// InsightRules returns the rules' activity in the scope, most held first.
func (s *Store) InsightRules(ctx context.Context, sc InsightScope) ([]RuleActivity, error) {
	cond, args, ok := InsightScope{sc.SiteIDs, DayOf(sc.From), sc.To}.where("", "day")
	if !ok {
		return nil, nil
	}
	var out []RuleActivity
	if err := s.db.SelectContext(ctx, &out, s.q(`SELECT rule, SUM(held) AS held, SUM(approved) AS approved, SUM(rejected) AS rejected, SUM(spam) AS spam
		FROM insight_rule_days WHERE `+cond+` GROUP BY rule ORDER BY held DESC, rule`), args...); err != nil {
		return nil, fmt.Errorf("read rule insights: %w", err)
	}
	return out, nil
}

// RecountInsights counts an article's comment events again from the rows
// themselves: comments posted per hour, and how many times comments
// entered each status (the comments in it now, plus the audited decisions
// that took one out of it). It scans, so only tests and the benchmark call
// it, to check the rollups; it holds when every status change after a post
// was a decision.
func (s *Store) RecountInsights(ctx context.Context, articleID int64) (posted map[int64]int64, entered map[string]int64, err error) {
	posted, entered = map[int64]int64{}, map[string]int64{}
	var rows []struct {
		Created int64  `db:"created_at"`
		Status  string `db:"status"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.q(`SELECT created_at, status FROM comments WHERE article_id = ?`), articleID); err != nil {
		return nil, nil, fmt.Errorf("recount comments: %w", err)
	}
	for _, r := range rows {
		posted[HourOf(r.Created)]++
		entered[r.Status]++
	}
	var left []struct {
		Status string `db:"before_state"`
		N      int64  `db:"n"`
	}
	if err := s.db.SelectContext(ctx, &left, s.q(`SELECT a.before_state, COUNT(*) AS n FROM audit_log a JOIN comments c ON c.id = a.object_id
		WHERE a.object_type = 'comment' AND c.article_id = ? AND a.before_state <> a.after_state GROUP BY a.before_state`), articleID); err != nil {
		return nil, nil, fmt.Errorf("recount decisions: %w", err)
	}
	for _, l := range left {
		entered[l.Status] += l.N
	}
	return posted, entered, nil
}
