package detect

import (
	"bytes"
	"net/netip"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// Row is one ApiTotalUsage event. The byte slices need only be valid
// during Add.
type Row struct {
	Time       int64 // Unix seconds (ParseTimestamp of TIMESTAMP_DERIVED); 0 when unknown (the period's start is used)
	AppID      []byte
	AppName    []byte
	ClientIP   []byte
	EntityName []byte // ENTITY_NAME: an object, or a set of them
	UserID     []byte
	StatusCode int
}

// StreamFileID is the FileID of the periods the real-time event stream
// commits: Hourly periods, one per hour and stream segment, that the
// ApiTotalUsage files replace when they arrive. For a day with a Daily file
// the Daily file counts, for an hour with an Hourly file the Hourly file,
// and otherwise the stream's periods of the hour: an event counts once,
// and the complete file wins over a stream that may have had a gap.
const StreamFileID = "stream"

// Period names one ingested log file's period.
type Period struct {
	Key      string // unique per period; a later file with the same key replaces it
	Interval string // Daily or Hourly
	Start    time.Time
	FileID   string
}

// End is the end of the period.
func (p Period) End() time.Time {
	if p.Interval == "Hourly" {
		return p.Start.Add(time.Hour)
	}
	return p.Start.AddDate(0, 0, 1)
}

// Ingest collects one file's rows. Nothing reaches the tracker until Commit.
type Ingest struct {
	t          *Tracker
	p          Period
	start, end int64
	youngFrom  int64 // networks first seen at or after this may be new in a window holding this period
	ioc        *IOCSet
	decl       *declarations
	ips        map[string]ipInfo
	lastIP     []byte
	lastInfo   ipInfo
	apps       map[string]*stageApp
	keyBuf     []byte
	nameBuf    []byte
	lastKey    []byte
	lastApp    *stageApp
	appCache   [appCacheSize]appSlot // apps by a cheap hash of their key: fewer lookups in apps
	rows       int64
	clamped    int64
	untimed    int64
	dropped    int64 // rows of apps over MaxApps
	nets       int   // networks staged, over all apps
	iocHits    int   // IOC hits staged, over all apps
	addrs      int   // addresses staged for an IOC re-check, over all apps (recheck.go)
	objs       int   // objects staged, over all apps
	objBytes   int   // bytes of their names
	foldedNets int64 // rows of networks past the caps
	foldedObjs int64 // rows touching objects past the caps
	foldObjs   []*stageObj
}

// Begin starts ingesting one period's file.
func (t *Tracker) Begin(p Period) *Ingest {
	if p.Interval != "Hourly" {
		p.Interval = "Daily"
	}
	t.mu.RLock()
	ioc, decl := t.ioc, t.decl
	t.mu.RUnlock()
	start, end := p.Start.Unix(), p.End().Unix()
	return &Ingest{t: t, p: p, start: start, end: end, youngFrom: end - int64(Window/time.Second), ioc: ioc, decl: decl,
		ips: map[string]ipInfo{}, apps: map[string]*stageApp{}}
}

// Rows is the number of rows added.
func (in *Ingest) Rows() int64 { return in.rows }

// Clamped is the number of rows whose time fell outside the period (moved to its edge).
func (in *Ingest) Clamped() int64 { return in.clamped }

// Untimed is the number of rows without a usable time (given the period's start).
func (in *Ingest) Untimed() int64 { return in.untimed }

// Folded is the number of rows whose network, and of object touches whose
// object, had no room in the file's staging (MaxStagedNetworksPerFile, 4 ×
// max_networks_per_app, MaxStagedObjectsPerFile,
// MaxStagedObjectBytesPerFile, 4 × max_objects_per_app).
func (in *Ingest) Folded() (networks, objects int64) { return in.foldedNets, in.foldedObjs }

// RowTimeSlack is how far past its period's end a row's time may lie
// without counting as clamped: an event written as the period closed. It is
// still moved into the period, so no time reaches the baseline from a
// period that has not been ingested.
const RowTimeSlack = 5 * time.Minute

// Add records one row. It is the ingest's hot path: no allocation for a
// row whose app, address, network and object were seen before in the file,
// and for an IPv4 address no map lookup by its text.
//
// A row's time is kept to the second within the period, so first and last
// seen are exact to the hour. A time before the period, or past its end
// and RowTimeSlack, is moved to the period's edge and counted in Clamped; a
// row without a time (0) takes the period's start and is counted in
// Untimed.
func (in *Ingest) Add(r *Row) {
	ts := r.Time
	switch {
	case ts >= in.start && ts < in.end:
	case ts == 0:
		ts, in.untimed = in.start, in.untimed+1
	case ts < in.start:
		ts, in.clamped = in.start, in.clamped+1
	case ts < in.end+int64(RowTimeSlack/time.Second):
		ts = in.end - 1
	default:
		ts, in.clamped = in.end-1, in.clamped+1
	}
	in.rows++
	in.appKey(r)
	a := in.app(r)
	if a == nil {
		return
	}
	// The address: runs of the same address are common.
	var info ipInfo
	if in.lastIP != nil && bytes.Equal(r.ClientIP, in.lastIP) {
		info = in.lastInfo
	} else if v, ok := parseV4(bytes.TrimSpace(r.ClientIP)); ok {
		// Parsing a dotted quad costs less than hashing it.
		info = ipInfo{key: in.t.g.keyV4(v), ioc: in.ioc.matchV4(v), addr: netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})}
		in.lastIP, in.lastInfo = append(in.lastIP[:0], r.ClientIP...), info
	} else {
		var ok bool
		if info, ok = in.ips[string(r.ClientIP)]; !ok {
			k, addr := in.t.g.key(r.ClientIP)
			info = ipInfo{key: k}
			if !k.special() {
				info.ioc = in.ioc.Match(addr)
				info.addr = addr
			}
			if len(in.ips) >= ipCacheSize {
				clear(in.ips)
			}
			in.ips[string(r.ClientIP)] = info
		}
		in.lastIP, in.lastInfo = append(in.lastIP[:0], r.ClientIP...), info
	}
	n := a.lastNet
	if n == nil || a.lastNK != info.key {
		if info.key.kind == kindV4 {
			n = a.nets4[uint32(info.key.lo)]
		} else {
			n = a.nets[info.key]
		}
		if n == nil {
			if len(a.nets) >= 4*in.t.cfg.MaxNetworksPerApp || in.nets >= MaxStagedNetworksPerFile {
				n = in.overflowNet(a, ts)
			} else {
				n = in.newNet(a, info.key, ts)
			}
		}
		a.lastNK, a.lastNet = info.key, n
	}
	if n == a.overflow {
		in.foldedNets++
	} else if !info.key.special() {
		in.seeAddr(n, info.addr, r.UserID, ts)
	}
	if a.decl != nil && a.decl.nets != nil && !info.key.special() && !a.decl.containsAddr(info.addr) {
		if a.outside == nil {
			a.outside = &outsideCount{}
		}
		a.outside.add(info.addr)
	}
	// The objects: ENTITY_NAME is a set; it usually holds one name.
	e := bytes.TrimSpace(r.EntityName)
	var o *stageObj
	set := len(e) > 0 && !isPlainName(e)
	if len(e) > 0 && !set {
		o = in.objectOf(a, e, ts)
	}
	in.record(a, n, info.ioc, o, set, r, e, ts)
}

