package detect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/regfile/regfiletest"
)

// TestLoadIOCFileHostile: a FIFO, /dev/zero, a directory and an oversized
// file are refused without being read (a FIFO would block the open, and
// /dev/zero would be read without end); a file of exactly the bound loads.
func TestLoadIOCFileHostile(t *testing.T) {
	t.Parallel()
	h := regfiletest.Make(t, MaxIOCFileBytes)
	for path, want := range map[string]string{
		h.FIFO:            "is not a regular file (p---------)",
		regfiletest.Zero:  "is not a regular file",
		h.Dir:             "is not a regular file (d---------)",
		h.Big:             "more than the 67108864 an IOC list may hold",
		h.Dir + "/absent": "no such file or directory",
	} {
		var err error
		regfiletest.NoHang(t, "LoadIOCFile "+path, func() { _, err = LoadIOCFile("l", path) })
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `ioc list "l"`) {
			t.Errorf("%s: err %v, want it to say %q", path, err, want)
		}
	}

	dir := t.TempDir()
	// Exactly at the bound: comment lines padded to MaxIOCFileBytes.
	exact := filepath.Join(dir, "exact.txt")
	line := "# " + strings.Repeat("x", 1021) + "\n" // 1 KiB
	body := "203.0.113.0/24\n" + strings.Repeat(line, MaxIOCFileBytes/len(line)-1)
	body += "#" + strings.Repeat("y", MaxIOCFileBytes-len(body)-2) + "\n"
	if len(body) != MaxIOCFileBytes {
		t.Fatalf("fixture is %d bytes", len(body))
	}
	if err := os.WriteFile(exact, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := LoadIOCFile("l", exact)
	if err != nil || l.Entries() != 1 {
		t.Fatalf("a list of exactly the bound: %v, %d entries", err, l.Entries())
	}
}
