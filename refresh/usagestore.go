package refresh

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

var noConnectedApp = []byte(snapshot.NoConnectedApp)

// usageState holds per-period ApiTotalUsage counts, so the 7-day window
// survives Salesforce's 1-day retention of free log files, and restarts.
type usageState struct {
	// Periods by periodKey: one Daily file per day, or Hourly files per hour.
	Periods map[string]*usagePeriod `json:"periods"`
	// ListedUntil is the newest CreatedDate seen in a listing.
	ListedUntil time.Time `json:"listed_until,omitzero"`
}

type usagePeriod struct {
	Interval string               `json:"interval"` // Daily or Hourly
	Start    time.Time            `json:"start"`
	Sequence int                  `json:"sequence"`
	FileID   string               `json:"file_id"`
	Created  time.Time            `json:"created"`
	Apps     map[string]*appCount `json:"apps"`
	// Folded counts the rows of apps the period had no room for
	// (maxUsageAppsPerFile, maxUsageBytes): in no app's counts.
	Folded int64 `json:"folded,omitempty"`
	// HasFamily is set when the file had API_FAMILY or API_RESOURCE: its
	// apps' Families are known.
	HasFamily bool `json:"has_family,omitempty"`
}

// Bounds of the usage store, whatever the files hold: a file's apps past
// maxUsageAppsPerFile, or past the store's maxUsageBytes, have their rows
// folded (counted in usagePeriod.Folded and
// salesforce_api_usage_rows_folded_total{cap="apps"}) instead of an entry
// each. An entry costs its key, name and Id and about 100 bytes, in memory
// and in the state file alike.
const (
	maxUsageAppsPerFile = 1000
	maxUsageBytes       = 8 << 20
	usageEntryOverhead  = 100
)

func entrySize(key string, a *appCount) int {
	return len(key) + len(a.Name) + len(a.ID) + 8*len(a.Families) + usageEntryOverhead
}

// size is the estimated bytes of a period's entries.
func (p *usagePeriod) size() int {
	n := 0
	for k, a := range p.Apps {
		n += entrySize(k, a)
	}
	return n
}

// room is the bytes a file of period key may use: maxUsageBytes less the
// other periods' entries.
func (u *usageState) room(key string) int {
	n := maxUsageBytes
	for k, p := range u.Periods {
		if k != key {
			n -= p.size()
		}
	}
	return max(n, 0)
}

// bound folds the entries of the fewest requests into their period's
// Folded until the store is within maxUsageBytes, and the apps of any
// period past maxUsageAppsPerFile: a state written before these bounds
// (or by hand) is read into a bounded store. It returns the rows folded.
func (u *usageState) bound() int64 {
	type entry struct {
		p   *usagePeriod
		key string
		a   *appCount
	}
	total := 0
	over := false
	for _, p := range u.Periods {
		over = over || len(p.Apps) > maxUsageAppsPerFile
		total += p.size()
	}
	if total <= maxUsageBytes && !over {
		return 0
	}
	var all []entry
	for _, p := range u.Periods {
		for k, a := range p.Apps {
			all = append(all, entry{p, k, a})
		}
	}
	slices.SortFunc(all, func(x, y entry) int {
		return cmp.Or(cmp.Compare(x.a.Requests, y.a.Requests), cmp.Compare(x.key, y.key))
	})
	var folded int64
	for _, e := range all {
		if total <= maxUsageBytes && len(e.p.Apps) <= maxUsageAppsPerFile {
			continue
		}
		total -= entrySize(e.key, e.a)
		e.p.Folded += e.a.Requests
		folded += e.a.Requests
		delete(e.p.Apps, e.key)
	}
	return folded
}

type appCount struct {
	Name     string `json:"name"`
	ID       string `json:"id,omitempty"` // 15 characters
	Requests int64  `json:"requests"`
	Errors   int64  `json:"errors"`
	// Families are the requests by salesforce.APIFamily; empty when the
	// file had no family (or the state was written before it was kept).
	Families []int64 `json:"families,omitempty"`
}

// addFamily counts a request of family f.
func (a *appCount) addFamily(f salesforce.APIFamily) {
	if a.Families == nil {
		a.Families = make([]int64, salesforce.NumAPIFamilies)
	}
	a.Families[min(f, salesforce.APIFamilyOther)]++
}

func newUsageState() usageState { return usageState{Periods: map[string]*usagePeriod{}} }

func (u *usageState) check() error {
	if u.Periods == nil {
		u.Periods = map[string]*usagePeriod{}
	}
	for k, p := range u.Periods {
		if p == nil || (p.Interval != "Daily" && p.Interval != "Hourly") || p.Start.IsZero() {
			return fmt.Errorf("api_usage period %q is malformed", k)
		}
		if p.Apps == nil {
			p.Apps = map[string]*appCount{}
		}
		for _, a := range p.Apps {
			if a == nil || a.Requests < 0 || a.Errors < 0 || a.Errors > a.Requests {
				return fmt.Errorf("api_usage period %q has malformed counts", k)
			}
			sum := int64(0)
			for _, n := range a.Families {
				if n < 0 {
					return fmt.Errorf("api_usage period %q has malformed counts", k)
				}
				sum += n
			}
			if len(a.Families) > int(salesforce.NumAPIFamilies) || sum > a.Requests {
				return fmt.Errorf("api_usage period %q has malformed counts by API family", k)
			}
		}
	}
	return nil
}

