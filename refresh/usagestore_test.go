package refresh

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
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
	p, scan, err := countFile(countFileLog, strings.NewReader(csv), nil)
	if err != nil || scan.Rows != 7 {
		t.Fatal(err, scan)
	}
	want := map[string]appCount{
		"0H45j000000Erp1":  {Name: "Acme ERP", ID: "0H45j000000Erp1", Requests: 3, Errors: 1},
		"name:Data Loader": {Name: "Data Loader", Requests: 2, Errors: 1},
		"name:(none)":      {Name: NoConnectedApp, Requests: 2},
	}
	if len(p.Apps) != len(want) {
		t.Fatalf("apps %v, want %v", keys(p.Apps), want)
	}
	for k, w := range want {
		if got := p.Apps[k]; got == nil || *got != w {
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
				p, scan, err := countFile(countFileLog, bytes.NewReader(data), in)
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
