package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/moderation/mail/mailtest"
	"github.com/parley/parley/schema"
)

// An author's comments are found by the email they gave, exported as JSON
// and erased, with the hash the server used.
func TestReaderExportAndForget(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	base := startServer(t, map[string]string{"PARLEY_DB": db}, "-demo", "-captcha-test")
	post := func(author, email, body string, parent any) float64 {
		t.Helper()
		_, c := call(t, "POST", base+"/api/v1/captchas", "")
		in, _ := json.Marshal(map[string]any{"author": author, "email": email, "body": body, "parent_id": parent,
			"captcha_id": c["id"], "captcha_solution": c["test_solution"]})
		status, out := call(t, "POST", base+"/api/v1/sites/demo/articles/story/comments", string(in))
		if status != 201 {
			t.Fatalf("post: %d %v", status, out)
		}
		return out["comment"].(map[string]any)["id"].(float64)
	}
	first := post("Ann", "Ann@Example.org", "Ann's first word", nil)
	post("Bob", "bob@example.org", "Bob answers", first)
	post("Ann", "ann@example.org", "Ann again", nil)

	out, err := runCmd(t, "", "reader", "export", "-email", " ANN@example.org ", "-db", db)
	if err != nil {
		t.Fatalf("export: %v %s", err, out)
	}
	var export struct {
		Email    string
		Comments []struct {
			ID                          float64
			Site, Article, Body, Status string
			IPHash                      string `json:"ip_hash"`
		}
		NotIncluded string `json:"not_included"`
	}
	if err := json.Unmarshal([]byte(out), &export); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, out)
	}
	if len(export.Comments) != 2 || export.Comments[0].ID != first || export.Comments[0].Body != "Ann's first word" ||
		export.Comments[0].Site != "demo" || export.Comments[0].Article != "story" || export.Comments[1].Body != "Ann again" ||
		export.Comments[0].IPHash == "" || !strings.Contains(export.NotIncluded, "Reactions") {
		t.Fatalf("export: %s", out)
	}

	out, err = runCmd(t, "", "reader", "forget", "-email", "ann@example.org", "-db", db)
	if err != nil || !strings.Contains(out, "erased 2 comments") {
		t.Fatalf("forget: %v %s", err, out)
	}
	out, _ = runCmd(t, "", "reader", "export", "-email", "ann@example.org", "-db", db)
	if !strings.Contains(out, `"comments": []`) {
		t.Fatalf("export after forget: %s", out)
	}
	// Bob's reply keeps its place under an erased parent.
	_, list := call(t, "GET", base+"/api/v1/sites/demo/articles/story/comments", "")
	b, _ := json.Marshal(list)
	if s := string(b); strings.Contains(s, "Ann") || !strings.Contains(s, "Bob answers") || !strings.Contains(s, `"status":"deleted"`) {
		t.Fatalf("thread after forget: %s", s)
	}
	if out, _ := runCmd(t, "", "reader", "export", "-email", "bob@example.org", "-db", db); !strings.Contains(out, "Bob answers") {
		t.Fatalf("Bob's export: %s", out)
	}
	for _, args := range [][]string{{"reader"}, {"reader", "erase"}, {"reader", "export", "-db", db}} {
		if out, err := runCmd(t, "", args...); err != errUsage {
			t.Fatalf("%v: %v %s", args, err, fmt.Sprint(out))
		}
	}
}

// A reader's reply subscriptions are in their export and erased with
// their comments, as is every email to them in the outbox.
func TestReaderForgetsSubscriptions(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	smtp := mailtest.Start(t)
	base := startServer(t, map[string]string{"PARLEY_DB": db}, "-demo", "-captcha-test",
		"-smtp-url", smtp.URL, "-mail-from", "comments@news.example")
	_, c := call(t, "POST", base+"/api/v1/captchas", "")
	in, _ := json.Marshal(map[string]any{"author": "Ann", "email": "Ann@Example.org", "body": "Tell me", "notify_replies": true, "lang": "fr",
		"captcha_id": c["id"], "captcha_solution": c["test_solution"]})
	if status, out := call(t, "POST", base+"/api/v1/sites/demo/articles/story/comments", string(in)); status != 201 || out["subscription"] != "confirm_sent" {
		t.Fatalf("post: %d %v", status, out)
	}
	smtp.Wait(t, 1, 10*time.Second)

	out, err := runCmd(t, "", "reader", "export", "-email", "ann@example.org", "-db", db)
	var export struct {
		Subscriptions []struct {
			Site, Article, Email, Language string
			ConfirmedAt                    *time.Time `json:"confirmed_at"`
		} `json:"reply_subscriptions"`
	}
	if err != nil || json.Unmarshal([]byte(out), &export) != nil || len(export.Subscriptions) != 1 {
		t.Fatalf("export: %v %s", err, out)
	}
	if s := export.Subscriptions[0]; s.Site != "demo" || s.Article != "story" || s.Email != "Ann@Example.org" || s.Language != "fr" || s.ConfirmedAt != nil {
		t.Fatalf("exported subscription: %+v", s)
	}
	out, err = runCmd(t, "", "reader", "forget", "-email", "ann@example.org", "-db", db)
	if err != nil || !strings.Contains(out, "erased 1 comments") || !strings.Contains(out, "erased 1 reply subscriptions and 1 emails") {
		t.Fatalf("forget: %v %s", err, out)
	}
	out, _ = runCmd(t, "", "reader", "export", "-email", "ann@example.org", "-db", db)
	if !strings.Contains(out, `"reply_subscriptions": []`) {
		t.Fatalf("export after forget: %s", out)
	}
	s, err := schema.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if rows, err := s.MailTo(context.Background(), "Ann@Example.org"); err != nil || len(rows) != 0 {
		t.Fatalf("mail kept after forget: %v %v", rows, err)
	}
}
