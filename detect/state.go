package detect

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// stateMagic and stateVersion head the serialized state. Bump the version
// when the layout changes; an unknown version is an error, never a guess.
const (
	stateMagic   = "SFDT"
	stateVersion = 1
)

// MarshalBinary encodes the baseline and the kept periods compactly:
// varints, networks as their masked prefix bytes, times as hours (the
// baseline's resolution) or seconds relative to the oldest, strings in one
// table. Login figures are not kept: the next Logins call rebuilds them.
func (t *Tracker) MarshalBinary() ([]byte, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	e := &encoder{strs: map[string]uint64{}}
	body := &e.body
	e.uint(uint64(t.cfg.IPv4Prefix))
	e.uint(uint64(t.cfg.IPv6Prefix))
	keys := make([]string, 0, len(t.apps))
	for k := range t.apps {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.uint(uint64(len(keys)))
	for _, k := range keys {
		a := t.apps[k]
		e.str(a.key)
		e.str(a.id)
		e.str(a.name)
		e.uint(uint64(a.since))
		nks := make([]netKey, 0, len(a.nets))
		for nk := range a.nets {
			nks = append(nks, nk)
		}
		slices.SortFunc(nks, cmpKey)
		e.uint(uint64(len(nks)))
		for _, nk := range nks {
			n := a.nets[nk]
			e.net(nk, t.g)
			e.int(int64(n.first - a.since))
			e.uint(uint64(n.last - n.first))
			if n.lastAPI == 0 {
				e.uint(0)
			} else {
				e.uint(uint64(n.last-n.lastAPI) + 1)
			}
		}
		objs := make([]string, 0, len(a.objs))
		for o := range a.objs {
			objs = append(objs, o)
		}
		slices.Sort(objs)
		e.uint(uint64(len(objs)))
		for _, o := range objs {
			x := a.objs[o]
			e.str(o)
			e.int(int64(x.first - a.since))
			e.uint(uint64(x.last - x.first))
		}
	}
	pks := make([]string, 0, len(t.periods))
	for k := range t.periods {
		pks = append(pks, k)
	}
	slices.Sort(pks)
	e.uint(uint64(len(pks)))
	for _, k := range pks {
		p := t.periods[k]
		e.str(p.key)
		e.str(p.interval)
		e.str(p.fileID)
		e.int(p.start)
		e.uint(uint64(p.end - p.start))
		aks := make([]string, 0, len(p.apps))
		for ak := range p.apps {
			aks = append(aks, ak)
		}
		slices.Sort(aks)
		e.uint(uint64(len(aks)))
		for _, ak := range aks {
			pa := p.apps[ak]
			e.str(ak)
			e.uint(uint64(pa.requests))
			e.ints(pa.sens)
			e.counts(pa.ioc)
			hours := make([]int32, 0, len(pa.young))
			for h := range pa.young {
				hours = append(hours, h)
			}
			slices.Sort(hours)
			e.uint(uint64(len(hours)))
			for _, h := range hours {
				b := pa.young[h]
				e.int(int64(h) - p.start/3600)
				e.uint(uint64(b.requests))
				e.ints(b.sens)
			}
			e.uint(uint64(pa.evDrop))
			e.uint(uint64(len(pa.evidence)))
			for _, ne := range pa.evidence {
				e.net(ne.net, t.g)
				e.uint(uint64(ne.first - p.start))
				e.uint(uint64(ne.last - ne.first))
				e.uint(uint64(ne.requests))
				e.counts(ne.objects)
				e.counts(ne.users)
				e.uint(uint64(ne.otherUsers))
				e.uint(ne.ioc)
			}
			e.uint(uint64(len(pa.iocHits)))
			for _, h := range pa.iocHits {
				e.str(h.list)
				e.str(h.ip)
				e.str(h.user)
				e.uint(uint64(h.requests))
				e.uint(uint64(h.first - p.start))
				e.uint(uint64(h.last - h.first))
			}
		}
	}
	e.uint(uint64(t.dropped))
	var out bytes.Buffer
	out.WriteString(stateMagic)
	out.Write(binary.AppendUvarint(nil, stateVersion))
	out.Write(binary.AppendUvarint(nil, uint64(len(e.table))))
	for _, s := range e.table {
		out.Write(binary.AppendUvarint(nil, uint64(len(s))))
		out.WriteString(s)
	}
	out.Write(*body)
	return out.Bytes(), nil
}

type encoder struct {
	body  []byte
	strs  map[string]uint64
	table []string
}

func (e *encoder) uint(v uint64) { e.body = binary.AppendUvarint(e.body, v) }
func (e *encoder) int(v int64)   { e.body = binary.AppendVarint(e.body, v) }

func (e *encoder) str(s string) {
	i, ok := e.strs[s]
	if !ok {
		i = uint64(len(e.table))
		e.strs[s] = i
		e.table = append(e.table, s)
	}
	e.uint(i)
}

func (e *encoder) ints(v []int64) {
	e.uint(uint64(len(v)))
	for _, x := range v {
		e.uint(uint64(x))
	}
}

func (e *encoder) counts(m map[string]int64) {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	e.uint(uint64(len(ks)))
	for _, k := range ks {
		e.str(k)
		e.uint(uint64(m[k]))
	}
}

// net writes a kind byte and the masked prefix's bytes.
func (e *encoder) net(k netKey, g grouper) {
	e.body = append(e.body, k.kind)
	switch k.kind {
	case kindV4:
		n := (g.v4 + 7) / 8
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(k.lo))
		e.body = append(e.body, b[:n]...)
	case kindV6:
		n := (g.v6 + 7) / 8
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], k.hi)
		binary.BigEndian.PutUint64(b[8:], k.lo)
		e.body = append(e.body, b[:n]...)
	}
}

