package refresh

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/pubsub"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// Bounds of the stream's buffer between the subscriptions and the drain.
const (
	// maxPendingEvents bounds the events handled and not yet drained; a
	// subscription waits (asking the service for no more) until the next
	// drain makes room.
	maxPendingEvents = 20_000
	// defaultStreamFlush is how often the handled events are drained into
	// the snapshot and the state when there are new ones: well inside a 15 s
	// scrape, and a state file write at most this often.
	defaultStreamFlush = 5 * time.Second
	// streamRetryMax bounds the wait before a subscription that ended for
	// good (permission, unknown topic) is tried again.
	streamRetryMax = 30 * time.Minute
	// maxStreamField bounds the text kept of one event field.
	maxStreamField = 4096
)

// streamEvent is what the drain needs of one event; the user id and the
// address reach only the detection baseline (the review's evidence).
type streamEvent struct {
	topic                          string
	at                             time.Time
	appID, app, ip, entities, user string
	rows                           float64
}

// streamBatch is one topic's events since the last drain, with the replay
// id past them.
type streamBatch struct {
	topic    string
	events   []streamEvent
	replayID []byte
	received time.Time
}

type topicFeed struct {
	topic     string
	start     pubsub.ReplayStart
	connected bool
	lastErr   error
	pending   []streamEvent
	replayID  []byte // the last handled position
	changed   bool   // replayID moved since the last take
	st        snapshot.StreamTopic
}

// streamFeed runs an org's subscriptions (one per topic) and buffers what
// they handle for the refresher's drain.
type streamFeed struct {
	r      *Refresher
	org    config.Stream
	logger *slog.Logger
	flush  time.Duration

	mu      sync.Mutex
	topics  []*topicFeed
	pending int
	space   chan struct{} // closed and replaced at each take
	news    bool
	wg      sync.WaitGroup
}

func newStreamFeed(r *Refresher) *streamFeed {
	f := &streamFeed{r: r, org: r.org.Stream, logger: r.logger.With("component", "stream"), flush: cmp.Or(r.streamFlush, defaultStreamFlush), space: make(chan struct{})}
	for _, topic := range f.org.Topics {
		tf := &topicFeed{topic: topic, start: pubsub.StartLatest, st: snapshot.StreamTopic{Topic: topic}}
		if ss := r.state.Stream[topic]; ss != nil {
			tf.start = pubsub.After(ss.ReplayID)
		}
		if i := slices.Index(r.state.lostStream, topic); i >= 0 {
			// The stored position was unreadable (logged with the state):
			// the events since the stop are lost, as with an expired one.
			r.state.lostStream = slices.Delete(r.state.lostStream, i, i+1)
			tf.st.ReplayGaps, tf.st.LastGap = 1, r.now()
			f.logger.Warn("The stored stream position was unreadable: the stream starts at its latest event, and the events between the stop and this start are lost to the exporter (salesforce_stream_replay_gaps_total)", "topic", topic)
		}
		f.topics = append(f.topics, tf)
	}
	return f
}

// run starts the subscriptions and the flusher; wait waits for them.
func (f *streamFeed) run(ctx context.Context) {
	for _, tf := range f.topics {
		opts := []pubsub.Option{
			pubsub.WithLogger(f.logger),
			pubsub.WithStreamState(func(up bool, err error) { f.state(tf, up, err) }),
			pubsub.WithReplayExpired(func(err error) { f.expired(tf, err) }),
		}
		ps, err := newPubSub(f.r.client, f.org, append(slices.Clone(f.r.streamOpts), opts...))
		if err != nil {
			f.mu.Lock()
			tf.lastErr = err
			f.mu.Unlock()
			f.logger.Error("Cannot build the Pub/Sub client; the stream is off", "topic", tf.topic, "err", err)
			continue
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer ps.Close()
			f.subscribe(ctx, ps, tf)
		}()
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		f.flusher(ctx)
	}()
}

func (f *streamFeed) wait() { f.wg.Wait() }

