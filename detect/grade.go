package detect

import (
	"slices"
	"time"
)

// Grading: the exporter judges an app's requests from new networks against
// the app's own usual figures, which it keeps itself (so an alert works the
// day the baseline is ready, with no Prometheus history), and names the
// evidence that corroborates them.
//
// Each commit records the app's figures over the window that ends with the
// newest data: one record per UTC day (a later window of the same day
// replaces it), at most maxDayFigs per app, kept in the state file. The
// usual figures of a window are the highest daily figures of the records
// that end a full window before it starts and that feed the baseline. A
// record does not feed it when:
//   - its window started within a day of the app's first data: every
//     network of the app's first day is new;
//   - it was flagged: the baseline was ready and its share of requests from
//     new networks was over UnusualFactor times the usual share then;
//   - it lies in a hold: from the window of the first flagged day, for
//     MinBaseline, the networks first seen since still count as new in
//     every window and the days do not feed the baseline, so an attacker's
//     earlier days neither teach the baseline his networks nor raise the
//     bar his later days are judged against (low and slow).

// UnusualFactor is how many times its usual share of requests from new
// networks an app's share must be for its day to be flagged (and kept out
// of the baseline). The mixin's newNetworkFactor defaults to the same.
const UnusualFactor = 2

// SensitiveShareMargin is how far above the app's usual share of a
// sensitive object (its highest daily share of requests to it) the share of
// the requests from new networks to it must be to count as evidence: a
// planned move carries the app's usual mix, so its shares stay close to the
// usual ones.
const SensitiveShareMargin = 0.1

// SurgeFactor is how many times its highest daily requests of the baseline
// an app's requests in the window must be to count as a surge.
const SurgeFactor = 2

// maxDayFigs bounds the daily records kept per app: four weeks.
const maxDayFigs = 28

// The kinds of evidence, in the order of AppFigures.Evidence.
const (
	EvidenceNewObjects = iota
	EvidenceSensitiveShare
	EvidenceIOC
	EvidenceSurge
	numEvidence
)

// EvidenceKinds names the kinds of evidence, as the metrics label them.
var EvidenceKinds = [numEvidence]string{"new_objects", "sensitive_share", "ioc", "surge"}

// dayFig is an app's figures over one window, recorded at commit.
type dayFig struct {
	end      int32   // the hour the window ends
	requests int64   // all requests
	fromNew  int64   // from networks first seen in the window, or held
	sens     []int64 // per sensitive object, from all networks
	excluded bool    // flagged, or in a hold: does not feed the usual figures
}

// Usual is an app's usual figures: the highest of its days that feed the
// baseline.
type Usual struct {
	// Days is the number of days they are taken over; 0 when there are
	// none yet (the other fields are then zero).
	Days int
	// NewNetworkShare is the highest daily share of requests from networks
	// first seen that day.
	NewNetworkShare float64
	// Requests is the highest daily number of requests.
	Requests int64
	// SensitiveShare is, per sensitive object, the highest daily share of
	// requests to it.
	SensitiveShare []float64
}

// usual returns an app's usual figures for the window that ends at hour
// end. The caller holds the lock.
func (t *Tracker) usual(a *appState, end int32) Usual {
	u := Usual{SensitiveShare: make([]float64, len(t.cfg.SensitiveObjects))}
	for _, d := range a.days {
		if d.excluded || d.end > end-24 || d.end < a.since+48 || d.requests <= 0 {
			continue
		}
		u.Days++
		u.NewNetworkShare = max(u.NewNetworkShare, float64(d.fromNew)/float64(d.requests))
		u.Requests = max(u.Requests, d.requests)
		for j := range u.SensitiveShare {
			if j < len(d.sens) {
				u.SensitiveShare[j] = max(u.SensitiveShare[j], float64(d.sens[j])/float64(d.requests))
			}
		}
	}
	return u
}

// holdHours is how long a hold lasts, in hours.
func (t *Tracker) holdHours() int32 { return max(int32(t.cfg.MinBaseline/time.Hour), 24) }

// holding reports whether an app's hold is in force for the window that
// ends at hour end. The caller holds the lock.
func (t *Tracker) holding(a *appState, end int32) bool {
	return a.held != 0 && end-a.held <= t.holdHours()
}

// heldNew reports whether requests from a network first seen at hour first
// count as new in the window that ends at hour end because of a hold.
func (t *Tracker) heldNew(a *appState, first, end int32) bool {
	return t.holding(a, end) && first >= a.held
}

