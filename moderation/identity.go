package moderation

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strings"
)

// DeriveKey returns the key for one purpose derived from the server
// secret, so that a key made for one use (an IP hash, a reader token) can
// never double as another.
func DeriveKey(secret, purpose string) []byte {
	return MAC([]byte(secret), "parley/"+purpose)
}

// MAC is HMAC-SHA256 of msg under key.
func MAC(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// Hasher makes what Parley stores instead of an author's email and IP
// addresses: keyed hashes, so that a leaked database reveals neither by a
// dictionary of guesses. Bans match on the same hashes.
type Hasher struct {
	ip, email []byte
}

// NewHasher returns the hasher of the server secret.
func NewHasher(secret string) Hasher {
	return Hasher{ip: DeriveKey(secret, "ip-hash"), email: DeriveKey(secret, "email-hash")}
}

// IP returns the hash of an address group (see IPGroup).
func (h Hasher) IP(group string) string {
	return hex.EncodeToString(MAC(h.ip, group)[:16])
}

// Email returns the hash of an email address, case and surrounding spaces
// ignored; the empty address hashes to "".
func (h Hasher) Email(email string) string {
	e := strings.ToLower(strings.TrimSpace(email))
	if e == "" {
		return ""
	}
	return hex.EncodeToString(MAC(h.email, e)[:16])
}

// IPGroup is the group an address is known by: an IPv4 address, or the
// /64 network of an IPv6 one, since a single subscriber usually holds a
// whole /64. Rate limits count and bans and hashes name groups.
func IPGroup(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() {
		return ip
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}

// EmailHash is the keyed hash Parley stores for an email address under the
// server secret: the value comments carry in email_hash, so that tools such
// as "parley reader export" can find an author's comments by address.
func EmailHash(secret, email string) string {
	return NewHasher(secret).Email(email)
}

// IPHash is the keyed hash Parley stores for an IP address under the
// server secret, for tools such as importers that write comments without
// a request. Like a posted comment's, it covers the address's group.
func IPHash(secret, ip string) string {
	return NewHasher(secret).IP(IPGroup(ip))
}
