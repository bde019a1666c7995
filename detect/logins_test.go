package detect

import (
	"testing"
	"time"
)

// TestLoginUsers counts the distinct users of an app's logins, and of those
// from new networks: a traveller is one user of many, an integration's
// replay its one user.
func TestLoginUsers(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{MinBaseline: 48 * time.Hour})
	for d := range 4 {
		ingestDay(tr, day0.AddDate(0, 0, d), integrationDay(day0.AddDate(0, 0, d)))
	}
	now := day0.AddDate(0, 0, 5).Add(12 * time.Hour)
	logins := []Login{
		{Time: now.Add(-3 * time.Hour), App: "Acme ERP Sync", SourceIP: "198.51.100.10", UserID: "005A"},
		{Time: now.Add(-2 * time.Hour), App: "Acme ERP Sync", SourceIP: "198.51.100.11", UserID: "005A"},
		{Time: now.Add(-2 * time.Hour), App: "Acme ERP Sync", SourceIP: "198.51.100.12", UserID: "005B"},
		{Time: now.Add(-1 * time.Hour), App: "Acme ERP Sync", SourceIP: "203.0.113.50", UserID: "005B"}, // new
		{Time: now.Add(-50 * time.Minute), App: "Acme ERP Sync", SourceIP: "203.0.113.51", UserID: "005B"},
		{Time: now.Add(-40 * time.Minute), App: "Acme ERP Sync", SourceIP: "203.0.113.52", UserID: "005C"},
		{Time: now.Add(-10 * time.Minute), App: "Brand New App", SourceIP: "203.0.115.1", UserID: "005E"},
	}
	tr.Logins(now, logins)
	f := figure(t, tr, AppKey(erpID, ""))
	if f.LoginUsers != 3 || f.LoginNewNetworkUsers != 2 || f.LoginsFromNewNetworks != 3 {
		t.Fatalf("users %d, from new networks %d (%d logins); want 3, 2 (3)", f.LoginUsers, f.LoginNewNetworkUsers, f.LoginsFromNewNetworks)
	}
	if nf := figure(t, tr, "n:brand new app"); nf.LoginUsers != 1 || nf.LoginNewNetworkUsers != 0 {
		t.Fatalf("an app without a baseline: users %d, from new networks %d; want 1, 0", nf.LoginUsers, nf.LoginNewNetworkUsers)
	}
	// The next call recomputes them from its logins alone.
	tr.Logins(now.Add(time.Minute), logins[:1])
	if f := figure(t, tr, AppKey(erpID, "")); f.LoginUsers != 1 || f.LoginNewNetworkUsers != 0 {
		t.Fatalf("after a call with one login: users %d, from new networks %d; want 1, 0", f.LoginUsers, f.LoginNewNetworkUsers)
	}
}
