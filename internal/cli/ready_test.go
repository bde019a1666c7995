package cli

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

func TestReadiness(t *testing.T) {
	cfg := &config.Config{Orgs: []config.Org{{Name: "prod"}, {Name: "sandbox"}}}
	tried := snapshot.SourceStatus{Enabled: true, LastAttempt: time.Now(), LastError: "oauth token request: 400: invalid_grant"}
	pending := snapshot.SourceStatus{Enabled: true}
	off := snapshot.SourceStatus{Enabled: false}
	for _, c := range []struct {
		name  string
		cfg   *config.Config
		snaps []*snapshot.Snapshot
		want  []string // substrings of the reasons; none means ready
	}{
		{"no config", nil, nil, []string{"no config loaded"}},
		{"nothing published", cfg, nil, []string{"org prod: not started", "org sandbox: not started"}},
		{"one org still in its first refresh", cfg, []*snapshot.Snapshot{
			{Org: "prod", Sources: map[string]snapshot.SourceStatus{"limits": tried, "oauth_tokens": pending, "sessions": off}},
			{Org: "sandbox", Sources: map[string]snapshot.SourceStatus{"limits": tried}},
		}, []string{"org prod: first refresh of oauth_tokens still running"}},
		{"a snapshot without sources yet", cfg, []*snapshot.Snapshot{
			{Org: "prod", Sources: map[string]snapshot.SourceStatus{}},
			{Org: "sandbox", Sources: map[string]snapshot.SourceStatus{"limits": tried}},
		}, []string{"org prod: first refresh of every source"}},
		// A failed first refresh counts: the org has reported why it has no data.
		{"every source tried, one failed", cfg, []*snapshot.Snapshot{
			{Org: "prod", Sources: map[string]snapshot.SourceStatus{"limits": tried, "sessions": off}},
			{Org: "sandbox", Sources: map[string]snapshot.SourceStatus{"limits": tried}},
		}, nil},
		{"a shard with no orgs", &config.Config{}, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := notReady(c.cfg, c.snaps)
			if len(got) != len(c.want) {
				t.Fatalf("notReady = %q, want %q", got, c.want)
			}
			for i, w := range c.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("reason %d = %q, want it to say %q", i, got[i], w)
				}
			}
			rec := httptest.NewRecorder()
			readyHandler(func() *config.Config { return c.cfg }, func() []*snapshot.Snapshot { return c.snaps })(rec, httptest.NewRequest(http.MethodGet, "/-/ready", nil))
			body, _ := io.ReadAll(rec.Body)
			if want := map[bool]int{true: 200, false: 503}[len(c.want) == 0]; rec.Code != want {
				t.Errorf("/-/ready status %d, want %d: %s", rec.Code, want, body)
			}
		})
	}
}

func TestVersionFromBuildInfo(t *testing.T) {
	for _, c := range []struct {
		info          debug.BuildInfo
		ver, rev, day string
	}{
		{debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3", "", ""},
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.modified", Value: "true"}, {Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"},
		}}, "devel", "abc123-dirty", "2026-12-01T10:00:00Z"},
		{debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201100000-abc123abc123+dirty"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc123abc123"}, {Key: "vcs.modified", Value: "false"},
		}}, "v0.0.0-20261201100000-abc123abc123+dirty", "abc123abc123", ""},
		{debug.BuildInfo{}, "devel", "", ""},
	} {
		v, r, d := versionFromBuildInfo(&c.info)
		if v != c.ver || r != c.rev || d != c.day {
			t.Errorf("versionFromBuildInfo(%+v) = %q, %q, %q; want %q, %q, %q", c.info.Main, v, r, d, c.ver, c.rev, c.day)
		}
	}
}
