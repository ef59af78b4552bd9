package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
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
