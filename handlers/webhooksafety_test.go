package handlers_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/schema"
)

// internalHooks are webhook URLs that would make the server fetch from
// inside its own network.
var internalHooks = []string{
	"http://169.254.169.254/latest/meta-data/",
	"http://127.0.0.1:5432/",
	"http://[::1]:6379/",
	"http://2130706433/",
	"http://0x7f.1/",
	"http://127.1/",
	"http://0177.0.0.1/",
	"http://localhost:8080/hook",
	"http://api.localhost/hook",
	"http://10.1.2.3/hook",
	"http://192.168.0.10/hook",
	"http://[::ffff:127.0.0.1]/",
	"http://[fe80::1%25eth0]/",
	"http://[fd00:ec2::254]/",
	"http://0.0.0.0:80/",
	"http://100.100.100.200/",
}

// An admin cannot point webhooks at internal addresses unless the server
// allows it.
func TestWebhookInternalURLsRefused(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		admin := e.moderator("admin@news.example", schema.RoleAdmin)
		for _, u := range internalHooks {
			r := admin.do("PUT", "/api/v1/mod/sites/news", map[string]any{"webhooks": map[string]any{"urls": []string{u}, "secret": hookSecret}})
			if r.Status != 422 || r.field("webhooks.urls") == "" {
				t.Errorf("webhook URL %s: %d %s", u, r.Status, r.Body)
			}
			r = admin.do("POST", "/api/v1/mod/sites", map[string]any{"slug": "other", "webhooks": map[string]any{"urls": []string{u}, "secret": hookSecret}})
			if r.Status != 422 || r.field("webhooks.urls") == "" {
				t.Errorf("new site with webhook URL %s: %d %s", u, r.Status, r.Body)
			}
		}
		site, _ := e.store.SiteByID(t.Context(), e.site.ID)
		if len(site.Settings.Webhooks.URLs) != 0 {
			t.Fatalf("stored webhook URLs %v", site.Settings.Webhooks.URLs)
		}
		for _, u := range []string{"https://hooks.example/x", "https://93.184.215.14/hook", "https://[2606:4700::1111]/hook"} {
			admin.must(200, "PUT", "/api/v1/mod/sites/news", map[string]any{"webhooks": map[string]any{"urls": []string{u}, "secret": hookSecret}})
		}

		// An intranet chat server, allowed by the operator.
		e2 := newEnv(t, d, allowPrivateHooks)
		admin2 := e2.moderator("admin@news.example", schema.RoleAdmin)
		admin2.must(200, "PUT", "/api/v1/mod/sites/news", map[string]any{"webhooks": map[string]any{"urls": internalHooks[:3], "secret": hookSecret}})
	})
}

// A name that resolves to an internal address (here "localhost", as a DNS
// record could) is refused when delivering: the check is on the address
// dialled, not on the URL.
func TestWebhookInternalAddressRefusedAtDelivery(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed)
		rc := newReceiver(t)
		u, _ := url.Parse(rc.srv.URL)
		hook := "http://localhost:" + u.Port() + "/hook"
		e.useWebhooks(hook) // in the store directly, as settings saved before a DNS change
		e.comment(post{Body: "held, to be announced"})
		deadline := time.Now().Add(5 * time.Second)
		for {
			ds, err := e.store.Deliveries(t.Context(), e.site.ID, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) == 1 && ds[0].GaveUpMS != nil {
				if ds[0].Attempts != 1 || !strings.Contains(ds[0].LastError, "internal address") || strings.Contains(ds[0].LastError, "/hook") {
					t.Fatalf("delivery %+v", ds[0])
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the delivery was not refused: %+v", ds)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n := rc.count(); n != 0 {
			t.Fatalf("the receiver on loopback got %d deliveries", n)
		}
	})
}

// Moderators read the audit log: webhook URLs (for chat webhooks, the
// credential) show as scheme and host, and the secret's fingerprint is
// keyed, so it confirms no guess.
func TestAuditRedactsWebhooks(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		admin := e.moderator("admin@news.example", schema.RoleAdmin)
		mod := e.moderator("mod@news.example", schema.RoleModerator, e.site.ID)
		const hook = "https://hooks.chat.example/services/T0001/B0001/credentialXYZ"
		const secret = "weak-but-long-secret"
		admin.must(200, "PUT", "/api/v1/mod/sites/news", map[string]any{"webhooks": map[string]any{"urls": []string{hook}, "secret": secret}})
		admin.must(200, "PUT", "/api/v1/mod/sites/news", map[string]any{"webhooks": map[string]any{"urls": []string{hook + "2"}}})
		items := mod.must(200, "GET", "/api/v1/mod/audit", nil).JSON["items"].([]any)
		if len(items) != 2 {
			t.Fatalf("audit %v", items)
		}
		sum := sha256.Sum256([]byte(secret))
		plain := hex.EncodeToString(sum[:])
		first, second := items[1].(map[string]any), items[0].(map[string]any)
		for _, a := range []map[string]any{first, second} {
			all := a["before"].(string) + a["after"].(string)
			if strings.Contains(all, "credentialXYZ") || strings.Contains(all, "/services/") || strings.Contains(all, secret) ||
				strings.Contains(all, plain[:8]) || !strings.Contains(all, "https://hooks.chat.example/") {
				t.Fatalf("audit entry reveals or lacks: %v", a)
			}
		}
		if first["after"] == second["after"] {
			t.Fatalf("a changed webhook URL looks unchanged: %v", second)
		}
	})
}
