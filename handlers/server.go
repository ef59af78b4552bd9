// Package handlers is Parley's HTTP edge: the router, the handlers of the
// public, moderator and admin APIs, their middleware, and the embedded web
// assets (widget, dashboard, demo page).
package handlers

import (
	"cmp"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/moderation/mail"
	"github.com/parley/parley/schema"
)

// Config is what the server needs besides its store.
type Config struct {
	// Secret is the server secret that signs reader tokens and keys the
	// hashes of IPs and emails.
	Secret string
	// CaptchaTest adds the solution to every captcha issued: for
	// end-to-end tests only.
	CaptchaTest bool
	// Demo serves /demo/.
	Demo bool
	// TrustedProxies are the networks whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// SecureCookies marks the session cookie Secure even when the request
	// itself arrived over plain HTTP (a TLS-terminating proxy in front).
	SecureCookies bool
	// Limits are the per-client rate limits.
	Limits Limits
	// RequestTimeout bounds the work of one request, its database calls
	// included; past it the answer is 503 unavailable. Zero means
	// DefaultRequestTimeout.
	RequestTimeout time.Duration
	// PublicURL is the server's address as moderators reach it, such as
	// https://comments.news.example: one-time links in webhooks start with
	// it. Default: http://localhost.
	PublicURL string
	// WakeWebhooks, if set, tells the webhook delivery worker (which the
	// server does not run: see moderation/webhooks) that events were
	// stored, so that it need not wait for its next poll.
	WakeWebhooks func()
	// AllowPrivateWebhooks lets webhook URLs name loopback, private,
	// link-local and other internal addresses, for a chat server on the
	// intranet. Off, such URLs are refused in the site settings (and the
	// delivery worker, configured alike, refuses them when dialling).
	AllowPrivateWebhooks bool
	// MetricsToken, when set, is the bearer token MetricsHandler asks for.
	MetricsToken string
	// Importer runs the admin API's imports and exports; without it those
	// routes answer 501.
	Importer Importer
	// ImportMaxBytes caps an uploaded import file. Default:
	// DefaultImportMaxBytes.
	ImportMaxBytes int64
	// Mail sends email (reply notifications, digests); nil runs without:
	// the widget offers no reply notifications and the API refuses them.
	Mail   *mail.Mailer
	Logger *slog.Logger
	// Build describes the running binary in /healthz.
	Build BuildInfo
}

// BuildInfo is what `parley version` prints and /healthz answers.
type BuildInfo struct {
	Version string   `json:"version"`
	Commit  string   `json:"commit"`
	Go      string   `json:"go"`
	Drivers []string `json:"drivers"`
}

// captchaMediaBytes bounds the memory of rendered captcha media: some
// thousand images or a few hundred audio clips.
const captchaMediaBytes = 32 << 20

// DefaultRequestTimeout is the RequestTimeout of a zero Config.
const DefaultRequestTimeout = 10 * time.Second

// Server handles every HTTP request of Parley.
type Server struct {
	store   *schema.Store
	log     *slog.Logger
	cfg     Config
	keys    keys
	limits  *limiters
	metrics *metrics
	pages   *pageCache
	media   *mediaCache
	ids     *requestIDs
	// assessor is the one door into moderation for new and edited comments.
	assessor *moderation.Assessor
	// queue carries out moderators' decisions and bans; notify announces
	// comments to webhooks (stored in the outbox, sent by a worker that
	// cmd runs).
	queue   *moderation.Queue
	notify  *moderation.Notifier
	imports *importJobs
	handler http.Handler
	// assets are the web files, minified and compressed on first use.
	assetsOnce sync.Once
	assets     *assets
}

// New builds the server and its routes.
func New(store *schema.Store, cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits()
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	cfg.PublicURL = strings.TrimRight(cmp.Or(cfg.PublicURL, "http://localhost"), "/")
	cfg.ImportMaxBytes = cmp.Or(cfg.ImportMaxBytes, DefaultImportMaxBytes)
	s := &Server{
		store:    store,
		log:      cfg.Logger,
		cfg:      cfg,
		keys:     deriveKeys(cfg.Secret),
		limits:   newLimiters(cfg.Limits),
		metrics:  newMetrics(store),
		pages:    newPageCache(),
		ids:      newRequestIDs(),
		assessor: moderation.NewAssessor(store),
		imports:  newImportJobs(),
	}
	s.media = newMediaCache(captchaMediaBytes, schema.CaptchaTTL, func(kind string) { s.metrics.renders.WithLabelValues(kind).Inc() })
	s.notify = moderation.NewNotifier(store, cfg.Logger, func(token string) string {
		return cfg.PublicURL + "/api/v1/mod/act/" + token
	}, cfg.WakeWebhooks)
	s.queue = moderation.NewQueue(store, s.notify)
	// The token rides in the fragment, which browsers do not send: it stays
	// out of access logs.
	s.queue.SetAppealURL(func(token string) string { return cfg.PublicURL + "/appeal/#" + token })
	if cfg.Mail != nil {
		s.metrics.registry.MustRegister(cfg.Mail.Collector())
	}
	s.metrics.registry.MustRegister(cacheCollector{store: store, pages: s.pages, media: s.media, assessor: s.assessor})
	s.handler = s.routes()
	return s
}

// PrepareAssets minifies and compresses the web files now rather than at
// the first request for one: the serve command calls it at start-up.
func (s *Server) PrepareAssets() { s.webAssets() }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// ForgetIdleClients drops the rate-limit buckets of clients idle long
// enough to be full again, which bounds the limiters' memory. The serve
// command's job runner calls it every minute.
func (s *Server) ForgetIdleClients() { s.limits.sweep() }

// Close cancels the import jobs still running and waits for them: call it
// after the HTTP server stopped and before the store closes.
func (s *Server) Close() { s.imports.stop() }
