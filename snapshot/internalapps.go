package snapshot

import "github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"

// internalApp returns the row of a Salesforce-internal app (an 888 Id in
// ApiTotalUsage), keyed by its Id: such an app has no ConnectedApplication,
// no AppMenuItem and no OauthToken, so it is neither matched by name (a
// third-party app named after it must not hide behind it, nor it behind
// one) nor marked uninstalled.
func internalApp(get func(string, AppUsage) *AppUsage, byID map[string]*AppUsage, name, id string) *AppUsage {
	if name == "" {
		name = InternalApp
	}
	a := get("i|"+salesforce.ID(id).Key(), AppUsage{Name: name, ID: id, Kind: KindSalesforceInternal, Installed: true})
	byID[salesforce.ID(id).Key()] = a
	return a
}
