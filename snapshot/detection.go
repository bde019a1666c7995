package snapshot

import (
	"strings"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// matchDetection gives the apps of a snapshot their detection figures. A
// figure goes to the app of its Id (by the 15-character key), or, when it has
// none (an app seen only in logins), to the first app of its name. Figures of
// apps the snapshot doesn't show (seen only days ago) get no row of their own.
func matchDetection(snap *Snapshot, tr *detect.Tracker, iocLists []string, byID map[string]*AppUsage, byName map[string][]*AppUsage) {
	cfg := tr.Config()
	snap.Detection = &DetectionInfo{SensitiveObjects: cfg.SensitiveObjects, IOCLists: iocLists, DroppedRows: tr.DroppedRows(), Tracker: tr, MinBaseline: cfg.MinBaseline}
	for _, f := range tr.Figures() {
		var a *AppUsage
		if f.ID != "" {
			a = byID[salesforce.ID(f.ID).Key()]
		}
		if a == nil {
			if cands := byName[strings.ToLower(f.Name)]; len(cands) > 0 && (f.ID == "" || cands[0].ID == "") {
				a = cands[0]
			}
		}
		if a == nil || a.Detection != nil {
			continue
		}
		a.Detection = &f
	}
}
