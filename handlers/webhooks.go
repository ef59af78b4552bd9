package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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

func newWebhookClient(timeout time.Duration, allowPrivate bool) *http.Client {
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

// wakeWebhooks tells the delivery worker that events are waiting; it never
// blocks the request that caused them.
func (s *Server) wakeWebhooks() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// deliverWebhooks is the delivery worker: it sends what is due whenever it
// is woken or the poll interval passes, until ctx ends. Deliveries are
// claimed in the database, so any number of instances can run it.
func (s *Server) deliverWebhooks(ctx context.Context) {
	t := time.NewTicker(s.cfg.WebhookPoll)
	defer t.Stop()
	for {
		s.deliverDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

func (s *Server) deliverDue(ctx context.Context) {
	// The lease outlives an attempt's timeout, so that only an instance
	// that died mid-attempt has its deliveries taken over.
	lease := s.cfg.WebhookTimeout + 30*time.Second
	for ctx.Err() == nil {
		ds, err := s.store.ClaimDeliveries(ctx, claimBatch, lease)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("claim webhook deliveries", "err", err)
			}
			return
		}
		if len(ds) == 0 {
			return
		}
		var wg sync.WaitGroup
		for _, d := range ds {
			wg.Go(func() { s.deliver(ctx, d) })
		}
		wg.Wait()
	}
}

// deliver makes one attempt and records its outcome: done, a retry after
// the next wait of cfg.WebhookRetries, or given up after the last.
func (s *Server) deliver(ctx context.Context, d schema.Delivery) {
	err := s.send(ctx, d)
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
		if err := s.store.DeliveryDone(ctx, d.ID); err != nil {
			s.log.Warn("record webhook delivery", "delivery_id", d.ID, "err", err)
		}
		return
	}
	var retry time.Time
	var permanent permanentError
	var private privateTargetError
	if d.Attempts <= len(s.cfg.WebhookRetries) && !errors.As(err, &permanent) && !errors.As(err, &private) {
		retry = s.store.Now().Add(s.cfg.WebhookRetries[d.Attempts-1])
	}
	s.log.Info("webhook delivery failed", "delivery_id", d.ID, "event", d.Event, "url", redactURL(d.URL),
		"attempt", d.Attempts, "retry", !retry.IsZero(), "err", err)
	if err := s.store.DeliveryFailed(ctx, d.ID, err.Error(), retry); err != nil {
		s.log.Warn("record webhook failure", "delivery_id", d.ID, "err", err)
	}
}

// permanentError is a failure that retrying cannot fix.
type permanentError struct{ msg string }

func (e permanentError) Error() string { return e.msg }

// send POSTs the payload, signed with the site's current secret.
func (s *Server) send(ctx context.Context, d schema.Delivery) error {
	site, err := s.store.SiteByID(ctx, d.SiteID)
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
	h.Set("X-Parley-Timestamp", strconv.FormatInt(s.store.Now().Unix(), 10))
	h.Set("X-Parley-Signature", moderation.Sign(hooks.Secret, body))
	resp, err := s.hooks.Do(req)
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
