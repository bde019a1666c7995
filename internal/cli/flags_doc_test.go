package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// readmeSection returns the README's text under a "## title" heading, up to
// the next heading of that level.
func readmeSection(t *testing.T, title string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n## "+title+"\n")
	if i < 0 {
		t.Fatalf("README has no %q section", title)
	}
	s = s[i+len(title)+5:]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	return s
}

// serveFlags are the flags of the default command and the application's own
// (--log.*), without --help and --version.
func serveFlags(t *testing.T) []string {
	t.Helper()
	c := newCLI(io.Discard, io.Discard)
	var names []string
	for _, f := range append(c.app.Model().Flags, c.serve.Model().Flags...) {
		if !f.Hidden && f.Name != "help" && f.Name != "version" {
			names = append(names, f.Name)
		}
	}
	slices.Sort(names)
	return names
}

// TestHelpShowsServeFlags (issue 25): --help lists serve's flags, since
// serve is the default command and Prometheus users look for them there.
func TestHelpShowsServeFlags(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"--help"}, &out, &out); code != 0 {
		t.Fatalf("--help exited %d", code)
	}
	for _, f := range serveFlags(t) {
		if !regexp.MustCompile(`--(\[no-\])?` + regexp.QuoteMeta(f) + `\b`).MatchString(out.String()) {
			t.Errorf("--help does not list --%s:\n%s", f, out.String())
		}
	}
}

// TestREADMEFlagsTableMatchesHelp (issue 25): the README's flags table and
// its serve synopsis name exactly the flags --help lists.
func TestREADMEFlagsTableMatchesHelp(t *testing.T) {
	sec := readmeSection(t, "Flags")
	// The first table of the section is serve's; later ones (probe's) are
	// other commands'.
	var table []string
	inTable := false
	for l := range strings.Lines(sec) {
		if !strings.HasPrefix(l, "|") && inTable {
			break
		}
		inTable = inTable || strings.HasPrefix(l, "|")
		if !strings.HasPrefix(l, "| `--") {
			continue
		}
		first := strings.Split(l, "|")[1]
		for _, m := range regexp.MustCompile("`--([a-z0-9.-]+)`").FindAllStringSubmatch(first, -1) {
			table = append(table, m[1])
		}
	}
	slices.Sort(table)
	want := serveFlags(t)
	if !slices.Equal(table, want) {
		t.Errorf("README flags table:\n  %v\n--help:\n  %v", table, want)
	}
	// The synopsis of serve: the code block's lines up to the review command.
	block := sec[strings.Index(sec, "```\n")+4:]
	block = block[:strings.Index(block, "\nsalesforce_oauth_exporter review")]
	for _, f := range want {
		if !regexp.MustCompile(`--` + regexp.QuoteMeta(f) + `\b`).MatchString(block) {
			t.Errorf("README's serve synopsis lacks --%s", f)
		}
	}
}
