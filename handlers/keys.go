package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// keys are purpose-bound keys derived from the server secret, so that a
// reader token can never double as an IP hash or anything else.
type keys struct {
	reader []byte
	ip     []byte
	email  []byte
	// audit keys the fingerprints of webhook secrets and URLs in the
	// audit log.
	audit []byte
}

func deriveKeys(secret string) keys {
	derive := func(purpose string) []byte {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte("parley/" + purpose))
		return m.Sum(nil)
	}
	return keys{reader: derive("reader-token"), ip: derive("ip-hash"), email: derive("email-hash"), audit: derive("audit-fingerprint")}
}

func mac(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// IPHash is what Parley stores instead of an IP address.
func (k keys) IPHash(ip string) string {
	return hex.EncodeToString(mac(k.ip, ip)[:16])
}

// EmailHash is what Parley stores instead of an email address: keyed, so a
// leaked database does not reveal addresses by a dictionary of guesses.
func (k keys) EmailHash(email string) string {
	e := strings.ToLower(strings.TrimSpace(email))
	if e == "" {
		return ""
	}
	return hex.EncodeToString(mac(k.email, e)[:16])
}

// EmailHash is the keyed hash Parley stores for an email address under the
// server secret: the value comments carry in email_hash, so that tools such
// as "parley reader export" can find an author's comments by address.
func EmailHash(secret, email string) string {
	return deriveKeys(secret).EmailHash(email)
}

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

// IPHash is the keyed hash Parley stores for an IP address under the
// server secret, for tools such as importers that write comments without
// a request.
// Like a posted comment's, it covers the address's group: an IPv4
// address, or an IPv6 address's /64.
func IPHash(secret, ip string) string {
	return deriveKeys(secret).IPHash(limitKey(ip))
}
