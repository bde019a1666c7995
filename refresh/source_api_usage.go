package refresh

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// apiUsageSource ingests the ApiTotalUsage event log files into the org's
// state (usagestore.go keeps the per-period counts), and sums the 24h and 7d
// windows per app.
type apiUsageSource struct {
	totals  *snapshot.UsageTotals // nil until the first refresh
	skipped int64                 // malformed rows left out since start
	// pending is the overall bound of the downloads (DownloadTimeout) that
	// the last listing left to read: what the next run may need.
	pending time.Duration
	folded  snapshot.UsageFolded // rows past the per-file caps since start
}

// apiUsageSpec declares the api_usage source.
var apiUsageSpec = Spec{
	Name:          config.SourceAPIUsage,
	Permission:    "View Event Log Files (or View All Data)",
	HasPermission: salesforce.UserPermissions.ReadsEventLogFiles,
	Probe:         probeAPIUsage,
	Resources:     []string{"query:EventLogFile", "eventlogfile_download"},
	newSource:     func() source { return &apiUsageSource{} },
}

// probeAPIUsage lists the ApiTotalUsage log files: how many of each
// interval, how many days they span. A refresh lists them, then downloads
// what is new: a file a day, or 24 with hourly files.
func probeAPIUsage(ctx context.Context, c *salesforce.Client, _ ProbeInput) (ProbeResult, error) {
	files, err := c.EventLogFiles(ctx, "ApiTotalUsage", time.Time{})
	if err != nil {
		return ProbeResult{}, err
	}
	daily, hourly := 0, 0
	var oldest, newest time.Time
	for _, f := range files {
		if strings.EqualFold(f.Interval, "Hourly") {
			hourly++
		} else {
			daily++
		}
		if oldest.IsZero() || f.LogDate.Before(oldest) {
			oldest = f.LogDate.Time
		}
		if f.PeriodEnd().After(newest) {
			newest = f.PeriodEnd()
		}
	}
	kept := 0
	if len(files) > 0 {
		kept = int(math.Round(newest.Sub(oldest).Hours() / 24))
	}
	downloads := 1.0
	if hourly > 0 {
		downloads = 24
	}
	r := ProbeResult{DailyFiles: ptr(daily), HourlyFiles: ptr(hourly), DaysKept: ptr(kept), Cost: Cost{PerRefresh: 1, PerDay: downloads}}
	if len(files) > 0 {
		// The API family figures need API_FAMILY or API_RESOURCE, which
		// older files lack: the newest file's header says, without a download.
		cols, ok, err := c.LogFileColumns(ctx, "ApiTotalUsage")
		switch {
		case err != nil:
			return r, err
		case ok && (slices.Contains(cols, "API_FAMILY") || slices.Contains(cols, "API_RESOURCE")):
			r.Notes = append(r.Notes, "ApiTotalUsage files carry API_FAMILY and API_RESOURCE: requests are counted by API family (Bulk API 1.0 and 2.0 among them)")
		case ok:
			r.Notes = append(r.Notes, "ApiTotalUsage files lack API_FAMILY and API_RESOURCE: no figures by API family (salesforce_api_usage_family_readable 0), so Bulk API use is not told apart")
		}
	}
	if len(files) == 0 {
		return r, errors.New("no ApiTotalUsage log files: the org has no Event Monitoring log files yet (they appear a day after the first API use), or the user lacks View Event Log Files")
	}
	return r, nil
}

// timeout implements timeoutSetter: a daily file of a busy org may take
// longer to download than the refresh timeout allows, which would cut it
// on every run and freeze the usage figures and the detection for good. A
// run that left files to read gives the next one the time their downloads
// may take (each bounded by its LogFileLength, salesforce.DownloadTimeout),
// at most salesforce.MaxDownloadTimeout.
func (s *apiUsageSource) timeout(_ time.Time, org config.Org) time.Duration {
	return max(time.Duration(org.Timeout), min(s.pending, salesforce.MaxDownloadTimeout))
}

