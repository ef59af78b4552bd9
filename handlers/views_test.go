package handlers

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/parley/parley/schema"
)

// The public and the moderator view share their first fields
// (commentView); both answers keep exactly their documented keys, in the
// order clients have always seen.
func TestCommentViewsJSON(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixMilli()
	c := &schema.Comment{ID: 7, ParentID: new(int64(3)), Author: "Ann", Body: "Hi", CreatedMS: created, EditedMS: new(created + 1000),
		DecidedMS: new(created + 2000), Status: schema.StatusApproved, Version: 2, Queue: "approved", Priority: 1, Score: 4,
		Upvotes: 5, Downvotes: 1, ReportCount: 1, EmailHash: "e", IPHash: "i", ReaderID: "r"}
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"public", toPublic(c), `{"id":7,"parent_id":3,"author":"Ann","body":"Hi","created_at":"2026-01-02T03:04:05Z",` +
			`"edited_at":"2026-01-02T03:04:06Z","score":4,"upvotes":5,"downvotes":1,"status":"approved"}`},
		{"moderator", toModComment(c), `{"id":7,"parent_id":3,"author":"Ann","body":"Hi","created_at":"2026-01-02T03:04:05Z",` +
			`"edited_at":"2026-01-02T03:04:06Z","decided_at":"2026-01-02T03:04:07Z","status":"approved","version":2,"queue":"approved",` +
			`"priority":1,"score":4,"report_count":1,"shadow":false,"email_hash":"e","ip_hash":"i","reader_id":"r"}`},
		{"public, top level", toPublic(&schema.Comment{ID: 8, CreatedMS: created, Status: schema.StatusPending}),
			`{"id":8,"parent_id":null,"author":"","body":"","created_at":"2026-01-02T03:04:05Z","edited_at":null,` +
				`"score":0,"upvotes":0,"downvotes":0,"status":"pending"}`},
		{"moderator, without identities", toModComment(&schema.Comment{ID: 8, CreatedMS: created, Status: schema.StatusPending}),
			`{"id":8,"parent_id":null,"author":"","body":"","created_at":"2026-01-02T03:04:05Z","edited_at":null,` +
				`"decided_at":null,"status":"pending","version":0,"queue":"","priority":0,"score":0,"report_count":0,"shadow":false}`},
	} {
		b, err := json.Marshal(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("%s view:\n got %s\nwant %s", tc.name, b, tc.want)
		}
	}
}
