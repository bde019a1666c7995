package detect

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

var day0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func mustNew(t testing.TB, cfg Config) *Tracker {
	t.Helper()
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// row is a test row with strings.
type row struct {
	at           time.Time
	id, name, ip string
	entity, user string
	n            int
}

// ingestDay commits one Daily file.
func ingestDay(tr *Tracker, day time.Time, rows []row) {
	in := tr.Begin(Period{Key: "D|" + day.Format(time.DateOnly), Interval: "Daily", Start: day, FileID: "0AT" + day.Format("0102")})
	addRows(in, rows)
	tr.Commit(in)
}

func addRows(in *Ingest, rows []row) {
	for _, r := range rows {
		for range max(r.n, 1) {
			var ts int64
			if !r.at.IsZero() {
				ts = r.at.Unix()
			}
			in.Add(&Row{Time: ts, AppID: []byte(r.id), AppName: []byte(r.name), ClientIP: []byte(r.ip), EntityName: []byte(r.entity), UserID: []byte(r.user), StatusCode: 200})
		}
	}
}

const erpID = "0H45j000000Erp1AAA"

// integrationDay is an integration calling from three fixed networks.
func integrationDay(day time.Time) []row {
	return []row{
		{at: day.Add(1 * time.Hour), id: erpID, name: "Acme ERP Sync", ip: "198.51.100.10", entity: "Opportunity", user: "005A", n: 400},
		{at: day.Add(5 * time.Hour), id: erpID, name: "Acme ERP Sync", ip: "198.51.101.77", entity: "Opportunity", user: "005A", n: 400},
		{at: day.Add(9 * time.Hour), id: erpID, name: "Acme ERP Sync", ip: "192.0.2.5", entity: "Invoice__c", user: "005A", n: 400},
		{at: day.Add(10 * time.Hour), id: erpID, name: "Acme ERP Sync", ip: "Salesforce.com IP", entity: "Invoice__c", user: "005A", n: 50},
	}
}

func figure(t *testing.T, tr *Tracker, key string) AppFigures {
	t.Helper()
	for _, f := range tr.Figures() {
		if f.Key == key {
			return f
		}
	}
	t.Fatalf("no figures for %s", key)
	return AppFigures{}
}

func sens(tr *Tracker, v []int64, name string) int64 {
	return v[slices.Index(tr.cfg.SensitiveObjects, name)]
}

func TestTokenReplay(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{})
	key := AppKey(erpID, "")
	for d := range 10 {
		ingestDay(tr, day0.AddDate(0, 0, d), integrationDay(day0.AddDate(0, 0, d)))
		f := figure(t, tr, key)
		if f.RequestsFromNewNetworks != 0 || f.NewObjects != 0 || f.Networks != 4 {
			t.Fatalf("day %d: quiet integration has %+v", d, f)
		}
	}
	// Day 10: the usual 1,250 requests, plus 625 (a third of the day) from
	// five networks it never used, reading User and Account.
	day := day0.AddDate(0, 0, 10)
	rows := integrationDay(day)
	for i := range 5 {
		rows = append(rows,
			row{at: day.Add(time.Duration(12+i) * time.Hour), id: erpID, name: "Acme ERP Sync", ip: fmt.Sprintf("185.220.%d.9", 100+i), entity: "User", user: "005A", n: 75},
			row{at: day.Add(time.Duration(12+i) * time.Hour), id: erpID, name: "Acme ERP Sync", ip: fmt.Sprintf("185.220.%d.10", 100+i), entity: "Account", user: "005A", n: 50})
	}
	ingestDay(tr, day, rows)
	f := figure(t, tr, key)
	if !f.BaselineReady || f.RequestsFromNewNetworks != 625 || f.Networks != 9 {
		t.Fatalf("replay: %+v", f)
	}
	if sens(tr, f.ObjectRequestsFromNewNetworks, "User") != 375 || sens(tr, f.ObjectRequestsFromNewNetworks, "Account") != 250 || sens(tr, f.ObjectRequestsFromNewNetworks, "Opportunity") != 0 {
		t.Fatalf("object requests from new networks: %v", f.ObjectRequestsFromNewNetworks)
	}
	if f.NewObjects != 2 || sens(tr, f.NewObjectRequests, "User") != 375 || sens(tr, f.NewObjectRequests, "Opportunity") != 0 {
		t.Fatalf("new objects %d %v", f.NewObjects, f.NewObjectRequests)
	}
	if sens(tr, f.ObjectRequests, "Opportunity") != 800 {
		t.Fatalf("object requests %v", f.ObjectRequests)
	}
	// The review's evidence: five networks, the user behind them.
	start, end := tr.APIWindow()
	ev := tr.Evidence(key, start, end)
	if len(ev) != 5 || ev[0].Requests != 125 || ev[0].Users[0] != (Count{"005A", 125}) || len(ev[0].Objects) != 2 || !strings.HasPrefix(ev[0].Network, "185.220.") || !strings.HasSuffix(ev[0].Network, ".0/24") {
		t.Fatalf("evidence %+v", ev)
	}
	// The next quiet day: the five networks are no longer new.
	ingestDay(tr, day.AddDate(0, 0, 1), integrationDay(day.AddDate(0, 0, 1)))
	if f := figure(t, tr, key); f.RequestsFromNewNetworks != 0 || f.Networks != 4 {
		t.Fatalf("day after: %+v", f)
	}
	// The weekly review, days later, still finds the evidence.
	for d := 2; d < 6; d++ {
		ingestDay(tr, day.AddDate(0, 0, d), integrationDay(day.AddDate(0, 0, d)))
	}
	if ev := tr.Evidence(key, day.AddDate(0, 0, -1), day.AddDate(0, 0, 7)); len(ev) != 5 || ev[0].Requests != 125 {
		t.Fatalf("evidence five days later: %+v", ev)
	}
}