// ErrStateVersion is returned for a state written by another version.
var ErrStateVersion = errors.New("detect: unknown state version")

// Restore returns a Tracker with cfg and the state data encoded. A state
// written with longer prefixes than cfg's is regrouped; one written with
// shorter prefixes can't be, so its networks are dropped (the objects and
// periods stay) and note says so. Any other mismatch or damage is an error.
func Restore(cfg Config, data []byte) (t *Tracker, note string, err error) {
	t, err = New(cfg)
	if err != nil {
		return nil, "", err
	}
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("decode detection state: %v", r)
		}
	}()
	d := &decoder{r: bufio.NewReader(bytes.NewReader(data))}
	magic := make([]byte, 4)
	if _, err := io.ReadFull(d.r, magic); err != nil || string(magic) != stateMagic {
		return nil, "", fmt.Errorf("decode detection state: not a detection state")
	}
	if v := d.uint(); v != stateVersion {
		return nil, "", fmt.Errorf("%w %d (this build reads %d)", ErrStateVersion, v, stateVersion)
	}
	n := d.count()
	d.table = make([]string, n)
	for i := range d.table {
		l := d.count()
		b := make([]byte, l)
		if _, err := io.ReadFull(d.r, b); err != nil {
			panic("truncated string table")
		}
		d.table[i] = string(b)
	}
	oldV4, oldV6 := int(d.uint()), int(d.uint())
	if checkPrefixes(oldV4, oldV6) != nil {
		panic("bad prefix lengths")
	}
	old := grouper{v4: oldV4, v6: oldV6}
	lost := 0
	napps := d.count()
	for range napps {
		a := &appState{key: d.str(), id: d.str(), name: d.str(), nets: map[netKey]netEntry{}, objs: map[string]objEntry{}}
		a.since = int32(d.uint())
		for range d.count() {
			k := d.net(old)
			first := a.since + int32(d.int())
			last := first + int32(d.uint())
			e := netEntry{first: first, last: last}
			if x := d.uint(); x > 0 {
				e.lastAPI = last - int32(x-1)
			}
			nk, ok := t.g.remask(k, oldV4, oldV6)
			if !ok {
				lost++
				continue
			}
			if cur, dup := a.nets[nk]; dup {
				e.first, e.last, e.lastAPI = min(e.first, cur.first), max(e.last, cur.last), max(e.lastAPI, cur.lastAPI)
			}
			a.nets[nk] = e
		}
		for range d.count() {
			name := d.str()
			first := a.since + int32(d.int())
			a.objs[name] = objEntry{first: first, last: first + int32(d.uint())}
		}
		t.apps[a.key] = a
		if a.id != "" && a.name != "" {
			t.byName[strings.ToLower(a.name)] = a.key
		}
		t.evict(a)
	}
	for range d.count() {
		p := &period{key: d.str(), interval: d.str(), fileID: d.str(), apps: map[string]*periodApp{}}
		p.start = d.int()
		p.end = p.start + int64(d.uint())
		if p.interval != "Daily" && p.interval != "Hourly" || p.end <= p.start {
			panic("malformed period")
		}
		for range d.count() {
			ak := d.str()
			pa := &periodApp{requests: int64(d.uint()), sens: d.ints(), ioc: d.counts(), young: map[int32]*youngBucket{}}
			for range d.count() {
				h := int32(p.start/3600 + d.int())
				pa.young[h] = &youngBucket{requests: int64(d.uint()), sens: d.ints()}
			}
			pa.evDrop = int64(d.uint())
			for range d.count() {
				ne := &netEvidence{net: d.net(old)}
				ne.first = p.start + int64(d.uint())
				ne.last = ne.first + int64(d.uint())
				ne.requests = int64(d.uint())
				ne.objects, ne.users = d.counts(), d.counts()
				ne.otherUsers = int64(d.uint())
				ne.ioc = d.uint()
				if nk, ok := t.g.remask(ne.net, oldV4, oldV6); ok {
					ne.net = nk
					pa.evidence = append(pa.evidence, ne)
				}
			}
			for range d.count() {
				h := &iocHit{list: d.str(), ip: d.str(), user: d.str(), requests: int64(d.uint())}
				h.first = p.start + int64(d.uint())
				h.last = h.first + int64(d.uint())
				pa.iocHits = append(pa.iocHits, h)
			}
			if pa.sens != nil && len(pa.sens) != len(t.cfg.SensitiveObjects) {
				// The sensitive list changed: the per-object counts restart.
				pa.sens = make([]int64, len(t.cfg.SensitiveObjects))
				for _, b := range pa.young {
					b.sens = make([]int64, len(t.cfg.SensitiveObjects))
				}
			}
			p.apps[ak] = pa
		}
		t.periods[p.key] = p
	}
	t.dropped = int64(d.uint())
	if _, err := d.r.ReadByte(); err == nil {
		panic("trailing data")
	}
	if lost > 0 {
		note = fmt.Sprintf("the state's networks were grouped into /%d and /%d, finer than the configured /%d and /%d: %d networks dropped, so those apps' network baselines start again", oldV4, oldV6, t.cfg.IPv4Prefix, t.cfg.IPv6Prefix, lost)
	}
	t.evictGlobal()
	t.prune()
	return t, note, nil
}

