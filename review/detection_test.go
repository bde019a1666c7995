package review

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

const (
	erpID    = "0H4000000000ErpAAA"
	mobileID = "0H4000000000MobAAA"
	erpUser  = "005000000000001AAA"
)

var trafficDay0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// trafficOrg is one org's detection baseline, fed day by day: an
// integration calling from its three fixed networks and a mobile app whose
// 300 users call from a new residential network every day.
type trafficOrg struct {
	t  *testing.T
	tr *detect.Tracker
	n  int // days ingested
}

func newTrafficOrg(t *testing.T) *trafficOrg {
	t.Helper()
	tr, err := detect.New(detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	list, err := detect.ParseIOCList("unc6395", "test", strings.NewReader(sftest.IOCAddress+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	ioc, err := detect.NewIOCSet([]detect.IOCList{list})
	if err != nil {
		t.Fatal(err)
	}
	tr.SetIOC(ioc)
	return &trafficOrg{t: t, tr: tr}
}

type dayOpts struct {
	replay       bool   // five new networks, by the integration's user
	replayObject string // what the replay reads (default User and Account)
	iocRequest   bool   // ten requests from the IOC address
}

// day ingests the next day's Daily file.
func (o *trafficOrg) day(opt dayOpts) {
	day := trafficDay0.AddDate(0, 0, o.n)
	in := o.tr.Begin(detect.Period{Key: "D|" + day.Format(time.DateOnly), Interval: "Daily", Start: day, FileID: fmt.Sprint("0AT", o.n)})
	names := map[string]string{erpID: "Acme ERP Sync", mobileID: "Salesforce Mobile App"}
	add := func(at time.Time, id, ip, entity, user string, n int) {
		for range n {
			in.Add(&detect.Row{Time: at.Unix(), AppID: []byte(id), AppName: []byte(names[id]), ClientIP: []byte(ip), EntityName: []byte(entity), UserID: []byte(user), StatusCode: 200})
		}
	}
	for i := range 3 {
		add(day.Add(time.Duration(1+4*i)*time.Hour), erpID, sftest.IntegrationIP("Acme ERP Sync", i), "Opportunity", erpUser, 300)
	}
	for u := range 300 {
		add(day.Add(time.Duration(u%24)*time.Hour), mobileID, sftest.MobileIP(u, o.n), "Account", fmt.Sprintf("005000000000%03dAAA", u+100), 30)
	}
	if opt.replay {
		for i := range 5 {
			obj := opt.replayObject
			if obj == "" {
				obj = []string{"User", "Account"}[i%2]
			}
			add(day.Add(time.Duration(12+i)*time.Hour), erpID, sftest.ReplayIP(i, i), obj, erpUser, 100)
		}
	}
	if opt.iocRequest {
		add(day.Add(20*time.Hour), erpID, sftest.IOCAddress, "Contact", erpUser, 10)
	}
	o.tr.Commit(in)
	o.n++
}

// snapshot is what a refresher publishes over the tracker.
func (o *trafficOrg) snapshot() *snapshot.Snapshot {
	snap := &snapshot.Snapshot{Org: "prod", Sources: map[string]snapshot.SourceStatus{}}
	names := map[string]string{erpID[:15]: "Acme ERP Sync", mobileID[:15]: "Salesforce Mobile App"}
	ids := map[string]string{erpID[:15]: erpID, mobileID[:15]: mobileID}
	for _, f := range o.tr.Figures() {
		snap.Apps = append(snap.Apps, snapshot.AppUsage{Name: names[f.Key], ID: ids[f.Key], Kind: snapshot.KindConnectedApp, Installed: true, Known: true, HasTokens: true,
			TokenStats: salesforce.TokenStats{Users: 1, Tokens: 1}, Detection: &f})
	}
	cfg := o.tr.Config()
	snap.Detection = &snapshot.DetectionInfo{SensitiveObjects: cfg.SensitiveObjects, IOCLists: []string{"unc6395"}, Tracker: o.tr, MinBaseline: cfg.MinBaseline}
	return snap
}

func (o *trafficOrg) report(opts Options) *Report {
	now := trafficDay0.AddDate(0, 0, o.n).Add(2 * time.Hour)
	d := &Detail{Taken: now, Tokens: []TokenRow{
		{App: "Acme ERP Sync", AppID: erpID, Kind: snapshot.KindConnectedApp, Username: "integration@example.com", UserID: erpUser, UserActive: true, AuthorizedAt: trafficDay0.AddDate(0, -6, 0), LastUsed: now},
	}}
	return Build(o.snapshot(), d, func(_, _, _ string) *config.InventoryEntry { return nil }, opts)
}

func findingsOf(r *Report, kinds ...string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if slices.Contains(kinds, f.Kind) {
			out = append(out, f)
		}
	}
	return out
}

func hasNote(r *Report, part string) bool {
	return slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, part) })
}

