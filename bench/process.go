package main

// The exporter as a process: started and polled through the end-to-end
// harness, its peak RSS and CPU time read from /proc.

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/e2eharness"
)

// vmHWM reads a process's peak resident set size in MB.
func vmHWM(pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

// procCPU is a process's user+system CPU time, from /proc.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

func metricValue(body, name string) float64 {
	for _, l := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(l, name+" "); ok {
			v, _ := strconv.ParseFloat(rest, 64)
			return v
		}
	}
	return 0
}

// startExporter runs the exporter binary with args on a free loopback port
// and returns once it listens.
func startExporter(bin string, args ...string) *e2eharness.Exporter {
	e, err := e2eharness.Start(bin, args...)
	if err != nil {
		fatal("%v", err)
	}
	return e
}

// waitMetrics reads the exporter's /metrics every half second until cond
// holds on it, and returns that body.
func waitMetrics(e *e2eharness.Exporter, cond func(string) bool, timeout time.Duration) string {
	b, err := e.Poll(timeout, 500*time.Millisecond, func(b []byte) bool { return cond(string(b)) })
	if err != nil {
		fatal("waiting for the exporter: %v", err)
	}
	return string(b)
}
