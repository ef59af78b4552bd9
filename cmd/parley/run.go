package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/parley/parley/cmd/parley/internal/jobs"
	"github.com/parley/parley/handlers"
	"github.com/parley/parley/moderation"
	"github.com/parley/parley/moderation/mail"
	"github.com/parley/parley/moderation/webhooks"
	"github.com/parley/parley/schema"
)

// errUsage means the usage was printed already.
var errUsage = errors.New("usage")

// errHelp means -h was asked for and the usage printed on standard output:
// run then succeeds.
var errHelp = errors.New("help")

func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

const usage = `parley — comments and reactions for news sites

Usage:
  parley serve     [-addr 127.0.0.1:8080] [-db parley.db] [-public-url URL] [-captcha-test] [-demo] [-trusted-proxy CIDR …]
                   [-rate-comments 6/m:5 …] [-login-hashers N] [-header-timeout 5s] [-request-timeout 10s]
                   [-metrics-addr 127.0.0.1:9090] [-metrics-token T] [-allow-private-webhooks] [-insights-retention 400]
                   [-smtp-url smtp://user:pass@host:587 -mail-from comments@news.example]
  parley migrate   [-db …]
  parley site add  -slug news -origin https://news.example [-origin …] [-db …]
  parley moderator add -email ed@news.example -role admin|moderator [-site slug …] [-db …]   (password on stdin)
  parley reader export -email x@example.org [-db …]   (every comment written with that email, as JSON)
  parley reader forget -email x@example.org [-db …]   (erase them, keeping replies' places)
  parley import    -site news -format disqus|wordpress|remark42|commento|isso|parley [-dry-run] [-rewrite old=new …] [-db …] FILE|-
  parley export    -site news [-o FILE] [-db …]   (every comment with its history, as newline-delimited JSON)
  parley backup    -o FILE [-db …]   (a consistent copy of a SQLite database, taken while serving)
  parley report    -site news -from 2026-01-01 -to 2026-06-30 [-format json|csv] [-db …]   (the EU DSA transparency report)
  parley version   (version, commit, Go version, database drivers)

Every flag can also be set as PARLEY_<FLAG> (PARLEY_DB, PARLEY_ADDR, …);
the command line wins. -db is a file path for SQLite (./parley.db or
file:parley.db) or a postgres:// URL. Only serve and migrate create a
database that does not exist; the other commands refuse unless given -create.
Run "parley <command> -h" for a command's flags.
`

// run is the whole program; main only wires it to the process, so tests
// can start the real server on port 0.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, getenv, stdin, stdout, stderr)
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, rest := args[1], args[2:]
	// Help that was asked for is the answer, not an error: it goes to
	// standard output (so `parley serve -h | less` works) and exits 0.
	if wantsHelp(rest) {
		stderr = stdout
	}
	switch cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, rest, getenv, stdout, stderr)
	case "site", "moderator":
		if len(rest) == 0 || rest[0] != "add" {
			fmt.Fprintf(stderr, "usage: parley %s add …   (parley %s add -h for its flags)\n", cmd, cmd)
			if wantsHelp(rest) {
				return errHelp
			}
			return errUsage
		}
		if cmd == "site" {
			return siteAdd(ctx, rest[1:], getenv, stdout, stderr)
		}
		return moderatorAdd(ctx, rest[1:], getenv, stdin, stdout, stderr)
	case "reader":
		if len(rest) == 0 || (rest[0] != "export" && rest[0] != "forget") {
			fmt.Fprintln(stderr, "usage: parley reader export|forget -email x@example.org [-db …]")
			if wantsHelp(rest) {
				return errHelp
			}
			return errUsage
		}
		return readerCommand(ctx, rest[0], rest[1:], getenv, stdout, stderr)
	case "import":
		return importCommand(ctx, rest, getenv, stdin, stdout, stderr)
	case "export":
		return exportCommand(ctx, rest, getenv, stdout, stderr)
	case "backup":
		return backup(ctx, rest, getenv, stdout, stderr)
	case "report":
		return reportCommand(ctx, rest, getenv, stdout, stderr)
	case "version", "-version", "--version":
		printVersion(stdout)
		return nil
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "parley: unknown command %q\n\n%s", cmd, usage)
		return errUsage
	}
}

