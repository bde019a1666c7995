package pubsub_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/pubsub"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest/pubsubfake"
)

// env is a fake org (REST and OAuth) with its fake Pub/Sub API, and a
// client subscribed through a real salesforce.Client.
type env struct {
	rest   *sftest.Server
	fake   *pubsubfake.Server
	client *pubsub.Client
}

func setup(t *testing.T, fakeOpts []pubsubfake.Option, opts ...pubsub.Option) *env {
	t.Helper()
	rest, ts := sftest.Start(t, sftest.NewOrg(), sftest.TestCredentials)
	sc, err := salesforce.NewClient(salesforce.AuthConfig{
		Flow: salesforce.FlowClientCredentials, LoginURL: ts.URL,
		ClientID: sftest.TestCredentials.ClientID, ClientSecret: sftest.TestCredentials.ClientSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
	fake := pubsubfake.Start(t, pubsubfake.ForOrg(rest), append([]pubsubfake.Option{pubsubfake.WithSubscribePermission()}, fakeOpts...)...)
	base := []pubsub.Option{
		pubsub.WithEndpoint(fake.Addr()),
		pubsub.WithTransportCredentials(insecure.NewCredentials()),
		pubsub.WithBackoff(time.Millisecond, 10*time.Millisecond),
	}
	c, err := pubsub.New(sc, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &env{rest: rest, fake: fake, client: c}
}

// apiRecord is the i-th ApiEventStream event the tests publish.
func apiRecord(i int) map[string]any {
	return map[string]any{
		"CreatedDate":     int64(1767225600000 + i),
		"CreatedById":     "005000000000001AAA",
		"EventIdentifier": fmt.Sprintf("event-%d", i),
		"EventDate":       int64(1767225600000 + i*1000),
		"UserId":          "005000000000002AAA",
		"Username":        "integration@example.com",
		"ConnectedAppId":  "0H4000000000001",
		"Application":     "Data Loader",
		"ApiType":         "REST",
		"Operation":       "Query",
		"QueriedEntities": "Account",
		"RowsProcessed":   float64(i),
		"SourceIp":        "192.0.2.10",
	}
}

func wantAPIEvent(i int) pubsub.APIEvent {
	return pubsub.APIEvent{
		EventIdentifier: fmt.Sprintf("event-%d", i),
		EventDate:       time.UnixMilli(1767225600000 + int64(i)*1000).UTC(),
		UserID:          "005000000000002AAA", Username: "integration@example.com",
		ConnectedAppID: "0H4000000000001", Application: "Data Loader", APIType: "REST",
		Operation: "Query", QueriedEntities: "Account", RowsProcessed: float64(i), SourceIP: "192.0.2.10",
	}
}

func publish(t *testing.T, f *pubsubfake.Server, from, to int) [][]byte {
	t.Helper()
	var ids [][]byte
	for i := from; i <= to; i++ {
		id, err := f.PublishEvent(pubsubfake.TopicAPIEventStream, apiRecord(i))
		if err != nil {
			t.Error(err) // not Fatal: some calls run off the test's goroutine
			return ids
		}
		ids = append(ids, id)
	}
	return ids
}

// got is what a handler saw.
type got struct {
	Events     []string // EventIdentifier, or the decode error
	ReplayIDs  [][]byte
	Keepalives [][]byte
}

var errEnough = errors.New("enough")

// run subscribes until the handler has seen n events (or stop says so),
// and returns what it saw and Subscribe's error.
func run(t *testing.T, c *pubsub.Client, start pubsub.ReplayStart, n int, stop func(g *got) bool) (got, error) {
	t.Helper()
	var g got
	err := c.Subscribe(t.Context(), pubsubfake.TopicAPIEventStream, start, func(ctx context.Context, e pubsub.Event) error {
		if e.Keepalive {
			g.Keepalives = append(g.Keepalives, e.ReplayID)
		} else {
			ev, err := pubsub.DecodeAPIEvent(e)
			if err != nil {
				g.Events = append(g.Events, err.Error())
			} else {
				g.Events = append(g.Events, ev.EventIdentifier)
			}
			g.ReplayIDs = append(g.ReplayIDs, e.ReplayID)
		}
		if len(g.Events) >= n || (stop != nil && stop(&g)) {
			return errEnough
		}
		return nil
	})
	if !errors.Is(err, errEnough) {
		t.Fatalf("Subscribe: %v", err)
	}
	return g, nil
}

func names(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("event-%d", i))
	}
	return out
}

// TestSubscribeDecodesEventsInOrder: events published before the
// subscription arrive from EARLIEST decoded, in order, each with its replay id.
func TestSubscribeDecodesEventsInOrder(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	ids := publish(t, e.fake, 1, 5)
	var events []pubsub.APIEvent
	var rids [][]byte
	err := e.client.Subscribe(t.Context(), pubsub.TopicAPIEventStream, pubsub.StartEarliest, func(ctx context.Context, ev pubsub.Event) error {
		if ev.Keepalive {
			return nil
		}
		a, err := pubsub.DecodeAPIEvent(ev)
		if err != nil {
			return err
		}
		events, rids = append(events, a), append(rids, ev.ReplayID)
		if len(events) == 5 {
			return errEnough
		}
		return nil
	})
	if !errors.Is(err, errEnough) {
		t.Fatal(err)
	}
	var want []pubsub.APIEvent
	for i := 1; i <= 5; i++ {
		want = append(want, wantAPIEvent(i))
	}
	if d := cmp.Diff(want, events); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	if d := cmp.Diff(ids, rids); d != "" {
		t.Errorf("replay ids (-want +got):\n%s", d)
	}
	if n := e.fake.Stats().SchemaFetches; n != 1 {
		t.Errorf("schema fetched %d times for one schema id, want once", n)
	}
}

// TestSubscribeDecodesLoginEvents: a LoginEventStream event decodes into LoginEvent.
func TestSubscribeDecodesLoginEvents(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	if _, err := e.fake.PublishEvent(pubsubfake.TopicLoginEventStream, map[string]any{
		"CreatedDate": int64(1767225600000), "CreatedById": "005000000000001AAA",
		"EventIdentifier": "login-1", "EventDate": int64(1767225600000), "UserId": "005000000000002AAA",
		"Username": "integration@example.com", "Application": "Data Loader", "LoginType": "Remote Access 2.0",
		"LoginUrl": "login.salesforce.com", "Status": "Success", "SourceIp": "192.0.2.10",
	}); err != nil {
		t.Fatal(err)
	}
	var got pubsub.LoginEvent
	err := e.client.Subscribe(t.Context(), pubsub.TopicLoginEventStream, pubsub.StartEarliest, func(ctx context.Context, ev pubsub.Event) error {
		if ev.Keepalive {
			return nil
		}
		var err error
		if got, err = pubsub.DecodeLoginEvent(ev); err != nil {
			return err
		}
		return errEnough
	})
	if !errors.Is(err, errEnough) {
		t.Fatal(err)
	}
	want := pubsub.LoginEvent{
		EventIdentifier: "login-1", EventDate: time.UnixMilli(1767225600000).UTC(), UserID: "005000000000002AAA",
		Username: "integration@example.com", Application: "Data Loader", LoginType: "Remote Access 2.0",
		LoginURL: "login.salesforce.com", Status: "Success", SourceIP: "192.0.2.10",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("login event (-want +got):\n%s", d)
	}
}

// TestFlowControlBounded: with at most 4 events in flight, the client never
// asks for more than 4 at once, and the fake never sends a batch larger.
func TestFlowControlBounded(t *testing.T) {
	t.Parallel()
	e := setup(t, nil, pubsub.WithMaxInFlight(4))
	publish(t, e.fake, 1, 30)
	g, _ := run(t, e.client, pubsub.StartEarliest, 30, nil)
	if d := cmp.Diff(names(1, 30), g.Events); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	st := e.fake.Stats()
	if st.MaxAsked > 4 || st.MaxBatch > 4 || st.Delivered != 30 {
		t.Errorf("asked up to %d, batches up to %d, %d delivered: want at most 4, 4 and exactly 30", st.MaxAsked, st.MaxBatch, st.Delivered)
	}
}

// TestResumeFromStoredReplayID: a new subscription after a stored replay id
// gets exactly the events after it: none lost, none twice.
func TestResumeFromStoredReplayID(t *testing.T) {
	t.Parallel()
	e := setup(t, []pubsubfake.Option{pubsubfake.WithKeepaliveInterval(time.Millisecond)})
	publish(t, e.fake, 1, 10)
	first, _ := run(t, e.client, pubsub.StartEarliest, 4, nil)
	stored := first.ReplayIDs[3]
	// Stop at the first keepalive after the sixth event: by then the fake has
	// had nothing more to send.
	rest, _ := run(t, e.client, pubsub.After(stored), 1000, func(g *got) bool { return len(g.Events) >= 6 && len(g.Keepalives) > 0 })
	if d := cmp.Diff(names(5, 10), rest.Events); d != "" {
		t.Errorf("events after the stored replay id (-want +got):\n%s", d)
	}
}

// TestExpiredReplayIDFallsBack: a stored replay id older than the default
// 72-hour retention is refused; the client reports ErrReplayExpired and
// restarts from EARLIEST (the events still retained) or, as configured,
// LATEST. One 71 hours old is still accepted.
func TestExpiredReplayIDFallsBack(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		age      time.Duration
		fallback pubsub.Preset
		want     []string
		expired  bool
	}{
		{"within retention", 71 * time.Hour, pubsub.Earliest, names(2, 4), false},
		{"expired, earliest", 73 * time.Hour, pubsub.Earliest, names(3, 4), true},
		{"expired, latest", 73 * time.Hour, pubsub.Latest, names(5, 5), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			var reported []error
			e := setup(t, []pubsubfake.Option{pubsubfake.WithClock(clock)},
				pubsub.WithExpiredFallback(tc.fallback),
				pubsub.WithReplayExpired(func(err error) { reported = append(reported, err) }))
			ids := publish(t, e.fake, 1, 2)
			mu.Lock()
			now = now.Add(tc.age)
			mu.Unlock()
			publish(t, e.fake, 3, 4)
			ctx := t.Context()
			if tc.fallback == pubsub.Latest {
				// Event 5 is published once the LATEST stream is open.
				go func() {
					if e.fake.Wait(ctx, func(s pubsubfake.Stats) bool { return s.ReplayRejected == 1 && s.Open == 1 }) == nil {
						_, _ = e.fake.PublishEvent(pubsubfake.TopicAPIEventStream, apiRecord(5))
					}
				}()
			}
			g, _ := run(t, e.client, pubsub.After(ids[0]), len(tc.want), nil)
			if d := cmp.Diff(tc.want, g.Events); d != "" {
				t.Errorf("events (-want +got):\n%s", d)
			}
			if !tc.expired {
				if len(reported) != 0 {
					t.Errorf("reported %v for a replay id within retention", reported)
				}
				return
			}
			var re *pubsub.ReplayExpiredError
			if len(reported) != 1 || !errors.Is(reported[0], pubsub.ErrReplayExpired) || !errors.As(reported[0], &re) {
				t.Fatalf("reported %v, want one ErrReplayExpired", reported)
			}
			if re.Fallback != tc.fallback || !cmp.Equal(re.ReplayID, ids[0]) {
				t.Errorf("reported fallback %s for replay id %x, want %s for %x", re.Fallback, re.ReplayID, tc.fallback, ids[0])
			}
		})
	}
}

