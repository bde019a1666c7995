package main

import (
	"strings"
	"testing"
)

func TestSpeedupAndFloorVerdicts(t *testing.T) {
	for _, c := range []struct {
		speedup []float64
		met     bool
		says    string
	}{
		{[]float64{8.3, 7.9, 8.1}, true, "8x met"},
		{[]float64{7.9, 7.8, 8.2}, false, "8x not met"},
		{[]float64{8}, true, "8x met"},
	} {
		met, how := speedupMet(c.speedup)
		if met != c.met || !strings.Contains(how, c.says) {
			t.Errorf("speedupMet(%v) = %v, %q; want %v and %q", c.speedup, met, how, c.met, c.says)
		}
	}
	for _, c := range []struct {
		name           string
		floor, ofFloor []float64
		met            string // "yes", "no" or "" (not judged)
		says           string
	}{
		{"floor above the target", []float64{8.2, 8.1, 8.3}, []float64{1.04, 1.04, 1.01}, "", "not judged"},
		{"floor below the target, sync close to it", []float64{7.9, 8.1, 7.8}, []float64{1.04, 1.05, 1.04}, "yes", "within 10%, met"},
		{"floor below the target, sync far from it", []float64{7.9, 7.8, 7.7}, []float64{1.2, 1.18, 1.21}, "no", "not within 10%"},
		{"exactly at the margin", []float64{7.92}, []float64{1.10}, "yes", "within 10%, met"},
	} {
		met, how := floorMet(c.floor, c.ofFloor)
		got := ""
		if met != nil {
			got = map[bool]string{true: "yes", false: "no"}[*met]
		}
		if got != c.met || !strings.Contains(how, c.says) {
			t.Errorf("%s: floorMet = %q, %q; want %q and %q", c.name, got, how, c.met, c.says)
		}
	}
}

func TestRatiosAndSpread(t *testing.T) {
	r := ratios([]float64{34, 33, 35}, []float64{4.25, 0, 4.375})
	if r[0] != 8 || r[1] != 0 || r[2] != 8 {
		t.Errorf("ratios = %v", r)
	}
	if got := spread([]float64{4.38}, " s"); got != "4.38 s" {
		t.Errorf("spread of one = %q", got)
	}
	if got := spread([]float64{4.45, 4.30, 4.38}, " s"); got != "median 4.38 s (4.30 to 4.45)" {
		t.Errorf("spread of three = %q", got)
	}
}
