package snapshot

import (
	"maps"
	"strings"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// The app_metadata join: each connected app's OAuth scopes and IP
// relaxation, read from the Metadata API's ConnectedApp, hung on the
// app's posture by Id.

// ScopeClasses are the scope label values, a fixed list: every scope an
// app may be granted falls in one of them.
var ScopeClasses = []string{"full", "api", "refresh_token", "web", "openid", "chatter_api", "custom_permissions",
	"wave_api", "content", "visualforce", "lightning", "cdp", "pardot", "other"}

// Scope class indexes in ScopeClasses that the judge and the review use.
const (
	ScopeFull         = 0
	ScopeRefreshToken = 2
	scopeOther        = 13
)

// scopeClassOf maps a scope, as the Metadata API's ConnectedApp spells it
// (ConnectedAppOauthAccessScope) or as an OAuth request names it, lower
// case and without separators, to its ScopeClasses index.
var scopeClassOf = map[string]int{
	"full": 0, "api": 1,
	"refreshtoken": 2, "offlineaccess": 2,
	"web": 3, "openid": 4,
	"chatter": 5, "chatterapi": 5,
	"custompermissions": 6,
	"wave":              7, "waveapi": 7,
	"content": 8,
	// "Access Visualforce applications" is CustomApplications in the
	// Metadata API, visualforce in an OAuth request.
	"customapplications": 9, "visualforce": 9,
	"lightning": 10,
	"pardot":    12, "pardotapi": 12,
}

// ScopeClass returns the ScopeClasses index of a scope.
func ScopeClass(scope string) int {
	k := strings.ToLower(strings.NewReplacer("_", "", " ", "", "-", "").Replace(strings.TrimSpace(scope)))
	if c, ok := scopeClassOf[k]; ok {
		return c
	}
	if strings.HasPrefix(k, "cdp") { // CDPIngest, CDPProfile, cdp_query_api, ...
		return 11
	}
	return scopeOther
}

// ScopeSet is a set of ScopeClasses indexes, one bit each.
type ScopeSet uint16

// Has reports whether the set holds the class.
func (s ScopeSet) Has(class int) bool { return s&(1<<class) != 0 }

// ScopesOf returns the classes of the scopes.
func ScopesOf(scopes []string) ScopeSet {
	var s ScopeSet
	for _, sc := range scopes {
		s |= 1 << ScopeClass(sc)
	}
	return s
}

// IPPolicies are the IP relaxation label values, a fixed list.
var IPPolicies = []string{"enforce", "relax_with_2fa", "relax", "other", "unknown"}

// IPPolicy names an app's IP relaxation (oauthPolicy.ipRelaxation, or an
// External Client App's ipRelaxationPolicyType): "enforce", "relax_with_2fa"
// (BYPASS_2FA, Bypass_2factor), "relax" (BYPASS), "other" for a value the
// documentation does not list with those, "unknown" for none.
func IPPolicy(v string) string {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "":
		return "unknown"
	case "ENFORCE":
		return "enforce"
	case "BYPASS_2FA", "BYPASS_2FACTOR":
		return "relax_with_2fa"
	case "BYPASS":
		return "relax"
	}
	return "other"
}

// IPRelaxRank orders the IP policies from the strictest: a policy of a
// higher rank than the last one read is a loss of IP restrictions; -1 for
// one that cannot be ranked (other, unknown).
func IPRelaxRank(policy string) int {
	switch policy {
	case "enforce":
		return 0
	case "relax_with_2fa":
		return 1
	case "relax":
		return 2
	}
	return -1
}

// AppMetadataParts is what the app_metadata source last read.
type AppMetadataParts struct {
	Apps []salesforce.AppMetadata
	// Calls is how many Metadata API calls the latest read made.
	Calls int
	// Changes are the judged changes (ChangeGainedFull, ChangeLostIP), by
	// app Id key and kind, as Unix seconds.
	Changes map[string]map[string]int64
}

// OrgMetadata is the org's app_metadata figures.
type OrgMetadata struct {
	// Apps is how many connected apps were read; Calls the calls it took.
	Apps, Calls int
}

// joinAppMetadata hangs the scopes and IP relaxation on the apps, by Id.
// It adds no app.
func (j *join) joinAppMetadata() {
	mp := j.p.AppMetadata
	if mp == nil {
		return
	}
	j.snap.Metadata = &OrgMetadata{Apps: len(mp.Apps), Calls: mp.Calls}
	// listMetadata's Id is taken to be the ConnectedApplication's (not
	// confirmed in the documentation): an app it does not find is matched
	// by its API name, the app's name with every other character than
	// letters and digits an underscore, when exactly one connected app has it.
	byAPIName := map[string][]*AppUsage{}
	for _, k := range j.order {
		if a := j.apps[k]; a.Kind == KindConnectedApp {
			n := apiName(a.Name)
			byAPIName[n] = append(byAPIName[n], a)
		}
	}
	for _, m := range mp.Apps {
		key := MetadataKey(m)
		a := j.byID[salesforce.ID(m.ID).Key()]
		if a == nil {
			name := m.FullName
			if i := strings.Index(name, "__"); i >= 0 {
				name = name[i+2:]
			}
			if c := byAPIName[strings.ToLower(name)]; len(c) == 1 {
				a = c[0]
			}
		}
		if a == nil {
			continue
		}
		p := a.posture()
		p.HasMetadata = true
		p.HasOAuth = m.HasOAuth
		p.Scopes = ScopesOf(m.Scopes)
		p.IPPolicy = IPPolicy(m.IPRelaxation)
		// Changes are keyed by the Id listMetadata gave.
		if ch := mp.Changes[key]; len(ch) > 0 {
			merged := maps.Clone(p.Changes)
			if merged == nil {
				merged = map[string]int64{}
			}
			maps.Copy(merged, ch)
			p.Changes = merged
		}
	}
}

// MetadataKey keys an app's judged changes: the Id listMetadata gave it,
// or its full name without one.
func MetadataKey(m salesforce.AppMetadata) string {
	if m.ID == "" {
		return "name:" + m.FullName
	}
	return salesforce.ID(m.ID).Key()
}

// apiName is the lower-case API name an app's name makes: letters and
// digits kept, every other character an underscore.
func apiName(name string) string {
	return strings.ToLower(strings.Map(func(r rune) rune {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return r
		}
		return '_'
	}, name))
}
