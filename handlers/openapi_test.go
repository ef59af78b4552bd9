package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gorilla/mux"
	"github.com/parley/parley/docs"
	"github.com/parley/parley/handlers"
	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

// contract is docs/openapi.yaml, loaded and checked once for the package's
// tests (it never changes while they run).
var contract = sync.OnceValues(func() (routers.Router, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(docs.OpenAPIYAML())
	if err != nil {
		return nil, fmt.Errorf("docs/openapi.yaml: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("docs/openapi.yaml is not a valid OpenAPI document: %w", err)
	}
	return gorillamux.NewRouter(doc)
})

// validating wraps the server of the HTTP tests: every request they make
// and every answer they get is checked against docs/openapi.yaml, so the
// document cannot drift from the code. A request the document refuses may
// be refused by the server (tests send bad input on purpose); the server
// accepting it, or any answer the document does not describe, fails the
// test.
func validating(t *testing.T, h http.Handler) http.Handler {
	t.Helper()
	router, err := contract()
	if err != nil {
		t.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Preflights are CORS machinery, described in the document's prose.
		if r.Method == http.MethodOptions || r.Method == http.MethodHead {
			h.ServeHTTP(w, r)
			return
		}
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())

		if problem := checkExchange(router, r, body, rec); problem != "" {
			t.Errorf("docs/openapi.yaml does not describe %s %s → %d:\n%s\nrequest body: %.300s\nanswer: %.500s",
				r.Method, r.URL.RequestURI(), rec.Code, problem, body, rec.Body.Bytes())
		}
	})
}

func checkExchange(router routers.Router, r *http.Request, body []byte, rec *httptest.ResponseRecorder) string {
	// The server reads bodies as JSON whatever their Content-Type (as the
	// document says); the validator needs to be told.
	vr := r.Clone(context.Background())
	vr.Body = io.NopCloser(bytes.NewReader(body))
	// Only the RFC 8058 unsubscribe POST is a form, as mail clients send it.
	if ct := r.Header.Get("Content-Type"); len(body) > 0 && !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		vr.Header.Set("Content-Type", "application/json")
	}
	if vr.URL.Host == "" {
		vr.URL.Scheme, vr.URL.Host = "http", r.Host
	}
	route, params, err := router.FindRoute(vr)
	if err != nil {
		// Unknown paths and methods are part of what the tests try.
		if rec.Code == http.StatusNotFound || rec.Code == http.StatusMethodNotAllowed {
			return checkErrorShape(rec)
		}
		// The router redirects paths with empty segments to their clean form.
		if rec.Code == http.StatusMovedPermanently && strings.Contains(r.URL.Path, "//") {
			return ""
		}
		return "no documented operation: " + err.Error()
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
		MultiError:            true,
	}
	in := &openapi3filter.RequestValidationInput{Request: vr, PathParams: params, Route: route, Options: opts}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	if reqErr != nil && rec.Code < 400 {
		return "the server accepted a request the document refuses: " + reqErr.Error()
	}
	ct := rec.Header().Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == "application/json" && rec.Code >= 400 {
		if p := checkErrorShape(rec); p != "" {
			return p
		}
	}
	if reqErr != nil {
		// The operation's parameters could not be read from the request,
		// so the answer is checked only for its error shape (above).
		return ""
	}
	resp := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Body:                   io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options:                opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), resp); err != nil {
		return "answer: " + err.Error()
	}
	return ""
}

// checkErrorShape checks an error answer that no operation describes
// against the Error schema by hand.
func checkErrorShape(rec *httptest.ResponseRecorder) string {
	var e struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == nil || e.Error.Code == "" || e.Error.Message == "" {
		return "an error answer not in the Error shape"
	}
	return ""
}

// Every route of routes.go has a documented path and method.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	router, err := contract()
	if err != nil {
		t.Fatal(err)
	}
	store := schematest.Open(t, schema.SQLite)
	srv := handlers.New(store, handlers.Config{Secret: testSecret, Demo: true})
	param := regexp.MustCompile(`\{([a-z]+)(:[^}]*)?\}`)
	var missing []string
	n := 0
	err = handlers.Router(srv).Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err1 := route.GetPathTemplate()
		methods, err2 := route.GetMethods()
		if err1 != nil || err2 != nil {
			return nil // a subrouter's prefix
		}
		// A path as a client would send it: each variable filled with a
		// value its pattern accepts.
		path := param.ReplaceAllStringFunc(tpl, func(m string) string {
			sub := param.FindStringSubmatch(m)
			switch {
			case sub[1] == "queue":
				return "pending"
			case sub[1] == "file":
				return "mod.css"
			case sub[1] == "id" || sub[1] == "token":
				return "1"
			}
			return "x"
		})
		for _, m := range methods {
			if m == http.MethodHead {
				continue
			}
			n++
			req := httptest.NewRequest(m, "http://parley.example"+path, nil)
			if _, _, err := router.FindRoute(req); err != nil {
				missing = append(missing, m+" "+tpl)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("routes without an operation in docs/openapi.yaml:\n  %s", strings.Join(missing, "\n  "))
	}
	if n < 40 {
		t.Fatalf("only %d routes walked: the walk is broken", n)
	}
}

// The document is served as JSON, the same as the YAML.
func TestOpenAPIServed(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		r := e.do("GET", "/api/v1/openapi.json", nil)
		if r.Status != 200 || r.JSON["openapi"] != "3.1.0" {
			t.Fatalf("%d %.200s", r.Status, r.Body)
		}
		paths, _ := r.JSON["paths"].(map[string]any)
		if _, ok := paths["/api/v1/sites/{site}/comments.atom"]; !ok || len(paths) < 40 {
			t.Fatalf("paths: %d", len(paths))
		}
	})
}
