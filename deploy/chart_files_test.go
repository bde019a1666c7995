package deploy

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestRenderedCopiesInChart: the mixin's rendering is committed once, in
// mixin/rendered, and the chart's files/ (which .Files reads at template
// time, and which cannot reach outside the chart) is a copy of exactly that
// tree: the same files, byte for byte, none missing and none extra.
func TestRenderedCopiesInChart(t *testing.T) {
	t.Parallel()
	tree := func(root string) map[string][]byte {
		out := map[string][]byte{}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			out[filepath.ToSlash(rel)] = b
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	rendered := tree(filepath.Join("..", "mixin", "rendered"))
	copied := tree(filepath.Join(chart, "files"))
	for _, f := range []string{"alerts.yaml", "rules.yaml", "dashboards/salesforce-oauth-overview.json"} {
		if rendered[f] == nil {
			t.Errorf("mixin/rendered/%s is missing", f)
		}
	}
	for f, b := range rendered {
		if c, ok := copied[f]; !ok {
			t.Errorf("%s/files/%s is missing: run make mixin", chart, f)
		} else if !bytes.Equal(b, c) {
			t.Errorf("%s/files/%s differs from mixin/rendered/%s: run make mixin", chart, f, f)
		}
	}
	for f := range copied {
		if _, ok := rendered[f]; !ok {
			t.Errorf("%s/files/%s is not in mixin/rendered: run make mixin", chart, f)
		}
	}
}