type decoder struct {
	r     *bufio.Reader
	table []string
}

func (d *decoder) uint() uint64 {
	v, err := binary.ReadUvarint(d.r)
	if err != nil {
		panic("truncated")
	}
	return v
}

func (d *decoder) int() int64 {
	v, err := binary.ReadVarint(d.r)
	if err != nil {
		panic("truncated")
	}
	return v
}

// count reads a length and bounds it, so a damaged file can't make the
// decoder allocate wildly.
func (d *decoder) count() int {
	v := d.uint()
	if v > 1<<26 {
		panic("implausible length")
	}
	return int(v)
}

func (d *decoder) str() string {
	i := d.uint()
	if i >= uint64(len(d.table)) {
		panic("string index out of range")
	}
	return d.table[i]
}

func (d *decoder) ints() []int64 {
	n := d.count()
	if n > 1024 {
		panic("implausible length")
	}
	if n == 0 {
		return nil
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(d.uint())
	}
	return out
}

func (d *decoder) counts() map[string]int64 {
	n := d.count()
	if n == 0 {
		return nil
	}
	m := make(map[string]int64, min(n, 1024))
	for range n {
		k := d.str()
		m[k] = int64(d.uint())
	}
	return m
}

func (d *decoder) net(g grouper) netKey {
	kind, err := d.r.ReadByte()
	if err != nil {
		panic("truncated")
	}
	k := netKey{kind: kind}
	switch kind {
	case kindV4:
		var b [4]byte
		if _, err := io.ReadFull(d.r, b[:(g.v4+7)/8]); err != nil {
			panic("truncated")
		}
		k.lo = uint64(binary.BigEndian.Uint32(b[:]))
	case kindV6:
		var b [16]byte
		if _, err := io.ReadFull(d.r, b[:(g.v6+7)/8]); err != nil {
			panic("truncated")
		}
		k.hi, k.lo = binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	case kindSalesforce, kindEmpty, kindInvalid:
	default:
		panic("unknown network kind")
	}
	return k
}