// wantsHelp tells whether the flags ask for help before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help", "--h":
			return true
		}
	}
	return false
}

// listFlag is a repeatable flag; from the environment it takes a
// comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// parse parses a command's flags, first taking defaults from PARLEY_*
// variables: -trusted-proxy reads PARLEY_TRUSTED_PROXY.
func parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "PARLEY_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v := getenv(name)
		if v == "" {
			return
		}
		vals := []string{v}
		if _, ok := f.Value.(*listFlag); ok {
			vals = strings.Split(v, ",")
		}
		for _, x := range vals {
			if err := f.Value.Set(strings.TrimSpace(x)); err != nil && envErr == nil {
				envErr = fmt.Errorf("%s=%s: %v", name, x, flagValueHint(f, err))
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return errUsage
	}
	return nil
}

// flagValueHint replaces the flag package's bare "parse error" for a
// boolean with what it takes.
func flagValueHint(f *flag.Flag, err error) error {
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return errors.New("a boolean is expected: true or false (also 1 or 0)")
	}
	return err
}

// durationFlag is a duration whose error for a bare number suggests the
// unit, since "-header-timeout 5" is a natural mistake.
type durationFlag time.Duration

func (d *durationFlag) String() string { return time.Duration(*d).String() }
func (d *durationFlag) Set(v string) error {
	x, err := time.ParseDuration(v)
	if err != nil {
		if _, nerr := strconv.ParseFloat(v, 64); nerr == nil {
			return fmt.Errorf("%q has no unit: write %ss (or ms, m, h)", v, v)
		}
		return fmt.Errorf("%q is not a duration such as 5s, 500ms or 1m", v)
	}
	*d = durationFlag(x)
	return nil
}

func durationVar(fs *flag.FlagSet, name string, def time.Duration, usage string) *time.Duration {
	d := def
	fs.Var((*durationFlag)(&d), name, usage)
	return &d
}

// missing reports a required flag that was not given, by name, then the
// command's usage.
func missing(fs *flag.FlagSet, name string) error {
	fmt.Fprintf(fs.Output(), "missing required flag -%s (or PARLEY_%s)\n\n", name, strings.ToUpper(strings.ReplaceAll(name, "-", "_")))
	fs.Usage()
	return errUsage
}

// rateFlag is a rate limit on the command line, as handlers.ParseRate reads it.
type rateFlag handlers.Rate

func (f *rateFlag) String() string { return handlers.Rate(*f).String() }
func (f *rateFlag) Set(v string) error {
	r, err := handlers.ParseRate(v)
	if err != nil {
		return err
	}
	*f = rateFlag(r)
	return nil
}

func newFlagSet(name string, stderr io.Writer, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: parley %s\n\n%s\nflags (also PARLEY_<FLAG>):\n", name, help)
		fs.PrintDefaults()
	}
	return fs
}

// startCPUProfile writes a CPU profile to path until the returned func is
// called; with path "" it does nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// openExisting is openStore for the commands that must not create a
// database by mistake (see mustExist).
func openExisting(ctx context.Context, dsn string, create bool) (*schema.Store, error) {
	if err := mustExist(dsn, create); err != nil {
		return nil, err
	}
	return openStore(ctx, dsn)
}

func openStore(ctx context.Context, dsn string) (*schema.Store, error) {
	if err := checkDSN(dsn); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	s, err := schema.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", redact(dsn), err)
	}
	return s, nil
}

