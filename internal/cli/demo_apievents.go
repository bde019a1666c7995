package cli

import (
	"context"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// startDemoAPIEvents stores the demo org's API events in ApiEvent until ctx
// ends, for the api_events source (the demo without --demo.shield, where
// the stream does not read them): Acme ERP Sync's usual calls from its
// declared networks every tick, and from surgeAfter on a stolen token
// replayed at the same volume from networks it never used, reading User and
// Account. The org stores each a while after it happened, as a real org
// does.
func startDemoAPIEvents(ctx context.Context, demo *sftest.Demo, surgeAfter, tick time.Duration) {
	org := demo.Org
	app := org.Apps()[org.AppIndex("Acme ERP Sync")]
	id := app.ID[:min(15, len(app.ID))]
	user := org.IntegrationUser()
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
			ip, entity := sftest.IntegrationIP(app.Name, i), "Opportunity"
			if time.Since(start) >= surgeAfter {
				ip, entity = sftest.ReplayIP(i%5, i), []string{"User", "Account"}[i%2]
			}
			org.AddAPIEvent(sftest.APIEventSpec{User: user, AppID: id, AppName: app.Name, Time: org.Now(), SourceIP: ip, Entities: entity, Rows: 50})
		}
	}()
}
