package salesforce_test

import (
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

func TestIDKey(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ id, key string }{
		{"0H4Ak000000XyZaKAK", "0H4Ak000000XyZa"}, // 18: the 15, case kept
		{"0H4Ak000000XyZa", "0H4Ak000000XyZa"},    // 15: itself
		{"0H4Ak000000XyZaKA", "0H4Ak000000XyZa"},  // neither form: still its first 15
		{"short", "short"},                        // shorter than any Id: itself
		{"", ""},
	} {
		if got := salesforce.ID(c.id).Key(); got != c.key {
			t.Errorf("ID(%q).Key() = %q, want %q", c.id, got, c.key)
		}
	}
}

func TestIDSame(t *testing.T) {
	t.Parallel()
	const id18, id15 = "0H4Ak000000XyZaKAK", "0H4Ak000000XyZa"
	for _, c := range []struct {
		a, b string
		same bool
		why  string
	}{
		{id18, id15, true, "the 18 and 15-character forms of one record"},
		{id15, id18, true, "either way round"},
		{id18, id18, true, "itself"},
		{id18, "0H4Ak000000XyZaAAA", true, "the suffix is not compared: only the 15 name the record"},
		{id15, "0H4ak000000xyza", false, "the 15-character Id is case-sensitive"},
		{id18, "0H4AK000000XYZAKAK", false, "an 18-character Id with other case in its first 15 is another record"},
		{id15, "0H4Ak000000XyZb", false, "another record"},
		{id15, "0H4Ak000000XyZ", false, "a 14-character prefix is not the Id"},
		{"short", "short", true, "short strings compare whole"},
		{"short", "shorter", false, "short strings compare whole"},
		{"", "", false, "empty Ids name nothing"},
		{id15, "", false, "empty Ids name nothing"},
	} {
		if got := salesforce.ID(c.a).Same(salesforce.ID(c.b)); got != c.same {
			t.Errorf("ID(%q).Same(%q) = %v, want %v: %s", c.a, c.b, got, c.same, c.why)
		}
	}
}

func TestIsInternalAppID(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{
		"888000000000001":    true,
		"888000000000001AAA": true,
		"888":                false, // not an Id
		"0H4000000000001AAA": false,
		"":                   false,
	} {
		if got := salesforce.IsInternalAppID(id); got != want {
			t.Errorf("IsInternalAppID(%q) = %v, want %v", id, got, want)
		}
	}
}
