package snapshot

import (
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// Scopes as the Metadata API spells them and as OAuth requests name them
// fall in the same class; anything unlisted is other, never dropped.
func TestScopeClass(t *testing.T) {
	t.Parallel()
	for scope, want := range map[string]string{
		"Full": "full", "full": "full", "Api": "api", "RefreshToken": "refresh_token", "refresh_token": "refresh_token",
		"OfflineAccess": "refresh_token", "offline_access": "refresh_token", "Web": "web", "OpenID": "openid",
		"Chatter": "chatter_api", "chatter_api": "chatter_api", "CustomPermissions": "custom_permissions",
		"Wave": "wave_api", "wave_api": "wave_api", "Content": "content", "CustomApplications": "visualforce",
		"visualforce": "visualforce", "Lightning": "lightning", "CDPIngest": "cdp", "cdp_query_api": "cdp",
		"Pardot": "pardot", "pardot_api": "pardot", "Basic": "other", "Email": "other", "": "other", "Eclair": "other",
	} {
		if got := ScopeClasses[ScopeClass(scope)]; got != want {
			t.Errorf("ScopeClass(%q) = %s, want %s", scope, got, want)
		}
	}
}

// IP relaxation values of connected apps (ipRelaxation) and External
// Client Apps (ipRelaxationPolicyType) map to the fixed policies; the
// ranking makes any laxer policy a loss and leaves other and unknown out.
func TestIPPolicy(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]string{
		"ENFORCE": "enforce", "Enforce": "enforce", "BYPASS_2FA": "relax_with_2fa", "Bypass_2factor": "relax_with_2fa",
		"BYPASS": "relax", "Bypass": "relax", "ENFORCE_ACTIVATED_DEVICES": "other", "Enforce_RelaxRefresh": "other", "": "unknown",
	} {
		if got := IPPolicy(v); got != want {
			t.Errorf("IPPolicy(%q) = %s, want %s", v, got, want)
		}
	}
	if IPRelaxRank("enforce") >= IPRelaxRank("relax_with_2fa") || IPRelaxRank("relax_with_2fa") >= IPRelaxRank("relax") || IPRelaxRank("other") != -1 || IPRelaxRank("unknown") != -1 {
		t.Error("IP policies are not ranked strictest first, or other and unknown are ranked")
	}
}

// An app listMetadata gives another Id than the ConnectedApplication's is
// matched by its API name (namespace prefix aside), when one app has it.
func TestAppMetadataJoinByAPIName(t *testing.T) {
	t.Parallel()
	j := &join{snap: &Snapshot{}, apps: map[string]*AppUsage{}, byID: map[string]*AppUsage{}}
	add := func(name, id string) *AppUsage {
		a := &AppUsage{Name: name, ID: id, Kind: KindConnectedApp}
		j.apps[id], j.order = a, append(j.order, id)
		return a
	}
	loader := add("Data Loader", "0H4000000000001AAA")
	twinA, twinB := add("Twin-App", "0H4000000000002AAA"), add("Twin App", "0H4000000000003AAA")
	j.p.AppMetadata = &AppMetadataParts{Apps: []salesforce.AppMetadata{
		{FullName: "dl__Data_Loader", ID: "0Ha000000000001AAA", HasOAuth: true, Scopes: []string{"Full"}, IPRelaxation: "BYPASS"},
		{FullName: "Twin_App", ID: "0Ha000000000002AAA", HasOAuth: true, Scopes: []string{"Full"}},
	}, Changes: map[string]map[string]int64{"0Ha000000000001": {"gained_full_scope": 1700000000}}}
	j.joinAppMetadata()
	if p := loader.Posture; p == nil || !p.Scopes.Has(ScopeFull) || p.IPPolicy != "relax" || p.Changes["gained_full_scope"] != 1700000000 {
		t.Errorf("Data Loader's posture %+v; want full scope, relax, and the change judged under its metadata Id", p)
	}
	if twinA.Posture != nil || twinB.Posture != nil {
		t.Error("an API name two apps share matched one of them")
	}
}