func TestYoungBaselineCountsNothingNew(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{MinBaseline: 7 * 24 * time.Hour})
	for d := range 7 {
		day := day0.AddDate(0, 0, d)
		ingestDay(tr, day, append(integrationDay(day), row{id: erpID, name: "Acme ERP Sync", ip: fmt.Sprintf("203.0.%d.1", d), entity: "Contact"}))
		f := figure(t, tr, AppKey(erpID, ""))
		if f.BaselineReady || f.RequestsFromNewNetworks != 0 || f.NewObjects != 0 || slices.Max(f.NewObjectRequests) != 0 {
			t.Fatalf("day %d: young baseline counted: %+v", d, f)
		}
	}
	day := day0.AddDate(0, 0, 8)
	ingestDay(tr, day, append(integrationDay(day), row{id: erpID, name: "Acme ERP Sync", ip: "203.0.99.1", n: 3}))
	if f := figure(t, tr, AppKey(erpID, "")); !f.BaselineReady || f.RequestsFromNewNetworks != 3 {
		t.Fatalf("ready baseline: %+v", f)
	}
}

func TestReissuedFileReplacesItsPeriod(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{MinBaseline: 24 * time.Hour})
	for d := range 3 {
		ingestDay(tr, day0.AddDate(0, 0, d), integrationDay(day0.AddDate(0, 0, d)))
	}
	day := day0.AddDate(0, 0, 3)
	rows := append(integrationDay(day), row{id: erpID, ip: "203.0.113.5", entity: "Account", n: 10})
	ingestDay(tr, day, rows)
	a := figure(t, tr, AppKey(erpID, ""))
	ingestDay(tr, day, append(rows, row{id: erpID, ip: "203.0.113.6", entity: "Account", n: 2}))
	b := figure(t, tr, AppKey(erpID, ""))
	if a.RequestsFromNewNetworks != 10 || b.RequestsFromNewNetworks != 12 || sens(tr, b.ObjectRequests, "Account") != 12 {
		t.Fatalf("re-issue: before %+v after %+v", a, b)
	}
}

