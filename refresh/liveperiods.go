package refresh

import (
	"fmt"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
)

// livePeriods are a live source's periods of the detection baseline, in the
// stream's scheme (source_stream.go's drain): one Hourly period per hour
// and segment, FileID detect.StreamFileID, numbered by the state's
// StreamSegment so that a restart adds to an hour instead of replacing it.
// The hour's ApiTotalUsage file replaces them when it arrives, and the
// grading judges them as it judges files (detect/figures.go, days.go).
type livePeriods struct {
	name string // the source's part of the period keys
	open map[int64]*detect.Ingest
}

// add puts a row into the open period of its hour, opening one (a new
// segment) if there is none.
func (l *livePeriods) add(tr *detect.Tracker, st *orgState, at time.Time, row *detect.Row) int64 {
	hour := at.Truncate(time.Hour)
	k := hour.Unix()
	in := l.open[k]
	if in == nil {
		if l.open == nil {
			l.open = map[int64]*detect.Ingest{}
		}
		st.StreamSegment++
		in = tr.Begin(detect.Period{Key: fmt.Sprintf("S|%s|%s|%d", hour.UTC().Format(time.RFC3339), l.name, st.StreamSegment),
			Interval: "Hourly", Start: hour.UTC(), FileID: detect.StreamFileID})
		l.open[k] = in
	}
	in.Add(row)
	return k
}

// commit commits the touched periods again with what they now hold, and
// closes those whose hour ended over an hour before now: a later row of
// such an hour opens a new segment.
func (l *livePeriods) commit(tr *detect.Tracker, touched map[int64]bool, now time.Time) {
	for k := range touched {
		tr.Commit(l.open[k])
	}
	cut := now.Add(-2 * time.Hour).Unix()
	for k := range l.open {
		if k < cut {
			delete(l.open, k)
		}
	}
}
