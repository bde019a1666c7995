package detect

import (
	"strings"
	"testing"
	"time"
)

// timestampLayouts are the forms ParseTimestamp takes, as time.Parse
// layouts: the oracle it is checked against.
var timestampLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999-0700", "20060102150405.999999999"}

func oracle(s string) (int64, bool) {
	s = strings.Trim(s, " \t")
	for _, l := range timestampLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.Unix(), true
		}
	}
	return 0, false
}

func TestParseTimestampMatchesTimeParse(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"2025-01-15T10:22:33.123Z", // TIMESTAMP_DERIVED as written
		"2025-10-09T18:40:00.123Z",
		"2025-01-15T10:22:33Z", // other precisions
		"2025-01-15T10:22:33.1Z",
		"2025-01-15T10:22:33.123456789Z",
		"2025-01-15T10:22:33.999999999999Z",
		"2025-01-15T10:22:33.123+01:00", // offsets
		"2025-01-15T00:22:33-05:30",
		"2025-01-15T23:59:59.000+0000", // the REST API's offset
		"2025-01-15T01:00:00.000+0200",
		" 2025-01-15T10:22:33.123Z ",
		"20251009184000.123", // TIMESTAMP
		"20240229235959.000",
		"19991231000000",
		"20251009184000.1",
		"2000-03-01T00:00:00Z",
		"2024-02-29T12:00:00.000Z",
		"0001-01-01T00:00:00.000Z",
		"1969-12-31T23:59:59.000Z",
		"9999-12-31T23:59:59.999Z",
	} {
		want, ok := oracle(in)
		if !ok {
			t.Fatalf("%q: time.Parse rejects it", in)
		}
		got, ok := ParseTimestamp([]byte(in))
		if !ok || got != want {
			t.Errorf("%q: %v %v, want %v", in, time.Unix(got, 0).UTC(), ok, time.Unix(want, 0).UTC())
		}
	}
	for _, in := range []string{
		"", " ", "2025", "x", "20251309184000.123", "2025-10-09 18:40:00", "2025100918400x.123",
		"2025-10-09T25:00:00Z", "2025-02-29T00:00:00.000Z", "2025-04-31T00:00:00.000Z", "2025-01-15T10:22:60.000Z",
		"2025-01-15T10:60:00Z", "2025-01-15T10:22:33", "2025-01-15T10:22:33.Z", "2025-01-15T10:22:33.123", "2025-01-15T10:22:33.123ZZ",
		"2025-01-15T10:22:33+24:00", "2025-01-15T10:22:33+01:60", "2025-01-15T10:22:33*01:00", "2025-01-15T10:22:33.12aZ",
		"2025-01-15t10:22:33Z", "20251009184000.", "20251009184000x", "20251009184000.12x", "2025-1-15T10:22:33Z",
		"2025-01-15T1:22:33Z", "+2025-01-15T10:22:33Z", "2025-01-15T10:22:33.123z", "null",
	} {
		if got, ok := ParseTimestamp([]byte(in)); ok {
			t.Errorf("%q accepted as %v", in, time.Unix(got, 0).UTC())
		}
	}
	// Every day of four years round-trips, in both columns' formats.
	for d := time.Date(2023, 1, 1, 7, 8, 9, 0, time.UTC); d.Year() < 2027; d = d.Add(25*time.Hour + 7*time.Minute + 11*time.Second) {
		for _, l := range []string{"20060102150405.000", "2006-01-02T15:04:05.000Z"} {
			if got, ok := ParseTimestamp([]byte(d.Format(l))); !ok || got != d.Unix() {
				t.Fatalf("%s: %d", d.Format(l), got)
			}
		}
	}
}

func TestParseTimestampDoesNotAllocate(t *testing.T) {
	ins := [][]byte{[]byte("2025-01-15T10:22:33.123Z"), []byte("2025-01-15T10:22:33+0100"), []byte("20251009184000.123"), []byte("bad")}
	if n := testing.AllocsPerRun(100, func() {
		for _, b := range ins {
			ParseTimestamp(b)
		}
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"2025-01-15T10:22:33.123Z", "2025-01-15T10:22:33+01:00", "2025-01-15T10:22:33.5-0800", "20251009184000.123", "20240229235959", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseTimestamp([]byte(s))
		slow, sok := parseTimestampSlow([]byte(s))
		if ok != sok || got != slow {
			t.Fatalf("%q: fast path %d %v, slow path %d %v", s, got, ok, slow, sok)
		}
		if !ok {
			return
		}
		want, wok := oracle(s)
		if !wok || got != want {
			t.Fatalf("%q: %d, time.Parse %d %v", s, got, want, wok)
		}
	})
}

func BenchmarkParseTimestamp(b *testing.B) {
	for _, ts := range []string{"2025-01-15T10:22:33.123Z", "20251009184000.123", "2025-01-15T10:22:33.123+0000"} {
		b.Run(ts, func(b *testing.B) {
			in := []byte(ts)
			for b.Loop() {
				if _, ok := ParseTimestamp(in); !ok {
					b.Fatal()
				}
			}
		})
	}
}
