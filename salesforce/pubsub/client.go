package pubsub

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/hamba/avro/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/pubsub/pubsubpb"
)

// Defaults and bounds. The service's own figures are in the comments.
const (
	// DefaultEndpoint is the Pub/Sub API's global endpoint.
	DefaultEndpoint = "api.pubsub.salesforce.com:7443"
	// MaxNumRequested is the most events the service lets a stream have
	// requested and not yet delivered; it takes a larger figure as 100.
	MaxNumRequested = 100
	// DefaultMaxEventBytes bounds one event's payload. A platform event is
	// at most 1 MB.
	DefaultMaxEventBytes = 1 << 20
	// DefaultMaxSchemaBytes bounds one schema's JSON.
	DefaultMaxSchemaBytes = 256 << 10
	// DefaultSchemaCacheSize bounds the schemas held; a topic has one
	// schema id per version of its schema.
	DefaultSchemaCacheSize = 32
	// DefaultReceiveTimeout: the service sends an empty keepalive response
	// "within 270 seconds" while events are requested, so a stream silent
	// for longer is taken for dead.
	DefaultReceiveTimeout = 300 * time.Second
	// DefaultRPCTimeout bounds a GetSchema call and the opening of a stream.
	DefaultRPCTimeout = 30 * time.Second
	// maxAuthRetries bounds the new tokens tried in a row when the service
	// keeps answering UNAUTHENTICATED.
	maxAuthRetries = 3
	// maxReplayIDBytes bounds a replay id from the service (8 bytes in practice).
	maxReplayIDBytes = 1024
)

// Credentials is what Subscribe needs of a *salesforce.Client: the session
// for the metadata, and a way to drop a token the service refused.
type Credentials interface {
	Session(ctx context.Context) (salesforce.Session, error)
	InvalidateSession(accessToken string)
}

// Preset names where a subscription starts.
type Preset int

// The presets, as in the proto's ReplayPreset.
const (
	Latest Preset = iota
	Earliest
	Custom
)

func (p Preset) String() string {
	switch p {
	case Latest:
		return "LATEST"
	case Earliest:
		return "EARLIEST"
	case Custom:
		return "CUSTOM"
	}
	return fmt.Sprintf("Preset(%d)", int(p))
}

// ReplayStart is where a subscription starts: Latest (only new events),
// Earliest (the oldest retained) or After a stored replay id.
type ReplayStart struct {
	Preset   Preset
	ReplayID []byte // Custom only
}

// StartLatest, StartEarliest and After build a ReplayStart.
var (
	StartLatest   = ReplayStart{Preset: Latest}
	StartEarliest = ReplayStart{Preset: Earliest}
)

// After starts after the event (or keepalive position) with this replay id.
func After(replayID []byte) ReplayStart {
	return ReplayStart{Preset: Custom, ReplayID: append([]byte(nil), replayID...)}
}

// Event is one event of a subscription, or a keepalive.
type Event struct {
	// ReplayID is the event's position; persist it once the event is
	// processed, and pass it to After to resume.
	ReplayID []byte
	// Keepalive marks an empty response: no event, and ReplayID is the
	// latest position of the stream, which may be persisted too.
	Keepalive bool
	// ID is the event's id (EventUuid-like; not a user id).
	ID       string
	SchemaID string

	payload []byte
	schema  avro.Schema
	err     error
	readers *sync.Pool // of *avro.Reader with the client's bounds
}

// Decode decodes the event's Avro payload into v (a pointer to a struct with
// avro tags). Any failure is a *DecodeError.
func (e Event) Decode(v any) error {
	err := e.err
	switch {
	case err != nil:
	case e.Keepalive:
		err = errors.New("a keepalive has no payload")
	case e.schema == nil || e.readers == nil:
		err = errors.New("the event has no schema (not from Subscribe)")
	}
	if err == nil {
		// Not avro.Unmarshal: it takes running out of bytes for success, so
		// a truncated payload would decode into a half-empty event.
		r, _ := e.readers.Get().(*avro.Reader)
		r.Reset(e.payload).ReadVal(e.schema, v)
		if err = r.Error; errors.Is(err, io.EOF) {
			err = errors.New("the payload ends before the record does")
		}
		r.Error = nil
		r.Reset(nil)
		e.readers.Put(r)
	}
	if err != nil {
		return &DecodeError{SchemaID: e.SchemaID, ReplayID: e.ReplayID, Err: err}
	}
	return nil
}