// record counts a row whose app, network and (plain) object are resolved.
func (in *Ingest) record(a *stageApp, n *stageNet, ioc uint64, o *stageObj, set bool, r *Row, e []byte, ts int64) {
	a.first, a.last = min(a.first, ts), max(a.last, ts)
	a.rows++
	n.first, n.last = min(n.first, ts), max(n.last, ts)
	n.requests++
	if ioc != 0 {
		in.iocHit(a, ioc, r, ts)
	}
	if n.ev != nil {
		n.ev.requests++
		n.ev.first, n.ev.last = min(n.ev.first, ts), max(n.ev.last, ts)
		n.ev.ioc |= ioc
		n.ev.users.add(r.UserID, maxEvidenceUsers)
	}
	switch {
	case o != nil:
		in.touch(a, n, o, ts)
	case set:
		for part := range bytes.FieldsFuncSeq(e, isSetSeparator) {
			in.touch(a, n, in.objectOf(a, part, ts), ts)
		}
	}
}

func isPlainName(b []byte) bool {
	for _, c := range b {
		if isSetSeparator(rune(c)) {
			return false
		}
	}
	return true
}

// isSetSeparator splits a set-valued ENTITY_NAME: its format is not
// documented, so commas, semicolons, bars, spaces and brackets all split.
func isSetSeparator(r rune) bool {
	switch r {
	case ',', ';', '|', ' ', '\t', '[', ']', '{', '}', '(', ')', '"', '\'':
		return true
	}
	return false
}

