package pubsubfake_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/pubsub/pubsubpb"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest/pubsubfake"
)

const (
	token  = "00Dtest!token"
	tenant = "00D000000000001AAA"
)

// dial returns a raw client of the fake and a context carrying good metadata.
func dial(t *testing.T, opts ...pubsubfake.Option) (*pubsubfake.Server, pubsubpb.PubSubClient, context.Context) {
	t.Helper()
	f := pubsubfake.Start(t, pubsubfake.Token(token, tenant), append([]pubsubfake.Option{pubsubfake.WithSubscribePermission()}, opts...)...)
	conn, err := grpc.NewClient(f.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx := metadata.AppendToOutgoingContext(t.Context(), "accesstoken", token, "instanceurl", "https://example.my.salesforce.com", "tenantid", tenant)
	return f, pubsubpb.NewPubSubClient(conn), ctx
}

func publishN(t *testing.T, f *pubsubfake.Server, n int) {
	t.Helper()
	for i := range n {
		if _, err := f.PublishEvent(pubsubfake.TopicAPIEventStream, map[string]any{"CreatedDate": int64(i), "CreatedById": "005000000000001AAA"}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCallsNeedAuthMetadata: without the metadata, or with another tenant,
// every call is UNAUTHENTICATED with the service's error-code trailer; with
// it, GetTopic names the topic's schema and GetSchema serves it.
func TestCallsNeedAuthMetadata(t *testing.T) {
	t.Parallel()
	f, c, ctx := dial(t)
	wrongTenant := metadata.AppendToOutgoingContext(t.Context(), "accesstoken", token, "instanceurl", "https://example.my.salesforce.com", "tenantid", "00D000000000002AAA")
	for name, bad := range map[string]context.Context{"none": t.Context(), "other tenant": wrongTenant} {
		var trailer metadata.MD
		_, err := c.GetTopic(bad, &pubsubpb.TopicRequest{TopicName: pubsubfake.TopicAPIEventStream}, grpc.Trailer(&trailer))
		if status.Code(err) != codes.Unauthenticated || len(trailer.Get("error-code")) != 1 || trailer.Get("error-code")[0] != pubsubfake.ErrorCodeAuth {
			t.Errorf("%s: GetTopic %v, trailer %v: want UNAUTHENTICATED with %s", name, err, trailer, pubsubfake.ErrorCodeAuth)
		}
	}
	info, err := c.GetTopic(ctx, &pubsubpb.TopicRequest{TopicName: pubsubfake.TopicAPIEventStream})
	if err != nil {
		t.Fatal(err)
	}
	if info.GetSchemaId() != pubsubfake.SchemaID(pubsubfake.APIEventStreamSchema) || !info.GetCanSubscribe() || info.GetTenantGuid() != tenant {
		t.Errorf("topic info %v", info)
	}
	sc, err := c.GetSchema(ctx, &pubsubpb.SchemaRequest{SchemaId: info.GetSchemaId()})
	if err != nil || sc.GetSchemaJson() != pubsubfake.APIEventStreamSchema {
		t.Errorf("GetSchema: %v, %d bytes", err, len(sc.GetSchemaJson()))
	}
	if st := f.Stats(); st.AuthFailures != 2 {
		t.Errorf("%d refusals counted, want 2", st.AuthFailures)
	}
}

// recvAll reads a stream until it ends, and returns the events it carried
// and how it ended.
func recvAll(st grpc.BidiStreamingClient[pubsubpb.FetchRequest, pubsubpb.FetchResponse]) (int, error) {
	n := 0
	for {
		resp, err := st.Recv()
		if err != nil {
			return n, err
		}
		n += len(resp.GetEvents())
	}
}

// TestNumRequestedCappedAt100: a stream that asks for 150 events gets 100,
// the service's cap, and with nothing more requested it is closed after the
// idle timeout.
func TestNumRequestedCappedAt100(t *testing.T) {
	t.Parallel()
	f, c, ctx := dial(t, pubsubfake.WithIdleTimeout(time.Millisecond))
	publishN(t, f, 200)
	// The idle timeout also runs before the first request: a stream whose
	// request arrived after it (a loaded machine) is closed empty, and the
	// test opens another.
	for attempt := 1; ; attempt++ {
		st, err := c.Subscribe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Send(&pubsubpb.FetchRequest{TopicName: pubsubfake.TopicAPIEventStream, ReplayPreset: pubsubpb.ReplayPreset_EARLIEST, NumRequested: 150}); err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
		n, err := recvAll(st)
		if n == 0 && errors.Is(err, io.EOF) && f.Stats().MaxAsked == 0 && attempt < 100 {
			continue
		}
		if n != 100 || !errors.Is(err, io.EOF) {
			t.Errorf("got %d events and %v, want 100 and the stream closed", n, err)
		}
		if s := f.Stats(); s.IdleClosed != attempt || s.MaxAsked != 150 {
			t.Errorf("stats %+v after %d streams: want each closed idle, 150 asked", s, attempt)
		}
		return
	}
}

// TestSubscribeRefusals: a later FetchRequest naming another topic is
// INVALID_ARGUMENT, and so is a CUSTOM replay id beyond the newest event,
// with the replayid.corrupted error code.
func TestSubscribeRefusals(t *testing.T) {
	t.Parallel()
	f, c, ctx := dial(t)
	publishN(t, f, 2)
	st, err := c.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = st.Send(&pubsubpb.FetchRequest{TopicName: pubsubfake.TopicAPIEventStream, NumRequested: 1})
	_ = st.Send(&pubsubpb.FetchRequest{TopicName: pubsubfake.TopicLoginEventStream, NumRequested: 1})
	if _, err := recvAll(st); status.Code(err) != codes.InvalidArgument {
		t.Errorf("topic change: %v, want INVALID_ARGUMENT", err)
	}
	st, err = c.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = st.Send(&pubsubpb.FetchRequest{TopicName: pubsubfake.TopicAPIEventStream, ReplayPreset: pubsubpb.ReplayPreset_CUSTOM, ReplayId: pubsubfake.ReplayID(99), NumRequested: 1})
	_, err = recvAll(st)
	if code := st.Trailer().Get("error-code"); status.Code(err) != codes.InvalidArgument || len(code) != 1 || code[0] != pubsubfake.ErrorCodeReplayCorrupted {
		t.Errorf("future replay id: %v, trailer %v", err, st.Trailer())
	}
}

// TestSubscribeNeedsThePermission: by default the user lacks View Real-Time
// Event Monitoring Data, as an integration user nobody granted it: GetTopic
// answers can_subscribe false and Subscribe fails PERMISSION_DENIED;
// WithSubscribePermission grants it per topic.
func TestSubscribeNeedsThePermission(t *testing.T) {
	t.Parallel()
	f := pubsubfake.Start(t, pubsubfake.Token(token, tenant), pubsubfake.WithSubscribePermission(pubsubfake.TopicLoginEventStream))
	conn, err := grpc.NewClient(f.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := pubsubpb.NewPubSubClient(conn)
	ctx := metadata.AppendToOutgoingContext(t.Context(), "accesstoken", token, "instanceurl", "https://example.my.salesforce.com", "tenantid", tenant)
	for topic, may := range map[string]bool{pubsubfake.TopicAPIEventStream: false, pubsubfake.TopicLoginEventStream: true} {
		info, err := c.GetTopic(ctx, &pubsubpb.TopicRequest{TopicName: topic})
		if err != nil || info.GetCanSubscribe() != may {
			t.Errorf("GetTopic %s: %v, %v; want can_subscribe %v", topic, info, err, may)
		}
	}
	st, err := c.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&pubsubpb.FetchRequest{TopicName: pubsubfake.TopicAPIEventStream, NumRequested: 1}); err != nil {
		t.Fatal(err)
	}
	_, err = st.Recv()
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("Subscribe without the permission: %v, want PERMISSION_DENIED", err)
	}
	if code := st.Trailer().Get("error-code"); len(code) != 1 || code[0] != pubsubfake.ErrorCodePermission {
		t.Errorf("error-code trailer %v", code)
	}
	if s := f.Stats(); s.Denied != 1 || s.Open != 0 {
		t.Errorf("stats %+v: want one denied, none open", s)
	}
}
