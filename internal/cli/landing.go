package cli

import (
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/version"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/refresh"
)

// landingLink is a link on the landing page; Method is set for endpoints a
// browser can't just follow.
type landingLink struct {
	Path, Text, Method string
}

// landingLinks lists the endpoints that are on: the review, pprof and
// reload only when their flags turned them on.
func landingLinks(metricsPath string, pprofOn, lifecycleOn, reviewOn bool) []landingLink {
	links := []landingLink{{Path: metricsPath, Text: "Metrics"}}
	if reviewOn {
		links = append(links, landingLink{Path: "/review", Text: "Weekly review (HTML)"}, landingLink{Path: "/review.json", Text: "Weekly review (JSON)"})
	}
	links = append(links, landingLink{Path: "/-/healthy", Text: "Health check"}, landingLink{Path: "/-/ready", Text: "Readiness check"})
	if lifecycleOn {
		links = append(links, landingLink{Path: "/-/reload", Text: "Reload the config", Method: "POST"})
	}
	if pprofOn {
		links = append(links, landingLink{Path: "/debug/pprof/", Text: "Profiling (pprof)"})
	}
	return links
}

// landingOrg is one org's line on the landing page.
type landingOrg struct {
	Name, Health, Refreshed string
	Up                      bool
}

// landing serves the landing page: the version, each org with its health,
// and links to the endpoints that are on.
type landing struct {
	mgr   *refresh.Manager
	links []landingLink
}

func (l *landing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	var orgs []landingOrg
	for _, o := range l.mgr.Config().Orgs {
		lo := landingOrg{Name: o.Name, Health: "starting: no refresh has finished yet", Refreshed: "never"}
		if rf := l.mgr.Refresher(o.Name); rf != nil {
			if s := rf.Snapshot(); s != nil {
				lo.Up, lo.Health, lo.Refreshed = s.Up(), "ok", s.Taken.UTC().Format(time.RFC3339)
				var down []string
				for name, st := range s.Sources {
					if st.Enabled && !st.Up {
						down = append(down, name)
					}
				}
				if len(down) > 0 {
					slices.Sort(down)
					lo.Health = "failing: " + strings.Join(down, ", ") + " (serving the last good data)"
				}
			}
		}
		orgs = append(orgs, lo)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = landingTmpl.Execute(w, map[string]any{"Name": exporterName, "Version": version.Info(), "Orgs": orgs, "Links": l.links})
}

var landingTmpl = template.Must(template.New("landing").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Name}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;max-width:960px;padding:0 1.5em;color:#1d1d1f}
h1{font-size:22px}table{border-collapse:collapse}th,td{border:1px solid #d7dbe0;padding:3px 8px;text-align:left}th{background:#f1f3f5}
.ok{color:#1b5e20}.bad{color:#b3261e}code{background:#f3f4f6;padding:1px 4px}
</style></head><body>
<header><h1>{{.Name}}</h1><p>OAuth access to Salesforce orgs, for Prometheus. Version: {{.Version}}</p></header>
<main>
<section id="orgs"><h2>Orgs</h2>
{{if .Orgs}}<table><thead><tr><th scope="col">Org</th><th scope="col">Health</th><th scope="col">Last refresh</th></tr></thead><tbody>
{{range .Orgs}}<tr><th scope="row">{{.Name}}</th><td class="{{if .Up}}ok{{else}}bad{{end}}">{{.Health}}</td><td>{{.Refreshed}}</td></tr>
{{end}}</tbody></table>{{else}}<p>No org is configured.</p>{{end}}
</section>
<section id="links"><h2>Endpoints</h2><ul>
{{range .Links}}<li>{{if .Method}}{{.Text}}: <code>{{.Method}} {{.Path}}</code>{{else}}<a href="{{.Path}}">{{.Text}}</a> <code>{{.Path}}</code>{{end}}</li>
{{end}}</ul></section>
</main></body></html>
`))
