// Package cli is the exporter's command line: serve (the default), check,
// review, revoke and probe. The binary's main calls Main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/coreos/go-systemd/v22/activation"
	"github.com/mdlayher/vsock"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"
	"golang.org/x/net/netutil"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/collector"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/refresh"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/review"
)

const exporterName = "salesforce_oauth_exporter"

// orgNames are the names of a config's orgs.
func orgNames(cfg *config.Config) []string {
	out := make([]string, len(cfg.Orgs))
	for i, o := range cfg.Orgs {
		out[i] = o.Name
	}
	return out
}

// defaultPort sits past the Prometheus wiki's default-port range (9100-9999),
// which is fully allocated.
const defaultAddress = ":10157"

// Main runs the command line args (without the program name) and returns
// the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	stampVersion()
	return run(args, stdout, stderr)
}

// cli holds every command's flags.
type cli struct {
	app *kingpin.Application
	log *promslog.Config

	serve        *kingpin.CmdClause
	configFile   *string
	configCheck  *bool
	demo         *bool
	demoSurge    *time.Duration
	metricsPath  *string
	storagePath  *string
	lifecycle    *bool
	pprof        *bool
	toolkitFlags *web.FlagConfig
	httpBounds   httpBounds

	storageSet bool
	reviewOn   *bool
	reviewTTL  *time.Duration
	reviewRows *int
	shard      *string
	shards     *int

	review reviewFlags
	revoke revokeFlags
	check  checkFlags
	probe  probeFlags
}

func newCLI(stdout, stderr io.Writer) *cli {
	app := kingpin.New(exporterName, "Watches OAuth access to Salesforce orgs (connected apps and External Client Apps) and exposes it to Prometheus.")
	app.Writer(stdout)
	app.ErrorWriter(stderr)
	app.Terminate(func(int) {})
	app.Version(version.Print(exporterName))
	app.HelpFlag.Short('h')
	app.UsageTemplate(usageTemplate)
	c := &cli{app: app, log: &promslog.Config{}}
	promslogflag.AddFlags(app, c.log)

	c.serve = app.Command("serve", "Serve metrics (the default command).").Default()
	c.configFile = c.serve.Flag("config.file", "Path to the YAML config file (orgs, credentials files, inventory).").String()
	c.configCheck = c.serve.Flag("config.check", "Validate the config file, including reading the secret files, and exit 0 or 1. Makes no network call.").Bool()
	c.demo = c.serve.Flag("demo", "Serve an embedded fake org named demo that changes over time, instead of real orgs.").Bool()
	c.demoSurge = c.serve.Flag("demo.surge-after", "With --demo: when the unknown app and the API surge appear.").Default("3m").Duration()
	c.metricsPath = c.serve.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String()
	c.storagePath = c.serve.Flag("storage.path", "Folder for the exporter's persistent state (first-seen times, API usage counts) and each row-mode org's token store, so that a restart reads only what changed. With --demo the default is a temporary folder.").IsSetByUser(&c.storageSet).Default("data/").String()
	c.lifecycle = c.serve.Flag("web.enable-lifecycle", "Enable POST /-/reload to reload the config (SIGHUP always works).").Bool()
	c.pprof = c.serve.Flag("web.enable-pprof", "Serve Go profiling at /debug/pprof/ (behind the same web config).").Bool()
	c.reviewOn = c.serve.Flag("web.enable-review", "Serve the weekly review at /review and /review.json (behind the same web config). Its per-user detail costs about one API call per 2,000 tokens; it is read in the background, at most once per --review.cache-ttl while the apps stay the same, and never past the org's API budget.").Bool()
	c.reviewTTL = c.serve.Flag("review.cache-ttl", "How long /review reuses its per-user detail before reading Salesforce again; it is read again sooner when the apps' tokens or users change.").Default("1h").Duration()
	c.reviewRows = c.serve.Flag("review.max-rows", "The served review lists at most this many rows per per-user list (add ?app=NAME for every row of one app).").Default("500").Int()
	c.shard = c.serve.Flag("orgs.shard", "Which shard of the orgs this replica serves, 0 to --orgs.shards minus 1; or a StatefulSet pod name ending in -<ordinal> (the ordinal is the shard).").Default("0").String()
	c.shards = c.serve.Flag("orgs.shards", "How many replicas share the orgs of the config file: each org is served by exactly one, chosen by a stable hash of its name.").Default("1").Int()
	c.toolkitFlags = kingpinflag.AddFlags(c.serve, defaultAddress)
	c.serve.Flag("web.read-header-timeout", "How long a client may take to send its request headers before it is cut off (slow-header clients).").Default(httpReadHeaderTimeout.String()).DurationVar(&c.httpBounds.readHeader)
	c.serve.Flag("web.read-timeout", "How long a client may take to send its whole request.").Default(httpReadTimeout.String()).DurationVar(&c.httpBounds.read)
	c.serve.Flag("web.write-timeout", "How long a response may take, from the end of the request's headers, before the connection is cut (a client that never reads); /review can take two minutes.").Default(httpWriteTimeout.String()).DurationVar(&c.httpBounds.write)
	c.serve.Flag("web.idle-timeout", "How long an idle keep-alive connection is kept open.").Default(httpIdleTimeout.String()).DurationVar(&c.httpBounds.idle)
	c.serve.Flag("web.max-connections", "The most connections served at once, per listen address; more wait to be accepted (each holds memory while it sends its headers). Prometheus needs one or two.").Default(strconv.Itoa(httpMaxConnections)).IntVar(&c.httpBounds.maxConns)
	c.serve.Flag("web.max-header-bytes", "The largest request headers accepted, in bytes (URL included); a larger request gets 431.").Default(strconv.Itoa(httpMaxHeaderBytes)).IntVar(&c.httpBounds.maxHeader)
	c.review.register(app)
	c.revoke.register(app)
	c.check.register(app)
	c.probe.register(app)
	return c
}

