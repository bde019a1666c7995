package main

// Peak resident memory: the exporter over a large org, next to a naive
// reader run as a child of this binary (the child modes).

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

func peakRSS(bin string, n int, tmp string) {
	_, _, url, stop := newFake(n, 3)
	defer stop()
	dir, _ := os.MkdirTemp(tmp, "rss-")
	// From the start of the process, as the first refresh begins then.
	start := time.Now()
	e := startExporter(bin, "--config.file="+writeExporterConfig(dir, []string{url}, "20s"), "--storage.path="+filepath.Join(dir, "data"))
	defer e.Kill()
	waitMetrics(e, func(s string) bool { return strings.Contains(s, `salesforce_up{org="org0"} 1`) }, 10*time.Minute)
	first := time.Since(start)
	time.Sleep(45 * time.Second) // two steady refreshes
	ours := vmHWM(e.Cmd.Process.Pid)
	// Baseline: a naive exporter holding every decoded row.
	naive := childRSS("child-naive", url)
	label := fmt.Sprintf("%dk tokens", n/1000)
	add(Result{Name: "Exporter peak RSS, " + label, Value: ours, Unit: "MB", Baseline: naive, BaseName: "all rows decoded and held", Target: "<= 150 MB", Met: boolp(ours <= 150),
		Note: fmt.Sprintf("first full refresh of every source took %.1fs", first.Seconds())})
}

// childRSS runs a child mode of this binary and returns its peak RSS.
func childRSS(mode string, args ...string) float64 {
	self, _ := os.Executable()
	cmd := exec.Command(self, append([]string{mode}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		fatal("%s: %v", mode, err)
	}
	v, _ := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	return v
}

func child(mode string, args []string) {
	switch mode {
	case "child-naive":
		c := client(args[0])
		var rows []salesforce.OauthToken
		_, err := c.OauthTokens(context.Background(), salesforce.TokenQuery{Concurrency: 8}, func(t salesforce.OauthToken) { rows = append(rows, t) })
		if err != nil {
			fatal("%v", err)
		}
		runtime.KeepAlive(rows)
		fmt.Println(vmHWM(os.Getpid()))
	case "child-ours", "child-detect", "child-readall":
		f, err := os.Open(args[0])
		if err != nil {
			fatal("%v", err)
		}
		start := time.Now()
		rows := 0
		switch mode {
		case "child-ours":
			counts := map[string]int{}
			rows, err = salesforce.ParseAPITotalUsage(bufio.NewReaderSize(f, 1<<20), func(e salesforce.UsageEvent) { counts[string(e.AppID)]++ })
		case "child-detect":
			// The same, with the network and object tracking on (what the
			// api_usage source does per row).
			tr, _ := detect.New(detect.Config{})
			in := tr.Begin(detect.Period{Key: "D|bench", Interval: "Daily", Start: time.Date(2025, 10, 9, 0, 0, 0, 0, time.UTC), FileID: "0AT"})
			counts := map[string]int{}
			var row detect.Row
			rows, err = salesforce.ParseAPITotalUsage(bufio.NewReaderSize(f, 1<<20), func(e salesforce.UsageEvent) {
				counts[string(e.AppID)]++
				row = detect.Row{AppID: e.AppID, AppName: e.AppName, ClientIP: e.ClientIP, EntityName: e.EntityName, UserID: e.UserID, StatusCode: e.StatusCode}
				in.Add(&row)
			})
			tr.Commit(in)
			if b, merr := tr.MarshalBinary(); merr == nil {
				fmt.Fprintf(os.Stderr, "detection state %d bytes\n", len(b))
			}
		default:
			var all [][]string
			all, err = csv.NewReader(f).ReadAll()
			rows = len(all) - 1
		}
		if err != nil {
			fatal("%v", err)
		}
		fmt.Printf("%d %f %f\n", rows, time.Since(start).Seconds(), vmHWM(os.Getpid()))
	}
}
