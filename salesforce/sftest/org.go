// Package sftest is a fake Salesforce org served over real HTTP, for tests,
// benchmarks and the exporter's --demo. It follows the facts the client was
// written against: OauthToken's 500-row pages and 2,500-row cursor cap, its
// Ids (0CQ...), nested relationship objects, +0000 datetimes, JSON-array error bodies,
// HTML 5xx bodies, token responses without expires_in, quoted EventLogFile CSV
// and gzip. Where Salesforce's behaviour is not documented, Behaviour switches
// between the plausible answers.
package sftest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// App is a connected app: installed ones have a ConnectedApplication row and an AppMenuItem.
type App struct {
	ID            string // 18-character ConnectedApplication Id (0H4)
	Name          string
	Installed     bool
	AdminApproved bool
	MenuItemID    string // 18-character AppMenuItem Id (0Pp); "" when not installed
	Created       time.Time
	// Integration marks an app whose traffic is mostly API calls from few users.
	Integration bool
	// The OAuth policy ConnectedApplication shows: RefreshIdle judges the
	// refresh token's validity from its last use; RefreshPeriod is its
	// validity in the unit the app's page set (0: until revoked, read as
	// null); HighAssurance requires a high-assurance session.
	RefreshIdle   bool
	RefreshPeriod int64
	HighAssurance bool
	// ECA marks an External Client App's entry (AddECA): ID is its 0xI Id,
	// its tokens are OauthToken rows, and it has no ConnectedApplication row.
	// MenuItemID is its AppMenuItem's Id, shown only with
	// Behaviour.ECAMenuItems.
	ECA bool
	// What only the Metadata API's ConnectedApp shows (metadata.go):
	// Scopes are oauthConfig.scopes as the API spells them (nil: Api and
	// RefreshToken); IPRelaxation is oauthPolicy.ipRelaxation ("":
	// ENFORCE, Salesforce's default); NoOAuthConfig makes an app with no
	// oauthConfig (SAML or canvas only); Namespace is the package's prefix
	// its full name carries (ns__Name).
	Scopes        []string
	IPRelaxation  string
	NoOAuthConfig bool
	Namespace     string
}

// User is an org user.
type User struct {
	ID       string // 18 characters (005)
	Username string
	Active   bool
	Modstamp time.Time
}

// token is one OauthToken row, compact: a million fit in a few tens of MB.
type token struct {
	created  int64 // Unix ms
	lastUsed int64 // Unix ms, 0 for null
	useCount int32
	user     int32
	app      int32
	seq      uint32
	revoked  bool
}

// Org is the fake org's data and clock. All methods are safe for concurrent use.
type Org struct {
	mu sync.RWMutex

	OrgID    string // 18 characters (00D)
	Behavior Behaviour

	fixedNow time.Time
	offset   time.Duration

	apps    []App
	appIdx  map[string]int // by lower-case name
	users   []User
	userIdx map[string]int // by Id
	tokens  []token        // sorted by created
	live    int
	nextSeq uint32

	sessions []session
	logins   []login
	logs     []*LogFile
	ecas     []eca
	threats  []threat
	// apiEvents are the stored API events (ApiEvent, AddAPIEvent).
	apiEvents []apiEvent

	apiMax, apiUsed int64
	// integrationUser is the index of the user the exporter logs in as.
	integrationUser int
	restrictTokens  bool
	perms           permState
	grants          []userGrant // permission sets of other users (GrantUser)
	lastVersion     string
	secretSelected  atomic.Int64
	// misuse is what Add calls named that the org does not have (Err).
	misuse []string
}

// Err reports the Add calls that named a user or an app the org does not
// have (an index AddUser or AddApp never returned). Their rows were not
// added: Salesforce has no LoginHistory, AuthSession or OauthToken row of a
// user that does not exist. Start fails the test when Err is not nil.
func (o *Org) Err() error {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if len(o.misuse) == 0 {
		return nil
	}
	return fmt.Errorf("sftest: %d rows not added: %s", len(o.misuse), strings.Join(o.misuse, "; "))
}

