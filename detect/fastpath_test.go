package detect

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// mixedRows is a file of everything the hot path tells apart: apps by Id
// (padded, 18- and 15-character forms of one Id), by name only (in any
// case) and with neither; IPv4 in a few networks and scattered, IPv6,
// IPv4-mapped, the special buckets, IOC addresses; plain, sensitive,
// lower-case and set-valued ENTITY_NAMEs; times inside and outside the
// period, in runs and interleaved.
func mixedRows(day time.Time, n int, seed uint64) []Row {
	r := rand.New(rand.NewPCG(seed, 7))
	apps := []struct{ id, name string }{
		{"0H45j000000A001AAA", "Alpha"}, {"0H45j000000A001", "Alpha"}, {" 0H45j000000A001AAA ", "Alpha renamed"},
		{"0H45j000000A002AAA", "Beta"}, {"0H45j000000A003AAA", ""}, {"", "Data Loader"}, {"", "data loader "},
		{"", ""}, {"", "Workbench"},
	}
	for i := range 30 {
		apps = append(apps, struct{ id, name string }{fmt.Sprintf("0H45j0000%06dAAA", 100+i), fmt.Sprintf("App %d", i)})
	}
	ips := func() string {
		switch r.IntN(12) {
		case 0:
			return fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(223), r.IntN(256), r.IntN(256), r.IntN(256))
		case 1:
			return fmt.Sprintf("2001:db8:%x:%x::%x", r.IntN(4), r.IntN(65536), r.IntN(65536))
		case 2:
			return "::ffff:198.51.100." + fmt.Sprint(r.IntN(256))
		case 3:
			return []string{"Salesforce.com IP", "salesforce.com ip", "", " ", "garbage", "198.51.100.07", "fe80::1%eth0"}[r.IntN(7)]
		case 4:
			return fmt.Sprintf("185.220.101.%d", r.IntN(256)) // on the IOC list
		case 5:
			return "192.0.2.1" // on the IOC list as a /32
		default:
			return fmt.Sprintf("198.51.%d.%d", r.IntN(3), r.IntN(256))
		}
	}
	entities := []string{"Account", "account", "Opportunity", "Invoice__c", "", "  Contact ", "{Account, Contact}", "Lead;Case|User", "User"}
	for i := range 40 {
		entities = append(entities, fmt.Sprintf("Obj%d__c", i))
	}
	rows := make([]Row, 0, n)
	for len(rows) < n {
		a := apps[r.IntN(len(apps))]
		ip, ent, user := ips(), entities[r.IntN(len(entities))], fmt.Sprintf("005%012d", r.IntN(20))
		ts := day.Unix() + r.Int64N(86400)
		switch r.IntN(20) {
		case 0:
			ts = 0
		case 1:
			ts = day.Unix() - 3600
		case 2:
			ts = day.Unix() + 86400 + 60
		}
		for range 1 + r.IntN(3) { // runs of the same row
			rows = append(rows, Row{Time: ts, AppID: []byte(a.id), AppName: []byte(a.name), ClientIP: []byte(ip), EntityName: []byte(ent), UserID: []byte(user), StatusCode: 200})
		}
	}
	return rows
}

// mixedTracker ingests days of mixedRows with caps small enough to be
// reached (networks past four times the cap, apps past MaxApps).
func mixedTracker(t testing.TB, days int) *Tracker {
	t.Helper()
	tr := mustNew(t, Config{MinBaseline: 48 * time.Hour, MaxNetworksPerApp: 20, MaxObjectsPerApp: 12, MaxApps: 30})
	s, err := NewIOCSet([]IOCList{{Name: "campaign", Prefixes: []netip.Prefix{netip.MustParsePrefix("185.220.101.0/24")}}, {Name: "one", Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("2001:db8:3::/48")}}})
	if err != nil {
		t.Fatal(err)
	}
	tr.SetIOC(s)
	for d := range days {
		day := day0.AddDate(0, 0, d)
		in := tr.Begin(Period{Key: fmt.Sprint("D", d), Interval: "Daily", Start: day, FileID: fmt.Sprint("0AT", d)})
		for _, r := range mixedRows(day, 3000, uint64(d)) {
			in.Add(&r)
		}
		tr.Commit(in)
	}
	return tr
}

// TestTopCountIsACappedMap: topCount counts as a map holding at most limit
// keys, the rest in other, would.
func TestTopCountIsACappedMap(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	// Keys that share their last eight bytes or a length test the fingerprint.
	pool := []string{"", "a", "ab", "User", "Account", "0055j00000AT001", "1055j00000AT001", "0055j00000AT001AAA", "X0055j00000AT001", "00AT001", "Account__c"}
	for i := range 20 {
		pool = append(pool, fmt.Sprintf("005%012d", i))
	}
	for trial := range 200 {
		limit := 1 + trial%evidenceSlots
		var tc topCount
		ref, other := map[string]int64{}, int64(0)
		for range r.IntN(60) {
			k := pool[r.IntN(len(pool))]
			tc.add([]byte(k), limit)
			if _, ok := ref[k]; ok || len(ref) < limit {
				ref[k]++
			} else {
				other++
			}
		}
		if got := tc.counts(); fmt.Sprint(got) != fmt.Sprint(ref) || tc.other != other {
			t.Fatalf("limit %d: got %v other %d, want %v other %d", limit, got, tc.other, ref, other)
		}
	}
}

