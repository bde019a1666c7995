package sftest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Demo is an evolving fake org for --demo: a realistic inventory of apps, a
// few leavers who kept their tokens, stale and abandoned apps, hourly and
// daily API usage, and, after SurgeAfter, the two 2025 attack patterns: a
// look-alike "data loader" authorized by a burst of users, and a known
// integration whose 24-hour API requests surge tenfold with errors.
type Demo struct {
	Org        *Org
	Server     *Server
	SurgeAfter time.Duration

	r       *rand.Rand
	apps    map[string]int
	holders map[string]map[int]bool // the users given each app's tokens at the start
	users   []int
	started time.Time
	surged  bool
	admin   int // the admin who authorized Dataloader Partner
}

// DemoApps are the demo org's approved apps, for its inventory.
var DemoApps = []struct{ Name, Owner, Purpose string }{
	{"Salesforce Mobile App", "mobile-team@example.com", "Field sales on phones"},
	{"Salesforce for Outlook", "it-desk@example.com", "Email and calendar sync"},
	{"Dataloader Partner", "crm-admins@example.com", "Admin data loads"},
	{"Workbench", "crm-admins@example.com", "Admin troubleshooting"},
	{"Slack", "collab-team@example.com", "Record alerts in Slack"},
	{"Acme ERP Sync", "integrations@example.com", "Order sync with the ERP"},
	{"DocuSign", "legal-ops@example.com", "Contract signatures"},
	{"Old Survey Tool", "marketing-ops@example.com", "Customer surveys (retired)"},
}

// DemoLookAlike is the demo org's look-alike of its approved Workbench: a
// Cyrillic о for the Latin o.
const DemoLookAlike = "Wоrkbench"

// NewDemo builds the demo org, served with creds.
func NewDemo(seed uint64, creds Credentials) *Demo {
	return NewDemoAt(seed, creds, time.Time{})
}

