package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/collector"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/refresh"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/review"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/pubsub"
)

// runServe is the serve command: check the flags, find the config (the
// file, or the demo's), load it (or only check it with --config.check),
// start the refreshers and the metrics, reload on SIGHUP and POST
// /-/reload, and serve HTTP until the context ends.
func (c *cli) runServe(ctx context.Context, logger *slog.Logger, stdout, stderr io.Writer) int {
	shard, err := c.checkServeFlags()
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	loadAll, storage, closeDemo, err := c.configSource(ctx, logger)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	defer closeDemo()
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
	if *c.configCheck {
		printConfigCheck(stdout, cfg, shard)
		return 0
	}
	for _, w := range slices.Concat(cfg.Warnings, cfg.InventoryWarnings()) {
		logger.Warn("Config warning", "warning", w)
	}
	logger.Info("Starting "+exporterName, "version", version.Info(), "orgs", len(cfg.Orgs), "shard", shard.String())
	warnEmptyShard(logger, cfg, shard)

	s := newServer(storage, shard, load, logger)
	if *c.demo && *c.demoShield {
		// The demo's fake Pub/Sub API serves plain gRPC on loopback.
		s.mgr.SetStreamOptions(pubsub.WithTransportCredentials(insecure.NewCredentials()))
	}
	if storage != "" && *c.leaseTTL > 0 {
		s.mgr.SetLease(*c.leaseHolder, *c.leaseTTL)
	}
	if err := s.start(ctx, cfg); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	stopHUP := s.reloadOnSIGHUP(ctx)
	defer stopHUP()
	srv := newHTTPServer(withShardHeader(c.newMux(ctx, s), shard), c.httpBounds)
	return s.serve(ctx, srv, c.toolkitFlags, c.httpBounds.maxConns)
}

// checkServeFlags checks the flags serve needs before it reads anything:
// exactly one of --demo and --config.file, the shard, the HTTP bounds. It
// returns the shard this replica serves.
func (c *cli) checkServeFlags() (config.Shard, error) {
	if *c.demo && *c.configFile != "" {
		return config.Shard{}, errors.New("--demo and --config.file are exclusive: --demo serves its own org")
	}
	if !*c.demo && *c.configFile == "" {
		return config.Shard{}, errors.New("a config file is needed: pass --config.file=FILE (see the README's config reference), or --demo to run the embedded demo org")
	}
	shard, err := config.ParseShard(*c.shard, *c.shards)
	if err != nil {
		return config.Shard{}, err
	}
	if err := c.httpBounds.check(); err != nil {
		return config.Shard{}, err
	}
	return shard, nil
}

// configSource returns how to load the whole config (every shard's orgs)
// and the storage folder: the config file's, or with --demo the embedded
// demo org's, started here, with its folder as the default storage. The
// returned close stops the demo (it does nothing without one).
func (c *cli) configSource(ctx context.Context, logger *slog.Logger) (loadAll func() (*config.Config, error), storage string, closeDemo func(), err error) {
	storage = *c.storagePath
	if !*c.demo {
		path := *c.configFile
		return func() (*config.Config, error) { return config.Load(path) }, storage, func() {}, nil
	}
	d, err := startDemo(ctx, *c.demoSurge, *c.demoShield)
	if err != nil {
		return nil, "", nil, fmt.Errorf("start demo: %w", err)
	}
	if !c.storageSet {
		storage = filepath.Join(d.dir, "data")
		// The demo org's earlier weeks, so its high-water marks show at once.
		if err := refresh.SeedHistory(storage, "demo", d.history); err != nil {
			d.close()
			return nil, "", nil, fmt.Errorf("start demo: %w", err)
		}
	}
	binary, err := os.Executable()
	if err != nil {
		binary = exporterName
	}
	d.logStart(logger, binary, storage)
	return func() (*config.Config, error) { return config.Load(d.configFile) }, storage, d.close, nil
}

