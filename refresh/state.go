package refresh

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/regfile"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/textsafe"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// stateVersion is bumped when the state file's meaning changes.
const stateVersion = 1

// orgState is what an org's refresher keeps across restarts.
type orgState struct {
	Version int    `json:"version"`
	Org     string `json:"org"`
	// AggregatesRejectedAt is when the org last refused GROUP BY on OauthToken.
	AggregatesRejectedAt time.Time `json:"aggregates_rejected_at,omitzero"`
	// FirstSeen is when the exporter first saw each app, by snapshot.AppUsage.StateKey.
	FirstSeen map[string]time.Time `json:"first_seen"`
	// LastSeen is when the exporter last saw each app of FirstSeen hold
	// tokens, have API usage in the 7-day window or be installed (pruneSeen).
	// A file written before it existed has none: its apps count as seen when
	// it is loaded (fillLastSeen).
	LastSeen map[string]time.Time `json:"last_seen,omitempty"`
	// Usage is the ingested ApiTotalUsage counts.
	Usage usageState `json:"api_usage"`
	// Detection is the detection baseline (detect.Tracker.MarshalBinary).
	Detection []byte `json:"detection,omitempty"`
	// History is one row per app per UTC day for the review's charts (history.go).
	History []snapshot.HistoryDay `json:"history,omitempty"`
	// Posture is the posture source's last judged read (source_posture.go).
	Posture *postureState `json:"posture,omitempty"`
	// AppMetadata is the app_metadata source's last judged read
	// (source_app_metadata.go).
	AppMetadata *appMetadataState `json:"app_metadata,omitempty"`
	// Stream is the stream source's position by topic: the replay id past
	// the last event the Detection baseline holds (source_stream.go).
	Stream map[string]*streamState `json:"stream,omitempty"`
	// StreamSegment numbers the stream's periods in the baseline, so a
	// restart adds to an hour's figures rather than replace them.
	StreamSegment uint64 `json:"stream_segment,omitempty"`
	// APIEvents is the api_events source's position: the newest EventDate
	// the Detection baseline holds, and the events read near it
	// (source_api_events.go).
	APIEvents *apiEventsState `json:"api_events,omitempty"`
	// Rows is the RowsProcessed ledger of the sources of API events (the
	// stream and api_events), by source name (rows_ledger.go).
	Rows map[string]*rowsLedger `json:"rows_processed,omitempty"`

	// fresh says why the state started empty: snapshot.DetectionResetNoState
	// (no file) or DetectionResetSetAside (a file that could not be read);
	// "" when it was read from its file. Never written.
	fresh string
	// setAside describes the parts of a read file past their bounds, each
	// started afresh (logged by logSetAside); lostStream the stream topics
	// whose stored position was among them (a replay gap). Never written.
	setAside     []string
	setAsideMore int
	lostStream   []string
}

// maxSetAsideNamed bounds the parts of a read state file named one by one
// (logSetAside); a file that is hostile or damaged throughout (a map of
// millions of bad entries) gets a count of the rest, not a line each.
const maxSetAsideNamed = 20

// leaveOut records a part of the read file that is left out.
func (st *orgState) leaveOut(part string) {
	if len(st.setAside) < maxSetAsideNamed {
		st.setAside = append(st.setAside, part)
		return
	}
	st.setAsideMore++
}

// streamState is one topic's stored position.
type streamState struct {
	ReplayID []byte `json:"replay_id"`
}

// maxStoredReplayID bounds a stored replay id (8 bytes in practice).
const maxStoredReplayID = 1024

func newOrgState(org string) *orgState {
	return &orgState{Version: stateVersion, Org: org, FirstSeen: map[string]time.Time{}, LastSeen: map[string]time.Time{}, Usage: newUsageState()}
}

// StateFile is the path of an org's state file in a storage folder.
func StateFile(dir, org string) string { return stateFile(dir, org) }

// stateFile is the path of an org's state file.
func stateFile(dir, org string) string { return filepath.Join(dir, org+".state.json") }

