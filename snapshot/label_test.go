package snapshot

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanLabel(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", MaxLabelRunes+10)
	for _, c := range []struct{ name, in, want string }{
		{"clean ASCII is unchanged", "Data Loader", "Data Loader"},
		{"clean UTF-8 is unchanged", "Données Loader ✓", "Données Loader ✓"},
		{"invalid UTF-8 becomes U+FFFD", "Bad\xff\xfeApp", "Bad\uFFFD\uFFFDApp"},
		{"control characters become U+FFFD", "a\nb\x00c\x1b[31md\u0085", "a\uFFFDb\uFFFDc\uFFFD[31md\uFFFD"},
		{"line separators become U+FFFD", "a\u2028b", "a\uFFFDb"},
		{"DEL becomes U+FFFD", "a\x7fb", "a\uFFFDb"},
		{"exactly the cap is unchanged", strings.Repeat("x", MaxLabelRunes), strings.Repeat("x", MaxLabelRunes)},
		{"longer than the cap is cut and marked", long, strings.Repeat("é", MaxLabelRunes) + "…"},
		{"empty", "", ""},
	} {
		got := CleanLabel(c.in)
		if got != c.want {
			t.Errorf("%s: CleanLabel(%q) = %q, want %q", c.name, c.in, got, c.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("%s: result %q is not valid UTF-8", c.name, got)
		}
	}
}

func FuzzCleanLabel(f *testing.F) {
	f.Add("Data Loader")
	f.Add("Bad\xffApp\n")
	f.Fuzz(func(t *testing.T, s string) {
		got := CleanLabel(s)
		if !utf8.ValidString(got) {
			t.Fatalf("CleanLabel(%q) = %q: invalid UTF-8", s, got)
		}
		if n := utf8.RuneCountInString(got); n > MaxLabelRunes+1 {
			t.Fatalf("CleanLabel(%q) has %d runes", s, n)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("CleanLabel(%q) = %q keeps a control character", s, got)
			}
		}
		if CleanLabel(got) != got {
			t.Fatalf("CleanLabel is not idempotent on %q", s)
		}
	})
}
