package mail

import (
	"context"
	"time"

	"github.com/parley/parley/schema"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the mailer's collectors, registered by the server on its
// /metrics registry (see Collector).
type metrics struct {
	sent, failed, gaveUp *prometheus.CounterVec
	digests              *prometheus.CounterVec
	queue                *queueCollector
}

func newMetrics(store *schema.Store) *metrics {
	return &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_mail_sent_total", Help: "Emails the SMTP server accepted, by kind.",
		}, []string{"kind"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_mail_failed_total", Help: "Attempts to send an email that failed, by kind (each is retried unless given up).",
		}, []string{"kind"}),
		gaveUp: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_mail_given_up_total", Help: "Emails given up: refused for good by the server, or still failing after the last retry.",
		}, []string{"kind"}),
		digests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_mail_digests_total", Help: "Digests queued: replies to readers (reply), pending comments to moderators (pending).",
		}, []string{"kind"}),
		queue: &queueCollector{store: store,
			depth: prometheus.NewDesc("parley_mail_queue_depth", "Emails in the outbox neither sent nor given up.", nil, nil),
			age:   prometheus.NewDesc("parley_mail_queue_oldest_seconds", "Age of the oldest email in the outbox neither sent nor given up (0 when none).", nil, nil),
		},
	}
}

// Collector is the mailer's metrics, for the server's registry.
func (m *Mailer) Collector() prometheus.Collector { return multi{m.metrics} }

type multi struct{ m *metrics }

func (c multi) collectors() []prometheus.Collector {
	return []prometheus.Collector{c.m.sent, c.m.failed, c.m.gaveUp, c.m.digests, c.m.queue}
}

func (c multi) Describe(ch chan<- *prometheus.Desc) {
	for _, x := range c.collectors() {
		x.Describe(ch)
	}
}

func (c multi) Collect(ch chan<- prometheus.Metric) {
	for _, x := range c.collectors() {
		x.Collect(ch)
	}
}

// queueCollector measures the outbox when scraped: one query for both.
type queueCollector struct {
	store      *schema.Store
	depth, age *prometheus.Desc
}

func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- q.depth; ch <- q.age }

func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := q.store.MailQueue(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(q.depth, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(q.depth, prometheus.GaugeValue, float64(s.Depth))
	ch <- prometheus.MustNewConstMetric(q.age, prometheus.GaugeValue, s.Oldest.Seconds())
}