// periodKey is the key of a file's period; hourly files with a later
// Sequence (late data for the same hour) get their own key.
func periodKey(interval string, start time.Time, seq int) string {
	if interval == "Hourly" {
		return fmt.Sprintf("H|%s|%d", start.UTC().Format(time.RFC3339), seq)
	}
	return "D|" + start.UTC().Format(time.RFC3339)
}

func (p *usagePeriod) end() time.Time {
	if p.Interval == "Hourly" {
		return p.Start.Add(time.Hour)
	}
	return p.Start.AddDate(0, 0, 1)
}

// listOverlap re-lists files created a little before the newest seen, since a
// file's CreatedDate can be earlier than when it becomes visible.
const listOverlap = 6 * time.Hour

// filesToIngest picks the files that are new or re-issue a period with a later CreatedDate.
func (u *usageState) filesToIngest(files []salesforce.EventLogFile) []salesforce.EventLogFile {
	var out []salesforce.EventLogFile
	newest := map[string]salesforce.EventLogFile{}
	for _, f := range files {
		k := periodKey(f.Interval, f.LogDate.Time, f.Sequence)
		if cur, ok := newest[k]; ok && !f.CreatedDate.After(cur.CreatedDate.Time) {
			continue
		}
		newest[k] = f
	}
	for k, f := range newest {
		if p, ok := u.Periods[k]; ok && (p.FileID == f.ID || !f.CreatedDate.After(p.Created)) {
			continue
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedDate.Before(out[j].CreatedDate.Time) })
	return out
}

// countFile parses one downloaded file into a period, and hands each row to
// the detection ingest in (when not nil). A malformed row is
// left out and counted in the scan (salesforce.ScanAPITotalUsage); the period
// is kept only when the file as a whole reads (a header, no truncation, no
// read error), so a cut-off download never replaces good counts.
//
// The period holds at most maxUsageAppsPerFile apps, and entries of at
// most room bytes (usageState.room): the rows of apps past either are
// counted in the period's Folded.
func countFile(f salesforce.EventLogFile, body interface{ Read([]byte) (int, error) }, in *detect.Ingest, room int) (*usagePeriod, salesforce.UsageScan, error) {
	p := &usagePeriod{Interval: f.Interval, Start: f.LogDate.UTC(), Sequence: f.Sequence, FileID: f.ID, Created: f.CreatedDate.UTC(), Apps: map[string]*appCount{}}
	if p.Interval != "Hourly" {
		p.Interval = "Daily"
	}
	// The key is built in buf and looked up without a copy: a row allocates
	// only when its app is new to the file.
	var buf, lastKey []byte
	var last *appCount
	var row detect.Row
	used := 0
	scan, err := salesforce.ScanAPITotalUsage(body, func(ev salesforce.UsageEvent) {
		if in != nil {
			row = detect.Row{AppID: ev.AppID, AppName: ev.AppName, ClientIP: ev.ClientIP, EntityName: ev.EntityName, UserID: ev.UserID, StatusCode: ev.StatusCode}
			row.Time, _ = detect.ParseTimestamp(ev.Time) // 0 when it has none: counted as untimed
			in.Add(&row)
		}
		key := ev.AppID[:min(len(ev.AppID), 15)] // ID(...).Key(): no copy
		if len(key) == 0 {
			name := bytes.TrimSpace(ev.AppName)
			if len(name) == 0 {
				name = noConnectedApp
			}
			buf = append(append(buf[:0], "name:"...), name...)
			key = buf
		}
		// Runs of the same app are common: skip the map lookup for them.
		if last == nil || !bytes.Equal(key, lastKey) {
			last = p.Apps[string(key)]
			if last == nil {
				name := bytes.TrimSpace(ev.AppName)
				// The key's length stands for the Id's (at most the key).
				size := 2*len(key) + len(name) + usageEntryOverhead
				if ev.HasFamily {
					size += 8 * int(salesforce.NumAPIFamilies) // its Families
				}
				if len(p.Apps) >= maxUsageAppsPerFile || used+size > room {
					// No room: nothing is allocated for it.
					p.Folded++
					last = nil
					return
				}
				used += size
				id := salesforce.ID(ev.AppID).Key()
				if id == "" && len(name) == 0 {
					name = noConnectedApp
				}
				last = &appCount{Name: string(name), ID: id}
				p.Apps[string(key)] = last
			}
			lastKey = append(lastKey[:0], key...)
		}
		last.Requests++
		if ev.StatusCode >= 400 {
			last.Errors++
		}
		if ev.Family != salesforce.APIFamilyUnknown {
			last.addFamily(ev.Family)
		}
	})
	if err != nil {
		return nil, scan, err
	}
	if p.HasFamily = scan.HasFamily; p.HasFamily {
		// The rows with an empty family: the requests no family counted.
		for _, a := range p.Apps {
			n := a.Requests
			for _, c := range a.Families {
				n -= c
			}
			if n > 0 {
				if a.Families == nil {
					a.Families = make([]int64, salesforce.NumAPIFamilies)
				}
				a.Families[salesforce.APIFamilyUnknown] += n
			}
		}
	}
	return p, scan, nil
}

