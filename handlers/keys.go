package handlers

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/parley/parley/moderation"
)

// keys are purpose-bound keys derived from the server secret, so that a
// reader token can never double as an IP hash or anything else. The
// hashes of authors' addresses are moderation's (moderation.Hasher).
type keys struct {
	moderation.Hasher
	reader []byte
	// audit keys the fingerprints of webhook secrets and URLs in the
	// audit log.
	audit []byte
}

func deriveKeys(secret string) keys {
	return keys{Hasher: moderation.NewHasher(secret), reader: moderation.DeriveKey(secret, "reader-token"),
		audit: moderation.DeriveKey(secret, "audit-fingerprint")}
}

// mac is HMAC-SHA256 of msg under key.
func mac(key []byte, msg string) []byte { return moderation.MAC(key, msg) }

var b64 = base64.RawURLEncoding

// NewReaderToken returns a signed token and the reader id inside it.
// Nothing is stored: the signature is the proof.
func (k keys) NewReaderToken() (token, readerID string) {
	id := make([]byte, 16)
	rand.Read(id)
	readerID = b64.EncodeToString(id)
	return readerID + "." + b64.EncodeToString(mac(k.reader, readerID)[:16]), readerID
}

// ReaderID verifies a token and returns its reader id.
func (k keys) ReaderID(token string) (string, bool) {
	id, sig, ok := strings.Cut(token, ".")
	if !ok || len(id) != 22 || len(sig) != 22 {
		return "", false
	}
	// Compare the encoded signature, not the decoded bytes: base64 lets
	// several spellings decode alike, and a token must have exactly one.
	want := b64.EncodeToString(mac(k.reader, id)[:16])
	if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) != 1 {
		return "", false
	}
	return id, true
}

// randomToken returns n random bytes, URL-safe encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return b64.EncodeToString(b)
}

// tokenHash is how tokens handed out once (edit tokens, sessions, API
// tokens) are stored: a plain SHA-256 suffices for 256-bit random values.
func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}
