// Package pubsubfake is a fake of Salesforce's Pub/Sub API (eventbus.v1.PubSub)
// served over real gRPC on a loopback listener: Subscribe, GetSchema and
// GetTopic, with the auth metadata checked, events Avro-encoded with their
// topic's schema, replay ids that increase, the 72-hour retention, the
// 60-second close of a stream that has nothing requested, empty keepalive
// responses, and never more events sent than requested.
//
// Every switch defaults to what Salesforce does, as documented in
// https://developer.salesforce.com/docs/platform/pub-sub-api/ (Subscribe
// RPC Method, Pull Subscription and Flow Control, Event Message Durability,
// Handle Errors); tests shorten the times with the With... options.
//
// The user's permission: the proto's TopicInfo says whether it may subscribe
// (can_subscribe); the Real-Time Event Monitoring topics need View Real-Time
// Event Monitoring Data, which an integration user lacks unless granted, so
// by default the fake answers can_subscribe false and refuses Subscribe
// (WithSubscribePermission grants it).
//
// Not documented, so chosen here and to be checked against a real org: the
// status of a Subscribe the user may not make (PERMISSION_DENIED), the
// status an idle stream is closed with (the fake ends it cleanly, so the
// client sees the stream end), the status of an unknown topic or schema id
// (NOT_FOUND), UNAUTHENTICATED as the status beside the auth error code,
// and replay ids of 8 bytes (Salesforce's are opaque bytes).
package pubsubfake

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/pubsub/pubsubpb"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// Salesforce's documented figures, the switches' defaults.
const (
	// DefaultRetention: "Salesforce stores platform events ... for 72 hours."
	DefaultRetention = 72 * time.Hour
	// DefaultIdleTimeout: with nothing left requested, "the client must send
	// a new FetchRequest within 60 seconds" or the stream closes.
	DefaultIdleTimeout = 60 * time.Second
	// DefaultKeepaliveInterval: with events requested but none to send, "the
	// empty FetchResponse is sent within 270 seconds".
	DefaultKeepaliveInterval = 270 * time.Second
	// MaxNumRequested: "The maximum number of events that can be requested
	// ... is 100"; the server takes a larger figure as 100.
	MaxNumRequested = 100
)

// The error codes the real service puts in the error-code trailer.
const (
	ErrorCodeReplayCorrupted = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
	ErrorCodeAuth            = "sfdc.platform.eventbus.grpc.service.auth.error"
	// ErrorCodePermission is the fake's own code for a Subscribe the user
	// may not make (the real one is not documented).
	ErrorCodePermission = "sfdc.platform.eventbus.grpc.subscription.permission.denied"
)

// Session is the auth metadata of one call.
type Session struct {
	AccessToken, InstanceURL, TenantID string
}

// Authorizer accepts or refuses a call's auth metadata.
type Authorizer func(Session) bool

// ForOrg accepts the access tokens the fake REST org srv issued and has not
// expired, with srv's org Id as the tenant id.
func ForOrg(srv *sftest.Server) Authorizer {
	return func(s Session) bool {
		return s.InstanceURL != "" && s.TenantID == srv.OrgID() && srv.ValidAccessToken(s.AccessToken)
	}
}

// Token accepts one fixed access token for tenant.
func Token(accessToken, tenant string) Authorizer {
	return func(s Session) bool {
		return s.InstanceURL != "" && s.TenantID == tenant && s.AccessToken == accessToken
	}
}

// Option sets a switch.
type Option func(*Server)

// WithRetention sets how long events stay replayable (DefaultRetention).
func WithRetention(d time.Duration) Option { return func(s *Server) { s.retention = d } }

// WithIdleTimeout sets how long a stream with nothing requested stays open
// without a FetchRequest (DefaultIdleTimeout).
func WithIdleTimeout(d time.Duration) Option { return func(s *Server) { s.idle = d } }

// WithKeepaliveInterval sets how often a stream with events requested but
// none to send gets an empty FetchResponse (DefaultKeepaliveInterval).
func WithKeepaliveInterval(d time.Duration) Option { return func(s *Server) { s.keepalive = d } }

