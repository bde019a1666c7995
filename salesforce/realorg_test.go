package salesforce_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

func TestDefaultAudience(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://acme.my.salesforce.com":                    salesforce.AudienceProduction,
		"https://login.salesforce.com":                      salesforce.AudienceProduction,
		"https://test.salesforce.com":                       salesforce.AudienceSandbox,
		"https://acme--uat.sandbox.my.salesforce.com":       salesforce.AudienceSandbox,
		"https://ACME--UAT.SANDBOX.MY.SALESFORCE.COM/":      salesforce.AudienceSandbox,
		"https://acme--dev.my.salesforce.com":               salesforce.AudienceSandbox,
		"https://ability-fun-123.scratch.my.salesforce.com": salesforce.AudienceSandbox,
		"https://acme.my.site.com":                          salesforce.AudienceProduction,
		"http://127.0.0.1:8080":                             salesforce.AudienceProduction,
	} {
		if got := salesforce.DefaultAudience(in); got != want {
			t.Errorf("DefaultAudience(%q) = %q, want %q", in, got, want)
		}
	}
}

// A JWT config without audience, with a My Domain login_url, logs in to an
// org that refuses a My Domain as aud (as real orgs have); the explicit
// override still reaches the token endpoint as given.
func TestJWTAudienceStrictOrg(t *testing.T) {
	t.Parallel()
	key, keyPEM := rsaKeyPEM(t, false)
	creds := sftest.TestCredentials
	creds.PublicKey = &key.PublicKey
	srv, ts := sftest.Start(t, smallOrg(), creds)
	login := func(aud string) error {
		c, err := salesforce.NewClient(salesforce.AuthConfig{Flow: salesforce.FlowJWTBearer, LoginURL: ts.URL, ClientID: creds.ClientID,
			Username: creds.Username, PrivateKey: keyPEM, Audience: aud}, salesforce.WithRetry(0, time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Limits(t.Context())
		return err
	}
	if err := login(""); err != nil {
		t.Fatalf("default audience refused by a strict org: %v", err)
	}
	if err := login(ts.URL); err == nil || !strings.Contains(err.Error(), "audience is invalid") {
		t.Fatalf("My Domain audience: err = %v, want audience is invalid from a strict org", err)
	}
	// An explicit audience is used alone: a production org refuses test.
	if err := login(salesforce.AudienceSandbox); err == nil || !strings.Contains(err.Error(), "audience is invalid") {
		t.Fatalf("explicit sandbox audience on a production org: err = %v, want audience is invalid", err)
	}
	srv.AcceptMyDomainAudience(true)
	if err := login(ts.URL); err != nil {
		t.Fatalf("explicit audience on a lenient org: %v", err)
	}
}

// A sandbox (or an org whose host says nothing of its kind) refuses the
// production audience the host suggests: the client tries the My Domain,
// then test, then login, as the Salesforce CLI does, on "audience is
// invalid" only, and remembers the one that worked, so the next login costs
// one request.
func TestJWTAudienceFallback(t *testing.T) {
	t.Parallel()
	key, keyPEM := rsaKeyPEM(t, false)
	creds := sftest.TestCredentials
	creds.PublicKey = &key.PublicKey
	for _, tc := range []struct {
		name     string
		accepts  func(host string) []string
		myDomain bool
		logins   int // token requests of the first login
	}{
		{"sandbox", func(string) []string { return []string{salesforce.AudienceSandbox} }, false, 3}, // login, My Domain, test
		{"my domain", func(string) []string { return []string{"https://nothing.example"} }, true, 2}, // login, My Domain
		{"production", func(string) []string { return nil }, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, ts := sftest.Start(t, smallOrg(), creds)
			srv.SetJWTAudiences(tc.accepts(ts.URL)...)
			srv.AcceptMyDomainAudience(tc.myDomain)
			c, err := salesforce.NewClient(salesforce.AuthConfig{Flow: salesforce.FlowJWTBearer, LoginURL: ts.URL, ClientID: creds.ClientID,
				Username: creds.Username, PrivateKey: keyPEM}, salesforce.WithRetry(0, time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Limits(t.Context()); err != nil {
				t.Fatalf("login: %v", err)
			}
			if n := srv.Requests()["token"]; n != tc.logins {
				t.Errorf("first login took %d token requests, want %d", n, tc.logins)
			}
			srv.ExpireSessions()
			if _, err := c.Limits(t.Context()); err != nil {
				t.Fatalf("second login: %v", err)
			}
			if n := srv.Requests()["token"]; n != tc.logins+1 {
				t.Errorf("the second login took %d token requests, want 1: the audience that worked is remembered", n-tc.logins)
			}
		})
	}
	// No audience accepted: the endpoint's own error, after each was tried once.
	srv, ts := sftest.Start(t, smallOrg(), creds)
	srv.SetJWTAudiences("https://nothing.example")
	c, err := salesforce.NewClient(salesforce.AuthConfig{Flow: salesforce.FlowJWTBearer, LoginURL: ts.URL, ClientID: creds.ClientID,
		Username: creds.Username, PrivateKey: keyPEM}, salesforce.WithRetry(0, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var authErr *salesforce.AuthError
	if _, err := c.Limits(t.Context()); !errors.As(err, &authErr) || !strings.Contains(authErr.Description, "audience is invalid") {
		t.Fatalf("err = %v, want the endpoint's audience is invalid", err)
	}
	if n := srv.Requests()["token"]; n != 3 {
		t.Errorf("%d token requests, want 3 (login, My Domain, test)", n)
	}
	// Any other refusal is final: no audience tried after it.
	srv2, ts2 := sftest.Start(t, smallOrg(), creds)
	c2, err := salesforce.NewClient(salesforce.AuthConfig{Flow: salesforce.FlowJWTBearer, LoginURL: ts2.URL, ClientID: creds.ClientID,
		Username: "someone.else@example.com", PrivateKey: keyPEM}, salesforce.WithRetry(0, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Limits(t.Context()); err == nil {
		t.Fatal("a user who has not approved the app logged in")
	}
	if n := srv2.Requests()["token"]; n != 1 {
		t.Errorf("%d token requests for a refusal that is not about the audience, want 1", n)
	}
}

func TestJWTAudiences(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		login, aud string
		want       []string
	}{
		{"https://acme.my.salesforce.com", "", []string{salesforce.AudienceProduction, "https://acme.my.salesforce.com", salesforce.AudienceSandbox}},
		{"https://acme--uat.sandbox.my.salesforce.com/", "", []string{salesforce.AudienceSandbox, "https://acme--uat.sandbox.my.salesforce.com", salesforce.AudienceProduction}},
		{"https://login.salesforce.com", "", []string{salesforce.AudienceProduction, salesforce.AudienceSandbox}},
		{"https://acme.my.salesforce.com", "https://acme.my.site.com", []string{"https://acme.my.site.com"}},
	} {
		got := salesforce.JWTAudiences(salesforce.AuthConfig{LoginURL: tc.login, Audience: tc.aud})
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("JWTAudiences(%q, %q) = %q, want %q", tc.login, tc.aud, got, tc.want)
		}
	}
}

// The client keeps its access token until a 401 instead of logging in every
// 15 minutes: each login counts against the exporter's own app.
func TestTokenKeptUntil401(t *testing.T) {
	t.Parallel()
	srv, ts := sftest.Start(t, smallOrg(), sftest.TestCredentials)
	now := time.Now()
	c := newClient(t, ts.URL, salesforce.WithClock(func() time.Time { return now }))
	for range 12 {
		if _, err := c.Limits(t.Context()); err != nil {
			t.Fatal(err)
		}
		now = now.Add(30 * time.Minute) // six hours in all
	}
	if n := srv.Requests()["token"]; n != 1 {
		t.Fatalf("%d logins over 6 hours without a 401, want 1", n)
	}
	srv.ExpireSessions()
	if _, err := c.Limits(t.Context()); err != nil {
		t.Fatalf("after the session expired: %v", err)
	}
	if n := srv.Requests()["token"]; n != 2 {
		t.Fatalf("%d logins after one 401, want 2", n)
	}
}

// "ConcurrentPerOrgLongTxn Limit exceeded" is REQUEST_LIMIT_EXCEEDED too, but
// it clears in seconds: a brief backoff, not the daily-limit block.
func TestConcurrentLimitIsTransient(t *testing.T) {
	t.Parallel()
	srv, ts := sftest.Start(t, smallOrg(), sftest.TestCredentials)
	c := newClient(t, ts.URL, salesforce.WithLimitBlock(15*time.Minute))
	srv.Inject(sftest.ConcurrentLimitFault("/limits", 2))
	if _, err := c.Limits(t.Context()); err != nil {
		t.Fatalf("a transient concurrent limit failed the call: %v", err)
	}
	if n := srv.Requests()["limits"]; n != 3 {
		t.Fatalf("%d /limits requests, want 3 (two refused, one retried through)", n)
	}
	srv.Inject(sftest.ConcurrentLimitFault("/limits", 10))
	_, err := c.Limits(t.Context())
	if errors.Is(err, salesforce.ErrRequestLimitExceeded) || !errors.Is(err, salesforce.ErrConcurrentRequestLimit) {
		t.Fatalf("err = %v, want ErrConcurrentRequestLimit and not the daily limit", err)
	}
	srv.ClearFaults()
	if _, err := c.Limits(t.Context()); err != nil {
		t.Fatalf("the client blocked itself after a concurrent limit: %v", err)
	}
	// The daily allocation still blocks.
	srv.Inject(sftest.Fault{Path: "/limits", Status: 403, Body: `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`})
	if _, err := c.Limits(t.Context()); !errors.Is(err, salesforce.ErrRequestLimitExceeded) {
		t.Fatalf("err = %v, want ErrRequestLimitExceeded", err)
	}
	if _, err := c.Limits(t.Context()); !errors.Is(err, salesforce.ErrRequestLimitExceeded) {
		t.Fatalf("err = %v, want the daily limit to block", err)
	}
}

func generatedOrg(tokens int) *sftest.Org {
	org := sftest.NewOrg()
	org.SetNow(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	org.Generate(sftest.Scale{Tokens: tokens, Apps: 30, Users: 2000, Seed: 7})
	return org
}

// The org no longer limits open cursors (API 56.0), so the client keeps its
// own bound: a fetch at max_concurrency 25 never holds more than
// DefaultMaxOpenCursors open, and nothing is released.
func TestTokenFetchBoundsItsCursors(t *testing.T) {
	t.Parallel()
	org := generatedOrg(30000)
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)
	n := 0
	stats, err := c.OauthTokens(t.Context(), salesforce.TokenQuery{Concurrency: 25, Partitions: 25}, func(salesforce.OauthToken) { n++ })
	if err != nil {
		t.Fatalf("fetch at concurrency 25: %v", err)
	}
	if n != org.TokenCount() || stats.Rows != n {
		t.Fatalf("got %d rows, want %d", n, org.TokenCount())
	}
	if m := srv.MaxCursorsOpen(); m > salesforce.DefaultMaxOpenCursors {
		t.Fatalf("the org saw %d cursors open at once; the client may hold %d", m, salesforce.DefaultMaxOpenCursors)
	}
	if r := srv.CursorsReleased(); r != 0 {
		t.Fatalf("an org without a cursor limit released %d cursors", r)
	}
}

// An org that still kept the old ten cursors per user, read by two clients
// at once as the same user (an HA pair, or review beside a serving
// exporter): sixteen cursors wanted, the oldest released past ten. Both
// reads still give every token exactly once.
func TestTokenFetchUnderLegacyCursorLimit(t *testing.T) {
	t.Parallel()
	org := generatedOrg(40000)
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	srv.SetCursorLimit(sftest.LegacyCursorLimit)
	var wg sync.WaitGroup
	got := make([]map[string]int, 2)
	errs := make([]error, 2)
	for i := range got {
		got[i] = map[string]int{}
		c := newClient(t, ts.URL)
		wg.Go(func() {
			_, errs[i] = c.OauthTokens(t.Context(), salesforce.TokenQuery{Concurrency: 25, Partitions: 25}, func(tok salesforce.OauthToken) { got[i][tok.ID]++ })
		})
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil {
			t.Fatalf("client %d: %v", i, errs[i])
		}
		if len(got[i]) != org.TokenCount() {
			t.Fatalf("client %d read %d distinct tokens, want %d", i, len(got[i]), org.TokenCount())
		}
		for id, k := range got[i] {
			if k != 1 {
				t.Fatalf("client %d read token %s %d times", i, id, k)
			}
		}
	}
	t.Logf("cursors released: %d", srv.CursorsReleased())
}

// A cursor released by the org (another process of the same user opened
// more) fails with INVALID_QUERY_LOCATOR; the partition is read again.
func TestTokenFetchRecoversReleasedCursor(t *testing.T) {
	t.Parallel()
	org := generatedOrg(6000)
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)
	srv.Inject(sftest.Fault{Path: "/query/01g5j", Count: 2, Status: 400, Body: `[{"message":"invalid query locator","errorCode":"INVALID_QUERY_LOCATOR"}]`})
	n := 0
	if _, err := c.OauthTokens(t.Context(), salesforce.TokenQuery{Concurrency: 2}, func(salesforce.OauthToken) { n++ }); err != nil {
		t.Fatalf("a released cursor failed the fetch: %v", err)
	}
	if n != org.TokenCount() {
		t.Fatalf("got %d rows, want %d (each exactly once)", n, org.TokenCount())
	}
	// Stream on its own reports the error so that callers can tell it apart.
	srv.Inject(sftest.Fault{Path: "/query/01g5j", Status: 400, Body: `[{"message":"invalid query locator","errorCode":"INVALID_QUERY_LOCATOR"}]`})
	_, err := salesforce.Stream(t.Context(), c, "SELECT Id FROM User", func(salesforce.User) bool { return true }, salesforce.BatchSize(200))
	if !errors.Is(err, salesforce.ErrInvalidQueryLocator) {
		t.Fatalf("err = %v, want ErrInvalidQueryLocator", err)
	}
}

// wideFetch reads every token of org with 25 cursors wanted at once (more
// than the client holds open), each exactly once.
func wideFetch(t *testing.T, c *salesforce.Client, org *sftest.Org) {
	t.Helper()
	n := 0
	if _, err := c.OauthTokens(t.Context(), salesforce.TokenQuery{Concurrency: 25, Partitions: 25}, func(salesforce.OauthToken) { n++ }); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if n != org.TokenCount() {
		t.Fatalf("got %d rows, want %d", n, org.TokenCount())
	}
}

// A released cursor costs the client a slot: the org keeps fewer for this
// user than the client holds open. It never sheds its last.
func TestReleasedCursorShedsASlot(t *testing.T) {
	t.Parallel()
	org := generatedOrg(30000)
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)
	fetch := func() { t.Helper(); wideFetch(t, c, org) }
	srv.ReleaseCursors(2)
	fetch()
	srv.ResetCounts()
	fetch()
	if m, want := srv.MaxCursorsOpen(), int64(salesforce.DefaultMaxOpenCursors-2); m > want {
		t.Fatalf("after two released cursors the org saw %d open at once, want at most %d", m, want)
	}
	// Released again and again: the client keeps one cursor, and reads on.
	srv.ReleaseCursors(3 * salesforce.DefaultMaxOpenCursors)
	for range salesforce.DefaultMaxOpenCursors {
		if _, err := salesforce.Stream(t.Context(), c, "SELECT Id FROM User", func(salesforce.User) bool { return true }, salesforce.BatchSize(200)); !errors.Is(err, salesforce.ErrInvalidQueryLocator) {
			t.Fatalf("err = %v, want ErrInvalidQueryLocator", err)
		}
	}
	srv.ReleaseCursors(0)
	srv.ResetCounts()
	fetch()
	if m := srv.MaxCursorsOpen(); m != 1 {
		t.Fatalf("after every slot but one was shed, the org saw %d cursors open at once, want 1", m)
	}
}

// A shed slot comes back once an hour passes without another release, one
// slot an hour: a locator that expired once (a paused process) does not slow
// every later read until a restart. A release within the hour puts it off.
func TestShedCursorSlotComesBack(t *testing.T) {
	t.Parallel()
	org := generatedOrg(30000)
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	c := newClient(t, ts.URL, salesforce.WithClock(clock))
	fetch := func() int64 {
		t.Helper()
		srv.ResetCounts()
		wideFetch(t, c, org)
		return srv.MaxCursorsOpen()
	}
	full := salesforce.DefaultMaxOpenCursors
	for _, step := range []struct {
		after   time.Duration // on the client's clock, since the step before
		release int           // cursors the org releases during the step's read
		want    int           // the client's bound after the read
	}{
		{0, 2, full - 2},
		{59 * time.Minute, 0, full - 2},
		{time.Minute, 0, full - 1},      // an hour without a release: one back
		{30 * time.Minute, 1, full - 2}, // a release sheds again, and restarts the hour
		{59 * time.Minute, 0, full - 2},
		{time.Minute, 0, full - 1},
		{time.Hour, 0, full},
	} {
		advance(step.after)
		srv.ReleaseCursors(step.release)
		m := fetch()
		srv.ReleaseCursors(0)
		got, held := c.MaxOpenCursors(), salesforce.IdleCursorSlotsHeldForTest(c)
		if got != step.want || held != full-step.want {
			t.Fatalf("%v on, %d released: the client allows %d open with %d slots held idle, want %d and %d", step.after, step.release, got, held, step.want, full-step.want)
		}
		if step.release == 0 && m > int64(step.want) {
			t.Fatalf("%v on: the org saw %d cursors open at once, want at most %d", step.after, m, step.want)
		}
	}
}

// The 2,500-row cap may end with done:true, or with done:false and a next
// page that fails. Both must give every row exactly once.
func TestTokenCursorCapEndings(t *testing.T) {
	t.Parallel()
	for _, failing := range []bool{false, true} {
		org := generatedOrg(9000)
		srv, ts := sftest.Start(t, org, sftest.TestCredentials)
		srv.CapWithFailingNextPage(failing)
		c := newClient(t, ts.URL)
		n := 0
		if _, err := c.OauthTokens(t.Context(), salesforce.TokenQuery{Concurrency: 2, Partitions: 1}, func(salesforce.OauthToken) { n++ }); err != nil {
			t.Fatalf("failing next page %v: %v", failing, err)
		}
		if n != org.TokenCount() {
			t.Fatalf("failing next page %v: got %d rows, want %d", failing, n, org.TokenCount())
		}
	}
}

// GROUP BY on OauthToken is undocumented. Every way an accepting org can get
// it wrong must read as "fall back to rows" (ErrAggregateUnsupported); a
// failure that may pass (a 5xx, a 400 QUERY_TIMEOUT) as Temporary, to be
// tried again; auth failures as neither.
func TestTokenAggregateQuirks(t *testing.T) {
	t.Parallel()
	staleBefore := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		quirk     sftest.AggregateQuirk
		ok        bool
		temporary bool
	}{
		{"exact", sftest.AggregateExact, true, false},
		{"unknown exception", sftest.AggregateUnknownException, false, true},
		{"query timeout", sftest.AggregateQueryTimeout, false, true},
		{"empty", sftest.AggregateEmpty, false, false},
		{"computed over the cursor cap", sftest.AggregateOverCursorCap, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			org := generatedOrg(6000)
			org.Behavior.OauthTokenAggregates = true
			org.Behavior.AggregateQuirk = tc.quirk
			_, ts := sftest.Start(t, org, sftest.TestCredentials)
			c := newClient(t, ts.URL)
			aggs, _, err := c.TokenAggregates(t.Context(), staleBefore)
			if tc.ok {
				var total int64
				for _, a := range aggs {
					total += a.Tokens
				}
				if err != nil || total != int64(org.TokenCount()) {
					t.Fatalf("total %d, err %v; want %d tokens", total, err, org.TokenCount())
				}
				return
			}
			var aggErr *salesforce.AggregateError
			if !errors.As(err, &aggErr) || !errors.Is(err, salesforce.ErrQueryRejected) {
				t.Fatalf("err = %v, want an *AggregateError matching ErrQueryRejected", err)
			}
			if aggErr.Temporary() != tc.temporary || errors.Is(err, salesforce.ErrAggregateUnsupported) == tc.temporary {
				t.Fatalf("err = %v: Temporary() = %v, ErrAggregateUnsupported = %v; want temporary %v", err, aggErr.Temporary(), errors.Is(err, salesforce.ErrAggregateUnsupported), tc.temporary)
			}
		})
	}
	t.Run("auth failure is not a fall-back", func(t *testing.T) {
		t.Parallel()
		org := generatedOrg(100)
		org.Behavior.OauthTokenAggregates = true
		_, ts := sftest.Start(t, org, sftest.TestCredentials)
		c, err := salesforce.NewClient(salesforce.AuthConfig{Flow: salesforce.FlowClientCredentials, LoginURL: ts.URL, ClientID: "wrong", ClientSecret: "wrong"})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = c.TokenAggregates(t.Context(), staleBefore)
		if err == nil || errors.Is(err, salesforce.ErrAggregateUnsupported) || errors.Is(err, salesforce.ErrQueryRejected) {
			t.Fatalf("err = %v, want an auth error that does not fall back", err)
		}
	})
}

// Without Manage Users, LoginHistory and AuthSession shrink to the running
// user's own rows with no error; the running user's effective permissions
// are what tells the two cases apart.
func TestPermissionsExplainShrinkingSources(t *testing.T) {
	t.Parallel()
	org := smallOrg()
	me := org.IntegrationUser()
	others := 0
	for u := range org.Users() {
		if u == me || others == 3 {
			continue
		}
		others++
		org.AddSession(sftest.SessionSpec{User: u, App: "Data Loader", Created: org.Now().Add(-time.Minute)})
	}
	org.AddSession(sftest.SessionSpec{User: me, App: "Data Loader", Created: org.Now().Add(-time.Minute)})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)
	since := org.Now().Add(-time.Hour)
	count := func() (logins, sessions int) {
		t.Helper()
		if err := c.Logins(t.Context(), since, salesforce.LoginsOptions{}, func(salesforce.LoginHistory) { logins++ }); err != nil {
			t.Fatal(err)
		}
		if err := c.OAuthSessions(t.Context(), since, func(salesforce.AuthSession) { sessions++ }); err != nil {
			t.Fatal(err)
		}
		return logins, sessions
	}
	p, err := c.Permissions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !p.APIEnabled || !p.SeesAllLogins() || !p.SeesAllSessions() || !p.SeesAllTokens() || p.Assignments != 2 {
		t.Fatalf("fully permitted user read as %+v", p)
	}
	if l, s := count(); l != 4 || s != 4 {
		t.Fatalf("full visibility: %d logins, %d sessions; want 4 and 4", l, s)
	}

	org.SetPermission(sftest.PermManageUsers, false)
	org.SetPermission(sftest.PermMonitorLoginHistory, false)
	if l, s := count(); l != 1 || s != 1 {
		t.Fatalf("without Manage Users the fake should shrink silently: %d logins, %d sessions; want 1 and 1", l, s)
	}
	p, err = c.Permissions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if p.SeesAllLogins() || p.SeesAllSessions() || !p.APIEnabled || !p.ViewEventLogFiles {
		t.Fatalf("without Manage Users read as %+v", p)
	}
	// Monitor Login History alone opens LoginHistory, not AuthSession.
	org.SetPermission(sftest.PermMonitorLoginHistory, true)
	p, _ = c.Permissions(t.Context())
	if l, s := count(); !p.SeesAllLogins() || p.SeesAllSessions() || l != 4 || s != 1 {
		t.Fatalf("with Monitor Login History: %+v, %d logins, %d sessions", p, l, s)
	}
}