func TestHourlyFilesCountEveryRequestOfANewNetwork(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{MinBaseline: 24 * time.Hour})
	for d := range 3 {
		ingestDay(tr, day0.AddDate(0, 0, d), integrationDay(day0.AddDate(0, 0, d)))
	}
	day := day0.AddDate(0, 0, 3)
	for h := range 24 {
		at := day.Add(time.Duration(h) * time.Hour)
		in := tr.Begin(Period{Key: fmt.Sprintf("H|%d", h), Interval: "Hourly", Start: at})
		rows := []row{{at: at, id: erpID, ip: "198.51.100.10", n: 10}}
		if h >= 3 {
			rows = append(rows, row{at: at.Add(time.Minute), id: erpID, ip: "203.0.113.9", entity: "User", n: 2})
		}
		addRows(in, rows)
		tr.Commit(in)
	}
	f := figure(t, tr, AppKey(erpID, ""))
	if f.RequestsFromNewNetworks != 42 || sens(tr, f.ObjectRequestsFromNewNetworks, "User") != 42 || f.Networks != 2 {
		t.Fatalf("hourly: %+v", f)
	}
	// A Daily file for the same day wins over its Hourly files.
	ingestDay(tr, day, []row{{id: erpID, ip: "198.51.100.10", n: 5}, {id: erpID, ip: "203.0.113.9", n: 1}})
	if f := figure(t, tr, AppKey(erpID, "")); f.RequestsFromNewNetworks != 1 {
		t.Fatalf("daily over hourly: %+v", f)
	}
}

func TestMobileRoamingIsSteady(t *testing.T) {
	t.Parallel()
	// A mobile app whose users roam over residential networks that change
	// daily: new networks every day, about the same share. The mixin stays
	// quiet on a steady share; here the figures must be steady and bounded.
	tr := mustNew(t, Config{MaxNetworksPerApp: 500})
	key := AppKey("0H45j000000Mob1", "")
	var shares []float64
	for d := range 20 {
		day := day0.AddDate(0, 0, d)
		var rows []row
		for u := range 100 {
			// Each user: a home network that stays, and a new one a day.
			rows = append(rows, row{id: "0H45j000000Mob1", ip: fmt.Sprintf("100.%d.%d.7", 64+u/200, u%200), entity: "Account", user: fmt.Sprint("005U", u), n: 6},
				row{id: "0H45j000000Mob1", ip: fmt.Sprintf("%d.%d.%d.1", 20+d, u/100, u%100), entity: "Contact", user: fmt.Sprint("005U", u), n: 3})
		}
		ingestDay(tr, day, rows)
		f := figure(t, tr, key)
		if len(tr.apps[key].nets) > 500 {
			t.Fatalf("day %d: %d networks over the cap", d, len(tr.apps[key].nets))
		}
		if f.BaselineReady {
			shares = append(shares, float64(f.RequestsFromNewNetworks)/900)
		}
	}
	if len(shares) == 0 || slices.Min(shares) != slices.Max(shares) || shares[0] != 300.0/900 {
		t.Fatalf("roaming shares %v", shares)
	}
}

func TestEvictionKeepsTheRecent(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{MaxNetworksPerApp: 10, MaxObjectsPerApp: 10})
	for d := range 30 {
		day := day0.AddDate(0, 0, d)
		ingestDay(tr, day, []row{{id: erpID, ip: "198.51.100.1", entity: "Account"}, {id: erpID, ip: fmt.Sprintf("10.0.%d.1", d), entity: fmt.Sprintf("Obj%d__c", d)}})
	}
	a := tr.apps[AppKey(erpID, "")]
	if len(a.nets) > 10 || len(a.objs) > 10 {
		t.Fatalf("over the cap: %d networks, %d objects", len(a.nets), len(a.objs))
	}
	k, _ := tr.g.key([]byte("198.51.100.1"))
	if e, ok := a.nets[k]; !ok || e.first != hourOf(day0.Unix()) {
		t.Fatal("the network seen every day was evicted or lost its first-seen time")
	}
	last, _ := tr.g.key([]byte("10.0.29.1"))
	first, _ := tr.g.key([]byte("10.0.0.1"))
	if _, ok := a.nets[last]; !ok {
		t.Fatal("the newest network was evicted")
	}
	if _, ok := a.nets[first]; ok {
		t.Fatal("the oldest network was kept")
	}
}

