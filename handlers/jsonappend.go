package handlers

import (
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

// The reactions answer is the hottest read: every article view sends it.
// Encoding it by hand, in a pooled buffer, costs a tenth of encoding/json's
// reflection over a struct and a map; TestAppendReactionsMatchesJSON holds
// it to the bytes encoding/json writes for reactionsResponse.

var answerBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// appendReactions appends the JSON of a reactionsResponse for the site's
// reactions, the article key, the counts and the reader's own reaction.
func appendReactions(b []byte, site *schema.Site, key string, c schema.Counts, mine string) []byte {
	names := site.Settings.Reactions
	b = append(b, `{"site":`...)
	b = appendJSONString(b, site.Slug)
	b = append(b, `,"article":`...)
	b = appendJSONString(b, key)
	b = append(b, `,"counts":{`...)
	// encoding/json writes map keys sorted; a site has a handful of
	// reactions, so an insertion sort of their indexes allocates nothing.
	var order [16]int
	idx := order[:0]
	if len(names) > len(order) {
		idx = make([]int, 0, len(names))
	}
	for i := range names {
		j := len(idx)
		idx = append(idx, i)
		for j > 0 && names[idx[j-1]] > names[i] {
			idx[j] = idx[j-1]
			j--
		}
		idx[j] = i
	}
	var total int64
	for n, i := range idx {
		if n > 0 && names[i] == names[idx[n-1]] {
			continue // a map holds a name once
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, names[i])
		b = append(b, ':')
		b = strconv.AppendInt(b, c[names[i]], 10)
	}
	for _, name := range names {
		total += c[name]
	}
	b = append(b, `},"total":`...)
	b = strconv.AppendInt(b, total, 10)
	b = append(b, `,"mine":`...)
	if mine == "" {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, mine)
	}
	b = append(b, `,"reactions":[`...)
	for i, name := range names {
		st := site.Settings.ReactionStyles[name]
		if st.Icon == "" && moderation.BuiltinIcon(name) {
			st.Icon = name
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendJSONString(b, name)
		b = append(b, `,"label":`...)
		b = appendJSONString(b, st.Label)
		b = append(b, `,"icon":`...)
		b = appendJSONString(b, st.Icon)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as encoding/json writes a string: HTML-safe
// (<, > and & escaped), invalid UTF-8 replaced, U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