// The keys inside an External Client App user item and the token
// collection's array key are undocumented: each plausible shape reads the
// same, and one app's failure stays with that app.
func TestECAShapesAndOneAppFailing(t *testing.T) {
	t.Parallel()
	for _, sh := range []sftest.ECAShape{
		{},
		{UserIDKey: "userId", UsernameKey: "userName", TokensKey: "oauthTokens"},
		{UserIDKey: "id", UsernameKey: "name", TokensKey: "appOauthUsageTokens"},
	} {
		org := smallOrg()
		org.AddECA(sftest.ECASpec{Name: "Partner Sync", DeveloperName: "Partner_Sync", Users: []int{0, 1}, TokensPerUser: 2})
		org.AddECA(sftest.ECASpec{Name: "Broken", DeveloperName: "Broken", Users: []int{2}})
		srv, ts := sftest.Start(t, org, sftest.TestCredentials)
		srv.SetECAShape(sh)
		c := newClient(t, ts.URL, salesforce.WithRetry(0, time.Millisecond))
		apps, err := c.ECAs(t.Context())
		if err != nil || len(apps) != 2 {
			t.Fatalf("%+v: apps %v, err %v", sh, apps, err)
		}
		srv.Inject(sftest.Fault{Path: "/apps/oauth/usage/" + apps[1].Identifier + "/", Status: 500, Body: `[{"errorCode":"UNKNOWN_EXCEPTION","message":"boom"}]`})
		var tokens, failed int
		for _, a := range apps {
			users, err := c.ECAAppTokens(t.Context(), a.Identifier)
			if err != nil {
				if salesforce.IsSourceWide(err) {
					t.Fatalf("%+v: one app's 500 read as source-wide: %v", sh, err)
				}
				failed++
				continue
			}
			for _, u := range users {
				if u.User.UserIdentifier == "" || u.User.Username == "" {
					t.Fatalf("%+v: user item read as %+v", sh, u.User)
				}
				tokens += len(u.Tokens)
			}
		}
		if tokens != 4 || failed != 1 {
			t.Fatalf("%+v: %d tokens, %d failed apps; want 4 and 1", sh, tokens, failed)
		}
	}
}

