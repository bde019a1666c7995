// Package detect watches where each app's API requests and OAuth logins come
// from and what they touch, to catch a stolen token that keeps a normal
// volume: requests from networks the app never used, objects it never
// touched, addresses on known-bad lists.
//
// A Tracker keeps, per app of one org, the networks (addresses grouped into
// an IPv4 /24 or IPv6 /48 by default) and objects (ENTITY_NAME) it has seen,
// with when each was first and last seen, bounded by a cap per app with
// least-recently-seen eviction. ApiTotalUsage files are ingested one period
// at a time (Begin, Add per row, Commit); nothing changes unless the whole
// file commits, and a re-issued file replaces its period. Figures gives the
// 24-hour-window numbers the metrics need; Evidence, IOCHits and
// LoginEvidence give the per-user detail only the review may show. The
// package knows nothing of Prometheus.
package detect

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// Window is the length of the window the figures cover.
const Window = 24 * time.Hour

// Defaults.
const (
	DefaultMinBaseline       = 7 * 24 * time.Hour
	DefaultMaxNetworksPerApp = 1000
	DefaultMaxObjectsPerApp  = 500
	DefaultMaxApps           = 5000
)

// DefaultSensitiveObjects are the objects whose requests are counted one by
// one: what the 2025 data-theft campaigns exported.
var DefaultSensitiveObjects = []string{"User", "Account", "Contact", "Lead", "Opportunity", "Case"}

// Bounds on the evidence kept for the review.
const (
	evidenceRetention     = 8 * 24 * time.Hour // a weekly review, with a day of slack
	maxEvidenceNets       = 16                 // per app and period: the busiest
	maxEvidenceUsers      = 8                  // per network
	maxEvidenceObjects    = 8                  // per network
	maxIOCHits            = 256                // per app and period
	maxEvidenceNetsGlobal = 5000               // over all periods; the oldest go first
	ipCacheSize           = 1 << 16
)

// Bounds on what one file stages, whatever its shape, so that its ingest
// stays small: a staged network costs about 700 bytes (with its evidence),
// a staged object its name (at most 1 KiB) and about 100 bytes. The rows of
// networks and objects past them are folded (see Ingest.Folded): they count
// as requests, and a folded network's as new, but they enter neither the
// baseline nor the evidence.
const (
	// MaxStagedAppsPerFile bounds the apps one file stages: the rows of
	// the rest are dropped (DroppedRows), as those of apps over MaxApps.
	MaxStagedAppsPerFile = 1000
	// MaxStagedNetworksPerFile bounds the networks one file stages over all
	// its apps (each app also stages at most 4 × max_networks_per_app).
	MaxStagedNetworksPerFile = 50_000
	// MaxStagedObjectsPerFile bounds the objects one file stages over all
	// its apps (each app also stages at most 4 × max_objects_per_app).
	MaxStagedObjectsPerFile = 20_000
	// MaxStagedObjectBytesPerFile bounds the bytes of the object names one
	// file stages: 20,000 names of a real org's length take a tenth of it,
	// 20,000 names of 1 KiB (the longest the reader keeps) would take 20 MiB
	// in the file's staging, then in the baseline and the state file.
	MaxStagedObjectBytesPerFile = 4 << 20
	// maxIOCHitsPerFile bounds the (address, user) pairs on IOC lists one
	// file keeps for the review, over all its apps (maxIOCHits per app).
	maxIOCHitsPerFile = 20_000
)

// foldedObject is the evidence's name for the objects a file had no room
// to stage.
const foldedObject = "(objects over the cap)"

// Config configures a Tracker. Zero fields take the defaults.
type Config struct {
	IPv4Prefix        int           // default 24
	IPv6Prefix        int           // default 48
	MinBaseline       time.Duration // an app's networks and objects count as new only once it has been watched this long
	SensitiveObjects  []string      // objects counted one by one; nil means DefaultSensitiveObjects
	MaxNetworksPerApp int
	MaxObjectsPerApp  int
	MaxApps           int
}

