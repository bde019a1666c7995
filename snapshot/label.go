package snapshot

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLabelRunes caps the length of a value from Salesforce shown as a label
// or in a report: an app name is at most 255 characters in Salesforce, so a
// longer one is hostile or broken.
const MaxLabelRunes = 256

// CleanLabel makes a value read from Salesforce (an app name, an Id) safe to
// use as a Prometheus label value or to display: invalid UTF-8 becomes
// U+FFFD, so does every control character (newlines, escapes, NUL), and a
// value longer than MaxLabelRunes is cut there and ends in "…". A clean value
// comes back unchanged, without an allocation.
func CleanLabel(s string) string {
	if isCleanASCII(s) {
		return s
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if n == MaxLabelRunes {
			b.WriteRune('…')
			break
		}
		if r == utf8.RuneError || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			r = utf8.RuneError
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// isCleanASCII reports whether s is short printable ASCII: the common case.
func isCleanASCII(s string) bool {
	if len(s) > MaxLabelRunes {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
