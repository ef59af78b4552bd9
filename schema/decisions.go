package schema

import (
	"context"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"
)

// Labels the classifier learns from decisions.
const (
	LabelSpam   = "spam"   // the spam model's spam
	LabelHam    = "ham"    // approved: the other class of both models
	LabelReject = "reject" // the reject model's abuse, insults, off-topic
)

// Decision is a moderator's decision on one comment, or one carried by a
// one-time action link.
type Decision struct {
	CommentID int64
	// Expected, when set, is the status the decider saw: if the comment is
	// in another one, nothing changes and Decide fails with ErrConflict.
	Expected string
	// From, when not nil, lists the statuses the decision applies to
	// (restore applies to rejected and spam comments only); ErrConflict
	// otherwise.
	From   []string
	Status string
	// Learn is what the classifier learns from the decision: LabelSpam,
	// LabelHam, LabelReject, or "" for nothing. A comment's text is learned once, with
	// its latest label: a decision that reverses an earlier one unlearns
	// the earlier label first.
	Learn string
	// Features turns the comment's body into the classifier's features;
	// required when Learn is set.
	Features func(body string) []string
	// Link, when set, is the hash of the one-time action link that carries
	// the decision: it is spent, with its pair, in the same transaction,
	// and Decide fails with ErrNotFound if it was spent or expired, and
	// with ErrConflict if the comment changed since the link was issued.
	Link string
	// Announce, when not nil, builds the webhook events of a decision that
	// changed the comment's status or queue; they are stored in the same
	// transaction.
	Announce Announcer
	// Audit is who decides and why (Actor, Action, Detail); the store
	// fills in the object, the site and the states. No Action, no entry.
	Audit Audit
	// Then, when not nil, runs last in the decision's transaction, with
	// the outcome so far, whether the status changed or not: what the
	// decision owes besides (a statement of reasons, a closed notice or
	// appeal, their emails) is written with it or not at all.
	Then func(ctx context.Context, tx sqlx.ExtContext, d Decided) error
}

// Decided is the outcome of a decision: the comment before and after, and
// whether anything changed (a decision that changes nothing is neither
// applied nor audited).
type Decided struct {
	Before, After *Comment
	Changed       bool
}

// Decide applies a decision in one transaction: the status change with its
// counters, the dismissal of open reports when a comment is approved, the
// classifier's learning and unlearning, the spent action link and the audit
// entry all happen together or not at all. The comment's row is locked
// first, so concurrent decisions on it take turns and the second sees the
// first's outcome. On ErrConflict, Before is the comment as it is now.
func (s *Store) Decide(ctx context.Context, d Decision) (Decided, error) {
	var out Decided
	err := s.writeAgain(ctx, func(tx *sqlx.Tx) error {
		out = Decided{}
		// The comment first, then its links: every writer takes them in
		// this order, so a click and a dashboard decision cannot deadlock.
		c, err := s.lockComment(ctx, tx, d.CommentID)
		if err != nil {
			return err
		}
		before := *c
		out.Before = &before
		if d.Link != "" {
			version, err := s.spendLink(ctx, tx, d.Link, d.CommentID)
			if err != nil {
				return err
			}
			// Links issued before versions were recorded carry 0: they
			// stand for the text as first posted.
			if version == 0 {
				version = 1
			}
			if version != c.Version {
				return fmt.Errorf("comment %d changed since the link was issued: %w", c.ID, ErrConflict)
			}
		}
		switch {
		case c.Status == StatusDeleted:
			return fmt.Errorf("comment %d was deleted by its author: %w", c.ID, ErrConflict)
		case d.Expected != "" && c.Status != d.Expected:
			return fmt.Errorf("comment %d is %s, not %s: %w", c.ID, c.Status, d.Expected, ErrConflict)
		case d.From != nil && !slices.Contains(d.From, c.Status):
			return fmt.Errorf("comment %d is %s: %w", c.ID, c.Status, ErrConflict)
		}
		dismiss := d.Status == StatusApproved && (c.ReportCount > 0 || c.ReportedMS != nil)
		relearn := d.Learn != "" && c.Learned != d.Learn
		if c.Status == d.Status && !dismiss && !relearn {
			out.After = &before
			if d.Then != nil {
				return d.Then(ctx, tx, out)
			}
			return nil
		}
		if dismiss {
			if err := s.dismissReports(ctx, tx, c); err != nil {
				return err
			}
		}
		if c.Status != d.Status {
			if err := s.rollDecision(ctx, tx, &before, d.Status, d.Audit); err != nil {
				return err
			}
		}
		if c.Status != d.Status || dismiss {
			if err := s.transition(ctx, tx, c, d.Status); err != nil {
				return err
			}
		}
		if relearn {
			if err := s.relearn(ctx, tx, c, d.Learn, d.Features); err != nil {
				return err
			}
		}
		if d.Audit.Action != "" {
			a := d.Audit.For(d.Audit.Action, "comment", c.ID).OnSite(c.SiteID)
			a.Before, a.After = before.Status, d.Status
			if err := s.audit(ctx, tx, &a); err != nil {
				return err
			}
		}
		// Whoever decided, the comment's one-time links have nothing
		// left to do.
		if err := s.spendCommentLinks(ctx, tx, c.ID); err != nil {
			return err
		}
		out.Changed = true
		out.After, err = s.comment(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		// A held reply tells its parent's author when it is published.
		if before.Status != StatusApproved {
			if err := s.queueReplies(ctx, tx, out.After); err != nil {
				return err
			}
		}
		if before.Status != out.After.Status || before.Queue != out.After.Queue {
			if err := s.announce(ctx, tx, d.Announce, Change{Before: &before, After: out.After}); err != nil {
				return err
			}
		}
		if d.Then != nil {
			return d.Then(ctx, tx, out)
		}
		return nil
	})
	return out, err
}

// relearn teaches the site's classifier the comment's text as label,
// taking back what an earlier decision on the same text taught it.
func (s *Store) relearn(ctx context.Context, tx sqlx.ExtContext, c *Comment, label string, features func(string) []string) error {
	if features == nil {
		return fmt.Errorf("decision on comment %d: learning needs a features function", c.ID)
	}
	fs := features(c.Body)
	if c.Learned != "" {
		if err := s.learn(ctx, tx, c.SiteID, fs, c.Learned, -1); err != nil {
			return err
		}
	}
	if err := s.learn(ctx, tx, c.SiteID, fs, label, 1); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE comments SET learned = ? WHERE id = ?`), label, c.ID); err != nil {
		return fmt.Errorf("record learned label: %w", err)
	}
	c.Learned = label
	return nil
}
