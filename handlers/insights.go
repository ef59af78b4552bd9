package handlers

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

// The newsroom's insights: what readers did under each article and what
// the moderation desk faced, read from the rollups the writes keep. Every
// answer is JSON, or CSV with ?format=csv for spreadsheets and BI tools.

const (
	dayMS          = int64(24 * time.Hour / time.Millisecond)
	maxInsightDays = 400
)

// insightParams is what every insights request names: the sites, the
// period (whole UTC days, both ends included) and the reactions that count
// for and against an article.
type insightParams struct {
	scope              schema.InsightScope
	from, to           time.Time // first and last day
	positive, negative string
	sites              map[int64]*schema.Site
	csv                bool
}

func (s *Server) insightParams(r *http.Request) (*insightParams, error) {
	q := r.URL.Query()
	p := &insightParams{}
	switch q.Get("format") {
	case "", "json":
	case "csv":
		p.csv = true
	default:
		return nil, errBadRequest("format must be json or csv")
	}
	today := s.store.Now().UTC().Truncate(24 * time.Hour)
	day := func(name string, def time.Time) (time.Time, error) {
		v := q.Get(name)
		if v == "" {
			return def, nil
		}
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return time.Time{}, errBadRequest("%s must be a date as YYYY-MM-DD (UTC), not %s", name, quote(v))
		}
		return t, nil
	}
	var err error
	if p.to, err = day("to", today); err != nil {
		return nil, err
	}
	if p.from, err = day("from", p.to.AddDate(0, 0, -6)); err != nil {
		return nil, err
	}
	if p.to.Before(p.from) {
		return nil, errBadRequest("from (%s) is after to (%s)", p.from.Format(time.DateOnly), p.to.Format(time.DateOnly))
	}
	if days := int(p.to.Sub(p.from).Hours()/24) + 1; days > maxInsightDays {
		return nil, errBadRequest("the period is %d days; at most %d are kept and shown", days, maxInsightDays)
	}
	ids, err := s.modSites(r)
	if err != nil {
		return nil, err
	}
	if p.sites, err = s.sitesByID(r.Context()); err != nil {
		return nil, err
	}
	p.scope = schema.InsightScope{SiteIDs: ids, From: p.from.UnixMilli(), To: p.to.UnixMilli() + dayMS}
	// The site's first and last reactions are its for and against (like
	// and dislike by default); ?positive= and ?negative= choose others.
	p.positive, p.negative = "like", "dislike"
	if len(ids) == 1 {
		if site := p.sites[ids[0]]; site != nil && len(site.Settings.Reactions) >= 2 {
			rs := site.Settings.Reactions
			p.positive, p.negative = rs[0], rs[len(rs)-1]
		}
	}
	for name, dst := range map[string]*string{"positive": &p.positive, "negative": &p.negative} {
		if v := q.Get(name); v != "" {
			if len(v) > 64 {
				return nil, errBadRequest("%s names a reaction: at most 64 characters", name)
			}
			*dst = v
		}
	}
	if p.positive == p.negative {
		return nil, errBadRequest("positive and negative must be two different reactions")
	}
	return p, nil
}

// insightArticle is an article's activity in the period.
type insightArticle struct {
	ID        int64            `json:"id"`
	Site      string           `json:"site"`
	Key       string           `json:"key"`
	Title     string           `json:"title"`
	URL       string           `json:"url"`
	Reactions map[string]int64 `json:"reactions"`
	For       int64            `json:"for"`
	Against   int64            `json:"against"`
	Share     *float64         `json:"share"`
	Wilson    *float64         `json:"wilson_lower_bound"`
	Comments  commentEvents    `json:"comments"`
	Reports   int64            `json:"reports"`
}

type commentEvents struct {
	Posted    int64 `json:"posted"`
	Published int64 `json:"published"`
	Held      int64 `json:"held"`
	Rejected  int64 `json:"rejected"`
	Spam      int64 `json:"spam"`
}

