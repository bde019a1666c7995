package salesforce

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/go-json-experiment/json/jsontext"
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
	if t, ok := parseDateTime(s); ok {
		return t, nil
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid datetime %q: want a layout like %s", s, DateTimeLayout)
}

// parseDateTime parses DateTimeLayout, the form every REST datetime takes
// (2023-12-19T21:04:35.000+0000), without time.Parse's general layout
// matching: a full sync parses two datetimes a token. ok is false for any
// other form, and for a field out of its range (ParseTime then says why).
func parseDateTime(s string) (time.Time, bool) {
	if len(s) != len("2006-01-02T15:04:05.000-0700") || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || (s[23] != '+' && s[23] != '-') {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec, ms := num(11, 2), num(14, 2), num(17, 2), num(20, 3)
	zh, zm := num(24, 2), num(26, 2)
	if year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(year, time.Month(month)) ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 || ms < 0 || zh < 0 || zh > 24 || zm < 0 || zm > 60 { // time.Parse allows offsets of 24 hours or 60 minutes
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, ms*int(time.Millisecond), time.UTC)
	off := time.Duration(zh)*time.Hour + time.Duration(zm)*time.Minute
	if s[23] == '+' {
		off = -off
	}
	return t.Add(off), true
}

// daysIn is the number of days in month m of year y.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// UnmarshalJSONFrom reads a datetime straight from the decoder (the v2
// JSON interface the client's page decoder uses), as UnmarshalJSON does
// from bytes.
func (t *Time) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	switch tok.Kind() {
	case 'n':
		t.Time = time.Time{}
		return nil
	case '"':
	default:
		return fmt.Errorf("invalid datetime: want a string, got %v", tok.Kind())
	}
	s := tok.String()
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	t.Time, err = ParseTime(s)
	return err
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
