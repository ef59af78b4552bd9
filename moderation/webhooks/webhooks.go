// Package webhooks delivers the webhook events that moderation.Notifier
// stored in the outbox: a worker claims due deliveries in the database,
// POSTs each signed payload to its receiver and records the outcome, with
// retries. It is the one part of moderation that talks to the network, so
// it lives apart from the policy.
package webhooks

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

// claimBatch is how many deliveries the worker claims and sends at once.
const claimBatch = 8

// Config tunes the worker; its zero value is production's.
type Config struct {
	// Retries are the waits before each retry of a failed delivery; after
	// the last, the delivery is given up. Default: DefaultRetries. Tests
	// shorten them.
	Retries []time.Duration
	// Timeout bounds one delivery attempt. Default: 10 s.
	Timeout time.Duration
	// Poll is how often the worker looks for due retries; Wake makes it
	// look at once. Default: 1 s.
	Poll time.Duration
	// AllowPrivate lets deliveries reach loopback, private, link-local and
	// other internal addresses (the server's -allow-private-webhooks).
	// Off, such an address is refused when it is dialled, after DNS.
	AllowPrivate bool
	Logger       *slog.Logger
}

// DefaultRetries are the waits between delivery attempts: 10 s, 30 s,
// 2 min, 10 min, 1 h, 3 h, 6 h (8 attempts over about 10 hours).
func DefaultRetries() []time.Duration {
	return []time.Duration{10 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour}
}

// Worker sends due deliveries. Deliveries are claimed in the database, so
// any number of instances can run one.
type Worker struct {
	store  *schema.Store
	log    *slog.Logger
	cfg    Config
	client *http.Client
	wake   chan struct{}
}

// New returns a worker on the store; Run starts it.
func New(store *schema.Store, cfg Config) *Worker {
	if cfg.Retries == nil {
		cfg.Retries = DefaultRetries()
	}
	cfg.Timeout = cmp.Or(cfg.Timeout, 10*time.Second)
	cfg.Poll = cmp.Or(cfg.Poll, time.Second)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Worker{store: store, log: cfg.Logger, cfg: cfg, client: newClient(cfg.Timeout, cfg.AllowPrivate), wake: make(chan struct{}, 1)}
}

// Wake tells the worker that events are waiting; it never blocks the
// request that caused them. It is the wake function of
// moderation.NewNotifier.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run sends what is due whenever the worker is woken or the poll interval
// passes, until ctx ends; it returns once every attempt it began is over.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.cfg.Poll)
	defer t.Stop()
	for {
		w.deliverDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
	}
}

func newClient(timeout time.Duration, allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: timeout}
	if !allowPrivate {
		// Checked on the address actually dialled, after DNS: a name that
		// resolves to 127.0.0.1 or 169.254.169.254, now or after the
		// settings were saved, is refused like the address itself.
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return privateTargetError{address}
			}
			a, err := netip.ParseAddr(host)
			if err != nil || moderation.InternalAddr(a) {
				return privateTargetError{host}
			}
			return nil
		}
	}
	return &http.Client{
		Timeout: timeout,
		// No Proxy: a proxy would dial for us, past the check above.
		Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			ForceAttemptHTTP2:   true,
			MaxIdleConns:        32,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: timeout,
		},
		// A receiver that redirects is misconfigured: following it would
		// send the signed payload somewhere nobody configured.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// privateTargetError is a delivery refused because the receiver's address
// is internal (see moderation.InternalAddr).
type privateTargetError struct{ addr string }

func (e privateTargetError) Error() string {
	return "refused to connect to the internal address " + e.addr + " (the server's -allow-private-webhooks allows it)"
}

func (w *Worker) deliverDue(ctx context.Context) {
	// The lease outlives an attempt's timeout, so that only an instance
	// that died mid-attempt has its deliveries taken over.
	lease := w.cfg.Timeout + 30*time.Second
	for ctx.Err() == nil {
		ds, err := w.store.ClaimDeliveries(ctx, claimBatch, lease)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Warn("claim webhook deliveries", "err", err)
			}
			return
		}
		if len(ds) == 0 {
			return
		}
		var wg sync.WaitGroup
		for _, d := range ds {
			wg.Go(func() { w.deliver(ctx, d) })
		}
		wg.Wait()
	}
}

// deliver makes one attempt and records its outcome: done, a retry after
// the next wait of cfg.Retries, or given up after the last.
func (w *Worker) deliver(ctx context.Context, d schema.Delivery) {
	err := w.send(ctx, d)
	if ctx.Err() != nil {
		return // shutting down: the lease ends and the attempt is repeated
	}
	// The client's errors quote the URL, which for chat webhooks is the
	// credential: the log and the stored error keep only the cause.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if err == nil {
		if err := w.store.DeliveryDone(ctx, d.ID); err != nil {
			w.log.Warn("record webhook delivery", "delivery_id", d.ID, "err", err)
		}
		return
	}
	var retry time.Time
	var permanent permanentError
	var private privateTargetError
	if d.Attempts <= len(w.cfg.Retries) && !errors.As(err, &permanent) && !errors.As(err, &private) {
		retry = w.store.Now().Add(w.cfg.Retries[d.Attempts-1])
	}
	w.log.Info("webhook delivery failed", "delivery_id", d.ID, "event", d.Event, "url", moderation.RedactURL(d.URL),
		"attempt", d.Attempts, "retry", !retry.IsZero(), "err", err)
	if err := w.store.DeliveryFailed(ctx, d.ID, err.Error(), retry); err != nil {
		w.log.Warn("record webhook failure", "delivery_id", d.ID, "err", err)
	}
}

// permanentError is a failure that retrying cannot fix.
type permanentError struct{ msg string }

func (e permanentError) Error() string { return e.msg }

// send POSTs the payload, signed with the site's current secret.
func (w *Worker) send(ctx context.Context, d schema.Delivery) error {
	site, err := w.store.SiteByID(ctx, d.SiteID)
	if err != nil {
		return fmt.Errorf("read site: %w", err)
	}
	hooks := site.Settings.Webhooks
	if !slices.Contains(hooks.URLs, d.URL) {
		return permanentError{"the URL was removed from the site's webhooks"}
	}
	body := []byte(d.Payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return permanentError{err.Error()}
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Parley-Webhook/1")
	h.Set("X-Parley-Event", d.Event)
	h.Set("X-Parley-Delivery", strconv.FormatInt(d.ID, 10))
	h.Set("X-Parley-Timestamp", strconv.FormatInt(w.store.Now().Unix(), 10))
	h.Set("X-Parley-Signature", moderation.Sign(hooks.Secret, body))
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the receiver answered %s", resp.Status)
	}
	return nil
}