// rankings ranks the period's articles: most liked and most disliked by
// the Wilson lower bound of their share of for (against) votes, most
// discussed by comments posted.
func (s *Server) rankings(r *http.Request, p *insightParams, limit int) (liked, disliked, discussed []insightArticle, err error) {
	acts, err := s.store.InsightArticles(r.Context(), p.scope)
	if err != nil {
		return nil, nil, nil, err
	}
	forT, againstT := make([]moderation.Tally, 0, len(acts)), make([]moderation.Tally, 0, len(acts))
	var talk []*schema.ArticleActivity
	for id, a := range acts {
		f, g := a.Net(p.positive), a.Net(p.negative)
		forT = append(forT, moderation.Tally{ID: id, For: f, Against: g})
		againstT = append(againstT, moderation.Tally{ID: id, For: g, Against: f})
		if a.Posted > 0 {
			talk = append(talk, a)
		}
	}
	sort.Slice(talk, func(i, j int) bool {
		if talk[i].Posted != talk[j].Posted {
			return talk[i].Posted > talk[j].Posted
		}
		return talk[i].ArticleID < talk[j].ArticleID
	})
	if len(talk) > limit {
		talk = talk[:limit]
	}
	likedT, dislikedT := moderation.RankWilson(forT, limit), moderation.RankWilson(againstT, limit)
	var ids []int64
	for _, t := range likedT {
		ids = append(ids, t.ID)
	}
	for _, t := range dislikedT {
		ids = append(ids, t.ID)
	}
	for _, a := range talk {
		ids = append(ids, a.ArticleID)
	}
	arts, err := s.store.ArticlesByID(r.Context(), ids)
	if err != nil {
		return nil, nil, nil, err
	}
	view := func(id int64) insightArticle {
		return p.articleView(acts[id], arts[id])
	}
	liked, disliked, discussed = []insightArticle{}, []insightArticle{}, []insightArticle{}
	for _, t := range likedT {
		liked = append(liked, view(t.ID))
	}
	for _, t := range dislikedT {
		v := view(t.ID)
		// The share and bound shown are of the votes against.
		v.Share, v.Wilson = &t.Share, &t.LowerBnd
		disliked = append(disliked, v)
	}
	for _, a := range talk {
		discussed = append(discussed, view(a.ArticleID))
	}
	return liked, disliked, discussed, nil
}

func (p *insightParams) articleView(a *schema.ArticleActivity, art *schema.Article) insightArticle {
	v := insightArticle{ID: a.ArticleID, Reactions: map[string]int64{}, Reports: a.Reports,
		Comments: commentEvents{a.Posted, a.Published, a.Held, a.Rejected, a.Spam}}
	if site := p.sites[a.SiteID]; site != nil {
		v.Site = site.Slug
	}
	if art != nil {
		v.Key, v.Title, v.URL = art.Key, art.Title, art.URL
	}
	for r := range a.Added {
		v.Reactions[r] = a.Net(r)
	}
	v.For, v.Against = a.Net(p.positive), a.Net(p.negative)
	if n := v.For + v.Against; n > 0 {
		share, lb := float64(v.For)/float64(n), moderation.Wilson(v.For, n)
		v.Share, v.Wilson = &share, &lb
	}
	return v
}

// deskDay is a day of the moderation desk.
type deskDay struct {
	Date      string           `json:"date"`
	Posted    int64            `json:"posted"`
	Held      int64            `json:"held"`
	Decided   int64            `json:"decided"`
	Decisions map[string]int64 `json:"decisions"`
	Median    *int64           `json:"median_wait_seconds"`
	P90       *int64           `json:"p90_wait_seconds"`
	Backlog   map[string]int64 `json:"backlog"`
}

type deskView struct {
	Days       []deskDay          `json:"days"`
	Median     *int64             `json:"median_wait_seconds"`
	P90        *int64             `json:"p90_wait_seconds"`
	Backlog    map[string]int64   `json:"backlog"`
	Moderators []moderatorFigures `json:"moderators"`
}

type moderatorFigures struct {
	Moderator string `json:"moderator"`
	Action    string `json:"action"`
	Decisions int64  `json:"decisions"`
}

