package refresh

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

func TestPruneSeen(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	st := newOrgState("prod")
	add := func(k string, lastSeen time.Duration) {
		st.FirstSeen[k] = now.Add(-100 * day)
		st.LastSeen[k] = now.Add(-lastSeen)
	}
	add("old", FirstSeenRetention+time.Second)
	add("old but live", FirstSeenRetention+day)
	add("at the retention", FirstSeenRetention)
	add("recent", day)
	st.FirstSeen["no last seen"] = now.Add(-100 * day)
	aged, evicted := st.pruneSeen(now, 0, map[string]bool{"old but live": true}, nil)
	if aged != 2 || evicted != 0 {
		t.Errorf("aged %d, evicted %d; want 2 and 0", aged, evicted)
	}
	for _, k := range []string{"old but live", "at the retention", "recent"} {
		if _, ok := st.FirstSeen[k]; !ok {
			t.Errorf("%q was forgotten", k)
		}
	}
	for _, k := range []string{"old", "no last seen"} {
		if _, ok := st.FirstSeen[k]; ok {
			t.Errorf("%q was kept", k)
		}
	}

	// Over the limit: not exported first, then the least recently seen.
	st = newOrgState("prod")
	for i := range 10 {
		add(fmt.Sprintf("app %d", i), time.Duration(i)*time.Hour)
	}
	exported := map[string]bool{"app 9": true, "app 8": true}
	aged, evicted = st.pruneSeen(now, 4, nil, exported)
	if aged != 0 || evicted != 6 || len(st.FirstSeen) != 4 || len(st.LastSeen) != 4 {
		t.Fatalf("aged %d, evicted %d, left %d/%d; want 0, 6, 4/4", aged, evicted, len(st.FirstSeen), len(st.LastSeen))
	}
	for _, k := range []string{"app 9", "app 8", "app 0", "app 1"} {
		if _, ok := st.FirstSeen[k]; !ok {
			t.Errorf("%q was evicted; left %v", k, st.FirstSeen)
		}
	}
}

func TestTouchSeenWritesOncePerDay(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	st := newOrgState("prod")
	st.FirstSeen["a"] = now.Add(-time.Hour)
	st.fillLastSeen(now)
	if !st.LastSeen["a"].Equal(now) {
		t.Fatalf("a state without last-seen loads as seen at the load time: %v", st.LastSeen)
	}
	if st.touchSeen([]string{"a", "unknown"}, now.Add(time.Hour)) {
		t.Error("touching an hour later asks for a save")
	}
	if _, ok := st.LastSeen["unknown"]; ok {
		t.Error("an app without a first-seen time got a last-seen time")
	}
	if !st.LastSeen["a"].Equal(now.Add(time.Hour)) {
		t.Errorf("last seen %v, want %v", st.LastSeen["a"], now.Add(time.Hour))
	}
	if !st.touchSeen([]string{"a"}, now.Add(25*time.Hour)) {
		t.Error("touching a day after the saved time does not ask for a save")
	}
}

