package detect

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// AppFigures are one app's window figures: what the metrics export. None
// of them names a user or an address.
type AppFigures struct {
	Key, ID, Name string
	// BaselineStart is when the app was first seen; BaselineReady is true
	// once it was first seen MinBaseline before the window's start. Until
	// then nothing counts as new.
	BaselineStart time.Time
	BaselineReady bool

	// Networks is the distinct networks of the app's API requests in the
	// window (the special buckets count as one each).
	Networks int
	// RequestsFromNewNetworks is the requests in the window from networks
	// first seen in it.
	RequestsFromNewNetworks int64
	// NewObjects is the objects first touched in the window.
	NewObjects int
	// ObjectRequests, ObjectRequestsFromNewNetworks and NewObjectRequests
	// follow Config.SensitiveObjects: requests per sensitive object in the
	// window, those from new networks, and those to a sensitive object the
	// app first touched in the window.
	ObjectRequests                []int64
	ObjectRequestsFromNewNetworks []int64
	NewObjectRequests             []int64
	// IOCRequests is requests in the window from addresses on each IOC list.
	IOCRequests map[string]int64

	// The login side, over the 24 hours before the last Logins call: the
	// logins from networks first seen in it (baseline ready), the distinct
	// users with a login (LoginUsers) and those with a login from a new
	// network (LoginNewNetworkUsers), and the logins from IOC addresses.
	LoginsFromNewNetworks int64
	LoginUsers            int64
	LoginNewNetworkUsers  int64
	IOCLogins             map[string]int64

	// The inventory's declaration of the app (declared.go): how many
	// networks and objects it declares (0: none), the requests in the
	// window and the logins of the last Logins call from outside the
	// declared networks, and the objects touched in the window that it
	// does not declare.
	DeclaredNetworks                int
	DeclaredObjects                 int
	RequestsOutsideDeclaredNetworks int64
	LoginsOutsideDeclaredNetworks   int64
	UndeclaredObjects               int

	// The judged counters (days.go): over every log period committed since
	// the exporter started, each day once, late or not: its API requests,
	// those from networks new in it (baseline ready), and those of them to
	// sensitive objects. They only grow.
	RequestsJudged                         int64
	RequestsFromNewNetworksJudged          int64
	SensitiveRequestsFromNewNetworksJudged int64
	// CorroboratedSensitiveRequestsFromNewNetworksJudged counts those of
	// them the evidence corroborated as their period was judged (days.go).
	CorroboratedSensitiveRequestsFromNewNetworksJudged int64

	// IdleBeforeWake is how long (in hours) the app had been unused (no API
	// request or OAuth login in the baseline) when its use resumed in the
	// window; 0 when it did not resume in it (dormant.go).
	IdleBeforeWake time.Duration

	// Requests is the app's API requests in the window, as the detection
	// counts them (the denominator of the shares below).
	Requests int64
	// Usual is the app's usual figures, over the days before the window
	// that feed its baseline (grade.go).
	Usual Usual
	// Held is true while a hold is in force: networks first seen since
	// HeldSince count as new, and the days do not feed the usual figures.
	Held      bool
	HeldSince time.Time
	// Evidence is, per EvidenceKinds, whether it corroborates the requests
	// from new networks; nil unless the baseline is ready, the usual
	// figures known and some requests came from new networks.
	Evidence []bool

	rawFromNew int64 // requests from new networks, baseline ready or not
}

// NewNetworkShare is the share of the window's requests that came from new
// networks.
func (f *AppFigures) NewNetworkShare() float64 {
	if f.Requests <= 0 {
		return 0
	}
	return float64(f.RequestsFromNewNetworks) / float64(f.Requests)
}

// APIWindow is the API window: the 24 hours before the end of the newest
// period ingested. Both are zero before any.
func (t *Tracker) APIWindow() (start, end time.Time) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	e := t.dataEnd()
	if e == 0 {
		return time.Time{}, time.Time{}
	}
	return time.Unix(e-int64(Window/time.Second), 0).UTC(), time.Unix(e, 0).UTC()
}

// Figures returns every app's figures, sorted by key.
func (t *Tracker) Figures() []AppFigures {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.figures()
}