// WithSubscribePermission grants the user View Real-Time Event Monitoring
// Data for the named topics, or for every topic when none is named: GetTopic
// answers can_subscribe true and Subscribe serves them. Without it (the
// default, as for an integration user nobody granted it) GetTopic answers
// can_subscribe false and Subscribe fails PERMISSION_DENIED.
func WithSubscribePermission(topics ...string) Option {
	return func(s *Server) {
		if len(topics) == 0 {
			s.mayAll = true
			return
		}
		for _, t := range topics {
			s.may[t] = true
		}
	}
}

// WithClock sets the clock that stamps events and judges retention.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

type stored struct {
	seq       uint64
	schemaID  string
	id        string
	payload   []byte
	published time.Time
}

type topic struct {
	name     string
	schemaID string
	schema   avro.Schema
	events   []stored
}

// Stats are the fake's counters.
type Stats struct {
	Subscribes   int // Subscribe calls, refused ones included
	AuthFailures int // calls refused for their metadata
	Open         int // streams open now, their start set
	IdleClosed   int // streams closed for want of a FetchRequest
	Delivered    int // events sent
	Keepalives   int // empty responses sent
	// MaxAsked is the most events any stream had asked for and not yet
	// received, as the client asked (before the cap of 100).
	MaxAsked int
	// MaxBatch is the most events one FetchResponse carried.
	MaxBatch      int
	SchemaFetches int
	// ReplayRejected counts CUSTOM replay ids refused.
	ReplayRejected int
	// Denied counts Subscribes refused for want of the permission.
	Denied int
}

// Server is the fake Pub/Sub API.
type Server struct {
	pubsubpb.UnimplementedPubSubServer

	authorize Authorizer
	retention time.Duration
	idle      time.Duration
	keepalive time.Duration
	now       func() time.Time
	// mayAll and may are the topics the user may subscribe to
	// (WithSubscribePermission).
	mayAll bool
	may    map[string]bool

	mu      sync.Mutex
	topics  map[string]*topic
	schemas map[string]string
	seq     uint64
	stats   Stats
	changed chan struct{} // closed and replaced at every change
	end     chan struct{} // closed by EndStreams
	endErr  error

	gs   *grpc.Server
	addr string
}

// New returns a fake that accepts the calls authorize accepts, serving the
// ApiEventStream and LoginEventStream topics. Serve it with Serve, or use Start.
func New(authorize Authorizer, opts ...Option) *Server {
	s := &Server{
		authorize: authorize,
		retention: DefaultRetention,
		idle:      DefaultIdleTimeout,
		keepalive: DefaultKeepaliveInterval,
		now:       time.Now,
		topics:    map[string]*topic{},
		schemas:   map[string]string{},
		changed:   make(chan struct{}),
		end:       make(chan struct{}),
		may:       map[string]bool{},
	}
	for _, o := range opts {
		o(s)
	}
	for name, js := range map[string]string{TopicAPIEventStream: APIEventStreamSchema, TopicLoginEventStream: LoginEventStreamSchema} {
		if _, err := s.AddTopic(name, js); err != nil {
			panic(err) // the built-in schemas parse
		}
	}
	return s
}

// Start serves a new fake on a loopback listener for the length of the test.
func Start(tb testing.TB, authorize Authorizer, opts ...Option) *Server {
	tb.Helper()
	s := New(authorize, opts...)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.addr = lis.Addr().String()
	s.gs = grpc.NewServer()
	pubsubpb.RegisterPubSubServer(s.gs, s)
	go func() { _ = s.gs.Serve(lis) }()
	tb.Cleanup(s.gs.Stop)
	return s
}

// Addr is the host:port Start listens on.
func (s *Server) Addr() string { return s.addr }

// SchemaID is the id Salesforce-style of a schema: a hash of its JSON.
func SchemaID(schemaJSON string) string {
	sum := sha256.Sum256([]byte(schemaJSON))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// AddTopic adds (or replaces the schema of) a topic and returns its schema id.
func (s *Server) AddTopic(name, schemaJSON string) (string, error) {
	sc, err := avro.ParseWithCache(schemaJSON, "", &avro.SchemaCache{})
	if err != nil {
		return "", fmt.Errorf("topic %s: %w", name, err)
	}
	id := SchemaID(schemaJSON)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.schemas[id] = schemaJSON
	t := s.topics[name]
	if t == nil {
		t = &topic{name: name}
		s.topics[name] = t
	}
	t.schemaID, t.schema = id, sc
	return id, nil
}

// AddSchema serves schemaJSON, valid or not, under id through GetSchema.
func (s *Server) AddSchema(id, schemaJSON string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.schemas[id] = schemaJSON
}

// PublishEvent encodes record (a map of field name to value) with the topic's
// schema and appends it; it returns the event's replay id.
func (s *Server) PublishEvent(topicName string, record map[string]any) ([]byte, error) {
	s.mu.Lock()
	t := s.topics[topicName]
	s.mu.Unlock()
	if t == nil {
		return nil, fmt.Errorf("no topic %s", topicName)
	}
	payload, err := avro.Marshal(t.schema, record)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", topicName, err)
	}
	return s.PublishRaw(topicName, t.schemaID, payload), nil
}

