package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// TestCollectorSurvivesHostileLabels: an app name of invalid UTF-8 (issue 18
// item 3) once panicked MustNewConstMetric and stopped the collection there,
// so every org after it lost all its series. Now every org keeps its
// series, the name is cleaned, and a clash the cleaning makes is counted.
func TestCollectorSurvivesHostileLabels(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_780_000_000, 0).UTC()
	bad := &snapshot.Snapshot{Org: "bad", Taken: t0, Sources: map[string]snapshot.SourceStatus{"apps": {Enabled: true, Up: true}},
		Apps: []snapshot.AppUsage{
			{Name: "Evil\xff\xfeApp", Kind: snapshot.KindConnectedApp, HasTokens: true, TokenStats: salesforce.TokenStats{Tokens: 1}},
			// Cleans to the same name and Id as the one above: left out and counted.
			{Name: "Evil\xfd\xfcApp", Kind: snapshot.KindConnectedApp, HasTokens: true, TokenStats: salesforce.TokenStats{Tokens: 2}},
			{Name: "Line\nbreak" + strings.Repeat("x", 1000), ID: "0H4\x00", Kind: snapshot.KindConnectedApp},
		}}
	good := testSnapshot()
	c := New(stubSource{bad, good})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	ups := map[string]bool{}
	var tokens []string
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch mf.GetName() {
			case "salesforce_up":
				ups[labels["org"]] = true
			case "salesforce_connected_app_oauth_tokens":
				if labels["org"] == "bad" {
					tokens = append(tokens, labels["app"])
				}
			case "salesforce_connected_app_info":
				if labels["org"] == "bad" && strings.HasPrefix(labels["app"], "Line") {
					if strings.Contains(labels["app"], "\n") || len([]rune(labels["app"])) != snapshot.MaxLabelRunes+1 || labels["app_id"] != "0H4\uFFFD" {
						t.Errorf("long name not cleaned: app=%q app_id=%q", labels["app"], labels["app_id"])
					}
				}
			}
		}
	}
	if !ups["bad"] || !ups["prod"] {
		t.Errorf("salesforce_up for orgs %v, want bad and prod", ups)
	}
	if len(tokens) != 1 || tokens[0] != "Evil\uFFFD\uFFFDApp" {
		t.Errorf("bad org's token series: %q, want one, cleaned", tokens)
	}
	if got := testutil.ToFloat64(c.dropped.WithLabelValues("bad")); got != 1 {
		t.Errorf("dropped series for org bad = %v, want 1", got)
	}
	if got := testutil.ToFloat64(c.dropped.WithLabelValues("prod")); got != 0 {
		t.Errorf("dropped series for org prod = %v, want 0", got)
	}
}

// TestDetectionClashesCountedLikeCollect: the detection series go through
// the emitter every series uses. Two apps whose names clean to one label
// set once left the second's detection series in, twice the same series,
// and the gather failed; now the second app is left out of every metric,
// detection included, and counted once.
func TestDetectionClashesCountedLikeCollect(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_780_000_000, 0).UTC()
	figures := func(n int64) *detect.AppFigures {
		return &detect.AppFigures{BaselineStart: t0, Networks: int(n), IOCRequests: map[string]int64{"tor": n}}
	}
	s := &snapshot.Snapshot{Org: "bad", Taken: t0, Sources: map[string]snapshot.SourceStatus{"api_usage": {Enabled: true, Up: true}},
		Detection: &snapshot.DetectionInfo{SensitiveObjects: []string{"User"}, IOCLists: []string{"tor"}},
		Apps: []snapshot.AppUsage{
			{Name: "Evil\xff\xfeApp", Kind: snapshot.KindConnectedApp, Detection: figures(1)},
			{Name: "Evil\xfd\xfcApp", Kind: snapshot.KindConnectedApp, Detection: figures(2)},
		}}
	c := New(stubSource{s})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "salesforce_connected_app_api_client_networks" && len(mf.GetMetric()) != 1 {
			t.Errorf("%d network series, want 1: the clashing app's are left out", len(mf.GetMetric()))
		}
	}
	if got := testutil.ToFloat64(c.dropped.WithLabelValues("bad")); got != 1 {
		t.Errorf("dropped series for org bad = %v after one collection, want 1", got)
	}
}
