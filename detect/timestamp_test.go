package detect

import (
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"20251009184000.123":       "2025-10-09T18:40:00Z",
		"2025-10-09T18:40:00.123Z": "2025-10-09T18:40:00Z",
		"20240229235959.000":       "2024-02-29T23:59:59Z",
		"19991231000000":           "1999-12-31T00:00:00Z",
		"2000-03-01T00:00:00Z":     "2000-03-01T00:00:00Z",
	} {
		got, ok := ParseTimestamp([]byte(in))
		w, _ := time.Parse(time.RFC3339, want)
		if !ok || got != w.Unix() {
			t.Errorf("%s: %v %v, want %s", in, time.Unix(got, 0).UTC(), ok, want)
		}
	}
	for _, in := range []string{"", "2025", "20251309184000.123", "2025-10-09 18:40:00", "2025100918400x.123", "2025-10-09T25:00:00Z"} {
		if _, ok := ParseTimestamp([]byte(in)); ok {
			t.Errorf("%q accepted", in)
		}
	}
	// Every day of four years round-trips.
	for d := time.Date(2023, 1, 1, 7, 8, 9, 0, time.UTC); d.Year() < 2027; d = d.AddDate(0, 0, 1) {
		if got, ok := ParseTimestamp([]byte(d.Format("20060102150405.000"))); !ok || got != d.Unix() {
			t.Fatalf("%v: %d", d, got)
		}
	}
}

func BenchmarkParseTimestamp(b *testing.B) {
	ts := []byte("20251009184000.123")
	for b.Loop() {
		if _, ok := ParseTimestamp(ts); !ok {
			b.Fatal()
		}
	}
}