// overlap is the share of [start, end) that falls in [from, to).
func overlap(start, end, from, to time.Time) float64 {
	lo, hi := start, end
	if from.After(lo) {
		lo = from
	}
	if to.Before(hi) {
		hi = to
	}
	if !hi.After(lo) {
		return 0
	}
	return float64(hi.Sub(lo)) / float64(end.Sub(start))
}

func scale(n int64, share float64) int64 {
	if share >= 1 {
		return n
	}
	return int64(float64(n)*share + 0.5)
}

// windows sums the periods into snapshot.UsageTotals. now is the org's clock
// (ServerNow): the windows end at the earlier of the
// newest period's end and now, so a period dated in the future (a LogDate
// the org got wrong) cannot push the windows past every real event. The
// zero now sets no bound.
func (u *usageState) windows(now time.Time) snapshot.UsageTotals {
	t := snapshot.UsageTotals{Req24: map[string]int64{}, Req7: map[string]int64{}, Err24: map[string]int64{}, Err7: map[string]int64{}, Names: map[string]string{}, IDs: map[string]string{},
		Family24: map[string]snapshot.APIFamilyCounts{}, Family7: map[string]snapshot.APIFamilyCounts{}}
	daily := map[string]bool{}
	for _, p := range u.Periods {
		if p.end().After(t.End) {
			t.End = p.end()
		}
		if p.Interval == "Daily" {
			daily[p.Start.UTC().Format("2006-01-02")] = true
		}
	}
	if t.End.IsZero() {
		return t
	}
	// A period ending past the org's clock is only plausible within a day
	// (a Daily file of the current day); a later end is a bad date, and the
	// window then ends at the clock, so it cannot push good periods out.
	if !now.IsZero() && t.End.After(now.Add(24*time.Hour)) {
		t.End = now.UTC()
	}
	for _, p := range u.Periods {
		if p.Interval == "Hourly" && daily[p.Start.UTC().Format("2006-01-02")] {
			continue // the day's Daily file already counts these events
		}
		w24 := overlap(p.Start, p.end(), t.End.Add(-24*time.Hour), t.End)
		w7 := overlap(p.Start, p.end(), t.End.Add(-7*24*time.Hour), t.End)
		if w7 > 0 {
			from := p.Start
			if lo := t.End.Add(-7 * 24 * time.Hour); from.Before(lo) {
				from = lo
			}
			if t.Start.IsZero() || from.Before(t.Start) {
				t.Start = from
			}
		}
		if p.HasFamily && w24 > 0 {
			t.HasFamily = true
		}
		for k, a := range p.Apps {
			t.Names[k], t.IDs[k] = a.Name, a.ID
			t.Req7[k] += scale(a.Requests, w7)
			t.Err7[k] += scale(a.Errors, w7)
			t.Req24[k] += scale(a.Requests, w24)
			t.Err24[k] += scale(a.Errors, w24)
			if len(a.Families) > 0 && (w7 > 0 || w24 > 0) {
				f24, f7 := t.Family24[k], t.Family7[k]
				for f, n := range a.Families[:min(len(a.Families), int(salesforce.NumAPIFamilies))] {
					f24[f] += scale(n, w24)
					f7[f] += scale(n, w7)
				}
				t.Family24[k], t.Family7[k] = f24, f7
			}
		}
	}
	return t
}

// prune drops periods older than the 7-day window (and a day of slack),
// measured as windows measures it (now bounds the window's end).
func (u *usageState) prune(now time.Time) {
	t := u.windows(now)
	for k, p := range u.Periods {
		if p.end().Before(t.End.Add(-8 * 24 * time.Hour)) {
			delete(u.Periods, k)
		}
	}
}

// dropFuture removes what no true clock can have written, against the org's
// clock now: periods that start more than salesforce.LogFileClockMargin
// after it, and a ListedUntil past it (which would list only files created
// after it, hiding every real one). State saved from an org that once
// answered with such dates is mended this way on the next refresh. It
// returns the period keys dropped and the ListedUntil reset (zero if none).
func (u *usageState) dropFuture(now time.Time) (dropped []string, listed time.Time) {
	limit := now.Add(salesforce.LogFileClockMargin)
	for k, p := range u.Periods {
		if p.Start.After(limit) {
			delete(u.Periods, k)
			dropped = append(dropped, k)
		}
	}
	sort.Strings(dropped)
	if u.ListedUntil.After(limit) {
		listed = u.ListedUntil
		u.ListedUntil = time.Time{}
		// Re-list from the newest period still held: files already ingested
		// are recognised by their Id and skipped.
		for _, p := range u.Periods {
			if p.Created.After(u.ListedUntil) && !p.Created.After(limit) {
				u.ListedUntil = p.Created
			}
		}
	}
	return dropped, listed
}
