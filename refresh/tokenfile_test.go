package refresh

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/regfile/regfiletest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// sampleStore is a small store with every kind of field: never-used tokens,
// uses before creation (odd, but an org could), equal creation times,
// inactive users, negative and large numbers.
func sampleStore() *tokenStore {
	s := newTokenStore()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for i := range 300 {
		e := tokEntry{created: base + int64(i/3)*1000, useCount: int64(i * 7), user: s.userIdx(fmt.Sprintf("0055j0000000%03dAAA", i%40)), app: s.appIdx(appKey{fmt.Sprintf("App %d", i%7), fmt.Sprintf("0Pp%d", i%7)})}
		switch i % 5 {
		case 0:
			e.lastUsed = 0
		case 1:
			e.lastUsed = e.created - 5000
		default:
			e.lastUsed = e.created + int64(i)*3_600_000
		}
		if i == 17 {
			e.useCount = -3
		}
		s.entries = append(s.entries, e)
	}
	slices.SortFunc(s.entries, func(a, b tokEntry) int { return a.less(&b) })
	s.inactive[3], s.inactive[39], s.inactive[0] = true, true, true
	s.appIdx(appKey{"Unused app, \"quoted\" ünïcode", ""})
	s.userIdx("0055j0000000999AAA") // a user with no token
	s.createdWM = time.UnixMilli(base + 400_000).UTC()
	s.usedWM = s.createdWM.Add(-usedOverlap)
	s.userWM = s.createdWM.Add(-usedOverlap - time.Second)
	s.lastFull = time.UnixMilli(base + 300_000).UTC()
	s.valid = true
	return s
}

func sameStore(t *testing.T, got, want *tokenStore) {
	t.Helper()
	if !slices.Equal(got.entries, want.entries) {
		t.Fatalf("rows differ: got %d, want %d", len(got.entries), len(want.entries))
	}
	if !slices.Equal(got.userIDs, want.userIDs) || !slices.Equal(got.appKeys, want.appKeys) {
		t.Fatalf("dictionaries differ: users %d/%d apps %v/%v", len(got.userIDs), len(want.userIDs), got.appKeys, want.appKeys)
	}
	if len(got.inactive) != len(want.inactive) {
		t.Fatalf("inactive users %v, want %v", got.inactive, want.inactive)
	}
	for u := range want.inactive {
		if !got.inactive[u] {
			t.Fatalf("inactive user %d lost", u)
		}
	}
	for i, u := range want.userIDs {
		if got.users[u] != uint32(i) {
			t.Fatalf("user index of %s not rebuilt", u)
		}
	}
	if !got.createdWM.Equal(want.createdWM) || !got.usedWM.Equal(want.usedWM) || !got.userWM.Equal(want.userWM) || !got.lastFull.Equal(want.lastFull) || !got.valid {
		t.Fatalf("watermarks %v %v %v %v valid=%v, want %v %v %v %v", got.createdWM, got.usedWM, got.userWM, got.lastFull, got.valid, want.createdWM, want.usedWM, want.userWM, want.lastFull)
	}
}

