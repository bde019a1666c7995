package refresh

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

const apiEventsAppID = "0H4000000000002"

// apiEventsOrg is a served org with one user, ApiEvent storage licensed or
// not, and the org's config with the limits and api_events sources on.
func apiEventsOrg(t *testing.T, now time.Time, licensed bool) (*sftest.Org, int, config.Org) {
	t.Helper()
	org := sftest.NewOrg()
	org.SetNow(now)
	org.Behavior.APIEventStorage = licensed
	u := org.AddUser("a@example.com", true)
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	return org, u, testOrgConfig(t, ts.URL, config.SourceLimits, config.SourceAPIEvents)
}

// apiEventsRefresher is a refresher of org keeping its state in dir.
func apiEventsRefresher(t *testing.T, org config.Org, dir string) *Refresher {
	t.Helper()
	r, err := NewRefresher(org, Settings{StaleAfter: staleAfter}, dir, quiet, nil, salesforce.WithRetry(2, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// appFigures is the app's figures in the snapshot's baseline.
func appFigures(s *snapshot.Snapshot, id string) (detect.AppFigures, bool) {
	if s.Detection == nil || s.Detection.Tracker == nil {
		return detect.AppFigures{}, false
	}
	for _, f := range s.Detection.Tracker.Figures() {
		if f.ID == id {
			return f, true
		}
	}
	return detect.AppFigures{}, false
}

// TestAPIEventsWithoutTheAddOn: an org without Shield or Event Monitoring
// (the fake's default) answers INVALID_TYPE for ApiEvent: the source is
// down, and its error names the add-on and the permission.
func TestAPIEventsWithoutTheAddOn(t *testing.T) {
	t.Parallel()
	_, _, cfg := apiEventsOrg(t, time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), false)
	r := newTestRefresher(t, cfg)
	err := r.RefreshAll(t.Context())
	if err == nil || !strings.Contains(err.Error(), "INVALID_TYPE") || !strings.Contains(err.Error(), "View Real-Time Event Monitoring Data") {
		t.Fatalf("refresh error %v, want INVALID_TYPE naming the permission", err)
	}
	if st := r.Snapshot().Sources[config.SourceAPIEvents]; st.Up {
		t.Error("api_events up without the add-on")
	}
}

// TestAPIEventsResumeAcrossRestartExactlyOnce: events stored late (after a
// read whose newest row is past their EventDate), events read again in the
// overlap, and a restart from the state file between reads: every event
// counts exactly once in the detection baseline.
func TestAPIEventsResumeAcrossRestartExactlyOnce(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org, u, cfg := apiEventsOrg(t, now, true)
	dir := t.TempDir()
	add := func(n int, at time.Time, storedAfter time.Duration) {
		for range n {
			org.AddAPIEvent(sftest.APIEventSpec{User: u, AppID: apiEventsAppID, AppName: "Data Loader", Time: at, SourceIP: "192.0.2.10", Entities: "Account", Rows: 5, StoredAfter: storedAfter})
		}
	}
	requests := func(s *snapshot.Snapshot) int64 {
		f, _ := appFigures(s, apiEventsAppID)
		return f.Requests
	}
	// 30 events of the last minutes, stored within a minute.
	add(30, now.Add(-10*time.Minute), 0)
	r := apiEventsRefresher(t, cfg, dir)
	snap := refreshOK(t, r)
	if got := requests(snap); got != 30 {
		t.Fatalf("first read: %d requests, want 30", got)
	}
	// Ten more stored at once, and five whose EventDate is before the
	// newest read but that are stored only now (late rows).
	org.Advance(2 * time.Minute)
	add(10, now.Add(time.Minute), time.Second)
	add(5, now.Add(-11*time.Minute), 13*time.Minute)
	// A restart: a new refresher from the state file on disk.
	r = apiEventsRefresher(t, cfg, dir)
	snap = refreshOK(t, r)
	if got := requests(snap); got != 45 {
		t.Fatalf("after a restart: %d requests, want 45 (every event once)", got)
	}
	if snap.APIEvents == nil || snap.APIEvents.Read != 15 {
		t.Fatalf("events read since the restart: %+v, want 15", snap.APIEvents)
	}
	if apps := snap.APIEvents.Apps; len(apps) != 1 || apps[0].ID != apiEventsAppID || apps[0].Requests != 15 || apps[0].RowsProcessed != 75 {
		t.Errorf("per-app figures since the restart: %+v, want 15 requests and 75 rows processed", apps)
	}
	// Nothing new: a read that sees the overlap again adds nothing, and
	// neither does one more restart.
	if got := requests(refreshOK(t, r)); got != 45 {
		t.Errorf("read again: %d requests, want 45", got)
	}
	r = apiEventsRefresher(t, cfg, dir)
	snap = refreshOK(t, r)
	if got := requests(snap); got != 45 {
		t.Errorf("after one more restart: %d requests, want 45", got)
	}
	if want := now.Add(time.Minute); !snap.APIEvents.LastEvent.Equal(want) {
		t.Errorf("last event %v, want %v", snap.APIEvents.LastEvent, want)
	}
}

// TestAPIEventsCappedReadGoesOn: a backlog larger than one read is read
// over several refreshes, each capped read counted, every event once.
func TestAPIEventsCappedReadGoesOn(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org, u, cfg := apiEventsOrg(t, now, true)
	total := apiEventsRowsPerRead + 500
	for i := range total {
		org.AddAPIEvent(sftest.APIEventSpec{User: u, AppID: apiEventsAppID, AppName: "Data Loader", Time: now.Add(-50*time.Minute + time.Duration(i)*200*time.Millisecond), StoredAfter: time.Second})
	}
	r := apiEventsRefresher(t, cfg, t.TempDir())
	snap := refreshOK(t, r)
	if snap.APIEvents.CappedReads != 1 || snap.APIEvents.Read != apiEventsRowsPerRead {
		t.Fatalf("first read: %+v, want one capped read of %d", snap.APIEvents, apiEventsRowsPerRead)
	}
	snap = refreshOK(t, r)
	if snap.APIEvents.CappedReads != 1 || snap.APIEvents.Read != int64(total) {
		t.Errorf("second read: %+v, want all %d read, one capped read", snap.APIEvents, total)
	}
	if f, _ := appFigures(snap, apiEventsAppID); f.Requests != int64(total) {
		t.Errorf("requests %d, want %d", f.Requests, total)
	}
}

// TestAPIEventsReplayIsGradedLikeLogFiles: a replayed token at the app's
// usual volume, from a network the app never used and reading an object it
// never read, read from ApiEvent, is flagged by the same grading as the
// log files (and the stream): TestStreamReplayIsGradedLikeLogFiles's case.
func TestAPIEventsReplayIsGradedLikeLogFiles(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	today := now.Truncate(24 * time.Hour)
	org, u, cfg := apiEventsOrg(t, now, true)
	dir := t.TempDir()
	tr, err := detect.New(detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for d := 10; d >= 1; d-- {
		day := today.AddDate(0, 0, -d)
		in := tr.Begin(detect.Period{Key: "D|" + day.Format(time.DateOnly), Interval: "Daily", Start: day, FileID: fmt.Sprintf("0AT%d", d)})
		for i := range 100 {
			in.Add(&detect.Row{Time: day.Add(time.Duration(i) * time.Minute).Unix(), AppID: []byte(apiEventsAppID), AppName: []byte("Data Loader"),
				ClientIP: []byte("192.0.2.10"), EntityName: []byte("Opportunity"), UserID: []byte("005A"), StatusCode: 200})
		}
		tr.Commit(in)
	}
	b, err := tr.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	st := newOrgState("test")
	st.Detection = b
	if err := saveState(dir, st); err != nil {
		t.Fatal(err)
	}
	const replayed = 100
	for range replayed {
		org.AddAPIEvent(sftest.APIEventSpec{User: u, AppID: apiEventsAppID, AppName: "Data Loader", Time: now.Add(-5 * time.Minute), SourceIP: "198.18.10.1", Entities: "User", Rows: 10})
	}
	snap := refreshOK(t, apiEventsRefresher(t, cfg, dir))
	f, ok := appFigures(snap, apiEventsAppID)
	if !ok || f.RequestsFromNewNetworks != replayed {
		t.Fatalf("requests from new networks %d, want %d", f.RequestsFromNewNetworks, replayed)
	}
	if f.Usual.Days == 0 || f.NewNetworkShare() <= detect.UnusualFactor*f.Usual.NewNetworkShare {
		t.Errorf("new-network share %.2f against a usual %.2f over %d days: want it flagged", f.NewNetworkShare(), f.Usual.NewNetworkShare, f.Usual.Days)
	}
	if len(f.Evidence) != len(detect.EvidenceKinds) || !f.Evidence[detect.EvidenceSensitiveShare] {
		t.Errorf("evidence %v: want the sensitive share (User, never read before) to corroborate", f.Evidence)
	}
	if f.RequestsFromNewNetworksJudged != replayed {
		t.Errorf("judged requests from new networks %d, want %d", f.RequestsFromNewNetworksJudged, replayed)
	}
}

// TestProbeAPIEvents: check's probe reads one row (a big object takes no
// COUNT()), fails for want of the add-on naming the permission, and costs
// nothing when the source is off.
func TestProbeAPIEvents(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second) // the probe reads by the client's clock
	org, u, cfg := apiEventsOrg(t, now, true)
	org.AddAPIEvent(sftest.APIEventSpec{User: u, AppName: "Data Loader", Time: now.Add(-10 * time.Minute)})
	c := newTestRefresher(t, cfg).Client()
	res, err := probeAPIEvents(t.Context(), c, ProbeInput{Org: cfg, Enabled: true})
	if err != nil || res.Rows == nil || *res.Rows != 1 || res.Cost.PerRefresh != 1 {
		t.Fatalf("licensed: %+v, %v; want one row, one request per refresh", res, err)
	}
	org.Behavior.APIEventStorage = false
	if _, err := probeAPIEvents(t.Context(), c, ProbeInput{Org: cfg, Enabled: true}); !errors.Is(err, errPermission) || !strings.Contains(err.Error(), "INVALID_TYPE") {
		t.Errorf("without the add-on: %v, want a permission error with INVALID_TYPE", err)
	}
	// Off, it asks nothing (ApiEvent would refuse it here).
	if res, err := probeAPIEvents(t.Context(), c, ProbeInput{Org: cfg}); err != nil || !strings.Contains(res.Note, "sources.api_events") {
		t.Errorf("off: %+v, %v; want a note and no query", res, err)
	}
}

// TestAPIEventsStateBounded: a stored position with too many identifiers,
// or an identifier past its field's 80 characters, is dropped on load (a
// first read again), and a good one is kept.
func TestAPIEventsStateBounded(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	load := func(st *apiEventsState) *apiEventsState {
		t.Helper()
		s := newOrgState("test")
		s.APIEvents = st
		b, err := jsonMarshal(s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseState(b, "test")
		if err != nil {
			t.Fatal(err)
		}
		return got.APIEvents
	}
	if got := load(&apiEventsState{Watermark: at, Seen: map[string]int64{"e-1": at.Unix()}}); got == nil || !got.Watermark.Equal(at) || len(got.Seen) != 1 {
		t.Errorf("a good position: %+v", got)
	}
	if got := load(&apiEventsState{Watermark: at, Seen: map[string]int64{strings.Repeat("x", 81): at.Unix()}}); got != nil {
		t.Errorf("an identifier of 81 characters kept: %+v", got)
	}
	many := map[string]int64{}
	for i := range apiEventsSeenMax + 1 {
		many[fmt.Sprint(i)] = at.Unix()
	}
	if got := load(&apiEventsState{Watermark: at, Seen: many}); got != nil {
		t.Errorf("%d identifiers kept", len(got.Seen))
	}
}

// TestAPIEventsWithoutConnectedAppID: ConnectedAppId is null when the
// caller already held a valid token; such an event counts under the app's
// name (Application). An EventDate far ahead of the server's clock counts
// at the read's time, and does not move the position ahead.
func TestAPIEventsWithoutConnectedAppID(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org, u, cfg := apiEventsOrg(t, now, true)
	org.AddAPIEvent(sftest.APIEventSpec{User: u, AppName: "Workbench", Time: now.Add(-10 * time.Minute)})
	org.AddAPIEvent(sftest.APIEventSpec{User: u, AppName: "Workbench", Time: now.Add(48 * time.Hour), StoredAfter: -48*time.Hour - 5*time.Minute})
	snap := refreshOK(t, apiEventsRefresher(t, cfg, t.TempDir()))
	var got int64
	for _, f := range snap.Detection.Tracker.Figures() {
		if f.Name == "Workbench" {
			got = f.Requests
		}
	}
	if got != 2 {
		t.Errorf("Workbench's requests %d, want 2 (by name)", got)
	}
	if last := snap.APIEvents.LastEvent; last.After(now.Add(time.Minute)) {
		t.Errorf("position %v moved ahead of the clock %v", last, now)
	}
}
