package refresh

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// detectionOrg is a fake org with an integration and a mobile app whose
// users roam, and a refresher over it reading api_usage and logins, with the
// public IOC list's address on a list named "unc6395".
type detectionOrg struct {
	t        *testing.T
	org      *sftest.Org
	cfg      config.Org
	storage  string
	settings Settings
	erp, mob sftest.App
	r        *Refresher
	// extra, when set, adds rows to each day's file.
	extra func(ld time.Time, n int) []sftest.UsageRow
}

var detectDay0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func newDetectionOrg(t *testing.T) *detectionOrg {
	t.Helper()
	org := sftest.NewOrg()
	org.SetNow(detectDay0)
	erp := org.AddApp(sftest.App{Name: "Acme ERP Sync", Installed: true, Integration: true})
	mob := org.AddApp(sftest.App{Name: "Salesforce Mobile App", Installed: true})
	for i := range 300 {
		org.AddUser(fmt.Sprintf("user%03d@example.com", i), true)
	}
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	list, err := detect.ParseIOCList("unc6395", "test", strings.NewReader(sftest.IOCAddress+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	ioc, err := detect.NewIOCSet([]detect.IOCList{list})
	if err != nil {
		t.Fatal(err)
	}
	d := &detectionOrg{t: t, org: org, cfg: testOrgConfig(t, ts.URL, config.SourceAPIUsage, config.SourceLogins), storage: t.TempDir(),
		settings: Settings{StaleAfter: staleAfter, Inventory: func(_, _, _ string) *config.InventoryEntry { return nil }, IOC: ioc},
		erp:      org.Apps()[erp], mob: org.Apps()[mob]}
	d.restart()
	return d
}

// restart starts a new refresher on the same state folder, as an exporter
// restart does.
func (d *detectionOrg) restart() {
	d.t.Helper()
	r, err := NewRefresher(d.cfg, d.settings, d.storage, quiet, nil)
	if err != nil {
		d.t.Fatal(err)
	}
	d.r = r
}

// day publishes day n's Daily file and logins, and refreshes two hours
// after the day's end.
func (d *detectionOrg) day(n int, erp, mob sftest.TrafficSpec, iocLogin bool) {
	d.t.Helper()
	ld := detectDay0.AddDate(0, 0, n)
	erp.AppID, erp.AppName, erp.Profile, erp.Day, erp.DayIndex = d.erp.ID[:15], d.erp.Name, sftest.Integration, ld, n
	mob.AppID, mob.AppName, mob.Profile, mob.Day, mob.DayIndex = d.mob.ID, d.mob.Name, sftest.Mobile, ld, n
	if mob.Users == nil {
		mob.Users = make([]int, 300)
		for i := range mob.Users {
			mob.Users[i] = i
		}
		mob.Requests = 9000
	}
	rows := append(sftest.Traffic(erp), sftest.Traffic(mob)...)
	if d.extra != nil {
		rows = append(rows, d.extra(ld, n)...)
	}
	d.org.SetNow(ld.Add(24*time.Hour + 2*time.Hour))
	d.org.AddLogFile(&sftest.LogFile{LogDate: ld, CreatedDate: ld.Add(25 * time.Hour), Rows: rows})
	// Logins of the 24 hours before now: the day shifted by two hours.
	for _, l := range append(erp.LoginSpecs(iocLogin), mob.LoginSpecs(false)...) {
		l.Time = l.Time.Add(2 * time.Hour)
		d.org.AddLogin(l)
	}
	// Twice: the client learns the fake's jump in time from the first
	// response's Date header, and the logins window follows the org's clock.
	for range 2 {
		if err := d.r.RefreshAll(d.t.Context()); err != nil {
			d.t.Fatal(err)
		}
	}
}

func (d *detectionOrg) figures(name string) *detect.AppFigures {
	d.t.Helper()
	a := findApp(d.t, d.r.Snapshot(), name)
	if a.Detection == nil {
		d.t.Fatalf("%s has no detection figures", name)
	}
	return a.Detection
}

func objectCount(s *snapshot.Snapshot, v []int64, object string) int64 {
	i := slices.Index(s.Detection.SensitiveObjects, object)
	if i < 0 || i >= len(v) {
		return -1
	}
	return v[i]
}

// Scenarios (1) token replay and (4) a restart in the middle: a known
// integration keeps its usual volume, then a third of a day's requests come
// from five networks it never used and read User and Account. The baseline
// is kept in the state file across the restart, so the replay is still seen
// (a lost baseline would count nothing as new for another week), and the
// quiet days around the restart count nothing as new.
func TestDetectionTokenReplayAcrossRestart(t *testing.T) {
	t.Parallel()
	d := newDetectionOrg(t)
	for n := range 10 {
		// The fake's odd rows (an empty and an unparsable CLIENT_IP, an
		// IPv4-mapped IPv6 address of a usual network) and ENTITY_NAME sets
		// must not count as new either.
		if n == 5 {
			d.restart()
		}
		d.day(n, sftest.TrafficSpec{Odd: true, EntitySet: true}, sftest.TrafficSpec{IPv6: true}, false)
		f := d.figures("Acme ERP Sync")
		if n >= 8 && (!f.BaselineReady || f.RequestsFromNewNetworks != 0 || f.NewObjects != 0 || f.LoginsFromNewNetworks != 0) {
			t.Fatalf("day %d: quiet integration: %+v", n, f)
		}
		if !f.BaselineStart.Equal(detectDay0) {
			t.Fatalf("day %d: baseline starts %v, want %v (kept across the restart)", n, f.BaselineStart, detectDay0)
		}
	}
	d.restart()
	d.day(10, sftest.TrafficSpec{TokenReplay: true, Odd: true, EntitySet: true}, sftest.TrafficSpec{IPv6: true}, false)
	snap := d.r.Snapshot()
	f := d.figures("Acme ERP Sync")
	// 1,000 usual requests plus 500 from five new networks.
	if f.RequestsFromNewNetworks != 500 {
		t.Fatalf("requests from new networks %d, want 500: %+v", f.RequestsFromNewNetworks, f)
	}
	if u, a := objectCount(snap, f.ObjectRequestsFromNewNetworks, "User"), objectCount(snap, f.ObjectRequestsFromNewNetworks, "Account"); u != 250 || a != 250 {
		t.Fatalf("sensitive requests from new networks: User %d Account %d, want 250 each", u, a)
	}
	if f.Networks < 5+3 {
		t.Fatalf("networks %d, want the three usual and the five new", f.Networks)
	}
	// The state file holds the baseline; its size stays small.
	st, err := os.Stat(stateFile(d.storage, "test"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 1<<20 {
		t.Errorf("state file is %d bytes for two apps", st.Size())
	}
	// The review's evidence names the new networks and the user behind them.
	start, end := d.r.detect.tr.APIWindow()
	ev := d.r.detect.tr.Evidence(f.Key, start, end)
	if len(ev) != 5 || !strings.HasPrefix(ev[0].Network, "198.18.") || len(ev[0].Users) != 1 {
		t.Fatalf("evidence %+v", ev)
	}
}

// Scenario (2): one OAuth login from an IOC address counts on the IOC list,
// and API requests from it too.
func TestDetectionIOCLogin(t *testing.T) {
	t.Parallel()
	d := newDetectionOrg(t)
	d.day(0, sftest.TrafficSpec{}, sftest.TrafficSpec{}, false)
	f := d.figures("Acme ERP Sync")
	if f.IOCLogins["unc6395"] != 0 || f.IOCRequests["unc6395"] != 0 {
		t.Fatalf("IOC counted on a clean day: %+v", f)
	}
	if got := d.r.Snapshot().Detection.IOCLists; !slices.Equal(got, []string{"unc6395"}) {
		t.Fatalf("IOC lists %v", got)
	}
	d.day(1, sftest.TrafficSpec{}, sftest.TrafficSpec{}, true)
	if f := d.figures("Acme ERP Sync"); f.IOCLogins["unc6395"] != 1 {
		t.Fatalf("IOC logins %v, want 1 (baseline young or not)", f.IOCLogins)
	}
	if f := d.figures("Salesforce Mobile App"); f.IOCLogins["unc6395"] != 0 {
		t.Fatalf("mobile app: IOC logins %v", f.IOCLogins)
	}
	// A reload without the list: the next refresh no longer matches it.
	d.settings.IOC = nil
	d.r.SetSettings(d.settings)
	d.day(2, sftest.TrafficSpec{}, sftest.TrafficSpec{}, true)
	if f := d.figures("Acme ERP Sync"); f.IOCLogins["unc6395"] != 0 || len(d.r.Snapshot().Detection.IOCLists) != 0 {
		t.Fatalf("after the list was removed: %v %v", f.IOCLogins, d.r.Snapshot().Detection.IOCLists)
	}
}

// Scenario (3): a quiet week for the mobile app whose users roam across
// hundreds of networks. Its share of requests from new networks is high
// every day, but steady: the alert, which wants twice the highest share of
// the week before, stays quiet. The integration's share stays 0.
func TestDetectionQuietWeekForRoamingMobileApp(t *testing.T) {
	t.Parallel()
	d := newDetectionOrg(t)
	var shares []float64
	for n := range 16 {
		d.day(n, sftest.TrafficSpec{}, sftest.TrafficSpec{}, false)
		f := d.figures("Salesforce Mobile App")
		a := findApp(t, d.r.Snapshot(), "Salesforce Mobile App")
		if n < 8 {
			continue
		}
		if !f.BaselineReady || f.Networks < 200 {
			t.Fatalf("day %d: mobile app %d networks, baseline ready %v", n, f.Networks, f.BaselineReady)
		}
		shares = append(shares, float64(f.RequestsFromNewNetworks)/float64(a.Requests24h))
		if e := d.figures("Acme ERP Sync"); e.RequestsFromNewNetworks != 0 {
			t.Fatalf("day %d: integration %d requests from new networks", n, e.RequestsFromNewNetworks)
		}
	}
	for i := 1; i < len(shares); i++ {
		if hist := slices.Max(shares[:i]); shares[i] > 2*hist {
			t.Fatalf("day %d: share %.2f is over twice the week's highest %.2f: the alert would page (%v)", 8+i, shares[i], hist, shares)
		}
	}
}

// A damaged baseline in the state file starts fresh; the rest of the state
// (the usage counts) is kept and nothing fails.
func TestDetectionDamagedStateStartsFresh(t *testing.T) {
	t.Parallel()
	d := newDetectionOrg(t)
	d.day(0, sftest.TrafficSpec{}, sftest.TrafficSpec{}, false)
	st := loadState(d.storage, "test", quiet)
	if len(st.Detection) == 0 {
		t.Fatal("the state file holds no detection baseline")
	}
	st.Detection = []byte("not a baseline")
	if err := saveState(d.storage, st); err != nil {
		t.Fatal(err)
	}
	d.restart()
	d.day(1, sftest.TrafficSpec{}, sftest.TrafficSpec{}, false)
	f := d.figures("Acme ERP Sync")
	if want := detectDay0.AddDate(0, 0, 1); !f.BaselineStart.Equal(want) {
		t.Fatalf("baseline starts %v, want a fresh one at %v", f.BaselineStart, want)
	}
	if a := findApp(t, d.r.Snapshot(), "Acme ERP Sync"); a.Requests7d < 2000 {
		t.Fatalf("usage counts lost with the baseline: 7d=%d", a.Requests7d)
	}
}

// A reload that changes the grouping regroups the kept baseline.
func TestDetectionReloadRegroups(t *testing.T) {
	t.Parallel()
	d := newDetectionOrg(t)
	d.day(0, sftest.TrafficSpec{}, sftest.TrafficSpec{}, false)
	before := d.figures("Acme ERP Sync")
	d.settings.Detection = detect.Config{IPv4Prefix: 8}
	d.r.SetSettings(d.settings)
	d.r.publish()
	after := d.figures("Acme ERP Sync")
	if !after.BaselineStart.Equal(before.BaselineStart) || after.Networks >= before.Networks || after.Networks == 0 {
		t.Fatalf("regrouped: %d networks (was %d), baseline %v (was %v)", after.Networks, before.Networks, after.BaselineStart, before.BaselineStart)
	}
}

// The snapshot says when the baseline started from nothing, and why: no
// state on a first start, nothing after a restart that kept it, the
// baseline's own damage, and a state file set aside.
func TestDetectionResetSaysWhy(t *testing.T) {
	t.Parallel()
	d := newDetectionOrg(t)
	d.day(0, sftest.TrafficSpec{}, sftest.TrafficSpec{}, false)
	reset := func(want string) {
		t.Helper()
		got := d.r.Snapshot().DetectionReset
		if got.Reason != want || (want != "") == got.At.IsZero() {
			t.Fatalf("reset = %+v, want reason %q", got, want)
		}
	}
	reset(snapshot.DetectionResetNoState)

	d.restart()
	d.day(1, sftest.TrafficSpec{}, sftest.TrafficSpec{}, false)
	reset("")

	st := loadState(d.storage, "test", quiet)
	st.Detection = []byte("not a baseline")
	if err := saveState(d.storage, st); err != nil {
		t.Fatal(err)
	}
	d.restart()
	d.day(2, sftest.TrafficSpec{}, sftest.TrafficSpec{}, false)
	reset(snapshot.DetectionResetUnreadable)

	if err := os.WriteFile(stateFile(d.storage, "test"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	d.restart()
	d.day(3, sftest.TrafficSpec{}, sftest.TrafficSpec{}, false)
	reset(snapshot.DetectionResetSetAside)

	// The state written since holds the new baseline: the next start
	// restores it.
	d.restart()
	d.day(4, sftest.TrafficSpec{}, sftest.TrafficSpec{}, false)
	reset("")
}