func TestTokenFileRoundTrip(t *testing.T) {
	t.Parallel()
	want := sampleStore()
	b := encodeTokenStore(want, "prod", "00D5j0000000001AAA")
	got, orgID, err := decodeTokenStore(b, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if orgID != "00D5j0000000001AAA" {
		t.Errorf("org Id %q", orgID)
	}
	sameStore(t, got, want)
	// The figures built from the two agree, and the restored store takes
	// new rows where the old one would.
	now := want.createdWM
	a1, i1 := want.summarize(now, time.Hour)
	a2, i2 := got.summarize(now, time.Hour)
	if fmt.Sprint(a1) != fmt.Sprint(a2) || i1 != i2 {
		t.Errorf("summaries differ:\n%v\n%v", a1, a2)
	}
	if got.userIdx("new-user") != uint32(len(want.userIDs)) || got.appIdx(appKey{"App 3", "0Pp3"}) != want.apps[appKey{"App 3", "0Pp3"}] {
		t.Error("indices of the restored dictionaries are off")
	}
	// An empty store round-trips too.
	empty := newTokenStore()
	empty.createdWM, empty.usedWM, empty.userWM, empty.lastFull, empty.valid = now, now, now, now, true
	got, _, err = decodeTokenStore(encodeTokenStore(empty, "prod", ""), "prod")
	if err != nil || len(got.entries) != 0 {
		t.Fatalf("empty store: %v %v", got, err)
	}
}

// resum rewrites a file's checksum after a deliberate edit, so that the
// decoder's other checks are what rejects it.
func resum(b []byte) []byte {
	b = slices.Clone(b[:len(b)-4])
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

func TestTokenFileRejectsDamage(t *testing.T) {
	t.Parallel()
	good := encodeTokenStore(sampleStore(), "prod", "00D5j0000000001AAA")
	// Every truncation and every flipped bit is caught (by length, framing or
	// the checksum), never loaded as wrong numbers.
	for n := range len(good) {
		if _, _, err := decodeTokenStore(good[:n], "prod"); err == nil {
			t.Fatalf("truncated to %d of %d bytes: loaded", n, len(good))
		}
	}
	for i := range len(good) {
		b := slices.Clone(good)
		b[i] ^= 1 << (i % 8)
		if _, _, err := decodeTokenStore(b, "prod"); err == nil {
			t.Fatalf("bit flipped in byte %d: loaded", i)
		}
	}
	hdr := len(tokenFileMagic)
	version := resum(append(append([]byte(tokenFileMagic), 2), good[hdr+1:]...))
	hostile := func(rows uint64, fill []byte) []byte {
		// A valid header and dictionaries, then a claim of many rows.
		s := sampleStore()
		s.entries = nil
		b := encodeTokenStore(s, "prod", "")
		b = b[:len(b)-4-1] // drop the checksum and the row count (0)
		b = binary.AppendUvarint(b, rows)
		b = append(b, bytes.Repeat(fill, 64/len(fill))...)
		return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
	}
	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{
		"empty":          {nil, "bad magic"},
		"json state":     {[]byte(`{"version":1,"org":"prod"}`), "bad magic"},
		"wrong version":  {version, "version 2, want 1"},
		"wrong org":      {encodeTokenStore(sampleStore(), "staging", ""), `for org "staging", not "prod"`},
		"hostile count":  {hostile(1<<40, []byte{1}), "tokens claimed"},
		"extra bytes":    {resum(append(slices.Clone(good[:len(good)-4]), 0, 0, 0, 0, 0)), "left over"},
		"checksum":       {append(slices.Clone(good[:len(good)-4]), 0, 0, 0, 0), "checksum"},
		"too few values": {hostile(12, []byte{0x81, 0}), "truncated"},
		"left over":      {hostile(12, []byte{1}), "left over"},
	} {
		_, _, err := decodeTokenStore(tc.b, "prod")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", name, err, tc.want)
		}
	}
	// A row pointing past the dictionaries, or rows out of order.
	s := sampleStore()
	s.entries[5].user = uint32(len(s.userIDs) + 3)
	if _, _, err := decodeTokenStore(encodeTokenStore(s, "prod", ""), "prod"); err == nil || !strings.Contains(err.Error(), "user") {
		t.Errorf("user out of range: %v", err)
	}
	s = sampleStore()
	s.entries[10].user, s.entries[11].user = s.entries[11].user, s.entries[10].user
	if s.entries[10].less(&s.entries[11]) > 0 {
		if _, _, err := decodeTokenStore(encodeTokenStore(s, "prod", ""), "prod"); err == nil || !strings.Contains(err.Error(), "out of order") {
			t.Errorf("rows out of order: %v", err)
		}
	}
}

// TestTokenFileHostileCountAllocatesLittle: a file claiming a billion rows
// is rejected before any room is made for them.
func TestTokenFileHostileCountAllocatesLittle(t *testing.T) {
	s := sampleStore()
	s.entries = nil
	b := encodeTokenStore(s, "prod", "")
	b = b[:len(b)-5]
	b = binary.AppendUvarint(b, 1_000_000_000)
	b = append(b, bytes.Repeat([]byte{0x80}, 1000)...) // varints that never end
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _, err := decodeTokenStore(b, "prod")
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("loaded")
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("decoding a hostile count allocated %d bytes", grew)
	}
}

