package refresh

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/pubsub"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// streamSpec declares the stream source: the org's real-time event
// monitoring events through the Pub/Sub API, read by one long-lived
// subscription per topic (stream_feed.go) that the refresher runs beside
// its cycle. Its refresh only checks the subscriptions; the events reach
// the detection tracker and the state at each publish (drain).
var streamSpec = Spec{
	Name:       config.SourceStream,
	Permission: streamPermission,
	// The Pub/Sub API needs API Enabled. The real-time event permission
	// is not among those the exporter reads: the probe's GetTopic
	// (can_subscribe) tells.
	HasPermission: func(p salesforce.UserPermissions) bool { return p.APIEnabled },
	Probe:         probeStream,
	// The stream's only REST requests are the session's token requests;
	// its gRPC calls are not REST requests, and are not counted here.
	Resources: []string{"token"},
	newSource: func() source { return &streamSource{} },
}

// streamPermission is what the Real-Time Event Monitoring topics need.
const streamPermission = "View Real-Time Event Monitoring Data"

// probeStream asks the service about each configured topic (GetTopic): one
// call per topic, no event read. The stream itself costs no REST request:
// only the session's token, shared with the other sources.
func probeStream(ctx context.Context, c *salesforce.Client, in ProbeInput) (ProbeResult, error) {
	if !in.Enabled {
		return ProbeResult{Note: "off: set stream.enabled to subscribe to the org's real-time events (Shield or Event Monitoring)"}, nil
	}
	ps, err := newPubSub(c, in.Org.Stream, in.StreamOptions)
	if err != nil {
		return ProbeResult{}, err
	}
	defer ps.Close()
	var may, denied []string
	for _, topic := range in.Org.Stream.Topics {
		info, err := ps.GetTopic(ctx, topic)
		if err != nil {
			return ProbeResult{}, fmt.Errorf("%s is not reachable through the Pub/Sub API at %s (the org needs Shield or Event Monitoring, and the user View Real-Time Event Monitoring Data): %w", topic, in.Org.Stream.Endpoint, err)
		}
		if info.CanSubscribe {
			may = append(may, topic)
		} else {
			denied = append(denied, topic)
		}
	}
	if len(may) == 0 {
		return ProbeResult{}, fmt.Errorf("%w %s: the service answers that the user may not subscribe to %s (GetTopic can_subscribe false)", errPermission, streamPermission, strings.Join(denied, ", "))
	}
	res := ProbeResult{Notes: []string{fmt.Sprintf("stream: %s reachable; events arrive in seconds, at no REST API cost", strings.Join(may, ", "))}}
	if len(denied) > 0 {
		// A topic it may not read is a stream of its events never seen:
		// the subscription would fail at every retry.
		res.Limited = fmt.Sprintf("the service answers that the user may not subscribe to %s (GetTopic can_subscribe false): grant %s, or remove the topic from stream.topics", strings.Join(denied, ", "), streamPermission)
	}
	return res, nil
}

// newPubSub builds the org's Pub/Sub client.
func newPubSub(c *salesforce.Client, st config.Stream, extra []pubsub.Option) (*pubsub.Client, error) {
	fallback := pubsub.Earliest
	if st.OnExpired == config.StreamOnExpiredLatest {
		fallback = pubsub.Latest
	}
	return pubsub.New(c, append([]pubsub.Option{pubsub.WithEndpoint(st.Endpoint), pubsub.WithExpiredFallback(fallback)}, extra...)...)
}

// streamSource is the stream's side in the refresher's run goroutine: it
// starts the subscriptions, drains what they handled into the tracker and
// the state, and hands the status and live figures to the join.
type streamSource struct {
	feed *streamFeed // nil until started
	// open are the stream periods being filled, by hour and topic: each
	// drain adds to them and commits them again (detect.StreamFileID).
	open map[openKey]*detect.Ingest
	apps map[string]*snapshot.StreamApp
	// appsFolded counts the events of apps past snapshot.MaxStreamApps.
	appsFolded int64
	status     *snapshot.Stream
}

// Bounds on an event's time: the bus keeps events 72 hours (an hour of
// slack), and an event ahead of the exporter's clock by more than
// streamClockSlack is taken for a clock error.
const (
	pubsubRetention  = 73 * time.Hour
	streamClockSlack = 5 * time.Minute
)

type openKey struct {
	topic string
	hour  int64
}

