package detect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/binenc"
)

// stateMagic and stateVersion head the serialized state. Bump the version
// when the layout changes; an unknown version is an error, never a guess.
// Version 2 appends the grading's daily records and holds (grade.go), and
// version 3 the judged counters, wakes and the periods' addresses
// (state_v3.go), version 4 the corroborated count to each judged figure
// (days.go); an older state reads as one without them.
const (
	stateMagic   = "SFDT"
	stateVersion = 4
)

// MarshalBinary encodes the baseline and the kept periods compactly:
// varints, networks as their masked prefix bytes, times as hours (the
// baseline's resolution) or seconds relative to the oldest, strings in one
// table. Login figures are not kept: the next Logins call rebuilds them.
func (t *Tracker) MarshalBinary() ([]byte, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	e := &encoder{w: binenc.NewWriter(4096), strs: map[string]uint64{}}
	e.uint(uint64(t.cfg.IPv4Prefix))
	e.uint(uint64(t.cfg.IPv6Prefix))
	keys := slices.Sorted(maps.Keys(t.apps))
	e.uint(uint64(len(keys)))
	for _, k := range keys {
		a := t.apps[k]
		e.str(a.key)
		e.str(a.id)
		e.str(a.name)
		e.uint(uint64(a.since))
		nks := slices.SortedFunc(maps.Keys(a.nets), cmpKey)
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
		objs := slices.Sorted(maps.Keys(a.objs))
		e.uint(uint64(len(objs)))
		for _, o := range objs {
			x := a.objs[o]
			e.str(o)
			e.int(int64(x.first - a.since))
			e.uint(uint64(x.last - x.first))
		}
	}
	pks := slices.Sorted(maps.Keys(t.periods))
	e.uint(uint64(len(pks)))
	for _, k := range pks {
		p := t.periods[k]
		e.str(p.key)
		e.str(p.interval)
		e.str(p.fileID)
		e.int(p.start)
		e.uint(uint64(p.end - p.start))
		aks := slices.Sorted(maps.Keys(p.apps))
		e.uint(uint64(len(aks)))
		for _, ak := range aks {
			pa := p.apps[ak]
			e.str(ak)
			e.uint(uint64(pa.requests))
			e.ints(pa.sens)
			e.counts(pa.ioc)
			hours := slices.Sorted(maps.Keys(pa.young))
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
	e.grading(t, keys)
	e.memory(t, keys)
	out := binenc.NewWriter(64 + e.w.Len() + 16*len(e.table))
	out.RawString(stateMagic)
	out.Uvarint(stateVersion)
	out.Uvarint(uint64(len(e.table)))
	for _, s := range e.table {
		out.String(s)
	}
	out.Raw(e.w.Bytes())
	return out.Bytes(), nil
}

// encoder writes the state's body; its strings go to a table written
// before it, and the body holds their indices.
type encoder struct {
	w     *binenc.Writer
	strs  map[string]uint64
	table []string
}

func (e *encoder) uint(v uint64) { e.w.Uvarint(v) }
func (e *encoder) int(v int64)   { e.w.Varint(v) }

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
	ks := slices.Sorted(maps.Keys(m))
	e.uint(uint64(len(ks)))
	for _, k := range ks {
		e.str(k)
		e.uint(uint64(m[k]))
	}
}

// net writes a kind byte and the masked prefix's bytes.
func (e *encoder) net(k netKey, g grouper) {
	e.w.Byte(k.kind)
	switch k.kind {
	case kindV4:
		n := (g.v4 + 7) / 8
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(k.lo))
		e.w.Raw(b[:n])
	case kindV6:
		n := (g.v6 + 7) / 8
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], k.hi)
		binary.BigEndian.PutUint64(b[8:], k.lo)
		e.w.Raw(b[:n])
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
			if e, ok := r.(error); ok {
				t, err = nil, fmt.Errorf("decode detection state: %w", e)
				return
			}
			t, err = nil, fmt.Errorf("decode detection state: %v", r)
		}
	}()
	d := &decoder{r: binenc.NewReader(data)}
	if magic := d.r.Raw("magic", len(stateMagic)); d.r.Err() != nil || string(magic) != stateMagic {
		return nil, "", fmt.Errorf("decode detection state: not a detection state")
	}
	v := d.uint("version")
	if v < 1 || v > stateVersion {
		return nil, "", fmt.Errorf("%w %d (this build reads 1 to %d)", ErrStateVersion, v, stateVersion)
	}
	d.version = v
	n := d.count("strings")
	d.table = make([]string, n)
	for i := range d.table {
		d.table[i] = d.r.String("string table", maxStateCount)
		d.check()
	}
	oldV4, oldV6 := int(d.uint("IPv4 prefix")), int(d.uint("IPv6 prefix"))
	if checkPrefixes(oldV4, oldV6) != nil {
		d.r.Fail("prefix lengths", "/%d and /%d are not valid", oldV4, oldV6)
		d.check()
	}
	old := grouper{v4: oldV4, v6: oldV6}
	lost := 0
	napps := d.count("apps")
	for range napps {
		a := &appState{key: d.str("app key"), id: d.str("app Id"), name: d.str("app name"), nets: map[netKey]netEntry{}, objs: map[string]objEntry{}}
		a.since = int32(d.uint("app since"))
		for range d.count("networks") {
			k := d.net("network", old)
			first := a.since + int32(d.int("network first"))
			last := first + int32(d.uint("network last"))
			e := netEntry{first: first, last: last}
			if x := d.uint("network last API"); x > 0 {
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
		for range d.count("objects") {
			name := d.str("object")
			first := a.since + int32(d.int("object first"))
			a.objs[name] = objEntry{first: first, last: first + int32(d.uint("object last"))}
		}
		t.apps[a.key] = a
		if a.id != "" && a.name != "" {
			t.byName[strings.ToLower(a.name)] = a.key
		}
		t.evict(a)
	}
	for range d.count("periods") {
		p := &period{key: d.str("period key"), interval: d.str("period interval"), fileID: d.str("period file Id"), apps: map[string]*periodApp{}}
		p.start = d.int("period start")
		p.end = p.start + int64(d.uint("period end"))
		if p.interval != "Daily" && p.interval != "Hourly" || p.end <= p.start {
			d.r.Fail("period", "malformed: interval %q, from %d to %d", p.interval, p.start, p.end)
			d.check()
		}
		for range d.count("period apps") {
			ak := d.str("period app")
			pa := &periodApp{requests: int64(d.uint("period app requests")), sens: d.ints("sensitive requests"), ioc: d.counts("IOC requests"), young: map[int32]*youngBucket{}}
			for range d.count("young networks") {
				h := int32(p.start/3600 + d.int("young hour"))
				pa.young[h] = &youngBucket{requests: int64(d.uint("young requests")), sens: d.ints("young sensitive requests")}
			}
			pa.evDrop = int64(d.uint("evidence dropped"))
			for range d.count("evidence") {
				ne := &netEvidence{net: d.net("evidence network", old)}
				ne.first = p.start + int64(d.uint("evidence first"))
				ne.last = ne.first + int64(d.uint("evidence last"))
				ne.requests = int64(d.uint("evidence requests"))
				ne.objects, ne.users = d.counts("evidence objects"), d.counts("evidence users")
				ne.otherUsers = int64(d.uint("evidence other users"))
				ne.ioc = d.uint("evidence IOC lists")
				if nk, ok := t.g.remask(ne.net, oldV4, oldV6); ok {
					ne.net = nk
					pa.evidence = append(pa.evidence, ne)
				}
			}
			for range d.count("IOC hits") {
				h := &iocHit{list: d.str("IOC list"), ip: d.str("IOC address"), user: d.str("IOC user"), requests: int64(d.uint("IOC requests"))}
				h.first = p.start + int64(d.uint("IOC first"))
				h.last = h.first + int64(d.uint("IOC last"))
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
	t.dropped = int64(d.uint("dropped rows"))
	if v >= 2 {
		d.grading(t)
	}
	if v >= 3 {
		d.memory(t)
	}
	if d.r.Len() > 0 {
		d.r.Fail("", "%d bytes of trailing data", d.r.Len())
		d.check()
	}
	if lost > 0 {
		note = fmt.Sprintf("the state's networks were grouped into /%d and /%d, finer than the configured /%d and /%d: %d networks dropped, so those apps' network baselines start again", oldV4, oldV6, t.cfg.IPv4Prefix, t.cfg.IPv6Prefix, lost)
	}
	t.evictGlobal()
	t.prune()
	return t, note, nil
}

// maxStateCount bounds every count and string length in a state, so a
// damaged file can't make the decoder allocate wildly (and each count is
// bounded by the bytes left, each item taking at least one).
const maxStateCount = 1 << 26

// decoder reads the state. A read past the end or a count out of bounds
// panics with the binenc error, which names the field and the offset;
// Restore recovers it.
type decoder struct {
	r       *binenc.Reader
	table   []string
	version uint64
}

// check panics with the reader's error, if any.
func (d *decoder) check() {
	if err := d.r.Err(); err != nil {
		panic(err)
	}
}

func (d *decoder) uint(field string) uint64 {
	v := d.r.Uvarint(field)
	d.check()
	return v
}

func (d *decoder) int(field string) int64 {
	v := d.r.Varint(field)
	d.check()
	return v
}

func (d *decoder) count(field string) int {
	n := d.r.Count(field, 1, maxStateCount)
	d.check()
	return n
}

func (d *decoder) str(field string) string {
	i := d.uint(field)
	if i >= uint64(len(d.table)) {
		d.r.Fail(field, "string index %d out of range (%d strings)", i, len(d.table))
		d.check()
	}
	return d.table[i]
}

func (d *decoder) ints(field string) []int64 {
	n := d.r.Count(field, 1, 1024)
	d.check()
	if n == 0 {
		return nil
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(d.uint(field))
	}
	return out
}

func (d *decoder) counts(field string) map[string]int64 {
	n := d.count(field)
	if n == 0 {
		return nil
	}
	m := make(map[string]int64, min(n, 1024))
	for range n {
		k := d.str(field)
		m[k] = int64(d.uint(field))
	}
	return m
}

func (d *decoder) net(field string, g grouper) netKey {
	kind := d.r.Byte(field)
	d.check()
	k := netKey{kind: kind}
	switch kind {
	case kindV4:
		var b [4]byte
		copy(b[:], d.r.Raw(field, (g.v4+7)/8))
		d.check()
		k.lo = uint64(binary.BigEndian.Uint32(b[:]))
	case kindV6:
		var b [16]byte
		copy(b[:], d.r.Raw(field, (g.v6+7)/8))
		d.check()
		k.hi, k.lo = binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	case kindSalesforce, kindEmpty, kindInvalid:
	default:
		d.r.Fail(field, "unknown network kind %d", kind)
		d.check()
	}
	return k
}
