package refresh

import (
	"context"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// appsSource reads the installed connected apps (ConnectedApplication) and
// their menu items (AppMenuItem), which OauthToken rows point at.
type appsSource struct {
	known bool // a read has succeeded
	capps []salesforce.ConnectedApplication
	menus []salesforce.AppMenuItem
}

func (s *appsSource) name() string { return config.SourceApps }

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

func (s *appsSource) contribute(p *parts) {
	p.AppsKnown, p.ConnectedApps, p.MenuItems = s.known, s.capps, s.menus
}