var noneName = []byte("(none)")

// appKey sets in.keyBuf to the row's app key (AppKey).
func (in *Ingest) appKey(r *Row) {
	if id := bytes.TrimSpace(r.AppID); len(id) > 0 {
		in.keyBuf = id[:min(len(id), salesforce.IDKeyLength)] // no copy: the usual case
	} else {
		in.nameBuf = appKeyBytes(in.nameBuf, r.AppID, r.AppName)
		in.keyBuf = in.nameBuf
	}
}

// app returns the staged app of in.keyBuf (set by appKey), nil when it is
// over MaxApps.
func (in *Ingest) app(r *Row) *stageApp {
	if in.lastApp != nil && bytes.Equal(in.keyBuf, in.lastKey) {
		return in.lastApp
	}
	slot := &in.appCache[appSlotOf(in.keyBuf)]
	a := slot.a
	if a == nil || slot.key != string(in.keyBuf) {
		a = in.apps[string(in.keyBuf)]
	}
	if a == nil {
		key := string(in.keyBuf)
		if len(in.apps) >= MaxStagedAppsPerFile {
			in.dropped++
			return nil
		}
		if len(in.apps) >= in.t.cfg.MaxApps {
			in.t.mu.RLock()
			_, known := in.t.apps[key]
			in.t.mu.RUnlock()
			if !known {
				in.dropped++
				return nil
			}
		}
		id := salesforce.ID(bytes.TrimSpace(r.AppID)).Key()
		name := string(bytes.TrimSpace(r.AppName))
		if id == "" && name == "" {
			name = string(noneName)
		}
		a = &stageApp{key: key, id: id, name: name, first: in.end, last: in.start,
			nets: map[netKey]*stageNet{}, nets4: map[uint32]*stageNet{}, objs: map[string]*stageObj{},
			sens: make([]int64, len(in.t.cfg.SensitiveObjects)), ioc: make([]int64, len(in.ioc.Names())),
			iocHits: map[[2]string]*iocHit{}, decl: in.decl.lookup(id, name)}
		in.apps[key] = a
	}
	slot.key, slot.a = a.key, a
	in.lastKey = append(in.lastKey[:0], in.keyBuf...)
	in.lastApp = a
	return a
}

// newNet stages a network, and decides whether it is young: not in the
// baseline, or first seen recently enough to be new in a window that holds
// this period. Only young networks keep evidence.
func (in *Ingest) newNet(a *stageApp, k netKey, ts int64) *stageNet {
	n := &stageNet{first: ts, last: ts}
	if !k.special() {
		t := in.t
		t.mu.RLock()
		young := true
		if as := t.apps[a.key]; as != nil {
			// A held network (grade.go) stays young for its hold.
			if e, ok := as.nets[k]; ok && int64(e.first)*3600 < in.youngFrom && !t.heldNew(as, e.first, hourOf(in.end)) {
				young = false
			}
		}
		t.mu.RUnlock()
		if young {
			n.young = true
			n.sens = make([]int64, len(t.cfg.SensitiveObjects))
			n.ev = &stageEvidence{net: k, first: ts, last: ts}
		}
	}
	a.nets[k] = n
	in.nets++
	if k.kind == kindV4 {
		a.nets4[uint32(k.lo)] = n
	}
	return n
}