// NewDemoAt is NewDemo with the org's clock set to now (Org.SetClock), so a
// test can build the demo org at any hour of the day; the zero now is the
// real clock.
func NewDemoAt(seed uint64, creds Credentials, now time.Time) *Demo {
	d := &Demo{Org: NewOrg(), r: rand.New(rand.NewPCG(seed, 42)), apps: map[string]int{}, holders: map[string]map[int]bool{}, SurgeAfter: 3 * time.Minute}
	o := d.Org
	if !now.IsZero() {
		o.SetClock(now)
	}
	o.SetAPILimit(250_000, 41_000)
	now = o.Now()
	d.started = now
	day := 24 * time.Hour
	for _, a := range DemoApps {
		d.apps[a.Name] = o.AddApp(App{Name: a.Name, Installed: true, AdminApproved: a.Name == "Acme ERP Sync", Integration: a.Name == "Acme ERP Sync"})
	}
	// OAuth policies: Slack expires tokens idle for a month, DocuSign (admin
	// approved) after a year; the rest, Dataloader Partner among them, are
	// open to all users with tokens valid until revoked.
	o.UpdateApp(d.apps["Slack"], func(a *App) { a.RefreshIdle, a.RefreshPeriod = true, 1 })
	o.UpdateApp(d.apps["DocuSign"], func(a *App) { a.AdminApproved, a.RefreshPeriod = true, 12 })
	// Scopes and IP relaxation (the Metadata API's, which the demo's
	// exporter may read): Dataloader Partner may be granted full and
	// refresh_token scopes and relaxes IP restrictions; DocuSign is limited
	// to api, refresh_token and web, and relaxes them with a second factor.
	o.UpdateApp(d.apps["Dataloader Partner"], func(a *App) { a.Scopes, a.IPRelaxation = []string{"Full", "RefreshToken"}, "BYPASS" })
	o.UpdateApp(d.apps["DocuSign"], func(a *App) { a.Scopes = []string{"Api", "RefreshToken", "Web"} })
	o.SetPermission(PermModifyMetadata, true)
	o.Behavior.APIAccessControl = true
	// Apps nobody approved: one still installed, one not installed at all.
	d.apps["Tableau Desktop"] = o.AddApp(App{Name: "Tableau Desktop", Installed: true})
	d.apps["Legacy Reporting Tool"] = o.AddApp(App{Name: "Legacy Reporting Tool", Installed: false})
	// A look-alike of the approved Workbench, with a Cyrillic о.
	d.apps[DemoLookAlike] = o.AddApp(App{Name: DemoLookAlike, Installed: false})
	for i := range 400 {
		d.users = append(d.users, o.AddUser(fmt.Sprintf("user%03d@example.com", i), true))
	}
	add := func(app string, users, perUser int, age, usedAgo time.Duration) {
		if d.holders[app] == nil {
			d.holders[app] = map[int]bool{}
		}
		for i := range users {
			u := d.users[d.r.IntN(len(d.users))]
			d.holders[app][u] = true
			for range perUser {
				created := now.Add(-age + time.Duration(d.r.Int64N(int64(age/2))))
				var used time.Time
				if usedAgo > 0 {
					used = now.Add(-time.Duration(d.r.Int64N(int64(usedAgo))))
				}
				o.AddToken(TokenSpec{User: u, App: d.apps[app], Created: created, LastUsed: used, UseCount: 1 + d.r.IntN(400)})
			}
			_ = i
		}
	}
	add("Salesforce Mobile App", 260, 2, 500*day, 3*day)
	add("Salesforce for Outlook", 120, 1, 700*day, 10*day)
	add("Dataloader Partner", 6, 1, 200*day, 20*day)
	add("Workbench", 9, 1, 300*day, 120*day)
	add("Slack", 80, 1, 250*day, 2*day)
	add("Acme ERP Sync", 2, 1, 400*day, time.Hour)
	add("DocuSign", 40, 1, 350*day, 30*day)
	add("Old Survey Tool", 90, 1, 900*day, 0) // abandoned: never used
	add("Tableau Desktop", 12, 1, 90*day, 5*day)
	add("Legacy Reporting Tool", 5, 1, 800*day, 200*day)
	add(DemoLookAlike, 2, 1, 60*day, 4*day)
	// An admin authorized the risky Dataloader Partner (full reach, valid
	// until revoked, open to all users); two users may use any API client.
	d.admin = lowest(d.holders["Dataloader Partner"])
	o.GrantUser(d.admin, "", PermModifyAllData, PermViewAllData, PermManageUsers, PermCustomizeApplication, PermAuthorApex, PermAPIEnabled)
	o.GrantUser(d.users[390], "", PermUseAnyAPIClient, PermAPIEnabled)
	o.GrantUser(d.users[391], "", PermUseAnyAPIClient, PermAPIEnabled)
	// Leavers who kept their tokens.
	for _, u := range d.users[:7] {
		o.AddToken(TokenSpec{User: u, App: d.apps["Slack"], Created: now.Add(-100 * day), LastUsed: now.Add(-40 * day), UseCount: 12})
		o.SetUserActive(u, false)
	}
	for range 60 {
		u := d.users[d.r.IntN(len(d.users))]
		o.AddSession(SessionSpec{User: u, App: "Salesforce Mobile App", Created: now.Add(-time.Duration(d.r.Int64N(int64(time.Hour))))})
	}
	for range 25 {
		o.AddSession(SessionSpec{User: d.users[d.r.IntN(len(d.users))], App: "Slack", Created: now.Add(-time.Duration(d.r.Int64N(int64(time.Hour))))})
	}
	o.AddSession(SessionSpec{User: d.users[10], Created: now.Add(-10 * time.Minute)}) // no LoginHistory row
	for i := range 300 {
		status := "Success"
		if i%29 == 0 {
			status = "Invalid Password"
		}
		app := []string{"Salesforce Mobile App", "Slack", "Salesforce for Outlook", "Acme ERP Sync"}[i%4]
		// Acme ERP Sync logs in with the username-password flow: the
		// review's legacy authentication section lists it.
		sub := []string{"OauthRefreshToken", "OauthWebServer", "OauthRefreshToken", "OauthUsernamePassword"}[i%4]
		o.AddLogin(LoginSpec{User: d.users[d.r.IntN(len(d.users))], App: app, Time: now.Add(-time.Duration(d.r.Int64N(int64(23 * time.Hour)))), Status: status, SubType: sub})
	}
	// A Data Loader still on SOAP API login() (retired in Summer '27).
	for h := range 6 {
		o.AddLogin(LoginSpec{User: d.users[3], App: "Dataloader Partner", Time: now.Add(-time.Duration(4*h+1) * time.Hour), LoginType: "Other Apex API", APIType: "SOAP Partner"})
	}
	// And the admin who authorized it logs in to it with the OAuth
	// username-password flow: the posture's worst case in one app (full
	// scope, valid until revoked, an admin's reach, a password flow).
	for h := range 3 {
		o.AddLogin(LoginSpec{User: d.admin, App: "Dataloader Partner", Time: now.Add(-time.Duration(6*h+2) * time.Hour), SubType: "OauthUsernamePassword"})
	}
	// The demo org has Shield: two Threat Detection events of the last
	// day, a low-scored report anomaly and a login anomaly.
	o.Behavior.ThreatDetection = true
	o.AddThreat(ThreatSpec{Store: ThreatReportAnomaly, User: d.users[30], Time: now.Add(-5 * time.Hour), Score: 12, Summary: "Report export larger than usual"})
	o.AddThreat(ThreatSpec{Store: ThreatLoginAnomaly, User: d.users[31], Time: now.Add(-3 * time.Hour), Score: 35, Summary: "Login from an unusual browser"})
	o.AddECA(ECASpec{Name: "Field Service Companion", DeveloperName: "Field_Service_Companion", Users: d.users[20:45], TokensPerUser: 1, LastUsed: now.Add(-2 * time.Hour)})
	// Eight days of daily API usage (a full week before the newest data at
	// any hour, so the detection's 7-day baseline is ready), and today's
	// hourly files.
	today := now.UTC().Truncate(day)
	for i := 8; i >= 1; i-- {
		ld := today.Add(-time.Duration(i) * day)
		created := ld.Add(day + 2*time.Hour)
		if created.After(now) {
			// Yesterday's Daily file is not out yet in the first hours of
			// the day: its Hourly files stand in, as in a real org.
			for h := ld; h.Before(ld.Add(day)) && h.Add(time.Hour).Before(now); h = h.Add(time.Hour) {
				o.AddLogFile(&LogFile{Interval: "Hourly", LogDate: h, Sequence: 1, CreatedDate: h.Add(time.Hour + 3*time.Minute), Rows: d.usageRows(h, time.Hour, 1), Retention: 30 * day})
			}
			continue
		}
		o.AddLogFile(&LogFile{Interval: "Daily", LogDate: ld, CreatedDate: created, Rows: d.usageRows(ld, day, 1), Retention: 30 * day})
	}
	for h := today; h.Add(time.Hour).Before(now); h = h.Add(time.Hour) {
		o.AddLogFile(&LogFile{Interval: "Hourly", LogDate: h, Sequence: 1, CreatedDate: h.Add(time.Hour + 3*time.Minute), Rows: d.usageRows(h, time.Hour, 1), Retention: 30 * day})
	}
	d.Server = NewServer(o, creds)
	return d
}

