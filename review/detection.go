package review

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/stats"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// The traffic detection's findings (KindIOCMatch, KindNewNetwork) and their
// evidence come from the org's detection baseline (detect.Tracker), which
// the snapshot carries: the per-user detail of where an app's requests and
// logins came from, which metrics never show.
//
// The rules:
//   - IOC match, critical: any API request (in the review's week) or OAuth
//     login (in the 24 hours the logins source reads) from an address on an
//     IOC list. It needs no baseline.
//   - New network: only for an app watched for min_baseline, and only
//     networks first seen after that. The week is cut into days ending at
//     the newest log data; a day is unusual when its requests from new
//     networks are more than reviewRoamFactor times the median of the app's
//     other days still kept (the tracker keeps 8 days of evidence). An
//     integration that always calls from the same networks has a median of
//     0, so any new network stands out; a mobile app whose users roam gets
//     new networks every day and stays quiet, as the mixin's alert does.
//     Critical when the unusual days' new networks touched a sensitive
//     object, else warning.

// reviewWeek is the span the detection's findings cover.
const reviewWeek = 7 * 24 * time.Hour

// reviewRoamFactor: a day is unusual when its requests from new networks
// exceed this many times the median of the other days (the mixin's
// newNetworkHistoryFactor).
const reviewRoamFactor = 2

// AppDetection is one flagged app's network evidence: per user, so never a
// metric.
type AppDetection struct {
	// BaselineStart is when the baseline of the app starts; NewFrom when
	// its networks start counting as new (BaselineStart + min_baseline).
	BaselineStart time.Time `json:"baseline_start,omitzero"`
	NewFrom       time.Time `json:"new_from,omitzero"`
	// From and To are the span searched.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// Networks are the new networks of the unusual days, busiest first.
	Networks     []NetworkRow `json:"new_networks"`
	MoreNetworks int          `json:"more_new_networks,omitempty"`
	// IOCHits are the API requests from IOC addresses.
	IOCHits     []IOCHitRow `json:"ioc_hits"`
	MoreIOCHits int         `json:"more_ioc_hits,omitempty"`
	// Logins are the OAuth logins from new networks or IOC addresses.
	Logins     []LoginRow `json:"logins"`
	MoreLogins int        `json:"more_logins,omitempty"`
}

// NetworkRow is one new network of an app.
type NetworkRow struct {
	Network   string      `json:"network"`
	FirstSeen time.Time   `json:"first_seen"`
	LastSeen  time.Time   `json:"last_seen"`
	Requests  int64       `json:"requests"`
	Objects   []NameCount `json:"objects"`
	Users     []UserCount `json:"users"`
	// OtherUsersRequests are requests by users beyond the ones listed.
	OtherUsersRequests int64    `json:"other_users_requests,omitempty"`
	IOCLists           []string `json:"ioc_lists,omitempty"`
}

// NameCount is an object with its requests.
type NameCount struct {
	Name     string `json:"name"`
	Requests int64  `json:"requests"`
}

// UserCount is a user with its requests; User is the username when the
// review's per-user detail knows the Id, else empty.
type UserCount struct {
	User     string `json:"user,omitempty"`
	UserID   string `json:"user_id"`
	Requests int64  `json:"requests"`
}

// IOCHitRow is a run of API requests from an address on an IOC list.
type IOCHitRow struct {
	List     string    `json:"list"`
	Address  string    `json:"address"`
	User     string    `json:"user,omitempty"`
	UserID   string    `json:"user_id"`
	Requests int64     `json:"requests"`
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"`
}

// LoginRow is an OAuth login from a new network or an IOC address.
type LoginRow struct {
	Time       time.Time `json:"time"`
	Network    string    `json:"network"`
	User       string    `json:"user,omitempty"`
	UserID     string    `json:"user_id"`
	NewNetwork bool      `json:"new_network"`
	IOCLists   []string  `json:"ioc_lists,omitempty"`
}

