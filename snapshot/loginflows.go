package snapshot

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// FlowCounts are logins by flow (salesforce.LoginFlow), indexed by flow.
type FlowCounts [salesforce.NumLoginFlows]int64

// LoginFlowParts is what the logins source hands the join about login flows.
type LoginFlowParts struct {
	// ByApp are the logins of the 24-hour window by LoginHistory.Application.
	ByApp map[string]FlowCounts
	// Org counts every login of the window by flow, those without an app too.
	Org FlowCounts
	// SubTypeReadable is false when LoginSubType answered INVALID_FIELD:
	// OAuth logins then count under salesforce.LoginFlowUnknown.
	SubTypeReadable bool
	// Legacy are the integrations on a legacy flow (LoginFlow.Legacy).
	Legacy []LegacyLogin
}

// LegacyLogin is one app (LoginHistory.Application, "" when the row names
// none) logging in with one legacy flow over the 24-hour window. Its users
// are for the review only, never a metric.
type LegacyLogin struct {
	App, AppID string
	Flow       salesforce.LoginFlow
	Logins     int64 // successful or not
	Failures   int64
	LastSeen   time.Time
	// Users are the Ids of the users who logged in, at most
	// MaxLegacyUsers; MoreUsers counts the others.
	Users     []string
	MoreUsers int
}

// MaxLegacyUsers bounds the users a LegacyLogin names.
const MaxLegacyUsers = 20

// MaxLegacyLogins bounds the LegacyLogin rows of an org: the most used
// ones are kept.
const MaxLegacyLogins = 200

// joinLoginFlows matches the logins by flow to apps by name, as joinLogins
// does for OAuth logins. A SOAP login() row names its client, not a
// connected app: it adds no app, and counts only when the name is one
// app's.
func (j *join) joinLoginFlows() {
	lf := j.p.LoginFlows
	if lf == nil {
		return
	}
	j.snap.HasLoginFlows = true
	j.snap.LoginSubTypeReadable = lf.SubTypeReadable
	j.snap.LoginsByFlow = lf.Org
	for _, name := range sortedKeys(lf.ByApp) {
		cands := j.byName[strings.ToLower(name)]
		if len(cands) != 1 {
			continue
		}
		a := cands[0]
		a.HasLoginFlows = true
		n := lf.ByApp[name]
		for f := range n {
			a.LoginsByFlow[f] += n[f]
		}
	}
	legacy := slices.Clone(lf.Legacy)
	for i := range legacy {
		if cands := j.byName[strings.ToLower(legacy[i].App)]; len(cands) == 1 {
			legacy[i].AppID = cands[0].ID
		}
	}
	slices.SortStableFunc(legacy, func(a, b LegacyLogin) int {
		return cmp.Or(cmp.Compare(b.Logins, a.Logins), cmp.Compare(a.App, b.App), cmp.Compare(a.Flow, b.Flow))
	})
	if len(legacy) > MaxLegacyLogins {
		legacy = legacy[:MaxLegacyLogins]
	}
	j.snap.LegacyLogins = legacy
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
