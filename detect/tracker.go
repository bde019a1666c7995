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
	"fmt"
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
	decl    *declarations         // the inventory's declared expectations; nil for none
	judged  map[string]*appJudged // by app key: the judged counters (days.go)
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
	days          []dayFig // the daily records of the grading (grade.go), oldest first
	held          int32    // the hour a hold began; 0 when none (grade.go)
	woke          *wake    // its latest use after a gap (dormant.go)
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
	outside  *outsideCount // requests outside the declared networks; nil for none

	// The client addresses of the period's requests, for an IOC list's
	// re-check (recheck.go): kept (addrsKept) only for a file read since
	// the start, not for a period of the state file.
	addrs      []addrSeen
	addrsOther int64 // requests of addresses not kept
	addrsKept  bool
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
	fromNew     int64
	users       int64 // distinct users with a login
	newUsers    int64 // distinct users with a login from a new network
	ioc         map[string]int64
	outsideDecl int64 // logins from outside the app's declared networks
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

// SetIOC replaces the IOC lists (on a config reload). The periods held
// are matched again against the new lists (recheck.go), as is data
// ingested from now on; logins are matched again on the next Logins call.
func (t *Tracker) SetIOC(s *IOCSet) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ioc = s
	t.recheckIOC()
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
		clamp(&a.held)
		for i := range a.days {
			clamp(&a.days[i].end)
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