// usageTemplate is kingpin's default, with the default command's flags
// (serve's, which work without naming it) listed in the top-level --help,
// where Prometheus users look for them.
var usageTemplate = strings.Replace(kingpin.DefaultUsageTemplate, `{{if .Context.Args -}}
Args:`, `{{if not .Context.SelectedCommand -}}
{{range .App.FlattenedCommands -}}
{{if .Default -}}
Flags of {{.Name}}, the default command (they work without naming it):
{{.Flags|FlagsToTwoColumns|FormatTwoColumns}}
{{end -}}
{{end -}}
{{end -}}
{{if .Context.Args -}}
Args:`, 1)

func run(args []string, stdout, stderr io.Writer) int {
	c := newCLI(stdout, stderr)
	exited := false
	c.app.Terminate(func(int) { exited = true })
	cmd, err := c.app.Parse(args)
	if exited {
		return 0 // --help or --version was printed
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: error: %v\n", exporterName, err)
		fmt.Fprintf(stderr, "Try --help.\n")
		return 1
	}
	c.log.Writer = stderr
	logger := promslog.New(c.log)
	// The Salesforce client logs what it refuses to trust to the default logger.
	slog.SetDefault(logger)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case c.serve.FullCommand():
		return c.runServe(ctx, logger, stdout, stderr)
	case c.review.cmd.FullCommand():
		return c.review.run(ctx, logger, stdout, stderr)
	case c.revoke.cmd.FullCommand():
		return c.revoke.run(ctx, logger, stdout, stderr)
	case c.check.cmd.FullCommand():
		return c.check.run(ctx, logger, stdout, stderr)
	case c.probe.cmd.FullCommand():
		return c.probe.run(ctx, stdout, stderr)
	}
	return 1
}

