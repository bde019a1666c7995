package cli

import (
	"context"
	"fmt"
	"net"
	"time"

	"google.golang.org/grpc"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/pubsub/pubsubpb"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest/pubsubfake"
)

// demoShield is the demo org's Pub/Sub API (--demo.shield): the fake
// served in plain gRPC on a loopback port, streaming the org's API events
// as Real-Time Event Monitoring would.
type demoShield struct {
	addr string
	gs   *grpc.Server
}

func (s *demoShield) close() { s.gs.Stop() }

// startDemoShield serves the fake Pub/Sub API for demo and publishes its
// API events until ctx ends: Acme ERP Sync's usual calls from its declared
// networks every tick, and from surgeAfter on, a stolen token replayed at
// the same volume from networks it never used, reading User and Account.
func startDemoShield(ctx context.Context, demo *sftest.Demo, surgeAfter, tick time.Duration) (*demoShield, error) {
	fake := pubsubfake.New(pubsubfake.ForOrg(demo.Server), pubsubfake.WithSubscribePermission())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	gs := grpc.NewServer()
	pubsubpb.RegisterPubSubServer(gs, fake)
	go func() { _ = gs.Serve(ln) }()
	app := demo.Org.Apps()[demo.Org.AppIndex("Acme ERP Sync")]
	id := app.ID[:min(15, len(app.ID))]
	go func() {
		t := time.NewTicker(tick)
		defer t.Stop()
		start := time.Now()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			now := demo.Org.Now()
			ip := sftest.IntegrationIP(app.Name, i)
			entity := "Opportunity"
			if time.Since(start) >= surgeAfter {
				// The replay: the usual volume, from a network first seen now.
				ip, entity = sftest.ReplayIP(i%5, i), []string{"User", "Account"}[i%2]
			}
			_, _ = fake.PublishEvent(pubsubfake.TopicAPIEventStream, demoAPIEvent(i, now, id, app.Name, ip, entity))
		}
	}()
	return &demoShield{addr: ln.Addr().String(), gs: gs}, nil
}

// demoAPIEvent is one ApiEventStream event of the demo.
func demoAPIEvent(i int, at time.Time, appID, app, ip, entity string) map[string]any {
	ms := at.UnixMilli()
	return map[string]any{
		"CreatedDate": ms, "CreatedById": "005000000000001AAA", "EventIdentifier": fmt.Sprintf("demo-%d", i),
		"EventDate": ms, "UserId": "005000000000002AAA", "Username": "integration@acme.example",
		"ConnectedAppId": appID, "Application": app, "ApiType": "REST", "Operation": "Query",
		"QueriedEntities": entity, "RowsProcessed": float64(50), "SourceIp": ip,
	}
}
