package collector

import (
	"slices"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/refresh"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"

	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type stubSource []*snapshot.Snapshot

func (s stubSource) Snapshots() []*snapshot.Snapshot { return s }

func ptr[T any](v T) *T { return &v }

func testSnapshot() *snapshot.Snapshot {
	t0 := time.Unix(1_780_000_000, 0).UTC()
	return &snapshot.Snapshot{
		Org: "prod", Taken: t0, HasTokenTotals: true, InactiveUsers: 2, TokenMode: "rows",
		HasLimits: true, DailyAPIMax: 100000, DailyAPIRemaining: 90000, APIUsageEnd: t0.Add(-time.Hour),
		BudgetDaily: 1000, Requests24h: 42,
		Sources: map[string]snapshot.SourceStatus{
			"oauth_tokens": {Enabled: true, Up: true, LastSuccess: t0, LastAttempt: t0, Duration: 2 * time.Second, Interval: 5 * time.Minute},
			"api_usage":    {Enabled: true, Up: false, LastAttempt: t0, Duration: time.Second, Interval: 30 * time.Minute, LastError: "boom"},
			"sessions":     {Enabled: false},
		},
		Apps: []snapshot.AppUsage{
			{Name: "Data Loader", ID: "0H4000000000001AAA", Kind: snapshot.KindConnectedApp, Installed: true, Known: true, Owner: "ops@example.com", AdminApproved: ptr(true),
				HasTokens: true, TokenStats: salesforce.TokenStats{Tokens: 5, Users: 3, Uses: 100, LastUsed: t0.Add(-time.Hour), FirstAuthorized: t0.Add(-100 * 24 * time.Hour), Stale: 1, InactiveTokens: 1}, FirstSeen: t0,
				HasAPIUsage: true, Requests24h: 10, Requests7d: 70, Errors24h: 1, Errors7d: 2, HasLogins: true, LoginSuccess: 4, LoginFailure: 1, HasSessions: true, Sessions: 2},
			{Name: "Data Loader", Kind: snapshot.KindConnectedApp, HasTokens: true, TokenStats: salesforce.TokenStats{Tokens: 20, Users: 20, FirstAuthorized: t0.Add(-time.Hour)}},
			{Name: "Data Loader", ID: "0xI000000000001AAA", Kind: snapshot.KindExternalClientApp, Installed: true, HasTokens: true, TokenStats: salesforce.TokenStats{Tokens: 1, Users: 1}},
		},
	}
}

func TestCollectorLintAndPedantic(t *testing.T) {
	t.Parallel()
	c := New(stubSource{testSnapshot()})
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("pedantic gather (Describe and Collect must agree, no duplicate series): %v", err)
	}
}

