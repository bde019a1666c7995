package refresh

import (
	"context"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// limitsSource reads the org's /limits: the DailyApiRequests allocation the
// budget is a share of.
type limitsSource struct {
	limits salesforce.Limits
}

// limitsSpec declares the limits source.
var limitsSpec = Spec{
	Name:          config.SourceLimits,
	Permission:    "View Setup and Configuration",
	HasPermission: func(p salesforce.UserPermissions) bool { return p.ViewSetup },
	Probe:         probeLimits,
	Resources:     []string{"limits"},
	newSource:     func() source { return &limitsSource{} },
}

// probeLimits reads /limits: one request a refresh.
func probeLimits(ctx context.Context, c *salesforce.Client, _ ProbeInput) (ProbeResult, error) {
	l, err := c.Limits(ctx)
	if err != nil {
		return ProbeResult{}, err
	}
	return ProbeResult{Limits: l, Cost: Cost{PerRefresh: 1}}, nil
}

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

func (s *limitsSource) contribute(p *snapshot.Parts) {
	if l, ok := s.dailyAPI(); ok {
		p.HasLimits, p.DailyAPIMax, p.DailyAPIRemaining = true, l.Max, l.Remaining
	}
}