func (c *cli) runServe(ctx context.Context, logger *slog.Logger, stdout, stderr io.Writer) int {
	if *c.demo && *c.configFile != "" {
		fmt.Fprintln(stderr, "error: --demo and --config.file are exclusive: --demo serves its own org")
		return 1
	}
	if !*c.demo && *c.configFile == "" {
		fmt.Fprintln(stderr, "error: a config file is needed: pass --config.file=FILE (see the README's config reference), or --demo to run the embedded demo org")
		return 1
	}
	shard, err := config.ParseShard(*c.shard, *c.shards)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	if err := c.httpBounds.check(); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	storage := *c.storagePath
	var loadAll func() (*config.Config, error)
	if *c.demo {
		d, err := startDemo(ctx, *c.demoSurge)
		if err != nil {
			fmt.Fprintf(stderr, "error: start demo: %v\n", err)
			return 1
		}
		defer d.close()
		loadAll = func() (*config.Config, error) { return config.Load(d.configFile) }
		if !c.storageSet {
			storage = filepath.Join(d.dir, "data")
		}
		binary, err := os.Executable()
		if err != nil {
			binary = exporterName
		}
		d.logStart(logger, binary, storage)
	} else {
		path := *c.configFile
		loadAll = func() (*config.Config, error) { return config.Load(path) }
	}
	// Each replica of a sharded fleet sees only its own orgs, from the first
	// load on and at every reload.
	load := func() (*config.Config, error) {
		all, err := loadAll()
		if err != nil {
			return nil, err
		}
		return all.ForShard(shard), nil
	}
	cfg, err := load()
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	warnings := slices.Concat(cfg.Warnings, cfg.InventoryWarnings())
	if !*c.configCheck {
		for _, w := range warnings {
			logger.Warn("Config warning", "warning", w)
		}
	}
	if *c.configCheck {
		// Each warning once, on stdout with the verdict; not logged too.
		for _, w := range warnings {
			fmt.Fprintf(stdout, "warning: %s\n", w)
		}
		if shard.Count > 1 {
			fmt.Fprintf(stdout, "%s: OK: %d org(s) on shard %s, %d inventory entries\n", cfg.File, len(cfg.Orgs), shard, len(cfg.Inventory))
		} else {
			fmt.Fprintf(stdout, "%s: OK: %d org(s), %d inventory entries\n", cfg.File, len(cfg.Orgs), len(cfg.Inventory))
		}
		return 0
	}
	logger.Info("Starting "+exporterName, "version", version.Info(), "orgs", len(cfg.Orgs), "shard", shard.String())
	warnEmptyShard(logger, cfg, shard)

	dataReg := prometheus.NewRegistry()
	selfReg := collector.NewSelfRegistry(exporterName)
	reloads := collector.NewReloadMetrics(selfReg)
	iocMetrics := collector.NewIOCMetrics(selfReg)
	iocMetrics.Set(cfg.Detection.IOC().Lists())
	shardMetrics := collector.NewShardMetrics(selfReg, shard.Index, shard.Count)
	shardMetrics.SetOrgs(len(cfg.Orgs))
	reviewMetrics := collector.NewReviewMetrics(selfReg)
	reviewMetrics.SetOrgs(orgNames(cfg))

	requestMetrics := collector.NewRequestMetrics(selfReg)
	mgr := refresh.NewManager(storage, logger.With("component", "refresher"), requestMetrics.ForOrg)
	coll := collector.New(mgr)
	dataReg.MustRegister(coll)
	selfReg.MustRegister(coll.SelfMetrics())
	// The data part of the exposition is encoded once per snapshot change,
	// however many scrapers there are; the self metrics at every scrape.
	metrics := collector.NewHandler(dataReg, selfReg, mgr.Version, logger.With("component", "metrics"))
	mgr.OnChange(metrics.Changed)
	if err := mgr.Start(ctx, cfg); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	requestMetrics.SetOrgs(orgNames(cfg))

	var reloadMu sync.Mutex
	reload := func() error {
		reloadMu.Lock()
		defer reloadMu.Unlock()
		next, err := load()
		var refused []config.IOCRefusal
		if cur := mgr.Config(); err == nil && cur != nil {
			// A list read mid-rewrite keeps the list in force.
			refused, err = next.Detection.GuardIOCReload(&cur.Detection)
		}
		if err == nil {
			err = mgr.Apply(next)
		}
		if err != nil {
			reloads.Failed()
			logger.Error("Config reload failed; keeping the old config", "err", err)
			return err
		}
		for _, w := range slices.Concat(next.Warnings, next.InventoryWarnings()) {
			logger.Warn("Config warning", "warning", w)
		}
		for _, r := range refused {
			iocMetrics.Refused(r.List)
			logger.Error("IOC list refused on reload; the list in force stays (salesforce_exporter_ioc_list_reload_refused_total)", "list", r.List, "file", r.File, "entries", r.Entries, "entries_in_force", r.Was, "err", r.String())
		}
		iocMetrics.Set(next.Detection.IOC().Lists())
		reloads.Succeeded()
		shardMetrics.SetOrgs(len(next.Orgs))
		reviewMetrics.SetOrgs(orgNames(next))
		// The removed orgs' refreshers have stopped: drop their series.
		requestMetrics.SetOrgs(orgNames(next))
		coll.SetOrgs(orgNames(next))
		logger.Info("Config reloaded", "orgs", len(next.Orgs), "shard", shard.String())
		warnEmptyShard(logger, next, shard)
		return nil
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				_ = reload()
			}
		}
	}()

	mux := http.NewServeMux()
	mux.Handle(*c.metricsPath, promhttp.InstrumentMetricHandler(selfReg, metrics))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "OK\n") })
	mux.HandleFunc("/-/ready", readyHandler(mgr.Config, mgr.Snapshots))
	if *c.lifecycle {
		mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost && r.Method != http.MethodPut {
				w.Header().Set("Allow", "POST, PUT")
				http.Error(w, "use POST to reload the config", http.StatusMethodNotAllowed)
				return
			}
			if err := reload(); err != nil {
				http.Error(w, "reload failed: "+err.Error(), http.StatusInternalServerError)
				return
			}
			io.WriteString(w, "config reloaded\n")
		})
	}
	if *c.pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	var rs *review.Server
	if *c.reviewOn {
		rs = review.NewServer(ctx, mgr, *c.reviewTTL, *c.reviewRows, shard, logger.With("component", "review"), reviewMetrics.Failed)
	}
	review.Register(mux, rs)
	mux.Handle("/", &landing{mgr: mgr, links: landingLinks(*c.metricsPath, *c.pprof, *c.lifecycle, *c.reviewOn)})

	srv := newHTTPServer(withShardHeader(mux, shard), c.httpBounds)
	errCh := make(chan error, 1)
	go func() { errCh <- listenAndServe(srv, c.toolkitFlags, c.httpBounds.maxConns, logger) }()
	select {
	case err := <-errCh:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("HTTP server failed", "err", err)
			return 1
		}
	case <-ctx.Done():
		logger.Info("Shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		mgr.Wait()
	}
	return 0
}