// loadState reads an org's state. A missing file is a fresh start. A file that
// can't be read or decoded is moved aside (never deleted) with a log line, and
// the exporter starts fresh: it never fails to start over its own state.
func loadState(dir, org string, logger *slog.Logger) *orgState {
	removeStaleTemps(dir, org, logger, time.Now())
	p := stateFile(dir, org)
	b, err := readStateFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return freshState(org, snapshot.DetectionResetNoState)
	}
	st, perr := parseState(b, org)
	if err == nil && perr == nil {
		logSetAside(st, p, logger)
		return st
	}
	if err == nil {
		err = perr
	}
	setAside(p, "State file", "starting from a fresh state (a full sync follows)", err, logger)
	return freshState(org, snapshot.DetectionResetSetAside)
}

// logSetAside logs each part of a read state file that was past its bounds
// and started afresh: the rest of the file is kept.
func logSetAside(st *orgState, file string, logger *slog.Logger) {
	for _, part := range st.setAside {
		logger.Warn("Part of the exporter's state file is malformed or past its bounds and is left out (read afresh); the rest of the file is used", "file", file, "part", part)
	}
	if st.setAsideMore > 0 {
		logger.Warn("More parts of the exporter's state file are malformed or past their bounds and are left out", "file", file, "parts", st.setAsideMore)
	}
}

// freshState is an empty state, started for the reason given.
func freshState(org, reason string) *orgState {
	st := newOrgState(org)
	st.fresh = reason
	return st
}

// readState reads an org's state without changing the folder: a missing
// or damaged file is a fresh start, with a log line for a damaged one.
func readState(dir, org string, logger *slog.Logger) *orgState {
	p := stateFile(dir, org)
	b, err := readStateFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return freshState(org, snapshot.DetectionResetNoState)
	}
	st, perr := parseState(b, org)
	if err == nil && perr == nil {
		logSetAside(st, p, logger)
		return st
	}
	logger.Warn("The exporter's state file is unreadable; reading on without it (the file is left as it is)", "file", p, "err", cmp.Or(err, perr))
	return freshState(org, snapshot.DetectionResetSetAside)
}

// maxStateFile caps the state file read: some hundred times the state of an
// org with 200 apps at their detection caps.
const maxStateFile = 256 << 20

// readStateFile reads a state file: a regular file of at most maxStateFile
// bytes, so a FIFO or a device put in its place can neither hang the start
// nor be read without end.
func readStateFile(p string) ([]byte, error) {
	b, _, err := regfile.ReadFile(p, maxStateFile)
	var nr *regfile.NotRegularError
	var tl *regfile.TooLargeError
	if errors.As(err, &nr) || errors.As(err, &tl) {
		return nil, fmt.Errorf("state file is %w", err)
	}
	return b, err
}

