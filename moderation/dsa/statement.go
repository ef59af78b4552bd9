package dsa

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/parley/parley/schema"
)

// Decisions a statement of reasons explains.
const (
	DecisionReject = "reject" // the comment is not published
	DecisionSpam   = "spam"   // filed as spam, not published
	DecisionBan    = "ban"    // the author may no longer comment
	DecisionShadow = "shadow" // the author's comments are hidden from others
)

// AppealWindow is how long an author may appeal (Art. 20(1): at least six
// months).
const AppealWindow = 6 // months

var decisionLabels = map[string][2]string{
	DecisionReject: {"your comment was removed: it is not published", "votre commentaire a été retiré : il n'est pas publié"},
	DecisionSpam:   {"your comment was filed as spam: it is not published", "votre commentaire a été classé comme indésirable : il n'est pas publié"},
	DecisionBan:    {"you may no longer comment on this site", "vous ne pouvez plus commenter sur ce site"},
	DecisionShadow: {"the visibility of your comments is restricted: other readers do not see them", "la visibilité de vos commentaires est restreinte : les autres lecteurs ne les voient pas"},
}

// DecisionLabel is how an email names a decision.
func DecisionLabel(decision string, site *schema.Site) string {
	l, ok := decisionLabels[decision]
	if !ok {
		return decision
	}
	if lang(site) == "fr" {
		return l[1]
	}
	return l[0]
}

// reason is the part of a policy reason a statement shows.
type reason struct {
	Rule    string `json:"rule"`
	Detail  string `json:"detail"`
	Verdict string `json:"verdict"`
}

func parseReasons(js string) []reason {
	var rs []reason
	json.Unmarshal([]byte(js), &rs)
	return rs
}

// detected tells whether automated means found something in a comment: a
// rule other than the site's moderation mode, which holds every comment
// alike, gave a verdict other than allow.
func detected(rs []reason) bool {
	for _, r := range rs {
		if r.Rule != "mode" && r.Verdict != "allow" && r.Verdict != "" {
			return true
		}
	}
	return false
}

// StatementInput is what a statement of reasons is made of.
type StatementInput struct {
	Site    *schema.Site
	Comment *schema.Comment
	Email   string
	// Decision is one of the Decision constants.
	Decision string
	// Ground is one of the site's terms_grounds; "" takes the first.
	Ground string
	// Moderator decided; nil for the automated moderation at posting or a
	// one-time link.
	Moderator *schema.Moderator
	// Automated: the automated moderation decided, as the comment was
	// posted.
	Automated bool
	// Note is the moderator's reason, if any.
	Note string
	// Notice, when the decision follows one.
	Notice *schema.Notice
	// Until ends a ban; nil for none.
	Until *time.Time
	// Token is the appeal link's token; TokenHash what is stored.
	Token, TokenHash string
	// AppealURL makes the appeal link from the token.
	AppealURL func(token string) string
	Now       time.Time
}

// Statement builds the statement of reasons and its email.
func (r *Renderer) Statement(in StatementInput) (*schema.Statement, schema.Mail, error) {
	site, c := in.Site, in.Comment
	fr := lang(site) == "fr"
	ground := in.Ground
	if ground == "" && len(site.Settings.TermsGrounds) > 0 {
		ground = site.Settings.TermsGrounds[0]
	}
	rs := parseReasons(c.Reasons)
	st := &schema.Statement{
		SiteID: site.ID, CommentID: c.ID, Decision: in.Decision, Ground: ground, Reasons: c.Reasons,
		AutomatedDetection: detected(rs), AutomatedDecision: in.Automated,
		Email: in.Email, AppealTokenHash: in.TokenHash, AppealUntilMS: in.Now.AddDate(0, AppealWindow, 0).UnixMilli(),
	}
	if in.Moderator != nil {
		st.ModeratorID = &in.Moderator.ID
	}
	if in.Notice != nil {
		st.NoticeID = &in.Notice.ID
	}
	var facts []string
	switch {
	case in.Notice != nil && fr:
		facts = append(facts, fmt.Sprintf("un signalement de contenu illicite (n° %d) a été reçu le %s ; un modérateur a examiné le commentaire", in.Notice.ID, Day(in.Notice.CreatedAt(), site)))
	case in.Notice != nil:
		facts = append(facts, fmt.Sprintf("a notice of illegal content (#%d) was received on %s; a moderator reviewed the comment", in.Notice.ID, Day(in.Notice.CreatedAt(), site)))
	case in.Automated && fr:
		facts = append(facts, "le commentaire a été examiné automatiquement à sa publication selon les règles du site")
	case in.Automated:
		facts = append(facts, "the comment was checked automatically as it was posted, against the site's rules")
	case fr:
		facts = append(facts, "un modérateur a examiné le commentaire")
	default:
		facts = append(facts, "a moderator reviewed the comment")
	}
	if in.Note != "" {
		facts = append(facts, in.Note)
	}
	if in.Until != nil {
		if fr {
			facts = append(facts, "jusqu'au "+Day(*in.Until, site))
		} else {
			facts = append(facts, "until "+Day(*in.Until, site))
		}
	}
	st.Facts = strings.Join(facts, "; ")
	var lines []string
	for _, x := range rs {
		if x.Verdict == "allow" || x.Verdict == "" {
			continue
		}
		lines = append(lines, x.Rule+": "+x.Detail)
	}
	d := Data{
		CommentID: c.ID, CommentDate: Day(c.CreatedAt(), site), Excerpt: Excerpt(c.Body),
		Decision: DecisionLabel(in.Decision, site), Facts: st.Facts, Ground: ground,
		AutomatedDetection: st.AutomatedDetection, AutomatedDecision: st.AutomatedDecision, Reasons: lines,
		AppealURL: in.AppealURL(in.Token), AppealUntil: Day(st.AppealUntil(), site),
	}
	if in.Notice != nil {
		d.Notice, d.Category = true, CategoryLabel(in.Notice.Category, lang(site))
	}
	m, err := r.Render(site, KindStatement, in.Email, d)
	return st, m, err
}
