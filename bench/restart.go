package main

// A restart with the token store on disk, next to a full read.

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
)

// loadLog catches the refresher's "Restored the token store" log line, which
// says how long the token file took to load.
type loadLog struct {
	mu      sync.Mutex
	seconds float64
	tokens  int64
}

func (l *loadLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *loadLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *loadLog) WithGroup(string) slog.Handler            { return l }
func (l *loadLog) Handle(_ context.Context, r slog.Record) error {
	if !strings.HasPrefix(r.Message, "Restored the token store") {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "load_seconds":
			l.seconds = a.Value.Float64()
		case "tokens":
			l.tokens = a.Value.Int64()
		}
		return true
	})
	return nil
}

// tokenTotal is the number of tokens a snapshot counts on connected apps.
func tokenTotal(s *snapshot.Snapshot) int {
	n := 0
	for _, a := range s.Apps {
		if a.Kind == snapshot.KindConnectedApp {
			n += int(a.Tokens)
		}
	}
	return n
}

// restart measures what a restart of a row-mode org costs with the token
// store on disk, next to the full read it costs without.
func restart(n int) {
	org, srv, url, stop := newFake(n, 4)
	defer stop()
	dir, _ := os.MkdirTemp("", "sfoe-bench-restart-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	sources := []string{config.SourceLimits, config.SourceApps, config.SourceOAuthTokens}
	quiet := slog.New(slog.DiscardHandler)
	srv.ResetCounts()
	start := time.Now()
	if err := refresherIn(dir, url, quiet, sources...).RefreshAll(ctx); err != nil {
		fatal("first start: %v", err)
	}
	fullWall, fullCalls := time.Since(start), srv.APICalls()
	fi, err := os.Stat(filepath.Join(dir, "bench.tokens"))
	if err != nil {
		fatal("no token file: %v", err)
	}
	label := fmt.Sprintf("%dk tokens, row mode", n/1000)
	for _, down := range []time.Duration{5 * time.Minute, time.Hour} {
		// Down a while: 0.1% of the tokens change every 5 minutes, used or new.
		for i := range int(down / (5 * time.Minute)) {
			org.Churn(n/1000-n/10000, n/10000, uint64(200+i))
			org.Advance(5 * time.Minute)
		}
		ll := &loadLog{}
		srv.ResetCounts()
		start := time.Now()
		r := refresherIn(dir, url, slog.New(ll), sources...)
		if err := r.RefreshAll(ctx); err != nil {
			fatal("restart: %v", err)
		}
		wall, calls := time.Since(start), srv.APICalls()
		if ll.tokens == 0 {
			fatal("restart did not restore the token store")
		}
		if got, want := tokenTotal(r.Snapshot()), org.TokenCount(); got != want {
			fatal("restart: %d tokens counted, the org has %d", got, want)
		}
		fmt.Fprintf(os.Stderr, "  restart after %s down, requests by resource: %v\n", down, srv.Requests())
		name := fmt.Sprintf("Restart API calls (limits, apps, tokens) after %s down, %s", down, label)
		if down == 5*time.Minute {
			add(Result{Name: name, Value: float64(calls), Unit: "calls", Baseline: float64(fullCalls), BaseName: "full read (no token file)", Target: "<= 12", Met: boolp(calls <= 12)})
			add(Result{Name: "Restart wall time, same", Value: wall.Seconds(), Unit: "s", Baseline: fullWall.Seconds(), BaseName: "full read (no token file)", Target: "seconds", Met: boolp(wall < 10*time.Second)})
			add(Result{Name: "Token file size, " + label, Value: float64(fi.Size()) / (1 << 20), Unit: "MB", Note: fmt.Sprintf("%.1f bytes a token", float64(fi.Size())/float64(n))})
			add(Result{Name: "Token file load time, " + label, Value: ll.seconds * 1000, Unit: "ms"})
		} else {
			add(Result{Name: name, Value: float64(calls), Unit: "calls", Baseline: float64(fullCalls), BaseName: "full read (no token file)", Note: "the changes since the watermarks are read in 500-row pages: about one call per 500 tokens used or added while down"})
		}
	}
}