// PublishRaw appends an event with any schema id and payload, decodable or not.
func (s *Server) PublishRaw(topicName, schemaID string, payload []byte) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.topics[topicName]
	if t == nil {
		t = &topic{name: topicName}
		s.topics[topicName] = t
	}
	s.seq++
	t.events = append(t.events, stored{seq: s.seq, schemaID: schemaID, id: fmt.Sprintf("evt-%d", s.seq), payload: payload, published: s.now()})
	s.changedLocked()
	return ReplayID(s.seq)
}

// ReplayID is the fake's encoding of a position: 8 bytes, big-endian.
// Salesforce's replay ids are opaque bytes; clients must not compute them.
func ReplayID(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// EndStreams ends every open stream with err (a status error, such as
// status.Error(codes.Unavailable, ...)), as a dropped connection or a
// server-side failure would.
func (s *Server) EndStreams(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endErr = err
	close(s.end)
	s.end = make(chan struct{})
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Wait blocks until cond holds for the counters, or ctx ends.
func (s *Server) Wait(ctx context.Context, cond func(Stats) bool) error {
	for {
		s.mu.Lock()
		ok, ch := cond(s.stats), s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("pubsubfake: condition not met: %w (stats %+v)", ctx.Err(), s.Stats())
		}
	}
}

func (s *Server) changedLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) update(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.stats)
	s.changedLocked()
}

func withCode(ctx context.Context, c codes.Code, errorCode, msg string) error {
	_ = grpc.SetTrailer(ctx, metadata.Pairs("error-code", errorCode))
	return status.Error(c, msg)
}

// auth checks the call's metadata.
func (s *Server) auth(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	first := func(k string) string {
		if v := md.Get(k); len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if s.authorize(Session{AccessToken: first("accesstoken"), InstanceURL: first("instanceurl"), TenantID: first("tenantid")}) {
		return nil
	}
	s.update(func(st *Stats) { st.AuthFailures++ })
	return withCode(ctx, codes.Unauthenticated, ErrorCodeAuth, "An authentication exception occurred. Provide valid authentication via metadata headers.")
}

// GetSchema implements pubsubpb.PubSubServer.
func (s *Server) GetSchema(ctx context.Context, req *pubsubpb.SchemaRequest) (*pubsubpb.SchemaInfo, error) {
	if err := s.auth(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	js, ok := s.schemas[req.GetSchemaId()]
	s.stats.SchemaFetches++
	s.changedLocked()
	s.mu.Unlock()
	if !ok {
		return nil, status.Errorf(codes.NotFound, "schema %q not found", req.GetSchemaId())
	}
	return &pubsubpb.SchemaInfo{SchemaJson: js, SchemaId: req.GetSchemaId()}, nil
}

// GetTopic implements pubsubpb.PubSubServer.
func (s *Server) GetTopic(ctx context.Context, req *pubsubpb.TopicRequest) (*pubsubpb.TopicInfo, error) {
	if err := s.auth(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	t := s.topics[req.GetTopicName()]
	s.mu.Unlock()
	if t == nil {
		return nil, status.Errorf(codes.NotFound, "topic %q not found", req.GetTopicName())
	}
	md, _ := metadata.FromIncomingContext(ctx)
	return &pubsubpb.TopicInfo{TopicName: t.name, TenantGuid: first(md.Get("tenantid")), CanSubscribe: s.maySubscribe(t.name), SchemaId: t.schemaID}, nil
}

// maySubscribe is whether the user may subscribe to topic.
func (s *Server) maySubscribe(topic string) bool { return s.mayAll || s.may[topic] }

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