// overflowNet takes the rows of networks past four times the cap in one
// file, so a file's memory stays flat whatever it holds. They count as new
// (a flood of never-seen networks is what the detection is for) but don't
// enter the baseline.
func (in *Ingest) overflowNet(a *stageApp, ts int64) *stageNet {
	if a.overflow == nil {
		a.overflow = &stageNet{first: ts, last: ts, young: true, sens: make([]int64, len(in.t.cfg.SensitiveObjects))}
	}
	return a.overflow
}

// objectOf returns (staging it) an app's object. Past the caps on staged
// objects, an object not staged yet is folded: its sensitive-object count
// still goes up, but it enters neither the baseline nor the evidence.
func (in *Ingest) objectOf(a *stageApp, name []byte, ts int64) *stageObj {
	if a.lastObj != nil && bytes.Equal(name, a.lastObjName) {
		return a.lastObj // an app's rows often touch one object in a row
	}
	o := a.objs[string(name)]
	if o == nil {
		sens := -1
		if i, ok := in.t.sens[strings.ToLower(string(name))]; ok {
			sens = i
		}
		if len(a.objs) >= 4*in.t.cfg.MaxObjectsPerApp || in.objs >= MaxStagedObjectsPerFile || in.objBytes+len(name) > MaxStagedObjectBytesPerFile {
			o = in.foldedObject(sens)
		} else {
			key := string(name)
			o = &stageObj{name: key, first: ts, last: ts, sens: sens}
			a.objs[key] = o
			in.objs++
			in.objBytes += len(key)
		}
	}
	a.lastObjName, a.lastObj = append(a.lastObjName[:0], name...), o
	return o
}

// foldedObject is the stand-in for the objects past the caps: one for each
// sensitive object, and one for the rest.
func (in *Ingest) foldedObject(sens int) *stageObj {
	if in.foldObjs == nil {
		in.foldObjs = make([]*stageObj, len(in.t.cfg.SensitiveObjects)+1)
	}
	o := in.foldObjs[sens+1]
	if o == nil {
		o = &stageObj{name: foldedObject, sens: sens, folded: true}
		in.foldObjs[sens+1] = o
	}
	return o
}

// touch counts a row's request to object o from network n.
func (in *Ingest) touch(a *stageApp, n *stageNet, o *stageObj, ts int64) {
	o.first, o.last = min(o.first, ts), max(o.last, ts)
	if o.folded {
		in.foldedObjs++
	}
	if o.sens >= 0 {
		a.sens[o.sens]++
		if n.young {
			n.sens[o.sens]++
		}
	}
	if n.ev != nil {
		n.ev.objects.addString(o.name, maxEvidenceObjects)
	}
}

func (in *Ingest) iocHit(a *stageApp, mask uint64, r *Row, ts int64) {
	for i := range a.ioc {
		if mask&(1<<i) != 0 {
			a.ioc[i]++
		}
	}
	k := [2]string{string(bytes.TrimSpace(r.ClientIP)), string(r.UserID)}
	h := a.iocHits[k]
	if h == nil {
		if len(a.iocHits) >= maxIOCHits || in.iocHits >= maxIOCHitsPerFile {
			return
		}
		in.iocHits++
		h = &iocHit{ip: k[0], user: k[1], first: ts, last: ts, mask: mask}
		a.iocHits[k] = h
	}
	h.requests++
	h.first, h.last = min(h.first, ts), max(h.last, ts)
}