// detection builds the detection's findings and evidence for a report. The
// findings carry no command yet: addFindings gives them the revoke command
// of their app.
func detection(snap *snapshot.Snapshot, d *Detail) (fs []Finding, ev map[string]*AppDetection, notes []string) {
	info := snap.Detection
	if info == nil || info.Tracker == nil {
		return nil, nil, []string{"no detection baseline: the new-network and IOC findings need the api_usage or logins source"}
	}
	tr := info.Tracker
	_, end := tr.APIWindow()
	names := map[string]string{}
	for _, t := range d.Tokens {
		if t.UserID != "" && t.Username != "" {
			names[salesforce.ID(t.UserID).Key()] = t.Username
		}
	}
	userName := func(id string) string { return names[salesforce.ID(id).Key()] }
	sens := map[string]bool{}
	for _, o := range info.SensitiveObjects {
		sens[strings.ToLower(o)] = true
	}
	ev = map[string]*AppDetection{}
	var ready, roaming int
	var earliest time.Time
	var roamers []string
	for _, a := range snap.Apps {
		f := a.Detection
		if f == nil {
			continue
		}
		ad := &AppDetection{BaselineStart: f.BaselineStart, NewFrom: f.BaselineStart.Add(info.MinBaseline)}
		if !end.IsZero() {
			ad.From, ad.To = end.Add(-reviewWeek), end
			for _, h := range tr.IOCHits(f.Key, ad.From, ad.To) {
				ad.IOCHits = append(ad.IOCHits, IOCHitRow{List: h.List, Address: h.Address, User: userName(h.User), UserID: h.User, Requests: h.Requests, First: h.First, Last: h.Last})
			}
		}
		var iocLogins, newLogins int
		for _, l := range tr.LoginEvidence(f.Key) {
			ad.Logins = append(ad.Logins, LoginRow{Time: l.Time, Network: l.Network, User: userName(l.UserID), UserID: l.UserID, NewNetwork: l.New, IOCLists: l.IOCLists})
			if len(l.IOCLists) > 0 {
				iocLogins++
			}
			if l.New {
				newLogins++
			}
		}
		if !end.IsZero() && ad.NewFrom.Before(end) {
			ready++
			nets, quiet := unusualNetworks(tr, f, ad.NewFrom, end)
			if quiet {
				roaming++
				roamers = append(roamers, a.Name)
			}
			for _, n := range nets {
				row := NetworkRow{Network: n.Network, FirstSeen: n.FirstSeen, LastSeen: n.LastSeen, Requests: n.Requests, OtherUsersRequests: n.OtherUsers, IOCLists: n.IOCLists}
				for _, o := range n.Objects {
					row.Objects = append(row.Objects, NameCount{Name: o.Name, Requests: o.N})
				}
				for _, u := range n.Users {
					row.Users = append(row.Users, UserCount{User: userName(u.Name), UserID: u.Name, Requests: u.N})
				}
				ad.Networks = append(ad.Networks, row)
			}
		} else if earliest.IsZero() || ad.NewFrom.Before(earliest) {
			earliest = ad.NewFrom
		}
		if len(ad.Networks) == 0 && len(ad.IOCHits) == 0 && iocLogins == 0 {
			continue
		}
		base := Finding{App: a.Name, AppID: a.ID, AppKind: a.Kind}
		switch {
		case a.Kind == snapshot.KindExternalClientApp:
			base.Action = "External Client App tokens are revoked with the command below (by its Id), or in Setup: External Client Apps > OAuth Usage. "
		case pseudoApp(a.Name) || a.Name == snapshot.InternalApp:
			base.Action = "These requests came without a connected app: look up the users below and their sessions. "
		}
		if len(ad.IOCHits) > 0 || iocLogins > 0 {
			fs = append(fs, iocFinding(base, ad, iocLogins))
		}
		if len(ad.Networks) > 0 {
			fs = append(fs, newNetworkFinding(base, ad, sens, newLogins))
		}
		ev[AppRow{App: a.Name, AppID: a.ID, Kind: a.Kind}.key()] = ad
	}
	switch {
	case end.IsZero():
		notes = append(notes, "detection: no API usage log data in the baseline yet, so no network counts as new")
	case ready == 0 && !earliest.IsZero():
		notes = append(notes, fmt.Sprintf("detection: no baseline yet: networks count as new only once an app has been watched for min_baseline (%s); the first app is ready %s", fmtDuration(info.MinBaseline), fmtSeconds(earliest)))
	}
	if roaming > 0 {
		slices.Sort(roamers)
		notes = append(notes, fmt.Sprintf("detection: %s every day (users on the move), and this week's were not unusual for them, so they are not flagged: %s",
			plural(int64(roaming), "app gets requests from new networks", "apps get requests from new networks"), listSample(roamers)))
	}
	return fs, ev, notes
}

