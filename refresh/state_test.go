package refresh

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/regfile/regfiletest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

func TestStateRoundTripAndCorruptFileSetAside(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := newOrgState("prod")
	st.FirstSeen["connected_app|X||"] = time.Unix(1_700_000_000, 0).UTC()
	st.Usage.Periods["D|2026-01-01T00:00:00Z"] = &usagePeriod{Interval: "Daily", Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), FileID: "0AT", Apps: map[string]*appCount{"0H4": {Name: "X", Requests: 5, Errors: 1}}}
	if err := saveState(dir, st); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	got := loadState(dir, "prod", logger)
	if got.FirstSeen["connected_app|X||"] != st.FirstSeen["connected_app|X||"] || got.Usage.Periods["D|2026-01-01T00:00:00Z"].Apps["0H4"].Requests != 5 {
		t.Fatalf("round trip lost data: %+v", got)
	}
	if logs.Len() != 0 {
		t.Errorf("unexpected log: %s", logs.String())
	}
	for name, content := range map[string]string{
		"truncated":     `{"version":1,"org":"prod","first_seen":{`,
		"wrong org":     `{"version":1,"org":"other","first_seen":{}}`,
		"wrong version": `{"version":99,"org":"prod"}`,
		"bad counts":    `{"version":1,"org":"prod","api_usage":{"periods":{"k":{"interval":"Daily","start":"2026-01-01T00:00:00Z","apps":{"a":{"requests":1,"errors":5}}}}}}`,
	} {
		logs.Reset()
		if err := os.WriteFile(stateFile(dir, "prod"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		got := loadState(dir, "prod", logger)
		if len(got.FirstSeen) != 0 {
			t.Errorf("%s: state not reset", name)
		}
		if !strings.Contains(logs.String(), "set it aside") {
			t.Errorf("%s: no clear log line: %s", name, logs.String())
		}
		if _, err := os.Stat(stateFile(dir, "prod")); !os.IsNotExist(err) {
			t.Errorf("%s: corrupt file left in place", name)
		}
	}
	aside, _ := filepath.Glob(filepath.Join(dir, "prod.state.json.corrupt-*"))
	if len(aside) == 0 {
		t.Error("no corrupt file kept for inspection")
	}

	// A FIFO in the state file's place would hang the start on its open; a
	// directory cannot be read; a file over the bound would be read whole.
	// Each is set aside without being read.
	for _, c := range []struct {
		name, want string
		create     func(string) error
	}{
		{"fifo", "not a regular file (p---------)", func(p string) error { return syscall.Mkfifo(p, 0o600) }},
		{"directory", "not a regular file (d---------)", func(p string) error { return os.Mkdir(p, 0o700) }},
		{"file over the bound", "268435457 bytes, more than the 268435456 accepted", func(p string) error {
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				return err
			}
			return os.Truncate(p, maxStateFile+1) // sparse: no disk used
		}},
	} {
		logs.Reset()
		if err := c.create(stateFile(dir, "prod")); err != nil {
			t.Fatal(err)
		}
		regfiletest.NoHang(t, "loadState of a "+c.name, func() { loadState(dir, "prod", logger) })
		if !strings.Contains(logs.String(), c.want) || !strings.Contains(logs.String(), "set it aside") {
			t.Errorf("%s: no clear log line: %s", c.name, logs.String())
		}
		if _, err := os.Lstat(stateFile(dir, "prod")); !os.IsNotExist(err) {
			t.Errorf("%s: left in place", c.name)
		}
	}
	// Every damaged file is kept, even several in one second.
	if aside, _ := filepath.Glob(filepath.Join(dir, "prod.state.json.corrupt-*")); len(aside) != 7 {
		t.Errorf("%d files set aside, want 7 (four damaged, a FIFO, a directory, one too big): %q", len(aside), aside)
	}
}

