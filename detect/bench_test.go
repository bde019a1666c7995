package detect

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// benchRows is a day of traffic for 200 apps, interleaved as a real file
// is (ordered by time, not by app): integrations on a few networks, a few
// mobile apps on many, some Salesforce.com IP rows.
func benchRows(n int) []Row {
	rows := make([]Row, n)
	objs := [][]byte{[]byte("Account"), []byte("Opportunity"), []byte("Invoice__c"), []byte("Contact"), []byte(""), []byte("User")}
	for i := range rows {
		app := i % 200
		var ip []byte
		switch {
		case i%50 == 0:
			ip = []byte("Salesforce.com IP")
		case app < 10: // mobile apps
			ip = fmt.Appendf(nil, "100.%d.%d.%d", 64+i%50, (i/7)%256, i%200)
		default:
			ip = fmt.Appendf(nil, "198.51.%d.%d", app, i%3)
		}
		rows[i] = Row{Time: day0.Unix() + int64(i)*86400/int64(n), AppID: fmt.Appendf(nil, "0H45j0000000%03dAAA", app), AppName: fmt.Appendf(nil, "App %03d", app),
			ClientIP: ip, EntityName: objs[i%len(objs)], UserID: fmt.Appendf(nil, "0055j00000AT%03d", i%997), StatusCode: 200}
	}
	return rows
}

func benchTracker(b *testing.B) *Tracker {
	tr := mustNew(b, Config{})
	s, _ := NewIOCSet([]IOCList{{Name: "campaign", Prefixes: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("192.0.2.1/32")}}})
	tr.SetIOC(s)
	// A baseline, so the hot path meets known networks as it would.
	in := tr.Begin(Period{Key: "D0", Interval: "Daily", Start: day0.AddDate(0, 0, -1)})
	for _, r := range benchRows(100000) {
		r.Time = 0
		in.Add(&r)
	}
	tr.Commit(in)
	return tr
}

// BenchmarkAdd is the per-row cost of tracking (ns/op is ns per row).
func BenchmarkAdd(b *testing.B) {
	tr := benchTracker(b)
	rows := benchRows(100000)
	in := tr.Begin(Period{Key: "D1", Interval: "Daily", Start: day0})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		in.Add(&rows[i%len(rows)])
		i++
	}
}

// BenchmarkParseAndTrack is the ingest with tracking on: the ApiTotalUsage
// parser over ~250-byte rows, each row then tracked with the CLIENT_IP,
// ENTITY_NAME and USER_ID it parsed, and the time of its TIMESTAMP_DERIVED,
// as the refresher does.
func BenchmarkParseAndTrack(b *testing.B) {
	const n = 20000
	rows := benchRows(n)
	var buf bytes.Buffer
	buf.WriteString(`"EVENT_TYPE","TIMESTAMP","REQUEST_ID","ORGANIZATION_ID","USER_ID","API_FAMILY","API_VERSION","API_RESOURCE","CLIENT_NAME","HTTP_METHOD","CLIENT_IP","COUNTS_AGAINST_API_LIMIT","CONNECTED_APP_ID","ENTITY_NAME","STATUS_CODE","CONNECTED_APP_NAME","USER_NAME","TIMESTAMP_DERIVED","API_CLIENT_CATEGORY"` + "\n")
	for i, r := range rows {
		ts := time.Unix(r.Time, 0).UTC()
		fmt.Fprintf(&buf, `"ApiTotalUsage","%s","4kTk%d","00D5j00000DgAYG","%s","REST","66.0","/v66.0/sobjects/Account","sync ""nightly""","GET","%s","true","%s","%s","200","%s","user%d@example.com","%s","EXTERNAL_APPLICATION"`+"\n",
			ts.Format("20060102150405.000"), i, r.UserID, r.ClientIP, r.AppID, r.EntityName, r.AppName, i%997, ts.Format("2006-01-02T15:04:05.000Z"))
	}
	data := buf.Bytes()
	tr := benchTracker(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		in := tr.Begin(Period{Key: "D1", Interval: "Daily", Start: day0})
		i := 0
		_, err := salesforce.ParseAPITotalUsage(bytes.NewReader(data), func(ev salesforce.UsageEvent) {
			ts, _ := ParseTimestamp(ev.Time)
			r := Row{Time: ts, AppID: ev.AppID, AppName: ev.AppName, ClientIP: ev.ClientIP, EntityName: ev.EntityName, UserID: ev.UserID, StatusCode: ev.StatusCode}
			in.Add(&r)
			i++
		})
		if err != nil || i != n {
			b.Fatal(err, i)
		}
		tr.Commit(in)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
}

// BenchmarkParseOnly is the same file through the parser alone: the baseline.
func BenchmarkParseOnly(b *testing.B) {
	const n = 20000
	rows := benchRows(n)
	var buf bytes.Buffer
	buf.WriteString(`"EVENT_TYPE","TIMESTAMP","REQUEST_ID","ORGANIZATION_ID","USER_ID","API_FAMILY","API_VERSION","API_RESOURCE","CLIENT_NAME","HTTP_METHOD","CLIENT_IP","COUNTS_AGAINST_API_LIMIT","CONNECTED_APP_ID","ENTITY_NAME","STATUS_CODE","CONNECTED_APP_NAME","USER_NAME","TIMESTAMP_DERIVED","API_CLIENT_CATEGORY"` + "\n")
	for i, r := range rows {
		ts := time.Unix(r.Time, 0).UTC()
		fmt.Fprintf(&buf, `"ApiTotalUsage","%s","4kTk%d","00D5j00000DgAYG","%s","REST","66.0","/v66.0/sobjects/Account","sync ""nightly""","GET","%s","true","%s","%s","200","%s","user%d@example.com","%s","EXTERNAL_APPLICATION"`+"\n",
			ts.Format("20060102150405.000"), i, r.UserID, r.ClientIP, r.AppID, r.EntityName, r.AppName, i%997, ts.Format("2006-01-02T15:04:05.000Z"))
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := salesforce.ParseAPITotalUsage(bytes.NewReader(data), func(salesforce.UsageEvent) {}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
}

// BenchmarkStateMarshal is the cost of writing the detection state of a
// day's baseline for 200 apps.
func BenchmarkStateMarshal(b *testing.B) {
	tr := benchTracker(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tr.MarshalBinary(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStateRestore is the cost of reading it back at a start.
func BenchmarkStateRestore(b *testing.B) {
	tr := benchTracker(b)
	data, err := tr.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Restore(tr.Config(), data); err != nil {
			b.Fatal(err)
		}
	}
}
