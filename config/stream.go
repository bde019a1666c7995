package config

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Stream subscribes to an org's real-time event monitoring events through
// the Pub/Sub API (Shield or the Event Monitoring add-on).
type Stream struct {
	Enabled bool `yaml:"enabled"`
	// Topics are the topics to subscribe to (DefaultStreamTopics).
	Topics []string `yaml:"topics"`
	// Endpoint is the Pub/Sub API's host:port (DefaultStreamEndpoint).
	Endpoint string `yaml:"endpoint"`
	// OnExpired is where a subscription restarts when its stored replay id
	// has expired: "earliest" (the default: the least lost) or "latest".
	OnExpired string `yaml:"on_expired"`
}

// Stream defaults and bounds.
const (
	DefaultStreamEndpoint   = "api.pubsub.salesforce.com:7443"
	StreamOnExpiredEarliest = "earliest"
	StreamOnExpiredLatest   = "latest"
)

// The topics the stream reads.
const (
	TopicAPIEventStream   = "/event/ApiEventStream"
	TopicLoginEventStream = "/event/LoginEventStream"
)

// StreamTopics are the topics a stream may subscribe to; DefaultStreamTopics
// are those it subscribes to when the config names none.
var (
	StreamTopics        = []string{TopicAPIEventStream, TopicLoginEventStream}
	DefaultStreamTopics = []string{TopicAPIEventStream}
)

// stream checks an org's stream block and fills in its defaults.
func (v *validator) stream(i int, o *Org) error {
	st := &o.Stream
	at := func(keys ...any) []any { return append([]any{"orgs", i, "stream"}, keys...) }
	key := func(k string) string { return fmt.Sprintf("orgs[%d].stream.%s", i, k) }
	if len(st.Topics) == 0 {
		st.Topics = slices.Clone(DefaultStreamTopics)
	}
	seen := map[string]bool{}
	for j, t := range st.Topics {
		if !slices.Contains(StreamTopics, t) {
			return v.errf(key("topics"), at("topics", j), "unknown topic %q: want one of %s", t, strings.Join(StreamTopics, ", "))
		}
		if seen[t] {
			return v.errf(key("topics"), at("topics", j), "topic %q is listed twice", t)
		}
		seen[t] = true
	}
	if st.Endpoint == "" {
		st.Endpoint = DefaultStreamEndpoint
	}
	host, port, err := net.SplitHostPort(st.Endpoint)
	if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
		return v.errf(key("endpoint"), at("endpoint"), "%q is not a host:port such as %q", st.Endpoint, DefaultStreamEndpoint)
	}
	switch st.OnExpired {
	case "":
		st.OnExpired = StreamOnExpiredEarliest
	case StreamOnExpiredEarliest, StreamOnExpiredLatest:
	default:
		return v.errf(key("on_expired"), at("on_expired"), "%q: want %s or %s", st.OnExpired, StreamOnExpiredEarliest, StreamOnExpiredLatest)
	}
	return nil
}
