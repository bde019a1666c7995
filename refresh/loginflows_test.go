package refresh

import (
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// addFlowLogins adds One's and a SOAP client's logins of several flows:
// the subtypes as API names and as labels, one the exporter does not know.
func addFlowLogins(org *sftest.Org, now time.Time) (u, v int) {
	u = org.AddUser("int@example.com", true)
	v = org.AddUser("admin@example.com", true)
	at := func(m int) time.Time { return now.Add(-time.Duration(m) * time.Minute) }
	org.AddLogin(sftest.LoginSpec{User: u, App: "One", Time: at(50), SubType: "OauthUsernamePassword"})
	org.AddLogin(sftest.LoginSpec{User: v, App: "One", Time: at(40), SubType: "OAuth Username-Password"})
	org.AddLogin(sftest.LoginSpec{User: u, App: "One", Time: at(30), SubType: "OauthUsernamePassword", Status: "Invalid Password"})
	org.AddLogin(sftest.LoginSpec{User: u, App: "One", Time: at(20), SubType: "OAuth Refresh Token"})
	org.AddLogin(sftest.LoginSpec{User: u, App: "One", Time: at(10), SubType: "OauthSomethingNew"})
	org.AddLogin(sftest.LoginSpec{User: u, App: "Late", Time: at(10), SubType: "OauthJwtBearer"})
	// SOAP login() calls: one by a client named as no app, one named One.
	org.AddLogin(sftest.LoginSpec{User: v, App: "Dataloader Partner", Time: at(5), LoginType: "Other Apex API", APIType: "SOAP Partner"})
	org.AddLogin(sftest.LoginSpec{User: u, App: "One", Time: at(4), LoginType: "Other Apex API", APIType: "SOAP Enterprise"})
	// A UI login is no integration's.
	org.AddLogin(sftest.LoginSpec{User: v, App: "Browser", Time: at(3), LoginType: "Application", SubType: "UsernamePasswordUiLogin"})
	return u, v
}

// TestLoginFlows: LoginHistory's LoginSubType (API name or label) and, for
// SOAP login() calls, LoginType and ApiType give each app's logins by flow
// from a fixed set; an unknown subtype counts as other. SOAP login() calls
// count by flow only (not as OAuth logins) and add no app; the legacy
// flows' integrations are listed with their users.
func TestLoginFlows(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org, _, r := loginsOrg(t, now, 0)
	addFlowLogins(org, now)
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	snap := r.Snapshot()
	if !snap.HasLoginFlows || !snap.LoginSubTypeReadable {
		t.Fatalf("HasLoginFlows %t, LoginSubTypeReadable %t; want both", snap.HasLoginFlows, snap.LoginSubTypeReadable)
	}
	one := findApp(t, snap, "One")
	want := snapshot.FlowCounts{}
	want[salesforce.LoginUsernamePassword] = 3
	want[salesforce.LoginRefreshToken] = 1
	want[salesforce.LoginFlowOther] = 1
	want[salesforce.LoginSOAP] = 1
	if !one.HasLoginFlows || one.LoginsByFlow != want {
		t.Errorf("One by flow %v (known %t), want %v", one.LoginsByFlow, one.HasLoginFlows, want)
	}
	if one.LoginSuccess != 4 || one.LoginFailure != 1 {
		t.Errorf("One's OAuth logins %d/%d, want 4 successes and 1 failure (SOAP login() is not OAuth)", one.LoginSuccess, one.LoginFailure)
	}
	if late := findApp(t, snap, "Late"); late.LoginsByFlow[salesforce.LoginJWTBearer] != 1 {
		t.Errorf("Late by flow %v, want one JWT bearer login", late.LoginsByFlow)
	}
	if snap.LoginsByFlow[salesforce.LoginSOAP] != 2 || snap.LoginsByFlow[salesforce.LoginUsernamePassword] != 3 {
		t.Errorf("org by flow %v, want 2 SOAP login() and 3 username-password", snap.LoginsByFlow)
	}
	for _, a := range snap.Apps {
		if a.Name == "Dataloader Partner" || a.Name == "Browser" {
			t.Errorf("a login() client or UI login became an app: %q", a.Name)
		}
	}
	if len(snap.LegacyLogins) != 3 {
		t.Fatalf("legacy logins %+v, want One's username-password, then the two SOAP login() clients", snap.LegacyLogins)
	}
	up := snap.LegacyLogins[0]
	if up.App != "One" || up.Flow != salesforce.LoginUsernamePassword || up.Logins != 3 || up.Failures != 1 || len(up.Users) != 2 || !up.LastSeen.Equal(now.Add(-30*time.Minute)) || up.AppID == "" {
		t.Errorf("first legacy row %+v, want One's 3 username-password logins (1 failed) by 2 users, last 11:30, with One's Id", up)
	}
	if s := snap.LegacyLogins[1]; s.App != "Dataloader Partner" || s.Flow != salesforce.LoginSOAP || s.AppID != "" {
		t.Errorf("second legacy row %+v, want the Dataloader Partner client's SOAP login()", s)
	}
}

// TestLoginFlowsWithoutSubType: an org that answers LoginSubType with
// INVALID_FIELD is read without it: OAuth logins count under the unknown
// flow, the snapshot says the subtype is unreadable, and SOAP login()
// calls are still told by LoginType and ApiType.
func TestLoginFlowsWithoutSubType(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org, _, r := loginsOrg(t, now, 0)
	org.Behavior.NoLoginSubType = true
	addFlowLogins(org, now)
	for i := range 2 {
		if err := r.RefreshAll(t.Context()); err != nil {
			t.Fatalf("refresh %d: %v", i+1, err)
		}
	}
	snap := r.Snapshot()
	if !snap.HasLoginFlows || snap.LoginSubTypeReadable {
		t.Fatalf("HasLoginFlows %t, LoginSubTypeReadable %t; want true and false", snap.HasLoginFlows, snap.LoginSubTypeReadable)
	}
	one := findApp(t, snap, "One")
	if one.LoginSuccess != 4 || one.LoginsByFlow[salesforce.LoginFlowUnknown] != 5 || one.LoginsByFlow[salesforce.LoginSOAP] != 1 {
		t.Errorf("One: %d OAuth successes, by flow %v; want 4, and 5 unknown and 1 SOAP login()", one.LoginSuccess, one.LoginsByFlow)
	}
	if !snap.Sources["logins"].Up {
		t.Errorf("logins source down: %s", snap.Sources["logins"].LastError)
	}
}

// TestProbeLoginSubType: check says whether LoginSubType is readable, and
// how many of the day's logins carry one.
func TestProbeLoginSubType(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, missing := range []bool{false, true} {
		org, _, r := loginsOrg(t, now, 0)
		org.Behavior.NoLoginSubType = missing
		addFlowLogins(org, now)
		// A first request sets the client's clock to the org's.
		if err := r.RefreshAll(t.Context()); err != nil {
			t.Fatal(err)
		}
		res, err := probeLogins(t.Context(), r.Client(), ProbeInput{})
		if err != nil {
			t.Fatal(err)
		}
		notes := strings.Join(res.Notes, "\n")
		want := "LoginSubType is readable: 7 of the last 24 hours' 9 logins carry a flow"
		if missing {
			want = "LoginSubType is not readable (INVALID_FIELD)"
		}
		if !strings.Contains(notes, want) || *res.Rows != 9 {
			t.Errorf("LoginSubType missing %t: rows %d, notes %q; want a note with %q", missing, *res.Rows, notes, want)
		}
	}
}
