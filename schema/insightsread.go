package schema

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/parley/parley/schema/cache"
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
	if sc.SiteIDs == nil && col == "hour" {
		// The hour tables are keyed by article: their (site_id, hour)
		// index serves a range of hours site by site, not across sites.
		return alias + `site_id IN (SELECT id FROM sites) AND ` + cond, args, true
	}
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
// id (a period is read in whole UTC days). The map and its entries may be
// shared with later calls: the caller must not change them. Days that have ended never
// change, so their sums are kept, and only today's rows are read again;
// the ended days are read from the month rollups for every whole month
// that was folded, and from the day rollups for the rest, so that a
// year is about a dozen rows per article even the first time it is
// asked for.
func (s *Store) InsightArticles(ctx context.Context, sc InsightScope) (map[int64]*ArticleActivity, error) {
	from := DayOf(sc.From)
	settled := min(DayOf(s.nowMS()-settleMS), sc.To)
	if settled <= from {
		out := map[int64]*ArticleActivity{}
		return out, s.sumActivity(ctx, out, false, sc.SiteIDs, from, sc.To)
	}
	key := fmt.Sprint(sc.SiteIDs, from, settled)
	if sc.SiteIDs == nil {
		key = fmt.Sprint("all", from, settled)
	}
	past, err := s.state.insightDays.Load(key, func() (map[int64]*ArticleActivity, error) {
		return s.settledActivity(ctx, sc.SiteIDs, from, settled)
	})
	if err != nil {
		return nil, err
	}
	if settled == sc.To {
		return past, nil
	}
	recent := map[int64]*ArticleActivity{}
	if err := s.sumActivity(ctx, recent, false, sc.SiteIDs, settled, sc.To); err != nil {
		return nil, err
	}
	if len(recent) == 0 {
		return past, nil
	}
	// The kept sums are shared: an article with recent rows gets a copy
	// with them added, the others are the kept entries themselves.
	out := maps.Clone(past)
	for id, r := range recent {
		a := out[id]
		if a == nil {
			out[id] = r
			continue
		}
		delete(out, id)
		add(out, id, a)
		add(out, id, r)
	}
	return out, nil
}

// settledActivity sums the ended days [from, to): the folded months that
// lie wholly inside from their month rows, the days around them from
// theirs. Each month's and each day's sums are kept on their own, so
// that a period never asked before is mostly made of what other periods
// read.
func (s *Store) settledActivity(ctx context.Context, sites []int64, from, to int64) (map[int64]*ArticleActivity, error) {
	out := map[int64]*ArticleActivity{}
	var folded []int64
	if err := s.db.SelectContext(ctx, &folded, s.q(`SELECT month FROM insight_folded_months WHERE month >= ? AND month < ? ORDER BY month`), from, to); err != nil {
		return nil, fmt.Errorf("read folded months: %w", err)
	}
	key := fmt.Sprint(sites)
	if sites == nil {
		key = "all" // not "[]", which is no site at all
	}
	// Which days are folded, read once for every day of the period.
	parts, err := s.dayParts(ctx, from, to)
	if err != nil {
		return nil, err
	}
	foldedDay := map[int64]bool{}
	for _, p := range parts {
		for d := p.from; p.folded && d < p.to; d += day {
			foldedDay[d] = true
		}
	}
	part := func(months bool, from, to int64) error {
		sum, err := s.state.insightParts.Load(fmt.Sprint(key, months, from), func() (map[int64]*ArticleActivity, error) {
			sum := map[int64]*ArticleActivity{}
			switch {
			case months:
				return sum, s.sumRows(ctx, sum, "month", "insight_reaction_months", "insight_months", sites, from, to)
			case foldedDay[from]:
				return sum, s.sumRows(ctx, sum, "day", "insight_reaction_days", "insight_days", sites, from, to)
			default:
				return sum, s.sumHours(ctx, sum, sites, from, to)
			}
		})
		for id, a := range sum {
			add(out, id, a)
		}
		return err
	}
	days := func(from, to int64) error {
		var starts []int64
		for d := from; d < to; d += day {
			if foldedDay[d] {
				starts = append(starts, d)
			}
		}
		if err := s.readParts(ctx, key, false, sites, starts, func(d int64) int64 { return d + day }); err != nil {
			return err
		}
		for d := from; d < to; d += day {
			if err := part(false, d, d+day); err != nil {
				return err
			}
		}
		return nil
	}
	var whole []int64
	for _, m := range folded {
		if nextMonth(m) <= to {
			whole = append(whole, m)
		}
	}
	if err := s.readParts(ctx, key, true, sites, whole, nextMonth); err != nil {
		return nil, err
	}
	at := from
	for _, m := range folded {
		if nextMonth(m) > to {
			break
		}
		if err := days(at, m); err != nil {
			return nil, err
		}
		if err := part(true, m, nextMonth(m)); err != nil {
			return nil, err
		}
		at = nextMonth(m)
	}
	return out, days(at, to)
}

