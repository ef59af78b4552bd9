package handlers

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley/parley/schema"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus collectors, on a registry of its own
// so that several servers can live in one test process.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	votes    *prometheus.CounterVec
	comments *prometheus.CounterVec
	renders  *prometheus.CounterVec
	children sync.Map // requestLabels → requestCollectors
}

func newMetrics(store *schema.Store) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "parley_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		votes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_votes_total", Help: "Reaction changes by reaction (retract for retractions).",
		}, []string{"reaction"}),
		comments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_comments_total", Help: "New comments by the status moderation gave them.",
		}, []string{"status"}),
		renders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_captcha_renders_total", Help: "Captcha images and audio rendered (served from the cache otherwise).",
		}, []string{"kind"}),
	}
	batches := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "parley_write_batches_total", Help: "Transactions committed by the group-commit writer.",
	}, func() float64 { return float64(store.WriterStats().Batches) })
	writes := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "parley_batched_writes_total", Help: "Writes carried by those transactions (votes, comments).",
	}, func() float64 { return float64(store.WriterStats().Writes) })
	dropped := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "parley_batched_writes_dropped_total", Help: "Writes whose caller gave up before their batch began; they never ran.",
	}, func() float64 { return float64(store.WriterStats().Dropped) })
	replayed := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "parley_batched_writes_replayed_total", Help: "Writes run again alone because their batch failed as a whole.",
	}, func() float64 { return float64(store.WriterStats().Replayed) })
	m.registry.MustRegister(m.requests, m.latency, m.votes, m.comments, m.renders, batches, writes, dropped, replayed,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// knownMethods are the methods counted under their own name; any other
// counts as "other", so that a client inventing methods cannot add a
// label set per request.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true, http.MethodPatch: true,
	http.MethodDelete: true, http.MethodOptions: true, http.MethodConnect: true, http.MethodTrace: true,
}

func methodLabel(m string) string {
	if knownMethods[m] {
		return m
	}
	return "other"
}

func (m *metrics) observe(route, method string, status int, d time.Duration) {
	if status == 0 {
		status = http.StatusOK
	}
	method = methodLabel(method)
	// The collectors of each label set are looked up once: hashing the
	// labels on every request showed in the profile of the fastest paths.
	k := requestLabels{route, method, status}
	c, ok := m.children.Load(k)
	if !ok {
		c, _ = m.children.LoadOrStore(k, requestCollectors{
			count:   m.requests.WithLabelValues(route, method, strconv.Itoa(status)),
			latency: m.latency.WithLabelValues(route),
		})
	}
	rc := c.(requestCollectors)
	rc.count.Inc()
	rc.latency.Observe(d.Seconds())
}

type requestLabels struct {
	route, method string
	status        int
}

type requestCollectors struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

// MetricsHandler serves GET /metrics, Prometheus' text format, and 404
// elsewhere. It is not part of the public router: comments counted by
// status would show a spammer, or a shadow-banned author, the verdicts the
// API hides from them. serve puts it on a listener of its own (loopback by
// default) and, when Config.MetricsToken is set, asks for that bearer token.
func (s *Server) MetricsHandler() http.Handler {
	prom := promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})
	want := []byte("Bearer " + s.cfg.MetricsToken)
	return secureHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			writeJSON(w, http.StatusNotFound, errorBody{errNotFound("route " + r.Method + " " + r.URL.Path)})
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeJSON(w, http.StatusMethodNotAllowed, errorBody{&apiError{Status: http.StatusMethodNotAllowed,
				Code: "method_not_allowed", Message: "method " + r.Method + " is not allowed here: use GET"}})
			return
		}
		if s.cfg.MetricsToken != "" {
			got := []byte(strings.TrimSpace(r.Header.Get("Authorization")))
			if subtle.ConstantTimeCompare(got, want) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="parley metrics"`)
				writeJSON(w, http.StatusUnauthorized, errorBody{errUnauthorized("the metrics need Authorization: Bearer <-metrics-token>")})
				return
			}
		}
		prom.ServeHTTP(w, r)
	}))
}
