package refresh

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/credentials/insecure"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/pubsub"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest/pubsubfake"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

const streamAppID = "0H4000000000001"

// streamingOrg serves an empty fake org over REST and the Pub/Sub API (its
// integration user may subscribe) and returns the Pub/Sub fake and a config
// of the org with the stream on.
func streamingOrg(t *testing.T) (*pubsubfake.Server, config.Org) {
	t.Helper()
	rest, ts := sftest.Start(t, sftest.NewOrg(), sftest.TestCredentials)
	fake := pubsubfake.Start(t, pubsubfake.ForOrg(rest), pubsubfake.WithSubscribePermission())
	return fake, streamOrgConfig(t, ts.URL, fake.Addr(), "")
}

// streamOrgConfig is an org whose only source is the stream, read from fake.
func streamOrgConfig(t *testing.T, url, endpoint, extra string) config.Org {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "orgs:\n  - name: test\n    login_url: %s\n    sources:\n", url)
	for _, s := range config.Sources {
		fmt.Fprintf(&b, "      %s: {enabled: %v}\n", s, s == config.SourceStream)
	}
	fmt.Fprintf(&b, "    stream: {enabled: true, endpoint: %q%s}\n", endpoint, extra)
	fmt.Fprintf(&b, "    auth:\n      flow: client_credentials\n      client_id: %s\n      client_secret_file: secret\n", sftest.TestCredentials.ClientID)
	dir := t.TempDir()
	writeFile(t, dir+"/secret", sftest.TestCredentials.ClientSecret)
	cfg, err := config.Parse([]byte(b.String()), dir+"/config.yml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Orgs[0]
}

