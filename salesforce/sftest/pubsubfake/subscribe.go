package pubsubfake

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/pubsub/pubsubpb"
)

// Subscribe implements pubsubpb.PubSubServer: the replay option of the first
// FetchRequest sets the start, each FetchRequest adds to what may be sent
// (at most MaxNumRequested outstanding), and nothing is sent beyond it.
func (s *Server) Subscribe(stream pubsubpb.PubSub_SubscribeServer) error {
	ctx := stream.Context()
	s.update(func(st *Stats) { st.Subscribes++ })
	if err := s.auth(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	end := s.end
	s.mu.Unlock()

	reqs := make(chan *pubsubpb.FetchRequest)
	recvDone := make(chan struct{})
	go func() {
		defer close(recvDone)
		for {
			r, err := stream.Recv()
			if err != nil {
				return
			}
			select {
			case reqs <- r:
			case <-ctx.Done():
				return
			}
		}
	}()

	idle := time.NewTimer(s.idle)
	defer idle.Stop()
	var req *pubsubpb.FetchRequest
	select {
	case req = <-reqs:
	case <-recvDone:
		return nil
	case <-idle.C:
		s.update(func(st *Stats) { st.IdleClosed++ })
		return nil
	case <-end:
		return s.endError()
	case <-ctx.Done():
		return ctx.Err()
	}
	topicName := req.GetTopicName()
	s.mu.Lock()
	t := s.topics[topicName]
	s.mu.Unlock()
	if t == nil {
		return status.Errorf(codes.NotFound, "topic %q not found", topicName)
	}
	if !s.maySubscribe(t.name) {
		s.update(func(st *Stats) { st.Denied++ })
		return withCode(ctx, codes.PermissionDenied, ErrorCodePermission, fmt.Sprintf("the user may not subscribe to %s", topicName))
	}
	next, err := s.start(ctx, t, req)
	if err != nil {
		return err
	}
	// Open counts a stream once its start is set: an event published after
	// a test sees it open is one the stream will send.
	s.update(func(st *Stats) { st.Open++ })
	defer s.update(func(st *Stats) { st.Open-- })
	asked, pending := 0, 0
	add := func(n int32) {
		if n > 0 {
			asked += int(n)
			pending = min(pending+int(n), MaxNumRequested)
		}
		s.update(func(st *Stats) { st.MaxAsked = max(st.MaxAsked, asked) })
	}
	add(req.GetNumRequested())

	keepalive := time.NewTimer(s.keepalive)
	defer keepalive.Stop()
	reset := func() {
		idle.Reset(s.idle)
		keepalive.Reset(s.keepalive)
	}
	reset()
	for {
		s.mu.Lock()
		var batch []*pubsubpb.ConsumerEvent
		for next < len(t.events) && len(batch) < pending {
			e := t.events[next]
			batch = append(batch, &pubsubpb.ConsumerEvent{
				Event:    &pubsubpb.ProducerEvent{Id: e.id, SchemaId: e.schemaID, Payload: e.payload},
				ReplayId: ReplayID(e.seq),
			})
			next++
		}
		latest := ReplayID(s.seq)
		changed := s.changed
		s.mu.Unlock()
		if len(batch) > 0 {
			pending -= len(batch)
			asked -= len(batch)
			if err := stream.Send(&pubsubpb.FetchResponse{Events: batch, LatestReplayId: latest, PendingNumRequested: int32(pending)}); err != nil {
				return err
			}
			s.update(func(st *Stats) {
				st.Delivered += len(batch)
				st.MaxBatch = max(st.MaxBatch, len(batch))
			})
			reset()
			continue
		}
		var idleC, keepaliveC <-chan time.Time
		if pending == 0 {
			idleC = idle.C
		} else {
			keepaliveC = keepalive.C
		}
		select {
		case r := <-reqs:
			if n := r.GetTopicName(); n != "" && n != topicName {
				return status.Errorf(codes.InvalidArgument, "topic_name %q differs from the stream's %q", n, topicName)
			}
			add(r.GetNumRequested())
			idle.Reset(s.idle)
		case <-changed:
		case <-keepaliveC:
			if err := stream.Send(&pubsubpb.FetchResponse{LatestReplayId: latest, PendingNumRequested: int32(pending)}); err != nil {
				return err
			}
			s.update(func(st *Stats) { st.Keepalives++ })
			reset()
		case <-idleC:
			s.update(func(st *Stats) { st.IdleClosed++ })
			return nil
		case <-recvDone:
			return nil
		case <-end:
			return s.endError()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *Server) endError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endErr
}

// start returns the index of the first event to send for the first
// FetchRequest's replay option.
func (s *Server) start(ctx context.Context, t *topic, req *pubsubpb.FetchRequest) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cutoff := s.now().Add(-s.retention)
	firstKept := len(t.events)
	for i, e := range t.events {
		if !e.published.Before(cutoff) {
			firstKept = i
			break
		}
	}
	switch req.GetReplayPreset() {
	case pubsubpb.ReplayPreset_LATEST:
		return len(t.events), nil
	case pubsubpb.ReplayPreset_EARLIEST:
		return firstKept, nil
	case pubsubpb.ReplayPreset_CUSTOM:
		// A position is good while the event it names (and so every one
		// after it) is within retention: past the last purged event, and
		// not beyond the newest id given out. A keepalive's latest replay
		// id may name an event of another topic: it is a position all the same.
		var lastPurged uint64
		if firstKept > 0 {
			lastPurged = t.events[firstKept-1].seq
		}
		if id := req.GetReplayId(); len(id) == 8 {
			seq := binary.BigEndian.Uint64(id)
			if seq > lastPurged && seq <= s.seq || seq == 0 && firstKept == 0 {
				i := firstKept
				for i < len(t.events) && t.events[i].seq <= seq {
					i++
				}
				return i, nil
			}
		}
		s.stats.ReplayRejected++
		s.changedLocked()
		return 0, withCode(ctx, codes.InvalidArgument, ErrorCodeReplayCorrupted,
			"The Replay ID validation failed. Ensure that the replay_id field value in FetchRequest is valid and refers to an event that is within the retention window.")
	}
	return 0, status.Errorf(codes.InvalidArgument, "unknown replay_preset %v", req.GetReplayPreset())
}
