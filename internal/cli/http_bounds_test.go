package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLargeHeadersRefused: request headers over --web.max-header-bytes
// (16 KiB by default; it was 64 KiB) get 431 and are not served.
func TestLargeHeadersRefused(t *testing.T) {
	t.Parallel()
	e := startExporter(t, "--demo")
	for _, tc := range []struct {
		pad  int
		want string
	}{{20 << 10, "HTTP/1.1 431 "}, {1 << 10, "HTTP/1.1 200 "}} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(e.addr, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(time.Minute))
		fmt.Fprintf(conn, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\nConnection: close\r\n\r\n", strings.Repeat("a", tc.pad))
		line, err := bufio.NewReader(conn).ReadString('\n')
		conn.Close()
		if !strings.HasPrefix(line, tc.want) {
			t.Errorf("a %d-byte header: %q (%v), want %q", tc.pad, line, err, tc.want)
		}
	}
}

// TestConnectionCap: with --web.max-connections=16, forty clients that
// open a connection and never finish their headers get at most 16
// connections accepted by the exporter; the rest wait in the kernel's
// queue. Once they leave, the exporter serves again.
func TestConnectionCap(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skipf("no /proc/net/tcp: %v", err)
	}
	const maxConns = 16
	e := startExporter(t, "--demo", "--web.max-connections="+strconv.Itoa(maxConns))
	addr := strings.TrimPrefix(e.addr, "http://")
	_, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	pid := e.cmd.Process.Pid
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 40 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if _, err := io.WriteString(c, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
			t.Fatal(err)
		}
	}
	// Until the exporter has accepted its share (the bound of this wait is
	// a failure, not the assertion).
	deadline := time.Now().Add(time.Minute)
	n := 0
	for n < maxConns {
		if time.Now().After(deadline) {
			t.Fatalf("the exporter accepted %d connections, want %d", n, maxConns)
		}
		n = acceptedConns(t, pid, port)
	}
	for range 20 {
		if n = acceptedConns(t, pid, port); n > maxConns {
			t.Fatalf("the exporter holds %d connections, over --web.max-connections=%d", n, maxConns)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	resp, err := http.Get(e.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("after the clients left: %s", resp.Status)
	}
}

// acceptedConns counts the established TCP connections to port that
// process pid holds open: the connections its server accepted (one still
// in the kernel's accept queue has no descriptor in the process).
func acceptedConns(t *testing.T, pid, port int) int {
	t.Helper()
	inodes := map[string]bool{}
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	for _, fd := range fds {
		if l, err := os.Readlink(fd); err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	// By inode: the kernel writes the table a page at a time, and a socket
	// can show twice in one read while others come and go.
	counted := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range bytes.Split(b, []byte("\n"))[1:] {
			f := strings.Fields(string(line))
			if len(f) < 10 || f[3] != "01" { // 01: ESTABLISHED
				continue
			}
			_, lport, _ := strings.Cut(f[1], ":")
			if p, err := strconv.ParseInt(lport, 16, 32); err == nil && int(p) == port && inodes[f[9]] {
				counted[f[9]] = true
			}
		}
	}
	return len(counted)
}

// TestManyUnfinishedHeadersBounded (issue 24 item 9): 4,000 connections
// each sending an unfinished 60 KB header took the exporter from 21 to
// 302 MB. With the default header and connection bounds its peak stays
// under 200 MB, and it serves afterwards.
func TestManyUnfinishedHeadersBounded(t *testing.T) {
	e := startExporter(t, "--demo")
	addr := strings.TrimPrefix(e.addr, "http://")
	pad := append([]byte("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: "), bytes.Repeat([]byte("a"), 60<<10)...)
	var wg sync.WaitGroup
	var mu sync.Mutex
	opened := 0
	sem := make(chan struct{}, 256) // dials in flight
	for range 4000 {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				<-sem
				return
			}
			defer c.Close()
			mu.Lock()
			opened++
			mu.Unlock()
			// Bounded, so a write or read the exporter never answers
			// cannot hang the test.
			_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
			_, _ = c.Write(pad)
			<-sem
			// Held open until the exporter answers or cuts it off.
			_, _ = io.Copy(io.Discard, c)
		}()
	}
	wg.Wait()
	t.Logf("%d connections opened", opened)
	if opened < 3000 {
		t.Errorf("only %d of 4000 connections opened", opened)
	}
	resp, err := http.Get(e.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("after the attack: %s", resp.Status)
	}
	checkRSS(t, "4,000 unfinished 60 KB headers", peakRSS(t, e.cmd.Process.Pid))
}

// TestHTTPBoundFlagsChecked: a connection or header bound out of range is
// refused with the flag's name, not served unbounded.
func TestHTTPBoundFlagsChecked(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		set  func(*httpBounds)
		want string
	}{
		{func(b *httpBounds) { b.maxConns = 0 }, "--web.max-connections=0: must be 1 to 1000000"},
		{func(b *httpBounds) { b.maxConns = -5 }, "--web.max-connections=-5"},
		{func(b *httpBounds) { b.maxHeader = 100 }, "--web.max-header-bytes=100: must be 1024 to 1048576"},
		{func(b *httpBounds) { b.maxHeader = 64 << 20 }, "--web.max-header-bytes=67108864"},
	} {
		b := defaultHTTPBounds
		tc.set(&b)
		if err := b.check(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
	if err := defaultHTTPBounds.check(); err != nil {
		t.Error(err)
	}
	if srv := newHTTPServer(nil, defaultHTTPBounds); srv.MaxHeaderBytes != 16<<10 {
		t.Errorf("MaxHeaderBytes %d", srv.MaxHeaderBytes)
	}
}
