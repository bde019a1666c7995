package detect

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Bounds of the whole baseline, over all apps, so that its memory and the
// state file stay bounded however many files and apps feed it: the caps
// per app times MaxApps would allow millions of entries. Past a bound, the
// least recently seen go first, down to nine tenths of it.
const (
	MaxBaselineNetworks    = 500_000  // about 30 MB
	MaxBaselineObjectBytes = 16 << 20 // object names, plus 16 bytes an entry
)

// evictGlobal applies MaxBaselineNetworks and MaxBaselineObjectBytes.
func (t *Tracker) evictGlobal() {
	nets, objBytes := 0, 0
	for _, a := range t.apps {
		nets += len(a.nets)
		for k := range a.objs {
			objBytes += len(k) + 16
		}
	}
	if nets > MaxBaselineNetworks {
		type kv struct {
			a    *appState
			k    netKey
			last int32
		}
		all := make([]kv, 0, nets)
		for _, a := range t.apps {
			for k, e := range a.nets {
				all = append(all, kv{a, k, e.last})
			}
		}
		slices.SortFunc(all, func(x, y kv) int {
			return cmp.Or(cmp.Compare(x.last, y.last), cmp.Compare(x.a.key, y.a.key), cmpKey(x.k, y.k))
		})
		for _, x := range all[:nets-MaxBaselineNetworks*9/10] {
			delete(x.a.nets, x.k)
		}
	}
	if objBytes > MaxBaselineObjectBytes {
		type kv struct {
			a    *appState
			k    string
			last int32
		}
		var all []kv
		for _, a := range t.apps {
			for k, e := range a.objs {
				all = append(all, kv{a, k, e.last})
			}
		}
		slices.SortFunc(all, func(x, y kv) int {
			return cmp.Or(cmp.Compare(x.last, y.last), cmp.Compare(x.a.key, y.a.key), cmp.Compare(x.k, y.k))
		})
		for _, x := range all {
			if objBytes <= MaxBaselineObjectBytes*9/10 {
				break
			}
			objBytes -= len(x.k) + 16
			delete(x.a.objs, x.k)
		}
	}
}

func minHour(a, b int32) int32 {
	if a == 0 {
		return b
	}
	return min(a, b)
}

func cmpKey(a, b netKey) int {
	return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.hi, b.hi), cmp.Compare(a.lo, b.lo))
}

// app returns (creating it) an app's state; nil over MaxApps. An app seen
// first by name (a login) and later with an Id is merged into the Id's.
func (t *Tracker) app(key, id, name string) *appState {
	a := t.apps[key]
	if a == nil {
		if len(t.apps) >= t.cfg.MaxApps {
			return nil
		}
		a = &appState{key: key, id: id, name: name, nets: map[netKey]netEntry{}, objs: map[string]objEntry{}}
		t.apps[key] = a
	}
	if name != "" {
		a.name = name
	}
	if id != "" && name != "" {
		ln := strings.ToLower(name)
		t.byName[ln] = key
		if old := t.apps["n:"+ln]; old != nil && old != a {
			a.since = minHour(a.since, old.since)
			for k, e := range old.nets {
				if cur, ok := a.nets[k]; ok {
					e.first, e.last, e.lastAPI = min(e.first, cur.first), max(e.last, cur.last), max(e.lastAPI, cur.lastAPI)
				}
				a.nets[k] = e
			}
			for k, e := range old.objs {
				if cur, ok := a.objs[k]; ok {
					e.first, e.last = min(e.first, cur.first), max(e.last, cur.last)
				}
				a.objs[k] = e
			}
			delete(t.apps, "n:"+ln)
			for _, p := range t.periods {
				if pa := p.apps["n:"+ln]; pa != nil {
					if p.apps[key] == nil {
						p.apps[key] = pa
					}
					delete(p.apps, "n:"+ln)
				}
			}
		}
	}
	return a
}

// evict drops the least recently seen tenth of an app's networks or
// objects when it is over its cap: amortised, a sort per cap/10 insertions.
func (t *Tracker) evict(a *appState) {
	if len(a.nets) > t.cfg.MaxNetworksPerApp {
		type kv struct {
			k netKey
			e netEntry
		}
		all := make([]kv, 0, len(a.nets))
		for k, e := range a.nets {
			all = append(all, kv{k, e})
		}
		slices.SortFunc(all, func(x, y kv) int { return cmp.Or(cmp.Compare(x.e.last, y.e.last), cmpKey(x.k, y.k)) })
		keep := t.cfg.MaxNetworksPerApp * 9 / 10
		for _, x := range all[:len(all)-keep] {
			delete(a.nets, x.k)
		}
	}
	if len(a.objs) > t.cfg.MaxObjectsPerApp {
		type kv struct {
			k string
			e objEntry
		}
		all := make([]kv, 0, len(a.objs))
		for k, e := range a.objs {
			all = append(all, kv{k, e})
		}
		slices.SortFunc(all, func(x, y kv) int { return cmp.Or(cmp.Compare(x.e.last, y.e.last), cmp.Compare(x.k, y.k)) })
		keep := t.cfg.MaxObjectsPerApp * 9 / 10
		for _, x := range all[:len(all)-keep] {
			delete(a.objs, x.k)
		}
	}
}

// dataEnd is the end of the newest period; 0 before any.
func (t *Tracker) dataEnd() int64 {
	var end int64
	for _, p := range t.periods {
		end = max(end, p.end)
	}
	return end
}

// prune drops periods past the evidence retention, and the oldest
// periods' evidence when there is too much of it.
func (t *Tracker) prune() {
	end := t.dataEnd()
	for k, p := range t.periods {
		if p.end < end-int64(evidenceRetention/time.Second) {
			delete(t.periods, k)
		}
	}
	// Periods that no window can reach any more keep only the review's
	// evidence: their counts go.
	for _, p := range t.periods {
		if p.end > end-int64(2*Window/time.Second) {
			continue
		}
		for _, pa := range p.apps {
			pa.young, pa.sens, pa.ioc, pa.outside = nil, nil, nil, nil
		}
	}
	total := 0
	ps := make([]*period, 0, len(t.periods))
	for _, p := range t.periods {
		ps = append(ps, p)
		for _, pa := range p.apps {
			total += len(pa.evidence)
		}
	}
	slices.SortFunc(ps, func(a, b *period) int { return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.key, b.key)) })
	pruneAddrs(ps)
	// The newest period keeps its evidence whatever its size (at most
	// maxEvidenceNets per app): it is what an alert points at.
	for _, p := range ps[:max(len(ps)-1, 0)] {
		if total <= maxEvidenceNetsGlobal {
			break
		}
		for _, pa := range p.apps {
			for _, e := range pa.evidence {
				pa.evDrop += e.requests
			}
			total -= len(pa.evidence)
			pa.evidence = nil
		}
	}
}
