package review

import (
	"html/template"
	"io"
	"strings"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/textsafe"
)

// htmlOrg is one org's part of the page.
type htmlOrg struct {
	*Report
	ID       string
	Header   []string
	Health   string
	Chart    *orgChart
	Evidence []section
	Sections []section
}

type htmlPage struct {
	Title    string
	Findings []Finding
	Counts   map[string]int
	Summary  section
	Multi    bool
	Orgs     []htmlOrg
	Glossary [][2]string
}

func writeHTML(w io.Writer, reports []*Report) error {
	p := htmlPage{Findings: allFindings(reports), Counts: map[string]int{}, Summary: summary(reports), Multi: len(reports) > 1, Glossary: glossary}
	var names []string
	for _, r := range reports {
		names = append(names, r.Org)
		o := htmlOrg{Report: r, ID: anchor(r.Org), Header: header(r), Health: health(r), Chart: r.charts()}
		for _, s := range sections(r) {
			if strings.HasPrefix(s.ID, anchor(r.Org, "app")+"-") {
				o.Evidence = append(o.Evidence, s)
			} else {
				o.Sections = append(o.Sections, s)
			}
		}
		p.Orgs = append(p.Orgs, o)
	}
	for _, f := range p.Findings {
		p.Counts[f.Severity]++
	}
	p.Title = "OAuth review: " + strings.Join(names, ", ")
	return htmlTmpl.Execute(w, p)
}

