// Package textsafe makes text from outside the exporter (app and user names
// read from Salesforce, values from files) safe to show or to paste: a
// control character must not reach a terminal (ESC[2J clears it), a line
// break must not split a label or a command, and a bidirectional control
// must not reorder what a reader sees ("Trojan Source").
//
// It has one set of character classes and the transforms built on them,
// each for one place the text goes:
//
//   - Clean replaces what is unsafe with U+FFFD and caps the length: a
//     Prometheus label value or a name shown as is.
//   - Visible shows what is unsafe as a backslash escape: the text, Markdown,
//     CSV and HTML reports, and the revoke command's output.
//   - ShellQuote quotes a word for a POSIX shell, in bash's $'...' when it
//     holds what is unsafe, so a command stays one line and copies as it reads.
//   - YAMLQuote quotes a YAML double-quoted scalar with every character that
//     is not printable escaped, so a written file loads back to the same string.
//
// The transforms differ where their destinations do: Clean leaves bidi
// controls alone (a label value is data, not text laid out for reading),
// Visible and ShellQuote leave U+2028 and U+2029 alone, and YAMLQuote escapes
// every character unicode.IsPrint refuses. Each keeps the rule its callers
// had before it moved here.
package textsafe

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// IsC0 reports the C0 control characters (U+0000 to U+001F) and DEL.
func IsC0(r rune) bool { return r < 0x20 || r == 0x7f }

// IsC1 reports the C1 control characters (U+0080 to U+009F).
func IsC1(r rune) bool { return r >= 0x80 && r < 0xa0 }

// IsControl reports the control characters, C0, DEL and C1: the runes
// unicode.IsControl reports.
func IsControl(r rune) bool { return IsC0(r) || IsC1(r) }

// IsBidi reports Unicode's explicit bidirectional formatting characters,
// which reorder what a terminal or page shows: the embeddings and overrides
// U+202A to U+202E, the isolates U+2066 to U+2069, and the marks U+200E,
// U+200F and U+061C.
func IsBidi(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

// IsLineSeparator reports U+2028 and U+2029, which break a line as a
// newline does without being a control character.
func IsLineSeparator(r rune) bool { return r == 0x2028 || r == 0x2029 }

// Clean returns s with invalid UTF-8, control characters and line
// separators replaced by U+FFFD, and, when it is longer than maxRunes runes,
// cut there and ended with "…". Short printable ASCII comes back unchanged,
// without an allocation.
func Clean(s string, maxRunes int) string {
	if isShortPrintableASCII(s, maxRunes) || isClean(s, maxRunes) {
		return s
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if n == maxRunes {
			b.WriteRune('…')
			break
		}
		if r == utf8.RuneError || IsControl(r) || IsLineSeparator(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// isClean reports whether Clean would return s unchanged: valid UTF-8 of at
// most maxRunes runes, none a control or line separator. Such a name (any
// script) then costs no copy.
func isClean(s string, maxRunes int) bool {
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if n == maxRunes || r == utf8.RuneError || IsControl(r) || IsLineSeparator(r) {
			return false
		}
		n++
	}
	return true
}

// isShortPrintableASCII reports whether s is at most maxRunes bytes of
// printable ASCII: the common case.
func isShortPrintableASCII(s string, maxRunes int) bool {
	if len(s) > maxRunes {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// Visible returns s with control and bidi characters shown as escapes: \n,
// \r and \t, \xNN for the other C0 controls and DEL, \uNNNN for C1
// controls and bidi characters, and \xNN for each byte of invalid UTF-8.
// Text without them comes back unchanged.
func Visible(s string) string {
	clean := true
	for _, r := range s {
		if IsControl(r) || IsBidi(r) || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, n := utf8.DecodeRuneInString(s[i:])
		w = n
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case IsC0(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case IsC1(r) || IsBidi(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ShellQuote quotes s as one word for a POSIX shell: as is when every
// character is safe unquoted, in single quotes otherwise, and in bash's
// $'...' when it holds control or bidi characters (\n, \t, \xNN for the
// other C0 controls and DEL, \uNNNN for C1 controls and bidi characters),
// so the command stays one line and copies as it reads.
func ShellQuote(s string) string {
	safe := s != ""
	ctrl := false
	for _, r := range s {
		switch {
		case IsControl(r) || IsBidi(r):
			ctrl, safe = true, false
		case !shellSafe(r):
			safe = false
		}
	}
	if safe {
		return s
	}
	if !ctrl {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for _, r := range s {
		switch {
		case r == '\'' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case IsC0(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case IsC1(r) || IsBidi(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// shellSafe reports a character a shell word may hold unquoted.
func shellSafe(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./-_", r)
}

// YAMLQuote quotes s as a YAML double-quoted scalar: " and \ escaped, every
// character that is not printable (unicode.IsPrint, a space excepted:
// controls, bidi characters, line separators, zero-width and other format
// characters) as \uNNNN or \UNNNNNNNN, and invalid UTF-8 as \uFFFD, so the
// file shows the string as it is and loads back to the same string.
func YAMLQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == utf8.RuneError:
			b.WriteString(`\uFFFD`)
		case unicode.IsPrint(r) || r == ' ':
			b.WriteRune(r)
		case r > 0xFFFF:
			fmt.Fprintf(&b, `\U%08X`, r)
		default:
			fmt.Fprintf(&b, `\u%04X`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
