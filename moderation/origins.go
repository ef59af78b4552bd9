package moderation

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// NormalizeOrigin returns an origin in the form browsers send in the
// Origin header — lower-case scheme and host, no default port, no trailing
// slash — since the CORS check compares strings and
// "https://News.example:443/" would otherwise never match. notice is set
// when a trailing slash was dropped, which is a path the origin cannot
// have, so the caller can say so; err says why o is no origin at all.
func NormalizeOrigin(o string) (norm, notice string, err error) {
	o = strings.TrimSpace(o)
	if o == "*" {
		return o, "", nil
	}
	bad := func(why string) (string, string, error) {
		return "", "", fmt.Errorf("%q is not an origin (%s): use scheme://host[:port], such as https://news.example", o, why)
	}
	u, perr := url.Parse(o)
	if perr != nil {
		return bad("it does not parse")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return bad("the scheme must be http or https")
	}
	if u.Host == "" || u.Opaque != "" {
		return bad("no host")
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return bad("an origin has no user, query or fragment")
	}
	switch u.Path {
	case "":
	case "/":
		notice = fmt.Sprintf("origin %q: the trailing slash was removed (an origin has no path)", o)
	default:
		return bad("an origin has no path")
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return bad("no host")
	}
	if strings.HasSuffix(u.Host, ":") {
		return bad("empty port")
	}
	host = strings.ToLower(host)
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return bad("the port must be 1 to 65535")
		}
		port = strconv.Itoa(n)
		if (scheme == "http" && n == 80) || (scheme == "https" && n == 443) {
			port = ""
		}
	}
	h := host
	if strings.Contains(host, ":") {
		h = "[" + host + "]"
	}
	if port != "" {
		h = net.JoinHostPort(host, port)
	}
	return scheme + "://" + h, notice, nil
}

// NormalizeOrigins normalises each origin and drops repeats; an origin that
// is not one is kept as given, for ValidateSite to name.
func NormalizeOrigins(list []string) (out, notices []string) {
	seen := map[string]bool{}
	out = []string{}
	for _, o := range list {
		n, notice, err := NormalizeOrigin(o)
		if err != nil {
			n = o
		}
		if notice != "" {
			notices = append(notices, notice)
		}
		if seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	return out, notices
}
