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
		status: s.Status, loginType: "Remote Access 2.0", sourceIP: s.SourceIP, written: written,
	})
	return len(o.logins) - 1
}

// eca is an External Client App with its OAuth users.
type eca struct {
	id, developerName, name string
	users                   []ecaUser
}

type ecaUser struct {
	user      int
	tokens    int
	useCount  int
	firstUsed time.Time
	lastUsed  time.Time
}

// ECASpec describes an External Client App and who authorized it.
type ECASpec struct {
	Name, DeveloperName string
	Users               []int
	TokensPerUser       int
	LastUsed            time.Time
}

// AddECA adds an External Client App.
func (o *Org) AddECA(s ECASpec) {
	o.mu.Lock()
	defer o.mu.Unlock()
	e := eca{id: makeID("0xI", len(o.ecas)+1), developerName: s.DeveloperName, name: s.Name}
	if s.TokensPerUser == 0 {
		s.TokensPerUser = 1
	}
	now := o.nowLocked()
	for _, u := range s.Users {
		if o.unknownLocked("AddECA", "user", u, len(o.users)) {
			continue
		}
		e.users = append(e.users, ecaUser{user: u, tokens: s.TokensPerUser, useCount: 3, firstUsed: now.Add(-48 * time.Hour), lastUsed: s.LastUsed})
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
			o.ecas[i].users = append(o.ecas[i].users, ecaUser{user: user, tokens: 1, useCount: 1, firstUsed: now, lastUsed: now})
		}
	}
}

// splitmix is SplitMix64's finaliser: a well-spread number from n.
func splitmix(n uint64) uint64 {
	n += 0x9e3779b97f4a7c15
	n = (n ^ n>>30) * 0xbf58476d1ce4e5b9
	n = (n ^ n>>27) * 0x94d049bb133111eb
	return n ^ n>>31
}
