package config

import (
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/regfile"
)

// Bounds on reading a secret file. A PEM RSA key is a few KB; a secret,
// password or refresh token far less.
const (
	// MaxSecretFileBytes is the largest secret file accepted.
	MaxSecretFileBytes = 64 << 10
	// secretReadTimeout bounds a read that hangs (a stuck network mount).
	secretReadTimeout = 5 * time.Second
)

// readSecretFile reads a secret file: a regular file (symbolic links to one,
// as Kubernetes mounts secrets, are fine) of at most MaxSecretFileBytes,
// within secretReadTimeout. A FIFO, a device such as /dev/zero, a directory
// or a socket is refused without being read, so --config.check and a reload
// can neither hang nor read without end.
func readSecretFile(p string) ([]byte, fs.FileInfo, error) {
	type result struct {
		b   []byte
		st  fs.FileInfo
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, st, err := readRegular(p)
		ch <- result{b, st, err}
	}()
	select {
	case r := <-ch:
		return r.b, r.st, r.err
	case <-time.After(secretReadTimeout):
		return nil, nil, fmt.Errorf("reading it took more than %v: is it on a stuck mount?", secretReadTimeout)
	}
}

func readRegular(p string) ([]byte, fs.FileInfo, error) {
	return readRegularFile(p, MaxSecretFileBytes, "the secret", "a secret")
}

// readRegularFile reads p, a regular file of at most limit bytes; holding
// and kind name what it should hold in the errors ("the secret", "a
// secret").
func readRegularFile(p string, limit int64, holding, kind string) ([]byte, fs.FileInfo, error) {
	b, st, err := regfile.ReadFile(p, limit)
	var nr *regfile.NotRegularError
	var tl *regfile.TooLargeError
	var pe *fs.PathError
	switch {
	case errors.As(err, &nr):
		return nil, st, fmt.Errorf("%w: give a plain file holding %s", nr, holding)
	case errors.As(err, &tl) && tl.Size >= 0:
		return nil, st, fmt.Errorf("%d bytes, more than the %d %s can need: is this the right file?", tl.Size, limit, kind)
	case errors.As(err, &tl):
		return nil, st, fmt.Errorf("more than %d bytes, more than %s can need: is this the right file?", limit, kind)
	case errors.As(err, &pe):
		return nil, st, pe.Err // the caller names the file
	case err != nil:
		return nil, st, err
	}
	return b, st, nil
}