func FuzzDecodeTokenStore(f *testing.F) {
	f.Add(encodeTokenStore(sampleStore(), "prod", "00D"))
	small := newTokenStore()
	small.createdWM, small.lastFull, small.valid = time.UnixMilli(5), time.UnixMilli(5), true
	small.entries = []tokEntry{{created: 1, user: small.userIdx("u"), app: small.appIdx(appKey{"a", ""})}}
	f.Add(encodeTokenStore(small, "prod", ""))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Fuzzing flips bytes under the checksum; recompute it so the
		// framing checks are what the fuzzer exercises.
		if len(b) > 4 {
			b = resum(b)
		}
		s, _, err := decodeTokenStore(b, "prod")
		if err != nil {
			return
		}
		// Whatever loads is usable, and writes back to the same bytes.
		s.summarize(time.UnixMilli(10), time.Hour)
		s.upsert(tokEntry{created: 3, user: s.userIdx("x"), app: s.appIdx(appKey{"b", ""})})
	})
}

func TestLoadTokenStoreSetsDamagedFileAside(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	if s, _ := loadTokenStore(dir, "prod", logger); s != nil || logs.Len() != 0 {
		t.Fatalf("missing file: store %v, log %q", s, logs.String())
	}
	good := encodeTokenStore(sampleStore(), "prod", "")
	for name, b := range map[string][]byte{
		"truncated":     good[:len(good)/2],
		"wrong version": resum(append(append([]byte(tokenFileMagic), 9), good[len(tokenFileMagic)+1:]...)),
		"wrong org":     encodeTokenStore(sampleStore(), "other", ""),
	} {
		logs.Reset()
		p := tokenFile(dir, "prod")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if s, _ := loadTokenStore(dir, "prod", logger); s != nil {
			t.Errorf("%s: loaded", name)
		}
		if !strings.Contains(logs.String(), "Token store file is unreadable; set it aside") {
			t.Errorf("%s: no clear log line: %s", name, logs.String())
		}
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s: damaged file left in place", name)
		}
	}
	aside, _ := filepath.Glob(filepath.Join(dir, "prod.tokens.corrupt-*"))
	if len(aside) == 0 {
		t.Error("no damaged file kept for inspection")
	}
	// A FIFO in the file's place is set aside without being opened (an open
	// would wait for a writer and hang the start).
	logs.Reset()
	if err := syscall.Mkfifo(tokenFile(dir, "prod"), 0o600); err != nil {
		t.Fatal(err)
	}
	regfiletest.NoHang(t, "loadTokenStore of a FIFO", func() { loadTokenStore(dir, "prod", logger) })
	if !strings.Contains(logs.String(), "not a regular file (p---------)") {
		t.Errorf("a FIFO: no clear log line: %s", logs.String())
	}
	if _, err := saveTokenStore(dir, "prod", "", sampleStore()); err != nil {
		t.Fatal(err)
	}
	if s, _ := loadTokenStore(dir, "prod", logger); s == nil {
		t.Fatal("a good file did not load")
	}
	if fi, err := os.Stat(tokenFile(dir, "prod")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode: %v %v", fi, err)
	}
}

// restartOrg is a row-mode org and a storage folder shared by the
// refreshers of successive "processes".
type restartOrg struct {
	org     *sftest.Org
	srv     *sftest.Server
	cfg     config.Org
	storage string
}

func newRestartOrg(t *testing.T, tokens int) *restartOrg {
	t.Helper()
	org := sftest.NewOrg()
	org.Generate(sftest.Scale{Tokens: tokens, Apps: 50, Users: tokens / 5, Seed: 21})
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	return &restartOrg{org: org, srv: srv, cfg: testOrgConfig(t, ts.URL, config.SourceOAuthTokens, config.SourceApps, config.SourceLimits), storage: t.TempDir()}
}

