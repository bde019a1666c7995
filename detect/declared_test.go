package detect

import (
	"net/netip"
	"strings"
	"testing"
)

func prefixes(t *testing.T, ss ...string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

// The declaration of the integration of integrationDay: its three networks
// (one of them a single address) and its two objects.
func erpDeclared(t *testing.T) Declared {
	return Declared{AppID: erpID, Networks: prefixes(t, "198.51.100.0/24", "198.51.101.0/24", "192.0.2.5/32"), Objects: []string{"opportunity", "Invoice__c"}}
}

// A replay from a network the app never declared is outside from the first
// day: no baseline is needed.
func TestDeclaredNetworksNeedNoBaseline(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{})
	if err := tr.SetDeclared([]Declared{erpDeclared(t)}); err != nil {
		t.Fatal(err)
	}
	key := AppKey(erpID, "")
	ingestDay(tr, day0, integrationDay(day0))
	f := figure(t, tr, key)
	if f.BaselineReady || f.DeclaredNetworks != 3 || f.DeclaredObjects != 2 || f.RequestsOutsideDeclaredNetworks != 0 || f.UndeclaredObjects != 0 {
		t.Fatalf("the declared integration's first day: %+v", f)
	}
	day := day0.AddDate(0, 0, 1)
	rows := append(integrationDay(day),
		row{at: day.Add(3 * 3600e9), id: erpID, name: "Acme ERP Sync", ip: "203.0.113.9", entity: "Account", user: "005A", n: 30},
		row{at: day.Add(4 * 3600e9), id: erpID, name: "Acme ERP Sync", ip: "192.0.2.6", entity: "Opportunity", user: "005A", n: 5}, // next to the declared /32
		row{at: day.Add(4 * 3600e9), id: erpID, name: "Acme ERP Sync", ip: "2001:db8::1", entity: "User", user: "005A", n: 2},
		row{at: day.Add(4 * 3600e9), id: erpID, name: "Acme ERP Sync", ip: "", entity: "Opportunity", user: "005A", n: 7},
	)
	ingestDay(tr, day, rows)
	f = figure(t, tr, key)
	if f.RequestsOutsideDeclaredNetworks != 37 {
		t.Errorf("requests outside the declared networks: got %d, want 37 (30 + 5 + 2; an empty address is not judged)", f.RequestsOutsideDeclaredNetworks)
	}
	if f.UndeclaredObjects != 2 {
		t.Errorf("undeclared objects: got %d, want 2 (Account, User)", f.UndeclaredObjects)
	}

	// The move is declared: one reload, and the held day is judged again.
	d := erpDeclared(t)
	d.Networks = append(d.Networks, prefixes(t, "203.0.113.0/24", "192.0.2.0/24", "2001:db8::/32")...)
	d.Objects = append(d.Objects, "Account", "User")
	if err := tr.SetDeclared([]Declared{d}); err != nil {
		t.Fatal(err)
	}
	if f := figure(t, tr, key); f.RequestsOutsideDeclaredNetworks != 0 || f.UndeclaredObjects != 0 {
		t.Errorf("after the reload that declares the move: %+v", f)
	}
	// Declarations taken away: nothing is declared, nothing is outside.
	if err := tr.SetDeclared(nil); err != nil {
		t.Fatal(err)
	}
	if f := figure(t, tr, key); f.DeclaredNetworks != 0 || f.RequestsOutsideDeclaredNetworks != 0 {
		t.Errorf("without declarations: %+v", f)
	}
}

// An inventory entry without an Id matches by name, case-insensitively; an
// app without a declaration has no declared figures.
func TestDeclaredByNameAndLogins(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{})
	if err := tr.SetDeclared([]Declared{{App: "acme erp SYNC ", Networks: prefixes(t, "198.51.100.0/24")}}); err != nil {
		t.Fatal(err)
	}
	day := day0
	ingestDay(tr, day, []row{
		{at: day.Add(3600e9), id: erpID, name: "Acme ERP Sync", ip: "198.51.100.10", entity: "Opportunity", n: 10},
		{at: day.Add(3600e9), id: erpID, name: "Acme ERP Sync", ip: "198.51.102.10", entity: "Opportunity", n: 4},
		{at: day.Add(3600e9), id: "0H45j000000Oth1AAA", name: "Other", ip: "198.51.102.10", entity: "Opportunity", n: 4},
	})
	now := day.Add(20 * 3600e9)
	tr.Logins(now, []Login{
		{Time: now.Add(-3600e9), App: "Acme ERP Sync", SourceIP: "198.51.100.11", UserID: "005A"},
		{Time: now.Add(-3600e9), App: "Acme ERP Sync", SourceIP: "203.0.113.50", UserID: "005A"},
		{Time: now.Add(-3600e9), App: "Acme ERP Sync", SourceIP: "Salesforce.com IP", UserID: "005A"},
	})
	f := figure(t, tr, AppKey(erpID, ""))
	if f.DeclaredNetworks != 1 || f.RequestsOutsideDeclaredNetworks != 4 || f.LoginsOutsideDeclaredNetworks != 1 {
		t.Errorf("declared by name: %+v", f)
	}
	if o := figure(t, tr, AppKey("0H45j000000Oth1AAA", "")); o.DeclaredNetworks != 0 || o.RequestsOutsideDeclaredNetworks != 0 {
		t.Errorf("an app without a declaration: %+v", o)
	}
}