// WithDefaults fills in the zero fields.
func (c Config) WithDefaults() Config {
	if c.IPv4Prefix == 0 {
		c.IPv4Prefix = DefaultIPv4Prefix
	}
	if c.IPv6Prefix == 0 {
		c.IPv6Prefix = DefaultIPv6Prefix
	}
	if c.MinBaseline == 0 {
		c.MinBaseline = DefaultMinBaseline
	}
	if c.SensitiveObjects == nil {
		c.SensitiveObjects = DefaultSensitiveObjects
	}
	if c.MaxNetworksPerApp == 0 {
		c.MaxNetworksPerApp = DefaultMaxNetworksPerApp
	}
	if c.MaxObjectsPerApp == 0 {
		c.MaxObjectsPerApp = DefaultMaxObjectsPerApp
	}
	if c.MaxApps == 0 {
		c.MaxApps = DefaultMaxApps
	}
	return c
}

// Validate checks a config (after WithDefaults).
func (c Config) Validate() error {
	if err := checkPrefixes(c.IPv4Prefix, c.IPv6Prefix); err != nil {
		return err
	}
	if c.MinBaseline < 0 {
		return fmt.Errorf("min_baseline %v is negative", c.MinBaseline)
	}
	if c.MaxNetworksPerApp < 10 || c.MaxObjectsPerApp < 10 || c.MaxApps < 1 {
		return fmt.Errorf("caps too small: at least 10 networks and 10 objects per app")
	}
	seen := map[string]bool{}
	for _, o := range c.SensitiveObjects {
		if o == "" || strings.ContainsAny(o, " ,;|{}[]\"") {
			return fmt.Errorf("sensitive object %q is not an object API name such as Account or Invoice__c", o)
		}
		if seen[strings.ToLower(o)] {
			return fmt.Errorf("sensitive object %q is listed twice", o)
		}
		seen[strings.ToLower(o)] = true
	}
	return nil
}

// Tracker is one org's network and object baseline. It is safe for
// concurrent use; one goroutine at a time should ingest.
type Tracker struct {
	mu      sync.RWMutex
	cfg     Config
	g       grouper
	sens    map[string]int // lower-case object name → index in cfg.SensitiveObjects
	ioc     *IOCSet
	apps    map[string]*appState
	byName  map[string]string // lower-case name → key of the app with an Id
	periods map[string]*period

	loginFigs map[string]*loginFig
	loginEv   map[string][]LoginHit

	dropped int64 // rows of apps over MaxApps
}

type appState struct {
	key, id, name string
	since         int32 // hour of the first data
	nets          map[netKey]netEntry
	objs          map[string]objEntry
}

// Times in the baseline are Unix hours: windows start on the hour, so
// "first seen in the window" is exact, and the state stays small.
type netEntry struct{ first, last, lastAPI int32 } // lastAPI 0: only seen in logins

type objEntry struct{ first, last int32 }

type period struct {
	key, interval, fileID string
	start, end            int64 // Unix seconds
	apps                  map[string]*periodApp
}

type periodApp struct {
	requests int64
	sens     []int64
	ioc      map[string]int64
	young    map[int32]*youngBucket // by the first-seen hour of the network
	evidence []*netEvidence
	evDrop   int64 // requests from young networks beyond maxEvidenceNets
	iocHits  []*iocHit
}

type youngBucket struct {
	requests int64
	sens     []int64
}

type netEvidence struct {
	net         netKey
	first, last int64 // Unix seconds within the period
	requests    int64
	objects     map[string]int64
	users       map[string]int64
	otherUsers  int64
	ioc         uint64
}

type iocHit struct {
	list, ip, user string
	requests       int64
	first, last    int64
	mask           uint64 // while staged
}

type loginFig struct {
	fromNew int64
	ioc     map[string]int64
}

// New returns an empty Tracker.
func New(cfg Config) (*Tracker, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Tracker{cfg: cfg, g: grouper{v4: cfg.IPv4Prefix, v6: cfg.IPv6Prefix}, sens: map[string]int{},
		apps: map[string]*appState{}, byName: map[string]string{}, periods: map[string]*period{}}
	for i, o := range cfg.SensitiveObjects {
		t.sens[strings.ToLower(o)] = i
	}
	return t, nil
}

// Config returns the tracker's config, defaults filled in.
func (t *Tracker) Config() Config { return t.cfg }