// judge fills in f's usual figures and evidence. The caller holds the lock.
func (t *Tracker) judge(a *appState, f *AppFigures, end int32) {
	f.Usual = t.usual(a, end)
	f.Held = t.holding(a, end)
	if f.Held {
		f.HeldSince = time.Unix(int64(a.held)*3600, 0).UTC()
	}
	if !f.BaselineReady || f.Usual.Days == 0 || f.RequestsFromNewNetworks <= 0 {
		return
	}
	f.Evidence = make([]bool, numEvidence)
	f.Evidence[EvidenceNewObjects] = f.NewObjects > 0
	for j, c := range f.ObjectRequestsFromNewNetworks {
		if c > 0 && float64(c)/float64(f.RequestsFromNewNetworks) > f.Usual.SensitiveShare[j]+SensitiveShareMargin {
			f.Evidence[EvidenceSensitiveShare] = true
		}
	}
	for _, c := range f.IOCRequests {
		if c > 0 {
			f.Evidence[EvidenceIOC] = true
		}
	}
	f.Evidence[EvidenceSurge] = f.Requests > SurgeFactor*f.Usual.Requests
}

// record keeps each app's figures over the window that ends with the
// newest data, flags an unusual day and starts a hold. The caller holds
// the write lock.
func (t *Tracker) record() {
	endUnix := t.dataEnd()
	if endUnix == 0 {
		return
	}
	end := hourOf(endUnix)
	for _, f := range t.figures() {
		a := t.apps[f.Key]
		if a == nil || f.Requests <= 0 {
			continue
		}
		d := dayFig{end: end, requests: f.Requests, fromNew: f.rawFromNew, sens: slices.Clone(f.ObjectRequests)}
		if a.held != 0 && !t.holding(a, end) {
			a.held = 0 // the hold is over: its networks join the baseline
		}
		u := t.usual(a, end)
		flagged := f.BaselineReady && u.Days > 0 && d.fromNew > 0 &&
			float64(d.fromNew)/float64(d.requests) > UnusualFactor*u.NewNetworkShare
		if flagged && a.held == 0 {
			a.held = end - 24
		}
		d.excluded = flagged || t.holding(a, end)
		day := (end - 1) / 24
		i := slices.IndexFunc(a.days, func(x dayFig) bool { return (x.end-1)/24 == day })
		if i >= 0 {
			a.days[i] = d
		} else {
			a.days = append(a.days, d)
			slices.SortFunc(a.days, func(x, y dayFig) int { return int(x.end - y.end) })
		}
		if n := len(a.days) - maxDayFigs; n > 0 {
			a.days = slices.Delete(a.days, 0, n)
		}
	}
}

// grading writes the apps' daily records and holds (state version 2).
func (e *encoder) grading(t *Tracker, keys []string) {
	n := 0
	for _, k := range keys {
		if a := t.apps[k]; len(a.days) > 0 || a.held != 0 {
			n++
		}
	}
	e.uint(uint64(n))
	for _, k := range keys {
		a := t.apps[k]
		if len(a.days) == 0 && a.held == 0 {
			continue
		}
		e.str(a.key)
		e.uint(uint64(a.held))
		e.uint(uint64(len(a.days)))
		for _, d := range a.days {
			e.uint(uint64(d.end))
			e.uint(uint64(d.requests))
			e.uint(uint64(d.fromNew))
			e.ints(d.sens)
			if d.excluded {
				e.uint(1)
			} else {
				e.uint(0)
			}
		}
	}
}

// grading reads what encoder.grading wrote. Records of an app the state
// does not hold are dropped, as are those past maxDayFigs (the oldest) and
// the per-object counts of a changed sensitive-object list.
func (d *decoder) grading(t *Tracker) {
	for range d.count("graded apps") {
		key := d.str("graded app")
		held := int32(d.uint("hold start"))
		var days []dayFig
		for range d.count("daily records") {
			x := dayFig{end: int32(d.uint("record end")), requests: int64(d.uint("record requests")), fromNew: int64(d.uint("record requests from new networks"))}
			x.sens = d.ints("record sensitive requests")
			x.excluded = d.uint("record flags") != 0
			if len(x.sens) != len(t.cfg.SensitiveObjects) {
				x.sens = make([]int64, len(t.cfg.SensitiveObjects))
			}
			days = append(days, x)
		}
		a := t.apps[key]
		if a == nil {
			continue
		}
		slices.SortFunc(days, func(x, y dayFig) int { return int(x.end - y.end) })
		if n := len(days) - maxDayFigs; n > 0 {
			days = days[n:]
		}
		a.days, a.held = days, held
	}
}
