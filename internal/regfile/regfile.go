// Package regfile reads files that must be regular files of a bounded
// size: config, secrets, IOC lists, review baselines and the exporter's own
// state. A FIFO, a device such as /dev/zero, a directory or a socket is
// refused without being read, so a start, a reload or a command can neither
// hang on an open nor read without end; a file larger than its bound is
// refused by its size before it is read, and one that grows past the bound
// while it is read fails rather than being read in part.
package regfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// NotRegularError says that a path is not a regular file.
type NotRegularError struct {
	Mode fs.FileMode // the file's mode; its type bits say what it is
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("not a regular file (%v)", e.Mode.Type())
}

// TooLargeError says that a file holds more than its bound.
type TooLargeError struct {
	Size  int64 // the size found; -1 when the file grew past Limit while it was read
	Limit int64
}

// ChangedError says that a file's length changed while it was read (it was
// rewritten in place): what was read may be part old, part new.
type ChangedError struct {
	Read, Size int64
}

func (e *ChangedError) Error() string {
	return fmt.Sprintf("changed while it was read (%d bytes read of %d): read it again once it is written", e.Read, e.Size)
}

func (e *TooLargeError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("over %d bytes (it grew while it was read)", e.Limit)
	}
	return fmt.Sprintf("%d bytes, more than the %d accepted", e.Size, e.Limit)
}

// File is an open regular file whose reads fail past its bound.
type File struct {
	f     *os.File
	info  fs.FileInfo
	left  int64
	limit int64
}

// Open opens path for reading: a regular file (a symbolic link to one is
// fine) of at most limit bytes. Errors from the file system are returned as
// they are (*fs.PathError); the others are *NotRegularError and
// *TooLargeError.
func Open(path string, limit int64) (*File, error) {
	// Check before opening: opening a FIFO for reading blocks until a writer comes.
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &NotRegularError{Mode: st.Mode()}
	}
	if st.Size() > limit {
		return nil, &TooLargeError{Size: st.Size(), Limit: limit}
	}
	// O_NONBLOCK: should the path have become a FIFO since the check, opening does not wait for a writer.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if st, err = f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		if err != nil {
			return nil, err
		}
		return nil, &NotRegularError{Mode: st.Mode()}
	}
	if st.Size() > limit {
		f.Close()
		return nil, &TooLargeError{Size: st.Size(), Limit: limit}
	}
	return &File{f: f, info: st, left: limit, limit: limit}, nil
}

// Info is the file's FileInfo, taken from the open file.
func (f *File) Info() fs.FileInfo { return f.info }

// Read reads like os.File.Read, but fails with a *TooLargeError once more
// than the bound has been read: a file that grew after its size was checked
// is refused, not read in part.
func (f *File) Read(p []byte) (int, error) {
	if f.left <= 0 {
		var one [1]byte
		if n, err := f.f.Read(one[:]); n == 0 && err != nil {
			return 0, err // the end, exactly at the bound
		}
		return 0, &TooLargeError{Size: -1, Limit: f.limit}
	}
	if int64(len(p)) > f.left {
		p = p[:f.left]
	}
	n, err := f.f.Read(p)
	f.left -= int64(n)
	return n, err
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// ReadFile reads the whole of path, a regular file of at most limit bytes
// (see Open), and returns it with the file's FileInfo. A file whose length
// changes while it is read (rewritten in place) is a *ChangedError, so a
// half-written file is never taken for a whole one.
func ReadFile(path string, limit int64) ([]byte, fs.FileInfo, error) {
	f, err := Open(path, limit)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	// One buffer of the file's size, as os.ReadFile makes: io.ReadAll would
	// hold about twice a large file at its peak.
	b := make([]byte, 0, f.info.Size()+1)
	for {
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, f.info, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // it grew: let append pick the next size
		}
	}
	if err := f.Whole(); err != nil {
		return nil, f.info, err
	}
	return b, f.info, nil
}

// Whole, after reading to the end, reports a *ChangedError if what was read
// is not the length the file had when it was opened.
func (f *File) Whole() error {
	if read := f.limit - f.left; read != f.info.Size() {
		return &ChangedError{Read: read, Size: f.info.Size()}
	}
	return nil
}