// TestAddAllocatesNothingPerRow: once a file's apps, addresses, networks
// and objects have been seen, rows allocate nothing, evidence included
// (a new tracker: every network is young and keeps evidence).
func TestAddAllocatesNothingPerRow(t *testing.T) {
	tr := mustNew(t, Config{})
	in := tr.Begin(Period{Key: "D0", Interval: "Daily", Start: day0})
	rows := mixedRows(day0, 5000, 3)
	for _, r := range rows {
		in.Add(&r)
	}
	i := 0
	allocs := testing.AllocsPerRun(len(rows), func() {
		in.Add(&rows[i%len(rows)])
		i++
	})
	if allocs != 0 {
		t.Fatalf("%.2f allocations a row", allocs)
	}
	tr.Commit(in)
}

// refKey is grouper.key the slow way: net/netip for every address.
func refKey(g grouper, b []byte) (netKey, netip.Addr) {
	s := strings.TrimSpace(string(b))
	switch {
	case s == "":
		return netKey{kind: kindEmpty}, netip.Addr{}
	case strings.EqualFold(s, BucketSalesforce):
		return netKey{kind: kindSalesforce}, netip.Addr{}
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netKey{kind: kindInvalid}, netip.Addr{}
	}
	return g.addrKey(a), a.WithZone("").Unmap()
}

// checkKey compares the fast paths (parseV4, grouper.key, the IOC match of
// an IPv4 address by number) with net/netip.
func checkKey(t *testing.T, ioc *IOCSet, b []byte) {
	t.Helper()
	for _, g := range []grouper{{v4: 24, v6: 48}, {v4: 8, v6: 16}, {v4: 32, v6: 128}, {v4: 29, v6: 61}} {
		k, a := g.key(b)
		rk, ra := refKey(g, b)
		if k != rk || a != ra {
			t.Fatalf("%q /%d /%d: key %+v %v, net/netip says %+v %v", b, g.v4, g.v6, k, a, rk, ra)
		}
	}
	v, ok := parseV4(bytes.TrimSpace(b))
	a, err := netip.ParseAddr(strings.TrimSpace(string(b)))
	if want := err == nil && a.Is4(); ok != want {
		t.Fatalf("%q: parseV4 ok %v, net/netip parses it as IPv4: %v", b, ok, want)
	}
	if ok {
		if got := a.As4(); [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} != got {
			t.Fatalf("%q: parseV4 %08x, net/netip %v", b, v, a)
		}
		if m, want := ioc.matchV4(v), ioc.Match(a); m != want {
			t.Fatalf("%q: matchV4 %b, Match %b", b, m, want)
		}
	}
}

