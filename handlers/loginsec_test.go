package handlers_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley/parley/handlers"
	"github.com/parley/parley/schema"
)

// procKB reads a field of /proc/self/status in kB (VmRSS, VmHWM).
func procKB(t *testing.T, field string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("%s: %q", field, line)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// A burst of wrong-password logins from many addresses must not take the
// memory of one argon2id hash (19 MiB) per request: hashing is bounded for
// the whole instance, the excess is answered 503 with Retry-After before
// any hashing, and the memory is handed back afterwards. The server runs in
// this process, so the process's resident memory is the server's. Under the
// race detector every touched byte also costs shadow memory, so the bound
// is checked without it (the race build still runs the requests).
func TestLoginBurstMemoryBounded(t *testing.T) {
	e := newEnv(t, schema.SQLite, func(c *envConfig) {
		c.Limits = handlers.DefaultLimits()
		c.Limits.LoginHashers = 4
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	e.addModerator("ed@news.example", schema.RoleAdmin)
	// The server alone: the contract-checking wrapper the other tests run
	// through would add its own memory to what is measured.
	e.srv.Config.Handler = e.h
	const logins, addresses = 200, 20 // 10 per address: within the default burst
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: logins}}
	defer client.CloseIdleConnections()

	runtime.GC()
	debug.FreeOSMemory()
	base := procKB(t, "VmRSS")
	// Writing 5 resets the peak (VmHWM) to the current resident size.
	hwmReset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if kb := procKB(t, "VmRSS"); kb > peak.Load() {
				peak.Store(kb)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()

	var wg sync.WaitGroup
	start := make(chan struct{})
	statuses := make([]int, logins)
	errs := make(chan error, logins)
	for i := range logins {
		wg.Go(func() {
			<-start
			body, _ := json.Marshal(map[string]string{"email": fmt.Sprintf("guess%d@news.example", i), "password": "not the password"})
			req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/mod/session", bytes.NewReader(body))
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i%addresses))
			resp, err := client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			statuses[i] = resp.StatusCode
			if resp.StatusCode == 503 && (resp.Header.Get("Retry-After") == "" || !bytes.Contains(b, []byte(`"unavailable"`))) {
				errs <- fmt.Errorf("503 without Retry-After or the error shape: %v %s", resp.Header, b)
			}
		})
	}
	close(start)
	wg.Wait()
	close(stop)
	<-sampled
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	top := peak.Load()
	if hwmReset {
		top = max(top, procKB(t, "VmHWM"))
	}
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	t.Logf("RSS before %d MB, peak %d MB (VmHWM reset: %v); answers %v", base>>10, top>>10, hwmReset, count)
	if count[401]+count[503] != logins || count[401] == 0 {
		t.Fatalf("answers %v: want only 401 (checked) and 503 (hashers busy), some 401", count)
	}
	if !raceEnabled && top-base > 200<<10 {
		t.Fatalf("resident memory grew by %d MB during the burst, want under 200 MB", (top-base)>>10)
	}
	// The hashes' memory goes back to the system soon after the burst.
	deadline := time.Now().Add(10 * time.Second)
	for {
		rss := procKB(t, "VmRSS")
		if raceEnabled || rss-base < 64<<10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the burst the process holds %d MB more than before", (rss-base)>>10)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The owner logs in once the burst is over.
	if r := e.do("POST", "/api/v1/mod/session", map[string]string{"email": "ed@news.example", "password": testPassword}, "X-Forwarded-For", "203.0.113.7"); r.Status != 200 {
		t.Fatalf("login after the burst: %d %s", r.Status, r.Body)
	}
}

// Strangers' wrong guesses on an account cannot lock its owner out: past
// the account's ceiling they are slowed down, not refused, and a right
// password from an address that has not failed is accepted at once.
func TestStrangersCannotLockOwnerOut(t *testing.T) {
	e := newEnv(t, schema.SQLite, func(c *envConfig) {
		c.Limits = handlers.DefaultLimits()
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	e.addModerator("ed@news.example", schema.RoleAdmin)
	login := func(password, ip string) response {
		return e.do("POST", "/api/v1/mod/session", map[string]string{"email": "ed@news.example", "password": password}, "X-Forwarded-For", ip)
	}
	for i := range 50 {
		if r := login("a wrong guess", fmt.Sprintf("10.1.0.%d", i)); r.Status != 401 {
			t.Fatalf("wrong guess %d: %d %s", i, r.Status, r.Body)
		}
	}
	if r := login(testPassword, "10.2.0.1"); r.Status != 200 {
		t.Fatalf("the owner, from a fresh address, after 50 strangers' guesses: %d %s", r.Status, r.Body)
	}
	// An address that failed on the account waits before its next guess
	// (250 ms, doubling), and its right password still gets in.
	started := time.Now()
	r := login(testPassword, "10.1.0.7")
	if took := time.Since(started); r.Status != 200 || took < 250*time.Millisecond {
		t.Fatalf("a failed address's right password: %d in %v, want 200 after at least 250 ms", r.Status, took)
	}
	// That success cleared the address's failure: no wait next time.
	if r := login("a wrong guess", "10.1.0.8"); r.Status != 401 {
		t.Fatalf("another guess: %d %s", r.Status, r.Body)
	}
	started = time.Now()
	if r := login("a wrong guess", "10.1.0.8"); r.Status != 401 || time.Since(started) < 500*time.Millisecond {
		t.Fatalf("a repeated guess past the ceiling: %d in %v, want 401 after at least 500 ms", r.Status, time.Since(started))
	}
}

// A new password, set by an admin, ends every session of the account and
// revokes every API token: whoever stole one is out.
func TestPasswordChangeEndsSessionsAndTokens(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		admin := e.moderator("admin@news.example", schema.RoleAdmin)
		ann := e.moderator("ann@news.example", schema.RoleModerator)
		second := e.login("ann@news.example")
		token := ann.withToken()
		other := e.moderator("bob@news.example", schema.RoleModerator).withToken()

		// Changing the role alone ends nothing.
		admin.must(200, "PUT", fmt.Sprintf("/api/v1/mod/moderators/%d", ann.id), map[string]any{"role": "moderator"})
		token.must(200, "GET", "/api/v1/mod/session", nil)

		admin.must(200, "PUT", fmt.Sprintf("/api/v1/mod/moderators/%d", ann.id), map[string]any{"password": "a brand new secret"})
		for name, c := range map[string]*modClient{"session": ann, "second session": second, "API token": token} {
			if r := c.do("GET", "/api/v1/mod/session", nil); r.Status != 401 {
				t.Errorf("ann's %s after the password change: %d %s", name, r.Status, r.Body)
			}
		}
		other.must(200, "GET", "/api/v1/mod/session", nil)
		if r := admin.must(200, "GET", fmt.Sprintf("/api/v1/mod/moderators/%d/tokens", ann.id), nil); len(r.JSON["tokens"].([]any)) != 0 {
			t.Fatalf("tokens left after the password change: %s", r.Body)
		}
		log := admin.must(200, "GET", "/api/v1/mod/audit", nil).JSON["items"].([]any)
		if d := log[0].(map[string]any)["detail"].(string); !strings.Contains(d, "password changed") || !strings.Contains(d, "2 sessions ended") || !strings.Contains(d, "1 API tokens revoked") {
			t.Fatalf("audit detail of the password change: %q", d)
		}
		r := e.do("POST", "/api/v1/mod/session", map[string]string{"email": "ann@news.example", "password": "a brand new secret"})
		if r.Status != 200 {
			t.Fatalf("login with the new password: %d %s", r.Status, r.Body)
		}
	})
}

// Disabling revokes an account's tokens for good: enabling it again
// revives none of them (its password still works).
func TestDisableRevokesTokensForGood(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		admin := e.moderator("admin@news.example", schema.RoleAdmin)
		bob := e.moderator("bob@news.example", schema.RoleModerator)
		token := bob.withToken()
		admin.must(204, "DELETE", fmt.Sprintf("/api/v1/mod/moderators/%d", bob.id), nil)
		token.must(401, "GET", "/api/v1/mod/session", nil)
		admin.must(200, "PUT", fmt.Sprintf("/api/v1/mod/moderators/%d", bob.id), map[string]any{"disabled": false})
		token.must(401, "GET", "/api/v1/mod/session", nil)
		bob.must(401, "GET", "/api/v1/mod/session", nil)
		e.login("bob@news.example")

		// Tokens of an account disabled before disabling revoked them (as
		// the store did until now) do not come back either.
		carl := e.addModerator("carl@news.example", schema.RoleModerator)
		ctx := context.Background()
		carl.Disabled = true
		if err := e.store.UpdateModerator(ctx, carl, nil); err != nil {
			t.Fatal(err)
		}
		raw := "parley_left-over-from-an-older-version"
		sum := sha256.Sum256([]byte(raw))
		if err := e.store.CreateAPIToken(ctx, &schema.APIToken{ModeratorID: carl.ID, Name: "old"}, hex.EncodeToString(sum[:]), nil); err != nil {
			t.Fatal(err)
		}
		old := &modClient{e: e, token: raw}
		old.must(401, "GET", "/api/v1/mod/session", nil)
		admin.must(200, "PUT", fmt.Sprintf("/api/v1/mod/moderators/%d", carl.ID), map[string]any{"disabled": false})
		old.must(401, "GET", "/api/v1/mod/session", nil)
	})
}

