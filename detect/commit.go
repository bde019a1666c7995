package detect

import (
	"cmp"
	"slices"
	"time"
)

// Commit merges an ingested file into the tracker: the baseline takes its
// networks and objects, and its period replaces any earlier file's for the
// same period.
func (t *Tracker) Commit(in *Ingest) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := &period{key: in.p.Key, interval: in.p.Interval, fileID: in.p.FileID, start: in.start, end: in.end, apps: map[string]*periodApp{}}
	names := in.ioc.Names()
	for _, sa := range in.apps {
		a := t.app(sa.key, sa.id, sa.name)
		if a == nil {
			t.dropped += sa.rows
			continue
		}
		// Ready for this period's window as the baseline stood before it.
		ready := a.since != 0 && int64(a.since)*3600 <= in.youngFrom-int64(t.cfg.MinBaseline/time.Second)
		a.noteUse(a.lastUse(), hourOf(sa.first))
		a.since = minHour(a.since, hourOf(sa.first))
		// The period owns copies: a stream hour's ingest goes on taking rows
		// after it is committed, without the tracker's lock.
		pa := &periodApp{sens: slices.Clone(sa.sens), young: map[int32]*youngBucket{}, outside: sa.outside.clone()}
		keepAddrs(sa, pa)
		for i, c := range sa.ioc {
			if c > 0 {
				if pa.ioc == nil {
					pa.ioc = map[string]int64{}
				}
				pa.ioc[names[i]] += c
			}
		}
		for _, h := range sa.iocHits {
			for i, n := range names {
				if h.mask&(1<<i) != 0 {
					hh := *h
					hh.list, hh.mask = n, 0
					pa.iocHits = append(pa.iocHits, &hh)
				}
			}
		}
		slices.SortFunc(pa.iocHits, func(x, y *iocHit) int {
			return cmp.Or(cmp.Compare(x.list, y.list), cmp.Compare(x.ip, y.ip), cmp.Compare(x.user, y.user))
		})
		var evs []*stageEvidence
		for k, sn := range sa.nets {
			pa.requests += sn.requests
			e, ok := a.nets[k]
			first, last := hourOf(sn.first), hourOf(sn.last)
			if ok {
				e.first, e.last = min(e.first, first), max(e.last, last)
				e.lastAPI = max(e.lastAPI, last)
			} else {
				e = netEntry{first: first, last: last, lastAPI: last}
			}
			a.nets[k] = e
			if sn.young && (int64(e.first)*3600 >= in.youngFrom || t.heldNew(a, e.first, hourOf(in.end))) {
				b := pa.young[e.first]
				if b == nil {
					b = &youngBucket{sens: make([]int64, len(t.cfg.SensitiveObjects))}
					pa.young[e.first] = b
				}
				b.requests += sn.requests
				for i, c := range sn.sens {
					b.sens[i] += c
				}
				if sn.ev != nil {
					evs = append(evs, sn.ev)
				}
			}
		}
		if o := sa.overflow; o != nil {
			pa.requests += o.requests
			h := hourOf(o.first)
			b := pa.young[h]
			if b == nil {
				b = &youngBucket{sens: make([]int64, len(t.cfg.SensitiveObjects))}
				pa.young[h] = b
			}
			b.requests += o.requests
			for i, c := range o.sens {
				b.sens[i] += c
			}
			pa.evDrop += o.requests
		}
		// Keep the evidence of the busiest young networks.
		slices.SortFunc(evs, func(x, y *stageEvidence) int {
			return cmp.Or(cmp.Compare(y.requests, x.requests), cmpKey(x.net, y.net))
		})
		if len(evs) > maxEvidenceNets {
			for _, e := range evs[maxEvidenceNets:] {
				pa.evDrop += e.requests
			}
			evs = evs[:maxEvidenceNets]
		}
		for _, e := range evs {
			pa.evidence = append(pa.evidence, e.commit())
		}
		newObjects := false
		for name, so := range sa.objs {
			e, ok := a.objs[name]
			first, last := hourOf(so.first), hourOf(so.last)
			if ok {
				e.first, e.last = min(e.first, first), max(e.last, last)
			} else {
				e = objEntry{first: first, last: last}
			}
			a.objs[name] = e
			// First seen in this period's window (a late period's objects
			// included, though a later file showed them first).
			newObjects = newObjects || int64(e.first)*3600 >= in.youngFrom
		}
		t.evict(a)
		p.apps[a.key] = pa
		t.judgePeriod(p, a, pa, ready, newObjects)
	}
	t.periods[p.key] = p
	t.dropped += in.dropped
	t.evictGlobal()
	t.prune()
	t.record()
	t.pruneJudged()
}
