package review

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/refresh"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// TestReviewAndRevokeSeeTheECAByItsID (issue 21.1): an External Client
// App's tokens are OauthToken rows without a menu item. The review lists
// them once, under the app's 0xI Id and kind, never as a not-installed
// connected app; revoke --app-id with that Id selects exactly them.
func TestReviewAndRevokeSeeTheECAByItsID(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p1, p2 := f.org.AddUser("p1@example.com", true), f.org.AddUser("p2@example.com", true)
	f.org.AddECA(sftest.ECASpec{Name: "Partner Sync", DeveloperName: "Partner_Sync", Users: []int{p1, p2}, LastUsed: f.org.Now().Add(-time.Hour)})
	ecaID := f.org.Apps()[f.org.ECAIndex("Partner Sync")].ID
	r := f.report(t, DefaultOptions())
	for _, a := range r.NotInstalled {
		if a.App == "Partner Sync" {
			t.Errorf("the ECA is listed as not installed: %+v", a)
		}
	}
	var found []AppDetail
	for _, a := range r.Unknown {
		if a.App == "Partner Sync" {
			found = append(found, a)
		}
	}
	if len(found) != 1 || found[0].Kind != snapshot.KindExternalClientApp || !salesforce.ID(found[0].AppID).Same(salesforce.ID(ecaID)) || found[0].Users != 2 || found[0].Tokens != 2 || len(found[0].Authorizations) != 2 {
		t.Fatalf("unknown apps named Partner Sync: %+v, want one ECA %s with 2 users and 2 authorizations", found, ecaID)
	}
	for _, tr := range found[0].Authorizations {
		if tr.Kind != snapshot.KindExternalClientApp || tr.AppID != found[0].AppID {
			t.Errorf("authorization %+v not filed under the ECA", tr)
		}
	}
	// The detail holds each of its tokens once.
	rf, err := refresh.NewRefresher(f.cfg.Orgs[0], refresh.Settings{StaleAfter: 90 * day, Inventory: f.cfg.InventoryFor}, t.TempDir(), slogDiscard(), nil, salesforce.WithRetry(1, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := rf.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	d, err := FetchDetail(t.Context(), rf.Client(), rf.Snapshot(), 2)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, tr := range d.Tokens {
		if tr.App == "Partner Sync" {
			rows = append(rows, tr.Kind+" "+tr.AppID+" "+tr.Username)
		}
	}
	if want := []string{"external_client_app " + ecaID + " p1@example.com", "external_client_app " + ecaID + " p2@example.com"}; strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("detail rows of the ECA:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}

	before := f.org.TokenCount()
	var out, audit bytes.Buffer
	sum, err := Revoke(t.Context(), f.client(t), Selector{AppIDs: []string{ecaID[:15]}}, RevokeOptions{Org: "prod", Out: &out, Audit: &audit})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Selected != 2 {
		t.Fatalf("--app-id=%s selected %d tokens, want the ECA's 2:\n%s", ecaID[:15], sum.Selected, out.String())
	}
	sum, err = Revoke(t.Context(), f.client(t), Selector{AppIDs: []string{ecaID}}, RevokeOptions{Org: "prod", Confirm: true, Out: &out, Audit: &audit})
	if err != nil || sum.Revoked != 2 {
		t.Fatalf("revoke: %+v, %v", sum, err)
	}
	if got := f.org.TokenCount(); got != before-2 {
		t.Errorf("tokens %d -> %d, want the ECA's 2 revoked and no other", before, got)
	}
	if !strings.Contains(out.String(), "Partner Sync") {
		t.Errorf("the output does not name the app:\n%s", out.String())
	}
	noSecrets(t, f.org, out.String(), audit.String())
}

// TestRevokeNotInstalledLeavesECATokens: an External Client App's tokens
// have no menu item, like an uninstalled connected app's, but the review
// counts them under the installed ECA. --not-installed picks the
// uninstalled app's tokens alone, so a not-installed finding's command (and
// its --expect) never reaches an ECA's.
func TestRevokeNotInstalledLeavesECATokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := f.org.Now()
	p1, p2 := f.org.AddUser("p1@example.com", true), f.org.AddUser("p2@example.com", true)
	f.org.AddECA(sftest.ECASpec{Name: "Partner Sync", DeveloperName: "Partner_Sync", Users: []int{p1, p2}, LastUsed: now.Add(-time.Hour)})
	old := f.org.AddApp(sftest.App{Name: "Old Tool", Installed: false})
	f.org.AddToken(sftest.TokenSpec{User: f.org.AddUser("o1@example.com", true), App: old, Created: now.Add(-day)})
	r := f.report(t, DefaultOptions())
	notInstalled := 0
	for _, a := range r.NotInstalled {
		if a.App == "Partner Sync" {
			t.Fatalf("the ECA is listed as not installed: %+v", a)
		}
		notInstalled += int(a.Tokens)
	}
	before := f.org.TokenCount()
	var out bytes.Buffer
	sum, err := Revoke(t.Context(), f.client(t), Selector{NotInstalled: true}, RevokeOptions{Org: "prod", Out: &out})
	if err != nil || sum.Selected != notInstalled || strings.Contains(out.String(), "Partner Sync") {
		t.Fatalf("--not-installed selected %d (err %v), want the %d tokens of the not-installed apps and no ECA token:\n%s", sum.Selected, err, notInstalled, out.String())
	}
	sum, err = Revoke(t.Context(), f.client(t), Selector{NotInstalled: true, Users: []string{"p1@example.com", "o1@example.com"}}, RevokeOptions{Org: "prod", Out: &out, Confirm: true, Expect: 2})
	if err != nil || sum.Revoked != 1 || f.org.TokenCount() != before-1 {
		t.Fatalf("--not-installed --user: %+v err=%v, tokens %d -> %d, want Old Tool's 1 revoked and the ECA's left", sum, err, before, f.org.TokenCount())
	}
}

// TestRevokeNotInstalledFailsWhenECAsUnknown: a timeout or 5xx reading
// ExternalClientApplication leaves the ECAs unknown; --not-installed then
// refuses instead of taking their menu-less tokens for an uninstalled app's.
func TestRevokeNotInstalledFailsWhenECAsUnknown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := f.org.Now()
	p1 := f.org.AddUser("p1@example.com", true)
	f.org.AddECA(sftest.ECASpec{Name: "Partner Sync", DeveloperName: "Partner_Sync", Users: []int{p1}, LastUsed: now.Add(-time.Hour)})
	old := f.org.AddApp(sftest.App{Name: "Old Tool", Installed: false})
	f.org.AddToken(sftest.TokenSpec{User: f.org.AddUser("o1@example.com", true), App: old, Created: now.Add(-day)})
	f.srv.Inject(sftest.Fault{Path: "/query", Count: 1000, Status: 503, Body: `[{"message":"try later","errorCode":"SERVER_UNAVAILABLE"}]`, MatchQuery: "ExternalClientApplication"})
	before := f.org.TokenCount()
	var out bytes.Buffer
	sum, err := Revoke(t.Context(), f.client(t), Selector{NotInstalled: true}, RevokeOptions{Org: "prod", Out: &out, Confirm: true, Expect: 2})
	if err == nil || sum.Revoked != 0 || f.org.TokenCount() != before {
		t.Fatalf("--not-installed with the ECAs unreadable: %+v err=%v, tokens %d -> %d; want a refusal and nothing revoked", sum, err, before, f.org.TokenCount())
	}
}

// TestReviewECATokensOnceWithoutTheTokensSource: with the oauth_tokens
// source off, the External Client App's figures are read per user, and
// FetchDetail's own OauthToken read lists its tokens too. Each token is in
// the detail once, under the ECA: not a second time as a connected app's.
func TestReviewECATokensOnceWithoutTheTokensSource(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p1, p2 := f.org.AddUser("p1@example.com", true), f.org.AddUser("p2@example.com", true)
	f.org.AddECA(sftest.ECASpec{Name: "Partner Sync", DeveloperName: "Partner_Sync", Users: []int{p1, p2}, LastUsed: f.org.Now().Add(-time.Hour)})
	off := false
	o := f.cfg.Orgs[0]
	o.Sources = map[string]config.SourceConfig{config.SourceOAuthTokens: {Enabled: &off}}
	rf, err := refresh.NewRefresher(o, refresh.Settings{StaleAfter: 90 * day, Inventory: f.cfg.InventoryFor}, t.TempDir(), slogDiscard(), nil, salesforce.WithRetry(1, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := rf.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	d, err := FetchDetail(t.Context(), rf.Client(), rf.Snapshot(), 2)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, tr := range d.Tokens {
		if tr.App == "Partner Sync" {
			rows = append(rows, tr.Kind+" "+tr.Username)
		}
	}
	slices.Sort(rows)
	if want := []string{"external_client_app p1@example.com", "external_client_app p2@example.com"}; strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("detail rows of the ECA:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
}
