package detect

import (
	"maps"
	"net/netip"
	"slices"
)

// State version 3 appends what lived in memory only before, so that a
// restart neither re-fires nor forgets:
//   - the judged counters (days.go) and the days they counted: a restart
//     no longer starts them at 0, and a file read again after it (a
//     re-issue) grows them only by what it adds;
//   - each app's latest wake (dormant.go): a wake in the window stays seen;
//   - per period and app, the requests outside the declared networks by
//     address (declared.go) and the client addresses an IOC reload
//     re-checks (recheck.go).
// A version-1 or -2 state reads as one without them.

// memory writes the version-3 additions.
func (e *encoder) memory(t *Tracker, keys []string) {
	jks := slices.Sorted(maps.Keys(t.judged))
	e.uint(uint64(len(jks)))
	for _, k := range jks {
		aj := t.judged[k]
		e.str(k)
		e.judged(aj.total)
		days := slices.Sorted(maps.Keys(aj.days))
		e.uint(uint64(len(days)))
		for _, day := range days {
			dj := aj.days[day]
			e.int(day)
			hks := slices.Sorted(maps.Keys(dj.hourly))
			e.uint(uint64(len(hks)))
			for _, hk := range hks {
				e.str(hk)
				e.judged(dj.hourly[hk])
			}
			if dj.daily != nil {
				e.uint(1)
				e.judged(*dj.daily)
			} else {
				e.uint(0)
			}
			e.judged(dj.counted)
		}
	}
	n := 0
	for _, k := range keys {
		if t.apps[k].woke != nil {
			n++
		}
	}
	e.uint(uint64(n))
	for _, k := range keys {
		if w := t.apps[k].woke; w != nil {
			e.str(k)
			e.uint(uint64(w.at))
			e.uint(uint64(w.idle))
		}
	}
	// Only the periods and apps that keep something.
	keeps := func(pa *periodApp) bool { return pa.outside != nil || pa.addrsKept }
	var pks []string
	for _, pk := range slices.Sorted(maps.Keys(t.periods)) {
		for _, pa := range t.periods[pk].apps {
			if keeps(pa) {
				pks = append(pks, pk)
				break
			}
		}
	}
	e.uint(uint64(len(pks)))
	for _, pk := range pks {
		p := t.periods[pk]
		e.str(pk)
		var aks []string
		for _, ak := range slices.Sorted(maps.Keys(p.apps)) {
			if keeps(p.apps[ak]) {
				aks = append(aks, ak)
			}
		}
		e.uint(uint64(len(aks)))
		for _, ak := range aks {
			pa := p.apps[ak]
			e.str(ak)
			if o := pa.outside; o != nil {
				e.uint(1)
				e.uint(uint64(o.other))
				addrs := slices.SortedFunc(maps.Keys(o.addrs), netip.Addr.Compare)
				e.uint(uint64(len(addrs)))
				for _, a := range addrs {
					e.addr(a)
					e.uint(uint64(o.addrs[a]))
				}
			} else {
				e.uint(0)
			}
			if pa.addrsKept {
				e.uint(1)
				e.uint(uint64(pa.addrsOther))
				e.uint(uint64(len(pa.addrs)))
				for _, x := range pa.addrs {
					e.addr(x.addr)
					e.str(x.user)
					e.uint(uint64(x.requests))
					e.uint(uint64(max(x.first-p.start, 0)))
					e.uint(uint64(max(x.last-x.first, 0)))
				}
			} else {
				e.uint(0)
			}
		}
	}
}

func (e *encoder) judged(j judgedFigs) {
	e.uint(uint64(j.requests))
	e.uint(uint64(j.fromNew))
	e.uint(uint64(j.sensFromNew))
	e.uint(uint64(j.corrSens)) // version 4
}

func (e *encoder) addr(a netip.Addr) {
	b := a.AsSlice()
	e.w.Byte(byte(len(b)))
	e.w.Raw(b)
}

