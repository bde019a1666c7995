package sftest

import (
	"strconv"
	"strings"
	"time"
)

type kind uint8

const (
	kNull kind = iota
	kString
	kNumber
	kBool
	kTime
	kDate
)

// value is one SOQL value: a field's or a literal's.
type value struct {
	k kind
	s string
	f float64
	t int64 // Unix milliseconds for kTime and kDate
	b bool
}

func strVal(s string) value     { return value{k: kString, s: s} }
func numVal(f float64) value    { return value{k: kNumber, f: f} }
func boolVal(b bool) value      { return value{k: kBool, b: b} }
func timeVal(t time.Time) value { return value{k: kTime, t: t.UnixMilli()} }
func msVal(ms int64) value {
	if ms == 0 {
		return value{}
	}
	return value{k: kTime, t: ms}
}

// compare orders two non-null values of comparable kinds; ok is false when
// they can't be compared.
func compare(a, b value) (int, bool) {
	switch {
	case a.k == kString && b.k == kString:
		return strings.Compare(a.s, b.s), true
	case a.k == kNumber && b.k == kNumber:
		switch {
		case a.f < b.f:
			return -1, true
		case a.f > b.f:
			return 1, true
		}
		return 0, true
	case (a.k == kTime || a.k == kDate) && (b.k == kTime || b.k == kDate):
		switch {
		case a.t < b.t:
			return -1, true
		case a.t > b.t:
			return 1, true
		}
		return 0, true
	case a.k == kBool && b.k == kBool:
		if a.b == b.b {
			return 0, true
		}
		if !a.b {
			return -1, true
		}
		return 1, true
	}
	return 0, false
}

// equal is SOQL equality: strings compare case-insensitively.
func equal(a, b value) bool {
	if a.k == kNull || b.k == kNull {
		return a.k == b.k
	}
	if a.k == kString && b.k == kString {
		return strings.EqualFold(a.s, b.s)
	}
	c, ok := compare(a, b)
	return ok && c == 0
}

// appendJSON writes v as Salesforce writes it.
func appendJSON(b []byte, v value, double bool) []byte {
	switch v.k {
	case kNull:
		return append(b, "null"...)
	case kString:
		return appendJSONString(b, v.s)
	case kNumber:
		if double || v.f != float64(int64(v.f)) {
			s := strconv.FormatFloat(v.f, 'f', -1, 64)
			if !strings.Contains(s, ".") {
				s += ".0"
			}
			return append(b, s...)
		}
		return strconv.AppendInt(b, int64(v.f), 10)
	case kBool:
		return strconv.AppendBool(b, v.b)
	case kTime:
		b = append(b, '"')
		b = time.UnixMilli(v.t).UTC().AppendFormat(b, "2006-01-02T15:04:05.000-0700")
		return append(b, '"')
	case kDate:
		b = append(b, '"')
		b = time.UnixMilli(v.t).UTC().AppendFormat(b, "2006-01-02")
		return append(b, '"')
	}
	return append(b, "null"...)
}

// appendJSONString writes s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func fmtTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000-0700")
}
