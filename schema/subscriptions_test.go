package schema_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

// A subscription never confirmed is deleted once its link expired, with
// the address it held; a confirmed one stays.
func TestDeleteUnconfirmedSubscriptions(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		now := time.Now()
		s.SetClock(func() time.Time { return now })
		site, err := s.CreateSite(ctx, "news", schema.DefaultSettings(), nil)
		if err != nil {
			t.Fatal(err)
		}
		ask := func(email, confirmHash string) *schema.Subscribe {
			t.Helper()
			sub := &schema.Subscribe{Email: email, EmailHash: "hash-" + email, Lang: "en", ConfirmHash: confirmHash, ConfirmTTL: time.Hour,
				Mail: schema.Mail{Kind: "reply_confirm", To: email, Subject: "Confirm", Text: "link"}}
			c := &schema.Comment{SiteID: site.ID, Author: "A", Body: "b " + email, EmailHash: sub.EmailHash, Status: schema.StatusApproved}
			if err := s.PostComment(ctx, c, schema.PostOptions{ArticleKey: "a-1", Subscribe: sub}); err != nil || sub.State != schema.SubscribeConfirmSent {
				t.Fatalf("subscribe %s: %v %s", email, err, sub.State)
			}
			return sub
		}
		ask("kept@example.org", "h1")
		ask("dropped@example.org", "h2")
		if _, _, err := s.ConfirmSubscription(ctx, "h1"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.ConfirmSubscription(ctx, "h1"); err == nil {
			t.Fatal("a confirmation link worked twice")
		}
		now = now.Add(2 * time.Hour)
		if _, _, err := s.ConfirmSubscription(ctx, "h2"); err == nil {
			t.Fatal("an expired confirmation link worked")
		}
		n, err := s.DeleteUnconfirmed(ctx, now.Add(-time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("deleted %d, %v; want 1", n, err)
		}
		for email, want := range map[string]int{"kept@example.org": 1, "dropped@example.org": 0} {
			if subs, err := s.SubscriptionsByEmailHash(ctx, "hash-"+email); err != nil || len(subs) != want {
				t.Fatalf("%s: %d subscriptions, want %d (%v)", email, len(subs), want, err)
			}
		}
	})
}