func quantile(hist map[int64]int64, q float64) *int64 {
	b, ok := moderation.Quantile(hist, schema.WaitBuckets, q)
	if !ok {
		return nil
	}
	return &b
}

func (s *Server) desk(r *http.Request, p *insightParams) (deskView, error) {
	days, mods, err := s.store.InsightDesk(r.Context(), p.scope)
	if err != nil {
		return deskView{}, err
	}
	backlog, err := s.store.QueueCounts(r.Context(), p.scope.SiteIDs)
	if err != nil {
		return deskView{}, err
	}
	out := deskView{Days: []deskDay{}, Backlog: backlog, Moderators: []moderatorFigures{}}
	all := map[int64]int64{}
	today := schema.DayOf(s.store.Now().UnixMilli())
	for _, d := range days {
		v := deskDay{Date: time.UnixMilli(d.Day).UTC().Format(time.DateOnly), Posted: d.Posted, Held: d.Held,
			Decisions: d.Decisions, Median: quantile(d.Waits, 0.5), P90: quantile(d.Waits, 0.9), Backlog: d.Queues}
		if d.Day == today {
			// Today's backlog is the live one, not the last sample's.
			v.Backlog = backlog
		}
		for _, n := range d.Decisions {
			v.Decided += n
		}
		for b, n := range d.Waits {
			all[b] += n
		}
		out.Days = append(out.Days, v)
	}
	out.Median, out.P90 = quantile(all, 0.5), quantile(all, 0.9)
	for _, m := range mods {
		who := m.Email
		if m.ModeratorID == 0 || who == "" {
			who = "one-time link or command line"
		}
		out.Moderators = append(out.Moderators, moderatorFigures{who, m.Action, m.Decisions})
	}
	return out, nil
}

type ruleView struct {
	Rule      string   `json:"rule"`
	Held      int64    `json:"held"`
	Approved  int64    `json:"approved"`
	Rejected  int64    `json:"rejected"`
	Spam      int64    `json:"spam"`
	Precision *float64 `json:"precision"`
}

func (s *Server) rules(r *http.Request, p *insightParams) ([]ruleView, error) {
	rs, err := s.store.InsightRules(r.Context(), p.scope)
	if err != nil {
		return nil, err
	}
	out := []ruleView{}
	for _, x := range rs {
		v := ruleView{Rule: x.Rule, Held: x.Held, Approved: x.Approved, Rejected: x.Rejected, Spam: x.Spam}
		// Precision: of the held comments moderators decided on, the share
		// they agreed should not be published.
		if n := x.Approved + x.Rejected + x.Spam; n > 0 {
			pr := float64(x.Rejected+x.Spam) / float64(n)
			v.Precision = &pr
		}
		out = append(out, v)
	}
	return out, nil
}

func (p *insightParams) period() map[string]string {
	return map[string]string{"from": p.from.Format(time.DateOnly), "to": p.to.Format(time.DateOnly)}
}

// insightsOverview answers everything the dashboard's Insights page shows.
func (s *Server) insightsOverview(w http.ResponseWriter, r *http.Request) error {
	p, err := s.insightParams(r)
	if err != nil {
		return err
	}
	if p.csv {
		return errBadRequest("the overview is JSON only: ask /insights/articles, /insights/desk or /insights/rules for CSV")
	}
	limit, err := queryLimit(r, 10, 100)
	if err != nil {
		return err
	}
	liked, disliked, discussed, err := s.rankings(r, p, limit)
	if err != nil {
		return err
	}
	desk, err := s.desk(r, p)
	if err != nil {
		return err
	}
	rules, err := s.rules(r, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"period": p.period(), "positive": p.positive, "negative": p.negative, "ranking": "wilson_lower_bound_95",
		"liked": liked, "disliked": disliked, "discussed": discussed, "desk": desk, "rules": rules,
	})
	return nil
}