func (s *apiUsageSource) refresh(ctx context.Context, e *env) error {
	u := &e.state.Usage
	if n := u.bound(); n > 0 {
		// A state written before the bounds, or by hand.
		s.folded.Apps += n
		e.logger.Warn("The API usage state holds more apps than the exporter keeps; folded the least used", "cap", "apps",
			"limit_apps_per_file", maxUsageAppsPerFile, "limit_bytes", maxUsageBytes, "rows", n)
		e.stateChanged()
	}
	files, err := s.list(ctx, e)
	if err != nil {
		return err
	}
	// The listing's Date header set the org's clock: no date of ours may
	// lie past it. A watermark that did is reset, and the files listed again.
	now := e.client.ServerNow()
	if s.mendFuture(e, now) {
		if files, err = s.list(ctx, e); err != nil {
			return err
		}
	}
	limit := now.Add(salesforce.LogFileClockMargin)
	kept := files[:0:0]
	for _, f := range files {
		if f.LogDate.After(limit) || f.CreatedDate.After(limit) {
			e.logger.Warn("Ignoring a log file dated in the future of the org's clock", "file", f.ID, "log_date", f.LogDate.UTC().Format(time.RFC3339),
				"created", f.CreatedDate.UTC().Format(time.RFC3339), "org_now", now.UTC().Format(time.RFC3339))
			continue
		}
		kept = append(kept, f)
	}
	files = kept
	var firstErr error
	todo := u.filesToIngest(files)
	s.pending = 0
	for _, f := range todo {
		s.pending = min(s.pending+e.client.DownloadTimeout(f.LogFileLength), salesforce.MaxDownloadTimeout)
	}
	for _, f := range todo {
		k := periodKey(f.Interval, f.LogDate.Time, f.Sequence)
		in := beginDetection(e.tracker, k, f)
		p, scan, err := ingestFile(ctx, e.client, f, in, u.room(k))
		if err != nil {
			// Stop at the first failure: later files wait for it, so the
			// history never has a hole that would look like a quiet day.
			firstErr = fmt.Errorf("ingest ApiTotalUsage file %s (%s %s): %w", f.ID, f.Interval, f.LogDate.Format("2006-01-02T15"), err)
			if ctx.Err() != nil && s.pending > time.Duration(e.org.Timeout) {
				firstErr = fmt.Errorf("%w; the next run may take up to %v for the %d files left to read", firstErr, s.pending.Round(time.Second), len(todo))
			}
			break
		}
		if old, ok := u.Periods[k]; ok {
			e.logger.Info("Log file re-issued; replacing its counts", "log_date", f.LogDate.Format(time.RFC3339), "interval", f.Interval, "old_file", old.FileID, "file", f.ID)
		}
		u.Periods[k] = p
		s.fold(e, f, p, in)
		if in != nil {
			e.tracker.Commit(in)
			if in.Clamped() > 0 || in.Untimed() > 0 {
				// The detection places these rows at the period's edge; the
				// request counts do not depend on row times.
				e.logger.Warn("ApiTotalUsage rows with a TIMESTAMP_DERIVED outside their file's period, or none that parses; placed at the period's edge",
					"file", f.ID, "log_date", f.LogDate.Format(time.RFC3339), "interval", f.Interval,
					"outside_period", in.Clamped(), "no_time", in.Untimed(), "rows", in.Rows())
			}
		}
		e.stateChanged()
		if scan.Skipped > 0 {
			s.skipped += int64(scan.Skipped)
			e.logger.Warn("Left malformed rows of an ApiTotalUsage file out of the counts", "file", f.ID, "log_date", f.LogDate.Format(time.RFC3339),
				"skipped", scan.Skipped, "first", scan.FirstSkipped.Error())
		}
		e.logger.Debug("Ingested ApiTotalUsage file", "file", f.ID, "rows", scan.Rows, "log_date", f.LogDate.Format(time.RFC3339))
	}
	for _, f := range files {
		if f.CreatedDate.After(u.ListedUntil) && firstErr == nil {
			// Never past the org's clock: a watermark in the future would
			// hide every file created before it.
			u.ListedUntil = minTime(f.CreatedDate.UTC(), limit.UTC())
			e.stateChanged()
		}
	}
	if firstErr == nil {
		s.pending = 0
	}
	u.prune(now)
	t := u.windows(now)
	s.totals = &t
	return firstErr
}

