package refresh

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// Bounds of the rows ledger.
const (
	// rowsLedgerHours is how many hourly buckets an app keeps: the live
	// 24-hour window and the hour it is moving out of.
	rowsLedgerHours = 25
	// rowsLedgerDays is how many UTC days an app keeps: the high-water
	// look-back, the one or two days the window touches, and one spare.
	rowsLedgerDays = snapshot.HighWaterDays + 3
)

// rowsLedger is one source's RowsProcessed per app by hour and by UTC day,
// kept in the state file, so the 24-hour window and the busiest day
// survive a restart: the stream resumes from its stored replay id and the
// api_events source from its watermark, so no event counts twice.
type rowsLedger struct {
	// Since is when the source first counted rows: a day that began
	// before it is not covered whole and sets no mark.
	Since time.Time `json:"since"`
	// Apps by detect.AppKey; at most snapshot.MaxStreamApps.
	Apps map[string]*rowsApp `json:"apps,omitempty"`
}

// rowsApp is one app's rows in the ledger.
type rowsApp struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	// Hours and Days map the Unix second of an hour's or a UTC day's start
	// to the rows of the app's events in it.
	Hours map[int64]float64 `json:"hours,omitempty"`
	Days  map[int64]float64 `json:"days,omitempty"`
}

// check refuses a stored ledger past its bounds; the cost is a ledger
// started afresh (no mark until a whole day is counted again).
func (l *rowsLedger) check() error {
	if len(l.Apps) > snapshot.MaxStreamApps {
		return fmt.Errorf("rows ledger: %d apps stored, more than %d", len(l.Apps), snapshot.MaxStreamApps)
	}
	for _, a := range l.Apps {
		if a == nil || len(a.Hours) > rowsLedgerHours+1 || len(a.Days) > rowsLedgerDays+1 {
			return errors.New("rows ledger: an app holds more hours or days than kept")
		}
		if len(a.ID) > maxStreamField || len(a.Name) > maxStreamField {
			return errors.New("rows ledger: an app's id or name is too long")
		}
		for _, m := range []map[int64]float64{a.Hours, a.Days} {
			for _, v := range m {
				if v < 0 || v != v {
					return errors.New("rows ledger: a negative or NaN count of rows")
				}
			}
		}
	}
	return nil
}

// add counts an event's rows for its app at its time; now starts the
// ledger. An app past snapshot.MaxStreamApps is not counted (its events
// are already counted as folded by the source).
func (l *rowsLedger) add(at, now time.Time, id, name string, rows float64) {
	if l.Since.IsZero() {
		l.Since = now.UTC()
	}
	if rows != rows || rows < 0 {
		rows = 0
	}
	key := detect.AppKey(id, name)
	a := l.Apps[key]
	if a == nil {
		if l.Apps == nil {
			l.Apps = map[string]*rowsApp{}
		}
		if len(l.Apps) >= snapshot.MaxStreamApps {
			return
		}
		a = &rowsApp{ID: id, Name: name, Hours: map[int64]float64{}, Days: map[int64]float64{}}
		l.Apps[key] = a
	}
	at = at.UTC()
	a.Hours[at.Truncate(time.Hour).Unix()] += rows
	a.Days[at.Truncate(24*time.Hour).Unix()] += rows
}

// prune drops the hours and days past what the ledger keeps, and the apps
// left with none.
func (l *rowsLedger) prune(now time.Time) {
	hourCut := now.UTC().Truncate(time.Hour).Add(-(rowsLedgerHours - 1) * time.Hour).Unix()
	dayCut := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -(rowsLedgerDays - 1)).Unix()
	for k, a := range l.Apps {
		for h := range a.Hours {
			if h < hourCut {
				delete(a.Hours, h)
			}
		}
		for d := range a.Days {
			if d < dayCut {
				delete(a.Days, d)
			}
		}
		if len(a.Hours) == 0 && len(a.Days) == 0 {
			delete(l.Apps, k)
		}
	}
}

// figures are the ledger's per-app figures at now, sorted by app key.
func (l *rowsLedger) figures(source string, now time.Time) []snapshot.AppRows {
	if l == nil || len(l.Apps) == 0 {
		return nil
	}
	now = now.UTC()
	// The window is the current hour and the 23 before it.
	winFrom := now.Truncate(time.Hour).Add(-23 * time.Hour)
	markTo := winFrom.Truncate(24 * time.Hour)
	markFrom := markTo.AddDate(0, 0, -snapshot.HighWaterDays)
	if covered := l.Since.UTC(); covered.After(markFrom) {
		// A day that began before the ledger did is not whole.
		markFrom = covered.Truncate(24 * time.Hour)
		if !markFrom.Equal(covered) {
			markFrom = markFrom.AddDate(0, 0, 1)
		}
	}
	keys := make([]string, 0, len(l.Apps))
	for k := range l.Apps {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]snapshot.AppRows, 0, len(keys))
	for _, k := range keys {
		a := l.Apps[k]
		r := snapshot.AppRows{Source: source, ID: a.ID, Name: a.Name}
		for h, v := range a.Hours {
			if h >= winFrom.Unix() && h <= now.Unix() {
				r.Rows24h += v
			}
		}
		for d, v := range a.Days {
			if d >= markFrom.Unix() && d < markTo.Unix() {
				r.HasDailyMax, r.DailyMax = true, max(r.DailyMax, v)
			}
		}
		out = append(out, r)
	}
	return out
}

// rowsFigures are the org's figures from every source's ledger, sorted by
// source, then app.
func rowsFigures(ledgers map[string]*rowsLedger, now time.Time) []snapshot.AppRows {
	var out []snapshot.AppRows
	names := make([]string, 0, len(ledgers))
	for n := range ledgers {
		names = append(names, n)
	}
	slices.SortFunc(names, cmp.Compare)
	for _, n := range names {
		out = append(out, ledgers[n].figures(n, now)...)
	}
	return out
}

// rowsLedgerOf returns the state's ledger of the source, made if absent.
func (st *orgState) rowsLedgerOf(source string) *rowsLedger {
	if st.Rows == nil {
		st.Rows = map[string]*rowsLedger{}
	}
	l := st.Rows[source]
	if l == nil {
		l = &rowsLedger{}
		st.Rows[source] = l
	}
	return l
}
