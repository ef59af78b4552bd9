package moderation

import "testing"

// The hashes are stored: a change of derivation would hide every existing
// comment from "parley reader export" and lift every ban by address. The
// expected values are HMAC-SHA256 computed independently (Python's hmac).
func TestHashesAreStable(t *testing.T) {
	const secret = "test-secret"
	for _, c := range []struct{ got, want string }{
		{EmailHash(secret, "ann@example.org"), "4d41dd67b2f226c90b37a2f4ce1f17a4"},
		{EmailHash(secret, "  Ann@Example.ORG "), "4d41dd67b2f226c90b37a2f4ce1f17a4"},
		{EmailHash(secret, " "), ""},
		{IPHash(secret, "192.0.2.7"), "9c8cd2f5373696bc8fd0418b4df585bf"},
		{IPHash(secret, "2001:db8:1:2:aaaa::1"), "795e1143ca8dba8f48d61ef4a5e3a9cf"},
		{IPHash(secret, "2001:db8:1:2:bbbb::9"), "795e1143ca8dba8f48d61ef4a5e3a9cf"},
		{NewHasher(secret).IP(IPGroup("2001:db8:1:2::5")), "795e1143ca8dba8f48d61ef4a5e3a9cf"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
