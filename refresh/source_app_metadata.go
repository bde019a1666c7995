package refresh

import (
	"context"
	"fmt"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// appMetadataSource reads the connected apps' OAuth scopes and IP
// relaxation from the Metadata API's ConnectedApp, which SOQL does not
// show. Every Metadata API call needs Modify Metadata Through Metadata API
// Functions or Modify All Data, so the source is opt-in
// (config.OptInSources). Like the posture source, it judges changes
// against the last read the org's state keeps: a first read, a restart or
// a new app is never a change.
type appMetadataSource struct {
	parts *snapshot.AppMetadataParts // nil until the first success
}

// appMetadataPermission is what the Metadata API needs.
const appMetadataPermission = "Modify Metadata Through Metadata API Functions (or Modify All Data)"

// Change kinds the app_metadata source judges.
const (
	ChangeGainedFullScope    = "gained_full_scope"    // the full scope, not granted at the last read
	ChangeLostIPRestrictions = "lost_ip_restrictions" // an IP relaxation laxer than the last read's
)

// appMetadataSpec declares the app_metadata source.
var appMetadataSpec = Spec{
	Name:       config.SourceAppMetadata,
	Permission: appMetadataPermission,
	// Modify Metadata is not among the permissions read: API Enabled is
	// what can be told, and the probe tells the rest.
	HasPermission:    func(p salesforce.UserPermissions) bool { return p.APIEnabled },
	PermissionUnread: true,
	Probe:            probeAppMetadata,
	Resources:        []string{"metadata:listMetadata", "metadata:readMetadata"},
	newSource:        func() source { return &appMetadataSource{} },
}

// probeAppMetadata reads what a refresh reads, and prices it: a list call
// and a read call per ten connected apps.
func probeAppMetadata(ctx context.Context, c *salesforce.Client, _ ProbeInput) (ProbeResult, error) {
	apps, calls, err := c.AppMetadata(ctx)
	res := ProbeResult{Cost: Cost{PerRefresh: float64(calls)}}
	if err != nil {
		if salesforce.IsObjectRefused(err) {
			return res, fmt.Errorf("%w %s: %w", errPermission, appMetadataPermission, err)
		}
		return res, err
	}
	res.Apps = ptr(len(apps))
	res.Notes = append(res.Notes, "this permission lets the integration user deploy metadata, Apex included: grant it only where the scopes and IP relaxation are worth it; External Client Apps are not ConnectedApps and are left out")
	return res, nil
}

func (s *appMetadataSource) refresh(ctx context.Context, e *env) error {
	apps, calls, err := e.client.AppMetadata(ctx)
	if err != nil {
		return permissionError(err, appMetadataPermission)
	}
	mp := &snapshot.AppMetadataParts{Apps: apps, Calls: calls}
	s.judge(e, mp)
	s.parts = mp
	return nil
}

// appMetadataState is what the source keeps across restarts in the org's
// state: each app's last judged read, by Id key.
type appMetadataState struct {
	Apps map[string]*appMetadataSeen `json:"apps"`
}

// appMetadataSeen is one app's last judged read.
type appMetadataSeen struct {
	Full bool `json:"full"`
	// IPRank is snapshot.IPRelaxRank of its IP relaxation (-1: not ranked).
	IPRank  int                  `json:"ip_rank"`
	Changes map[string]time.Time `json:"changes,omitempty"`
}

// judge compares the read with the last one the state holds, stamps the
// changes, and records the read. An IP relaxation that cannot be ranked
// keeps the last rank.
func (s *appMetadataSource) judge(e *env, mp *snapshot.AppMetadataParts) {
	now := e.client.ServerNow().UTC().Truncate(time.Second)
	st := e.state.AppMetadata
	if st == nil {
		st = &appMetadataState{}
		e.state.AppMetadata = st
	}
	first := st.Apps == nil
	if first {
		st.Apps = map[string]*appMetadataSeen{}
	}
	mp.Changes = map[string]map[string]int64{}
	present := map[string]bool{}
	for _, m := range mp.Apps {
		key := snapshot.MetadataKey(m)
		present[key] = true
		full := snapshot.ScopesOf(m.Scopes).Has(snapshot.ScopeFull)
		rank := snapshot.IPRelaxRank(snapshot.IPPolicy(m.IPRelaxation))
		was := st.Apps[key]
		if was == nil {
			// A new app (or the org's first read): its grants are its baseline.
			was = &appMetadataSeen{Full: full, IPRank: rank}
			st.Apps[key] = was
		}
		stamp := func(kind string) {
			if was.Changes == nil {
				was.Changes = map[string]time.Time{}
			}
			was.Changes[kind] = now
		}
		if full && !was.Full {
			stamp(ChangeGainedFullScope)
		}
		if rank >= 0 && was.IPRank >= 0 && rank > was.IPRank {
			stamp(ChangeLostIPRestrictions)
		}
		was.Full = full
		if rank >= 0 {
			was.IPRank = rank
		}
		if len(was.Changes) > 0 {
			ch := map[string]int64{}
			for k, t := range was.Changes {
				ch[k] = t.Unix()
			}
			mp.Changes[key] = ch
		}
	}
	// An app no longer listed leaves the state: it is new again if it
	// comes back (bounded by the apps one read returns).
	for key := range st.Apps {
		if !present[key] {
			delete(st.Apps, key)
		}
	}
	e.stateChanged()
}

func (s *appMetadataSource) contribute(p *snapshot.Parts) { p.AppMetadata = s.parts }