// HTTP server bounds. A scrape of /metrics is served from a cache in
// milliseconds, but /review can wait 90 seconds for an org's first per-user
// detail and /debug/pprof/profile runs for its seconds parameter, so the
// write bound is generous: it only stops a client that reads a response
// forever. Requests carry no body worth the name, so reading one is quick.
const (
	httpReadHeaderTimeout = 10 * time.Second
	httpReadTimeout       = 30 * time.Second
	httpWriteTimeout      = 5 * time.Minute
	httpIdleTimeout       = time.Minute
	// Headers are a few hundred bytes (a bearer or basic auth header, a
	// cookie at most): 16 KiB leaves room and keeps a connection that
	// sends them slowly small.
	httpMaxHeaderBytes = 16 << 10
	// 4,000 connections each sending an unfinished 60 KB header once took
	// 300 MB. Prometheus, an HA pair and a person with curl need a handful.
	httpMaxConnections = 512
)

// httpBounds are the server's timeouts (--web.*-timeout) and its
// connection and header bounds.
type httpBounds struct {
	readHeader, read, write, idle time.Duration
	maxConns, maxHeader           int
}

// defaultHTTPBounds are the flags' defaults.
var defaultHTTPBounds = httpBounds{readHeader: httpReadHeaderTimeout, read: httpReadTimeout, write: httpWriteTimeout, idle: httpIdleTimeout, maxConns: httpMaxConnections, maxHeader: httpMaxHeaderBytes}

