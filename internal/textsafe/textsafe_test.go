package textsafe

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// cases are the characters every transform must handle: C0 and C1
// controls, DEL, the line separators, the bidi embeddings, overrides,
// isolates and marks, invalid UTF-8, and plain text.
var cases = []struct {
	name, in                    string
	clean, visible, shell, yaml string
}{
	{name: "plain", in: "Data Loader", clean: "Data Loader", visible: "Data Loader", shell: "'Data Loader'", yaml: `"Data Loader"`},
	{name: "plain word", in: "dataloader@x.com", clean: "dataloader@x.com", visible: "dataloader@x.com", shell: "dataloader@x.com", yaml: `"dataloader@x.com"`},
	{name: "plain unicode", in: "Zoë 日本", clean: "Zoë 日本", visible: "Zoë 日本", shell: "'Zoë 日本'", yaml: `"Zoë 日本"`},
	{name: "empty", in: "", clean: "", visible: "", shell: "''", yaml: `""`},
	{name: "quote", in: `it's "x"\`, clean: `it's "x"\`, visible: `it's "x"\`, shell: `'it'\''s "x"\'`, yaml: `"it's \"x\"\\"`},
	{name: "NUL", in: "a\x00b", clean: "a\uFFFDb", visible: `a\x00b`, shell: `$'a\x00b'`, yaml: `"a\u0000b"`},
	{name: "newline tab CR", in: "a\nb\tc\rd", clean: "a\uFFFDb\uFFFDc\uFFFDd", visible: `a\nb\tc\rd`, shell: `$'a\nb\tc\x0dd'`, yaml: `"a\u000Ab\u0009c\u000Dd"`},
	{name: "ESC", in: "\x1b[2Jx", clean: "\uFFFD[2Jx", visible: `\x1b[2Jx`, shell: `$'\x1b[2Jx'`, yaml: `"\u001B[2Jx"`},
	{name: "DEL", in: "a\x7f", clean: "a\uFFFD", visible: `a\x7f`, shell: `$'a\x7f'`, yaml: `"a\u007F"`},
	{name: "C1 NEL and CSI", in: "a\u0085b\u009b", clean: "a\uFFFDb\uFFFD", visible: `a\u0085b\u009b`, shell: `$'a\u0085b\u009b'`, yaml: `"a\u0085b\u009B"`},
	{name: "NBSP is not C1", in: "a\u00a0b", clean: "a\u00a0b", visible: "a\u00a0b", shell: "'a\u00a0b'", yaml: `"a\u00A0b"`},
	{name: "line separators", in: "a\u2028b\u2029c", clean: "a\uFFFDb\uFFFDc", visible: "a\u2028b\u2029c", shell: "'a\u2028b\u2029c'", yaml: `"a\u2028b\u2029c"`},
	{name: "bidi override", in: "evil\u202eexe.txt", clean: "evil\u202eexe.txt", visible: `evil\u202eexe.txt`, shell: `$'evil\u202eexe.txt'`, yaml: `"evil\u202Eexe.txt"`},
	{name: "bidi embeddings", in: "\u202a\u202b\u202c\u202d", clean: "\u202a\u202b\u202c\u202d", visible: `\u202a\u202b\u202c\u202d`, shell: `$'\u202a\u202b\u202c\u202d'`, yaml: `"\u202A\u202B\u202C\u202D"`},
	{name: "bidi isolates", in: "\u2066a\u2067b\u2068c\u2069", clean: "\u2066a\u2067b\u2068c\u2069", visible: `\u2066a\u2067b\u2068c\u2069`, shell: `$'\u2066a\u2067b\u2068c\u2069'`, yaml: `"\u2066a\u2067b\u2068c\u2069"`},
	{name: "bidi marks", in: "\u200e\u200f\u061c", clean: "\u200e\u200f\u061c", visible: `\u200e\u200f\u061c`, shell: `$'\u200e\u200f\u061c'`, yaml: `"\u200E\u200F\u061C"`},
	{name: "zero-width space is not bidi", in: "a\u200bb", clean: "a\u200bb", visible: "a\u200bb", shell: "'a\u200bb'", yaml: `"a\u200Bb"`},
	{name: "invalid UTF-8", in: "a\xffb\xc3", clean: "a\uFFFDb\uFFFD", visible: `a\xffb\xc3`, shell: "'a\xffb\xc3'", yaml: `"a\uFFFDb\uFFFD"`},
	{name: "U+FFFD itself", in: "a\uFFFD", clean: "a\uFFFD", visible: "a\uFFFD", shell: "'a\uFFFD'", yaml: `"a\uFFFD"`},
	{name: "astral", in: "a\U0001F600\U000E0001", clean: "a\U0001F600\U000E0001", visible: "a\U0001F600\U000E0001", shell: "'a\U0001F600\U000E0001'", yaml: `"a` + "\U0001F600" + `\U000E0001"`},
}

func TestTransforms(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Clean(tc.in, 256); got != tc.clean {
				t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.clean)
			}
			if got := Visible(tc.in); got != tc.visible {
				t.Errorf("Visible(%q) = %q, want %q", tc.in, got, tc.visible)
			}
			if got := ShellQuote(tc.in); got != tc.shell {
				t.Errorf("ShellQuote(%q) = %q, want %q", tc.in, got, tc.shell)
			}
			if got := YAMLQuote(tc.in); got != tc.yaml {
				t.Errorf("YAMLQuote(%q) = %q, want %q", tc.in, got, tc.yaml)
			}
		})
	}
}

func TestCleanCapsLength(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"at the cap", "abc", 3, "abc"},
		{"over the cap", "abcd", 3, "abc…"},
		{"runes, not bytes", "ééé", 3, "ééé"},
		{"runes over the cap", "éééé", 3, "ééé…"},
		{"control counts as one", "\x00\x00\x00\x00", 3, "\uFFFD\uFFFD\uFFFD…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Clean(tc.in, tc.max); got != tc.want {
				t.Errorf("Clean(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
		})
	}
}

func TestCleanPlainDoesNotAllocate(t *testing.T) {
	s := strings.Repeat("app-name ", 20)
	if n := testing.AllocsPerRun(100, func() { _ = Clean(s, 256) }); n != 0 {
		t.Errorf("Clean of plain ASCII allocates %v times", n)
	}
}

// TestClasses checks the classes over every rune against their
// definitions: IsControl is unicode.IsControl, the bidi set is the one the
// package documents, and the line separators are Unicode's Zl and Zp.
func TestClasses(t *testing.T) {
	bidi := map[rune]bool{0x061c: true, 0x200e: true, 0x200f: true}
	for r := rune(0x202a); r <= 0x202e; r++ {
		bidi[r] = true
	}
	for r := rune(0x2066); r <= 0x2069; r++ {
		bidi[r] = true
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if got, want := IsControl(r), unicode.IsControl(r); got != want {
			t.Fatalf("IsControl(%U) = %v, unicode.IsControl says %v", r, got, want)
		}
		if got := IsBidi(r); got != bidi[r] {
			t.Fatalf("IsBidi(%U) = %v", r, got)
		}
		if got, want := IsLineSeparator(r), unicode.In(r, unicode.Zl, unicode.Zp); got != want {
			t.Fatalf("IsLineSeparator(%U) = %v, want %v", r, got, want)
		}
		if bidi[r] && !unicode.Is(unicode.Bidi_Control, r) {
			t.Fatalf("%U is not a Unicode Bidi_Control", r)
		}
	}
}

// TestVisibleShowsNothingHidden: whatever the input, Visible's output is
// valid UTF-8 without control or bidi characters, and text without them
// comes back unchanged.
func TestVisibleShowsNothingHidden(t *testing.T) {
	for r := rune(0); r <= 0x3000; r++ {
		in := "a" + string(r) + "b\xfe"
		out := Visible(in)
		if !utf8.ValidString(out) {
			t.Fatalf("Visible(%q) = %q is not valid UTF-8", in, out)
		}
		for _, o := range out {
			if IsControl(o) || IsBidi(o) {
				t.Fatalf("Visible(%q) = %q keeps %U", in, out, o)
			}
		}
		if !IsControl(r) && !IsBidi(r) {
			if plain := "a" + string(r) + "b"; Visible(plain) != plain {
				t.Fatalf("Visible(%q) = %q changed plain text", plain, Visible(plain))
			}
		}
	}
}
