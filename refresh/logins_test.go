package refresh

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// loginsOrg is an org with the apps One and Late, served, and a refresher
// of its apps and logins.
func loginsOrg(t *testing.T, now time.Time, late time.Duration) (*sftest.Org, int, *Refresher) {
	t.Helper()
	org := sftest.NewOrg()
	org.SetNow(now)
	org.Behavior.LateLoginHistory = late
	org.AddApp(sftest.App{Name: "One", Installed: true})
	org.AddApp(sftest.App{Name: "Late", Installed: true})
	u := org.AddUser("a@example.com", true)
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	return org, u, newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceApps, config.SourceLogins))
}

// loginSuccesses refreshes and returns the 24-hour OAuth login successes of
// One and Late.
func loginSuccesses(t *testing.T, r *Refresher) (one, late int64) {
	t.Helper()
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	snap := r.Snapshot()
	return findApp(t, snap, "One").LoginSuccess, findApp(t, snap, "Late").LoginSuccess
}

// TestLoginsLateAndSameSecondRows: LoginHistory rows that share the
// watermark's second, and rows the org writes after a read with a LoginTime
// before the newest row that read returned, are each counted once.
func TestLoginsLateAndSameSecondRows(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org, u, r := loginsOrg(t, now, 0)
	at := func(d time.Duration) time.Time { return now.Add(d) }
	// Two logins in the second 11:59:58, and one at 11:59:50 the org
	// writes 30 seconds late.
	org.AddLogin(sftest.LoginSpec{User: u, App: "One", Time: at(-1750 * time.Millisecond)})
	org.AddLogin(sftest.LoginSpec{User: u, App: "One", Time: at(-1250 * time.Millisecond)})
	org.AddLogin(sftest.LoginSpec{User: u, App: "Late", Time: at(-10 * time.Second), WrittenAfter: 30 * time.Second})
	if one, late := loginSuccesses(t, r); one != 2 || late != 0 {
		t.Fatalf("first read: One %d, Late %d; want 2 and 0 (Late's row not yet written)", one, late)
	}

	// 12:01:00: the late row is written; two logins at 12:00:58.000, one
	// of them written after this read.
	org.Advance(time.Minute)
	org.AddLogin(sftest.LoginSpec{User: u, App: "One", Time: at(58 * time.Second)})
	org.AddLogin(sftest.LoginSpec{User: u, App: "Late", Time: at(58 * time.Second), WrittenAfter: 5 * time.Second})
	if one, late := loginSuccesses(t, r); one != 3 || late != 1 {
		t.Fatalf("second read: One %d, Late %d; want 3 and 1 (the row written late, before the watermark)", one, late)
	}

	// 12:01:10: the row at the watermark's very millisecond is written.
	org.Advance(10 * time.Second)
	for i := range 2 {
		if one, late := loginSuccesses(t, r); one != 3 || late != 2 {
			t.Fatalf("read %d after the last row: One %d, Late %d; want 3 and 2", 3+i, one, late)
		}
	}
}

// TestLoginsUnderLateLoginHistory: with the org writing every LoginHistory
// row up to two minutes late, and many rows per second, reading every
// seven seconds never counts more rows than the org has, and once every
// row is written it has counted each exactly once.
func TestLoginsUnderLateLoginHistory(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org, u, r := loginsOrg(t, now, 2*time.Minute)
	rnd := rand.New(rand.NewPCG(7, 7))
	added := int64(0)
	for range 40 {
		org.Advance(7 * time.Second)
		for range 5 {
			// Within the last three seconds, to the millisecond.
			org.AddLogin(sftest.LoginSpec{User: u, App: "One", Time: org.Now().Add(-time.Duration(rnd.IntN(3000)) * time.Millisecond)})
			added++
		}
		if one, _ := loginSuccesses(t, r); one > added {
			t.Fatalf("counted %d logins of the %d the org has", one, added)
		}
	}
	org.Advance(3 * time.Minute)
	if one, _ := loginSuccesses(t, r); one != added {
		t.Fatalf("every row written: counted %d logins, want %d", one, added)
	}
}

// TestLoginsFutureRowKeepsTheWatermark: a LoginHistory row whose LoginTime
// lies an hour after the org's clock (skewed data) is counted, but does not
// move the watermark past the org's clock: the logins after it are still
// read.
func TestLoginsFutureRowKeepsTheWatermark(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org, u, r := loginsOrg(t, now, 0)
	org.Behavior.FutureLoginHistory = true
	org.AddLogin(sftest.LoginSpec{User: u, App: "Late", Time: now.Add(time.Hour)})
	if one, late := loginSuccesses(t, r); one != 0 || late != 1 {
		t.Fatalf("first read: One %d, Late %d; want 0 and 1", one, late)
	}
	for i := range 3 {
		org.Advance(time.Minute)
		org.AddLogin(sftest.LoginSpec{User: u, App: "One", Time: org.Now().Add(-time.Second)})
		if one, late := loginSuccesses(t, r); one != int64(i+1) || late != 1 {
			t.Fatalf("read %d after the skewed row: One %d, Late %d; want %d and 1", i+2, one, late, i+1)
		}
	}
}