// parseState decodes and checks a state file.
func parseState(b []byte, org string) (*orgState, error) {
	var st orgState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("decode state: %w", err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("state version %d, want %d", st.Version, stateVersion)
	}
	if st.Org != org {
		return nil, fmt.Errorf("state is for org %q, not %q", st.Org, org)
	}
	if st.FirstSeen == nil {
		st.FirstSeen = map[string]time.Time{}
	}
	if st.LastSeen == nil {
		st.LastSeen = map[string]time.Time{}
	}
	if err := st.Usage.check(); err != nil {
		return nil, err
	}
	// A stored position past its bounds costs the events between it and
	// this start: a replay gap, counted when the stream starts (lostStream).
	for topic, ss := range st.Stream {
		known := slices.Contains(config.StreamTopics, topic)
		if ss == nil || len(ss.ReplayID) == 0 || len(ss.ReplayID) > maxStoredReplayID || !known {
			delete(st.Stream, topic)
			if known {
				st.lostStream = append(st.lostStream, topic)
				st.leaveOut("the stream position of " + topic + " (a stream that reads it starts at its latest event: a replay gap)")
			} else {
				st.leaveOut(fmt.Sprintf("a stream position of %q, a topic this version does not read", textsafe.Clean(topic, 80)))
			}
		}
	}
	slices.Sort(st.lostStream)
	if st.APIEvents != nil && st.APIEvents.check() != nil {
		st.APIEvents = nil
		st.leaveOut("the api_events position (read again as on a first start)")
	}
	// A ledger past its bounds costs its marks: counted afresh.
	for source, l := range st.Rows {
		if l == nil || (source != config.SourceStream && source != config.SourceAPIEvents) || l.check() != nil {
			delete(st.Rows, source)
			st.leaveOut(fmt.Sprintf("the rows-processed ledger of %q (its busiest-day marks come back once a whole day is counted)", textsafe.Clean(source, 80)))
		}
	}
	// A malformed history row costs its point on a chart.
	before := len(st.History)
	st.History = slices.DeleteFunc(st.History, func(h snapshot.HistoryDay) bool {
		return h.Day.IsZero() || h.App == "" || h.Users < 0 || h.Tokens < 0 || h.Requests < 0 || h.Errors < 0 || h.Errors > h.Requests
	})
	if n := before - len(st.History); n > 0 {
		st.leaveOut(fmt.Sprintf("%d malformed history rows (their points on the review's charts)", n))
	}
	slices.Sort(st.setAside)
	return &st, nil
}

// saveState writes the state atomically (writeAtomic).
func saveState(dir string, st *orgState) error { return saveStateWithin(dir, st, maxStateFile) }

// saveStateWithin is saveState with the bound on the file's size.
func saveStateWithin(dir string, st *orgState, limit int64) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	// Never write what the next start would refuse to read: the failure
	// shows now (salesforce_exporter_storage_write_failures_total), not
	// as a fresh state after a restart.
	if int64(len(b)) > limit {
		return fmt.Errorf("state is %d bytes, more than the %d a state file may hold: lower max_apps_per_org, or detection's max_networks_per_app and max_objects_per_app", len(b), limit)
	}
	if err := writeAtomic(dir, stateFile(dir, st.Org), b); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

// setAside moves a damaged file out of the way (never deletes it, so it can
// be inspected) and logs why, and what happens instead.
func setAside(p, what, instead string, err error, logger *slog.Logger) {
	aside := asideName(p, time.Now())
	if rerr := os.Rename(p, aside); rerr != nil {
		logger.Error(what+" is unreadable and could not be set aside; "+instead, "file", p, "err", err, "rename_err", rerr)
		return
	}
	logger.Error(what+" is unreadable; set it aside and "+instead, "file", p, "moved_to", aside, "err", err)
}

// asideName is a name for setting p aside that no file has yet: a second
// damaged file in the same second must not replace the first one's evidence
// (a rename replaces a file silently).
func asideName(p string, now time.Time) string {
	base := fmt.Sprintf("%s.corrupt-%s", p, now.UTC().Format("20060102T150405Z"))
	name := base
	for i := 1; i < 100; i++ {
		if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			return name
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
	// A hundred in one second: the nanoseconds tell this one apart. (One
	// process sets its own files aside, so checking before the rename
	// races with nobody.)
	return fmt.Sprintf("%s-%d", base, now.UnixNano())
}

// writeAtomic replaces the file p in dir with b: a temporary file in the
// same folder, fsync, rename over the old file, fsync of the folder. A crash
// at any point leaves the old file or the new one, never a mix.
func writeAtomic(dir, p string, b []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create storage folder: %w", err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(p)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("replace: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// SeedHistory writes a fresh state file for org in dir holding only the
// daily history rows, unless the org has a state file already (which it
// never touches). It is for the demo org, whose fake history lets the
// high-water marks show from its first minute.
func SeedHistory(dir, org string, rows []snapshot.HistoryDay) error {
	if _, err := os.Lstat(stateFile(dir, org)); !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	st := newOrgState(org)
	st.History = rows
	return saveState(dir, st)
}