// TestFirstSeenPrunedAcrossRestart (issue 18 item 9): a state file of the
// old format (no last-seen) with 200,000 first-seen times is cut to
// max_apps_per_org at the first publish after the sources ran, the live
// apps keep their first-seen times (NewAppAuthorized does not fire again),
// and the saved file stays small across another restart.
func TestFirstSeenPrunedAcrossRestart(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	u := org.AddUser("integration@example.com", true)
	var apps []int
	for i := range 3 {
		a := org.AddApp(sftest.App{Name: fmt.Sprintf("Live %d", i), Installed: true})
		org.AddToken(sftest.TokenSpec{User: u, App: a, Created: org.Now().Add(-time.Hour)})
		apps = append(apps, a)
	}
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	cfg := testOrgConfig(t, ts.URL, config.SourceOAuthTokens, config.SourceApps)
	storage := t.TempDir()
	const limit = 50
	newR := func() *Refresher {
		r := newTestRefresher(t, cfg)
		r.storage = storage
		s := *r.settings.Load()
		s.MaxApps = limit
		r.settings.Store(&s)
		return r
	}
	if err := newR().RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Rewrite the saved state as an old exporter would have: first seen
	// long ago, no last-seen times, and 200,000 apps of a cycling org.
	path := stateFile(storage, cfg.Name)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(mustReadFile(t, path)), &raw); err != nil {
		t.Fatal(err)
	}
	var firstSeen map[string]time.Time
	if err := json.Unmarshal(raw["first_seen"], &firstSeen); err != nil {
		t.Fatal(err)
	}
	if len(firstSeen) != len(apps) {
		t.Fatalf("first run saved %d first-seen times, want %d", len(firstSeen), len(apps))
	}
	long := time.Now().Add(-400 * 24 * time.Hour).UTC().Truncate(time.Second)
	for k := range firstSeen {
		firstSeen[k] = long
	}
	live := len(firstSeen)
	for i := range 200_000 {
		firstSeen[fmt.Sprintf("connected_app|Cycled app %06d||", i)] = long
	}
	delete(raw, "last_seen")
	raw["first_seen"], _ = json.Marshal(firstSeen)
	b, _ := json.Marshal(raw)
	writeFile(t, path, string(b))

	r := newR()
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for _, a := range r.Snapshot().Apps {
			if a.Name != snapshot.OtherApps && a.Tokens > 0 && !a.FirstSeen.Equal(long) {
				t.Errorf("%s: %s first seen %v, want %v from before the restart", when, a.Name, a.FirstSeen, long)
			}
		}
		st, err := parseState([]byte(mustReadFile(t, path)), cfg.Name)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.FirstSeen) > limit || len(st.LastSeen) != len(st.FirstSeen) {
			t.Errorf("%s: saved %d first-seen and %d last-seen times, want at most %d each", when, len(st.FirstSeen), len(st.LastSeen), limit)
		}
		n := 0
		for k, fs := range st.FirstSeen {
			if !strings.HasPrefix(k, "connected_app|Cycled") && fs.Equal(long) {
				n++
			}
		}
		if n != live {
			t.Errorf("%s: %d live apps in the saved state, want %d", when, n, live)
		}
		if info, _ := os.Stat(path); info.Size() > 64<<10 {
			t.Errorf("%s: state file of %d bytes", when, info.Size())
		}
	}
	check("after the restart")
	r = newR()
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	check("after a second restart")
}

func mustReadFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFutureSeenTimesClampedOnLoad (issue 24 item 15): a state whose first-
// and last-seen times lie in the future kept them for ever, and its apps
// were never forgotten. On load they move to the refresher's clock, the
// first-seen time exported is not in the future, and an app no longer seen
// is forgotten FirstSeenRetention later.
func TestFutureSeenTimesClampedOnLoad(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	u := org.AddUser("integration@example.com", true)
	a := org.AddApp(sftest.App{Name: "Live", Installed: true})
	org.AddToken(sftest.TokenSpec{User: u, App: a, Created: org.Now().Add(-time.Hour)})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	cfg := testOrgConfig(t, ts.URL, config.SourceOAuthTokens, config.SourceApps)
	storage := t.TempDir()
	clock := org.Now().UTC().Truncate(time.Second)
	newR := func() *Refresher {
		r := newTestRefresher(t, cfg)
		r.storage = storage
		r.now = func() time.Time { return clock }
		return r
	}
	if err := newR().RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	path := stateFile(storage, cfg.Name)
	st, err := parseState([]byte(mustReadFile(t, path)), cfg.Name)
	if err != nil || len(st.FirstSeen) != 1 {
		t.Fatalf("first run: %v, %d first-seen times", err, len(st.FirstSeen))
	}
	future := clock.Add(10 * 365 * 24 * time.Hour)
	for k := range st.FirstSeen {
		st.FirstSeen[k] = clock.Add(365 * 24 * time.Hour)
	}
	const gone = "connected_app|Gone app||"
	st.FirstSeen[gone], st.LastSeen[gone] = future, future
	b, _ := json.Marshal(st)
	writeFile(t, path, string(b))

	r := newR()
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, app := range r.Snapshot().Apps {
		if app.Name == "Live" && app.FirstSeen.After(clock) {
			t.Errorf("Live first seen %v, after the clock %v", app.FirstSeen, clock)
		}
	}
	if got := r.state.LastSeen[gone]; !got.Equal(clock) {
		t.Errorf("the gone app's last-seen time %v, want the load time %v", got, clock)
	}
	// A retention later, the app not seen since is forgotten.
	clock = clock.Add(FirstSeenRetention + time.Hour)
	r = newR()
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	st, err = parseState([]byte(mustReadFile(t, path)), cfg.Name)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.FirstSeen[gone]; ok {
		t.Errorf("an app not seen for the retention is still in the state (last seen %v, now %v)", st.LastSeen[gone], clock)
	}
	if len(st.FirstSeen) != 1 {
		t.Errorf("%d first-seen times kept, want the live app's", len(st.FirstSeen))
	}
}
