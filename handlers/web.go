package handlers

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gorilla/mux"
)

// web holds the widget, the dashboard and the demo page; they are part of
// the binary, so a deployment is one file.
//
//go:embed web
var web embed.FS

type asset struct {
	body []byte
	etag string
	ct   string
}

// loadAssets reads every embedded file once, with a content hash as ETag.
func loadAssets() map[string]asset {
	out := map[string]asset{}
	fs.WalkDir(web, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := web.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		out[strings.TrimPrefix(p, "web/")] = asset{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ct: ct}
		return nil
	})
	return out
}

func (s *Server) webRoutes(r *mux.Router) {
	assets := loadAssets()
	serve := func(name string, public bool) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			a, ok := assets[name]
			if !ok {
				s.writeError(w, req, errNotFound("file"))
				return
			}
			h := w.Header()
			h.Set("Content-Type", a.ct)
			h.Set("ETag", a.etag)
			if public {
				// The widget runs on other origins' pages.
				h.Set("Access-Control-Allow-Origin", "*")
				h.Set("Cache-Control", "public, max-age=300")
			} else {
				h.Set("Cache-Control", "no-cache")
				h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
				h.Set("X-Frame-Options", "DENY")
			}
			http.ServeContent(w, req, name, time.Time{}, bytes.NewReader(a.body))
		})
	}
	r.Handle("/embed.js", serve("embed.js", true)).Methods("GET", "HEAD")
	r.Handle("/mod", http.RedirectHandler("/mod/", http.StatusMovedPermanently)).Methods("GET")
	r.Handle("/mod/", serve("mod/index.html", false)).Methods("GET", "HEAD")
	r.Handle("/mod/{file:[a-z0-9._-]+}", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		serve("mod/"+mux.Vars(req)["file"], false).ServeHTTP(w, req)
	})).Methods("GET", "HEAD")
	if s.cfg.Demo {
		r.Handle("/", http.RedirectHandler("/demo/", http.StatusFound)).Methods("GET")
		r.Handle("/demo", http.RedirectHandler("/demo/", http.StatusMovedPermanently)).Methods("GET")
		r.Handle("/demo/", serve("demo/index.html", false)).Methods("GET", "HEAD")
		r.Handle("/demo/{file:[a-z0-9._-]+}", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			serve("demo/"+mux.Vars(req)["file"], false).ServeHTTP(w, req)
		})).Methods("GET", "HEAD")
	}
}
