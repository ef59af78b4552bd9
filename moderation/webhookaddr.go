package moderation

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// internalNets are networks a webhook must not reach unless the operator
// allows it: a webhook URL is chosen by a site admin, and the server would
// otherwise fetch, from inside the network, whatever address it names (a
// cloud metadata service, a database port, an admin interface).
var internalNets = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network"
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT, also used inside clouds
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),   // reserved, and broadcast
}

// nat64 is the well-known NAT64 prefix, whose addresses reach the IPv4
// address in their last four bytes.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// InternalAddr tells whether a is loopback, private, link-local,
// unspecified, multicast or otherwise not a public unicast address,
// looking through IPv4-mapped and NAT64 IPv6 forms.
func InternalAddr(a netip.Addr) bool {
	a = a.WithZone("").Unmap()
	if nat64.Contains(a) {
		b := a.As16()
		a = netip.AddrFrom4([4]byte(b[12:]))
	}
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsUnspecified() ||
		a.IsMulticast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() {
		return true
	}
	for _, p := range internalNets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// WebhookTargetProblem says why a webhook URL names an internal host, or
// "" when it names a public address or a DNS name. Names are resolved only
// when delivering, where the resolved address is checked again: this check
// catches what can be seen in the URL itself, in every notation a resolver
// might accept (127.1, 2130706433, 0x7f.1, [::ffff:127.0.0.1]).
func WebhookTargetProblem(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Sprintf("%q is not a URL", raw)
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return fmt.Sprintf("%q names this machine (localhost)", raw)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if InternalAddr(a) {
			return fmt.Sprintf("%q is an internal address (%s): loopback, private, link-local and metadata addresses are refused", raw, a.WithZone(""))
		}
		return ""
	}
	if !endsInNumber(host) {
		return ""
	}
	// Resolvers read such hosts as IPv4 addresses in their own ways; only
	// the dotted quad means the same everywhere.
	if a, ok := looseIPv4(host); ok {
		if InternalAddr(a) {
			return fmt.Sprintf("%q is the internal address %s: loopback, private, link-local and metadata addresses are refused", raw, a)
		}
		return fmt.Sprintf("%q: write the address as %s", raw, a)
	}
	return fmt.Sprintf("%q: the host is neither a name nor an IPv4 address", raw)
}

// endsInNumber tells whether a host's last label is a number, which makes
// URL parsers treat the whole host as an IPv4 address.
func endsInNumber(host string) bool {
	labels := strings.Split(host, ".")
	last := labels[len(labels)-1]
	if last == "" {
		return false
	}
	if h, ok := strings.CutPrefix(last, "0x"); ok {
		_, err := strconv.ParseUint("0"+h, 16, 64)
		return err == nil
	}
	_, err := strconv.ParseUint(last, 10, 64)
	return err == nil
}

// looseIPv4 reads an IPv4 address as inet_aton does: one to four parts in
// decimal, octal (leading 0) or hex (0x), the last filling the remaining
// bytes.
func looseIPv4(host string) (netip.Addr, bool) {
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		base := 10
		switch {
		case strings.HasPrefix(p, "0x"):
			base, p = 16, "0"+p[2:]
		case len(p) > 1 && p[0] == '0':
			base = 8
		}
		v, err := strconv.ParseUint(p, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 255 {
			return netip.Addr{}, false
		}
		n |= v << (8 * (3 - i))
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*(5-len(vals))) {
		return netip.Addr{}, false
	}
	n |= last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

// RedactURL keeps a webhook URL's scheme and host, which identify the
// receiver, and drops the rest, which for chat webhooks is the credential:
// what logs and the audit log show of it.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(redacted)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}