// StartUsers is, by app name, how many users held the app's tokens when
// the demo org was built (leavers' extra tokens aside): the users its
// earlier days had, for a history the demo can start with.
func (d *Demo) StartUsers() map[string]int {
	out := map[string]int{}
	for name, us := range d.holders {
		out[name] = len(us)
	}
	return out
}

// DemoSurgeFactor scales Acme ERP Sync's hour of requests in the surge:
// nine days' worth (9×24 hours) in the hour, so that with the day's usual
// traffic its 24-hour requests become about ten times its daily average.
const DemoSurgeFactor = 9 * 24

// usageRows is a period's ApiTotalUsage, every row dated inside the period,
// scaled by factor for Acme ERP Sync.
func (d *Demo) usageRows(start time.Time, span time.Duration, factor int) []UsageRow {
	apps := d.Org.Apps()
	perDay := map[string]int{"Salesforce Mobile App": 9000, "Slack": 4000, "Salesforce for Outlook": 2500, "Acme ERP Sync": 20000, "DocuSign": 600, "Tableau Desktop": 300}
	var rows []UsageRow
	scale := float64(span) / float64(24*time.Hour)
	for name, n := range perDay {
		a := apps[d.apps[name]]
		count := int(float64(n) * scale * (0.9 + 0.2*d.r.Float64()))
		errs := count / 100
		if name == "Acme ERP Sync" && factor > 1 {
			count *= factor
			errs = count / 4
		}
		// Each app calls from its usual three networks (networks.go) and
		// reads its usual object; the mobile app from its users' networks of the day.
		status := 500 - 97*(d.r.IntN(2))
		for k := range 3 {
			ip, entity := IntegrationIP(a.Name, k), "Opportunity"
			if name == "Salesforce Mobile App" {
				ip, entity = MobileIP(k, int(start.Unix()/86400)), "Account"
			}
			ok, bad := (count-errs)/3, errs/3
			if k == 0 {
				ok, bad = count-errs-2*ok, errs-2*bad
			}
			// 15-character CONNECTED_APP_ID, as some event types write it.
			if ok > 0 {
				rows = append(rows, UsageRow{AppID: a.ID[:15], AppName: a.Name, StatusCode: 200, Time: start.Add(span / 3), Count: ok, User: 1, ClientIP: ip, Entity: entity})
			}
			if bad > 0 {
				rows = append(rows, UsageRow{AppID: a.ID[:15], AppName: a.Name, StatusCode: status, Time: start.Add(span / 2), Count: bad, User: 1, ClientIP: ip, Entity: entity})
			}
		}
	}
	rows = append(rows, UsageRow{StatusCode: 200, Time: start.Add(span / 4), Count: int(3000 * scale), User: 3})
	return rows
}

