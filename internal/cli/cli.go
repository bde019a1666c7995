// Package cli is the exporter's command line: serve (the default), check,
// review, revoke and probe. The binary's main calls Main.
package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
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

// defaultAddress listens on a port past the Prometheus wiki's default-port range (9100-9999),
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
	demoShield   *bool
	metricsPath  *string
	storagePath  *string
	leaseHolder  *string
	leaseTTL     *time.Duration
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
	c.demoShield = c.serve.Flag("demo.shield", "With --demo: the org has Shield; its API events stream in real time (a fake Pub/Sub API on a loopback port), and from --demo.surge-after a stolen token is replayed on the stream.").Bool()
	c.metricsPath = c.serve.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String()
	c.storagePath = c.serve.Flag("storage.path", "Folder for the exporter's persistent state (first-seen times, API usage counts) and each row-mode org's token store, so that a restart reads only what changed. With --demo the default is a temporary folder.").IsSetByUser(&c.storageSet).Default("data/").String()
	c.leaseHolder = c.serve.Flag("storage.lease-holder", "The name this replica writes in an org's lease file (<org>.lease in --storage.path) while it writes the org's state; default the host name (a StatefulSet pod's name), so that a restarted replica takes its leases back at once. Replicas that share --storage.path need different names.").Default(defaultLeaseHolder()).String()
	c.leaseTTL = c.serve.Flag("storage.lease-duration", "How long an org's lease lasts unrenewed (it is renewed at every publish, and released when the org leaves the replica): replicas that share --storage.path write an org's state one at a time, and another replica takes the lease when it expires. 0 turns leases off.").Default("15m").Duration()
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

// defaultLeaseHolder is the host name, or "exporter" when it is unknown.
func defaultLeaseHolder() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "exporter"
}
