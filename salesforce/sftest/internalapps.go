package sftest

import "time"

// InternalAppID is a Salesforce-internal connected app id (prefix 888), as
// ApiTotalUsage rows can carry: such apps have no ConnectedApplication row and
// no OauthToken, and are not uninstalled third-party apps.
const InternalAppID = "888000000000001"

// InternalAppUsage returns ApiTotalUsage rows for a Salesforce-internal app:
// CONNECTED_APP_ID with the 888 prefix and, as seen in public samples, an
// empty CONNECTED_APP_NAME unless name is given.
func InternalAppUsage(at time.Time, user, count int, name string) UsageRow {
	return UsageRow{AppID: InternalAppID, AppName: name, StatusCode: 200, User: user, Time: at, Count: count}
}