// A period keeps at most maxOutsideAddrs addresses per app; the requests of
// the rest stay outside whatever a reload declares.
func TestDeclaredOutsideBounded(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{})
	if err := tr.SetDeclared([]Declared{{AppID: erpID, Networks: prefixes(t, "198.51.100.0/24")}}); err != nil {
		t.Fatal(err)
	}
	var rows []row
	for i := range maxOutsideAddrs + 10 {
		rows = append(rows, row{at: day0.Add(3600e9), id: erpID, name: "Acme ERP Sync", ip: netip.AddrFrom4([4]byte{10, 0, byte(i / 250), byte(i%250 + 1)}).String(), n: 2})
	}
	ingestDay(tr, day0, rows)
	if f := figure(t, tr, AppKey(erpID, "")); f.RequestsOutsideDeclaredNetworks != int64(2*len(rows)) {
		t.Fatalf("outside: got %d, want %d", f.RequestsOutsideDeclaredNetworks, 2*len(rows))
	}
	if err := tr.SetDeclared([]Declared{{AppID: erpID, Networks: prefixes(t, "10.0.0.0/8")}}); err != nil {
		t.Fatal(err)
	}
	if f := figure(t, tr, AppKey(erpID, "")); f.RequestsOutsideDeclaredNetworks != 20 {
		t.Errorf("after declaring 10.0.0.0/8: got %d, want 20 (the 10 addresses past the %d kept)", f.RequestsOutsideDeclaredNetworks, maxOutsideAddrs)
	}
}

func TestCheckDeclared(t *testing.T) {
	t.Parallel()
	many := make([]netip.Prefix, MaxDeclaredNetworks+1)
	for i := range many {
		many[i] = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)
	}
	for _, c := range []struct {
		d    Declared
		want string
	}{
		{Declared{Networks: prefixes(t, "203.0.113.7/24")}, "host bits set: write 203.0.113.0/24"},
		{Declared{Networks: prefixes(t, "10.0.0.0/7")}, "wider than a /8"},
		{Declared{Networks: prefixes(t, "2001:db8::/15")}, "wider than a /16"},
		{Declared{Networks: many}, "at most 256"},
		{Declared{Objects: []string{"Account, Contact"}}, "not an object API name"},
		{Declared{Objects: []string{""}}, "not an object API name"},
	} {
		err := CheckDeclared(c.d)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.d, err, c.want)
		}
		tr := mustNew(t, Config{})
		if err := tr.SetDeclared([]Declared{c.d}); err == nil {
			t.Errorf("SetDeclared took %+v", c.d)
		}
	}
	if err := CheckDeclared(Declared{Networks: prefixes(t, "192.0.2.5/32", "2001:db8::/48", "::ffff:198.51.100.0/120"), Objects: []string{"Invoice__c"}}); err != nil {
		t.Errorf("a good declaration: %v", err)
	}
}

// SeenNetworks lists an app's networks, the most recent first, bounded,
// without the special buckets.
func TestSeenNetworks(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{})
	ingestDay(tr, day0, integrationDay(day0))
	got := tr.SeenNetworks(AppKey(erpID, ""), 2)
	if len(got) != 2 || got[0] != "192.0.2.0/24" || got[1] != "198.51.101.0/24" {
		t.Errorf("seen networks: %v, want the two most recent: 192.0.2.0/24, 198.51.101.0/24", got)
	}
	if got := tr.SeenNetworks(AppKey(erpID, ""), 10); len(got) != 3 {
		t.Errorf("seen networks: %v, want 3 (Salesforce.com IP left out)", got)
	}
	if got := tr.SeenNetworks("nope", 10); got != nil {
		t.Errorf("an unknown app: %v", got)
	}
}