func FuzzParseState(f *testing.F) {
	st := newOrgState("prod")
	st.FirstSeen["a"] = time.Unix(1, 0)
	b, _ := jsonMarshal(st)
	f.Add(b)
	f.Add([]byte(`{"version":1,"org":"prod","api_usage":{"periods":{"k":null}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := parseState(b, "prod")
		if err != nil {
			return
		}
		// Whatever loads must be usable.
		st.Usage.prune(time.Time{})
		_ = st.Usage.windows(time.Time{})
		_, _ = st.Usage.dropFuture(time.Unix(1_800_000_000, 0))
	})
}

// A read-only refresher (the review command beside a serving exporter)
// leaves the exporter's folder as it is: a damaged state file is neither
// set aside nor replaced, and an old temporary file is not removed.
func TestReadOnlyStateTouchesNothing(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	dir := t.TempDir()
	p := stateFile(dir, "test")
	if err := os.WriteFile(p, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	tmp := p + ".tmp-123"
	if err := os.WriteFile(tmp, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(tmp, old, old); err != nil {
		t.Fatal(err)
	}
	r, err := NewRefresher(testOrgConfig(t, ts.URL, config.SourceLimits), Settings{StaleAfter: staleAfter}, dir, quiet, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.SetReadOnlyState()
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if b, _ := os.ReadFile(p); string(b) != "{not json" || len(names) != 2 {
		t.Fatalf("the folder changed: %v, state %q", names, b)
	}
}

// TestOversizedStateNotWritten: a state over the bound is not written (the
// next start would set it aside and lose it all), the previous file stays,
// and the error says what to lower.
func TestOversizedStateNotWritten(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := newOrgState("prod")
	st.FirstSeen["connected_app|X||"] = time.Unix(1_700_000_000, 0).UTC()
	if err := saveState(dir, st); err != nil {
		t.Fatal(err)
	}
	before := mustReadFile(t, stateFile(dir, "prod"))
	for i := range 100 {
		st.FirstSeen[fmt.Sprintf("connected_app|App %d||", i)] = time.Unix(1_700_000_000, 0).UTC()
	}
	err := saveStateWithin(dir, st, int64(len(before))+100)
	if err == nil || !strings.Contains(err.Error(), "a state file may hold: lower max_apps_per_org") {
		t.Fatalf("an oversized state: %v", err)
	}
	if got := mustReadFile(t, stateFile(dir, "prod")); got != before {
		t.Error("the previous state file was replaced")
	}
}

// TestStateSetAsidePartsAreLogged: a part of a readable state file that is
// past its bounds starts afresh with a log line naming it, and the rest of
// the file is kept; a configured topic's lost position is remembered for
// the stream to count as a replay gap.
func TestStateSetAsidePartsAreLogged(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := newOrgState("prod")
	st.FirstSeen["connected_app|X||"] = time.Unix(1_700_000_000, 0).UTC()
	st.Stream = map[string]*streamState{
		config.TopicAPIEventStream: {ReplayID: bytes.Repeat([]byte{1}, maxStoredReplayID+1)},
		"/event/NotATopic":         {ReplayID: []byte{1}},
	}
	st.APIEvents = &apiEventsState{Watermark: time.Unix(1_700_000_000, 0).UTC(), Seen: map[string]int64{"": 1}}
	st.Rows = map[string]*rowsLedger{config.SourceStream: {Apps: map[string]*rowsApp{"a": {Hours: map[int64]float64{0: -1}}}}}
	st.History = append(st.History, snapshot.HistoryDay{App: ""})
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stateFile(dir, "prod"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, read := range map[string]func(string, string, *slog.Logger) *orgState{"loadState": loadState, "readState": readState} {
		var logs bytes.Buffer
		got := read(dir, "prod", slog.New(slog.NewTextHandler(&logs, nil)))
		if got.fresh != "" || got.FirstSeen["connected_app|X||"].IsZero() {
			t.Fatalf("%s: the rest of the file was not kept: fresh %q, first seen %v", name, got.fresh, got.FirstSeen)
		}
		if len(got.Stream) != 0 || got.APIEvents != nil || len(got.Rows) != 0 || len(got.History) != 0 {
			t.Errorf("%s: parts past their bounds kept: stream %v, api_events %v, rows %v, history %v", name, got.Stream, got.APIEvents, got.Rows, got.History)
		}
		if fmt.Sprint(got.lostStream) != "["+config.TopicAPIEventStream+"]" {
			t.Errorf("%s: lost stream positions %v, want the configured topic's", name, got.lostStream)
		}
		for _, want := range []string{"the stream position of " + config.TopicAPIEventStream, "a topic this version does not read", `\"/event/NotATopic\"`, "the api_events position", `the rows-processed ledger of \"stream\"`, "1 malformed history rows"} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("%s: no log line names %q:\n%s", name, want, logs.String())
			}
		}
		if n := strings.Count(logs.String(), "level=WARN"); n != 5 {
			t.Errorf("%s: %d warnings, want one a part (5):\n%s", name, n, logs.String())
		}
	}
}

// TestStateSetAsidePartsAreBounded: a file bad throughout names at most
// maxSetAsideNamed parts and counts the rest in one line, however many.
func TestStateSetAsidePartsAreBounded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := newOrgState("prod")
	st.Stream = map[string]*streamState{}
	for i := range 500 {
		st.Stream[fmt.Sprintf("/event/Unknown%d", i)] = &streamState{ReplayID: []byte{1}}
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stateFile(dir, "prod"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	got := loadState(dir, "prod", slog.New(slog.NewTextHandler(&logs, nil)))
	if len(got.Stream) != 0 || len(got.setAside) != maxSetAsideNamed {
		t.Fatalf("stream positions kept %d, parts named %d; want 0 and %d", len(got.Stream), len(got.setAside), maxSetAsideNamed)
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != maxSetAsideNamed+1 {
		t.Errorf("%d warnings, want %d named and one count", n, maxSetAsideNamed+1)
	}
	if want := fmt.Sprintf("parts=%d", 500-maxSetAsideNamed); !strings.Contains(logs.String(), want) {
		t.Errorf("no line counts the rest (%s):\n%s", want, logs.String())
	}
}
