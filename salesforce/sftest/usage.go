package sftest

import (
	"time"
)

// session is an AuthSession row.
type session struct {
	id           string
	user         int
	sessionType  string
	created      time.Time
	lastModified time.Time
	secondsValid int
	login        int // index into logins, -1 for none
}

// login is a LoginHistory row.
type login struct {
	id          string
	user        int
	time        time.Time
	application string
	status      string
	loginType   string
	subType     string
	apiType     string
	sourceIP    string
	// written is when the row becomes visible: time plus a write delay.
	written time.Time
}

// SessionSpec describes an AuthSession to add.
type SessionSpec struct {
	User        int
	Type        string // default Oauth2
	App         string // LoginHistory.Application; "" adds no LoginHistory row
	Created     time.Time
	ValidFor    time.Duration // default 2h
	LoginStatus string        // default Success
}

// AddSession adds an AuthSession and, when App is set, the LoginHistory row it points to.
func (o *Org) AddSession(s SessionSpec) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.unknownLocked("AddSession", "user", s.User, len(o.users)) {
		return
	}
	if s.Type == "" {
		s.Type = "Oauth2"
	}
	if s.Created.IsZero() {
		s.Created = o.nowLocked()
	}
	if s.ValidFor == 0 {
		s.ValidFor = 2 * time.Hour
	}
	li := -1
	if s.App != "" {
		li = o.addLoginLocked(LoginSpec{User: s.User, App: s.App, Time: s.Created, Status: s.LoginStatus})
		if s.Type != "Oauth2" {
			o.logins[li].loginType = "Application"
		}
	}
	o.sessions = append(o.sessions, session{
		id: makeID("0Ak", len(o.sessions)+1), user: s.User, sessionType: s.Type, created: s.Created,
		lastModified: s.Created, secondsValid: int(s.ValidFor / time.Second), login: li,
	})
}

// LoginSpec describes a LoginHistory row.
type LoginSpec struct {
	User   int
	App    string
	Time   time.Time
	Status string // default Success
	// SourceIP is LoginHistory.SourceIp; default an address of the app's
	// usual networks (IntegrationIP).
	SourceIP string
	// WrittenAfter is how long after Time the org writes the row: until
	// then no query sees it (no row is seen before its Time). Zero means
	// Behaviour.LateLoginHistory decides.
	WrittenAfter time.Duration
	// LoginType is LoginHistory.LoginType; default "Remote Access 2.0" (an
	// OAuth login). A SOAP API login() is "Other Apex API" with APIType
	// "SOAP Partner" or "SOAP Enterprise".
	LoginType, APIType string
	// SubType is LoginHistory.LoginSubType, as given (an API name such as
	// OauthUsernamePassword, or a label); default none (null).
	SubType string
}

// AddLogin adds a LoginHistory row.
func (o *Org) AddLogin(s LoginSpec) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.unknownLocked("AddLogin", "user", s.User, len(o.users)) {
		return
	}
	o.addLoginLocked(s)
}

func (o *Org) addLoginLocked(s LoginSpec) int {
	if s.Time.IsZero() {
		s.Time = o.nowLocked()
	}
	if s.Status == "" {
		s.Status = "Success"
	}
	if s.SourceIP == "" {
		s.SourceIP = IntegrationIP(s.App, len(o.logins))
	}
	if s.LoginType == "" {
		s.LoginType = "Remote Access 2.0"
	}
	delay := s.WrittenAfter
	if delay == 0 && o.Behavior.LateLoginHistory > 0 {
		// Spread over [0, LateLoginHistory), the same for the same rows.
		delay = time.Duration(splitmix(uint64(len(o.logins)+1)) % uint64(o.Behavior.LateLoginHistory))
	}
	written := s.Time.Add(delay)
	if now := o.nowLocked(); o.Behavior.FutureLoginHistory && s.Time.After(now) {
		written = now.Add(delay)
	}
	o.logins = append(o.logins, login{
		id: makeID("0Ya", len(o.logins)+1), user: s.User, time: s.Time, application: s.App,
		status: s.Status, loginType: s.LoginType, subType: s.SubType, apiType: s.APIType, sourceIP: s.SourceIP, written: written,
	})
	return len(o.logins) - 1
}

