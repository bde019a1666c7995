package refresh

import (
	"context"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// limitsSource reads the org's /limits: the DailyApiRequests allocation the
// budget is a share of.
type limitsSource struct {
	limits salesforce.Limits
}

func (s *limitsSource) name() string { return config.SourceLimits }

func (s *limitsSource) refresh(ctx context.Context, e *env) error {
	l, err := e.client.Limits(ctx)
	if err != nil {
		return permissionError(err, "View Setup and Configuration")
	}
	s.limits = l
	return nil
}

// dailyAPI returns DailyApiRequests from the last /limits read.
func (s *limitsSource) dailyAPI() (salesforce.Limit, bool) {
	l, ok := s.limits["DailyApiRequests"]
	return l, ok
}

func (s *limitsSource) contribute(p *parts) {
	if l, ok := s.dailyAPI(); ok {
		p.HasLimits, p.DailyAPIMax, p.DailyAPIRemaining = true, l.Max, l.Remaining
	}
}
