package regfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/regfile/regfiletest"
)

// TestRefusesWhatIsNotABoundedRegularFile: a FIFO (whose open would block),
// /dev/zero (which would be read without end), a directory, a socket and a
// file over the bound are refused without being read; a missing file is the
// file system's own error; a file of exactly the bound, and a symbolic link
// to it, are read whole.
func TestRefusesWhatIsNotABoundedRegularFile(t *testing.T) {
	t.Parallel()
	h := regfiletest.Make(t, 10)
	dir := t.TempDir()
	sock := filepath.Join(dir, "sock")
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: sock}); err != nil {
		t.Fatal(err)
	}
	// A symbolic link is followed: to a FIFO or a folder it is refused too.
	fifoLink, dirLink := filepath.Join(dir, "fifo-link"), filepath.Join(dir, "dir-link")
	if err := os.Symlink(h.FIFO, fifoLink); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(h.Dir, dirLink); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		fifoLink:         "not a regular file (p---------)",
		dirLink:          "not a regular file (d---------)",
		h.FIFO:           "not a regular file (p---------)",
		regfiletest.Zero: "not a regular file (Dc-",
		h.Dir:            "not a regular file (d---------)",
		sock:             "not a regular file (S---------)",
		h.Big:            "11 bytes, more than the 10 accepted",
	} {
		var err error
		regfiletest.NoHang(t, "ReadFile "+path, func() { _, _, err = ReadFile(path, 10) })
		var nr *NotRegularError
		var tl *TooLargeError
		if err == nil || !strings.Contains(err.Error(), want) || (!errors.As(err, &nr) && !errors.As(err, &tl)) {
			t.Errorf("%s: %v, want a typed error saying %q", path, err, want)
		}
	}
	if _, _, err := ReadFile(filepath.Join(dir, "absent"), 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v, want fs.ErrNotExist", err)
	}
	exact := filepath.Join(dir, "exact")
	if err := os.WriteFile(exact, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(exact, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{exact, link} {
		b, st, err := ReadFile(p, 10)
		if err != nil || string(b) != "0123456789" || st.Size() != 10 {
			t.Errorf("%s: %q %v", p, b, err)
		}
	}
	if b, _, err := ReadFile(exact, 1<<20); err != nil || len(b) != 10 {
		t.Errorf("under a larger bound: %d bytes, %v", len(b), err)
	}
}

// TestGrowthWhileReadingFails: a file that grows past the bound after its
// size was checked fails with a TooLargeError, not a silent part.
func TestGrowthWhileReadingFails(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "growing")
	if err := os.WriteFile(p, []byte("0123"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.WriteFile(p, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(f)
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Size != -1 || !strings.Contains(err.Error(), "over 8 bytes (it grew while it was read)") {
		t.Fatalf("a file grown past the bound: %v", err)
	}
}

// TestRewriteWhileReadingFails: a file rewritten in place while it is read
// (truncated, then written shorter) is a ChangedError, not a half of it
// taken for the whole.
func TestRewriteWhileReadingFails(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(p, []byte("orgs:\n  - name: a\n  - name: b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p, 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.WriteFile(p, []byte("orgs:\n"), 0o600); err != nil { // truncates the same inode
		t.Fatal(err)
	}
	if _, err := io.ReadAll(f); err != nil {
		t.Fatal(err)
	}
	var ce *ChangedError
	if err := f.Whole(); !errors.As(err, &ce) || ce.Read != 6 || ce.Size != 30 || !strings.Contains(err.Error(), "changed while it was read (6 bytes read of 30)") {
		t.Fatalf("a file cut short while read: %v", err)
	}
	// Read whole, the same file is fine.
	if b, _, err := ReadFile(p, 1<<10); err != nil || string(b) != "orgs:\n" {
		t.Fatalf("reread: %q %v", b, err)
	}
}
