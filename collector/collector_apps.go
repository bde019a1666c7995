package collector

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// The apps' info series and first-seen times: one per app seen in any
// source (the apps source says which are installed).
var (
	descInfo = prometheus.NewDesc("salesforce_connected_app_info",
		"One series per app seen in any source, with its kind, whether it is installed, whether it is on the approved inventory, its owner there, and whether only admin-approved users may use it (empty when unknown).",
		[]string{"org", "app", "app_id", "kind", "installed", "known", "owner", "admin_approved"}, nil)
	descLookAlike = prometheus.NewDesc("salesforce_connected_app_look_alike",
		"1 for an app that is not on the inventory whose name matches a known app's only loosely (case, spaces, punctuation, accents, zero-width characters, Cyrillic or Greek look-alike letters), with another Id: of_app and of_app_id name the app it imitates. Absent for every other app.",
		[]string{"org", "app", "app_id", "of_app", "of_app_id"}, nil)
	descFirstSeen = prometheus.NewDesc("salesforce_connected_app_first_seen_timestamp_seconds",
		"When this exporter first saw the app with tokens or API traffic, as Unix seconds; kept across restarts in the state file.", appLabels, nil)
)

var appsMetrics = metricSet{
	descs: []*prometheus.Desc{descInfo, descLookAlike, descFirstSeen},
	app:   collectApp,
}

func collectApp(e *emitter, _ *snapshot.Snapshot, a *snapshot.AppUsage) {
	approved := ""
	if a.AdminApproved != nil {
		approved = boolStr(*a.AdminApproved)
	}
	e.gauge(descInfo, 1, e.org, a.Name, a.ID, a.Kind, boolStr(a.Installed), boolStr(a.Known), a.Owner, approved)
	if a.LookAlikeOf != "" {
		e.gauge(descLookAlike, 1, e.org, a.Name, a.ID, a.LookAlikeOf, a.LookAlikeOfID)
	}
	if !a.FirstSeen.IsZero() {
		e.gauge(descFirstSeen, float64(a.FirstSeen.Unix()), e.org, a.Name, a.ID)
	}
}

func boolStr(b bool) string { return strconv.FormatBool(b) }