var htmlTmpl = template.Must(template.New("review").Funcs(template.FuncMap{
	"v":     textsafe.Visible,
	"upper": strings.ToUpper,
	"inc":   func(i int) int { return i + 1 },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{v .Title}}</title>
<style>
:root{--crit:#b3261e;--warn:#8a5a00;--info:#3b5b8c;--line:#d7dbe0}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;padding:1.5em 2em;max-width:1280px;color:#1d1d1f;background:#fff}
h1{font-size:22px;margin:.1em 0}h2{font-size:18px;margin:1.6em 0 .4em;border-bottom:2px solid var(--line);padding-bottom:.2em}
h3{font-size:16px;margin:1.4em 0 .3em}h4{font-size:14px;margin:1em 0 .2em}h5{font-size:13px;margin:.8em 0 .2em}
p,li,td,th,dd,code,summary{overflow-wrap:anywhere}
table{border-collapse:collapse;margin:.4em 0 1em;width:100%}
th,td{border:1px solid var(--line);padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f1f3f5;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tbody tr:nth-child(even) td{background:#fafbfc}
caption{text-align:left;font-weight:600;padding:.2em 0}
.meta{color:#444;margin:.2em 0;padding:0;list-style:none}.note{color:#444}.none{color:#666;font-style:italic}
ol.findings{list-style:none;padding:0;margin:0}
.finding{border:1px solid var(--line);border-left:6px solid var(--info);border-radius:4px;padding:.5em .9em;margin:.6em 0}
.finding.critical{border-left-color:var(--crit)}.finding.warning{border-left-color:var(--warn)}
.finding .head{font-weight:600;margin:.1em 0 .3em;font-size:15px}
.sev{display:inline-block;min-width:5.5em;white-space:nowrap;overflow-wrap:normal;font-size:12px;letter-spacing:.04em;padding:1px 6px;border-radius:3px;color:#fff;background:var(--info);margin-right:.4em;text-align:center}
.critical .sev{background:var(--crit)}.warning .sev{background:var(--warn)}
.finding ul{margin:.2em 0 .4em;padding-left:1.3em}.finding p{margin:.25em 0}
dl.cmds{display:grid;grid-template-columns:max-content 1fr;gap:.2em .6em;margin:.4em 0}
dl.cmds dt{font-weight:600}dl.cmds dd{margin:0}
code{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f3f4f6;padding:1px 4px;border-radius:3px;white-space:pre-wrap;word-break:break-all}
.counts span{margin-right:1em}table.glance td{padding:2px 6px}table.glance td:not(:last-child){white-space:nowrap;overflow-wrap:normal}table.glance .sev{min-width:5em}
details{margin:.3em 0 1em}summary{cursor:pointer;color:#1f4f99}
.charts td{vertical-align:middle}.spark{color:#1f4f99}.bars .req{fill:#8fb3e6}.bars .err{fill:#b3261e}.bars .scale{font-size:10px;fill:#444}
nav ul{padding-left:1.2em}dl.glossary{display:grid;grid-template-columns:max-content 1fr;gap:.1em .8em}dl.glossary dt{font-weight:600}dl.glossary dd{margin:0}
section.org{margin-top:2.5em}
@media print{
body{padding:0;max-width:none;font-size:11px}
.finding{break-inside:avoid}section.org{break-before:page}
details::details-content{content-visibility:visible;display:contents}
details>summary{display:none}
a{color:inherit;text-decoration:none}
.sev{color:#000;background:none;border:1px solid #000}
}
</style></head><body>
<header>
<h1>{{v .Title}}</h1>
<p class="counts">{{len .Findings}} findings: <span>{{index .Counts "critical"}} critical</span><span>{{index .Counts "warning"}} warning</span><span>{{index .Counts "info"}} info</span></p>
</header>
<main>
<section id="findings" aria-labelledby="findings-h">
<h2 id="findings-h">Findings</h2>
{{if not .Findings}}<p class="none">No findings: nothing needs action this week.</p>{{end}}
{{if .Findings}}<table class="glance"><caption>At a glance: the findings, most urgent first</caption><thead><tr><th scope="col" class="n">#</th><th scope="col">Severity</th>{{if .Multi}}<th scope="col">Org</th>{{end}}<th scope="col">Finding</th></tr></thead><tbody>
{{range $i, $f := .Findings}}<tr class="{{.Severity}}"><td class="n">{{inc $i}}</td><td><span class="sev">{{upper .Severity}}</span></td>{{if $.Multi}}<td>{{v .Org}}</td>{{end}}<td><a href="#{{.ID}}">{{v .Summary}}</a></td></tr>
{{end}}</tbody></table>{{end}}
<ol class="findings">
{{range $i, $f := .Findings}}<li class="finding {{.Severity}}" id="{{.ID}}">
<p class="head">{{inc $i}}. <span class="sev">{{upper .Severity}}</span>{{if $.Multi}}<span class="org">org {{v .Org}}:</span> {{end}}{{v .Summary}}</p>
{{if .Evidence}}<ul aria-label="Evidence">{{range .Evidence}}<li>{{v .}}</li>{{end}}</ul>{{end}}
<p><strong>Why it matters:</strong> {{.Why}}</p>
{{if .Action}}<p><strong>What to do:</strong> {{v .Action}}</p>{{end}}
{{if .Command}}<dl class="cmds"><dt>Dry run</dt><dd><code>{{v .Command}}</code></dd><dt>Apply</dt><dd><code>{{v .ConfirmCommand}}</code></dd></dl>{{end}}
{{if .Section}}<p><a href="#{{.Section}}">Evidence</a></p>{{end}}
</li>
{{end}}</ol>
</section>
<section id="summary" aria-labelledby="summary-h">
<h2 id="summary-h">{{if .Multi}}Summary across orgs{{else}}Contents{{end}}</h2>
{{if .Multi}}<table><caption>Findings and health per org</caption><thead><tr>{{range .Summary.Header}}<th scope="col">{{.}}</th>{{end}}</tr></thead><tbody>
{{range .Summary.Rows}}<tr>{{range $j, $c := .}}{{if eq $j 0}}<th scope="row">{{v $c}}</th>{{else}}<td>{{v $c}}</td>{{end}}{{end}}</tr>
{{end}}</tbody></table>{{end}}
<nav aria-label="Contents"><ul>
{{range .Orgs}}<li><a href="#{{.ID}}">Org {{v .Org}}</a>: {{len .Findings}} findings, {{v .Health}}<ul>
{{range .Evidence}}<li><a href="#{{.ID}}">{{v .Title}}</a></li>{{end}}
{{range .Sections}}<li><a href="#{{.ID}}">{{.Title}}</a> ({{len .Rows}})</li>{{end}}
</ul></li>
{{end}}</ul></nav>
<h3>Columns</h3>
<dl class="glossary">{{range .Glossary}}<dt>{{index . 0}}</dt><dd>{{index . 1}}</dd>{{end}}</dl>
</section>
{{range .Orgs}}<section class="org" id="{{.ID}}" aria-labelledby="{{.ID}}-h">
<h2 id="{{.ID}}-h">Org {{v .Org}}</h2>
<ul class="meta">{{range .Header}}<li>{{v .}}</li>{{end}}<li>Health: {{v .Health}}</li></ul>
<h3>Over time</h3>
{{with .Chart}}<p class="note">Daily figures from the exporter's history, {{.From}} to {{.To}} ({{.Days}} days). The dot marks the last day.</p>
<figure><figcaption>API requests per day, all apps (failed requests darker)</figcaption>{{.Total}}</figure>
<table class="charts"><caption>Users, tokens and API requests per app and day</caption><thead><tr><th scope="col">App</th><th scope="col">Users</th><th scope="col" class="n">Now</th><th scope="col">Tokens</th><th scope="col" class="n">Now</th><th scope="col">API requests per day</th><th scope="col" class="n">Total</th></tr></thead><tbody>
{{range .Rows}}<tr><th scope="row">{{v .App}}</th><td>{{.Users}}</td><td class="n">{{.UsersNow}}</td><td>{{.Tokens}}</td><td class="n">{{.TokensNow}}</td><td>{{.Requests}}</td><td class="n">{{.ReqTotal}}</td></tr>
{{end}}</tbody></table>{{if .More}}<p class="note">{{.More}} more apps are not drawn; the inventory lists them.</p>{{end}}
{{else}}<p class="none">No daily history yet: the charts appear once the exporter has recorded some days.</p>{{end}}
<h3>Evidence per app</h3>
{{if not .Evidence}}<p class="none">No app has a finding.</p>{{end}}
{{range .Evidence}}<section id="{{.ID}}" aria-labelledby="{{.ID}}-h"><h4 id="{{.ID}}-h">{{v .Title}}</h4><p class="note">{{v .Note}}</p>
{{range .Sub}}<h5 id="{{.ID}}">{{v .Title}}</h5><p class="note">{{v .Note}}</p>
{{if .Rows}}<table><caption>{{v .Title}}</caption><thead><tr>{{range .Header}}<th scope="col">{{.}}</th>{{end}}</tr></thead><tbody>
{{range .Rows}}<tr>{{range .}}<td>{{v .}}</td>{{end}}</tr>
{{end}}</tbody></table>{{else}}<p class="none">None.</p>{{end}}
{{end}}{{if .Rows}}<details><summary>{{len .Rows}} authorizations, per user</summary>
<table><caption>Authorizations of {{v .Title}}</caption><thead><tr>{{range .Header}}<th scope="col">{{.}}</th>{{end}}</tr></thead><tbody>
{{range .Rows}}<tr>{{range .}}<td>{{v .}}</td>{{end}}</tr>
{{end}}</tbody></table></details>{{else}}<p class="none">No per-user detail.</p>{{end}}
</section>
{{end}}
{{range .Sections}}<section id="{{.ID}}" aria-labelledby="{{.ID}}-h"><h3 id="{{.ID}}-h">{{.Title}}</h3>{{if .Note}}<p class="note">{{v .Note}}</p>{{end}}
{{if .Rows}}<table><thead><tr>{{range .Header}}<th scope="col">{{.}}</th>{{end}}</tr></thead><tbody>
{{range .Rows}}<tr>{{range .}}<td>{{v .}}</td>{{end}}</tr>
{{end}}</tbody></table>{{else}}<p class="none">None.</p>{{end}}
</section>
{{end}}</section>
{{end}}</main></body></html>
`))