// unknownLocked records a misuse when i is not a user (or app) index and
// reports whether it was one. Called with o.mu held.
func (o *Org) unknownLocked(call, what string, i, n int) bool {
	if i >= 0 && i < n {
		return false
	}
	if len(o.misuse) < 20 {
		o.misuse = append(o.misuse, fmt.Sprintf("%s names %s %d, but the org has %d (use the index %s returns)", call, what, i, n, map[string]string{"user": "AddUser", "app": "AddApp"}[what]))
	}
	return true
}

// NewOrg returns an empty org whose clock is now.
func NewOrg() *Org {
	o := &Org{
		OrgID:   makeID("00D", 1),
		appIdx:  map[string]int{},
		userIdx: map[string]int{},
		apiMax:  1_000_000,
	}
	o.Behavior.RelationshipFilters = true
	o.integrationUser = o.AddUser("integration@example.com", true)
	return o
}

// Now is the org's clock.
func (o *Org) Now() time.Time {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.nowLocked()
}

func (o *Org) nowLocked() time.Time {
	if !o.fixedNow.IsZero() {
		return o.fixedNow.Add(o.offset)
	}
	return time.Now().Add(o.offset).Truncate(time.Millisecond)
}

// SetNow freezes the clock at t; Advance then moves it.
func (o *Org) SetNow(t time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.fixedNow, o.offset = t.UTC(), 0
}

// SetClock sets the clock to t and lets it run on from there, as the real
// clock does: a test sets an hour (00:30 UTC, 23:59 UTC) that a date
// computation near midnight might get wrong, and still sees time pass.
func (o *Org) SetClock(t time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.fixedNow, o.offset = time.Time{}, time.Until(t)
}

// Advance moves the clock forward.
func (o *Org) Advance(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.offset += d
}

// SetAPILimit sets DailyApiRequests' Max and how much is used.
func (o *Org) SetAPILimit(maxReq, used int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.apiMax, o.apiUsed = maxReq, used
}

// APIUsage returns DailyApiRequests used and max.
func (o *Org) APIUsage() (used, maxReq int64) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.apiUsed, o.apiMax
}

// AddApp adds a connected app and returns its index.
func (o *Org) AddApp(a App) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	i := len(o.apps)
	if a.ID == "" {
		a.ID = makeID("0H4", i+1)
	}
	if a.Installed && a.MenuItemID == "" {
		a.MenuItemID = makeID("0Pp", i+1)
	}
	if a.Created.IsZero() {
		a.Created = o.nowLocked().Add(-400 * 24 * time.Hour)
	}
	o.apps = append(o.apps, a)
	o.appIdx[lower(a.Name)] = i
	return i
}

// menuItemOf is the AppMenuItemId an app's tokens carry ("" for none).
func (o *Org) menuItemOf(app int) string {
	a := &o.apps[app]
	if a.ECA && !o.Behavior.ECAMenuItems {
		return ""
	}
	return a.MenuItemID
}

// Apps returns a copy of the apps.
func (o *Org) Apps() []App {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return slices.Clone(o.apps)
}

// AppIndex returns an app's index by name, or -1.
func (o *Org) AppIndex(name string) int {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if i, ok := o.appIdx[lower(name)]; ok {
		return i
	}
	return -1
}

// SetInstalled installs or uninstalls an app.
func (o *Org) SetInstalled(app int, installed bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	a := &o.apps[app]
	a.Installed = installed
	a.MenuItemID = ""
	if installed {
		a.MenuItemID = makeID("0Pp", app+1)
	}
}

// UpdateApp edits an app's fields (its policy, say) in place.
func (o *Org) UpdateApp(app int, fn func(*App)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.unknownLocked("UpdateApp", "app", app, len(o.apps)) {
		return
	}
	fn(&o.apps[app])
}

// AddUser adds a user and returns its index.
func (o *Org) AddUser(username string, active bool) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.addUserLocked(username, active)
}

