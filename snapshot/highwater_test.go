package snapshot

import (
	"testing"
	"time"
)

// TestSetHighWater checks which days each high-water mark looks back over:
// the users' the 28 days before yesterday, the requests' the 28 days before
// the first day of the 24h window; an app matched by Id (15 or 18
// characters) or, without one, by name; unknown figures never count.
func TestSetHighWater(t *testing.T) {
	taken := time.Date(2026, 3, 30, 10, 0, 0, 0, time.UTC) // a Monday
	day := func(ago int) time.Time { return time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -ago) }
	h := []HistoryDay{
		// Today and yesterday are inside a surge window: never the mark.
		{Day: day(0), App: "Loader", AppID: loaderID18, Kind: KindConnectedApp, Users: 900, HasTokens: true, Requests: 900_000, HasRequests: true},
		{Day: day(1), App: "Loader", AppID: loaderID18, Kind: KindConnectedApp, Users: 800, HasTokens: true, Requests: 800_000, HasRequests: true},
		// Before the surge: the weekly full sync, and the users before a mass revocation.
		{Day: day(2), App: "Loader", AppID: loaderID15, Kind: KindConnectedApp, Users: 10, HasTokens: true, Requests: 3_000, HasRequests: true},
		{Day: day(9), App: "Loader", AppID: loaderID15, Kind: KindConnectedApp, Users: 250, HasTokens: true, Requests: 70_000, HasRequests: true},
		{Day: day(29), App: "Loader", AppID: loaderID18, Kind: KindConnectedApp, Users: 260, HasTokens: true, Requests: 75_000, HasRequests: true},
		// Past the look-back.
		{Day: day(30), App: "Loader", AppID: loaderID18, Kind: KindConnectedApp, Users: 5000, HasTokens: true, Requests: 500_000, HasRequests: true},
		// Another kind with the same Id key is another app.
		{Day: day(5), App: "Loader", AppID: loaderID18, Kind: KindExternalClientApp, Users: 7000, HasTokens: true},
		// An uninstalled app, by name; its requests unknown.
		{Day: day(3), App: "Old Tool", Kind: KindConnectedApp, Users: 4, HasTokens: true},
	}
	s := &Snapshot{Taken: taken, History: h, APIUsageEnd: taken.Add(-3 * time.Hour), Apps: []AppUsage{
		{Name: "Loader", ID: loaderID18, Kind: KindConnectedApp},
		{Name: "old tool", Kind: KindConnectedApp},
		{Name: "New App", ID: mobileID18, Kind: KindConnectedApp},
		{Name: OtherApps, Kind: KindConnectedApp},
	}}
	SetHighWater(s)
	// The 24h window starts yesterday: the request days are 2 to 29 days ago.
	if got, want := s.Apps[0].HighWater, (HighWater{HasUsers: true, Users: 260, HasRequests: true, Requests: 75_000}); got != want {
		t.Errorf("Loader: %+v, want %+v", got, want)
	}
	if got, want := s.Apps[1].HighWater, (HighWater{HasUsers: true, Users: 4}); got != want {
		t.Errorf("Old Tool: %+v, want %+v", got, want)
	}
	for _, a := range s.Apps[2:] {
		if a.HighWater != (HighWater{}) {
			t.Errorf("%s: %+v, want none", a.Name, a.HighWater)
		}
	}

	// Daily files: the window is yesterday, so the day before is the newest
	// request day and yesterday is not one.
	s.APIUsageEnd = day(0)
	for i := range s.Apps {
		s.Apps[i].HighWater = HighWater{}
	}
	s.History = []HistoryDay{
		{Day: day(1), App: "Loader", AppID: loaderID18, Kind: KindConnectedApp, Requests: 800_000, HasRequests: true},
		{Day: day(2), App: "Loader", AppID: loaderID18, Kind: KindConnectedApp, Requests: 3_000, HasRequests: true},
		{Day: day(30), App: "Loader", AppID: loaderID18, Kind: KindConnectedApp, Requests: 75_000, HasRequests: true},
	}
	SetHighWater(s)
	if got, want := s.Apps[0].HighWater, (HighWater{HasRequests: true, Requests: 3_000}); got != want {
		t.Errorf("daily files: %+v, want %+v (the 29th day before the window's day is past the look-back)", got, want)
	}

	// No log data: no request mark.
	s.APIUsageEnd = time.Time{}
	s.Apps[0].HighWater = HighWater{}
	SetHighWater(s)
	if s.Apps[0].HighWater.HasRequests {
		t.Errorf("a request mark without log data: %+v", s.Apps[0].HighWater)
	}
}
