package review

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
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
					if row[2] == "Dataloader Partner" && (!strings.Contains(row[22], "modify_all_data 1") || !strings.Contains(row[26], "Edit Policies")) {
						t.Errorf("csv posture row %q", row)
					}
				}
			}
			if n != len(r.Posture) {
				t.Errorf("csv has %d posture rows, want %d", n, len(r.Posture))
			}
		default:
			for _, want := range []string{"Posture", "Dataloader Partner", top.Admins[0], "Edit Policies", "Refresh Token Policy: expire"} {
				if !strings.Contains(out, want) {
					t.Errorf("%s output lacks %q", format, want)
				}
			}
		}
	}
}