// start runs the subscriptions until ctx ends; Refresher.Run calls it once
// and waits for them (stop) before it returns.
func (s *streamSource) start(ctx context.Context, r *Refresher) {
	if s.feed != nil {
		return
	}
	s.feed = newStreamFeed(r)
	s.feed.run(ctx)
}

func (s *streamSource) stop() {
	if s.feed != nil {
		s.feed.wait()
	}
}

// refresh reports the subscriptions' health: an error while a topic is not
// connected (its last error, if any), so salesforce_source_up shows it.
func (s *streamSource) refresh(_ context.Context, _ *env) error {
	if s.feed == nil {
		return errors.New("the stream runs only in a serving exporter")
	}
	return s.feed.health()
}

// drain moves what the subscriptions handled into the tracker and the
// state: the events into the stream periods of their hour, then the replay
// ids past them, so the state file never holds a replay id whose events
// it lacks (nor events past its replay id).
func (s *streamSource) drain(r *Refresher) {
	if s.feed == nil {
		return
	}
	batches, st := s.feed.take()
	s.status = st
	if len(batches) == 0 {
		return
	}
	tr := r.detect.tr
	if s.open == nil {
		s.open = map[openKey]*detect.Ingest{}
		s.apps = map[string]*snapshot.StreamApp{}
	}
	touched := map[openKey]bool{}
	for _, b := range batches {
		for i := range b.events {
			ev := &b.events[i]
			// An EventDate outside the bus's retention, or ahead of the
			// clock, would open a period far from the data (and move the
			// window): the event counts when it was received.
			at := ev.at
			if at.IsZero() || at.After(b.received.Add(streamClockSlack)) || at.Before(b.received.Add(-pubsubRetention)) {
				at = b.received
			}
			if s.count(ev) {
				r.state.rowsLedgerOf(config.SourceStream).add(at, b.received, ev.appID, ev.app, ev.rows)
			}
			if tr == nil {
				continue
			}
			hour := at.Truncate(time.Hour)
			k := openKey{b.topic, hour.Unix()}
			in := s.open[k]
			if in == nil {
				r.state.StreamSegment++
				in = tr.Begin(detect.Period{Key: fmt.Sprintf("S|%s|%s|%d", hour.UTC().Format(time.RFC3339), b.topic, r.state.StreamSegment),
					Interval: "Hourly", Start: hour.UTC(), FileID: detect.StreamFileID})
				s.open[k] = in
			}
			in.Add(&detect.Row{Time: at.Unix(), AppID: []byte(ev.appID), AppName: []byte(ev.app), ClientIP: []byte(ev.ip),
				EntityName: []byte(ev.entities), UserID: []byte(ev.user), StatusCode: 200})
			touched[k] = true
		}
		if len(b.replayID) > 0 {
			if r.state.Stream == nil {
				r.state.Stream = map[string]*streamState{}
			}
			ts := r.state.Stream[b.topic]
			if ts == nil {
				ts = &streamState{}
				r.state.Stream[b.topic] = ts
			}
			ts.ReplayID = b.replayID
		}
	}
	for k := range touched {
		tr.Commit(s.open[k])
	}
	// A period whose hour ended over an hour ago takes no more events: a
	// late one opens a new segment.
	cut := r.now().Add(-2 * time.Hour).Unix()
	for k := range s.open {
		if k.hour < cut {
			delete(s.open, k)
		}
	}
	r.dirty = true
}

// count adds an API event to its app's live figures; false for an event
// of another topic, or of an app past snapshot.MaxStreamApps.
func (s *streamSource) count(ev *streamEvent) bool {
	if ev.topic != config.TopicAPIEventStream {
		return false
	}
	key := detect.AppKey(ev.appID, ev.app)
	a := s.apps[key]
	if a == nil {
		if len(s.apps) >= snapshot.MaxStreamApps {
			s.appsFolded++
			return false
		}
		a = &snapshot.StreamApp{ID: ev.appID, Name: ev.app}
		s.apps[key] = a
	}
	a.Requests++
	a.RowsProcessed += ev.rows
	return true
}

func (s *streamSource) contribute(p *snapshot.Parts) {
	if s.status == nil {
		return
	}
	st := *s.status
	st.Apps = make([]snapshot.StreamApp, 0, len(s.apps))
	for _, a := range s.apps {
		st.Apps = append(st.Apps, *a)
	}
	sortStreamApps(st.Apps)
	st.AppsFolded = s.appsFolded
	p.Stream = &st
}
