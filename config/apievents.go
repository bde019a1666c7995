package config

import (
	"fmt"
	"slices"
)

// apiEvents refuses an org that both streams ApiEventStream and reads the
// stored ApiEvent: both hold the same API calls, and both would feed the
// detection baseline's live hours, counting each call twice. The stream is
// the faster path; api_events is its fallback for an org that does not
// want a long-lived gRPC connection.
func (v *validator) apiEvents(i int, o *Org) error {
	if !o.SourceEnabled(SourceAPIEvents) || !o.SourceEnabled(SourceStream) || !slices.Contains(o.Stream.Topics, TopicAPIEventStream) {
		return nil
	}
	return v.errf(fmt.Sprintf("orgs[%d].sources.%s", i, SourceAPIEvents), []any{"orgs", i, "sources", SourceAPIEvents},
		"the org's stream already reads %s, the same API calls as the stored ApiEvent: enable one of them (turn api_events off, or drop %s from stream.topics)",
		TopicAPIEventStream, TopicAPIEventStream)
}
