package sftest

import (
	"strings"
	"testing"
	"time"
)

// TestEveryDeleteTokenRevokes: DeleteTokens whose base 36 sequence holds an
// "x" revoke like every other (they used to be misparsed and never revoked).
func TestEveryDeleteTokenRevokes(t *testing.T) {
	t.Parallel()
	org := NewOrg()
	org.Generate(Scale{Tokens: 2000, Apps: 3, Users: 300, Seed: 1})
	withX := 0
	for _, dt := range org.DeleteTokens() {
		if strings.Count(dt, "x") > 1 {
			withX++
		}
		if !org.liveDeleteToken(dt) || !org.revokeByDeleteToken(dt) {
			t.Fatalf("a live DeleteToken (x in its sequence: %v) was not revoked", strings.Count(dt, "x") > 1)
		}
		if org.liveDeleteToken(dt) || org.revokeByDeleteToken(dt) {
			t.Fatal("a token was revoked twice")
		}
	}
	if withX == 0 {
		t.Fatal("no DeleteToken has an x in its sequence: the test proves nothing")
	}
	for _, bad := range []string{"", "DT0", "DT0x", "DT0zzzzzzzzzzzzx00", "DT0!x00"} {
		if org.revokeByDeleteToken(bad) {
			t.Errorf("%q revoked something", bad)
		}
	}
}

// TestUnknownUserRowsRefused: a LoginHistory, AuthSession, OauthToken or
// External Client App row of a user never added is not added, and Err says
// which call named what; a row that gets past the checks makes its query a
// 500 UNKNOWN_EXCEPTION with the reason, and the org stays usable (the read
// lock is released).
func TestUnknownUserRowsRefused(t *testing.T) {
	t.Parallel()
	org := NewOrg()
	u := org.AddUser("someone@example.com", true)
	app := org.AddApp(App{Name: "Known", Installed: true})
	org.AddLogin(LoginSpec{User: u + 7, App: "Known"})
	org.AddSession(SessionSpec{User: -1, App: "Known"})
	org.AddToken(TokenSpec{User: u + 7, App: app})
	org.AddToken(TokenSpec{User: u, App: app + 3})
	org.AddECA(ECASpec{Name: "E", DeveloperName: "E", Users: []int{u, u + 9}})
	org.AddECAUser("E", 42)
	err := org.Err()
	if err == nil {
		t.Fatal("Err is nil after six rows of users or apps that do not exist")
	}
	for _, want := range []string{"AddLogin names user 8", "AddSession names user -1", "AddToken names user 8", "AddToken names app 3", "AddECA names user 10", "AddECAUser names user 42", "use the index AddUser returns"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Err does not say %q: %v", want, err)
		}
	}
	if len(org.logins) != 0 || len(org.sessions) != 0 || org.TokenCount() != 1 || ecaUsers(org) != 1 {
		t.Errorf("rows added: %d logins, %d sessions, %d tokens, %d ECA users", len(org.logins), len(org.sessions), org.TokenCount(), ecaUsers(org))
	}

	bad := NewOrg()
	bu := bad.AddUser("someone@example.com", true)
	bad.AddLogin(LoginSpec{User: bu, App: "Known"})
	bad.mu.Lock()
	bad.logins = append(bad.logins, login{id: makeID("0Ya", 2), user: 5, time: bad.nowLocked(), application: "Known", status: "Success"})
	bad.mu.Unlock()
	for range 2 {
		code, b := runQuery(t, bad, "SELECT Id, UserId, Application FROM LoginHistory")
		if code != 500 || !strings.Contains(b, "UNKNOWN_EXCEPTION") || !strings.Contains(b, "index out of range") {
			t.Errorf("a row of a missing user: %d %s", code, b)
		}
	}
	done := make(chan struct{})
	go func() { bad.AddUser("later@example.com", true); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("AddUser blocks: the failed query kept the org's lock")
	}
}

func ecaUsers(o *Org) int {
	users, _ := o.ecaUsersLocked(&o.ecas[0])
	return len(users)
}
