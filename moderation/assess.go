package moderation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/parley/parley/schema"
)

// Assessor gives new and edited comments their verdict: it gathers the
// facts the policy needs from the store and applies the site's settings.
// It is the one call the comment handlers make into moderation.
type Assessor struct {
	store *schema.Store
	mu    sync.Mutex
	lists map[int64]compiledLists // by site, valid while the site is unchanged
	now   func() time.Time
}

type compiledLists struct {
	updated         time.Time
	banned, suspect *WordList
}

// NewAssessor returns an Assessor on the store.
func NewAssessor(store *schema.Store) *Assessor {
	return &Assessor{store: store, lists: map[int64]compiledLists{}, now: time.Now}
}

// Draft is a comment about to be stored.
type Draft struct {
	Site   *schema.Site
	Body   string
	Author string
	Who    schema.Author
	// Edit is true when an existing comment's body changes: repeated text
	// then does not count the comment's own earlier version.
	Edit bool
}

// Result is a draft's verdict as the status to store, and the reasons as
// stored JSON.
type Result struct {
	Assessment
	Status  string
	Reasons string
	BodyKey string
	Shadow  bool
}

// BodyKey is the fingerprint of a body for the repeated-text rule: the same
// text up to case, accents, spacing and look-alike letters.
func BodyKey(body string) string {
	h := sha256.Sum256([]byte(Normalize(body)))
	return hex.EncodeToString(h[:16])
}

// Assess decides a draft.
func (a *Assessor) Assess(ctx context.Context, d Draft) (Result, error) {
	site := d.Site
	ms := site.Settings.Moderation
	lists, err := a.compiled(site)
	if err != nil {
		return Result{}, err
	}
	key := BodyKey(d.Body)
	now := a.now()
	f := Facts{Body: d.Body, Author: d.Author}
	if f.AuthorApproved, err = a.store.AuthorApproved(ctx, site.ID, d.Who); err != nil {
		return Result{}, err
	}
	if !d.Edit {
		if f.SameBodyRecent, err = a.store.SameBodySince(ctx, site.ID, key, now.Add(-24*time.Hour)); err != nil {
			return Result{}, err
		}
		// Counting stops past the limit: that is all the rule needs.
		limit := ms.MaxPerMinute
		if limit <= 0 {
			limit = DefaultMaxPerMinute
		}
		if f.RecentByAuthor, err = a.store.RecentByIP(ctx, d.Who.IPHash, now.Add(-time.Minute), limit+1); err != nil {
			return Result{}, err
		}
	}
	ban, err := a.store.ActiveBan(ctx, site.ID, d.Who)
	if err != nil {
		return Result{}, err
	}
	if ban != nil {
		f.Ban = &BanFact{Kind: ban.Kind, Shadow: ban.Shadow, Reason: ban.Reason}
	}
	features := Features(d.Body)
	counts, totals, err := a.store.ClassifierCounts(ctx, site.ID, features)
	if err != nil {
		return Result{}, err
	}
	mc := make(map[string]TokenCount, len(counts))
	for k, v := range counts {
		mc[k] = TokenCount{Spam: v.Spam, Ham: v.Ham}
	}
	f.SpamProbability = SpamProbability(features, mc, Totals{Spam: totals.Spam, Ham: totals.Ham})
	f.ClassifierDecisions = int(totals.Spam + totals.Ham)

	as := Assess(Settings{
		Mode: Mode(ms.Mode), FirstTimeApproved: ms.FirstTimeApproved,
		BannedWords: lists.banned, SuspectWords: lists.suspect,
		MaxLinks: ms.MaxLinks, MaxPerMinute: ms.MaxPerMinute,
		ClassifierMinDecisions: ms.ClassifierMinDecisions, ClassifierSpam: ms.ClassifierSpam, ClassifierHold: ms.ClassifierHold,
	}, f)
	reasons := as.Reasons
	if reasons == nil {
		reasons = []Reason{}
	}
	b, err := json.Marshal(reasons)
	if err != nil {
		return Result{}, err
	}
	return Result{Assessment: as, Status: as.Verdict.Status(), Reasons: string(b), BodyKey: key, Shadow: ban != nil && ban.Shadow}, nil
}

// compiled returns the site's word lists, compiled once per settings change.
func (a *Assessor) compiled(site *schema.Site) (compiledLists, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.lists[site.ID]; ok && c.updated.Equal(site.UpdatedAt) {
		return c, nil
	}
	banned, err := CompileWords(site.Settings.Moderation.BannedWords)
	if err != nil {
		return compiledLists{}, fmt.Errorf("site %s banned words: %w", site.Slug, err)
	}
	suspect, err := CompileWords(site.Settings.Moderation.SuspectWords)
	if err != nil {
		return compiledLists{}, fmt.Errorf("site %s suspect words: %w", site.Slug, err)
	}
	c := compiledLists{updated: site.UpdatedAt, banned: banned, suspect: suspect}
	a.lists[site.ID] = c
	return c, nil
}
