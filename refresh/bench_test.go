package refresh

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkSummarize aggregates 100,000 stored tokens into per-app figures.
func BenchmarkSummarize(b *testing.B) {
	s := newTokenStore()
	for i := range 100000 {
		s.entries = append(s.entries, tokEntry{created: int64(i), lastUsed: int64(i), useCount: 3, user: s.userIdx(fmt.Sprint(i % 20000)), app: s.appIdx(appKey{name: fmt.Sprint(i % 200)})})
	}
	now := time.UnixMilli(200000)
	for b.Loop() {
		s.summarize(now, time.Hour)
	}
}