func TestGrouping(t *testing.T) {
	t.Parallel()
	g := grouper{v4: 24, v6: 48}
	for in, want := range map[string]string{
		"203.0.113.7":           "203.0.113.0/24",
		" 203.0.113.200 ":       "203.0.113.0/24",
		"::ffff:203.0.113.7":    "203.0.113.0/24",
		"2001:db8:abcd:12::1":   "2001:db8:abcd::/48",
		"fe80::1%eth0":          "fe80::/48",
		"Salesforce.com IP":     BucketSalesforce,
		"salesforce.com ip":     BucketSalesforce,
		"":                      BucketEmpty,
		"203.0.113.07":          BucketInvalid,
		"203.0.113":             BucketInvalid,
		"256.1.1.1":             BucketInvalid,
		"203.0.113.7, 10.0.0.1": BucketInvalid,
		"not an address":        BucketInvalid,
	} {
		k, _ := g.key([]byte(in))
		if got := g.String(k); got != want {
			t.Errorf("%q: got %s, want %s", in, got, want)
		}
	}
	g16 := grouper{v4: 16, v6: 32}
	k, _ := g.key([]byte("203.0.113.7"))
	if k2, ok := g16.remask(k, 24, 48); !ok || g16.String(k2) != "203.0.0.0/16" {
		t.Errorf("remask to /16: %v %s", ok, g16.String(k2))
	}
	if _, ok := (grouper{v4: 28, v6: 48}).remask(k, 24, 48); ok {
		t.Error("remask to a longer prefix claimed to work")
	}
}

func TestSpecialBucketsAreNeverNew(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{MinBaseline: 24 * time.Hour})
	for d := range 3 {
		ingestDay(tr, day0.AddDate(0, 0, d), []row{{id: erpID, ip: "198.51.100.1", n: 5}})
	}
	ingestDay(tr, day0.AddDate(0, 0, 3), []row{{id: erpID, ip: "198.51.100.1"}, {id: erpID, ip: "Salesforce.com IP", n: 4}, {id: erpID, ip: "", n: 4}, {id: erpID, ip: "garbage", n: 4}})
	if f := figure(t, tr, AppKey(erpID, "")); f.RequestsFromNewNetworks != 0 || f.Networks != 4 {
		t.Fatalf("special buckets: %+v", f)
	}
}

func TestEntitySets(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{})
	ingestDay(tr, day0, []row{{id: erpID, ip: "198.51.100.1", entity: "{Account, Contact}"}, {id: erpID, ip: "198.51.100.1", entity: "Lead;Case"}, {id: erpID, ip: "198.51.100.1", entity: "account"}})
	f := figure(t, tr, AppKey(erpID, ""))
	for _, o := range []string{"Account", "Contact", "Lead", "Case"} {
		want := int64(1)
		if o == "Account" {
			want = 2
		}
		if got := sens(tr, f.ObjectRequests, o); got != want {
			t.Errorf("%s: %d requests, want %d", o, got, want)
		}
	}
}

func TestRowTimesAreClamped(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{})
	in := tr.Begin(Period{Key: "D", Interval: "Daily", Start: day0})
	addRows(in, []row{{at: day0.Add(-time.Hour), id: erpID, ip: "198.51.100.1"}, {at: day0.Add(30 * time.Hour), id: erpID, ip: "198.51.100.2"}, {id: erpID, ip: "198.51.100.3"}})
	tr.Commit(in)
	if in.Clamped() != 2 || in.Rows() != 3 {
		t.Fatalf("clamped %d rows %d", in.Clamped(), in.Rows())
	}
	for _, e := range tr.apps[AppKey(erpID, "")].nets {
		if e.first < hourOf(day0.Unix()) || e.last >= hourOf(day0.Unix())+24 {
			t.Fatalf("a time outside the period reached the baseline: %+v", e)
		}
	}
}

