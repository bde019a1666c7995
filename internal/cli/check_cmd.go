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

var sourcePermission = map[string]string{
	config.SourceOAuthTokens: "Customize Application",
	config.SourceApps:        "View Setup and Configuration",
	config.SourceSessions:    "Manage Users",
	config.SourceLogins:      "Manage Users (or Monitor Login History)",
	config.SourceAPIUsage:    "View Event Log Files (or View All Data)",
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
	// tokensComplete: the oauth_tokens source works and sees every user's
	// tokens, External Client Apps' included (config.Sources lists it first).
	tokensComplete := false
	for _, name := range config.Sources {
		s := checkSource{Source: name, Enabled: o.SourceEnabled(name), Permission: sourcePermission[name]}
		if permErr == nil {
			has := hasPermission(perms, name)
			s.HasPermission = &has
		}
		perDay := float64(24*time.Hour) / float64(o.SourceInterval(name))
		err := probeSource(ctx, c, name, &s, perDay, &limits, o, tokensComplete)
		s.Works = err == nil
		if name == config.SourceOAuthTokens {
			tokensComplete = s.Enabled && s.Works && s.HasPermission != nil && *s.HasPermission
		}
		if name == config.SourceECAs && s.Enabled && s.Works && !tokensComplete && s.Apps != nil && *s.Apps > 0 {
			co.Notes = append(co.Notes, "external_client_apps reads every user's tokens of each External Client App, a request per user and app each refresh, because oauth_tokens cannot show them: enable oauth_tokens and grant Customize Application to read them from OauthToken at no extra cost")
		}
		if err != nil {
			s.Error = clean(err)
		}
		if name == config.SourceOAuthTokens && s.HasPermission != nil && !*s.HasPermission ||
			name == config.SourceSessions && permErr == nil && !perms.SeesAllSessions() ||
			name == config.SourceLogins && permErr == nil && !perms.SeesAllLogins() {
			s.VisibilityLimited = true
		}
		limitedFor := s.Permission
		if name == config.SourceOAuthTokens && !s.VisibilityLimited && s.Works {
			if hidden, err := usersHidden(ctx, c, s.OauthTokenMode); err != nil {
				co.Notes = append(co.Notes, "could not compare the readable User records with the token holders: "+clean(err))
			} else if hidden {
				s.VisibilityLimited, limitedFor = true, "View All Users"
			} else if permErr == nil && !perms.SeesAllUsers() && s.OauthTokenMode != refresh.TokenModeAggregate {
				co.Notes = append(co.Notes, "the integration user lacks View All Users: where the org-wide default for users is Private, it sees only part of the User records and the deactivated-user figures are low (serve compares the User records with the token holders hourly); grant View All Users to be sure")
			}
		}
		s.Visibility = refresh.VisibilityFull
		switch {
		case s.VisibilityLimited:
			s.Visibility = refresh.VisibilityLimited
		case permErr != nil && shrinks(name):
			s.Visibility = refresh.VisibilityUnverified
		}
		if s.Enabled {
			switch {
			case !s.Works:
				co.OK = false
				co.Problems = append(co.Problems, fmt.Sprintf("%s cannot work: %s; grant %s, or disable the source", name, s.Error, s.Permission))
			case s.VisibilityLimited && limitedFor == "View All Users":
				co.OK = false
				co.Problems = append(co.Problems, fmt.Sprintf("%s sees fewer User records than users hold tokens (a Private sharing default for users): grant View All Users (the deactivated-user figures would be silently low)", name))
			case s.VisibilityLimited:
				co.OK = false
				co.Problems = append(co.Problems, fmt.Sprintf("%s sees only the integration user's own rows: grant %s (the numbers would be silently low)", name, s.Permission))
			case s.Visibility == refresh.VisibilityUnverified:
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
		return p.ReadsEventLogFiles()
	}
	return p.ViewSetup
}

// shrinks reports whether a source's object silently shows only the
// integration user's own rows for want of a permission, rather than fail:
// only its permissions tell whether it sees everything.
func shrinks(source string) bool {
	switch source {
	case config.SourceOAuthTokens, config.SourceSessions, config.SourceLogins:
		return true
	}
	return false
}

// usersHidden reports whether fewer User records are readable than users
// hold tokens: a Private sharing default for users without View All Users,
// under which OauthToken.User is null for the rest. In row mode, where
// COUNT_DISTINCT is refused, it tells only the case where no other user's
// record is readable while others hold tokens.
func usersHidden(ctx context.Context, c *salesforce.Client, mode string) (bool, error) {
	users, err := c.Count(ctx, "SELECT COUNT() FROM User")
	if err != nil {
		return false, err
	}
	if mode == refresh.TokenModeAggregate {
		var holders int64
		var decodeErr error
		_, err := salesforce.Stream(ctx, c, "SELECT COUNT_DISTINCT(UserId) users FROM OauthToken", func(r salesforce.AggregateRecord) bool {
			holders, decodeErr = r.Int("users")
			return true
		})
		if err == nil {
			err = decodeErr
		}
		return int64(users) < holders, err
	}
	if users > 1 {
		return false, nil
	}
	me := c.Identity().UserID
	if me == "" {
		return false, nil
	}
	others, err := c.Count(ctx, "SELECT COUNT() FROM OauthToken WHERE UserId != "+salesforce.Quote(me))
	return others > 0, err
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

// probeSource makes the cheapest call that proves the source works, and
// estimates its daily requests.
func probeSource(ctx context.Context, c *salesforce.Client, name string, s *checkSource, perDay float64, limits *salesforce.Limits, o config.Org, tokensComplete bool) error {
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
		perRefresh, err := ecaRequestsPerRefresh(ctx, c, apps, tokensComplete)
		if err != nil {
			return err
		}
		s.RequestsPerDay = day(perRefresh)
	default:
		// A source without a probe here cannot be said to work.
		return fmt.Errorf("check has no probe for source %q: whether it works is unknown", name)
	}
	return nil
}

// ecaSampleApps bounds the External Client Apps whose users check counts;
// the cost of the others is taken as their average.
const ecaSampleApps = 20

// ecaRequestsPerRefresh prices one refresh of the external_client_apps
// source: the app collection's pages (the last one empty) and the
// ExternalClientApplication query. When OauthToken cannot show every user's
// tokens (tokensComplete false), each app's users are read too, page by
// page, then each user's tokens (one request per user and app), and the
// deactivated users among them, 200 to a query.
func ecaRequestsPerRefresh(ctx context.Context, c *salesforce.Client, apps []salesforce.ECA, tokensComplete bool) (float64, error) {
	pages := func(n int) float64 { return float64((n+99)/100 + 1) } // the last one empty
	cost := pages(len(apps)) + 1
	if tokensComplete || len(apps) == 0 {
		return cost, nil
	}
	var perUser float64
	users := 0
	sample := apps[:min(len(apps), ecaSampleApps)]
	for _, a := range sample {
		us, err := c.ECAUsers(ctx, a.Identifier)
		if err != nil {
			return 0, fmt.Errorf("count the users of External Client App %s: %w", a.Identifier, err)
		}
		perUser += pages(len(us)) + float64(len(us))
		users += len(us)
	}
	perUser *= float64(len(apps)) / float64(len(sample))
	users = int(math.Ceil(float64(users) * float64(len(apps)) / float64(len(sample))))
	return cost + perUser + math.Ceil(float64(users)/200), nil
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
				if vis != refresh.VisibilityFull {
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