// ApiTotalUsage can name Salesforce-internal apps (888 ids) that no
// ConnectedApplication row or OauthToken knows; the client reports them as
// such so the exporter does not take them for phantom apps.
func TestInternalAppIDsInAPIUsage(t *testing.T) {
	t.Parallel()
	org := smallOrg()
	apps := org.Apps()
	org.AddLogFile(&sftest.LogFile{LogDate: org.Now().Add(-24 * time.Hour).Truncate(24 * time.Hour), Rows: []sftest.UsageRow{
		{AppID: apps[0].ID[:15], AppName: apps[0].Name, StatusCode: 200, Time: org.Now().Add(-20 * time.Hour), Count: 3},
		sftest.InternalAppUsage(org.Now().Add(-19*time.Hour), 1, 5, ""),
	}})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)
	files, err := c.EventLogFiles(t.Context(), "ApiTotalUsage", org.Now().Add(-72*time.Hour))
	if err != nil || len(files) != 1 {
		t.Fatalf("files %v, err %v", files, err)
	}
	rc, err := c.OpenLogFile(t.Context(), files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	internal, external := 0, 0
	if _, err := salesforce.ParseAPITotalUsage(rc, func(e salesforce.UsageEvent) {
		if salesforce.IsInternalAppID(string(e.AppID)) {
			internal++
		} else {
			external++
		}
	}); err != nil {
		t.Fatal(err)
	}
	if internal != 5 || external != 3 {
		t.Fatalf("%d internal and %d external events, want 5 and 3", internal, external)
	}
	installed, err := c.ConnectedApplications(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range installed {
		if salesforce.IsInternalAppID(a.ID) {
			t.Fatalf("an internal app has a ConnectedApplication row: %+v", a)
		}
	}
	for _, id := range []string{"0H4000000000001", "", "888"} {
		if salesforce.IsInternalAppID(id) {
			t.Errorf("IsInternalAppID(%q) = true", id)
		}
	}
}

// TestTokenAggregateCutResponseIsTemporary: an aggregate answer cut off
// mid-body (a dropped connection) says nothing about the org: Temporary,
// not ErrAggregateUnsupported. A body that arrives whole but is not JSON
// is an odd answer: unsupported.
func TestTokenAggregateCutResponseIsTemporary(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		fault     sftest.Fault
		temporary bool
	}{
		{"truncated", sftest.Fault{Path: "/query", Count: 100, Truncate: true, MatchQuery: "COUNT_DISTINCT"}, true},
		{"malformed", sftest.Fault{Path: "/query", Count: 100, Malformed: true, MatchQuery: "COUNT_DISTINCT"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			org := generatedOrg(300)
			org.Behavior.OauthTokenAggregates = true
			srv, ts := sftest.Start(t, org, sftest.TestCredentials)
			srv.Inject(tc.fault)
			c := newClient(t, ts.URL)
			_, _, err := c.TokenAggregates(t.Context(), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
			var aggErr *salesforce.AggregateError
			if !errors.As(err, &aggErr) || aggErr.Temporary() != tc.temporary || errors.Is(err, salesforce.ErrAggregateUnsupported) == tc.temporary {
				t.Fatalf("err = %v; want an *AggregateError, temporary %v", err, tc.temporary)
			}
		})
	}
}
