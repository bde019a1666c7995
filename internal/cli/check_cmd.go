package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/refresh"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

type checkFlags struct {
	cmd        *kingpin.CmdClause
	configFile *string
	org        *string
	format     *string
	record     *string
}

func (f *checkFlags) register(app *kingpin.Application) {
	f.cmd = app.Command("check", "Log in to each org and report, per source, the permission it needs and whether the user has it, whether visibility is limited, the OauthToken mode, the ApiTotalUsage files kept, the API versions served and the expected daily API cost. Exits 1 when an enabled source cannot work. Costs a few dozen API requests.")
	f.configFile = f.cmd.Flag("config.file", "Path to the YAML config file.").Required().String()
	f.org = f.cmd.Flag("org", "Check only this org (default: every org).").String()
	f.format = f.cmd.Flag("format", "Output format: text or json.").Default("text").Enum("text", "json")
	f.record = f.cmd.Flag("record", "Also write every response seen to this folder, redacted (no tokens; user names, emails, ids, IP addresses, org id and host replaced by stable pseudonyms; app names kept), to attach to a bug report.").String()
}

// checkReport is check's JSON output.
type checkReport struct {
	OK   bool       `json:"ok"`
	Orgs []checkOrg `json:"orgs"`
}

type checkOrg struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	// Login is "ok" or why the token request failed.
	Login       string        `json:"login"`
	APIVersion  string        `json:"api_version"`
	APIVersions []string      `json:"api_versions_served,omitempty"`
	Sources     []checkSource `json:"sources"`
	Cost        *checkCost    `json:"daily_api_cost,omitempty"`
	// Problems names what to fix, one line each; any makes ok false.
	Problems []string `json:"problems"`
	// Notes are worth knowing but do not stop the exporter (it stretches
	// its intervals to stay in api_budget_percent, say).
	Notes []string `json:"notes"`
	// Tier is the org's tier (free, or the Event Monitoring add-on or
	// Shield) and each paid source's availability and latency.
	Tier *refresh.Tier `json:"tier,omitempty"`
}

type checkSource struct {
	Source  string `json:"source"`
	Enabled bool   `json:"enabled"`
	// Permission is what the source needs; HasPermission is nil when it could not be read.
	Permission        string `json:"permission"`
	HasPermission     *bool  `json:"has_permission,omitempty"`
	VisibilityLimited bool   `json:"visibility_limited"`
	// Visibility is full, limited or unverified (the permissions that would
	// tell could not be read: it may see only part of the org).
	Visibility string `json:"visibility"`
	Works      bool   `json:"works"`
	Error      string `json:"error,omitempty"`
	// Per-source detail.
	OauthTokenMode string `json:"oauth_token_mode,omitempty"` // aggregate or rows
	Rows           *int   `json:"rows,omitempty"`             // COUNT() where cheap
	DailyFiles     *int   `json:"daily_files,omitempty"`
	HourlyFiles    *int   `json:"hourly_files,omitempty"`
	DaysKept       *int   `json:"days_kept,omitempty"`
	Apps           *int   `json:"apps,omitempty"`
	// RequestsPerDay is the expected daily API requests at the configured interval.
	RequestsPerDay int64 `json:"requests_per_day"`
}

type checkCost struct {
	RequestsPerDay int64   `json:"requests_per_day"`
	DailyMax       int64   `json:"daily_api_requests_max"`
	DailyRemaining int64   `json:"daily_api_requests_remaining"`
	Percent        float64 `json:"percent_of_max"`
	BudgetPercent  float64 `json:"api_budget_percent"`
}

func (f *checkFlags) run(ctx context.Context, logger *slog.Logger, stdout, stderr io.Writer) int {
	_, orgs, err := loadOrgs(*f.configFile, *f.org)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 2
	}
	var rec *recorder
	if *f.record != "" {
		if rec, err = newRecorder(*f.record); err != nil {
			fmt.Fprintf(stderr, "error: --record: %v\n", err)
			return 2
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		rec.cancel = cancel
	}
	rep := checkReport{OK: true}
	for _, o := range orgs {
		var hc *http.Client
		if rec != nil {
			hc = &http.Client{Timeout: 2 * time.Minute, Transport: rec.transport(o.Name, o.LoginURL)}
		}
		var calls refresh.CallCounter
		co := checkOneOrg(ctx, o, hc, calls.Observe)
		logger.Debug("Checked org", "org", o.Name, "api_requests", calls.Count())
		rep.OK = rep.OK && co.OK
		rep.Orgs = append(rep.Orgs, co)
	}
	if rec != nil {
		if err := rec.close(); err != nil {
			fmt.Fprintf(stderr, "error: --record: %v\n", err)
			rep.OK = false
		} else {
			logger.Info("Recorded redacted responses", "dir", *f.record, "responses", rec.count())
		}
	}
	if *f.format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		writeCheckText(stdout, rep)
	}
	if !rep.OK {
		return 1
	}
	return 0
}

