// Command salesforce_oauth_exporter watches OAuth access to Salesforce orgs
// (connected apps and External Client Apps) and exposes it to Prometheus.
package main

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
	"runtime/debug"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/collector"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
)

const exporterName = "salesforce_oauth_exporter"

// defaultPort sits past the Prometheus wiki's default-port range (9100-9999),
// which is fully allocated.
const defaultAddress = ":10157"

func main() {
	// A full OauthToken sync of a large org makes much short-lived garbage
	// while the token store itself is compact: collecting at 50% growth
	// instead of 100% keeps the peak resident size down for little CPU.
	// GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
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

	storageSet bool
	reviewTTL  *time.Duration

	review reviewFlags
	revoke revokeFlags
}

func newCLI(stdout, stderr io.Writer) *cli {
	app := kingpin.New(exporterName, "Watches OAuth access to Salesforce orgs (connected apps and External Client Apps) and exposes it to Prometheus.")
	app.Writer(stdout)
	app.ErrorWriter(stderr)
	app.Terminate(func(int) {})
	app.Version(version.Print(exporterName))
	app.HelpFlag.Short('h')
	c := &cli{app: app, log: &promslog.Config{}}
	promslogflag.AddFlags(app, c.log)

	c.serve = app.Command("serve", "Serve metrics (the default command).").Default()
	c.configFile = c.serve.Flag("config.file", "Path to the YAML config file (orgs, credentials files, inventory).").String()
	c.configCheck = c.serve.Flag("config.check", "Validate the config file, including reading the secret files, and exit 0 or 1. Makes no network call.").Bool()
	c.demo = c.serve.Flag("demo", "Serve an embedded fake org named demo that changes over time, instead of real orgs.").Bool()
	c.demoSurge = c.serve.Flag("demo.surge-after", "With --demo: when the unknown app and the API surge appear.").Default("3m").Duration()
	c.metricsPath = c.serve.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String()
	c.storagePath = c.serve.Flag("storage.path", "Folder for the exporter's small persistent state (first-seen times, API usage counts). With --demo the default is a temporary folder.").IsSetByUser(&c.storageSet).Default("data/").String()
	c.lifecycle = c.serve.Flag("web.enable-lifecycle", "Enable POST /-/reload to reload the config (SIGHUP always works).").Bool()
	c.pprof = c.serve.Flag("web.enable-pprof", "Serve Go profiling at /debug/pprof/ (behind the same web config).").Bool()
	c.reviewTTL = c.serve.Flag("review.cache-ttl", "How long /review reuses its per-user detail before reading Salesforce again.").Default("1h").Duration()
	c.toolkitFlags = kingpinflag.AddFlags(c.serve, defaultAddress)
	c.review.register(app)
	c.revoke.register(app)
	return c
}

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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case c.serve.FullCommand():
		return c.runServe(ctx, logger, stdout, stderr)
	case c.review.cmd.FullCommand():
		return c.review.run(ctx, logger, stdout, stderr)
	case c.revoke.cmd.FullCommand():
		return c.revoke.run(ctx, logger, stdout, stderr)
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
	storage := *c.storagePath
	var load func() (*config.Config, error)
	if *c.demo {
		d, err := startDemo(ctx, *c.demoSurge, logger)
		if err != nil {
			fmt.Fprintf(stderr, "error: start demo: %v\n", err)
			return 1
		}
		defer d.close()
		load = func() (*config.Config, error) { return config.Load(d.configFile) }
		if !c.storageSet {
			storage = filepath.Join(d.dir, "data")
		}
	} else {
		path := *c.configFile
		load = func() (*config.Config, error) { return config.Load(path) }
	}
	cfg, err := load()
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	warnings := slices.Concat(cfg.Warnings, cfg.InventoryWarnings())
	for _, w := range warnings {
		logger.Warn("Config warning", "warning", w)
	}
	if *c.configCheck {
		for _, w := range warnings {
			fmt.Fprintf(stdout, "warning: %s\n", w)
		}
		fmt.Fprintf(stdout, "%s: OK: %d org(s), %d inventory entries\n", cfg.File, len(cfg.Orgs), len(cfg.Inventory))
		return 0
	}
	logger.Info("Starting "+exporterName, "version", version.Info(), "orgs", len(cfg.Orgs))

	dataReg := prometheus.NewRegistry()
	selfReg := prometheus.NewRegistry()
	selfReg.MustRegister(versioncollector.NewCollector(exporterName), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reloadOK := prometheus.NewGauge(prometheus.GaugeOpts{Name: "salesforce_exporter_config_last_reload_successful", Help: "1 if the last config load or reload succeeded."})
	reloadTime := prometheus.NewGauge(prometheus.GaugeOpts{Name: "salesforce_exporter_config_last_reload_success_timestamp_seconds", Help: "When the config was last loaded successfully, as Unix seconds."})
	selfReg.MustRegister(reloadOK, reloadTime)
	reloadOK.Set(1)
	reloadTime.SetToCurrentTime()

	mgr := collector.NewManager(storage, logger.With("component", "refresher"), selfReg)
	if err := mgr.Start(ctx, cfg); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	dataReg.MustRegister(collector.New(mgr))

	var reloadMu sync.Mutex
	reload := func() error {
		reloadMu.Lock()
		defer reloadMu.Unlock()
		next, err := load()
		if err == nil {
			err = mgr.Apply(next)
		}
		if err != nil {
			reloadOK.Set(0)
			logger.Error("Config reload failed; keeping the old config", "err", err)
			return err
		}
		for _, w := range slices.Concat(next.Warnings, next.InventoryWarnings()) {
			logger.Warn("Config warning", "warning", w)
		}
		reloadOK.Set(1)
		reloadTime.SetToCurrentTime()
		logger.Info("Config reloaded", "orgs", len(next.Orgs))
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
	// The exposition is encoded once per snapshot change (and at most a second
	// old for the self metrics), however many scrapers there are.
	mux.Handle(*c.metricsPath, promhttp.InstrumentMetricHandler(selfReg,
		collector.NewHandler(prometheus.Gatherers{dataReg, selfReg}, mgr.Version, time.Second, logger.With("component", "metrics"))))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "OK\n") })
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "OK\n") })
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
	registerReview(mux, mgr, *c.reviewTTL, logger.With("component", "review"))
	links := []web.LandingLinks{{Address: *c.metricsPath, Text: "Metrics"}, {Address: "/review", Text: "Weekly review (HTML)"}, {Address: "/review.json", Text: "Weekly review (JSON)"}}
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name: exporterName, Description: "OAuth access to Salesforce orgs, for Prometheus", Version: version.Info(), Links: links,
	})
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	mux.Handle("/", landing)

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errCh := make(chan error, 1)
	go func() { errCh <- web.ListenAndServe(srv, c.toolkitFlags, logger) }()
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