// Before min_baseline (7 days) nothing is new: three days of data and then
// five networks the app never used give no new-network finding, and the
// report says there is no baseline yet.
func TestDetectionNoBaselineYetNoNewNetwork(t *testing.T) {
	t.Parallel()
	o := newTrafficOrg(t)
	for range 3 {
		o.day(dayOpts{})
	}
	o.day(dayOpts{replay: true})
	r := o.report(DefaultOptions())
	if fs := findingsOf(r, KindNewNetwork, KindIOCMatch); len(fs) != 0 {
		t.Fatalf("findings without a baseline: %v", briefs(fs))
	}
	if !hasNote(r, "no baseline yet") || !hasNote(r, "min_baseline (7d)") {
		t.Fatalf("notes %q do not say there is no baseline yet", r.Notes)
	}
}

// No snapshot baseline at all (neither api_usage nor logins ran) says so.
func TestDetectionNoTrackerSaysSo(t *testing.T) {
	t.Parallel()
	o := newTrafficOrg(t)
	snap := o.snapshot()
	snap.Detection = nil
	r := Build(snap, &Detail{Taken: trafficDay0}, func(_, _, _ string) *config.InventoryEntry { return nil }, DefaultOptions())
	if !hasNote(r, "no detection baseline") || len(findingsOf(r, KindNewNetwork, KindIOCMatch)) != 0 {
		t.Fatalf("notes %q, findings %v", r.Notes, briefs(r.Findings))
	}
}

// A stolen token after ten quiet days: five new networks reading User and
// Account. Critical, ranked first, with the app's revoke --app-id command
// and the per-user evidence naming the user.
func TestDetectionTokenReplayIsCritical(t *testing.T) {
	t.Parallel()
	o := newTrafficOrg(t)
	for range 10 {
		o.day(dayOpts{})
	}
	o.day(dayOpts{replay: true})
	o.day(dayOpts{})
	opts := DefaultOptions()
	opts.ConfigFile = "conf/prod.yml"
	r := o.report(opts)
	if len(r.Findings) == 0 || brief(r.Findings[0]) != "critical new_network Acme ERP Sync" {
		t.Fatalf("findings %v", briefs(r.Findings))
	}
	f := r.Findings[0]
	if want := "salesforce_oauth_exporter revoke --config.file=conf/prod.yml --org=prod --app-id=" + erpID; f.Command != want || !strings.HasPrefix(f.ConfirmCommand, want+" --confirm --expect=") || !strings.HasSuffix(f.ConfirmCommand, " --audit-log=revocations.jsonl") {
		t.Errorf("command %q", f.Command)
	}
	if !strings.Contains(f.Summary, "5 networks") || !strings.Contains(f.Summary, "Account, User") || !slices.Contains(f.EvidenceData.UserNames, "integration@example.com") {
		t.Errorf("finding %+v", f)
	}
	// The mobile app roams every day: not flagged, and the notes say why.
	if fs := findingsOf(r, KindNewNetwork); len(fs) != 1 {
		t.Errorf("new-network findings %v", briefs(fs))
	}
	if !hasNote(r, "Salesforce Mobile App") {
		t.Errorf("notes %q do not name the roaming app", r.Notes)
	}
	var ev *AppDetection
	for _, a := range r.AppEvidence {
		if a.App == "Acme ERP Sync" {
			ev = a.Detection
		}
	}
	if ev == nil || len(ev.Networks) != 5 {
		t.Fatalf("evidence %+v", ev)
	}
	n := ev.Networks[0]
	if !strings.HasPrefix(n.Network, "198.18.") || n.Requests != 100 || len(n.Users) != 1 || n.Users[0].User != "integration@example.com" || n.Users[0].UserID != erpUser ||
		len(n.Objects) != 1 || (n.Objects[0].Name != "User" && n.Objects[0].Name != "Account") || !n.FirstSeen.Equal(trafficDay0.AddDate(0, 0, 10).Add(12*time.Hour)) {
		t.Errorf("network row %+v", n)
	}
	// Every format shows the section, the user and the command.
	for _, format := range Formats {
		var b bytes.Buffer
		if err := Write(&b, []*Report{r}, format); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, want := range []string{n.Network, "integration@example.com", "--app-id=" + erpID} {
			if format == "markdown" && !strings.HasPrefix(want, "--") {
				want = mdText(want) // an address is escaped, so it is no live link
			}
			if !strings.Contains(out, want) {
				t.Errorf("%s output lacks %q", format, want)
			}
		}
		if format != "json" && format != "csv" && !strings.Contains(out, "Acme ERP Sync: new networks") {
			t.Errorf("%s output has no new-networks section", format)
		}
	}
	// The served page's row limit cuts the section and says so.
	opts.MaxRows = 2
	r = o.report(opts)
	for _, a := range r.AppEvidence {
		if a.Detection != nil && (len(a.Detection.Networks) != 2 || a.Detection.MoreNetworks != 3) {
			t.Errorf("cut to %d networks, %d left out", len(a.Detection.Networks), a.Detection.MoreNetworks)
		}
	}
}

