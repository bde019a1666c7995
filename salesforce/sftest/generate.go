package sftest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// Scale describes a generated org.
type Scale struct {
	Tokens, Apps, Users int
	Seed                uint64
	// InactiveUsers is the share of users deactivated (default 0.03).
	InactiveUsers float64
	// Uninstalled is the share of apps not installed (default 0.05).
	Uninstalled float64
}

// Generate fills an org deterministically: apps, users and tokens created
// over the last three years (more of them recently), most used in the last
// month, some never. A million tokens take a few seconds and about 40 MB.
func (o *Org) Generate(s Scale) {
	if s.InactiveUsers == 0 {
		s.InactiveUsers = 0.03
	}
	if s.Uninstalled == 0 {
		s.Uninstalled = 0.05
	}
	r := rand.New(rand.NewPCG(s.Seed, 1))
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.nowLocked()
	appBase := len(o.apps)
	for i := range s.Apps {
		a := App{Name: fmt.Sprintf("App %03d", i), Installed: r.Float64() >= s.Uninstalled, Created: now.Add(-3 * 365 * 24 * time.Hour)}
		a.ID = makeID("0H4", appBase+i+1)
		if a.Installed {
			a.MenuItemID = makeID("0Pp", appBase+i+1)
		}
		o.apps = append(o.apps, a)
		o.appIdx[lower(a.Name)] = appBase + i
	}
	userBase := len(o.users)
	for i := range s.Users {
		o.addUserLocked(fmt.Sprintf("gen%06d@example.com", i), r.Float64() >= s.InactiveUsers)
	}
	span := int64(3 * 365 * 24 * time.Hour / time.Millisecond)
	nowMs := now.UnixMilli()
	o.tokens = slices.Grow(o.tokens, s.Tokens)
	for range s.Tokens {
		// Skew towards recent: the square of a uniform variable.
		u := r.Float64()
		created := nowMs - int64(u*u*float64(span)) - 3_600_000 // nothing in the last hour
		t := token{created: created, user: int32(userBase + r.IntN(s.Users)), app: int32(appBase + zipf(r, s.Apps)), seq: o.nextSeq, useCount: int32(r.IntN(500))}
		o.nextSeq++
		if r.Float64() < 0.85 {
			t.lastUsed = max(created, nowMs-r.Int64N(int64(40*24*time.Hour/time.Millisecond)))
		}
		o.tokens = append(o.tokens, t)
		o.live++
	}
	slices.SortStableFunc(o.tokens, func(a, b token) int {
		switch {
		case a.created < b.created:
			return -1
		case a.created > b.created:
			return 1
		}
		return 0
	})
}

// zipf picks an index in [0, n) with a skew: a few apps hold most tokens.
func zipf(r *rand.Rand, n int) int {
	u := r.Float64()
	return min(n-1, int(float64(n)*u*u*u))
}

// Churn changes the org the way a few minutes of activity do: n tokens
// used, and newTokens authorized now.
func (o *Org) Churn(used, newTokens int, seed uint64) {
	o.UseTokens(-1, used, seed)
	o.mu.Lock()
	defer o.mu.Unlock()
	r := rand.New(rand.NewPCG(seed, 3))
	now := o.nowLocked()
	for i := range newTokens {
		o.addTokenLocked(TokenSpec{User: r.IntN(len(o.users)), App: r.IntN(len(o.apps)), Created: now.Add(-5*time.Second - time.Duration(i)*time.Millisecond), LastUsed: now, UseCount: 1})
	}
}
