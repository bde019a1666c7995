package detect

import (
	"testing"
	"time"
)

// TestLowAndSlowReplayStaysNew: a small replay from one new network, three
// days running, after a week's quiet baseline. Its network was first seen
// on a flagged day, so it never joins the baseline those days are judged
// against: its requests count as from a new network on day 3 as on day 1.
func TestLowAndSlowReplayStaysNew(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{})
	key := AppKey(erpID, "")
	for d := range 9 {
		ingestDay(tr, day0.AddDate(0, 0, d), integrationDay(day0.AddDate(0, 0, d)))
	}
	if f := figure(t, tr, key); !f.BaselineReady || f.RequestsFromNewNetworks != 0 {
		t.Fatalf("quiet baseline: %+v", f)
	}
	for i := range 3 {
		day := day0.AddDate(0, 0, 9+i)
		rows := append(integrationDay(day),
			row{at: day.Add(time.Duration(3+i) * time.Hour), id: erpID, ip: "185.220.101.9", entity: "Account", user: "005A", n: 4})
		ingestDay(tr, day, rows)
		if f := figure(t, tr, key); f.RequestsFromNewNetworks != 4 || f.ObjectRequestsFromNewNetworks[tr.sens["account"]] != 4 {
			t.Fatalf("replay day %d: %d requests (%d to Account) from new networks, want 4: the replay's network joined the baseline",
				i+1, f.RequestsFromNewNetworks, f.ObjectRequestsFromNewNetworks[tr.sens["account"]])
		}
	}
}
