package detect

import (
	"cmp"
	"net/netip"
	"slices"
)

// A reloaded IOC list re-checks the data still held. The IOC counts of a
// period (its requests from each list's addresses, and the (address, user)
// hits the review shows) are matched as its file is read; a list published
// after the file would otherwise never see it, though the file still counts
// in the window and in the review. So a period keeps, per app, the distinct
// client addresses of its requests (up to maxAddrsPerNet per network and
// maxRecheckAddrsPerApp per app; the requests of the rest are counted and
// can never match), each with its requests, first and last time and the
// first user seen there, and SetIOC matches them against the new lists.
//
// The addresses are kept in the state file (version 3, state_v3.go); the
// periods of an older state keep the counts of the lists they were read
// with, until a file replaces them.
const (
	maxAddrsPerNet         = 4
	maxRecheckAddrsPerApp  = 256
	maxRecheckAddrsPerFile = 20_000
	// maxRecheckAddrsGlobal bounds the addresses kept over all periods
	// (about 80 bytes each): past it, the oldest periods' go first, and
	// those periods keep the counts of the lists they were read with.
	maxRecheckAddrsGlobal = 200_000
)

// addrSeen is a client address of a period's requests.
type addrSeen struct {
	addr        netip.Addr
	user        string
	requests    int64
	first, last int64
}

// seeAddr counts a row of a network's address.
func (in *Ingest) seeAddr(n *stageNet, addr netip.Addr, user []byte, ts int64) {
	i := n.lastAddr
	if i >= len(n.addrs) || n.addrs[i].addr != addr {
		i = slices.IndexFunc(n.addrs, func(x addrSeen) bool { return x.addr == addr })
		if i < 0 {
			if len(n.addrs) >= maxAddrsPerNet || in.addrs >= maxRecheckAddrsPerFile {
				n.otherAddrs++
				return
			}
			in.addrs++
			n.addrs = append(n.addrs, addrSeen{addr: addr, user: string(user), first: ts, last: ts})
			i = len(n.addrs) - 1
		}
		n.lastAddr = i
	}
	x := &n.addrs[i]
	x.requests++
	x.first, x.last = min(x.first, ts), max(x.last, ts)
}

// keepAddrs moves a staged app's addresses to its period, the busiest
// first, within maxRecheckAddrsPerApp.
func keepAddrs(sa *stageApp, pa *periodApp) {
	for _, sn := range sa.nets {
		pa.addrs = append(pa.addrs, sn.addrs...)
		pa.addrsOther += sn.otherAddrs
	}
	slices.SortFunc(pa.addrs, func(x, y addrSeen) int {
		return cmp.Or(cmp.Compare(y.requests, x.requests), x.addr.Compare(y.addr))
	})
	if len(pa.addrs) > maxRecheckAddrsPerApp {
		for _, x := range pa.addrs[maxRecheckAddrsPerApp:] {
			pa.addrsOther += x.requests
		}
		pa.addrs = slices.Clip(pa.addrs[:maxRecheckAddrsPerApp])
	}
	pa.addrsKept = true
}

// recheckIOC matches the addresses the periods kept against the IOC lists
// in force. The caller holds the write lock.
func (t *Tracker) recheckIOC() {
	names := t.ioc.Names()
	for _, p := range t.periods {
		for _, pa := range p.apps {
			if !pa.addrsKept {
				continue
			}
			pa.ioc, pa.iocHits = nil, nil
			masks := map[netKey]uint64{}
			for _, x := range pa.addrs {
				mask := t.ioc.Match(x.addr)
				if mask == 0 {
					continue
				}
				masks[t.g.addrKey(x.addr)] |= mask
				for i, n := range names {
					if mask&(1<<i) == 0 {
						continue
					}
					if pa.ioc == nil {
						pa.ioc = map[string]int64{}
					}
					pa.ioc[n] += x.requests
					if len(pa.iocHits) < maxIOCHits {
						pa.iocHits = append(pa.iocHits, &iocHit{list: n, ip: x.addr.String(), user: x.user, requests: x.requests, first: x.first, last: x.last})
					}
				}
			}
			slices.SortFunc(pa.iocHits, func(x, y *iocHit) int {
				return cmp.Or(cmp.Compare(x.list, y.list), cmp.Compare(x.ip, y.ip), cmp.Compare(x.user, y.user))
			})
			for _, ne := range pa.evidence {
				ne.ioc = masks[ne.net]
			}
		}
	}
}

// pruneAddrs drops the oldest periods' addresses past
// maxRecheckAddrsGlobal. ps is the periods, oldest first. The caller holds
// the write lock.
func pruneAddrs(ps []*period) {
	total := 0
	for _, p := range ps {
		for _, pa := range p.apps {
			total += len(pa.addrs)
		}
	}
	for _, p := range ps {
		if total <= maxRecheckAddrsGlobal {
			return
		}
		for _, pa := range p.apps {
			total -= len(pa.addrs)
			pa.addrs, pa.addrsKept = nil, false
		}
	}
}