// Handler processes one event. Returning an error ends Subscribe with it.
type Handler func(ctx context.Context, e Event) error

// Option configures a Client.
type Option func(*Client)

// WithEndpoint sets the host:port of the service (DefaultEndpoint).
func WithEndpoint(hostport string) Option { return func(c *Client) { c.endpoint = hostport } }

// WithTransportCredentials replaces the default TLS (for a loopback fake).
func WithTransportCredentials(tc credentials.TransportCredentials) Option {
	return func(c *Client) { c.transport = tc }
}

// WithMaxInFlight bounds the events requested and not yet handled (1 to 100; default 100).
func WithMaxInFlight(n int) Option { return func(c *Client) { c.maxInFlight = n } }

// WithMaxEventBytes bounds one event's payload (DefaultMaxEventBytes).
func WithMaxEventBytes(n int) Option { return func(c *Client) { c.maxEventBytes = n } }

// WithMaxSchemaBytes bounds one schema's JSON (DefaultMaxSchemaBytes).
func WithMaxSchemaBytes(n int) Option { return func(c *Client) { c.maxSchemaBytes = n } }

// WithSchemaCacheSize bounds the schemas held (DefaultSchemaCacheSize).
func WithSchemaCacheSize(n int) Option { return func(c *Client) { c.schemas.max = n } }

// WithReceiveTimeout sets how long a stream may stay silent before it is
// taken for dead and reopened (DefaultReceiveTimeout). Time spent in the
// handler does not count.
func WithReceiveTimeout(d time.Duration) Option { return func(c *Client) { c.recvTimeout = d } }

// WithRPCTimeout bounds GetSchema and the opening of a stream (DefaultRPCTimeout).
func WithRPCTimeout(d time.Duration) Option { return func(c *Client) { c.rpcTimeout = d } }

// WithBackoff sets the first and the longest wait between reconnections
// (1 s and 1 min); each wait is jittered.
func WithBackoff(base, maxWait time.Duration) Option {
	return func(c *Client) { c.backoffBase, c.backoffMax = base, maxWait }
}

// WithExpiredFallback sets where a subscription restarts when its stored
// replay id is refused: Earliest (the default: as little lost as retention
// allows) or Latest.
func WithExpiredFallback(p Preset) Option { return func(c *Client) { c.fallback = p } }

// WithReplayExpired calls fn with a *ReplayExpiredError (matching
// ErrReplayExpired) each time a stored replay id is refused, before the
// subscription restarts from the fallback.
func WithReplayExpired(fn func(error)) Option { return func(c *Client) { c.onExpired = fn } }

// WithStreamState calls fn(true, nil) when a stream gets its first answer
// from the service (an event or a keepalive), and fn(false, err) when a
// stream ends for any reason but a cancelled context, before Subscribe
// reconnects or returns. fn runs on Subscribe's goroutine and must not block.
func WithStreamState(fn func(connected bool, err error)) Option {
	return func(c *Client) { c.onState = fn }
}

// WithLogger sets the logger for reconnections (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.logger = l } }

// Client subscribes to the Pub/Sub API of one org. It is safe for concurrent use.
type Client struct {
	creds          Credentials
	endpoint       string
	transport      credentials.TransportCredentials
	maxInFlight    int
	maxEventBytes  int
	maxSchemaBytes int
	recvTimeout    time.Duration
	rpcTimeout     time.Duration
	backoffBase    time.Duration
	backoffMax     time.Duration
	fallback       Preset
	onExpired      func(error)
	onState        func(bool, error)
	logger         *slog.Logger

	conn    *grpc.ClientConn
	api     pubsubpb.PubSubClient
	schemas schemaCache
	readers sync.Pool
}