// checkOneOrg logs in and probes every source of one org.
// observe, when not nil, sees every request the org's client makes.
func checkOneOrg(ctx context.Context, o config.Org, hc *http.Client, observe func(salesforce.RequestInfo)) checkOrg {
	red := salesforce.NewRedactor() // error texts can quote SOQL with ids in it
	clean := func(err error) string { return red.String("", err.Error()) }
	// Problems and notes are lists in the JSON even when empty ([], not null).
	co := checkOrg{Name: o.Name, OK: true, Login: "ok", APIVersion: o.APIVersion, Problems: []string{}, Notes: []string{}}
	if co.APIVersion == "" {
		co.APIVersion = salesforce.DefaultAPIVersion
	}
	opts := []salesforce.Option{salesforce.WithRetry(2, 500*time.Millisecond)}
	if hc != nil {
		opts = append(opts, salesforce.WithHTTPClient(hc))
	}
	c, err := refresh.NewClient(o, observe, opts...)
	if err != nil {
		// The report names the org already: show the cause alone.
		if cause := errors.Unwrap(err); cause != nil {
			err = cause
		}
		co.OK, co.Login = false, clean(err)
		co.Problems = append(co.Problems, "fix the auth settings: "+co.Login)
		return co
	}
	userPerms, permErr := c.Permissions(ctx)
	var authErr *salesforce.AuthError
	if errors.As(permErr, &authErr) {
		co.OK, co.Login = false, clean(permErr)
		co.Problems = append(co.Problems, "log in fails: "+loginHint(authErr))
		return co
	}
	if vs, err := c.Versions(ctx); err == nil {
		served := false
		for _, v := range vs {
			co.APIVersions = append(co.APIVersions, v.Version)
			served = served || v.Version == co.APIVersion
		}
		if !served && len(vs) > 0 {
			co.OK = false
			co.Problems = append(co.Problems, fmt.Sprintf("api_version %s is not served by this org: use one of %s", co.APIVersion, strings.Join(co.APIVersions, ", ")))
		}
	}
	var limits salesforce.Limits
	var perms *salesforce.UserPermissions
	if permErr == nil {
		perms = &userPerms
	}
	// tokensComplete: the oauth_tokens source works and sees every user's
	// tokens, External Client Apps' included (config.Sources lists it first).
	tokensComplete := false
	// The probes the tier report reads.
	var usageRes, threatRes refresh.ProbeResult
	var usageErr error
	for _, name := range config.Sources {
		spec := refresh.SpecOf(name)
		s := checkSource{Source: name, Enabled: o.SourceEnabled(name)}
		if spec != nil {
			s.Permission = spec.Permission
			if perms != nil && !spec.PermissionUnread {
				has := spec.HasPermission(*perms)
				s.HasPermission = &has
			}
		}
		perDay := float64(24*time.Hour) / float64(o.SourceInterval(name))
		res, err := probeSource(ctx, c, name, refresh.ProbeInput{Org: o, Enabled: s.Enabled, Perms: perms, TokensComplete: tokensComplete, Clean: clean})
		switch name {
		case config.SourceAPIUsage:
			usageRes, usageErr = res, err
		case config.SourceThreatDetection:
			threatRes = res
		}
		s.Works = err == nil
		s.OauthTokenMode, s.Rows, s.Apps = res.OauthTokenMode, res.Rows, res.Apps
		s.DailyFiles, s.HourlyFiles, s.DaysKept = res.DailyFiles, res.HourlyFiles, res.DaysKept
		s.RequestsPerDay = res.Cost.Daily(perDay)
		s.Error = res.Note
		if res.Limits != nil {
			limits = res.Limits
		}
		tokensComplete = tokensComplete || s.Enabled && s.Works && res.TokensComplete
		if err != nil {
			s.Error = clean(err)
		}
		if spec != nil && spec.Shrinks() && perms != nil && !spec.SeesAll(*perms) {
			s.VisibilityLimited = true
		}
		co.Notes = append(co.Notes, res.Notes...)
		limitedFor := s.Permission
		if res.Limited != "" {
			s.VisibilityLimited, limitedFor = true, ""
			s.Error = res.Limited
		}
		if res.UsersHidden {
			s.VisibilityLimited, limitedFor = true, "View All Users"
		}
		s.Visibility = snapshot.VisibilityFull
		switch {
		case s.VisibilityLimited:
			s.Visibility = snapshot.VisibilityLimited
		case permErr != nil && spec != nil && spec.Shrinks():
			s.Visibility = snapshot.VisibilityUnverified
		}
		if s.Enabled {
			switch {
			case !s.Works:
				co.OK = false
				co.Problems = append(co.Problems, fmt.Sprintf("%s cannot work: %s; grant %s, or disable the source", name, s.Error, s.Permission))
			case s.VisibilityLimited && limitedFor == "View All Users":
				co.OK = false
				co.Problems = append(co.Problems, fmt.Sprintf("%s sees fewer User records than users hold tokens (a Private sharing default for users): grant View All Users (the deactivated-user figures would be silently low)", name))
			case s.VisibilityLimited && limitedFor == "":
				co.OK = false
				co.Problems = append(co.Problems, fmt.Sprintf("%s is limited: %s", name, res.Limited))
			case s.VisibilityLimited:
				co.OK = false
				co.Problems = append(co.Problems, fmt.Sprintf("%s sees only the integration user's own rows: grant %s (the numbers would be silently low)", name, s.Permission))
			case s.Visibility == snapshot.VisibilityUnverified:
				co.OK = false
				co.Problems = append(co.Problems, fmt.Sprintf("%s visibility is unverified: the integration user's permissions cannot be read; grant %s, or it may see only part of the org (%s)", name, salesforce.ReadPermissionsNeeds, s.Permission))
			case s.HasPermission != nil && !*s.HasPermission:
				co.OK = false
				co.Problems = append(co.Problems, fmt.Sprintf("%s: the integration user lacks %s", name, s.Permission))
			}
		} else {
			s.RequestsPerDay = 0
		}
		co.Sources = append(co.Sources, s)
	}
	if permErr != nil {
		co.Notes = append(co.Notes, "could not read the integration user's permissions ("+clean(permErr)+"): what each source may see is unverified")
	}
	tier := refresh.ProbeTier(ctx, c, usageRes, usageErr, threatRes)
	co.Tier = &tier
	var total int64
	for _, s := range co.Sources {
		total += s.RequestsPerDay
	}
	if d, ok := limits["DailyApiRequests"]; ok {
		co.Cost = &checkCost{RequestsPerDay: total, DailyMax: d.Max, DailyRemaining: d.Remaining, BudgetPercent: o.APIBudgetPercent}
		if d.Max > 0 {
			co.Cost.Percent = math.Round(float64(total)/float64(d.Max)*10000) / 100
			if co.Cost.Percent > o.APIBudgetPercent {
				co.Notes = append(co.Notes, fmt.Sprintf("the expected %d requests a day are %.2f%% of the org's %d, above api_budget_percent %.2g: the exporter will stretch its intervals to stay in the budget; raise the intervals or the budget to avoid it", total, co.Cost.Percent, d.Max, o.APIBudgetPercent))
			}
		}
	} else if u, ok := c.LastAPIUsage(); ok {
		co.Cost = &checkCost{RequestsPerDay: total, DailyMax: u.Max, DailyRemaining: u.Max - u.Used, BudgetPercent: o.APIBudgetPercent}
	}
	return co
}

