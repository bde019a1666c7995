package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
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
}

type checkSource struct {
	Source  string `json:"source"`
	Enabled bool   `json:"enabled"`
	// Permission is what the source needs; HasPermission is nil when it could not be read.
	Permission        string `json:"permission"`
	HasPermission     *bool  `json:"has_permission,omitempty"`
	VisibilityLimited bool   `json:"visibility_limited"`
	Works             bool   `json:"works"`
	Error             string `json:"error,omitempty"`
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

var sourcePermission = map[string]string{
	config.SourceOAuthTokens: "Customize Application",
	config.SourceApps:        "View Setup and Configuration",
	config.SourceSessions:    "Manage Users",
	config.SourceLogins:      "Manage Users (or Monitor Login History)",
	config.SourceAPIUsage:    "View Event Log Files",
	config.SourceLimits:      "View Setup and Configuration",
	config.SourceECAs:        "View Setup and Configuration",
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
	}
	rep := checkReport{OK: true}
	for _, o := range orgs {
		var hc *http.Client
		if rec != nil {
			hc = &http.Client{Timeout: 2 * time.Minute, Transport: rec.transport(o.Name, o.LoginURL)}
		}
		co := checkOneOrg(ctx, o, hc)
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
func checkOneOrg(ctx context.Context, o config.Org, hc *http.Client) checkOrg {
	red := salesforce.NewRedactor() // error texts can quote SOQL with ids in it
	clean := func(err error) string { return red.String("", err.Error()) }
	// Problems and notes are lists in the JSON even when empty ([], not null).
	co := checkOrg{Name: o.Name, OK: true, Login: "ok", APIVersion: o.APIVersion, Problems: []string{}, Notes: []string{}}
	if co.APIVersion == "" {
		co.APIVersion = salesforce.DefaultAPIVersion
	}
	opts := []salesforce.Option{salesforce.WithAPIVersion(o.APIVersion), salesforce.WithRetry(2, 500*time.Millisecond)}
	if hc != nil {
		opts = append(opts, salesforce.WithHTTPClient(hc))
	}
	c, err := salesforce.NewClient(o.AuthConfig(), opts...)
	if err != nil {
		co.OK, co.Login = false, clean(err)
		co.Problems = append(co.Problems, "fix the auth settings: "+co.Login)
		return co
	}
	perms, permErr := c.Permissions(ctx)
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
	for _, name := range config.Sources {
		s := checkSource{Source: name, Enabled: o.SourceEnabled(name), Permission: sourcePermission[name]}
		if permErr == nil {
			has := hasPermission(perms, name)
			s.HasPermission = &has
		}
		perDay := float64(24*time.Hour) / float64(o.SourceInterval(name))
		err := probeSource(ctx, c, name, &s, perDay, &limits, o)
		s.Works = err == nil
		if err != nil {
			s.Error = clean(err)
		}
		if name == config.SourceOAuthTokens && s.HasPermission != nil && !*s.HasPermission ||
			name == config.SourceSessions && permErr == nil && !perms.SeesAllSessions() ||
			name == config.SourceLogins && permErr == nil && !perms.SeesAllLogins() {
			s.VisibilityLimited = true
		}
		if s.Enabled {
			switch {
			case !s.Works:
				co.OK = false
				co.Problems = append(co.Problems, fmt.Sprintf("%s cannot work: %s; grant %s, or disable the source", name, s.Error, s.Permission))
			case s.VisibilityLimited:
				co.OK = false
				co.Problems = append(co.Problems, fmt.Sprintf("%s sees only the integration user's own rows: grant %s (the numbers would be silently low)", name, s.Permission))
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
		co.Notes = append(co.Notes, "could not read the integration user's permissions ("+clean(permErr)+"); visibility checks are incomplete")
	}
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

func hasPermission(p salesforce.UserPermissions, source string) bool {
	switch source {
	case config.SourceOAuthTokens:
		return p.CustomizeApplication
	case config.SourceSessions:
		return p.ManageUsers
	case config.SourceLogins:
		return p.SeesAllLogins()
	case config.SourceAPIUsage:
		return p.ViewEventLogFiles
	}
	return p.ViewSetup
}

func loginHint(e *salesforce.AuthError) string {
	s := e.Error()
	switch e.Code {
	case "invalid_grant":
		if strings.Contains(e.Description, "audience") {
			return s + " (set auth.audience to https://login.salesforce.com, or https://test.salesforce.com for a sandbox)"
		}
		return s + " (check the user is pre-authorized for the app and, for JWT, that the certificate matches the key)"
	case "invalid_client_id", "invalid_client":
		return s + " (check client_id and the secret file; client credentials needs the My Domain login_url and a Run As user)"
	}
	return s
}

// probeSource makes the cheapest call that proves the source works, and
// estimates its daily requests.
func probeSource(ctx context.Context, c *salesforce.Client, name string, s *checkSource, perDay float64, limits *salesforce.Limits, o config.Org) error {
	ptr := func(n int) *int { return &n }
	day := func(perRefresh float64) int64 { return int64(math.Ceil(perRefresh * perDay)) }
	switch name {
	case config.SourceOAuthTokens:
		n, err := c.Count(ctx, "SELECT COUNT() FROM OauthToken")
		if err != nil {
			return err
		}
		s.Rows = ptr(n)
		s.OauthTokenMode = "rows"
		if _, _, err := c.TokenAggregates(ctx, c.ServerNow().Add(-90*24*time.Hour)); err == nil {
			s.OauthTokenMode = "aggregate"
			s.RequestsPerDay = day(5)
		} else if !errors.Is(err, salesforce.ErrAggregateUnsupported) {
			return err
		} else {
			// Steady state: about four requests a refresh; a full sync
			// (pages of 500, cursors of 2,500) once per full_sync_interval.
			full := float64(n)/salesforce.OauthTokenPageSize + float64(n)/salesforce.OauthTokenCursorCap + 2
			s.RequestsPerDay = day(4) + int64(math.Ceil(full*float64(24*time.Hour)/float64(time.Duration(o.FullSyncInterval))))
		}
	case config.SourceApps:
		apps, err := c.ConnectedApplications(ctx)
		if err != nil {
			return err
		}
		s.Apps = ptr(len(apps))
		s.RequestsPerDay = day(2)
	case config.SourceSessions:
		n, err := c.Count(ctx, "SELECT COUNT() FROM AuthSession WHERE SessionType = 'Oauth2'")
		if err != nil {
			return err
		}
		s.Rows = ptr(n)
		s.RequestsPerDay = day(1 + float64(n)/2000)
	case config.SourceLogins:
		// The last 24 hours of the org's clock, as the logins source reckons
		// them: the local clock may be skewed.
		n, err := c.Count(ctx, "SELECT COUNT() FROM LoginHistory WHERE LoginTime >= "+salesforce.SOQLTime(c.ServerNow().Add(-24*time.Hour)))
		if err != nil {
			return err
		}
		s.Rows = ptr(n)
		s.RequestsPerDay = day(1) + int64(math.Ceil(float64(n)/2000))
	case config.SourceAPIUsage:
		files, err := c.EventLogFiles(ctx, "ApiTotalUsage", time.Time{})
		if err != nil {
			return err
		}
		daily, hourly := 0, 0
		var oldest, newest time.Time
		for _, f := range files {
			if strings.EqualFold(f.Interval, "Hourly") {
				hourly++
			} else {
				daily++
			}
			if oldest.IsZero() || f.LogDate.Before(oldest) {
				oldest = f.LogDate.Time
			}
			if f.PeriodEnd().After(newest) {
				newest = f.PeriodEnd()
			}
		}
		s.DailyFiles, s.HourlyFiles = ptr(daily), ptr(hourly)
		kept := 0
		if len(files) > 0 {
			kept = int(math.Round(newest.Sub(oldest).Hours() / 24))
		}
		s.DaysKept = ptr(kept)
		downloads := 1.0
		if hourly > 0 {
			downloads = 24
		}
		s.RequestsPerDay = day(1) + int64(downloads)
		if len(files) == 0 {
			return errors.New("no ApiTotalUsage log files: the org has no Event Monitoring log files yet (they appear a day after the first API use), or the user lacks View Event Log Files")
		}
	case config.SourceLimits:
		l, err := c.Limits(ctx)
		if err != nil {
			return err
		}
		*limits = l
		s.RequestsPerDay = day(1)
	case config.SourceECAs:
		apps, err := c.ECAs(ctx)
		if err != nil {
			if errors.Is(err, salesforce.ErrNotFound) {
				s.Apps = ptr(0)
				s.Error = "the App OAuth Usage API is not served (API version below 59.0, or no External Client Apps): nothing to report"
				s.RequestsPerDay = day(1)
				return nil
			}
			return err
		}
		s.Apps = ptr(len(apps))
		// One page of apps, then per app its users and per user its tokens:
		// at least two requests per app.
		s.RequestsPerDay = day(1 + 2*float64(len(apps)))
	}
	return nil
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
				vis := "full"
				if s.VisibilityLimited {
					vis = "LIMITED"
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", s.Source, yesNo(s.Enabled), yesNo(s.Works), s.Permission, has, vis, s.RequestsPerDay, sourceDetail(s))
			}
			tw.Flush()
		}
		if o.Cost != nil {
			fmt.Fprintf(w, "  expected API cost: %d requests a day, %.2f%% of DailyApiRequests %d (%d remaining now; api_budget_percent %.2g)\n",
				o.Cost.RequestsPerDay, o.Cost.Percent, o.Cost.DailyMax, o.Cost.DailyRemaining, o.Cost.BudgetPercent)
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

// recorder writes each response the client sees, redacted, into a fixture
// folder that sftest.Replay serves.
type recorder struct {
	dir string
	red *salesforce.Redactor
	mu  sync.Mutex
	idx sftest.FixtureIndex
}

func newRecorder(dir string) (*recorder, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &recorder{dir: dir, red: salesforce.NewRedactor(), idx: sftest.FixtureIndex{Source: "check --record"}}, nil
}

func (r *recorder) transport(org, loginURL string) http.RoundTripper {
	return &recordingTransport{r: r, base: http.DefaultTransport, loginHost: hostOf(loginURL)}
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.idx.Responses)
}

func (r *recorder) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, err := json.MarshalIndent(r.idx, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(r.dir, "index.json"), append(b, '\n'), 0o600)
}

type recordingTransport struct {
	r         *recorder
	base      http.RoundTripper
	loginHost string
}

// maxRecorded bounds one recorded body.
const maxRecorded = 64 << 20

// RoundTrip implements http.RoundTripper: it passes the response on
// untouched and writes a redacted copy.
func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxRecorded))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	plain := raw
	if resp.Header.Get("Content-Encoding") == "gzip" {
		if zr, err := gzip.NewReader(bytes.NewReader(raw)); err == nil {
			if b, err := io.ReadAll(io.LimitReader(zr, maxRecorded)); err == nil {
				plain = b
			}
		}
	}
	t.r.write(req, resp, plain, t.loginHost)
	return resp, nil
}

func (r *recorder) write(req *http.Request, resp *http.Response, body []byte, loginHost string) {
	hosts := strings.NewReplacer(req.URL.Host, "org.my.salesforce.example", loginHost, "org.my.salesforce.example")
	// The org's host names it: replace it before the redactor sees it.
	body = []byte(hosts.Replace(string(body)))
	var out []byte
	ct := resp.Header.Get("Content-Type")
	switch {
	case strings.HasSuffix(req.URL.Path, "/LogFile"):
		b, err := r.red.CSV(body)
		if err != nil {
			b = []byte("[not recorded: " + err.Error() + "]\n")
		}
		out, ct = b, "text/csv"
	default:
		out = r.red.JSON(body)
		if ct == "" {
			ct = "application/json;charset=UTF-8"
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.idx.Responses) + 1
	resource := strings.Trim(strings.NewReplacer("/services/data/", "", "/", "-").Replace(r.red.String("", req.URL.Path)), "-")
	if q := req.URL.Query().Get("q"); q != "" {
		if m := fromRE.FindStringSubmatch(q); m != nil {
			resource += "-" + m[1]
		}
	}
	if resource == "" {
		resource = "versions" // GET /services/data/: the API versions served
	}
	file := fmt.Sprintf("%03d-%s.%s", n, truncateName(resource), map[bool]string{true: "csv", false: "json"}[ct == "text/csv"])
	if err := os.WriteFile(filepath.Join(r.dir, file), out, 0o600); err != nil {
		return
	}
	e := sftest.FixtureEntry{Method: req.Method, Path: r.red.String("", req.URL.Path), Status: resp.StatusCode, ContentType: ct, File: file}
	if q := req.URL.Query().Get("q"); q != "" {
		e.Query = r.red.String("", q)
	}
	r.idx.Responses = append(r.idx.Responses, e)
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
