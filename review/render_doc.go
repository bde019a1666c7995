package review

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/textsafe"
)

func writeDoc(w io.Writer, reports []*Report, md bool) {
	d := &docWriter{w: w, md: md}
	orgs := make([]string, 0, len(reports))
	for _, r := range reports {
		orgs = append(orgs, r.Org)
	}
	d.title("OAuth review: " + strings.Join(orgs, ", "))
	fs := allFindings(reports)
	d.heading("Findings", "findings")
	if len(fs) == 0 {
		d.para("No findings: nothing needs action this week.")
	}
	if len(fs) > 0 {
		g := section{Title: "At a glance", ID: "glance", Header: []string{"#", "Severity", "Org", "Finding"}}
		for i, f := range fs {
			g.Rows = append(g.Rows, []string{strconv.Itoa(i + 1), strings.ToUpper(f.Severity), f.Org, f.Summary})
		}
		d.table(g)
	}
	for i, f := range fs {
		d.finding(i+1, f, len(reports) > 1)
	}
	if len(reports) > 1 {
		d.table(summary(reports))
		var toc []string
		for _, r := range reports {
			toc = append(toc, d.link("Org "+r.Org, anchor(r.Org)))
		}
		d.heading("Contents", "contents")
		d.list(toc)
	}
	d.heading("Columns", "columns")
	var gl []string
	for _, g := range glossary {
		gl = append(gl, d.text(g[0])+": "+d.text(g[1]))
	}
	d.list(gl)
	for _, r := range reports {
		d.heading("Org "+r.Org, anchor(r.Org))
		var hs []string
		for _, l := range header(r) {
			hs = append(hs, d.text(l))
		}
		d.list(hs)
		for _, s := range sections(r) {
			d.table(s)
		}
	}
}

// docWriter writes text or Markdown.
type docWriter struct {
	w  io.Writer
	md bool
}

func (d *docWriter) text(s string) string {
	if d.md {
		return mdText(s)
	}
	return textsafe.Visible(s)
}

func (d *docWriter) link(text, id string) string {
	if d.md {
		return "[" + mdText(text) + "](#" + id + ")"
	}
	return textsafe.Visible(text)
}

func (d *docWriter) title(s string) {
	if d.md {
		fmt.Fprintf(d.w, "# %s\n", mdText(s))
		return
	}
	s = textsafe.Visible(s)
	fmt.Fprintf(d.w, "%s\n%s\n", s, strings.Repeat("#", utf8.RuneCountInString(s)))
}

func (d *docWriter) heading(s, id string) {
	if d.md {
		fmt.Fprintf(d.w, "\n## %s <a id=\"%s\"></a>\n\n", mdText(s), id)
		return
	}
	s = textsafe.Visible(s)
	fmt.Fprintf(d.w, "\n%s\n%s\n", s, strings.Repeat("=", utf8.RuneCountInString(s)))
}

func (d *docWriter) para(s string) { fmt.Fprintf(d.w, "%s\n", d.text(s)) }

func (d *docWriter) list(items []string) {
	for _, it := range items {
		fmt.Fprintf(d.w, "- %s\n", it)
	}
}

func (d *docWriter) finding(n int, f Finding, withOrg bool) {
	org := ""
	if withOrg {
		org = "org " + f.Org + ": "
	}
	ev, cmds := findingLines(f)
	if d.md {
		fmt.Fprintf(d.w, "\n### %d. %s: %s%s <a id=\"%s\"></a>\n\n", n, strings.ToUpper(f.Severity), mdText(org), mdText(f.Summary), f.ID)
		for _, e := range ev {
			fmt.Fprintf(d.w, "- %s\n", mdText(e))
		}
		fmt.Fprintf(d.w, "\n*Why it matters:* %s\n", mdText(f.Why))
		if f.Action != "" {
			fmt.Fprintf(d.w, "\n*What to do:* %s\n", mdText(f.Action))
		}
		for _, c := range cmds {
			fmt.Fprintf(d.w, "\n%s:\n\n```sh\n%s\n```\n", c[0], textsafe.Visible(c[1]))
		}
		if f.Section != "" {
			fmt.Fprintf(d.w, "\n[Evidence](#%s)\n", f.Section)
		}
		return
	}
	fmt.Fprintf(d.w, "\n%d. [%s] %s%s\n", n, strings.ToUpper(f.Severity), textsafe.Visible(org), textsafe.Visible(f.Summary))
	for _, e := range ev {
		fmt.Fprintf(d.w, "   - %s\n", textsafe.Visible(e))
	}
	fmt.Fprintf(d.w, "   Why it matters: %s\n", textsafe.Visible(f.Why))
	if f.Action != "" {
		fmt.Fprintf(d.w, "   What to do: %s\n", textsafe.Visible(f.Action))
	}
	for _, c := range cmds {
		fmt.Fprintf(d.w, "   %s: %s\n", c[0], textsafe.Visible(c[1]))
	}
}

func (d *docWriter) table(s section) {
	d.heading(s.Title, s.ID)
	if s.Note != "" {
		fmt.Fprintf(d.w, "%s\n", d.text(s.Note))
		if d.md {
			fmt.Fprintln(d.w)
		}
	}
	defer func() {
		for _, sub := range s.Sub {
			d.table(sub)
		}
	}()
	if len(s.Rows) == 0 {
		fmt.Fprintln(d.w, "None.")
		return
	}
	if d.md {
		fmt.Fprintf(d.w, "| %s |\n|%s\n", strings.Join(mapStr(s.Header, mdText), " | "), strings.Repeat("---|", len(s.Header)))
		for _, row := range s.Rows {
			fmt.Fprintf(d.w, "| %s |\n", strings.Join(mapStr(row, mdCell), " | "))
		}
		return
	}
	tw := tabwriter.NewWriter(d.w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(s.Header, "\t"))
	for _, row := range s.Rows {
		fmt.Fprintln(tw, strings.Join(mapStr(row, func(c string) string { return textsafe.Visible(oneLine(c)) }), "\t"))
	}
	tw.Flush()
}

func mapStr(in []string, f func(string) string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = f(s)
	}
	return out
}

// oneLine folds runs of spaces; line breaks are shown by textsafe.Visible.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' }), " ")
}

// mdText escapes the characters that start Markdown syntax (CommonMark
// allows a backslash before any ASCII punctuation): no link, image,
// emphasis, HTML or table cell can start inside a value. Autolinks are
// broken too: the colon of "scheme://", the at sign of an address and the
// dot after "www" are escaped, so neither "https://..." nor "www.x" nor
// "a@b.c" becomes live.
func mdText(s string) string {
	var b strings.Builder
	v := textsafe.Visible(s)
	for i, r := range v {
		switch {
		case r < 0x80 && strings.ContainsRune("\\`*_[]<|#~&@", r):
			b.WriteByte('\\')
		case r == ':' && strings.HasPrefix(v[i+1:], "//"):
			b.WriteByte('\\')
		case r == '.' && i >= 3 && strings.EqualFold(v[i-3:i], "www"):
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdCell is a table cell: mdText, kept on one line.
func mdCell(s string) string { return mdText(oneLine(s)) }