func TestIOC(t *testing.T) {
	t.Parallel()
	l, err := ParseIOCList("campaign", "bad.txt", strings.NewReader("# comment\n203.0.113.7\n198.51.100.0/24 # a range\n\n2001:db8:dead::/48\n"))
	if err != nil {
		t.Fatal(err)
	}
	other := IOCList{Name: "tor", Prefixes: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}}
	s, err := NewIOCSet([]IOCList{l, other})
	if err != nil {
		t.Fatal(err)
	}
	for ip, want := range map[string]uint64{"203.0.113.7": 3, "203.0.113.8": 2, "198.51.100.255": 1, "2001:db8:dead:1::5": 1, "2001:db8:beef::1": 0, "::ffff:203.0.113.7": 3, "192.0.2.1": 0, "Salesforce.com IP": 0} {
		if got := s.MatchString(ip); got != want {
			t.Errorf("%s: mask %b, want %b", ip, got, want)
		}
	}
	for text, want := range map[string]string{
		"evil.example.com\n10.0.0.0/33\n": `bad.txt: none of its 2 lines with content holds an IP address or CIDR prefix (the first: bad.txt:1: "evil.example.com"): is this the right file?`,
		"fe80::1%eth0\n":                  `bad.txt:1: "fe80::1%eth0" has an IPv6 zone; write the address without %zone`,
		"203.0.113.7\n0.0.0.0/0\n":        `bad.txt:2: 0.0.0.0/0 is shorter than /8: it would match a large part of the Internet (every app would page); list the attacker's own networks`,
		"::/0\n":                          `bad.txt:1: ::/0 is shorter than /16: it would match a large part of the Internet (every app would page); list the attacker's own networks`,
		"::ffff:0.0.0.0/96\n":             `bad.txt:1: 0.0.0.0/0 is shorter than /8: it would match a large part of the Internet (every app would page); list the attacker's own networks`,
	} {
		if _, err := ParseIOCList("x", "bad.txt", strings.NewReader(text)); err == nil || err.Error() != want {
			t.Errorf("%q: got %v, want %s", text, err, want)
		}
	}
	if _, err := NewIOCSet([]IOCList{l, l}); err == nil {
		t.Error("duplicate list names accepted")
	}

	tr := mustNew(t, Config{})
	tr.SetIOC(s)
	ingestDay(tr, day0, []row{{id: erpID, ip: "198.51.100.1", n: 5}, {id: erpID, ip: "203.0.113.7", user: "005X", n: 2}, {id: erpID, ip: "203.0.113.9", user: "005Y"}})
	f := figure(t, tr, AppKey(erpID, ""))
	if f.IOCRequests["campaign"] != 7 || f.IOCRequests["tor"] != 3 {
		t.Fatalf("ioc requests %v", f.IOCRequests)
	}
	hits := tr.IOCHits(AppKey(erpID, ""), day0, day0.AddDate(0, 0, 1))
	if len(hits) != 4 || hits[0] != (IOCHit{List: "campaign", Address: "198.51.100.1", User: "", Requests: 5, First: day0, Last: day0}) {
		t.Fatalf("ioc hits %+v", hits)
	}
}

func TestLogins(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{MinBaseline: 48 * time.Hour})
	s, _ := NewIOCSet([]IOCList{{Name: "campaign", Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}})
	tr.SetIOC(s)
	for d := range 4 {
		ingestDay(tr, day0.AddDate(0, 0, d), integrationDay(day0.AddDate(0, 0, d)))
	}
	now := day0.AddDate(0, 0, 5).Add(12 * time.Hour)
	logins := []Login{
		{Time: now.Add(-2 * time.Hour), App: "acme erp sync", SourceIP: "198.51.100.10", UserID: "005A"},
		{Time: now.Add(-1 * time.Hour), App: "Acme ERP Sync", SourceIP: "203.0.113.50", UserID: "005B"},
		{Time: now.Add(-30 * time.Minute), App: "Acme ERP Sync", SourceIP: "192.0.2.66", UserID: "005C"},
		{Time: now.Add(-30 * time.Hour), App: "Acme ERP Sync", SourceIP: "203.0.114.1", UserID: "005D"}, // outside the window
		{Time: now.Add(-10 * time.Minute), App: "Brand New App", SourceIP: "203.0.115.1", UserID: "005E"},
	}
	tr.Logins(now, logins)
	f := figure(t, tr, AppKey(erpID, ""))
	// 192.0.2.0/24 is one of the integration's networks: an IOC hit, not new.
	if f.LoginsFromNewNetworks != 1 || f.IOCLogins["campaign"] != 1 {
		t.Fatalf("logins: %+v", f)
	}
	if nf := figure(t, tr, "n:brand new app"); nf.LoginsFromNewNetworks != 0 {
		t.Fatalf("an app without a baseline counted a new network: %+v", nf)
	}
	ev := tr.LoginEvidence(AppKey(erpID, ""))
	if len(ev) != 2 || ev[0].UserID != "005B" || !ev[0].New || ev[0].Network != "203.0.113.0/24" || ev[1].IOCLists[0] != "campaign" {
		t.Fatalf("login evidence %+v", ev)
	}
	// The same window again (the next refresh, or after a restart): same figures.
	tr.Logins(now.Add(time.Minute), logins)
	if f := figure(t, tr, AppKey(erpID, "")); f.LoginsFromNewNetworks != 1 {
		t.Fatalf("repeat: %+v", f)
	}
	if tr.LoginAppKey("ACME ERP SYNC") != AppKey(erpID, "") {
		t.Fatal("login app not found by name")
	}
}

