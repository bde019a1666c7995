package review

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// TestLegacyAuthenticationSection: the snapshot's legacy logins reach the
// JSON, the CSV and the text alike, users named from the per-user detail
// (the Id when it does not know them), the table cut at five users with
// the rest counted; an unreadable LoginSubType is a note.
func TestLegacyAuthenticationSection(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	users := []string{"005000000000001AAA", "005000000000002AAA", "005000000000003AAA", "005000000000004AAA", "005000000000005AAA", "005000000000006AAA"}
	snap := &snapshot.Snapshot{
		Org: "prod", Taken: now, HasLoginFlows: true, LoginSubTypeReadable: true,
		LegacyLogins: []snapshot.LegacyLogin{
			{App: "ERP", AppID: "0H4000000000001AAA", Flow: salesforce.LoginUsernamePassword, Logins: 9, Failures: 2, LastSeen: now.Add(-time.Hour), Users: users, MoreUsers: 3},
			{App: "=cmd", Flow: salesforce.LoginSOAP, Logins: 1, LastSeen: now.Add(-2 * time.Hour), Users: users[:1]},
		},
	}
	d := &Detail{Taken: now, Tokens: []TokenRow{{UserID: "005000000000001", Username: "int@example.com"}}}
	inv := func(string, string, string) *config.InventoryEntry { return nil }
	r := Build(snap, d, inv, DefaultOptions())
	if len(r.Legacy) != 2 || r.Legacy[0].Flow != "username_password" || r.Legacy[0].Users[0].User != "int@example.com" || r.Legacy[0].Users[1].User != "" ||
		!strings.Contains(r.Legacy[1].Fix, "Summer '27") {
		t.Fatalf("legacy rows %+v", r.Legacy)
	}
	var js bytes.Buffer
	if err := Write(&js, []*Report{r}, "json"); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Legacy []LegacyLogin `json:"legacy_authentication"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Legacy) != 2 || back.Legacy[0].Logins != 9 || len(back.Legacy[0].Users) != 6 || back.Legacy[0].MoreUsers != 3 {
		t.Errorf("JSON legacy_authentication %+v (%v)", back.Legacy, err)
	}
	var cb bytes.Buffer
	if err := Write(&cb, []*Report{r}, "csv"); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&cb).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	flow := slices.Index(rows[0], "flow")
	var got []string
	for _, row := range rows[1:] {
		if row[1] == "legacy_authentication" {
			got = append(got, row[2]+"|"+row[flow]+"|"+row[4])
		}
	}
	want := []string{"ERP|username_password|int@example.com, 005000000000002AAA, 005000000000003AAA, 005000000000004AAA, 005000000000005AAA, 4 more", "'=cmd|soap_login|int@example.com"}
	if !slices.Equal(got, want) {
		t.Errorf("CSV legacy rows\n%q\nwant\n%q", got, want)
	}
	var tb bytes.Buffer
	if err := Write(&tb, []*Report{r}, "text"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tb.String(), "Integrations still on legacy authentication") || !strings.Contains(tb.String(), "username_password") {
		t.Error("the text review has no legacy authentication section")
	}
	snap.LoginSubTypeReadable = false
	if r := Build(snap, d, inv, DefaultOptions()); !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, "LoginSubType is not readable") }) {
		t.Errorf("no note says LoginSubType is unreadable: %q", r.Notes)
	}
}
