package review

import (
	"fmt"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// benchSnapshot is an org of apps integrations with nine days of baseline,
// one in a hundred called from a new network on the last day.
func benchSnapshot(b *testing.B, apps int) *snapshot.Snapshot {
	b.Helper()
	tr, err := detect.New(detect.Config{})
	if err != nil {
		b.Fatal(err)
	}
	id := func(k int) string { return fmt.Sprintf("0H4%012dAAA", k) }
	for n := range 9 {
		day := trafficDay0.AddDate(0, 0, n)
		in := tr.Begin(detect.Period{Key: "D|" + day.Format(time.DateOnly), Interval: "Daily", Start: day, FileID: fmt.Sprint("0AT", n)})
		for k := range apps {
			for i := range 3 {
				ip := fmt.Sprintf("100.%d.%d.10", 64+k%32, (k/32)%200+i)
				for range 20 {
					in.Add(&detect.Row{Time: day.Add(time.Hour).Unix(), AppID: []byte(id(k)), ClientIP: []byte(ip), EntityName: []byte("Opportunity"), UserID: []byte("005000000000001AAA"), StatusCode: 200})
				}
			}
			if n == 8 && k%100 == 0 {
				in.Add(&detect.Row{Time: day.Add(time.Hour).Unix(), AppID: []byte(id(k)), ClientIP: []byte("198.18.10.1"), EntityName: []byte("Account"), UserID: []byte("005000000000001AAA"), StatusCode: 200})
			}
		}
		tr.Commit(in)
	}
	snap := &snapshot.Snapshot{Org: "prod", Sources: map[string]snapshot.SourceStatus{}}
	for _, f := range tr.Figures() {
		snap.Apps = append(snap.Apps, snapshot.AppUsage{Name: "App " + f.Key, ID: f.Key, Kind: snapshot.KindConnectedApp, Installed: true, Known: true, Detection: &f})
	}
	cfg := tr.Config()
	snap.Detection = &snapshot.DetectionInfo{SensitiveObjects: cfg.SensitiveObjects, Tracker: tr, MinBaseline: cfg.MinBaseline}
	return snap
}

// BenchmarkBuildWithDetection is a /review request's Build for 2,000 apps
// with the detection's findings; "without" is the same snapshot without
// its baseline, the cost before the detection joined the review.
func BenchmarkBuildWithDetection(b *testing.B) {
	snap := benchSnapshot(b, 2000)
	bare := *snap
	bare.Detection = nil
	inv := func(_, _, _ string) *config.InventoryEntry { return nil }
	d := &Detail{Taken: trafficDay0.AddDate(0, 0, 9)}
	for _, c := range []struct {
		name string
		snap *snapshot.Snapshot
	}{{"with", snap}, {"without", &bare}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				r := Build(c.snap, d, inv, DefaultOptions())
				if c.snap.Detection != nil && len(r.Findings) == 0 {
					b.Fatal("no findings")
				}
			}
		})
	}
}
