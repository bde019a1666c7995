package detect

import (
	"net/netip"
	"testing"
	"time"
)

// TestReloadedIOCListRechecksHeldData: a list published after a file was
// read matches the file's requests at once, in the window's figures, the
// review's hits and the new networks' evidence; a list withdrawn clears them.
func TestReloadedIOCListRechecksHeldData(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{MinBaseline: 48 * time.Hour})
	for d := range 4 {
		ingestDay(tr, day0.AddDate(0, 0, d), integrationDay(day0.AddDate(0, 0, d)))
	}
	day := day0.AddDate(0, 0, 4)
	rows := append(integrationDay(day),
		row{at: day.Add(13 * time.Hour), id: erpID, name: "Acme ERP Sync", ip: "203.0.113.66", entity: "User", user: "005X", n: 7},
		row{at: day.Add(14 * time.Hour), id: erpID, name: "Acme ERP Sync", ip: "203.0.113.67", entity: "User", user: "005Y", n: 2})
	ingestDay(tr, day, rows)
	key := AppKey(erpID, "")
	if f := figure(t, tr, key); len(f.IOCRequests) != 0 {
		t.Fatalf("IOC requests before any list: %v", f.IOCRequests)
	}

	s, err := NewIOCSet([]IOCList{{Name: "late-list", Prefixes: []netip.Prefix{netip.MustParsePrefix("203.0.113.66/32"), netip.MustParsePrefix("198.51.100.10/32")}}})
	if err != nil {
		t.Fatal(err)
	}
	tr.SetIOC(s)
	f := figure(t, tr, key)
	// 7 requests of the replay's address today, 400 of the integration's own
	// address on the list (in each of the 5 days held; the window holds today's).
	if f.IOCRequests["late-list"] != 7+400 {
		t.Fatalf("IOC requests after the reload: %v, want late-list 407", f.IOCRequests)
	}
	hits := tr.IOCHits(key, day, day.AddDate(0, 0, 1))
	if len(hits) != 2 || hits[1] != (IOCHit{List: "late-list", Address: "203.0.113.66", User: "005X", Requests: 7, First: day.Add(13 * time.Hour), Last: day.Add(13 * time.Hour)}) {
		t.Fatalf("IOC hits after the reload: %+v", hits)
	}
	if all := tr.IOCHits(key, day0, day.AddDate(0, 0, 1)); len(all) != 2 || all[0].Address != "198.51.100.10" || all[0].Requests != 5*400 {
		t.Fatalf("IOC hits over the days held: %+v, want the integration's address with 2000 requests (400 on each of the 5 days) and the replay's", all)
	}
	ev := tr.Evidence(key, day, day.AddDate(0, 0, 1))
	if len(ev) != 1 || ev[0].Network != "203.0.113.0/24" || len(ev[0].IOCLists) != 1 || ev[0].IOCLists[0] != "late-list" {
		t.Fatalf("new network evidence after the reload: %+v", ev)
	}

	// The list withdrawn: nothing matches any more.
	empty, _ := NewIOCSet(nil)
	tr.SetIOC(empty)
	if f := figure(t, tr, key); len(f.IOCRequests) != 0 {
		t.Fatalf("IOC requests after the list was withdrawn: %v", f.IOCRequests)
	}
	if hits := tr.IOCHits(key, day0, day.AddDate(0, 0, 1)); len(hits) != 0 {
		t.Fatalf("IOC hits after the list was withdrawn: %+v", hits)
	}
}