// Admins list and revoke any account's API tokens; the revocation is
// audited with the admin as actor and the owner named.
func TestAdminRevokesAccountTokens(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		admin := e.moderator("admin@news.example", schema.RoleAdmin)
		ann := e.moderator("ann@news.example", schema.RoleModerator)
		bob := e.moderator("bob@news.example", schema.RoleModerator)
		leaked := ann.withToken()
		kept := ann.withToken()
		bobs := bob.withToken()
		r := admin.must(200, "GET", fmt.Sprintf("/api/v1/mod/moderators/%d/tokens", ann.id), nil)
		list := r.JSON["tokens"].([]any)
		if len(list) != 2 || list[0].(map[string]any)["token"] != nil {
			t.Fatalf("ann's tokens: %s", r.Body)
		}
		// Newest first: the leaked one is the second.
		leakedID := num(list[1].(map[string]any)["id"])
		admin.must(404, "DELETE", fmt.Sprintf("/api/v1/mod/moderators/%d/tokens/%d", bob.id, leakedID), nil)
		admin.must(404, "DELETE", fmt.Sprintf("/api/v1/mod/moderators/%d/tokens/x", ann.id), nil)
		admin.must(404, "GET", "/api/v1/mod/moderators/999999/tokens", nil)
		admin.must(204, "DELETE", fmt.Sprintf("/api/v1/mod/moderators/%d/tokens/%d", ann.id, leakedID), nil)
		leaked.must(401, "GET", "/api/v1/mod/session", nil)
		kept.must(200, "GET", "/api/v1/mod/session", nil)
		bobs.must(200, "GET", "/api/v1/mod/session", nil)
		admin.must(404, "DELETE", fmt.Sprintf("/api/v1/mod/moderators/%d/tokens/%d", ann.id, leakedID), nil)

		entry := admin.must(200, "GET", "/api/v1/mod/audit", nil).JSON["items"].([]any)[0].(map[string]any)
		if entry["action"] != "token.revoke" || entry["actor"] != "admin@news.example" || entry["detail"] != "script of ann@news.example" {
			t.Fatalf("audit entry %v", entry)
		}
		// Moderators manage their own tokens only.
		ann.must(403, "GET", fmt.Sprintf("/api/v1/mod/moderators/%d/tokens", bob.id), nil)
		ann.must(403, "GET", fmt.Sprintf("/api/v1/mod/moderators/%d/tokens", ann.id), nil)
	})
}