// eca is an External Client App. Its tokens are OauthToken rows of its
// entry in apps (App.ECA), which the App OAuth Usage resources list too.
type eca struct {
	id, developerName, name string
	app                     int // its entry in apps
}

// ECASpec describes an External Client App and who authorized it.
type ECASpec struct {
	Name, DeveloperName string
	Users               []int
	TokensPerUser       int
	LastUsed            time.Time
}

// AddECA adds an External Client App and its users' tokens, created 48
// hours ago and used 3 times. Its name is not one AppIndex finds.
func (o *Org) AddECA(s ECASpec) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(o.ecas) + 1
	app := len(o.apps)
	o.apps = append(o.apps, App{ID: makeID("0xI", n), Name: s.Name, ECA: true, MenuItemID: makeID("0Pp", 200000+n), Created: o.nowLocked().Add(-400 * 24 * time.Hour)})
	e := eca{id: o.apps[app].ID, developerName: s.DeveloperName, name: s.Name, app: app}
	if s.TokensPerUser == 0 {
		s.TokensPerUser = 1
	}
	now := o.nowLocked()
	for _, u := range s.Users {
		if o.unknownLocked("AddECA", "user", u, len(o.users)) {
			continue
		}
		for range s.TokensPerUser {
			o.addTokenLocked(TokenSpec{User: u, App: app, Created: now.Add(-48 * time.Hour), LastUsed: s.LastUsed, UseCount: 3})
		}
		o.enforceApprovalCap(u, app)
	}
	o.ecas = append(o.ecas, e)
}

// AddECAUser gives an External Client App (by name) one more OAuth user
// with one token, used now.
func (o *Org) AddECAUser(name string, user int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.unknownLocked("AddECAUser", "user", user, len(o.users)) {
		return
	}
	now := o.nowLocked()
	for i := range o.ecas {
		if o.ecas[i].name == name {
			o.addTokenLocked(TokenSpec{User: user, App: o.ecas[i].app, Created: now, LastUsed: now, UseCount: 1})
			o.enforceApprovalCap(user, o.ecas[i].app)
		}
	}
}

// ECAIndex returns the index (in Apps, for AddToken, UseTokens and
// RevokeWhere) of the External Client App of that name, or -1.
func (o *Org) ECAIndex(name string) int {
	o.mu.RLock()
	defer o.mu.RUnlock()
	for _, e := range o.ecas {
		if e.name == name {
			return e.app
		}
	}
	return -1
}

// ECAConsumerID returns the 888 Id of an External Client App's OAuth
// consumer (what /apps/oauth/credentials/{appId} lists), or "". A real org
// may stamp the app's ApiTotalUsage rows with it (CONNECTED_APP_ID), the
// prefix that otherwise marks Salesforce's own apps: tests write their
// ECA usage rows with it.
func (o *Org) ECAConsumerID(name string) string {
	o.mu.RLock()
	defer o.mu.RUnlock()
	for i, e := range o.ecas {
		if e.name == name {
			return makeID("888", 7000+i+1)
		}
	}
	return ""
}

// ecaUsersLocked lists the users holding live tokens of an External Client
// App, in the order of their first token, with those tokens' row indexes.
func (o *Org) ecaUsersLocked(e *eca) (users []int, tokens map[int][]int) {
	tokens = map[int][]int{}
	for i := range o.tokens {
		t := &o.tokens[i]
		if t.revoked || int(t.app) != e.app {
			continue
		}
		u := int(t.user)
		if _, ok := tokens[u]; !ok {
			users = append(users, u)
		}
		tokens[u] = append(tokens[u], i)
	}
	return users, tokens
}

// splitmix is SplitMix64's finaliser: a well-spread number from n.
func splitmix(n uint64) uint64 {
	n += 0x9e3779b97f4a7c15
	n = (n ^ n>>30) * 0xbf58476d1ce4e5b9
	n = (n ^ n>>27) * 0x94d049bb133111eb
	return n ^ n>>31
}
