package salesforce

import (
	"bytes"
	"fmt"
	"strconv"
	"time"
)

// DateTimeLayout is the layout of datetime values in REST responses: milliseconds and a
// numeric zone without a colon, such as 2023-12-19T21:04:35.000+0000.
const DateTimeLayout = "2006-01-02T15:04:05.000-0700"

// Time is a Salesforce datetime or date. The zero value is JSON null.
type Time struct{ time.Time }

var timeLayouts = []string{
	DateTimeLayout,
	"2006-01-02T15:04:05-0700",
	time.RFC3339Nano,
	"2006-01-02T15:04:05.000Z0700",
	"2006-01-02",
}

// ParseTime parses a datetime as Salesforce writes it (and the RFC 3339 and date-only forms).
func ParseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid datetime %q: want a layout like %s", s, DateTimeLayout)
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("invalid datetime %s", truncate(string(b), 40))
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	t.Time, err = ParseTime(s)
	return err
}

// MarshalJSON implements json.Marshaler, in Salesforce's layout.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + t.UTC().Format(DateTimeLayout) + `"`), nil
}

// SOQLTime formats t as a SOQL datetime literal (UTC, second precision, no quotes).
func SOQLTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