// A moderator's site list is never empty: [] would read as "none" but
// meant "every site". Leaving sites out (or null) is every site; admins
// take no site list.
func TestModeratorSiteLists(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		admin := e.moderator("admin@news.example", schema.RoleAdmin)
		create := func(body map[string]any) response {
			body["password"] = testPassword
			return admin.do("POST", "/api/v1/mod/moderators", body)
		}
		if r := create(map[string]any{"email": "a@news.example", "role": "moderator", "sites": []string{}}); r.Status != 422 || !strings.Contains(r.field("sites"), "every site") {
			t.Fatalf("moderator with sites []: %d %s", r.Status, r.Body)
		}
		if r := create(map[string]any{"email": "b@news.example", "role": "admin", "sites": []string{"news"}}); r.Status != 422 || !strings.Contains(r.field("sites"), "admins") {
			t.Fatalf("admin with a site list: %d %s", r.Status, r.Body)
		}
		all := create(map[string]any{"email": "c@news.example", "role": "moderator", "sites": nil})
		if all.Status != 201 || len(all.JSON["moderator"].(map[string]any)["sites"].([]any)) != 0 {
			t.Fatalf("moderator of every site: %d %s", all.Status, all.Body)
		}
		one := create(map[string]any{"email": "d@news.example", "role": "moderator", "sites": []string{"news"}})
		if one.Status != 201 {
			t.Fatalf("moderator of news: %d %s", one.Status, one.Body)
		}
		path := fmt.Sprintf("/api/v1/mod/moderators/%d", num(one.JSON["moderator"].(map[string]any)["id"]))
		sites := func(r response) []any { return r.JSON["moderator"].(map[string]any)["sites"].([]any) }
		if r := admin.do("PUT", path, map[string]any{"sites": []string{}}); r.Status != 422 || r.field("sites") == "" {
			t.Fatalf("PUT sites []: %d %s", r.Status, r.Body)
		}
		if r := admin.do("PUT", path, map[string]any{"sites": "news"}); r.Status != 400 {
			t.Fatalf("PUT sites as a string: %d %s", r.Status, r.Body)
		}
		if r := admin.must(200, "PUT", path, map[string]any{"role": "moderator"}); len(sites(r)) != 1 {
			t.Fatalf("PUT without sites changed them: %s", r.Body)
		}
		if r := admin.do("PUT", path, map[string]any{"role": "admin", "sites": []string{"news"}}); r.Status != 422 || r.field("sites") == "" {
			t.Fatalf("PUT admin with sites: %d %s", r.Status, r.Body)
		}
		if r := admin.must(200, "PUT", path, map[string]any{"sites": nil}); len(sites(r)) != 0 {
			t.Fatalf("PUT sites null: %s", r.Body)
		}
		admin.must(200, "PUT", path, map[string]any{"sites": []string{"news"}})
		// Promoted to admin, the limit it would ignore is dropped.
		if r := admin.must(200, "PUT", path, map[string]any{"role": "admin"}); len(sites(r)) != 0 {
			t.Fatalf("promoted with a site list: %s", r.Body)
		}
	})
}