// start is a new process: a new refresher on the same storage, refreshed once.
func (o *restartOrg) start(t *testing.T, logs *bytes.Buffer) *Refresher {
	t.Helper()
	r := newTestRefresher(t, o.cfg)
	r.storage = o.storage
	r.logger = slog.New(slog.NewTextHandler(logs, nil))
	o.srv.ResetCounts()
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRestartReadsOnlyChanges: a restarted row-mode org reaches the exact
// figures in at most 12 API calls (limits, apps and tokens together),
// whatever changed while it was down, instead of a full read.
func TestRestartReadsOnlyChanges(t *testing.T) {
	t.Parallel()
	o := newRestartOrg(t, 50000)
	var logs bytes.Buffer
	o.start(t, &logs)
	full := o.srv.APICalls()
	fi, err := os.Stat(tokenFile(o.storage, "test"))
	if err != nil {
		t.Fatalf("no token file after the full sync: %v", err)
	}
	for i := range 3 {
		// Down for ten minutes: tokens used and new ones authorized.
		o.org.Advance(10 * time.Minute)
		o.org.Churn(100, 20, uint64(40+i))
		logs.Reset()
		r := o.start(t, &logs)
		if got := o.srv.APICalls(); got > 12 {
			t.Errorf("restart %d: %d API calls, want at most 12 (a full read took %d): %v", i, got, full, o.srv.Requests())
		}
		checkTruth(t, o.org, r.Snapshot())
		if !strings.Contains(logs.String(), "Restored the token store") || strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("restart %d: logs: %s", i, logs.String())
		}
		t.Logf("restart %d: %d API calls (full read: %d): %v", i, o.srv.APICalls(), full, o.srv.Requests())
	}
	t.Logf("token file: %d bytes for 50,000 tokens", fi.Size())
	// While down: revocations, a deactivated user and a new token of a
	// deactivated user. Exact, and still far from a full read.
	o.org.Advance(10 * time.Minute)
	o.org.RevokeRandom(6, 5)
	o.org.SetUserActive(7, false)
	o.org.AddToken(sftest.TokenSpec{User: 8, App: 2, Created: o.org.Now().Add(-time.Minute)})
	o.org.SetUserActive(8, false)
	r := o.start(t, &logs)
	checkTruth(t, o.org, r.Snapshot())
	if got := o.srv.APICalls(); got >= full/2 {
		t.Errorf("restart after revocations: %d API calls, a full read is %d", got, full)
	}
	t.Logf("restart after 6 revocations: %d API calls", o.srv.APICalls())
}

// TestRestartKeepsDailyFullSync: the time of the last full sync survives a
// restart, so the daily reconcile still happens on schedule, not at every
// start nor never.
func TestRestartKeepsDailyFullSync(t *testing.T) {
	t.Parallel()
	o := newRestartOrg(t, 6000)
	o.cfg.FullSyncInterval = config.Duration(time.Hour)
	var logs bytes.Buffer
	o.start(t, &logs)
	full := o.srv.APICalls()
	o.org.Advance(30 * time.Minute)
	o.start(t, &logs)
	if got := o.srv.APICalls(); got > 12 {
		t.Fatalf("restart within the interval: %d API calls", got)
	}
	o.org.Advance(31 * time.Minute) // past the hour since the full sync
	r := o.start(t, &logs)
	if got := o.srv.APICalls(); got < full-2 {
		t.Errorf("restart past full_sync_interval: %d API calls, want a full read (%d)", got, full)
	}
	checkTruth(t, o.org, r.Snapshot())
}

