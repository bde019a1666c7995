package detect

import (
	"testing"
	"time"
)

// An integration used for three days, then idle for two months, wakes and
// reads Account: the window's figures say how long it slept, whatever the
// volume; the next day's, 0.
func TestDormantAppWakes(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{})
	key := AppKey(erpID, "")
	for d := range 3 {
		ingestDay(tr, day0.AddDate(0, 0, d), integrationDay(day0.AddDate(0, 0, d)))
		if f := figure(t, tr, key); f.IdleBeforeWake != 0 {
			t.Fatalf("day %d: a daily integration is not dormant: %+v", d, f)
		}
	}
	wakeDay := day0.AddDate(0, 0, 70)
	ingestDay(tr, wakeDay, []row{{at: wakeDay.Add(time.Hour), id: erpID, name: "Acme ERP Sync", ip: "198.51.100.10", entity: "Account", user: "005A", n: 12}})
	// Last use day 2 at 10:00, woke day 70 at 01:00: 67 days and 15 hours.
	if f := figure(t, tr, key); f.IdleBeforeWake != (67*24+15)*time.Hour {
		t.Fatalf("woke after two months: idle %v, want 67 days 15 hours", f.IdleBeforeWake)
	}
	next := wakeDay.AddDate(0, 0, 1)
	ingestDay(tr, next, integrationDay(next))
	if f := figure(t, tr, key); f.IdleBeforeWake != 0 {
		t.Fatalf("the day after the wake: %+v", f)
	}
}

// A login that wakes the app before the day's log file lands is the wake:
// the file does not hide it by coming after the login's sighting.
func TestDormantAppWakesByLogin(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{})
	key := AppKey(erpID, "")
	for d := range 3 {
		ingestDay(tr, day0.AddDate(0, 0, d), integrationDay(day0.AddDate(0, 0, d)))
	}
	wakeDay := day0.AddDate(0, 0, 90)
	now := wakeDay.Add(6 * time.Hour)
	tr.Logins(now, []Login{{Time: wakeDay.Add(2 * time.Hour), App: "Acme ERP Sync", SourceIP: "198.51.100.10", UserID: "005A"}})
	tr.Logins(now.Add(time.Hour), []Login{{Time: wakeDay.Add(2 * time.Hour), App: "Acme ERP Sync", SourceIP: "198.51.100.10", UserID: "005A"}}) // read again
	ingestDay(tr, wakeDay, []row{{at: wakeDay.Add(3 * time.Hour), id: erpID, name: "Acme ERP Sync", ip: "198.51.100.10", entity: "Contact", user: "005A", n: 3}})
	// Last use day 2 at 10:00, woke day 90 at 02:00: 87 days and 16 hours.
	if f := figure(t, tr, key); f.IdleBeforeWake != (87*24+16)*time.Hour {
		t.Fatalf("woke by a login: idle %v, want 87 days 16 hours", f.IdleBeforeWake)
	}
}
