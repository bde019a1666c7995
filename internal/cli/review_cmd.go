package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/refresh"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/review"
)

type reviewFlags struct {
	cmd        *kingpin.CmdClause
	configFile *string
	org        *string
	format     *string
	baseline   *string
	output     *string
	storage    *string
	highUsers  *int64
	lowUse     *int64
	lowUsers   *int64
	highUse    *int64
}

func (f *reviewFlags) register(app *kingpin.Application) {
	f.cmd = app.Command("review", "Write the weekly OAuth review of each org: ranked findings with the revoke command for each, then the evidence: inventory, new and unknown apps with who authorized them, usage outliers, offboarding leaks, stale authorizations, apps not installed. Reads Salesforce now (it states the API calls it cost).")
	f.configFile = f.cmd.Flag("config.file", "Path to the YAML config file.").Required().String()
	f.org = f.cmd.Flag("org", "Review only this org (default: every org).").String()
	f.format = f.cmd.Flag("format", "Output format: "+strings.Join(review.Formats, ", ")+"; or inventory, an inventory: block for the config listing every app the orgs have today, with owner and purpose to fill in.").Default("text").Enum(review.CommandFormats...)
	f.baseline = f.cmd.Flag("baseline", "The JSON report of the previous review: new apps are listed against it.").String()
	f.output = f.cmd.Flag("output", "Write the report to this file instead of standard output.").String()
	f.storage = f.cmd.Flag("storage.path", "The exporter's state folder, for the 7-day API usage counts (read, never written).").Default("data/").String()
	d := review.DefaultOptions()
	f.highUsers = f.cmd.Flag("high-users", "High user count: at least this many users...").Default(fmt.Sprint(d.HighUsers)).Int64()
	f.lowUse = f.cmd.Flag("low-use", "...with at most this many API requests in 7 days (maybe abandoned).").Default(fmt.Sprint(d.LowUse)).Int64()
	f.lowUsers = f.cmd.Flag("low-users", "Low user count: at most this many users...").Default(fmt.Sprint(d.LowUsers)).Int64()
	f.highUse = f.cmd.Flag("high-use", "...with at least this many API requests in 7 days (service account with broad access).").Default(fmt.Sprint(d.HighUse)).Int64()
}

func (f *reviewFlags) options(cfg *config.Config) review.Options {
	o := review.DefaultOptions()
	o.StaleAfter = time.Duration(cfg.StaleAfter)
	o.HighUsers, o.LowUse, o.LowUsers, o.HighUse = *f.highUsers, *f.lowUse, *f.lowUsers, *f.highUse
	o.ConfigFile = *f.configFile // the findings' revoke commands name it
	return o
}

// loadOrgs loads the config and picks the orgs a command works on.
func loadOrgs(configFile, org string) (*config.Config, []config.Org, error) {
	cfg, err := config.Load(configFile)
	if err != nil {
		return nil, nil, err
	}
	orgs, err := review.SelectOrgs(cfg, org)
	return cfg, orgs, err
}

func (f *reviewFlags) run(ctx context.Context, logger *slog.Logger, stdout, stderr io.Writer) int {
	cfg, orgs, err := loadOrgs(*f.configFile, *f.org)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	var baselines map[string]*review.Report
	if *f.baseline != "" {
		if baselines, err = review.LoadBaselines(*f.baseline); err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			return 1
		}
	}
	// The settings serve applies, so the detection baseline in the state
	// file is read with the same grouping and IOC lists.
	settings := refresh.SettingsFrom(cfg)
	settings.MaxApps = 0 // the review names every app: max_apps_per_org bounds the metrics' series
	var reports []*review.Report
	incomplete := false
	for _, o := range orgs {
		// The report states what it cost: every request of this org's client
		// that spends the allocation, the sources' refresh and the detail.
		calls := &refresh.CallCounter{}
		r, err := refresh.NewRefresher(o, settings, *f.storage, logger, calls.Observe)
		if err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			return 1
		}
		r.SetOneShot()
		if err := r.RefreshAll(ctx); err != nil {
			logger.Warn("Some sources failed; the report says which", "org", o.Name, "err", err)
		}
		snap := r.Snapshot()
		d, err := review.FetchDetail(ctx, r.Client(), snap, o.MaxConcurrency)
		if err != nil {
			fmt.Fprintf(stderr, "error: org %s: per-user detail unavailable: %v\n", o.Name, err)
			d, incomplete = &review.Detail{Taken: time.Now(), Err: err.Error()}, true
		}
		if st := snap.Sources[config.SourceOAuthTokens]; st.Enabled && !st.Up {
			fmt.Fprintf(stderr, "error: org %s: cannot read OAuth tokens: %s\n", o.Name, st.LastError)
			incomplete = true
		}
		d.APICalls = calls.Count()
		opts := f.options(cfg)
		opts.History = review.HistoryOf(snap) // the serving exporter's, from --storage.path
		if b, ok := baselines[o.Name]; ok {
			opts.Baseline, opts.BaselineFile = b, *f.baseline
		}
		rep := review.Build(snap, d, cfg.InventoryFor, opts)
		if n := noStateNote(*f.storage, o.Name); n != "" {
			rep.Notes = append(rep.Notes, n)
		}
		reports = append(reports, rep)
	}
	w := stdout
	var file *os.File
	if *f.output != "" {
		if file, err = os.OpenFile(*f.output, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600); err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			return 1
		}
		w = file
	}
	if err := review.Write(w, reports, *f.format); err != nil {
		fmt.Fprintf(stderr, "error: write report: %v\n", err)
		return 1
	}
	if file != nil {
		if err := file.Close(); err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			return 1
		}
	}
	if incomplete {
		return 2 // the report was written, with notes on what is missing
	}
	return 0
}