// figures is Figures; the caller holds the lock.
func (t *Tracker) figures() []AppFigures {
	end := t.dataEnd()
	ws := end - int64(Window/time.Second)
	wsHour, endHour := hourOf(ws), hourOf(end)
	nSens := len(t.cfg.SensitiveObjects)
	minBase := int64(t.cfg.MinBaseline / time.Second)
	out := make([]AppFigures, 0, len(t.apps))
	idx := map[string]int{}
	decl := map[string]*declaration{}
	for _, a := range t.apps {
		f := AppFigures{Key: a.key, ID: a.id, Name: a.name, BaselineStart: time.Unix(int64(a.since)*3600, 0).UTC(),
			ObjectRequests: make([]int64, nSens), ObjectRequestsFromNewNetworks: make([]int64, nSens), NewObjectRequests: make([]int64, nSens)}
		if end > 0 {
			f.BaselineReady = int64(a.since)*3600 <= ws-minBase
			for _, e := range a.nets {
				if e.lastAPI != 0 && e.lastAPI >= wsHour {
					f.Networks++
				}
			}
			if f.BaselineReady {
				for _, e := range a.objs {
					if e.first >= wsHour {
						f.NewObjects++
					}
				}
			}
		}
		if lf := t.loginFigs[a.key]; lf != nil {
			f.LoginsFromNewNetworks = lf.fromNew
			f.LoginUsers, f.LoginNewNetworkUsers = lf.users, lf.newUsers
			f.IOCLogins = lf.ioc
			f.LoginsOutsideDeclaredNetworks = lf.outsideDecl
		}
		t.judgedFigures(&f)
		if end > 0 {
			dormantFigures(&f, a, wsHour)
		}
		if d := t.decl.lookup(a.id, a.name); d != nil {
			decl[a.key] = d
			t.declaredFigures(&f, a, d, wsHour)
		}
		idx[a.key] = len(out)
		out = append(out, f)
	}
	if end > 0 {
		// For each day a Daily file is used when there is one, else that
		// day's Hourly files: an event counts once. A period straddling the
		// window's start counts in proportion, as the API request counts do.
		// Likewise an hour with an Hourly file counts the file, not the
		// stream's figures of that hour (StreamFileID).
		daily, hourly := map[int64]bool{}, map[int64]bool{}
		for _, p := range t.periods {
			switch {
			case p.interval == "Daily":
				daily[p.start/86400] = true
			case p.fileID != StreamFileID:
				hourly[p.start] = true
			}
		}
		for _, p := range t.periods {
			if p.interval == "Hourly" && daily[p.start/86400] || p.fileID == StreamFileID && hourly[p.start] {
				continue
			}
			w := overlap(p.start, p.end, ws, end)
			if w <= 0 {
				continue
			}
			for key, pa := range p.apps {
				i, ok := idx[key]
				if !ok {
					continue
				}
				f := &out[i]
				for j, c := range pa.sens {
					if j < nSens {
						f.ObjectRequests[j] += scale(c, w)
					}
				}
				for list, c := range pa.ioc {
					if f.IOCRequests == nil {
						f.IOCRequests = map[string]int64{}
					}
					f.IOCRequests[list] += scale(c, w)
				}
				f.Requests += scale(pa.requests, w)
				if d := decl[key]; d != nil && d.nets != nil && pa.outside != nil {
					f.RequestsOutsideDeclaredNetworks += scale(pa.outside.judge(d), w)
				}
				// A young bucket's requests came at or after the hour its
				// networks were first seen (row times are exact to the
				// second), so a bucket from the window's first hour on lies
				// wholly in it: counted in full, not in proportion. A held
				// network (grade.go) counts as new in every window of its
				// hold.
				a := t.apps[key]
				for h, b := range pa.young {
					if h < wsHour && !t.heldNew(a, h, endHour) {
						continue
					}
					f.rawFromNew += b.requests
					if !f.BaselineReady {
						continue
					}
					f.RequestsFromNewNetworks += b.requests
					for j, c := range b.sens {
						if j < nSens {
							f.ObjectRequestsFromNewNetworks[j] += c
						}
					}
				}
			}
		}
		for i := range out {
			f := &out[i]
			a := t.apps[f.Key]
			if f.BaselineReady {
				for name, e := range a.objs {
					if j, ok := t.sens[strings.ToLower(name)]; ok && e.first >= wsHour {
						f.NewObjectRequests[j] = f.ObjectRequests[j]
					}
				}
			}
			t.judge(a, f, endHour)
		}
	}
	slices.SortFunc(out, func(a, b AppFigures) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

func overlap(start, end, from, to int64) float64 {
	lo, hi := max(start, from), min(end, to)
	if hi <= lo {
		return 0
	}
	return float64(hi-lo) / float64(end-start)
}

func scale(n int64, share float64) int64 {
	if share >= 1 {
		return n
	}
	return int64(float64(n)*share + 0.5)
}

// Count is a name with a number.
type Count struct {
	Name string
	N    int64
}

// NetworkEvidence is what the review shows of one new network: never a metric.
type NetworkEvidence struct {
	Network             string
	FirstSeen, LastSeen time.Time
	Requests            int64
	Objects             []Count // busiest first
	Users               []Count // user Ids, busiest first
	OtherUsers          int64   // requests by users beyond the kept ones
	IOCLists            []string
}

// Evidence returns the networks of an app first seen at or after from
// (and before to), with their requests, objects and users, busiest first.
// It covers the periods still kept (8 days).
func (t *Tracker) Evidence(appKey string, from, to time.Time) []NetworkEvidence {
	t.mu.RLock()
	defer t.mu.RUnlock()
	a := t.apps[appKey]
	f, e := from.Unix(), to.Unix()
	type acc struct {
		ev    NetworkEvidence
		objs  map[string]int64
		users map[string]int64
		ioc   uint64
	}
	nets := map[netKey]*acc{}
	for _, p := range t.periods {
		pa := p.apps[appKey]
		if pa == nil || p.end <= f || p.start >= e {
			continue
		}
		for _, ne := range pa.evidence {
			first := ne.first
			if a != nil {
				if b, ok := a.nets[ne.net]; ok {
					first = min(first, int64(b.first)*3600)
				}
			}
			if first < f || first >= e {
				continue
			}
			x := nets[ne.net]
			if x == nil {
				x = &acc{ev: NetworkEvidence{Network: t.g.String(ne.net), FirstSeen: time.Unix(ne.first, 0).UTC(), LastSeen: time.Unix(ne.last, 0).UTC()},
					objs: map[string]int64{}, users: map[string]int64{}}
				nets[ne.net] = x
			}
			x.ev.Requests += ne.requests
			x.ev.OtherUsers += ne.otherUsers
			if t := time.Unix(ne.first, 0).UTC(); t.Before(x.ev.FirstSeen) {
				x.ev.FirstSeen = t
			}
			if t := time.Unix(ne.last, 0).UTC(); t.After(x.ev.LastSeen) {
				x.ev.LastSeen = t
			}
			for k, c := range ne.objects {
				x.objs[k] += c
			}
			for k, c := range ne.users {
				x.users[k] += c
			}
			x.ioc |= ne.ioc
		}
	}
	out := make([]NetworkEvidence, 0, len(nets))
	for _, x := range nets {
		x.ev.Objects, x.ev.Users = counts(x.objs), counts(x.users)
		if x.ioc != 0 && t.ioc != nil {
			x.ev.IOCLists = t.ioc.listNames(x.ioc)
		}
		out = append(out, x.ev)
	}
	slices.SortFunc(out, func(a, b NetworkEvidence) int {
		return cmp.Or(cmp.Compare(b.Requests, a.Requests), cmp.Compare(a.Network, b.Network))
	})
	return out
}

func counts(m map[string]int64) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{k, v})
	}
	slices.SortFunc(out, func(a, b Count) int { return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Name, b.Name)) })
	return out
}