// list lists the ApiTotalUsage files created since the watermark (less an overlap).
func (s *apiUsageSource) list(ctx context.Context, e *env) ([]salesforce.EventLogFile, error) {
	since := time.Time{}
	if u := &e.state.Usage; !u.ListedUntil.IsZero() {
		since = u.ListedUntil.Add(-listOverlap)
	}
	files, err := e.client.EventLogFiles(ctx, "ApiTotalUsage", since)
	if err != nil {
		return nil, permissionError(err, "View Event Log Files")
	}
	return files, nil
}

func ingestFile(ctx context.Context, c *salesforce.Client, f salesforce.EventLogFile, in *detect.Ingest, room int) (*usagePeriod, salesforce.UsageScan, error) {
	body, err := c.OpenLogFile(ctx, f)
	if err != nil {
		return nil, salesforce.UsageScan{}, err
	}
	defer body.Close()
	return countFile(f, body, in, room)
}

// fold counts a file's rows folded for want of room, with a log line per
// cap the file went past.
func (s *apiUsageSource) fold(e *env, f salesforce.EventLogFile, p *usagePeriod, in *detect.Ingest) {
	warn := func(what, limit string, rows int64) {
		e.logger.Warn("ApiTotalUsage file past a per-file cap: rows of the rest are counted, but not one by one (salesforce_api_usage_rows_folded_total)",
			"file", f.ID, "log_date", f.LogDate.Format(time.RFC3339), "cap", what, "limit", limit, "rows", rows)
	}
	if p.Folded > 0 {
		s.folded.Apps += p.Folded
		warn("apps", fmt.Sprintf("%d apps per file, %d bytes of API usage state", maxUsageAppsPerFile, maxUsageBytes), p.Folded)
	}
	if in == nil {
		return
	}
	nets, objs := in.Folded()
	cfg := e.tracker.Config()
	if nets > 0 {
		s.folded.Networks += nets
		warn("networks", fmt.Sprintf("%d networks per app (4 x max_networks_per_app), %d per file", 4*cfg.MaxNetworksPerApp, detect.MaxStagedNetworksPerFile), nets)
	}
	if objs > 0 {
		s.folded.Objects += objs
		warn("objects", fmt.Sprintf("%d objects per app (4 x max_objects_per_app), %d or %d bytes of names per file", 4*cfg.MaxObjectsPerApp, detect.MaxStagedObjectsPerFile, detect.MaxStagedObjectBytesPerFile), objs)
	}
}

// beginDetection starts the detection baseline's ingest of a file (nil
// without a tracker).
func beginDetection(tr *detect.Tracker, key string, f salesforce.EventLogFile) *detect.Ingest {
	if tr == nil {
		return nil
	}
	interval := f.Interval
	if interval != "Hourly" {
		interval = "Daily"
	}
	return tr.Begin(detect.Period{Key: key, Interval: interval, Start: f.LogDate.UTC(), FileID: f.ID})
}

func (s *apiUsageSource) contribute(p *snapshot.Parts) {
	p.APIUsage = s.totals
	p.APIUsageRowsSkipped = s.skipped
	p.APIUsageRowsFolded = s.folded
}

// mendFuture drops periods and resets a listing watermark that lie in the
// org's future (usageState.dropFuture), with a log line for each. It
// reports whether the listing watermark was reset.
func (s *apiUsageSource) mendFuture(e *env, now time.Time) bool {
	dropped, listed := e.state.Usage.dropFuture(now)
	for _, k := range dropped {
		e.logger.Warn("Dropped an API usage period that starts in the future of the org's clock", "period", k, "org_now", now.UTC().Format(time.RFC3339))
	}
	if !listed.IsZero() {
		e.logger.Warn("Reset the log file listing watermark: it was in the future of the org's clock", "listed_until", listed.UTC().Format(time.RFC3339), "org_now", now.UTC().Format(time.RFC3339))
	}
	if len(dropped) > 0 || !listed.IsZero() {
		e.stateChanged()
	}
	return !listed.IsZero()
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