// New networks reading no sensitive object are a warning.
func TestDetectionNewNetworksWithoutSensitiveObjectsWarn(t *testing.T) {
	t.Parallel()
	o := newTrafficOrg(t)
	for range 9 {
		o.day(dayOpts{})
	}
	o.day(dayOpts{replay: true, replayObject: "Invoice__c"})
	fs := findingsOf(o.report(DefaultOptions()), KindNewNetwork)
	if len(fs) != 1 || brief(fs[0]) != "warning new_network Acme ERP Sync" {
		t.Fatalf("findings %v", briefs(fs))
	}
}

// A quiet fortnight: the integration never changes networks, the mobile
// app's users roam daily. The tracker counts the mobile app's networks as
// new every day, but no day is unusual for it: no finding on any day.
func TestDetectionRoamingMobileAppStaysQuiet(t *testing.T) {
	t.Parallel()
	o := newTrafficOrg(t)
	for n := range 16 {
		o.day(dayOpts{})
		if n < 8 {
			continue
		}
		r := o.report(DefaultOptions())
		if fs := findingsOf(r, KindNewNetwork, KindIOCMatch); len(fs) != 0 {
			t.Fatalf("day %d: findings %v", n, briefs(fs))
		}
		var mob *detect.AppFigures
		for _, a := range o.snapshot().Apps {
			if a.Name == "Salesforce Mobile App" {
				mob = a.Detection
			}
		}
		if mob == nil || !mob.BaselineReady || mob.RequestsFromNewNetworks == 0 {
			t.Fatalf("day %d: the tracker no longer sees the mobile app's networks as new: %+v", n, mob)
		}
	}
}

// One request burst from an IOC address is critical at once, baseline or
// not, and so is one OAuth login from it.
func TestDetectionIOCHitIsCritical(t *testing.T) {
	t.Parallel()
	o := newTrafficOrg(t)
	o.day(dayOpts{})
	o.day(dayOpts{iocRequest: true})
	now := trafficDay0.AddDate(0, 0, o.n).Add(2 * time.Hour)
	o.tr.Logins(now, []detect.Login{{Time: now.Add(-time.Hour), App: "Salesforce Mobile App", SourceIP: sftest.IOCAddress, UserID: "005000000000999AAA"}})
	r := o.report(DefaultOptions())
	fs := findingsOf(r, KindIOCMatch)
	if len(fs) == 0 || brief(r.Findings[0]) != "critical ioc_match Acme ERP Sync" {
		t.Fatalf("findings %v", briefs(r.Findings))
	}
	if !strings.Contains(fs[0].Summary, "10 API requests") || !strings.Contains(strings.Join(fs[0].Evidence, "\n"), "10 requests from "+sftest.IOCAddress+" (list unc6395) by integration@example.com") {
		t.Errorf("IOC finding %+v", fs[0])
	}
	// The mobile app's one login from the IOC address (LoginHistory names
	// the app) is its own critical finding.
	if len(fs) != 2 || brief(fs[1]) != "critical ioc_match Salesforce Mobile App" || !strings.Contains(fs[1].Summary, "had 1 OAuth login from addresses on IOC list unc6395") ||
		!strings.Contains(strings.Join(fs[1].Evidence, "\n"), "OAuth login "+fmtSeconds(now.Add(-time.Hour))+" from 208.68.36.0/24 (list unc6395) by 005000000000999AAA") {
		t.Fatalf("IOC findings %v: %+v", briefs(fs), fs)
	}
	var b bytes.Buffer
	if err := Write(&b, []*Report{r}, "csv"); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, rec := range recs {
		if rec[1] == "ioc_request" && rec[28] == sftest.IOCAddress && rec[4] == "integration@example.com" && rec[29] == "unc6395" {
			found = true
		}
	}
	if !found {
		t.Errorf("csv has no ioc_request row")
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"ioc_hits":[{"list":"unc6395","address":"`+sftest.IOCAddress+`"`) {
		t.Errorf("json lacks the IOC hit: %s", js)
	}
}

// An object name from the log is Salesforce's data, not ours: every format
// neutralizes it in the evidence section as it does app and user names.
func TestDetectionEvidenceIsNeutralized(t *testing.T) {
	t.Parallel()
	const evil = "=HYPERLINK\x1b<b>\u202eX"
	o := newTrafficOrg(t)
	for range 9 {
		o.day(dayOpts{})
	}
	o.day(dayOpts{replay: true, replayObject: evil})
	r := o.report(DefaultOptions())
	if len(findingsOf(r, KindNewNetwork)) != 1 {
		t.Fatalf("findings %v", briefs(r.Findings))
	}
	for _, format := range []string{"text", "markdown", "csv", "html"} {
		var b bytes.Buffer
		if err := Write(&b, []*Report{r}, format); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if strings.ContainsAny(out, "\x1b\u202e") {
			t.Errorf("%s output carries a raw control character of the object name", format)
		}
		if (format == "html" && strings.Contains(out, "<b>")) || (format == "markdown" && strings.Contains(strings.ReplaceAll(out, "\\<b", ""), "<b>")) {
			t.Errorf("%s output carries live markup of the object name", format)
		}
		if format == "csv" {
			recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range recs {
				if rec[1] == "new_network" && !strings.HasPrefix(rec[30], "'=HYPERLINK") {
					t.Errorf("csv objects cell %q is live", rec[30])
				}
			}
		}
	}
}
