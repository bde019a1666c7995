package refresh

import (
	"context"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// appsSource reads the installed connected apps (ConnectedApplication) and
// their menu items (AppMenuItem), which OauthToken rows point at.
type appsSource struct {
	known bool // a read has succeeded
	capps []salesforce.ConnectedApplication
	menus []salesforce.AppMenuItem
}

// appsSpec declares the apps source.
var appsSpec = Spec{
	Name:          config.SourceApps,
	Permission:    "View Setup and Configuration",
	HasPermission: func(p salesforce.UserPermissions) bool { return p.ViewSetup },
	Probe:         probeApps,
	Resources:     []string{"query:ConnectedApplication", "query:AppMenuItem"},
	newSource:     func() source { return &appsSource{} },
}

// probeApps lists the installed connected apps; a refresh reads them and
// their menu items, a request each.
func probeApps(ctx context.Context, c *salesforce.Client, _ ProbeInput) (ProbeResult, error) {
	apps, err := c.ConnectedApplications(ctx)
	if err != nil {
		return ProbeResult{}, err
	}
	return ProbeResult{Apps: ptr(len(apps)), Cost: Cost{PerRefresh: 2}}, nil
}

func (s *appsSource) refresh(ctx context.Context, e *env) error {
	capps, err := e.client.ConnectedApplications(ctx)
	if err != nil {
		return permissionError(err, "View Setup and Configuration")
	}
	menus, err := e.client.AppMenuItems(ctx)
	if err != nil {
		return permissionError(err, "View Setup and Configuration")
	}
	s.capps, s.menus, s.known = capps, menus, true
	return nil
}

func (s *appsSource) contribute(p *snapshot.Parts) {
	p.AppsKnown, p.ConnectedApps, p.MenuItems = s.known, s.capps, s.menus
}