// readParts keeps the sums of the parts (months, or days) starting at
// starts that no kept sum holds, read in one range instead of a query
// each: a year never asked for before is a dozen months and a month or
// two of days around them, and on PostgreSQL each query is a round trip.
func (s *Store) readParts(ctx context.Context, key string, months bool, sites []int64, starts []int64, end func(int64) int64) error {
	col, reactions, comments := "day", "insight_reaction_days", "insight_days"
	if months {
		col, reactions, comments = "month", "insight_reaction_months", "insight_months"
	}
	fills := map[int64]cache.Fill{}
	sums := map[int64]map[int64]*ArticleActivity{}
	lo, hi := int64(0), int64(0)
	for _, p := range starts {
		k := fmt.Sprint(key, months, p)
		if _, ok := s.state.insightParts.Get(k); ok {
			continue
		}
		fills[p], sums[p] = s.state.insightParts.Begin(k), map[int64]*ArticleActivity{}
		if len(sums) == 1 {
			lo = p
		}
		hi = end(p)
	}
	if len(sums) < 2 {
		return nil // one part is one query either way
	}
	err := s.sumRowsInto(ctx, func(p int64) map[int64]*ArticleActivity { return sums[p] }, col, reactions, comments, sites, lo, hi)
	if err != nil {
		return err
	}
	for p, sum := range sums {
		s.state.insightParts.Put(fills[p], fmt.Sprint(key, months, p), sum)
	}
	return nil
}

// add adds a's figures to out's entry for id, creating it as a copy (a
// is kept elsewhere and never changed).
func add(out map[int64]*ArticleActivity, id int64, a *ArticleActivity) {
	c := out[id]
	if c == nil {
		c = &ArticleActivity{ArticleID: a.ArticleID, SiteID: a.SiteID, Added: make(Counts, len(a.Added)), Retracted: make(Counts, len(a.Retracted))}
		out[id] = c
	}
	for k, n := range a.Added {
		c.Added[k] += n
	}
	for k, n := range a.Retracted {
		c.Retracted[k] += n
	}
	c.Posted += a.Posted
	c.Published += a.Published
	c.Held += a.Held
	c.Rejected += a.Rejected
	c.Spam += a.Spam
	c.Reports += a.Reports
}

