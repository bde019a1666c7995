package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestOptInSources: threat_detection is off unless the org's sources block
// turns it on, while the other sources stay on by default; and
// threat_events_reviewed_until reads as a time.
func TestOptInSources(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	parse := func(extra string) Org {
		t.Helper()
		cfg, err := Parse([]byte("orgs:\n  - name: a\n    login_url: https://a.my.salesforce.com\n"+extra+"    auth: {flow: client_credentials, client_id: x, client_secret_file: s}\n"), filepath.Join(dir, "c.yml"))
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Orgs[0]
	}
	o := parse("")
	if o.SourceEnabled(SourceAPIEvents) {
		t.Error("api_events on by default")
	}
	if o.SourceEnabled(SourceThreatDetection) || !o.SourceEnabled(SourceLogins) {
		t.Errorf("default: threat_detection %v, logins %v; want off, on", o.SourceEnabled(SourceThreatDetection), o.SourceEnabled(SourceLogins))
	}
	if !o.ThreatEventsReviewedUntil.IsZero() {
		t.Errorf("reviewed until %v by default", o.ThreatEventsReviewedUntil)
	}
	o = parse("    sources:\n      threat_detection: {enabled: true}\n    threat_events_reviewed_until: 2026-05-01T09:00:00Z\n")
	if !o.SourceEnabled(SourceThreatDetection) {
		t.Error("threat_detection off when enabled")
	}
	if want := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC); !o.ThreatEventsReviewedUntil.Equal(want) {
		t.Errorf("reviewed until %v, want %v", o.ThreatEventsReviewedUntil, want)
	}
	// Beside a stream of LoginEventStream only, api_events reads the API
	// calls (no call is read twice).
	o = parse("    sources:\n      api_events: {enabled: true}\n    stream: {enabled: true, topics: [/event/LoginEventStream]}\n")
	if !o.SourceEnabled(SourceAPIEvents) || !o.SourceEnabled(SourceStream) {
		t.Error("api_events beside a stream of logins only: want both on")
	}
	o = parse("    sources:\n      threat_detection: {interval: 10m}\n")
	if o.SourceEnabled(SourceThreatDetection) {
		t.Error("threat_detection on with only an interval set")
	}
	// app_metadata needs Modify Metadata Through Metadata API Functions:
	// off until asked for, hourly once on.
	if o.SourceEnabled(SourceAppMetadata) {
		t.Error("app_metadata on by default")
	}
	o = parse("    sources:\n      app_metadata: {enabled: true}\n")
	if !o.SourceEnabled(SourceAppMetadata) || o.SourceInterval(SourceAppMetadata) != time.Hour {
		t.Errorf("app_metadata enabled: on %v, every %v; want on, hourly", o.SourceEnabled(SourceAppMetadata), o.SourceInterval(SourceAppMetadata))
	}
}