// streamRefresher is a refresher of org keeping its state in dir, with a
// quick drain.
func streamRefresher(t *testing.T, org config.Org, dir string) *Refresher {
	t.Helper()
	r, err := NewRefresher(org, Settings{StaleAfter: staleAfter}, dir, quiet, nil, salesforce.WithRetry(2, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	r.SetStreamOptions(pubsub.WithTransportCredentials(insecure.NewCredentials()), pubsub.WithBackoff(time.Millisecond, 10*time.Millisecond))
	r.streamFlush = 5 * time.Millisecond
	return r
}

// apiEvent is the i-th ApiEventStream event of a test, at now.
func apiEvent(i int, now time.Time, ip string) map[string]any {
	ms := now.UnixMilli()
	return map[string]any{
		"CreatedDate": ms, "CreatedById": "005000000000001AAA", "EventIdentifier": fmt.Sprintf("event-%d", i),
		"EventDate": ms, "UserId": "005000000000002AAA", "Username": "integration@example.com",
		"ConnectedAppId": streamAppID, "Application": "Data Loader", "ApiType": "REST", "Operation": "Query",
		"QueriedEntities": "Account", "RowsProcessed": float64(10), "SourceIp": ip,
	}
}

// runStreaming runs r until the test ends (it stops before the test's
// other cleanups, the fake's among them) and waits until the fake's stats
// meet ready.
func runStreaming(t *testing.T, r *Refresher, fake *pubsubfake.Server, ready func(pubsubfake.Stats) bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	if err := fake.Wait(t.Context(), ready); err != nil {
		t.Fatal(err)
	}
}

// waitFor waits until cond holds of r's latest snapshot, or fails the test
// when its context ends.
func waitFor(t *testing.T, r *Refresher, what string, cond func(*snapshot.Snapshot) bool) *snapshot.Snapshot {
	t.Helper()
	for {
		if s := r.Snapshot(); s != nil && cond(s) {
			return s
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("%s: never happened", what)
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// streamRequests is the app's requests in the tracker's window.
func streamRequests(s *snapshot.Snapshot) int64 {
	if s.Detection == nil || s.Detection.Tracker == nil {
		return -1
	}
	for _, f := range s.Detection.Tracker.Figures() {
		if f.ID == streamAppID {
			return f.Requests
		}
	}
	return 0
}

func storedReplayID(t *testing.T, dir string) []byte {
	t.Helper()
	b, err := os.ReadFile(stateFile(dir, "test"))
	if err != nil {
		return nil
	}
	st, err := parseState(b, "test")
	if err != nil {
		t.Fatal(err)
	}
	if ss := st.Stream[config.TopicAPIEventStream]; ss != nil {
		return ss.ReplayID
	}
	return nil
}

// TestStreamResumesAcrossRestartExactlyOnce stops a serving refresher in
// the middle of the stream (its context cancelled while events are handled
// and not yet drained), starts a new one from the state file on disk, and
// counts every event in the detection baseline exactly once.
func TestStreamResumesAcrossRestartExactlyOnce(t *testing.T) {
	t.Parallel()
	fake, org := streamingOrg(t)
	dir := t.TempDir()
	const total, stopAt = 600, 350
	now := time.Now().UTC()

	r1 := streamRefresher(t, org, dir)
	ctx1, cancel1 := context.WithCancel(t.Context())
	defer cancel1()
	r1.streamHook = func(_ string, events int64) {
		// Mid-stream: once a drain has saved a position, with events
		// handled past it and more on the way.
		if events != stopAt {
			return
		}
		for storedReplayID(t, dir) == nil && ctx1.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		cancel1()
	}
	done1 := make(chan struct{})
	go func() { defer close(done1); r1.Run(ctx1) }()
	if err := fake.Wait(t.Context(), func(s pubsubfake.Stats) bool { return s.Open == 1 }); err != nil {
		t.Fatal(err)
	}
	var last []byte
	for i := range total {
		id, err := fake.PublishEvent(pubsubfake.TopicAPIEventStream, apiEvent(i, now, "192.0.2.10"))
		if err != nil {
			t.Fatal(err)
		}
		last = id
	}
	<-done1
	first := storedReplayID(t, dir)
	if first == nil || string(first) == string(last) {
		t.Fatalf("the first run stopped at %x of %x: not mid-stream", first, last)
	}

	r2 := streamRefresher(t, org, dir)
	ctx2, cancel2 := context.WithCancel(t.Context())
	done2 := make(chan struct{})
	go func() { defer close(done2); r2.Run(ctx2) }()
	// One more event once the second run has subscribed: it ends the wait
	// below whether or not the run resumed where the first one stopped.
	if err := fake.Wait(t.Context(), func(s pubsubfake.Stats) bool { return s.Subscribes == 2 && s.Open == 1 }); err != nil {
		t.Fatal(err)
	}
	last, err := fake.PublishEvent(pubsubfake.TopicAPIEventStream, apiEvent(total, now, "192.0.2.10"))
	if err != nil {
		t.Fatal(err)
	}
	for string(storedReplayID(t, dir)) != string(last) {
		select {
		case <-t.Context().Done():
			t.Fatalf("the second run never stored the last replay id (stored %x, last %x)", storedReplayID(t, dir), last)
		case <-time.After(2 * time.Millisecond):
		}
	}
	// The rows ledger is in the state file: the 24-hour window counts
	// both runs' rows, each event once.
	wantRows := float64(total+1) * 10
	rows := func(s *snapshot.Snapshot) float64 {
		for _, r := range s.Rows {
			if r.Source == config.SourceStream {
				return r.Rows24h
			}
		}
		return 0
	}
	// The ledger takes an event in the drain that hands it to the
	// baseline, before the snapshot: once the baseline has the last one,
	// so has the ledger.
	s := waitFor(t, r2, "the last event in the baseline", func(s *snapshot.Snapshot) bool {
		return s.Stream != nil && len(s.Stream.Apps) > 0 && streamRequests(s) >= total+1
	})
	if got := rows(s); got != wantRows {
		t.Errorf("the rows ledger counts %v rows across the restart, want %v: events lost or counted twice", got, wantRows)
	}
	cancel2()
	<-done2
	if got := streamRequests(s); got != total+1 {
		t.Errorf("the baseline counts %d requests across the restart, want %d: events lost or counted twice", got, total+1)
	}
	// The live figures count this run's events only.
	if a := s.Stream.Apps[0]; a.Requests <= 1 || a.Requests > total || a.RowsProcessed != float64(a.Requests)*10 {
		t.Errorf("second run's live figures %+v: want some but not all of the %d events, 10 rows each", a, total)
	}
}

// TestStreamExpiredReplayRestartsAndSaysSo: a stored position past the
// 72-hour retention is refused; the stream restarts from EARLIEST (the
// default), counts the gap, and goes on counting.
func TestStreamExpiredReplayRestartsAndSaysSo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		onExpired string
		want      int64 // requests counted after the restart
	}{
		{"", 3},       // EARLIEST: the two events still retained, and the one after the restart
		{"latest", 1}, // LATEST: only the event published after the restart
	} {
		t.Run("on_expired="+tc.onExpired, func(t *testing.T) {
			t.Parallel()
			var clock atomic.Int64
			t0 := time.Now().UTC()
			clock.Store(t0.UnixNano())
			rest, ts := sftest.Start(t, sftest.NewOrg(), sftest.TestCredentials)
			fake := pubsubfake.Start(t, pubsubfake.ForOrg(rest), pubsubfake.WithSubscribePermission(), pubsubfake.WithClock(func() time.Time { return time.Unix(0, clock.Load()) }))
			extra := ""
			if tc.onExpired != "" {
				extra = ", on_expired: " + tc.onExpired
			}
			org := streamOrgConfig(t, ts.URL, fake.Addr(), extra)
			dir := t.TempDir()
			old, err := fake.PublishEvent(pubsubfake.TopicAPIEventStream, apiEvent(0, t0, "192.0.2.10"))
			if err != nil {
				t.Fatal(err)
			}
			st := newOrgState("test")
			st.Stream = map[string]*streamState{config.TopicAPIEventStream: {ReplayID: old}}
			if err := saveState(dir, st); err != nil {
				t.Fatal(err)
			}
			// Three days and an hour later, two events are retained.
			clock.Store(t0.Add(73 * time.Hour).UnixNano())
			for i := 1; i <= 2; i++ {
				if _, err := fake.PublishEvent(pubsubfake.TopicAPIEventStream, apiEvent(i, t0, "192.0.2.10")); err != nil {
					t.Fatal(err)
				}
			}
			r := streamRefresher(t, org, dir)
			runStreaming(t, r, fake, func(s pubsubfake.Stats) bool { return s.ReplayRejected == 1 && s.Open == 1 })
			if _, err := fake.PublishEvent(pubsubfake.TopicAPIEventStream, apiEvent(3, t0, "192.0.2.10")); err != nil {
				t.Fatal(err)
			}
			s := waitFor(t, r, "the gap and the events after it", func(s *snapshot.Snapshot) bool {
				return s.Stream != nil && len(s.Stream.Topics) == 1 && s.Stream.Topics[0].ReplayGaps == 1 && s.Stream.Topics[0].Events == tc.want
			})
			if s.Stream.Topics[0].LastGap.IsZero() {
				t.Error("the gap has no time")
			}
			if got := streamRequests(s); got != tc.want {
				t.Errorf("requests %d after the gap, want %d", got, tc.want)
			}
		})
	}
}

// TestStreamStopsWithTheRefresher: cancelling Run ends every goroutine of
// the stream before Run returns (a moved or removed org leaves nothing
// behind), and a disabled stream starts none.
func TestStreamStopsWithTheRefresher(t *testing.T) {
	fake, org := streamingOrg(t)
	r := streamRefresher(t, org, t.TempDir())
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	if err := fake.Wait(t.Context(), func(s pubsubfake.Stats) bool { return s.Open == 1 }); err != nil {
		t.Fatal(err)
	}
	if n := streamGoroutines(); n == 0 {
		t.Fatal("no stream goroutine while the stream is open: the check below would prove nothing")
	}
	cancel()
	<-done
	if n := streamGoroutines(); n != 0 {
		t.Errorf("%d stream goroutines left after Run returned", n)
	}
	if err := fake.Wait(t.Context(), func(s pubsubfake.Stats) bool { return s.Open == 0 }); err != nil {
		t.Fatal(err)
	}

	off := org
	off.Stream.Enabled = false
	r = streamRefresher(t, off, t.TempDir())
	ctx, cancel = context.WithCancel(t.Context())
	done = make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	waitFor(t, r, "a first snapshot", func(*snapshot.Snapshot) bool { return true })
	if n := streamGoroutines(); n != 0 {
		t.Errorf("%d stream goroutines for an org without the stream", n)
	}
	cancel()
	<-done
	if s := fake.Stats(); s.Subscribes != 1 {
		t.Errorf("%d subscriptions, want the enabled org's 1", s.Subscribes)
	}
}

// streamGoroutines counts the goroutines running the stream's code.
func streamGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "refresh.(*streamFeed)") || strings.Contains(g, "pubsub.(*Client).Subscribe") {
			count++
		}
	}
	return count
}

