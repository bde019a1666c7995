package refresh

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// cutsRecorder is a tokenAPI that records each token read's query and stats.
type cutsRecorder struct {
	tokenAPI
	mu    sync.Mutex
	reads []salesforce.TokenQuery
	stats []salesforce.TokenFetchStats
}

func (r *cutsRecorder) OauthTokens(ctx context.Context, q salesforce.TokenQuery, fn func(salesforce.OauthToken)) (salesforce.TokenFetchStats, error) {
	st, err := r.tokenAPI.OauthTokens(ctx, q, fn)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads, r.stats = append(r.reads, q), append(r.stats, st)
	return st, err
}

// TestFullSyncCutsWhereTheStoreHoldsTokens: the first full sync has nothing
// to go by; the next one gives each CreatedDate chunk the cuts of the tokens
// the store holds in it, and no cursor of it reaches the cap (its cursors
// are its ranges). The store ends the same either way.
func TestFullSyncCutsWhereTheStoreHoldsTokens(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.Behavior.OauthTokenAggregates = false
	org.Generate(sftest.Scale{Tokens: 40_000, Apps: 20, Users: 3_000, Seed: 5})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	c, err := salesforce.NewClient(salesforce.AuthConfig{Flow: salesforce.FlowClientCredentials, LoginURL: ts.URL,
		ClientID: sftest.TestCredentials.ClientID, ClientSecret: sftest.TestCredentials.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	api := &cutsRecorder{tokenAPI: c}
	s := newTokenStore()
	if err := s.fullSync(t.Context(), api, 4); err != nil {
		t.Fatal(err)
	}
	first := len(api.reads)
	for _, q := range api.reads {
		if len(q.Cuts) > 0 {
			t.Fatalf("the first full sync had cuts %v with an empty store", q.Cuts)
		}
	}
	rows := len(s.entries)
	if err := s.fullSync(t.Context(), api, 4); err != nil {
		t.Fatal(err)
	}
	if len(s.entries) != rows || rows != org.TokenCount() {
		t.Fatalf("%d rows after the second sync, %d after the first, %d in the org", len(s.entries), rows, org.TokenCount())
	}
	cuts := 0
	for i, q := range api.reads[first:] {
		st := api.stats[first+i]
		cuts += len(q.Cuts)
		for _, c := range q.Cuts {
			if (!q.From.IsZero() && !c.After(q.From)) || !c.Before(q.Before) {
				t.Errorf("chunk [%v, %v): cut %v outside it", q.From, q.Before, c)
			}
		}
		if len(q.Cuts) > 0 && st.Partitions != len(q.Cuts)+1 {
			t.Errorf("chunk [%v, %v): %d cursors for %d ranges: a range held more than a cursor's worth", q.From, q.Before, st.Partitions, len(q.Cuts)+1)
		}
	}
	if want := rows / salesforce.OauthTokenCursorCap; cuts < want-len(fullSyncAges) {
		t.Errorf("%d cuts for %d tokens in %d chunks: want about %d", cuts, rows, len(fullSyncAges), want)
	}
}

// chunkBarrier is a tokenAPI whose token reads each wait until every one of
// want has started, or fail at the context's end.
type chunkBarrier struct {
	tokenAPI
	mu      sync.Mutex
	started int
	want    int
	all     chan struct{}
	failIdx int // the read (by start order, from 1) that fails after the barrier; 0 none
}

func (b *chunkBarrier) OauthTokens(ctx context.Context, q salesforce.TokenQuery, fn func(salesforce.OauthToken)) (salesforce.TokenFetchStats, error) {
	b.mu.Lock()
	b.started++
	n := b.started
	if b.started == b.want {
		close(b.all)
	}
	b.mu.Unlock()
	select {
	case <-b.all:
	case <-ctx.Done():
		return salesforce.TokenFetchStats{}, ctx.Err()
	}
	if n == b.failIdx {
		return salesforce.TokenFetchStats{}, errors.New("injected chunk failure")
	}
	return b.tokenAPI.OauthTokens(ctx, q, fn)
}

// TestFullSyncReadsChunksAtOnce: a full sync's CreatedDate chunks are read
// at once (one after another, each chunk's COUNT() and last ranges left
// cursors idle). A chunk that fails costs only itself: the next attempt
// reads it alone, and the store ends exact.
func TestFullSyncReadsChunksAtOnce(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.Behavior.OauthTokenAggregates = false
	org.Generate(sftest.Scale{Tokens: 8_000, Apps: 10, Users: 500, Seed: 9})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	c, err := salesforce.NewClient(salesforce.AuthConfig{Flow: salesforce.FlowClientCredentials, LoginURL: ts.URL,
		ClientID: sftest.TestCredentials.ClientID, ClientSecret: sftest.TestCredentials.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	b := &chunkBarrier{tokenAPI: c, want: len(fullSyncAges), all: make(chan struct{}), failIdx: 3}
	s := newTokenStore()
	err = s.fullSync(ctx, b, 4)
	if ctx.Err() != nil {
		t.Fatalf("the chunks were not read at once: %d of %d started before the deadline", b.started, b.want)
	}
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%d of %d CreatedDate ranges read", len(fullSyncAges)-1, len(fullSyncAges))) {
		t.Fatalf("err = %v, want the failed chunk named and the others kept", err)
	}
	retry := &cutsRecorder{tokenAPI: c}
	if err := s.fullSync(ctx, retry, 4); err != nil {
		t.Fatal(err)
	}
	if len(retry.reads) != 1 {
		t.Fatalf("the resumed sync read %d chunks, want only the failed one", len(retry.reads))
	}
	if len(s.entries) != org.TokenCount() {
		t.Fatalf("%d tokens in the store, %d in the org", len(s.entries), org.TokenCount())
	}
}
