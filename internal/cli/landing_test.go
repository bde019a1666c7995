package cli

import "testing"

func TestLandingLinksOnlyEndpointsThatAreOn(t *testing.T) {
	t.Parallel()
	has := func(links []landingLink, path string) bool {
		for _, l := range links {
			if l.Path == path {
				return true
			}
		}
		return false
	}
	off := landingLinks("/m", false, false, false)
	if has(off, "/debug/pprof/") || has(off, "/-/reload") || !has(off, "/m") || has(off, "/review") || has(off, "/review.json") {
		t.Errorf("flags off: %+v", off)
	}
	on := landingLinks("/metrics", true, true, true)
	if !has(on, "/debug/pprof/") || !has(on, "/-/reload") || !has(on, "/review") || !has(on, "/review.json") {
		t.Errorf("flags on: %+v", on)
	}
	for _, l := range on {
		if l.Path == "/-/reload" && l.Method != "POST" {
			t.Error("reload is offered as a plain link")
		}
	}
}
