package refresh

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// threatsOrg is a served org with one user, Threat Detection licensed or
// not, and the org's config with the limits and threat_detection sources on.
func threatsOrg(t *testing.T, now time.Time, licensed bool) (*sftest.Org, int, config.Org) {
	t.Helper()
	org := sftest.NewOrg()
	org.SetNow(now)
	org.Behavior.ThreatDetection = licensed
	u := org.AddUser("a@example.com", true)
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	return org, u, testOrgConfig(t, ts.URL, config.SourceLimits, config.SourceThreatDetection) // limits first, as in every cycle: it sets the org's clock
}

// threatKind returns a kind's figures from the snapshot.
func threatKind(t *testing.T, s *snapshot.Snapshot, kind string) snapshot.ThreatKind {
	t.Helper()
	if s.Threats == nil {
		t.Fatal("no Threat Detection figures in the snapshot")
	}
	for _, k := range s.Threats.Kinds {
		if k.Kind == kind {
			return k
		}
	}
	t.Fatalf("no kind %q", kind)
	return snapshot.ThreatKind{}
}

func refreshOK(t *testing.T, r *Refresher) *snapshot.Snapshot {
	t.Helper()
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	return r.Snapshot()
}

// TestThreatsWithoutTheAddOn: an org without Shield or Event Monitoring
// (the fake's default) answers INVALID_TYPE for every store: the source
// fails for want of the add-on, every store is reported unavailable, and
// the reason names the add-on and the permission.
func TestThreatsWithoutTheAddOn(t *testing.T) {
	t.Parallel()
	_, _, cfg := threatsOrg(t, time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), false)
	r := newTestRefresher(t, cfg)
	err := r.RefreshAll(t.Context())
	if err == nil || !strings.Contains(err.Error(), "no Threat Detection store is readable") {
		t.Fatalf("refresh error %v, want no store readable", err)
	}
	snap := r.Snapshot()
	if st := snap.Sources[config.SourceThreatDetection]; st.Up {
		t.Error("threat_detection up without the add-on")
	}
	for _, k := range snap.Threats.Kinds {
		if k.Available || !strings.Contains(k.Why, "Shield or Event Monitoring") || !strings.Contains(k.Why, "INVALID_TYPE") {
			t.Errorf("%s: available %v, why %q", k.Kind, k.Available, k.Why)
		}
	}
}

// TestThreatsStoredLate: Salesforce stores a Threat Detection event after
// its models have scored it, so its CreatedDate comes well after its
// EventDate. An event stored after a read, with an EventDate before the
// newest event that read returned, is still counted, and once only.
func TestThreatsStoredLate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org, u, cfg := threatsOrg(t, now, true)
	r := newTestRefresher(t, cfg)
	// 11:59, stored at once; 11:50, stored 20 minutes later (the default).
	org.AddThreat(sftest.ThreatSpec{Store: sftest.ThreatAPIAnomaly, User: u, Time: now.Add(-time.Minute), Score: 40, WrittenAfter: time.Second})
	org.AddThreat(sftest.ThreatSpec{Store: sftest.ThreatAPIAnomaly, User: u, Time: now.Add(-10 * time.Minute), Score: 95})
	if k := threatKind(t, refreshOK(t, r), "api_anomaly"); k.Events != 1 || k.MaxScore != 40 {
		t.Fatalf("12:00: %d events, max %v; want 1 and 40 (the late one not stored yet)", k.Events, k.MaxScore)
	}
	org.Advance(15 * time.Minute)
	for i := range 3 {
		if k := threatKind(t, refreshOK(t, r), "api_anomaly"); k.Events != 2 || k.MaxScore != 95 {
			t.Fatalf("read %d after the late event was stored: %d events, max %v; want 2 and 95", i+2, k.Events, k.MaxScore)
		}
	}
	// A day after the late event's EventDate it leaves the window.
	org.Advance(24*time.Hour - 20*time.Minute) // 11:55 the next day
	if k := threatKind(t, refreshOK(t, r), "api_anomaly"); k.Events != 1 || k.MaxScore != 40 {
		t.Fatalf("after the window: %d events, max %v; want 1 and 40", k.Events, k.MaxScore)
	}
}

// TestThreatsAcknowledgedAndRestart: events stored at or before the org's
// threat_events_reviewed_until are acknowledged, not counted; a new
// refresher (a restart) counts the same events again, no more.
func TestThreatsAcknowledgedAndRestart(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org, u, cfg := threatsOrg(t, now, true)
	org.AddThreat(sftest.ThreatSpec{Store: sftest.ThreatSessionHijacking, User: u, Time: now.Add(-3 * time.Hour), Score: 0.9, Summary: "new fingerprint"})
	org.AddThreat(sftest.ThreatSpec{Store: sftest.ThreatSessionHijacking, User: u, Time: now.Add(-1 * time.Hour), Score: 0.5})
	org.AddThreat(sftest.ThreatSpec{Store: sftest.ThreatCredentialStuffing, User: u, Time: now.Add(-2 * time.Hour), Score: 1})
	cfg.ThreatEventsReviewedUntil = now.Add(-2 * time.Hour) // the first one was stored at 9:20
	for run := range 2 {
		r := newTestRefresher(t, cfg)
		snap := refreshOK(t, r)
		if k := threatKind(t, snap, "session_hijacking"); k.Events != 1 || k.Acknowledged != 1 || k.MaxScore != 0.5 {
			t.Errorf("run %d: session hijacking %d events, %d acknowledged, max %v; want 1, 1, 0.5", run, k.Events, k.Acknowledged, k.MaxScore)
		}
		if k := threatKind(t, snap, "credential_stuffing"); k.Events != 1 || k.Acknowledged != 0 {
			t.Errorf("run %d: credential stuffing %d events, %d acknowledged; want 1, 0", run, k.Events, k.Acknowledged)
		}
		if len(snap.Threats.Events) != 3 || snap.Threats.Events[0].Kind != "session_hijacking" || snap.Threats.Events[2].Summary != "new fingerprint" || !snap.Threats.Events[2].Acknowledged {
			t.Errorf("run %d: evidence %+v", run, snap.Threats.Events)
		}
		if a := snap.Threats.Events[2].Address; a == "" {
			t.Errorf("run %d: session hijacking event without its CurrentIp", run)
		}
	}
}

