package snapshot

import "github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/textsafe"

// MaxLabelRunes caps the length of a value from Salesforce shown as a label
// or in a report: an app name is at most 255 characters in Salesforce, so a
// longer one is hostile or broken.
const MaxLabelRunes = 256

// CleanLabel makes a value read from Salesforce (an app name, an Id) safe to
// use as a Prometheus label value or to display: invalid UTF-8 becomes
// U+FFFD, so does every control character (newlines, escapes, NUL), and a
// value longer than MaxLabelRunes is cut there and ends in "…". A clean value
// comes back unchanged, without an allocation.
func CleanLabel(s string) string { return textsafe.Clean(s, MaxLabelRunes) }