// TestStreamReplayIsGradedLikeLogFiles: an app watched for ten days (from
// its log files) has a stolen token replayed at its usual volume from a
// network it never used, reading User: seen on the stream, the figures the
// detection alerts grade show it as the log file would, the next day.
func TestStreamReplayIsGradedLikeLogFiles(t *testing.T) {
	t.Parallel()
	fake, org := streamingOrg(t)
	dir := t.TempDir()
	now := time.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	tr, err := detect.New(detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for d := 10; d >= 1; d-- {
		day := today.AddDate(0, 0, -d)
		in := tr.Begin(detect.Period{Key: "D|" + day.Format(time.DateOnly), Interval: "Daily", Start: day, FileID: fmt.Sprintf("0AT%d", d)})
		for i := range 100 {
			in.Add(&detect.Row{Time: day.Add(time.Duration(i) * time.Minute).Unix(), AppID: []byte(streamAppID), AppName: []byte("Data Loader"),
				ClientIP: []byte("192.0.2.10"), EntityName: []byte("Opportunity"), UserID: []byte("005A"), StatusCode: 200})
		}
		tr.Commit(in)
	}
	b, err := tr.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	st := newOrgState("test")
	st.Detection = b
	if err := saveState(dir, st); err != nil {
		t.Fatal(err)
	}
	r := streamRefresher(t, org, dir)
	runStreaming(t, r, fake, func(s pubsubfake.Stats) bool { return s.Open == 1 })
	const replayed = 100
	for i := range replayed {
		ev := apiEvent(i, now, "198.18.10.1")
		ev["QueriedEntities"] = "User"
		if _, err := fake.PublishEvent(pubsubfake.TopicAPIEventStream, ev); err != nil {
			t.Fatal(err)
		}
	}
	var f detect.AppFigures
	waitFor(t, r, "the replay in the figures", func(s *snapshot.Snapshot) bool {
		if s.Detection == nil || s.Detection.Tracker == nil {
			return false
		}
		for _, x := range s.Detection.Tracker.Figures() {
			if x.ID == streamAppID && x.RequestsFromNewNetworks == replayed {
				f = x
				return true
			}
		}
		return false
	})
	if f.Usual.Days == 0 || f.NewNetworkShare() <= detect.UnusualFactor*f.Usual.NewNetworkShare {
		t.Errorf("new-network share %.2f against a usual %.2f over %d days: want it flagged", f.NewNetworkShare(), f.Usual.NewNetworkShare, f.Usual.Days)
	}
	if len(f.Evidence) != len(detect.EvidenceKinds) || !f.Evidence[detect.EvidenceSensitiveShare] {
		t.Errorf("evidence %v: want the sensitive share (User, never read before) to corroborate", f.Evidence)
	}
	if f.RequestsFromNewNetworksJudged != replayed {
		t.Errorf("judged requests from new networks %d, want %d", f.RequestsFromNewNetworksJudged, replayed)
	}
}

// TestProbeStream: check's probe asks the service about each topic: a
// reachable topic works, an unknown one fails naming it, and a disabled
// stream says how to turn it on.
func TestProbeStream(t *testing.T) {
	t.Parallel()
	rest, ts := sftest.Start(t, sftest.NewOrg(), sftest.TestCredentials)
	fake := pubsubfake.Start(t, pubsubfake.ForOrg(rest), pubsubfake.WithSubscribePermission())
	org := streamOrgConfig(t, ts.URL, fake.Addr(), ", topics: [/event/ApiEventStream, /event/LoginEventStream]")
	c := newTestRefresher(t, org).Client()
	opts := []pubsub.Option{pubsub.WithTransportCredentials(insecure.NewCredentials()), pubsub.WithRPCTimeout(10 * time.Second)}
	res, err := probeStream(t.Context(), c, ProbeInput{Org: org, Enabled: true, StreamOptions: opts})
	if err != nil || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "/event/LoginEventStream") {
		t.Errorf("reachable topics: %+v, %v", res, err)
	}
	bad := org
	bad.Stream.Topics = []string{"/event/NoSuchTopic"}
	if _, err := probeStream(t.Context(), c, ProbeInput{Org: bad, Enabled: true, StreamOptions: opts}); err == nil || !strings.Contains(err.Error(), "/event/NoSuchTopic is not reachable") {
		t.Errorf("unknown topic: %v", err)
	}
	res, err = probeStream(t.Context(), c, ProbeInput{Org: org, Enabled: false, StreamOptions: opts})
	if err != nil || !strings.Contains(res.Note, "stream.enabled") {
		t.Errorf("disabled: %+v, %v", res, err)
	}
}

