package detect

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// Declared expectations: the inventory may say which networks an app's
// requests and logins come from and which objects it touches. Traffic from
// elsewhere needs no baseline to stand out, which is how Salesforce caught
// the replay of a stolen integration token in November 2025.

// Bounds of one app's declaration.
const (
	MaxDeclaredNetworks = 256
	MaxDeclaredObjects  = 500
	// maxOutsideAddrs bounds the addresses outside the declared networks
	// one period keeps per app, so a reload that widens the declaration
	// can judge them again; the requests of the rest stay outside.
	maxOutsideAddrs = 64
)

// Declared is one app's expectations, from an inventory entry.
type Declared struct {
	// AppID matches the app by its 15-character key when set; else App
	// matches its name, case-insensitively (as the inventory does).
	AppID, App string
	// Networks are the prefixes its requests and logins come from; none
	// means no networks are declared.
	Networks []netip.Prefix
	// Objects are the objects (ENTITY_NAME) it touches; none means no
	// objects are declared.
	Objects []string
}

// declaration is a compiled Declared.
type declaration struct {
	nets  *IOCList        // nil when no networks are declared
	nNets int             // prefixes declared
	objs  map[string]bool // lower-case names; nil when none are declared
}

// containsAddr reports whether a (unmapped, no zone) is in the declared networks.
func (d *declaration) containsAddr(a netip.Addr) bool {
	if a.Is4() {
		b := a.As4()
		return d.nets.containsV4(binary.BigEndian.Uint32(b[:]))
	}
	b := a.As16()
	return d.nets.containsV6(u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])})
}

// declarations are the compiled declarations of one org, immutable.
type declarations struct {
	byKey  map[string]*declaration // by the app's 15-character Id key
	byName map[string]*declaration // by lower-case name, entries without an Id
}

// lookup returns the declaration of an app: by its Id first, then by name.
func (ds *declarations) lookup(id, name string) *declaration {
	if ds == nil {
		return nil
	}
	if id != "" {
		if d := ds.byKey[salesforce.ID(id).Key()]; d != nil {
			return d
		}
	}
	return ds.byName[strings.ToLower(strings.TrimSpace(name))]
}

// CheckDeclared validates one app's declaration: at most
// MaxDeclaredNetworks prefixes of at least MinIOCPrefixV4 or MinIOCPrefixV6
// bits, without host bits set, and at most MaxDeclaredObjects object names.
func CheckDeclared(d Declared) error {
	if len(d.Networks) > MaxDeclaredNetworks {
		return fmt.Errorf("%d networks: at most %d (declare the egress ranges, not each address)", len(d.Networks), MaxDeclaredNetworks)
	}
	for _, p := range d.Networks {
		if !p.IsValid() {
			return fmt.Errorf("%v is not a CIDR prefix such as 203.0.113.0/24", p)
		}
		p = unmapPrefix(p)
		if p.Addr().Zone() != "" {
			return fmt.Errorf("%v has an IPv6 zone; write it without %%zone", p)
		}
		if p.Bits() < iocMinBits(p.Addr()) {
			return fmt.Errorf("%v is wider than a /%d: it would declare most of the internet", p, iocMinBits(p.Addr()))
		}
		if p.Masked() != p {
			return fmt.Errorf("%v has host bits set: write %v", p, p.Masked())
		}
	}
	if len(d.Objects) > MaxDeclaredObjects {
		return fmt.Errorf("%d objects: at most %d", len(d.Objects), MaxDeclaredObjects)
	}
	for _, o := range d.Objects {
		if o == "" || len(o) > 255 || strings.ContainsAny(o, " ,;|{}[]()\"'\t") {
			return fmt.Errorf("object %q is not an object API name such as Account or Invoice__c", o)
		}
	}
	return nil
}

