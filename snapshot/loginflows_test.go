package snapshot

import (
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// TestJoinLoginFlows: logins by flow join the one app of their name; a
// name two apps share, or no app has (a SOAP login() client), adds no app
// and is counted for none; the legacy list keeps every row, with the app's
// Id where one app has the name, the most logins first, at most
// MaxLegacyLogins.
func TestJoinLoginFlows(t *testing.T) {
	t.Parallel()
	var soap, up FlowCounts
	soap[salesforce.LoginSOAP] = 4
	up[salesforce.LoginUsernamePassword] = 2
	p := Parts{
		AppsKnown:     true,
		ConnectedApps: []salesforce.ConnectedApplication{{ID: loaderID18, Name: "Data Loader"}},
		MenuItems:     []salesforce.AppMenuItem{{ID: "0DS01", ApplicationID: loaderID15, Label: "Data Loader"}},
		TokensKnown:   true,
		Tokens:        []AppTokens{tokens("Twin", "", 1), tokens("Twin", "0DS02", 1)},
		LoginFlows:    &LoginFlowParts{SubTypeReadable: true, ByApp: map[string]FlowCounts{"data loader": up, "Twin": up, "Dataloader Partner": soap}, Org: soap},
	}
	for i := range MaxLegacyLogins + 5 {
		p.LoginFlows.Legacy = append(p.LoginFlows.Legacy, LegacyLogin{App: "Client " + string(rune('A'+i%26)), Flow: salesforce.LoginSOAP, Logins: int64(i)})
	}
	p.LoginFlows.Legacy = append(p.LoginFlows.Legacy, LegacyLogin{App: "Data Loader", Flow: salesforce.LoginUsernamePassword, Logins: 1000})
	snap, _ := Build("prod", p, func(string, string, string) *config.InventoryEntry { return nil }, nil, time.Unix(1_780_000_000, 0))
	for _, a := range snap.Apps {
		switch a.Name {
		case "Data Loader":
			if !a.HasLoginFlows || a.LoginsByFlow != up {
				t.Errorf("Data Loader by flow %v (known %t), want its 2 username-password logins", a.LoginsByFlow, a.HasLoginFlows)
			}
		case "Twin":
			if a.HasLoginFlows {
				t.Errorf("Twin %q: a name two apps share is no app's", a.ID)
			}
		default:
			t.Errorf("unexpected app %q", a.Name)
		}
	}
	if !snap.HasLoginFlows || !snap.LoginSubTypeReadable || snap.LoginsByFlow != soap {
		t.Errorf("org flows %v (known %t, readable %t)", snap.LoginsByFlow, snap.HasLoginFlows, snap.LoginSubTypeReadable)
	}
	if len(snap.LegacyLogins) != MaxLegacyLogins || snap.LegacyLogins[0].App != "Data Loader" || snap.LegacyLogins[0].AppID != loaderID18 || snap.LegacyLogins[1].Logins != MaxLegacyLogins+4 {
		t.Errorf("legacy rows: %d, first %+v, second %+v", len(snap.LegacyLogins), snap.LegacyLogins[0], snap.LegacyLogins[1])
	}
}