// TestStreamEventTimesBounded: an event dated years ahead of the clock (a
// hostile or broken EventDate) counts when it was received, and does not
// move the detection window into the future.
func TestStreamEventTimesBounded(t *testing.T) {
	t.Parallel()
	fake, org := streamingOrg(t)
	r := streamRefresher(t, org, t.TempDir())
	runStreaming(t, r, fake, func(s pubsubfake.Stats) bool { return s.Open == 1 })
	for i, at := range []time.Time{time.Now().AddDate(30, 0, 0), time.Unix(0, 0), time.Now()} {
		if _, err := fake.PublishEvent(pubsubfake.TopicAPIEventStream, apiEvent(i, at, "192.0.2.10")); err != nil {
			t.Fatal(err)
		}
	}
	s := waitFor(t, r, "the three events", func(s *snapshot.Snapshot) bool {
		return s.Stream != nil && len(s.Stream.Topics) == 1 && s.Stream.Topics[0].Events == 3
	})
	if got := streamRequests(s); got != 3 {
		t.Errorf("%d requests in the window, want the 3 events", got)
	}
	if _, end := s.Detection.Tracker.APIWindow(); end.After(time.Now().Add(2 * time.Hour)) {
		t.Errorf("the detection window ends at %s: an event's date moved it", end)
	}
}