// SetDeclared replaces the declared expectations (on a config reload). The
// figures judge the data still held against them at once: requests kept
// outside the old networks (up to maxOutsideAddrs addresses per app and
// period) that the new ones cover no longer count, so a planned move is one
// inventory change. Requests that were inside the old networks are not
// judged again: a narrowed declaration applies from the next file on.
// Entries that fail CheckDeclared are an error, and nothing changes.
func (t *Tracker) SetDeclared(decls []Declared) error {
	ds := &declarations{byKey: map[string]*declaration{}, byName: map[string]*declaration{}}
	for i, d := range decls {
		if err := CheckDeclared(d); err != nil {
			return fmt.Errorf("declaration %d (%s): %w", i, cmpOr(d.AppID, d.App), err)
		}
		if len(d.Networks) == 0 && len(d.Objects) == 0 {
			continue
		}
		c := &declaration{nNets: len(d.Networks)}
		if len(d.Networks) > 0 {
			c.nets = &IOCList{}
			for _, p := range d.Networks {
				c.nets.add(unmapPrefix(p).Masked())
			}
			c.nets.compact()
		}
		if len(d.Objects) > 0 {
			c.objs = make(map[string]bool, len(d.Objects))
			for _, o := range d.Objects {
				c.objs[strings.ToLower(o)] = true
			}
		}
		if id := strings.TrimSpace(d.AppID); id != "" {
			k := salesforce.ID(id).Key()
			if ds.byKey[k] == nil {
				ds.byKey[k] = c
			}
			continue
		}
		n := strings.ToLower(strings.TrimSpace(d.App))
		if n != "" && ds.byName[n] == nil {
			ds.byName[n] = c
		}
	}
	if len(ds.byKey) == 0 && len(ds.byName) == 0 {
		ds = nil
	}
	t.mu.Lock()
	t.decl = ds
	t.mu.Unlock()
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// outsideCount is what a period keeps of an app's requests from outside its
// declared networks: by address, so that a reload can judge them again.
type outsideCount struct {
	addrs map[netip.Addr]int64
	other int64 // requests of addresses past maxOutsideAddrs: outside whatever the declaration
}

// clone is a copy of o that shares nothing with it (nil for nil).
func (o *outsideCount) clone() *outsideCount {
	if o == nil {
		return nil
	}
	return &outsideCount{addrs: maps.Clone(o.addrs), other: o.other}
}

func (o *outsideCount) add(a netip.Addr) {
	if n, ok := o.addrs[a]; ok {
		o.addrs[a] = n + 1
		return
	}
	if len(o.addrs) >= maxOutsideAddrs {
		o.other++
		return
	}
	if o.addrs == nil {
		o.addrs = map[netip.Addr]int64{}
	}
	o.addrs[a] = 1
}

// judge is the requests still outside d's networks.
func (o *outsideCount) judge(d *declaration) int64 {
	n := o.other
	for a, c := range o.addrs {
		if !d.containsAddr(a) {
			n += c
		}
	}
	return n
}

// declaredFigures fills in an app's figures of its declaration: the
// objects touched in the window that it does not declare, and the requests
// from outside its declared networks (periods of the window, summed as the
// other figures are).
func (t *Tracker) declaredFigures(f *AppFigures, a *appState, d *declaration, wsHour int32) {
	f.DeclaredNetworks = d.nNets
	f.DeclaredObjects = len(d.objs)
	if d.objs == nil {
		return
	}
	for name, e := range a.objs {
		if e.last >= wsHour && !d.objs[strings.ToLower(name)] {
			f.UndeclaredObjects++
		}
	}
}

// SeenNetworks returns an app's networks in the baseline (API requests and
// logins; not the special buckets), the most recently seen first, at most
// n: where it has called from, as the inventory's networks: could declare.
func (t *Tracker) SeenNetworks(appKey string, n int) []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	a := t.apps[appKey]
	if a == nil {
		return nil
	}
	type kv struct {
		k    netKey
		last int32
	}
	all := make([]kv, 0, len(a.nets))
	for k, e := range a.nets {
		if !k.special() {
			all = append(all, kv{k, e.last})
		}
	}
	slices.SortFunc(all, func(x, y kv) int { return cmp.Or(cmp.Compare(y.last, x.last), cmpKey(x.k, y.k)) })
	out := make([]string, 0, min(n, len(all)))
	for _, x := range all[:min(n, len(all))] {
		out = append(out, t.g.String(x.k))
	}
	return out
}