// TestRestartWithBadTokenFile: a damaged, truncated, wrong-version or
// wrong-org file, or one written for another org Id (a refreshed sandbox)
// or against a clock ahead of the org's, is set aside or ignored with a log
// line, and the org is read in full, exactly.
func TestRestartWithBadTokenFile(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		damage func(o *restartOrg, b []byte) []byte
		log    string
	}{
		{"damaged", func(_ *restartOrg, b []byte) []byte { b[len(b)/2] ^= 0x40; return b }, "checksum mismatch"},
		{"truncated", func(_ *restartOrg, b []byte) []byte { return b[:len(b)*2/3] }, "checksum mismatch"},
		{"wrong version", func(_ *restartOrg, b []byte) []byte {
			return resum(append(append([]byte(tokenFileMagic), 7), b[len(tokenFileMagic)+1:]...))
		}, "version 7, want 1"},
		{"wrong org", func(_ *restartOrg, _ []byte) []byte { return encodeTokenStore(sampleStore(), "staging", "") }, `for org \"staging\"`},
		{"sandbox refreshed", func(o *restartOrg, b []byte) []byte { o.org.SandboxRefresh(3); return b }, "another org Id"},
		{"ahead of the org clock", func(_ *restartOrg, b []byte) []byte {
			s, id, err := decodeTokenStore(b, "test")
			if err != nil {
				panic(err)
			}
			s.createdWM, s.usedWM, s.userWM = s.createdWM.Add(3*time.Hour), s.usedWM.Add(3*time.Hour), s.userWM.Add(3*time.Hour)
			return encodeTokenStore(s, "test", id)
		}, "ahead of the org's clock"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := newRestartOrg(t, 4000)
			var logs bytes.Buffer
			o.start(t, &logs)
			full := o.srv.APICalls()
			p := tokenFile(o.storage, "test")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, tc.damage(o, b), 0o600); err != nil {
				t.Fatal(err)
			}
			o.org.Churn(10, 3, 1)
			logs.Reset()
			r := o.start(t, &logs)
			if !strings.Contains(logs.String(), tc.log) {
				t.Errorf("no log line with %q: %s", tc.log, logs.String())
			}
			if got := o.srv.APICalls(); got < full-2 {
				t.Errorf("%d API calls, want a full read (%d)", got, full)
			}
			checkTruth(t, o.org, r.Snapshot())
			// The full read wrote a good file again.
			o.start(t, &logs)
			if got := o.srv.APICalls(); got > 12 {
				t.Errorf("restart after the full read: %d API calls", got)
			}
		})
	}
}

// TestTokenFileWrittenOnlyOnChange: a refresh that changed nothing does not
// rewrite the file; one that did, does; a read-only refresher never writes.
func TestTokenFileWrittenOnlyOnChange(t *testing.T) {
	t.Parallel()
	o := newRestartOrg(t, 3000)
	var logs bytes.Buffer
	r := o.start(t, &logs)
	p := tokenFile(o.storage, "test")
	stamp := func() string {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		// Not fi.Sys() whole: reading the file moves its access time.
		st, _ := fi.Sys().(*syscall.Stat_t)
		return fmt.Sprint(fi.ModTime().UnixNano(), fi.Size(), st.Ino)
	}
	first := stamp()
	// A temporary file left by a kill is removed at the next start.
	leftover := p + ".tmp-123"
	if err := os.WriteFile(leftover, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	o.start(t, &logs)
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Error("leftover temporary file not removed at start")
	}
	o.org.Advance(time.Minute)
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if stamp() != first {
		t.Error("an unchanged refresh rewrote the token file")
	}
	o.org.Advance(time.Minute)
	o.org.Churn(5, 1, 9)
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	changed := stamp()
	if changed == first {
		t.Error("a refresh with new tokens did not rewrite the token file")
	}
	ro := newTestRefresher(t, o.cfg)
	ro.storage = o.storage
	ro.SetReadOnlyState()
	o.org.Advance(2 * time.Hour)
	o.org.Churn(5, 1, 10)
	o.srv.ResetCounts()
	if err := ro.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if o.srv.APICalls() > 12 {
		t.Errorf("read-only refresher did not use the token file: %d calls", o.srv.APICalls())
	}
	checkTruth(t, o.org, ro.Snapshot())
	if stamp() != changed {
		t.Error("a read-only refresher wrote the token file")
	}
}