// insightArticles answers one ranking: ?order=liked, disliked or discussed.
func (s *Server) insightArticles(w http.ResponseWriter, r *http.Request) error {
	p, err := s.insightParams(r)
	if err != nil {
		return err
	}
	order := r.URL.Query().Get("order")
	if order == "" {
		order = "liked"
	}
	if order != "liked" && order != "disliked" && order != "discussed" {
		return errBadRequest("order must be liked, disliked or discussed")
	}
	limit, err := queryLimit(r, 50, 1000)
	if err != nil {
		return err
	}
	liked, disliked, discussed, err := s.rankings(r, p, limit)
	if err != nil {
		return err
	}
	items := map[string][]insightArticle{"liked": liked, "disliked": disliked, "discussed": discussed}[order]
	if p.csv {
		rows := [][]string{{"id", "site", "key", "title", "url", "for", "against", "share", "wilson_lower_bound",
			"posted", "published", "held", "rejected", "spam", "reports"}}
		for _, a := range items {
			rows = append(rows, []string{itoa(a.ID), a.Site, a.Key, a.Title, a.URL, itoa(a.For), itoa(a.Against), ftoa(a.Share), ftoa(a.Wilson),
				itoa(a.Comments.Posted), itoa(a.Comments.Published), itoa(a.Comments.Held), itoa(a.Comments.Rejected), itoa(a.Comments.Spam), itoa(a.Reports)})
		}
		return writeCSV(w, "articles-"+order, rows)
	}
	writeJSON(w, http.StatusOK, map[string]any{"period": p.period(), "order": order, "positive": p.positive, "negative": p.negative,
		"ranking": "wilson_lower_bound_95", "items": items})
	return nil
}

// insightDesk answers the moderation desk's days.
func (s *Server) insightDesk(w http.ResponseWriter, r *http.Request) error {
	p, err := s.insightParams(r)
	if err != nil {
		return err
	}
	desk, err := s.desk(r, p)
	if err != nil {
		return err
	}
	if p.csv {
		rows := [][]string{{"date", "posted", "held", "decided", "median_wait_seconds", "p90_wait_seconds", "pending", "reported", "spam"}}
		for _, d := range desk.Days {
			rows = append(rows, []string{d.Date, itoa(d.Posted), itoa(d.Held), itoa(d.Decided), ptoa(d.Median), ptoa(d.P90),
				backlogCell(d.Backlog, schema.QueuePending), backlogCell(d.Backlog, schema.QueueReported), backlogCell(d.Backlog, schema.QueueSpam)})
		}
		return writeCSV(w, "desk", rows)
	}
	writeJSON(w, http.StatusOK, map[string]any{"period": p.period(), "desk": desk})
	return nil
}

// insightRules answers what each rule held and how moderators decided.
func (s *Server) insightRules(w http.ResponseWriter, r *http.Request) error {
	p, err := s.insightParams(r)
	if err != nil {
		return err
	}
	rules, err := s.rules(r, p)
	if err != nil {
		return err
	}
	if p.csv {
		rows := [][]string{{"rule", "held", "approved", "rejected", "spam", "precision"}}
		for _, x := range rules {
			rows = append(rows, []string{x.Rule, itoa(x.Held), itoa(x.Approved), itoa(x.Rejected), itoa(x.Spam), ftoa(x.Precision)})
		}
		return writeCSV(w, "rules", rows)
	}
	writeJSON(w, http.StatusOK, map[string]any{"period": p.period(), "rules": rules})
	return nil
}

type insightPoint struct {
	At        time.Time              `json:"at"`
	Reactions map[string]reactionMov `json:"reactions"`
	Comments  commentEvents          `json:"comments"`
	Reports   int64                  `json:"reports"`
}

type reactionMov struct {
	Added     int64 `json:"added"`
	Retracted int64 `json:"retracted"`
}