// IOCHit is a request, or run of requests, from an address on an IOC list.
type IOCHit struct {
	List, Address, User string
	Requests            int64
	First, Last         time.Time
}

// IOCHits returns an app's API requests from IOC addresses in [from, to).
func (t *Tracker) IOCHits(appKey string, from, to time.Time) []IOCHit {
	t.mu.RLock()
	defer t.mu.RUnlock()
	type k struct{ list, ip, user string }
	m := map[k]*IOCHit{}
	for _, p := range t.periods {
		pa := p.apps[appKey]
		if pa == nil || p.end <= from.Unix() || p.start >= to.Unix() {
			continue
		}
		for _, h := range pa.iocHits {
			x := m[k{h.list, h.ip, h.user}]
			if x == nil {
				x = &IOCHit{List: h.list, Address: h.ip, User: h.user, First: time.Unix(h.first, 0).UTC(), Last: time.Unix(h.last, 0).UTC()}
				m[k{h.list, h.ip, h.user}] = x
			}
			x.Requests += h.requests
			if f := time.Unix(h.first, 0).UTC(); f.Before(x.First) {
				x.First = f
			}
			if l := time.Unix(h.last, 0).UTC(); l.After(x.Last) {
				x.Last = l
			}
		}
	}
	out := make([]IOCHit, 0, len(m))
	for _, x := range m {
		out = append(out, *x)
	}
	slices.SortFunc(out, func(a, b IOCHit) int {
		return cmp.Or(cmp.Compare(a.List, b.List), cmp.Compare(a.Address, b.Address), cmp.Compare(a.User, b.User))
	})
	return out
}

// DroppedRows is how many rows and logins were ignored because the org has
// more than MaxApps apps.
func (t *Tracker) DroppedRows() int64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.dropped
}