// TestReconnectAfterStreamDrop: when the service ends the stream
// (UNAVAILABLE), the client reconnects after the last handled event.
func TestReconnectAfterStreamDrop(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	publish(t, e.fake, 1, 2)
	g, _ := run(t, e.client, pubsub.StartEarliest, 4, func(g *got) bool {
		if len(g.Events) == 2 {
			go func() {
				e.fake.EndStreams(status.Error(codes.Unavailable, "RST_STREAM closed stream"))
				if e.fake.Wait(t.Context(), func(s pubsubfake.Stats) bool { return s.Subscribes == 2 && s.Open == 1 }) == nil {
					publish(t, e.fake, 3, 4)
				}
			}()
		}
		return false
	})
	if d := cmp.Diff(names(1, 4), g.Events); d != "" {
		t.Errorf("events across the drop (-want +got):\n%s", d)
	}
}

// TestTokenRefreshOnUnauthenticated: when the org's session expires, the
// service answers UNAUTHENTICATED; the client drops the token, fetches a new
// one through the salesforce.Client, and goes on where it was.
func TestTokenRefreshOnUnauthenticated(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	publish(t, e.fake, 1, 1)
	g, _ := run(t, e.client, pubsub.StartEarliest, 2, func(g *got) bool {
		if len(g.Events) == 1 {
			go func() {
				e.rest.ExpireSessions()
				e.fake.EndStreams(status.Error(codes.Unauthenticated, "session expired"))
				if e.fake.Wait(t.Context(), func(s pubsubfake.Stats) bool { return s.Subscribes == 2 && s.Open == 1 }) == nil {
					publish(t, e.fake, 2, 2)
				}
			}()
		}
		return false
	})
	if d := cmp.Diff(names(1, 2), g.Events); d != "" {
		t.Errorf("events across the refresh (-want +got):\n%s", d)
	}
	if n := len(e.rest.IssuedAccessTokens()); n != 2 {
		t.Errorf("%d access tokens issued, want 2 (one refresh)", n)
	}
}