func (o *Org) addUserLocked(username string, active bool) int {
	i := len(o.users)
	u := User{ID: makeID("005", i+1), Username: username, Active: active, Modstamp: o.nowLocked().Add(-500 * 24 * time.Hour)}
	o.users = append(o.users, u)
	o.userIdx[u.ID] = i
	return i
}

// Users returns a copy of the users.
func (o *Org) Users() []User {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return slices.Clone(o.users)
}

// SetUserActive activates or deactivates a user (tokens stay, as in Salesforce).
func (o *Org) SetUserActive(user int, active bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.users[user].Active = active
	o.users[user].Modstamp = o.nowLocked()
}

// IntegrationUser is the index of the user the exporter's credentials log in as.
func (o *Org) IntegrationUser() int { return o.integrationUser }

// TokenSpec describes a token to add.
type TokenSpec struct {
	User, App int
	Created   time.Time // default: now
	LastUsed  time.Time // zero: never used
	UseCount  int
}

// AddToken adds an OAuth token. As in Salesforce, a sixth approval of the same
// app by the same user revokes that user's oldest one.
func (o *Org) AddToken(s TokenSpec) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.unknownLocked("AddToken", "user", s.User, len(o.users)) || o.unknownLocked("AddToken", "app", s.App, len(o.apps)) {
		return
	}
	if s.Created.IsZero() {
		s.Created = o.nowLocked()
	}
	o.addTokenLocked(s)
	o.enforceApprovalCap(s.User, s.App)
}

func (o *Org) addTokenLocked(s TokenSpec) {
	t := token{created: s.Created.UnixMilli(), useCount: int32(s.UseCount), user: int32(s.User), app: int32(s.App), seq: o.nextSeq}
	if !s.LastUsed.IsZero() {
		t.lastUsed = s.LastUsed.UnixMilli()
	}
	o.nextSeq++
	n := len(o.tokens)
	if n == 0 || o.tokens[n-1].created <= t.created {
		o.tokens = append(o.tokens, t)
	} else {
		i := sort.Search(n, func(i int) bool { return o.tokens[i].created > t.created })
		o.tokens = slices.Insert(o.tokens, i, t)
	}
	o.live++
}

const approvalsPerUser = 5

func (o *Org) enforceApprovalCap(user, app int) {
	var idx []int
	for i := range o.tokens {
		t := &o.tokens[i]
		if !t.revoked && int(t.user) == user && int(t.app) == app {
			idx = append(idx, i)
		}
	}
	for len(idx) > approvalsPerUser {
		o.tokens[idx[0]].revoked = true
		o.live--
		idx = idx[1:]
	}
}

// UseTokens marks n live tokens of an app (or of any app when app < 0) as
// used now, picking them with the given seed.
func (o *Org) UseTokens(app, n int, seed uint64) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.nowLocked().UnixMilli()
	r := rand.New(rand.NewPCG(seed, 7))
	used := 0
	for tries := 0; used < n && tries < n*20 && len(o.tokens) > 0; tries++ {
		t := &o.tokens[r.IntN(len(o.tokens))]
		if t.revoked || (app >= 0 && int(t.app) != app) || t.lastUsed == now {
			continue
		}
		t.lastUsed, t.useCount = now, t.useCount+1
		used++
	}
	return used
}

// RevokeWhere revokes every live token that match(user, app) accepts and
// returns how many.
func (o *Org) RevokeWhere(match func(user, app int) bool) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for i := range o.tokens {
		t := &o.tokens[i]
		if !t.revoked && match(int(t.user), int(t.app)) {
			t.revoked = true
			o.live--
			n++
		}
	}
	return n
}

// RevokeRandom revokes n live tokens picked with seed.
func (o *Org) RevokeRandom(n int, seed uint64) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := rand.New(rand.NewPCG(seed, 11))
	done := 0
	for tries := 0; done < n && tries < n*20 && len(o.tokens) > 0; tries++ {
		t := &o.tokens[r.IntN(len(o.tokens))]
		if t.revoked {
			continue
		}
		t.revoked = true
		o.live--
		done++
	}
	return done
}