// sumActivity adds the rollups of [from, to) to out, from the month rows
// (months) or the days': the folded days' rows, and the hours of the days
// not folded yet. The rows come in key order, site and time first, and
// summing in a map spares the database a sort.
func (s *Store) sumActivity(ctx context.Context, out map[int64]*ArticleActivity, months bool, sites []int64, from, to int64) error {
	if from >= to {
		return nil
	}
	if months {
		return s.sumRows(ctx, out, "month", "insight_reaction_months", "insight_months", sites, from, to)
	}
	parts, err := s.dayParts(ctx, from, to)
	if err != nil {
		return err
	}
	for _, p := range parts {
		var err error
		if p.folded {
			err = s.sumRows(ctx, out, "day", "insight_reaction_days", "insight_days", sites, p.from, p.to)
		} else {
			err = s.sumHours(ctx, out, sites, p.from, p.to)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// sumHours adds the hour rollups of [from, to) to out: the settled hours'
// sums kept (endedHours), the rows of the hours after them read.
func (s *Store) sumHours(ctx context.Context, out map[int64]*ArticleActivity, sites []int64, from, to int64) error {
	ended, settled, err := s.endedHours(ctx, sites, from, to)
	if err != nil {
		return err
	}
	for id, a := range ended {
		add(out, id, a)
	}
	return s.sumRows(ctx, out, "hour", "insight_reaction_hours", "insight_hours", sites, settled, to)
}

// endedHours returns the sums of the hours of [from, to) that have ended
// (and settled), and the end of them. Such an hour never changes, like a
// day, so their run's sums are kept; while the run grows (today, by an
// hour each hour) each hour's sums are kept too, so that today's page
// reads only the rows of the hour under way, not every row of the day so
// far (a site's day has about 24 times as many hour rows as day rows). A
// run that ended (a past day not folded yet) is read in one range. The
// map is shared: the caller must not change it.
func (s *Store) endedHours(ctx context.Context, sites []int64, from, to int64) (map[int64]*ArticleActivity, int64, error) {
	key := fmt.Sprint(sites)
	if sites == nil {
		key = "all"
	}
	settled := max(min(HourOf(s.nowMS()-settleMS), to), from)
	ended, err := s.state.insightParts.Load(fmt.Sprint(key, "hours", from, settled), func() (map[int64]*ArticleActivity, error) {
		sum := map[int64]*ArticleActivity{}
		if settled == to {
			return sum, s.sumRows(ctx, sum, "hour", "insight_reaction_hours", "insight_hours", sites, from, to)
		}
		for h := from; h < settled; h += hourMS {
			part, err := s.state.insightParts.Load(fmt.Sprint(key, "hour", h), func() (map[int64]*ArticleActivity, error) {
				part := map[int64]*ArticleActivity{}
				return part, s.sumRows(ctx, part, "hour", "insight_reaction_hours", "insight_hours", sites, h, h+hourMS)
			})
			if err != nil {
				return nil, err
			}
			for id, a := range part {
				add(sum, id, a)
			}
		}
		return sum, nil
	})
	return ended, settled, err
}

// sumRows adds the rows of a pair of rollup tables over [from, to) to out.
func (s *Store) sumRows(ctx context.Context, out map[int64]*ArticleActivity, col, reactions, comments string, sites []int64, from, to int64) error {
	return s.sumRowsInto(ctx, func(int64) map[int64]*ArticleActivity { return out }, col, reactions, comments, sites, from, to)
}

// sumRowsInto is sumRows adding each row to the map into gives for the
// row's time (col), or skipping the row when it gives nil.
func (s *Store) sumRowsInto(ctx context.Context, into func(t int64) map[int64]*ArticleActivity, col, reactions, comments string, sites []int64, from, to int64) error {
	cond, args, ok := InsightScope{sites, from, to}.where("", col)
	if !ok {
		return nil
	}
	get := func(t, id, site int64) *ArticleActivity {
		out := into(t)
		if out == nil {
			return nil
		}
		a := out[id]
		if a == nil {
			a = &ArticleActivity{ArticleID: id, SiteID: site, Added: Counts{}, Retracted: Counts{}}
			out[id] = a
		}
		return a
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+col+`, article_id, site_id, reaction, added, retracted
		FROM `+reactions+` WHERE `+cond), args...)
	if err != nil {
		return fmt.Errorf("read reaction insights: %w", err)
	}
	for rows.Next() {
		var t, id, site, added, retracted int64
		var r string
		if err := rows.Scan(&t, &id, &site, &r, &added, &retracted); err != nil {
			rows.Close()
			return err
		}
		a := get(t, id, site)
		if a == nil {
			continue
		}
		a.Added[r] += added
		a.Retracted[r] += retracted
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = s.db.QueryContext(ctx, s.q(`SELECT `+col+`, article_id, site_id, posted, published, held, rejected, spam, reports
		FROM `+comments+` WHERE `+cond), args...)
	if err != nil {
		return fmt.Errorf("read comment insights: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t, id, site int64
		var h commentHour
		if err := rows.Scan(&t, &id, &site, &h.posted, &h.published, &h.held, &h.rejected, &h.spam, &h.reports); err != nil {
			return err
		}
		a := get(t, id, site)
		if a == nil {
			continue
		}
		a.Posted += h.posted
		a.Published += h.published
		a.Held += h.held
		a.Rejected += h.rejected
		a.Spam += h.spam
		a.Reports += h.reports
	}
	return rows.Err()
}

// dayPart is a range of whole UTC days whose rollups are read from the
// day rows (folded) or from the hours (the days the job has not summed
// yet: today, and an ended day until the job reaches it).
type dayPart struct {
	from, to int64
	folded   bool
}

// dayParts splits the days of [from, to) into runs of folded days and of
// the others; the last part ends at the end of to's day, as the day rows
// with day < to would.
func (s *Store) dayParts(ctx context.Context, from, to int64) ([]dayPart, error) {
	from = DayOf(from)
	var folded []int64
	if err := s.db.SelectContext(ctx, &folded, s.q(`SELECT day FROM insight_folded_days WHERE day >= ? AND day < ? ORDER BY day`), from, to); err != nil {
		return nil, fmt.Errorf("read folded days: %w", err)
	}
	var parts []dayPart
	for d := from; d < to; d += day {
		_, f := slices.BinarySearch(folded, d)
		if n := len(parts); n > 0 && parts[n-1].folded == f {
			parts[n-1].to = d + day
		} else {
			parts = append(parts, dayPart{d, d + day, f})
		}
	}
	return parts, nil
}

// InsightPoint is one step of an article's history.
type InsightPoint struct {
	At                                               int64
	Added, Retracted                                 Counts
	Posted, Published, Held, Rejected, Spam, Reports int64
}

// InsightSeries returns an article's history from from to to (ms) in steps
// of step ms (a multiple of an hour), every step present, quiet ones zero.
// Steps of whole days read the day rollups of the folded days, the hours
// otherwise.
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
	parts := []dayPart{{from, to, false}}
	if step%day == 0 {
		var err error
		if parts, err = s.dayParts(ctx, from, to); err != nil {
			return nil, err
		}
	}
	for _, p := range parts {
		rt, ct, col := "insight_reaction_hours", "insight_hours", "hour"
		if p.folded {
			rt, ct, col = "insight_reaction_days", "insight_days", "day"
		}
		if err := s.seriesRows(ctx, at, rt, ct, col, articleID, p.from, p.to); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// seriesRows adds an article's rows of a pair of rollup tables over
// [from, to) to the points at gives.
func (s *Store) seriesRows(ctx context.Context, at func(int64) *InsightPoint, rt, ct, col string, articleID, from, to int64) error {
	rows, err := s.db.QueryxContext(ctx, s.q(`SELECT `+col+`, reaction, added, retracted FROM `+rt+`
		WHERE article_id = ? AND `+col+` >= ? AND `+col+` < ?`), articleID, from, to)
	if err != nil {
		return fmt.Errorf("read reaction history: %w", err)
	}
	for rows.Next() {
		var hour, added, retracted int64
		var r string
		if err := rows.Scan(&hour, &r, &added, &retracted); err != nil {
			rows.Close()
			return err
		}
		p := at(hour)
		p.Added[r] += added
		p.Retracted[r] += retracted
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = s.db.QueryxContext(ctx, s.q(`SELECT `+col+`, posted, published, held, rejected, spam, reports FROM `+ct+`
		WHERE article_id = ? AND `+col+` >= ? AND `+col+` < ?`), articleID, from, to)
	if err != nil {
		return fmt.Errorf("read comment history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var hour int64
		var h commentHour
		if err := rows.Scan(&hour, &h.posted, &h.published, &h.held, &h.rejected, &h.spam, &h.reports); err != nil {
			return err
		}
		p := at(hour)
		p.Posted += h.posted
		p.Published += h.published
		p.Held += h.held
		p.Rejected += h.rejected
		p.Spam += h.spam
		p.Reports += h.reports
	}
	return rows.Err()
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

// deskKey is an ended day of the desk of a list of sites.
type deskKey struct {
	sites string
	day   int64
}

// InsightDesk returns the desk's days in the scope, oldest first (every
// day of the period), and the decisions by moderator. The days that have
// ended never change (see InsightArticles) and are kept, each on its own,
// so that a year's desk is read once; their maps may be shared with later
// calls: the caller must not change them.
func (s *Store) InsightDesk(ctx context.Context, sc InsightScope) ([]DeskDay, []ModeratorDecisions, error) {
	first := DayOf(sc.From)
	dscope := InsightScope{sc.SiteIDs, first, sc.To}
	mcond, margs, ok := dscope.where("d.", "day")
	if !ok {
		days, err := s.deskDays(ctx, sc.SiteIDs, first, sc.To)
		return days, nil, err
	}
	settled := max(min(DayOf(s.nowMS()-settleMS), sc.To), first)
	sites := fmt.Sprint(sc.SiteIDs)
	if sc.SiteIDs == nil {
		sites = "all"
	}
	// Each ended day is kept on its own, so that every period shares
	// them; the days not kept yet are read in one range.
	var days []DeskDay
	missing := int64(-1)
	for d := first; d < settled; d += day {
		dd, ok := s.state.insightDesk.Get(deskKey{sites, d})
		if !ok {
			missing = d
			break
		}
		days = append(days, dd)
	}
	if missing >= 0 {
		read, err := s.deskDays(ctx, sc.SiteIDs, missing, settled)
		if err != nil {
			return nil, nil, err
		}
		for _, dd := range read {
			s.state.insightDesk.Set(deskKey{sites, dd.Day}, dd)
		}
		days = append(days, read...)
	}
	recent, err := s.deskDays(ctx, sc.SiteIDs, settled, sc.To)
	if err != nil {
		return nil, nil, err
	}
	days = append(days, recent...)
	var mods []ModeratorDecisions
	if err := s.db.SelectContext(ctx, &mods, s.q(`SELECT d.moderator_id, COALESCE(m.email, '') AS email, d.action, SUM(d.decisions) AS decisions
		FROM insight_decision_days d LEFT JOIN moderators m ON m.id = d.moderator_id
		WHERE `+mcond+` GROUP BY d.moderator_id, m.email, d.action ORDER BY decisions DESC, d.moderator_id, d.action`), margs...); err != nil {
		return nil, nil, fmt.Errorf("read decisions by moderator: %w", err)
	}
	return days, mods, nil
}

// deskDays reads the desk's days [first, to) of the sites (nil for all;
// an empty list gives the days with nothing in them).
func (s *Store) deskDays(ctx context.Context, sites []int64, first, to int64) ([]DeskDay, error) {
	var days []DeskDay
	for d := first; d < to; d += day {
		days = append(days, DeskDay{Day: d, Decisions: map[string]int64{}, Waits: map[int64]int64{}, Queues: map[string]int64{}})
	}
	at := func(ms int64) *DeskDay {
		i := (DayOf(ms) - first) / day
		if i < 0 || int(i) >= len(days) {
			return nil
		}
		return &days[i]
	}
	dcond, dargs, ok := InsightScope{sites, first, to}.where("", "day")
	if !ok || first >= to {
		return days, nil
	}
	// Posted and held from the folded days' rows, and from the hours of
	// the others, day by day, through the articles' sums kept per hour.
	parts, err := s.dayParts(ctx, first, to)
	if err != nil {
		return nil, err
	}
	for _, p := range parts {
		if !p.folded {
			for d := p.from; d < p.to; d += day {
				dd := at(d)
				ended, settled, err := s.endedHours(ctx, sites, d, d+day)
				if err != nil {
					return nil, err
				}
				for _, a := range ended {
					dd.Posted += a.Posted
					dd.Held += a.Held
				}
				cond, args, _ := InsightScope{sites, settled, d + day}.where("", "hour")
				var posted, held int64
				if err := s.db.QueryRowContext(ctx, s.q(`SELECT COALESCE(SUM(posted), 0), COALESCE(SUM(held), 0) FROM insight_hours WHERE `+cond), args...).Scan(&posted, &held); err != nil {
					return nil, fmt.Errorf("read desk: %w", err)
				}
				dd.Posted += posted
				dd.Held += held
			}
			continue
		}
		cond, args, _ := InsightScope{sites, p.from, p.to}.where("", "day")
		rows, err := s.db.QueryxContext(ctx, s.q(`SELECT day, SUM(posted), SUM(held) FROM insight_days WHERE `+cond+` GROUP BY day`), args...)
		if err != nil {
			return nil, fmt.Errorf("read desk: %w", err)
		}
		for rows.Next() {
			var ms, posted, held int64
			if err := rows.Scan(&ms, &posted, &held); err != nil {
				rows.Close()
				return nil, err
			}
			if d := at(ms); d != nil {
				d.Posted += posted
				d.Held += held
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
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
			return nil, fmt.Errorf("read desk: %w", err)
		}
		for rows.Next() {
			var dayMS, n int64
			var k string
			if err := rows.Scan(&dayMS, &k, &n); err != nil {
				rows.Close()
				return nil, err
			}
			if d := at(dayMS); d != nil {
				t.add(d, k, n)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	rows, err := s.db.QueryxContext(ctx, s.q(`SELECT day, bucket, SUM(decisions) FROM insight_wait_days WHERE `+dcond+` GROUP BY day, bucket`), dargs...)
	if err != nil {
		return nil, fmt.Errorf("read waits: %w", err)
	}
	for rows.Next() {
		var dayMS, bucket, n int64
		if err := rows.Scan(&dayMS, &bucket, &n); err != nil {
			rows.Close()
			return nil, err
		}
		if d := at(dayMS); d != nil {
			d.Waits[bucket] += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return days, nil
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

// CheckInsightFolds compares every folded day's and month's rollups with
// their hour rollups summed, site by site and article by article, and
// returns the differences (none when they are exact). It scans, so only
// tests and the benchmark call it.
func (s *Store) CheckInsightFolds(ctx context.Context) ([]string, error) {
	type period struct {
		name                string
		comments, reactions string // the folded tables and their time column
		col                 string
		at, end             int64
	}
	var periods []period
	var months, days []int64
	if err := s.db.SelectContext(ctx, &months, `SELECT month FROM insight_folded_months ORDER BY month`); err != nil {
		return nil, fmt.Errorf("read folded months: %w", err)
	}
	if err := s.db.SelectContext(ctx, &days, `SELECT day FROM insight_folded_days ORDER BY day`); err != nil {
		return nil, fmt.Errorf("read folded days: %w", err)
	}
	for _, m := range months {
		periods = append(periods, period{time.UnixMilli(m).UTC().Format("2006-01"), "insight_months", "insight_reaction_months", "month", m, nextMonth(m)})
	}
	for _, d := range days {
		periods = append(periods, period{time.UnixMilli(d).UTC().Format(time.DateOnly), "insight_days", "insight_reaction_days", "day", d, d + day})
	}
	type key struct {
		site, article int64
		field         string
	}
	var diffs []string
	for _, p := range periods {
		got, want := map[key]int64{}, map[key]int64{}
		var folded []string
		for _, f := range []string{"posted", "published", "held", "rejected", "spam", "reports"} {
			folded = append(folded, `SELECT site_id, article_id, '`+f+`', `+f+` FROM `+p.comments+` WHERE `+p.col+` = ?`)
		}
		folded = append(folded, `SELECT site_id, article_id, 'added ' || reaction, added FROM `+p.reactions+` WHERE `+p.col+` = ?`,
			`SELECT site_id, article_id, 'retracted ' || reaction, retracted FROM `+p.reactions+` WHERE `+p.col+` = ?`)
		for _, t := range []struct {
			into  map[key]int64
			query string
			args  []any
		}{
			{got, strings.Join(folded, " UNION ALL "), slices.Repeat([]any{p.at}, 8)},
			{want, `SELECT site_id, article_id, 'posted', SUM(posted) FROM insight_hours WHERE hour >= ? AND hour < ? GROUP BY site_id, article_id
				UNION ALL SELECT site_id, article_id, 'published', SUM(published) FROM insight_hours WHERE hour >= ? AND hour < ? GROUP BY site_id, article_id
				UNION ALL SELECT site_id, article_id, 'held', SUM(held) FROM insight_hours WHERE hour >= ? AND hour < ? GROUP BY site_id, article_id
				UNION ALL SELECT site_id, article_id, 'rejected', SUM(rejected) FROM insight_hours WHERE hour >= ? AND hour < ? GROUP BY site_id, article_id
				UNION ALL SELECT site_id, article_id, 'spam', SUM(spam) FROM insight_hours WHERE hour >= ? AND hour < ? GROUP BY site_id, article_id
				UNION ALL SELECT site_id, article_id, 'reports', SUM(reports) FROM insight_hours WHERE hour >= ? AND hour < ? GROUP BY site_id, article_id
				UNION ALL SELECT site_id, article_id, 'added ' || reaction, SUM(added) FROM insight_reaction_hours WHERE hour >= ? AND hour < ? GROUP BY site_id, article_id, reaction
				UNION ALL SELECT site_id, article_id, 'retracted ' || reaction, SUM(retracted) FROM insight_reaction_hours WHERE hour >= ? AND hour < ? GROUP BY site_id, article_id, reaction`,
				slices.Repeat([]any{p.at, p.end}, 8)},
		} {
			rows, err := s.db.QueryContext(ctx, s.q(t.query), t.args...)
			if err != nil {
				return nil, fmt.Errorf("check folds: %w", err)
			}
			for rows.Next() {
				var k key
				var n int64
				if err := rows.Scan(&k.site, &k.article, &k.field, &n); err != nil {
					rows.Close()
					return nil, err
				}
				if n != 0 {
					t.into[k] += n
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
		for k, n := range want {
			if got[k] != n {
				diffs = append(diffs, fmt.Sprintf("%s site %d article %d %s: %s %d, hours %d", p.name, k.site, k.article, k.field, p.col, got[k], n))
			}
		}
		for k, n := range got {
			if _, ok := want[k]; !ok && n != 0 {
				diffs = append(diffs, fmt.Sprintf("%s site %d article %d %s: %s %d, hours 0", p.name, k.site, k.article, k.field, p.col, n))
			}
		}
	}
	slices.Sort(diffs)
	return diffs, nil
}
