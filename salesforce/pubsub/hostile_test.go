package pubsub_test

import (
	"context"
	"errors"
	"strings"
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

// TestHostileEvents: an event over the size bound, one whose schema does not
// parse, one whose schema id the service does not know, one whose payload
// does not decode, and one whose schema is over the bound each reach the
// handler as a *DecodeError naming the cause; the stream goes on to the next
// good event, and each bad schema is fetched once.
func TestHostileEvents(t *testing.T) {
	t.Parallel()
	e := setup(t, nil, pubsub.WithMaxEventBytes(400), pubsub.WithMaxSchemaBytes(4096))
	f := e.fake
	big := apiRecord(0)
	big["AdditionalInfo"] = strings.Repeat("x", 500)
	if _, err := f.PublishEvent(pubsubfake.TopicAPIEventStream, big); err != nil {
		t.Fatal(err)
	}
	f.AddSchema("bad-json", `{"type": "record", "name": `)
	f.PublishRaw(pubsubfake.TopicAPIEventStream, "bad-json", []byte{0x02})
	f.PublishRaw(pubsubfake.TopicAPIEventStream, "bad-json", []byte{0x02})
	f.PublishRaw(pubsubfake.TopicAPIEventStream, "no-such-schema", []byte{0x02})
	// A union branch that does not exist, then a payload cut short.
	f.PublishRaw(pubsubfake.TopicAPIEventStream, pubsubfake.SchemaID(pubsubfake.APIEventStreamSchema), []byte{0x02, 0x00, 0x08})
	f.PublishRaw(pubsubfake.TopicAPIEventStream, pubsubfake.SchemaID(pubsubfake.APIEventStreamSchema), []byte{0x02})
	f.AddSchema("huge", `{"type": "record", "name": "R", "doc": "`+strings.Repeat("y", 8192)+`", "fields": []}`)
	f.PublishRaw(pubsubfake.TopicAPIEventStream, "huge", []byte{})
	publish(t, f, 1, 1)

	var errs []error
	var good []string
	err := e.client.Subscribe(t.Context(), pubsub.TopicAPIEventStream, pubsub.StartEarliest, func(ctx context.Context, ev pubsub.Event) error {
		if ev.Keepalive {
			return nil
		}
		a, err := pubsub.DecodeAPIEvent(ev)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		good = append(good, a.EventIdentifier)
		return errEnough
	})
	if !errors.Is(err, errEnough) {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"event-1"}, good); d != "" {
		t.Errorf("good events (-want +got):\n%s", d)
	}
	wants := []string{"exceeds the 400-byte bound", "does not parse", "does not parse", "no-such-schema", "unknown union type", "ends before the record", "over the 4096-byte bound"}
	if len(errs) != len(wants) {
		t.Fatalf("%d decode errors, want %d: %v", len(errs), len(wants), errs)
	}
	for i, want := range wants {
		var de *pubsub.DecodeError
		if !errors.As(errs[i], &de) || !strings.Contains(errs[i].Error(), want) {
			t.Errorf("error %d: %v, want a *DecodeError containing %q", i, errs[i], want)
		}
	}
	// bad-json, no-such-schema, the topic's schema, huge: once each.
	if n := f.Stats().SchemaFetches; n != 4 {
		t.Errorf("%d schema fetches, want 4 (each schema id once)", n)
	}
}

// TestFakeSendsNoMoreThanRequested: the fake, like the service, sends no
// more events than a stream asked for, however many are waiting.
func TestFakeSendsNoMoreThanRequested(t *testing.T) {
	t.Parallel()
	e := setup(t, nil, pubsub.WithMaxInFlight(3))
	publish(t, e.fake, 1, 50)
	// The handler stops at the third event, before asking for more: the
	// fake must not have sent a fourth.
	g, _ := run(t, e.client, pubsub.StartEarliest, 3, nil)
	if d := cmp.Diff(names(1, 3), g.Events); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	if st := e.fake.Stats(); st.Delivered != 3 || st.MaxBatch > 3 {
		t.Errorf("fake delivered %d (batches up to %d) with 3 requested", st.Delivered, st.MaxBatch)
	}
}

// TestRefusedEvenWithNewTokens: a service that refuses every token ends
// Subscribe after a bounded number of new tokens, with an error that names
// the refusal and holds no token.
func TestRefusedEvenWithNewTokens(t *testing.T) {
	t.Parallel()
	rest, ts := sftest.Start(t, sftest.NewOrg(), sftest.TestCredentials)
	sc, err := salesforce.NewClient(salesforce.AuthConfig{
		Flow: salesforce.FlowClientCredentials, LoginURL: ts.URL,
		ClientID: sftest.TestCredentials.ClientID, ClientSecret: sftest.TestCredentials.ClientSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
	fake := pubsubfake.Start(t, func(pubsubfake.Session) bool { return false })
	c, err := pubsub.New(sc, pubsub.WithEndpoint(fake.Addr()), pubsub.WithTransportCredentials(insecure.NewCredentials()),
		pubsub.WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Subscribe(t.Context(), pubsub.TopicAPIEventStream, pubsub.StartLatest, func(context.Context, pubsub.Event) error { return nil })
	if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "refused 4 times in a row") {
		t.Fatalf("Subscribe: %v, want the UNAUTHENTICATED refusal after 4 tokens", err)
	}
	issued := rest.IssuedAccessTokens()
	if len(issued) != 4 {
		t.Errorf("%d tokens fetched, want 4", len(issued))
	}
	for _, tok := range issued {
		if strings.Contains(err.Error(), tok) {
			t.Error("the error holds an access token")
		}
	}
}

// TestSilentStreamReopened: a stream on which nothing arrives (no event, no
// keepalive) for the receive timeout is taken for dead and reopened.
func TestSilentStreamReopened(t *testing.T) {
	t.Parallel()
	e := setup(t, nil, pubsub.WithReceiveTimeout(time.Millisecond))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- e.client.Subscribe(ctx, pubsub.TopicAPIEventStream, pubsub.StartLatest, func(context.Context, pubsub.Event) error { return nil })
	}()
	// The fake sends its first keepalive only after 270 s: every stream
	// until then is silent.
	if err := e.fake.Wait(t.Context(), func(s pubsubfake.Stats) bool { return s.Subscribes >= 3 }); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Subscribe: %v, want context.Canceled", err)
	}
	if st := e.fake.Stats(); st.Keepalives != 0 || st.AuthFailures != 0 {
		t.Errorf("stats %+v: want silent streams, none refused", st)
	}
}