// TestThreatsReadBounded: a store with more new events than one read takes
// is read over several refreshes, reported capped until it catches up, and
// every event is counted once.
func TestThreatsReadBounded(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org, u, cfg := threatsOrg(t, now, true)
	const n = threatRowsPerRead + 500
	for i := range n {
		org.AddThreat(sftest.ThreatSpec{Store: sftest.ThreatReportAnomaly, User: u, Time: now.Add(-time.Duration(n-i) * time.Second), WrittenAfter: time.Millisecond, Score: float64(i % 7)})
	}
	r := newTestRefresher(t, cfg)
	if k := threatKind(t, refreshOK(t, r), "report_anomaly"); k.Events != threatRowsPerRead || !k.Capped {
		t.Fatalf("first read: %d events, capped %v; want %d, capped", k.Events, k.Capped, threatRowsPerRead)
	}
	if k := threatKind(t, refreshOK(t, r), "report_anomaly"); k.Events != n || k.Capped || k.MaxScore != 6 {
		t.Fatalf("second read: %d events, capped %v, max %v; want %d, not capped, 6", k.Events, k.Capped, k.MaxScore, n)
	}
}

// TestThreatsAPIVersion: LoginAnomalyEventStore exists from API 64.0: an
// org read at 63.0 has the other stores and says why that one is missing.
func TestThreatsAPIVersion(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	_, _, cfg := threatsOrg(t, now, true)
	cfg.APIVersion = "63.0"
	snap := refreshOK(t, newTestRefresher(t, cfg))
	if k := threatKind(t, snap, "login_anomaly"); k.Available || !strings.Contains(k.Why, "api_version is below 64.0") {
		t.Errorf("login anomaly at 63.0: available %v, why %q", k.Available, k.Why)
	}
	if k := threatKind(t, snap, "api_anomaly"); !k.Available {
		t.Errorf("api anomaly at 63.0 unavailable: %s", k.Why)
	}
}

// TestThreatsAcknowledgedOnReload: a reload that changes only the org's
// threat_events_reviewed_until keeps the org's refresher (no full sync:
// sameOrg), and the new time reaches the running source through the
// settings.
func TestThreatsAcknowledgedOnReload(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org, u, cfg := threatsOrg(t, now, true)
	org.AddThreat(sftest.ThreatSpec{Store: sftest.ThreatAPIAnomaly, User: u, Time: now.Add(-time.Hour), Score: 90})
	r := newTestRefresher(t, cfg)
	if k := threatKind(t, refreshOK(t, r), "api_anomaly"); k.Events != 1 {
		t.Fatalf("before the acknowledgement: %d events, want 1", k.Events)
	}
	acked := cfg
	acked.ThreatEventsReviewedUntil = now
	if !sameOrg(cfg, acked) {
		t.Error("an acknowledgement alone restarts the org's refresher")
	}
	if renamed := acked; func() bool { renamed.Name = "other"; return sameOrg(cfg, renamed) }() {
		t.Error("sameOrg ignores the org's name")
	}
	set := *r.settings.Load()
	set.ThreatsReviewedUntil = func(string) time.Time { return acked.ThreatEventsReviewedUntil }
	r.SetSettings(set)
	if k := threatKind(t, refreshOK(t, r), "api_anomaly"); k.Events != 0 || k.Acknowledged != 1 {
		t.Fatalf("after the reload: %d events, %d acknowledged; want 0 and 1", k.Events, k.Acknowledged)
	}
}

// TestThreatsEvidenceBounded: a summary far over the field's 1,000
// characters (a hostile or broken org) is kept clipped, on a character
// boundary, and the event still counts.
func TestThreatsEvidenceBounded(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org, u, cfg := threatsOrg(t, now, true)
	org.AddThreat(sftest.ThreatSpec{Store: sftest.ThreatLoginAnomaly, User: u, Time: now.Add(-time.Hour), Score: 70, Summary: strings.Repeat("é", 100_000)})
	snap := refreshOK(t, newTestRefresher(t, cfg))
	if k := threatKind(t, snap, "login_anomaly"); k.Events != 1 || k.MaxScore != 70 {
		t.Fatalf("%d events, max %v; want 1 and 70", k.Events, k.MaxScore)
	}
	s := snap.Threats.Events[0].Summary
	if len(s) > threatTextMax+len("…") || !utf8.ValidString(s) || !strings.HasPrefix(s, "éé") {
		t.Errorf("summary of %d bytes kept (valid UTF-8: %v)", len(s), utf8.ValidString(s))
	}
}
