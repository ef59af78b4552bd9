package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

// exportedComment is one comment in `parley reader export`.
type exportedComment struct {
	ID        int64           `json:"id"`
	Site      string          `json:"site"`
	Article   string          `json:"article"`
	ParentID  *int64          `json:"parent_id"`
	Author    string          `json:"author"`
	Body      string          `json:"body"`
	Status    string          `json:"status"`
	CreatedAt time.Time       `json:"created_at"`
	EditedAt  *time.Time      `json:"edited_at"`
	Upvotes   int64           `json:"upvotes"`
	Downvotes int64           `json:"downvotes"`
	Reports   int64           `json:"reports"`
	Reasons   json.RawMessage `json:"moderation_reasons"`
	IPHash    string          `json:"ip_hash"`
	ReaderID  string          `json:"reader_id"`
}

// exportedSubscription is a reply subscription in an author's export.
type exportedSubscription struct {
	Site        string     `json:"site"`
	Article     string     `json:"article"`
	Email       string     `json:"email"`
	Language    string     `json:"language"`
	CreatedAt   time.Time  `json:"created_at"`
	ConfirmedAt *time.Time `json:"confirmed_at"`
}

// notExported says what an export cannot hold, in the export itself.
const notExported = "Reactions, comment votes and reports are stored under anonymous reader ids from the browser, never with an email address, so they cannot be found by email. Comments the author deleted kept no email hash."

// readerCommand runs `parley reader export|forget -email …`: an author's
// comments, found by the keyed hash of their email, printed as JSON or
// erased.
func readerCommand(ctx context.Context, sub string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	help := map[string]string{
		"export": "Prints as JSON every comment written with the email address, in any status.",
		"forget": "Erases every comment written with the email address: author, text, email and IP hashes and reader id are emptied and the comment becomes deleted, keeping its place for replies.",
	}[sub]
	fs := newFlagSet("reader "+sub+" -email x@example.org [-db …]", stderr, help)
	email := fs.String("email", "", "the author's email address, as they gave it with their comments")
	dsn, create := dbFlags(fs)
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	if strings.TrimSpace(*email) == "" {
		return missing(fs, "email")
	}
	if err := mustExist(*dsn, *create); err != nil {
		return err
	}
	store, secret, err := openWithSecret(ctx, *dsn, getenv)
	if err != nil {
		return err
	}
	defer store.Close()
	hash := moderation.EmailHash(secret, *email)
	if sub == "forget" {
		n, err := store.ForgetEmailHash(ctx, hash)
		if err != nil {
			return err
		}
		subs, mails, err := store.ForgetMail(ctx, *email, hash)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "erased %d comments written with %s\n", n, strings.TrimSpace(*email))
		if subs > 0 || mails > 0 {
			fmt.Fprintf(stdout, "erased %d reply subscriptions and %d emails to that address\n", subs, mails)
		}
		return nil
	}
	rows, err := store.CommentsByEmailHash(ctx, hash)
	if err != nil {
		return err
	}
	out := struct {
		Email      string            `json:"email"`
		ExportedAt time.Time         `json:"exported_at"`
		Comments   []exportedComment `json:"comments"`
		// Subscriptions are the address's requests for replies by email.
		Subscriptions []exportedSubscription `json:"reply_subscriptions"`
		NotIncluded   string                 `json:"not_included"`
	}{Email: strings.TrimSpace(*email), ExportedAt: time.Now().UTC().Truncate(time.Second), Comments: []exportedComment{},
		Subscriptions: []exportedSubscription{}, NotIncluded: notExported}
	subs, err := store.SubscriptionsByEmailHash(ctx, hash)
	if err != nil {
		return err
	}
	for _, s := range subs {
		out.Subscriptions = append(out.Subscriptions, exportedSubscription{Site: s.SiteSlug, Article: s.ArticleKey, Email: s.Email,
			Language: s.Lang, CreatedAt: s.CreatedAt(), ConfirmedAt: s.ConfirmedAt()})
	}
	for _, c := range rows {
		e := exportedComment{
			ID: c.ID, Site: c.SiteSlug, Article: c.ArticleKey, Author: c.Author, Body: c.Body, Status: c.Status,
			CreatedAt: c.CreatedAt(), EditedAt: c.EditedAt(), Upvotes: c.Upvotes, Downvotes: c.Downvotes,
			Reports: c.ReportCount, Reasons: json.RawMessage(c.Reasons), IPHash: c.IPHash, ReaderID: c.ReaderID,
		}
		if c.ParentID != nil {
			e.ParentID = new(*c.ParentID)
		}
		if !json.Valid(e.Reasons) {
			e.Reasons = json.RawMessage("[]")
		}
		out.Comments = append(out.Comments, e)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", b)
	return err
}

// openWithSecret opens the store and reads the server secret, which the
// commands that hash IPs and emails or sign tokens need.
func openWithSecret(ctx context.Context, dsn string, getenv func(string) string) (*schema.Store, string, error) {
	store, err := openStore(ctx, dsn)
	if err != nil {
		return nil, "", err
	}
	secret, err := serverSecret(ctx, store, getenv)
	if err != nil {
		store.Close()
		return nil, "", err
	}
	return store, secret, nil
}

// serverSecret is PARLEY_SECRET, or the secret kept in the database.
func serverSecret(ctx context.Context, store *schema.Store, getenv func(string) string) (string, error) {
	secret := getenv("PARLEY_SECRET")
	if secret == "" {
		return store.Secret(ctx, "server")
	}
	if len(secret) < 32 {
		return "", errors.New("PARLEY_SECRET must have at least 32 characters")
	}
	return secret, nil
}
