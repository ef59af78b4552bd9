// Package handlers is Parley's HTTP edge: the router, the handlers of the
// public, moderator and admin APIs, their middleware, and the embedded web
// assets (widget, dashboard, demo page).
package handlers

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

// Config is what the server needs besides its store.
type Config struct {
	// InsightsRetention is how long the Insights rollups are kept; 400
	// days when zero.
	InsightsRetention time.Duration
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
	// WebhookRetries are the waits before each retry of a failed webhook
	// delivery; after the last, the delivery is given up. Default: 10 s,
	// 30 s, 2 min, 10 min, 1 h, 3 h, 6 h (8 attempts over about 10 hours).
	// Tests shorten them.
	WebhookRetries []time.Duration
	// WebhookTimeout bounds one delivery attempt. Default: 10 s.
	WebhookTimeout time.Duration
	// WebhookPoll is how often the delivery worker looks for due retries;
	// new events wake it at once. Default: 1 s.
	WebhookPoll time.Duration
	// AllowPrivateWebhooks lets webhooks reach loopback, private,
	// link-local and other internal addresses, for a chat server on the
	// intranet. Off, such URLs are refused in the site settings and again
	// when a delivery's address is resolved.
	AllowPrivateWebhooks bool
	// MetricsToken, when set, is the bearer token MetricsHandler asks for.
	MetricsToken string
	// Importer runs the admin API's imports and exports; without it those
	// routes answer 501.
	Importer Importer
	// ImportMaxBytes caps an uploaded import file. Default:
	// DefaultImportMaxBytes.
	ImportMaxBytes int64
	Logger         *slog.Logger
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

// DefaultWebhookRetries are the waits between webhook delivery attempts.
func DefaultWebhookRetries() []time.Duration {
	return []time.Duration{10 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour}
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
	// comments to webhooks, whose deliveries wake the worker through wake.
	queue   *moderation.Queue
	notify  *moderation.Notifier
	wake    chan struct{}
	hooks   *http.Client
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
	if cfg.WebhookRetries == nil {
		cfg.WebhookRetries = DefaultWebhookRetries()
	}
	cfg.WebhookTimeout = cmp.Or(cfg.WebhookTimeout, 10*time.Second)
	cfg.WebhookPoll = cmp.Or(cfg.WebhookPoll, time.Second)
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
		wake:     make(chan struct{}, 1),
		hooks:    newWebhookClient(cfg.WebhookTimeout, cfg.AllowPrivateWebhooks),
		imports:  newImportJobs(),
	}
	s.media = newMediaCache(captchaMediaBytes, schema.CaptchaTTL, func(kind string) { s.metrics.renders.WithLabelValues(kind).Inc() })
	s.notify = moderation.NewNotifier(store, cfg.Logger, func(token string) string {
		return cfg.PublicURL + "/api/v1/mod/act/" + token
	}, s.wakeWebhooks)
	s.queue = moderation.NewQueue(store, s.notify)
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

// Run does the server's background work until ctx ends: delivering
// webhooks, forgetting idle rate-limit buckets and, through the store,
// expired captchas, sessions and links every minute, sampling the queues'
// sizes for the Insights every minute, and clearing IP hashes and
// Insights rollups past their retention at once and then every hour. It
// returns once all of it stopped, import jobs included (they are
// canceled).
func (s *Server) Run(ctx context.Context) {
	defer s.imports.stop()
	var wg sync.WaitGroup
	wg.Go(func() { s.deliverWebhooks(ctx) })
	defer wg.Wait()
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	s.clearOldIPHashes(ctx)
	s.deleteOldInsights(ctx)
	for minutes := 1; ; minutes++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.limits.sweep()
		if n, err := s.store.DeleteExpiredCaptchas(ctx); err != nil {
			s.log.Warn("delete expired captchas", "err", err)
		} else if n > 0 {
			s.log.Debug("deleted expired captchas", "count", n)
		}
		if n, err := s.store.DeleteExpired(ctx); err != nil {
			s.log.Warn("delete expired sessions and links", "err", err)
		} else if n > 0 {
			s.log.Debug("deleted expired sessions, links and deliveries", "count", n)
		}
		if err := s.store.SampleQueues(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("sample queue sizes for insights", "err", err)
		}
		if minutes%60 == 0 {
			s.clearOldIPHashes(ctx)
			s.deleteOldInsights(ctx)
		}
	}
}

func (s *Server) deleteOldInsights(ctx context.Context) {
	keep := s.cfg.InsightsRetention
	if keep <= 0 {
		keep = 400 * 24 * time.Hour
	}
	if n, err := s.store.DeleteOldInsights(ctx, keep); err != nil {
		if ctx.Err() == nil {
			s.log.Warn("delete old insights", "err", err)
		}
	} else if n > 0 {
		s.log.Info("deleted insights past their retention", "rows", n)
	}
}

func (s *Server) clearOldIPHashes(ctx context.Context) {
	if n, err := s.store.ClearExpiredIPHashes(ctx); err != nil {
		if ctx.Err() == nil {
			s.log.Warn("clear expired IP hashes", "err", err)
		}
	} else if n > 0 {
		s.log.Info("cleared IP hashes past their retention", "count", n)
	}
}
