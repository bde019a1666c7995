package refresh

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

var countFileLog = salesforce.EventLogFile{ID: "0AT1", Interval: "Daily", LogDate: salesforce.Time{Time: time.Date(2025, 10, 9, 0, 0, 0, 0, time.UTC)}}

// TestCountFileKeys: rows are counted under the app's 15-character Id, else
// under its trimmed name, else under NoConnectedApp; the first row of an app
// names it.
func TestCountFileKeys(t *testing.T) {
	t.Parallel()
	csv := "CONNECTED_APP_ID,CONNECTED_APP_NAME,STATUS_CODE\n" +
		"0H45j000000Erp1AAA,Acme ERP,200\n" +
		"0H45j000000Erp1,Acme ERP renamed,500\n" +
		",  Data Loader ,200\n" +
		",Data Loader,404\n" +
		",,200\n" +
		", ,200\n" +
		"0H45j000000Erp1AAA,Acme ERP,200\n"
	p, scan, err := countFile(countFileLog, strings.NewReader(csv), nil, maxUsageBytes)
	if err != nil || scan.Rows != 7 {
		t.Fatal(err, scan)
	}
	want := map[string]appCount{
		"0H45j000000Erp1":  {Name: "Acme ERP", ID: "0H45j000000Erp1", Requests: 3, Errors: 1},
		"name:Data Loader": {Name: "Data Loader", Requests: 2, Errors: 1},
		"name:(none)":      {Name: snapshot.NoConnectedApp, Requests: 2},
	}
	if len(p.Apps) != len(want) {
		t.Fatalf("apps %v, want %v", keys(p.Apps), want)
	}
	for k, w := range want {
		if got := p.Apps[k]; got == nil || got.Name != w.Name || got.ID != w.ID || got.Requests != w.Requests || got.Errors != w.Errors || got.Families != nil {
			t.Errorf("%q: got %+v, want %+v", k, got, w)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestCountFileAllocatesPerAppNotPerRow: a file whose apps alternate row by
// row (as a real file's do) allocates for each app once, not for each row,
// with and without the detection ingest.
func TestCountFileAllocatesPerAppNotPerRow(t *testing.T) {
	const apps = 20
	file := func(rows int) []byte {
		var b bytes.Buffer
		b.WriteString("CONNECTED_APP_ID,CONNECTED_APP_NAME,STATUS_CODE,CLIENT_IP,ENTITY_NAME,USER_ID\n")
		for i := range rows {
			if i%2 == 0 {
				fmt.Fprintf(&b, "0H45j0000000%03dAAA,App %d,200,198.51.100.%d,Account,005%012d\n", i%apps, i%apps, i%7, i%5)
			} else {
				fmt.Fprintf(&b, ", Loader %d ,200,198.51.100.%d,Contact,005%012d\n", i%apps, i%7, i%5)
			}
		}
		return b.Bytes()
	}
	tr, err := detect.New(detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tracking := range []bool{false, true} {
		per := func(rows int) float64 {
			data := file(rows)
			return testing.AllocsPerRun(3, func() {
				var in *detect.Ingest
				if tracking {
					in = beginDetection(tr, "D|x", countFileLog)
				}
				p, scan, err := countFile(countFileLog, bytes.NewReader(data), in, maxUsageBytes)
				if err != nil || scan.Rows != rows || len(p.Apps) != apps {
					t.Fatal(err, scan, len(p.Apps))
				}
			})
		}
		small, large := per(1000), per(10000)
		t.Logf("tracking %v: %.0f allocations for 1,000 rows of %d apps, %.0f for 10,000", tracking, small, apps, large)
		if large > small+20 {
			t.Errorf("tracking %v: %.0f allocations for 1,000 rows of %d apps, %.0f for 10,000: the rows allocate", tracking, small, apps, large)
		}
	}
}

// TestUsageStoreBounded (issue 24 item 2): a file's apps past
// maxUsageAppsPerFile, or past the room the store has left, are folded into
// the period's Folded, the first ones keep their counts; a state over the
// bounds (written before them) is folded, the least used entries first.
func TestUsageStoreBounded(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("CONNECTED_APP_ID,CONNECTED_APP_NAME,STATUS_CODE\n")
	b.WriteString("0H4000000000001,Marker,200\n0H4000000000001,Marker,500\n")
	const apps = maxUsageAppsPerFile + 500
	for i := range apps {
		fmt.Fprintf(&b, "0H4%012d,App %d,200\n", i+2, i)
	}
	b.WriteString("0H4000000000001,Marker,200\n")
	p, _, err := countFile(countFileLog, strings.NewReader(b.String()), nil, maxUsageBytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Apps) != maxUsageAppsPerFile || p.Folded != apps+1-maxUsageAppsPerFile {
		t.Errorf("%d apps, %d rows folded; want %d and %d", len(p.Apps), p.Folded, maxUsageAppsPerFile, apps+1-maxUsageAppsPerFile)
	}
	if m := p.Apps["0H4000000000001"]; m == nil || m.Requests != 3 || m.Errors != 1 {
		t.Errorf("the first app's counts %+v, want 3 requests, 1 error", m)
	}

	// Room for a few entries only.
	p, _, err = countFile(countFileLog, strings.NewReader(b.String()), nil, 5*(2*15+8+usageEntryOverhead))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Apps) != 5 || p.Folded != apps+3-3-4 {
		t.Errorf("with room for 5 entries: %d apps, %d rows folded", len(p.Apps), p.Folded)
	}

	// A state of 200,000 apps in one period, and one of 3,000 in another.
	u := newUsageState()
	big := &usagePeriod{Interval: "Daily", Start: countFileLog.LogDate.Time, Apps: map[string]*appCount{}}
	for i := range 200_000 {
		k := fmt.Sprintf("0H4%012d", i)
		big.Apps[k] = &appCount{Name: "App " + k, ID: k, Requests: int64(i)}
	}
	u.Periods["D|big"] = big
	folded := u.bound()
	total := 0
	for _, p := range u.Periods {
		total += p.size()
	}
	if total > maxUsageBytes || len(big.Apps) > maxUsageAppsPerFile {
		t.Errorf("after bound: %d bytes, %d apps", total, len(big.Apps))
	}
	var want int64
	for i := range 200_000 - len(big.Apps) {
		want += int64(i)
	}
	if folded != want || big.Folded != want {
		t.Errorf("folded %d (period %d), want %d: the least used first", folded, big.Folded, want)
	}
	if big.Apps[fmt.Sprintf("0H4%012d", 199_999)] == nil {
		t.Error("the most used app was folded")
	}
}