// noStateNote says when the storage folder holds no state of the org: the
// detection baseline then starts with this run, so nothing counts as new.
func noStateNote(storage, org string) string {
	p := refresh.StateFile(storage, org)
	if _, err := os.Stat(p); err == nil {
		return ""
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("the exporter's state %s could not be read (%v): no detection baseline, so no network counts as new; give the serving exporter's --storage.path", p, err)
	}
	return fmt.Sprintf("no exporter state for org %s in --storage.path (%s is missing): no detection baseline, so no network counts as new; give the serving exporter's --storage.path", org, filepath.Base(p))
}

type revokeFlags struct {
	cmd           *kingpin.CmdClause
	configFile    *string
	org           *string
	apps          *[]string
	appIDs        *[]string
	users         *[]string
	stale         *bool
	inactiveUsers *bool
	notInstalled  *bool
	confirm       *bool
	expect        *int
	expectSet     bool
	allowShared   *bool
	auditLog      *string
	rate          *float64
}

func (f *revokeFlags) register(app *kingpin.Application) {
	f.cmd = app.Command("revoke", "Revoke OAuth tokens of connected apps through Salesforce's revoke endpoint. A dry run unless --confirm: it lists exactly what would be revoked. Salesforce has no API for Setup's Block button; revoking every token of an app (--app) is the nearest equivalent, but users can authorize it again, so block it in Setup too.")
	f.configFile = f.cmd.Flag("config.file", "Path to the YAML config file.").Required().String()
	f.org = f.cmd.Flag("org", "The org to revoke in.").Required().String()
	f.apps = f.cmd.Flag("app", "Only tokens of this app: its name as the metrics' app label shows it, case-insensitive (repeatable).").Strings()
	f.appIDs = f.cmd.Flag("app-id", "Only tokens of the app with this Id: the metrics' app_id (ConnectedApplication Id) or its AppMenuItem Id; picks one of two same-named apps (repeatable).").Strings()
	f.users = f.cmd.Flag("user", "Only tokens of this user: username or user Id (repeatable).").Strings()
	f.stale = f.cmd.Flag("stale", "Only tokens unused for the config's stale_after.").Bool()
	f.inactiveUsers = f.cmd.Flag("inactive-users", "Only tokens held by deactivated users.").Bool()
	f.notInstalled = f.cmd.Flag("not-installed", "Only tokens of apps not installed in the org: with --app, the uninstalled app of that name and not an installed one that shares it.").Bool()
	f.confirm = f.cmd.Flag("confirm", "Really revoke. Without it nothing changes.").Bool()
	f.expect = f.cmd.Flag("expect", "With --confirm: revoke nothing if the selection holds more than this many tokens, the count the dry run listed (tokens added since are not revoked unseen).").IsSetByUser(&f.expectSet).Int()
	f.allowShared = f.cmd.Flag("allow-shared-name", "With --confirm and --app: revoke the tokens of every app of that name. Without it, a name that several apps share (an approved app and a look-alike) is refused: pick one with --app-id or --not-installed.").Bool()
	f.auditLog = f.cmd.Flag("audit-log", "Append one JSON line per revocation (time, org, app, user, outcome; never the token) to this file.").String()
	f.rate = f.cmd.Flag("rate", "At most this many revocations per second.").Default("5").Float64()
}

// maxRevokeExpect bounds --expect: far above any org's token count.
const maxRevokeExpect = 100_000_000

func (f *revokeFlags) run(ctx context.Context, logger *slog.Logger, stdout, stderr io.Writer) int {
	cfg, orgs, err := loadOrgs(*f.configFile, *f.org)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	sel := review.Selector{Apps: *f.apps, AppIDs: *f.appIDs, Users: *f.users, NotInstalled: *f.notInstalled, Stale: *f.stale, InactiveUsers: *f.inactiveUsers, StaleAfter: time.Duration(cfg.StaleAfter)}
	if sel.Empty() {
		fmt.Fprintln(stderr, "error: nothing selected: give --app, --app-id, --user, --not-installed, --stale or --inactive-users (revoking every token of the org is not offered)")
		return 1
	}
	if f.expectSet && (*f.expect < 1 || *f.expect > maxRevokeExpect) {
		fmt.Fprintf(stderr, "error: --expect=%d: want the number of tokens the dry run listed, from 1 to %d\n", *f.expect, maxRevokeExpect)
		return 1
	}
	// Written so that NaN fails too: every comparison with NaN is false.
	if !(*f.rate >= 0.01 && *f.rate <= 50) {
		fmt.Fprintf(stderr, "error: --rate=%v: want a number of revocations per second from 0.01 to 50, such as --rate=5\n", *f.rate)
		return 1
	}
	client, err := refresh.NewClient(orgs[0], nil)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	opts := review.RevokeOptions{Org: orgs[0].Name, Confirm: *f.confirm, Rate: *f.rate, Out: stdout, Concurrency: orgs[0].MaxConcurrency, AllowSharedName: *f.allowShared}
	if f.expectSet {
		opts.Expect = *f.expect
	}
	if *f.auditLog != "" {
		af, err := os.OpenFile(*f.auditLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			fmt.Fprintf(stderr, "error: open audit log: %v\n", err)
			return 1
		}
		defer af.Close()
		opts.Audit = af
	}
	if _, err := review.Revoke(ctx, client, sel, opts); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 3
	}
	return 0
}