// redact hides a password in a postgres URL for messages and logs.
func redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if j := strings.Index(dsn[i+3:], "@"); j >= 0 {
			if k := strings.Index(dsn[i+3:i+3+j], ":"); k >= 0 {
				return dsn[:i+3+k] + ":***" + dsn[i+3+j:]
			}
		}
	}
	return dsn
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr, "Runs the HTTP server.")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free one)")
	dsn := fs.String("db", "parley.db", "SQLite file path or postgres:// URL")
	captchaTest := fs.Bool("captcha-test", false, "put each captcha's solution in its answer: for end-to-end tests only, never in production")
	demo := fs.Bool("demo", false, "create the demo site and serve /demo/")
	secureCookies := fs.Bool("secure-cookies", false, "mark session cookies Secure (behind a TLS-terminating proxy)")
	publicURL := fs.String("public-url", "", "the server's public address, for links in webhooks and the Atom feed's self link (default http://<listen address>)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (for make bench)")
	noLimits := fs.Bool("no-rate-limits", false, "turn every rate limit off: for load tests on a private machine only")
	metricsAddr := fs.String("metrics-addr", "127.0.0.1:9090", "address to serve /metrics on, apart from the public one since metrics reveal moderation; empty disables")
	metricsToken := fs.String("metrics-token", "", "bearer token /metrics asks for (Authorization: Bearer …); empty asks for none")
	importMax := fs.Int64("import-max-bytes", handlers.DefaultImportMaxBytes, "largest file the admin API's import takes, in bytes as uploaded (gzip counts compressed)")
	smtpURL := fs.String("smtp-url", "", "send email through this SMTP server: smtp://user:password@host:587 (STARTTLS), smtps://user:password@host:465 (TLS), smtp://127.0.0.1:2525?tls=none (clear text, loopback only); empty turns email off")
	smtpTimeout := durationVar(fs, "smtp-timeout", 30*time.Second, "how long one SMTP conversation may take; mail a crashed server was sending goes again after twice that (a `duration`)")
	mailFrom := fs.String("mail-from", "", "the sender of emails, such as \"News comments <comments@news.example>\" (required with -smtp-url)")
	insightsRetention := fs.Int("insights-retention", 400, "days the Insights rollups are kept (1 to 3650)")
	rollups := fs.Bool("rollups", true, "keep the Insights rollups; off only to measure what they cost (make bench)")
	allowPrivateHooks := fs.Bool("allow-private-webhooks", false, "let webhook URLs reach loopback, private and link-local addresses (an intranet chat server)")
	var proxies listFlag
	fs.Var(&proxies, "trusted-proxy", "CIDR of a reverse proxy whose X-Forwarded-For is believed (repeatable)")
	limits := handlers.DefaultLimits()
	for _, l := range []struct {
		name string
		rate *handlers.Rate
		what string
	}{
		{"rate-readers", &limits.Readers, "reader tokens issued"},
		{"rate-captchas", &limits.Captchas, "captchas issued"},
		{"rate-comments", &limits.Comments, "comments posted (also per reader token)"},
		{"rate-edits", &limits.Edits, "comment edits and deletions (also per the comment's reader)"},
		{"rate-votes", &limits.Votes, "reactions and comment votes"},
		{"rate-reports", &limits.Reports, "comment reports"},
		{"rate-logins", &limits.Logins, "moderator login attempts"},
		{"rate-captcha-media", &limits.CaptchaMedia, "captcha images and audio served"},
		{"rate-reads", &limits.Reads, "comment pages and feeds read"},
	} {
		fs.Var((*rateFlag)(l.rate), l.name, "per client address: "+l.what+"; a `rate` such as 6/m, 2/s or 100/h with an optional :burst (6/m:5), or off")
	}
	fs.IntVar(&limits.LoginHashers, "login-hashers", handlers.DefaultLoginHashers(),
		"how many moderator passwords may be checked at once (each takes 19 MiB); logins past it wait a second, then get 503")
	headerTimeout := durationVar(fs, "header-timeout", 5*time.Second, "how long a client may take to send a request's headers before it is cut off (a `duration` such as 5s)")
	requestTimeout := durationVar(fs, "request-timeout", handlers.DefaultRequestTimeout, "how long a request's work, database calls included, may take before it is answered 503 (a `duration` such as 10s)")
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %v", err)
	}
	if *headerTimeout <= 0 || *requestTimeout <= 0 {
		return errors.New("-header-timeout and -request-timeout must be positive")
	}
	if *importMax <= 0 {
		return errors.New("-import-max-bytes must be positive")
	}
	if *insightsRetention < 1 || *insightsRetention > 3650 {
		return fmt.Errorf("-insights-retention is %d: give the days to keep the Insights rollups, 1 to 3650", *insightsRetention)
	}
	if limits.LoginHashers < 1 {
		return errors.New("-login-hashers must be at least 1")
	}
	if *publicURL != "" {
		u, err := checkPublicURL(*publicURL)
		if err != nil {
			return err
		}
		*publicURL = u
	}
	if err := checkDSN(*dsn); err != nil {
		return err
	}
	if *smtpURL == "" && *mailFrom != "" {
		return errors.New("-mail-from needs -smtp-url: without an SMTP server no email is sent")
	}
	if *smtpURL != "" {
		// Checked before anything opens, so that a typo fails at once.
		if _, err := mail.New(nil, mail.Config{SMTPURL: *smtpURL, From: *mailFrom}); err != nil {
			return err
		}
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	var trusted []netip.Prefix
	for _, p := range proxies {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return fmt.Errorf("-trusted-proxy %q: want a CIDR such as 10.0.0.0/8: %v", p, err)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		trusted = append(trusted, pfx)
	}

	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	store, secret, err := openWithSecret(ctx, *dsn, getenv)
	if err != nil {
		return err
	}
	defer store.Close()
	// Before listening: a second server on a SQLite file must not start,
	// and a listening server follows the command line's and other
	// instances' changes from its first request.
	if err := store.Watch(context.WithoutCancel(ctx)); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var mln net.Listener
	if *metricsAddr != "" {
		if mln, err = net.Listen("tcp", *metricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("listen for metrics (-metrics-addr, empty disables): %w", err)
		}
	}
	base := "http://" + ln.Addr().String()
	if *publicURL == "" {
		*publicURL = base
	}
	if *demo {
		if err := ensureDemoSite(ctx, store, ln.Addr().(*net.TCPAddr)); err != nil {
			ln.Close()
			if mln != nil {
				mln.Close()
			}
			return err
		}
	}
	if getenv("PARLEY_SECRET") == "" {
		logger.Warn("the server secret is kept in the database: a copy of the database (a backup, a dump) is enough to reverse its IP hashes " +
			"and to test guesses against its email hashes; set PARLEY_SECRET, kept apart from the database, to the value in server_secrets and delete that row (see SECURITY.md)")
	}
	if *captchaTest {
		logger.Warn("CAPTCHA TEST MODE: every captcha answer carries its solution; never run this in production")
	}
	if *noLimits {
		logger.Warn("RATE LIMITS ARE OFF: for load tests only")
		hashers := limits.LoginHashers
		limits = handlers.Limits{}.Off()
		limits.LoginHashers = hashers
	}
	hooks := webhooks.New(store, webhooks.Config{AllowPrivate: *allowPrivateHooks, Logger: logger})
	var mailer *mail.Mailer
	if *smtpURL != "" {
		if mailer, err = mail.New(store, mail.Config{SMTPURL: *smtpURL, From: *mailFrom, PublicURL: *publicURL, Timeout: *smtpTimeout, Logger: logger}); err != nil {
			ln.Close()
			if mln != nil {
				mln.Close()
			}
			return err
		}
		logger.Info("email on", "smtp", mailer.Describe(), "from", *mailFrom)
	} else {
		logger.Info("email off: no -smtp-url; reply notifications and digests are not offered")
	}
	srv := handlers.New(store, handlers.Config{
		Build:  buildInfo(),
		Secret: secret, CaptchaTest: *captchaTest, Demo: *demo, TrustedProxies: trusted,
		SecureCookies: *secureCookies, PublicURL: *publicURL, Logger: logger, Limits: limits, RequestTimeout: *requestTimeout,
		AllowPrivateWebhooks: *allowPrivateHooks, WakeWebhooks: hooks.Wake, MetricsToken: *metricsToken,
		Importer: newImporter(store, secret, 5000), ImportMaxBytes: *importMax, Mail: mailer,
	})
	store.SetRollups(*rollups)
	if *allowPrivateHooks {
		logger.Warn("webhooks may reach private addresses (-allow-private-webhooks): only the admins' settings stand between them and internal services")
	}
	srv.PrepareAssets()
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: *headerTimeout,
		ReadTimeout:       max(15*time.Second, *headerTimeout),
		WriteTimeout:      max(30*time.Second, *requestTimeout+5*time.Second),
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	// Background work (webhook deliveries, clean-ups: serveJobs) and
	// import jobs stop after the last request and before the store closes.
	bgCtx, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	bgDone := make(chan struct{})
	go func() {
		defer close(bgDone)
		jobs.Run(bgCtx, logger, serveJobs(store, srv, hooks, mailer, time.Duration(*insightsRetention)*24*time.Hour, logger))
	}()
	defer func() {
		stopBG()
		<-bgDone
		srv.Close()
	}()

	if mln != nil {
		// Before the public address: tools that wait for that line have
		// seen this one by then.
		logger.Info("serving metrics", "addr", mln.Addr().String(), "token", *metricsToken != "")
		fmt.Fprintf(stdout, "parley metrics on http://%s/metrics\n", mln.Addr().String())
	}
	logger.Info("listening", "addr", ln.Addr().String(), "db", redact(*dsn), "engine", string(store.Dialect()), "demo", *demo)
	fmt.Fprintf(stdout, "parley listening on %s\n", base)
	if *demo {
		fmt.Fprintf(stdout, "demo article: %s/demo/   dashboard: %s/mod/\n", base, base)
	}
	errc := make(chan error, 2)
	var ms *http.Server
	if mln != nil {
		ms = &http.Server{
			Handler:           srv.MetricsHandler(),
			ReadHeaderTimeout: *headerTimeout,
			ReadTimeout:       15 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    8 << 10,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		}
		go func() { errc <- fmt.Errorf("metrics: %w", ms.Serve(mln)) }()
	}
	go func() { errc <- hs.Serve(ln) }()
	var serveErr error
	select {
	case err := <-errc:
		serveErr = fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		logger.Warn("shutdown", "err", err)
	}
	if ms != nil {
		if err := ms.Shutdown(shutdownCtx); err != nil {
			logger.Warn("shutdown metrics", "err", err)
		}
	}
	logger.Info("stopped")
	return serveErr
}