// LiveCreated is the CreatedDate of every live token in ascending order, as
// Unix milliseconds: what a client that already knew the org's distribution
// would partition by (the bench's floor).
func (o *Org) LiveCreated() []int64 {
	o.mu.RLock()
	defer o.mu.RUnlock()
	out := make([]int64, 0, o.live)
	for i := range o.tokens {
		if !o.tokens[i].revoked {
			out = append(out, o.tokens[i].created)
		}
	}
	return out
}

// TokenCount is the number of live tokens.
func (o *Org) TokenCount() int {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.live
}

// Truth is the ground truth the exporter's OAuth metrics must match, per app.
type Truth struct {
	Tokens, Users, Stale, InactiveTokens int
	Uses                                 int64
	LastUsed, FirstAuthorized            time.Time
}

// GroundTruth computes the per-app truth (by app name) and the number of
// distinct deactivated users holding any token, for a stale threshold.
func (o *Org) GroundTruth(staleAfter time.Duration) (map[string]Truth, int) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	now := o.nowLocked().UnixMilli()
	out := map[string]Truth{}
	users := map[[2]int32]bool{}
	inactive := map[int32]bool{}
	for _, t := range o.tokens {
		if t.revoked {
			continue
		}
		name := o.apps[t.app].Name
		tr := out[name]
		tr.Tokens++
		tr.Uses += int64(t.useCount)
		if !users[[2]int32{t.app, t.user}] {
			users[[2]int32{t.app, t.user}] = true
			tr.Users++
		}
		if t.lastUsed > 0 && t.lastUsed > tr.LastUsed.UnixMilli() {
			tr.LastUsed = time.UnixMilli(t.lastUsed).UTC()
		}
		if tr.FirstAuthorized.IsZero() || t.created < tr.FirstAuthorized.UnixMilli() {
			tr.FirstAuthorized = time.UnixMilli(t.created).UTC()
		}
		ref := t.lastUsed
		if ref == 0 {
			ref = t.created
		}
		if now-ref > staleAfter.Milliseconds() {
			tr.Stale++
		}
		if !o.users[t.user].Active {
			tr.InactiveTokens++
			inactive[t.user] = true
		}
		out[name] = tr
	}
	return out, len(inactive)
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// makeID returns an 18-character Salesforce Id with the given 3-character prefix.
func makeID(prefix string, n int) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := []byte(prefix + "5j" + "0000000000")
	for i := len(b) - 1; n > 0 && i >= 5; i-- {
		b[i] = digits[n%62]
		n /= 62
	}
	return string(b) + idSuffix(string(b))
}

// idSuffix is Salesforce's 3-character case-safe suffix of a 15-character Id.
func idSuffix(id15 string) string {
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	out := make([]byte, 3)
	for chunk := range 3 {
		bits := 0
		for i := range 5 {
			c := id15[chunk*5+i]
			if c >= 'A' && c <= 'Z' {
				bits |= 1 << i
			}
		}
		out[chunk] = alpha[bits]
	}
	return string(out)
}

func (o *Org) String() string { return fmt.Sprintf("sftest.Org{%s}", o.OrgID) }

// RestrictTokensToIntegrationUser makes OauthToken show only the integration
// user's own tokens, as for a user without Customize Application.
func (o *Org) RestrictTokensToIntegrationUser(on bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.restrictTokens = on
}

func (o *Org) apiVersionForURL() string {
	if o.lastVersion == "" {
		return "66.0"
	}
	return o.lastVersion
}

// DeleteTokens returns every token's DeleteToken, revoked ones included, so
// tests can check that none is ever printed.
func (o *Org) DeleteTokens() []string {
	o.mu.RLock()
	defer o.mu.RUnlock()
	out := make([]string, len(o.tokens))
	for i := range o.tokens {
		out[i] = o.deleteToken(i)
	}
	return out
}