// TestStreamFollowsTheOrg: the manager runs an org's stream only while the
// org is in its config (this replica's shard): a reload that drops the org
// (it moved to another shard) closes its subscription.
func TestStreamFollowsTheOrg(t *testing.T) {
	t.Parallel()
	fake, org := streamingOrg(t)
	m := NewManager(t.TempDir(), quiet, nil)
	m.SetStreamOptions(pubsub.WithTransportCredentials(insecure.NewCredentials()))
	ctx, cancel := context.WithCancel(t.Context())
	defer func() { cancel(); m.Wait() }()
	if err := m.Start(ctx, &config.Config{Orgs: []config.Org{org}}); err != nil {
		t.Fatal(err)
	}
	if err := fake.Wait(t.Context(), func(s pubsubfake.Stats) bool { return s.Open == 1 }); err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(&config.Config{}); err != nil {
		t.Fatal(err)
	}
	// Apply returns once the org's refresher has stopped, and the
	// refresher once its stream has.
	if err := fake.Wait(t.Context(), func(s pubsubfake.Stats) bool { return s.Open == 0 }); err != nil {
		t.Fatal(err)
	}
	if s := fake.Stats(); s.Subscribes != 1 {
		t.Errorf("%d subscriptions after the org left, want the 1 it had", s.Subscribes)
	}
}