// TestOneShotSeesTokenCreatedNow: a one-shot refresher (the review
// command's) counts a token created at the org's current instant, whether
// it reads every token or only the changes since a serving exporter's token
// file; a serving refresher stops ClockMargin short of the clock and counts
// it at its next read.
func TestOneShotSeesTokenCreatedNow(t *testing.T) {
	t.Parallel()
	for _, withFile := range []bool{false, true} {
		t.Run(fmt.Sprintf("token file %v", withFile), func(t *testing.T) {
			t.Parallel()
			org := sftest.NewOrg()
			org.SetNow(time.Date(2026, 3, 1, 12, 0, 0, 700_000_000, time.UTC))
			org.Generate(sftest.Scale{Tokens: 200, Apps: 3, Users: 20, Seed: 5})
			_, ts := sftest.Start(t, org, sftest.TestCredentials)
			cfg := testOrgConfig(t, ts.URL, config.SourceOAuthTokens)
			storage := t.TempDir()
			serving := newTestRefresher(t, cfg)
			serving.storage = storage
			if err := serving.RefreshAll(t.Context()); err != nil {
				t.Fatal(err)
			}
			app := org.AddApp(sftest.App{Name: "Just Authorized"})
			org.AddToken(sftest.TokenSpec{User: 1, App: app, Created: org.Now()})
			if err := serving.RefreshAll(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got, want := tokenTotal(serving.Snapshot()), int64(org.TokenCount()-1); got != want {
				t.Fatalf("serving refresher: %d tokens, want %d (the new one at its next read)", got, want)
			}
			ro := newTestRefresher(t, cfg)
			if withFile {
				ro.storage = storage
			}
			ro.SetOneShot()
			if err := ro.RefreshAll(t.Context()); err != nil {
				t.Fatal(err)
			}
			// Token counts only: the stale figures of a refresher's first
			// read go by the local clock, which a frozen fake org is not.
			truth, _ := org.GroundTruth(staleAfter)
			for _, a := range ro.Snapshot().Apps {
				if w, ok := truth[a.Name]; ok && int(a.Tokens) != w.Tokens {
					t.Errorf("%s: %d tokens, want %d", a.Name, a.Tokens, w.Tokens)
				}
			}
			if got, want := tokenTotal(ro.Snapshot()), int64(org.TokenCount()); got != want || truth["Just Authorized"].Tokens != 1 {
				t.Errorf("one-shot refresher: %d tokens, want %d, the one created now included", got, want)
			}
		})
	}
}

// TestTokenFileGoldenV1: a version-1 file written by an earlier build
// (testdata/tokens-v1.bin, sampleStore() as encodeTokenStore wrote it before
// the encoding moved to internal/binenc) loads as that store, and encoding
// the store again gives the same bytes: the format has not moved. Should
// sampleStore change, keep a copy of the old one for this test rather than
// regenerate the file with the new code.
func TestTokenFileGoldenV1(t *testing.T) {
	t.Parallel()
	golden, err := os.ReadFile("testdata/tokens-v1.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, orgID, err := decodeTokenStore(golden, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if orgID != "00D5j0000000001AAA" {
		t.Errorf("org Id %q", orgID)
	}
	sameStore(t, got, sampleStore())
	if b := encodeTokenStore(sampleStore(), "prod", "00D5j0000000001AAA"); !bytes.Equal(b, golden) {
		t.Fatalf("the encoding changed: %d bytes, the version-1 file has %d", len(b), len(golden))
	}
}

// TestTokenFileErrorNamesField: a damaged file's error says where, and in
// which field, the damage is.
func TestTokenFileErrorNamesField(t *testing.T) {
	t.Parallel()
	good := encodeTokenStore(sampleStore(), "prod", "00D5j0000000001AAA")
	// The magic and version, then a number that never ends, then the
	// checksum (resum replaces the last four bytes with it).
	b := resum(append(slices.Clone(good[:len(tokenFileMagic)+1]), 0x80, 0, 0, 0, 0))
	_, _, err := decodeTokenStore(b, "prod")
	if want := "at byte 9: org name: "; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err %v, want it to start %q", err, want)
	}
}
