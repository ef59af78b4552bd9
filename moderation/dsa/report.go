package dsa

import (
	"errors"
	"math"
	"slices"
	"time"

	"github.com/parley/parley/schema"
)

// Report is a site's transparency report for a period (Art. 15 and 24).
// Durations are in hours.
type Report struct {
	Site string    `json:"site"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Notices: by category, then by status (open, actioned, dismissed).
	Notices NoticeStats `json:"notices"`
	// OwnInitiative are the decisions taken without a notice.
	OwnInitiative OwnInitiative `json:"own_initiative"`
	Statements    int64         `json:"statements_of_reasons"`
	Appeals       AppealStats   `json:"appeals"`
	Suspensions   Suspensions   `json:"suspensions"`
}

// NoticeStats count the notices received in the period.
type NoticeStats struct {
	Total       int                       `json:"total"`
	Trusted     int                       `json:"from_trusted_flaggers"`
	Unfounded   int                       `json:"manifestly_unfounded"`
	ByCategory  map[string]map[string]int `json:"by_category"`
	Decided     int                       `json:"decided"`
	MedianHours float64                   `json:"median_hours_to_decision"`
	P90Hours    float64                   `json:"p90_hours_to_decision"`
}

// OwnInitiative counts decisions on the provider's own initiative:
// automated ones by the rule that decided (the classifier is the rule
// "classifier"), and the moderators' by action.
type OwnInitiative struct {
	Automated       int              `json:"automated"`
	ByRule          map[string]int   `json:"automated_by_rule"`
	ByClassifier    int              `json:"automated_by_classifier"`
	Moderators      int64            `json:"by_moderators"`
	ModeratorsByAct map[string]int64 `json:"by_moderators_by_action"`
}

// AppealStats count the complaints (Art. 20) received in the period.
type AppealStats struct {
	Total       int            `json:"total"`
	ByOutcome   map[string]int `json:"by_outcome"`
	MedianHours float64        `json:"median_hours_to_decision"`
}

// Suspensions count the bans made in the period.
type Suspensions struct {
	Total  int            `json:"total"`
	ByKind map[string]int `json:"by_kind"`
	Shadow int            `json:"shadow"`
}

// MakeReport counts the facts the store gathered.
func MakeReport(site string, from, to time.Time, f *schema.TransparencyFacts) *Report {
	r := &Report{Site: site, From: from, To: to, Statements: f.Statements}
	r.Notices.ByCategory = map[string]map[string]int{}
	var waits []float64
	for _, n := range f.Notices {
		r.Notices.Total++
		if n.Trusted {
			r.Notices.Trusted++
		}
		if n.Unfounded {
			r.Notices.Unfounded++
		}
		if r.Notices.ByCategory[n.Category] == nil {
			r.Notices.ByCategory[n.Category] = map[string]int{}
		}
		r.Notices.ByCategory[n.Category][n.Status]++
		if n.DecidedMS != nil {
			r.Notices.Decided++
			waits = append(waits, hours(*n.DecidedMS-n.CreatedMS))
		}
	}
	r.Notices.MedianHours, r.Notices.P90Hours = Percentile(waits, 50), Percentile(waits, 90)
	r.OwnInitiative.ByRule = map[string]int{}
	for _, js := range f.AutoReasons {
		rule := deciding(parseReasons(js))
		r.OwnInitiative.Automated++
		r.OwnInitiative.ByRule[rule]++
		if rule == "classifier" {
			r.OwnInitiative.ByClassifier++
		}
	}
	r.OwnInitiative.ModeratorsByAct = f.ModeratorActions
	for _, n := range f.ModeratorActions {
		r.OwnInitiative.Moderators += n
	}
	r.Appeals.ByOutcome = map[string]int{}
	waits = nil
	for _, a := range f.Appeals {
		r.Appeals.Total++
		r.Appeals.ByOutcome[a.Status]++
		if a.DecidedMS != nil {
			waits = append(waits, hours(*a.DecidedMS-a.CreatedMS))
		}
	}
	r.Appeals.MedianHours = Percentile(waits, 50)
	r.Suspensions.ByKind = map[string]int{}
	for _, b := range f.Bans {
		r.Suspensions.Total++
		r.Suspensions.ByKind[b.Kind]++
		if b.Shadow {
			r.Suspensions.Shadow++
		}
	}
	return r
}

// deciding is the rule whose verdict decided: the strongest, listed first
// by the policy (reject before spam before hold).
func deciding(rs []reason) string {
	for _, v := range []string{"reject", "spam"} {
		for _, x := range rs {
			if x.Verdict == v {
				return x.Rule
			}
		}
	}
	return "unknown"
}

func hours(ms int64) float64 { return float64(ms) / 3_600_000 }

// Percentile is the p-th percentile of xs by the nearest-rank method (the
// smallest value with at least p % of the values at or below it), rounded
// to two decimals; 0 for none.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = max(1, min(rank, len(s)))
	return math.Round(s[rank-1]*100) / 100
}

// Period parses a report's from and to dates (YYYY-MM-DD, UTC, both
// included) into the half-open interval [from, to + 1 day).
func Period(from, to string) (time.Time, time.Time, error) {
	f, err1 := time.Parse(time.DateOnly, from)
	t, err2 := time.Parse(time.DateOnly, to)
	switch {
	case err1 != nil:
		return time.Time{}, time.Time{}, errors.New("from must be a date such as 2026-01-01")
	case err2 != nil:
		return time.Time{}, time.Time{}, errors.New("to must be a date such as 2026-06-30")
	case t.Before(f):
		return time.Time{}, time.Time{}, errors.New("to must not be before from")
	}
	return f, t.AddDate(0, 0, 1), nil
}