// TestUnauthenticatedWithStaleTokenRefreshes: the stream drops for another
// reason after the session expired; the reconnection is refused
// UNAUTHENTICATED, and the next one, with a new token, succeeds.
func TestUnauthenticatedWithStaleTokenRefreshes(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	publish(t, e.fake, 1, 1)
	g, _ := run(t, e.client, pubsub.StartEarliest, 2, func(g *got) bool {
		if len(g.Events) == 1 {
			go func() {
				e.rest.ExpireSessions()
				e.fake.EndStreams(status.Error(codes.Unavailable, "RST_STREAM closed stream"))
				if e.fake.Wait(t.Context(), func(s pubsubfake.Stats) bool { return s.AuthFailures >= 1 && s.Open == 1 }) == nil {
					publish(t, e.fake, 2, 2)
				}
			}()
		}
		return false
	})
	if d := cmp.Diff(names(1, 2), g.Events); d != "" {
		t.Errorf("events across the refresh (-want +got):\n%s", d)
	}
	if n := e.fake.Stats().AuthFailures; n != 1 {
		t.Errorf("%d calls refused, want 1 (the one with the expired token)", n)
	}
}

// TestIdleCloseAndKeepalive: while the handler holds the only event in
// flight, the stream has nothing requested and the service closes it after
// its idle timeout; the client reconnects after that event and loses
// nothing. With an event requested and none to send, the service sends
// empty keepalives, which reach the handler with the latest replay id.
func TestIdleCloseAndKeepalive(t *testing.T) {
	t.Parallel()
	e := setup(t, []pubsubfake.Option{
		pubsubfake.WithIdleTimeout(time.Millisecond),
		pubsubfake.WithKeepaliveInterval(time.Millisecond),
	}, pubsub.WithMaxInFlight(1))
	ids := publish(t, e.fake, 1, 2)
	g, _ := run(t, e.client, pubsub.StartEarliest, 1000, func(g *got) bool {
		if len(g.Events) == 1 && len(g.Keepalives) == 0 {
			if err := e.fake.Wait(t.Context(), func(s pubsubfake.Stats) bool { return s.IdleClosed >= 1 }); err != nil {
				t.Error(err)
			}
		}
		return len(g.Keepalives) > 0
	})
	if d := cmp.Diff(names(1, 2), g.Events); d != "" {
		t.Errorf("events across the idle close (-want +got):\n%s", d)
	}
	if last := g.Keepalives[len(g.Keepalives)-1]; !cmp.Equal(last, ids[1]) {
		t.Errorf("keepalive replay id %x, want the latest event's %x", last, ids[1])
	}
	if st := e.fake.Stats(); st.IdleClosed < 1 || st.Subscribes < 2 {
		t.Errorf("stats %+v: want an idle close and a second stream", st)
	}
}
