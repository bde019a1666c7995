package main

// Stream ingest: events per CPU-second and peak RSS of an org's stream
// source at a steady event rate for a bounded duration. The stream runs in
// a child process of this binary (child-stream: the refresher with only the
// stream on, over plain gRPC to the fake), so its CPU and memory are its
// own; this process serves the fake org and the fake Pub/Sub API and
// publishes the events.

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/refresh"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/pubsub"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/pubsub/pubsubpb"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest/pubsubfake"
)

func streamIngest(rate int, dur time.Duration, tmp string) {
	_, srv, url, stop := newFake(1000, 9)
	defer stop()
	fake := pubsubfake.New(pubsubfake.ForOrg(srv), pubsubfake.WithSubscribePermission())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal("%v", err)
	}
	gs := grpc.NewServer()
	pubsubpb.RegisterPubSubServer(gs, fake)
	go func() { _ = gs.Serve(ln) }()
	defer gs.Stop()
	dir, _ := os.MkdirTemp(tmp, "stream-")
	total := int(float64(rate) * dur.Seconds())
	self, _ := os.Executable()
	cmd := exec.Command(self, "child-stream", url, ln.Addr().String(), dir, strconv.Itoa(total))
	cmd.Stderr = os.Stderr
	outPipe, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		fatal("%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	if err := fake.Wait(ctx, func(s pubsubfake.Stats) bool { return s.Open >= 1 }); err != nil {
		fatal("stream bench: the child never subscribed: %v", err)
	}
	cancel()
	// Publish at the rate, in 10 ms steps, for the duration.
	start := time.Now()
	tick := time.NewTicker(10 * time.Millisecond)
	sent := 0
	for sent < total {
		<-tick.C
		due := min(total, int(float64(rate)*time.Since(start).Seconds()))
		for ; sent < due; sent++ {
			now := time.Now()
			_, _ = fake.PublishEvent(pubsubfake.TopicAPIEventStream, map[string]any{
				"CreatedDate": now.UnixMilli(), "CreatedById": "005000000000001AAA", "EventIdentifier": fmt.Sprintf("e-%d", sent),
				"EventDate": now.UnixMilli(), "UserId": fmt.Sprintf("005%012d", sent%500), "Username": "u@example.com",
				"ConnectedAppId": fmt.Sprintf("0H4%012d", sent%50), "Application": fmt.Sprintf("App %d", sent%50), "ApiType": "REST",
				"Operation": "Query", "QueriedEntities": []string{"Account", "Contact", "Opportunity", "Case"}[sent%4],
				"RowsProcessed": float64(sent % 200), "SourceIp": fmt.Sprintf("198.51.%d.%d", sent%40, sent%250),
			})
		}
	}
	tick.Stop()
	publishWall := time.Since(start)
	buf := make([]byte, 256)
	n, _ := outPipe.Read(buf)
	_ = cmd.Wait()
	f := strings.Fields(string(buf[:n]))
	if len(f) != 3 {
		fatal("stream bench: child said %q", buf[:n])
	}
	events, _ := strconv.ParseFloat(f[0], 64)
	cpu, _ := strconv.ParseFloat(f[1], 64)
	rss, _ := strconv.ParseFloat(f[2], 64)
	label := fmt.Sprintf("%d events/s for %s", rate, dur)
	add(Result{Name: "Stream ingest, " + label, Value: events / cpu, Unit: "ev/cpu-s",
		Note: fmt.Sprintf("%.0f events handled and drained in %.1f CPU-seconds; published over %.1fs", events, cpu, publishWall.Seconds())})
	add(Result{Name: "Stream peak RSS, " + label, Value: rss, Unit: "MB", Target: "<= 150 MB", Met: boolp(rss <= 150)})
}

// childStream runs one org's stream until it has handled want events, then
// prints the events, its CPU-seconds and its peak RSS in MB.
func childStream(args []string) {
	url, endpoint, dir := args[0], args[1], args[2]
	want, _ := strconv.ParseInt(args[3], 10, 64)
	_ = os.WriteFile(filepath.Join(dir, "secret"), []byte(sftest.TestCredentials.ClientSecret), 0o600)
	var b strings.Builder
	fmt.Fprintf(&b, "orgs:\n  - name: org0\n    login_url: %s\n    sources:\n", url)
	for _, s := range config.Sources {
		fmt.Fprintf(&b, "      %s: {enabled: %v}\n", s, s == config.SourceStream)
	}
	fmt.Fprintf(&b, "    stream: {enabled: true, endpoint: %q}\n    auth: {flow: client_credentials, client_id: %s, client_secret_file: secret}\n", endpoint, sftest.TestCredentials.ClientID)
	cfg, err := config.Parse([]byte(b.String()), filepath.Join(dir, "config.yml"))
	if err != nil {
		fatal("%v", err)
	}
	r, err := refresh.NewRefresher(cfg.Orgs[0], refresh.SettingsFrom(cfg), filepath.Join(dir, "data"), slog.New(slog.DiscardHandler), nil)
	if err != nil {
		fatal("%v", err)
	}
	r.SetStreamOptions(pubsub.WithTransportCredentials(insecure.NewCredentials()))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	var events int64
	// The publisher's rate and duration bound the wait; an event lost
	// would leave it waiting, so it gives up well past them.
	deadline := time.Now().Add(time.Duration(want)*time.Millisecond + 10*time.Minute)
	for events < want {
		if time.Now().After(deadline) {
			fatal("stream bench: %d of %d events handled", events, want)
		}
		time.Sleep(200 * time.Millisecond)
		if s := r.Snapshot(); s != nil && s.Stream != nil && len(s.Stream.Topics) > 0 {
			events = s.Stream.Topics[0].Events
		}
	}
	cancel()
	<-done
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	fmt.Printf("%d %.3f %.1f\n", events, cpu, vmHWM(os.Getpid()))
}
