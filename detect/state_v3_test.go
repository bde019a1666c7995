package detect

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// TestStateKeepsMemory: a restart keeps what lived in memory only before
// state version 3: the judged counters, a dormant app's wake, the requests
// outside the declared networks, and the addresses a reloaded IOC list
// re-checks. The restored tracker's figures are the running one's, all of
// them, and a list published after the restart matches the files read
// before it.
func TestStateKeepsMemory(t *testing.T) {
	t.Parallel()
	decl := []Declared{{AppID: erpID, Networks: prefixes(t, "198.51.100.0/24", "198.51.101.0/24", "192.0.2.0/24")}}
	tr := mustNew(t, Config{MinBaseline: 48 * time.Hour})
	if err := tr.SetDeclared(decl); err != nil {
		t.Fatal(err)
	}
	for d := range 4 {
		ingestDay(tr, day0.AddDate(0, 0, d), integrationDay(day0.AddDate(0, 0, d)))
	}
	// Three idle days, then a wake with a replay from a network outside
	// the declared ones.
	day := day0.AddDate(0, 0, 7)
	ingestDay(tr, day, append(integrationDay(day),
		row{at: day.Add(13 * time.Hour), id: erpID, name: "Acme ERP Sync", ip: "203.0.113.66", entity: "User", user: "005X", n: 7}))
	key := AppKey(erpID, "")
	f := figure(t, tr, key)
	if f.RequestsJudged == 0 || f.IdleBeforeWake == 0 || f.RequestsOutsideDeclaredNetworks != 7 {
		t.Fatalf("before the restart: judged %d, idle %v, outside %d", f.RequestsJudged, f.IdleBeforeWake, f.RequestsOutsideDeclaredNetworks)
	}

	b, err := tr.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, note, err := Restore(tr.Config(), b)
	if err != nil || note != "" {
		t.Fatal(err, note)
	}
	if err := back.SetDeclared(decl); err != nil {
		t.Fatal(err)
	}
	if a, b := fmt.Sprintf("%+v", tr.Figures()), fmt.Sprintf("%+v", back.Figures()); a != b {
		t.Fatalf("figures after the restart differ:\n%s\n%s", a, b)
	}

	// The same file read again after the restart (a re-issue with the same
	// content) grows no counter.
	ingestDay(back, day, append(integrationDay(day),
		row{at: day.Add(13 * time.Hour), id: erpID, name: "Acme ERP Sync", ip: "203.0.113.66", entity: "User", user: "005X", n: 7}))
	if g := figure(t, back, key); g.RequestsJudged != f.RequestsJudged {
		t.Fatalf("judged requests %d after the file was read again, want %d", g.RequestsJudged, f.RequestsJudged)
	}

	s, err := NewIOCSet([]IOCList{{Name: "late-list", Prefixes: []netip.Prefix{netip.MustParsePrefix("203.0.113.66/32")}}})
	if err != nil {
		t.Fatal(err)
	}
	back.SetIOC(s)
	if g := figure(t, back, key); g.IOCRequests["late-list"] != 7 {
		t.Fatalf("IOC requests after a reload that followed the restart: %v, want late-list 7", g.IOCRequests)
	}
}
