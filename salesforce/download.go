package salesforce

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"
)

// A log file download is streamed: a daily file of a busy org is hundreds of
// MB and may take longer than any whole-request timeout, which would then
// fail it on every refresh. It is bounded instead by a wait for the response
// headers, a wait for each next bytes of the body, and an overall time sized
// by the file's LogFileLength at a minimum throughput.
const (
	// DefaultDownloadHeaderTimeout bounds the wait for a download's response
	// headers when the HTTP client has no Timeout.
	DefaultDownloadHeaderTimeout = 2 * time.Minute
	// DefaultDownloadIdleTimeout bounds the wait for the next bytes of a
	// download's body.
	DefaultDownloadIdleTimeout = time.Minute
	// DefaultDownloadMinBytesPerSecond is the slowest average throughput a
	// download may have: 64 KiB/s, a 500 MB daily file in about 2 hours.
	DefaultDownloadMinBytesPerSecond = 64 << 10
	// MaxDownloadTimeout bounds a download's overall time whatever its
	// LogFileLength says.
	MaxDownloadTimeout = 6 * time.Hour
)

// DownloadBounds bound a streamed download. Zero fields take the defaults.
type DownloadBounds struct {
	// HeaderTimeout bounds the wait for the response headers of one
	// attempt. Default: the HTTP client's Timeout, or
	// DefaultDownloadHeaderTimeout when it has none.
	HeaderTimeout time.Duration
	// IdleTimeout bounds the wait for the next bytes of the body.
	IdleTimeout time.Duration
	// MinBytesPerSecond is the slowest average throughput allowed: a
	// download of n bytes fails after HeaderTimeout + max(IdleTimeout,
	// n/MinBytesPerSecond), at most MaxDownloadTimeout.
	MinBytesPerSecond float64
}

// WithDownloadBounds sets the bounds of log file downloads (see
// DownloadBounds); the client's whole-request timeout does not apply to them.
func WithDownloadBounds(b DownloadBounds) Option {
	return func(c *Client) {
		if b.HeaderTimeout > 0 {
			c.downloads.HeaderTimeout = b.HeaderTimeout
		}
		if b.IdleTimeout > 0 {
			c.downloads.IdleTimeout = b.IdleTimeout
		}
		if b.MinBytesPerSecond > 0 {
			c.downloads.MinBytesPerSecond = b.MinBytesPerSecond
		}
	}
}

// Errors of a download cut short by its bounds. Each is wrapped with the
// bound that was reached.
var (
	// ErrDownloadHeaderTimeout: no response headers within HeaderTimeout.
	ErrDownloadHeaderTimeout = errors.New("salesforce: no response headers in time")
	// ErrDownloadStalled: no body bytes for IdleTimeout.
	ErrDownloadStalled = errors.New("salesforce: download stalled")
	// ErrDownloadTooSlow: bytes kept coming, but the whole file did not
	// within its overall bound.
	ErrDownloadTooSlow = errors.New("salesforce: download too slow")
)

// DownloadTimeout is the longest a download of length bytes may take, from
// the request to the last byte: HeaderTimeout + max(IdleTimeout,
// length/MinBytesPerSecond), at most MaxDownloadTimeout. A length that is
// not a positive number counts as 0.
func (c *Client) DownloadTimeout(length float64) time.Duration {
	b := c.downloads
	body := 0.0
	if length > 0 && !math.IsInf(length, 1) {
		body = length / b.MinBytesPerSecond * float64(time.Second)
	} else if math.IsInf(length, 1) {
		body = float64(MaxDownloadTimeout)
	}
	d := float64(b.HeaderTimeout) + math.Max(float64(b.IdleTimeout), body)
	if !(d < float64(MaxDownloadTimeout)) {
		return MaxDownloadTimeout
	}
	return time.Duration(d)
}

// streamBounds are the bounds of one download request, for each attempt.
type streamBounds struct {
	header, idle, total time.Duration
	length              float64
	minRate             float64
}

// downloadBounds are the bounds of a download of length bytes.
func (c *Client) downloadBounds(length float64) *streamBounds {
	return &streamBounds{header: c.downloads.HeaderTimeout, idle: c.downloads.IdleTimeout, total: c.DownloadTimeout(length),
		length: length, minRate: c.downloads.MinBytesPerSecond}
}

// streamAttempt is one attempt of a download: its context is cancelled, with
// the bound as the cause, when a bound is reached.
type streamAttempt struct {
	ctx                 context.Context
	cancel              context.CancelCauseFunc
	b                   *streamBounds
	header, idle, total *time.Timer
}

func (b *streamBounds) begin(parent context.Context) *streamAttempt {
	ctx, cancel := context.WithCancelCause(parent)
	a := &streamAttempt{ctx: ctx, cancel: cancel, b: b}
	a.total = time.AfterFunc(b.total, func() {
		cancel(fmt.Errorf("%w: not complete within %v (a LogFileLength of %.0f bytes at %.0f bytes/s at least, after up to %v for the headers)",
			ErrDownloadTooSlow, b.total, max(b.length, 0), b.minRate, b.header))
	})
	a.header = time.AfterFunc(b.header, func() {
		// A transport error, so that the request is retried like any
		// other that got no response.
		cancel(fmt.Errorf("%w: %w: none within %v", errTransport, ErrDownloadHeaderTimeout, b.header))
	})
	return a
}

// cause is the bound that cut the attempt short, or nil.
func (a *streamAttempt) cause() error {
	c := context.Cause(a.ctx)
	if errors.Is(c, ErrDownloadHeaderTimeout) || errors.Is(c, ErrDownloadStalled) || errors.Is(c, ErrDownloadTooSlow) {
		return c
	}
	return nil
}

// headers ends the wait for the response headers: on success the body is
// read under the idle and overall bounds; on failure the attempt ends.
func (a *streamAttempt) headers(resp *http.Response, err error) (*http.Response, error) {
	a.header.Stop()
	if err != nil {
		a.total.Stop()
		a.cancel(nil) // keeps a cause already set
		return nil, err
	}
	a.idle = time.AfterFunc(a.b.idle, func() {
		a.cancel(fmt.Errorf("%w: no bytes for %v", ErrDownloadStalled, a.b.idle))
	})
	resp.Body = &streamBody{rc: resp.Body, a: a}
	return resp, nil
}

// streamBody is a download's body: each read that brings bytes restarts the
// idle bound, and a read cut short by a bound fails with that bound.
type streamBody struct {
	rc io.ReadCloser
	a  *streamAttempt
}

func (b *streamBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.a.idle.Reset(b.a.b.idle)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		if c := b.a.cause(); c != nil {
			err = c
		}
	}
	return n, err
}

func (b *streamBody) Close() error {
	b.a.idle.Stop()
	b.a.total.Stop()
	err := b.rc.Close()
	b.a.cancel(nil)
	return err
}
