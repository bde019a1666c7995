package config

import (
	"fmt"
	"strings"
	"testing"
)

func orgNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("customer-%04d-prod", i)
	}
	return out
}

// The assignment is a pure function of the name and the count: these values
// are pinned so that a change of hash (which would move every org at the next
// upgrade) fails here.
func TestShardOfIsStable(t *testing.T) {
	for _, c := range []struct {
		name  string
		count int
		want  int
	}{
		{"prod", 1, 0},
		{"prod", 2, ShardOf("prod", 2)},
		{"", 3, ShardOf("", 3)},
	} {
		if got := ShardOf(c.name, c.count); got != c.want {
			t.Errorf("ShardOf(%q, %d) = %d, want %d", c.name, c.count, got, c.want)
		}
	}
	// The jump hash against the published reference vectors (the paper's
	// C++ code, as ported by github.com/dgryski/go-jump).
	for _, v := range [][3]uint64{{1, 1, 0}, {42, 57, 43}, {0xDEAD10CC, 1, 0}, {0xDEAD10CC, 666, 361}, {256, 1024, 520}} {
		if got := jump(v[0], int(v[1])); uint64(got) != v[2] {
			t.Errorf("jump(%d, %d) = %d, want %d", v[0], v[1], got, v[2])
		}
	}
	// Pinned names: any change of algorithm would reshuffle every fleet at
	// the next upgrade.
	pinned := map[string][3]int{}
	for _, n := range []string{"prod", "sandbox", "customer-0001-prod", "acme"} {
		pinned[n] = [3]int{ShardOf(n, 2), ShardOf(n, 3), ShardOf(n, 10)}
	}
	want := map[string][3]int{
		"prod":               {0, 0, 5},
		"sandbox":            {1, 1, 3},
		"customer-0001-prod": {0, 0, 3},
		"acme":               {0, 0, 7},
	}
	for n, w := range want {
		if pinned[n] != w {
			t.Errorf("ShardOf(%q, 2/3/10) = %v, want %v (the hash changed: every fleet would reshuffle)", n, pinned[n], w)
		}
	}
	for range 3 {
		for _, n := range orgNames(50) {
			if a, b := ShardOf(n, 7), ShardOf(n, 7); a != b {
				t.Fatalf("ShardOf(%q) not deterministic: %d, %d", n, a, b)
			}
		}
	}
}

// Every org lands on exactly one shard, and the shards are about even.
func TestShardsPartitionTheOrgs(t *testing.T) {
	names := orgNames(2000)
	c := &Config{}
	for _, n := range names {
		c.Orgs = append(c.Orgs, Org{Name: n})
	}
	for _, count := range []int{1, 2, 3, 5, 16} {
		seen := map[string]int{}
		for i := range count {
			part := c.ForShard(Shard{Index: i, Count: count})
			for _, o := range part.Orgs {
				seen[o.Name]++
			}
			want := len(names) / count
			if n := len(part.Orgs); n < want*7/10 || n > want*13/10 {
				t.Errorf("%d shards: shard %d has %d orgs, want about %d", count, i, n, want)
			}
		}
		for _, n := range names {
			if seen[n] != 1 {
				t.Errorf("%d shards: org %s served %d times, want exactly once", count, n, seen[n])
			}
		}
	}
	if len(c.Orgs) != len(names) {
		t.Error("ForShard changed the original config")
	}
}

// Adding a replica moves about 1/(N+1) of the orgs, and only onto the new one.
func TestAddingAShardMovesFewOrgs(t *testing.T) {
	names := orgNames(3000)
	for n := 1; n <= 8; n++ {
		moved := 0
		for _, name := range names {
			before, after := ShardOf(name, n), ShardOf(name, n+1)
			if before != after {
				moved++
				if after != n {
					t.Errorf("%d->%d shards: %s moved from %d to %d, not to the new shard", n, n+1, name, before, after)
				}
			}
		}
		want := float64(len(names)) / float64(n+1)
		if f := float64(moved); f < want*0.8 || f > want*1.2 {
			t.Errorf("%d->%d shards: %d of %d orgs moved, want about %.0f", n, n+1, moved, len(names), want)
		}
	}
}

func TestParseShard(t *testing.T) {
	for _, c := range []struct {
		index string
		count int
		want  Shard
	}{
		{"", 1, Shard{0, 1}},
		{"0", 1, Shard{0, 1}},
		{"2", 3, Shard{2, 3}},
		{"salesforce-oauth-exporter-2", 3, Shard{2, 3}},
		{"my-release-salesforce-oauth-exporter-0", 2, Shard{0, 2}},
	} {
		got, err := ParseShard(c.index, c.count)
		if err != nil || got != c.want {
			t.Errorf("ParseShard(%q, %d) = %v, %v; want %v", c.index, c.count, got, err, c.want)
		}
	}
	for _, c := range []struct {
		index string
		count int
		msg   string
	}{
		{"0", 0, "at least 1"},
		{"3", 3, "outside 0..2"},
		{"-1", 3, "outside 0..2"},
		{"exporter-5", 3, "raise --orgs.shards"},
		{"exporter", 3, "StatefulSet pod name"},
		{"exporter-x", 3, "StatefulSet pod name"},
	} {
		_, err := ParseShard(c.index, c.count)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("ParseShard(%q, %d) error = %v, want one saying %q", c.index, c.count, err, c.msg)
		}
	}
}
