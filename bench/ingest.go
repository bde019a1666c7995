package main

// ApiTotalUsage CSV ingest: throughput and peak RSS, with and without
// detection, next to encoding/csv ReadAll.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// benchObjects are the ENTITY_NAME values of the ingest file.
var benchObjects = []string{"Account", "Opportunity", "Contact", "Invoice__c"}

func ingest(mb int, tmp string) {
	path := filepath.Join(tmp, "apitotalusage.csv")
	f, _ := os.Create(path)
	w := bufio.NewWriterSize(f, 1<<20)
	cols := sftest.DefaultUsageColumns
	fmt.Fprintf(w, "\"%s\"\n", strings.Join(cols, "\",\""))
	row := 0
	for w.Size() >= 0 {
		fi, _ := f.Stat()
		if fi.Size() >= int64(mb)<<20 {
			break
		}
		for range 10000 {
			row++
			fmt.Fprintf(w, "\"ApiTotalUsage\",\"20251009184000.123\",\"4kTk%d\",\"00D5j00000DgAYG\",\"0055j00000AT%03d\",\"REST\",\"66.0\",\"/v66.0/sobjects/Account\",\"sync \"\"nightly\"\"\",\"GET\",\"198.51.%d.%d\",\"true\",\"0H45j0000000%03dAAA\",\"%s\",\"%d\",\"App %03d\",\"user%d@example.com\",\"2025-10-09T18:40:00.123Z\",\"EXTERNAL_APPLICATION\"\n",
				row, row%997, row%3, row%250, row%200, benchObjects[row%len(benchObjects)], 200+300*(row%7/6), row%200, row%997)
		}
		_ = w.Flush()
	}
	_ = w.Flush()
	f.Close()
	fi, _ := os.Stat(path)
	size := float64(fi.Size()) / (1 << 20)
	parse := func(mode string) (float64, float64) {
		self, _ := os.Executable()
		cmd := exec.Command(self, mode, path)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			fatal("%s: %v", mode, err)
		}
		var rows int
		var secs, rss float64
		if _, err := fmt.Sscan(string(out), &rows, &secs, &rss); err != nil {
			fatal("%s: %q: %v", mode, out, err)
		}
		return size / secs, rss
	}
	oursRate, oursRSS := parse("child-ours")
	detRate, detRSS := parse("child-detect")
	baseRate, baseRSS := parse("child-readall")
	label := fmt.Sprintf("%.0f MB ApiTotalUsage CSV", size)
	add(Result{Name: "Ingest throughput, " + label, Value: oursRate, Unit: "MB/s", Baseline: baseRate, BaseName: "encoding/csv ReadAll", Target: "2x", Met: boolp(oursRate >= 2*baseRate)})
	add(Result{Name: "Ingest throughput with detection, " + label, Value: detRate, Unit: "MB/s", Baseline: oursRate, BaseName: "without detection", Target: ">= 400 MB/s", Met: boolp(detRate >= 400)})
	add(Result{Name: "Ingest peak RSS with detection, " + label, Value: detRSS, Unit: "MB", Baseline: oursRSS, BaseName: "without detection", Target: "flat", Met: boolp(detRSS < 64)})
	add(Result{Name: "Ingest peak RSS, " + label, Value: oursRSS, Unit: "MB", Baseline: baseRSS, BaseName: "encoding/csv ReadAll", Target: "flat", Met: boolp(oursRSS < 64)})
}
