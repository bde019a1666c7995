package pubsub_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/pubsub"
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