// ensureDemoSite creates the demo sites whose origin is the server itself:
// "demo" with the default reactions, and "demo-emoji" with a set of emoji
// reactions of its own.
func ensureDemoSite(ctx context.Context, store *schema.Store, addr *net.TCPAddr) error {
	// Listening on 127.0.0.1 would list that origin twice.
	origins, _ := moderation.NormalizeOrigins([]string{fmt.Sprintf("http://%s", addr.String()),
		fmt.Sprintf("http://localhost:%d", addr.Port), fmt.Sprintf("http://127.0.0.1:%d", addr.Port)})
	emoji := func(st *schema.Settings) {
		st.Reactions = []string{"love", "funny", "wow"}
		st.ReactionStyles = map[string]schema.ReactionStyle{
			"love": {Label: "Love", Icon: "❤️"}, "funny": {Label: "Funny", Icon: "😂"}, "wow": {Label: "Wow", Icon: "😮"},
		}
	}
	for slug, setup := range map[string]func(*schema.Settings){"demo": func(*schema.Settings) {}, "demo-emoji": emoji} {
		site, err := store.Site(ctx, slug)
		if errors.Is(err, schema.ErrNotFound) {
			st := schema.DefaultSettings()
			st.Origins = origins
			setup(&st)
			if _, err = store.CreateSite(ctx, slug, st, nil); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		// The port may differ from the last run: keep the origins current.
		st := site.Settings
		st.Origins = origins
		if err := store.UpdateSiteSettings(ctx, site.ID, st, nil); err != nil {
			return err
		}
	}
	return nil
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate [-db …]", stderr, "Brings the database schema up to date.")
	dsn := fs.String("db", "parley.db", "SQLite file path or postgres:// URL")
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	store, err := openStore(ctx, *dsn)
	if err != nil {
		return err
	}
	defer store.Close()
	v, err := store.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema is at version %d\n", v)
	return nil
}

func siteAdd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("site add -slug news -origin https://news.example [-origin …] [-db …]", stderr, "Creates a site.")
	slug := fs.String("slug", "", "the site's short name, as used in API paths (a-z, 0-9, -)")
	dsn, create := dbFlags(fs)
	mode := fs.String("mode", "post", "moderation mode: pre, first_time or post")
	var origins listFlag
	fs.Var(&origins, "origin", "an origin whose pages embed the widget, such as https://news.example (repeatable)")
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	if *slug == "" {
		return missing(fs, "slug")
	}
	if len(origins) == 0 {
		return missing(fs, "origin")
	}
	st := schema.DefaultSettings()
	var notices []string
	st.Origins, notices = moderation.NormalizeOrigins(origins)
	for _, n := range notices {
		fmt.Fprintln(stderr, "notice:", n)
	}
	st.Moderation.Mode = *mode
	if problems := moderation.ValidateSite(*slug, st); len(problems) > 0 {
		return fmt.Errorf("invalid site: %s", formatProblems(problems))
	}
	store, err := openExisting(ctx, *dsn, *create)
	if err != nil {
		return err
	}
	defer store.Close()
	audit := schema.By(nil, schema.ActorCLI)
	site, err := store.CreateSite(ctx, *slug, st, &audit)
	if errors.Is(err, schema.ErrConflict) {
		return fmt.Errorf("site %q exists already", *slug)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "site %s created (origins %s)\n", site.Slug, strings.Join(st.Origins, ", "))
	return nil
}