// insightArticle answers an article's card: its reactions, comments and
// reports over the period, by hour for up to three days, by day beyond.
func (s *Server) insightArticle(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id", "article")
	if err != nil {
		return err
	}
	p, err := s.insightParams(r)
	if err != nil {
		return err
	}
	art, err := s.store.ArticleByID(r.Context(), id)
	if err != nil {
		return notFoundAs(err, fmt.Sprintf("article %d", id))
	}
	if !moderator(r).CanModerate(art.SiteID) || (p.scope.SiteIDs != nil && !containsID(p.scope.SiteIDs, art.SiteID)) {
		return errForbidden(fmt.Sprintf("you do not moderate the site of article %d", id))
	}
	step, stepName := dayMS, "day"
	if p.scope.To-p.scope.From <= 3*dayMS {
		step, stepName = int64(time.Hour/time.Millisecond), "hour"
	}
	series, err := s.store.InsightSeries(r.Context(), id, p.scope.From, p.scope.To, step)
	if err != nil {
		return err
	}
	counts, err := s.store.ReactionCounts(r.Context(), id)
	if err != nil {
		return err
	}
	reactions := map[string]bool{p.positive: true, p.negative: true}
	if site := p.sites[art.SiteID]; site != nil {
		for _, x := range site.Settings.Reactions {
			reactions[x] = true
		}
	}
	for _, pt := range series {
		for x := range pt.Added {
			reactions[x] = true
		}
	}
	names := make([]string, 0, len(reactions))
	for x := range reactions {
		names = append(names, x)
	}
	sort.Strings(names)
	points := make([]insightPoint, 0, len(series))
	total := &schema.ArticleActivity{ArticleID: id, SiteID: art.SiteID, Added: schema.Counts{}, Retracted: schema.Counts{}}
	for _, pt := range series {
		v := insightPoint{At: time.UnixMilli(pt.At).UTC(), Reactions: map[string]reactionMov{}, Reports: pt.Reports,
			Comments: commentEvents{pt.Posted, pt.Published, pt.Held, pt.Rejected, pt.Spam}}
		for _, x := range names {
			v.Reactions[x] = reactionMov{pt.Added[x], pt.Retracted[x]}
			total.Added[x] += pt.Added[x]
			total.Retracted[x] += pt.Retracted[x]
		}
		total.Posted += pt.Posted
		total.Published += pt.Published
		total.Held += pt.Held
		total.Rejected += pt.Rejected
		total.Spam += pt.Spam
		total.Reports += pt.Reports
		points = append(points, v)
	}
	if p.csv {
		head := []string{"at"}
		for _, x := range names {
			head = append(head, x+"_added", x+"_retracted")
		}
		rows := [][]string{append(head, "posted", "published", "held", "rejected", "spam", "reports")}
		for _, v := range points {
			row := []string{v.At.Format(time.RFC3339)}
			for _, x := range names {
				row = append(row, itoa(v.Reactions[x].Added), itoa(v.Reactions[x].Retracted))
			}
			c := v.Comments
			rows = append(rows, append(row, itoa(c.Posted), itoa(c.Published), itoa(c.Held), itoa(c.Rejected), itoa(c.Spam), itoa(v.Reports)))
		}
		return writeCSV(w, fmt.Sprintf("article-%d", id), rows)
	}
	writeJSON(w, http.StatusOK, map[string]any{"period": p.period(), "positive": p.positive, "negative": p.negative,
		"article": p.articleView(total, art), "counts": counts, "reactions": names, "step": stepName, "points": points})
	return nil
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func ftoa(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', 4, 64)
}

func ptoa(n *int64) string {
	if n == nil {
		return ""
	}
	return itoa(*n)
}

func backlogCell(m map[string]int64, q string) string {
	if n, ok := m[q]; ok {
		return itoa(n)
	}
	return ""
}

// writeCSV answers rows as a CSV download. Cells a spreadsheet would run
// as a formula are quoted with a leading apostrophe.
func writeCSV(w http.ResponseWriter, name string, rows [][]string) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="parley-insights-`+name+`.csv"`)
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	for _, row := range rows {
		for i, c := range row {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				if _, err := strconv.ParseFloat(c, 64); err != nil {
					row[i] = "'" + c
				}
			}
		}
		if err := cw.Write(row); err != nil {
			return nil // the client is gone; the status is sent
		}
	}
	cw.Flush()
	return nil
}