// unusualNetworks returns an app's new networks on its unusual days in the
// week to end, and whether it had new networks that were not unusual.
func unusualNetworks(tr *detect.Tracker, f *detect.AppFigures, newFrom, end time.Time) (nets []detect.NetworkEvidence, quiet bool) {
	// Day i is [end-(i+1)d, end-i·d). Days 0..6 are the review's week;
	// day 7 is kept history. The app's first day is all new and no history.
	const days = 8
	// Most apps (integrations) have no new network at all: one look settles it.
	if len(tr.Evidence(f.Key, maxTime(newFrom, end.Add(-(days-1)*24*time.Hour)), end)) == 0 {
		return nil, false
	}
	var reqs [days]int64
	var evs [days][]detect.NetworkEvidence
	var kept [days]bool
	for i := range days {
		to := end.Add(-time.Duration(i) * 24 * time.Hour)
		from := to.Add(-24 * time.Hour)
		if from.Before(f.BaselineStart.Add(24 * time.Hour)) {
			continue
		}
		kept[i] = true
		if i < days-1 && to.After(newFrom) {
			// Only networks first seen once the baseline is ready.
			evs[i] = tr.Evidence(f.Key, maxTime(from, newFrom), to)
		}
		for _, n := range tr.Evidence(f.Key, from, to) {
			reqs[i] += n.Requests
		}
	}
	seen := map[string]bool{}
	for i := range days - 1 {
		var n int64
		for _, e := range evs[i] {
			n += e.Requests
		}
		if n == 0 {
			continue
		}
		var others []int64
		for j := range days {
			if j != i && kept[j] {
				others = append(others, reqs[j])
			}
		}
		if n <= reviewRoamFactor*stats.Median(others) {
			quiet = true
			continue
		}
		for _, e := range evs[i] {
			if !seen[e.Network] {
				seen[e.Network] = true
				nets = append(nets, e)
			}
		}
	}
	slices.SortFunc(nets, func(a, b detect.NetworkEvidence) int {
		return cmp.Or(cmp.Compare(b.Requests, a.Requests), strings.Compare(a.Network, b.Network))
	})
	return nets, quiet && len(nets) == 0
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func fmtDuration(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func iocFinding(f Finding, ad *AppDetection, logins int) Finding {
	f.Kind, f.Severity = KindIOCMatch, SeverityCritical
	var reqs int64
	var lists, users, ev []string
	for _, h := range ad.IOCHits {
		reqs += h.Requests
		if !slices.Contains(lists, h.List) {
			lists = append(lists, h.List)
		}
		if u := cmp.Or(h.User, h.UserID); !slices.Contains(users, u) {
			users = append(users, u)
		}
	}
	for _, l := range ad.Logins {
		for _, n := range l.IOCLists {
			if !slices.Contains(lists, n) {
				lists = append(lists, n)
			}
		}
		if u := cmp.Or(l.User, l.UserID); len(l.IOCLists) > 0 && !slices.Contains(users, u) {
			users = append(users, u)
		}
	}
	slices.Sort(lists)
	var what []string
	if reqs > 0 {
		what = append(what, plural(reqs, "API request", "API requests"))
	}
	if logins > 0 {
		what = append(what, plural(int64(logins), "OAuth login", "OAuth logins"))
	}
	f.Summary = fmt.Sprintf("%s had %s from addresses on IOC list %s.", quoteName(f.App), strings.Join(what, " and "), strings.Join(lists, ", "))
	for i, h := range ad.IOCHits {
		if i == sampleUsers {
			ev = append(ev, fmt.Sprintf("and %d more runs of requests", len(ad.IOCHits)-sampleUsers))
			break
		}
		ev = append(ev, fmt.Sprintf("%d requests from %s (list %s) by %s, %s to %s", h.Requests, h.Address, h.List, cmp.Or(h.User, h.UserID), fmtSeconds(h.First), fmtSeconds(h.Last)))
	}
	n := 0
	for _, l := range ad.Logins {
		if len(l.IOCLists) == 0 {
			continue
		}
		if n++; n > sampleUsers {
			ev = append(ev, fmt.Sprintf("and %d more OAuth logins from IOC addresses", logins-sampleUsers))
			break
		}
		ev = append(ev, fmt.Sprintf("OAuth login %s from %s (list %s) by %s", fmtSeconds(l.Time), l.Network, strings.Join(l.IOCLists, ", "), cmp.Or(l.User, l.UserID)))
	}
	ev = append(ev, "users: "+listSample(users))
	f.Evidence = ev
	f.EvidenceData = EvidenceData{Users: int64(len(users)), UserNames: users[:min(len(users), sampleUsers)]}
	f.Action += "Revoke the app's tokens now, rotate the integration's credentials, and check what these users exported."
	return f
}

func newNetworkFinding(f Finding, ad *AppDetection, sens map[string]bool, newLogins int) Finding {
	f.Kind, f.Severity = KindNewNetwork, SeverityWarning
	var reqs int64
	var touched, users, nets []string
	for _, n := range ad.Networks {
		reqs += n.Requests
		nets = append(nets, n.Network)
		for _, o := range n.Objects {
			if sens[strings.ToLower(o.Name)] && !slices.Contains(touched, o.Name) {
				touched = append(touched, o.Name)
			}
		}
		for _, u := range n.Users {
			if name := cmp.Or(u.User, u.UserID); !slices.Contains(users, name) {
				users = append(users, name)
			}
		}
	}
	slices.Sort(touched)
	f.Summary = fmt.Sprintf("%s was called from %s it had never used (%s).", quoteName(f.App), plural(int64(len(ad.Networks)), "network", "networks"), plural(reqs, "request", "requests"))
	if len(touched) > 0 {
		f.Severity = SeverityCritical
		f.Summary = fmt.Sprintf("%s was called from %s it had never used, reading %s (%s).", quoteName(f.App), plural(int64(len(ad.Networks)), "network", "networks"), strings.Join(touched, ", "), plural(reqs, "request", "requests"))
	}
	first := ad.Networks[0].FirstSeen
	for _, n := range ad.Networks {
		if n.FirstSeen.Before(first) {
			first = n.FirstSeen
		}
	}
	ev := []string{"networks: " + listSample(nets),
		fmt.Sprintf("the first seen %s; the app's baseline since %s", fmtSeconds(first), fmtSeconds(ad.BaselineStart)),
		"users: " + listSample(users)}
	if newLogins > 0 {
		ev = append(ev, fmt.Sprintf("%s from new networks in the last 24 hours", plural(int64(newLogins), "OAuth login", "OAuth logins")))
	}
	f.Evidence = ev
	f.EvidenceData = EvidenceData{Users: int64(len(users)), UserNames: users[:min(len(users), sampleUsers)], Networks: nets[:min(len(nets), sampleUsers)]}
	f.Action += "Ask the owner whether these networks are theirs (a new office, cloud region or VPN); if not, revoke the app's tokens and rotate its credentials."
	return f
}

// limitDetection cuts an app's detection rows at max rows each.
func limitDetection(ad *AppDetection, max int) int {
	if ad == nil || max <= 0 {
		return 0
	}
	left := 0
	if n := len(ad.Networks); n > max {
		ad.Networks, ad.MoreNetworks = ad.Networks[:max], ad.MoreNetworks+n-max
		left += n - max
	}
	if n := len(ad.IOCHits); n > max {
		ad.IOCHits, ad.MoreIOCHits = ad.IOCHits[:max], ad.MoreIOCHits+n-max
		left += n - max
	}
	if n := len(ad.Logins); n > max {
		ad.Logins, ad.MoreLogins = ad.Logins[:max], ad.MoreLogins+n-max
		left += n - max
	}
	return left
}
