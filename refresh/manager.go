package refresh

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/pubsub"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// Manager runs one Refresher per configured org and swaps them on reload.
type Manager struct {
	storage string
	logger  *slog.Logger
	observe ObserverFactory
	opts    []salesforce.Option
	// streamOpts are every stream's Pub/Sub client options (SetStreamOptions).
	streamOpts []pubsub.Option

	mu       sync.Mutex
	ctx      context.Context
	running  map[string]*running
	cfg      *config.Config
	version  atomic.Uint64
	onChange func()

	leaseHolder string        // SetLease
	leaseTTL    time.Duration // SetLease
}

// SetLease makes every org's refresher write its files only while it holds
// the org's lease (lease.go), named holder, for ttl; call it before Apply.
func (m *Manager) SetLease(holder string, ttl time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.leaseHolder, m.leaseTTL = holder, ttl
}

// OnChange sets a function called after every change of Version (a publish,
// or a change of the set of orgs), such as the metrics handler's Changed.
// It is called without the manager's lock held, from a refresher's
// goroutine or Apply's caller. Set it before Start.
func (m *Manager) OnChange(f func()) { m.onChange = f }

func (m *Manager) changed() {
	m.version.Add(1)
	if m.onChange != nil {
		m.onChange()
	}
}

// Version changes whenever any org publishes a snapshot or the set of orgs changes.
func (m *Manager) Version() uint64 { return m.version.Load() }

type running struct {
	r      *Refresher
	cancel context.CancelFunc
	done   chan struct{}
}

// ObserverFactory returns the request observer for an org's clients (the
// exporter's request metrics: collector.RequestMetrics.ForOrg). It may return nil.
type ObserverFactory func(org string) func(salesforce.RequestInfo)

// NewManager returns a manager that keeps state under storage. observe, when
// not nil, gives each org's clients their request observer; opts are passed
// to every org's client.
func NewManager(storage string, logger *slog.Logger, observe ObserverFactory, opts ...salesforce.Option) *Manager {
	if observe == nil {
		observe = func(string) func(salesforce.RequestInfo) { return nil }
	}
	return &Manager{storage: storage, logger: logger, observe: observe, opts: opts, running: map[string]*running{}}
}

// SettingsFrom is the settings a config puts in force, as the manager applies
// them: one-shot commands use it so they read the state as serve does.
func SettingsFrom(cfg *config.Config) Settings { return settingsFrom(cfg) }

func settingsFrom(cfg *config.Config) Settings {
	return Settings{StaleAfter: time.Duration(cfg.StaleAfter), MaxApps: cfg.MaxAppsPerOrg, Inventory: func(org, name, id string) *config.InventoryEntry { return cfg.InventoryFor(org, name, id) },
		Detection: cfg.Detection.TrackerConfig(), IOC: cfg.Detection.IOC(), Declared: cfg.DeclaredFor,
		ThreatsReviewedUntil: func(org string) time.Time {
			for _, o := range cfg.Orgs {
				if o.Name == org {
					return o.ThreatEventsReviewedUntil
				}
			}
			return time.Time{}
		}}
}

// SetStreamOptions sets the Pub/Sub client options of every org's stream
// (a loopback transport for the demo); call it before Start.
func (m *Manager) SetStreamOptions(opts ...pubsub.Option) { m.streamOpts = opts }

// Start runs the refreshers of cfg until ctx is done.
func (m *Manager) Start(ctx context.Context, cfg *config.Config) error {
	m.mu.Lock()
	m.ctx = ctx
	m.mu.Unlock()
	return m.Apply(cfg)
}

// Apply makes the running refreshers match cfg: an org whose settings are
// unchanged keeps its refresher (and what it has read); a changed one is
// restarted; a removed one is stopped. Inventory and stale_after changes apply
// at once to every org.
func (m *Manager) Apply(cfg *config.Config) error {
	if err := m.apply(cfg); err != nil {
		return err
	}
	// Outside m.mu: whoever listens may read the snapshots at once.
	m.changed()
	return nil
}

func (m *Manager) apply(cfg *config.Config) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	set := settingsFrom(cfg)
	// Build every new refresher first, so a failure changes nothing.
	fresh := map[string]*Refresher{}
	for _, o := range cfg.Orgs {
		if cur, ok := m.running[o.Name]; ok && sameOrg(cur.r.org, o) {
			continue
		}
		r, err := NewRefresher(o, set, m.storage, m.logger, m.observe(o.Name), m.opts...)
		if err != nil {
			return err
		}
		r.onPublish = m.changed
		r.SetStreamOptions(m.streamOpts...)
		r.SetLease(m.leaseHolder, m.leaseTTL)
		fresh[o.Name] = r
	}
	keep := map[string]bool{}
	for _, o := range cfg.Orgs {
		keep[o.Name] = true
	}
	for name, cur := range m.running {
		if !keep[name] || fresh[name] != nil {
			cur.cancel()
			<-cur.done
			delete(m.running, name)
		}
	}
	for _, cur := range m.running {
		cur.r.SetSettings(set)
	}
	for name, r := range fresh {
		ctx, cancel := context.WithCancel(m.ctx)
		run := &running{r: r, cancel: cancel, done: make(chan struct{})}
		go func() {
			defer close(run.done)
			r.Run(ctx)
		}()
		m.running[name] = run
	}
	m.cfg = cfg
	return nil
}

// sameOrg reports whether two org configs would run the same refresher.
// threat_events_reviewed_until is left out: the settings carry it to the
// running refresher (an acknowledgement is no reason for a full sync).
func sameOrg(a, b config.Org) bool {
	a.ThreatEventsReviewedUntil, b.ThreatEventsReviewedUntil = time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

// Wait blocks until every refresher has stopped (after the Start context ends).
func (m *Manager) Wait() {
	m.mu.Lock()
	var dones []chan struct{}
	for _, r := range m.running {
		dones = append(dones, r.done)
	}
	m.mu.Unlock()
	for _, d := range dones {
		<-d
	}
}

// Snapshots returns the latest snapshot of every org, by name (the
// collector reads them through its Snapshots interface).
func (m *Manager) Snapshots() []*snapshot.Snapshot {
	m.mu.Lock()
	names := slices.Sorted(maps.Keys(m.running))
	out := make([]*snapshot.Snapshot, 0, len(names))
	for _, n := range names {
		if s := m.running[n].r.Snapshot(); s != nil {
			out = append(out, s)
		}
	}
	m.mu.Unlock()
	return out
}

// NewClient builds a client of a running org for a one-off job (the /review
// detail), apart from its refresher's: its requests count in the org's
// request metrics and API budget, and also reach observe, so the job can
// count its own calls while the refresher keeps running.
func (m *Manager) NewClient(org string, observe func(salesforce.RequestInfo)) (*salesforce.Client, error) {
	m.mu.Lock()
	cur, ok := m.running[org]
	m.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("org %q is not running", org)
	}
	r := cur.r
	return NewClient(r.org, Chain(m.observe(org), observe, func(ri salesforce.RequestInfo) {
		if countsAgainstAllocation(ri.Resource) {
			r.budget.add(r.now())
		}
	}), append([]salesforce.Option{salesforce.WithLogger(r.logger.With("component", "client"))}, m.opts...)...)
}

// Refresher returns an org's refresher, or nil.
func (m *Manager) Refresher(org string) *Refresher {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.running[org]; ok {
		return r.r
	}
	return nil
}

// Config returns the config in force.
func (m *Manager) Config() *config.Config {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cfg
}
