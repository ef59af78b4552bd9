package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strings"
	"sync"

	"github.com/parley/parley/moderation"
)

// keys are purpose-bound keys derived from the server secret, so that a
// reader token can never double as an IP hash or anything else. The
// hashes of authors' addresses are moderation's (moderation.Hasher).
type keys struct {
	moderation.Hasher
	reader []byte
	// readerMACs are HMACs keyed with reader, reset and reused: every
	// article view verifies a reader token, and keying a new HMAC was a
	// tenth of answering the counts.
	readerMACs *sync.Pool
	// audit keys the fingerprints of webhook secrets and URLs in the
	// audit log.
	audit []byte
}

func deriveKeys(secret string) keys {
	reader := moderation.DeriveKey(secret, "reader-token")
	return keys{Hasher: moderation.NewHasher(secret), reader: reader,
		readerMACs: &sync.Pool{New: func() any { return &pooledMAC{h: hmac.New(sha256.New, reader)} }},
		audit:      moderation.DeriveKey(secret, "audit-fingerprint")}
}

// pooledMAC is a keyed HMAC with room for its input and output, which
// would otherwise escape to the heap through the hash.Hash interface.
type pooledMAC struct {
	h   hash.Hash
	in  [64]byte
	sum [sha256.Size]byte
}

// readerMAC is mac(k.reader, id), from the pool.
func (k keys) readerMAC(id string) [sha256.Size]byte {
	m := k.readerMACs.Get().(*pooledMAC)
	m.h.Reset()
	if len(id) <= len(m.in) {
		m.h.Write(m.in[:copy(m.in[:], id)])
	} else {
		m.h.Write([]byte(id))
	}
	out := [sha256.Size]byte(m.h.Sum(m.sum[:0]))
	k.readerMACs.Put(m)
	return out
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
	sig := k.readerMAC(readerID)
	return readerID + "." + b64.EncodeToString(sig[:16]), readerID
}

// ReaderID verifies a token and returns its reader id.
func (k keys) ReaderID(token string) (string, bool) {
	id, sig, ok := strings.Cut(token, ".")
	if !ok || len(id) != 22 || len(sig) != 22 {
		return "", false
	}
	// Compare the encoded signature, not the decoded bytes: base64 lets
	// several spellings decode alike, and a token must have exactly one.
	var buf [22]byte
	mac := k.readerMAC(id)
	b64.Encode(buf[:], mac[:16])
	if subtle.ConstantTimeCompare([]byte(sig), buf[:]) != 1 {
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
