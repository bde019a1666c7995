package review

import (
	"context"
	"errors"
	"strings"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// ecaIDsByName maps each External Client App name (label, developer name;
// lower case) to the app's Id, "" when two apps share it. OauthToken rows of
// an ECA usually have no AppMenuItem, only the app's name: this is how
// revoke files them under the ECA's Id. It reads ExternalClientApplication
// and the App OAuth Usage collection; either may be missing on an org.
func ecaIDsByName(ctx context.Context, c *salesforce.Client) (map[string]string, error) {
	out := map[string]string{}
	add := func(id string, names ...string) {
		for _, n := range names {
			if n == "" {
				continue
			}
			n = strings.ToLower(n)
			if prev, ok := out[n]; ok && !salesforce.ID(prev).Same(salesforce.ID(id)) {
				out[n] = ""
			} else {
				out[n] = id
			}
		}
	}
	rows, soqlErr := c.ExternalClientApplications(ctx)
	if soqlErr != nil && !salesforce.IsObjectRefused(soqlErr) {
		// A timeout or a 5xx is no answer: with the ECAs unknown, their
		// menu-less tokens would pass for an uninstalled app's.
		return nil, soqlErr
	}
	for _, r := range rows {
		add(r.ID, r.MasterLabel, r.DeveloperName)
	}
	apps, err := c.ECAs(ctx)
	if err != nil && !errors.Is(err, salesforce.ErrNotFound) {
		if soqlErr != nil {
			return nil, errors.Join(soqlErr, err)
		}
		return out, nil
	}
	for _, a := range apps {
		add(a.Identifier, a.Name, a.Label, a.DeveloperName)
	}
	return out, nil
}
