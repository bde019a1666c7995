package refresh

import (
	"slices"
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// TestSpecsCoverConfigSources ties the config's source names to the specs:
// a name without a spec (a source the refresher, check and the collector
// would not know) or a spec without a name fails, as does a spec that
// leaves out what check or the refresher reads.
func TestSpecsCoverConfigSources(t *testing.T) {
	t.Parallel()
	specs := Specs()
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
		if !slices.Contains(config.Sources, s.Name) {
			t.Errorf("spec %q names no source in config.Sources", s.Name)
		}
		if s.Permission == "" || s.HasPermission == nil || s.Probe == nil || s.newSource == nil || len(s.Resources) == 0 {
			t.Errorf("spec %q lacks its permission, probe, resources or source", s.Name)
		}
		if s.Shrinks() && s.Missing == "" {
			t.Errorf("spec %q shrinks without naming the permission a limited view lacks", s.Name)
		}
		if src := s.newSource(); src == nil || src == s.newSource() {
			t.Errorf("spec %q: newSource must return a new source each time", s.Name)
		}
		if SpecOf(s.Name) != s {
			t.Errorf("SpecOf(%q) is not its spec", s.Name)
		}
	}
	for _, name := range config.Sources {
		if n := len(slices.DeleteFunc(slices.Clone(names), func(x string) bool { return x != name })); n != 1 {
			t.Errorf("config source %q has %d specs, want 1", name, n)
		}
	}
	for name := range config.DefaultSourceIntervals {
		if SpecOf(name) == nil {
			t.Errorf("config.DefaultSourceIntervals names %q, which has no spec", name)
		}
	}
	if SpecOf("future_source") != nil {
		t.Error("SpecOf found a spec for an unknown name")
	}
}

// TestSpecPermissions: what a spec says a source needs is what its refresh
// is refused without; a shrinking source's SeesAll is its permission.
func TestSpecPermissions(t *testing.T) {
	t.Parallel()
	none := salesforce.UserPermissions{}
	for _, s := range Specs() {
		if s.HasPermission(none) {
			t.Errorf("spec %q: no permission at all grants it", s.Name)
		}
		if s.Shrinks() && s.SeesAll(none) {
			t.Errorf("spec %q: no permission at all sees every user's rows", s.Name)
		}
	}
	shrinking := map[string]bool{}
	for _, s := range Specs() {
		shrinking[s.Name] = s.Shrinks()
	}
	want := map[string]bool{config.SourceOAuthTokens: true, config.SourceSessions: true, config.SourceLogins: true,
		config.SourceApps: false, config.SourceLimits: false, config.SourceAPIUsage: false, config.SourceECAs: false}
	for name, w := range want {
		if shrinking[name] != w {
			t.Errorf("%s shrinks %v, want %v", name, shrinking[name], w)
		}
	}
}

// TestCostDaily: a refresh's cost is rounded up over the day, and a daily
// cost is added whatever the interval.
func TestCostDaily(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cost   Cost
		perDay float64
		want   int64
	}{
		{Cost{PerRefresh: 2}, 96, 192},
		{Cost{PerRefresh: 1.5}, 3, 5},
		{Cost{PerRefresh: 1, PerDay: 0.2}, 288, 289},
		{Cost{PerRefresh: 1, PerDay: 24}, 48, 72},
		{Cost{}, 288, 0},
	} {
		if got := tc.cost.Daily(tc.perDay); got != tc.want {
			t.Errorf("%+v at %g refreshes a day: %d, want %d", tc.cost, tc.perDay, got, tc.want)
		}
	}
}