func testIOC(t testing.TB) *IOCSet {
	s, err := NewIOCSet([]IOCList{
		{Name: "a", Prefixes: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}},
		{Name: "b", Prefixes: []netip.Prefix{netip.MustParsePrefix("203.0.113.7/32"), netip.MustParsePrefix("0.0.0.0/0")}},
		{Name: "c", Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.128/25")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var addressTable = []string{
	"203.0.113.7", " 203.0.113.7\t", "0.0.0.0", "255.255.255.255", "1.2.3.4", "10.0.0.1", "198.51.100.200",
	"203.0.113.07", "01.2.3.4", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "1.2.3.-4", "1..3.4", ".1.2.3",
	"1.2.3.", "1.2.3.4 ", "1.2.3.4\n", "1.2.3.4:80", "1.2.3.4/24", "1234.1.1.1", "1.2.3.4a", "a1.2.3.4", "१.२.३.४",
	"::ffff:203.0.113.7", "::ffff:1.2.3.4", "::1.2.3.4", "2001:db8::1", "2001:DB8:abcd:12::1", "fe80::1%eth0",
	"::", "::1", "1::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "2001:db8::1%", "[2001:db8::1]",
	"Salesforce.com IP", "SALESFORCE.COM IP", " salesforce.com ip ", "Salesforce.com", "", " ", "\t",
	"garbage", "203.0.113.7, 10.0.0.1", "0x01.2.3.4", "1.2.3.4\x00",
}

// TestAddressFastPathsAgreeWithNetip: the parser and grouping fast paths
// give what net/netip gives, on a table of good and bad addresses.
func TestAddressFastPathsAgreeWithNetip(t *testing.T) {
	t.Parallel()
	ioc := testIOC(t)
	for _, s := range addressTable {
		checkKey(t, ioc, []byte(s))
	}
}

func FuzzAddressFastPaths(f *testing.F) {
	for _, s := range addressTable {
		f.Add([]byte(s))
	}
	ioc := testIOC(f)
	f.Fuzz(func(t *testing.T, b []byte) { checkKey(t, ioc, b) })
}

// TestIPv4FastPathChangesNothing: an ingest of IPv4 addresses (parsed on the
// fast path) and of the same addresses written as IPv4-mapped IPv6 (parsed
// by net/netip) gives the same state and figures. (With IOC lists the state
// differs: IOC hits keep the address as written.)
func TestIPv4FastPathChangesNothing(t *testing.T) {
	t.Parallel()
	ingest := func(mapped, ioc bool) *Tracker {
		tr := mustNew(t, Config{MaxNetworksPerApp: 10})
		if ioc {
			tr.SetIOC(testIOC(t))
		}
		in := tr.Begin(Period{Key: "D0", Interval: "Daily", Start: day0})
		for _, r := range mixedRows(day0, 4000, 9) {
			if a, err := netip.ParseAddr(strings.TrimSpace(string(r.ClientIP))); mapped && err == nil && a.Is4() {
				r.ClientIP = []byte("::ffff:" + a.String())
			}
			in.Add(&r)
		}
		tr.Commit(in)
		return tr
	}
	a, _ := ingest(false, false).MarshalBinary()
	b, _ := ingest(true, false).MarshalBinary()
	if !bytes.Equal(a, b) {
		t.Fatalf("the state differs: %d bytes from IPv4, %d from the same addresses IPv4-mapped", len(a), len(b))
	}
	x, y := fmt.Sprintf("%+v", ingest(false, true).Figures()), fmt.Sprintf("%+v", ingest(true, true).Figures())
	if x != y || !strings.Contains(x, "IOCRequests:map[a:") {
		t.Fatalf("figures differ, or no IOC hits:\n%s\n%s", x, y)
	}
}

// TestAppCacheKeepsAppsApart: apps whose keys share an app cache slot (the
// same length and last eight bytes), in alternate rows, are counted apart.
func TestAppCacheKeepsAppsApart(t *testing.T) {
	t.Parallel()
	ids := []string{"0H4AAAA00000001", "0H4BBBB00000001", "0H4CCCC00000001AAA"}
	if appSlotOf([]byte(ids[0])) != appSlotOf([]byte(ids[1])) || appSlotOf([]byte(ids[0])) != appSlotOf([]byte(ids[2][:15])) {
		t.Fatal("the keys do not share a slot")
	}
	tr := mustNew(t, Config{})
	var rows []row
	for i := range 30 {
		rows = append(rows, row{id: ids[i%3], ip: fmt.Sprintf("198.51.%d.1", i%3), entity: []string{"Account", "Contact", "Lead"}[i%3], user: fmt.Sprint("005", i%3)})
	}
	ingestDay(tr, day0, rows)
	for i, id := range ids {
		f := figure(t, tr, AppKey(id, ""))
		ev := tr.Evidence(AppKey(id, ""), day0, day0.AddDate(0, 0, 1))
		if f.Networks != 1 || len(ev) != 1 || ev[0].Requests != 10 || ev[0].Network != fmt.Sprintf("198.51.%d.0/24", i) || len(ev[0].Objects) != 1 || len(ev[0].Users) != 1 {
			t.Fatalf("%s: %+v, evidence %+v", id, f, ev)
		}
	}
}

// TestMixedTrafficStaysInsideCapsAndRoundTrips: a week of mixed traffic
// that overruns every cap keeps the app and network caps, and the state
// restores to a tracker that reports the same figures and saves the same
// bytes.
func TestMixedTrafficStaysInsideCapsAndRoundTrips(t *testing.T) {
	t.Parallel()
	tr := mixedTracker(t, 7)
	figs := tr.Figures()
	if len(figs) == 0 || len(figs) > tr.Config().MaxApps {
		t.Fatalf("%d apps tracked, want 1..%d", len(figs), tr.Config().MaxApps)
	}
	for _, f := range figs {
		// The special buckets (Salesforce, empty, overflow) count one each.
		if f.Networks > tr.Config().MaxNetworksPerApp+3 {
			t.Errorf("app %q: %d networks in the window, cap %d", f.Name, f.Networks, tr.Config().MaxNetworksPerApp)
		}
	}
	data, err := tr.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, note, err := Restore(tr.Config(), data)
	if err != nil || note != "" {
		t.Fatalf("restore: %v %q", err, note)
	}
	if got, want := fmt.Sprint(persisted(back.Figures())), fmt.Sprint(persisted(figs)); got != want {
		t.Fatalf("figures after restore differ:\n got %s\nwant %s", got, want)
	}
	again, err := back.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(data) {
		t.Fatal("state saved after a restore differs from the state restored")
	}
}
