package detect

import (
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Login is one OAuth login (a LoginHistory row).
type Login struct {
	Time     time.Time
	App      string // LoginHistory.Application: the app's name
	SourceIP string
	UserID   string
}

// LoginHit is a login from a new network or an IOC address, for the review.
type LoginHit struct {
	Time     time.Time
	Network  string
	Address  string
	UserID   string
	New      bool     // from a network first seen in the window (baseline ready)
	IOCLists []string // lists holding the address
}

// Logins takes the OAuth logins of the 24 hours before now (all of them,
// each call: the figures are recomputed from them). Their networks join the
// apps' baselines; an app is found by name among the apps seen with an Id.
func (t *Tracker) Logins(now time.Time, logins []Login) {
	t.mu.Lock()
	defer t.mu.Unlock()
	// Windows start on the hour, as the baseline's times do.
	wsHour := hourOf(now.Add(-Window).Unix())
	minBase := int32(t.cfg.MinBaseline / time.Hour)
	type seen struct {
		a    *appState
		k    netKey
		addr netip.Addr
		mask uint64
		l    *Login
	}
	rows := make([]seen, 0, len(logins))
	before := map[*appState]int32{} // each app's last use before this call
	first := map[*appState]int32{}  // its first login in this call
	for i := range logins {
		l := &logins[i]
		if l.Time.After(now) || hourOf(l.Time.Unix()) < wsHour {
			continue
		}
		name := strings.TrimSpace(l.App)
		key, ok := t.byName[strings.ToLower(name)]
		if !ok {
			key = AppKey("", name)
		}
		a := t.apps[key]
		if a == nil {
			a = t.app(key, "", name)
			if a == nil {
				t.dropped++
				continue
			}
		}
		k, addr := t.g.key([]byte(l.SourceIP))
		h := hourOf(l.Time.Unix())
		if _, ok := before[a]; !ok {
			before[a] = a.lastUse()
		}
		a.since = minHour(a.since, h)
		if e, ok := a.nets[k]; ok {
			e.first, e.last = min(e.first, h), max(e.last, h)
			a.nets[k] = e
		} else {
			a.nets[k] = netEntry{first: h, last: h}
		}
		var mask uint64
		if !k.special() {
			mask = t.ioc.Match(addr)
		}
		rows = append(rows, seen{a, k, addr, mask, l})
		if f, ok := first[a]; !ok || h < f {
			first[a] = h
		}
	}
	for a, h := range first {
		a.noteUse(before[a], h)
	}
	figs := map[string]*loginFig{}
	ev := map[string][]LoginHit{}
	type appUser struct{ app, user string }
	users, newUsers := map[appUser]bool{}, map[appUser]bool{}
	for _, r := range rows {
		f := figs[r.a.key]
		if f == nil {
			f = &loginFig{}
			figs[r.a.key] = f
		}
		e := r.a.nets[r.k]
		isNew := !r.k.special() && r.a.since <= wsHour-minBase && e.first >= wsHour
		u := appUser{r.a.key, strings.TrimSpace(r.l.UserID)}
		if !users[u] {
			users[u] = true
			f.users++
		}
		if isNew {
			f.fromNew++
			if !newUsers[u] {
				newUsers[u] = true
				f.newUsers++
			}
		}
		if d := t.decl.lookup(r.a.id, r.a.name); d != nil && d.nets != nil && !r.k.special() && !d.containsAddr(r.addr) {
			f.outsideDecl++
		}
		var lists []string
		if r.mask != 0 {
			lists = t.ioc.listNames(r.mask)
			for _, n := range lists {
				if f.ioc == nil {
					f.ioc = map[string]int64{}
				}
				f.ioc[n]++
			}
		}
		if isNew || r.mask != 0 {
			ev[r.a.key] = append(ev[r.a.key], LoginHit{Time: r.l.Time.UTC(), Network: t.g.String(r.k), Address: strings.TrimSpace(r.l.SourceIP), UserID: r.l.UserID, New: isNew, IOCLists: lists})
		}
	}
	for _, a := range t.apps {
		t.evict(a)
	}
	t.loginFigs, t.loginEv = figs, ev
}

// LoginEvidence returns an app's logins from new networks or IOC addresses
// seen by the last Logins call, oldest first.
func (t *Tracker) LoginEvidence(appKey string) []LoginHit {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := slices.Clone(t.loginEv[appKey])
	slices.SortStableFunc(out, func(a, b LoginHit) int { return a.Time.Compare(b.Time) })
	return out
}

// LoginAppKey is the key a login's app is filed under.
func (t *Tracker) LoginAppKey(name string) string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if k, ok := t.byName[strings.ToLower(strings.TrimSpace(name))]; ok {
		return k
	}
	return AppKey("", name)
}
