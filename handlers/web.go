package handlers

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/gorilla/mux"
	"github.com/tdewolff/minify/v2"
	"github.com/tdewolff/minify/v2/css"
	"github.com/tdewolff/minify/v2/js"
	mjson "github.com/tdewolff/minify/v2/json"
)

// web holds the widget, its translations, the dashboard and the demo page;
// they are part of the binary, so a deployment is one file.
//
//go:embed web
var web embed.FS

// asset is one file as served: minified (scripts, styles, JSON), then
// compressed once with gzip and brotli so that requests only pick a copy.
type asset struct {
	raw, gz, br []byte
	ct          string
	// hash is the start of the SHA-256 of raw: the ETag and the version in
	// the immutable URL (embed.<hash>.js).
	hash string
	// integrity is the Subresource Integrity value of raw.
	integrity string
}

// assets are all files, by their path under web/, and the hashed names of
// the versioned ones (the widget and its translations).
type assets struct {
	files  map[string]*asset
	hashed map[string]*asset
	// langs maps a widget language to its translation's URL and integrity;
	// the widget carries this table, so it fetches only the page's language
	// and a pinned widget pins its translations too.
	langs map[string]langFile
}

type langFile struct {
	URL       string `json:"url"`
	Integrity string `json:"integrity"`
}

// langsMarker in embed.js is replaced with the table of translations.
const langsMarker = `'__PARLEY_LANGS__'`

// widgetLangDir holds one JSON object of texts per language; English is in
// the widget itself.
const widgetLangDir = "web/lang/"

// webAssets minifies and compresses every embedded file on first use:
// Run calls it at start-up, while tests that never ask for a file never
// pay for brotli.
func (s *Server) webAssets() *assets {
	s.assetsOnce.Do(func() {
		a, err := loadAssets()
		if err != nil {
			// The files are compiled in: this is a broken build.
			panic(err)
		}
		s.assets = a
	})
	return s.assets
}

func loadAssets() (*assets, error) {
	m := minify.New()
	m.AddFunc("application/javascript", js.Minify)
	m.AddFunc("text/css", css.Minify)
	m.AddFunc("application/json", mjson.Minify)
	out := &assets{files: map[string]*asset{}, hashed: map[string]*asset{}, langs: map[string]langFile{}}
	var names []string
	err := fs.WalkDir(web, "web", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	// Translations first: the widget embeds their hashed names.
	sort.SliceStable(names, func(i, j int) bool {
		return strings.HasPrefix(names[i], widgetLangDir) && !strings.HasPrefix(names[j], widgetLangDir)
	})
	for _, p := range names {
		b, err := web.ReadFile(p)
		if err != nil {
			return nil, err
		}
		name := strings.TrimPrefix(p, "web/")
		if name == "embed.js" {
			table, _ := json.Marshal(out.langs)
			if !bytes.Contains(b, []byte(langsMarker)) {
				return nil, fmt.Errorf("embed.js lacks %s", langsMarker)
			}
			b = bytes.Replace(b, []byte(langsMarker), table, 1)
		}
		a, err := newAsset(m, p, b)
		if err != nil {
			return nil, err
		}
		out.files[name] = a
		if dir, file := path.Split(name); name == "embed.js" {
			out.hashed["embed."+a.hash+".js"] = a
		} else if "web/"+dir == widgetLangDir {
			lang := strings.TrimSuffix(file, ".json")
			hashed := "lang/" + lang + "." + a.hash + ".json"
			out.hashed[hashed] = a
			out.langs[lang] = langFile{URL: "/" + hashed, Integrity: a.integrity}
		}
	}
	return out, nil
}

func newAsset(m *minify.M, p string, b []byte) (*asset, error) {
	ct := mime.TypeByExtension(path.Ext(p))
	if ct == "" {
		ct = "application/octet-stream"
	}
	mt, _, _ := strings.Cut(ct, ";")
	switch mt {
	case "text/javascript":
		mt = "application/javascript"
	}
	if mt == "application/javascript" || mt == "text/css" || mt == "application/json" {
		var buf bytes.Buffer
		if err := m.Minify(mt, &buf, bytes.NewReader(b)); err != nil {
			return nil, fmt.Errorf("minify %s: %w", p, err)
		}
		b = buf.Bytes()
	}
	sum := sha256.Sum256(b)
	sri := sha512.Sum384(b)
	a := &asset{raw: b, ct: ct, hash: hex.EncodeToString(sum[:6]),
		integrity: "sha384-" + base64.StdEncoding.EncodeToString(sri[:])}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	var br bytes.Buffer
	// The window fits the file: brotli's best quality keeps two words per
	// window position, so its default window (4 MiB) took 32 MiB of heap
	// per asset at startup, most of the server's peak RSS, for nothing
	// that a file this size could use.
	lgwin := 10
	for lgwin < 24 && 1<<lgwin-16 < len(b) {
		lgwin++
	}
	bw := brotli.NewWriterOptions(&br, brotli.WriterOptions{Quality: brotli.BestCompression, LGWin: lgwin})
	bw.Write(b)
	bw.Close()
	// A compressed copy that is not smaller (a PNG) is not worth a header.
	if gz.Len() < len(b) {
		a.gz = gz.Bytes()
	}
	if br.Len() < len(b) {
		a.br = br.Bytes()
	}
	return a, nil
}

// encoding picks brotli, gzip or none from Accept-Encoding, honouring q=0.
func encoding(header string) string {
	best, bestQ := "", 0.0
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if (name == "br" || name == "gzip") && q > 0 && (q > bestQ || q == bestQ && name == "br") {
			best, bestQ = name, q
		}
	}
	return best
}

