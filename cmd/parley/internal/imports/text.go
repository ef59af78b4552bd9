package imports

import (
	"html"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"
)

// htmlText turns a comment's HTML into Parley's plain text: entities
// decoded, <br> a line break, paragraphs and block elements separated by a
// blank line, links kept as their text followed by the address when the
// two differ, every other tag dropped with its text kept. With
// keepNewlines the source's own line breaks are text (WordPress stores
// comments as typed and adds paragraphs only when it shows them); without,
// runs of white space collapse as a browser would show them (Disqus).
func htmlText(s string, keepNewlines bool) string {
	var b strings.Builder
	var href []string // the open <a>s' addresses
	var linkStart []int
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(textRun(s, keepNewlines))
			break
		}
		b.WriteString(textRun(s[:i], keepNewlines))
		s = s[i:]
		end := strings.IndexByte(s, '>')
		if end < 0 || !looksLikeTag(s) {
			// A lone "<" is text, as a browser shows it.
			b.WriteString(textRun(s[:1], keepNewlines))
			s = s[1:]
			continue
		}
		tag := s[1:end]
		s = s[end+1:]
		closing := strings.HasPrefix(tag, "/")
		name := strings.ToLower(strings.TrimLeft(tag, "/"))
		if j := strings.IndexAny(name, " \t\n\r/"); j >= 0 {
			name = name[:j]
		}
		switch name {
		case "br":
			b.WriteString("\n")
		case "p", "div", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr":
			b.WriteString("\n\n")
		case "li":
			if !closing {
				b.WriteString("\n- ")
			}
		case "script", "style":
			// Their content is code, not text a reader saw.
			if !closing {
				if k := strings.Index(strings.ToLower(s), "</"+name); k >= 0 {
					s = s[k:]
				}
			}
		case "a":
			if closing {
				if n := len(href); n > 0 {
					h, start := href[n-1], linkStart[n-1]
					href, linkStart = href[:n-1], linkStart[:n-1]
					text := b.String()[start:]
					if h != "" && strings.TrimSpace(text) != h && !sameLink(text, h) {
						b.WriteString(" (" + h + ")")
					}
				}
			} else {
				href = append(href, attr(tag, "href"))
				linkStart = append(linkStart, b.Len())
			}
		}
	}
	return tidy(b.String())
}

// looksLikeTag tells a tag from a "<" in text such as "a < b".
func looksLikeTag(s string) bool {
	if len(s) < 2 {
		return false
	}
	c := s[1]
	return c == '/' || c == '!' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func sameLink(text, h string) bool {
	t := strings.TrimSpace(text)
	return strings.TrimPrefix(strings.TrimPrefix(h, "https://"), "http://") == strings.TrimPrefix(strings.TrimPrefix(t, "https://"), "http://")
}

func textRun(s string, keepNewlines bool) string {
	s = html.UnescapeString(s)
	if keepNewlines {
		return strings.ReplaceAll(s, "\r\n", "\n")
	}
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}

// attr reads one attribute of a tag, quoted or not.
func attr(tag, name string) string {
	lower := strings.ToLower(tag)
	i := strings.Index(lower, name+"=")
	if i < 0 {
		return ""
	}
	v := tag[i+len(name)+1:]
	if v == "" {
		return ""
	}
	if q := v[0]; q == '"' || q == '\'' {
		if j := strings.IndexByte(v[1:], q); j >= 0 {
			return html.UnescapeString(v[1 : j+1])
		}
		return html.UnescapeString(v[1:])
	}
	if j := strings.IndexAny(v, " \t\n>"); j >= 0 {
		v = v[:j]
	}
	return html.UnescapeString(v)
}

// tidy trims each line's ends, keeps at most one blank line between
// paragraphs and trims the whole.
func tidy(s string) string {
	lines := strings.Split(s, "\n")
	var out []string
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(strings.TrimLeft(l, " "), " ")
		if l == "" {
			blank++
			continue
		}
		if len(out) > 0 && blank > 0 {
			out = append(out, "")
		}
		blank = 0
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// trackingParams are query parameters that never name an article: they
// are dropped when URLs are compared.
var trackingParams = []string{"utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "ref", "amp", "share"}

func tracking(k string) bool {
	k = strings.ToLower(k)
	for _, p := range trackingParams {
		if k == p || (strings.HasSuffix(p, "_") && strings.HasPrefix(k, p)) {
			return true
		}
	}
	return false
}

// NormalizeURL is the form under which URL variants of one article merge:
// no scheme, host lower-cased without "www." and default port, path
// percent-decoded with no trailing slash, tracking parameters dropped and
// the others sorted, no fragment. A URL that is only a path (Isso,
// Commento) keeps an empty host.
func NormalizeURL(raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	host := strings.ToLower(u.Hostname())
	host = strings.TrimPrefix(host, "www.")
	path := u.Path // decoded
	if path == "" {
		path = "/"
	}
	if len(path) > 1 {
		path = strings.TrimRight(path, "/")
		if path == "" {
			path = "/"
		}
	}
	q := u.Query()
	var keys []string
	for k := range q {
		if !tracking(k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vs := q[k]
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
		}
	}
	out := host + path
	if len(parts) > 0 {
		out += "?" + strings.Join(parts, "&")
	}
	return out
}

// ArticleKey derives Parley's article key from a normalised URL's path and
// query (the host is left out: one site is one host): "/" becomes "_",
// the other characters a key cannot hold are written "~XX" by byte, with
// "_" and "~" themselves escaped, so that two URLs never share a key. A
// key over 200 characters is cut and ends with a hash of the whole.
func ArticleKey(normalized string) string {
	if i := strings.IndexByte(normalized, '/'); i >= 0 {
		normalized = normalized[i:]
	} else if i := strings.IndexByte(normalized, '?'); i >= 0 {
		normalized = "/" + normalized[i:]
	} else {
		normalized = "/"
	}
	p := strings.Trim(normalized, "/")
	if p == "" {
		return "_"
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '/':
			b.WriteByte('_')
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-':
			b.WriteByte(c)
		default:
			b.WriteString("~" + strings.ToUpper(hex2(c)))
		}
	}
	k := b.String()
	if len(k) > 200 {
		k = k[:183] + "~" + shortHash(k)
	}
	return k
}

func hex2(c byte) string {
	const h = "0123456789abcdef"
	return string([]byte{h[c>>4], h[c&15]})
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
