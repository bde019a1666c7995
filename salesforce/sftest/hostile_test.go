package sftest

import (
	"strings"
	"testing"
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