// check says which flag is out of range: each timeout must be over zero (no
// timeout at all is what let idle and slow clients hold connections) and at
// most a day.
func (b httpBounds) check() error {
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"web.read-header-timeout", b.readHeader}, {"web.read-timeout", b.read}, {"web.write-timeout", b.write}, {"web.idle-timeout", b.idle}} {
		if f.d <= 0 || f.d > 24*time.Hour {
			return fmt.Errorf("--%s=%v: must be over 0 and at most 24h (for example 30s or 5m)", f.name, f.d)
		}
	}
	if b.maxConns < 1 || b.maxConns > 1_000_000 {
		return fmt.Errorf("--web.max-connections=%d: must be 1 to 1000000 (the default is %d)", b.maxConns, httpMaxConnections)
	}
	if b.maxHeader < 1<<10 || b.maxHeader > 1<<20 {
		return fmt.Errorf("--web.max-header-bytes=%d: must be 1024 to 1048576 (the default is %d)", b.maxHeader, httpMaxHeaderBytes)
	}
	return nil
}

// newHTTPServer returns the server for every endpoint, with the bounds b:
// a client that sends its headers slowly, holds an idle keep-alive
// connection, or never reads its response is cut off.
func newHTTPServer(h http.Handler, b httpBounds) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: b.readHeader,
		ReadTimeout:       b.read,
		WriteTimeout:      b.write,
		IdleTimeout:       b.idle,
		MaxHeaderBytes:    b.maxHeader,
	}
}

// listenAndServe is web.ListenAndServe (the listen addresses, vsock or
// systemd's sockets; TLS and basic auth from the web config) with each
// listener accepting at most maxConns connections at once: the rest wait in
// the kernel's queue, costing the exporter nothing.
func listenAndServe(srv *http.Server, flags *web.FlagConfig, maxConns int, logger *slog.Logger) error {
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	if flags.WebSystemdSocket != nil && *flags.WebSystemdSocket {
		logger.Info("Listening on systemd activated listeners instead of port listeners.")
		ls, err := activation.Listeners()
		if err != nil {
			return err
		}
		if len(ls) < 1 {
			return errors.New("no socket activation file descriptors found")
		}
		listeners = ls
	} else {
		if flags.WebListenAddresses == nil || len(*flags.WebListenAddresses) == 0 {
			return errors.New("no --web.listen-address given")
		}
		for _, address := range *flags.WebListenAddresses {
			var l net.Listener
			var err error
			if strings.HasPrefix(address, "vsock://") {
				port, perr := vsockPort(address)
				if perr != nil {
					return fmt.Errorf("--web.listen-address=%s: want vsock://:PORT: %w", address, perr)
				}
				l, err = vsock.Listen(port, nil)
			} else {
				l, err = net.Listen("tcp", address)
			}
			if err != nil {
				return err
			}
			listeners = append(listeners, l)
		}
	}
	for i, l := range listeners {
		listeners[i] = netutil.LimitListener(l, maxConns)
	}
	return web.ServeMultiple(listeners, srv, flags, logger)
}

// vsockPort reads the port of vsock://:PORT, as web.ListenAndServe does.
func vsockPort(address string) (uint32, error) {
	u, err := url.Parse(address)
	if err != nil {
		return 0, err
	}
	_, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return 0, err
	}
	p, err := strconv.ParseUint(port, 10, 32)
	return uint32(p), err
}

// warnEmptyShard logs when a shard was given no org: it serves only its own
// metrics, which is likely a mistake in --orgs.shards.
func warnEmptyShard(logger *slog.Logger, cfg *config.Config, shard config.Shard) {
	if len(cfg.Orgs) == 0 {
		logger.Warn("This shard serves no org: the hash gave every org to other shards; fewer --orgs.shards than orgs keeps every replica busy", "shard", shard.String())
	}
}

// withShardHeader names the shard on every response (X-Salesforce-Exporter-Shard: I/N),
// so a /review or /metrics read says which replica's orgs it covers.
func withShardHeader(h http.Handler, shard config.Shard) http.Handler {
	v := shard.String()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Salesforce-Exporter-Shard", v)
		h.ServeHTTP(w, r)
	})
}
