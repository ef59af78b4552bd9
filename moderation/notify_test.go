package moderation_test

import (
	"testing"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

// Sign is HMAC-SHA256 as RFC 4231 defines it (test case 2).
func TestSign(t *testing.T) {
	got := moderation.Sign("Jefe", []byte("what do ya want for nothing?"))
	if want := "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestActionStatus(t *testing.T) {
	for a, want := range map[moderation.Action]string{
		moderation.ActApprove: schema.StatusApproved, moderation.ActRestore: schema.StatusApproved,
		moderation.ActReject: schema.StatusRejected, moderation.ActSpam: schema.StatusSpam, "delete": "",
	} {
		if got := a.Status(); got != want {
			t.Errorf("%s.Status() = %q, want %q", a, got, want)
		}
	}
}
