package handlers

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/gorilla/mux"
)

// Body limits: comments are at most 5000 characters of up to 4 bytes, plus
// the other fields; everything else is small.
const (
	smallBody   = 4 << 10
	modBody     = 16 << 10 // a bulk decision names up to 200 ids
	commentBody = 32 << 10
	adminBody   = 1 << 20 // word lists
)

// routes is the server's handler: the router behind CORS and the security
// headers.
func (s *Server) routes() http.Handler {
	r, hot := s.router()
	// CORS wraps the router so that preflights, which match no route's
	// method, are answered; moderator paths never get CORS headers. The hot
	// routes are behind the same CORS.
	public := s.cors(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if rt, site, article := hot.match(req); rt != nil {
			s.serve(w, req, rt.handler, rt, site, article)
			return
		}
		r.ServeHTTP(w, req)
	}))
	return secureHeaders(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasPrefix(req.URL.Path, "/api/v1/") && !strings.HasPrefix(req.URL.Path, "/api/v1/mod/") {
			public.ServeHTTP(w, req)
			return
		}
		r.ServeHTTP(w, req)
	}))
}

// router lists every route of Parley. It reads like the table of
// docs/api.md, and docs/openapi.yaml documents each (a test checks). It
// also returns the hot routes, which serve two of them without gorilla.
func (s *Server) router() (*mux.Router, *hotRoutes) {
	r := mux.NewRouter()
	r.Use(s.observe)
	// gorilla answers 404 where a path exists with other methods when
	// subrouters are involved; notFound looks for such a path and answers
	// 405 with Allow itself. Moderator routes must be registered before the
	// public /api/v1 subrouters.
	var paths []routePath
	notFound := s.observe(s.h(func(w http.ResponseWriter, r *http.Request) error {
		if allow := allowedMethods(paths, r.URL.Path); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			return &apiError{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
				Message: "method " + r.Method + " is not allowed here: use " + strings.Join(allow, ", ")}
		}
		return errNotFound("route " + r.Method + " " + r.URL.Path)
	}))
	// Subrouters keep no NotFoundHandler of their own, so that a path one
	// of them lacks falls through to the next (and finally to the root's).
	sub := func(prefix string) *mux.Router {
		// A string test before the pattern: gorilla tries each subrouter's
		// pattern in turn, and running the moderator subrouters' patterns
		// on every article view's requests was a quarter of the cost of
		// answering the counts.
		lit := strings.TrimSuffix(prefix, "/")
		fast := func(r *http.Request, _ *mux.RouteMatch) bool { return strings.HasPrefix(r.URL.Path, lit) }
		return r.MatcherFunc(fast).PathPrefix(prefix).Subrouter()
	}
	r.NotFoundHandler, r.MethodNotAllowedHandler = notFound, notFound

	// Operations.
	r.Handle("/healthz", s.h(s.healthz)).Methods("GET")
	r.Handle("/readyz", s.h(s.readyz)).Methods("GET")
	// /metrics is not here: see MetricsHandler.
	r.Handle("/api/v1/openapi.json", s.openAPI()).Methods("GET")

	// Moderator API, never CORS (see below). These subrouters come before
	// the public ones because gorilla tries subrouters in order.
	// Without an account: logging in, and one-time links from webhooks.
	open := sub("/api/v1/mod")
	open.Use(limitBody(smallBody))
	open.Handle("/session", s.h(s.login)).Methods("POST")
	open.Handle("/act/{token}", s.h(s.actionLinkPage)).Methods("GET")
	open.Handle("/act/{token}", s.h(s.actByLink)).Methods("POST")

	// Any moderator, by session (unsafe methods with the CSRF token) or
	// API token; what they see is limited to the sites they moderate.
	mod := sub("/api/v1/mod")
	mod.Use(limitBody(modBody), s.requireModerator, s.requireCSRF)
	mod.Handle("/session", s.h(s.currentSession)).Methods("GET")
	mod.Handle("/session", s.h(s.logout)).Methods("DELETE")
	mod.Handle("/tokens", s.h(s.listTokens)).Methods("GET")
	mod.Handle("/tokens", s.h(s.createToken)).Methods("POST")
	mod.Handle("/tokens/{id}", s.h(s.revokeToken)).Methods("DELETE")
	mod.Handle("/sites", s.h(s.listSites)).Methods("GET")
	mod.Handle("/queues", s.h(s.queueCounts)).Methods("GET")
	mod.Handle("/queues/{queue:pending|reported|spam|approved|rejected}", s.h(s.queuePage)).Methods("GET")
	mod.Handle("/comments/{id}/decision", s.h(s.decide)).Methods("POST")
	mod.Handle("/decisions", s.h(s.decideMany)).Methods("POST")
	mod.Handle("/bans", s.h(s.listBans)).Methods("GET")
	mod.Handle("/bans", s.h(s.createBan)).Methods("POST")
	mod.Handle("/bans/{id}", s.h(s.deleteBan)).Methods("DELETE")
	mod.Handle("/audit", s.h(s.auditLog)).Methods("GET")
	mod.Handle("/notices", s.h(s.listNotices)).Methods("GET")
	mod.Handle("/notices/{id}/decision", s.h(s.decideNotice)).Methods("POST")
	mod.Handle("/appeals", s.h(s.listAppeals)).Methods("GET")
	mod.Handle("/appeals/{id}/decision", s.h(s.decideAppeal)).Methods("POST")
	mod.Handle("/sites/{site}/trusted-flaggers", s.h(s.listFlaggers)).Methods("GET")
	mod.Handle("/sites/{site}/trusted-flaggers", s.h(s.addFlagger)).Methods("POST")
	mod.Handle("/sites/{site}/trusted-flaggers/{email}", s.h(s.removeFlagger)).Methods("DELETE")
	mod.Handle("/sites/{site}/misuse", s.h(s.misuse)).Methods("GET")
	mod.Handle("/sites/{site}/transparency", s.h(s.transparency)).Methods("GET")
	mod.Handle("/digest", s.h(s.getDigest)).Methods("GET")
	mod.Handle("/digest", s.h(s.putDigest)).Methods("PUT")
	mod.Handle("/insights", s.h(s.insightsOverview)).Methods("GET")
	mod.Handle("/insights/articles", s.h(s.insightArticles)).Methods("GET")
	mod.Handle("/insights/articles/{id}", s.h(s.insightArticle)).Methods("GET")
	mod.Handle("/insights/desk", s.h(s.insightDesk)).Methods("GET")
	mod.Handle("/insights/rules", s.h(s.insightRules)).Methods("GET")

	// Admins only: sites and accounts.
	admin := sub("/api/v1/mod")
	admin.Use(limitBody(adminBody), s.requireModerator, s.requireCSRF, s.requireAdmin)
	admin.Handle("/sites", s.h(s.createSite)).Methods("POST")
	admin.Handle("/sites/{site}", s.h(s.getSite)).Methods("GET")
	admin.Handle("/sites/{site}", s.h(s.putSite)).Methods("PUT")
	admin.Handle("/moderators", s.h(s.listModerators)).Methods("GET")
	admin.Handle("/moderators", s.h(s.createModerator)).Methods("POST")
	admin.Handle("/moderators/{id}", s.h(s.updateModerator)).Methods("PUT")
	admin.Handle("/moderators/{id}", s.h(s.disableModerator)).Methods("DELETE")
	// Any account's API tokens, to find and revoke one that leaked.
	admin.Handle("/moderators/{id}/tokens", s.h(s.listAccountTokens)).Methods("GET")
	admin.Handle("/moderators/{id}/tokens/{token}", s.h(s.revokeAccountToken)).Methods("DELETE")
	admin.Handle("/imports/{id}", s.h(s.importStatus)).Methods("GET")

	// Admins only, long by nature: an import's upload (the only large
	// body) and an export's download.
	bulk := sub("/api/v1/mod")
	bulk.Use(keepContext, limitBody(s.cfg.ImportMaxBytes), s.requireModerator, s.requireCSRF, s.requireAdmin)
	bulk.Handle("/sites/{site}/imports", s.h(s.startImport)).Methods("POST")
	bulk.Handle("/sites/{site}/export", s.h(s.exportSite)).Methods("GET")

	// Public API, called from article pages (CORS is applied in front).
	pub := sub("/api/v1")
	// The hot routes below serve two of these without gorilla: they wrap
	// their handlers in the same list.
	pubMiddleware := []mux.MiddlewareFunc{limitBody(smallBody)}
	pub.Use(pubMiddleware...)
	counts := pub.Handle("/sites/{site}/articles/{article}/reactions", s.h(s.getReactions)).Methods("GET")
	pub.Handle("/readers", s.h(s.createReader)).Methods("POST")
	pub.Handle("/sites/{site}/articles/{article}/reactions/mine", s.h(s.putReaction)).Methods("PUT")
	pub.Handle("/sites/{site}/articles/{article}/reactions/mine", s.h(s.deleteReaction)).Methods("DELETE")
	pub.Handle("/sites/{site}/reactions", s.h(s.bulkReactions)).Methods("GET")
	pub.Handle("/captchas", s.h(s.createCaptcha)).Methods("POST")
	pub.Handle("/captchas/{id}/image.png", s.h(s.captchaImage)).Methods("GET")
	pub.Handle("/captchas/{id}/audio.wav", s.h(s.captchaAudio)).Methods("GET")
	thread := pub.Handle("/sites/{site}/articles/{article}/comments", s.h(s.listComments)).Methods("GET")
	pub.Handle("/sites/{site}/articles/{article}/comments.atom", s.h(s.commentsFeed)).Methods("GET")
	pub.Handle("/sites/{site}/comments.atom", s.h(s.siteFeed)).Methods("GET")
	pub.Handle("/comments/{id}/vote", s.h(s.voteComment)).Methods("PUT", "DELETE")
	pub.Handle("/comments/{id}/reports", s.h(s.reportComment)).Methods("POST")
	pub.Handle("/notice-categories", s.h(s.noticeCategories)).Methods("GET")
	pub.Handle("/appeals/{token}", s.h(s.appealStatus)).Methods("GET")
	pub.Handle("/appeals/{token}", s.h(s.createAppeal)).Methods("POST")
	// Links of emails; the unsubscribe POST is RFC 8058's one-click.
	pub.Handle("/mail/confirm/{token}", s.h(s.mailConfirmPage)).Methods("GET")
	pub.Handle("/mail/confirm/{token}", s.h(s.mailConfirm)).Methods("POST")
	pub.Handle("/mail/unsubscribe/{token}", s.h(s.mailUnsubscribePage)).Methods("GET")
	pub.Handle("/mail/unsubscribe/{token}", s.h(s.mailUnsubscribe)).Methods("POST")

	// Writing comments takes larger bodies.
	posts := sub("/api/v1")
	posts.Use(limitBody(commentBody))
	posts.Handle("/sites/{site}/articles/{article}/comments", s.h(s.createComment)).Methods("POST")
	posts.Handle("/comments/{id}", s.h(s.editComment)).Methods("PATCH")
	posts.Handle("/comments/{id}", s.h(s.deleteComment)).Methods("DELETE")
	// A notice's explanation may be as long as a comment.
	posts.Handle("/comments/{id}/notices", s.h(s.createNotice)).Methods("POST")

	// Web assets.
	s.webRoutes(r)

	paths = collectPaths(r)
	hotRoute := func(rt *mux.Route, want string) hotRoute {
		// hotRoutes.match recognises these two templates by hand: a route
		// changed here (a pattern on a variable, another path) must be
		// changed there too, and starting would otherwise serve both ways.
		if tpl, err := rt.GetPathTemplate(); err != nil || tpl != want {
			panic(fmt.Sprintf("hot route %q (%v) is not %q: change hotRoutes.match with it", tpl, err, want))
		}
		h := rt.GetHandler()
		for i := len(pubMiddleware) - 1; i >= 0; i-- {
			h = pubMiddleware[i](h)
		}
		return hotRoute{template: want, handler: h}
	}
	return r, &hotRoutes{
		reactions: hotRoute(counts, "/api/v1/sites/{site}/articles/{article}/reactions"),
		comments:  hotRoute(thread, "/api/v1/sites/{site}/articles/{article}/comments"),
	}
}

// h adapts a handler that returns an error: errors are written in the
// contract's shape by one function. The handler's work, database calls
// included, gets the configured deadline, so that a database that stops
// answering makes requests fail with 503 instead of hanging (on a hot
// route, serve set it already).
func (s *Server) h(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := r.Context().(*requestCtx); !ok || c.deadline.IsZero() {
			ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		if err := fn(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

type routePath struct {
	re      *regexp.Regexp
	methods []string
}

func collectPaths(r *mux.Router) []routePath {
	var out []routePath
	r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		re, err1 := route.GetPathRegexp()
		methods, err2 := route.GetMethods()
		if err1 == nil && err2 == nil {
			out = append(out, routePath{re: regexp.MustCompile(re), methods: methods})
		}
		return nil
	})
	return out
}

func allowedMethods(paths []routePath, path string) []string {
	var allow []string
	for _, p := range paths {
		if p.re.MatchString(path) {
			allow = append(allow, p.methods...)
		}
	}
	return allow
}