// subscribe keeps one topic subscribed until ctx ends: Subscribe
// reconnects by itself; an end it cannot mend is retried with a growing wait.
func (f *streamFeed) subscribe(ctx context.Context, ps *pubsub.Client, tf *topicFeed) {
	h := func(ctx context.Context, ev pubsub.Event) error { return f.handle(ctx, tf, ev) }
	for fails := 0; ; fails++ {
		f.mu.Lock()
		start := tf.start
		if len(tf.replayID) > 0 {
			start = pubsub.After(tf.replayID)
		}
		f.mu.Unlock()
		err := ps.Subscribe(ctx, tf.topic, start, h)
		if ctx.Err() != nil {
			return
		}
		f.mu.Lock()
		tf.connected, tf.lastErr = false, err
		f.mu.Unlock()
		wait := min(time.Minute<<min(fails, 5), streamRetryMax)
		f.logger.Error("The stream ended; trying again later", "topic", tf.topic, "err", err, "wait", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (f *streamFeed) state(tf *topicFeed, up bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if up {
		tf.connected, tf.lastErr = true, nil
		return
	}
	if tf.connected || err != nil {
		tf.st.Reconnects++
	}
	tf.connected, tf.lastErr = false, err
	f.news = true
}

func (f *streamFeed) expired(tf *topicFeed, err error) {
	f.mu.Lock()
	tf.st.ReplayGaps++
	tf.st.LastGap = f.r.now()
	tf.replayID, tf.changed = nil, false
	f.news = true
	f.mu.Unlock()
	f.logger.Warn("The stored stream position has expired: the events between it and the restart are lost to the exporter (salesforce_stream_replay_gaps_total)",
		"topic", tf.topic, "restart_from", f.org.OnExpired, "err", err)
}

// handle buffers one event (or keepalive position), waiting for room.
func (f *streamFeed) handle(ctx context.Context, tf *topicFeed, ev pubsub.Event) error {
	var se streamEvent
	ok := false
	if !ev.Keepalive {
		se, ok = f.decode(tf, ev)
	}
	f.mu.Lock()
	for ok && f.pending >= maxPendingEvents {
		ch := f.space
		f.mu.Unlock()
		f.r.Kick()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		f.mu.Lock()
	}
	if ok {
		tf.pending = append(tf.pending, se)
		f.pending++
		tf.st.Events++
		if se.at.After(tf.st.LastEvent) {
			tf.st.LastEvent = se.at
		}
	}
	tf.replayID, tf.changed, f.news = ev.ReplayID, true, true
	events := tf.st.Events
	f.mu.Unlock()
	if f.r.streamHook != nil {
		f.r.streamHook(tf.topic, events)
	}
	return nil
}

// decode turns an event into what the drain needs; an event that cannot be
// decoded is counted and skipped.
func (f *streamFeed) decode(tf *topicFeed, ev pubsub.Event) (streamEvent, bool) {
	se := streamEvent{topic: tf.topic}
	var err error
	switch tf.topic {
	case config.TopicAPIEventStream:
		var a pubsub.APIEvent
		if a, err = pubsub.DecodeAPIEvent(ev); err == nil {
			se.at, se.appID, se.app, se.ip, se.entities, se.user, se.rows = a.EventDate, a.ConnectedAppID, a.Application, a.SourceIP, a.QueriedEntities, a.UserID, a.RowsProcessed
		}
	case config.TopicLoginEventStream:
		var l pubsub.LoginEvent
		if l, err = pubsub.DecodeLoginEvent(ev); err == nil {
			se.at = l.EventDate
		}
	default:
		err = fmt.Errorf("no decoder for topic %s", tf.topic)
	}
	if err != nil {
		f.mu.Lock()
		tf.st.DecodeErrors++
		first := tf.st.DecodeErrors == 1
		f.mu.Unlock()
		if first {
			f.logger.Warn("Skipping stream events that cannot be decoded (salesforce_stream_decode_errors_total counts them)", "topic", tf.topic, "err", err)
		}
		return se, false
	}
	for _, p := range []*string{&se.appID, &se.app, &se.ip, &se.entities, &se.user} {
		if len(*p) > maxStreamField {
			*p = (*p)[:maxStreamField]
		}
	}
	if se.rows < 0 || se.rows != se.rows {
		se.rows = 0
	}
	return se, true
}

// flusher asks the refresher for a drain when there is news.
func (f *streamFeed) flusher(ctx context.Context) {
	t := time.NewTicker(f.flush)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		f.mu.Lock()
		news := f.news
		f.mu.Unlock()
		if news {
			f.r.Kick()
		}
	}
}

// take hands the drain what was handled since the last take, and the status.
func (f *streamFeed) take() ([]streamBatch, *snapshot.Stream) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.r.now()
	var out []streamBatch
	st := &snapshot.Stream{}
	for _, tf := range f.topics {
		if len(tf.pending) > 0 || tf.changed {
			b := streamBatch{topic: tf.topic, events: tf.pending, received: now}
			if tf.changed {
				b.replayID = slices.Clone(tf.replayID)
			}
			out = append(out, b)
		}
		tf.pending, tf.changed = nil, false
		s := tf.st
		s.Connected = tf.connected
		st.Topics = append(st.Topics, s)
	}
	f.pending, f.news = 0, false
	close(f.space)
	f.space = make(chan struct{})
	return out, st
}

// health is nil while every topic is connected or still connecting, else
// why one is not.
func (f *streamFeed) health() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	for _, tf := range f.topics {
		if !tf.connected && tf.lastErr != nil {
			errs = append(errs, fmt.Errorf("%s: %w", tf.topic, tf.lastErr))
		}
	}
	return errors.Join(errs...)
}

func sortStreamApps(apps []snapshot.StreamApp) {
	slices.SortFunc(apps, func(a, b snapshot.StreamApp) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
}