// New returns a client for the org creds logs in to. It makes no network
// call; Subscribe connects.
func New(creds Credentials, opts ...Option) (*Client, error) {
	c := &Client{
		creds:          creds,
		endpoint:       DefaultEndpoint,
		transport:      credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12}),
		maxInFlight:    MaxNumRequested,
		maxEventBytes:  DefaultMaxEventBytes,
		maxSchemaBytes: DefaultMaxSchemaBytes,
		recvTimeout:    DefaultReceiveTimeout,
		rpcTimeout:     DefaultRPCTimeout,
		backoffBase:    time.Second,
		backoffMax:     time.Minute,
		fallback:       Earliest,
		logger:         slog.New(slog.DiscardHandler),
		schemas:        schemaCache{max: DefaultSchemaCacheSize},
	}
	for _, o := range opts {
		o(c)
	}
	switch {
	case creds == nil:
		return nil, errors.New("pubsub: no credentials")
	case c.maxInFlight < 1 || c.maxInFlight > MaxNumRequested:
		return nil, fmt.Errorf("pubsub: max in flight %d is outside 1 to %d", c.maxInFlight, MaxNumRequested)
	case c.maxEventBytes < 1 || c.maxSchemaBytes < 1 || c.schemas.max < 1:
		return nil, errors.New("pubsub: the event, schema and cache bounds must be positive")
	case c.recvTimeout <= 0 || c.rpcTimeout <= 0 || c.backoffBase <= 0 || c.backoffMax < c.backoffBase:
		return nil, errors.New("pubsub: the timeouts and backoff must be positive, the longest backoff at least the first")
	case c.fallback != Earliest && c.fallback != Latest:
		return nil, fmt.Errorf("pubsub: the fallback for a refused replay id must be Earliest or Latest, not %s", c.fallback)
	}
	// A payload over maxEventBytes is refused after it is received (the
	// event still reaches the handler as undecodable); the message bound
	// leaves room for a full batch of such events with their envelope.
	maxMsg := c.maxInFlight*(c.maxEventBytes+4096) + 64<<10
	c.readers.New = newReaderFunc(c.maxEventBytes)
	conn, err := grpc.NewClient(c.endpoint,
		grpc.WithTransportCredentials(c.transport),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsg)),
		grpc.WithUnaryInterceptor(c.authUnary),
		grpc.WithStreamInterceptor(c.authStream),
	)
	if err != nil {
		return nil, fmt.Errorf("pubsub: %w", err)
	}
	c.conn, c.api = conn, pubsubpb.NewPubSubClient(conn)
	return c, nil
}

// newReaderFunc makes Avro readers whose strings, bytes and arrays are
// bounded by maxBytes.
func newReaderFunc(maxBytes int) func() any {
	api := avro.Config{MaxByteSliceSize: maxBytes, MaxSliceAllocSize: maxBytes}.Freeze()
	return func() any { return avro.NewReader(nil, 0, avro.WithReaderConfig(api)) }
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

type tokenKey struct{}

// withSession attaches the session's metadata, and remembers its token so
// an UNAUTHENTICATED answer drops that token and no newer one.
func (c *Client) withSession(ctx context.Context) (context.Context, string, error) {
	s, err := c.creds.Session(ctx)
	if err != nil {
		return ctx, "", fmt.Errorf("session: %w", err)
	}
	ctx = metadata.AppendToOutgoingContext(ctx, "accesstoken", s.AccessToken, "instanceurl", s.InstanceURL, "tenantid", s.OrgID)
	return context.WithValue(ctx, tokenKey{}, s.AccessToken), s.AccessToken, nil
}

func (c *Client) authUnary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if _, ok := ctx.Value(tokenKey{}).(string); !ok {
		var err error
		if ctx, _, err = c.withSession(ctx); err != nil {
			return err
		}
	}
	err := invoker(ctx, method, req, reply, cc, opts...)
	if isAuthError(err) {
		c.creds.InvalidateSession(ctx.Value(tokenKey{}).(string))
	}
	return err
}

func (c *Client) authStream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	if _, ok := ctx.Value(tokenKey{}).(string); !ok {
		var err error
		if ctx, _, err = c.withSession(ctx); err != nil {
			return nil, err
		}
	}
	return streamer(ctx, desc, cc, method, opts...)
}