func TestNameKeyedAppMergesIntoItsID(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{})
	tr.Logins(day0.Add(time.Hour), []Login{{Time: day0, App: "Acme ERP Sync", SourceIP: "198.51.100.10"}})
	ingestDay(tr, day0.AddDate(0, 0, 1), integrationDay(day0.AddDate(0, 0, 1)))
	if _, ok := tr.apps["n:acme erp sync"]; ok {
		t.Fatal("the name-keyed app was not merged")
	}
	a := tr.apps[AppKey(erpID, "")]
	if a.since != hourOf(day0.Unix()) {
		t.Fatalf("since %d, want the login's hour", a.since)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, c := range []Config{{IPv4Prefix: 33}, {IPv6Prefix: 8}, {SensitiveObjects: []string{"Account", "account"}}, {SensitiveObjects: []string{"Account,Contact"}}, {MaxNetworksPerApp: 5}, {MinBaseline: -time.Hour}} {
		if _, err := New(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func TestMaxApps(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{MaxApps: 2})
	ingestDay(tr, day0, []row{{id: "0H4000000000001", ip: "198.51.100.1"}, {id: "0H4000000000002", ip: "198.51.100.1"}, {id: "0H4000000000003", ip: "198.51.100.1", n: 4}})
	ingestDay(tr, day0.AddDate(0, 0, 1), []row{{id: "0H4000000000003", ip: "198.51.100.1", n: 2}, {id: "0H4000000000001", ip: "198.51.100.1"}})
	if len(tr.Figures()) != 2 || tr.DroppedRows() != 6 {
		t.Fatalf("%d apps, %d dropped rows", len(tr.Figures()), tr.DroppedRows())
	}
}

func TestConcurrentReadersDuringIngest(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{MinBaseline: time.Hour})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for d := range 5 {
			ingestDay(tr, day0.AddDate(0, 0, d), append(integrationDay(day0.AddDate(0, 0, d)), row{id: erpID, ip: fmt.Sprintf("203.0.%d.1", d), user: "005Z"}))
			tr.Logins(day0.AddDate(0, 0, d+1), []Login{{Time: day0.AddDate(0, 0, d), App: "Acme ERP Sync", SourceIP: "203.0.113.1"}})
		}
	}()
	for {
		select {
		case <-done:
			if f := figure(t, tr, AppKey(erpID, "")); f.RequestsFromNewNetworks != 1 {
				t.Fatalf("%+v", f)
			}
			return
		default:
			_ = tr.Figures()
			s, e := tr.APIWindow()
			_ = tr.Evidence(AppKey(erpID, ""), s, e)
			_, _ = tr.MarshalBinary()
		}
	}
}

func TestFileWithMoreNetworksThanTheCapStaysBounded(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{MaxNetworksPerApp: 10, MinBaseline: time.Hour})
	ingestDay(tr, day0, []row{{id: erpID, ip: "198.51.100.1"}})
	var rows []row
	for i := range 100 {
		rows = append(rows, row{id: erpID, ip: fmt.Sprintf("10.%d.%d.1", i/250, i%250), entity: "User"})
	}
	in := tr.Begin(Period{Key: "D1", Interval: "Daily", Start: day0.AddDate(0, 0, 1)})
	addRows(in, rows)
	if n := len(in.apps[AppKey(erpID, "")].nets); n > 40 {
		t.Fatalf("%d networks staged, over four times the cap", n)
	}
	tr.Commit(in)
	f := figure(t, tr, AppKey(erpID, ""))
	if f.RequestsFromNewNetworks != 100 || sens(tr, f.ObjectRequestsFromNewNetworks, "User") != 100 {
		t.Fatalf("%+v", f)
	}
}
