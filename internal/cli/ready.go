package cli

import (
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/prometheus/common/version"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// notReady lists what keeps the exporter from being ready: the config is
// loaded and every org has published a first snapshot in which each enabled
// source has been tried once (succeeded, or recorded why not). Empty means
// ready.
func notReady(cfg *config.Config, snaps []*snapshot.Snapshot) []string {
	if cfg == nil {
		return []string{"no config loaded"}
	}
	byOrg := make(map[string]*snapshot.Snapshot, len(snaps))
	for _, s := range snaps {
		byOrg[s.Org] = s
	}
	var out []string
	for _, o := range cfg.Orgs {
		s := byOrg[o.Name]
		if s == nil {
			out = append(out, fmt.Sprintf("org %s: not started", o.Name))
			continue
		}
		var waiting []string
		for name, st := range s.Sources {
			if st.Enabled && st.LastAttempt.IsZero() {
				waiting = append(waiting, name)
			}
		}
		if len(s.Sources) == 0 {
			waiting = append(waiting, "every source")
		}
		if len(waiting) > 0 {
			slices.Sort(waiting)
			out = append(out, fmt.Sprintf("org %s: first refresh of %s still running", o.Name, strings.Join(waiting, ", ")))
		}
	}
	return out
}

// readyHandler serves /-/ready: 200 once notReady is empty, else 503 with
// the reasons, one a line.
func readyHandler(cfg func() *config.Config, snaps func() []*snapshot.Snapshot) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if why := notReady(cfg(), snaps()); len(why) > 0 {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "not ready:\n"+strings.Join(why, "\n")+"\n")
			return
		}
		io.WriteString(w, "OK\n")
	}
}

// stampVersion fills the version variables from the module build info when
// the build did not set them with -ldflags (a plain `go build .` or
// `go install ...@vX.Y.Z`), so --version and the build_info metric never
// say nothing.
func stampVersion() {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	v, rev, date := versionFromBuildInfo(info)
	if version.Version == "" {
		version.Version = v
	}
	if version.Revision == "" {
		version.Revision = rev
	}
	if version.BuildDate == "" {
		version.BuildDate = date
	}
}

// versionFromBuildInfo returns the version, revision and date a build info
// carries: the module version when the go command knew one (a tagged
// checkout or go install), else "devel"; the VCS revision, with "-dirty"
// for a modified tree; the commit time.
func versionFromBuildInfo(info *debug.BuildInfo) (ver, revision, date string) {
	ver = info.Main.Version
	if ver == "" || ver == "(devel)" {
		ver = "devel"
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.time":
			date = s.Value
		}
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.modified" && s.Value == "true" && revision != "" {
			revision += "-dirty"
		}
	}
	return ver, revision, date
}
