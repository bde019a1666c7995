package main

import (
	"strings"
	"testing"
)

func TestSpeedupVerdict(t *testing.T) {
	for _, c := range []struct {
		name                    string
		speedup, floor, ofFloor []float64
		met                     bool
		says                    string
	}{
		{"target reached", []float64{8.3, 7.9, 8.1}, []float64{8.6, 8.5, 8.7}, []float64{1.04, 1.08, 1.05}, true, "8x met"},
		{"median below the target, floor above it", []float64{7.9, 7.8, 8.2}, []float64{8.2, 8.1, 8.3}, []float64{1.04, 1.04, 1.01}, false, "reaches"},
		{"floor below the target, sync close to it", []float64{7.6, 7.7, 7.5}, []float64{7.9, 8.1, 7.8}, []float64{1.04, 1.05, 1.04}, true, "floor that prevents"},
		{"floor below the target, sync far from it", []float64{6.5, 6.6, 6.4}, []float64{7.9, 7.8, 7.7}, []float64{1.2, 1.18, 1.21}, false, "not within 10%"},
		{"exactly at the margin", []float64{7.2}, []float64{7.92}, []float64{1.10}, true, "met"},
	} {
		met, how := speedupVerdict(c.speedup, c.floor, c.ofFloor)
		if met != c.met || !strings.Contains(how, c.says) {
			t.Errorf("%s: speedupVerdict = %v, %q; want %v and %q", c.name, met, how, c.met, c.says)
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
