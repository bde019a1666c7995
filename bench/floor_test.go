package main

import "testing"

func TestCapRanges(t *testing.T) {
	// Milliseconds: three rows in second 0, two in second 1, four in second 5.
	created := []int64{0, 10, 999, 1000, 1500, 5000, 5001, 5002, 5999}
	got := capRanges(created, 4)
	// Seconds 0 and 1 hold five rows together, over four, so they split.
	want := [][2]int64{{0, 1000}, {1000, 2000}, {5000, 6000}}
	if len(got) != len(want) {
		t.Fatalf("ranges %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ranges %v, want %v", got, want)
		}
	}
	// Every row falls in exactly one range, and no range over the cap
	// unless one second alone is.
	for _, capRows := range []int{1, 2, 3, 5, 100} {
		rs := capRanges(created, capRows)
		total := 0
		for _, r := range rs {
			n := 0
			for _, c := range created {
				if c >= r[0] && c < r[1] {
					n++
				}
			}
			if n > capRows && r[1]-r[0] > 1000 {
				t.Errorf("cap %d: range %v holds %d rows over more than a second", capRows, r, n)
			}
			total += n
		}
		if total != len(created) {
			t.Errorf("cap %d: ranges %v cover %d rows, want %d", capRows, rs, total, len(created))
		}
	}
}