// SetIOC replaces the IOC lists (on a config reload). Data ingested from
// now on is matched against the new lists; logins are matched again on the
// next Logins call.
func (t *Tracker) SetIOC(s *IOCSet) {
	t.mu.Lock()
	t.ioc = s
	t.mu.Unlock()
}

// ClampFuture moves the baseline's hours later than now's (an app's first
// data, a network's or an object's first and last sighting) back to now's
// hour: a state written under a clock that ran ahead, or edited, would
// otherwise keep an app out of its learning window's end for ever and its
// networks the most recently seen. It returns how many times it moved.
func (t *Tracker) ClampFuture(now time.Time) int {
	h := hourOf(now.Unix())
	n := 0
	clamp := func(v *int32) {
		if *v > h {
			*v = h
			n++
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, a := range t.apps {
		clamp(&a.since)
		for k, e := range a.nets {
			clamp(&e.first)
			clamp(&e.last)
			clamp(&e.lastAPI)
			a.nets[k] = e
		}
		for k, e := range a.objs {
			clamp(&e.first)
			clamp(&e.last)
			a.objs[k] = e
		}
	}
	return n
}

// AppKey is the key the tracker files an app under: the 15-character
// CONNECTED_APP_ID when there is one, else the name.
func AppKey(id, name string) string {
	id = strings.TrimSpace(id)
	if id != "" {
		return salesforce.ID(id).Key()
	}
	return "n:" + strings.ToLower(strings.TrimSpace(name))
}

func appKeyBytes(buf []byte, id, name []byte) []byte {
	id = bytes.TrimSpace(id)
	if len(id) > 0 {
		return append(buf[:0], id[:min(len(id), salesforce.IDKeyLength)]...)
	}
	buf = append(buf[:0], "n:"...)
	for _, c := range bytes.TrimSpace(name) {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf = append(buf, c)
	}
	return buf
}

func hourOf(unix int64) int32 { return int32(unix / 3600) }

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
	objs       int   // objects staged, over all apps
	objBytes   int   // bytes of their names
	foldedNets int64 // rows of networks past the caps
	foldedObjs int64 // rows touching objects past the caps
	foldObjs   []*stageObj
}

// appCacheSize is the number of slots of an ingest's app cache: well over
// the apps of most orgs, and small enough to stay in a CPU cache.
const appCacheSize = 1024

type appSlot struct {
	key string
	a   *stageApp
}

// appSlotOf is an app key's slot: its length and last eight bytes (where
// Ids differ) mixed. Keys that share a slot take turns in it.
func appSlotOf(k []byte) int {
	return int((fingerprint(k) * 0x9e3779b97f4a7c15) >> (64 - 10)) // 10 bits: appCacheSize
}

type ipInfo struct {
	key netKey
	ioc uint64
}

type stageApp struct {
	key, id, name string
	first, last   int64
	rows          int64
	nets          map[netKey]*stageNet
	nets4         map[uint32]*stageNet // the IPv4 networks of nets, by address: a cheaper key
	lastNK        netKey
	lastNet       *stageNet
	overflow      *stageNet
	objs          map[string]*stageObj
	lastObjName   []byte
	lastObj       *stageObj
	sens          []int64
	ioc           []int64
	iocHits       map[[2]string]*iocHit
}

type stageNet struct {
	first, last int64
	young       bool
	requests    int64
	sens        []int64
	ev          *stageEvidence
}

// stageEvidence is a young network's evidence while its file is ingested;
// Commit turns the busiest into netEvidence.
type stageEvidence struct {
	net            netKey
	first, last    int64
	requests       int64
	objects, users topCount
	ioc            uint64
}

func (e *stageEvidence) commit() *netEvidence {
	return &netEvidence{net: e.net, first: e.first, last: e.last, requests: e.requests,
		objects: e.objects.counts(), users: e.users.counts(), otherUsers: e.users.other, ioc: e.ioc}
}

// evidenceSlots is the most keys a topCount holds: at least
// maxEvidenceUsers and maxEvidenceObjects.
const evidenceSlots = 8

// topCount counts the rows of the first evidenceSlots distinct keys it
// meets (users, or objects), and the rest in other: what a map capped at
// that size would hold, without hashing a key per row. A key is found by a
// scan of fingerprints; it allocates once, when it takes a slot.
type topCount struct {
	n     int
	fp    [evidenceSlots]uint64
	keys  [evidenceSlots]string
	c     [evidenceSlots]int64
	other int64
}

// fingerprint is a cheap summary of a key: its length and last eight
// bytes, where Salesforce Ids and object names differ. Equal keys have equal
// fingerprints; the key itself is compared on a match.
func fingerprint(k []byte) uint64 {
	var v uint64
	if len(k) >= 8 {
		v = binary.LittleEndian.Uint64(k[len(k)-8:])
	} else {
		for _, c := range k {
			v = v<<8 | uint64(c)
		}
	}
	return v ^ uint64(len(k))*0x9e3779b97f4a7c15
}

// add counts a row of key k; at most limit (<= evidenceSlots) keys are held.
func (t *topCount) add(k []byte, limit int) {
	fp := fingerprint(k)
	for i := range t.n {
		if t.fp[i] == fp && t.keys[i] == string(k) {
			t.c[i]++
			return
		}
	}
	if t.n >= min(limit, evidenceSlots) {
		t.other++
		return
	}
	t.fp[t.n], t.keys[t.n], t.c[t.n] = fp, string(k), 1
	t.n++
}

// addString is add for a key held elsewhere (an object's staged name): a
// slot shares its memory instead of copying it.
func (t *topCount) addString(k string, limit int) {
	fp := fingerprint([]byte(k)) // no copy: the conversion does not escape
	for i := range t.n {
		if t.fp[i] == fp && t.keys[i] == k {
			t.c[i]++
			return
		}
	}
	if t.n >= min(limit, evidenceSlots) {
		t.other++
		return
	}
	t.fp[t.n], t.keys[t.n], t.c[t.n] = fp, k, 1
	t.n++
}

func (t *topCount) counts() map[string]int64 {
	m := make(map[string]int64, t.n)
	for i := range t.n {
		m[t.keys[i]] = t.c[i]
	}
	return m
}

type stageObj struct {
	name        string // the key in objs, shared by the evidence
	first, last int64
	sens        int  // index, or -1
	folded      bool // past the caps: not staged
}

// Begin starts ingesting one period's file.
func (t *Tracker) Begin(p Period) *Ingest {
	if p.Interval != "Hourly" {
		p.Interval = "Daily"
	}
	t.mu.RLock()
	ioc := t.ioc
	t.mu.RUnlock()
	start, end := p.Start.Unix(), p.End().Unix()
	return &Ingest{t: t, p: p, start: start, end: end, youngFrom: end - int64(Window/time.Second), ioc: ioc,
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
		info = ipInfo{key: in.t.g.keyV4(v), ioc: in.ioc.matchV4(v)}
		in.lastIP, in.lastInfo = append(in.lastIP[:0], r.ClientIP...), info
	} else {
		var ok bool
		if info, ok = in.ips[string(r.ClientIP)]; !ok {
			k, addr := in.t.g.key(r.ClientIP)
			info = ipInfo{key: k}
			if !k.special() {
				info.ioc = in.ioc.Match(addr)
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
			iocHits: map[[2]string]*iocHit{}}
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
			if e, ok := as.nets[k]; ok && int64(e.first)*3600 < in.youngFrom {
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
		a.since = minHour(a.since, hourOf(sa.first))
		pa := &periodApp{sens: sa.sens, young: map[int32]*youngBucket{}}
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
			if sn.young && int64(e.first)*3600 >= in.youngFrom {
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
		for name, so := range sa.objs {
			e, ok := a.objs[name]
			first, last := hourOf(so.first), hourOf(so.last)
			if ok {
				e.first, e.last = min(e.first, first), max(e.last, last)
			} else {
				e = objEntry{first: first, last: last}
			}
			a.objs[name] = e
		}
		t.evict(a)
		p.apps[a.key] = pa
	}
	t.periods[p.key] = p
	t.dropped += in.dropped
	t.evictGlobal()
	t.prune()
}

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
			pa.young, pa.sens, pa.ioc = nil, nil, nil
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