// TestProbeStreamPermission: the service tells in GetTopic whether the
// user may subscribe (can_subscribe). A user who may read no topic makes
// the stream fail for want of View Real-Time Event Monitoring Data, naming
// the topics; one who may read only some makes it work, limited, saying
// which topics and how to fix it.
func TestProbeStreamPermission(t *testing.T) {
	t.Parallel()
	both := ", topics: [/event/ApiEventStream, /event/LoginEventStream]"
	opts := []pubsub.Option{pubsub.WithTransportCredentials(insecure.NewCredentials()), pubsub.WithRPCTimeout(10 * time.Second)}
	for _, tc := range []struct {
		name    string
		grant   []pubsubfake.Option
		wantErr bool
		limited string
	}{
		{name: "no permission (the fake's default)", wantErr: true},
		{name: "one topic", grant: []pubsubfake.Option{pubsubfake.WithSubscribePermission(pubsubfake.TopicAPIEventStream)}, limited: "/event/LoginEventStream"},
		{name: "every topic", grant: []pubsubfake.Option{pubsubfake.WithSubscribePermission()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rest, ts := sftest.Start(t, sftest.NewOrg(), sftest.TestCredentials)
			fake := pubsubfake.Start(t, pubsubfake.ForOrg(rest), tc.grant...)
			org := streamOrgConfig(t, ts.URL, fake.Addr(), both)
			c := newTestRefresher(t, org).Client()
			res, err := probeStream(t.Context(), c, ProbeInput{Org: org, Enabled: true, StreamOptions: opts})
			if tc.wantErr {
				if !errors.Is(err, errPermission) || !strings.Contains(err.Error(), "View Real-Time Event Monitoring Data") ||
					!strings.Contains(err.Error(), "/event/ApiEventStream, /event/LoginEventStream") {
					t.Errorf("no permission: %+v, %v; want a permission error naming both topics", res, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("probe: %v", err)
			}
			if tc.limited == "" {
				if res.Limited != "" {
					t.Errorf("limited %q, want full", res.Limited)
				}
				return
			}
			if !strings.Contains(res.Limited, tc.limited) || strings.Contains(res.Limited, "/event/ApiEventStream") || !strings.Contains(res.Limited, "grant View Real-Time Event Monitoring Data") {
				t.Errorf("limited %q, want it to name %s only, and the permission to grant", res.Limited, tc.limited)
			}
			if len(res.Notes) != 1 || strings.Contains(res.Notes[0], tc.limited) {
				t.Errorf("notes %q: want the readable topic only", res.Notes)
			}
		})
	}
}

// TestStreamUnreadableStoredPositionIsAGap: a stored position past its
// bounds is set aside when the state is read; the stream starts at its
// latest event (replaying the retained ones could count events twice) and
// counts the events since the stop as lost: a replay gap, as for an
// expired position.
func TestStreamUnreadableStoredPositionIsAGap(t *testing.T) {
	t.Parallel()
	fake, org := streamingOrg(t)
	dir := t.TempDir()
	t0 := time.Now().UTC()
	if _, err := fake.PublishEvent(pubsubfake.TopicAPIEventStream, apiEvent(0, t0, "192.0.2.10")); err != nil {
		t.Fatal(err)
	}
	st := newOrgState("test")
	st.Stream = map[string]*streamState{config.TopicAPIEventStream: {ReplayID: bytes.Repeat([]byte{7}, maxStoredReplayID+1)}}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stateFile(dir, "test"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	r := streamRefresher(t, org, dir)
	runStreaming(t, r, fake, func(s pubsubfake.Stats) bool { return s.Open == 1 })
	if _, err := fake.PublishEvent(pubsubfake.TopicAPIEventStream, apiEvent(1, t0, "192.0.2.10")); err != nil {
		t.Fatal(err)
	}
	s := waitFor(t, r, "the gap and the event after the start", func(s *snapshot.Snapshot) bool {
		return s.Stream != nil && len(s.Stream.Topics) == 1 && s.Stream.Topics[0].ReplayGaps == 1 && s.Stream.Topics[0].Events == 1
	})
	if s.Stream.Topics[0].LastGap.IsZero() {
		t.Error("the gap has no time")
	}
	if got := streamRequests(s); got != 1 {
		t.Errorf("requests %d, want 1: only the event published after the start (the retained one was counted before the stop)", got)
	}
	// Started at the latest event, not sent the unreadable position and
	// refused (the expired route): nothing replayed.
	if st := fake.Stats(); st.ReplayRejected != 0 || st.Delivered != 1 {
		t.Errorf("the fake refused %d replay ids and delivered %d events, want 0 and 1", st.ReplayRejected, st.Delivered)
	}
}
