package refresh

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// BenchmarkSummarize aggregates 100,000 stored tokens into per-app figures.
func BenchmarkSummarize(b *testing.B) {
	s := newTokenStore()
	for i := range 100000 {
		s.entries = append(s.entries, tokEntry{created: int64(i), lastUsed: int64(i), useCount: 3, user: s.userIdx(fmt.Sprint(i % 20000)), app: s.appIdx(appKey{name: fmt.Sprint(i % 200)})})
	}
	now := time.UnixMilli(200000)
	for b.Loop() {
		s.summarize(now, time.Hour)
	}
}

// usageFile is an ApiTotalUsage file as the bench script writes it
// (bench/ingest.go): 19 columns, ~290-byte rows, 200 apps
// interleaved row by row, three /24 networks, four objects.
func usageFile(rows int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "\"%s\"\n", strings.Join(sftest.DefaultUsageColumns, "\",\""))
	objs := []string{"Account", "Opportunity", "Contact", "Invoice__c"}
	for row := 1; row <= rows; row++ {
		fmt.Fprintf(&b, "\"ApiTotalUsage\",\"20251009184000.123\",\"4kTk%d\",\"00D5j00000DgAYG\",\"0055j00000AT%03d\",\"REST\",\"66.0\",\"/v66.0/sobjects/Account\",\"sync \"\"nightly\"\"\",\"GET\",\"198.51.%d.%d\",\"true\",\"0H45j0000000%03dAAA\",\"%s\",\"%d\",\"App %03d\",\"user%d@example.com\",\"2025-10-09T18:40:00.123Z\",\"EXTERNAL_APPLICATION\"\n",
			row, row%997, row%3, row%250, row%200, objs[row%len(objs)], 200+300*(row%7/6), row%200, row%997)
	}
	return b.Bytes()
}

// BenchmarkCountFile is the api_usage source's ingest of one file (countFile,
// what a refresh runs per file), without and with the detection tracker.
func BenchmarkCountFile(b *testing.B) {
	const n = 20000
	data := usageFile(n)
	f := salesforce.EventLogFile{ID: "0AT1", Interval: "Daily", LogDate: salesforce.Time{Time: time.Date(2025, 10, 9, 0, 0, 0, 0, time.UTC)}}
	for _, tracking := range []bool{false, true} {
		b.Run(map[bool]string{false: "plain", true: "tracking"}[tracking], func(b *testing.B) {
			var tr *detect.Tracker
			if tracking {
				var err error
				if tr, err = detect.New(detect.Config{}); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				in := beginDetection(tr, "D|bench", f)
				_, scan, err := countFile(f, bytes.NewReader(data), in, maxUsageBytes)
				if err != nil || scan.Rows != n {
					b.Fatal(err, scan.Rows)
				}
				if in != nil {
					tr.Commit(in)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
		})
	}
}