// Run makes the org change over time until ctx is done: tokens get used,
// users log in, each finished hour gets its log file, and after SurgeAfter
// the attack patterns appear.
func (d *Demo) Run(ctx context.Context, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	lastHour := d.Org.Now().UTC().Truncate(time.Hour)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		o := d.Org
		now := o.Now()
		o.UseTokens(d.apps["Salesforce Mobile App"], 5, d.r.Uint64())
		o.UseTokens(d.apps["Slack"], 3, d.r.Uint64())
		o.UseTokens(d.apps["Acme ERP Sync"], 1, d.r.Uint64())
		o.AddLogin(LoginSpec{User: d.users[d.r.IntN(len(d.users))], App: "Salesforce Mobile App", Time: now, SubType: "OauthRefreshToken"})
		o.AddSession(SessionSpec{User: d.users[d.r.IntN(len(d.users))], App: "Salesforce Mobile App", Created: now})
		if h := now.UTC().Truncate(time.Hour); h.After(lastHour) {
			o.AddLogFile(&LogFile{Interval: "Hourly", LogDate: lastHour, Sequence: 1, CreatedDate: now, Rows: d.usageRows(lastHour, time.Hour, 1), Retention: 30 * 24 * time.Hour})
			lastHour = h
		}
		if !d.surged && now.Sub(d.started) >= d.SurgeAfter {
			d.surged = true
			d.Surge()
		}
	}
}

// lowest is the smallest user index of a set.
func lowest(users map[int]bool) int {
	low := -1
	for u := range users {
		if low < 0 || u < low {
			low = u
		}
	}
	return low
}

// Surge plays both attack patterns at once, and posture changes: DocuSign
// opens to all users with tokens valid until revoked, gains the full scope
// and drops its IP restrictions, an admin's first token reaches
// Workbench's holders (a Workbench user becomes an admin), and a third
// user may use any API client.
func (d *Demo) Surge() {
	o := d.Org
	now := o.Now()
	o.UpdateApp(d.apps["DocuSign"], func(a *App) {
		a.AdminApproved, a.RefreshPeriod = false, 0
		a.Scopes, a.IPRelaxation = []string{"Api", "RefreshToken", "Web", "Full"}, "BYPASS"
	})
	o.GrantUser(lowest(d.holders["Workbench"]), "", PermModifyAllData)
	o.GrantUser(d.users[392], "", PermUseAnyAPIClient)
	phish := o.AddApp(App{Name: "My Data Loader Pro", Installed: false})
	for i, u := range d.users[100:120] {
		o.AddToken(TokenSpec{User: u, App: phish, Created: now.Add(-time.Duration(i) * 7 * time.Second), LastUsed: now, UseCount: 3 + i})
		o.AddLogin(LoginSpec{User: u, App: "My Data Loader Pro", Time: now})
		o.AddSession(SessionSpec{User: u, App: "My Data Loader Pro", Created: now})
	}
	hour := now.UTC().Truncate(time.Hour)
	// Late data for the last hour, every row dated inside it: nine more
	// days' worth of Acme ERP Sync's requests (one day is 24 hours' worth),
	// a quarter of them failing, so its 24-hour requests grow tenfold.
	var rows []UsageRow
	for _, r := range d.usageRows(hour.Add(-time.Hour), time.Hour, DemoSurgeFactor) {
		if r.AppName == "Acme ERP Sync" {
			rows = append(rows, r)
		}
	}
	// A stolen token: the same integration calls from five networks it never
	// used and exports User and Account through Bulk API 2.0 query jobs, as
	// the 2025 thefts did; one of its logins comes from an IOC address.
	acme := o.Apps()[d.apps["Acme ERP Sync"]]
	for i := range 5 {
		obj := []string{"User", "Account"}[i%2]
		rows = append(rows, UsageRow{AppID: acme.ID[:15], AppName: acme.Name, StatusCode: 200, Time: hour.Add(-time.Hour + time.Duration(i)*time.Minute), Count: 200, User: 1, ClientIP: ReplayIP(i, i), Entity: obj,
			Resource: "/v66.0/jobs/query/750" + strconv.Itoa(i) + "/results"})
	}
	o.AddLogin(LoginSpec{User: d.users[1], App: acme.Name, Time: now, SourceIP: IOCAddress})
	// Threat Detection scores the replay high, and stores it within a minute.
	o.AddThreat(ThreatSpec{Store: ThreatAPIAnomaly, User: d.users[1], Time: now, Score: 92, SourceIP: ReplayIP(0, 0), WrittenAfter: 30 * time.Second,
		Summary: "API queries of User and Account far above the user's usual volume"})
	o.AddLogFile(&LogFile{Interval: "Hourly", LogDate: hour.Add(-time.Hour), Sequence: 2, CreatedDate: now, Rows: rows, Retention: 30 * 24 * time.Hour})
}
