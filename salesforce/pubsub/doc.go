// Package pubsub subscribes to Salesforce's Pub/Sub API (the gRPC service
// eventbus.v1.PubSub), the source of real-time event monitoring events such
// as ApiEventStream and LoginEventStream for orgs with Shield or Event
// Monitoring.
//
// # Authentication
//
// Every call carries the org's session as gRPC metadata (accesstoken,
// instanceurl, tenantid), taken from a *salesforce.Client through the
// Credentials interface. An UNAUTHENTICATED answer drops the token, the
// client fetches a new one, and the subscription reconnects.
//
// # Flow control
//
// Subscribe keeps at most WithMaxInFlight events requested and not yet
// handled, and asks for more only as the handler returns. Each event's
// schema is fetched once per schema id (GetSchema) and cached, up to
// WithSchemaCacheSize schemas.
//
// # Replay
//
// A subscription starts at Latest, Earliest or After a stored replay id.
// The handler gets each event with its replay id, and each keepalive with
// the latest position, for the caller to persist once it has processed
// them. A stored replay id that the service refuses (older than the 72-hour
// retention, or corrupt) is reported through WithReplayExpired as an error
// matching ErrReplayExpired, and the subscription restarts from Earliest (or
// Latest: WithExpiredFallback), so the caller can announce the gap.
//
// # Errors
//
// Stream errors, a server-closed stream and a stream silent for longer than
// WithReceiveTimeout reconnect with jittered exponential backoff from the
// last handled position. A handler error, a cancelled context or a refusal
// that retrying cannot mend (permission denied, unknown topic) ends
// Subscribe. An event that cannot be decoded (larger than WithMaxEventBytes,
// a schema that does not parse, a payload that does not match its schema)
// still reaches the handler: its Decode returns a *DecodeError, and the
// handler decides whether to skip it or stop.
//
// Salesforce API docs: https://developer.salesforce.com/docs/platform/pub-sub-api/overview
package pubsub
