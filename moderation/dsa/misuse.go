package dsa

import (
	"fmt"
	"time"

	"github.com/parley/parley/schema"
)

// Misuse thresholds (Art. 23): over MisuseWindow, a notifier with at least
// UnfoundedThreshold manifestly unfounded notices making up at least half
// of theirs, and an author with at least IllegalThreshold comments removed
// on notice, are suggested for a suspension of SuspensionDays, after a
// warning. The moderators decide: Art. 23(3) asks for a case-by-case
// assessment, so nothing is suspended automatically.
const (
	MisuseWindow       = 365 * 24 * time.Hour
	UnfoundedThreshold = 3
	IllegalThreshold   = 3
	SuspensionDays     = 30
)

// NotifierMisuse is a notifier with manifestly unfounded notices.
type NotifierMisuse struct {
	Email      string `json:"email"`
	Notices    int64  `json:"notices"`
	Unfounded  int64  `json:"manifestly_unfounded"`
	Suggestion string `json:"suggestion"`
}

// AuthorMisuse is an author (by email hash) whose comments were removed
// as illegal on notice.
type AuthorMisuse struct {
	EmailHash   string `json:"email_hash"`
	Removed     int64  `json:"removed_on_notice"`
	LastComment int64  `json:"last_comment_id"`
	Suggestion  string `json:"suggestion"`
}

// Misuse turns the store's counts into the dashboard's list, with the
// suggested measure where a threshold is reached ("" otherwise).
func Misuse(notifiers []schema.NotifierCount, authors []schema.AuthorCount) ([]NotifierMisuse, []AuthorMisuse) {
	ns := make([]NotifierMisuse, 0, len(notifiers))
	for _, n := range notifiers {
		m := NotifierMisuse{Email: n.Email, Notices: n.Notices, Unfounded: n.Unfounded}
		if n.Unfounded >= UnfoundedThreshold && 2*n.Unfounded >= n.Notices {
			m.Suggestion = fmt.Sprintf("warn, then stop processing this notifier's notices for %d days", SuspensionDays)
		}
		ns = append(ns, m)
	}
	as := make([]AuthorMisuse, 0, len(authors))
	for _, a := range authors {
		m := AuthorMisuse{EmailHash: a.EmailHash, Removed: a.Actioned, LastComment: a.LastComment}
		if a.Actioned >= IllegalThreshold {
			m.Suggestion = fmt.Sprintf("warn, then ban this author's email for %d days (ban from comment %d)", SuspensionDays, a.LastComment)
		}
		as = append(as, m)
	}
	return ns, as
}
