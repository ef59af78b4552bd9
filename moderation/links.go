package moderation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"github.com/parley/parley/schema"
)

// LinkTTL is how long the approve and reject links of a held comment work.
const LinkTTL = 7 * 24 * time.Hour

// LinkInfo returns the link of a token and its comment, for the page that
// asks to confirm it; ErrLinkUsed when it cannot be used.
func (q *Queue) LinkInfo(ctx context.Context, token string) (*schema.ActionLink, *schema.Comment, error) {
	l, err := q.store.ActionLink(ctx, hashToken(token))
	if errors.Is(err, schema.ErrNotFound) || (err == nil && !l.Usable(q.store.Now())) {
		return nil, nil, ErrLinkUsed
	}
	if err != nil {
		return nil, nil, err
	}
	c, err := q.store.Comment(ctx, l.CommentID)
	if errors.Is(err, schema.ErrNotFound) {
		return nil, nil, ErrLinkUsed
	}
	return l, c, err
}

// DecideByLink carries out a one-time link's decision: it applies to a
// comment that is still pending, in the very version the link was issued
// for (a *ConflictError otherwise: an edit since then is not approved
// unread), and spends the link and its pair in the same transaction, so of
// any number of clicks exactly one acts. The audit log names the actor
// "webhook link".
func (q *Queue) DecideByLink(ctx context.Context, token string) (*schema.Comment, Action, error) {
	l, c, err := q.LinkInfo(ctx, token)
	if err != nil {
		return nil, "", err
	}
	action := Action(l.Action)
	r := Request{Action: action, Expected: schema.StatusPending, Reason: "one-time link from a webhook"}
	c, err = q.decide(ctx, Actor{}, c, r, l.TokenHash, nil)
	if errors.Is(err, schema.ErrNotFound) {
		// Another click spent the pair meanwhile.
		return nil, action, ErrLinkUsed
	}
	return c, action, err
}

// newToken returns 32 random bytes, URL-safe encoded.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is how a link's token is stored: SHA-256 suffices for 256-bit
// random values.
func hashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}