func loginHint(e *salesforce.AuthError) string {
	s := e.Error()
	switch e.Code {
	case "invalid_grant":
		if strings.Contains(e.Description, "audience") {
			return s + " (without auth.audience the exporter tried https://login.salesforce.com, the My Domain and https://test.salesforce.com; check the user is pre-authorized and the org is the one login_url names, or set auth.audience to the accepted value)"
		}
		return s + " (check the user is pre-authorized for the app and, for JWT, that the certificate matches the key)"
	case "invalid_client_id", "invalid_client":
		return s + " (check client_id and the secret file; client credentials needs the My Domain login_url and a Run As user)"
	}
	return s
}

// probeSource probes the source of that name through its spec (its Probe
// makes the cheapest calls that prove it works, and prices it). A source
// without a spec cannot be said to work.
func probeSource(ctx context.Context, c *salesforce.Client, name string, in refresh.ProbeInput) (refresh.ProbeResult, error) {
	spec := refresh.SpecOf(name)
	if spec == nil {
		return refresh.ProbeResult{}, fmt.Errorf("check has no probe for source %q: whether it works is unknown", name)
	}
	return spec.Probe(ctx, c, in)
}

func writeCheckText(w io.Writer, rep checkReport) {
	for _, o := range rep.Orgs {
		fmt.Fprintf(w, "org %s: login %s; API version %s", o.Name, o.Login, o.APIVersion)
		if len(o.APIVersions) > 0 {
			fmt.Fprintf(w, " (served: %s … %s)", o.APIVersions[0], o.APIVersions[len(o.APIVersions)-1])
		}
		fmt.Fprintln(w)
		if len(o.Sources) > 0 {
			tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "  SOURCE\tENABLED\tWORKS\tPERMISSION\tHAS IT\tVISIBILITY\tREQ/DAY\tDETAIL")
			for _, s := range o.Sources {
				has := "?"
				if s.HasPermission != nil {
					has = yesNo(*s.HasPermission)
				}
				vis := s.Visibility
				if vis != snapshot.VisibilityFull {
					vis = strings.ToUpper(vis)
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", s.Source, yesNo(s.Enabled), yesNo(s.Works), s.Permission, has, vis, s.RequestsPerDay, sourceDetail(s))
			}
			tw.Flush()
		}
		if o.Cost != nil {
			fmt.Fprintf(w, "  expected API cost: %d requests a day, %.2f%% of DailyApiRequests %d (%d remaining now; api_budget_percent %.2g)\n",
				o.Cost.RequestsPerDay, o.Cost.Percent, o.Cost.DailyMax, o.Cost.DailyRemaining, o.Cost.BudgetPercent)
		}
		if o.Tier != nil {
			writeTierText(w, *o.Tier)
		}
		for _, p := range o.Problems {
			fmt.Fprintf(w, "  FIX: %s\n", p)
		}
		for _, n := range o.Notes {
			fmt.Fprintf(w, "  NOTE: %s\n", n)
		}
		if o.OK {
			fmt.Fprintln(w, "  OK: every enabled source works")
		}
	}
}

