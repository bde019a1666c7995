//go:build unix

// Package regfiletest makes the files that a bounded reader (package
// regfile) must refuse without reading them, for the tests of its callers.
package regfiletest

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Zero is a device that reads without end.
const Zero = "/dev/zero"

// Hostile are paths that a reader bounded at some limit must refuse.
type Hostile struct {
	FIFO string // a named pipe: opening it for reading waits for a writer
	Dir  string // a folder
	Big  string // a sparse regular file one byte over the limit (no disk used)
}

// Make creates them in a new temporary folder of t.
func Make(t testing.TB, limit int64) Hostile {
	t.Helper()
	dir := t.TempDir()
	h := Hostile{FIFO: filepath.Join(dir, "fifo"), Dir: filepath.Join(dir, "folder"), Big: filepath.Join(dir, "big")}
	if err := syscall.Mkfifo(h.FIFO, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(h.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.Big, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(h.Big, limit+1); err != nil {
		t.Fatal(err)
	}
	return h
}

// HangLimit is how long NoHang waits. What it guards is refused at once
// (no network, no refresh to wait for, unlike the end-to-end tests' waits
// on an exporter), so a minute only bounds a hang, generously for a loaded
// machine.
const HangLimit = time.Minute

// NoHang runs f and fails the test if it has not returned within HangLimit
// (an open of a FIFO that waits for a writer, a read of /dev/zero).
func NoHang(t testing.TB, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(HangLimit):
		t.Fatalf("%s hangs", what)
	}
}