// printConfigCheck is --config.check's verdict: each warning once, on
// stdout with the verdict (not logged too), then the counts.
func printConfigCheck(stdout io.Writer, cfg *config.Config, shard config.Shard) {
	for _, w := range slices.Concat(cfg.Warnings, cfg.InventoryWarnings()) {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	if shard.Count > 1 {
		fmt.Fprintf(stdout, "%s: OK: %d org(s) on shard %s, %d inventory entries\n", cfg.File, len(cfg.Orgs), shard, len(cfg.Inventory))
	} else {
		fmt.Fprintf(stdout, "%s: OK: %d org(s), %d inventory entries\n", cfg.File, len(cfg.Orgs), len(cfg.Inventory))
	}
}

// server is what serve runs: the refreshers' manager, the collector and
// its /metrics handler, the self metrics, and the reload of the config.
type server struct {
	shard  config.Shard
	load   func() (*config.Config, error)
	logger *slog.Logger

	selfReg        *prometheus.Registry
	mgr            *refresh.Manager
	coll           *collector.Collector
	metrics        *collector.Handler
	reloads        *collector.ReloadMetrics
	iocMetrics     *collector.IOCMetrics
	shardMetrics   *collector.ShardMetrics
	reviewMetrics  *collector.ReviewMetrics
	requestMetrics *collector.RequestMetrics

	reloadMu sync.Mutex
}

// newServer registers the metrics and makes the manager of the refreshers;
// nothing runs yet.
func newServer(storage string, shard config.Shard, load func() (*config.Config, error), logger *slog.Logger) *server {
	s := &server{shard: shard, load: load, logger: logger}
	dataReg := prometheus.NewRegistry()
	s.selfReg = collector.NewSelfRegistry(exporterName)
	s.reloads = collector.NewReloadMetrics(s.selfReg)
	s.iocMetrics = collector.NewIOCMetrics(s.selfReg)
	s.shardMetrics = collector.NewShardMetrics(s.selfReg, shard.Index, shard.Count)
	s.reviewMetrics = collector.NewReviewMetrics(s.selfReg)
	s.requestMetrics = collector.NewRequestMetrics(s.selfReg)
	s.mgr = refresh.NewManager(storage, logger.With("component", "refresher"), s.requestMetrics.ForOrg)
	s.coll = collector.New(s.mgr)
	dataReg.MustRegister(s.coll)
	s.selfReg.MustRegister(s.coll.SelfMetrics())
	// The data part of the exposition is encoded once per snapshot change,
	// however many scrapers there are; the self metrics at every scrape.
	s.metrics = collector.NewHandler(dataReg, s.selfReg, s.mgr.Version, logger.With("component", "metrics"))
	s.mgr.OnChange(s.metrics.Changed)
	return s
}

// start sets the self metrics for cfg and starts a refresher per org.
func (s *server) start(ctx context.Context, cfg *config.Config) error {
	s.iocMetrics.Set(cfg.Detection.IOC().Lists())
	s.shardMetrics.SetOrgs(len(cfg.Orgs))
	s.reviewMetrics.SetOrgs(orgNames(cfg))
	if err := s.mgr.Start(ctx, cfg); err != nil {
		return err
	}
	s.requestMetrics.SetOrgs(orgNames(cfg))
	return nil
}

// reload loads the config again and applies it; on any error the config in
// force stays and the failure is counted.
func (s *server) reload() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	next, err := s.load()
	var refused []config.IOCRefusal
	if cur := s.mgr.Config(); err == nil && cur != nil {
		// A list read mid-rewrite keeps the list in force.
		refused, err = next.Detection.GuardIOCReload(&cur.Detection)
	}
	if err == nil {
		err = s.mgr.Apply(next)
	}
	if err != nil {
		s.reloads.Failed()
		s.logger.Error("Config reload failed; keeping the old config", "err", err)
		return err
	}
	for _, w := range slices.Concat(next.Warnings, next.InventoryWarnings()) {
		s.logger.Warn("Config warning", "warning", w)
	}
	for _, r := range refused {
		s.iocMetrics.Refused(r.List)
		s.logger.Error("IOC list refused on reload; the list in force stays (salesforce_exporter_ioc_list_reload_refused_total)", "list", r.List, "file", r.File, "entries", r.Entries, "entries_in_force", r.Was, "err", r.String())
	}
	s.iocMetrics.Set(next.Detection.IOC().Lists())
	s.reloads.Succeeded()
	s.shardMetrics.SetOrgs(len(next.Orgs))
	s.reviewMetrics.SetOrgs(orgNames(next))
	// The removed orgs' refreshers have stopped: drop their series.
	s.requestMetrics.SetOrgs(orgNames(next))
	s.coll.SetOrgs(orgNames(next))
	s.logger.Info("Config reloaded", "orgs", len(next.Orgs), "shard", s.shard.String())
	warnEmptyShard(s.logger, next, s.shard)
	return nil
}

// reloadOnSIGHUP reloads the config at each SIGHUP until ctx ends; the
// returned stop stops listening for it.
func (s *server) reloadOnSIGHUP(ctx context.Context) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				_ = s.reload()
			}
		}
	}()
	return func() { signal.Stop(hup) }
}

// newMux routes every endpoint: /metrics (at --web.telemetry-path), health
// and readiness, the reload and pprof when on, /review, and the landing
// page.
func (c *cli) newMux(ctx context.Context, s *server) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(*c.metricsPath, promhttp.InstrumentMetricHandler(s.selfReg, s.metrics))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "OK\n") })
	mux.HandleFunc("/-/ready", readyHandler(s.mgr.Config, s.mgr.Snapshots))
	if *c.lifecycle {
		mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost && r.Method != http.MethodPut {
				w.Header().Set("Allow", "POST, PUT")
				http.Error(w, "use POST to reload the config", http.StatusMethodNotAllowed)
				return
			}
			if err := s.reload(); err != nil {
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
		rs = review.NewServer(ctx, s.mgr, *c.reviewTTL, *c.reviewRows, s.shard, s.logger.With("component", "review"), s.reviewMetrics.Failed)
	}
	review.Register(mux, rs)
	mux.Handle("/", &landing{mgr: s.mgr, links: landingLinks(*c.metricsPath, *c.pprof, *c.lifecycle, *c.reviewOn)})
	return mux
}

// serve serves srv until it fails (exit code 1) or ctx ends; then it shuts
// the server down, waits for the refreshers and returns 0.
func (s *server) serve(ctx context.Context, srv *http.Server, flags *web.FlagConfig, maxConns int) int {
	errCh := make(chan error, 1)
	go func() { errCh <- listenAndServe(srv, flags, maxConns, s.logger) }()
	select {
	case err := <-errCh:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("HTTP server failed", "err", err)
			return 1
		}
	case <-ctx.Done():
		s.logger.Info("Shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		s.mgr.Wait()
	}
	return 0
}
