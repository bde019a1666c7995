package review

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// The demo's risky app (open to all, valid until revoked, authorized by an
// admin) leads the Posture section, named with its admin and the Setup
// paths that fix it, alike in JSON, CSV, text and HTML.
func TestDemoPostureSection(t *testing.T) {
	t.Parallel()
	r := demoReport(t)
	if len(r.Posture) == 0 {
		t.Fatal("no posture rows")
	}
	top := r.Posture[0]
	if top.App != "Dataloader Partner" || top.PermittedUsers != "all_users" || top.RefreshPolicy != "until_revoked" || top.BlastRadius["modify_all_data"] != 1 || len(top.Admins) != 1 || !strings.HasSuffix(top.Admins[0], "@example.com") {
		t.Fatalf("the riskiest app: %+v; want Dataloader Partner, open, valid until revoked, one admin named", top)
	}
	// Its scopes and IP relaxation (the app_metadata source's), and the
	// recommendations they miss, with their Setup paths.
	if !r.PostureScopesKnown || !slices.Equal(top.OAuthScopes, []string{"full", "refresh_token"}) || top.IPRelaxation != "relax" {
		t.Errorf("the riskiest app's scopes %v, IP relaxation %q (known %v); want full and refresh_token, relax", top.OAuthScopes, top.IPRelaxation, r.PostureScopesKnown)
	}
	var fixes []string
	for _, f := range top.Missed {
		fixes = append(fixes, f.Recommendation+" @ "+f.SetupPath)
	}
	if all := strings.Join(fixes, "\n"); !strings.Contains(all, "never Full access (full) @ Setup > Apps > App Manager > the app > Edit > API (Enable OAuth Settings) > Selected OAuth Scopes") || !strings.Contains(all, "IP Relaxation: enforce IP restrictions") {
		t.Errorf("the riskiest app's missed recommendations lack full scope or IP relaxation: %v", fixes)
	}
	for i := 1; i < len(r.Posture); i++ {
		if r.Posture[i].Risk > r.Posture[i-1].Risk {
			t.Fatalf("not ranked by risk: %s (%d) after %s (%d)", r.Posture[i].App, r.Posture[i].Risk, r.Posture[i-1].App, r.Posture[i-1].Risk)
		}
	}
	var slack *PostureRow
	for i := range r.Posture {
		if r.Posture[i].App == "Slack" {
			slack = &r.Posture[i]
		}
	}
	if slack == nil || slack.RefreshPolicy != "idle_expiry" || slack.TokensBeyondPolicy != 7 {
		t.Errorf("Slack's posture %+v; want an idle expiry with the 7 leavers' tokens beyond it", slack)
	}
	for _, format := range []string{"json", "csv", "text", "html"} {
		var b bytes.Buffer
		if err := Write(&b, []*Report{r}, format); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		switch format {
		case "json":
			var got []struct {
				Posture []PostureRow `json:"posture"`
			}
			if err := json.Unmarshal(b.Bytes(), &got); err != nil {
				var one struct {
					Posture []PostureRow `json:"posture"`
				}
				if err2 := json.Unmarshal(b.Bytes(), &one); err2 != nil {
					t.Fatalf("json: %v", err)
				}
				got = append(got, one)
			}
			if len(got) == 0 || len(got[0].Posture) != len(r.Posture) || got[0].Posture[0].Admins[0] != top.Admins[0] {
				t.Errorf("json posture %+v", got)
			}
		case "csv":
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, row := range rows {
				if row[1] == "posture" {
					n++
					if row[2] == "Dataloader Partner" && (!strings.Contains(row[22], "modify_all_data 1") || !strings.Contains(row[26], "Edit Policies") || !strings.Contains(row[21], "oauth scopes full, refresh_token; ip relaxation relax")) {
						t.Errorf("csv posture row %q", row)
					}
				}
			}
			if n != len(r.Posture) {
				t.Errorf("csv has %d posture rows, want %d", n, len(r.Posture))
			}
		default:
			for _, want := range []string{"Posture", "Dataloader Partner", top.Admins[0], "Edit Policies", "Refresh Token Policy: expire", "Selected OAuth Scopes", "full, refresh_token"} {
				if !strings.Contains(out, want) {
					t.Errorf("%s output lacks %q", format, want)
				}
			}
		}
	}
}

// Without the app_metadata source, the section says the scopes and IP
// relaxation are unknown, why, and how to read them; no row shows them as
// none.
func TestPostureScopesUnknownSaysHowToEnable(t *testing.T) {
	t.Parallel()
	r := &Report{Org: "demo", Posture: []PostureRow{{App: "Loader", Kind: "connected_app"}}}
	s := postureSection(r)
	if !strings.Contains(s.Note, "Modify Metadata Through Metadata API Functions") || !strings.Contains(s.Note, "app_metadata: {enabled: true}") {
		t.Errorf("note %q does not say how to read the scopes", s.Note)
	}
	cells := postureCells(r.Posture[0])
	if cells[7] != "unknown" || cells[8] != "unknown" {
		t.Errorf("unread scopes and IP relaxation show as %q, %q; want unknown", cells[7], cells[8])
	}
	r.PostureScopesKnown = true
	if s := postureSection(r); strings.Contains(s.Note, "unknown") {
		t.Errorf("note %q says unknown with the scopes read", s.Note)
	}
}