func TestCollectorOutput(t *testing.T) {
	t.Parallel()
	c := New(stubSource{testSnapshot()})
	want := `
# HELP salesforce_connected_app_oauth_tokens OAuth tokens (approvals) for the app. Cached from the latest refresh; see salesforce_last_refresh_success_timestamp_seconds.
# TYPE salesforce_connected_app_oauth_tokens gauge
salesforce_connected_app_oauth_tokens{app="Data Loader",app_id="",org="prod"} 20
salesforce_connected_app_oauth_tokens{app="Data Loader",app_id="0H4000000000001AAA",org="prod"} 5
salesforce_connected_app_oauth_tokens{app="Data Loader",app_id="0xI000000000001AAA",org="prod"} 1
# HELP salesforce_source_up 1 if the source's latest refresh succeeded; 0 if it failed or has not succeeded yet.
# TYPE salesforce_source_up gauge
salesforce_source_up{org="prod",source="api_usage"} 0
salesforce_source_up{org="prod",source="oauth_tokens"} 1
# HELP salesforce_up 1 if the latest refresh of every enabled source succeeded.
# TYPE salesforce_up gauge
salesforce_up{org="prod"} 0
# HELP salesforce_connected_app_api_requests ApiTotalUsage events for the app in the window ending at salesforce_api_usage_data_end_timestamp_seconds. Requests without a connected app count under app="(none)". Cached from the latest refresh; see salesforce_last_refresh_success_timestamp_seconds.
# TYPE salesforce_connected_app_api_requests gauge
salesforce_connected_app_api_requests{app="Data Loader",app_id="0H4000000000001AAA",org="prod",window="24h"} 10
salesforce_connected_app_api_requests{app="Data Loader",app_id="0H4000000000001AAA",org="prod",window="7d"} 70
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "salesforce_connected_app_oauth_tokens", "salesforce_source_up", "salesforce_up", "salesforce_connected_app_api_requests"); err != nil {
		t.Fatal(err)
	}
	// Never used: no last-used series. Disabled source: no up series.
	n := testutil.CollectAndCount(c, "salesforce_connected_app_last_used_timestamp_seconds")
	if n != 1 {
		t.Errorf("last_used series = %d, want 1 (only the app that was used)", n)
	}
}

// TestQueryCursorsMax: the client's cursor bound is exported as published,
// and absent from a snapshot that does not have it.
func TestQueryCursorsMax(t *testing.T) {
	t.Parallel()
	s := testSnapshot()
	s.MaxOpenCursors = 6
	want := `
# HELP salesforce_exporter_query_cursors_max Query cursors the org's client holds open at most, so the queries it runs at once: its bound (8), less one for each cursor the org released (INVALID_QUERY_LOCATOR, logged) and not yet taken back (one comes back after each hour without a release). A full OauthToken read slows in proportion.
# TYPE salesforce_exporter_query_cursors_max gauge
salesforce_exporter_query_cursors_max{org="prod"} 6
`
	if err := testutil.CollectAndCompare(New(stubSource{s}), strings.NewReader(want), "salesforce_exporter_query_cursors_max"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(New(stubSource{testSnapshot()}), "salesforce_exporter_query_cursors_max"); n != 0 {
		t.Errorf("%d series without the bound in the snapshot, want none", n)
	}
}

func TestCollectorNoSnapshotYet(t *testing.T) {
	t.Parallel()
	if n := testutil.CollectAndCount(New(stubSource{})); n != 0 {
		t.Errorf("%d series before any snapshot, want 0", n)
	}
}

// TestPromtoolCheckMetrics runs the real promtool over the full exposition.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool not on PATH; .ci/run installs it")
		}
		t.Skip("promtool not on PATH")
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(New(stubSource{testSnapshot()}))
	NewRequestMetrics(reg).ForOrg("prod")
	path := filepath.Join(t.TempDir(), "metrics.prom")
	if err := prometheus.WriteToTextfile(path, reg); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = f
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestEverySourceHasMetrics ties the metric sets to the sources' specs: a
// source without its metric set (collector_<source>.go), or a set for no
// source, fails; so does a desc declared in two sets or in none that
// Collect uses.
func TestEverySourceHasMetrics(t *testing.T) {
	t.Parallel()
	specs := map[string]bool{}
	for _, s := range refresh.Specs() {
		specs[s.Name] = true
		set, ok := sourceMetrics[s.Name]
		if !ok || len(set.descs) == 0 {
			t.Errorf("source %q has no metric set in sourceMetrics", s.Name)
			continue
		}
		if !slices.Contains(metricSets, set) {
			t.Errorf("source %q's metric set is not in metricSets: Collect would not emit it", s.Name)
		}
	}
	for name := range sourceMetrics {
		if !specs[name] {
			t.Errorf("sourceMetrics names %q, which has no spec", name)
		}
	}
	seen := map[*prometheus.Desc]bool{}
	for _, set := range metricSets {
		for _, d := range set.descs {
			if seen[d] {
				t.Errorf("desc %s is in two metric sets", d)
			}
			seen[d] = true
		}
	}
}

// TestRequestCountersStartAtZero: ForOrg starts the counters of the token
// requests and of every source's resources (refresh.Spec.Resources) at zero,
// so a rate over them is defined from the first scrape.
func TestRequestCountersStartAtZero(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := NewRequestMetrics(reg)
	m.ForOrg("prod")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		var got []string
		for _, s := range mf.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "resource" {
					got = append(got, l.GetValue())
				}
			}
			if v := s.GetCounter().GetValue(); v != 0 {
				t.Errorf("%s starts at %v", mf.GetName(), v)
			}
		}
		slices.Sort(got)
		want := []string{"apps_oauth_usage", "eventlogfile_download", "limits", "metadata:listMetadata", "metadata:readMetadata", "query:ApiAnomalyEventStore", "query:ApiEvent", "query:AppMenuItem", "query:AuthSession", "query:ConnectedApplication",
			"query:CredentialStuffingEventStore", "query:EventLogFile", "query:ExtlClntAppOauthPlcyCnfg", "query:LoginAnomalyEventStore", "query:LoginHistory", "query:OauthToken",
			"query:PermissionSetAssignment", "query:ReportAnomalyEventStore", "query:SessionHijackingEventStore", "query:User", "token"}
		if !slices.Equal(got, want) {
			t.Errorf("%s resources %q, want %q", mf.GetName(), got, want)
		}
	}
	if len(mfs) != 2 {
		t.Errorf("%d families, want the requests and the failures", len(mfs))
	}
}
