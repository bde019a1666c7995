package config

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Shard is one replica's part of a fleet of orgs: replica Index of Count.
// The zero value is not valid; use NoShard for a single process.
type Shard struct {
	Index int
	Count int
}

// NoShard is the single process that serves every org.
var NoShard = Shard{Index: 0, Count: 1}

// String returns "I/N".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// ParseShard reads the --orgs.shard and --orgs.shards flags. index is a
// number, or a StatefulSet pod name such as "salesforce-oauth-exporter-2",
// whose trailing ordinal is the shard; count is the number of replicas.
func ParseShard(index string, count int) (Shard, error) {
	if count < 1 {
		return Shard{}, fmt.Errorf("--orgs.shards=%d: the number of shards must be at least 1", count)
	}
	s := strings.TrimSpace(index)
	if s == "" {
		s = "0"
	}
	i, err := strconv.Atoi(s)
	if err != nil {
		// A StatefulSet pod is named <statefulset>-<ordinal>.
		cut := strings.LastIndexByte(s, '-')
		if cut < 0 {
			return Shard{}, fmt.Errorf("--orgs.shard=%q: want a number from 0 to %d, or a StatefulSet pod name ending in -<ordinal>", index, count-1)
		}
		i, err = strconv.Atoi(s[cut+1:])
		if err != nil {
			return Shard{}, fmt.Errorf("--orgs.shard=%q: want a number from 0 to %d, or a StatefulSet pod name ending in -<ordinal>", index, count-1)
		}
	}
	if i < 0 || i >= count {
		return Shard{}, fmt.Errorf("--orgs.shard=%q: shard %d is outside 0..%d for --orgs.shards=%d; raise --orgs.shards to the number of replicas", index, i, count-1, count)
	}
	return Shard{Index: i, Count: count}, nil
}

// ShardOf returns the shard, 0..count-1, that serves the org named name. It
// depends only on the name and count, so every replica agrees without
// talking to the others, and going from count to count+1 shards moves about
// 1/(count+1) of the orgs, all to the new shard (Lamping and Veach's jump
// consistent hash over the name's 64-bit FNV-1a hash).
func ShardOf(name string, count int) int {
	if count <= 1 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(name)) // a hash.Hash never returns an error
	return jump(h.Sum64(), count)
}

// jump is the jump consistent hash: https://arxiv.org/abs/1406.2294
func jump(key uint64, buckets int) int {
	var b, j int64 = -1, 0
	for j < int64(buckets) {
		b = j
		key = key*2862933555777941757 + 1
		j = int64(float64(b+1) * (float64(int64(1)<<31) / float64((key>>33)+1)))
	}
	return int(b)
}

// Owns reports whether the shard serves the org named name.
func (s Shard) Owns(name string) bool { return ShardOf(name, s.Count) == s.Index }

// ForShard returns a copy of c holding only the orgs the shard serves. The
// inventory and settings are kept whole: an entry that names orgs of other
// shards is simply unused here.
func (c *Config) ForShard(s Shard) *Config {
	if s.Count <= 1 {
		return c
	}
	out := *c
	out.Orgs = nil
	for _, o := range c.Orgs {
		if s.Owns(o.Name) {
			out.Orgs = append(out.Orgs, o)
		}
	}
	return &out
}
