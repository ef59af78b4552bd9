package moderation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/cache"
)

// Assessor gives new and edited comments their verdict: it gathers the
// facts the policy needs from the store and applies the site's settings.
// It is the one call the comment handlers make into moderation.
type Assessor struct {
	store *schema.Store
	// lists are the sites' compiled word lists, keyed by the site as the
	// store's site cache holds it: a settings change makes a new *Site,
	// so an entry can never outlive the settings it was compiled from.
	lists *cache.Cache[*schema.Site, compiledLists]
	now   func() time.Time
}

type compiledLists struct {
	banned, suspect *WordList
}

// NewAssessor returns an Assessor on the store.
func NewAssessor(store *schema.Store) *Assessor {
	return &Assessor{store: store, lists: cache.New[*schema.Site, compiledLists]("word_lists", 1_000, nil), now: time.Now}
}

// Draft is a comment about to be stored.
type Draft struct {
	Site *schema.Site
	// ArticleKey and ParentID, when set, are looked up with the facts and
	// returned in the Result for the handler to check.
	ArticleKey string
	ParentID   int64
	Body       string
	Author     string
	Who        schema.Author
	// Edit is the comment whose body changes. It is assessed like a new
	// comment, except that its own earlier text neither repeats the new
	// one nor counts towards the posting rate; and the verdict never
	// lowers it: a held comment stays at least as held.
	Edit *schema.Comment
}

// Result is a draft's verdict as the status to store, and the reasons as
// stored JSON, with the article (nil when never used) and parent (nil when
// none or missing) the draft named.
type Result struct {
	Assessment
	Status  string
	Reasons string
	BodyKey string
	Shadow  bool
	Article *schema.Article
	Parent  *schema.Comment
}

// BodyKey is the fingerprint of a body for the repeated-text rule: the same
// text up to case, accents, spacing and look-alike letters.
func BodyKey(body string) string {
	h := sha256.Sum256([]byte(Normalize(body)))
	return hex.EncodeToString(h[:16])
}

// Assess decides a draft from the facts one store call gathers.
func (a *Assessor) Assess(ctx context.Context, d Draft) (Result, error) {
	site := d.Site
	ms := site.Settings.Moderation
	lists, err := a.compiled(site)
	if err != nil {
		return Result{}, err
	}
	key := BodyKey(d.Body)
	now := a.now()
	// Counting stops past the limit: that is all the rule needs.
	limit := ms.MaxPerMinute
	if limit <= 0 {
		limit = DefaultMaxPerMinute
	}
	features := Features(d.Body)
	q := schema.FactsQuery{
		SiteID: site.ID, ArticleKey: d.ArticleKey, ParentID: d.ParentID, Who: d.Who, BodyKey: key,
		SameSince: now.Add(-24 * time.Hour), RecentSince: now.Add(-time.Minute), RecentMax: limit + 1, Features: features,
	}
	if d.Edit != nil {
		q.Exclude = d.Edit.ID
	}
	facts, err := a.store.PostFacts(ctx, q)
	if err != nil {
		return Result{}, err
	}
	f := Facts{Body: d.Body, Author: d.Author, AuthorApproved: facts.AuthorApproved,
		SameBodyRecent: facts.SameBodyRecent, RecentByAuthor: facts.RecentByIP}
	if ban := facts.Ban; ban != nil {
		f.Ban = &BanFact{Kind: ban.Kind, Shadow: ban.Shadow, Reason: ban.Reason}
	}
	mc := make(map[string]TokenCount, len(facts.Tokens))
	for k, v := range facts.Tokens {
		mc[k] = TokenCount{Spam: v.Spam, Ham: v.Ham, Rejected: v.Rejected}
	}
	totals := Totals{Spam: facts.Totals.Spam, Ham: facts.Totals.Ham, Rejected: facts.Totals.Rejected}
	f.SpamProbability = SpamProbability(features, mc, totals)
	f.SpamWords = SpamWords(features, mc, totals, 5)
	f.RejectProbability = RejectProbability(features, mc, totals)
	f.RejectWords = RejectWords(features, mc, totals, 5)
	f.RejectDecisions, f.HamDecisions = int(facts.Totals.Rejected), int(facts.Totals.Ham)
	f.ClassifierDecisions = int(facts.Totals.Spam + facts.Totals.Ham)

	as := Assess(Settings{
		Mode: Mode(ms.Mode), FirstTimeApproved: ms.FirstTimeApproved,
		BannedWords: lists.banned, SuspectWords: lists.suspect,
		MaxLinks: ms.MaxLinks, MaxPerMinute: ms.MaxPerMinute,
		ClassifierMinDecisions: ms.ClassifierMinDecisions, ClassifierSpam: ms.ClassifierSpam, ClassifierHold: ms.ClassifierHold,
		RejectMinDecisions: ms.RejectMinDecisions, RejectHold: ms.RejectHold,
	}, f)
	reasons := as.Reasons
	if reasons == nil {
		reasons = []Reason{}
	}
	b, err := json.Marshal(reasons)
	if err != nil {
		return Result{}, err
	}
	status := as.Verdict.Status()
	if d.Edit != nil {
		status = editStatus(d.Edit.Status, as.Verdict)
	}
	return Result{Assessment: as, Status: status, Reasons: string(b), BodyKey: key,
		Shadow: facts.Ban != nil && facts.Ban.Shadow, Article: facts.Article, Parent: facts.Parent}, nil
}

// editStatus is the status of an edited comment: its new verdict, but
// never less held than it was. A comment held for the posting rate or by a
// moderator's removal cannot be released by changing a character.
func editStatus(was string, v Verdict) string {
	for old := Allow; old <= Reject; old++ {
		if old.Status() == was && old > v {
			return was
		}
	}
	return v.Status()
}

// compiled returns the site's word lists, compiled once per settings change.
func (a *Assessor) compiled(site *schema.Site) (compiledLists, error) {
	return a.lists.Load(site, func() (compiledLists, error) {
		banned, err := CompileWords(site.Settings.Moderation.BannedWords)
		if err != nil {
			return compiledLists{}, fmt.Errorf("site %s banned words: %w", site.Slug, err)
		}
		suspect, err := CompileWords(site.Settings.Moderation.SuspectWords)
		if err != nil {
			return compiledLists{}, fmt.Errorf("site %s suspect words: %w", site.Slug, err)
		}
		return compiledLists{banned: banned, suspect: suspect}, nil
	})
}

// CacheStats reports the compiled word lists' cache, for metrics.
func (a *Assessor) CacheStats() cache.Stats { return a.lists.Stats() }
