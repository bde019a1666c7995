package refresh

import (
	"context"
	"fmt"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// apiUsageSource ingests the ApiTotalUsage event log files into the org's
// state (usage.go keeps the per-period counts), and sums the 24h and 7d
// windows per app.
type apiUsageSource struct {
	totals  *usageTotals // nil until the first refresh
	skipped int64        // malformed rows left out since start
}

func (s *apiUsageSource) name() string { return config.SourceAPIUsage }

func (s *apiUsageSource) refresh(ctx context.Context, e *env) error {
	u := &e.state.Usage
	since := time.Time{}
	if !u.ListedUntil.IsZero() {
		since = u.ListedUntil.Add(-listOverlap)
	}
	files, err := e.client.EventLogFiles(ctx, "ApiTotalUsage", since)
	if err != nil {
		return permissionError(err, "View Event Log Files")
	}
	var firstErr error
	for _, f := range u.filesToIngest(files) {
		p, scan, err := ingestFile(ctx, e.client, f)
		if err != nil {
			// Stop at the first failure: later files wait for it, so the
			// history never has a hole that would look like a quiet day.
			firstErr = fmt.Errorf("ingest ApiTotalUsage file %s (%s %s): %w", f.ID, f.Interval, f.LogDate.Format("2006-01-02T15"), err)
			break
		}
		k := periodKey(f.Interval, f.LogDate.Time, f.Sequence)
		if old, ok := u.Periods[k]; ok {
			e.logger.Info("Log file re-issued; replacing its counts", "log_date", f.LogDate.Format(time.RFC3339), "interval", f.Interval, "old_file", old.FileID, "file", f.ID)
		}
		u.Periods[k] = p
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
			u.ListedUntil = f.CreatedDate.UTC()
			e.stateChanged()
		}
	}
	u.prune()
	t := u.windows()
	s.totals = &t
	return firstErr
}

func ingestFile(ctx context.Context, c *salesforce.Client, f salesforce.EventLogFile) (*usagePeriod, salesforce.UsageScan, error) {
	body, err := c.OpenLogFile(ctx, f)
	if err != nil {
		return nil, salesforce.UsageScan{}, err
	}
	defer body.Close()
	return countFile(f, body)
}

func (s *apiUsageSource) contribute(p *parts) {
	p.APIUsage = s.totals
	p.APIUsageRowsSkipped = s.skipped
}
