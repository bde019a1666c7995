package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/activation"
	"github.com/mdlayher/vsock"
	"github.com/prometheus/exporter-toolkit/web"
	"golang.org/x/net/netutil"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
)

// HTTP server bounds. A scrape of /metrics is served from a cache in
// milliseconds, but /review can wait 90 seconds for an org's first per-user
// detail and /debug/pprof/profile runs for its seconds parameter, so the
// write bound is generous: it only stops a client that reads a response
// forever. Requests carry no body worth the name, so reading one is quick.
const (
	httpReadHeaderTimeout = 10 * time.Second
	httpReadTimeout       = 30 * time.Second
	httpWriteTimeout      = 5 * time.Minute
	httpIdleTimeout       = time.Minute
	// Headers are a few hundred bytes (a bearer or basic auth header, a
	// cookie at most): 16 KiB leaves room and keeps a connection that
	// sends them slowly small.
	httpMaxHeaderBytes = 16 << 10
	// 4,000 connections each sending an unfinished 60 KB header once took
	// 300 MB. Prometheus, an HA pair and a person with curl need a handful.
	httpMaxConnections = 512
)

// httpBounds are the server's timeouts (--web.*-timeout) and its
// connection and header bounds.
type httpBounds struct {
	readHeader, read, write, idle time.Duration
	maxConns, maxHeader           int
}

// defaultHTTPBounds are the flags' defaults.
var defaultHTTPBounds = httpBounds{readHeader: httpReadHeaderTimeout, read: httpReadTimeout, write: httpWriteTimeout, idle: httpIdleTimeout, maxConns: httpMaxConnections, maxHeader: httpMaxHeaderBytes}

// check says which flag is out of range: each timeout must be over zero (no
// timeout at all is what let idle and slow clients hold connections) and at
// most a day.
func (b httpBounds) check() error {
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"web.read-header-timeout", b.readHeader}, {"web.read-timeout", b.read}, {"web.write-timeout", b.write}, {"web.idle-timeout", b.idle}} {
		if f.d <= 0 || f.d > 24*time.Hour {
			return fmt.Errorf("--%s=%v: must be over 0 and at most 24h (for example 30s or 5m)", f.name, f.d)
		}
	}
	if b.maxConns < 1 || b.maxConns > 1_000_000 {
		return fmt.Errorf("--web.max-connections=%d: must be 1 to 1000000 (the default is %d)", b.maxConns, httpMaxConnections)
	}
	if b.maxHeader < 1<<10 || b.maxHeader > 1<<20 {
		return fmt.Errorf("--web.max-header-bytes=%d: must be 1024 to 1048576 (the default is %d)", b.maxHeader, httpMaxHeaderBytes)
	}
	return nil
}

// newHTTPServer returns the server for every endpoint, with the bounds b:
// a client that sends its headers slowly, holds an idle keep-alive
// connection, or never reads its response is cut off.
func newHTTPServer(h http.Handler, b httpBounds) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: b.readHeader,
		ReadTimeout:       b.read,
		WriteTimeout:      b.write,
		IdleTimeout:       b.idle,
		MaxHeaderBytes:    b.maxHeader,
	}
}

// listenAndServe is web.ListenAndServe (the listen addresses, vsock or
// systemd's sockets; TLS and basic auth from the web config) with each
// listener accepting at most maxConns connections at once: the rest wait in
// the kernel's queue, costing the exporter nothing.
func listenAndServe(srv *http.Server, flags *web.FlagConfig, maxConns int, logger *slog.Logger) error {
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	if flags.WebSystemdSocket != nil && *flags.WebSystemdSocket {
		logger.Info("Listening on systemd activated listeners instead of port listeners.")
		ls, err := activation.Listeners()
		if err != nil {
			return err
		}
		if len(ls) < 1 {
			return errors.New("no socket activation file descriptors found")
		}
		listeners = ls
	} else {
		if flags.WebListenAddresses == nil || len(*flags.WebListenAddresses) == 0 {
			return errors.New("no --web.listen-address given")
		}
		for _, address := range *flags.WebListenAddresses {
			var l net.Listener
			var err error
			if strings.HasPrefix(address, "vsock://") {
				port, perr := vsockPort(address)
				if perr != nil {
					return fmt.Errorf("--web.listen-address=%s: want vsock://:PORT: %w", address, perr)
				}
				l, err = vsock.Listen(port, nil)
			} else {
				l, err = net.Listen("tcp", address)
			}
			if err != nil {
				return err
			}
			listeners = append(listeners, l)
		}
	}
	for i, l := range listeners {
		listeners[i] = netutil.LimitListener(l, maxConns)
	}
	return web.ServeMultiple(listeners, srv, flags, logger)
}

// vsockPort reads the port of vsock://:PORT, as web.ListenAndServe does.
func vsockPort(address string) (uint32, error) {
	u, err := url.Parse(address)
	if err != nil {
		return 0, err
	}
	_, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return 0, err
	}
	p, err := strconv.ParseUint(port, 10, 32)
	return uint32(p), err
}

// warnEmptyShard logs when a shard was given no org: it serves only its own
// metrics, which is likely a mistake in --orgs.shards.
func warnEmptyShard(logger *slog.Logger, cfg *config.Config, shard config.Shard) {
	if len(cfg.Orgs) == 0 {
		logger.Warn("This shard serves no org: the hash gave every org to other shards; fewer --orgs.shards than orgs keeps every replica busy", "shard", shard.String())
	}
}

// withShardHeader names the shard on every response (X-Salesforce-Exporter-Shard: I/N),
// so a /review or /metrics read says which replica's orgs it covers.
func withShardHeader(h http.Handler, shard config.Shard) http.Handler {
	v := shard.String()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Salesforce-Exporter-Shard", v)
		h.ServeHTTP(w, r)
	})
}