// errorCode is the service's error-code trailer, or "".
func errorCode(err error) string {
	var te interface{ Trailer() metadata.MD }
	if errors.As(err, &te) {
		if v := te.Trailer().Get("error-code"); len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// streamError is a stream's end, with the trailer it carried.
type streamError struct {
	err     error
	trailer metadata.MD
}

func (e *streamError) Error() string        { return e.err.Error() }
func (e *streamError) Unwrap() error        { return e.err }
func (e *streamError) Trailer() metadata.MD { return e.trailer }
func (e *streamError) GRPCStatus() *status.Status {
	s, _ := status.FromError(e.err)
	return s
}

func isAuthError(err error) bool {
	return status.Code(err) == codes.Unauthenticated || strings.HasSuffix(errorCode(err), ".auth.error")
}

// isReplayRefused: the service refuses a CUSTOM replay id with
// INVALID_ARGUMENT and the error code ...fetch.replayid.corrupted (or
// ...fetch.replayid.validation.failed in its examples).
func isReplayRefused(err error) bool {
	code := errorCode(err)
	return strings.Contains(code, "replayid.corrupted") || strings.Contains(code, "replayid.validation.failed")
}

// protocolError is the service breaking the protocol (more events than
// requested, a replay id out of bounds): a new stream would meet the same.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return "protocol: " + e.msg }

// permanent: retrying the same call cannot succeed.
func permanent(err error) bool {
	var pe *protocolError
	if errors.As(err, &pe) {
		return true
	}
	switch status.Code(err) {
	case codes.PermissionDenied, codes.NotFound, codes.InvalidArgument, codes.Unimplemented, codes.FailedPrecondition:
		return true
	}
	var ae *salesforce.AuthError
	return errors.As(err, &ae) && !ae.Temporary()
}

// Subscribe reads topic from start until ctx ends or h returns an error,
// reconnecting as the package comment describes. It returns ctx's error, the
// handler's error, or the error that retrying cannot mend.
func (c *Client) Subscribe(ctx context.Context, topic string, start ReplayStart, h Handler) error {
	if start.Preset == Custom && (len(start.ReplayID) == 0 || len(start.ReplayID) > maxReplayIDBytes) {
		return fmt.Errorf("subscribe %s: a CUSTOM start needs a replay id of 1 to %d bytes, got %d", topic, maxReplayIDBytes, len(start.ReplayID))
	}
	pos := start
	failures, authFailures := 0, 0
	for {
		delivered, err := c.stream(ctx, topic, &pos, h)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if c.onState != nil {
			c.onState(false, err)
		}
		var he *handlerError
		if errors.As(err, &he) {
			return he.err
		}
		if delivered {
			failures, authFailures = 0, 0
		}
		switch {
		case pos.Preset == Custom && isReplayRefused(err):
			expired := &ReplayExpiredError{Topic: topic, ReplayID: pos.ReplayID, Fallback: c.fallback, Cause: err}
			c.logger.Warn("Stored replay id refused; restarting the subscription", "topic", topic, "from", c.fallback.String(), "err", err)
			if c.onExpired != nil {
				c.onExpired(expired)
			}
			pos = ReplayStart{Preset: c.fallback}
			continue
		case isAuthError(err):
			// The token was dropped; the next stream fetches a new one. A
			// new token refused again and again is no expired session.
			if authFailures++; authFailures > maxAuthRetries {
				return fmt.Errorf("subscribe %s: refused %d times in a row, with a new access token each time: %w", topic, authFailures, err)
			}
		case err != nil && permanent(err):
			return fmt.Errorf("subscribe %s: %w", topic, err)
		}
		failures++
		wait := backoff(c.backoffBase, c.backoffMax, failures)
		c.logger.Debug("Pub/Sub stream ended; reconnecting", "topic", topic, "err", err, "wait_seconds", wait.Seconds())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// backoff is base·2^(n-1), capped at maxWait, with full jitter over its upper half.
func backoff(base, maxWait time.Duration, n int) time.Duration {
	d := maxWait
	if n < 31 {
		d = min(base<<(n-1), maxWait)
	}
	return d/2 + rand.N(d/2+1)
}

var errSilent = errors.New("no message within the receive timeout")

// stream runs one Subscribe stream from *pos, advancing *pos as events are
// handled. It reports whether any event or keepalive was handled.
func (c *Client) stream(ctx context.Context, topic string, pos *ReplayStart, h Handler) (delivered bool, err error) {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sctx, token, err := c.withSession(sctx)
	if err != nil {
		return false, err
	}
	// The receive timer cancels the stream when the service falls silent;
	// it is stopped while the handler runs.
	timer := time.AfterFunc(c.rpcTimeout, func() { cancel(errSilent) })
	defer timer.Stop()
	st, err := c.api.Subscribe(sctx)
	if err != nil {
		return false, c.ended(sctx, token, err)
	}
	req := &pubsubpb.FetchRequest{TopicName: topic, ReplayPreset: pubsubpb.ReplayPreset(pos.Preset), NumRequested: int32(c.maxInFlight)}
	if pos.Preset == Custom {
		req.ReplayId = pos.ReplayID
	}
	if err := st.Send(req); err != nil {
		return false, c.endedStream(sctx, st, token, err)
	}
	timer.Reset(c.recvTimeout)
	outstanding := c.maxInFlight
	answered := false
	for {
		resp, err := st.Recv()
		if err != nil {
			return delivered, c.endedStream(sctx, st, token, err)
		}
		if !answered && c.onState != nil {
			c.onState(true, nil)
		}
		answered = true
		events := resp.GetEvents()
		if len(events) > outstanding {
			return delivered, &protocolError{fmt.Sprintf("the service sent %d events with %d requested", len(events), outstanding)}
		}
		timer.Stop()
		if len(events) == 0 {
			latest := resp.GetLatestReplayId()
			if len(latest) > 0 && len(latest) <= maxReplayIDBytes {
				if err := h(ctx, Event{ReplayID: latest, Keepalive: true}); err != nil {
					return delivered, &handlerError{err}
				}
				*pos = After(latest)
				delivered = true
			}
		}
		for _, ce := range events {
			rid := ce.GetReplayId()
			if len(rid) == 0 || len(rid) > maxReplayIDBytes {
				return delivered, &protocolError{fmt.Sprintf("an event's replay id is %d bytes, want 1 to %d", len(rid), maxReplayIDBytes)}
			}
			ev, err := c.event(sctx, ce)
			if err != nil {
				return delivered, err
			}
			if err := h(ctx, ev); err != nil {
				return delivered, &handlerError{err}
			}
			*pos = After(rid)
			delivered = true
			outstanding--
		}
		// Ask for more once half the allowance is handled: fewer requests
		// than one per event, and never more than maxInFlight outstanding.
		if outstanding <= c.maxInFlight/2 {
			more := c.maxInFlight - outstanding
			if err := st.Send(&pubsubpb.FetchRequest{NumRequested: int32(more)}); err != nil {
				return delivered, c.endedStream(sctx, st, token, err)
			}
			outstanding += more
		}
		timer.Reset(c.recvTimeout)
	}
}

// event builds the handler's Event, fetching the schema on a miss.
func (c *Client) event(ctx context.Context, ce *pubsubpb.ConsumerEvent) (Event, error) {
	pe := ce.GetEvent()
	ev := Event{ReplayID: ce.GetReplayId(), ID: pe.GetId(), SchemaID: pe.GetSchemaId(), payload: pe.GetPayload(), readers: &c.readers}
	if n := len(ev.payload); n > c.maxEventBytes {
		ev.err = fmt.Errorf("event of %d bytes exceeds the %d-byte bound", n, c.maxEventBytes)
		ev.payload = nil
		return ev, nil
	}
	entry, err := c.schema(ctx, ev.SchemaID)
	if err != nil {
		return ev, err
	}
	ev.schema, ev.err = entry.schema, entry.err
	return ev, nil
}

// endedStream turns a failed Send or Recv into the stream's status: a Send
// fails with io.EOF when the service has ended the stream, and Recv then
// returns why.
func (c *Client) endedStream(ctx context.Context, st grpc.BidiStreamingClient[pubsubpb.FetchRequest, pubsubpb.FetchResponse], token string, err error) error {
	if errors.Is(err, io.EOF) {
		if _, rerr := st.Recv(); rerr != nil {
			err = rerr
		}
	}
	if errors.Is(err, io.EOF) {
		err = errors.New("the service closed the stream")
	}
	return c.ended(ctx, token, &streamError{err: err, trailer: st.Trailer()})
}

func (c *Client) ended(ctx context.Context, token string, err error) error {
	if cause := context.Cause(ctx); errors.Is(cause, errSilent) {
		return cause
	}
	if isAuthError(err) {
		c.creds.InvalidateSession(token)
	}
	return err
}

// TopicInfo is what GetTopic tells of a topic.
type TopicInfo struct {
	Name         string
	SchemaID     string
	CanSubscribe bool
}

// GetTopic asks the service about a topic: whether it exists and whether
// the session's user may subscribe to it. It is the cheapest call that
// proves a subscription would be accepted.
func (c *Client) GetTopic(ctx context.Context, topic string) (TopicInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, c.rpcTimeout)
	defer cancel()
	info, err := c.api.GetTopic(ctx, &pubsubpb.TopicRequest{TopicName: topic}, grpc.MaxCallRecvMsgSize(64<<10))
	if err != nil {
		return TopicInfo{}, fmt.Errorf("get topic %s: %w", topic, err)
	}
	return TopicInfo{Name: info.GetTopicName(), SchemaID: info.GetSchemaId(), CanSubscribe: info.GetCanSubscribe()}, nil
}
