package detect

import (
	"fmt"
	"strings"
	"testing"
)

// TestIngestStagingBounded (issue 24 item 2): a file's staged objects and
// networks stop at their caps, per app and per file; the rows past them are
// folded and counted, still count as requests (and a sensitive object's
// rows still count for it), but reach neither the baseline nor the evidence.
func TestIngestStagingBounded(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{MaxObjectsPerApp: 10, MaxNetworksPerApp: 10})
	in := tr.Begin(Period{Key: "D|1", Interval: "Daily", Start: day0, FileID: "0AT1"})
	// One app: 100 distinct objects (the per-app cap is 4 × 10), the last a
	// sensitive one; 100 distinct networks.
	var rows []row
	for i := range 100 {
		rows = append(rows, row{at: day0.Add(1e9), id: erpID, name: "ERP", ip: fmt.Sprintf("10.0.%d.1", i), entity: fmt.Sprintf("Obj%d__c", i), user: "005A"})
	}
	rows = append(rows, row{at: day0.Add(1e9), id: erpID, name: "ERP", ip: "10.0.0.1", entity: "Account", user: "005A", n: 5})
	addRows(in, rows)
	nets, objs := in.Folded()
	if nets != 60 || objs != 65 {
		t.Errorf("folded %d network rows and %d object touches, want 60 (100 networks, 40 staged) and 65 (60 objects, then Account 5 times)", nets, objs)
	}
	tr.Commit(in)
	f := figure(t, tr, AppKey(erpID, ""))
	if got := sens(tr, f.ObjectRequests, "Account"); got != 5 {
		t.Errorf("Account requests %d, want the 5 folded ones counted", got)
	}
	tr.mu.RLock()
	a := tr.apps[AppKey(erpID, "")]
	if len(a.objs) > 10 || len(a.nets) > 10 {
		t.Errorf("baseline holds %d objects and %d networks, over the caps of 10", len(a.objs), len(a.nets))
	}
	if _, ok := a.objs[foldedObject]; ok {
		t.Error("the folded objects' stand-in entered the baseline")
	}
	tr.mu.RUnlock()

	// Per file: many apps, each under its own cap, together past the file's.
	tr = mustNew(t, Config{})
	in = tr.Begin(Period{Key: "D|1", Interval: "Daily", Start: day0, FileID: "0AT1"})
	const apps, perApp = 200, 300 // 60,000 networks and objects, each app under its caps
	for i := range apps * perApp {
		id := fmt.Sprintf("0H4%012d", i%apps)
		in.Add(&Row{Time: day0.Unix() + 60, AppID: []byte(id), AppName: []byte("App"), ClientIP: []byte(fmt.Sprintf("10.%d.%d.1", i>>8, i&0xff)), EntityName: []byte(fmt.Sprintf("O%d", i)), StatusCode: 200})
	}
	nets, objs = in.Folded()
	if in.objs != MaxStagedObjectsPerFile || objs != apps*perApp-MaxStagedObjectsPerFile {
		t.Errorf("staged %d objects, folded %d touches; want %d staged, the %d others folded", in.objs, objs, MaxStagedObjectsPerFile, apps*perApp-MaxStagedObjectsPerFile)
	}
	if in.nets != MaxStagedNetworksPerFile || nets != apps*perApp-MaxStagedNetworksPerFile {
		t.Errorf("staged %d networks, folded %d rows; want %d staged, the %d others folded", in.nets, nets, MaxStagedNetworksPerFile, apps*perApp-MaxStagedNetworksPerFile)
	}

	// Long names: the bytes bound the file first.
	tr = mustNew(t, Config{})
	in = tr.Begin(Period{Key: "D|1", Interval: "Daily", Start: day0, FileID: "0AT1"})
	long := strings.Repeat("x", 1000)
	const longRows = 2 * MaxStagedObjectBytesPerFile / 1010
	for i := range longRows {
		in.Add(&Row{Time: day0.Unix() + 60, AppID: fmt.Appendf(nil, "0H4%012d", i%500), AppName: []byte("App"), ClientIP: []byte("192.0.2.1"), EntityName: fmt.Appendf(nil, "O%08d%s", i, long), StatusCode: 200})
	}
	_, objs = in.Folded()
	if in.objBytes > MaxStagedObjectBytesPerFile || in.objBytes < MaxStagedObjectBytesPerFile-1009 || objs != int64(longRows-in.objs) {
		t.Errorf("staged %d objects of %d bytes, folded %d: want at most %d bytes, the rest folded", in.objs, in.objBytes, objs, MaxStagedObjectBytesPerFile)
	}
}

// TestIngestAppsPerFileBounded: a file stages at most MaxStagedAppsPerFile
// apps, whatever MaxApps allows; the rest's rows are dropped and counted.
func TestIngestAppsPerFileBounded(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{MaxApps: 3 * MaxStagedAppsPerFile})
	in := tr.Begin(Period{Key: "D|1", Interval: "Daily", Start: day0, FileID: "0AT1"})
	for i := range MaxStagedAppsPerFile + 100 {
		in.Add(&Row{Time: day0.Unix() + 60, AppID: fmt.Appendf(nil, "0H4%012d", i), AppName: []byte("App"), ClientIP: []byte("192.0.2.1"), StatusCode: 200})
	}
	tr.Commit(in)
	if len(tr.apps) != MaxStagedAppsPerFile || tr.DroppedRows() != 100 {
		t.Errorf("%d apps, %d rows dropped; want %d and 100", len(tr.apps), tr.DroppedRows(), MaxStagedAppsPerFile)
	}
}

// TestBaselineBoundedOverFiles: files of apps each under their caps fill
// the baseline past MaxBaselineObjectBytes and MaxBaselineNetworks; the
// least recently seen go, and the state stays bounded across a restore.
func TestBaselineBoundedOverFiles(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{MaxApps: 5000})
	long := strings.Repeat("x", 1000)
	for d := range 6 {
		day := day0.AddDate(0, 0, d)
		in := tr.Begin(Period{Key: "D|" + day.Format("0102"), Interval: "Daily", Start: day, FileID: "0AT" + day.Format("0102")})
		for i := range 4000 {
			in.Add(&Row{Time: day.Unix() + int64(i), AppID: fmt.Appendf(nil, "0H4%012d", d*1000+i%1000), AppName: []byte("App"),
				ClientIP: fmt.Appendf(nil, "10.%d.%d.1", (d*4000+i)>>8&0xff, (d*4000+i)&0xff), EntityName: fmt.Appendf(nil, "O%d_%d%s", d, i, long), StatusCode: 200})
		}
		tr.Commit(in)
	}
	count := func(tr *Tracker) (nets, objBytes int) {
		for _, a := range tr.apps {
			nets += len(a.nets)
			for k := range a.objs {
				objBytes += len(k) + 16
			}
		}
		return nets, objBytes
	}
	_, b := count(tr)
	if b > MaxBaselineObjectBytes || b < MaxBaselineObjectBytes/2 {
		t.Errorf("baseline object names %d bytes, want at most %d (and not emptied)", b, MaxBaselineObjectBytes)
	}
	// The newest day's objects are kept.
	if _, ok := tr.apps["0H4000000004000"].objs["O4_0"+long]; !ok {
		t.Error("the most recently seen object was evicted")
	}
	data, err := tr.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > MaxBaselineObjectBytes*3/2 {
		t.Errorf("state %d bytes", len(data))
	}
}