// memory reads what encoder.memory wrote. What belongs to an app or a
// period the state no longer holds is dropped.
func (d *decoder) memory(t *Tracker) {
	for range d.count("judged apps") {
		key := d.str("judged app")
		aj := &appJudged{total: d.judged("judged total"), days: map[int64]*dayJudged{}}
		for range d.count("judged days") {
			day := d.int("judged day")
			dj := &dayJudged{hourly: map[string]judgedFigs{}}
			for range d.count("judged hourly periods") {
				hk := d.str("judged hourly period")
				dj.hourly[hk] = d.judged("judged hourly figures")
			}
			if d.uint("judged daily flag") != 0 {
				j := d.judged("judged daily figures")
				dj.daily = &j
			}
			dj.counted = d.judged("judged counted")
			aj.days[day] = dj
		}
		if t.apps[key] != nil {
			if t.judged == nil {
				t.judged = map[string]*appJudged{}
			}
			t.judged[key] = aj
		}
	}
	for range d.count("wakes") {
		key := d.str("wake app")
		w := &wake{at: int32(d.uint("wake hour")), idle: int32(d.uint("wake idle hours"))}
		if a := t.apps[key]; a != nil {
			a.woke = w
		}
	}
	for range d.count("period memories") {
		p := t.periods[d.str("period memory key")]
		for range d.count("period memory apps") {
			var pa *periodApp
			if ak := d.str("period memory app"); p != nil {
				pa = p.apps[ak]
			}
			var o *outsideCount
			if d.uint("outside flag") != 0 {
				o = &outsideCount{other: int64(d.uint("outside other"))}
				for range d.count("outside addresses") {
					a := d.addr("outside address")
					if o.addrs == nil {
						o.addrs = map[netip.Addr]int64{}
					}
					o.addrs[a] = int64(d.uint("outside requests"))
				}
			}
			var addrs []addrSeen
			var other int64
			kept := d.uint("addresses flag") != 0
			if kept {
				other = int64(d.uint("addresses other"))
				for range d.count("addresses") {
					x := addrSeen{addr: d.addr("address"), user: d.str("address user"), requests: int64(d.uint("address requests"))}
					if p != nil {
						x.first = p.start + int64(d.uint("address first"))
					} else {
						x.first = int64(d.uint("address first"))
					}
					x.last = x.first + int64(d.uint("address last"))
					addrs = append(addrs, x)
				}
			}
			if pa == nil {
				continue
			}
			if len(o.addrsOrNil()) > maxOutsideAddrs || len(addrs) > maxRecheckAddrsPerApp {
				d.r.Fail("period memory", "%d outside or %d kept addresses: over the bounds", len(o.addrsOrNil()), len(addrs))
				d.check()
			}
			pa.outside = o
			pa.addrs, pa.addrsOther, pa.addrsKept = addrs, other, kept
		}
	}
}

// addrsOrNil is o's addresses; nil for a nil o.
func (o *outsideCount) addrsOrNil() map[netip.Addr]int64 {
	if o == nil {
		return nil
	}
	return o.addrs
}

func (d *decoder) judged(field string) judgedFigs {
	j := judgedFigs{requests: int64(d.uint(field)), fromNew: int64(d.uint(field)), sensFromNew: int64(d.uint(field))}
	if d.version >= 4 {
		// A version-3 state counted no corroborated requests: they start at
		// 0, and a day counted before grows them only by what it adds.
		j.corrSens = min(int64(d.uint(field)), j.sensFromNew)
	}
	return j
}

func (d *decoder) addr(field string) netip.Addr {
	n := d.r.Byte(field)
	d.check()
	if n != 4 && n != 16 {
		d.r.Fail(field, "address of %d bytes", n)
		d.check()
	}
	a, _ := netip.AddrFromSlice(d.r.Raw(field, int(n)))
	d.check()
	return a
}