func moderatorAdd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("moderator add -email ed@news.example -role admin|moderator [-site slug …] [-db …]", stderr,
		"Creates a moderator account; the password is read from the first line of standard input.")
	email := fs.String("email", "", "the moderator's email, used to log in")
	role := fs.String("role", "moderator", "admin or moderator")
	dsn, create := dbFlags(fs)
	var sites listFlag
	fs.Var(&sites, "site", "limit a moderator to this site (repeatable; default every site)")
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	if *email == "" {
		return missing(fs, "email")
	}
	if *role != schema.RoleAdmin && *role != schema.RoleModerator {
		return fmt.Errorf("-role must be admin or moderator, not %q", *role)
	}
	if *role == schema.RoleAdmin && len(sites) > 0 {
		return errors.New("-site limits moderators only: admins moderate every site; leave -site out or use -role moderator")
	}
	if !strings.Contains(*email, "@") {
		return fmt.Errorf("-email %q is not an email address", *email)
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	hash, err := moderation.HashPassword(password)
	if err != nil {
		return fmt.Errorf("password on stdin: %w", err)
	}
	store, err := openExisting(ctx, *dsn, *create)
	if err != nil {
		return err
	}
	defer store.Close()
	m := &schema.Moderator{Email: strings.ToLower(strings.TrimSpace(*email)), PasswordHash: hash, Role: *role}
	for _, slug := range sites {
		site, err := store.Site(ctx, slug)
		if err != nil {
			return fmt.Errorf("-site %s: %w", slug, err)
		}
		m.Sites = append(m.Sites, site.ID)
	}
	audit := schema.By(nil, schema.ActorCLI)
	if err := store.CreateModerator(ctx, m, &audit); errors.Is(err, schema.ErrConflict) {
		return fmt.Errorf("a moderator with email %s exists already", m.Email)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s %s created\n", m.Role, m.Email)
	return nil
}

func formatProblems(p map[string]string) string {
	var parts []string
	for k, v := range p {
		parts = append(parts, k+": "+v)
	}
	return strings.Join(parts, "; ")
}