// writeTierText writes the org's tier and, a line each, every paid
// source's availability, latency and reader.
func writeTierText(w io.Writer, t refresh.Tier) {
	fmt.Fprintf(w, "  tier: %s\n", t.Tier)
	for _, f := range t.Features {
		line := fmt.Sprintf("    %s: %s", f.Name, f.Available)
		if f.Why != "" {
			line += " (" + f.Why + ")"
		}
		fmt.Fprintf(w, "%s; latency %s; read by %s\n", line, f.Latency, f.ReadBy)
	}
}

func sourceDetail(s checkSource) string {
	var parts []string
	if s.OauthTokenMode != "" {
		parts = append(parts, "mode "+s.OauthTokenMode)
	}
	if s.Rows != nil {
		parts = append(parts, fmt.Sprintf("%d rows", *s.Rows))
	}
	if s.DailyFiles != nil {
		parts = append(parts, fmt.Sprintf("%d Daily, %d Hourly files, %d days kept", *s.DailyFiles, *s.HourlyFiles, *s.DaysKept))
	}
	if s.Apps != nil {
		parts = append(parts, fmt.Sprintf("%d apps", *s.Apps))
	}
	if s.Error != "" && s.Works {
		parts = append(parts, s.Error)
	}
	return strings.Join(parts, "; ")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

var fromRE = regexp.MustCompile(`(?i)\bfrom\s+([A-Za-z0-9_]+)`)

func truncateName(s string) string {
	s = strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' {
			return c
		}
		return '_'
	}, s)
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}
