package detect

import (
	"testing"
	"time"
)

// TestClampFuture (issue 24 item 15): a restored baseline whose hours lie
// in the future (an app's first data, a network's or object's sightings)
// kept them for ever: the app never ended its learning window. They move to
// now's hour, survive a save and restore, and earlier hours stay.
func TestClampFuture(t *testing.T) {
	t.Parallel()
	tr, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 5, 10, 30, 0, 0, time.UTC)
	h := hourOf(now.Unix())
	future := h + 24*365*10
	past := h - 48
	tr.apps["k"] = &appState{key: "k", id: "0H4000000000001", name: "A", since: future,
		nets: map[netKey]netEntry{{lo: 0x0A000000, kind: kindV4}: {first: future, last: future + 5, lastAPI: future + 5}, {lo: 0x0A000100, kind: kindV4}: {first: past, last: past, lastAPI: past}},
		objs: map[string]objEntry{"Account": {first: future, last: future}, "Contact": {first: past, last: past}}}
	b, err := tr.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	tr, _, err = Restore(Config{}, b)
	if err != nil {
		t.Fatal(err)
	}
	if n := tr.ClampFuture(now); n != 6 {
		t.Errorf("moved %d times, want 6", n)
	}
	a := tr.apps["k"]
	if a.since != h {
		t.Errorf("since %d, want %d", a.since, h)
	}
	for k, e := range a.nets {
		want := h
		if k.lo == 0x0A000100 {
			want = past
		}
		if e.first != want || e.last != want || e.lastAPI != want {
			t.Errorf("net %v: %+v, want every hour %d", k, e, want)
		}
	}
	if e := a.objs["Account"]; e.first != h || e.last != h {
		t.Errorf("Account: %+v", e)
	}
	if e := a.objs["Contact"]; e.first != past || e.last != past {
		t.Errorf("Contact moved: %+v", e)
	}
	if n := tr.ClampFuture(now); n != 0 {
		t.Errorf("a second clamp moved %d", n)
	}
}