// cachePolicy is how long browsers and proxies keep a file.
type cachePolicy int

const (
	cacheRevalidate cachePolicy = iota // the dashboard and demo: always ask
	cacheShort                         // /embed.js: the entry point, 5 minutes
	cacheImmutable                     // content-hashed URLs
)

func (s *Server) serveAsset(w http.ResponseWriter, req *http.Request, a *asset, policy cachePolicy) {
	h := w.Header()
	h.Set("Content-Type", a.ct)
	h.Set("Vary", "Accept-Encoding")
	body, tag := a.raw, a.hash
	switch enc := encoding(req.Header.Get("Accept-Encoding")); {
	case enc == "br" && a.br != nil:
		body, tag = a.br, a.hash+"-br"
		h.Set("Content-Encoding", "br")
	case enc != "" && a.gz != nil:
		body, tag = a.gz, a.hash+"-gz"
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", `"`+tag+`"`)
	switch policy {
	case cacheShort, cacheImmutable:
		// The widget and its translations run on other origins' pages;
		// SRI on a cross-origin script needs CORS.
		h.Set("Access-Control-Allow-Origin", "*")
		if policy == cacheShort {
			h.Set("Cache-Control", "public, max-age=300")
		} else {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		}
	default:
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
		h.Set("X-Frame-Options", "DENY")
	}
	// Ranges of a compressed body would be ranges of the wrong bytes for a
	// client that asked for the identity; none of these files needs them.
	req.Header.Del("Range")
	http.ServeContent(w, req, "", time.Time{}, bytes.NewReader(body))
}

// favicon is a speech bubble in the dashboard's blue, so that browsers
// asking for /favicon.ico get an icon instead of a 404 in the logs.
const favicon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path fill="#0b5cad" d="M5 4h22a3 3 0 0 1 3 3v14a3 3 0 0 1-3 3H14l-7 6v-6H5a3 3 0 0 1-3-3V7a3 3 0 0 1 3-3z"/></svg>`

func (s *Server) webRoutes(r *mux.Router) {
	file := func(name string, policy cachePolicy) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			a, ok := s.webAssets().files[name]
			if !ok {
				s.writeError(w, req, errNotFound("file"))
				return
			}
			s.serveAsset(w, req, a, policy)
		})
	}
	hashed := func(prefix string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			a, ok := s.webAssets().hashed[prefix+routeVar(req, "file")]
			if !ok {
				// An old version after an upgrade: the entry point has the new one.
				s.writeError(w, req, errNotFound("file (this version is gone: load /embed.js)"))
				return
			}
			s.serveAsset(w, req, a, cacheImmutable)
		})
	}
	r.Handle("/embed.js", file("embed.js", cacheShort)).Methods("GET", "HEAD")
	r.Handle("/embed.json", s.h(s.embedManifest)).Methods("GET")
	r.Handle("/{file:embed\\.[0-9a-f]{12}\\.js}", hashed("")).Methods("GET", "HEAD")
	r.Handle("/lang/{file:[a-z]{2}\\.[0-9a-f]{12}\\.json}", hashed("lang/")).Methods("GET", "HEAD")
	r.Handle("/favicon.ico", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Write([]byte(favicon))
	})).Methods("GET", "HEAD")
	// The page a statement of reasons links to, to appeal it.
	r.Handle("/appeal/", file("appeal/index.html", cacheRevalidate)).Methods("GET", "HEAD")
	r.Handle("/appeal/appeal.js", file("appeal/appeal.js", cacheRevalidate)).Methods("GET", "HEAD")
	r.Handle("/mod", http.RedirectHandler("/mod/", http.StatusMovedPermanently)).Methods("GET")
	r.Handle("/mod/", file("mod/index.html", cacheRevalidate)).Methods("GET", "HEAD")
	r.Handle("/mod/{file:[a-z0-9._-]+}", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		file("mod/"+routeVar(req, "file"), cacheRevalidate).ServeHTTP(w, req)
	})).Methods("GET", "HEAD")
	if s.cfg.Demo {
		r.Handle("/", http.RedirectHandler("/demo/", http.StatusFound)).Methods("GET")
		r.Handle("/demo", http.RedirectHandler("/demo/", http.StatusMovedPermanently)).Methods("GET")
		r.Handle("/demo/", file("demo/index.html", cacheRevalidate)).Methods("GET", "HEAD")
		r.Handle("/demo/{file:[a-z0-9._-]+}", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			file("demo/"+routeVar(req, "file"), cacheRevalidate).ServeHTTP(w, req)
		})).Methods("GET", "HEAD")
	}
}

// embedManifest tells a publisher the pinned form of the widget: its
// versioned URL and Subresource Integrity hash.
func (s *Server) embedManifest(w http.ResponseWriter, r *http.Request) error {
	a := s.webAssets().files["embed.js"]
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, map[string]string{
		"src":       "/embed." + a.hash + ".js",
		"integrity": a.integrity,
		"tag": fmt.Sprintf(`<script src="%s/embed.%s.js" integrity="%s" crossorigin="anonymous" async></script>`,
			s.cfg.PublicURL, a.hash, a.integrity),
	})
	return nil
}
