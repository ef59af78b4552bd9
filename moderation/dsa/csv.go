package dsa

import (
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"
)

// WriteCSV writes the report as rows of section, item, detail and value,
// for a spreadsheet.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	row := func(section, item, detail string, v any) {
		cw.Write([]string{section, item, detail, fmt.Sprint(v)})
	}
	cw.Write([]string{"section", "item", "detail", "value"})
	row("period", "site", "", r.Site)
	row("period", "from", "", r.From.Format(time.RFC3339))
	row("period", "to", "", r.To.Format(time.RFC3339))
	row("notices", "total", "", r.Notices.Total)
	row("notices", "from_trusted_flaggers", "", r.Notices.Trusted)
	row("notices", "manifestly_unfounded", "", r.Notices.Unfounded)
	for _, c := range slices.Sorted(maps.Keys(r.Notices.ByCategory)) {
		for _, s := range slices.Sorted(maps.Keys(r.Notices.ByCategory[c])) {
			row("notices", c, s, r.Notices.ByCategory[c][s])
		}
	}
	row("notices", "decided", "", r.Notices.Decided)
	row("notices", "median_hours_to_decision", "", strconv.FormatFloat(r.Notices.MedianHours, 'f', -1, 64))
	row("notices", "p90_hours_to_decision", "", strconv.FormatFloat(r.Notices.P90Hours, 'f', -1, 64))
	row("own_initiative", "automated", "", r.OwnInitiative.Automated)
	for _, k := range slices.Sorted(maps.Keys(r.OwnInitiative.ByRule)) {
		row("own_initiative", "automated_by_rule", k, r.OwnInitiative.ByRule[k])
	}
	row("own_initiative", "automated_by_classifier", "", r.OwnInitiative.ByClassifier)
	row("own_initiative", "by_moderators", "", r.OwnInitiative.Moderators)
	for _, k := range slices.Sorted(maps.Keys(r.OwnInitiative.ModeratorsByAct)) {
		row("own_initiative", "by_moderators_by_action", k, r.OwnInitiative.ModeratorsByAct[k])
	}
	row("statements_of_reasons", "total", "", r.Statements)
	row("appeals", "total", "", r.Appeals.Total)
	for _, k := range slices.Sorted(maps.Keys(r.Appeals.ByOutcome)) {
		row("appeals", "by_outcome", k, r.Appeals.ByOutcome[k])
	}
	row("appeals", "median_hours_to_decision", "", strconv.FormatFloat(r.Appeals.MedianHours, 'f', -1, 64))
	row("suspensions", "total", "", r.Suspensions.Total)
	for _, k := range slices.Sorted(maps.Keys(r.Suspensions.ByKind)) {
		row("suspensions", "by_kind", k, r.Suspensions.ByKind[k])
	}
	row("suspensions", "shadow", "", r.Suspensions.Shadow)
	cw.Flush()
	return cw.Error()
}
